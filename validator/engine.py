"""The pipeline, written once: load -> resolve -> E rules -> hazard rules -> scenarios -> policy -> report.

Hazard rules (and, later, scenarios) run only on a unit with no errors, as LANGUAGE.md says.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from validator import policy
from validator.catalog import HAZARD, RESOLVE, SCENARIO
from validator.cheader import read_headers
from validator.config import Config
from validator.crosscheck import crosscheck, header_registers
from validator.diff import Change, diff
from validator.findings import Finding, fingerprint
from validator.load import Unit, display_path, load_units, outside_root
from validator.model import SpecFile
from validator.resolve import ResolvedSpec, resolve
from validator.rules import rules_for_stage, stamp
from validator.rules.errors import STRUCTURAL_ERRORS
from validator.scenario import ScenarioResult, run_all


@dataclass(frozen=True, slots=True)
class Report:
    findings: tuple[Finding, ...]  # sorted by path, line, column, code
    files: Mapping[str, SpecFile]  # every file read, roots and includes, by path in order
    specs: tuple[ResolvedSpec, ...]
    changes: tuple[Change, ...] = ()  # against the baseline, in diff mode
    diffed: bool = False  # a baseline was compared
    notes: tuple[str, ...] = ()  # what the run could not read (header lines skipped, ...)
    results: tuple[ScenarioResult, ...] = ()  # the declared scenarios, as the X rules saw them


# What a proposal unit is compared with: a baseline unit, a finding saying why there is
# none (a `# baseline:` naming a missing file), or None for no comparison.
BaselineFor = Callable[[Unit], "Unit | Finding | None"]
# The C headers a unit is cross-checked against, or findings saying why they cannot be read.
HeadersFor = Callable[[Unit], "list[str] | list[Finding]"]


def _has_errors(findings: Iterable[Finding]) -> bool:
    """Errors that make the model unreliable, so that no hazard can be judged on it.

    E111 and E112 are errors of design in a well-formed spec (an id that disagrees with the
    header or with its encoding): the rest of the spec can still be judged.
    """
    return any(f.code in STRUCTURAL_ERRORS for f in findings)


def check_unit(unit: Unit) -> tuple[ResolvedSpec, list[Finding], list[ScenarioResult]]:
    """The unit's spec, its findings, and its scenarios' results (kept for the reports)."""
    spec = resolve(unit)
    findings = list(unit.findings)
    results: list[ScenarioResult] = []
    for rule in rules_for_stage(RESOLVE):
        findings.extend(rule.check(spec))  # type: ignore[misc]
    if not _has_errors(findings):
        for rule in rules_for_stage(HAZARD):
            findings.extend(rule.check(spec))  # type: ignore[misc]
        if spec.scenarios:
            results = run_all(spec)
            for rule in rules_for_stage(SCENARIO):
                findings.extend(rule.check(spec, results))  # type: ignore[misc]
    return spec, [stamp(f) for f in findings], results


def _compare(base: Unit, spec: ResolvedSpec, findings: list[Finding]) -> tuple[list[Finding], tuple[Change, ...]]:
    """Diff findings and changes, and the proposal's findings with those the baseline had marked."""
    base_spec, base_findings, _ = check_unit(base)
    result: tuple[Change, ...] = ()
    if not _has_errors(findings) and not _has_errors(base_findings):
        d = diff(base_spec, spec)
        findings = findings + [replace(stamp(f), from_diff=True) for f in d.findings]
        result = d.changes
    known = {fingerprint(f) for f in base_findings}
    return [replace(f, baseline=True) if fingerprint(f) in known else f for f in findings], result


def _crosscheck(specs: list[ResolvedSpec], headers: tuple[str, ...], notes: list[str]) -> list[Finding]:
    registers = header_registers(read_headers(list(headers)))
    if registers.unreadable:
        notes.append(f"{', '.join(headers)}: {registers.unreadable} macro(s) could not be evaluated and were skipped")
    directive = next((d.span for spec in specs for d in spec.files[0].headers), None)
    return [stamp(f) for f in crosscheck(specs, registers, directive)]


def check_units(
    units: Iterable[Unit],
    config: Config | None = None,
    baseline_for: BaselineFor | None = None,
    removed: Iterable[Unit] = (),
    headers_for: HeadersFor | None = None,
) -> Report:
    """Check every unit; with `baseline_for`, also against its baseline (diff mode).

    `removed` are baseline units no proposal unit pairs with: every declaration they had
    is reported removed.
    """
    findings: dict[tuple, Finding] = {}
    files: dict[str, SpecFile] = {}
    specs, changes, notes = [], [], []
    results: list[ScenarioResult] = []
    # Cross-checked together after the loop: everything named on the command line with
    # --header is one spec; a `# header:` directive speaks for its own root file only.
    by_headers: dict[tuple[str, ...], list[ResolvedSpec]] = {}
    diffed = False
    for unit in units:
        spec, unit_findings, unit_results = check_unit(unit)
        results.extend(unit_results)
        headers = (headers_for or directive_headers)(unit)
        if headers and isinstance(headers[0], Finding):
            unit_findings.extend(stamp(f) for f in headers)  # type: ignore[arg-type]
        elif headers and not _has_errors(unit_findings):
            key = tuple(headers) if headers_for else (*headers, unit.root)  # type: ignore[arg-type]
            by_headers.setdefault(key, []).append(spec)
        base = baseline_for(unit) if baseline_for else None
        if isinstance(base, Finding):
            unit_findings.append(stamp(base))
        elif base is not None:
            diffed = True
            unit_findings, unit_changes = _compare(base, spec, unit_findings)
            changes.extend(unit_changes)
        specs.append(spec)
        for spec_file in unit.files:
            files.setdefault(spec_file.path, spec_file)
        for finding in unit_findings:
            # A file included by two roots is checked twice; report each finding once.
            findings.setdefault((finding.code, finding.span, finding.message), finding)
    for key, group in by_headers.items():
        headers = key if headers_for else key[:-1]
        for finding in _crosscheck(group, headers, notes):
            findings.setdefault((finding.code, finding.span, finding.message), finding)
    for base in removed:
        diffed = True
        gone = diff(resolve(base), resolve(Unit("", (), (), False)))
        changes.extend(gone.changes)
        for finding in gone.findings:
            findings.setdefault((finding.code, finding.span, finding.message), replace(stamp(finding), from_diff=True))
    decided = policy.apply(list(findings.values()), files, config or Config())
    ordered = tuple(sorted(decided, key=lambda f: f.sort_key))
    unique_changes = tuple(dict.fromkeys(changes))
    files_in_order = {path: files[path] for path in sorted(files)}
    return Report(
        ordered, files_in_order, tuple(specs), unique_changes, diffed, tuple(dict.fromkeys(notes)), tuple(results)
    )


def directive_baseline(unit: Unit) -> Unit | Finding | None:
    """The baseline a root file names with `# baseline: PATH` (relative to the file)."""
    directive = unit.files[0].baseline if unit.files else None
    if directive is None:
        return None
    path = display_path(Path(unit.root).parent / directive.path)
    if not os.path.isfile(path):
        return Finding(
            "E102",
            directive.span,
            f"baseline {directive.path} does not exist ({path})",
            subject="baseline",
            hint="name a spec file relative to this one",
        )
    return load_units([path])[0]


def directive_headers(unit: Unit) -> list[str] | list[Finding]:
    """The headers a root file names with `# header: PATH` (relative to the file)."""
    directives = unit.files[0].headers if unit.files else ()
    paths, missing = [], []
    for directive in directives:
        path = display_path(Path(unit.root).parent / directive.path)
        if os.path.isabs(directive.path) or outside_root(path, unit.spec_root):
            missing.append(
                Finding(
                    "E109",
                    directive.span,
                    f"header {directive.path} leaves the spec root",
                    subject="header",
                    hint="keep headers under the spec root",
                )
            )
        elif os.path.isfile(path):
            paths.append(path)
        else:
            missing.append(
                Finding(
                    "E102",
                    directive.span,
                    f"header {directive.path} does not exist ({path})",
                    subject="header",
                    hint="name a C header relative to this file",
                )
            )
    return missing or paths


def check_paths(paths: list[str], config: Config | None = None) -> Report:
    """Check paths; files that name a `# baseline:` are checked against it."""
    return check_units(load_units(paths), config, directive_baseline)
