"""I: ioctls and their argument structs, as the kernel's own rules for ioctls ask
(Documentation/process/botching-up-ioctls.rst, driver-api/ioctl.rst,
virt/kvm/review-checklist.rst). Layouts per ABI come from validator.frontend.layout."""

from __future__ import annotations

from collections.abc import Iterator

from validator.frontend.layout import LayoutError, StructLayout, ioctl_number, ioctl_size, lay_out
from validator.frontend.resolve import ResolvedSpec
from validator.model import spec as m
from validator.model.findings import ERROR, INFO, WARNING, Problem, Related
from validator.rules.catalog import HAZARD, rule


def _structs(spec: ResolvedSpec) -> Iterator[m.Struct]:
    return (t for t in spec.types.values() if isinstance(t, m.Struct))


def _layouts(spec: ResolvedSpec, struct: m.Struct) -> dict[str, StructLayout]:
    types = dict(spec.types)
    try:
        return {abi: lay_out(types, struct, abi) for abi in spec.abis}
    except LayoutError:
        return {}  # an undeclared type: E102's


def _subject(decl: m.Struct | m.Flags | m.IoctlDecl) -> str:
    kind = "ioctl" if isinstance(decl, m.IoctlDecl) else decl.kind if isinstance(decl, m.Flags) else "struct"
    return f"{kind}/{decl.name}"


@rule("I101", "implicit-padding", WARNING, "a hole or tail padding the compiler adds to a UAPI struct", stage=HAZARD)
def implicit_padding(spec: ResolvedSpec) -> Iterator[Problem]:
    """
    ## What it finds
    A gap the compiler inserts in a declared struct on one of the spec's ABIs: a hole before a
    field that needs more alignment than the field before it ends at, or padding at the tail
    up to the struct's alignment (`kvm_xen_exit` has a 4-byte hole).

    ## Why it matters
    Implicit padding is uninitialised kernel memory copied to userspace unless every path
    clears it, and space that cannot be given a meaning later without a flag to say it is
    valid (botching-up-ioctls.rst: "pad the entire struct ... and make the padding
    explicit").

    ## How to fix
    Declare the space as a `pad` with `check zero ERRNO`, or reorder the fields.
    """
    for struct in _structs(spec):
        if struct.union:
            continue
        for abi, layout in _layouts(spec, struct).items():
            for offset, size, after in layout.holes():
                where = f"before {after.name.text}" if after else "at the tail"
                yield Problem(
                    after.span if after else struct.span,
                    f"{struct.name} has {size} byte(s) of implicit padding {where} (offset {offset}) on {abi}",
                    subject=_subject(struct),
                    hint="declare it: `pad NAME u8[N] check zero EINVAL`",
                )
                break  # one per struct and ABI: the first gap; the next shows once this one is declared


@rule("I102", "layout-differs-between-abis", ERROR, "a struct laid out differently on the spec's ABIs", stage=HAZARD)
def layout_differs_between_abis(spec: ResolvedSpec) -> Iterator[Problem]:
    """
    ## What it finds
    A declared struct whose size or field offsets differ between the ABIs the spec names with
    `abi` (x86_64 and i386 align a u64 differently: `kvm_dirty_tlb` is 16 bytes on x86_64, 12
    on i386).

    ## Why it matters
    A 32-bit VMM on a 64-bit kernel passes the i386 layout: the kernel reads fields at the
    wrong offsets, or needs a compat handler forever. An ioctl that carries the struct gets a
    different number on each ABI.

    ## How to fix
    Make the layout the same everywhere: 64-bit fields at 8-byte offsets, explicit `pad`
    fields, the size a multiple of 8.
    """
    for struct in _structs(spec):
        layouts = _layouts(spec, struct)
        if len(layouts) < 2:
            continue
        first_abi, first = next(iter(layouts.items()))
        for abi, layout in layouts.items():
            moved = [
                (a, b)
                for a, b in zip(first.fields, layout.fields, strict=True)
                if a.offset != b.offset or a.size != b.size
            ]
            if layout.size != first.size or moved:
                related = tuple(
                    Related(
                        a.field.span,
                        f"{a.field.name.text}: {a.size} byte(s) at offset {a.offset} on {first_abi}, "
                        f"{b.size} at {b.offset} on {abi}",
                    )
                    for a, b in moved[:3]
                )
                sizes = (
                    f"is {first.size} bytes on {first_abi} and {layout.size} on {abi}"
                    if layout.size != first.size
                    else f"is {first.size} bytes on {first_abi} and {abi}"
                )
                yield Problem(
                    struct.span,
                    f"{struct.name} {sizes}" + (f"; {len(moved)} field(s) differ in offset or size" if moved else ""),
                    subject=_subject(struct),
                    hint="align 64-bit fields to 8 explicitly and pad the struct to a multiple of 8",
                    related=related,
                )
                break


@rule("I103", "pointer-in-struct", WARNING, "a pointer-sized field in a UAPI struct", stage=HAZARD)
def pointer_in_struct(spec: ResolvedSpec) -> Iterator[Problem]:
    """
    ## What it finds
    A field of type `ptr`: a user pointer, 4 bytes on 32-bit ABIs and 8 on 64-bit ones.

    ## Why it matters
    The struct's layout then depends on the ABI, and a compat handler must convert it
    (`kvm_msr_filter_range.bitmap` needed one two years after it shipped).

    ## How to fix
    Carry the pointer in a u64 (`u64ptr`), as botching-up-ioctls.rst asks.
    """
    for struct in _structs(spec):
        for field in struct.fields:
            if field.type.name.text == "ptr":
                yield Problem(
                    field.type.span,
                    f"{struct.name}.{field.name.text} is a pointer: its size and the struct's layout depend on the ABI",
                    subject=_subject(struct),
                    hint="carry it in a u64: `u64ptr`",
                )


@rule("I104", "size-not-multiple-of-8", WARNING, "a UAPI struct whose size is not a multiple of 8", stage=HAZARD)
def size_not_multiple_of_8(spec: ResolvedSpec) -> Iterator[Problem]:
    """
    ## What it finds
    A declared struct whose size, on one of the spec's ABIs, is not a multiple of 8 bytes.

    ## Why it matters
    An array of it, or a struct that embeds it, lays out differently on 32- and 64-bit ABIs,
    and there is no room to grow it by a 64-bit field.

    ## How to fix
    Pad it explicitly to a multiple of 8 (`pad reserved u32 check zero EINVAL`).
    """
    for struct in _structs(spec):
        for abi, layout in _layouts(spec, struct).items():
            if layout.size % 8:
                yield Problem(
                    struct.span,
                    f"{struct.name} is {layout.size} bytes on {abi}, not a multiple of 8",
                    subject=_subject(struct),
                    hint="pad it explicitly to a multiple of 8",
                )
                break


def _directions(spec: ResolvedSpec, struct: m.Struct) -> set[str]:
    return {f.direction for f in struct.fields if f.kind == "field" and f.direction}


@rule(
    "I105", "ioctl-direction-mismatch", ERROR, "an ioctl whose _IOC direction disagrees with its fields", stage=HAZARD
)
def ioctl_direction_mismatch(spec: ResolvedSpec) -> Iterator[Problem]:
    """
    ## What it finds
    An ioctl whose `dir` (`in`: `_IOW`, `out`: `_IOR`, `inout`: `_IOWR`) does not cover its
    argument's field directions: an `out` field in an `in` ioctl, an `in` field in an `out`
    one (`KVM_SET_IRQCHIP` is `_IOR` though userspace writes the chip).

    ## Why it matters
    The direction is what tools (strace, syzkaller, seccomp filters, compat layers) believe
    about the copy: a wrong one hides the kernel's writes or its reads from all of them.

    ## How to fix
    Give the direction the fields need (`inout` for both); a shipped number cannot change, so
    for an existing ioctl note it with `# allow:` and the reason.
    """
    allowed = {"in": {"in"}, "out": {"out"}, "inout": {"in", "out", "inout"}}
    for ioctl in spec.ioctls.values():
        arg = spec.types.get(ioctl.arg.name.text) if ioctl.arg else None
        if ioctl.dir not in allowed or not isinstance(arg, m.Struct):
            continue  # no direction, or _IO: I106 judges an _IO ioctl that takes a struct
        uncovered = sorted(_directions(spec, arg) - allowed[ioctl.dir])
        if uncovered:
            yield Problem(
                m.attr_span(ioctl, "dir"),
                f"{ioctl.name} is dir {ioctl.dir}, but {arg.name} has {', '.join(uncovered)} field(s)",
                subject=_subject(ioctl),
                hint="use dir inout, or correct the fields' directions",
            )


@rule("I106", "ioctl-size-mismatch", ERROR, "an ioctl number whose size disagrees with its argument", stage=HAZARD)
def ioctl_size_mismatch(spec: ResolvedSpec) -> Iterator[Problem]:
    """
    ## What it finds
    An ioctl whose number cannot carry its argument's size: `dir none` (`_IO`) with a struct
    argument (`KVM_REINJECT_CONTROL`), or an argument whose size differs between the spec's
    ABIs, so that the ioctl has another number on each (`KVM_DIRTY_TLB` is 0x4010aeaa on
    x86_64 and 0x400caeaa on i386).

    ## Why it matters
    The size in the number is how the kernel and tools tell versions of an argument apart
    and how a compat layer finds the ioctl; an `_IO` ioctl that copies a struct cannot grow.

    ## How to fix
    Give the ioctl the direction of its copy, and the argument the same layout on every ABI.
    """
    for ioctl in spec.ioctls.values():
        if ioctl.arg is None or ioctl.nr is None:
            continue
        arg_span = m.attr_span(ioctl, "arg")
        if ioctl.dir == "none" and ioctl.arg.name.text in spec.types:
            yield Problem(
                m.attr_span(ioctl, "dir"),
                f"{ioctl.name} is _IO (dir none) but takes {ioctl.arg.name.text}: its number carries no size",
                subject=_subject(ioctl),
                hint="declare the direction of the copy (in, out or inout)",
                related=(Related(arg_span, f"arg {ioctl.arg.name.text}"),),
            )
            continue
        try:
            numbers = {
                abi: ioctl_number(ioctl.dir or "none", ioctl.nr, ioctl_size(dict(spec.types), ioctl, abi))
                for abi in spec.abis
            }
        except LayoutError:
            continue
        if len(set(numbers.values())) > 1:
            shown = ", ".join(f"0x{number:08x} on {abi}" for abi, number in numbers.items())
            yield Problem(
                arg_span,
                f"{ioctl.name}'s number depends on the ABI: {shown}",
                subject=_subject(ioctl),
                hint=f"give {ioctl.arg.name.text} one layout on every ABI",
            )


def _numbers(spec: ResolvedSpec) -> dict[int, list[m.IoctlDecl]]:
    by_number: dict[int, list[m.IoctlDecl]] = {}
    types = dict(spec.types)
    for ioctl in spec.ioctls.values():
        if ioctl.nr is None:
            continue
        for abi in spec.abis:
            try:
                number = ioctl_number(ioctl.dir or "none", ioctl.nr, ioctl_size(types, ioctl, abi))
            except LayoutError:
                break
            if ioctl not in by_number.setdefault(number, []):
                by_number[number].append(ioctl)
    return by_number


def _collisions(spec: ResolvedSpec, same_fd: bool) -> Iterator[Problem]:
    for number, ioctls in sorted(_numbers(spec).items()):
        for index, later in enumerate(ioctls):
            for first in ioctls[:index]:
                if (first.scope == later.scope) == same_fd:
                    where = "on the same fd type" if same_fd else f"on {first.scope} and {later.scope} fds"
                    yield Problem(
                        m.attr_span(later, "nr"),
                        f"{later.name} and {first.name} are both 0x{number:08x} {where}",
                        subject=_subject(later),
                        hint="give it a number of its own",
                        related=(Related(m.attr_span(first, "nr"), f"{first.name}"),),
                    )


@rule("I107", "ioctl-number-collision", ERROR, "two ioctls of one fd type with the same number", stage=HAZARD)
def ioctl_number_collision(spec: ResolvedSpec) -> Iterator[Problem]:
    """
    ## What it finds
    Two ioctls issued on the same kind of fd whose numbers (`_IOC(dir, KVMIO, nr, size)`) are
    equal on one of the spec's ABIs.

    ## Why it matters
    The kernel dispatches on the number: one of the two can never be called.

    ## How to fix
    Give one of them another `nr`.
    """
    return _collisions(spec, same_fd=True)


@rule("I108", "ioctl-number-shared", WARNING, "two ioctls on different fd types with the same number", stage=HAZARD)
def ioctl_number_shared(spec: ResolvedSpec) -> Iterator[Problem]:
    """
    ## What it finds
    Two ioctls issued on different kinds of fd (VM and vCPU) with the same number
    (`KVM_ARM_SET_DEVICE_ADDR` and `KVM_GET_ONE_REG` are both 0x4010aeab).

    ## Why it matters
    The kernel tells them apart by the fd, but strace, syzkaller and seccomp filters decode
    by number alone and cannot.

    ## How to fix
    Give a new ioctl a number no other KVM ioctl has; for shipped ones, note it with
    `# allow:`.
    """
    return _collisions(spec, same_fd=False)


@rule("I109", "unknown-flags-accepted", WARNING, "a flags set whose undefined bits are accepted", stage=HAZARD)
def unknown_flags_accepted(spec: ResolvedSpec) -> Iterator[Problem]:
    """
    ## What it finds
    A `flags` set with `unknown ignore`, or with no `unknown` clause at all.

    ## Why it matters
    Flags the kernel does not check can never be given a meaning: old kernels accept them and
    silently do nothing (`KVM_X86_SET_MSR_FILTER`'s flags were unchecked until a 2022 fix).

    ## How to fix
    Reject undefined bits: `unknown reject EINVAL`.
    """
    for flags in spec.types.values():
        # An enum's unknown values are a question of its own, not of undefined bits.
        if (
            isinstance(flags, m.Flags)
            and flags.kind == "flags"
            and (flags.unknown is None or flags.unknown.kind == "ignore")
        ):
            where = m.attr_span(flags, "unknown") if flags.unknown else flags.span
            said = "ignores" if flags.unknown else "does not say what it does with"
            yield Problem(
                where,
                f"{flags.name} {said} undefined bits",
                subject=_subject(flags),
                hint="`unknown reject EINVAL`",
            )


@rule("I110", "pad-not-checked", WARNING, "reserved space the kernel does not require to be zero", stage=HAZARD)
def pad_not_checked(spec: ResolvedSpec) -> Iterator[Problem]:
    """
    ## What it finds
    A `pad` field with `ignore`, or with no `check zero ERRNO` (`kvm_userspace_memory_region2`'s
    `pad1` and `pad2`, `kvm_create_guest_memfd.reserved`).

    ## Why it matters
    Reserved space is how a struct grows: if old kernels accept garbage there, a new meaning
    for it is indistinguishable from that garbage, and it can never be used.

    ## How to fix
    Check it: `pad NAME TYPE check zero EINVAL`.
    """
    for struct in _structs(spec):
        for field in struct.fields:
            if field.kind == "pad" and field.check != "zero":
                yield Problem(
                    field.span,
                    f"{struct.name}.{field.name.text} is reserved, but the kernel does not require it to be zero",
                    subject=_subject(struct),
                    hint=f"`pad {field.name.text} ... check zero EINVAL`",
                )


@rule("I111", "no-extension-path", INFO, "an ioctl argument that cannot be extended", stage=HAZARD)
def no_extension_path(spec: ResolvedSpec) -> Iterator[Problem]:
    """
    ## What it finds
    An ioctl whose struct argument has no flags field, no reserved space and no `extend`
    clause saying how it grows.

    ## Why it matters
    The next field needs a new ioctl: XSAVE2, SREGS2, CPUID2 and USER_MEMORY_REGION2 exist
    because their first versions could not be extended.

    ## How to fix
    Add a `flags` field checked for unknown bits, or reserved space checked to be zero, and
    say which with `extend by flags` or `extend by size`.
    """
    for ioctl in spec.ioctls.values():
        arg = spec.types.get(ioctl.arg.name.text) if ioctl.arg else None
        if not isinstance(arg, m.Struct) or ioctl.extend:
            continue
        has_flags = any(isinstance(spec.types.get(f.type.name.text), m.Flags) for f in arg.fields)
        has_pad = any(f.kind == "pad" for f in arg.fields)
        if not has_flags and not has_pad:
            yield Problem(
                ioctl.span,
                f"{ioctl.name} takes {arg.name}, which has no flags field and no reserved space: it cannot grow",
                subject=_subject(ioctl),
                hint="add a checked flags field or reserved space, and say how: `extend by flags`",
            )


def _opt_in_deadlines(spec: ResolvedSpec) -> Iterator[m.Capability]:
    """Capabilities userspace enables (opt_in) or disables (opt_out) by a deadline."""
    return (
        c
        for c in spec.capabilities.values()
        if isinstance(c, m.Capability) and c.kind in ("opt_in", "opt_out") and c.before
    )


@rule("I112", "deadline-errnos-differ", WARNING, "one deadline refused with different errnos", stage=HAZARD)
def deadline_errnos_differ(spec: ResolvedSpec) -> Iterator[Problem]:
    """
    ## What it finds
    Opt-in (or opt-out) capabilities whose deadline is the same event but whose late enables are refused
    with different errnos ("vCPUs already created" is EEXIST for `KVM_CAP_SPLIT_IRQCHIP`,
    EINVAL for `KVM_CAP_PMU_CAPABILITY`, EBUSY for `KVM_SET_BOOT_CPU_ID`). Reported at each
    capability that differs from the first one of its event.

    ## Why it matters
    Userspace cannot handle "too late" once: each capability needs its own errno table, and
    EINVAL also means a bad argument.

    ## How to fix
    Use one errno per event for new capabilities (EBUSY is the kernel's usual "too late").
    """
    first: dict[str, m.Capability] = {}
    for capability in _opt_in_deadlines(spec):
        if capability.before_errno is None:
            continue
        event = capability.before or ""
        earlier = first.setdefault(event, capability)
        if earlier.before_errno and earlier.before_errno.text != capability.before_errno.text:
            yield Problem(
                capability.before_errno.span,
                f"{capability.name} refuses a late enable (after {event}) with {capability.before_errno.text}; "
                f"{earlier.name} with {earlier.before_errno.text}",
                subject=f"capability/{capability.name}",
                hint=f"use {earlier.before_errno.text}, as {earlier.name} does",
                related=(Related(earlier.before_errno.span, f"{earlier.name}"),),
            )


@rule(
    "I113",
    "capability-deadline-without-errno",
    WARNING,
    "a capability deadline with no errno, where the spec names one for others",
    stage=HAZARD,
)
def capability_deadline_without_errno(spec: ResolvedSpec) -> Iterator[Problem]:
    """
    ## What it finds
    An opt-in (or opt-out) capability with `before EVENT` and no `else ERRNO`, in a spec that
    names the errno of another capability's deadline.

    ## Why it matters
    The refusal of a late enable is ABI like any other answer: VMMs that enable capabilities
    in a different order match on it, and KVM's own answers differ (EEXIST, EINVAL, EBUSY;
    see I112). A spec that names one errno is at the level where the others are owed too; a
    design sketch that names none is not judged (the `writable` deadline has L401).

    ## How to fix
    Say what the kernel answers: `before vcpu_create else EBUSY`.
    """
    deadlines = list(_opt_in_deadlines(spec))
    named = [c for c in deadlines if c.before_errno is not None]
    if not named:
        return
    for capability in deadlines:
        if capability.before_errno is None:
            yield Problem(
                m.attr_span(capability, "before"),
                f"{capability.name} is refused after {capability.before}, with no errno said; "
                f"{named[0].name} names {named[0].before_errno.text}",  # type: ignore[union-attr]
                subject=f"capability/{capability.name}",
                hint=f"`before {capability.before} else ERRNO`",
                related=(Related(m.attr_span(named[0], "before"), named[0].name),),
            )


def _outputs(spec: ResolvedSpec, struct: m.Struct, path: str, seen: frozenset[str]) -> Iterator[tuple[str, m.Field]]:
    """Every output field of a struct, nested structs' included, with its dotted path."""
    for field in struct.fields:
        if field.kind != "field":
            continue
        nested = spec.types.get(field.type.name.text)
        if isinstance(nested, m.Struct) and nested.name not in seen:
            yield from _outputs(spec, nested, f"{path}{field.name.text}.", seen | {nested.name})
        elif field.direction in ("out", "inout"):
            yield f"{path}{field.name.text}", field


@rule(
    "I114",
    "output-not-written-everywhere",
    WARNING,
    "an output field some architecture offering the ioctl does not write",
    stage=HAZARD,
)
def output_not_written_everywhere(spec: ResolvedSpec) -> Iterator[Problem]:
    """
    ## What it finds
    An `out` or `inout` field of an ioctl's argument that says which architectures write it
    (`out on x86`), where the ioctl is offered on more (`arch x86, arm64`, or the spec's own
    architecture).

    ## Why it matters
    On the others the ioctl succeeds and leaves the field as userspace passed it: portable
    code reads stale or uninitialised bytes as the kernel's answer, and can never tell an
    unwritten field from a written zero. A generic ioctl implemented per architecture
    drifts this way; `KVM_TRANSLATE` and `KVM_GET_FPU` answer only on some.

    ## How to fix
    Write the field on every architecture that offers the ioctl (zero it where it means
    nothing), or offer the ioctl only where it is written and say so with `arch`.
    """
    for ioctl in spec.ioctls.values():
        arg = spec.types.get(ioctl.arg.name.text) if ioctl.arg else None
        if not isinstance(arg, m.Struct):
            continue
        offered = spec.architectures(ioctl)
        for path, field in _outputs(spec, arg, "", frozenset({arg.name})):
            if not field.written_on:
                continue
            written = {name.text for name in field.written_on}
            unwritten = [arch for arch in offered if arch not in written]
            if unwritten:
                yield Problem(
                    field.span,
                    f"{ioctl.name} is offered on {', '.join(offered)}, but {arg.name}.{path} is written "
                    f"on {', '.join(sorted(written))} only: on {', '.join(unwritten)} it returns what userspace passed in",
                    subject=f"ioctl/{ioctl.name}/{path}",
                    hint=f"write it on {', '.join(unwritten)} too (zero where it means nothing)",
                    related=(Related(m.attr_span(ioctl, "arch"), f"{ioctl.name} offered here"),),
                )


@rule("I115", "feature-on-by-default", WARNING, "a feature that is on unless userspace turns it off", stage=HAZARD)
def feature_on_by_default(spec: ResolvedSpec) -> Iterator[Problem]:
    """
    ## What it finds
    A capability of `kind opt_out` (on unless userspace disables it with KVM_ENABLE_CAP), and
    a `feature` whose `via` is a `query` capability (on wherever the kernel has it).

    ## Why it matters
    KVM's review checklist (Documentation/virt/kvm/review-checklist.rst, item 5): "New
    features must default to off (userspace should explicitly request them)". A feature on by
    default changes what existing VMMs' guests see after a kernel upgrade, and a VMM that
    migrates to an older kernel cannot reproduce it. Performance improvements may default to
    on: say so with `# allow: I115` and the reason.

    ## How to fix
    Make it `kind opt_in`: off until userspace enables it.
    """
    capabilities = spec.capabilities
    for capability in capabilities.values():
        if isinstance(capability, m.Capability) and capability.kind == "opt_out":
            yield Problem(
                capability.span,
                f"{capability.name} is on unless userspace turns it off: new features default to off",
                subject=f"capability/{capability.name}",
                hint="make it `kind opt_in`; a performance improvement may stay on (`# allow: I115 why`)",
                related=(Related(m.attr_span(capability, "kind"), "kind opt_out"),),
            )
    for feature in capabilities.values():
        if not isinstance(feature, m.Feature) or feature.via is None:
            continue
        gate = capabilities.get(feature.via.text)
        if isinstance(gate, m.Capability) and gate.kind == "query":
            yield Problem(
                feature.span,
                f"{feature.name} is on wherever {gate.name} is offered: userspace never asks for it",
                subject=f"feature/{feature.name}",
                hint=f"make {gate.name} `kind opt_in`, so VMMs enable the feature",
                related=(Related(feature.via.span, f"via {gate.name}, a query capability"),),
            )


@rule("I116", "capability-number-shared", ERROR, "two capabilities with one KVM_CAP number", stage=HAZARD)
def capability_number_shared(spec: ResolvedSpec) -> Iterator[Problem]:
    """
    ## What it finds
    Two capabilities whose `number` is the same (a number reused, or two series that took
    the next free number at once). Reported at the later one.

    ## Why it matters
    `KVM_CHECK_EXTENSION` and `KVM_ENABLE_CAP` know a capability only by its number: a VMM
    asking for one gets the other's answer, and enables the other's behaviour.

    ## How to fix
    Give the new capability the next number no other capability has; a shipped number never
    changes.
    """
    first: dict[int, m.Capability] = {}
    for capability in spec.capabilities.values():
        if not isinstance(capability, m.Capability) or capability.number is None:
            continue
        earlier = first.setdefault(capability.number, capability)
        if earlier is not capability:
            yield Problem(
                m.attr_span(capability, "number"),
                f"{capability.name} has number {capability.number}, as {earlier.name} does",
                subject=f"capability/{capability.name}",
                hint="take the next number no capability has",
                related=(Related(m.attr_span(earlier, "number"), earlier.name),),
            )


RULES = (
    implicit_padding,
    layout_differs_between_abis,
    pointer_in_struct,
    size_not_multiple_of_8,
    ioctl_direction_mismatch,
    ioctl_size_mismatch,
    ioctl_number_collision,
    ioctl_number_shared,
    unknown_flags_accepted,
    pad_not_checked,
    no_extension_path,
    deadline_errnos_differ,
    capability_deadline_without_errno,
    output_not_written_everywhere,
    feature_on_by_default,
    capability_number_shared,
)
