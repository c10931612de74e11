"""Which of the cyclic collector's runs start inside given functions (tests of the pauses)."""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from types import CodeType
from typing import Any


@contextmanager
def collections_inside(watched: dict[CodeType, str]) -> Iterator[list[str]]:
    """The names of ``watched`` functions each collection started inside, in order.

    Only collections with a watched function on the stack count: a coverage tracer
    allocates at every line, and the collections that sets off around the call are
    not the code's. On leaving, the collector is as it was: its thresholds, whether
    it runs, and nothing left frozen.
    """
    inside: list[str] = []

    def seen(phase: str, info: dict[str, Any]) -> None:
        frame = sys._getframe(1) if phase == "start" else None
        while frame is not None:
            if frame.f_code in watched:
                inside.append(watched[frame.f_code])
                return
            frame = frame.f_back

    enabled, threshold = gc.isenabled(), gc.get_threshold()
    gc.callbacks.append(seen)
    try:
        yield inside
    finally:
        gc.callbacks.remove(seen)
        gc.unfreeze()
        gc.set_threshold(*threshold)
        (gc.enable if enabled else gc.disable)()
