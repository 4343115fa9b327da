"""Reports to plain view-model dicts (for templates) and to JSON documents.

Python decides what to show; templates decide how it looks. JSON is built here as dicts and
dumped, never assembled in a template.
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Mapping
from typing import Any

from validator import TOOL_NAME, __version__
from validator.diff.compare import Change
from validator.frontend.textfile import split_lines
from validator.model.findings import SEVERITIES, Finding, fingerprint
from validator.model.spec import SpecFile
from validator.pipeline.engine import Report
from validator.report import jsondoc
from validator.report.textsafe import Trusted, terminal_safe
from validator.rules import lookup
from validator.simulate.machine import Failure
from validator.simulate.scenario import DEFAULT_IOCTL_NS, DEFAULT_LOCK_NS, DEFAULT_THREADS, ScenarioResult


def finding_record(finding: Finding) -> dict[str, Any]:
    """The JSON shape of a finding (the foundation's contract; later keys are additions)."""
    span = finding.span
    record: dict[str, Any] = {
        "code": finding.code,
        "name": finding.name,
        "severity": finding.severity,
        "message": finding.message,
        "path": span.path,
        "line": span.line,
        "column": span.column,
        "end_line": span.end_line,
        "end_column": span.end_column,
        "subject": finding.subject,
        "related": [
            {"path": r.span.path, "line": r.span.line, "column": r.span.column, "message": r.message}
            for r in finding.related
        ],
        "hint": finding.hint,
        "fingerprint": fingerprint(finding),
        "baseline": finding.baseline,
    }
    if finding.suppressed is not None:
        record["suppressed"] = {"reason": finding.suppressed}
    return record


def finding_json(finding: Finding, indent: str) -> str:
    """`jsondoc.dumps`'s text of `finding_record(finding)` at `indent`, written directly (the
    findings are most of a large report; a test holds the two equal)."""
    s = jsondoc.scalar
    span = finding.span
    i1 = indent + "  "
    if finding.related:
        i2 = i1 + "  "
        i3 = i2 + "  "
        related = (
            "[\n"
            + ",\n".join(
                f'{i2}{{\n{i3}"path": {s(r.span.path)},\n{i3}"line": {s(r.span.line)},\n'
                f'{i3}"column": {s(r.span.column)},\n{i3}"message": {s(r.message)}\n{i2}}}'
                for r in finding.related
            )
            + f"\n{i1}]"
        )
    else:
        related = "[]"
    suppressed = (
        ""
        if finding.suppressed is None
        else f',\n{i1}"suppressed": {{\n{i1}  "reason": {s(finding.suppressed)}\n{i1}}}'
    )
    return (
        f'{{\n{i1}"code": {s(finding.code)},\n{i1}"name": {s(finding.name)},\n{i1}"severity": {s(finding.severity)},\n'
        f'{i1}"message": {s(finding.message)},\n{i1}"path": {s(span.path)},\n{i1}"line": {s(span.line)},\n'
        f'{i1}"column": {s(span.column)},\n{i1}"end_line": {s(span.end_line)},\n{i1}"end_column": {s(span.end_column)},\n'
        f'{i1}"subject": {s(finding.subject)},\n{i1}"related": {related},\n{i1}"hint": {s(finding.hint)},\n'
        f'{i1}"fingerprint": {s(fingerprint(finding))},\n{i1}"baseline": {s(finding.baseline)}{suppressed}\n{indent}}}'
    )


def change_record(change: Change) -> dict[str, str]:
    record = {"kind": change.kind, "subject": change.subject}
    if change.attribute:
        record.update(attribute=change.attribute, before=change.before, after=change.after)
    record["text"] = change.text
    return record


def summary(findings: tuple[Finding, ...]) -> dict[str, int]:
    counts = Counter(f.severity for f in findings if f.suppressed is None)
    return {severity: counts.get(severity, 0) for severity in SEVERITIES}


def json_document(report: Report) -> str:
    document: dict[str, Any] = {
        "tool": {"name": TOOL_NAME, "version": __version__},
        "findings": (jsondoc.Shaped(f, finding_json) for f in report.findings),
        "summary": summary(report.findings),
    }
    if report.diffed:
        document["changes"] = [change_record(c) for c in report.changes]
    if report.notes:
        document["notes"] = list(report.notes)
    return jsondoc.dumps(document)


class SourceLines:
    """The lines of the report's files, split once per file when a report first quotes it."""

    def __init__(self, files: Mapping[str, SpecFile]) -> None:
        self._files = files
        self._split: dict[str, list[str]] = {}

    def __call__(self, path: str) -> list[str]:
        if path not in self._split:
            spec_file = self._files.get(path)
            self._split[path] = split_lines(spec_file.text) if spec_file else []
        return self._split[path]


def _snippet(source: SourceLines, finding: Finding) -> dict[str, Any] | None:
    lines = source(finding.span.path)
    span = finding.span
    if not 1 <= span.line <= len(lines):
        return None
    # Tabs become single spaces so that the caret lines up with the column lark counts.
    text = lines[span.line - 1].replace("\t", " ")
    end = span.end_column if span.end_line == span.line else len(text) + 1
    start, end = span.column - 1, max(span.column, min(end, len(text) + 1)) - 1
    # A long line is quoted as a window around the span: a 30 KB line quoted by each of its
    # findings would make a report of hundreds of megabytes.
    first = max(0, min(start - 40, len(text) - SNIPPET_WIDTH))
    last = min(len(text), first + SNIPPET_WIDTH)
    end = min(end, last)
    before, inside, after = text[first:start], text[start:end], text[end:last]
    prefix, suffix = ("..." if first > 0 else ""), ("..." if last < len(text) else "")
    # Control characters are shown escaped (`\x1b`), and the caret counts them as shown.
    shown_before = prefix + terminal_safe(before)
    shown_inside = terminal_safe(inside)
    return {
        "line": span.line,
        "text": Trusted(shown_before + shown_inside + terminal_safe(after) + suffix),
        "caret_column": len(shown_before) + 1,
        "caret_width": max(1, len(shown_inside)),
    }


SNIPPET_WIDTH = 160  # characters of a source line a text report quotes


# SGR colour codes: the tool's own escapes, the only ones text output lets through.
_SGR = {
    "error": "\x1b[1;31m",
    "warning": "\x1b[1;33m",
    "info": "\x1b[1;36m",
    "bold": "\x1b[1m",
    "dim": "\x1b[2m",
    "note": "\x1b[1;34m",
    "reset": "\x1b[0m",
}


def _rule_name(code: str) -> str:
    rule = lookup(code)
    return rule.name if rule else ""


def text_view(
    report: Report, *, color: bool, show_source: bool = True, quiet: bool = False, statistics: bool = False
) -> dict[str, Any]:
    """The terminal report. `show_source`: quote each finding's line with a caret; `quiet`:
    the findings and nothing else (no notes, changes or summary); `statistics`: a count per
    rule instead of the findings, most frequent first."""
    shown = [f for f in report.findings if f.suppressed is None]
    source = SourceLines(report.files)
    counted = Counter(f.code for f in shown)
    return {
        "color": color,
        "quiet": quiet,
        "statistics": [
            {"count": n, "code": code, "name": _rule_name(code)}
            for code, n in sorted(counted.items(), key=lambda item: (-item[1], item[0]))
        ]
        if statistics
        else None,
        "sgr_codes": {name: Trusted(code) if color else "" for name, code in _SGR.items()},
        "findings": [{**finding_record(f), "snippet": _snippet(source, f) if show_source else None} for f in shown],
        "summary": summary(report.findings),
        "suppressed": sum(1 for f in report.findings if f.suppressed is not None),
        "file_count": len(report.files),
        "checked": list(report.checked),
        "changes": [change_record(c) for c in report.changes],
        "diffed": report.diffed,
        "notes": list(report.notes),
        "baseline_count": sum(1 for f in shown if f.baseline),
    }


def github_view(report: Report) -> dict[str, Any]:
    return {"findings": [finding_record(f) for f in report.findings if f.suppressed is None]}


def _failure_record(failure: Failure) -> dict[str, Any]:
    return {
        "op": failure.op,
        "vcpu": failure.vcpu,
        "register": failure.register,
        "value": failure.value,
        "errno": failure.errno,
        "why": failure.why,
    }


def scenario_record(result: ScenarioResult) -> dict[str, Any]:
    scenario = result.scenario
    return {
        "name": scenario.name,
        "path": scenario.span.path,
        "line": scenario.span.line,
        "kind": scenario.kind,
        "vmm": scenario.vmm or "generic",
        "host_threads": scenario.host_threads or DEFAULT_THREADS,
        "cost": {
            "ioctl_ns": scenario.cost_ioctl_ns if scenario.cost_ioctl_ns is not None else DEFAULT_IOCTL_NS,
            "lock_ns": scenario.cost_lock_ns if scenario.cost_lock_ns is not None else DEFAULT_LOCK_NS,
        },
        "budget": {
            k: v
            for k, v in (
                ("serialized", scenario.budget_serialized),
                ("ioctls", scenario.budget_ioctls),
                ("blackout_ns", scenario.budget_blackout_ns),
            )
            if v is not None
        },
        "points": [
            {
                "vcpus": p.vcpus,
                "ioctls": p.ioctls,
                "state_ops": p.state_ops,
                "serialized": p.serialized,
                "vm_lock_acquisitions": p.vm_lock_acquisitions,
                "blackout_ns": p.blackout_ns,
                "failures": [_failure_record(f) for f in p.failures],
            }
            for p in result.points
        ],
        "growth": {"blackout": result.growth, "serialized": result.serialized_growth},
        "overruns": [{"vcpus": o.vcpus, "what": o.what, "figure": o.figure, "limit": o.limit} for o in result.overruns],
        "trace": list(result.trace),
    }


def simulation_json(results: list[ScenarioResult]) -> str:
    document = {"tool": {"name": TOOL_NAME, "version": __version__}, "scenarios": [scenario_record(r) for r in results]}
    return jsondoc.dumps(document)


def simulation_csv(results: list[ScenarioResult]) -> str:
    import csv  # here: only this output is CSV

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        [
            "path",
            "scenario",
            "kind",
            "vmm",
            "vcpus",
            "ioctls",
            "state_ops",
            "serialized",
            "vm_lock_acquisitions",
            "blackout_ns",
            "first_errno",
        ]
    )
    for result in results:
        s = result.scenario
        for p in result.points:
            writer.writerow(
                [
                    s.span.path,
                    s.name,
                    s.kind,
                    s.vmm or "generic",
                    p.vcpus,
                    p.ioctls,
                    p.state_ops,
                    p.serialized,
                    p.vm_lock_acquisitions,
                    p.blackout_ns,
                    p.failures[0].errno if p.failures else "",
                ]
            )
    return out.getvalue()


def simulation_view(results: list[ScenarioResult]) -> dict[str, Any]:
    return {"scenarios": [scenario_record(r) for r in results]}
