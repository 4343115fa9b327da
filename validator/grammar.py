"""Loads the grammar (located by `validator.resources`) into a lark LALR parser."""

from __future__ import annotations

from collections.abc import Callable

from lark import Lark, Token, Transformer

from validator.lexer import UapiLexer, WordLexer
from validator.resources import grammar_file


def grammar_text() -> str:
    return grammar_file().read_text(encoding="utf-8")


def build_parser(
    *,
    strict: bool = False,
    lexer_callbacks: dict[str, Callable[[Token], Token]] | None = None,
    transformer: Transformer | None = None,
    line_shortcuts: bool = True,
) -> Lark:
    """The LALR parser, fed by the project's scanner; with `transformer`, applied as it reduces.

    `line_shortcuts=False` scans every line word by word (see validator.lexer).
    """
    return Lark(
        grammar_text(),
        parser="lalr",
        lexer=UapiLexer if line_shortcuts else WordLexer,
        keep_all_tokens=True,  # the builder takes spans from each rule's own tokens
        maybe_placeholders=True,
        strict=strict,
        lexer_callbacks=lexer_callbacks or {},
        transformer=transformer,
    )
