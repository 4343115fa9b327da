"""B: breaking changes against a baseline (diff mode).

Each rule reads the `Comparison` that `validator.diff.compare` made (the declarations of baseline and
proposal, paired) and judges one kind of break; the differ itself only says what changed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace

from validator.diff.compare import NOT_ABI, Comparison
from validator.frontend.layout import LayoutError, ioctl_number, ioctl_size
from validator.frontend.resolve import kind_word
from validator.model import spec as m
from validator.model.findings import ERROR, WARNING, Problem, Related
from validator.model.spans import Span
from validator.model.spec import attr_span
from validator.model.words import describe
from validator.rules.catalog import DIFF, Rule

Check = Callable[[Comparison], Iterable[Problem]]


def _diff_rule(
    code: str, name: str, summary: str, what: str, why: str, fix: str, severity: str = ERROR
) -> Callable[[Check], Rule]:
    """A DIFF-stage rule: its documentation's three sections, and its check."""
    doc = f"## What it finds\n{what}\n\n## Why it matters\n{why}\n\n## How to fix\n{fix}"

    def wrap(check: Check) -> Rule:
        return Rule(code, name, severity, summary, doc, DIFF, check)

    return wrap


def _register_problem(
    old: m.Register, new: m.Register, attribute: str, message: str, hint: str, was: Span | None = None
) -> Problem:
    """A break of one register, at the proposal's attribute line, the baseline's as related."""
    return Problem(
        attr_span(new, attribute),
        f"{new.name}: {message}",
        subject=f"register/{new.name}",
        hint=hint,
        related=(Related(was or attr_span(old, attribute), "in the baseline"),),
    )


@_diff_rule(
    "B601",
    "removed",
    "a register, feature, interface, capability or bit of the baseline is gone",
    "A register, feature, interface, capability or bit that the baseline has and the proposal lacks.",
    "Userspace built against the baseline still uses it: a VMM restoring a saved register that is gone "
    "fails the whole restore, and a migration from an older kernel breaks.",
    "Keep it (deprecate it in documentation if needed); ABI is not removed.",
)
def removed(comparison: Comparison) -> Iterator[Problem]:
    for old in comparison.removed:
        if isinstance(old, NOT_ABI):
            continue
        what = f"{kind_word(old)} {old.name}"
        yield Problem(
            comparison.anchor or old.span,
            f"{what} is removed; userspace built against the baseline still uses it",
            subject=f"{kind_word(old)}/{old.name}",
            hint="keep it: ABI is not removed (document it as deprecated instead)",
            related=(Related(old.span, f"{what} in the baseline"),),
        )
    bitmaps = [
        (old, new)
        for old, new in comparison.pairs
        if isinstance(old, m.Register | m.Flags) and isinstance(new, m.Register | m.Flags)
    ]
    for old_bitmap, new_bitmap in bitmaps:
        kept = {b.index for b in new_bitmap.bits}
        names = {b.name for b in new_bitmap.bits}
        kind = kind_word(new_bitmap)
        entry = _entry(new_bitmap)
        for bit in old_bitmap.bits:
            if bit.index not in kept and bit.name not in names:  # a name kept elsewhere moved: B615
                yield Problem(
                    new_bitmap.span,
                    f"{entry} {bit.index} ({bit.name}) of {new_bitmap.name} is removed",
                    subject=f"{kind}/{new_bitmap.name}/bits/{bit.index}",
                    hint=f"keep the {entry}; ABI is not removed",
                    related=(Related(bit.span, f"{entry} {bit.index} in the baseline"),),
                )


def _entry(bitmap: m.Register | m.Flags) -> str:
    return bitmap.entry if isinstance(bitmap, m.Flags) else "bit"


@_diff_rule(
    "B602",
    "id-changed",
    "a register's id changed",
    "A register whose ONE_REG id differs from the baseline's.",
    "The id is the name userspace saves state under: a saved image from the old kernel no longer "
    "restores, and VMMs compiled against the old header address another register.",
    "Keep the old id; add a new register if the encoding must change.",
)
def id_changed(comparison: Comparison) -> Iterator[Problem]:
    for old, new in comparison.register_pairs():
        if old.id is not None and new.id is not None and old.id != new.id:
            message = f"id changed from 0x{old.id:x} to 0x{new.id:x}; saved state no longer restores"
            yield _register_problem(old, new, "id", message, "keep the old id; add a new register for a new encoding")


@_diff_rule(
    "B603",
    "width-changed",
    "a register's width changed",
    "A register whose width differs from the baseline's.",
    "VMMs size their buffers from the width: a changed width truncates or overruns saved state.",
    "Keep the width; add a new register for a wider value.",
)
def width_changed(comparison: Comparison) -> Iterator[Problem]:
    for old, new in comparison.register_pairs():
        if old.width is not None and new.width is not None and old.width != new.width:
            message = f"width changed from {old.width} to {new.width}"
            yield _register_problem(old, new, "width", message, "keep the width; add a new register for a wider value")


@_diff_rule(
    "B604",
    "scope-changed",
    "a register's scope changed",
    "A register whose scope (vm, vcpu, write_once, ...) differs from the baseline's.",
    "VMMs save and restore per the scope they learnt: per-vCPU values collapsing into one VM value "
    "loses state, and the reverse leaves vCPUs unrestored.",
    "Keep the scope, or gate the new behaviour behind an opt-in capability.",
)
def scope_changed(comparison: Comparison) -> Iterator[Problem]:
    for old, new in comparison.register_pairs():
        if old.scope and new.scope and old.scope != new.scope:
            hint = "keep the scope, or gate the new behaviour behind an opt-in capability"
            yield _register_problem(old, new, "scope", f"scope changed from {old.scope} to {new.scope}", hint)


@_diff_rule(
    "B605",
    "access-path-removed",
    "an interface no longer reaches a register",
    "An interface (`via`) that reached a register in the baseline and no longer does.",
    "VMMs that save and restore through that interface lose the register.",
    "Keep the old access path working beside the new one.",
)
def access_path_removed(comparison: Comparison) -> Iterator[Problem]:
    for old, new in comparison.register_pairs():
        kept = {v.text for v in new.via}
        for via in old.via:
            if via.text not in kept:
                message = f"interface {via.text} no longer reaches it; VMMs that save and restore through it lose the register"
                yield _register_problem(
                    old, new, "via", message, "keep the old access path beside the new one", via.span
                )


@_diff_rule(
    "B606",
    "lifecycle-tightened",
    "a write the baseline allowed is now refused",
    "A write the baseline accepted that the proposal refuses: an earlier deadline, `writable never`, "
    "a new opt-in, an identical rewrite now rejected, undefined bits of a register or of a flags set "
    "now refused.",
    "Existing VMMs issue the write at the time the baseline allowed it: they now fail mid-restore.",
    "Keep the old deadline, or refuse the write only after an opt-in.",
)
def lifecycle_tightened(comparison: Comparison) -> Iterator[Problem]:
    hint = "keep what the baseline allowed, or refuse it only after an opt-in"
    for old, new in comparison.register_pairs():
        if _deadline_rank(new.writable) < _deadline_rank(old.writable):
            message = (
                f"writable {describe(old.writable)} became {describe(new.writable)}: "
                "writes the baseline accepted are refused"
            )
            yield _register_problem(old, new, "writable", message, hint)
        if old.rewrite is not None and old.rewrite.same_value_ok and new.rewrite is not None and new.rewrite.errno:
            message = f"an identical rewrite was accepted and now gets {new.rewrite.errno.text}"
            yield _register_problem(old, new, "rewrite", message, hint)
        if old.opt_in is None and new.opt_in is not None:
            message = f"it now exists only after opting in to {new.opt_in.text}"
            yield _register_problem(old, new, "opt_in", message, hint, old.span)
        if (old.uniform is None or old.uniform.kind != "enforced") and new.uniform and new.uniform.kind == "enforced":
            message = "differing values across vCPUs were accepted and are now refused"
            was = old.uniform.span if old.uniform else old.span
            yield _register_problem(old, new, "uniform", message, hint, was)
        if old.reserved and old.reserved.kind == "ignore" and new.reserved and new.reserved.kind == "reject":
            message = "writes with undefined bits were accepted and are now refused"
            yield _register_problem(old, new, "reserved", message, hint)
    for old_flags, new_flags in comparison.pairs:
        if not isinstance(old_flags, m.Flags) or not isinstance(new_flags, m.Flags) or new_flags.unknown is None:
            continue
        if new_flags.unknown.kind == "reject" and (old_flags.unknown is None or old_flags.unknown.kind == "ignore"):
            yield Problem(
                new_flags.unknown.span,
                f"{new_flags.name}: undefined bits were accepted and are now refused with {describe(new_flags.unknown.errno)}; "
                "VMMs that passed them now fail",
                subject=f"flags/{new_flags.name}",
                hint="check flags from the first release; a late check breaks whoever relied on the old kernel",
                related=(Related(old_flags.unknown.span if old_flags.unknown else old_flags.span, "in the baseline"),),
            )


def _deadline_rank(writable: m.Writable | None) -> int:
    """How late a write is still accepted: higher is more permissive."""
    if writable is None or writable.kind == "always":
        return len(m.EVENT_ORDER) + 1
    if writable.kind == "never":
        return -1
    if writable.event in m.EVENT_ORDER:
        return m.EVENT_ORDER.index(writable.event)
    return m.EVENT_ORDER.index("vcpu_create")  # memslot_create: unordered against vCPU events


@_diff_rule(
    "B607",
    "reset-changed",
    "a reset value changed",
    "A register whose reset value differs from the baseline's.",
    "Guests of VMMs that never write the register see different behaviour after a kernel upgrade.",
    "Keep the reset value, or make the change opt-in.",
    WARNING,
)
def reset_changed(comparison: Comparison) -> Iterator[Problem]:
    for old, new in comparison.register_pairs():
        if old.reset is not None and new.reset is not None and describe(old.reset) != describe(new.reset):
            message = f"reset changed from {describe(old.reset)} to {describe(new.reset)}"
            hint = "keep the reset value; guests of VMMs that never write the register change behaviour"
            yield _register_problem(old, new, "reset", message, hint)


@_diff_rule(
    "B608",
    "errno-changed",
    "the errno of a refused write changed",
    "A refused write whose errno differs from the baseline's (deadline, rewrite, uniformity, reserved bits).",
    "VMMs match on errno values to decide whether to retry, skip or fail.",
    "Keep the errno.",
)
def errno_changed(comparison: Comparison) -> Iterator[Problem]:
    for old, new in comparison.register_pairs():
        for attribute in ("writable", "rewrite", "uniform", "reserved"):
            before, after = _errno(getattr(old, attribute)), _errno(getattr(new, attribute))
            if before and after and before != after:
                message = f"a refused write ({attribute}) now gets {after} instead of {before}"
                yield _register_problem(old, new, attribute, message, f"keep {before}: VMMs match on errno values")


def _errno(value: object) -> str | None:
    errno: m.Name | None = getattr(value, "errno", None)
    return errno.text if errno is not None else None


@_diff_rule(
    "B609",
    "reserved-loosened",
    "reserved bits were rejected and are now ignored",
    "A bitmap whose undefined bits were rejected in the baseline and are ignored in the proposal.",
    "Once writes with undefined bits succeed, VMMs start setting them, and the bits can never be given "
    "a meaning safely.",
    "Keep rejecting undefined bits.",
)
def reserved_loosened(comparison: Comparison) -> Iterator[Problem]:
    for old, new in comparison.register_pairs():
        if (
            old.reserved is not None
            and old.reserved.kind == "reject"
            and (new.reserved is None or new.reserved.kind == "ignore")
        ):
            message = "undefined bits were rejected and are now ignored"
            yield _register_problem(old, new, "reserved", message, "keep rejecting undefined bits", old.reserved.span)


@_diff_rule(
    "B610",
    "layout-changed",
    "a struct's fields changed place, type or kind",
    "A declared struct or union whose baseline fields are not all where they were, as they were: "
    "a field reordered, retyped, renamed or removed, or reserved space (`pad`) turned into a "
    "field. Fields appended at the end are growth, not a change (`extend by size`).",
    "Userspace compiled against the baseline writes the old layout: the kernel reads its bytes "
    "as other fields. Reserved space given a meaning without a flag or capability to say so is "
    "indistinguishable from the garbage old kernels accepted there.",
    "Keep the baseline's fields where they are; append, or gate the new meaning of reserved "
    "space behind a flag the kernel checks.",
)
def layout_changed(comparison: Comparison) -> Iterator[Problem]:
    for old, new in comparison.pairs:
        if not isinstance(old, m.Struct) or not isinstance(new, m.Struct):
            continue
        for index, was in enumerate(old.fields):
            now = new.fields[index] if index < len(new.fields) else None
            if now is not None and _placed(now) == _placed(was):
                continue
            now_text = f"`{describe(now)}`" if now is not None else "nothing"
            yield Problem(
                now.span if now is not None else new.span,
                f"{new.name}: field {index} was `{describe(was)}`, is now {now_text}",
                subject=f"struct/{new.name}",
                hint="keep the baseline's fields in place; append new ones, gated by a flag",
                related=(Related(was.span, "in the baseline"),),
            )
            break


def _placed(field: m.Field) -> str:
    """A field as its layout and meaning see it: which architectures write an output is
    not part of where it is."""
    return describe(replace(field, written_on=()))


@_diff_rule(
    "B611",
    "ioctl-number-changed",
    "an ioctl's number changed",
    "A declared ioctl whose number, `_IOC(dir, KVMIO, nr, sizeof(arg))` on one of the spec's ABIs, "
    "differs from the baseline's: another `nr` or direction, or an argument that changed size.",
    "Binaries call the number: every VMM built against the baseline gets ENOTTY, or another ioctl.",
    "Keep the number; a new argument layout is a new ioctl (or growth the kernel accepts by size).",
)
def ioctl_number_changed(comparison: Comparison) -> Iterator[Problem]:
    for old, new in comparison.pairs:
        if not isinstance(old, m.IoctlDecl) or not isinstance(new, m.IoctlDecl) or old.nr is None or new.nr is None:
            continue
        for abi in comparison.proposal.abis:
            try:
                before = ioctl_number(old.dir or "none", old.nr, ioctl_size(dict(comparison.baseline.types), old, abi))
                after = ioctl_number(new.dir or "none", new.nr, ioctl_size(dict(comparison.proposal.types), new, abi))
            except LayoutError:
                break
            if before != after:
                yield Problem(
                    attr_span(new, "nr"),
                    f"{new.name} is 0x{after:08x} on {abi}, the baseline's 0x{before:08x}",
                    subject=f"ioctl/{new.name}",
                    hint="keep the number; a new layout is a new ioctl",
                    related=(Related(attr_span(old, "nr"), "in the baseline"),),
                )
                break


def _capability_pairs(comparison: Comparison) -> Iterator[tuple[m.Capability, m.Capability]]:
    for old, new in comparison.pairs:
        if isinstance(old, m.Capability) and isinstance(new, m.Capability):
            yield old, new


def _enable_rank(capability: m.Capability) -> int:
    """How late enabling (or disabling) a capability is still accepted: higher is later."""
    if capability.before is None:
        return len(m.EVENT_ORDER) + 1
    return _deadline_rank(m.Writable("before", capability.span, capability.before))


@_diff_rule(
    "B612",
    "capability-deadline-tightened",
    "an opt-in capability's deadline moved earlier",
    "An opt-in (or opt-out) capability whose `before` deadline is earlier than the baseline's, "
    "or that gained a deadline it did not have.",
    "VMMs enable capabilities at the point the baseline allowed (after creating vCPUs, after "
    "adding memory): that enable is now refused, and the VM cannot be set up as before.",
    "Keep the baseline's deadline; if the kernel cannot honour a late enable any more, refuse "
    "it only for VMs that opted in to the new behaviour.",
)
def capability_deadline_tightened(comparison: Comparison) -> Iterator[Problem]:
    for old, new in _capability_pairs(comparison):
        if new.kind not in ("opt_in", "opt_out") or _enable_rank(new) >= _enable_rank(old):
            continue
        was = f"before {old.before}" if old.before else "at any time"
        yield Problem(
            attr_span(new, "before"),
            f"{new.name} could be enabled {was} and now only before {new.before}: "
            "VMMs that enable it where the baseline allowed are refused",
            subject=f"capability/{new.name}",
            hint="keep the baseline's deadline",
            related=(Related(attr_span(old, "before") if old.before else old.span, "in the baseline"),),
        )


@_diff_rule(
    "B613",
    "superseded-capability-advertised",
    "a capability the proposal supersedes stays advertised",
    "A capability that a new one `supersedes` in the proposal, still declared (and so still "
    "answered by KVM_CHECK_EXTENSION).",
    "ABI cannot be withdrawn, so the old capability stays for good: every VMM now meets two "
    "ways to do one thing and must learn both, and the kernel keeps both paths correct "
    "together (XSAVE and XSAVE2, the DISABLE_QUIRKS pair). What one does to the other when "
    "both are used is part of the new ABI.",
    "Extend the old capability if it can grow (a flag, a bit of its answer); if a new one is "
    "needed, document in `doc` how the two interact, and note it here with `# allow:`.",
    WARNING,
)
def superseded_capability_advertised(comparison: Comparison) -> Iterator[Problem]:
    baseline_caps = {n: c for n, c in comparison.baseline.capabilities.items() if isinstance(c, m.Capability)}
    for new in comparison.proposal.capabilities.values():
        if not isinstance(new, m.Capability):
            continue
        before = baseline_caps.get(new.name)
        already = {n.text for n in before.supersedes} if before else set()
        for replaced in new.supersedes:
            old = comparison.proposal.capabilities.get(replaced.text)
            if replaced.text in already or not isinstance(old, m.Capability):
                continue
            yield Problem(
                replaced.span,
                f"{new.name} supersedes {replaced.text}, which stays advertised: every VMM must handle both",
                subject=f"capability/{new.name}",
                hint=f"extend {replaced.text} if it can grow; else say in `doc` how the two interact",
                related=(Related(old.span, f"{replaced.text}, still declared"),),
            )


@_diff_rule(
    "B614",
    "capability-number-changed",
    "a capability's KVM_CAP number changed",
    "A capability whose `number` differs from the baseline's.",
    "VMMs ask `KVM_CHECK_EXTENSION` and `KVM_ENABLE_CAP` by number, compiled in from the old "
    "header: they now ask about another capability, or one that does not exist.",
    "Keep the number; a capability number is ABI from its first release.",
)
def capability_number_changed(comparison: Comparison) -> Iterator[Problem]:
    for old, new in _capability_pairs(comparison):
        if old.number is not None and new.number is not None and old.number != new.number:
            yield Problem(
                attr_span(new, "number"),
                f"{new.name} is number {new.number}, the baseline's {old.number}",
                subject=f"capability/{new.name}",
                hint="keep the number",
                related=(Related(attr_span(old, "number"), "in the baseline"),),
            )


@_diff_rule(
    "B615",
    "constant-moved",
    "a named bit or enum value now has another number",
    "A bit of a register or `flags` set, or a value of an `enum`, whose name the baseline "
    "gave another number: a bit renumbered, or an enumerator shifted by one inserted before it.",
    "Userspace compiled against the baseline's header keeps the old number: it sets another bit, "
    "or passes a value that now means something else (`enum { A, NEW, B }` moves B), and "
    "nothing fails to compile.",
    "Keep every shipped number; add the new name at an unused number (at the end of an enum).",
)
def constant_moved(comparison: Comparison) -> Iterator[Problem]:
    for old, new in comparison.pairs:
        if not (isinstance(old, m.Register | m.Flags) and isinstance(new, m.Register | m.Flags)):
            continue
        before = {b.name: b for b in old.bits}
        entry = _entry(new)
        for bit in new.bits:
            was = before.get(bit.name)
            if was is not None and was.index != bit.index:
                yield Problem(
                    bit.span,
                    f"{'' if new.name == bit.name else new.name + ': '}{bit.name} is {entry} {bit.index}, "
                    f"the baseline's {entry} {was.index}",
                    subject=f"{kind_word(new)}/{new.name}/{bit.name}",
                    hint=f"keep {bit.name} at {was.index}; give a new name an unused {entry}",
                    related=(Related(was.span, f"{entry} {was.index} in the baseline"),),
                )


RULES = (
    removed,
    id_changed,
    width_changed,
    scope_changed,
    access_path_removed,
    lifecycle_tightened,
    reset_changed,
    errno_changed,
    reserved_loosened,
    layout_changed,
    ioctl_number_changed,
    capability_deadline_tightened,
    superseded_capability_advertised,
    capability_number_changed,
    constant_moved,
)
