"""The pipeline, written once: load -> resolve -> E rules -> hazard rules -> policy -> report.

Hazard rules (and, later, scenarios) run only on a unit with no errors, as LANGUAGE.md says.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from validator import policy
from validator.catalog import HAZARD, RESOLVE
from validator.config import Config
from validator.findings import ERROR, Finding
from validator.load import Unit, load_units
from validator.model import SpecFile
from validator.resolve import ResolvedSpec, resolve
from validator.rules import BY_CODE, rules_for_stage, stamp


@dataclass(frozen=True, slots=True)
class Report:
    findings: tuple[Finding, ...]  # sorted by path, line, column, code
    files: Mapping[str, SpecFile]  # every file read, roots and includes, by path in order
    specs: tuple[ResolvedSpec, ...]


def check_unit(unit: Unit) -> tuple[ResolvedSpec, list[Finding]]:
    spec = resolve(unit)
    findings = list(unit.findings)
    for rule in rules_for_stage(RESOLVE):
        findings.extend(rule.check(spec))  # type: ignore[misc]
    if not any(BY_CODE[f.code].severity == ERROR and f.code.startswith("E") for f in findings):
        for rule in rules_for_stage(HAZARD):
            findings.extend(rule.check(spec))  # type: ignore[misc]
    return spec, [stamp(f) for f in findings]


def check_units(units: Iterable[Unit], config: Config | None = None) -> Report:
    findings: dict[tuple, Finding] = {}
    files: dict[str, SpecFile] = {}
    specs = []
    for unit in units:
        spec, unit_findings = check_unit(unit)
        specs.append(spec)
        for spec_file in unit.files:
            files.setdefault(spec_file.path, spec_file)
        for finding in unit_findings:
            # A file included by two roots is checked twice; report each finding once.
            findings.setdefault((finding.code, finding.span, finding.message), finding)
    decided = policy.apply(list(findings.values()), files, config or Config())
    ordered = tuple(sorted(decided, key=lambda f: f.sort_key))
    return Report(ordered, {path: files[path] for path in sorted(files)}, tuple(specs))


def check_paths(paths: list[str], config: Config | None = None) -> Report:
    return check_units(load_units(paths), config)
