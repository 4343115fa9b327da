"""`@frozen`: a frozen, slotted dataclass whose equality, hash and repr are shared functions
instead of code generated per class.

`dataclass` compiles six methods for each frozen class; the model has thirty classes, and
compiling them was a sixth of a small check's start-up. Here it compiles three (`__init__`,
and the `__setattr__`/`__delattr__` that keep instances frozen). The shared methods behave as
the generated ones: equality between instances of the same class by their compared fields,
the hash of the tuple of those fields (so sets and dicts of model objects iterate as before),
and `Class(field=value, ...)` over the fields shown.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from operator import attrgetter
from typing import Any, TypeVar, dataclass_transform

T = TypeVar("T")


def _values(names: tuple[str, ...]) -> Callable[[Any], tuple[Any, ...]]:
    """The named fields' values as a tuple (attrgetter gives a bare value for one name)."""
    if not names:
        return lambda _: ()
    if len(names) == 1:
        one = attrgetter(names[0])
        return lambda obj: (one(obj),)
    return attrgetter(*names)


@dataclass_transform(frozen_default=True)
def frozen(cls: type[T]) -> type[T]:
    made: Any = dataclass(frozen=True, slots=True, eq=False, repr=False)(cls)
    compared = _values(tuple(f.name for f in fields(made) if f.compare))
    shown = tuple(f.name for f in fields(made) if f.repr)

    def __eq__(self: Any, other: object) -> bool:
        if other.__class__ is self.__class__:
            return bool(compared(self) == compared(other))
        return NotImplemented

    def __hash__(self: Any) -> int:
        return hash(compared(self))

    def __repr__(self: Any) -> str:
        return f"{self.__class__.__qualname__}({', '.join(f'{n}={getattr(self, n)!r}' for n in shown)})"

    made.__eq__, made.__hash__, made.__repr__ = __eq__, __hash__, __repr__
    return made  # type: ignore[no-any-return]
