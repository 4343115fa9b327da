"""Rule metadata: code, name, severity, documentation and the check that reports it.

Each family module builds its rules with `rule(...)`, a decorator for a check function that
yields `Problem`s. The rule turns each into a `Finding` with its own code, name and severity
(`Rule.run`, `Rule.report`): that is the one place a finding is named, as yamllint's linter
sets `problem.rule` and pyflakes' message class is the identity. The registry in
`validator.rules` is the one list of them all.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Iterator

from validator.model.findings import Finding, Problem
from validator.model.frozen import frozen

Check = Callable[..., Iterable[Problem]]

# The stages that report findings, in pipeline order.
LOAD, RESOLVE, HAZARD, DIFF, SCENARIO, POLICY = (
    "load",
    "resolve",
    "hazard",
    "diff",
    "scenario",
    "policy",
)
CROSSCHECK = "crosscheck"  # against C UAPI headers, by the `crosscheck` command
CONFORM = "conform"  # against the running kernel, by the `conform` command
DOC_SECTIONS = ("What it finds", "Why it matters", "How to fix")


@frozen
class Rule:
    """A rule of the catalog: its code, name, severity, stage and check."""

    code: str
    name: str
    severity: str
    summary: str
    doc: str
    stage: str
    check: Check
    # Checks of the same rule at other stages (C504 judges `since` on a spec, and also what
    # a proposal adds against its baseline), declared with the rule.
    also: tuple[tuple[str, Check], ...] = ()

    def checks_at(self, stage: str) -> tuple[Check, ...]:
        """The rule's checks that run at `stage`."""
        own = (self.check,) if self.stage == stage else ()
        return own + tuple(check for at, check in self.also if at == stage)

    def run(self, stage: str, *inputs: object) -> Iterator[Finding]:
        """The findings of the rule's checks at `stage` on `inputs`."""
        for check in self.checks_at(stage):
            for problem in check(*inputs):
                yield self.report(problem, from_diff=stage == DIFF)

    def report(self, problem: Problem, *, from_diff: bool = False) -> Finding:
        """The finding this rule makes of a problem: the one place code, name and severity
        are set."""
        return Finding(
            self.code,
            problem.span,
            problem.message,
            problem.subject,
            problem.hint,
            problem.related,
            name=self.name,
            severity=self.severity,
            from_diff=from_diff,
        )

    @property
    def implemented(self) -> bool:
        """Every catalogued rule has its check; SARIF and JSON still carry the property, which
        earlier versions set false for rules documented ahead of their check."""
        return True

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
    also: dict[str, Check] | None = None,
) -> Callable[[Check], Rule]:
    """Register a check function; its docstring is the rule's documentation. `also` adds the
    rule's checks at other stages."""

    def wrap(check: Check) -> Rule:
        doc = inspect.cleandoc(check.__doc__ or "")
        return Rule(code, name, severity, summary, doc, stage, check, tuple((also or {}).items()))

    return wrap
