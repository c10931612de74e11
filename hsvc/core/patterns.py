"""Regular expressions compiled at their first use, not when their module is imported.

Compiling a pattern runs Python's regular expression compiler, in Python: the
patterns of the reference scanner alone were 15 M instructions of every start
(docs/reference/benchmarks.md), though only ``--references`` and ``lint`` use
them. :func:`deferred` stands for ``re.compile(pattern, flags)``; the first
method called compiles it, and from then on its methods are the compiled
pattern's own (bound once, so a call costs what it costs on the pattern).
"""

from __future__ import annotations

import re
from typing import Any, cast

__all__ = ["deferred"]

_METHODS = ("match", "fullmatch", "search", "finditer", "findall", "split", "sub", "subn")


class _Deferred:
    """``re.compile(pattern, flags)`` on the first use of any attribute."""

    def __init__(self, pattern: str, flags: int) -> None:
        self._source = (pattern, flags)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)  # copy, pickle and friends probe for these
        compiled = re.compile(*self._source)
        for method in _METHODS:
            setattr(self, method, getattr(compiled, method))
        return getattr(compiled, name)


def deferred(pattern: str, flags: int = 0) -> re.Pattern[str]:
    """``re.compile(pattern, flags)``, compiled when first used."""
    return cast(re.Pattern[str], _Deferred(pattern, flags))
