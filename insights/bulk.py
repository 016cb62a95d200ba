"""Building many small objects at once (brand rows, queue entries) with Python's cyclic
garbage collector paused: it would otherwise walk every live object again and again while
hundreds of thousands of tuples and records are made. They hold no reference cycles, so
reference counting frees them as usual; the collector resumes afterwards."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic collector for the block (nested blocks leave it to the outer one)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
