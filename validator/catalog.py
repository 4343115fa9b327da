"""Rule metadata: code, name, severity, documentation and the check that reports it.

Each family module builds its rules with `rule(...)` (a decorator for a check function) or
`reported_by(...)` (a rule another stage reports: the parser, the loader, diff mode, the
executable spec). The registry in `validator.rules` is the one list of them all.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from validator.findings import Finding

# The stages that report findings, in pipeline order.
PARSE, LOAD, RESOLVE, HAZARD, DIFF, SCENARIO, POLICY = (
    "parse",
    "load",
    "resolve",
    "hazard",
    "diff",
    "scenario",
    "policy",
)
CROSSCHECK = "crosscheck"  # against C UAPI headers, by the `crosscheck` command
DOC_SECTIONS = ("What it finds", "Why it matters", "How to fix")


@dataclass(frozen=True, slots=True)
class Rule:
    code: str
    name: str
    severity: str
    summary: str
    doc: str
    stage: str
    check: Callable[..., Iterable[Finding]] | None = None
    implemented: bool = True
    # Checks of the same rule at other stages (C504 judges `since` on a spec, and also what
    # a proposal adds against its baseline), declared with the rule.
    also: tuple[tuple[str, Callable[..., Iterable[Finding]]], ...] = ()

    def checks_at(self, stage: str) -> tuple[Callable[..., Iterable[Finding]], ...]:
        """The rule's checks that run at `stage`."""
        own = (self.check,) if self.stage == stage and self.check is not None else ()
        return own + tuple(check for at, check in self.also if at == stage)

    @property
    def family(self) -> str:
        return self.code[0]

    def section(self, title: str) -> str:
        """One `## title` section of the documentation."""
        marker = f"## {title}\n"
        start = self.doc.find(marker)
        if start < 0:
            return ""
        body = self.doc[start + len(marker) :]
        end = body.find("\n## ")
        return (body if end < 0 else body[:end]).strip()


def rule(
    code: str,
    name: str,
    severity: str,
    summary: str,
    *,
    stage: str = HAZARD,
    also: dict[str, Callable[..., Iterable[Finding]]] | None = None,
) -> Callable[[Callable[..., Iterable[Finding]]], Rule]:
    """Register a check function; its docstring is the rule's documentation. `also` adds the
    rule's checks at other stages."""

    def wrap(check: Callable[..., Iterable[Finding]]) -> Rule:
        doc = inspect.cleandoc(check.__doc__ or "")
        return Rule(code, name, severity, summary, doc, stage, check, True, tuple((also or {}).items()))

    return wrap


def reported_by(
    stage: str, code: str, name: str, severity: str, summary: str, doc: str, *, implemented: bool = True
) -> Rule:
    """A rule whose findings a stage other than the rule runner reports."""
    return Rule(code, name, severity, summary, inspect.cleandoc(doc), stage, None, implemented)
