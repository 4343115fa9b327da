"""One file's text to its model: scanned (validator.frontend.lexer), parsed by lark's LALR parser into a
tree, built (validator.frontend.build); its comments, and its syntax error at file:line:col."""

from __future__ import annotations

from functools import cache

from lark import Lark, Token
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from validator.frontend.build import SpecBuilder, build_file
from validator.frontend.grammar import build_lark_parser
from validator.frontend.lexer import scan_comments
from validator.model.findings import Problem
from validator.model.spans import Span, end_of, start_of
from validator.model.spec import SpecFile

_TERMINAL_WORDS = {
    "NAME": "a name",
    "INT": "an integer",
    "STRING": "a string",
    "DURATION": "a duration such as 2us",
    "_NL": "end of line",
    "$END": "end of file",
}

_SHORTCUTS = ("REG_LINES", "REGISTER_BLOCK")


@cache
def _parser(line_shortcuts: bool = True) -> Lark:
    return build_lark_parser(line_shortcuts=line_shortcuts)


def decode(data: bytes, path: str) -> str | Problem:
    """Bytes to text: UTF-8 with an optional BOM; a bad byte is a syntax error at its position."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        column = len(before) - (before.rfind(b"\n") + 1) + 1
        return Problem(
            Span.point(path, line, column),
            f"the file is not valid UTF-8 (byte 0x{data[exc.start]:02x})",
        )


def parse_file(text: str, path: str, *, line_shortcuts: bool = True) -> SpecFile:
    """The model of one file's text; a file the grammar refuses has its `syntax_error` and
    only its directives (an `# expect: E101` on the offending line among them).

    `line_shortcuts=False` scans word by word, for the tests that compare both ways.
    """
    # A final newline lets the last statement end like every other; positions are unchanged.
    source = text if text.endswith("\n") else text + "\n"
    comments = scan_comments(source)
    try:
        tree = _parser(line_shortcuts).parse(source)
    except UnexpectedInput as exc:
        return build_file(None, comments, path, text, _syntax_error(exc, path, source))
    return build_file(SpecBuilder(path).transform(tree), comments, path, text)


def _syntax_error(exc: UnexpectedInput, path: str, source: str) -> Problem:
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
    return Problem(span, message)


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
