"""Diff mode: a proposal judged against its baseline.

Declarations match by name; a register whose name is gone matches a new one with the same
id, which is a rename, not a removal plus an addition. Each change is recorded (the JSON
`changes`), and each change that breaks userspace becomes a B finding (A302 for new
asymmetry, C504 for migrated state added off every enumerable interface).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from validator import model as m
from validator.findings import Finding, Related
from validator.model import attr_span
from validator.resolve import KIND_WORD, ResolvedSpec
from validator.rules._facts import is_new
from validator.spans import Span


@dataclass(frozen=True, slots=True)
class Change:
    """One difference of value between baseline and proposal, in the language's words.

    `subject` names the declaration (`register/NAME`); `attribute` is the keyword of the line
    that changed (empty when the whole declaration was added, removed or renamed).
    """

    kind: str  # added | removed | changed | renamed
    subject: str  # e.g. register/KVM_REG_ARM_STD_BMAP
    attribute: str = ""  # the attribute's keyword, for a change inside a declaration
    before: str = ""
    after: str = ""

    @property
    def text(self) -> str:
        """`interface one_reg: get KVM_GET_ONE_REG removed`, `register R: width 32 -> 64`."""
        declaration = self.subject.replace("/", " ", 1)
        if not self.attribute:
            return f"{declaration} {self.kind}"
        if self.kind == "renamed":
            return f"{declaration}: renamed from {self.before}"
        if self.kind == "added" or not self.before:
            return f"{declaration}: {self.attribute} {self.after} added"
        if self.kind == "removed" or not self.after:
            return f"{declaration}: {self.attribute} {self.before} removed"
        return f"{declaration}: {self.attribute} {self.before} -> {self.after}"


@dataclass(frozen=True, slots=True)
class DiffResult:
    changes: tuple[Change, ...]
    findings: tuple[Finding, ...]


def describe(value: object) -> str:
    """An attribute value as the language writes it: words and numbers, never a position.

    Anything this does not know is a programming error, not a string to compare: a repr
    would carry source spans into the comparison.
    """
    if value is None:
        return "(none)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return hex(value) if value > 255 else str(value)
    if isinstance(value, str):
        return value
    if isinstance(value, tuple):
        return ", ".join(describe(v) for v in value) or "(none)"
    if isinstance(value, m.Name):
        return value.text
    if isinstance(value, m.Writable):
        if value.kind != "before":
            return value.kind
        return f"before {value.event}" + (f" else {value.errno.text}" if value.errno else "")
    if isinstance(value, m.Rewrite):
        return f"same_value {value.errno.text if value.errno else 'ok'}"
    if isinstance(value, m.Uniform):
        if value.kind == "enforced":
            return f"enforced {describe(value.errno)} as {value.basis}"
        return value.kind + (f" opt_in {value.opt_in.text}" if value.opt_in else "")
    if isinstance(value, m.Reset):
        return describe(value.value) if value.kind == "value" else value.kind
    if isinstance(value, m.Reserved):
        return "ignore" if value.kind == "ignore" else f"reject {describe(value.errno)}"
    if isinstance(value, m.Bit):
        return f"{value.index} {value.name}" + (f' since "{value.since}"' if value.since else "")
    raise TypeError(f"no language form for {type(value).__name__}")


def _version(value: str | None) -> str:
    return f'"{value}"' if value is not None else ""


def _word(value: object) -> str:
    return "" if value is None else describe(value)


def _names(values: tuple[m.Name, ...]) -> frozenset[str]:
    return frozenset(v.text for v in values)


# What diff compares of each declaration: the attribute's keyword and its value in the
# language's words. A str value is compared whole ("width 32 -> 64"); a frozenset is a set
# whose members are added or removed one by one ("via vm_attr added"). Never spans.
def _register_values(r: m.Register) -> dict[str, str | frozenset[str]]:
    return {
        "id": _word(r.id),
        "width": _word(r.width),
        "scope": _word(r.scope),
        "hint": _word(r.hint),
        "via": _names(r.via),
        "lock": _names(r.locks),
        "migrate": _word(r.migrate),
        "writable": _word(r.writable),
        "rewrite": _word(r.rewrite),
        "uniform": _word(r.uniform),
        "reset": _word(r.reset),
        "reserved": _word(r.reserved),
        "opt_in": _word(r.opt_in),
        "since": _version(r.since),
    }


def _feature_values(f: m.Feature) -> dict[str, str | frozenset[str]]:
    return {"via": _word(f.via), "uniform": _word(f.uniform), "since": _version(f.since)}


def _interface_values(i: m.Interface) -> dict[str, str | frozenset[str]]:
    values: dict[str, str | frozenset[str]] = {"scope": i.scope}
    for role in ("get", "set", "has", "list"):
        values[role] = i.ioctl(role) or ""
    values.update(lock=_names(i.locks), cap=_word(i.cap), since=_version(i.since))
    return values


def _capability_values(c: m.Capability) -> dict[str, str | frozenset[str]]:
    return {"scope": c.scope, "kind": _word(c.kind), "before": _word(c.before), "since": _version(c.since)}


def _lock_values(lock: m.Lock) -> dict[str, str | frozenset[str]]:
    return {"scope": lock.scope, "doc": "" if lock.description is None else f'"{lock.description}"'}


def _ns(value: int | None) -> str:
    return "" if value is None else f"{value}ns"


def _scenario_values(s: m.Scenario) -> dict[str, str | frozenset[str]]:
    return {
        "kind": s.kind,
        "vmm": _word(s.vmm),
        "vcpus": frozenset(str(n) for n in s.vcpus),
        "host_threads": _word(s.host_threads),
        "cost ioctl": _ns(s.cost_ioctl_ns),
        "cost lock": _ns(s.cost_lock_ns),
        "budget serialized": _word(s.budget_serialized),
        "budget ioctls": _word(s.budget_ioctls),
        "budget blackout": _ns(s.budget_blackout_ns),
    }


_VALUES = {
    m.Lock: _lock_values,
    m.Scenario: _scenario_values,
    m.Register: _register_values,
    m.Feature: _feature_values,
    m.Interface: _interface_values,
    m.Capability: _capability_values,
}


def _value_changes(old: object, new: object, subject: str) -> Iterator[Change]:
    values_of = _VALUES[type(new)]
    before_values, after_values = values_of(old), values_of(new)  # type: ignore[operator]
    for attribute, after in after_values.items():
        before = before_values[attribute]
        if isinstance(before, frozenset) and isinstance(after, frozenset):
            for item in sorted(before - after):
                yield Change("removed", subject, attribute, item, "")
            for item in sorted(after - before):
                yield Change("added", subject, attribute, "", item)
        elif before != after:
            yield Change("changed", subject, attribute, str(before), str(after))


_Declared = m.Register | m.Feature | m.Interface | m.Capability | m.Lock | m.Scenario

# Declarations of the spec's own machinery, not of the kernel's ABI: their changes are
# listed, and removing them breaks no userspace.
_NOT_ABI = (m.Lock, m.Scenario)


def diff(baseline: ResolvedSpec, proposal: ResolvedSpec, *, file_removed: bool = False) -> DiffResult:
    """What changed from baseline to proposal, and the findings of what that breaks.

    `file_removed`: the baseline's root file is gone (the proposal holds only what it
    included): a removal is reported where the baseline declared it.
    """
    changes: list[Change] = []
    findings: list[Finding] = []
    anchor = None if file_removed else _anchor(proposal)
    pairs: list[tuple[_Declared, _Declared]] = []
    tables: tuple[tuple[type, Mapping[str, _Declared], Mapping[str, _Declared]], ...] = (
        (m.Register, baseline.registers, proposal.registers),
        (m.Feature, baseline.features, proposal.features),
        (m.Interface, baseline.interfaces, proposal.interfaces),
        (m.Capability, _caps(baseline), _caps(proposal)),
        (m.Lock, baseline.locks, proposal.locks),
        (m.Scenario, baseline.scenarios, proposal.scenarios),
    )
    for kind, base_table, new_table in tables:
        renamed = _renames(base_table, new_table) if kind is m.Register else {}
        for name, old in base_table.items():
            new = new_table.get(name) or renamed.get(name)
            if new is None:
                subject = f"{KIND_WORD[kind]}/{name}"
                changes.append(Change("removed", subject))
                if kind not in _NOT_ABI:
                    findings.append(_removed(subject, f"{KIND_WORD[kind]} {name}", anchor, old.span))
                continue
            if new.name != name:
                changes.append(Change("renamed", f"register/{new.name}", "name", name, new.name))
            pairs.append((old, new))
        matched = {new.name for _, new in pairs if isinstance(new, kind)}
        for name, new in new_table.items():
            if name not in matched:
                changes.append(Change("added", f"{KIND_WORD[kind]}/{name}"))
                if isinstance(new, m.Register):
                    findings.extend(_added_unenumerated(proposal, new))
    for old, new in pairs:
        subject = f"{KIND_WORD[type(new)]}/{new.name}"
        changes.extend(_value_changes(old, new, subject))
        if isinstance(old, m.Register) and isinstance(new, m.Register):
            changes.extend(_bit_changes(old, new, subject))
            findings.extend(_register_breaks(old, new, subject))
        if isinstance(old, m.Register | m.Feature) and isinstance(new, m.Register | m.Feature):
            findings.extend(_asymmetry(old, new, subject))
    return DiffResult(tuple(changes), tuple(findings))


def _caps(spec: ResolvedSpec) -> dict[str, m.Capability]:
    return {k: v for k, v in spec.capabilities.items() if isinstance(v, m.Capability)}


def _renames(base: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """Baseline name -> proposal register, for registers whose name changed but id did not."""
    added_by_id = {r.id: r for name, r in new.items() if name not in base and r.id is not None}
    return {name: added_by_id[r.id] for name, r in base.items() if name not in new and r.id in added_by_id}


def _anchor(proposal: ResolvedSpec) -> Span | None:
    """Where a removal is reported: the proposal's api line, else its first line.

    None when the whole file is gone: the removal then stands at the baseline's line.
    """
    if proposal.api is not None:
        return proposal.api.span
    return Span.point(proposal.root, 1, 1) if proposal.files else None


def _removed(subject: str, what: str, at: Span | None, was: Span) -> Finding:
    return Finding(
        "B601",
        at or was,
        f"{what} is removed; userspace built against the baseline still uses it",
        subject=subject,
        hint="keep it: ABI is not removed (document it as deprecated instead)",
        related=(Related(was, f"{what} in the baseline"),),
    )


def _bit_changes(old: m.Register, new: m.Register, subject: str) -> Iterator[Change]:
    old_bits = {b.index: describe(b) for b in old.bits}
    new_bits = {b.index: describe(b) for b in new.bits}
    for index in sorted(set(old_bits) | set(new_bits)):
        before, after = old_bits.get(index, ""), new_bits.get(index, "")
        if before != after:
            kind = "added" if not before else "removed" if not after else "changed"
            yield Change(kind, subject, "bit", before, after)


def _register_breaks(old: m.Register, new: m.Register, subject: str) -> Iterator[Finding]:
    def finding(code: str, attribute: str, message: str, hint: str, was: Span | None = None) -> Finding:
        return Finding(
            code,
            attr_span(new, attribute),
            f"{new.name}: {message}",
            subject=subject,
            hint=hint,
            related=(Related(was or attr_span(old, attribute), "in the baseline"),),
        )

    if old.id is not None and new.id is not None and old.id != new.id:
        yield finding(
            "B602",
            "id",
            f"id changed from 0x{old.id:x} to 0x{new.id:x}; saved state no longer restores",
            "keep the old id; add a new register for a new encoding",
        )
    if old.width is not None and new.width is not None and old.width != new.width:
        yield finding(
            "B603",
            "width",
            f"width changed from {old.width} to {new.width}",
            "keep the width; add a new register for a wider value",
        )
    if old.scope and new.scope and old.scope != new.scope:
        yield finding(
            "B604",
            "scope",
            f"scope changed from {old.scope} to {new.scope}",
            "keep the scope, or gate the new behaviour behind an opt-in capability",
        )
    kept_paths = {v.text for v in new.via}
    for via in old.via:
        if via.text not in kept_paths:
            yield finding(
                "B605",
                "via",
                f"interface {via.text} no longer reaches it; VMMs that save and restore through it lose the register",
                "keep the old access path beside the new one",
                via.span,
            )
    for bit in old.bits:
        if bit.index not in {b.index for b in new.bits}:
            yield Finding(
                "B601",
                new.span,
                f"bit {bit.index} ({bit.name}) of {new.name} is removed",
                subject=f"{subject}/bits/{bit.index}",
                hint="keep the bit; ABI is not removed",
                related=(Related(bit.span, f"bit {bit.index} in the baseline"),),
            )
    yield from _tightened(old, new, finding)
    if old.reset is not None and new.reset is not None and describe(old.reset) != describe(new.reset):
        yield finding(
            "B607",
            "reset",
            f"reset changed from {describe(old.reset)} to {describe(new.reset)}",
            "keep the reset value; guests of VMMs that never write the register change behaviour",
        )
    for attribute, errno_before, errno_after in _errnos(old, new):
        if errno_before and errno_after and errno_before != errno_after:
            yield finding(
                "B608",
                attribute,
                f"a refused write ({attribute}) now gets {errno_after} instead of {errno_before}",
                f"keep {errno_before}: VMMs match on errno values",
            )
    if (
        old.reserved is not None
        and old.reserved.kind == "reject"
        and (new.reserved is None or new.reserved.kind == "ignore")
    ):
        yield finding(
            "B609",
            "reserved",
            "undefined bits were rejected and are now ignored",
            "keep rejecting undefined bits",
            old.reserved.span,
        )


def _tightened(old: m.Register, new: m.Register, finding) -> Iterator[Finding]:
    hint = "keep what the baseline allowed, or refuse it only after an opt-in"
    if _deadline_rank(new.writable) < _deadline_rank(old.writable):
        yield finding(
            "B606",
            "writable",
            f"writable {describe(old.writable)} became {describe(new.writable)}: "
            "writes the baseline accepted are refused",
            hint,
        )
    if (
        old.rewrite is not None
        and old.rewrite.same_value_ok
        and new.rewrite is not None
        and new.rewrite.errno is not None
    ):
        yield finding(
            "B606", "rewrite", f"an identical rewrite was accepted and now gets {new.rewrite.errno.text}", hint
        )
    if old.opt_in is None and new.opt_in is not None:
        yield finding("B606", "opt_in", f"it now exists only after opting in to {new.opt_in.text}", hint, old.span)
    if (
        (old.uniform is None or old.uniform.kind != "enforced")
        and new.uniform is not None
        and new.uniform.kind == "enforced"
    ):
        yield finding(
            "B606",
            "uniform",
            "differing values across vCPUs were accepted and are now refused",
            hint,
            old.uniform.span if old.uniform else old.span,
        )
    if (
        old.reserved is not None
        and old.reserved.kind == "ignore"
        and new.reserved is not None
        and new.reserved.kind == "reject"
    ):
        yield finding("B606", "reserved", "writes with undefined bits were accepted and are now refused", hint)


def _deadline_rank(writable: m.Writable | None) -> int:
    """How late a write is still accepted: higher is more permissive."""
    if writable is None or writable.kind == "always":
        return len(m.EVENT_ORDER) + 1
    if writable.kind == "never":
        return -1
    if writable.event in m.EVENT_ORDER:
        return m.EVENT_ORDER.index(writable.event)
    return m.EVENT_ORDER.index("vcpu_create")  # memslot_create: unordered against vCPU events


def _errnos(old: m.Register, new: m.Register) -> Iterator[tuple[str, str | None, str | None]]:
    for attribute in ("writable", "rewrite", "uniform", "reserved"):
        before, after = getattr(old, attribute), getattr(new, attribute)
        yield attribute, _errno(before), _errno(after)


def _errno(value: object) -> str | None:
    errno = getattr(value, "errno", None)
    return errno.text if errno is not None else None


def _asymmetry(old: m.Register | m.Feature, new: m.Register | m.Feature, subject: str) -> Iterator[Finding]:
    before, after = old.uniform, new.uniform
    if (
        before is not None
        and before.kind in ("enforced", "last_wins")
        and after is not None
        and after.kind == "none"
        and after.opt_in is None
    ):
        yield Finding(
            "A302",
            new.span,
            f"{new.name} was uniform across vCPUs ({describe(old.uniform)}) and may now differ per vCPU with no "
            "opt-in: existing VMMs that rely on every vCPU sharing it break",
            subject=subject,
            hint="gate the asymmetry behind a capability: `uniform none opt_in CAP`",
            related=(Related(after.span, "uniform none"), Related(before.span, "uniform in the baseline")),
        )


def _added_unenumerated(proposal: ResolvedSpec, register: m.Register) -> Iterator[Finding]:
    """C504 for migrated state added against the baseline (the `since` test covers the rest)."""
    if not register.migrate or is_new(proposal, register.since):
        return
    interfaces = proposal.interfaces_of(register)
    if interfaces and not any(i.enumerable for i in interfaces):
        via = ", ".join(i.name for i in interfaces)
        yield Finding(
            "C504",
            register.span,
            f"{register.name} is migrated state added against the baseline and reached only through {via}, which "
            "no generic save/restore walks: every VMM needs new code to migrate it",
            subject=f"register/{register.name}",
            hint="reach it through an enumerable interface, or document the VMM save/restore sequence",
            related=(Related(attr_span(register, "via"), f"{via} has no list ioctl"),),
        )
