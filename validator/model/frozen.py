"""`@frozen`: a frozen, slotted dataclass whose methods are shared functions, or code written
once for the class, instead of dataclass's generated code.

`dataclass` compiles six methods for each frozen class; the model has thirty classes, and
compiling them was a sixth of a small check's start-up. Here it compiles one, `__init__`,
from the class's field names: the package's one `exec` (tests/test_robustness.py holds it
to that).
The shared methods behave as the generated ones: equality between instances of the same
class by their compared fields, the hash of the tuple of those fields (so sets and dicts of
model objects iterate as before), `Class(field=value, ...)` over the fields shown, and
`FrozenInstanceError` for any assignment or deletion.

`__init__` writes each slot through the slot's own descriptor. dataclass's frozen
`__init__` goes through `object.__setattr__(self, name, value)`, which looks the name up on
the class every time; the model builds about forty objects a register, and a register took
2.4 times as long to make that way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import MISSING, FrozenInstanceError, dataclass, fields
from keyword import iskeyword
from operator import attrgetter
from typing import Any, NoReturn, TypeVar, dataclass_transform

T = TypeVar("T")


def _values(names: tuple[str, ...]) -> Callable[[Any], tuple[Any, ...]]:
    """The named fields' values as a tuple (attrgetter gives a bare value for one name)."""
    if not names:
        return lambda _: ()
    if len(names) == 1:
        one = attrgetter(names[0])
        return lambda obj: (one(obj),)
    return attrgetter(*names)


def _refuse_assignment(self: Any, name: str, value: Any) -> NoReturn:
    raise FrozenInstanceError(f"cannot assign to field {name!r}")


def _refuse_deletion(self: Any, name: str) -> NoReturn:
    raise FrozenInstanceError(f"cannot delete field {name!r}")


@dataclass_transform(frozen_default=True)
def frozen(cls: type[T]) -> type[T]:
    made: Any = dataclass(slots=True, init=False, eq=False, repr=False)(cls)
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
    made.__setattr__, made.__delattr__ = _refuse_assignment, _refuse_deletion
    made.__init__ = _slot_init(made)
    return made  # type: ignore[no-any-return]


def _slot_init(made: Any) -> Callable[..., None]:
    """`__init__` with the dataclass's signature (defaults and default factories), writing
    each field's slot through the slot's descriptor."""
    params, body = [], []
    if not all(f.name.isidentifier() and not iskeyword(f.name) for f in fields(made)):
        raise TypeError(f"{made.__qualname__}: a field name that is not an identifier")
    namespace: dict[str, Any] = {"_FACTORY": _FACTORY}
    for number, f in enumerate(fields(made)):
        namespace[f"_set{number}"] = made.__dict__[f.name].__set__
        if f.default is not MISSING:
            namespace[f"_default{number}"] = f.default
            params.append(f"{f.name}=_default{number}")
        elif f.default_factory is not MISSING:
            namespace[f"_factory{number}"] = f.default_factory
            params.append(f"{f.name}=_FACTORY")
            body.append(f"    if {f.name} is _FACTORY: {f.name} = _factory{number}()")
        else:
            params.append(f.name)
        body.append(f"    _set{number}(self, {f.name})")
    source = "def __init__(self, " + ", ".join(params) + "):\n" + "\n".join(body or ["    pass"])
    exec(source, namespace)  # field names (identifiers) and numbers only, as dataclass's own code is
    init: Callable[..., None] = namespace["__init__"]
    init.__qualname__ = f"{made.__qualname__}.__init__"
    return init


class _Factory:
    """The default of a field whose default comes from a factory, called for each instance."""

    def __repr__(self) -> str:
        return "<factory>"


_FACTORY = _Factory()
