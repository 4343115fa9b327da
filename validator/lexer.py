"""One compiled scanner that feeds lark's LALR parser (lark's own lexer is the bottleneck
on large specs: it tries each terminal in turn).

It is still contextual, as lark's contextual lexer is: a word that spells a keyword is that
keyword only where the parser state accepts it, and a NAME elsewhere (a scenario may be
called `reset`). Positions are lark's: 1-based lines and columns, end exclusive. Comments go
to the lexer callbacks, as lark's lexer sends them, so the directive collector is unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from lark import Token
from lark.exceptions import UnexpectedCharacters
from lark.lexer import Lexer

_WORD = "[A-Za-z_][A-Za-z0-9_]*"
_new_token = str.__new__
_SCANNER = re.compile(
    r"(?P<WS>[ \t\f]+)"
    r"|(?P<_NL>(?:\r?\n[\t \f]*(?:#[^\n]*)?)+)"
    r"|(?P<COMMENT>#[^\n]*)"
    r'|(?P<STRING>"(?:[^"\\\n]|\\["\\])*")'
    r"|(?P<DURATION>[0-9](?:_?[0-9])*(?:ns|us|ms|s)(?![A-Za-z0-9_]))"
    r"|(?P<INT>0[xX][0-9a-fA-F](?:_?[0-9a-fA-F])*|0[bB][01](?:_?[01])*|[0-9](?:_?[0-9])*)"
    rf"|(?P<NAME>{_WORD})"
    r"|(?P<PUNCT>[{}:,()])"
)


class UapiLexer(Lexer):
    __future_interface__ = 2

    def __init__(self, lexer_conf: Any) -> None:
        self.callbacks = lexer_conf.callbacks
        # String terminals of the grammar: keywords and punctuation, by their text.
        self.strings = {t.pattern.value: t.name for t in lexer_conf.terminals if t.pattern.type == "str"}
        self.terminals_by_name = {t.name: t for t in lexer_conf.terminals}

    def lex(self, lexer_state: Any, parser_state: Any) -> Iterator[Token]:
        text_slice = lexer_state.text
        text, pos, end = text_slice.text, text_slice.start, text_slice.end
        line, line_start = 1, 0
        match = _SCANNER.match
        strings, callbacks = self.strings, self.callbacks
        table = parser_state.parse_conf.parse_table.states
        while pos < end:
            found = match(text, pos)
            if found is None:
                raise UnexpectedCharacters(
                    text, pos, line, pos - line_start + 1, state=parser_state, terminals_by_name=self.terminals_by_name
                )
            kind, value = found.lastgroup, found.group()
            column = pos - line_start + 1
            next_pos = found.end()
            if kind == "WS":
                pos = next_pos
                continue
            if kind == "_NL":
                newlines = value.count("\n")
                end_line, end_column = line + newlines, next_pos - (text.rfind("\n", pos, next_pos) + 1) + 1
            else:
                end_line, end_column = line, column + len(value)
            if kind == "NAME":
                keyword = strings.get(value)
                if keyword is not None and keyword in table[parser_state.position]:
                    kind = keyword
            elif kind == "PUNCT":
                kind = strings[value]
            token = _new_token(Token, value)  # lark's Token() adds two layers per token
            token.type, token.value, token.start_pos, token.end_pos = kind, value, pos, next_pos
            token.line, token.column, token.end_line, token.end_column = line, column, end_line, end_column
            # Comments go to the callbacks; a newline only when it folds a comment line in.
            if kind == "COMMENT" or (kind == "_NL" and "#" in value):
                callback = callbacks.get(kind)
                if callback is not None:
                    token = callback(token)
            if kind != "COMMENT":
                yield token
            if kind == "_NL":
                line, line_start = end_line, text.rfind("\n", pos, next_pos) + 1
            pos = next_pos
