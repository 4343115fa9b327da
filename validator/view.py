"""Reports to plain view-model dicts (for templates) and to JSON documents.

Python decides what to show; templates decide how it looks. JSON is built here as dicts and
dumped, never assembled in a template.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from validator import TOOL_NAME, __version__
from validator.diff import Change
from validator.engine import Report
from validator.findings import SEVERITIES, Finding, fingerprint
from validator.model import SpecFile


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


def change_record(change: Change) -> dict[str, str]:
    record = {"kind": change.kind, "subject": change.subject}
    if change.attribute:
        record.update(attribute=change.attribute, before=change.before, after=change.after)
    return record


def summary(findings: tuple[Finding, ...]) -> dict[str, int]:
    counts = Counter(f.severity for f in findings if f.suppressed is None)
    return {severity: counts.get(severity, 0) for severity in SEVERITIES}


def json_document(report: Report) -> str:
    document = {
        "tool": {"name": TOOL_NAME, "version": __version__},
        "findings": [finding_record(f) for f in report.findings],
        "summary": summary(report.findings),
    }
    if report.diffed:
        document["changes"] = [change_record(c) for c in report.changes]
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _snippet(files: dict[str, SpecFile] | Any, finding: Finding) -> dict[str, Any] | None:
    spec_file = files.get(finding.span.path)
    lines = spec_file.source_lines if spec_file else ()
    span = finding.span
    if not 1 <= span.line <= len(lines):
        return None
    # Tabs become single spaces so that the caret lines up with the column lark counts.
    text = lines[span.line - 1].replace("\t", " ")
    end = span.end_column if span.end_line == span.line else len(text) + 1
    return {
        "line": span.line,
        "text": text,
        "caret_column": span.column,
        "caret_width": max(1, min(end, len(text) + 1) - span.column),
    }


def text_view(report: Report, *, color: bool) -> dict[str, Any]:
    shown = [f for f in report.findings if f.suppressed is None]
    return {
        "color": color,
        "findings": [{**finding_record(f), "snippet": _snippet(report.files, f)} for f in shown],
        "summary": summary(report.findings),
        "suppressed": sum(1 for f in report.findings if f.suppressed is not None),
        "file_count": len(report.files),
        "changes": [change_record(c) for c in report.changes],
        "diffed": report.diffed,
        "baseline_count": sum(1 for f in shown if f.baseline),
    }


def github_view(report: Report) -> dict[str, Any]:
    return {"findings": [finding_record(f) for f in report.findings if f.suppressed is None]}
