"""The model: frozen data whose spans point at the declaration and each attribute line."""

from __future__ import annotations

import dataclasses

import pytest

from validator.frontend.parse import parse_file
from validator.model.spec import attr_span

TEXT = """api "a" version "1"
register R {
  id    0x6030_0000_0010_0000
  via   one_reg, two
  bits {
    5 FIVE since "0.9"
  }
}
"""


def build(text: str = TEXT):
    return parse_file(text, "m.uapi")


def test_declaration_span_covers_keyword_and_name() -> None:
    register = build().declarations[0]
    span = register.span
    assert (span.path, span.line, span.column, span.end_line, span.end_column) == ("m.uapi", 2, 1, 2, 11)


def test_attribute_spans_and_name_spans() -> None:
    register = build().declarations[0]
    assert (attr_span(register, "id").line, attr_span(register, "id").column) == (3, 3)
    assert [(v.text, v.span.line, v.span.column) for v in register.via] == [("one_reg", 4, 9), ("two", 4, 18)]
    bit = register.bits[0]
    assert (bit.span.line, bit.span.column, bit.span.end_column) == (6, 5, 23)
    assert attr_span(register, "bits").end_line == 7


def test_model_is_frozen() -> None:
    register = build().declarations[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        register.width = 32  # type: ignore[misc]


def test_api_and_source_text_are_kept() -> None:
    spec = build()
    assert (spec.api[0].name, spec.api[0].version) == ("a", "1")
    assert spec.text.splitlines()[1] == "register R {"
