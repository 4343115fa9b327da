"""Text to lark tree, with the comments and syntax errors (E101) at file:line:col."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from functools import cache
from typing import Any, cast

from lark import Lark, Token
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from validator.build import done_parsing, make_builder, parsing
from validator.findings import Finding
from validator.grammar import build_parser
from validator.spans import Span, end_of, start_of

_TERMINAL_WORDS = {
    "NAME": "a name",
    "INT": "an integer",
    "STRING": "a string",
    "DURATION": "a duration such as 2us",
    "_NL": "end of line",
    "$END": "end of file",
}

_SHORTCUTS = ("REG_LINES", "REGISTER_BLOCK")

# Where the lexer puts the comments of the parse in progress. Comments are %ignored by the
# grammar; lark still hands each one to a lexer callback, which appends it here.
_comment_sink: ContextVar[list[Token] | None] = ContextVar("uapi_comment_sink", default=None)


def _collect_comment(token: Token) -> Token:
    sink = _comment_sink.get()
    if sink is not None:
        sink.append(token)
    return token


def _collect_line_comments(token: Token) -> Token:
    """A newline token folds in comment-only lines; set their comments aside too."""
    sink = _comment_sink.get()
    if sink is None or "#" not in token:
        return token
    line = start_of(token)[0]
    for text in token.split("\n")[1:]:
        line += 1
        stripped = text.lstrip(" \t\f")
        if stripped.startswith("#"):
            column = len(text) - len(stripped) + 1
            text = stripped.rstrip("\r")
            sink.append(Token("COMMENT", text, line=line, column=column, end_line=line, end_column=column + len(text)))
    return token


@cache
def _parser(line_shortcuts: bool = True) -> Lark:
    return build_parser(
        lexer_callbacks={"COMMENT": _collect_comment, "_NL": _collect_line_comments},
        transformer=make_builder(),
        line_shortcuts=line_shortcuts,
    )


@dataclass(frozen=True, slots=True)
class ParsedText:
    statements: list[Any] | None  # the built declarations; None when the text has a syntax error
    comments: tuple[Token, ...]
    error: Finding | None


def decode(data: bytes, path: str) -> str | Finding:
    """Bytes to text: UTF-8 with an optional BOM; a bad byte is an E101 at its position."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        column = len(before) - (before.rfind(b"\n") + 1) + 1
        return Finding(
            "E101",
            Span.point(path, line, column),
            f"the file is not valid UTF-8 (byte 0x{data[exc.start]:02x})",
        )


def parse_text(text: str, path: str, *, line_shortcuts: bool = True) -> ParsedText:
    """Parse one file's text (`line_shortcuts=False`: word by word, for the tests)."""
    comments: list[Token] = []
    # A final newline lets the last statement end like every other; positions are unchanged.
    source = text if text.endswith("\n") else text + "\n"
    reset = _comment_sink.set(comments)
    path_reset = parsing(path)
    try:
        # The builder runs inside the parser: what comes out is its list of statements.
        statements = cast(list[Any], _parser(line_shortcuts).parse(source))
    except UnexpectedInput as exc:
        error = _syntax_error(exc, path, source)
        # The parse stopped at the error; lex the whole text so that directives after it
        # (an `# expect: E101` on the offending line among them) are still seen.
        comments.clear()
        _lex_for_comments(source)
        return ParsedText(None, tuple(comments), error)
    finally:
        _comment_sink.reset(reset)
        done_parsing(path_reset)
    return ParsedText(statements, tuple(comments), None)


def _lex_for_comments(source: str) -> None:
    try:
        for _ in _parser().lex(source):
            pass
    except UnexpectedInput:
        pass  # comments up to an unlexable character are kept


def _syntax_error(exc: UnexpectedInput, path: str, source: str) -> Finding:
    expected = _describe_expected(_expected_terminals(exc))
    if isinstance(exc, UnexpectedToken) and exc.token.type != "$END":
        token = exc.token
        found = _describe_token(token)
        line, column = start_of(token)
        end_line, end_column = end_of(token)
        span = Span(path, line, column, end_line or line, end_column or column + 1)
        if token.type == "_NL":
            span = Span.point(path, line, column)
    elif isinstance(exc, UnexpectedCharacters):
        at = exc.pos_in_stream or 0
        char = source[at] if at < len(source) else ""
        found = f"character {char!r}"
        span = Span.point(path, exc.line, exc.column)
    else:  # UnexpectedEOF, or UnexpectedToken at $END: point just past the last character
        lines = source[:-1].split("\n")
        found = "end of file"
        span = Span.point(path, len(lines), len(lines[-1]) + 1)
    message = f"unexpected {found}"
    if expected:
        message += f"; expected {expected}"
    return Finding("E101", span, message)


def _expected_terminals(exc: UnexpectedInput) -> object:
    """What the parser would have accepted.

    The parser state knows; the lexer's own list also offers NAME everywhere (see
    grammar._WholeWords), which would suggest "a name" where none is allowed.
    """
    state = getattr(exc, "state", None)
    parse_conf = getattr(state, "parse_conf", None)
    if parse_conf is not None:
        # The table holds the goto entries of rules too; only terminals (upper case) are
        # expected, and not the scanner's line shortcuts: the words they stand for are.
        actions = parse_conf.parse_table.states[state.position]  # type: ignore[union-attr]
        return [name for name in actions if (name.isupper() or name == "$END") and name not in _SHORTCUTS]
    return getattr(exc, "expected", None) or getattr(exc, "allowed", None)


def _describe_token(token: Token) -> str:
    if token.type == "_NL":
        return "end of line"
    if token.type in ("INT", "STRING", "DURATION"):
        return f"{_TERMINAL_WORDS[token.type].split(' ')[1]} {token!s}"
    return repr(str(token))


def _describe_expected(names: object) -> str:
    if not names:
        return ""
    terminals = {t.name: t for t in _parser().terminals}
    words = set()
    for name in names:  # type: ignore[attr-defined]
        if name in _TERMINAL_WORDS:
            words.add(_TERMINAL_WORDS[name])
        elif name in terminals and terminals[name].pattern.type == "str":
            words.add(repr(terminals[name].pattern.value).replace("'", '"'))
        else:
            words.add(name.lower())
    ordered = sorted(words)
    if len(ordered) == 1:
        return ordered[0]
    return "one of " + ", ".join(ordered)
