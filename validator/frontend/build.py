"""Parse tree to model: a lark Transformer that builds and never judges.

Each attribute method returns an `_Item` (keyword, value, span); each declaration folds its
items into fields. An attribute given twice keeps its first value and is recorded as
repeated, for the resolver to report. Lines the scanner recognised whole (see
validator.frontend.lexer) arrive as regex matches and are built at the end of this module.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, NamedTuple

from validator.frontend.attributes import REGISTER, Line
from validator.frontend.lalr_parser import Token, Transformer
from validator.frontend.lexer import BIT_LINE, REGISTER_LINES, LineRun, RegisterBlock, ScannedBits, ScannedLine
from validator.frontend.literals import parse_duration_ns, parse_int, unquote
from validator.frontend.textfile import split_lines
from validator.model import spec as m
from validator.model.findings import Problem
from validator.model.spans import Span, end_of, start_of

# A directive runs to the next `#` that starts another directive, or to the end.
_DIRECTIVE = re.compile(
    r"#\s*(expect|allow|baseline|todo|header)\s*:((?:(?!#\s*(?:expect|allow|baseline|todo|header)\s*:).)*)"
)


def directive_bodies(text: str, kind: str) -> list[str]:
    """The bodies of the `kind` directives (`header`, `baseline` ...) written anywhere in
    `text`, as the builder reads them from comments: a superset, since a directive's words
    inside a string are found too (a caller that must be exact loads the file)."""
    return [body.strip() for found, body in _DIRECTIVE.findall(text) if found == kind]


class _Item(NamedTuple):  # one per attribute line: a named tuple is five times quicker to make
    keyword: str
    value: Any
    span: Span


def build_file(
    statements: list[Any] | None,
    comments: tuple[Token, ...],
    path: str,
    text: str,
    syntax_error: Problem | None = None,
) -> m.SpecFile:
    """The model of one parsed file (with no statements: its directives and text only)."""
    statements = statements or []
    kinds: dict[str, list[Any]] = {"api": [], "include": [], "abi": [], "decl": []}
    for statement in statements:
        key = "decl"
        if isinstance(statement, m.Api):
            key = "api"
        elif isinstance(statement, m.Include):
            key = "include"
        elif isinstance(statement, m.Abis):
            key = "abi"
        kinds[key].append(statement)
    lines = split_lines(text)
    expects, allows, todos, headers, baseline = _directives(comments, path, lines)
    return m.SpecFile(
        path=path,
        api=tuple(kinds["api"]),
        includes=tuple(kinds["include"]),
        declarations=tuple(kinds["decl"]),
        expects=expects,
        allows=allows,
        baseline=baseline,
        todos=todos,
        headers=headers,
        abis=tuple(kinds["abi"]),
        syntax_error=syntax_error,
        text=text,
    )


def _directives(
    comments: tuple[Token, ...], path: str, lines: list[str]
) -> tuple[
    tuple[m.Expect, ...],
    tuple[m.Allow, ...],
    tuple[m.Todo, ...],
    tuple[m.HeaderDirective, ...],
    m.BaselineDirective | None,
]:
    """Directives in comments; one comment may hold several (`# expect: D802 # allow: ...`)."""
    expects, allows, todos, headers, baseline = [], [], [], [], None
    for comment in comments:
        span = Span.of(path, comment)
        for kind, body in _DIRECTIVE.findall(str(comment)):
            body = body.strip()
            if kind == "expect":
                expects.append(m.Expect(span.line, _codes(body), span))
            elif kind == "allow":
                codes_text, _, reason = body.partition("--")
                target = _target_line(lines, span.line, span.column)
                allows.append(m.Allow(span.line, _codes(codes_text), reason.strip(), span, target))
            elif kind == "todo":
                todos.append(m.Todo(span.line, body, span))
            elif kind == "header":
                headers.append(m.HeaderDirective(body, span))
            elif baseline is None:
                baseline = m.BaselineDirective(body, span)
    return tuple(expects), tuple(allows), tuple(todos), tuple(headers), baseline


def _codes(text: str) -> tuple[str, ...]:
    return tuple(c.strip() for c in text.split(",") if c.strip())


def _target_line(lines: list[str], line: int, column: int) -> int:
    """The comment's line, or the next line of code when the comment stands alone."""
    if lines[line - 1][: column - 1].strip():
        return line
    for number in range(line + 1, len(lines) + 1):
        text = lines[number - 1].strip()
        if text and not text.startswith("#"):
            return number
    return line


def _register(name: str, head: Span, items: list[_Item] | list[tuple[str, Any, Span]]) -> m.Register:
    fields, attrs, repeated = _fold(items)
    return m.Register(name, head, attrs=attrs, repeated=repeated, **fields)


def _fold(
    items: list[_Item] | list[tuple[str, Any, Span]],
) -> tuple[dict[str, Any], tuple[m.Attr, ...], tuple[m.RepeatedAttr, ...]]:
    """Attribute items, or (keyword, value, span) triples, to (fields, attribute spans,
    repeated attributes)."""
    fields: dict[str, Any] = {}
    first: dict[str, Span] = {}
    attrs, repeated = [], []
    for keyword, value, span in items:
        attrs.append(m.Attr(keyword, span))
        if keyword in first:
            repeated.append(m.RepeatedAttr(keyword, span, first[keyword]))
            continue
        first[keyword] = span
        fields[keyword] = value
    return fields, tuple(attrs), tuple(repeated)


def _first(item: Any) -> tuple[int, int] | None:
    """Where a child starts: a token, a built value with a span, or a tuple of them."""
    if isinstance(item, Token):
        return None if item.type == "_NL" else start_of(item)
    if isinstance(item, tuple | list):
        for part in item:
            if (found := _first(part)) is not None:
                return found
        return None
    span = getattr(item, "span", None)
    return (span.line, span.column) if span is not None else None


def _last(item: Any) -> tuple[int, int] | None:
    if isinstance(item, Token):
        return None if item.type == "_NL" else end_of(item)
    if isinstance(item, tuple | list):
        for part in reversed(item):
            if (found := _last(part)) is not None:
                return found
        return None
    span = getattr(item, "span", None)
    return (span.end_line, span.end_column) if span is not None else None


class SpecBuilder(Transformer):
    """The lark tree of one file to its declarations, their spans in `path`. The grammar keeps
    all tokens, so every rule sees its keyword tokens and spans come from the first and last
    token it holds. Every named rule has a method (a test checks); lark inlines the rest."""

    def __init__(self, path: str) -> None:
        super().__init__(visit_tokens=False)
        self.path = path
        self.readings: Readings = {}  # the file's recognised lines, read once each (_reading)

    def _extent(self, children: list[Any]) -> Span:
        first, last = children[0], children[-1]
        # Most attribute lines start with their keyword token and end with a token: no search.
        if type(first) is Token and type(last) is Token and last.type != "_NL":
            return Span.between(self.path, first, last)
        start = next(p for p in map(_first, children) if p is not None)
        end = next(p for p in map(_last, reversed(children)) if p is not None)
        return Span(self.path, start[0], start[1], end[0], end[1])

    def _token_span(self, token: Token) -> Span:
        return Span.of(self.path, token)

    def _name(self, token: Token | None) -> m.Name | None:
        return None if token is None else m.Name(str(token), self._token_span(token))

    def _head(self, keyword: Token, name: Token) -> Span:
        """A declaration's own span: from its keyword through its name."""
        return Span.between(self.path, keyword, name)

    def _items(self, children: list[Any]) -> list[_Item]:
        return [c for c in children if isinstance(c, _Item)]

    # -- top level ---------------------------------------------------------------------------

    def start(self, children: list[Any]) -> list[Any]:
        path = self.path
        return [
            register_from_lines(path, c.head, c.lines, self.readings) if type(c) is RegisterBlock else c
            for c in children
            if type(c) is RegisterBlock or not isinstance(c, Token)
        ]

    def api(self, children: list[Token]) -> m.Api:
        _, name, _, version = children
        return m.Api(unquote(name), unquote(version), self._extent(children))

    def include(self, children: list[Token]) -> m.Include:
        return m.Include(unquote(children[1]), self._token_span(children[1]))

    def lock(self, children: list[Any]) -> m.Lock:
        keyword, name, _, scope, description = children
        return m.Lock(str(name), self._head(keyword, name), str(scope), description and unquote(description))

    def capability(self, children: list[Any]) -> m.Capability:
        keyword, name, _, scope = children[:4]
        fields, attrs, repeated = _fold(self._items(children))
        if "before" in fields:  # `before EVENT [else ERRNO]`: two fields of one line
            fields["before"], fields["before_errno"] = fields["before"]
        return m.Capability(str(name), self._head(keyword, name), str(scope), attrs=attrs, repeated=repeated, **fields)

    def interface(self, children: list[Any]) -> m.Interface:
        keyword, name, _, scope = children[:4]
        items = self._items(children)
        ioctls = tuple(item.value for item in items if item.keyword == "ioctl")
        fields, attrs, repeated = _fold([i for i in items if i.keyword != "ioctl"])
        roles: dict[str, Span] = {}
        for item in items:
            if item.keyword == "ioctl":
                role = item.value.role
                if role in roles:
                    repeated += (m.RepeatedAttr(role, item.span, roles[role]),)
                roles.setdefault(role, item.span)
                attrs += (m.Attr(role, item.span),)
        return m.Interface(
            str(name), self._head(keyword, name), str(scope), ioctls=ioctls, attrs=attrs, repeated=repeated, **fields
        )

    def register(self, children: list[Any]) -> m.Register:
        keyword, name = children[:2]
        path = self.path
        items: list[tuple[str, Any, Span]] = []
        for child in children:
            if type(child) is _Item:
                items.append(child)
            elif type(child) is LineRun:
                items.extend(_scanned_items(path, child.lines, self.readings))
        return _register(str(name), self._head(keyword, name), items)

    def feature(self, children: list[Any]) -> m.Feature:
        keyword, name = children[:2]
        fields, attrs, repeated = _fold(self._items(children))
        return m.Feature(str(name), self._head(keyword, name), attrs=attrs, repeated=repeated, **fields)

    def scenario(self, children: list[Any]) -> m.Scenario:
        keyword, name, _, kind = children[:4]
        flat: list[_Item] = []
        for item in self._items(children):  # cost and budget items become fields of their own
            flat.extend(item.value if isinstance(item.value, list) else [item])
        fields, attrs, repeated = _fold(flat)
        return m.Scenario(str(name), self._head(keyword, name), str(kind), attrs=attrs, repeated=repeated, **fields)

    # -- ioctl arguments: abi, struct, flags, ioctl -------------------------------------------

    def abi(self, children: list[Any]) -> m.Abis:
        return m.Abis(children[1], self._extent(children))

    def struct(self, children: list[Any]) -> m.Struct:
        keyword, name = children[:2]
        items = self._items(children)
        fields = tuple(item.value for item in items if item.keyword in ("field", "pad"))
        folded, _, repeated = _fold([i for i in items if i.keyword not in ("field", "pad")])
        attrs = tuple(m.Attr(i.keyword, i.span) for i in items)
        return m.Struct(
            str(name),
            self._head(keyword, name),
            union=str(keyword) == "union",
            fields=fields,
            attrs=attrs,
            repeated=repeated,
            **folded,
        )

    def field(self, children: list[Any]) -> _Item:
        _, name, field_type, direction, written_on = children
        value = m.Field(
            "field",
            self._name(name),  # type: ignore[arg-type]
            field_type,
            self._extent(children),
            direction and str(direction),
            written_on or (),
        )
        return _Item("field", value, value.span)

    def pad(self, children: list[Any]) -> _Item:
        name, field_type = children[1], children[2]
        rest = [str(c) for c in children[3:] if c is not None]
        check = "zero" if rest[:2] == ["check", "zero"] else "ignore" if rest == ["ignore"] else None
        errno = self._name(children[-1]) if check == "zero" else None
        value = m.Field("pad", self._name(name), field_type, self._extent(children), check=check, errno=errno)  # type: ignore[arg-type]
        return _Item("pad", value, value.span)

    def field_type(self, children: list[Any]) -> m.FieldType:
        name = self._name(children[0])
        count = next((parse_int(str(c)) for c in children[1:] if isinstance(c, Token) and c.type == "INT"), None)
        return m.FieldType(name, count)  # type: ignore[arg-type]

    def direction(self, children: list[Token]) -> Token:
        return children[0]

    def written_on(self, children: list[Any]) -> tuple[m.Name, ...]:
        return children[1]

    def flags(self, children: list[Any]) -> m.Flags:
        keyword, name, _, base = children[:4]
        items = self._items(children)
        bits = tuple(item.value for item in items if item.keyword == "bit")
        folded, _, repeated = _fold([i for i in items if i.keyword != "bit"])
        return m.Flags(
            str(name),
            self._head(keyword, name),
            self._name(base),  # type: ignore[arg-type]
            bits=bits,
            attrs=tuple(m.Attr(i.keyword, i.span) for i in items),
            repeated=repeated,
            kind=str(keyword),
            **folded,
        )

    def flag_bit(self, children: list[Any]) -> _Item:
        bit = self.bit(children)
        return _Item("bit", bit, bit.span)

    def unknown(self, children: list[Token]) -> _Item:
        if str(children[1]) == "ignore":
            return _Item("unknown", m.Reserved("ignore", self._extent(children)), self._extent(children))
        return _Item(
            "unknown", m.Reserved("reject", self._extent(children), self._name(children[2])), self._extent(children)
        )

    def ioctl(self, children: list[Any]) -> m.IoctlDecl:
        keyword, name, _, scope = children[:4]
        fields, attrs, repeated = _fold(self._items(children))
        return m.IoctlDecl(str(name), self._head(keyword, name), str(scope), attrs=attrs, repeated=repeated, **fields)

    def ioctl_nr(self, children: list[Token]) -> _Item:
        return _Item("nr", parse_int(str(children[1])), self._extent(children))

    def ioctl_dir(self, children: list[Token]) -> _Item:
        return _Item("dir", str(children[1]), self._extent(children))

    def ioctl_arg(self, children: list[Any]) -> _Item:
        return _Item("arg", children[1], self._extent(children))

    def extend(self, children: list[Any]) -> _Item:
        return _Item("extend", children[2], self._extent(children))

    def ioctl_arch(self, children: list[Any]) -> _Item:
        return _Item("arch", children[1], self._extent(children))

    # -- shared pieces -----------------------------------------------------------------------

    def scope(self, children: list[Token]) -> Token:
        return children[0]

    def event(self, children: list[Token]) -> Token:
        return children[0]

    def scenario_kind(self, children: list[Token]) -> Token:
        return children[0]

    def name_list(self, children: list[Token]) -> tuple[m.Name, ...]:
        return tuple(m.Name(str(t), self._token_span(t)) for t in children if t.type == "NAME")

    def since(self, children: list[Token]) -> _Item:
        return _Item("since", unquote(children[1]), self._extent(children))

    def doc(self, children: list[Token]) -> _Item:
        return _Item("doc", unquote(children[1]), self._extent(children))

    def locks(self, children: list[Any]) -> _Item:
        return _Item("locks", children[1], self._extent(children))

    # -- capability and interface attributes ---------------------------------------------------

    def cap_kind(self, children: list[Token]) -> _Item:
        return _Item("kind", str(children[1]), self._extent(children))

    def cap_before(self, children: list[Any]) -> _Item:
        errno = self._name(children[3]) if len(children) > 3 else None
        return _Item("before", (str(children[1]), errno), self._extent(children))

    def cap_host(self, children: list[Token]) -> _Item:
        return _Item("host", unquote(children[1]), self._extent(children))

    def cap_number(self, children: list[Token]) -> _Item:
        return _Item("number", parse_int(str(children[1])), self._extent(children))

    def cap_value(self, children: list[Token]) -> _Item:
        return _Item("value", str(children[1]), self._extent(children))

    def cap_supersedes(self, children: list[Any]) -> _Item:
        return _Item("supersedes", children[1], self._extent(children))

    def iface_ioctl(self, children: list[Token]) -> _Item:
        role, name = children
        return _Item("ioctl", m.Ioctl(str(role), m.Name(str(name), self._token_span(name))), self._extent(children))

    def iface_cap(self, children: list[Token]) -> _Item:
        return _Item("cap", self._name(children[1]), self._extent(children))

    # -- register attributes -------------------------------------------------------------------

    def reg_id(self, children: list[Token]) -> _Item:
        return _Item("id", parse_int(children[1]), self._extent(children))

    def width(self, children: list[Token]) -> _Item:
        return _Item("width", parse_int(children[1]), self._extent(children))

    def reg_scope(self, children: list[Token]) -> _Item:
        return _Item("scope", str(children[1]), self._extent(children))

    def hint(self, children: list[Token]) -> _Item:
        return _Item("hint", self._name(children[1]), self._extent(children))

    def via(self, children: list[Any]) -> _Item:
        return _Item("via", children[1], self._extent(children))

    def migrate(self, children: list[Token]) -> _Item:
        return _Item("migrate", str(children[1]) == "yes", self._extent(children))

    def batch(self, children: list[Token]) -> _Item:
        return _Item("batch", str(children[1]) == "yes", self._extent(children))

    def writable(self, children: list[Any]) -> _Item:
        span = self._extent(children)
        if len(children) == 2:  # writable always | never
            return _Item("writable", m.Writable(str(children[1]), span), span)
        _, _, event, _, errno = children
        return _Item("writable", m.Writable("before", span, str(event), self._name(errno)), span)

    def rewrite(self, children: list[Token]) -> _Item:
        result = children[2]
        errno = None if str(result) == "ok" else self._name(result)
        span = self._extent(children)
        return _Item("rewrite", m.Rewrite(span, errno), span)

    def uniform(self, children: list[Any]) -> _Item:
        span = self._extent(children)
        body = children[1]
        kind = str(body[0])
        if kind == "enforced":
            uniform = m.Uniform(kind, span, errno=self._name(body[1]), basis=str(body[3]))
        elif kind == "none":
            uniform = m.Uniform(kind, span, opt_in=self._name(body[2]))
        else:
            uniform = m.Uniform(kind, span)
        return _Item("uniform", uniform, span)

    def uniform_body(self, children: list[Any]) -> list[Any]:
        return children

    def reset(self, children: list[Token]) -> _Item:
        value = children[1]
        span = self._extent(children)
        if value.type == "INT":
            return _Item("reset", m.Reset("value", span, parse_int(value)), span)
        return _Item("reset", m.Reset(str(value), span), span)

    def reserved(self, children: list[Token]) -> _Item:
        span = self._extent(children)
        if str(children[1]) == "reject":
            return _Item("reserved", m.Reserved("reject", span, self._name(children[2])), span)
        return _Item("reserved", m.Reserved("ignore", span), span)

    def bits(self, children: list[Any]) -> _Item:
        return _Item("bits", tuple(c for c in children if isinstance(c, m.Bit)), self._extent(children))

    def bit(self, children: list[Token | None]) -> m.Bit:
        index, name, _, since = children
        return m.Bit(parse_int(str(index)), str(name), self._extent(children), since and unquote(since))

    def encoding(self, children: list[Token]) -> _Item:
        fields = tuple(parse_int(t) for t in children if t.type == "INT")
        return _Item("encoding", fields, self._extent(children))

    def opt_in(self, children: list[Token]) -> _Item:
        return _Item("opt_in", self._name(children[1]), self._extent(children))

    # -- feature and scenario attributes ---------------------------------------------------------

    def feature_via(self, children: list[Token]) -> _Item:
        return _Item("via", self._name(children[1]), self._extent(children))

    def vmm(self, children: list[Token]) -> _Item:
        return _Item("vmm", str(children[1]), self._extent(children))

    def vcpus(self, children: list[Token]) -> _Item:
        return _Item("vcpus", tuple(parse_int(t) for t in children if t.type == "INT"), self._extent(children))

    def host_threads(self, children: list[Token]) -> _Item:
        return _Item("host_threads", parse_int(children[1]), self._extent(children))

    def cost(self, children: list[Any]) -> _Item:
        span = self._extent(children)
        settings = [c for c in children if isinstance(c, tuple)]
        return _Item("cost", [_Item(f"cost_{k}_ns", v, span) for k, v, _ in settings], span)

    def budget(self, children: list[Any]) -> _Item:
        span = self._extent(children)
        names = {"serialized": "budget_serialized", "ioctls": "budget_ioctls", "blackout": "budget_blackout_ns"}
        settings = [c for c in children if isinstance(c, tuple)]
        return _Item("budget", [_Item(names[k], v, span) for k, v, _ in settings], span)

    # A setting keeps its value token, so that the line's span runs to the last value.
    def cost_item(self, children: list[Token]) -> tuple[str, int, Token]:
        return str(children[0]), parse_duration_ns(children[1]), children[1]

    def budget_item(self, children: list[Token]) -> tuple[str, int, Token]:
        kind, value = children
        return str(kind), parse_duration_ns(value) if value.type == "DURATION" else parse_int(value), value


# -- line shortcuts ------------------------------------------------------------------------------
# REG_LINES and REGISTER_BLOCK tokens (validator.frontend.lexer) hold the matches of whole lines; the
# attribute table's readers (validator.frontend.attributes) build from them exactly what the rule
# methods above build from each line's tokens.

# Each recognised attribute line's field, and how its value is read (attributes.Attribute).
_LINE_READERS: dict[
    re.Pattern[str], tuple[str, Callable[[re.Match[str]], object] | None, Callable[[Line], object] | None]
] = {REGISTER_LINES[a.keyword]: (a.field, a.value, a.read) for a in REGISTER if a.line is not None}
if any(value is None for _, value, _ in _LINE_READERS.values()):
    raise ValueError("an attribute with a line syntax needs its `value` reader")

# What the builder takes from one distinct recognised line, whose match the scanner shares
# wherever the same line is written again in a file: its field, what it says (the attribute's
# `value`), the reader that places that where the line is (None: the value is the model's),
# and its code's length. Kept per file, by match.
Reading = tuple[str, Any, Callable[[Line], object] | None, int]
Readings = dict[re.Match[str], Reading]
# Group 1 of every line pattern is `code` (lexer._line), the keyword to the last value.
_CODE = 1


def _reading(found: re.Match[str]) -> Reading:
    length = found.end(_CODE) - found.start()
    if found.re is BIT_LINE:  # a bit's index, name and version
        since = found["since"]
        return "bit", (parse_int(found["index"]), found["name"], since and unquote(since)), None, length
    field, value, read = _LINE_READERS[found.re]
    return field, value(found), read, length  # type: ignore[misc]


def _code_span(path: str, scanned: ScannedLine) -> Span:
    found, line, column = scanned
    return _new_tuple(Span, (path, line, column, line, column + found.end(_CODE) - found.start()))


# Named tuples made with tuple.__new__ in the loops below: the class's own __new__ is a Python
# function that does just this, and these loops make one or two for every line of a spec.
_new_tuple = tuple.__new__


def register_from_lines(
    path: str, head: ScannedLine, lines: list[ScannedLine | ScannedBits], readings: Readings
) -> m.Register:
    """The register statement of a head line and attribute lines the scanner recognised."""
    found, line, column = head
    shift = column - found.start()
    span = Span(path, line, column, line, found.end("name") + shift)
    return _register(found.group("name"), span, _scanned_items(path, lines, readings))


def _scanned_items(
    path: str, lines: list[ScannedLine | ScannedBits], readings: Readings
) -> list[tuple[str, Any, Span]]:
    """Recognised lines as (field, value, span), in one loop: register lines are most of a
    large spec, and a call and a named tuple per line were a third of its build."""
    items: list[tuple[str, Any, Span]] = []
    append, new, reading_of = items.append, _new_tuple, readings.get
    for scanned in lines:
        if type(scanned) is ScannedBits:
            start, end = _code_span(path, scanned.open), _code_span(path, scanned.close)
            span = Span(path, start.line, start.column, end.end_line, end.end_column)
            append(("bits", tuple(_bit(path, bit, readings) for bit in scanned.bits), span))
            continue
        found, line, column = scanned  # type: ignore[misc]
        if (reading := reading_of(found)) is None:
            reading = readings[found] = _reading(found)
        field, value, read, length = reading
        span = new(Span, (path, line, column, line, column + length))
        append((field, value if read is None else read(new(Line, (value, path, line, column, span))), span))
    return items


def _bit(path: str, scanned: ScannedLine, readings: Readings) -> m.Bit:
    found, line, column = scanned
    if (reading := readings.get(found)) is None:
        reading = readings[found] = _reading(found)
    (index, name, since), length = reading[1], reading[3]
    return m.Bit(index, name, _new_tuple(Span, (path, line, column, line, column + length)), since)
