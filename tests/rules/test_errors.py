"""E-codes: each reported at the token that holds the mistake, and not on the correct form."""

from __future__ import annotations

import pytest

from tests.conftest import PRELUDE, at, codes, findings
from tests.rules._examples import assert_examples, rules_in

REG = """
register R {{
  id       {id}
  width    {width}
  scope    vcpu
  via      one_reg
  migrate  yes
  writable before first_run else {errno}
  reset    {reset}
  bits {{
    {bit} B
  }}
}}
"""


def reg(**overrides: object) -> str:
    values = {"id": "0x6030_0000_0010_0000", "width": 64, "errno": "EBUSY", "reset": 0, "bit": 3}
    values.update(overrides)
    return PRELUDE + REG.format(**values)


def test_the_correct_form_has_no_error(tmp_path) -> None:
    assert not {c for c in codes(findings(reg(), tmp_path)) if c.startswith("E")}


def test_e101_syntax_error_is_reported_with_position(tmp_path) -> None:
    found = findings("lock a : vm\nregister R {\n  widht 64\n}\n", tmp_path)
    assert at(found, "E101") == [(3, 3)]


@pytest.mark.parametrize(
    ("snippet", "line_text"),
    [
        ("interface i : vcpu {\n  lock no_such_lock\n}\n", "no_such_lock"),
        ("register X {\n  via no_such_iface\n}\n", "no_such_iface"),
        ("register X {\n  lock vm_lock, nope\n}\n", "nope"),
        ("register X {\n  scope write_once\n  hint NO_CAP\n}\n", "NO_CAP"),
        ("register X {\n  opt_in NO_FEATURE\n}\n", "NO_FEATURE"),
        ("feature F {\n  via NO_CAP\n}\n", "NO_CAP"),
        ("feature F {\n  uniform none opt_in NO_CAP\n}\n", "NO_CAP"),
    ],
)
def test_e102_undefined_name_at_the_name(tmp_path, snippet: str, line_text: str) -> None:
    text = PRELUDE + snippet
    found = findings(text, tmp_path)
    lines = text.splitlines()
    [(line, column)] = at(found, "E102")
    assert lines[line - 1][column - 1 :].startswith(line_text)


def test_e102_suggests_the_closest_name(tmp_path) -> None:
    [finding] = [f for f in findings(PRELUDE + "register X {\n  lock vm_lokc\n}\n", tmp_path) if f.code == "E102"]
    assert finding.hint == "did you mean vm_lock?"


def test_e102_feature_via_vcpu_init_is_known(tmp_path) -> None:
    assert "E102" not in codes(findings(PRELUDE + "feature F {\n  via vcpu_init\n}\n", tmp_path))


def test_e103_duplicate_declaration_at_the_later_one(tmp_path) -> None:
    text = PRELUDE + "lock vm_lock : vm\n"
    [finding] = [f for f in findings(text, tmp_path) if f.code == "E103"]
    assert finding.span.line == len(text.splitlines())
    assert finding.related[0].span.line == 3  # the first `lock vm_lock`


def test_e103_repeated_attribute_and_bits(tmp_path) -> None:
    text = PRELUDE + "register X {\n  width 64\n  width 32\n  bits {\n    1 A\n    1 B\n    2 A\n  }\n}\n"
    found = findings(text, tmp_path)
    base = len(PRELUDE.splitlines())
    assert sorted(at(found, "E103")) == [(base + 3, 3), (base + 6, 5), (base + 7, 5)]


def test_e103_second_api_statement(tmp_path) -> None:
    assert at(findings(PRELUDE + 'api "again" version "1"\n', tmp_path), "E103") == [(len(PRELUDE.splitlines()) + 1, 1)]


def test_e104_duplicate_id_at_the_later_id_line(tmp_path) -> None:
    text = reg() + "register R2 {\n  id 0x6030_0000_0010_0000\n  width 64\n}\n"
    found = findings(text, tmp_path)
    [(line, _)] = at(found, "E104")
    assert text.splitlines()[line - 1].strip().startswith("id")
    assert line > len(reg().splitlines())


def test_e105_id_size_field_disagrees_with_width(tmp_path) -> None:
    assert "E105" in codes(findings(reg(id="0x6020_0000_0010_0000"), tmp_path))
    assert "E105" not in codes(findings(reg(id="0x6020_0000_0010_0000", width=32), tmp_path))


def test_e106_bit_at_width(tmp_path) -> None:
    assert "E106" in codes(findings(reg(bit=64), tmp_path))
    assert "E106" not in codes(findings(reg(bit=63), tmp_path))


def test_e107_values_out_of_range(tmp_path) -> None:
    assert "E107" in codes(findings(reg(reset="0x1_0000_0000_0000_0000"), tmp_path))
    assert "E107" not in codes(findings(reg(reset="0xffff_ffff_ffff_ffff"), tmp_path))
    assert "E107" in codes(findings(reg(width=48, id="0x6030_0000_0010_0000"), tmp_path))
    scenario = "scenario s : restore {\n  vcpus 0, 4\n  host_threads 0\n}\n"
    assert len(at(findings(PRELUDE + scenario, tmp_path), "E107")) == 2


def test_e108_unknown_errno_at_the_errno(tmp_path) -> None:
    found = findings(reg(errno="EBUSYY"), tmp_path)
    [finding] = [f for f in found if f.code == "E108"]
    assert finding.hint == "did you mean EBUSY?"
    assert "E108" not in codes(findings(reg(errno="EOPNOTSUPP"), tmp_path))


@pytest.mark.parametrize(
    "body",
    [
        "  scope vm\n  uniform none\n",
        "  scope write_once\n  uniform none\n",
        "  scope vcpu\n  hint CAP_Q\n",
        "  writable always\n  rewrite same_value ok\n",
        "  opt_in CAP_Q\n",
        "  scope vcpu\n  uniform none opt_in CAP_Q\n",
    ],
)
def test_e110_contradictions(tmp_path, body: str) -> None:
    caps = "capability CAP_Q : vm {\n  kind query\n}\n"
    assert "E110" in codes(findings(PRELUDE + caps + "register X {\n" + body + "}\n", tmp_path))


def test_e110_not_on_consistent_attributes(tmp_path) -> None:
    caps = "capability CAP_Q : vm {\n  kind query\n}\ncapability CAP_O : vm {\n  kind opt_in\n}\n"
    body = "  scope write_once\n  hint CAP_Q\n  writable before first_run else EBUSY\n  rewrite same_value ok\n  opt_in CAP_O\n"
    assert "E110" not in codes(findings(PRELUDE + caps + "register X {\n" + body + "}\n", tmp_path))


def test_e110_before_on_a_query_capability(tmp_path) -> None:
    assert "E110" in codes(findings(PRELUDE + "capability C : vm {\n  kind query\n  before vcpu_create\n}\n", tmp_path))


def test_several_errors_in_one_file_are_all_reported(tmp_path) -> None:
    text = reg(errno="ENOPE", reset="0x1_0000_0000_0000_0000", bit=70)
    assert {"E106", "E107", "E108"} <= codes(findings(text, tmp_path))


def test_hazard_rules_do_not_run_on_a_spec_with_errors(tmp_path) -> None:
    text = PRELUDE + "register X {\n  scope vm\n  via one_reg\n  lock vm_lock\n  migrate yes\n  reset 0\n  width 7\n}\n"
    assert codes(findings(text, tmp_path)) == {"E107"}


@pytest.mark.parametrize("rule", rules_in("errors"), ids=lambda r: r.code)
def test_examples(rule) -> None:
    assert_examples(rule)
