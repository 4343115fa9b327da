"""Machine formats for CI, built as data and serialised (never assembled in a template).

SARIF 2.1.0 for code scanning, JUnit XML for GitLab, Jenkins and others.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

from validator import TOOL_NAME, __version__
from validator.model.findings import SEVERITY_RANK, Finding, fingerprint, sha256
from validator.model.frozen import frozen
from validator.model.spans import Span
from validator.pipeline.engine import Report
from validator.report import jsondoc
from validator.report.textsafe import visible
from validator.rules import CATALOG
from validator.rules.catalog import CONFORM, CROSSCHECK, DIFF, DOC_SECTIONS, HAZARD, SCENARIO

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_SARIF_LEVEL = {"error": "error", "warning": "warning", "info": "note"}
INFORMATION_URI = "https://github.com/uapi-validator/uapi-validator"


SRCROOT = "%SRCROOT%"


@frozen
class SarifOptions:
    """Where URIs are relative to, and what code scanning is told about the run."""

    root: str  # the git top level, else the current folder: the %SRCROOT% base of every URI
    category: str | None = None  # automationDetails.id, one per analysis a repository uploads
    show_suppressed: bool = False  # keep `# allow:`-ed findings, as suppressed results


def _artifact(path: str, options: SarifOptions, in_repository: bool = False) -> dict[str, str]:
    """An artifact location: relative to %SRCROOT% when the file is under it, else an
    absolute file URI. A path is the user's (from the current folder), except a baseline's
    read from git as REV:path, which is the repository's."""
    absolute = os.path.abspath(os.path.join(options.root, path) if in_repository else path)
    inside = os.path.commonpath([absolute, os.path.abspath(options.root)]) == os.path.abspath(options.root)
    if inside:
        # A colon in a relative path would read as a URI scheme: escape it.
        return {"uri": quote(Path(os.path.relpath(absolute, options.root)).as_posix(), safe="/"), "uriBaseId": SRCROOT}
    return {"uri": Path(absolute).as_uri()}


def _region(span: Span) -> dict[str, int]:
    return {"startLine": span.line, "startColumn": span.column, "endLine": span.end_line, "endColumn": span.end_column}


def _location(span: Span, options: SarifOptions, revision: str = "") -> dict[str, Any]:
    path, at_revision = _at_revision(span.path, revision)
    return {
        "physicalLocation": {
            "artifactLocation": _artifact(path, options, in_repository=bool(at_revision)),
            "region": _region(span),
        }
    }


def _at_revision(path: str, revision: str) -> tuple[str, str]:
    """A baseline file read from git is shown as `REV:path`: its URI is the path in the
    repository, and the revision goes into the message (`(at git revision REV)`)."""
    prefix = f"{revision}:"
    if revision and path.startswith(prefix):
        return path[len(prefix) :], f" (at git revision {revision})"
    return path, ""


def sarif_document(report: Report, options: SarifOptions) -> str:
    rules = [
        {
            "id": rule.code,
            "name": rule.name,
            "shortDescription": {"text": rule.summary},
            "fullDescription": {"text": rule.section("What it finds") or rule.summary},
            "help": {
                "text": "\n\n".join(f"{t}\n{rule.section(t)}" for t in DOC_SECTIONS if rule.section(t)),
                "markdown": "\n\n".join(f"**{t}**\n\n{rule.section(t)}" for t in DOC_SECTIONS if rule.section(t)),
            },
            "defaultConfiguration": {"level": _SARIF_LEVEL[rule.severity]},
            "properties": {"tags": [rule.family], "implemented": rule.implemented},
        }
        for rule in CATALOG
    ]
    index = {rule.code: i for i, rule in enumerate(CATALOG)}
    results = [
        _sarif_result(f, index[f.code], report, options)
        for f in report.findings
        if f.suppressed is None or options.show_suppressed
    ]
    run: dict[str, Any] = {
        "tool": {
            "driver": {"name": TOOL_NAME, "version": __version__, "informationUri": INFORMATION_URI, "rules": rules}
        },
        "originalUriBaseIds": {SRCROOT: {"uri": Path(os.path.abspath(options.root)).as_uri().rstrip("/") + "/"}},
        "columnKind": "unicodeCodePoints",
        "results": results,
    }
    if options.category:
        run["automationDetails"] = {"id": options.category.rstrip("/") + "/"}
    document = {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}
    return jsondoc.dumps(document)


def _sarif_result(finding: Finding, rule_index: int, report: Report, options: SarifOptions) -> dict[str, Any]:
    revision = report.baseline_revision
    where = _at_revision(finding.span.path, revision)[1]
    location = _location(finding.span, options, revision)
    uri = location["physicalLocation"]["artifactLocation"]["uri"]
    result: dict[str, Any] = {
        "ruleId": finding.code,
        "ruleIndex": rule_index,
        "level": _SARIF_LEVEL[finding.severity],
        "message": {"text": finding.message + where + (f" (fix: {finding.hint})" if finding.hint else "")},
        "locations": [location],
        # Per file, and line-independent: a finding keeps its identity when lines move.
        "partialFingerprints": {"uapiValidator/v2": _file_fingerprint(uri, fingerprint(finding))},
    }
    if finding.related:
        result["relatedLocations"] = [
            {
                "id": i,
                **_location(r.span, options, revision),
                "message": {"text": r.message + _at_revision(r.span.path, revision)[1]},
            }
            for i, r in enumerate(finding.related)
        ]
    if report.diffed:
        result["baselineState"] = "unchanged" if finding.baseline else "new"
    if finding.suppressed is not None:
        result["suppressions"] = [{"kind": "inSource", "justification": finding.suppressed}]
    return result


def _file_fingerprint(uri: str, identity: str) -> str:
    digest: str = sha256(f"{uri}\0{identity}".encode()).hexdigest()
    return digest[:32]


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml(text: str) -> str:
    """Text XML 1.0 can hold: characters it cannot (most C0 controls) written as escapes."""
    return _NOT_XML.sub(visible, text)


# Why a stage's rules did not run for a whole run.
_NOT_RUN = {
    DIFF: "not run: no baseline was compared",
    CROSSCHECK: "not run: no C header was cross-checked",
    CONFORM: "not run: no kernel was asked (conform)",
    HAZARD: "not run: the spec has errors",
    SCENARIO: "not run: the spec has errors",
}
_AFTER_ERRORS = (HAZARD, SCENARIO, DIFF, CROSSCHECK, CONFORM)


def _not_run(report: Report, path: str, stage: str) -> str | None:
    """Why a rule of `stage` did not run on a file, or None if it ran."""
    if report.stages is not None and stage not in report.stages:
        return _NOT_RUN.get(stage, "not run")
    if path in report.blocked and stage in _AFTER_ERRORS:
        return "not run: the spec has errors, so no hazard is judged on it"
    return None


def junit_document(report: Report, fail_on: str, include_baseline: bool) -> str:
    """One test case per rule and file (Jenkins' junit-10.xsd): a failure for the findings at
    the fail level, the others as the case's output, and a skipped case where the rule did not
    run (no baseline, no header, or a spec with errors)."""
    threshold = SEVERITY_RANK.get(fail_on, 99)
    by_case: dict[tuple[str, str], list[Finding]] = {}
    for finding in report.findings:
        if finding.suppressed is None:
            by_case.setdefault((finding.span.path, finding.code), []).append(finding)
    paths = sorted(set(report.files) | {p for p, _ in by_case})
    import xml.etree.ElementTree as ET  # here: only JUnit output is XML

    suites = ET.Element("testsuites", name=TOOL_NAME)
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for path in paths:
        suite = ET.SubElement(suites, "testsuite", name=_xml(path))
        counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        for rule in CATALOG:
            case = ET.SubElement(suite, "testcase", classname=_xml(path), name=f"{rule.code} {rule.name}")
            counts["tests"] += 1
            found = by_case.get((path, rule.code), [])
            why = _not_run(report, path, rule.stage)
            if why is not None and not found:
                ET.SubElement(case, "skipped", message=why)
                counts["skipped"] += 1
                continue
            failing = [
                f for f in found if SEVERITY_RANK[f.severity] >= threshold and (include_baseline or not f.baseline)
            ]
            if failing:
                counts["failures"] += 1
                failure = ET.SubElement(case, "failure", message=_xml(failing[0].message), type=failing[0].severity)
                failure.text = _xml("\n".join(_junit_line(f) for f in failing))
            others = [f for f in found if f not in failing]
            if others:
                ET.SubElement(case, "system-out").text = _xml("\n".join(_junit_line(f) for f in others))
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
    for key, value in totals.items():
        if key != "skipped":  # junit-10.xsd has `skipped` on a testsuite only
            suites.set(key, str(value))
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


def _junit_line(finding: Finding) -> str:
    where = f"{finding.span.path}:{finding.span.line}:{finding.span.column}"
    return f"{where}: {finding.severity}: {finding.message}" + (
        " (the baseline has it too)" if finding.baseline else ""
    )
