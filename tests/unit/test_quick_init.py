"""quick_init: the compiled ``__init__`` builds what the standard one builds, after as before."""

from __future__ import annotations

import dataclasses
import pickle

import pytest

from hsvc.core import frozen
from hsvc.core.frozen import quick_init
from hsvc.core.model import DnsAnswer, ObjectRef, Rcode, Record, Step


def _values(obj: object) -> tuple[object, ...]:
    return tuple(getattr(obj, f.name) for f in dataclasses.fields(obj))  # type: ignore[arg-type]


def _made(cls: type, count: int, **kwargs: object) -> list[object]:
    return [cls(**kwargs) for _ in range(count)]


def test_instances_are_the_same_before_and_after_the_quick_init_takes_over() -> None:
    @quick_init
    @dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
    class Sample:
        name: str
        items: list[int] = dataclasses.field(default_factory=list)
        ttl: int = 30
        hidden: str | None = dataclasses.field(default=None, init=False, compare=False)

    standard = Sample.__init__
    before = _made(Sample, frozen.COMPILE_AFTER - 1, name="a", ttl=5)
    assert Sample.__init__ is standard  # still counting
    after = _made(Sample, 3, name="a", ttl=5)
    assert Sample.__init__ is not standard  # compiled
    assert all(_values(o) == ("a", [], 5, None) for o in before + after)
    one, two = Sample(name="b"), Sample(name="b")
    assert one.items == [] and one.items is not two.items  # a fresh list each, as the factory
    given: list[int] = [1]
    assert Sample(name="c", items=given).items is given
    with pytest.raises(TypeError):
        Sample()  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        Sample("positional")  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        one.name = "x"  # type: ignore[misc]
    assert dataclasses.replace(one, ttl=7) == Sample(name="b", ttl=7)


def test_positional_fields_keep_their_order_and_defaults() -> None:
    @quick_init
    @dataclasses.dataclass(frozen=True, slots=True)
    class Pair:
        host: str
        port: int = 53

    for _ in range(frozen.COMPILE_AFTER + 1):
        made = Pair("h")
    assert (made.host, made.port) == ("h", 53) and Pair("h", port=5) == Pair("h", 5)


def test_the_engine_classes_compare_equal_to_the_standard_construction() -> None:
    ref = ObjectRef(kind="Pod", namespace="n", name="p")
    for _ in range(frozen.COMPILE_AFTER + 1):
        step = Step(check="ready", ok=False, detail="d", fix="f", subject=ref)
        record = Record(name="a.", type="A", ttl=30, data="10.0.0.1")
        answer = DnsAnswer(name="a.", type="A", rcode=Rcode.NOERROR, answer=(record,))
    assert _values(step) == ("ready", False, "d", (), "f", ref)
    assert _values(record) == ("a.", "A", 30, "10.0.0.1")
    assert answer.answer == (record,) and answer.trace == () and answer.uncertain == ""
    assert pickle.loads(pickle.dumps(answer)) == answer and hash(step) == hash(_copy(step))


def _copy(step: Step) -> Step:
    return Step(**{f.name: getattr(step, f.name) for f in dataclasses.fields(step)})


def test_classes_it_cannot_speak_for_are_refused() -> None:
    @dataclasses.dataclass(frozen=True, slots=True)
    class Later:
        x: int

        def __post_init__(self) -> None:
            pass

    @dataclasses.dataclass(slots=True)
    class Mutable:
        x: int

    for cls in (Later, Mutable):
        with pytest.raises(TypeError):
            quick_init(cls)
