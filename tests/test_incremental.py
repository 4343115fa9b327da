"""The language server re-parses only the statements an edit changed (StatementCache): the
model must be the one a whole-file parse gives, for every spec and after any edits."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import ROOT
from validator.frontend.parse import StatementCache, _top_level_chunks, parse_file

SPECS = sorted(
    [
        *ROOT.glob("spec/kvm/*/*.uapi"),
        *ROOT.glob("spec/rules/*/*.uapi"),
        *(ROOT.parent / "shared/dsl/examples").glob("*.uapi"),
    ]
)
TEXTS = [p.read_text() for p in SPECS]
# Characters that change the structure: braces, quotes, comments, new lines, words, numbers.
PIECES = st.sampled_from(
    ["{", "}", '"', "#", "\n", " ", "x", "0", "register R {\n", "}\n", "  id 0x1\n", "# expect: E101"]
)


@pytest.mark.parametrize("path", SPECS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_spec_parsed_by_statement_is_the_whole_file_parse(path: Path) -> None:
    text = path.read_text()
    cache = StatementCache()
    assert parse_file(text, str(path), reuse=cache) == parse_file(text, str(path))  # the first: whole, kept
    assert parse_file(text, str(path), reuse=cache) == parse_file(text, str(path))  # the second: every piece kept


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(range(len(TEXTS))),
    st.lists(st.tuples(st.floats(0, 1), st.integers(0, 3), PIECES), min_size=1, max_size=6),
)
def test_after_any_edits_the_model_is_the_whole_file_parse(which: int, edits: list) -> None:
    text, path = TEXTS[which], str(SPECS[which])
    cache = StatementCache()
    parse_file(text, path, reuse=cache)
    for where, deleted, inserted in edits:
        at = int(where * len(text))
        text = text[:at] + inserted + text[at + deleted :]
        assert parse_file(text, path, reuse=cache) == parse_file(text, path)


def test_pieces_start_at_top_level_words_and_cover_the_text() -> None:
    text = '# a header\napi "x/y" version "1"\n\nregister A {\n  doc "a { in a string"\n  bits {\n    0 B\n  }\n}\n# trailing\nlock l : vm\n'
    chunks = _top_level_chunks(text)
    assert [first for first, _ in chunks] == [1, 2, 4, 11]
    assert "".join(chunk for _, chunk in chunks) == text
