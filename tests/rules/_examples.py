"""Every rule's documented examples are tests: fail.uapi yields its code and matches its
`# expect:` lines, pass.uapi yields nothing, and `explain` prints both. Each family's test file
(tests/rules/test_<module>.py, one per module of validator/rules/) runs these for its rules."""

from __future__ import annotations

from tests.conftest import ROOT, check_files
from validator.pipeline.selftest import PASSED, compare
from validator.rules import CATALOG
from validator.rules.catalog import Rule

EXAMPLES = ROOT / "spec" / "rules"


def module_of(rule: Rule) -> str:
    """The module of validator/rules/ a rule's check lives in (`scope`, `errors`, ...)."""
    return rule.check.__module__.rsplit(".", 1)[1]


def rules_in(module: str) -> list[Rule]:
    return [r for r in CATALOG if module_of(r) == module]


def assert_fail_example(rule: Rule) -> None:
    path = EXAMPLES / f"{rule.code}-{rule.name}" / "fail.uapi"
    report = check_files(path)
    assert rule.code in {f.code for f in report.findings if f.span.path == str(path)}
    [result] = [r for r in compare(report, {}) if r.path == str(path)]
    assert result.status == PASSED, result.mismatches


def assert_pass_example(rule: Rule) -> None:
    path = EXAMPLES / f"{rule.code}-{rule.name}" / "pass.uapi"
    report = check_files(path)
    assert [f.code for f in report.findings if f.suppressed is None] == []


def assert_explain_prints_both_examples(rule: Rule) -> None:
    from validator.report.docs import rule_doc_view

    view = rule_doc_view(rule)
    folder = EXAMPLES / f"{rule.code}-{rule.name}"
    assert view["fail_example"] == (folder / "fail.uapi").read_text().rstrip("\n")
    assert view["pass_example"] == (folder / "pass.uapi").read_text().rstrip("\n")
    assert all(view["sections"]) and len(view["sections"]) == 3


def assert_examples(rule: Rule) -> None:
    assert_fail_example(rule)
    assert_pass_example(rule)
    assert_explain_prints_both_examples(rule)
