"""Every rule's documented examples are tests: fail.uapi yields its code, pass.uapi nothing."""

from __future__ import annotations

import pytest

from tests.conftest import ROOT, check_files
from validator.pipeline.selftest import PASSED, compare
from validator.rules import CATALOG

EXAMPLES = ROOT / "spec" / "rules"
CHECKED = [r for r in CATALOG if r.implemented]


def test_every_checked_rule_has_an_example_folder_and_no_folder_is_orphaned() -> None:
    folders = {p.name for p in EXAMPLES.iterdir() if p.is_dir()}
    assert {f"{r.code}-{r.name}" for r in CHECKED} <= folders
    assert folders <= {f"{r.code}-{r.name}" for r in CATALOG}


@pytest.mark.parametrize("rule", CHECKED, ids=lambda r: r.code)
def test_fail_example_reports_the_rule_and_matches_its_expectations(rule) -> None:
    path = EXAMPLES / f"{rule.code}-{rule.name}" / "fail.uapi"
    report = check_files(path)
    assert rule.code in {f.code for f in report.findings if f.span.path == str(path)}
    [result] = [r for r in compare(report, {}) if r.path == str(path)]
    assert result.status == PASSED, result.mismatches


@pytest.mark.parametrize("rule", CHECKED, ids=lambda r: r.code)
def test_pass_example_reports_nothing(rule) -> None:
    path = EXAMPLES / f"{rule.code}-{rule.name}" / "pass.uapi"
    report = check_files(path)
    assert [f.code for f in report.findings if f.suppressed is None] == []


@pytest.mark.parametrize("rule", CHECKED, ids=lambda r: r.code)
def test_explain_prints_both_examples(rule) -> None:
    from validator.report.docs import rule_doc_view

    view = rule_doc_view(rule)
    folder = EXAMPLES / f"{rule.code}-{rule.name}"
    assert view["fail_example"] == (folder / "fail.uapi").read_text().rstrip("\n")
    assert view["pass_example"] == (folder / "pass.uapi").read_text().rstrip("\n")
    assert all(view["sections"]) and len(view["sections"]) == 3
