"""JSON text for documents of any size: the output of ``-o json``, written in pieces.

:func:`write_json` gives the text ``json.dumps(doc, indent=2, sort_keys=True)``
gives, through the C encoder wherever it can, and writes it as it goes;
:class:`Lazy` is a list whose items are made only when written.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Iterator
from typing import Any, cast


class Lazy:
    """A list in a document whose items are made only while it is written.

    ``write_json`` writes them one by one (a 20,000-pod inspect never holds its
    rows' dictionaries at once); anything else that needs the list calls ``list()``.
    """

    __slots__ = ("_make", "texts")

    def __init__(
        self,
        make: Callable[[], Iterable[Any]],
        texts: Callable[[str], Iterable[object]] | None = None,
    ) -> None:
        """``texts(indent)``, when given, yields each item's JSON text already written.

        A ``str`` it yields must be the text ``json.dumps(item, indent=2, sort_keys=True)``
        gives, with every line after the first indented by ``indent`` (the item's place),
        and :class:`Pieces` that text in pieces; anything else is the item itself, written
        as any value is. One for each item ``make`` yields, in order.
        """
        self._make = make
        self.texts = texts

    def __iter__(self) -> Iterator[Any]:
        return iter(self._make())


class Pieces:
    """One item's JSON text in several pieces, for ``Lazy``'s ``texts`` to yield.

    ``write_json`` writes the pieces as they come, so a long item's text is never
    held whole.
    """

    __slots__ = ("parts",)

    def __init__(self, parts: Iterable[str]) -> None:
        """``parts`` joined is the text a ``str`` yielded by ``texts`` would be."""
        self.parts = parts


def _materialise(value: object) -> object:
    """``default`` for ``json.dumps``: a :class:`Lazy` is its list."""
    if isinstance(value, Lazy):
        return list(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def pretty_json(doc: object) -> str:
    """Return ``json.dumps(doc, indent=2, sort_keys=True)``, byte for byte, several times faster.

    (:class:`Lazy` lists are written as lists.)
    """
    out: list[str] = []
    write_json(doc, out.append, batch=0)
    return "".join(out)


# Types whose JSON text is one token: a container of only these is written by the C encoder.
_SCALARS = frozenset({str, int, float, bool, type(None)})


BATCH = 4096  # pieces of text gathered before one write
BATCH_CHARS = 1 << 20  # or this much text written ahead (rows' own text, a piece each)


# long: one hot walk whose closures share its locals for speed (docs/reference/benchmarks.md)
def write_json(doc: object, write: Callable[[str], object], *, batch: int = BATCH) -> None:
    """Write ``json.dumps(doc, indent=2, sort_keys=True)`` through ``write``, in pieces.

    With ``indent`` the standard library drops its C encoder for a Python one;
    at thousands of rows (an inspect of 20,000 pods is ~120 MB) that takes
    seconds, and joining the text holds it twice in memory. This walks the
    containers and hands each one that holds only scalars to the C encoder,
    with the separators of its depth; whatever is not a plain type (an enum,
    a dict with keys other than strings) goes to ``json.dumps``, re-indented
    to its depth, which is the text ``json.dumps`` gives for it inside the
    whole document. Text is written every ``batch`` pieces (0: once, at the end),
    so memory stays flat however long the document.
    """
    out: list[str] = []
    push = out.append
    escape = json.encoder.encode_basestring_ascii
    make_encoder: Any = getattr(json.encoder, "c_make_encoder", None)
    flat: dict[str, Callable[[object], str]] = {}
    is_flat = _SCALARS.issuperset
    is_str = frozenset({str}).issuperset

    def flat_encoder(inner: str) -> Callable[[object], str] | None:
        """The C encoder of a flat container whose items sit at indent ``inner``."""
        if make_encoder is None:  # pragma: no cover - CPython always has _json
            return None
        enc = flat.get(inner)
        if enc is None:
            # Arguments: markers, default, encoder, indent, key and item separators,
            # sort_keys, skipkeys, allow_nan (as json.JSONEncoder passes them).
            sep = ",\n" + inner
            c = make_encoder(None, _materialise, escape, None, ": ", sep, True, False, True)

            def enc(value: object, c: Any = c) -> str:
                return "".join(c(value, 0))

            flat[inner] = enc
        return enc

    # Dicts of one shape (every row has the same keys) share their sorted keys, each
    # with the text before its value: made once per shape and depth.
    layouts: dict[tuple[str, tuple[str, ...]], list[tuple[str, str]]] = {}

    def dict_layout(keys: tuple[str, ...], inner: str) -> list[tuple[str, str]]:
        ordered = sorted(keys)
        heads = ["{\n" + inner] + [",\n" + inner] * (len(ordered) - 1)
        return [(k, head + escape(k) + ": ") for k, head in zip(ordered, heads, strict=True)]

    def fallback(value: object, indent: str) -> None:
        text = json.dumps(value, indent=2, sort_keys=True, default=_materialise)
        push(text.replace("\n", "\n" + indent) if indent else text)

    def flush() -> None:
        write("".join(out))
        out.clear()

    def spill(parts: Iterable[str]) -> None:
        """A long item's text, written piece by piece as it comes."""
        for piece in parts:
            push(piece)
            if batch:
                flush()

    def walk(value: object, indent: str) -> None:
        kind = type(value)
        if kind is str:
            push(escape(value))  # type: ignore[arg-type]
        elif kind is dict:
            items: dict[Any, Any] = value  # type: ignore[assignment]
            if not items:
                push("{}")
                return
            inner = indent + "  "
            if is_flat(map(type, items.values())):
                enc = flat_encoder(inner)
                if enc is not None:
                    push("{\n" + inner + enc(items)[1:-1] + "\n" + indent + "}")
                    return
            keys = tuple(items)
            layout = layouts.get((inner, keys))
            if layout is None:
                if not is_str(map(type, keys)):
                    fallback(value, indent)  # int keys become strings; mixed keys raise
                    return
                layout = layouts[(inner, keys)] = dict_layout(keys, inner)
            for key, head in layout:
                push(head)
                item = items[key]
                if type(item) is str:  # the usual case, without a call
                    push(escape(item))
                else:
                    walk(item, inner)
            push("\n" + indent + "}")
        elif kind is list or kind is tuple or kind is Lazy:
            seq: Iterable[Any] = value  # type: ignore[assignment]
            inner = indent + "  "
            if kind is not Lazy and is_flat(map(type, seq)):
                if not seq:
                    push("[]")
                    return
                enc = flat_encoder(inner)
                if enc is not None:
                    push("[\n" + inner + enc(list(seq))[1:-1] + "\n" + indent + "]")
                    return
            sep = "[\n" + inner
            texts = value.texts if kind is Lazy else None  # type: ignore[attr-defined]
            if texts is not None:
                held = 0  # characters of text pushed since the last write
                for text in texts(inner):
                    push(sep)
                    sep = ",\n" + inner
                    if type(text) is str:
                        push(text)
                        held += len(text)
                    elif type(text) is Pieces:
                        spill(text.parts)
                    else:
                        walk(text, inner)
                    if batch and (held >= BATCH_CHARS or len(out) >= batch):
                        flush()
                        held = 0
                seq = ()
            for item in seq:
                push(sep)
                walk(item, inner)
                sep = ",\n" + inner
                if batch and len(out) >= batch:
                    flush()
            if sep[0] == "[":
                push("[]")
            else:
                push("\n" + indent + "]")
        elif value is None:
            push("null")
        elif kind is bool:
            push("true" if value else "false")
        elif kind is int:
            push(int.__repr__(cast(int, value)))
        elif kind is float and math.isfinite(cast(float, value)):
            push(float.__repr__(cast(float, value)))
        else:
            fallback(value, indent)

    walk(doc, "")
    if out:
        flush()
