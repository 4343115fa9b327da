"""Python's cycle collector paused while a model is built and judged.

The model holds no reference cycles, so the collector, which runs every few hundred thousand
allocations, walks it again and again and frees nothing: a fifth of a large check's time, and
a quarter of the language server's analysis of a keystroke.
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
