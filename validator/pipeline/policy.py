"""Policy, separate from detection: selection, severity and `# allow:` suppressions.

Selection follows flake8's decision: the longest matching prefix of `select` and `ignore`
wins, and `ignore` wins a tie. Suppressed findings stay in the report, marked with their
reason, so JSON and review documents can list them.
"""

from __future__ import annotations

from dataclasses import replace

from validator.model.findings import Finding
from validator.model.spec import Allow, SpecFile
from validator.pipeline.config import Config
from validator.rules import lookup, run_stage
from validator.rules.catalog import POLICY
from validator.rules.directives import Suppressions

HYGIENE_CODES = frozenset({"D801", "D802"})  # what policy itself reports, on the suppressions


def enabled(code: str, config: Config) -> bool:
    selected = max((len(p) for p in config.select if code.startswith(p)), default=-1 if config.select else 0)
    ignored = max((len(p) for p in config.ignore if code.startswith(p)), default=-1)
    return selected >= 0 and selected > ignored


def apply(findings: list[Finding], files: dict[str, SpecFile], config: Config) -> list[Finding]:
    """Select, set severities, then suppress; adds D801/D802 for the suppressions themselves."""
    chosen: dict[str, bool] = {}  # by code: a large spec has thousands of findings of a few codes

    def kept(group: list[Finding]) -> list[Finding]:
        out = []
        for finding in group:
            if (on := chosen.get(finding.code)) is None:
                on = chosen[finding.code] = enabled(finding.code, config)
            if on:
                severity = config.severity.get(finding.code, finding.severity)
                out.append(finding if severity == finding.severity else replace(finding, severity=severity))
        return out

    suppressed, hygiene = _suppress(kept(findings), files)
    return suppressed + kept(hygiene)


def _suppress(findings: list[Finding], files: dict[str, SpecFile]) -> tuple[list[Finding], list[Finding]]:
    allows: dict[tuple[str, int], list[Allow]] = {}
    for spec_file in files.values():
        for allow in spec_file.allows:
            allows.setdefault((spec_file.path, allow.target_line), []).append(allow)
    used: set[tuple[Allow, str]] = set()
    result = []
    for finding in findings:
        reason = None
        for allow in allows.get((finding.span.path, finding.span.line), ()):
            codes = {rule.code if (rule := lookup(c)) else c for c in allow.codes}
            if finding.code in codes and allow.reason:
                reason = allow.reason
                used.add((allow, finding.code))
                break
        result.append(replace(finding, suppressed=reason) if reason else finding)
    # What the suppressions themselves deserve (D801, D802) is judged by the POLICY-stage rules.
    every = tuple(allow for group in allows.values() for allow in group)
    names = {code: rule.code if (rule := lookup(code)) else None for allow in every for code in allow.codes}
    judged = Suppressions(every, frozenset(used), names)
    return result, run_stage(POLICY, judged)
