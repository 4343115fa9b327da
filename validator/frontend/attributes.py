"""The attributes of each declaration, declared once.

One entry per attribute gives its keyword, the model field it fills, its place in the
canonical order (the entry's place in its table), the grammar rule that parses it, the
syntax of its value where the scanner recognises the whole line (with the reader that builds
the value from that line), and how diff mode compares it. The scanner's line shortcuts
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
from typing import NamedTuple

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


class Line(NamedTuple):
    """A whole attribute line the scanner recognised, as an entry's reader sees it."""

    found: re.Match[str]  # the line's match: group `v` is its value, others as the entry names
    path: str
    line: int
    column: int
    span: Span  # keyword through last value

    def text(self, group: str = "v") -> str | None:
        found = self.found[group]
        return None if found is None else intern(found)

    def name(self, group: str = "v") -> m.Name | None:
        start = self.found.start(group)
        if start < 0:
            return None
        shift = self.column - self.found.start()
        # Interned: the names registers share (interfaces, locks, errnos) are held once.
        return m.Name(
            intern(self.found.group(group)),
            _new_span(Span, (self.path, self.line, start + shift, self.line, self.found.end(group) + shift)),
        )

    def names(self, group: str = "v") -> tuple[m.Name, ...]:
        shift = self.column - self.found.start() + self.found.start(group)
        return tuple(
            m.Name(
                intern(name.group()),
                _new_span(Span, (self.path, self.line, name.start() + shift, self.line, name.end() + shift)),
            )
            for name in _NAME_IN_LIST.finditer(self.found.group(group))
        )


@frozen
class Attribute:
    """One attribute of the language: its keyword, model field, grammar rule and value syntax."""

    keyword: str  # as written
    field: str  # the model field it fills
    rule: str  # the grammar rule that parses it word by word
    compare: str | None = WORD_VALUE
    # The value after the keyword, as the scanner's line shortcut matches it (named groups;
    # None: the grammar alone), and how the builder reads such a line: `value` where the
    # value is the same wherever the line is (a number, a word, a string: the builder reads
    # each distinct line once), else `read`, which builds it with the line's spans.
    line: str | None = None
    read: Callable[[Line], object] | None = None
    value: Callable[[re.Match[str]], object] | None = None


def _writable(line: Line) -> m.Writable:
    if (value := line.text()) is not None:
        return m.Writable(value, line.span)
    return m.Writable("before", line.span, line.text("event"), line.name("errno"))


def _uniform(line: Line) -> m.Uniform:
    if line.text() == "enforced":
        return m.Uniform("enforced", line.span, errno=line.name("errno"), basis=line.text("basis"))
    if line.text("last") is not None:
        return m.Uniform("last_wins", line.span)
    return m.Uniform("none", line.span, opt_in=line.name("opt_in"))


def _reset(line: Line) -> m.Reset:
    value = line.text() or ""
    return m.Reset(value, line.span) if value in ("all", "none") else m.Reset("value", line.span, parse_int(value))


def _reserved(line: Line) -> m.Reserved:
    if line.text() == "ignore":
        return m.Reserved("ignore", line.span)
    return m.Reserved("reject", line.span, line.name("errno"))


# Readers of values without a span, from the line's match alone.
def _int(found: re.Match[str]) -> int:
    return parse_int(found["v"])


def _string(found: re.Match[str]) -> str:
    return unquote(found["v"])


def _yes(found: re.Match[str]) -> bool:
    return found["v"] == "yes"


def _word(found: re.Match[str]) -> str:
    return intern(found["v"])


REGISTER: tuple[Attribute, ...] = (
    Attribute("id", "id", "reg_id", line=rf"(?P<v>{INT})", value=_int),
    Attribute("encoding", "encoding", "encoding", compare=None),
    Attribute("width", "width", "width", line=rf"(?P<v>{INT})", value=_int),
    Attribute("scope", "scope", "reg_scope", line="(?P<v>system|vm|vcpu|device|write_once)", value=_word),
    Attribute("hint", "hint", "hint", line=rf"(?P<v>{WORD})", read=Line.name),
    Attribute("via", "via", "via", compare=SET, line=rf"(?P<v>{NAMES})", read=Line.names),
    Attribute("lock", "locks", "locks", compare=SET, line=rf"(?P<v>{NAMES})", read=Line.names),
    Attribute("migrate", "migrate", "migrate", line="(?P<v>yes|no)", value=_yes),
    Attribute(
        "writable",
        "writable",
        "writable",
        line=rf"(?:(?P<v>always|never)|before{SP}(?P<event>{EVENT})(?:{SP}else{SP}(?P<errno>{WORD}))?)",
        read=_writable,
    ),
    Attribute(
        "rewrite",
        "rewrite",
        "rewrite",
        line=rf"same_value{SP}(?P<v>{WORD})",
        read=lambda line: m.Rewrite(line.span, None if line.text() == "ok" else line.name()),
    ),
    Attribute(
        "uniform",
        "uniform",
        "uniform",
        line=rf"(?:(?P<v>enforced){SP}(?P<errno>{WORD}){SP}as{SP}(?P<basis>contract|implementation)"
        rf"|(?P<last>last_wins)|(?P<none>none)(?:{SP}opt_in{SP}(?P<opt_in>{WORD}))?)",
        read=_uniform,
    ),
    Attribute("reset", "reset", "reset", line=rf"(?P<v>all|none|{INT})", read=_reset),
    Attribute(
        "reserved", "reserved", "reserved", line=rf"(?:reject{SP}(?P<errno>{WORD})|(?P<v>ignore))", read=_reserved
    ),
    # A `bits { ... }` block is recognised whole by the scanner (validator.frontend.lexer._bits_block);
    # B601 compares bits one by one.
    Attribute("bits", "bits", "bits", compare=None),
    Attribute("opt_in", "opt_in", "opt_in", line=rf"(?P<v>{WORD})", read=Line.name),
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
