"""Loaded unit to resolved spec: one symbol table over the root and its includes.

Names share one namespace per kind; capabilities and features share one, since a register's
`opt_in` may name either. The first declaration of a name wins; later ones are recorded as
duplicates for E103. Queries that several rules and the executable spec ask of a register
(its interfaces, its locks, how a generic VMM writes it) live here, written once.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from types import MappingProxyType

from validator.frontend.load import Unit
from validator.model import spec as m
from validator.model.abi import ABIS, ARCHITECTURES, abi_of_api, architecture_of_api
from validator.model.frozen import frozen

_NAMESPACE = {
    m.Lock: "locks",
    m.Capability: "capabilities",
    m.Feature: "capabilities",
    m.Interface: "interfaces",
    m.Register: "registers",
    m.Scenario: "scenarios",
    m.Struct: "types",
    m.Flags: "types",
    m.IoctlDecl: "ioctls",
}
KIND_WORD = {
    m.Lock: "lock",
    m.Capability: "capability",
    m.Feature: "feature",
    m.Interface: "interface",
    m.Register: "register",
    m.Scenario: "scenario",
    m.Struct: "struct",
    m.Flags: "flags",
    m.IoctlDecl: "ioctl",
}


def kind_word(decl: object) -> str:
    """The word a declaration is written with (`register`, `flags`, `enum` ...)."""
    return decl.kind if isinstance(decl, m.Flags) else KIND_WORD[type(decl)]


@frozen
class Duplicate:
    """A name declared twice: the later declaration and the first."""

    later: m.Declaration | m.Api
    first: m.Declaration | m.Api


@frozen
class ResolvedSpec:
    """A unit's declarations by name, with the lookups the rules share."""

    files: tuple[m.SpecFile, ...]
    api: m.Api | None
    locks: Mapping[str, m.Lock]
    capabilities: Mapping[str, m.Capability | m.Feature]
    interfaces: Mapping[str, m.Interface]
    registers: Mapping[str, m.Register]
    scenarios: Mapping[str, m.Scenario]
    types: Mapping[str, m.Struct | m.Flags]
    ioctls: Mapping[str, m.IoctlDecl]
    duplicates: tuple[Duplicate, ...]
    complete: bool  # False when a file of the unit did not parse

    @property
    def root(self) -> str:
        return self.files[0].path if self.files else ""

    def declarations(self) -> Iterator[m.Declaration]:
        for spec_file in self.files:
            yield from spec_file.declarations

    @property
    def abis(self) -> tuple[str, ...]:
        """The ABIs the spec's structs are laid out and its ioctls numbered for: its `abi`
        statement (the first wins), else the one its `api` names."""
        for spec_file in self.files:
            for statement in spec_file.abis:
                # An ABI this tool does not know is E102's; the rest are laid out.
                known = tuple(name.text for name in statement.names if name.text in ABIS)
                if known:
                    return known
        return (abi_of_api(self.api.name if self.api else None),)

    def architectures(self, ioctl: m.IoctlDecl) -> tuple[str, ...]:
        """The architectures that offer an ioctl: its `arch` list, else the spec's own."""
        named = tuple(name.text for name in ioctl.arch if name.text in ARCHITECTURES)
        return named or (architecture_of_api(self.api.name if self.api else None),)

    @property
    def features(self) -> Mapping[str, m.Feature]:
        return {k: v for k, v in self.capabilities.items() if isinstance(v, m.Feature)}

    # -- questions rules and the executable spec ask ------------------------------------------

    def interfaces_of(self, register: m.Register) -> list[m.Interface]:
        return [self.interfaces[v.text] for v in register.via if v.text in self.interfaces]

    def write_locks(self, register: m.Register) -> list[tuple[m.Lock, m.Name]]:
        """Every lock a write takes: the register's own and its interfaces' (each once)."""
        names = list(register.locks)
        for interface in self.interfaces_of(register):
            names.extend(interface.locks)
        seen, locks = set(), []
        for name in names:
            lock = self.locks.get(name.text)
            if lock and lock.name not in seen:
                seen.add(lock.name)
                locks.append((lock, name))
        return locks

    def vm_locks(self, register: m.Register) -> list[tuple[m.Lock, m.Name]]:
        return [(lock, name) for lock, name in self.write_locks(register) if lock.scope == "vm"]

    def set_before_vcpus(self, register: m.Register) -> bool:
        """VM state a VMM sets before it creates vCPUs, and never again: reached only through
        `vm` interfaces, frozen at `vcpu_create` or earlier (x86 `KVM_SET_TSC_KHZ` on the VM fd)."""
        writable = register.writable
        interfaces = self.interfaces_of(register)
        return (
            register.scope in ("vm", "write_once")
            and bool(interfaces)
            and all(i.scope == "vm" for i in interfaces)
            and writable is not None
            and writable.kind == "before"
            and writable.event in ("vm_create", "vcpu_create")
        )

    def generic_path(self, register: m.Register) -> m.Interface | None:
        """The interface a generic VMM writes the register through.

        It walks every enumerable (`list`) interface; state reached by none of those it
        writes with dedicated code through a non-enumerable one, preferring a VM-wide fd.
        """
        interfaces = self.interfaces_of(register)
        listed = [i for i in interfaces if i.enumerable]
        if listed:
            vcpu_listed = [i for i in listed if i.scope == "vcpu"]
            return (vcpu_listed or listed)[0]
        by_breadth = sorted(interfaces, key=lambda i: i.scope != "vm")
        return by_breadth[0] if by_breadth else None

    def generic_writes_per_vcpu(self, register: m.Register) -> bool:
        path = self.generic_path(register)
        return path is not None and path.scope == "vcpu"

    def hint_capability(self, register: m.Register) -> m.Capability | None:
        if register.hint is None:
            return None
        cap = self.capabilities.get(register.hint.text)
        return cap if isinstance(cap, m.Capability) else None


def resolve(unit: Unit) -> ResolvedSpec:
    tables: dict[str, dict[str, m.Declaration]] = {name: {} for name in set(_NAMESPACE.values())}
    duplicates: list[Duplicate] = []
    api: m.Api | None = None
    for spec_file in unit.files:
        for statement in spec_file.api:
            if api is None:
                api = statement
            else:
                duplicates.append(Duplicate(statement, api))
        for declaration in spec_file.declarations:
            table = tables[_NAMESPACE[type(declaration)]]
            first = table.get(declaration.name)
            if first is None:
                table[declaration.name] = declaration
            else:
                duplicates.append(Duplicate(declaration, first))
    frozen = {name: MappingProxyType(table) for name, table in tables.items()}
    return ResolvedSpec(
        files=unit.files,
        api=api,
        duplicates=tuple(duplicates),
        complete=not unit.broken,
        **frozen,  # type: ignore[arg-type]
    )
