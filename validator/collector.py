"""Python's cycle collector paused while a model is built and judged.

The model holds no reference cycles, so the collector, which runs every few hundred thousand
allocations, walks it again and again and frees nothing: a fifth of a large check's time, and
a quarter of the language server's analysis of a keystroke. A long-lived process (the
language server) also settles after each analysis: see `settle`.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused(pause: bool = True) -> Iterator[None]:
    """The collector off for the block (if it was on), and on again after it."""
    if not pause or not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def off_until_exit() -> None:
    """The collector off for the rest of a process that ends when its command does: switched on
    again after the command, its first collection walks all that is still alive."""
    gc.disable()


def settle() -> None:
    """Collect the cycles made since the last settle, then exempt what survives from later
    collections (`gc.freeze`).

    A language server keeps a large model alive between keystrokes: each full collection
    walked all of it (60-145 ms for a 1000-register document, every few keystrokes). Frozen
    objects are still freed when their count of references drops to zero, as the model's are
    (it holds no cycles); what was frozen is never walked again, so a collection here walks
    only the objects the last analysis made."""
    gc.collect()
    gc.freeze()
