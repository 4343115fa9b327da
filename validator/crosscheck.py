"""Cross-checking a spec against the kernel's C UAPI headers (E111, H901, H902)."""

from __future__ import annotations

from dataclasses import dataclass

from validator import model as m
from validator.cheader import Header, Macro, Unreadable, evaluate
from validator.findings import Finding, Related
from validator.model import attr_span
from validator.resolve import ResolvedSpec
from validator.spans import Span

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


def _where(macro: Macro) -> Span:
    return Span.point(macro.path, macro.line, 1)


def crosscheck(specs: list[ResolvedSpec], registers: HeaderRegisters, anchor: Span | None = None) -> list[Finding]:
    """Everything checked together is "the spec": a register one file defines is not missing."""
    findings: list[Finding] = []
    every: dict[str, m.Register] = {}
    for spec in specs:
        for name, register in spec.registers.items():
            every.setdefault(name, register)
    spec_regs = [r for r in every.values() if r.id is not None]
    spec_ids = {r.id for r in spec_regs}
    header_ids = {value for value, _ in registers.by_name.values()}
    spec_families = {family(r.id) for r in spec_regs}  # type: ignore[arg-type]
    header_families = {family(value) for value, _ in registers.by_name.values()}
    for register in spec_regs:
        entry = registers.by_name.get(register.name)
        if entry is not None and entry[0] != register.id:
            value, macro = entry
            findings.append(
                Finding(
                    "E111",
                    attr_span(register, "id"),
                    f"{register.name}: the spec's id is 0x{register.id:x}, the header's {macro.name} is 0x{value:x}",
                    subject=f"register/{register.name}",
                    hint=f"use id 0x{value:x}, as the header does",
                    related=(Related(_where(macro), f"#define {macro.name}"),),
                )
            )
        elif entry is None and register.id not in header_ids and family(register.id) in header_families:  # type: ignore[arg-type]
            findings.append(
                Finding(
                    "H902",
                    register.span,
                    f"{register.name} (0x{register.id:x}) is in a register family the header defines, but no header "
                    "macro has its name or its id",
                    subject=f"register/{register.name}",
                    hint="correct the name or id, or cite where the kernel defines it",
                )
            )
    # H901 has no line of the spec to stand on: the `# header:` line that named the header,
    # else the api statement.
    first = specs[0]
    anchor = anchor or (first.api.span if first.api else Span.point(first.root, 1, 1))
    known_names = set(every)
    for name, (value, macro) in sorted(registers.by_name.items(), key=lambda item: item[1][0]):
        if name in known_names or value in spec_ids or family(value) not in spec_families:
            continue
        findings.append(
            Finding(
                "H901",
                anchor,
                f"the header defines {name} (0x{value:x}) in a register family this spec covers, but the spec does not "
                "describe it",
                subject=f"header/{name}",
                hint="describe it (`uapi-validator import` writes a start), or leave it out knowingly",
                related=(Related(_where(macro), f"#define {name}"),),
            )
        )
    return findings


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
