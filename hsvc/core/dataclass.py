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
import inspect
import sys
from collections.abc import Callable, Mapping
from operator import attrgetter
from reprlib import recursive_repr
from types import CodeType, MemberDescriptorType
from typing import TYPE_CHECKING, Any

__all__ = ["InitCompiler", "compile_init", "dataclass"]

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


class _Factory:
    """The default of a parameter whose field has a ``default_factory``."""

    def __repr__(self) -> str:
        return "<factory>"  # as inspect.signature shows the standard's marker


_FACTORY = _Factory()


def _init_source(
    fields: tuple[dataclasses.Field[Any], ...], own: Mapping[str, Any]
) -> tuple[str, dict[str, Any]]:
    """The source of a frozen ``__init__``, and what its names stand for.

    The standard decorator's, but for annotations (set on the function instead)
    and the names it uses (in the standard's ``__dataclass_*__`` form). A field
    with a slot of the class's own (``own``: the class's ``__dict__``) is set
    through that slot's descriptor, which is what ``object.__setattr__`` ends
    in, without looking the name up for every field of every instance (about a
    third of the cost of the objects the answer engine and the resolver make by
    the hundred thousand).
    """
    values: dict[str, Any] = {"__dataclass_set__": object.__setattr__}
    given = [f for f in fields if f.init]
    positional = [f for f in given if not f.kw_only]
    seen_default = False
    for f in positional:
        if f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING:
            seen_default = True
        elif seen_default:
            raise TypeError(f"non-default argument {f.name!r} follows default argument")

    def param(f: dataclasses.Field[Any]) -> str:
        if f.default is not dataclasses.MISSING:
            values[f"__dataclass_dflt_{f.name}__"] = f.default
            return f"{f.name}=__dataclass_dflt_{f.name}__"
        if f.default_factory is not dataclasses.MISSING:
            values["__dataclass_factory__"] = _FACTORY
            return f"{f.name}=__dataclass_factory__"
        return f.name

    params = ["self", *map(param, positional)]
    keywords = [f for f in given if f.kw_only]
    if keywords:
        params += ["*", *map(param, keywords)]
    body = []
    for f in fields:
        default = f"__dataclass_dflt_{f.name}__"
        if f.default_factory is not dataclasses.MISSING:
            values[default] = f.default_factory
            value = f"{default}()"
            if f.init:
                value += f" if {f.name} is __dataclass_factory__ else {f.name}"
        elif f.init:
            value = f.name
        elif f.default is not dataclasses.MISSING:  # slots: the default is no class attribute
            values[default] = f.default
            value = default
        else:
            continue
        slot = own.get(f.name)
        if isinstance(slot, MemberDescriptorType):
            values[f"__dataclass_slot_{f.name}__"] = slot.__set__
            body.append(f"  __dataclass_slot_{f.name}__(self,{value})\n")
        else:
            body.append(f"  __dataclass_set__(self,{f.name!r},{value})\n")
    inner = f" def __init__({','.join(params)}):\n{''.join(body) or '  pass' + chr(10)}"
    source = f"def __create_fn__({', '.join(values)}):\n{inner} return __init__\n"
    return source, values


def compile_init(source: str) -> CodeType:
    """The code of a frozen ``__init__``'s source, as ``exec(source)`` here compiles it."""
    return compile(source, "<string>", "exec")


class InitCompiler:
    """What compiles a frozen ``__init__``'s source: :func:`compile_init` unless replaced.

    The command line puts a cache of compiled sources kept across runs in its place
    (:mod:`hsvc.adapters.initcache`): the same source always compiles to the same code, and
    compiling the sources of some hundred classes was most of what defining them
    cost at every start (docs/reference/benchmarks.md).
    """

    compile: Callable[[str], CodeType] = staticmethod(compile_init)


def _frozen_init(cls: type, module: dict[str, Any]) -> Callable[..., None]:
    fields = tuple(dataclasses.fields(cls))
    source, values = _init_source(fields, cls.__dict__)
    namespace: dict[str, Any] = {}
    # The source is made above from the field names.
    exec(InitCompiler.compile(source), module, namespace)
    init: Callable[..., None] = namespace["__create_fn__"](**values)
    given = [f for f in fields if f.init]
    init.__annotations__ = {
        **{f.name: f.type for f in given if not f.kw_only},
        **{f.name: f.type for f in given if f.kw_only},
        "return": None,
    }
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    return init


def _frozen_methods(original: Any, names: tuple[str, ...]) -> tuple[Any, Any]:
    """``__setattr__`` and ``__delattr__`` as the standard's: they test the class decorated."""
    fields = frozenset(names)
    error = dataclasses.FrozenInstanceError

    def dataclass_setattr(self: Any, name: str, value: Any) -> None:
        if type(self) is original or name in fields:
            raise error(f"cannot assign to field {name!r}")
        super(original, self).__setattr__(name, value)

    def dataclass_delattr(self: Any, name: str) -> None:
        if type(self) is original or name in fields:
            raise error(f"cannot delete field {name!r}")
        super(original, self).__delattr__(name)

    return dataclass_setattr, dataclass_delattr


def _getstate(self: Any) -> list[Any]:
    return [getattr(self, f.name) for f in dataclasses.fields(self)]


def _setstate(self: Any, state: list[Any]) -> None:
    for f, value in zip(dataclasses.fields(self), state, strict=False):
        object.__setattr__(self, f.name, value)


def _compiles_less(cls: type, options: dict[str, Any]) -> bool:
    """Whether the frozen methods can be made here: a frozen class with no dataclass base."""
    own = cls.__dict__
    return (
        bool(options.get("frozen"))
        and options.get("init", True) is True
        and "__setattr__" not in own
        and "__delattr__" not in own
        # As dir(cls) would list it, without building and sorting every name there.
        and not any("__post_init__" in vars(k) for k in cls.__mro__)
        and not any(hasattr(b, "__dataclass_fields__") for b in cls.__mro__[1:])
        and not any(
            a == "self" or "InitVar" in str(t) or "KW_ONLY" in str(t)
            for a, t in own.get("__annotations__", {}).items()
        )
    )


def _decorate(cls: type, options: dict[str, Any]) -> type:
    own = cls.__dict__
    class_hash = own.get("__hash__", dataclasses.MISSING)
    # As the standard decorator decides it, from the class body as written.
    explicit_hash = not (
        class_hash is dataclasses.MISSING or (class_hash is None and "__eq__" in own)
    )
    frozen = bool(options.get("frozen", False))
    if not _compiles_less(cls, options):
        done: type = _standard(cls, **options, repr=False, eq=False)
        params = done.__dataclass_params__  # type: ignore[attr-defined]
        params.repr = True
        params.eq = True
        _finish(done, explicit_hash=explicit_hash, frozen=frozen)
        return done
    # Frozen: the standard decorator for the rest, __init__ and the frozen methods here.
    documented = bool(getattr(cls, "__doc__", None))
    original = cls
    module = sys.modules[cls.__module__].__dict__ if cls.__module__ in sys.modules else {}
    plain = {**options, "frozen": False, "init": False}
    done = _standard(cls, **plain, repr=False, eq=False)
    params = done.__dataclass_params__  # type: ignore[attr-defined]
    params.init = params.repr = params.eq = params.frozen = True
    done.__init__ = _frozen_init(done, module)  # type: ignore[misc]
    names = tuple(f.name for f in dataclasses.fields(done))
    setter, deleter = _frozen_methods(original, names)
    done.__setattr__ = _name(setter, done, "__setattr__")  # type: ignore[method-assign]
    done.__delattr__ = _name(deleter, done, "__delattr__")  # type: ignore[method-assign]
    if options.get("slots") and "__getstate__" not in own:
        done.__getstate__ = _getstate  # type: ignore[method-assign,assignment]
    if options.get("slots") and "__setstate__" not in own:
        done.__setstate__ = _setstate  # type: ignore[attr-defined]
    if not documented:
        try:
            text_sig = str(inspect.signature(done)).replace(" -> None", "")
        except (TypeError, ValueError):
            text_sig = ""
        done.__doc__ = done.__name__ + text_sig
    _finish(done, explicit_hash=explicit_hash, frozen=True)
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
