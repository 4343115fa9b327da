"""JSON documents as `json.dumps(document, indent=2, ensure_ascii=False) + "\\n"` writes them,
byte for byte, in less memory.

With an indent, json.dumps runs the pure-Python encoder, which holds every fragment of the
document in one list before joining: for the 50k findings of a 100k-register spec, several
hundred MB of small strings. Here each member of a list is joined as soon as it is written,
so what is held is one string per member; a list may also be given as an iterator, so that
its members are made as they are written. Scalars go through the C encoder.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from json.encoder import encode_basestring  # the string escaper json.dumps uses (C)
from typing import Any, NamedTuple

_ENCODE = json.JSONEncoder(ensure_ascii=False).encode  # no indent: the C encoder


class Shaped(NamedTuple):
    """A value of a shape written many times (a finding), written by a function of its own
    that gives what `_write` would for `record(value)`, given the indent: the generic walk
    costs a dict and a call per member, and a large report has tens of thousands."""

    value: Any
    write: Callable[[Any, str], str]


def dumps(document: Any) -> str:
    """The document as indented JSON with a final newline. Keys must be strings."""
    pieces: list[str] = []
    _write(document, "", pieces)
    pieces.append("\n")
    return "".join(pieces)


def _write(value: Any, indent: str, pieces: list[str]) -> None:
    if type(value) is Shaped:
        pieces.append(value.write(value.value, indent))
    elif isinstance(value, dict):
        inner = indent + "  "
        opening = "{\n"
        for key, member in value.items():
            if not isinstance(key, str):
                raise TypeError(f"JSON object keys must be strings, not {type(key).__name__}")
            pieces.append(opening + inner + encode_basestring(key) + ": ")
            opening = ",\n"
            _write(member, inner, pieces)
        pieces.append("{}" if opening == "{\n" else "\n" + indent + "}")
    elif isinstance(value, list | tuple | Iterator):
        inner = indent + "  "
        opening = "[\n"
        for member in value:
            written: list[str] = [opening + inner]
            opening = ",\n"
            _write(member, inner, written)
            pieces.append("".join(written))
        pieces.append("[]" if opening == "[\n" else "\n" + indent + "]")
    else:
        pieces.append(scalar(value))


def scalar(value: Any) -> str:
    # The common scalars as json.dumps writes them, without setting up an encoder for each.
    if isinstance(value, str):
        return encode_basestring(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if type(value) is int:
        return int.__repr__(value)
    return _ENCODE(value)  # floats (NaN, Infinity) and the rest
