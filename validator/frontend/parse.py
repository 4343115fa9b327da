"""One file's text to its model: scanned (validator.frontend.lexer), parsed by lark's LALR parser into a
tree, built (validator.frontend.build); its comments, and its syntax error at file:line:col."""

from __future__ import annotations

import bisect
import heapq
import re
from collections.abc import Iterator
from functools import cache
from typing import Any

from validator.frontend.build import Readings, SpecBuilder, build_file, register_from_lines
from validator.frontend.grammar import build_lark_parser
from validator.frontend.lalr_parser import Lark, Token, Tree, UnexpectedCharacters, UnexpectedInput, UnexpectedToken
from validator.frontend.lexer import LineShape, register_block, scan_comments
from validator.frontend.literals import STRING
from validator.model import spec as m
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
_STRING_OR_COMMENT = re.compile(rf"{STRING}|#[^\n]*")


def _parser(line_shortcuts: bool = True) -> Lark:
    return _built_parser(line_shortcuts)


@cache  # by the flag's value: `_parser()` and `_parser(True)` are the same parser
def _built_parser(line_shortcuts: bool) -> Lark:
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


class StatementCache:
    """The statements an editor's document was last parsed into, by their text and first
    line, so that the next version re-parses only the statements that changed.

    Top-level statements are independent units of text: a statement's model depends only on
    its own lines and where they start. A keystroke changes one statement; one that adds or
    removes a line moves the statements after it, which are parsed again. The caller (the
    language server, one per open document) owns it: there is no state between calls
    otherwise."""

    def __init__(self) -> None:
        self._kept: dict[tuple[str, int, str], list[Any]] = {}

    def statements(self, source: str, path: str) -> list[Any] | None:
        """The statements of `source`, each from the last parse or parsed alone; None where
        a statement does not parse alone (the whole file is then parsed, for its error), or
        where most changed (parsing the file at once is cheaper than piece by piece)."""
        chunks = _top_level_chunks(source)
        misses = sum((path, first_line, chunk) not in self._kept for first_line, chunk in chunks)
        if misses > max(len(chunks) // 4, 8):
            return None
        kept: dict[tuple[str, int, str], list[Any]] = {}
        found: list[Any] = []
        for first_line, chunk in chunks:
            key = (path, first_line, chunk)
            built = self._kept.get(key)
            if built is None:
                try:  # blank lines before it put its first line where it stands in the file
                    tree = _parser().parse("\n" * (first_line - 1) + chunk)
                except UnexpectedInput:
                    return None
                built = SpecBuilder(path).transform(tree)
            kept[key] = built
            found.extend(built)
        self._kept = kept
        return found

    def remember(self, source: str, path: str, statements: list[Any]) -> None:
        """Keep the statements of a whole-file parse, each under the piece it starts in."""
        chunks = _top_level_chunks(source)
        firsts = [first_line for first_line, _ in chunks]
        pieces: list[list[Any]] = [[] for _ in chunks]
        for statement in statements:
            pieces[bisect.bisect_right(firsts, statement.span.line) - 1].append(statement)
        self._kept = {(path, first, chunk): piece for (first, chunk), piece in zip(chunks, pieces, strict=True)}


def _top_level_chunks(source: str) -> list[tuple[int, str]]:
    """The text split where top-level statements start (a line at brace depth 0 that begins
    with a word), each piece with its first line; comments and blank lines stay with the
    statement before them (the first piece takes what precedes the first statement)."""
    lines = source.split("\n")
    starts, offsets = [0], [0]
    depth = offset = 0
    for number, line in enumerate(lines):
        if not depth and number and line[:1].isalpha():
            starts.append(number)
            offsets.append(offset)
        if "{" in line or "}" in line:  # only braces change the depth
            depth = _depth_after(line, depth)
        offset += len(line) + 1
    ends = [*offsets[1:], len(source)]
    return [(start + 1, source[begin:end]) for start, begin, end in zip(starts, offsets, ends, strict=True)]


def _depth_after(line: str, depth: int) -> int:
    """The brace depth after one line (braces in strings and comments do not count; a
    statement spans lines only inside braces, and a string never spans lines)."""
    code = _STRING_OR_COMMENT.sub("", line) if ('"' in line or "#" in line) else line
    return max(depth + code.count("{") - code.count("}"), 0)


def _read_register_blocks(source: str, path: str) -> tuple[list[m.Register], str]:
    """The register statements at the top level whose every line the scanner recognises,
    built directly, and the text left for the parser: those statements' lines emptied, so
    that the lines and columns of the rest are unchanged.

    A large spec is mostly such statements, and handing each to the parser as one token
    still cost a third of its parse. A statement starts at a line's first column; it is at
    the top level when the braces before it are closed (statements span lines only inside
    braces). What is left is parsed as before, and the statements merge by line."""
    registers: list[m.Register] = []
    kept: list[str] = []
    depth, line = 0, 1
    shapes: dict[str, LineShape] = {}  # the text's register lines (lexer._register_lines)
    readings: Readings = {}  # and what they say (build._reading)
    done = 0  # the text before this is in `kept`
    scanned = 0  # the text before this is counted in `depth` and `line`
    at = 0 if source.startswith("register") else _next_register(source, 0)
    while at >= 0:
        for code in source[scanned:at].split("\n")[:-1]:
            if "{" in code or "}" in code:
                depth = _depth_after(code, depth)
        line += source.count("\n", scanned, at)
        scanned = at
        block = register_block(source, at, line, at, shapes) if depth == 0 else None
        if block is not None:
            head, lines, _close, _end, end_line, end_line_start = block
            registers.append(register_from_lines(path, head, lines, readings))
            kept += (source[done:at], "\n" * (end_line - line))
            done = scanned = end_line_start
            line = end_line
        at = _next_register(source, max(scanned, at + 1))
    if not registers:
        return registers, source
    kept.append(source[done:])
    return registers, "".join(kept)


def _next_register(source: str, start: int) -> int:
    """Where the next line from `start` on that begins with `register` starts, or -1."""
    found = source.find("\nregister", max(start - 1, 0))
    return -1 if found < 0 else found + 1


def parse_file(text: str, path: str, *, line_shortcuts: bool = True, reuse: StatementCache | None = None) -> SpecFile:
    """The model of one file's text; a file the grammar refuses has its `syntax_error` and
    only its directives (an `# expect: E101` on the offending line among them).

    `line_shortcuts=False` scans word by word, for the tests that compare both ways; `reuse`
    keeps an editor's statements between versions of a document (StatementCache).
    """
    # A final newline lets the last statement end like every other; positions are unchanged.
    source = text if text.endswith("\n") else text + "\n"
    comments = scan_comments(source)
    if reuse is not None and line_shortcuts:
        statements = reuse.statements(source, path)
        if statements is not None:
            return build_file(statements, comments, path, text)
    try:
        statements = _statements(source, path, line_shortcuts)
    except UnexpectedInput as exc:
        return build_file(None, comments, path, text, _syntax_error(exc, path, source))
    if reuse is not None:
        reuse.remember(source, path, statements)
    return build_file(statements, comments, path, text)


def _statements(source: str, path: str, line_shortcuts: bool) -> list[Any]:
    """The statements of a text, in order; lark's UnexpectedInput as the whole text gives it
    (its position, what was expected there) where the grammar refuses it."""
    parser = _parser(line_shortcuts)
    registers, rest = _read_register_blocks(source, path) if line_shortcuts else ([], source)
    if registers:
        try:
            tree = parser.parse(rest)
        except UnexpectedInput:
            pass
        else:
            # The brace count found these registers at the top level; should it be wrong
            # (a register inside another statement's braces), that statement would be left
            # whole around the emptied lines: the text is parsed as it stands instead.
            lines = [register.span.line for register in registers]
            if not any(_lines_between(lines, first, last) for first, last in _statement_lines(tree)):
                others = SpecBuilder(path).transform(tree)
                return list(heapq.merge(others, registers, key=lambda statement: statement.span.line))
    return SpecBuilder(path).transform(parser.parse(source))


def _statement_lines(tree: Tree) -> Iterator[tuple[int, int]]:
    """The first and last line of each top-level statement (every token is kept; the line
    ends between statements are not statements)."""
    for statement in tree.children:
        if isinstance(statement, Token):
            tokens = [] if statement.type == "_NL" else [statement]
        else:
            tokens = list(_tokens(statement))
        if tokens:
            yield start_of(tokens[0])[0], end_of(tokens[-1])[0]


def _tokens(tree: Tree) -> Iterator[Token]:
    """The tokens of a tree, in order (lark's `scan_values`, which the standalone parser lacks)."""
    for child in tree.children:
        if isinstance(child, Tree):
            yield from _tokens(child)
        elif isinstance(child, Token):
            yield child


def _lines_between(lines: list[int], first: int, last: int) -> bool:
    """Whether a sorted list of lines holds one from `first` to `last`."""
    at = bisect.bisect_left(lines, first)
    return at < len(lines) and lines[at] <= last


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
