"""A faster ``__init__`` for the frozen, slotted dataclasses the answer engine makes by the million.

A frozen dataclass's generated ``__init__`` sets each field through
``object.__setattr__(self, "name", value)``: a name lookup and the generic
attribute machinery per field. :func:`quick_init` gives the class an ``__init__``
that takes the same arguments, with the same defaults, and stores each
value through the field's slot descriptor directly, which is about a third
cheaper (a plan of 80,000 questions makes some 800,000 such objects). The class
is otherwise untouched: still frozen, same fields, equality, hash, repr, pickling
and :func:`dataclasses.replace`. Classes it cannot speak for exactly
(``__post_init__``, init-only or class variables) are refused.
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

T = TypeVar("T")


# Instances made with the standard ``__init__`` before the quick one is compiled: a
# short command makes fewer and never pays for compiling it (start-up).
COMPILE_AFTER = 256


def quick_init(cls: type[T]) -> type[T]:
    """Give the frozen, slotted dataclass ``cls`` a descriptor-based ``__init__``.

    The standard ``__init__`` serves the first :data:`COMPILE_AFTER` instances; then
    the quick one is compiled and takes its place.

    Raises:
        TypeError: ``cls`` is not such a dataclass, or has ``__post_init__``, init-only
            or class variables.
    """
    source, scope = _init_source(cls)
    standard = cls.__init__
    made = 0

    def counting_init(self: Any, *args: Any, **kwargs: Any) -> None:
        nonlocal made
        made += 1
        if made == COMPILE_AFTER:
            exec(source, scope)  # generated from the class's own fields, as dataclasses does
            init = scope["__init__"]
            init.__qualname__ = f"{cls.__qualname__}.__init__"
            init.__doc__ = standard.__doc__
            cls.__init__ = init  # type: ignore[method-assign]
        standard(self, *args, **kwargs)

    counting_init.__qualname__ = f"{cls.__qualname__}.__init__"
    counting_init.__doc__ = standard.__doc__
    cls.__init__ = counting_init  # type: ignore[method-assign]
    return cls


def _init_source(cls: type) -> tuple[str, dict[str, Any]]:
    """The source of the quick ``__init__`` of ``cls``, and the names it reads."""
    params = getattr(cls, "__dataclass_params__", None)
    if params is None or not params.frozen or "__slots__" not in cls.__dict__:
        raise TypeError(f"{cls.__name__} is not a frozen, slotted dataclass")
    fields = dataclasses.fields(cls)
    if hasattr(cls, "__post_init__") or len(fields) != len(cls.__dataclass_fields__):  # type: ignore[attr-defined]
        raise TypeError(f"{cls.__name__} has __post_init__, init-only or class variables")
    scope: dict[str, Any] = {"MISSING": dataclasses.MISSING}
    positional: list[str] = []
    keywords: list[str] = []
    body: list[str] = []
    for f in fields:
        args = keywords if f.kw_only else positional
        scope[f"_set_{f.name}"] = cls.__dict__[f.name].__set__
        if f.default is not dataclasses.MISSING:
            scope[f"_default_{f.name}"] = f.default
            value = f"_default_{f.name}"
        elif f.default_factory is not dataclasses.MISSING:
            scope[f"_factory_{f.name}"] = f.default_factory
            value = f"_factory_{f.name}()"
        else:
            value = ""
        if not f.init:
            if value:  # without a default the slot stays unset, as dataclasses leave it
                body.append(f"    _set_{f.name}(self, {value})")
        elif value.endswith("()"):
            # A factory runs only when the argument is left out, as dataclasses do.
            args.append(f"{f.name}=MISSING")
            body.append(f"    _set_{f.name}(self, {value} if {f.name} is MISSING else {f.name})")
        else:
            args.append(f"{f.name}={value}" if value else f.name)
            body.append(f"    _set_{f.name}(self, {f.name})")
    signature = ", ".join(["self", *positional, *(["*", *keywords] if keywords else [])])
    return f"def __init__({signature}):\n" + ("\n".join(body) or "    pass"), scope
