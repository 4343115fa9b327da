"""The canonical layout of a `.uapi` file (`uapi-validator fmt`).

The language is line-oriented, so the formatter works on lines: every comment stays on its
line (a comment on a line of its own moves with the line below it), attributes take the
order of LANGUAGE.md, values and trailing comments line up, and declarations are separated
by one blank line. A file that does not parse is not formatted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from validator.frontend.attributes import ORDER
from validator.frontend.parse import parse_file
from validator.model.findings import Problem

COMMENT_COLUMN = 42  # trailing comments start here when the code is shorter (as the examples do)
INDENT = "  "
_TRAILING = ("since", "doc")  # attributes that close a block: they do not widen its column
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[A-Za-z0-9_]+|[{}():,]|\S')


class FormatError(Exception):
    """The file does not parse, so it is left as it is."""

    def __init__(self, problem: Problem) -> None:
        span = problem.span
        super().__init__(f"{span.path}:{span.line}:{span.column}: {problem.message}")


@dataclass
class _Line:
    code: str  # without its comment, whitespace collapsed
    comment: str | None  # trailing comment (with its '#')
    above: list[str] = field(default_factory=list)  # comment-only lines that belong to this line
    raw: str = ""  # the code as written (its keyword's column of values)


def _split(line: str) -> tuple[str, str | None]:
    """Code and trailing comment; a '#' inside a string is not a comment."""
    in_string = escaped = False
    for index, char in enumerate(line):
        if in_string:
            escaped = char == "\\" and not escaped
            if char == '"' and not escaped:
                in_string = False
            elif char != "\\":
                escaped = False
        elif char == '"':
            in_string = True
        elif char == "#":
            return line[:index].strip(), line[index:].rstrip()
    return line.strip(), None


def _normal(code: str) -> str:
    """Tokens joined by single spaces, the language's punctuation spaced as the examples are."""
    out = ""
    tokens = _TOKEN.findall(code)
    for index, token in enumerate(tokens):
        previous = tokens[index - 1] if index else ""
        tight = token in (",", ")", "[", "]") or previous in ("(", "[")  # `u64[14]`, `sysreg(3, 0, ...)`
        if not out or tight or (token == "(" and previous == "sysreg"):
            out += token
        else:
            out += " " + token
    return out


def _with_comment(code: str, comment: str | None) -> str:
    if comment is None:
        return code
    if not code:
        return comment
    return code.ljust(COMMENT_COLUMN - 1) + comment if len(code) < COMMENT_COLUMN - 1 else f"{code} {comment}"


def _keyword(code: str) -> str:
    """An attribute line's keyword; a flags set's bit lines (`0 NAME`) sort as `bit`."""
    word = code.split(" ", 1)[0]
    return "bit" if word[:1].isdigit() else word


def format_text(text: str, path: str = "<text>") -> str:
    error = parse_file(text, path).syntax_error
    if error is not None:
        raise FormatError(error)
    lines = [_split(raw) for raw in text.replace("\r\n", "\n").split("\n")]
    out: list[str] = []
    pending: list[str] = []  # comment-only lines waiting for the code line they belong to
    index = 0
    block_before = False
    single_before = False  # the last line written is a one-line statement
    while index < len(lines):
        code, comment = lines[index]
        if not code and comment is None:  # blank
            if pending:
                out.extend(pending)
                pending = []
            if out and out[-1] != "":
                out.append("")
            index += 1
            continue
        if not code:
            pending.append(comment)  # type: ignore[arg-type]
            index += 1
            continue
        code = _normal(code)
        if code.endswith("{"):
            body, index = _block(lines, index + 1, code.split(" ", 1)[0])
            # A block follows a one-line statement (`lock`, `include`) directly or after a
            # blank line, as the author wrote it; anything else is set apart by one.
            if out and out[-1] != "" and not (single_before and not pending):
                out.append("")
            out.extend(pending)
            pending = []
            out.append(_with_comment(code, comment))
            out.extend(body)
            out.append("")
            block_before, single_before = True, False
            index += 1
            continue
        if block_before and out and out[-1] != "":
            out.append("")
        block_before = False
        out.extend(pending)
        pending = []
        out.append(_with_comment(code, comment))
        single_before = True
        index += 1
    out.extend(pending)
    out = _align_locks(out)
    while out and out[-1] == "":
        out.pop()
    collapsed: list[str] = []
    for line in out:
        if line == "" and (not collapsed or collapsed[-1] == ""):
            continue
        collapsed.append(line)
    return "\n".join(collapsed) + "\n"


def _read_line(lines: list[tuple[str, str | None]], index: int) -> tuple[_Line, int]:
    """The next line of code from `index`, with the comment-only lines above it, and its index."""
    above: list[str] = []
    while True:
        code, comment = lines[index]
        if code:
            return _Line(_normal(code), comment, above, code), index
        if comment is not None:
            above.append(comment)
        index += 1


def _block(lines: list[tuple[str, str | None]], index: int, kind: str) -> tuple[list[str], int]:
    """The formatted body of a block and the index of its closing brace."""
    items: list[tuple[_Line, list[_Line]]] = []  # an attribute line, and its nested lines (bits)
    while True:
        line, index = _read_line(lines, index)
        if line.code == "}":
            closing = line
            break
        nested: list[_Line] = []
        if line.code.endswith("{"):  # bits { ... }, up to and with its own closing brace
            while not nested or nested[-1].code != "}":
                inner, index = _read_line(lines, index + 1)
                nested.append(inner)
        items.append((line, nested))
        index += 1
    order = ORDER.get(kind, ())
    # A struct's fields and pads are its layout: their order is meaning, so they sort as one.
    same = {"pad": "field"} if kind in ("struct", "union") else {}

    def rank(item: tuple[_Line, list[_Line]]) -> int:
        keyword = _keyword(item[0].code)
        keyword = same.get(keyword, keyword)
        return order.index(keyword) if keyword in order else len(order)

    items.sort(key=rank)
    # Values line up after the longest keyword. LANGUAGE.md's examples do it two ways where
    # `since` or `doc` is the longest: the column counts them, or they take one space after
    # the others' column. The author's way is kept; counting them is the default.
    keywords = [_keyword(line.code) for line, _ in items]
    core = [k for k in keywords if k not in _TRAILING] or keywords
    width = max((len(k) for k in keywords), default=0) + 1
    narrow = max((len(k) for k in core), default=0) + 1
    if narrow < width and _written_column(items, core) == narrow:
        width = narrow
    body: list[str] = []
    for line, nested in items:
        body.extend(INDENT + c for c in line.above)
        keyword, _, rest = line.code.partition(" ")
        # `bits {` opens a block of its own: it is not a value to line up; nor is a flags
        # set's bit number.
        aligned = not nested and rest and not keyword[:1].isdigit()
        code = INDENT + (keyword.ljust(width) if len(keyword) < width else keyword + " ") + rest
        code = code if aligned else INDENT + line.code
        body.append(_with_comment(code, line.comment))
        body.extend(_bits(nested))
    body.extend(INDENT + c for c in closing.above)
    body.append(_with_comment("}", closing.comment))
    return body, index


def _written_column(items: list[tuple[_Line, list[_Line]]], keywords: list[str]) -> int | None:
    """Where the author put the values of the first line whose keyword is one of `keywords`."""
    for line, nested in items:
        if not nested and _keyword(line.code) in keywords:
            found = re.match(r"(\S+)(\s+)\S", line.raw)
            return len(found.group(1)) + len(found.group(2)) if found else None
    return None


def _bits(nested: list[_Line]) -> list[str]:
    """Bit lines with their names lined up; the closing brace of the bits block."""
    entries = [n for n in nested if n.code != "}"]
    name_width = max((len(n.code.split(" ")[1]) for n in entries if len(n.code.split(" ")) > 1), default=0)
    out: list[str] = []
    for entry in nested:
        out.extend(INDENT * 2 + c for c in entry.above)
        if entry.code == "}":
            out.append(_with_comment(INDENT + "}", entry.comment))
            continue
        parts = entry.code.split(" ", 2)
        code = (
            INDENT * 2 + parts[0] + " " + (parts[1].ljust(name_width) + " " + parts[2] if len(parts) > 2 else parts[1])
        )
        out.append(_with_comment(code.rstrip(), entry.comment))
    return out


def _align_locks(out: list[str]) -> list[str]:
    """Consecutive `lock NAME : SCOPE "..."` lines, their names and scopes lined up."""
    pattern = re.compile(r'^lock (\S+) : (\S+)( "(?:[^"\\]|\\.)*")?(\s+#.*)?$')
    result = list(out)
    index = 0
    while index < len(result):
        run: list[int] = []
        while index + len(run) < len(result) and pattern.match(result[index + len(run)]):
            run.append(index + len(run))
        if len(run) > 1:
            matches = [pattern.match(result[i]) for i in run]
            name_width = max(len(m.group(1)) for m in matches)  # type: ignore[union-attr]
            scope_width = max(len(m.group(2)) for m in matches)  # type: ignore[union-attr]
            for i, found in zip(run, matches, strict=True):
                name, scope, description, comment = found.groups()  # type: ignore[union-attr]
                code = f"lock {name.ljust(name_width)} : " + (
                    scope.ljust(scope_width) + description if description else scope
                )
                result[i] = _with_comment(code, comment.strip() if comment else None)
        index += max(len(run), 1)
    return result
