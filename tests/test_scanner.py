"""The scanner's line shortcuts change nothing but speed: every text parses to the same model,
the same comments and the same error with them as word by word (validator/frontend/lexer.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import EXAMPLES, ROOT
from tests.test_robustness import SEEDS, hostile
from validator.frontend import parse
from validator.frontend.lalr_parser import Token
from validator.frontend.lexer import _SCANNER, _STRING_OR_COMMENT, scan_comments
from validator.frontend.parse import _parser, _read_register_blocks, decode, parse_file
from validator.model.spec import SpecFile

sys.path.insert(0, str(ROOT / "bench"))
import generate  # (bench/generate.py: the synthetic specs the benchmark parses)


def _observed(spec: SpecFile) -> tuple[object, ...]:
    # SpecFile's equality covers every declaration, directive and span, and the syntax error.
    return spec, spec.declarations, spec.syntax_error


def assert_same_both_ways(text: str) -> None:
    fast = parse_file(text, "spec.uapi")
    words = parse_file(text, "spec.uapi", line_shortcuts=False)
    assert _observed(fast) == _observed(words)
    expected, stop = _comments_word_by_word(text)
    assert _comments(scan_comments(text), stop) == expected


def _comments(tokens: tuple[Token, ...], stop: int) -> list[tuple[object, ...]]:
    return [(str(c), c.line, c.column, c.end_line, c.end_column) for c in tokens if (c.start_pos or 0) < stop]


def _comments_word_by_word(text: str) -> tuple[list[tuple[object, ...]], int]:
    """The comments the word scanner meets, token by token, and where it stops (at a character
    it cannot scan): the oracle for `scan_comments`, which finds them with one search."""
    found, pos, line, line_start = [], 0, 1, 0
    while pos < len(text) and (match := _SCANNER.match(text, pos)) is not None:
        value = match.group()
        if match.lastgroup == "COMMENT":
            value = value.rstrip("\r")
            column = pos - line_start + 1
            found.append((value, line, column, line, column + len(value)))
        elif match.lastgroup == "_NL":
            for offset, piece in enumerate(value.split("\n")[1:], 1):
                stripped = piece.lstrip(" \t\f")
                if stripped.startswith("#"):
                    comment = stripped.rstrip("\r")
                    column = len(piece) - len(stripped) + 1
                    found.append((comment, line + offset, column, line + offset, column + len(comment)))
            line += value.count("\n")
            line_start = text.rfind("\n", pos, match.end()) + 1
        pos = match.end()
    return found, pos


def _files() -> list[Path]:
    files = sorted((ROOT / "spec").rglob("*.uapi"))
    return files + (sorted(EXAMPLES.glob("*.uapi")) if EXAMPLES.is_dir() else [])


@pytest.mark.parametrize("path", _files(), ids=lambda p: str(p.relative_to(p.parents[2])))
def test_every_spec_parses_the_same_both_ways(path: Path) -> None:
    assert_same_both_ways(path.read_text(encoding="utf-8"))


def test_the_benchmark_spec_parses_the_same_both_ways(tmp_path: Path) -> None:
    generate.write_uapi(tmp_path, 200)
    for path in sorted(tmp_path.glob("*.uapi")):
        assert_same_both_ways(path.read_text(encoding="utf-8"))


def _lex_types(text: str) -> list[str]:
    return [token.type for token in _parser().parse_interactive(text).iter_parse()]


def test_a_register_of_ordinary_lines_is_one_token() -> None:
    text = 'register R {\n  id 0x10\n  scope vm  # why\n\n  bits {\n    0 A since "1"\n  }\n  doc "d"\n}\n'
    assert _lex_types(text) == ["REGISTER_BLOCK"]
    assert_same_both_ways(text)


def test_lines_around_an_unrecognised_one_are_runs() -> None:
    text = "register R {\n  id 0x10\n  scope vm\n  encoding sysreg(3, 0, 0, 4, 0)\n  width 64\n}\n"
    assert _lex_types(text) == [
        *("REGISTER", "NAME", "LBRACE", "_NL", "REG_LINES"),
        *("ENCODING", "SYSREG", "LPAR", "INT", "COMMA", "INT", "COMMA", "INT", "COMMA", "INT", "COMMA", "INT", "RPAR"),
        *("_NL", "REG_LINES", "RBRACE", "_NL"),
    ]
    assert_same_both_ways(text)


# Whole registers near the edge of what the REGISTER_BLOCK shortcut takes.
EDGE_REGISTERS = [
    "register R{\n  id 1\n}\n",
    "register R {  # head\n  id 1\n}  # tail\n# after\n",
    "register\tR\t{\n}\n",
    "registerR {\n}\n",
    "register R {\n\n  # only a comment\n\n}\n",
    "register R\n{\n  id 1\n}\n",
    "register {\n}\n",
    "register R {\n  id 1\n} x\n",
    "register R {\n  id 1\n}",
    "register R { id 1\n}\n",
    "register register {\n  id 1\n}\n",
    "register R {\n  id 1\n}\nregister S {\n  id 2\n}\n\n\n# between\nregister T {\n}\n",
    "register R {\n  id 1\n  bits {\n    0 A\n  }\n}\nlock l : vm\n",
    "lock l : vm\nregister R {\n  lock l\n}\n",
    # The same physical line again (lexer._register_lines reuses its match): each at its own place.
    "register R {\n  id 1\n  id 1\n\t id 1\n  # c\n  id 1  # c\n  bits {\n  }\n  bits {\n    0 A\n    0 A\n  }\n}\n",
    "register R {\n  via a\n  \t\n\f\n  via a\n  bits {\n  \n    0 A\n  via a\n  }\n}\nregister S {\n  via a\n  }\n",
    "register R {\n  width 64\n  # trailing comment, no newline after it\n  width 64\n}\n  # end",
]


def test_a_line_written_twice_has_each_its_own_place() -> None:
    spec = parse_file("register R {\n  via a, b\n    via a, b\n}\nregister S {\n  via a, b\n}\n", "spec.uapi")
    r, s = spec.declarations
    assert [(a.span.line, a.span.column, a.span.end_column) for a in r.attrs] == [(2, 3, 11), (3, 5, 13)]
    assert [(n.text, n.span.line, n.span.column) for n in s.via] == [("a", 6, 7), ("b", 6, 10)]
    assert r.repeated[0].span.line == 3


def test_a_run_of_lines_starts_only_at_a_lines_first_word() -> None:
    from validator.frontend.lexer import _register_lines

    text = "  x width 64\n  width 64\n"
    assert _register_lines(text, 4, 1, 0, {}) == ([], 4, 1, 0)  # after another word
    assert _register_lines(text, 1, 1, 0, {}) == ([], 1, 1, 0)  # inside the indent
    lines, pos, line, line_start = _register_lines(text, 15, 2, 13, {})
    assert [(found.group("code"), number, column) for found, number, column in lines] == [("width 64", 2, 3)]
    assert (pos, line, line_start) == (len(text), 3, len(text))


# Lines near the edge of what a shortcut pattern takes: each must parse as the rules parse it.
EDGE_LINES = [
    "scope vm",
    "scope vmx",
    "scope\tvcpu # trailing",
    "scope vm#no space",
    "id 0x6030_0000_0010_0000",
    "id 0x",
    "id 5us",
    "id0x5",
    "width 64 64",
    "hint vm",
    "hint",
    "via a,b , c",
    "via a,",
    "lock vm_lock, vcpu_lock",
    "lock",
    "migrate yes",
    "migrate maybe",
    "writable always",
    "writable before first_run",
    "writable before first_run else EBUSY",
    "writable before first_run else",
    "writable before nothing else EBUSY",
    "writable before first_run else else",
    "rewrite same_value ok",
    "rewrite same_value EINVAL",
    "rewrite same_value",
    "uniform enforced EINVAL as contract",
    "uniform enforced as as implementation",
    "uniform enforced EINVAL as",
    "uniform last_wins",
    "uniform none",
    "uniform none opt_in CAP",
    "uniform none opt_in",
    "reset all",
    "reset none",
    "reset 0b1010",
    "reset 5s",
    "reserved reject EINVAL",
    "reserved ignore",
    "reserved reject",
    "opt_in CAP",
    'since "6.1"',
    'since "6.1',
    'doc "a \\"quoted\\" word"',
    'doc "x" "y"',
    "encoding sysreg(3, 0, 0, 4, 0)",
    "bits {\n    0 A\n    1B\n  }",
    'bits{\n    0 A since "1"\n    1 since since "2"\n  }',
    "bits {\n    0 A since\n  }",
    "bits {\n    0 A\n  } x",
    "bits {\n  }",
    "bits {\n    # a comment\n    0 A # another\n\n  }",
]


def _in_register(line: str) -> str:
    return f'register R {{\n  id 1\n  {line}\n  # expect: E101\n  doc "after"\n}}\n'


@pytest.mark.parametrize("text", EDGE_REGISTERS + [_in_register(line) for line in EDGE_LINES])
@pytest.mark.parametrize("ending", ["\n", "\r\n"], ids=["lf", "crlf"])
def test_edge_cases_parse_the_same_both_ways(text: str, ending: str) -> None:
    assert_same_both_ways(text.replace("\n", ending))


@st.composite
def register_text(draw) -> str:
    """Registers of edge lines, shuffled, with comments and blank lines between them."""
    registers = []
    for index in range(draw(st.integers(1, 3))):
        lines = draw(st.lists(st.sampled_from(EDGE_LINES), min_size=0, max_size=12))
        glue = draw(st.sampled_from(["\n", "\n\n", "\n# note\n", "  # tail\n", "\r\n"]))
        body = glue.join(f"  {line}" for line in lines)
        registers.append(f"register R{index} {{\n{body}\n}}\n")
    return draw(st.sampled_from(["", "\n", "# top\n"])).join(registers)


@settings(max_examples=500, deadline=None)
@given(register_text())
def test_shuffled_edge_lines_parse_the_same_both_ways(text: str) -> None:
    assert_same_both_ways(text)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(hostile())
def test_mutated_specs_parse_the_same_both_ways(data: bytes) -> None:
    text = decode(data, "spec.uapi")
    if isinstance(text, str):
        assert_same_both_ways(text)


def test_the_seeds_hold_registers() -> None:
    # The mutation test above means something only if its seeds hold many register lines.
    assert sum(seed.count(b"register ") for seed in SEEDS) > 50


# Whole files: the top-level registers are read before the parser sees the rest
# (parse._read_register_blocks); each of these must give the word-by-word model or error.
EDGE_FILES = [
    "register A {\n  id 1\n}\n",
    "register A {\n  id 1\n}",
    '# top\n\nregister A {\n  id 1\n}\n# between\n\nregister B {\n  id 2\n  doc "x"\n}\nlock L: vm\n',
    'api "kvm" version "1"\nregister A {\n  id 1\n}\nlock L: vm\nregister B {\n  id 2\n}\n',
    "register A {\n  id 1\n}\nregister B {\n  id 2\n  encoding sysreg(3, 0, 0, 4, 0)\n}\nregister C {\n  id 3\n}\n",
    "lock L: vm\nregister A {\n  id 1\n",
    "register A {\n  id 1\n}\nlock L: vm {\n",
    "capability C: vm {\nregister A {\n  id 1\n}\n}\n",
    'capability C: vm {\n  kind query\n  doc "}"\n}\nregister A {\n  id 1\n}\n',
    'capability C: vm {\n  doc "{"\nregister A {\n  id 1\n}\n}\n',
    "capability C: vm\nregister A {\n  id 1\n}\n{\n  kind query\n}\n",
    "lock L: vm register A {\n  id 1\n}\n",
    "register A {\n  id 1\n} register B {\n  id 2\n}\n",
    "register A {\n  id 1\n}\n  register B {\n  id 2\n}\n",
    "registerA {\n  id 1\n}\nregister B {\n  id 1\n}\n",
]


@pytest.mark.parametrize("text", EDGE_FILES)
@pytest.mark.parametrize("ending", ["\n", "\r\n"], ids=["lf", "crlf"])
def test_files_of_registers_and_other_statements_parse_the_same_both_ways(text: str, ending: str) -> None:
    assert_same_both_ways(text.replace("\n", ending))


def test_the_top_level_registers_are_read_before_the_parser() -> None:
    # The pre-pass is what the edge files above exercise: it takes the registers at the top
    # level and leaves the nested one (the text then parses to the grammar's own error).
    registers, rest = _read_register_blocks(EDGE_FILES[3], "spec.uapi")
    assert [register.name for register in registers] == ["A", "B"]
    assert rest == 'api "kvm" version "1"\n\n\n\nlock L: vm\n\n\n\n'
    assert _read_register_blocks(EDGE_FILES[7], "spec.uapi") == ([], EDGE_FILES[7])


@pytest.mark.parametrize(
    ("text", "parses"),
    [(EDGE_FILES[2], 1), (EDGE_FILES[3], 1), (EDGE_FILES[4], 1), (EDGE_FILES[7], 1), (EDGE_FILES[10], 2)],
)
def test_lark_parses_what_the_registers_leave_and_the_whole_text_only_where_that_fails(
    text: str, parses: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    texts: list[str] = []
    lark = _parser()

    class Counting:
        def parse(self, text: str) -> object:
            texts.append(text)
            return lark.parse(text)

        def __getattr__(self, name: str) -> object:  # what a syntax error's message reads
            return getattr(lark, name)

    monkeypatch.setattr(parse, "_parser", lambda line_shortcuts=True: Counting())
    parse_file(text, "spec.uapi")
    assert len(texts) == parses
    assert texts[0] == _read_register_blocks(text, "spec.uapi")[1]


def test_a_register_inside_braces_the_count_missed_gives_the_whole_texts_error(monkeypatch: pytest.MonkeyPatch) -> None:
    # Should the brace count ever be wrong, the registers it read would sit inside another
    # statement's span: the text is then parsed as it stands, and refused as it is.
    monkeypatch.setattr(parse, "_depth_after", lambda line, depth: 0)
    text = EDGE_FILES[7]
    assert _read_register_blocks(text, "spec.uapi")[0]
    assert parse_file(text, "spec.uapi").syntax_error is not None
    assert _observed(parse_file(text, "spec.uapi")) == _observed(parse_file(text, "spec.uapi", line_shortcuts=False))


def _comments_whole_text(text: str) -> list[tuple[object, ...]]:
    """The comments one search of the whole text finds (strings first: a `#` in one is no
    comment): the oracle for scan_comments, which searches only the lines holding a `#`."""
    found, line, line_start, counted = [], 1, 0, 0
    for match in _STRING_OR_COMMENT.finditer(text):
        pos = match.start()
        if text[pos] != "#":
            continue
        if newlines := text.count("\n", counted, pos):
            line += newlines
            line_start = text.rfind("\n", counted, pos) + 1
        counted = pos
        value = match.group().rstrip("\r")
        column = pos - line_start + 1
        found.append((value, line, column, line, column + len(value), pos))
    return found


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet='"#\\\n\r a{}', max_size=60))
def test_comments_are_those_a_search_of_the_whole_text_finds(text: str) -> None:
    found = [(str(c), c.line, c.column, c.end_line, c.end_column, c.start_pos) for c in scan_comments(text)]
    assert found == _comments_whole_text(text)
