"""Loads the grammar (located by `validator.resources`)."""

from __future__ import annotations

from collections.abc import Callable

from lark import Lark, Token

from validator.resources import grammar_file


def grammar_text() -> str:
    return grammar_file().read_text(encoding="utf-8")


class _WholeWords:
    """Offer NAME to the contextual lexer in every state.

    Keywords are string terminals; without NAME beside them a keyword would match a prefix
    (`vmm` lexing as `vm` + `m`). With NAME present, lark re-types a NAME that equals a
    keyword, so keywords are whole words and a misspelling is reported as the name it is.
    """

    always_accept = ("NAME",)

    def process(self, stream):
        return stream


def build_parser(*, strict: bool = False, lexer_callbacks: dict[str, Callable[[Token], Token]] | None = None) -> Lark:
    return Lark(
        grammar_text(),
        parser="lalr",
        propagate_positions=True,
        maybe_placeholders=True,
        strict=strict,
        lexer_callbacks=lexer_callbacks or {},
        postlex=_WholeWords(),
    )
