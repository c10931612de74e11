"""Regular expressions compiled at import kept across runs, as Python keeps modules' bytecode.

Compiling a regular expression is Python code (``re._parser`` and
``re._compiler``), and hsvc and the libraries it loads (urllib3, http.client,
email, typer, logging, ...) compile about a hundred at import: about a twentieth of
a small ``hsvc inspect`` (docs/reference/benchmarks.md). The same pattern and flags
always compile to the same program for one interpreter, so :class:`RegexCache` keeps
the compiled program of each pattern that module or class code compiles (the
text is in the source; what a function compiles at run time, perhaps from a
cluster's names, is never kept) in one file next to hsvc's bytecode, and builds
the pattern from it at the next start with the very call ``re`` makes last. As
for bytecode, nothing is written under ``PYTHONDONTWRITEBYTECODE`` or when the
folder cannot be written, a file of another interpreter is ignored, and a
pattern whose compiling warns (``FutureWarning: Possible nested set``) is
never kept, so that it warns at every run as before. Only CPython 3.11, whose
``re`` internals this follows, uses it.
"""

from __future__ import annotations

import atexit
import sys
import warnings
from pathlib import Path
from typing import Any

from hsvc.adapters.initcache import MarshalFile, cache_file

__all__ = ["RegexCache", "install"]

_CO_NEWLOCALS = 0x0002
"""A code object's flag for a function's body (module and class bodies lack it)."""

_RE_MODULES = frozenset({"re", "re._compiler", "re._parser"})


def _from_module_code() -> bool:
    """Whether the pattern being compiled comes from module or class code (its text is source)."""
    frame = sys._getframe(2)
    while frame is not None and frame.f_globals.get("__name__") in _RE_MODULES:
        frame = frame.f_back  # type: ignore[assignment]
    return frame is not None and not frame.f_code.co_flags & _CO_NEWLOCALS


class RegexCache(MarshalFile):
    """Compiled programs by ``(pattern, flags)``, read from and written to ``path``."""

    kind = "hsvc-regex"

    def __init__(self, path: Path, compiler: Any) -> None:
        super().__init__(path)
        self.compiler = compiler
        self.original = compiler.compile

    def valid(self, codes: dict[Any, Any]) -> bool:
        """``(pattern, flags)`` keys and the arguments of ``_sre.compile`` after the pattern."""
        return all(
            isinstance(k, tuple) and len(k) == 2 and isinstance(v, tuple) and len(v) == 5
            for k, v in codes.items()
        )

    def compile(self, p: Any, flags: int = 0) -> Any:
        """``re._compiler.compile``: from the file when kept, else compiled as always."""
        if not isinstance(p, str | bytes) or flags & self.compiler.SRE_FLAG_DEBUG:
            return self.original(p, flags)
        key = (p, int(flags))
        kept = self.codes.get(key)
        if kept is not None:
            try:
                return self.compiler._sre.compile(p, *kept)
            except (RuntimeError, TypeError, ValueError, OverflowError):
                # A program _sre refuses (a damaged file): compiled as always, kept anew.
                del self.codes[key]
        pattern = self.original(p, flags)  # any warning is given here, as always
        if _from_module_code():
            kept = self._program(p, int(flags))
            if kept is not None:
                self.codes[key] = kept
                self.added += 1
        return pattern

    def _program(self, p: str | bytes, flags: int) -> tuple[Any, ...] | None:
        """What ``re._compiler.compile`` hands ``_sre.compile``; None if compiling warns."""
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            parsed = self.compiler._parser.parse(p, flags)
            code = self.compiler._code(parsed, flags)
        if caught:
            return None
        state = parsed.state
        groupindex = dict(state.groupdict)
        indexgroup: list[str | None] = [None] * state.groups
        for name, index in groupindex.items():
            indexgroup[index] = name
        return (
            int(flags | state.flags),
            [int(c) for c in code],
            state.groups - 1,
            groupindex,
            tuple(indexgroup),
        )


def install(path: Path | None = None) -> RegexCache | None:
    """Compile regular expressions through a cache from now on; save it at exit.

    None (nothing installed) on an interpreter other than CPython 3.11.
    """
    if sys.implementation.name != "cpython" or sys.version_info[:2] != (3, 11):
        return None
    import re  # noqa: F401  (imports re._compiler and re._parser)

    compiler: Any = sys.modules["re._compiler"]
    cache = RegexCache(cache_file("regex-programs") if path is None else path, compiler)
    compiler.compile = cache.compile
    atexit.register(cache.save)
    return cache
