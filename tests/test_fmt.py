"""The formatter: one canonical layout, idempotent, and never a change of meaning."""

from __future__ import annotations

import dataclasses
import re
from collections import Counter

import pytest

from tests.conftest import EXAMPLES, ROOT, run_cli, write
from validator.frontend.parse import parse_file
from validator.pipeline.engine import check_paths
from validator.tools.fmt import FormatError, format_text

FILES = [p for p in sorted((ROOT / "spec").rglob("*.uapi")) if "E101" not in str(p)]
FILES += sorted(EXAMPLES.glob("*.uapi")) if EXAMPLES.is_dir() else []
POSITIONAL = {"span", "attrs", "repeated", "text", "first", "line", "target_line"}


def meaning(value):
    """A model value with every position left out: what the spec says, not where."""
    if dataclasses.is_dataclass(value):
        fields = [f for f in dataclasses.fields(value) if f.name not in POSITIONAL]
        return (type(value).__name__, *((f.name, meaning(getattr(value, f.name))) for f in fields))
    if isinstance(value, tuple | list):
        return tuple(meaning(v) for v in value)
    return value


def model(text: str, path: str):
    spec = parse_file(text, path)
    return sorted(map(repr, meaning(spec.declarations))), meaning(spec.api), meaning(spec.includes)


def findings_of(folder, name: str, text: str) -> Counter:
    path = write(folder, name, text)
    report = check_paths([str(path)])
    return Counter((f.code, f.subject, re.sub(r"\d+", "#", f.message)) for f in report.findings)


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_formatting_keeps_meaning_and_findings_and_is_idempotent(path, tmp_path) -> None:
    text = path.read_text()
    formatted = format_text(text, str(path))
    assert format_text(formatted, str(path)) == formatted
    assert model(formatted, str(path)) == model(text, str(path))
    # The same findings (checked beside the original's siblings, for includes and baselines).
    folder = tmp_path / "f"
    for sibling in path.parent.iterdir():
        if sibling.is_file():
            write(folder, sibling.name, sibling.read_text())
    before = findings_of(folder, path.name, text)
    after = findings_of(folder, path.name, formatted)
    assert after == before


def test_the_canonical_layout() -> None:
    messy = """api   "a"   version "1"
lock  b : vcpu
lock long_name : vm   "x"
register R {   # expect: S204
      via     one_reg,two
   # on its own line: goes with scope
   scope vm
  bits {
   10 LONG_NAME since "1"
  1 A
  }


  width 64
}
"""
    assert (
        format_text(messy)
        == """api "a" version "1"
lock b         : vcpu
lock long_name : vm   "x"
register R {                             # expect: S204
  width 64
  # on its own line: goes with scope
  scope vm
  via   one_reg, two
  bits {
    10 LONG_NAME since "1"
    1 A
  }
}
"""
    )


def test_a_hash_inside_a_string_is_not_a_comment() -> None:
    assert format_text('lock l : vm "a # b"   # real\n') == 'lock l : vm "a # b"                      # real\n'


def test_a_file_that_does_not_parse_is_not_formatted(tmp_path) -> None:
    path = write(tmp_path, "bad.uapi", "lock a : vm\nregister R {\n  widht 64\n}\n")
    with pytest.raises(FormatError, match=r"bad\.uapi:3:3"):
        format_text(path.read_text(), str(path))
    result = run_cli("fmt", str(path))
    assert result.returncode == 2 and f"{path}:3:3: unexpected 'widht'" in result.stderr
    assert path.read_text() == "lock a : vm\nregister R {\n  widht 64\n}\n"


def test_check_passes_on_the_formatted_tree_and_fails_with_a_diff_on_a_messed_up_copy(tmp_path) -> None:
    assert run_cli("fmt", "--check", str(ROOT / "spec")).returncode == 0
    messy = (ROOT / "spec/kvm/arm64/firmware.uapi").read_text().replace("  width    64\n", "  width 64\n", 1)
    path = write(tmp_path, "firmware.uapi", messy)
    result = run_cli("fmt", "--check", str(path))
    assert result.returncode == 1
    assert "-  width 64\n" in result.stdout and "+  width    64\n" in result.stdout
    assert path.read_text() == messy  # --check writes nothing


def test_diff_shows_without_writing_and_plain_fmt_rewrites(tmp_path) -> None:
    path = write(tmp_path, "s.uapi", "lock   a : vm\n")
    diff = run_cli("fmt", "--diff", str(path))
    assert diff.returncode == 0 and "+lock a : vm" in diff.stdout and path.read_text() == "lock   a : vm\n"
    assert run_cli("fmt", str(path)).returncode == 0
    assert path.read_text() == "lock a : vm\n"
    assert run_cli("fmt", "--check", str(path)).returncode == 0


def test_fmt_exclude_in_the_configuration(tmp_path) -> None:
    write(tmp_path, "uapi-validator.toml", 'fmt-exclude = ["keep/*.uapi"]\n')
    kept = write(tmp_path, "keep/odd.uapi", "lock   a : vm\n")
    result = run_cli("fmt", str(tmp_path))
    assert result.returncode == 0 and kept.read_text() == "lock   a : vm\n"


def test_the_normative_examples_are_already_in_the_canonical_layout() -> None:
    # The pre-commit fmt hook must pass on LANGUAGE.md's own examples (a user's copies).
    if not EXAMPLES.is_dir():
        pytest.skip("../shared/dsl/examples is not beside the project")
    for path in sorted(EXAMPLES.glob("*.uapi")):
        text = path.read_text()
        assert format_text(text, str(path)) == text, path.name


def test_a_block_after_a_one_line_statement_keeps_the_authors_blank_line_and_column() -> None:
    tight = 'lock l : vm\ninterface i : vcpu {\n  get  KVM_GET_ONE_REG\n  lock l\n  since "5.19"\n}\n'
    assert format_text(tight) == tight  # no blank line added; `since` one space past the column
    spaced = tight.replace("vm\ninterface", "vm\n\ninterface")
    assert format_text(spaced) == spaced
    wide = tight.replace("  get  KVM", "  get   KVM").replace("  lock l\n", "  lock  l\n").replace("since ", "since ")
    assert format_text(wide) == wide  # the column counting `since`: kept too
