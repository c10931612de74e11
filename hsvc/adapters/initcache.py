"""Frozen dataclasses' ``__init__`` code kept across runs, as Python keeps modules' bytecode.

:mod:`hsvc.core.dataclass` writes each frozen class's ``__init__`` as source and
compiles it; compiling the sources of the hundred classes a command defines was
about a tenth of a small ``hsvc inspect`` (docs/reference/benchmarks.md). The same
source always compiles to the same code, so :class:`InitCache` keeps the code of
each source it has compiled in one file next to hsvc's bytecode (``__pycache__``,
or under ``sys.pycache_prefix``), read at the next start. As for bytecode, nothing
is written when ``PYTHONDONTWRITEBYTECODE`` (``sys.dont_write_bytecode``) is set or
the folder cannot be written, and a file of another interpreter, or unreadable, is
ignored: the code is compiled as without it; so is a damaged one (a CRC-32 of its
contents follows the stamp). :class:`MarshalFile`, that stamped
file, also keeps :mod:`hsvc.adapters.regexcache`'s programs.
"""

from __future__ import annotations

import atexit
import contextlib
import marshal
import os
import sys
import zlib
from pathlib import Path
from types import CodeType
from typing import Any

__all__ = ["InitCache", "MarshalFile", "cache_file", "install"]

MAX_SOURCES = 4096
"""More entries than this in a file (old versions' piling up): keep this run's."""


def _stamp(kind: str = "hsvc-inits") -> bytes:
    """What the file must start with: code is only valid for the interpreter that made it."""
    tag = sys.implementation.cache_tag
    return f"{kind} {sys.version} {tag} O{sys.flags.optimize}\n".encode()


def _check(payload: bytes) -> bytes:
    """The line after the stamp: the payload's CRC-32, so that a damaged file is ignored."""
    return b"%08x\n" % zlib.crc32(payload)


def contents(kind: str, value: Any) -> bytes:
    """What a file of ``kind`` holding ``value`` is: the stamp, the check, the marshal."""
    payload = marshal.dumps(value)
    return _stamp(kind) + _check(payload) + payload


def cache_file(name: str = "dataclass-inits") -> Path:
    """Where a cache of hsvc's own lives, as ``__pycache__`` would hold it."""
    package = Path(__file__).resolve().parent.parent
    name = f"{name}.{sys.implementation.cache_tag}.marshal"
    prefix = sys.pycache_prefix
    if prefix:
        return Path(prefix + str(package)) / name
    return package / "__pycache__" / name


class MarshalFile:
    """A dictionary read from and written to ``path`` with marshal, stamped ``kind``.

    A file of another interpreter, unreadable, or holding anything :meth:`valid`
    refuses is ignored (the dictionary starts empty).
    """

    kind = "hsvc-inits"

    def __init__(self, path: Path) -> None:
        self.path = path
        self.codes: dict[Any, Any] = {}
        self.added = 0
        try:
            data = path.read_bytes()
        except OSError:
            return
        stamp = _stamp(self.kind)
        if not data.startswith(stamp):
            return
        check, payload = data[len(stamp) : len(stamp) + 9], data[len(stamp) + 9 :]
        if check != _check(payload):
            return  # damaged (a disk, a copy cut short): as if there were no file
        try:
            codes = marshal.loads(payload)
        except (ValueError, EOFError, TypeError):
            return
        if isinstance(codes, dict) and self.valid(codes):
            self.codes = codes

    def valid(self, codes: dict[Any, Any]) -> bool:
        """Whether ``codes``, read from the file, may be used."""
        raise NotImplementedError

    def save(self) -> None:
        """Write the file when this run added something new (never raises)."""
        if not self.added or sys.dont_write_bytecode:
            return
        codes = self.codes
        if len(codes) > MAX_SOURCES:
            codes = dict(list(codes.items())[-self.added :])
        temporary = f"{self.path}.{os.getpid()}"
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # Created as bytecode is: the umask decides who may read it.
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            with os.fdopen(fd, "wb") as f:
                f.write(contents(self.kind, codes))
            os.replace(temporary, self.path)  # whole or not at all, for runs side by side
        except (OSError, ValueError):  # ValueError: a value marshal cannot write
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            return
        self.added = 0


class InitCache(MarshalFile):
    """Compiled ``__init__`` sources by source text, read from and written to ``path``."""

    codes: dict[str, CodeType]

    def valid(self, codes: dict[Any, Any]) -> bool:
        """Sources (text) and their code."""
        return all(isinstance(k, str) and isinstance(v, CodeType) for k, v in codes.items())

    def compile(self, source: str) -> CodeType:
        """The code of ``source``: from the file, else compiled (and kept for the next run)."""
        code = self.codes.get(source)
        if code is None:
            from hsvc.core.dataclass import compile_init

            code = self.codes[source] = compile_init(source)
            self.added += 1
        return code


def install(path: Path | None = None) -> InitCache:
    """Compile frozen ``__init__`` sources through a cache from now on; save it at exit."""
    from hsvc.core.dataclass import InitCompiler

    cache = InitCache(cache_file() if path is None else path)
    InitCompiler.compile = cache.compile
    atexit.register(cache.save)
    return cache
