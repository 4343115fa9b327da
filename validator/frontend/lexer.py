"""One compiled scanner that feeds lark's LALR parser (lark's own lexer is the bottleneck
on large specs: it tries each terminal in turn).

It is still contextual, as lark's contextual lexer is: a word that spells a keyword is that
keyword only where the parser state accepts it, and a NAME elsewhere (a scenario may be
called `reset`). Positions are lark's: 1-based lines and columns, end exclusive. Comments
never reach the parser: `scan_comments` reads them from the text, for the directives.

Line shortcuts: a large spec is mostly register lines, and lark's LALR loop costs a few
microseconds a token, so the scanner recognises whole lines. Where the parser takes
REG_LINES (in a register, at the start of a line), it matches lines against the patterns
below, one per attribute (a `bits` block as a whole), and hands the run of consecutive
lines that match to the parser as one token, ends of line and comments folded in. Where
the parser takes a statement and every line of a register statement matches, the whole
statement is one REGISTER_BLOCK token. Each pattern accepts only lines the grammar's own
rule accepts; the builder reads the matches and builds what the rules would (the tests
parse every spec, edge cases and mutations both ways and compare). A line that fits no
pattern is scanned word by word and gets the grammar's errors. This cut the parse of 10k
registers from 2.3 s to 0.67 s. The registers at a file's top level do not even reach lark:
validator.frontend.parse reads them with `register_block` first.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from validator.frontend import attributes
from validator.frontend.lalr_parser import Lexer, Token, UnexpectedCharacters
from validator.frontend.literals import INT, SP, STRING, WORD
from validator.model.frozen import frozen

_NL = r"(?:\r?\n[\t \f]*(?:#[^\n]*)?)+"
_new_token = str.__new__
_SCANNER = re.compile(
    r"(?P<WS>[ \t\f]+)"
    rf"|(?P<_NL>{_NL})"
    r"|(?P<COMMENT>#[^\n]*)"
    rf"|(?P<STRING>{STRING})"
    r"|(?P<DURATION>[0-9](?:_?[0-9])*(?:ns|us|ms|s)(?![A-Za-z0-9_]))"
    rf"|(?P<INT>{INT})"
    rf"|(?P<NAME>{WORD})"
    r"|(?P<PUNCT>[{}:,()\[\]])"
)

# -- line shortcuts ----------------------------------------------------------------------------
# Group `code` is the line's code (keyword to last value); `v`, `errno`, ... are its values.
_LINE_END = rf"[ \t\f]*(?P<comment>#[^\n]*)?(?P<nl>{_NL})"


def _line(code: str) -> re.Pattern[str]:
    return re.compile(rf"(?P<code>{code}){_LINE_END}")


# The register attribute lines the scanner recognises whole: one pattern per attribute of
# the table that gives its value's syntax.
REGISTER_LINES: dict[str, re.Pattern[str]] = {
    a.keyword: _line(rf"{a.keyword}{SP}{a.line}") for a in attributes.REGISTER if a.line is not None
}
BIT_LINE = _line(rf"(?P<index>{INT}){SP}(?P<name>{WORD})(?:{SP}since{SP}(?P<since>{STRING}))?")
BITS_OPEN = _line(r"bits[ \t\f]*\{")
BLOCK_CLOSE = _line(r"\}")
REGISTER_HEAD = _line(rf"register{SP}(?P<name>{WORD})[ \t\f]*\{{")


# The line patterns by their keyword's first two letters, the most a line's start is looked
# at before a pattern is tried: a keyword's pattern needs a blank after the keyword, so of
# keywords sharing two letters (reset, reserved, rewrite) only the line's own can match, and
# a line whose first word is no keyword matches none. `bits` opens a block instead.
def _by_first_two(patterns: dict[str, re.Pattern[str]]) -> dict[str, tuple[re.Pattern[str], ...]]:
    table: dict[str, tuple[re.Pattern[str], ...]] = {}
    for keyword, pattern in patterns.items():
        if keyword.startswith("bi"):
            raise ValueError(f"{keyword}: a register keyword starting as `bits` does")
        table[keyword[:2]] = (*table.get(keyword[:2], ()), pattern)
    return table


_LINES_BY_FIRST_TWO = _by_first_two(REGISTER_LINES)

# A line the scanner recognised: its match, its line number and the column where it starts.
ScannedLine = tuple[re.Match[str], int, int]

# What a physical line is, in a register: a blank or comment line (part of the end of line
# before it), an attribute line, a `bits {` line, a bit line, a closing brace, or none of these.
_BLANK, _ATTRIBUTE, _BITS_OPEN, _BIT, _CLOSE, _OTHER = range(6)
_BLANK_LINE = re.compile(r"[ \t\f]*(?:#[^\n]*)?(?:\r?\n)?")
# A physical line's shape: its match (None for a blank line or none), its indent, its kind.
LineShape = tuple["re.Match[str] | None", int, int]


def _shape(physical: str) -> LineShape:
    """What one physical line (its newline included) is, matched on its own text: the match's
    positions are the columns less one, so the same line anywhere has the same shape."""
    indent = len(physical) - len(physical.lstrip(" \t\f"))
    if _BLANK_LINE.fullmatch(physical):
        return None, indent, _BLANK
    for pattern in _LINES_BY_FIRST_TWO.get(physical[indent : indent + 2], ()):
        if (found := pattern.match(physical, indent)) is not None:
            return found, indent, _ATTRIBUTE
    for pattern, kind in ((BITS_OPEN, _BITS_OPEN), (BIT_LINE, _BIT), (BLOCK_CLOSE, _CLOSE)):
        if (found := pattern.match(physical, indent)) is not None:
            return found, indent, kind
    return None, indent, _OTHER


@frozen
class ScannedBits:
    """A `bits { ... }` block of recognised lines, inside a run of register lines."""

    open: ScannedLine
    bits: tuple[ScannedLine, ...]
    close: ScannedLine


class LineRun(Token):
    """A REG_LINES token: consecutive register lines the scanner recognised, for the builder."""

    __slots__ = ("lines",)
    lines: list[ScannedLine | ScannedBits]


class RegisterBlock(Token):
    """A REGISTER_BLOCK token: a whole register statement, every line of it recognised (its
    head, its lines, its closing brace), with the end of line after it."""

    __slots__ = ("close", "head", "lines")
    head: ScannedLine
    lines: list[ScannedLine | ScannedBits]
    close: ScannedLine


class LineScanner(Lexer):
    __future_interface__ = 2
    line_shortcuts = True

    def __init__(self, lexer_conf: Any) -> None:
        # String terminals of the grammar: keywords and punctuation, by their text.
        self.strings = {t.pattern.value: t.name for t in lexer_conf.terminals if t.pattern.type == "str"}
        self.terminals_by_name = {t.name: t for t in lexer_conf.terminals}

    def lex(self, lexer_state: Any, parser_state: Any) -> Iterator[Token]:
        text_slice = lexer_state.text
        text, pos, end = text_slice.text, text_slice.start, text_slice.end
        line, line_start = 1, 0
        match = _SCANNER.match
        strings = self.strings
        table = parser_state.parse_conf.parse_table.states
        at_line_start = self.line_shortcuts
        shapes: dict[str, LineShape] = {}  # this text's register lines (_register_lines)
        while pos < end:
            if at_line_start:
                at_line_start = False
                shortcut = self._shortcut(text, pos, line, line_start, table[parser_state.position], shapes)
                if shortcut is not None:
                    token, pos, line, line_start = shortcut
                    at_line_start = True
                    yield token
                    continue
            found = match(text, pos)
            if found is None:
                raise UnexpectedCharacters(
                    text, pos, line, pos - line_start + 1, state=parser_state, terminals_by_name=self.terminals_by_name
                )
            kind, value = found.lastgroup or "", found.group()  # every alternative is a named group
            column = pos - line_start + 1
            next_pos = found.end()
            if kind == "WS":
                pos = next_pos
                continue
            if kind == "_NL":
                newlines = value.count("\n")
                end_line, end_column = line + newlines, next_pos - (text.rfind("\n", pos, next_pos) + 1) + 1
                at_line_start = self.line_shortcuts
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
            if kind != "COMMENT":  # comments are read apart, by scan_comments
                yield token
            if kind == "_NL":
                line, line_start = end_line, text.rfind("\n", pos, next_pos) + 1
            pos = next_pos

    def _shortcut(
        self, text: str, pos: int, line: int, line_start: int, actions: dict[str, Any], shapes: dict[str, LineShape]
    ) -> tuple[Token, int, int, int] | None:
        """The token for the recognised lines at `pos`, and the position, line and line start
        after them; None where the parser takes no shortcut or the lines are not recognised."""
        token: LineRun | RegisterBlock
        if "REGISTER_BLOCK" in actions and text.startswith("register", pos):
            block = register_block(text, pos, line, line_start, shapes)
            if block is None:
                return None
            head, lines, close, end, end_line, end_line_start = block
            token = _new_token(RegisterBlock, text[pos:end])
            token.type, token.head, token.lines, token.close = "REGISTER_BLOCK", head, lines, close
        elif "REG_LINES" in actions:
            lines, end, end_line, end_line_start = _register_lines(text, pos, line, line_start, shapes)
            if not lines:
                return None
            token = _new_token(LineRun, text[pos:end])
            token.type, token.lines = "REG_LINES", lines
        else:
            return None
        token.value, token.start_pos, token.end_pos = str(token), pos, end
        token.line, token.column = line, pos - line_start + 1
        token.end_line, token.end_column = end_line, end - end_line_start + 1
        return token, end, end_line, end_line_start


def register_block(
    text: str, pos: int, line: int, line_start: int, shapes: dict[str, LineShape]
) -> tuple[ScannedLine, list[ScannedLine | ScannedBits], ScannedLine, int, int, int] | None:
    """A whole register statement of recognised lines at `pos`, or None. `shapes` keeps the
    shapes of the physical lines seen so far in this text (_shape), by their text."""
    opened = REGISTER_HEAD.match(text, pos)
    if opened is None:
        return None
    head: ScannedLine = (opened, line, pos - line_start + 1)
    pos, line, line_start = _after(opened, text, line)
    lines, pos, line, line_start = _register_lines(text, pos, line, line_start, shapes)
    closed = BLOCK_CLOSE.match(text, pos)
    if closed is None:
        return None
    close: ScannedLine = (closed, line, pos - line_start + 1)
    pos, line, line_start = _after(closed, text, line)
    return head, lines, close, pos, line, line_start


def _register_lines(
    text: str, pos: int, line: int, line_start: int, shapes: dict[str, LineShape]
) -> tuple[list[ScannedLine | ScannedBits], int, int, int]:
    """The run of recognised register lines at `pos` (the first word of the line that starts
    at `line_start`): the lines, and the position, line and line start after the run.

    A large spec repeats its lines (`width 64`, `via one_reg`) register after register, so
    each physical line is looked up by its text among the shapes already matched, and only
    a line not seen before is matched (_shape): a lookup costs a fraction of a match."""
    lines: list[ScannedLine | ScannedBits] = []
    if text[line_start:pos].strip(" \t\f") or text[pos : pos + 1] in (" ", "\t", "\f"):
        return lines, pos, line, line_start  # `pos` is no line's first word: no shortcut
    append, find, shape_of = lines.append, text.find, shapes.get
    indent = 0
    while True:
        newline = find("\n", line_start)
        line_end = len(text) if newline < 0 else newline + 1
        physical = text[line_start:line_end]
        if (shape := shape_of(physical)) is None:
            shape = shapes[physical] = _shape(physical)
        found, indent, kind = shape
        if kind == _ATTRIBUTE:
            append((found, line, indent + 1))  # type: ignore[arg-type]
        elif kind == _BITS_OPEN:
            block = _bits_block(text, (found, line, indent + 1), line_end, shapes)  # type: ignore[arg-type]
            if block is None:
                break
            scanned, line, line_start = block
            append(scanned)
            continue
        elif kind != _BLANK or not lines:
            break
        elif newline < 0:  # a blank end of text without a newline
            return lines, line_end, line, line_start
        line, line_start = line + 1, line_end
    return lines, line_start + indent, line, line_start


def _bits_block(
    text: str, head: ScannedLine, line_start: int, shapes: dict[str, LineShape]
) -> tuple[ScannedBits, int, int] | None:
    """A whole `bits { ... }` block of recognised lines from its head (a `bits {` line ending
    before `line_start`): the block, and the line and line start after it; or None (then it
    is scanned word by word)."""
    bits: list[ScannedLine] = []
    line = head[1] + 1
    while True:
        newline = text.find("\n", line_start)
        line_end = len(text) if newline < 0 else newline + 1
        physical = text[line_start:line_end]
        if (shape := shapes.get(physical)) is None:
            shape = shapes[physical] = _shape(physical)
        found, indent, kind = shape
        if kind == _CLOSE:
            return ScannedBits(head, tuple(bits), (found, line, indent + 1)), line + 1, line_end  # type: ignore[arg-type]
        if kind == _BIT:
            bits.append((found, line, indent + 1))  # type: ignore[arg-type]
        elif kind != _BLANK or newline < 0:
            return None
        line, line_start = line + 1, line_end


def _after(found: re.Match[str], text: str, line: int) -> tuple[int, int, int]:
    """Position, line and line start after a recognised line and its end of line."""
    nl_at, nl_end = found.span("nl")
    if nl_end - nl_at == 1:  # most lines end in one newline and nothing more
        return nl_end, line + 1, nl_end
    return nl_end, line + text.count("\n", nl_at, nl_end), text.rfind("\n", nl_at, nl_end) + 1


_STRING_OR_COMMENT = re.compile(rf"{STRING}|#[^\n]*")


def scan_comments(text: str) -> tuple[Token, ...]:
    """Every comment of the text, as COMMENT tokens with lark's positions (a `#` inside a
    string is no comment; only strings and comments can hold one). The trailing carriage
    return of a CRLF line is the line's end, not the comment's.

    Only the lines that hold a `#` are scanned, each from its start: neither a string nor a
    comment spans lines, so a line's strings and comments are those a scan of the whole text
    finds there (a large spec's lines are mostly without one)."""
    comments = []
    line, counted = 1, 0
    hash_at = text.find("#")
    while hash_at >= 0:
        line_start = text.rfind("\n", 0, hash_at) + 1
        line_end = text.find("\n", hash_at)
        line_end = len(text) if line_end < 0 else line_end
        for found in _STRING_OR_COMMENT.finditer(text, line_start, line_end):
            pos = found.start()
            if text[pos] != "#":
                continue
            line += text.count("\n", counted, pos)
            counted = pos
            value = found.group().rstrip("\r")
            column = pos - line_start + 1
            token = _new_token(Token, value)
            token.type, token.value, token.start_pos, token.end_pos = "COMMENT", value, pos, pos + len(value)
            token.line, token.column, token.end_line, token.end_column = line, column, line, column + len(value)
            comments.append(token)
            break  # a comment runs to the end of its line
        hash_at = text.find("#", line_end)
    return tuple(comments)


class WordScanner(LineScanner):
    """The scanner without line shortcuts: every line word by word (the tests compare both)."""

    line_shortcuts = False
