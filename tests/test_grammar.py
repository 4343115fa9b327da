"""The grammar: every construct of LANGUAGE.md parses, invalid text is E101 at file:line:col."""

from __future__ import annotations

import ast
import subprocess
import sys

import pytest

from tests.conftest import EXAMPLES, ROOT, needs_examples
from validator.frontend import attributes
from validator.frontend.build import SpecBuilder
from validator.frontend.grammar import build_lark_parser
from validator.frontend.literals import parse_duration_ns, parse_int, unquote
from validator.frontend.parse import parse_file
from validator.frontend.standalone import (
    GENERATED,
    generated_digest,
    grammar_digest,
    standalone_source,
    strict_lark_parser,
)

EVERY_CONSTRUCT = """\
# a comment on its own line
api "kvm/arm64" version "6.2"   # trailing comment
include "other.uapi"

lock l_sys  : system
lock l_vm   : vm "with a description"
lock l_vcpu : vcpu
lock l_dev  : device

capability CAP_Q : vm {
  kind  query
  since "6.1"
  doc   "a \\"quoted\\" word and a backslash \\\\"
}

capability CAP_O : vm {
  kind   opt_in
  before vcpu_create
}

interface one_reg : vcpu {
  get  KVM_GET_ONE_REG
  set  KVM_SET_ONE_REG
  has  KVM_HAS_ONE_REG
  list KVM_GET_REG_LIST
  lock l_vcpu, l_vm
  cap  CAP_Q
  since "6.2"
  doc "x"
}

register R {

  id        0x6030_0000_0016_0000
  width     64
  scope     write_once
  hint      CAP_Q
  via       one_reg, other
  lock      l_vm, l_dev
  migrate   no
  writable  before finalize else EPERM
  rewrite   same_value EBUSY
  uniform   enforced EINVAL as contract
  reset     0b1010_1010
  reserved  reject EINVAL
  bits {
    0 A since "1.0"
    1 B
  }
  opt_in    CAP_O
  since     "6.2"
  doc       "d"
}

register R2 {
  writable  always
  rewrite   same_value ok
  uniform   none opt_in CAP_O
  opt_in    CAP_O
  reset     none
  reserved  ignore
  bits {
  }
}

register R3 {
  writable never
  uniform  last_wins
  reset    all
  scope    vm
}

feature F {
  via     vcpu_init
  uniform enforced EINVAL as implementation
  since   "3.17"
}

scenario s1 : restore {
  vmm          generic
  vcpus        1, 64, 512
  host_threads 16
  cost         ioctl 2us, lock 1us
  budget       serialized 64, ioctls 10_000, blackout 1ms
}
scenario s2 : hotplug {
  vmm hint_aware
}
scenario s3 : replug {
}
scenario s4 : reset {
}
"""


def test_grammar_builds_without_conflicts_in_strict_mode() -> None:
    strict_lark_parser()


def test_the_standalone_parser_is_the_grammar_as_it_is_now() -> None:
    # After a change to grammar/uapi.lark: python -m validator.frontend.standalone
    assert generated_digest() == grammar_digest(), "run: python -m validator.frontend.standalone"


def test_the_standalone_parser_has_the_rules_lark_makes_of_the_grammar() -> None:
    # The numbering of states differs between runs of the generator; the rules do not.
    def rules(text: str) -> list[str]:
        start = text.index("\nMEMO = (\n") + len("\nMEMO = (\n")
        memo = ast.literal_eval(text[start : text.index("\n)\n", start)])
        assert isinstance(memo, dict)
        return sorted(repr(sorted(entry.items())) for entry in memo.values() if entry.get("__type__") == "Rule")

    assert rules(GENERATED.read_text(encoding="utf-8")) == rules(standalone_source())


def test_a_check_imports_neither_lark_nor_pickle() -> None:
    # The standalone parser carries its tables as literals: no grammar analysis, no cache file.
    program = (
        "import sys\nfrom validator.cli import main\n"
        "try:\n    main(['check', 'spec/kvm', '--format', 'json', '-o', '/dev/null'])\n"
        "except SystemExit:\n    pass\n"
        "print(sorted(m for m in ('lark', 'pickle') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, cwd=ROOT, check=True)
    assert done.stdout.strip() == "[]", done.stderr


def test_every_construct_parses_and_builds() -> None:
    spec = parse_file(EVERY_CONSTRUCT, "all.uapi")
    assert spec.syntax_error is None
    kinds = [type(d).__name__ for d in spec.declarations]
    assert (
        kinds == ["Lock"] * 4 + ["Capability"] * 2 + ["Interface"] + ["Register"] * 3 + ["Feature"] + ["Scenario"] * 4
    )
    register = spec.declarations[7]
    assert register.id == 0x6030_0000_0016_0000
    assert register.reset.value == 0b1010_1010
    assert [b.name for b in register.bits] == ["A", "B"]
    assert register.uniform.basis == "contract"
    r2 = spec.declarations[8]
    assert r2.rewrite.same_value_ok and r2.uniform.opt_in.text == "CAP_O" and r2.opt_in.text == "CAP_O"
    scenario = spec.declarations[11]
    assert scenario.vcpus == (1, 64, 512)
    assert (scenario.cost_ioctl_ns, scenario.cost_lock_ns) == (2000, 1000)
    assert (scenario.budget_serialized, scenario.budget_ioctls, scenario.budget_blackout_ns) == (64, 10_000, 1_000_000)
    assert spec.declarations[4].doc == 'a "quoted" word and a backslash \\'


@needs_examples
@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.uapi")), ids=lambda p: p.name)
def test_every_normative_example_parses_unchanged(path) -> None:
    assert parse_file(path.read_text(encoding="utf-8"), str(path)).syntax_error is None


@pytest.mark.parametrize(
    ("text", "value"),
    [("0", 0), ("42", 42), ("1_000", 1000), ("0x6030_0000_0016_0000", 0x6030000000160000), ("0b1_0", 2), ("0XfF", 255)],
)
def test_integer_forms(text: str, value: int) -> None:
    assert parse_int(text) == value


@pytest.mark.parametrize(("text", "ns"), [("150ns", 150), ("2us", 2000), ("1ms", 1_000_000), ("3s", 3_000_000_000)])
def test_durations(text: str, ns: int) -> None:
    assert parse_duration_ns(text) == ns


def test_string_escapes() -> None:
    assert unquote(r'"a \"b\" \\ c"') == 'a "b" \\ c'


@pytest.mark.parametrize(
    ("text", "line", "column", "found", "expected"),
    [
        ("register R {\n  widht 64\n}\n", 2, 3, "'widht'", '"width"'),
        ("lock a : vmm\n", 1, 10, "'vmm'", '"vcpu"'),
        ("register R {\n  id 0x10\n", 2, 10, "end of file", '"}"'),
        ("register R { id 1 }\n", 1, 14, "'id'", "end of line"),
        ("lock a : vm $\n", 1, 13, "character '$'", "end of line"),
        ("register R {\n  width 64 64\n}\n", 2, 12, "integer 64", "end of line"),
        ('register R {\n  doc "no end\n}\n', 2, 7, "character '\"'", "a string"),
        ("register R {\n  writable before lunch\n}\n", 2, 19, "'lunch'", '"first_run"'),
        ("scenario s : restore {\n  cost ioctl 2\n}\n", 2, 14, "integer 2", "expected a duration"),
    ],
)
def test_syntax_error_position_and_words(text: str, line: int, column: int, found: str, expected: str) -> None:
    error = parse_file(text, "bad.uapi").syntax_error
    assert error is not None
    assert (error.span.line, error.span.column) == (line, column)
    assert f"unexpected {found}" in error.message
    assert expected in error.message
    assert "_attr" not in error.message and "__" not in error.message  # rule names are not for users


def test_keywords_are_whole_words_and_usable_as_names() -> None:
    text = "lock list : vm\nscenario reset : reset {\n}\nregister vm {\n}\n"
    spec = parse_file(text, "k.uapi")
    assert spec.syntax_error is None
    assert [d.name for d in spec.declarations] == ["list", "reset", "vm"]


def test_an_attribute_line_spans_from_its_keyword_to_its_last_value() -> None:
    lines = ["cost ioctl 2us, lock 1us", "budget serialized 64, ioctls 10, blackout 1ms", "vcpus 1, 64"]
    text = "scenario s : restore {\n" + "".join(f"  {line}  # note\n" for line in lines) + "}\n"
    [scenario] = parse_file(text, "s.uapi").declarations
    ends = {attr.span.line: (attr.span.column, attr.span.end_column) for attr in scenario.attrs}
    assert ends == {2 + n: (3, 3 + len(line)) for n, line in enumerate(lines)}


def test_crlf_and_missing_final_newline_parse() -> None:
    assert parse_file('api "a" version "1"\r\nlock a : vm\r\n', "crlf.uapi").syntax_error is None
    assert parse_file("lock a : vm", "eof.uapi").syntax_error is None
    assert parse_file("lock a : vm # comment at end of file", "eof.uapi").syntax_error is None


def test_comments_and_directives_are_collected_with_lines() -> None:
    text = "# baseline: base.uapi\n\n  # allow: S201 -- reason\nlock a : vm   # expect: E999, S201\n"
    spec = parse_file(text, "d.uapi")
    assert spec.baseline.path == "base.uapi"
    assert [(e.line, e.codes) for e in spec.expects] == [(4, ("E999", "S201"))]
    assert [(a.line, a.codes, a.reason) for a in spec.allows] == [(3, ("S201",), "reason")]


def test_directives_survive_a_syntax_error() -> None:
    spec = parse_file("lock a : vm\nlock b : vmx   # expect: E101\n", "e.uapi")
    assert spec.syntax_error is not None and spec.declarations == ()
    assert [(e.line, e.codes) for e in spec.expects] == [(2, ("E101",))]


def test_every_named_rule_has_a_builder_method() -> None:
    # A rule without a method would reach the model as a lark Tree; only the rules lark
    # inlines (names starting with "_") may have none.
    builder = SpecBuilder
    named = {str(rule.origin.name) for rule in build_lark_parser().rules}
    missing = sorted(name for name in named if not name.startswith("_") and not hasattr(builder, name))
    assert missing == []


def _alternatives(rule_name: str) -> set[str]:
    """The rules a grammar rule's alternatives name (`_reg_attr: reg_id | width | ...`)."""
    return {
        str(symbol.name)
        for rule in build_lark_parser().rules
        if rule.origin.name == rule_name
        for symbol in rule.expansion
    }


@pytest.mark.parametrize(
    ("declaration", "alternatives"),
    [
        ("register", "_reg_attr"),
        ("capability", "_cap_attr"),
        ("interface", "_iface_attr"),
        ("feature", "_feature_attr"),
        ("scenario", "_scenario_attr"),
        ("struct", "_struct_attr"),
        ("flags", "_flags_attr"),
        ("ioctl", "_ioctl_attr"),
    ],
)
def test_the_attribute_table_and_the_grammar_list_the_same_attributes(declaration: str, alternatives: str) -> None:
    table = attributes.BY_DECLARATION[declaration]
    assert {a.rule for a in table} == _alternatives(alternatives)
    assert all(hasattr(SpecBuilder, a.rule) for a in table)


def test_every_recognised_line_builds_the_field_its_rule_builds() -> None:
    # One line per attribute with a line syntax, parsed whole (the scanner's shortcut) and
    # word by word (the grammar rule): the same field, the same value, the same span.
    lines = {
        "id": "id 0x10",
        "width": "width 64",
        "scope": "scope vm",
        "hint": "hint KVM_CAP_X",
        "via": "via a, b",
        "lock": "lock l",
        "migrate": "migrate no",
        "writable": "writable before vcpu_init else EBUSY",
        "rewrite": "rewrite same_value EBUSY",
        "uniform": "uniform none opt_in KVM_CAP_Y",
        "reset": "reset 0x3",
        "reserved": "reserved reject EINVAL",
        "opt_in": "opt_in KVM_CAP_Z",
        "since": 'since "6.1"',
        "doc": 'doc "d"',
    }
    with_lines = [a for a in attributes.REGISTER if a.line is not None]
    assert sorted(lines) == sorted(a.keyword for a in with_lines)
    for attribute in with_lines:
        text = f"register R {{\n  {lines[attribute.keyword]}\n}}\n"
        fast = parse_file(text, "a.uapi").declarations[0]
        slow = parse_file(text, "a.uapi", line_shortcuts=False).declarations[0]
        assert fast == slow
        assert getattr(fast, attribute.field) not in (None, ())
