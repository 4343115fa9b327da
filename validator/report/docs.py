"""A rule's documentation as data: its sections and its tested example files."""

from __future__ import annotations

from typing import Any

from validator import TOOL_NAME, __version__
from validator.frontend.bundled import rule_examples_dir
from validator.rules import CATALOG
from validator.rules.catalog import DOC_SECTIONS, Rule


def rule_doc_view(rule: Rule) -> dict[str, Any]:
    """A rule's documentation with its example files (spec/rules/<CODE>-<name>/)."""
    folder = rule_examples_dir() / f"{rule.code}-{rule.name}"

    def example(name: str) -> str:
        path = folder / name
        return path.read_text(encoding="utf-8").rstrip("\n") if path.is_file() else ""

    return {
        "code": rule.code,
        "name": rule.name,
        "severity": rule.severity,
        "summary": rule.summary,
        "family": rule.family,
        "implemented": rule.implemented,
        "sections": [{"title": t, "body": rule.section(t)} for t in DOC_SECTIONS if rule.section(t)],
        "fail_example": example("fail.uapi"),
        "pass_example": example("pass.uapi"),
        "base_example": example("base.uapi"),
    }


def catalog_view() -> dict[str, Any]:
    return {"tool": {"name": TOOL_NAME, "version": __version__}, "rules": [rule_doc_view(r) for r in CATALOG]}
