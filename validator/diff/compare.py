"""Diff mode: what changed between a baseline and a proposal.

Declarations match by name; a register whose name is gone matches a new one with the same
id, which is a rename, not a removal plus an addition. This module only pairs declarations
and records each change of value (the JSON `changes`); what a change breaks is judged by the
DIFF-stage rules (B60x in `rules/breaking.py`, A302, C504), which read the `Comparison`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from validator.diff.headers import ChangedHeader
from validator.frontend import attributes
from validator.frontend.attributes import IOCTL, SET, VERSION, WORD_VALUE, Attribute
from validator.frontend.resolve import ResolvedSpec, kind_word
from validator.model import spec as m
from validator.model.findings import Finding
from validator.model.frozen import frozen
from validator.model.spans import Span
from validator.model.words import describe


@frozen
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


@frozen
class DiffResult:
    """What changed against the baseline, and the DIFF-stage findings on it."""

    changes: tuple[Change, ...]
    findings: tuple[Finding, ...]


def _version(value: str | None) -> str:
    return f'"{value}"' if value is not None else ""


def _word(value: object) -> str:
    return "" if value is None else describe(value)


def _names(values: tuple[m.Name, ...]) -> frozenset[str]:
    return frozenset(v.text for v in values)


# What diff compares of each declaration: the attribute's keyword and its value in the
# language's words, as the attribute table says (validator.frontend.attributes). A str value is
# compared whole ("width 32 -> 64"); a frozenset is a set whose members are added or removed
# one by one ("via vm_attr added"). Never spans.
_COMPARED: dict[str, Callable[[object, Attribute], str | frozenset[str]]] = {
    WORD_VALUE: lambda declaration, a: _word(getattr(declaration, a.field)),
    SET: lambda declaration, a: _names(getattr(declaration, a.field)),
    VERSION: lambda declaration, a: _version(getattr(declaration, a.field)),
    IOCTL: lambda declaration, a: declaration.ioctl(a.keyword) or "",  # type: ignore[attr-defined]
}


def _table_values(declaration: object, table: tuple[Attribute, ...]) -> dict[str, str | frozenset[str]]:
    return {a.keyword: _COMPARED[a.compare](declaration, a) for a in table if a.compare is not None}


def _register_values(r: m.Register) -> dict[str, str | frozenset[str]]:
    return _table_values(r, attributes.REGISTER)


def _feature_values(f: m.Feature) -> dict[str, str | frozenset[str]]:
    return _table_values(f, attributes.FEATURE)


def _interface_values(i: m.Interface) -> dict[str, str | frozenset[str]]:
    return {"scope": i.scope, **_table_values(i, attributes.INTERFACE)}


def _capability_values(c: m.Capability) -> dict[str, str | frozenset[str]]:
    values = {"scope": c.scope, **_table_values(c, attributes.CAPABILITY)}
    if c.before_errno is not None:
        values["before"] = f"{c.before} else {c.before_errno.text}"
    return values


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


def _struct_values(s: m.Struct) -> dict[str, str | frozenset[str]]:
    # The fields in order are the layout: any change to one of them is a change of layout.
    fields = "; ".join(describe(f) for f in s.fields)
    return {"kind": "union" if s.union else "struct", "fields": fields, **_table_values(s, attributes.STRUCT)}


def _flags_values(f: m.Flags) -> dict[str, str | frozenset[str]]:
    return {"kind": f.kind, "type": f.type.text, **_table_values(f, attributes.FLAGS)}


def _ioctl_values(i: m.IoctlDecl) -> dict[str, str | frozenset[str]]:
    values = {"scope": i.scope, **_table_values(i, attributes.IOCTL_DECLARATION)}
    values["nr"] = "" if i.nr is None else f"0x{i.nr:x}"
    return values


_VALUES = {
    m.Lock: _lock_values,
    m.Scenario: _scenario_values,
    m.Register: _register_values,
    m.Feature: _feature_values,
    m.Interface: _interface_values,
    m.Capability: _capability_values,
    m.Struct: _struct_values,
    m.Flags: _flags_values,
    m.IoctlDecl: _ioctl_values,
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


Declared = m.Register | m.Feature | m.Interface | m.Capability | m.Lock | m.Scenario | m.Struct | m.Flags | m.IoctlDecl

# Declarations of the spec's own machinery, not of the kernel's ABI: their changes are
# listed, and removing them breaks no userspace.
NOT_ABI = (m.Lock, m.Scenario)


@frozen
class Comparison:
    """A baseline and a proposal, their declarations paired: what the DIFF-stage rules judge.

    `pairs` are (baseline, proposal) declarations of one name (a register renamed with its id
    kept is a pair too); `removed` are the baseline's alone, `added` the proposal's alone.
    """

    baseline: ResolvedSpec
    proposal: ResolvedSpec
    pairs: tuple[tuple[Declared, Declared], ...]
    removed: tuple[Declared, ...]
    added: tuple[Declared, ...]
    anchor: Span | None  # where a removal is reported; None: where the baseline declared it
    changes: tuple[Change, ...]
    # The `# header:` files that changed under the spec (H909), found by the engine, which
    # reads files: this module compares models only.
    headers_changed: tuple[ChangedHeader, ...] = ()

    def register_pairs(self) -> Iterator[tuple[m.Register, m.Register]]:
        for old, new in self.pairs:
            if isinstance(old, m.Register) and isinstance(new, m.Register):
                yield old, new


def compare(
    baseline: ResolvedSpec,
    proposal: ResolvedSpec,
    *,
    file_removed: bool = False,
    headers_changed: tuple[ChangedHeader, ...] = (),
) -> Comparison:
    """What changed from baseline to proposal: the pairing, and every change of value.

    `file_removed`: the baseline's root file is gone (the proposal holds only what it
    included): a removal is reported where the baseline declared it.
    """
    changes: list[Change] = []
    pairs: list[tuple[Declared, Declared]] = []
    removed: list[Declared] = []
    added: list[Declared] = []
    tables: tuple[tuple[type, Mapping[str, Declared], Mapping[str, Declared]], ...] = (
        (m.Register, baseline.registers, proposal.registers),
        (m.Feature, baseline.features, proposal.features),
        (m.Interface, baseline.interfaces, proposal.interfaces),
        (m.Capability, _caps(baseline), _caps(proposal)),
        (m.Lock, baseline.locks, proposal.locks),
        (m.Scenario, baseline.scenarios, proposal.scenarios),
        (m.Struct, _of(baseline.types, m.Struct), _of(proposal.types, m.Struct)),
        (m.Flags, _of(baseline.types, m.Flags), _of(proposal.types, m.Flags)),
        (m.IoctlDecl, baseline.ioctls, proposal.ioctls),
    )
    for kind, base_table, new_table in tables:
        renamed = _renames(base_table, new_table) if kind is m.Register else {}
        for name, old in base_table.items():
            new = new_table.get(name) or renamed.get(name)
            if new is None:
                changes.append(Change("removed", f"{kind_word(old)}/{name}"))
                removed.append(old)
                continue
            if new.name != name:
                changes.append(Change("renamed", f"register/{new.name}", "name", name, new.name))
            pairs.append((old, new))
        matched = {new.name for _, new in pairs if isinstance(new, kind)}
        for name, new in new_table.items():
            if name not in matched:
                changes.append(Change("added", f"{kind_word(new)}/{name}"))
                added.append(new)
    for old, new in pairs:
        subject = f"{kind_word(new)}/{new.name}"
        changes.extend(_value_changes(old, new, subject))
        if isinstance(old, m.Register | m.Flags) and isinstance(new, m.Register | m.Flags):
            changes.extend(_bit_changes(old, new, subject))
    anchor = None if file_removed else _anchor(proposal)
    return Comparison(
        baseline, proposal, tuple(pairs), tuple(removed), tuple(added), anchor, tuple(changes), headers_changed
    )


def _of(types: Mapping[str, m.Struct | m.Flags], kind: type) -> dict[str, Any]:
    return {name: t for name, t in types.items() if isinstance(t, kind)}


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


def _bit_changes(old: m.Register | m.Flags, new: m.Register | m.Flags, subject: str) -> Iterator[Change]:
    old_bits = {b.index: describe(b) for b in old.bits}
    new_bits = {b.index: describe(b) for b in new.bits}
    for index in sorted(set(old_bits) | set(new_bits)):
        before, after = old_bits.get(index, ""), new_bits.get(index, "")
        if before != after:
            kind = "added" if not before else "removed" if not after else "changed"
            yield Change(kind, subject, new.entry if isinstance(new, m.Flags) else "bit", before, after)
