"""Machine formats for CI, built as data and serialised (never assembled in a template).

SARIF 2.1.0 for code scanning, JUnit XML for GitLab, Jenkins and others.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any
from urllib.parse import quote

from validator import TOOL_NAME, __version__
from validator.model.findings import SEVERITY_RANK, Finding, fingerprint
from validator.model.spans import Span
from validator.pipeline.engine import Report
from validator.report import jsondoc
from validator.report.textsafe import visible
from validator.rules import CATALOG
from validator.rules.catalog import DOC_SECTIONS

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_SARIF_LEVEL = {"error": "error", "warning": "warning", "info": "note"}
INFORMATION_URI = "https://github.com/uapi-validator/uapi-validator"


def _uri(path: str) -> str:
    # A baseline path such as HEAD:spec/x.uapi would read as a URI scheme: escape the colon.
    return quote(path, safe="/")


def _region(span: Span) -> dict[str, int]:
    return {"startLine": span.line, "startColumn": span.column, "endLine": span.end_line, "endColumn": span.end_column}


def _location(span: Span, revision: str = "") -> dict[str, Any]:
    return {
        "physicalLocation": {
            "artifactLocation": {"uri": _uri(_at_revision(span.path, revision)[0])},
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


def sarif_document(report: Report) -> str:
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
    results = [_sarif_result(f, index[f.code], report.diffed, report.baseline_revision) for f in report.findings]
    document = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": TOOL_NAME,
                        "version": __version__,
                        "informationUri": INFORMATION_URI,
                        "rules": rules,
                    }
                },
                "columnKind": "unicodeCodePoints",
                "results": results,
            }
        ],
    }
    return jsondoc.dumps(document)


def _sarif_result(finding: Finding, rule_index: int, diffed: bool, revision: str) -> dict[str, Any]:
    where = _at_revision(finding.span.path, revision)[1]
    result: dict[str, Any] = {
        "ruleId": finding.code,
        "ruleIndex": rule_index,
        "level": _SARIF_LEVEL[finding.severity],
        "message": {"text": finding.message + where + (f" (fix: {finding.hint})" if finding.hint else "")},
        "locations": [_location(finding.span, revision)],
        "partialFingerprints": {"uapiValidator/v1": fingerprint(finding)},
    }
    if finding.related:
        result["relatedLocations"] = [
            {
                "id": i,
                **_location(r.span, revision),
                "message": {"text": r.message + _at_revision(r.span.path, revision)[1]},
            }
            for i, r in enumerate(finding.related)
        ]
    if diffed:
        result["baselineState"] = "unchanged" if finding.baseline else "new"
    if finding.suppressed is not None:
        result["suppressions"] = [{"kind": "inSource", "justification": finding.suppressed}]
    return result


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml(text: str) -> str:
    """Text XML 1.0 can hold: characters it cannot (most C0 controls) written as escapes."""
    return _NOT_XML.sub(visible, text)


def junit_document(report: Report, fail_on: str, include_baseline: bool) -> str:
    """One test case per rule and file; a failure for each finding at the fail level."""
    threshold = SEVERITY_RANK.get(fail_on, 99)
    by_case: dict[tuple[str, str], list[Finding]] = {}
    for finding in report.findings:
        by_case.setdefault((finding.span.path, finding.code), []).append(finding)
    paths = sorted(set(report.files) | {p for p, _ in by_case})
    suites = ET.Element("testsuites", name=TOOL_NAME)
    total_failures = 0
    for path in paths:
        suite = ET.SubElement(suites, "testsuite", name=_xml(path))
        failures = 0
        for rule in CATALOG:
            case = ET.SubElement(suite, "testcase", classname=_xml(path), name=f"{rule.code} {rule.name}")
            failing = [
                f
                for f in by_case.get((path, rule.code), [])
                if f.suppressed is None
                and SEVERITY_RANK[f.severity] >= threshold
                and (include_baseline or not f.baseline)
            ]
            if failing:
                failures += 1
                failure = ET.SubElement(case, "failure", message=_xml(failing[0].message), type=failing[0].severity)
                failure.text = _xml(
                    "\n".join(f"{f.span.path}:{f.span.line}:{f.span.column}: {f.message}" for f in failing)
                )
        suite.set("tests", str(len(CATALOG)))
        suite.set("failures", str(failures))
        total_failures += failures
    suites.set("tests", str(len(CATALOG) * len(paths)))
    suites.set("failures", str(total_failures))
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"
