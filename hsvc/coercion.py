"""Flag values coerced without pydantic, for the shapes hsvc's flags take.

Installed on every command's parameters by :mod:`hsvc.cli` and :mod:`hsvc.cliapp`.
"""

import re
from enum import Enum
from typing import Any, get_args, get_origin

_DIGITS = re.compile(r"[0-9]+")
_DECIMAL = re.compile(r"[0-9]+(?:\.[0-9]+)?")
_TYPERS = object()  # "not a shape handled here": typer's own coercion decides


class PlainCoercion:
    """Typer's conversion of one parameter's value, for the shapes hsvc's flags take.

    typer converts every given parameter through a pydantic ``TypeAdapter``, and
    importing pydantic is a fifth of a small ``inspect`` (docs/reference/benchmarks.md).
    hsvc's flags are ``str``, ``bool``, ``list[str]``, bounded ``int`` and ``float``
    and ``StrEnum`` choices: their plain spellings (digits, a decimal, a member's
    value) are converted here to what typer returns. Anything else, a value out of
    bounds or a bad one above all, goes to typer's own coercion, so its results
    and messages stay typer's (tests/unit/test_cli.py compares both on every flag).
    """

    __slots__ = ("_annotation", "_kind", "_max", "_min", "_typer")

    def __init__(self, kind: str, annotation: Any, low: Any, high: Any) -> None:
        self._kind = kind
        self._annotation = annotation
        self._min = low
        self._max = high
        self._typer: Any = None

    @classmethod
    def install(cls, param: Any) -> None:
        """Give ``param`` (a typer parameter) this coercion when its shape is one handled here."""
        descriptor = getattr(param, "type_descriptor", None)
        if descriptor is None or getattr(param, "_runtime_param", False) is not None:
            return  # not typer's lazily coerced parameter: leave it as it is
        try:
            from typer._coercion import build_runtime_param  # noqa: F401, TID251
        except ImportError:  # another typer: its own coercion throughout
            return
        info = descriptor.parameter_info
        if info.parser is not None or info.clamp or descriptor.file_annotation is not None:
            return
        annotation = descriptor.annotation
        kind = ""
        if annotation in (str, bool):
            kind = annotation.__name__
        elif annotation in (int, float) and getattr(info, "min_open", False) is False:
            kind = annotation.__name__
        elif isinstance(annotation, type) and issubclass(annotation, Enum):
            kind = "enum" if info.case_sensitive else ""
        elif get_origin(annotation) is list and get_args(annotation) == (str,):
            kind = "list"
        if kind:
            param._runtime_param = cls(kind, annotation, info.min, info.max)

    def coerce(self, value: Any, param: Any, ctx: Any) -> Any:
        """Return the converted value (typer's ``RuntimeParam.coerce``)."""
        if value is None:
            return () if param.multiple or param.nargs == -1 else None
        converted = self._convert(value)
        if converted is _TYPERS:
            if self._typer is None:
                from typer._coercion import build_runtime_param  # noqa: TID251

                self._typer = build_runtime_param(param.type_descriptor)
            return self._typer.coerce(value, param=param, ctx=ctx)
        return converted

    def _convert(self, value: Any) -> Any:
        kind = self._kind
        if kind == "str":
            return value if type(value) is str else _TYPERS
        if kind == "bool":
            return value if isinstance(value, bool) else _TYPERS
        if kind == "list":
            ok = isinstance(value, tuple | list) and all(type(v) is str for v in value)
            return list(value) if ok else _TYPERS
        if kind == "enum":
            if isinstance(value, self._annotation):
                return value
            members = self._annotation._value2member_map_
            return members[value] if type(value) is str and value in members else _TYPERS
        number: int | float
        if type(value) is int or (kind == "float" and type(value) is float):
            number = value
        elif isinstance(value, str) and (_DIGITS if kind == "int" else _DECIMAL).fullmatch(value):
            number = int(value) if kind == "int" else float(value)
        else:
            return _TYPERS
        if kind == "float":
            number = float(number)
        if (self._min is not None and number < self._min) or (
            self._max is not None and number > self._max
        ):
            return _TYPERS
        return number
