"""Small helpers for the words and lists the core writes into notes and reasons."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TypeVar

T = TypeVar("T")


def unique(items: Iterable[T]) -> list[T]:
    """Return ``items`` without repeats, first occurrence first."""
    return list(dict.fromkeys(items))


def and_more(items: Sequence[str], limit: int) -> str:
    """``a, b, c and 2 more``: the first ``limit`` items, then how many are left out."""
    more = f" and {len(items) - limit} more" if len(items) > limit else ""
    return ", ".join(items[:limit]) + more


def listed(items: Sequence[str], limit: int = 3) -> str:
    """``a, b, c (+2 more)``: the first ``limit`` items and how many are left out."""
    more = f" (+{len(items) - limit} more)" if len(items) > limit else ""
    return ", ".join(items[:limit]) + more
