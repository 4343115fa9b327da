"""E: the spec itself is wrong. Reported at the token that holds the mistake."""

from __future__ import annotations

from collections.abc import Collection, Iterator

from validator.frontend.layout import POINTER_TYPES, SCALARS
from validator.frontend.load import ESCAPE, MISSING, SYNTAX, Unit
from validator.frontend.resolve import KIND_WORD, ResolvedSpec
from validator.kernel.crosscheck import HeaderCheck, where
from validator.model import spec as m
from validator.model.abi import ABIS, ARCHITECTURES
from validator.model.errnos import LINUX_ERRNOS
from validator.model.findings import ERROR, Problem, Related
from validator.model.spec import attr_span as _attr
from validator.rules._facts import did_you_mean
from validator.rules.catalog import CROSSCHECK, LOAD, RESOLVE, rule

# The errors that leave the model unreliable (LANGUAGE.md's E-codes): hazards wait for them.
STRUCTURAL_ERRORS = frozenset(f"E{n}" for n in range(101, 111))
SIZE_SHIFT, SIZE_MASK = 52, 0xF  # KVM_REG_SIZE_SHIFT / KVM_REG_SIZE_MASK >> shift
ARM64_SYSREG_BASE = 0x6030_0000_0013_0000  # KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM64_SYSREG


def _registers(spec: ResolvedSpec) -> Iterator[m.Register]:
    """Every register declaration, duplicates included, in source order."""
    return (d for d in spec.declarations() if isinstance(d, m.Register))


@rule("E101", "syntax-error", ERROR, "text the grammar does not accept", stage=LOAD)
def syntax_error(unit: Unit) -> Iterator[Problem]:
    """
    ## What it finds
    Text the grammar does not accept: a misspelt keyword, a missing brace, a value of the
    wrong kind. The message says what was found and what the grammar expected there.

    ## Why it matters
    A spec that does not parse checks nothing; every other finding waits for it.

    ## How to fix
    Write what the message says is expected at that position (LANGUAGE.md lists every
    statement and attribute).
    """
    return (p.problem for p in unit.problems if p.kind == SYNTAX)


def _missing_file(unit: Unit) -> Iterator[Problem]:
    """E102 at load: an include that names no file."""
    return (p.problem for p in unit.problems if p.kind == MISSING)


@rule(
    "E102",
    "undefined-name",
    ERROR,
    "a lock, interface, capability, include or baseline that does not exist",
    stage=RESOLVE,
    also={LOAD: _missing_file},
)
def undefined_name(spec: ResolvedSpec) -> Iterator[Problem]:
    """
    ## What it finds
    A reference to a lock, interface, capability, feature, include, baseline or type (a
    field's, an ioctl argument's) that no file of the spec declares; an ABI (`abi`) or an
    architecture (`arch`, a field's `out on`) this tool does not know.

    ## Why it matters
    Every judgement about scope and serialization follows these references: a misspelt lock
    name silently drops the lock, and with it the serialized-restore hazard it causes.

    ## How to fix
    Declare the name, or correct the spelling (the message suggests the closest name).
    """
    if not spec.complete:
        return  # a file that did not parse may declare the name
    capabilities = {k for k, v in spec.capabilities.items() if isinstance(v, m.Capability)}
    known_types = {*SCALARS, *POINTER_TYPES, *spec.types}

    def missing(name: m.Name | None, kind: str, known: Collection[str], subject: str) -> Iterator[Problem]:
        if name is not None and name.text not in known:
            yield Problem(
                name.span,
                f"{kind} {name.text} is not declared",
                subject=subject,
                hint=did_you_mean(name.text, known) or f"declare {kind} {name.text}",
            )

    def unknown(name: m.Name, kind: str, known: Collection[str], subject: str) -> Iterator[Problem]:
        if name.text not in known:
            yield Problem(
                name.span,
                f"{kind} {name.text} is not one this tool knows",
                subject=subject,
                hint=did_you_mean(name.text, known) or f"one of: {', '.join(sorted(known))}",
            )

    for decl in spec.declarations():
        subject = f"{KIND_WORD[type(decl)]}/{decl.name}"
        if isinstance(decl, m.Interface):
            for lock in decl.locks:
                yield from missing(lock, "lock", spec.locks, subject)
            yield from missing(decl.cap, "capability", capabilities, subject)
        elif isinstance(decl, m.Register):
            for via in decl.via:
                yield from missing(via, "interface", spec.interfaces, subject)
            for lock in decl.locks:
                yield from missing(lock, "lock", spec.locks, subject)
            yield from missing(decl.hint, "capability", capabilities, subject)
            yield from missing(decl.opt_in, "capability or feature", spec.capabilities, subject)
            if decl.uniform:
                yield from missing(decl.uniform.opt_in, "capability", capabilities, subject)
        elif isinstance(decl, m.Feature):
            if decl.via and decl.via.text != "vcpu_init":
                yield from missing(decl.via, "capability", capabilities, subject)
            if decl.uniform:
                yield from missing(decl.uniform.opt_in, "capability", capabilities, subject)
        elif isinstance(decl, m.Struct):
            for field in decl.fields:
                yield from missing(field.type.name, "type", known_types, subject)
                for arch in field.written_on:
                    yield from unknown(arch, "architecture", ARCHITECTURES, subject)
        elif isinstance(decl, m.Flags):
            yield from missing(decl.type, "type", SCALARS, subject)
        elif isinstance(decl, m.IoctlDecl):
            yield from missing(decl.cap, "capability", capabilities, subject)
            if decl.arg is not None:
                yield from missing(decl.arg.name, "type", known_types, subject)
            for arch in decl.arch:
                yield from unknown(arch, "architecture", ARCHITECTURES, subject)
        elif isinstance(decl, m.Capability):
            for replaced in decl.supersedes:
                yield from missing(replaced, "capability", capabilities, subject)
    for spec_file in spec.files:
        for statement in spec_file.abis:
            for abi in statement.names:
                yield from unknown(abi, "ABI", ABIS, "abi")


@rule("E103", "duplicate-name", ERROR, "a second declaration of the same name", stage=RESOLVE)
def duplicate_name(spec: ResolvedSpec) -> Iterator[Problem]:
    """
    ## What it finds
    A second declaration of a name (reported at the later one, the first as related), a
    second `api` statement, an attribute given twice in one declaration, and a bit index or
    bit name used twice in one register.

    ## Why it matters
    Only one of the two can be what the kernel does; the checker keeps the first, so the
    second is silently ignored until someone wonders why their edit changed nothing.

    ## How to fix
    Remove or rename one of them.
    """
    for dup in spec.duplicates:
        if isinstance(dup.later, m.Api):
            yield Problem(
                dup.later.span,
                "a second api statement; a spec has one",
                subject="api",
                related=(Related(dup.first.span, "the first api statement"),),
            )
            continue
        kind = KIND_WORD[type(dup.later)]
        first_kind = KIND_WORD[type(dup.first)]
        yield Problem(
            dup.later.span,
            f"{kind} {dup.later.name} is already declared as a {first_kind}",
            subject=f"{kind}/{dup.later.name}",
            hint="remove or rename one of the declarations",
            related=(Related(dup.first.span, f"first declaration of {dup.later.name}"),),
        )
    for decl in spec.declarations():
        subject = f"{KIND_WORD[type(decl)]}/{decl.name}"
        for attr in getattr(decl, "repeated", ()):
            yield Problem(
                attr.span,
                f"{attr.keyword} is given twice in {decl.name}; the first one counts",
                subject=subject,
                related=(Related(attr.first, f"first {attr.keyword}"),),
            )
        if isinstance(decl, m.Register):
            # Keyed by index and by name in one table: the two kinds of key never meet.
            seen: dict[tuple[str, int | str], m.Bit] = {}
            for bit in decl.bits:
                for key, what in (
                    (("index", bit.index), f"bit {bit.index}"),
                    (("name", bit.name), f"bit name {bit.name}"),
                ):
                    if key in seen:
                        yield Problem(
                            bit.span,
                            f"{what} is defined twice in {decl.name}",
                            subject=f"{subject}/bits/{bit.index}",
                            related=(Related(seen[key].span, f"first {what}"),),
                        )
                    seen.setdefault(key, bit)


@rule("E104", "duplicate-id", ERROR, "two registers with the same id", stage=RESOLVE)
def duplicate_id(spec: ResolvedSpec) -> Iterator[Problem]:
    """
    ## What it finds
    Two registers with the same ONE_REG id (reported at the later `id` line, the first as
    related).

    ## Why it matters
    `KVM_GET_REG_LIST` would list the id once and `KVM_SET_ONE_REG` can reach only one of the
    two: the other register's state is unreachable and silently lost on migration.

    ## How to fix
    Give each register its own id.
    """
    seen: dict[int, m.Register] = {}
    for register in _registers(spec):
        if register.id is None:
            continue
        first = seen.setdefault(register.id, register)
        if first is not register:
            yield Problem(
                _attr(register, "id"),
                f"{register.name} has id 0x{register.id:x}, already the id of {first.name}",
                subject=f"register/{register.name}",
                related=(Related(_attr(first, "id"), f"{first.name} has this id"),),
            )


@rule("E105", "id-width-mismatch", ERROR, "an id whose size field disagrees with width", stage=RESOLVE)
def id_width_mismatch(spec: ResolvedSpec) -> Iterator[Problem]:
    """
    ## What it finds
    A ONE_REG id whose size field (bits 52-55, `KVM_REG_SIZE_MASK`) says another size than the
    register's `width`.

    ## Why it matters
    `KVM_GET_ONE_REG` copies `KVM_REG_SIZE(id)` bytes: a VMM sizes its buffer from the id, so
    a disagreeing width means truncated or overrun state on every save and restore.

    ## How to fix
    Build the id with the `KVM_REG_SIZE_Uxx` constant for the register's real width.
    """
    for register in _registers(spec):
        if register.id is None or register.width is None:
            continue
        size_field = (register.id >> SIZE_SHIFT) & SIZE_MASK
        id_bits = 8 << size_field
        if id_bits != register.width:
            yield Problem(
                _attr(register, "id"),
                f"{register.name}: the id's size field is {size_field} ({id_bits}-bit) but width is {register.width}",
                subject=f"register/{register.name}",
                related=(Related(_attr(register, "width"), "width declared here"),),
                hint=f"use KVM_REG_SIZE_U{register.width} in the id, or correct width",
            )


@rule("E106", "bit-out-of-range", ERROR, "a bit index at or above width", stage=RESOLVE)
def bit_out_of_range(spec: ResolvedSpec) -> Iterator[Problem]:
    """
    ## What it finds
    A bit whose index is at or above the register's `width` (with no `width`, at or above the
    widest ONE_REG size, 2048).

    ## Why it matters
    The bit cannot be set through the register: a feature it stands for can never be offered
    or withheld.

    ## How to fix
    Number the bit within the register, or widen the register.
    """
    widest = max(m.WIDTHS)
    for register in _registers(spec):
        width = register.width if register.width is not None else widest
        for bit in register.bits:
            if bit.index >= width:
                where = f"the {width}-bit {register.name}" if register.width is not None else "any register"
                yield Problem(
                    bit.span,
                    f"bit {m.shown_number(bit.index)} ({bit.name}) does not fit in {where}",
                    subject=f"register/{register.name}/bits/{bit.index}",
                    related=(Related(_attr(register, "width"), "width declared here"),),
                )


@rule("E107", "value-out-of-range", ERROR, "a reset (or other value) that does not fit", stage=RESOLVE)
def value_out_of_range(spec: ResolvedSpec) -> Iterator[Problem]:
    """
    ## What it finds
    A value that cannot be what it says: a `reset` that does not fit in `width`, a `width`
    that is no ONE_REG size, an `id` wider than 64 bits, a scenario with 0 vCPUs or threads.

    ## Why it matters
    The kernel cannot hold such a value; whatever it really does is not what the spec says.

    ## How to fix
    Correct the value.
    """
    for register in _registers(spec):
        subject = f"register/{register.name}"
        if register.width is not None and register.width not in m.WIDTHS:
            yield Problem(
                _attr(register, "width"),
                f"width {m.shown_number(register.width)} is not a ONE_REG size ({', '.join(map(str, m.WIDTHS))})",
                subject=subject,
            )
        if register.id is not None and register.id >= 1 << 64:
            yield Problem(
                _attr(register, "id"),
                f"id {m.shown_number(register.id, True)} is wider than 64 bits",
                subject=subject,
            )
        if register.encoding is not None and not _encodable(register.encoding):
            yield Problem(
                _attr(register, "encoding"),
                f"{register.name}: sysreg{register.encoding} has a field out of range "
                "(op0 < 4, op1 < 8, crn < 16, crm < 16, op2 < 8)",
                subject=subject,
            )
        reset = register.reset
        if reset and reset.value is not None and register.width in m.WIDTHS and reset.value >= 1 << register.width:
            yield Problem(
                reset.span,
                f"reset {m.shown_number(reset.value, True)} does not fit in {register.width} bits",
                subject=subject,
                related=(Related(_attr(register, "width"), "width declared here"),),
            )
    for scenario in spec.scenarios.values():
        yield from _scenario_bounds(scenario)


def _encodable(encoding: tuple[int, ...]) -> bool:
    """Each field of `sysreg(op0, op1, crn, crm, op2)` within its bits."""
    op0, op1, crn, crm, op2 = encoding
    return op0 < 4 and op1 < 8 and crn < 16 and crm < 16 and op2 < 8


def _scenario_bounds(scenario: m.Scenario) -> Iterator[Problem]:
    """Every number of a scenario within the bounds the executable spec runs in."""
    subject = f"scenario/{scenario.name}"
    if any(count < 1 for count in scenario.vcpus):
        yield Problem(_attr(scenario, "vcpus"), "a vCPU count must be at least 1", subject=subject)
    if any(count > m.MAX_VCPUS for count in scenario.vcpus):
        yield Problem(_attr(scenario, "vcpus"), f"a vCPU count is at most {m.MAX_VCPUS}", subject=subject)
    if len(scenario.vcpus) > m.MAX_VCPU_COUNTS:
        message = f"{len(scenario.vcpus)} vCPU counts; a scenario runs at most {m.MAX_VCPU_COUNTS}"
        yield Problem(_attr(scenario, "vcpus"), message, subject=subject)
    threads = scenario.host_threads
    if threads is not None and not 1 <= threads <= m.MAX_HOST_THREADS:
        message = f"host_threads must be from 1 to {m.MAX_HOST_THREADS}"
        yield Problem(_attr(scenario, "host_threads"), message, subject=subject)
    for keyword, value in (("cost", scenario.cost_ioctl_ns), ("cost", scenario.cost_lock_ns)):
        if value is not None and value > m.MAX_DURATION_NS:
            message = f"a cost is at most {m.MAX_DURATION_NS // 1_000_000_000} s"
            yield Problem(_attr(scenario, keyword), message, subject=subject)
    budgets = (scenario.budget_serialized, scenario.budget_ioctls, scenario.budget_blackout_ns)
    if any(value is not None and value > m.MAX_BUDGET for value in budgets):
        yield Problem(_attr(scenario, "budget"), f"a budget is at most {m.MAX_BUDGET}", subject=subject)


@rule("E108", "unknown-errno", ERROR, "an errno name Linux does not have", stage=RESOLVE)
def unknown_errno(spec: ResolvedSpec) -> Iterator[Problem]:
    """
    ## What it finds
    An errno name (in `writable ... else`, `rewrite`, `uniform enforced`, `reserved reject`,
    a capability's `before ... else`, a flags set's `unknown reject`, a pad's `check zero`)
    that Linux does not define.

    ## Why it matters
    Userspace matches on errno values; a name that does not exist is a spec nobody can test
    against.

    ## How to fix
    Use the Linux errno the kernel returns (`EINVAL`, `EBUSY`, `EPERM`, `ENOENT`, ...).
    """
    for decl in spec.declarations():
        names = []
        for attr in ("writable", "rewrite", "uniform", "reserved", "unknown"):
            value = getattr(decl, attr, None)
            if value is not None and getattr(value, "errno", None) is not None:
                names.append(value.errno)
        if isinstance(decl, m.Capability) and decl.before_errno is not None:
            names.append(decl.before_errno)
        if isinstance(decl, m.Struct):
            names += [f.errno for f in decl.fields if f.errno is not None]
        for name in names:
            if name.text not in LINUX_ERRNOS:
                yield Problem(
                    name.span,
                    f"{name.text} is not a Linux errno",
                    subject=f"{KIND_WORD[type(decl)]}/{decl.name}",
                    hint=did_you_mean(name.text, sorted(LINUX_ERRNOS)),
                )


@rule("E109", "include-escapes-root", ERROR, "an include that leaves the spec root, or an include cycle", stage=LOAD)
def include_escapes_root(unit: Unit) -> Iterator[Problem]:
    """
    ## What it finds
    An `include` whose path (after `..` and symbolic links) leaves the spec root, an absolute
    include path, or an include cycle.

    ## Why it matters
    A spec must mean the same on every machine that checks it: a reviewer's tool reads only
    files of the spec under review, never whatever a path happens to reach.

    ## How to fix
    Keep included files under the spec root and include each in one direction.
    """
    return (p.problem for p in unit.problems if p.kind == ESCAPE)


@rule("E110", "contradiction", ERROR, "attributes that cannot hold together", stage=RESOLVE)
def contradiction(spec: ResolvedSpec) -> Iterator[Problem]:
    """
    ## What it finds
    Attributes that cannot hold together: `uniform none` on `vm` or `write_once` state (one
    value cannot differ per vCPU); `hint` without `scope write_once`; `rewrite` with
    `writable always` (there is no deadline to rewrite after); an `opt_in` naming a `query`
    capability (it cannot be enabled); `before` on a `query` capability; `on ARCH` on a field
    the kernel does not write (`in`, or no direction); a capability that supersedes itself.

    ## Why it matters
    A contradictory spec describes no kernel: every judgement drawn from it would be wrong.

    ## How to fix
    Drop the attribute that is not true of the kernel.
    """

    def query_cap(name: m.Name | None) -> m.Capability | None:
        cap = spec.capabilities.get(name.text) if name else None
        return cap if isinstance(cap, m.Capability) and cap.kind == "query" else None

    for decl in spec.declarations():
        subject = f"{KIND_WORD[type(decl)]}/{decl.name}"
        if isinstance(decl, m.Register):
            if decl.uniform and decl.uniform.kind == "none" and decl.scope in ("vm", "write_once"):
                yield Problem(
                    decl.uniform.span,
                    f"{decl.name} is {decl.scope} state (one value per VM) but says `uniform none`",
                    subject=subject,
                    related=(Related(_attr(decl, "scope"), f"scope {decl.scope}"),),
                )
            if decl.hint and decl.scope != "write_once":
                yield Problem(
                    _attr(decl, "hint"),
                    f"{decl.name} has a hint but its scope is not write_once",
                    subject=subject,
                    hint="a hint tells userspace that one write per VM suffices: declare scope write_once",
                )
            if decl.rewrite and decl.writable and decl.writable.kind == "always":
                yield Problem(
                    decl.rewrite.span,
                    f"{decl.name} is writable always, so `rewrite` has no deadline to apply after",
                    subject=subject,
                    related=(Related(decl.writable.span, "writable always"),),
                )
        if isinstance(decl, m.Capability) and decl.kind == "query" and decl.before:
            yield Problem(
                _attr(decl, "before"),
                f"{decl.name} is a query capability; `before` applies to opt_in ones",
                subject=subject,
            )
        if isinstance(decl, m.Struct):
            for field in decl.fields:
                if field.written_on and field.direction not in ("out", "inout"):
                    yield Problem(
                        field.span,
                        f"{decl.name}.{field.name.text} says which architectures write it, but it is not an output",
                        subject=subject,
                        hint="`out on ARCH` or `inout on ARCH`; an input is read, not written",
                    )
        if isinstance(decl, m.Capability):
            for replaced in decl.supersedes:
                if replaced.text == decl.name:
                    yield Problem(replaced.span, f"{decl.name} supersedes itself", subject=subject)
        opt_ins = [getattr(decl, "opt_in", None)]
        uniform = getattr(decl, "uniform", None)
        if uniform is not None:
            opt_ins.append(uniform.opt_in)
        for name in opt_ins:
            cap = query_cap(name)
            if cap is not None and name is not None:
                yield Problem(
                    name.span,
                    f"{name.text} is a query capability; userspace cannot opt in to it",
                    subject=subject,
                    related=(Related(cap.span, f"{cap.name} declared kind query"),),
                )


@rule("E111", "id-differs-from-header", ERROR, "a register id that differs from the header's macro", stage=CROSSCHECK)
def id_differs_from_header(check: HeaderCheck) -> Iterator[Problem]:
    """
    ## What it finds
    (crosscheck) A register whose `id` differs from the value of the C UAPI header macro of
    the same name, evaluated the way the compiler would (`uapi-validator crosscheck SPEC
    --header arch/arm64/include/uapi/asm/kvm.h`).

    ## Why it matters
    VMMs are built against the header, not the spec: a spec whose ids drift from the header
    reviews an interface nobody uses.

    ## How to fix
    Correct the spec's `id` (or, if the header is what is wrong, the header, before it ships).
    """
    if check.error is not None:
        return
    for register in check.registers:
        entry = check.header.by_name.get(register.name)
        if entry is not None and register.id is not None and entry[0] != register.id:
            value, macro = entry
            yield Problem(
                _attr(register, "id"),
                f"{register.name}: the spec's id is 0x{register.id:x}, the header's {macro.name} is 0x{value:x}",
                subject=f"register/{register.name}",
                hint=f"use id 0x{value:x}, as the header does",
                related=(Related(where(macro), f"#define {macro.name}"),),
            )


@rule("E113", "header-unreadable", ERROR, "a header to cross-check with that cannot be read", stage=CROSSCHECK)
def header_unreadable(check: HeaderCheck) -> Iterator[Problem]:
    """
    ## What it finds
    (crosscheck) A header named with `--header` or `# header:` that cannot be read as the
    compiler would read it: an `#include` not found in the include directories (or resolving
    outside them), `#error`, an unterminated `#if`, a declaration that is not C, an expansion
    past its budget. The message gives the header's file and line.

    ## Why it matters
    A cross-check that silently read nothing would pass every spec: no header, no agreement.

    ## How to fix
    Add the include directories the header needs (`-I /usr/include -I
    /usr/include/x86_64-linux-gnu`, or a kernel tree's `include/uapi` and
    `arch/ARCH/include/uapi`), or name the header that defines what is missing.
    """
    if check.error is not None:
        yield Problem(
            check.anchor,
            f"the headers cannot be read: {check.error}",
            subject="headers",
            hint="give the include directories it needs with -I DIR",
        )


@rule("E112", "id-encoding-mismatch", ERROR, "an id that does not pack its declared encoding", stage=RESOLVE)
def id_encoding_mismatch(spec: ResolvedSpec) -> Iterator[Problem]:
    """
    ## What it finds
    A register that declares its architectural encoding, `encoding sysreg(OP0, OP1, CRN, CRM,
    OP2)`, whose `id` is not the ONE_REG id that encoding packs (`ARM64_SYS_REG()`:
    `KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM64_SYSREG` with op0 << 14, op1 << 11,
    crn << 7, crm << 3, op2).

    ## Why it matters
    An id built from another register's coordinates is ABI the day it merges: arm64's
    `KVM_REG_ARM_TIMER_CNT` and `KVM_REG_ARM_TIMER_CVAL` carry each other's encodings to this
    day, and every VMM must know to special-case them.

    ## How to fix
    Build the id from the register's own encoding. An existing ABI mistake stays, with an
    `# allow: E112 -- why` that records it.
    """
    for register in _registers(spec):
        if register.encoding is None:
            continue
        op0, op1, crn, crm, op2 = register.encoding
        if not _encodable(register.encoding):
            continue  # E107 reports the field out of range
        packed = ARM64_SYSREG_BASE | op0 << 14 | op1 << 11 | crn << 7 | crm << 3 | op2
        if register.id is not None and register.id != packed:
            yield Problem(
                _attr(register, "encoding"),
                f"{register.name}: sysreg({op0}, {op1}, {crn}, {crm}, {op2}) packs id 0x{packed:x}, but the id is "
                f"0x{register.id:x}"
                + (" (another register's encoding)" if register.id & ~0xFFFF == ARM64_SYSREG_BASE else ""),
                subject=f"register/{register.name}",
                related=(Related(_attr(register, "id"), "id declared here"),),
                hint=f"use id 0x{packed:x}, or keep the ABI with `# allow: E112 -- why`",
            )


RULES = (
    syntax_error,
    undefined_name,
    duplicate_name,
    duplicate_id,
    id_width_mismatch,
    bit_out_of_range,
    value_out_of_range,
    unknown_errno,
    include_escapes_root,
    contradiction,
    id_differs_from_header,
    id_encoding_mismatch,
    header_unreadable,
)
