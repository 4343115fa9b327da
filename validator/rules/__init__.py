"""The rule registry: every rule of every family, in catalog order.

The one source for `rules`, `explain`, configuration, SARIF's rule list and the rendered
catalog. Codes are never reused: a retired code moves to TOMBSTONES.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace

from validator.catalog import Rule
from validator.findings import Finding
from validator.rules import breaking, compat, directives, errors, header, lifecycle, scenarios, scope, uniformity

CATALOG: tuple[Rule, ...] = (
    errors.RULES
    + scope.RULES
    + uniformity.RULES
    + lifecycle.RULES
    + compat.RULES
    + breaking.RULES
    + scenarios.RULES
    + directives.RULES
    + header.RULES
)
BY_CODE: dict[str, Rule] = {r.code: r for r in CATALOG}
BY_NAME: dict[str, Rule] = {r.name: r for r in CATALOG}
TOMBSTONES: dict[str, str] = {}  # retired code -> why; none yet


def lookup(code_or_name: str) -> Rule | None:
    return BY_CODE.get(code_or_name.upper()) or BY_NAME.get(code_or_name.lower())


def checks_for_stage(stage: str) -> tuple[Callable[..., Iterable[Finding]], ...]:
    """Every check that runs at `stage`, in catalog order."""
    return tuple(check for r in CATALOG for check in r.checks_at(stage))


def stamp(finding: Finding) -> Finding:
    """Fill in the rule's name and default severity."""
    rule = BY_CODE[finding.code]
    return replace(finding, name=rule.name, severity=finding.severity or rule.severity)
