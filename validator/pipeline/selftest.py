"""`test`: compare each file's findings with its `# expect:` comments, line by line."""

from __future__ import annotations

from collections import Counter

from validator.model.findings import Finding
from validator.model.frozen import frozen
from validator.pipeline.engine import Report
from validator.rules import lookup

PASSED, FAILED, SKIPPED = "passed", "failed", "skipped"


@frozen
class Mismatch:
    """An `# expect:` line that the findings do not bear out, or a finding no line expects."""

    path: str
    line: int
    code: str
    kind: str  # missing | unexpected | unknown-rule
    finding: Finding | None = None


@frozen
class FileResult:
    """One example file's selftest outcome."""

    path: str
    status: str
    expected: int
    mismatches: tuple[Mismatch, ...]
    note: str = ""


def compare(report: Report, skipped: dict[str, str]) -> list[FileResult]:
    """One result per file of the report, in path order; `skipped` maps a path to why."""
    by_file: dict[str, list[Finding]] = {}
    for finding in report.findings:
        if finding.suppressed is None:
            by_file.setdefault(finding.span.path, []).append(finding)
    results = []
    for path in report.files:
        if path in skipped:
            results.append(FileResult(path, SKIPPED, 0, (), skipped[path]))
            continue
        expected: dict[int, list[str]] = {}
        for expect in report.files[path].expects:
            expected.setdefault(expect.line, []).extend(expect.codes)
        results.append(_compare_file(path, expected, by_file.get(path, [])))
    return results


def _compare_file(path: str, expected: dict[int, list[str]], findings: list[Finding]) -> FileResult:
    mismatches: list[Mismatch] = []
    actual: dict[int, Counter[str]] = {}
    reported: dict[tuple[int, str], list[Finding]] = {}
    for finding in findings:
        actual.setdefault(finding.span.line, Counter())[finding.code] += 1
        reported.setdefault((finding.span.line, finding.code), []).append(finding)
    total = 0
    wanted: dict[int, Counter[str]] = {}
    for line, names in expected.items():
        for name in names:
            total += 1
            rule = lookup(name)
            if rule is None:
                mismatches.append(Mismatch(path, line, name, "unknown-rule"))
                continue
            wanted.setdefault(line, Counter())[rule.code] += 1
    for line in sorted(set(wanted) | set(actual)):
        want, got = wanted.get(line, Counter()), actual.get(line, Counter())
        for code, count in sorted((want - got).items()):
            mismatches.extend(Mismatch(path, line, code, "missing") for _ in range(count))
        for code, count in sorted((got - want).items()):
            extra = reported[(line, code)][-count:]  # the surplus ones, each with its own message
            mismatches.extend(Mismatch(path, line, code, "unexpected", finding) for finding in extra)
    return FileResult(path, FAILED if mismatches else PASSED, total, tuple(mismatches))
