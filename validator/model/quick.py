"""A quicker `__init__` for the frozen dataclasses a large spec holds by the hundred thousand.

A frozen dataclass's generated `__init__` sets each field through `object.__setattr__`,
which looks the function up and calls it for every field: half the cost of building a
register's model. `quick_init` replaces it with one that stores each argument straight into
its slot through the slot's own descriptor, which a frozen class's `__setattr__` never sees.
Everything else is the dataclass's: the fields and their defaults, equality, hashing, repr,
immutability, pickling, `dataclasses.replace`.
"""

from __future__ import annotations

from dataclasses import MISSING, fields
from typing import TypeVar

T = TypeVar("T", bound=type)


def quick_init(cls: T) -> T:
    """Give a frozen, slotted dataclass the quicker `__init__` (fields with a default
    factory are not supported: none of the model's has one)."""
    names, namespace, parameters = [], {}, []
    for f in fields(cls):
        if not f.init or f.default_factory is not MISSING:
            raise TypeError(f"{cls.__name__}.{f.name}: quick_init takes plain fields with plain defaults")
        names.append(f.name)
        namespace[f"_set_{f.name}"] = cls.__dict__[f.name].__set__  # the slot's descriptor
        if f.default is MISSING:
            parameters.append(f.name)
        else:
            namespace[f"_default_{f.name}"] = f.default
            parameters.append(f"{f.name}=_default_{f.name}")
    body = "".join(f"    _set_{name}(self, {name})\n" for name in names) or "    pass\n"
    exec(f"def __init__(self, {', '.join(parameters)}):\n{body}", namespace)
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    cls.__init__ = init  # type: ignore[misc]
    return cls
