"""The model: frozen data whose spans point at the declaration and each attribute line."""

from __future__ import annotations

import dataclasses
import inspect

import pytest
from hypothesis import given
from hypothesis import strategies as st

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


# `@frozen` (validator/model/frozen.py) shares equality, hash and repr between classes instead
# of generating them per class: it must behave as `dataclass(frozen=True, slots=True)` does.
def _pair(namespace: dict[str, object]) -> tuple[type, type]:
    from validator.model.frozen import frozen

    made = []
    for decorate in (frozen, dataclasses.dataclass(frozen=True, slots=True)):
        made.append(decorate(type("Thing", (), dict(namespace))))
    return made[0], made[1]


SHAPES = {
    "none": {"__annotations__": {}},
    "one": {"__annotations__": {"a": "int"}},
    "two": {"__annotations__": {"a": "int", "b": "object"}},
    "hidden": {
        "__annotations__": {"a": "int", "b": "object", "c": "str"},
        "c": dataclasses.field(default="", repr=False, compare=False),
    },
}


@pytest.mark.parametrize("shape", sorted(SHAPES))
@given(a=st.integers(), b=st.one_of(st.none(), st.text(max_size=3), st.tuples(st.integers())), c=st.text(max_size=2))
def test_frozen_behaves_as_a_frozen_slotted_dataclass(shape: str, a: int, b: object, c: str) -> None:
    ours, theirs = _pair(SHAPES[shape])
    names = [f.name for f in dataclasses.fields(theirs)]
    values = dict(zip(["a", "b", "c"], [a, b, c], strict=True))
    args = [values[n] for n in names]
    x, y = ours(*args), theirs(*args)
    other = ours(*[values[n] if n != "c" else c + "x" for n in names])
    assert repr(x) == repr(y)
    assert hash(x) == hash(y)
    assert (x == other) == (y == theirs(*[values[n] if n != "c" else c + "x" for n in names]))
    assert x == ours(*args) and x != y  # equal to its own class only, as a dataclass is
    assert not hasattr(x, "__dict__")
    if names:  # (with no fields, CPython's own frozen check fails another way: not ours)
        with pytest.raises(dataclasses.FrozenInstanceError):
            x.a = 1  # type: ignore[attr-defined]
        with pytest.raises(dataclasses.FrozenInstanceError):
            del x.a  # type: ignore[attr-defined]
        assert dataclasses.replace(x, **{names[0]: a + 1}) != x
    # The same signature (names, kinds, defaults), so keyword calls and defaults behave alike.
    ours_signature, theirs_signature = inspect.signature(ours), inspect.signature(theirs)
    assert [(p.name, p.kind, p.default) for p in ours_signature.parameters.values()] == [
        (p.name, p.kind, p.default) for p in theirs_signature.parameters.values()
    ]
    assert repr(ours(**dict(zip(names, args, strict=True)))) == repr(y)


def test_classes_of_one_shape_share_their_init_code_and_keep_their_own_names() -> None:
    from validator.model.frozen import frozen

    first = frozen(type("First", (), {"__annotations__": {"p": "int", "q": "int"}, "q": 1}))
    second = frozen(type("Second", (), {"__annotations__": {"u": "int", "v": "int"}, "v": 2}))
    assert first.__init__.__code__.co_code == second.__init__.__code__.co_code
    assert first(p=3).q == 1 and second(u=3).v == 2 and repr(second(4, v=5)) == "Second(u=4, v=5)"
    with pytest.raises(TypeError, match="'u'"):
        first(u=1)


def test_frozen_defaults_and_factories_are_the_dataclass_ones() -> None:
    namespace = {
        "__annotations__": {"a": "int", "b": "list", "c": "str"},
        "b": dataclasses.field(default_factory=list),
        "c": "c",
    }
    ours, theirs = _pair(namespace)
    x, y = ours(1), theirs(1)
    assert repr(x) == repr(y) == "Thing(a=1, b=[], c='c')"
    assert x.b is not ours(1).b  # a new list for each instance
    assert ours(1, [2], c="d").b == [2] and ours(1, c="d").c == "d"
    with pytest.raises(TypeError):
        ours()  # a field without a default is required, as dataclass makes it
