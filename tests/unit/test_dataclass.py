"""hsvc.core.dataclass makes the classes the standard decorator makes.

Each shape of class hsvc uses is written once and decorated twice, with
:func:`dataclasses.dataclass` and with hsvc's; the two classes must agree on
everything a caller can see: instances' repr, equality and hash, frozen
assignment, pickling, ``replace``, the fields, ``__match_args__``, slots, the
parameters, the docstring and the signature.
"""

from __future__ import annotations

import copy
import dataclasses
import inspect
import math
import pickle
import sys
from typing import Any, Generic, TypeVar

import pytest

import hsvc.core.dataclass as fast
from hsvc.core.dataclass import _dataclass

T = TypeVar("T")

module = sys.modules[__name__]


def shapes(decorate: Any) -> dict[str, type]:
    """Every shape of dataclass hsvc writes, decorated with ``decorate``."""

    @decorate(frozen=True, slots=True, kw_only=True)
    class Ref:
        """A documented class."""

        kind: str
        name: str
        labels: tuple[tuple[str, str], ...] = ()

        def __str__(self) -> str:
            return f"{self.kind}/{self.name}"

    @decorate(frozen=True, slots=True, kw_only=True)
    class Empty:
        pass

    @decorate(frozen=True, slots=True)
    class One:
        value: Any

    @decorate(frozen=True, slots=True, kw_only=True)
    class Hidden:
        shown: int
        index: dict[str, int] = dataclasses.field(default_factory=dict, compare=False, repr=False)
        extra: list[int] = dataclasses.field(default_factory=list, hash=False)
        _ref: Any = dataclasses.field(default=None, init=False, repr=False, compare=False)
        made: list[int] = dataclasses.field(default_factory=list, init=False)

    @decorate(frozen=True, slots=True, kw_only=True)
    class Peer:
        namespace: str = ""

    @decorate(frozen=True, slots=True, kw_only=True)
    class Pods(Peer):
        selector: tuple[str, ...] = ()

    @decorate(frozen=True, slots=True, kw_only=True)
    class Boxed(Generic[T]):
        item: T
        items: tuple[T, ...] = ()

    @decorate(slots=True)
    class Mutable:
        count: int = 0
        seen: list[str] = dataclasses.field(default_factory=list)

    @decorate(kw_only=True)
    class Plain:
        a: int
        b: str = "b"

    @decorate
    class BareError(Exception):
        reason: str

    @decorate(frozen=True, slots=True)
    class Own:
        a: int

        def __eq__(self, other: object) -> bool:
            return isinstance(other, Own)

        def __hash__(self) -> int:
            return 7

        def __repr__(self) -> str:
            return "own"

    @decorate(frozen=True)
    class EqOnly:
        a: int

        def __eq__(self, other: object) -> bool:
            return True

    @decorate(frozen=True, slots=True, kw_only=True)
    class Nested:
        child: Any = None

    return {
        c.__name__: c
        for c in (
            Ref,
            Empty,
            One,
            Hidden,
            Peer,
            Pods,
            Boxed,
            Mutable,
            Plain,
            BareError,
            Own,
            EqOnly,
            Nested,
        )
    }


STANDARD = shapes(dataclasses.dataclass)
FAST = shapes(_dataclass)


def instances(classes: dict[str, type]) -> list[Any]:
    c = classes
    nan = math.nan
    return [
        c["Ref"](kind="Service", name="web"),
        c["Ref"](kind="Service", name="web", labels=(("a", "b"),)),
        c["Ref"](kind="Pod", name="web"),
        c["Empty"](),
        c["One"](1),
        c["One"](1.0),
        c["One"](nan),
        c["One"]("x"),
        c["Hidden"](shown=1),
        c["Hidden"](shown=1, index={"a": 1}),
        c["Hidden"](shown=2, extra=[1]),
        c["Peer"](namespace="ms"),
        c["Pods"](namespace="ms"),
        c["Pods"](namespace="ms", selector=("a",)),
        c["Boxed"](item=1, items=(1, 2)),
        c["Mutable"](),
        c["Mutable"](3, ["x"]),
        c["Plain"](a=1),
        c["BareError"]("why"),
        c["Own"](1),
        c["Own"](2),
        c["EqOnly"](1),
        c["Nested"](child=c["Nested"]()),
    ]


def outcome(fn: Any) -> Any:
    """A comparable picture of an outcome: the value, or the exception's type and text."""
    try:
        return ("value", fn())
    except Exception as exc:
        return ("raised", type(exc).__name__, str(exc))


def test_instances_agree_on_repr_equality_and_hash() -> None:
    ours, theirs = instances(FAST), instances(STANDARD)
    for a, b in zip(ours, theirs, strict=True):
        assert repr(a) == repr(b)
        assert str(a) == str(b)
        assert outcome(lambda a=a: hash(a)) == outcome(lambda b=b: hash(b))
        assert (type(a).__hash__ is None) == (type(b).__hash__ is None)
    for i, a in enumerate(ours):
        for j, other in enumerate(ours):
            assert (a == other) == (theirs[i] == theirs[j]), (a, other)
            assert (a != other) == (theirs[i] != theirs[j]), (a, other)
        stranger = object()
        assert (a == stranger) == (theirs[i] == stranger)
        assert (a.__eq__(stranger) is NotImplemented) == (
            theirs[i].__eq__(stranger) is NotImplemented
        )


def test_recursive_repr_stops_as_the_standard_one_does() -> None:
    ours, theirs = FAST["Mutable"](), STANDARD["Mutable"]()
    ours.seen.append(ours)
    theirs.seen.append(theirs)
    assert (
        repr(ours)
        == repr(theirs)
        == "Mutable(count=0, seen=[...])".replace("Mutable", FAST["Mutable"].__qualname__)
    )


@pytest.mark.parametrize("name", sorted(FAST))
def test_classes_agree_on_what_introspection_sees(name: str) -> None:
    ours, theirs = FAST[name], STANDARD[name]
    assert dataclasses.is_dataclass(ours)
    assert [
        (f.name, f.type, f.default, f.default_factory, f.repr, f.hash, f.compare, f.kw_only)
        for f in dataclasses.fields(ours)
    ] == [
        (f.name, f.type, f.default, f.default_factory, f.repr, f.hash, f.compare, f.kw_only)
        for f in dataclasses.fields(theirs)
    ]
    params = ("init", "repr", "eq", "order", "unsafe_hash", "frozen")
    mine, standard = vars(ours)["__dataclass_params__"], vars(theirs)["__dataclass_params__"]
    assert [getattr(mine, p) for p in params] == [getattr(standard, p) for p in params]
    assert getattr(ours, "__match_args__", None) == getattr(theirs, "__match_args__", None)
    assert getattr(ours, "__slots__", None) == getattr(theirs, "__slots__", None)
    assert ours.__doc__ == theirs.__doc__
    assert str(inspect.signature(ours)) == str(inspect.signature(theirs))
    assert ours.__repr__.__qualname__ == theirs.__repr__.__qualname__
    assert ours.__eq__.__qualname__ == theirs.__eq__.__qualname__
    methods = ("__repr__", "__eq__", "__hash__", "__setattr__", "__delattr__", "__getstate__")
    assert [m in vars(ours) for m in methods] == [m in vars(theirs) for m in methods]


def test_init_agrees_on_arguments_and_their_errors() -> None:
    calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = [
        ("Ref", (), {}),
        ("Ref", ("Pod", "a"), {}),
        ("Ref", (), {"kind": "Pod"}),
        ("Ref", (), {"kind": "Pod", "name": "a", "other": 1}),
        ("One", (), {}),
        ("One", (1, 2), {}),
        ("One", (), {"value": 3}),
        ("Hidden", (), {"shown": 1, "made": []}),
        ("Hidden", (), {"shown": 1, "_ref": 2}),
        ("Empty", (1,), {}),
        ("Pods", (), {"namespace": "a", "selector": ("b",)}),
        ("Plain", (), {"a": 1, "b": 2}),
    ]
    for name, args, kwargs in calls:
        ours = outcome(lambda n=name, a=args, k=kwargs: repr(FAST[n](*a, **k)))
        theirs = outcome(lambda n=name, a=args, k=kwargs: repr(STANDARD[n](*a, **k)))
        assert ours == theirs, (name, args, kwargs)
    for name in FAST:
        ours, theirs = FAST[name].__init__, STANDARD[name].__init__
        assert ours.__qualname__ == theirs.__qualname__
        assert ours.__annotations__ == theirs.__annotations__
        assert ours.__module__ == theirs.__module__
        assert repr(ours.__defaults__) == repr(theirs.__defaults__)
        assert repr(ours.__kwdefaults__) == repr(theirs.__kwdefaults__)
        assert ours.__globals__ is theirs.__globals__  # names resolve as before


def test_frozen_pickled_and_replaced_instances_agree() -> None:
    for a, b in zip(instances(FAST), instances(STANDARD), strict=True):
        assert outcome(lambda a=a: setattr(a, "name", "x")) == outcome(
            lambda b=b: setattr(b, "name", "x")
        )
        assert outcome(lambda a=a: delattr(a, "name")) == outcome(lambda b=b: delattr(b, "name"))
        assert outcome(lambda a=a: setattr(a, "zzz", 1)) == outcome(
            lambda b=b: setattr(b, "zzz", 1)
        )
        assert outcome(lambda a=a: delattr(a, "zzz")) == outcome(lambda b=b: delattr(b, "zzz"))
        if not isinstance(a, Exception):
            assert repr(copy.copy(a)) == repr(copy.copy(b))
            assert repr(copy.deepcopy(a)) == repr(copy.deepcopy(b))
        first = dataclasses.fields(a)[0].name if dataclasses.fields(a) else None
        if first is not None and not isinstance(a, Exception):
            value = getattr(a, first)
            assert repr(dataclasses.replace(a, **{first: value})) == repr(
                dataclasses.replace(b, **{first: value})
            )


def test_pickling_round_trips_as_before() -> None:
    ref = module.PickledFast(kind="Pod", name="a")
    again = pickle.loads(pickle.dumps(ref))
    assert again == ref and hash(again) == hash(ref) and repr(again) == repr(ref)
    standard = module.PickledStandard(kind="Pod", name="a")
    assert repr(pickle.loads(pickle.dumps(standard))).replace("Standard", "Fast") == repr(ref)


@_dataclass(frozen=True, slots=True, kw_only=True)
class PickledFast:
    kind: str
    name: str


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class PickledStandard:
    kind: str
    name: str


def test_options_it_does_not_cover_go_to_the_standard_decorator() -> None:
    @fast.dataclass(order=True, frozen=True)
    class Ordered:
        a: int

    @fast.dataclass(eq=False)
    class NoEq:
        a: int

    @fast.dataclass(unsafe_hash=True)
    class Hashed:
        a: int

    assert Ordered(1) < Ordered(2)
    assert Ordered.__lt__.__qualname__.endswith("Ordered.__lt__")
    assert NoEq(1) != NoEq(1)
    assert hash(Hashed(1)) == hash((1,))
    assert fast.dataclass is _dataclass


def test_a_frozen_slotted_class_stores_its_fields_through_their_slots() -> None:
    """Its ``__init__`` calls each field's slot descriptor, not ``object.__setattr__`` by name."""

    @_dataclass(frozen=True, slots=True, kw_only=True)
    class Slotted:
        name: str
        ttl: int = 30

    @_dataclass(frozen=True, kw_only=True)
    class Plain:
        name: str

    assert set(Slotted.__init__.__code__.co_freevars) == {
        "__dataclass_slot_name__",
        "__dataclass_slot_ttl__",
    }
    assert "__dataclass_set__" in Plain.__init__.__code__.co_freevars  # no slots: by name
    one = Slotted(name="a")
    assert (one.name, one.ttl) == ("a", 30)
    with pytest.raises(dataclasses.FrozenInstanceError):
        one.name = "b"  # type: ignore[misc]


def test_a_post_init_anywhere_in_the_bases_keeps_the_standard_init() -> None:
    calls: list[str] = []

    class Base:
        def __post_init__(self) -> None:
            calls.append(type(self).__name__)

    @_dataclass(frozen=True, slots=True, kw_only=True)
    class Checked(Base):
        """Frozen, with a __post_init__ inherited from a plain base."""

        name: str

    assert Checked(name="a").name == "a" and calls == ["Checked"]
    assert not fast._compiles_less(Checked, {"frozen": True})

    class Plain:
        """Not decorated yet, no __post_init__ anywhere."""

        name: str

    assert fast._compiles_less(Plain, {"frozen": True})
