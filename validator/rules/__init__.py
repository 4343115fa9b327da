"""The rule registry: every rule of every family, in catalog order.

The one source for `rules`, `explain`, configuration, SARIF's rule list and the rendered
catalog. Codes are never reused: a retired code moves to TOMBSTONES.
"""

from __future__ import annotations

from collections.abc import Collection

from validator.model.findings import Finding
from validator.rules import (
    breaking,
    compat,
    directives,
    errors,
    header,
    ioctls,
    kernel,
    lifecycle,
    scenarios,
    scope,
    uniformity,
)
from validator.rules.catalog import Rule

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
    + ioctls.RULES
    + kernel.RULES
)
BY_CODE: dict[str, Rule] = {r.code: r for r in CATALOG}
BY_NAME: dict[str, Rule] = {r.name: r for r in CATALOG}
TOMBSTONES: dict[str, str] = {}  # retired code -> why; none yet
# The rules with a check at each stage, in catalog order (a stage runs a few of them).
BY_STAGE: dict[str, tuple[Rule, ...]] = {
    stage: tuple(r for r in CATALOG if r.checks_at(stage))
    for stage in sorted({r.stage for r in CATALOG} | {at for r in CATALOG for at, _ in r.also})
}


def lookup(code_or_name: str) -> Rule | None:
    return BY_CODE.get(code_or_name.upper()) or BY_NAME.get(code_or_name.lower())


def run_stage(stage: str, *inputs: object, codes: Collection[str] | None = None) -> list[Finding]:
    """The findings of every rule's checks at `stage` on `inputs`, in catalog order; with
    `codes`, of those rules only."""
    rules = BY_STAGE.get(stage, ())
    if codes is not None:
        rules = tuple(r for r in rules if r.code in codes)
    return [finding for rule in rules for finding in rule.run(stage, *inputs)]
