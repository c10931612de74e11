"""The cyclic collector paused while a run builds many long-lived objects and no cycles.

Planning, asking DNS and comparing each build tens of thousands of small objects that
live to the end of the run and hold no reference cycles. Left running, the collector
scans them again and again while they are built, which made their cost per object grow
with their number (docs/reference/benchmarks.md). :func:`paused` holds it off and, when
it resumes, moves what was built out of its way without a pass: ``"freeze"`` leaves the
objects out of every later collection, ``"age"`` puts them in its oldest generation,
which only a full collection (rare with the CLI's thresholds) looks at again.
Reference counting still frees them. A collector the caller had turned off stays off,
and its objects stay where they are.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal

__all__ = ["collect_rarely", "paused"]

#: The collector's thresholds for a process of hsvc's own, as mypy sets them: a large
#: inspect builds millions of long-lived objects and few cycles, which the default ones
#: would rescan again and again (up to a quarter of the run).
RARE_THRESHOLDS = (200_000, 30, 30)


def collect_rarely() -> None:
    """Set :data:`RARE_THRESHOLDS` (for the process's own run, not a test calling main)."""
    gc.set_threshold(*RARE_THRESHOLDS)


@contextmanager
def paused(then: Literal["freeze", "age"]) -> Iterator[None]:
    """Run the block with the collector off, then ``then`` what it built and resume it."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.freeze()
            if then == "age":
                gc.unfreeze()
            gc.enable()
