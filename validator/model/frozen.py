"""`@frozen`: a frozen, slotted dataclass whose methods are shared functions, or code written
once per shape of class, instead of dataclass's generated code.

`dataclass` compiles six methods for each frozen class; the model has thirty classes, and
compiling them was a sixth of a small check's start-up. Here it compiles one, `__init__`,
once for all classes of the same number of fields (and the same fields made by a factory),
with numbered parameters that each class's copy renames to its fields: the package's one
`exec` (tests/test_robustness.py holds it to that).
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
from functools import cache
from keyword import iskeyword
from operator import attrgetter
from types import CodeType, FunctionType
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
    each field's slot through the slot's descriptor. Its code is one compiled for every class
    of the same shape (_init_code), its parameters renamed to the class's fields."""
    own = fields(made)
    if not all(f.name.isidentifier() and not iskeyword(f.name) for f in own):
        raise TypeError(f"{made.__qualname__}: a field name that is not an identifier")
    namespace: dict[str, Any] = {"_FACTORY": _FACTORY}
    defaults, factories = [], []
    for number, f in enumerate(own):
        namespace[f"_set{number}"] = made.__dict__[f.name].__set__
        if f.default is not MISSING:
            defaults.append(f.default)
        elif f.default_factory is not MISSING:
            namespace[f"_factory{number}"] = f.default_factory
            defaults.append(_FACTORY)
            factories.append(number)
    code = _init_code(len(own), tuple(factories)).replace(co_varnames=("self", *(f.name for f in own)))
    init: Callable[..., None] = FunctionType(code, namespace, "__init__", tuple(defaults) or None)
    init.__qualname__ = f"{made.__qualname__}.__init__"
    return init


@cache
def _init_code(count: int, factories: tuple[int, ...]) -> CodeType:
    """The code of an `__init__` of `count` parameters that sets slot after slot (the ones in
    `factories` made by their factory where left out), compiled once per shape: compiling it
    for each of the model's classes was a tenth of the start-up."""
    body = [f"    if p{number} is _FACTORY: p{number} = _factory{number}()" for number in factories]
    body += [f"    _set{number}(self, p{number})" for number in range(count)]
    source = "def __init__(self" + "".join(f", p{number}" for number in range(count)) + "):\n"
    namespace: dict[str, Any] = {}
    exec(source + "\n".join(body or ["    pass"]), namespace)  # numbered names only, no field's text
    code: CodeType = namespace["__init__"].__code__
    return code


class _Factory:
    """The default of a field whose default comes from a factory, called for each instance."""

    def __repr__(self) -> str:
        return "<factory>"


_FACTORY = _Factory()
