"""Every rule's documented examples are tests: fail.uapi yields its code and matches its
`# expect:` lines, pass.uapi yields nothing, and `explain` prints both. Each family's test file
(tests/rules/test_<module>.py, one per module of validator/rules/) runs these for its rules."""

from __future__ import annotations

import platform
from dataclasses import replace
from pathlib import Path

import pytest

from tests.conftest import ROOT, check_files
from validator.frontend.load import load_units
from validator.kernel.conform import kvm_conformer
from validator.kernel.kvm import Kvm, available
from validator.pipeline.engine import Report, conform_units
from validator.pipeline.selftest import PASSED, compare
from validator.rules import CATALOG
from validator.rules.catalog import CONFORM, Rule

EXAMPLES = ROOT / "spec" / "rules"


def module_of(rule: Rule) -> str:
    """The module of validator/rules/ a rule's check lives in (`scope`, `errors`, ...)."""
    return rule.check.__module__.rsplit(".", 1)[1]


def rules_in(module: str) -> list[Rule]:
    return [r for r in CATALOG if module_of(r) == module]


KVM_MISSING = available()


def _report(rule: Rule, path: Path) -> Report:
    """What `test` sees of an example: check's findings, and conform's for a K rule (which
    needs this machine's kernel: the test is skipped where there is none)."""
    report = check_files(path)
    if rule.stage != CONFORM:
        return report
    if KVM_MISSING is not None:
        pytest.skip(f"{rule.code} asks the running kernel: {KVM_MISSING}")
    with Kvm() as kvm:
        asked = conform_units(load_units([str(path)]), kvm_conformer(kvm, 2, platform.release()))
    return replace(report, findings=report.findings + asked.findings)


def assert_fail_example(rule: Rule) -> None:
    path = EXAMPLES / f"{rule.code}-{rule.name}" / "fail.uapi"
    report = _report(rule, path)
    assert rule.code in {f.code for f in report.findings if f.span.path == str(path)}
    [result] = [r for r in compare(report, {}) if r.path == str(path)]
    assert result.status == PASSED, result.mismatches


def assert_pass_example(rule: Rule) -> None:
    path = EXAMPLES / f"{rule.code}-{rule.name}" / "pass.uapi"
    report = _report(rule, path)
    assert [f.code for f in report.findings if f.suppressed is None] == []


def assert_explain_prints_both_examples(rule: Rule) -> None:
    from validator.report.docs import rule_doc_view

    view = rule_doc_view(rule)
    folder = EXAMPLES / f"{rule.code}-{rule.name}"
    assert view["fail_example"] == (folder / "fail.uapi").read_text().rstrip("\n")
    assert view["pass_example"] == (folder / "pass.uapi").read_text().rstrip("\n")
    assert all(view["sections"]) and len(view["sections"]) == 3


def assert_examples(rule: Rule) -> None:
    assert_explain_prints_both_examples(rule)
    assert_fail_example(rule)
    assert_pass_example(rule)
