"""H: cross-checks against the kernel's C UAPI headers (`crosscheck`), beside E111 and E113.

The headers are read as the compiler reads them (validator.kernel.cfront): every name the
spec shares with them is compared, register ids by family (validator.kernel.crosscheck)."""

from __future__ import annotations

from collections.abc import Iterator

from validator.diff.compare import Comparison
from validator.frontend.layout import LayoutError, Placed, ioctl_number, ioctl_size, lay_out
from validator.kernel.crosscheck import HeaderCheck, bit_macros, register_family, where
from validator.model import spec as m
from validator.model.findings import ERROR, INFO, WARNING, Problem, Related
from validator.rules._facts import did_you_mean
from validator.rules.catalog import CROSSCHECK, DIFF, rule


def _newer_than_headers(since: str | None, check: HeaderCheck) -> bool:
    """Dated (`since`) after the kernel the headers are of: their absence is no error."""
    version = check.header.version
    return since is not None and version is not None and m.version_key(since) > m.version_key(version)


def _dated(since: str | None, check: HeaderCheck) -> str:
    if since is None:
        return ""
    return f" (the spec dates it {since}; headers of that kernel or later define it)"


def _similar(name: str, check: HeaderCheck, prefix: str) -> str:
    candidates = [n for n in check.header.names if n.startswith(prefix)]
    return did_you_mean(name, candidates) or f"name a {prefix}* macro the headers define"


@rule("H901", "register-missing-from-spec", INFO, "a header register the spec does not describe", stage=CROSSCHECK)
def register_missing_from_spec(check: HeaderCheck) -> Iterator[Problem]:
    """
    ## What it finds
    A register id macro in the headers, in a register family the spec covers (arm64 firmware,
    bitmap, timer, system register, SVE, core; RISC-V config, core, CSR, timer, ISA and SBI
    extensions; x86 MSR), that no register of the spec has, by name or by id.

    ## Why it matters
    The spec reviews less than the kernel exposes: hazards of the missing register go unseen.

    ## How to fix
    Describe the register (`uapi-validator import --family` writes a starting point), or
    leave it out knowingly.
    """
    # H901 has no line of the spec to stand on: the `# header:` line that named the header,
    # else the api statement.
    if check.error is not None:
        return
    for name, (value, macro) in sorted(check.header.by_name.items(), key=lambda item: item[1][0]):
        family = check.header.families[name]
        if name in check.names or value in check.spec_ids or family not in check.spec_families:
            continue
        yield Problem(
            check.anchor,
            f"the header defines {name} (0x{value:x}) in the {family} register family this spec covers, but "
            "the spec does not describe it",
            subject=f"header/{name}",
            hint="describe it (`uapi-validator import --family` writes a start), or leave it out knowingly",
            related=(Related(where(macro), f"#define {name}"),),
        )


@rule("H902", "register-missing-from-header", INFO, "a spec register the header does not define", stage=CROSSCHECK)
def register_missing_from_header(check: HeaderCheck) -> Iterator[Problem]:
    """
    ## What it finds
    A spec register with an id in a family the headers define registers for, matched by no
    macro of the headers, by name or by value.

    ## Why it matters
    Either the spec describes a register the kernel does not have, or the header builds its
    id another way (`ARM64_SYS_REG()` in a selftest, `offsetof` for core registers) that
    the spec should cite.

    ## How to fix
    Correct the spec's name or id, or note where the kernel defines it.
    """
    if check.error is not None:
        return
    for register in check.registers:
        register_id = register.id
        if register_id is None or register.name in check.header.by_name:
            continue
        family = register_family(register_id)
        if register_id not in check.header_ids and family in check.header_families:
            yield Problem(
                register.span,
                f"{register.name} (0x{register_id:x}) is in the {family} register family the header defines, but "
                "no header macro has its name or its id",
                subject=f"register/{register.name}",
                hint="correct the name or id, or cite where the kernel defines it",
            )


@rule("H903", "capability-unknown-to-header", ERROR, "a capability the headers do not define", stage=CROSSCHECK)
def capability_unknown_to_header(check: HeaderCheck) -> Iterator[Problem]:
    """
    ## What it finds
    A `capability` whose name the headers do not define as an integer constant: a
    misspelling, or a capability of another kernel version than the headers'.

    ## Why it matters
    Userspace probes a capability by its number, taken from the header: a name the header
    lacks is one no VMM can ask for, and every claim made about it reviews nothing.

    ## How to fix
    Correct the name (the message suggests the closest the headers define), or give the
    headers of the kernel that has it.
    """
    if check.error is not None:
        return
    for capability in check.capabilities:
        if capability.name not in check.header.names and not _newer_than_headers(capability.since, check):
            yield Problem(
                capability.span,
                f"capability {capability.name} is not defined by the headers{_dated(capability.since, check)}",
                subject=f"capability/{capability.name}",
                hint=_similar(capability.name, check, "KVM_CAP_"),
            )


@rule(
    "H908",
    "capability-number-differs-from-header",
    ERROR,
    "a capability number other than the header's",
    stage=CROSSCHECK,
)
def capability_number_differs_from_header(check: HeaderCheck) -> Iterator[Problem]:
    """
    ## What it finds
    (crosscheck) A capability whose `number` is not the value the headers give its name.

    ## Why it matters
    The spec reviews the capability VMMs reach by that number: another number is another
    capability, and every claim about it is about the wrong one.

    ## How to fix
    Write the header's number.
    """
    if check.error is not None:
        return
    for capability in check.capabilities:
        macro = check.header.names.get(capability.name)
        if capability.number is not None and macro is not None and macro.value != capability.number:
            yield Problem(
                m.attr_span(capability, "number"),
                f"{capability.name} is number {capability.number}; the headers define {macro.value}",
                subject=f"capability/{capability.name}",
                hint=f"`number {macro.value}` ({macro.path}:{macro.line})",
            )


@rule("H904", "ioctl-unknown-to-header", ERROR, "an interface ioctl the headers do not define", stage=CROSSCHECK)
def ioctl_unknown_to_header(check: HeaderCheck) -> Iterator[Problem]:
    """
    ## What it finds
    An interface's `get`, `set`, `has` or `list` ioctl whose name the headers do not define
    as an ioctl number (an integer constant, `_IOW(KVMIO, ...)` evaluated per ABI).

    ## Why it matters
    An access path through an ioctl that does not exist is no access path: the scope and
    cost the checker derives from it describe nothing a VMM can call.

    ## How to fix
    Correct the ioctl's name (the message suggests the closest), or give the headers that
    define it.
    """
    if check.error is not None:
        return
    for interface in check.interfaces:
        if _newer_than_headers(interface.since, check):
            continue
        for ioctl in interface.ioctls:
            name = ioctl.name.text
            if name not in check.header.names:
                yield Problem(
                    ioctl.name.span,
                    f"interface {interface.name}: {ioctl.role} {name} is not an ioctl the headers define"
                    + _dated(interface.since, check),
                    subject=f"interface/{interface.name}",
                    hint=_similar(name, check, "KVM_"),
                )


@rule("H905", "bit-differs-from-header", ERROR, "a named bit whose number differs from the header's", stage=CROSSCHECK)
def bit_differs_from_header(check: HeaderCheck) -> Iterator[Problem]:
    """
    ## What it finds
    A bit of a register's `bits` whose name the headers also define, as a `..._BIT_NAME`
    macro or enumerator, with another number (`0 TRNG_V1_0` against
    `KVM_REG_ARM_STD_BIT_TRNG_V1_0`).

    ## Why it matters
    VMMs set bits by the header's numbers: a spec whose bit numbers drift reviews a bitmap
    nobody writes.

    ## How to fix
    Use the header's number.
    """
    if check.error is not None:
        return
    for register in check.bitmaps:
        for bit in register.bits:
            named = bit_macros(check.header, bit.name, register.width or 64)
            if named and all(macro.value != bit.index for macro in named):
                macro = named[0]
                yield Problem(
                    bit.span,
                    f"{register.name}: bit {bit.name} is {bit.index} in the spec, {macro.value} in the header's "
                    f"{macro.name}",
                    subject=f"register/{register.name}",
                    hint=f"number it {macro.value}, as the header does",
                    related=tuple(Related(where(x), f"#define {x.name}") for x in named),
                )


def _anonymous_in_header(
    types: dict[str, m.Struct | m.Flags], placed: Placed, members: dict[str, int], abi: str
) -> bool:
    """A field of a declared struct or union type standing for the header's anonymous one:
    the header's struct has each of its members, at the same offsets (C lifts an anonymous
    member's members into the struct that holds it)."""
    nested = types.get(placed.field.type.name.text)
    if not isinstance(nested, m.Struct) or placed.field.type.count is not None:
        return False
    try:
        inner = lay_out(types, nested, abi)
    except LayoutError:
        return False
    return all(
        members.get(p.field.name.text) == placed.offset + p.offset for p in inner.fields if p.field.kind != "pad"
    )


@rule(
    "H906",
    "layout-differs-from-header",
    ERROR,
    "a declared struct laid out otherwise than the header's",
    stage=CROSSCHECK,
)
def layout_differs_from_header(check: HeaderCheck) -> Iterator[Problem]:
    """
    ## What it finds
    (crosscheck) A declared `struct` or `union` whose size, alignment or field offsets, laid
    out for the ABI the headers are read for (`--abi`), differ from the header's struct of the
    same tag, as the compiler lays it out; or a field the header's struct does not have.

    ## Why it matters
    The review is of the declared layout; VMMs compile the header's. Where they differ, every
    finding about holes, pads and ABI differences is about a struct nobody uses.

    ## How to fix
    Declare the fields as the header has them (`uapi-validator inspect --header ... --abi`
    prints the header's layout).
    """
    if check.error is not None:
        return
    types = dict(check.types)
    for declared in check.types.values():
        if not isinstance(declared, m.Struct):
            continue
        tag = f"{'union' if declared.union else 'struct'} {declared.name}"
        header = check.header.layouts.get(tag)
        if header is None:
            continue
        try:
            ours = lay_out(types, declared, check.header.abi)
        except LayoutError:
            continue
        differences = [f"size {ours.size} against the header's {header.size}"] if ours.size != header.size else []
        for placed in ours.fields:
            name = placed.field.name.text
            if placed.field.kind == "pad":
                continue
            if name not in header.members and _anonymous_in_header(types, placed, header.members, check.header.abi):
                continue
            if name not in header.members:
                differences.append(f"{name} is not a member of the header's {tag}")
            elif header.members[name] != placed.offset:
                differences.append(f"{name} at {placed.offset} against the header's {header.members[name]}")
        if differences:
            yield Problem(
                declared.span,
                f"{tag} on {check.header.abi}: " + "; ".join(differences[:4]),
                subject=f"struct/{declared.name}",
                hint=f"declare it as the header does (uapi-validator inspect --abi {check.header.abi})",
            )


@rule(
    "H907",
    "ioctl-number-differs-from-header",
    ERROR,
    "an ioctl whose number differs from the header's",
    stage=CROSSCHECK,
)
def ioctl_number_differs_from_header(check: HeaderCheck) -> Iterator[Problem]:
    """
    ## What it finds
    (crosscheck) A declared `ioctl` whose number, `_IOC(dir, KVMIO, nr, sizeof(arg))` on the
    ABI the headers are read for, differs from the header's macro of the same name: another
    `nr`, direction or argument size.

    ## Why it matters
    The number is the ABI: a VMM calls the header's, and the spec reviews another ioctl.

    ## How to fix
    Correct `nr`, `dir` or `arg` (the message decodes the header's number).
    """
    if check.error is not None:
        return
    types = dict(check.types)
    for ioctl in check.ioctls:
        macro = check.header.names.get(ioctl.name)
        if macro is None or ioctl.nr is None or (ioctl.arg is None and ioctl.dir not in (None, "none")):
            continue  # a copy of an argument the spec does not name has no size to compare
        try:
            ours = ioctl_number(ioctl.dir or "none", ioctl.nr, ioctl_size(types, ioctl, check.header.abi))
        except LayoutError:
            continue
        theirs = macro.value & 0xFFFF_FFFF
        if ours != theirs:
            decoded = f"dir {_DIRECTION_NAMES[theirs >> 30]}, nr 0x{theirs & 0xFF:x}, size {(theirs >> 16) & 0x3FFF}"
            yield Problem(
                m.attr_span(ioctl, "nr"),
                f"{ioctl.name} is 0x{ours:08x} on {check.header.abi}, the header's is 0x{theirs:08x} ({decoded})",
                subject=f"ioctl/{ioctl.name}",
                hint="match the header's direction, number and argument",
                related=(Related(where(macro), f"#define {ioctl.name}"),),
            )


_DIRECTION_NAMES = {0: "none", 1: "in", 2: "out", 3: "inout"}


@rule(
    "H909",
    "header-changed-spec-unchanged",
    WARNING,
    "a header the spec describes changed, the spec did not",
    stage=DIFF,
)
def header_changed_spec_unchanged(comparison: Comparison) -> Iterator[Problem]:
    """
    ## What it finds
    In diff mode (and in `check-patch`), a C header a spec names with `# header:` whose
    declarations changed since the baseline (comments and white space do not count) while
    the spec describes nothing new: no declaration of the spec was added, removed or changed.

    ## Why it matters
    The spec was written as the review of that header. A new register, flag, field or
    ioctl that lands in the header without a line in the spec is reviewed by nobody: the
    hazards the spec would show (VM state on the vCPU path, an unchecked flag) reach the ABI
    unseen, and the spec silently describes less than the kernel exposes.

    ## How to fix
    Describe the change in the same patch (`uapi-validator crosscheck` shows what the header
    has that the spec does not), or, where the change needs no description, say why with
    `# allow: H909 -- why` on the `# header:` line.
    """
    if comparison.changes:
        return
    for header in comparison.headers_changed:
        yield Problem(
            header.span,
            f"the header {header.written} changed since the baseline, but the spec that describes it did not",
            subject=f"header/{header.written}",
            hint="describe the header's change in the spec in the same patch, or say why none is needed",
        )


RULES = (
    register_missing_from_spec,
    register_missing_from_header,
    capability_unknown_to_header,
    ioctl_unknown_to_header,
    bit_differs_from_header,
    layout_differs_from_header,
    ioctl_number_differs_from_header,
    capability_number_differs_from_header,
    header_changed_spec_unchanged,
)
