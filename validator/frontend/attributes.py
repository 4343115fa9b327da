"""The attributes of each declaration, declared once.

One entry per attribute gives its keyword, the model field it fills, its place in the
canonical order (the entry's place in its table), the grammar rule that parses it, the
syntax of its value where the scanner recognises the whole line (with the readers that build
the value from that line: what it says, then where), and how diff mode compares it. The scanner's line shortcuts
(validator.frontend.lexer), the builder (validator.frontend.build), the formatter's order (validator.tools.fmt), the
highlighter and the differ (validator.diff.compare) all read these tables; the grammar file keeps the
rules, and a test checks that both list the same attributes.

A new attribute is one entry here, its rule in grammar/uapi.lark with a builder method, and
the findings rule that judges it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from sys import intern
from typing import Any, NamedTuple

from validator.frontend.literals import EVENT, INT, NAMES, SP, STRING, WORD, parse_int, unquote
from validator.model import spec as m
from validator.model.frozen import frozen
from validator.model.spans import Span

# How diff mode compares a value: WORD as a whole ("width 32 -> 64"); SET member by member
# ("via vm_attr added"); VERSION as the quoted version; IOCTL the ioctl of that role. None:
# not compared (documentation, or compared on its own, as bits are).
WORD_VALUE, SET, VERSION, IOCTL = "word", "set", "version", "ioctl"

_NAME_IN_LIST = re.compile(WORD)
_new_span = tuple.__new__  # Span's own __new__ is a Python function that does just this


# A name in a recognised line, where the line is not yet known: its text, and its start and
# end as offsets from the start of the line's code (attributes' `value` readers give these).
Placed = tuple[str, int, int]


class Line(NamedTuple):
    """A recognised attribute line where it is written, as an entry's `read` sees it: what the
    line says (its entry's `value`, read once per distinct line) and its place."""

    value: Any
    path: str
    line: int
    column: int
    span: Span  # keyword through last value

    def name(self, placed: Placed | None) -> m.Name | None:
        if placed is None:
            return None
        text, start, end = placed
        return m.Name(text, _new_span(Span, (self.path, self.line, self.column + start, self.line, self.column + end)))

    def names(self, placed: tuple[Placed, ...]) -> tuple[m.Name, ...]:
        path, line, column = self.path, self.line, self.column
        return tuple(m.Name(text, _new_span(Span, (path, line, column + s, line, column + e))) for text, s, e in placed)


@frozen
class Attribute:
    """One attribute of the language: its keyword, model field, grammar rule and value syntax."""

    keyword: str  # as written
    field: str  # the model field it fills
    rule: str  # the grammar rule that parses it word by word
    compare: str | None = WORD_VALUE
    # The value after the keyword, as the scanner's line shortcut matches it (named groups;
    # None: the grammar alone), and how the builder reads such a line, in two steps: `value`,
    # what the line says wherever it is (a number, a word, names with their offsets in the
    # line), read once per distinct line of a file; then `read`, where the model value holds
    # spans, builds it at the line's place (a Line). Without `read` the value is the model's.
    line: str | None = None
    value: Callable[[re.Match[str]], object] | None = None
    read: Callable[[Line], object] | None = None


# -- `value` readers: from a line's match alone ------------------------------------------------
# Words and names are interned: the ones registers share (interfaces, locks, errnos) are held once.


def _text(found: re.Match[str], group: str = "v") -> str | None:
    text = found[group]
    return None if text is None else intern(text)


def _placed(found: re.Match[str], group: str = "v") -> Placed | None:
    start = found.start(group)
    if start < 0:
        return None
    code = found.start()
    return intern(found.group(group)), start - code, found.end(group) - code


def _placed_list(found: re.Match[str], group: str = "v") -> tuple[Placed, ...]:
    shift = found.start(group) - found.start()
    return tuple(
        (intern(name.group()), name.start() + shift, name.end() + shift)
        for name in _NAME_IN_LIST.finditer(found.group(group))
    )


def _int(found: re.Match[str]) -> int:
    return parse_int(found["v"])


def _string(found: re.Match[str]) -> str:
    return unquote(found["v"])


def _yes(found: re.Match[str]) -> bool:
    return found["v"] == "yes"


def _writable_says(found: re.Match[str]) -> tuple[str | None, str | None, Placed | None]:
    return _text(found), _text(found, "event"), _placed(found, "errno")


def _uniform_says(found: re.Match[str]) -> tuple[str, str | None, Placed | None]:
    if found["v"] == "enforced":
        return "enforced", _text(found, "basis"), _placed(found, "errno")
    if found["last"] is not None:
        return "last_wins", None, None
    return "none", None, _placed(found, "opt_in")


def _reset_says(found: re.Match[str]) -> tuple[str, int | None]:
    value = found["v"]
    return (intern(value), None) if value in ("all", "none") else ("value", parse_int(value))


def _reserved_says(found: re.Match[str]) -> tuple[str, Placed | None]:
    return ("ignore", None) if found["v"] == "ignore" else ("reject", _placed(found, "errno"))


# -- `read` readers: the model value at the line's place -------------------------------------


def _name(line: Line) -> m.Name | None:
    return line.name(line.value)


def _names(line: Line) -> tuple[m.Name, ...]:
    return line.names(line.value)


def _writable(line: Line) -> m.Writable:
    kind, event, errno = line.value
    if kind is not None:
        return m.Writable(kind, line.span)
    return m.Writable("before", line.span, event, line.name(errno))


def _rewrite(line: Line) -> m.Rewrite:
    return m.Rewrite(line.span, line.name(line.value))


def _uniform(line: Line) -> m.Uniform:
    kind, basis, name = line.value
    if kind == "enforced":
        return m.Uniform("enforced", line.span, errno=line.name(name), basis=basis)
    if kind == "last_wins":
        return m.Uniform("last_wins", line.span)
    return m.Uniform("none", line.span, opt_in=line.name(name))


def _reset(line: Line) -> m.Reset:
    kind, value = line.value
    return m.Reset(kind, line.span) if value is None else m.Reset(kind, line.span, value)


def _reserved(line: Line) -> m.Reserved:
    kind, errno = line.value
    return m.Reserved("ignore", line.span) if kind == "ignore" else m.Reserved("reject", line.span, line.name(errno))


REGISTER: tuple[Attribute, ...] = (
    Attribute("id", "id", "reg_id", line=rf"(?P<v>{INT})", value=_int),
    Attribute("encoding", "encoding", "encoding", compare=None),
    Attribute("width", "width", "width", line=rf"(?P<v>{INT})", value=_int),
    Attribute("scope", "scope", "reg_scope", line="(?P<v>system|vm|vcpu|device|write_once)", value=_text),
    Attribute("hint", "hint", "hint", line=rf"(?P<v>{WORD})", value=_placed, read=_name),
    Attribute("via", "via", "via", compare=SET, line=rf"(?P<v>{NAMES})", value=_placed_list, read=_names),
    Attribute("lock", "locks", "locks", compare=SET, line=rf"(?P<v>{NAMES})", value=_placed_list, read=_names),
    Attribute("migrate", "migrate", "migrate", line="(?P<v>yes|no)", value=_yes),
    Attribute(
        "writable",
        "writable",
        "writable",
        line=rf"(?:(?P<v>always|never)|before{SP}(?P<event>{EVENT})(?:{SP}else{SP}(?P<errno>{WORD}))?)",
        value=_writable_says,
        read=_writable,
    ),
    Attribute(
        "rewrite",
        "rewrite",
        "rewrite",
        line=rf"same_value{SP}(?P<v>{WORD})",
        value=lambda found: None if found["v"] == "ok" else _placed(found),
        read=_rewrite,
    ),
    Attribute(
        "uniform",
        "uniform",
        "uniform",
        line=rf"(?:(?P<v>enforced){SP}(?P<errno>{WORD}){SP}as{SP}(?P<basis>contract|implementation)"
        rf"|(?P<last>last_wins)|(?P<none>none)(?:{SP}opt_in{SP}(?P<opt_in>{WORD}))?)",
        value=_uniform_says,
        read=_uniform,
    ),
    Attribute("reset", "reset", "reset", line=rf"(?P<v>all|none|{INT})", value=_reset_says, read=_reset),
    Attribute(
        "reserved",
        "reserved",
        "reserved",
        line=rf"(?:reject{SP}(?P<errno>{WORD})|(?P<v>ignore))",
        value=_reserved_says,
        read=_reserved,
    ),
    # A `bits { ... }` block is recognised whole by the scanner (validator.frontend.lexer._bits_block);
    # B601 compares bits one by one.
    Attribute("bits", "bits", "bits", compare=None),
    Attribute("opt_in", "opt_in", "opt_in", line=rf"(?P<v>{WORD})", value=_placed, read=_name),
    Attribute("since", "since", "since", compare=VERSION, line=rf"(?P<v>{STRING})", value=_string),
    Attribute("doc", "doc", "doc", compare=None, line=rf"(?P<v>{STRING})", value=_string),
)

CAPABILITY: tuple[Attribute, ...] = (
    Attribute("kind", "kind", "cap_kind"),
    Attribute("number", "number", "cap_number"),
    Attribute("before", "before", "cap_before"),
    Attribute("host", "host", "cap_host"),
    Attribute("value", "value", "cap_value"),
    Attribute("supersedes", "supersedes", "cap_supersedes", compare=SET),
    Attribute("since", "since", "since", compare=VERSION),
    Attribute("doc", "doc", "doc", compare=None),
)

INTERFACE: tuple[Attribute, ...] = (
    Attribute("get", "ioctls", "iface_ioctl", compare=IOCTL),
    Attribute("set", "ioctls", "iface_ioctl", compare=IOCTL),
    Attribute("has", "ioctls", "iface_ioctl", compare=IOCTL),
    Attribute("list", "ioctls", "iface_ioctl", compare=IOCTL),
    Attribute("lock", "locks", "locks", compare=SET),
    Attribute("cap", "cap", "iface_cap"),
    Attribute("batch", "batch", "batch"),
    Attribute("since", "since", "since", compare=VERSION),
    Attribute("doc", "doc", "doc", compare=None),
)

FEATURE: tuple[Attribute, ...] = (
    Attribute("via", "via", "feature_via"),
    Attribute("uniform", "uniform", "uniform"),
    Attribute("since", "since", "since", compare=VERSION),
    Attribute("doc", "doc", "doc", compare=None),
)

# A scenario's cost and budget lines hold several settings each: diff compares them setting
# by setting (validator.diff.compare._scenario_values), so none is compared here.
SCENARIO: tuple[Attribute, ...] = (
    Attribute("vmm", "vmm", "vmm", compare=None),
    Attribute("vcpus", "vcpus", "vcpus", compare=None),
    Attribute("host_threads", "host_threads", "host_threads", compare=None),
    Attribute("cost", "cost", "cost", compare=None),
    Attribute("budget", "budget", "budget", compare=None),
    Attribute("doc", "doc", "doc", compare=None),
)

# Fields are the struct's content, in order: diff compares layouts on their own.
STRUCT: tuple[Attribute, ...] = (
    Attribute("field", "fields", "field", compare=None),
    Attribute("pad", "fields", "pad", compare=None),
    Attribute("since", "since", "since", compare=VERSION),
    Attribute("doc", "doc", "doc", compare=None),
)

FLAGS: tuple[Attribute, ...] = (
    Attribute("bit", "bits", "flag_bit", compare=None),
    Attribute("unknown", "unknown", "unknown"),
    Attribute("since", "since", "since", compare=VERSION),
    Attribute("doc", "doc", "doc", compare=None),
)

IOCTL_DECLARATION: tuple[Attribute, ...] = (
    Attribute("nr", "nr", "ioctl_nr"),
    Attribute("dir", "dir", "ioctl_dir"),
    Attribute("arg", "arg", "ioctl_arg"),
    Attribute("arch", "arch", "ioctl_arch", compare=SET),
    Attribute("cap", "cap", "iface_cap"),
    Attribute("extend", "extend", "extend", compare=SET),
    Attribute("since", "since", "since", compare=VERSION),
    Attribute("doc", "doc", "doc", compare=None),
)

BY_DECLARATION: dict[str, tuple[Attribute, ...]] = {
    "register": REGISTER,
    "capability": CAPABILITY,
    "interface": INTERFACE,
    "feature": FEATURE,
    "scenario": SCENARIO,
    "struct": STRUCT,
    "union": STRUCT,
    "flags": FLAGS,
    "enum": FLAGS,  # the same attributes; an entry is a value, not a bit
    "ioctl": IOCTL_DECLARATION,
}
# The canonical order of each declaration's attributes: `fmt` sorts by it.
ORDER: dict[str, tuple[str, ...]] = {kind: tuple(a.keyword for a in table) for kind, table in BY_DECLARATION.items()}
