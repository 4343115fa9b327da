"""validator.report.jsondoc writes what json.dumps(indent=2, ensure_ascii=False) writes, byte for byte."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from validator.report import jsondoc

SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text()
VALUES = st.recursive(
    SCALARS,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5),
    max_leaves=40,
)


def reference(value: object) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False) + "\n"


@settings(max_examples=500, deadline=None)
@given(VALUES)
def test_any_value_is_written_as_json_dumps_writes_it(value: object) -> None:
    assert jsondoc.dumps(value) == reference(value)


def test_empty_containers_and_nesting() -> None:
    document = {"a": [], "b": {}, "c": [[], {}, [1, [2, {"d": None}]]], "e": '\u00e9\u2014\U0001f600 "q" \\ \n\t'}
    assert jsondoc.dumps(document) == reference(document)
    assert jsondoc.dumps({}) == "{}\n" and jsondoc.dumps([]) == "[]\n"


def test_a_list_may_be_an_iterator() -> None:
    records = [{"code": "S201", "line": n} for n in range(3)]
    assert jsondoc.dumps({"findings": iter(records), "none": iter([])}) == reference({"findings": records, "none": []})


def test_keys_must_be_strings() -> None:
    with pytest.raises(TypeError, match="keys must be strings"):
        jsondoc.dumps({1: "one"})


def test_a_finding_written_by_its_own_shape_is_what_the_generic_walk_writes() -> None:
    """view.finding_json against jsondoc's walk of finding_record, on every finding of the
    bundled specs and the rule examples (related lines, suppressed, baseline, no hint)."""
    from tests.conftest import ROOT, check_files
    from validator.report.view import finding_json, finding_record

    report = check_files(ROOT / "spec")
    assert len(report.findings) > 100
    kinds = {(bool(f.related), f.suppressed is not None, f.baseline, f.hint is None) for f in report.findings}
    assert len(kinds) >= 5  # the shapes a finding takes are all here
    for finding in report.findings:
        for indent in ("", "    "):
            expected: list[str] = []
            jsondoc._write(finding_record(finding), indent, expected)
            assert finding_json(finding, indent) == "".join(expected)
