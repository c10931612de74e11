"""Frozen dataclasses' ``__init__`` code kept across runs, as Python keeps modules' bytecode.

:mod:`hsvc.core.dataclass` writes each frozen class's ``__init__`` as source and
compiles it; compiling the sources of the hundred classes a command defines was
about a tenth of a small ``hsvc inspect`` (docs/reference/benchmarks.md). The same
source always compiles to the same code, so :class:`InitCache` keeps the code of
each source it has compiled in one file next to hsvc's bytecode (``__pycache__``,
or under ``sys.pycache_prefix``), read at the next start. As for bytecode, nothing
is written when ``PYTHONDONTWRITEBYTECODE`` (``sys.dont_write_bytecode``) is set or
the folder cannot be written, and a file of another interpreter, or unreadable, is
ignored: the code is compiled as without it. On CPython 3.11 the methods the
standard decorator writes (hsvc's other classes, the libraries') are kept the same
way, in a file of their own. :class:`MarshalFile`, that stamped file, also keeps
:mod:`hsvc.adapters.regexcache`'s programs.
"""

from __future__ import annotations

import atexit
import contextlib
import marshal
import os
import sys
from collections.abc import Callable
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
        try:
            codes = marshal.loads(data[len(stamp) :])
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
                f.write(_stamp(self.kind) + marshal.dumps(codes))
            os.replace(temporary, self.path)  # whole or not at all, for runs side by side
        except (OSError, ValueError):  # ValueError: a value marshal cannot write
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            return
        self.added = 0


def compile_standard(source: str) -> CodeType:
    """The code of a standard dataclass method's source, as its ``exec`` compiles it.

    ``dataclasses`` has no ``from __future__`` imports, so neither has its code (here
    they would be inherited: annotations would stay text).
    """
    return compile(source, "<string>", "exec", dont_inherit=True)


class InitCache(MarshalFile):
    """Compiled ``__init__`` sources by source text, read from and written to ``path``.

    ``compiler`` compiles a source not in the file (default: hsvc's, ``compile_init``).
    """

    codes: dict[str, CodeType]

    def __init__(self, path: Path, compiler: Callable[[str], CodeType] | None = None) -> None:
        super().__init__(path)
        self.compiler = compiler

    def valid(self, codes: dict[Any, Any]) -> bool:
        """Sources (text) and their code."""
        return all(isinstance(k, str) and isinstance(v, CodeType) for k, v in codes.items())

    def compile(self, source: str) -> CodeType:
        """The code of ``source``: from the file, else compiled (and kept for the next run)."""
        code = self.codes.get(source)
        if code is None:
            from hsvc.core.dataclass import compile_init

            code = self.codes[source] = (self.compiler or compile_init)(source)
            self.added += 1
        return code


def install(path: Path | None = None) -> InitCache:
    """Compile dataclasses' methods through a cache from now on; save it at exit.

    hsvc's frozen ``__init__`` sources, and on CPython 3.11 the methods the standard
    decorator writes (hsvc's other classes, the libraries': typer's), in a file of
    their own beside ``path``.
    """
    from hsvc.core.dataclass import InitCompiler

    cache = InitCache(cache_file() if path is None else path)
    InitCompiler.compile = cache.compile
    atexit.register(cache.save)
    if sys.implementation.name == "cpython" and sys.version_info[:2] == (3, 11):
        import dataclasses

        standard = InitCache(
            cache.path.with_name(cache_file("standard-inits").name), compile_standard
        )
        module: Any = dataclasses
        module._create_fn = _standard_create_fn(standard, module)
        atexit.register(standard.save)
    return cache


def _standard_create_fn(cache: InitCache, module: Any) -> Any:
    """``dataclasses._create_fn`` of CPython 3.11, its source compiled through ``cache``.

    The text it writes and the names it binds are the standard one's, line for line;
    only ``compile`` goes through the cache (the same source, the same code).
    """
    missing = module.MISSING

    def _create_fn(
        name: str,
        args: Any,
        body: Any,
        *,
        globals: dict[str, Any] | None = None,
        locals: dict[str, Any] | None = None,
        return_type: Any = missing,
    ) -> Any:
        if locals is None:
            locals = {}
        return_annotation = ""
        if return_type is not missing:
            locals["_return_type"] = return_type
            return_annotation = "->_return_type"
        args = ",".join(args)
        body = "\n".join(f"  {b}" for b in body)
        txt = f" def {name}({args}){return_annotation}:\n{body}"
        local_vars = ", ".join(locals.keys())
        txt = f"def __create_fn__({local_vars}):\n{txt}\n return {name}"
        ns: dict[str, Any] = {}
        # The standard exec()s in its own module when no globals are given.
        exec(cache.compile(txt), vars(module) if globals is None else globals, ns)
        return ns["__create_fn__"](**locals)

    return _create_fn
