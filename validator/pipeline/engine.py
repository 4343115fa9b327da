"""The pipeline, written once: load -> resolve -> E rules -> hazard rules -> scenarios -> policy -> report.

Hazard rules (and, later, scenarios) run only on a unit with no errors, as LANGUAGE.md says.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import replace
from pathlib import Path

from validator.diff.compare import Change, DiffResult, compare
from validator.diff.headers import ChangedHeader, changed_headers
from validator.frontend.load import Unit, display_path, load_units
from validator.frontend.resolve import ResolvedSpec, resolve
from validator.frontend.sources import LOCAL, GitFiles, InputError, LocalFiles
from validator.kernel.cdecl import HeaderError
from validator.kernel.crosscheck import (
    EMPTY_HEADER,
    HeaderOptions,
    header_check,
    header_registers,
    headers_version,
    with_version,
)
from validator.kernel.verdicts import UNTESTABLE, Conformance
from validator.model.abi import abi_of_api
from validator.model.findings import Finding, Problem, fingerprint
from validator.model.frozen import frozen
from validator.model.spans import Span
from validator.model.spec import SpecFile
from validator.pipeline import policy
from validator.pipeline.config import Config
from validator.rules import CATALOG, lookup, run_stage
from validator.rules.catalog import CONFORM, CROSSCHECK, DIFF, HAZARD, LOAD, POLICY, RESOLVE, SCENARIO
from validator.rules.errors import STRUCTURAL_ERRORS, include_escapes_root, undefined_name
from validator.simulate.scenario import ScenarioResult, run_all


@frozen
class Report:
    """Everything a run found, for the reporters."""

    findings: tuple[Finding, ...]  # sorted by path, line, column, code
    files: Mapping[str, SpecFile]  # every file read, roots and includes, by path in order
    specs: tuple[ResolvedSpec, ...]
    changes: tuple[Change, ...] = ()  # against the baseline, in diff mode
    diffed: bool = False  # a baseline was compared
    notes: tuple[str, ...] = ()  # what the run could not read (header lines skipped, ...)
    results: tuple[ScenarioResult, ...] = ()  # the declared scenarios, as the X rules saw them
    # The git revision the baseline was read from: its files are shown as `REV:path`.
    baseline_revision: str = ""
    checked: tuple[str, ...] = ()  # the paths the user named (or the configuration did)
    conformed: tuple[ConformSummary, ...] = ()  # what the running kernel said, per unit (conform)
    # The stages whose rules ran (None: not recorded, every stage counts as run), and the
    # files whose hazard stages did not run because their spec has errors: a report that
    # lists rules per file (JUnit) tells those from rules that ran and found nothing.
    stages: frozenset[str] | None = None
    blocked: frozenset[str] = frozenset()


@frozen
class ConformSummary:
    """One unit's claims as the kernel answered them: the counts, and why some were not asked."""

    root: str
    kernel: str
    counts: Mapping[str, int]  # verified, contradicted, not testable here
    reasons: tuple[tuple[int, str], ...]  # (claims, why not testable), most common first

    @property
    def notes(self) -> list[str]:
        summary = ", ".join(f"{count} {status}" for status, count in self.counts.items())
        return [f"{self.root}: {self.kernel}: {summary}"] + [
            f"{self.root}: {count} not testable here: {reason}" for count, reason in self.reasons
        ]


# What a proposal unit is compared with: a baseline unit, a finding saying why there is
# none (a `# baseline:` naming a missing file), or None for no comparison.
BaselineFor = Callable[[Unit], "Unit | Finding | None"]
# The C headers a unit is cross-checked against, or findings saying why they cannot be read.
HeadersFor = Callable[[Unit], "list[str] | list[Finding]"]


# The codes whose rules read the scenarios' results: only they need the scenarios run.
SCENARIO_CODES = frozenset(rule.code for rule in CATALOG if rule.checks_at(SCENARIO))


def _has_errors(findings: Iterable[Finding]) -> bool:
    """Errors that make the model unreliable, so that no hazard can be judged on it.

    E111 and E112 are errors of design in a well-formed spec (an id that disagrees with the
    header or with its encoding): the rest of the spec can still be judged.
    """
    return any(f.code in STRUCTURAL_ERRORS for f in findings)


def check_unit(
    unit: Unit, codes: Collection[str] | None = None
) -> tuple[ResolvedSpec, list[Finding], list[ScenarioResult]]:
    """The unit's spec, its findings, and its scenarios' results (kept for the reports).

    With `codes`, the hazard and scenario rules run only for those codes, and the scenarios
    only if one of them needs them (load and resolve errors are always judged)."""
    spec = resolve(unit)
    findings = run_stage(LOAD, unit) + run_stage(RESOLVE, spec)
    results: list[ScenarioResult] = []
    if not _has_errors(findings):
        findings += run_stage(HAZARD, spec, codes=codes)
        if spec.scenarios and (codes is None or not SCENARIO_CODES.isdisjoint(codes)):
            results = run_all(spec)
            findings += run_stage(SCENARIO, spec, results, codes=codes)
    return spec, findings, results


def diff(
    baseline: ResolvedSpec,
    proposal: ResolvedSpec,
    *,
    file_removed: bool = False,
    headers_changed: tuple[ChangedHeader, ...] = (),
) -> DiffResult:
    """What changed, and the findings of the DIFF-stage rules on it (B60x, A302, C504, H909)."""
    comparison = compare(baseline, proposal, file_removed=file_removed, headers_changed=headers_changed)
    return DiffResult(comparison.changes, tuple(run_stage(DIFF, comparison)))


def _baseline_error(findings: list[Finding]) -> Finding | None:
    """The first error that keeps the baseline from loading, if any."""
    errors = [f for f in findings if f.code in STRUCTURAL_ERRORS]
    return min(errors, key=lambda f: f.sort_key) if errors else None


def _compare(
    base: Unit, unit: Unit, spec: ResolvedSpec, findings: list[Finding], notes: list[str], config: Config
) -> tuple[list[Finding], tuple[Change, ...], ResolvedSpec, set[str]]:
    """Diff findings and changes, the proposal's findings with those the baseline had marked,
    the baseline's spec (for its header cross-check) and its suppression findings' fingerprints.

    A baseline that does not load is an error of the run, never an empty baseline: a gate that
    compared with nothing would pass every breaking change. Only where the proposal does not
    load either (a broken file left as it was) is there nothing to compare, and a note says so.
    """
    # The baseline's findings only mark the proposal's as already there: only the rules of
    # the codes the proposal has, or the baseline's `# allow:` lines name (its D802s), are run.
    base_spec, base_findings, _ = check_unit(base, {f.code for f in findings} | _allowed_codes(base))
    result: tuple[Change, ...] = ()
    error = _baseline_error(base_findings)
    if error is not None and not _has_errors(findings):
        where = f"{error.span.path}:{error.span.line}:{error.span.column}"
        raise InputError(f"the baseline does not load, so nothing can be compared with it: {where}: {error.message}")
    if error is not None:
        notes.append(f"{spec.root}: neither the baseline nor the proposal loads; not compared")
    elif not _has_errors(findings):
        d = diff(base_spec, spec, headers_changed=_headers_changed(base, unit))
        findings = findings + list(d.findings)
        result = d.changes
    known = {fingerprint(f) for f in base_findings}
    marked = [replace(f, baseline=True) if fingerprint(f) in known else f for f in findings]
    return marked, result, base_spec, _policy_findings(base, base_findings, config)


def _headers_changed(base: Unit, unit: Unit) -> tuple[ChangedHeader, ...]:
    """The proposal's `# header:` files whose tokens differ from the baseline's (H909)."""
    before, after = directive_headers(base), directive_headers(unit)
    if not after or isinstance(after[0], Finding) or (before and isinstance(before[0], Finding)):
        return ()  # a header that cannot be named is E102/E109's
    return changed_headers(base, unit, before, after)  # type: ignore[arg-type]


def _allowed_codes(unit: Unit) -> set[str]:
    """The codes a unit's `# allow:` lines name (a name looked up as its code)."""
    named = {code for spec_file in unit.files for allow in spec_file.allows for code in allow.codes}
    return {rule.code if (rule := lookup(code)) else code for code in named}


def _policy_findings(unit: Unit, findings: list[Finding], config: Config) -> set[str]:
    """Fingerprints of the suppression findings (D801/D802) a baseline unit had on its own."""
    decided = policy.apply(findings, {f.path: f for f in unit.files}, config)
    return {fingerprint(f) for f in decided if f.code in policy.HYGIENE_CODES}


def _crosscheck(
    specs: list[ResolvedSpec],
    headers: tuple[str, ...],
    options: HeaderOptions,
    source: LocalFiles | GitFiles = LOCAL,
) -> list[Finding]:
    """The CROSSCHECK-stage findings of specs against headers read as the compiler reads them
    for the specs' ABI; a header that cannot be read is E113 where it was named."""
    directive = next((d.span for spec in specs for d in spec.files[0].headers), None)
    abi = options.abi or abi_of_api(specs[0].api.name if specs[0].api else None)
    read = source.read_bytes if isinstance(source, GitFiles) else None
    from validator.kernel.cfront import read_c_headers  # pcpp, pycparser: only where a header is read

    try:
        registers, error = header_registers(read_c_headers(list(headers), options.include_dirs, abi, read)), None
    except HeaderError as exc:
        registers, error = EMPTY_HEADER, _without_folders(str(exc), headers)
    registers = with_version(registers, headers_version(headers, options.include_dirs, abi, read))
    return run_stage(CROSSCHECK, header_check(specs, registers, directive, error))


def _without_folders(message: str, headers: tuple[str, ...]) -> str:
    """A header error names the header by its file name: the same spec checked from another
    folder (a baseline's copy) has the same finding."""
    for header in (h for h in headers if not h.startswith("<")):
        folders = {os.path.dirname(header), os.path.dirname(os.path.abspath(header))} - {""}
        for folder in sorted(folders, key=len, reverse=True):  # the absolute form first: it holds the other
            message = message.replace(folder.rstrip(os.sep) + os.sep, "")
    return message


def _headers_key(unit: Unit, headers: list[str], given: bool) -> tuple[str, ...]:
    """Specs cross-checked together: everything named with --header is one spec; a
    `# header:` directive speaks for its own root file only."""
    return tuple(headers) if given else (*headers, unit.root)


def check_units(
    units: Iterable[Unit],
    config: Config | None = None,
    baseline_for: BaselineFor | None = None,
    removed: Iterable[tuple[Unit, Unit]] = (),
    headers_for: HeadersFor | None = None,
    header_options: HeaderOptions | None = None,
) -> Report:
    """Check every unit; with `baseline_for`, also against its baseline (diff mode).

    `removed` are baseline units no proposal unit pairs with, each with the proposal's versions
    of the files it included: every declaration they had and those files no longer make is
    reported removed.
    """
    findings: dict[tuple[str, Span, str], Finding] = {}
    files: dict[str, SpecFile] = {}
    specs: list[ResolvedSpec] = []
    changes: list[Change] = []
    notes: list[str] = []
    results: list[ScenarioResult] = []
    headers_of = headers_for or directive_headers
    by_headers: dict[tuple[str, ...], list[ResolvedSpec]] = {}
    # The baseline's specs, grouped as the proposal's are, so that a header finding the
    # baseline already had is marked as the baseline's (SARIF baselineState "unchanged").
    base_by_headers: dict[tuple[str, ...], tuple[LocalFiles | GitFiles, list[ResolvedSpec]]] = {}
    known_policy: set[str] = set()
    diffed = False
    stages = {LOAD, RESOLVE, POLICY}
    judged_files: set[str] = set()
    blocked_files: set[str] = set()
    for unit in units:
        spec, unit_findings, unit_results = check_unit(unit)
        results.extend(unit_results)
        if _has_errors(unit_findings):
            blocked_files.update(f.path for f in unit.files)
        else:
            stages |= {HAZARD, SCENARIO}
            judged_files.update(f.path for f in unit.files)
        headers = headers_of(unit)
        if headers and isinstance(headers[0], Finding):
            unit_findings.extend(headers)
        elif headers and not _has_errors(unit_findings):
            by_headers.setdefault(_headers_key(unit, headers, headers_for is not None), []).append(spec)  # type: ignore[arg-type]
        base = baseline_for(unit) if baseline_for else None
        if isinstance(base, Finding):
            unit_findings.append(base)
        elif base is not None:
            diffed = True
            unit_findings, unit_changes, base_spec, base_policy = _compare(
                base, unit, spec, unit_findings, notes, config or Config()
            )
            changes.extend(unit_changes)
            known_policy |= base_policy
            base_headers = headers_of(base) if base.files else []
            if base_headers and not isinstance(base_headers[0], Finding):
                key = _headers_key(base, base_headers, headers_for is not None)
                base_by_headers.setdefault(key, (base.source, []))[1].append(base_spec)
        specs.append(spec)
        for spec_file in unit.files:
            files.setdefault(spec_file.path, spec_file)
        for finding in unit_findings:
            _keep(findings, finding)
    options = header_options or HeaderOptions()
    known_header_findings = {
        fingerprint(f)
        for key, (source, group) in base_by_headers.items()
        for f in _crosscheck(group, key if headers_for else key[:-1], options, source)
    }
    if by_headers:
        stages.add(CROSSCHECK)
    for key, group in by_headers.items():
        for finding in _crosscheck(group, key if headers_for else key[:-1], options):
            if fingerprint(finding) in known_header_findings:
                finding = replace(finding, baseline=True)
            _keep(findings, finding)
    for base, remainder in removed:
        diffed = True
        gone = diff(resolve(base), resolve(remainder), file_removed=True)
        changes.extend(gone.changes)
        for finding in gone.findings:
            _keep(findings, finding)
    decided = [
        replace(f, baseline=True) if f.code in policy.HYGIENE_CODES and fingerprint(f) in known_policy else f
        for f in policy.apply(list(findings.values()), files, config or Config())
    ]
    ordered = tuple(sorted(decided, key=lambda f: f.sort_key))
    unique_changes = tuple(dict.fromkeys(changes))
    files_in_order = {path: files[path] for path in sorted(files)}
    if diffed:
        stages.add(DIFF)
    return Report(
        ordered,
        files_in_order,
        tuple(specs),
        unique_changes,
        diffed,
        tuple(dict.fromkeys(notes)),
        tuple(results),
        stages=frozenset(stages),
        blocked=frozenset(blocked_files - judged_files),
    )


def _keep(findings: dict[tuple[str, Span, str], Finding], finding: Finding) -> None:
    """Add a finding once: a file included by two roots is checked twice."""
    findings.setdefault((finding.code, finding.span, finding.message), finding)


def _directive_target(unit: Unit, written: str, what: str, span: Span) -> str | Finding:
    """The file a directive of the unit's root names, relative to that file, confined to the
    spec root as includes are (symbolic links resolved): a stranger's spec cannot make the
    tool read /etc/passwd or /proc/self/environ as its baseline or header."""
    source = unit.source
    path = display_path(Path(unit.root).parent / written)
    real_root = source.real(unit.spec_root or ".")
    if "\0" in written or os.path.isabs(written) or os.path.commonpath([source.real(path), real_root]) != real_root:
        return include_escapes_root.report(
            Problem(
                span,
                f"{what} {written} leaves the spec root",
                subject=what,
                hint=f"keep the {what} under the spec root",
            )
        )
    if not source.is_file(path):
        hint = f"name a {'spec file' if what == 'baseline' else 'C header'} relative to this one"
        return undefined_name.report(
            Problem(span, f"{what} {written} does not exist ({path})", subject=what, hint=hint)
        )
    return path


def directive_baseline(unit: Unit) -> Unit | Finding | None:
    """The baseline a root file names with `# baseline: PATH` (relative to the file)."""
    directive = unit.files[0].baseline if unit.files else None
    if directive is None:
        return None
    target = _directive_target(unit, directive.path, "baseline", directive.span)
    if isinstance(target, Finding):
        return target
    return load_units([target], unit.source)[0]


def directive_headers(unit: Unit) -> list[str] | list[Finding]:
    """The headers a root file names with `# header: PATH` (relative to the file)."""
    directives = unit.files[0].headers if unit.files else ()
    targets = [_directive_target(unit, d.path, "header", d.span) for d in directives]
    missing = [t for t in targets if isinstance(t, Finding)]
    return missing or [t for t in targets if isinstance(t, str)]


# Runs a spec's claims against a kernel (validator.kernel.conform through a transport).
Conformer = Callable[[ResolvedSpec], Conformance]


def conform_units(units: Iterable[Unit], conformer: Conformer, config: Config | None = None) -> Report:
    """Each unit's claims asked of the kernel: the CONFORM-stage findings, and a note per unit
    counting the claims verified, contradicted and not testable here, with why."""
    findings: list[Finding] = []
    files: dict[str, SpecFile] = {}
    specs: list[ResolvedSpec] = []
    notes: list[str] = []
    summaries: list[ConformSummary] = []
    blocked: set[str] = set()
    for unit in units:
        spec, unit_findings, _ = check_unit(unit)
        specs.append(spec)
        files.update((f.path, f) for f in unit.files)
        if _has_errors(unit_findings):
            blocked.update(f.path for f in unit.files)
            findings.extend(f for f in unit_findings if f.code in STRUCTURAL_ERRORS)
            notes.append(f"{unit.root}: not asked of the kernel: the spec has errors")
            continue
        conformance = conformer(spec)
        findings.extend(run_stage(CONFORM, conformance))
        summaries.append(_conform_summary(unit.root, conformance))
        notes.extend(summaries[-1].notes)
    # Suppressions are judged by `check`, which runs every rule they may name: here most of
    # those rules do not run, so their allows would all look unused.
    decided = [f for f in policy.apply(findings, files, config or Config()) if f.code not in policy.HYGIENE_CODES]
    return Report(
        tuple(sorted(decided, key=lambda f: f.sort_key)),
        {path: files[path] for path in sorted(files)},
        tuple(specs),
        notes=tuple(notes),
        conformed=tuple(summaries),
        stages=frozenset({LOAD, RESOLVE, CONFORM}),
        blocked=frozenset(blocked),
    )


def _conform_summary(root: str, conformance: Conformance) -> ConformSummary:
    # Why claims could not be asked, most common first; ids and numbers folded together.
    reasons: dict[str, int] = {}
    for verdict in conformance.verdicts:
        if verdict.status == UNTESTABLE:
            reason = re.sub(r"0x[0-9a-f]+", "N", verdict.observed)
            reasons[reason] = reasons.get(reason, 0) + 1
    ordered = sorted(reasons.items(), key=lambda item: (-item[1], item[0]))
    return ConformSummary(root, conformance.kernel, conformance.counts(), tuple((n, r) for r, n in ordered))


def check_paths(paths: list[str], config: Config | None = None) -> Report:
    """Check paths; files that name a `# baseline:` are checked against it."""
    return check_units(load_units(paths), config, directive_baseline)
