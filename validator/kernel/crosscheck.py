"""Cross-checking a spec against the kernel's C UAPI headers: the header's register ids,
and the `HeaderCheck` the CROSSCHECK-stage rules (E111, H901, H902) judge."""

from __future__ import annotations

from dataclasses import dataclass

from validator.frontend.resolve import ResolvedSpec
from validator.kernel.cheader import Header, Macro, Unreadable, evaluate
from validator.model import spec as m
from validator.model.spans import Span

SIZE_FIELD = 0x00F0_0000_0000_0000


def is_register_id(value: int) -> bool:
    """A ONE_REG id: an architecture in the top byte and a size field up to 2048 bits."""
    return value >> 56 != 0 and (value & SIZE_FIELD) >> 52 <= 8


def family(register_id: int) -> int:
    """Architecture, size and register group (the coproc bits): the id without its index."""
    return register_id >> 16


@dataclass(frozen=True, slots=True)
class HeaderRegisters:
    by_name: dict[str, tuple[int, Macro]]
    unreadable: int  # object-like macros whose value could not be evaluated


def header_registers(header: Header) -> HeaderRegisters:
    found: dict[str, tuple[int, Macro]] = {}
    unreadable = 0
    for name, macro in header.macros.items():
        if macro.params is not None:
            continue
        try:
            value = evaluate(header, macro.body)
        except (Unreadable, RecursionError, ZeroDivisionError):
            unreadable += 1
            continue
        if is_register_id(value):
            found[name] = (value, macro)
    return HeaderRegisters(found, unreadable)


def where(macro: Macro) -> Span:
    """Where a header macro is defined (its line)."""
    return Span.point(macro.path, macro.line, 1)


@dataclass(frozen=True, slots=True)
class HeaderCheck:
    """Specs checked together against headers: what the CROSSCHECK-stage rules judge (E111,
    H901, H902). Everything checked together is "the spec": a register one file defines is
    not missing."""

    registers: tuple[m.Register, ...]  # every register with an id, the first of each name
    names: frozenset[str]  # every register name of the specs, with an id or not
    header: HeaderRegisters
    anchor: Span  # where H901 stands: the `# header:` line, else the api statement
    spec_ids: frozenset[int]
    spec_families: frozenset[int]
    header_ids: frozenset[int]
    header_families: frozenset[int]


def header_check(specs: list[ResolvedSpec], registers: HeaderRegisters, anchor: Span | None = None) -> HeaderCheck:
    every: dict[str, m.Register] = {}
    for spec in specs:
        for name, register in spec.registers.items():
            every.setdefault(name, register)
    with_ids = tuple(r for r in every.values() if r.id is not None)
    first = specs[0]
    header_ids = frozenset(value for value, _ in registers.by_name.values())
    return HeaderCheck(
        with_ids,
        frozenset(every),
        registers,
        anchor or (first.api.span if first.api else Span.point(first.root, 1, 1)),
        frozenset(r.id for r in with_ids if r.id is not None),
        frozenset(family(r.id) for r in with_ids if r.id is not None),
        header_ids,
        frozenset(family(value) for value in header_ids),
    )


def import_spec(registers: HeaderRegisters, prefix: str) -> list[dict[str, object]]:
    """The registers a header defines under a name prefix, as data for the import template."""
    chosen = sorted(
        ((value, name, macro) for name, (value, macro) in registers.by_name.items() if name.startswith(prefix)),
        key=lambda item: item[0],
    )
    return [
        {"name": name, "id": value, "width": 8 << ((value & SIZE_FIELD) >> 52), "source": f"{macro.path}:{macro.line}"}
        for value, name, macro in chosen
    ]
