"""Inspect plans and compares with the cyclic collector waiting; the plan frozen, the rows old."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import Any, Literal

import pytest

from hsvc.commands.inspect import _compared, _planned
from hsvc.commands.source import plan
from hsvc.core.collector import RARE_THRESHOLDS, collect_rarely, paused
from hsvc.core.compare import compare
from hsvc.core.model import Observation, Rcode
from hsvc.core.report import Source
from tests.conftest import KUBEADM, seed_snapshot
from tests.gcwatch import collections_inside


@pytest.fixture
def collector() -> Iterator[list[str]]:
    """Collections started inside hsvc's planning or comparing; the collector restored after.

    Only collections with :func:`plan` or :func:`compare` on the stack count: a coverage
    tracer allocates at every line, and the collections that sets off around the call
    (before ``_planned`` pauses the collector, after it resumes it) are not the code's.
    """
    watched = {plan.__code__: "plan", compare.__code__: "compare"}
    with collections_inside(watched) as inside:
        yield inside


def _in_generation(obj: object, generation: int) -> bool:
    return any(o is obj for o in gc.get_objects(generation=generation))


def test_planning_runs_no_collection_and_freezes_the_plan(collector: list[int]) -> None:
    source = Source(snapshot=seed_snapshot(), settings=KUBEADM, origin="test", namespace=None)
    gc.enable()
    threshold = gc.get_threshold()
    gc.set_threshold(1)  # any allocation would collect, were the collector running
    before = gc.get_freeze_count()
    cluster, items = _planned(source, None)
    # The usual threshold again at once: at 1, every allocation from here on collects,
    # which in a large test process (the whole suite, under coverage) takes minutes.
    gc.set_threshold(*threshold)
    assert collector == [] and gc.isenabled()
    assert gc.get_freeze_count() > before + len(items) and not _in_generation(items, 0)
    assert items == plan(source, None, traces=False)[1] and cluster.snapshot is source.snapshot


def test_a_disabled_collector_stays_disabled(collector: list[int]) -> None:
    source = Source(snapshot=seed_snapshot(), settings=KUBEADM, origin="test", namespace=None)
    gc.disable()
    _planned(source, None)
    assert not gc.isenabled() and collector == []


def _observations(items: list[Any]) -> list[Observation]:
    return [
        Observation(
            name=e.expected.name,
            type=e.expected.type,
            server="10.96.0.10",
            rcode=Rcode.NOERROR if e.expected.answer else Rcode.NXDOMAIN,
            answer=e.expected.answer,
        )
        for e in items
    ]


def test_comparing_runs_no_collection_and_leaves_the_rows_in_the_oldest_generation(
    collector: list[int],
) -> None:
    source = Source(snapshot=seed_snapshot(), settings=KUBEADM, origin="test", namespace=None)
    _cluster, items = plan(source, None, traces=False)
    observations = _observations(items)
    gc.enable()
    threshold = gc.get_threshold()
    gc.set_threshold(1)
    rows = _compared(items, observations)
    gc.set_threshold(*threshold)  # as above
    assert collector == [] and gc.isenabled()
    assert gc.get_freeze_count() == 0  # nothing left frozen: a full collection still sees it
    assert _in_generation(rows, 2)  # the rows went to the oldest generation, not the young
    assert rows == compare(items, observations) and len(rows) == len(items)


@pytest.mark.parametrize("then", ["freeze", "age"])
def test_a_collector_turned_off_by_the_caller_is_left_off_and_nothing_moved(
    then: Literal["freeze", "age"],
) -> None:
    gc.disable()
    try:
        with paused(then):
            built = [[i] for i in range(100)]
        assert not gc.isenabled() and gc.get_freeze_count() == 0
        assert _in_generation(built, 0)  # where the caller's collector left it
    finally:
        gc.enable()


def test_hsvcs_own_process_collects_rarely_from_before_its_imports() -> None:
    # The console script sets the thresholds before it imports the CLI, and the CLI's
    # own main sets the same ones: one value, so the two cannot drift apart.
    threshold = gc.get_threshold()
    try:
        gc.set_threshold(700, 10, 10)
        collect_rarely()
        assert gc.get_threshold() == RARE_THRESHOLDS
        assert RARE_THRESHOLDS[0] > 700 * 100  # young collections rare, not the default
    finally:
        gc.set_threshold(*threshold)
