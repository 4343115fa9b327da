"""Parse tree to model: a lark Transformer that builds and never judges.

Each attribute method returns an `_Item` (keyword, value, span); each declaration folds its
items into fields. An attribute given twice keeps its first value and is recorded as
repeated, for the resolver to report.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from lark import Token, Transformer, Tree, v_args

from validator import model as m
from validator.spans import Span

_DURATION = re.compile(r"([0-9_]+)(ns|us|ms|s)")
_NS_PER_UNIT = {"ns": 1, "us": 1_000, "ms": 1_000_000, "s": 1_000_000_000}
# A directive runs to the next `#` that starts another directive, or to the end.
_DIRECTIVE = re.compile(r"#\s*(expect|allow|baseline)\s*:((?:(?!#\s*(?:expect|allow|baseline)\s*:).)*)")


@dataclass(frozen=True, slots=True)
class _Item:
    keyword: str
    value: Any
    span: Span


def parse_int(text: str) -> int:
    return int(text.replace("_", ""), 0)


def parse_duration_ns(text: str) -> int:
    number, unit = _DURATION.fullmatch(text).groups()  # type: ignore[union-attr]
    return int(number.replace("_", "")) * _NS_PER_UNIT[unit]


def unquote(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text[1:-1])


def build_file(tree: Tree | None, comments: tuple[Token, ...], path: str, text: str) -> m.SpecFile:
    """The model of one parsed file (with no tree: its directives and text only)."""
    statements = _Builder(path).transform(tree) if tree is not None else []
    kinds: dict[str, list[Any]] = {"api": [], "include": [], "decl": []}
    for statement in statements:
        key = "api" if isinstance(statement, m.Api) else "include" if isinstance(statement, m.Include) else "decl"
        kinds[key].append(statement)
    lines = text.splitlines()
    expects, allows, baseline = _directives(comments, path, lines)
    return m.SpecFile(
        path=path,
        api=tuple(kinds["api"]),
        includes=tuple(kinds["include"]),
        declarations=tuple(kinds["decl"]),
        expects=expects,
        allows=allows,
        baseline=baseline,
        source_lines=tuple(lines),
    )


def _directives(
    comments: tuple[Token, ...], path: str, lines: list[str]
) -> tuple[tuple[m.Expect, ...], tuple[m.Allow, ...], m.BaselineDirective | None]:
    """Directives in comments; one comment may hold several (`# expect: D802 # allow: ...`)."""
    expects, allows, baseline = [], [], None
    for comment in comments:
        span = Span.of(path, comment)
        for kind, body in _DIRECTIVE.findall(str(comment)):
            body = body.strip()
            if kind == "expect":
                expects.append(m.Expect(comment.line, _codes(body), span))
            elif kind == "allow":
                codes_text, _, reason = body.partition("--")
                target = _target_line(lines, comment.line, comment.column)
                allows.append(m.Allow(comment.line, _codes(codes_text), reason.strip(), span, target))
            elif baseline is None:
                baseline = m.BaselineDirective(body, span)
    return tuple(expects), tuple(allows), baseline


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


def _fold(items: list[_Item]) -> tuple[dict[str, Any], tuple[m.Attr, ...], tuple[m.RepeatedAttr, ...]]:
    """Attribute items to (fields, attribute spans, repeated attributes)."""
    fields: dict[str, Any] = {}
    first: dict[str, Span] = {}
    attrs, repeated = [], []
    for item in items:
        attrs.append(m.Attr(item.keyword, item.span))
        if item.keyword in first:
            repeated.append(m.RepeatedAttr(item.keyword, item.span, first[item.keyword]))
            continue
        first[item.keyword] = item.span
        fields[item.keyword] = item.value
    return fields, tuple(attrs), tuple(repeated)


class _Builder(Transformer):
    def __init__(self, path: str) -> None:
        super().__init__()
        self._path = path

    def _span(self, meta_or_token: Any) -> Span:
        return Span.of(self._path, meta_or_token)

    def _name(self, token: Token | None) -> m.Name | None:
        return None if token is None else m.Name(str(token), self._span(token))

    def _head(self, meta: Any, name: Token) -> Span:
        """A declaration's own span: from its keyword through its name."""
        return Span(self._path, meta.line, meta.column, name.end_line, name.end_column)

    # -- top level ---------------------------------------------------------------------------

    def start(self, children: list[Any]) -> list[Any]:
        return children

    @v_args(meta=True)
    def api(self, meta: Any, children: list[Token]) -> m.Api:
        name, version = children
        return m.Api(unquote(name), unquote(version), self._span(meta))

    @v_args(meta=True)
    def include(self, meta: Any, children: list[Token]) -> m.Include:
        return m.Include(unquote(children[0]), self._span(children[0]))

    @v_args(meta=True)
    def lock(self, meta: Any, children: list[Any]) -> m.Lock:
        name, scope, description = children
        return m.Lock(str(name), self._head(meta, name), scope, description and unquote(description))

    @v_args(meta=True)
    def capability(self, meta: Any, children: list[Any]) -> m.Capability:
        name, scope, *items = children
        fields, attrs, repeated = _fold(items)
        return m.Capability(str(name), self._head(meta, name), scope, attrs=attrs, repeated=repeated, **fields)

    @v_args(meta=True)
    def interface(self, meta: Any, children: list[Any]) -> m.Interface:
        name, scope, *items = children
        ioctls = tuple(item.value for item in items if item.keyword == "ioctl")
        fields, attrs, repeated = _fold([i for i in items if i.keyword != "ioctl"])
        roles = {}
        for item in items:
            if item.keyword == "ioctl":
                role = item.value.role
                if role in roles:
                    repeated += (m.RepeatedAttr(role, item.span, roles[role]),)
                roles.setdefault(role, item.span)
                attrs += (m.Attr(role, item.span),)
        return m.Interface(
            str(name), self._head(meta, name), scope, ioctls=ioctls, attrs=attrs, repeated=repeated, **fields
        )

    @v_args(meta=True)
    def register(self, meta: Any, children: list[Any]) -> m.Register:
        name, *items = children
        fields, attrs, repeated = _fold(items)
        return m.Register(str(name), self._head(meta, name), attrs=attrs, repeated=repeated, **fields)

    @v_args(meta=True)
    def feature(self, meta: Any, children: list[Any]) -> m.Feature:
        name, *items = children
        fields, attrs, repeated = _fold(items)
        return m.Feature(str(name), self._head(meta, name), attrs=attrs, repeated=repeated, **fields)

    @v_args(meta=True)
    def scenario(self, meta: Any, children: list[Any]) -> m.Scenario:
        name, kind, *items = children
        flat: list[_Item] = []
        for item in items:  # cost and budget items become fields of their own
            flat.extend(item.value if isinstance(item.value, list) else [item])
        fields, attrs, repeated = _fold(flat)
        return m.Scenario(str(name), self._head(meta, name), kind, attrs=attrs, repeated=repeated, **fields)

    # -- shared pieces -----------------------------------------------------------------------

    def scope(self, children: list[Token]) -> str:
        return str(children[0])

    def event(self, children: list[Token]) -> str:
        return str(children[0])

    def scenario_kind(self, children: list[Token]) -> str:
        return str(children[0])

    def name_list(self, children: list[Token]) -> tuple[m.Name, ...]:
        return tuple(m.Name(str(t), self._span(t)) for t in children)

    @v_args(meta=True)
    def since(self, meta: Any, children: list[Token]) -> _Item:
        return _Item("since", unquote(children[0]), self._span(meta))

    @v_args(meta=True)
    def doc(self, meta: Any, children: list[Token]) -> _Item:
        return _Item("doc", unquote(children[0]), self._span(meta))

    @v_args(meta=True)
    def locks(self, meta: Any, children: list[Any]) -> _Item:
        return _Item("locks", children[0], self._span(meta))

    # -- capability and interface attributes ---------------------------------------------------

    @v_args(meta=True)
    def cap_kind(self, meta: Any, children: list[Token]) -> _Item:
        return _Item("kind", str(children[1]), self._span(meta))

    @v_args(meta=True)
    def cap_before(self, meta: Any, children: list[Any]) -> _Item:
        return _Item("before", children[0], self._span(meta))

    @v_args(meta=True)
    def iface_ioctl(self, meta: Any, children: list[Token]) -> _Item:
        role, name = children
        return _Item("ioctl", m.Ioctl(str(role), self._name(name)), self._span(meta))

    @v_args(meta=True)
    def iface_cap(self, meta: Any, children: list[Token]) -> _Item:
        return _Item("cap", self._name(children[0]), self._span(meta))

    # -- register attributes -------------------------------------------------------------------

    @v_args(meta=True)
    def reg_id(self, meta: Any, children: list[Token]) -> _Item:
        return _Item("id", parse_int(children[0]), self._span(meta))

    @v_args(meta=True)
    def width(self, meta: Any, children: list[Token]) -> _Item:
        return _Item("width", parse_int(children[0]), self._span(meta))

    @v_args(meta=True)
    def reg_scope(self, meta: Any, children: list[Token]) -> _Item:
        return _Item("scope", str(children[1]), self._span(meta))

    @v_args(meta=True)
    def hint(self, meta: Any, children: list[Token]) -> _Item:
        return _Item("hint", self._name(children[0]), self._span(meta))

    @v_args(meta=True)
    def via(self, meta: Any, children: list[Any]) -> _Item:
        return _Item("via", children[0], self._span(meta))

    @v_args(meta=True)
    def migrate(self, meta: Any, children: list[Token]) -> _Item:
        return _Item("migrate", str(children[1]) == "yes", self._span(meta))

    @v_args(meta=True)
    def writable(self, meta: Any, children: list[Any]) -> _Item:
        span = self._span(meta)
        if len(children) == 2:  # writable always | never
            return _Item("writable", m.Writable(str(children[1]), span), span)
        _, _, event, _, errno = children
        return _Item("writable", m.Writable("before", span, event, self._name(errno)), span)

    @v_args(meta=True)
    def rewrite(self, meta: Any, children: list[Token]) -> _Item:
        result = children[2]
        errno = None if str(result) == "ok" else self._name(result)
        span = self._span(meta)
        return _Item("rewrite", m.Rewrite(span, errno), span)

    @v_args(meta=True)
    def uniform(self, meta: Any, children: list[Any]) -> _Item:
        span = self._span(meta)
        body = children[0].children
        kind = str(body[0])
        if kind == "enforced":
            uniform = m.Uniform(kind, span, errno=self._name(body[1]), basis=str(body[3]))
        elif kind == "none":
            uniform = m.Uniform(kind, span, opt_in=self._name(body[2]))
        else:
            uniform = m.Uniform(kind, span)
        return _Item("uniform", uniform, span)

    @v_args(meta=True)
    def reset(self, meta: Any, children: list[Token]) -> _Item:
        value = children[1]
        span = self._span(meta)
        if value.type == "INT":
            return _Item("reset", m.Reset("value", span, parse_int(value)), span)
        return _Item("reset", m.Reset(str(value), span), span)

    @v_args(meta=True)
    def reserved(self, meta: Any, children: list[Token]) -> _Item:
        span = self._span(meta)
        if str(children[1]) == "reject":
            return _Item("reserved", m.Reserved("reject", span, self._name(children[2])), span)
        return _Item("reserved", m.Reserved("ignore", span), span)

    @v_args(meta=True)
    def bits(self, meta: Any, children: list[m.Bit]) -> _Item:
        return _Item("bits", tuple(children), self._span(meta))

    @v_args(meta=True)
    def bit(self, meta: Any, children: list[Token | None]) -> m.Bit:
        index, name, since = children
        return m.Bit(parse_int(index), str(name), self._span(meta), since and unquote(since))

    @v_args(meta=True)
    def opt_in(self, meta: Any, children: list[Token]) -> _Item:
        return _Item("opt_in", self._name(children[0]), self._span(meta))

    # -- feature and scenario attributes ---------------------------------------------------------

    @v_args(meta=True)
    def feature_via(self, meta: Any, children: list[Token]) -> _Item:
        return _Item("via", self._name(children[0]), self._span(meta))

    @v_args(meta=True)
    def vmm(self, meta: Any, children: list[Token]) -> _Item:
        return _Item("vmm", str(children[1]), self._span(meta))

    @v_args(meta=True)
    def vcpus(self, meta: Any, children: list[Token]) -> _Item:
        return _Item("vcpus", tuple(parse_int(t) for t in children), self._span(meta))

    @v_args(meta=True)
    def host_threads(self, meta: Any, children: list[Token]) -> _Item:
        return _Item("host_threads", parse_int(children[0]), self._span(meta))

    @v_args(meta=True)
    def cost(self, meta: Any, children: list[tuple[str, Any]]) -> _Item:
        span = self._span(meta)
        return _Item("cost", [_Item(f"cost_{k}_ns", v, span) for k, v in children], span)

    @v_args(meta=True)
    def budget(self, meta: Any, children: list[tuple[str, Any]]) -> _Item:
        span = self._span(meta)
        names = {"serialized": "budget_serialized", "ioctls": "budget_ioctls", "blackout": "budget_blackout_ns"}
        return _Item("budget", [_Item(names[k], v, span) for k, v in children], span)

    def cost_item(self, children: list[Token]) -> tuple[str, int]:
        return str(children[0]), parse_duration_ns(children[1])

    def budget_item(self, children: list[Token]) -> tuple[str, int]:
        kind, value = children
        return str(kind), parse_duration_ns(value) if value.type == "DURATION" else parse_int(value)
