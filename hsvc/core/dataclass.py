"""``dataclass``: the standard decorator, with ``__repr__``, ``__eq__``, ``__hash__`` not compiled.

:func:`dataclasses.dataclass` writes every method it adds as source text and
compiles it; with some hundred classes, that compiling was most of the cost of
importing hsvc's own modules at every start (docs/reference/benchmarks.md).
Here the standard decorator still does everything but those three methods
(fields, ``__init__``, the frozen ``__setattr__`` and ``__delattr__``, slots,
pickling, ``__match_args__``, ``__dataclass_params__``), and the three are
closures over the field names that return what the compiled ones return:
``__eq__`` compares the same tuples when both classes are the same (else
``NotImplemented``), ``__hash__`` hashes the same tuple (or is None, or is left
alone, by the same rule), ``__repr__`` writes the same text and ``...`` for a
recursive one. A class that defines one of them keeps its own, as with the
standard decorator. Options this does not cover (``order``, ``unsafe_hash``,
``repr`` or ``eq`` false) go to the standard decorator unchanged. Type checkers
see :func:`dataclasses.dataclass` itself. ``tests/unit/test_dataclass.py`` holds
every class of hsvc against the standard decorator's.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from operator import attrgetter
from reprlib import recursive_repr
from typing import TYPE_CHECKING, Any

__all__ = ["dataclass"]

_standard = dataclasses.dataclass
_COVERED = {"repr": True, "eq": True, "order": False, "unsafe_hash": False}


def _key(names: tuple[str, ...]) -> Callable[[Any], tuple[Any, ...]]:
    """Instance -> the tuple of the values of ``names`` (the standard ``(self.a, self.b,)``)."""
    if not names:
        return lambda obj: ()
    if len(names) == 1:
        one = attrgetter(names[0])
        return lambda obj: (one(obj),)
    many: Callable[[Any], tuple[Any, ...]] = attrgetter(*names)
    return many


def _repr_of(shown: tuple[str, ...]) -> Callable[[Any], str]:
    def dataclass_repr(self: Any) -> str:
        inner = ", ".join([f"{name}={getattr(self, name)!r}" for name in shown])
        qualname: str = self.__class__.__qualname__
        return qualname + "(" + inner + ")"

    return dataclass_repr


def _eq_of(compared: Callable[[Any], tuple[Any, ...]]) -> Callable[[Any, Any], Any]:
    def dataclass_eq(self: Any, other: Any) -> Any:
        if other.__class__ is self.__class__:
            return compared(self) == compared(other)
        return NotImplemented

    return dataclass_eq


def _hash_of(hashed: Callable[[Any], tuple[Any, ...]]) -> Callable[[Any], int]:
    def dataclass_hash(self: Any) -> int:
        return hash(hashed(self))

    return dataclass_hash


def _name(fn: Callable[..., Any], cls: type, name: str) -> Callable[..., Any]:
    fn.__name__ = name
    fn.__qualname__ = f"{cls.__qualname__}.{name}"
    return fn


def _finish(cls: type, *, explicit_hash: bool, frozen: bool) -> None:
    """Add what ``repr=True, eq=True`` adds to the class the standard decorator made."""
    fields = dataclasses.fields(cls)  # the real fields: not ClassVar, not InitVar
    own = cls.__dict__
    if "__repr__" not in own:
        shown = tuple(f.name for f in fields if f.repr)
        cls.__repr__ = recursive_repr()(_name(_repr_of(shown), cls, "__repr__"))  # type: ignore[method-assign,assignment]
    if "__eq__" not in own:
        compared = _key(tuple(f.name for f in fields if f.compare))
        cls.__eq__ = _name(_eq_of(compared), cls, "__eq__")  # type: ignore[method-assign]
    # The standard table for eq=True, unsafe_hash=False: keep an explicit __hash__,
    # else None when mutable, else the hash of the hashed fields.
    if explicit_hash:
        return
    if not frozen:
        cls.__hash__ = None  # type: ignore[assignment]
        return
    hashed = _key(tuple(f.name for f in fields if (f.compare if f.hash is None else f.hash)))
    cls.__hash__ = _name(_hash_of(hashed), cls, "__hash__")  # type: ignore[method-assign]


def _decorate(cls: type, options: dict[str, Any]) -> type:
    own = cls.__dict__
    class_hash = own.get("__hash__", dataclasses.MISSING)
    # As the standard decorator decides it, from the class body as written.
    explicit_hash = not (
        class_hash is dataclasses.MISSING or (class_hash is None and "__eq__" in own)
    )
    done: type = _standard(cls, **options, repr=False, eq=False)
    params = done.__dataclass_params__  # type: ignore[attr-defined]
    params.repr = True
    params.eq = True
    _finish(done, explicit_hash=explicit_hash, frozen=bool(options.get("frozen", False)))
    return done


def _dataclass(cls: type | None = None, /, **options: Any) -> Any:
    """:func:`dataclasses.dataclass`: the same arguments, the same classes."""
    if any(options.get(name, default) != default for name, default in _COVERED.items()):
        return _standard(cls, **options)
    rest = {k: v for k, v in options.items() if k not in _COVERED}
    if cls is None:
        return lambda c: _decorate(c, rest)
    return _decorate(cls, rest)


if TYPE_CHECKING:
    from dataclasses import dataclass as dataclass
else:
    dataclass = _dataclass
