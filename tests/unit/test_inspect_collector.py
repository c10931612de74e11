"""Inspect plans and compares with the cyclic collector waiting; the plan frozen, the rows old."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import Any

import pytest

from hsvc.commands.inspect import _compared, _planned
from hsvc.commands.source import plan
from hsvc.core.compare import compare
from hsvc.core.model import Observation, Rcode
from hsvc.core.report import Source
from tests.conftest import KUBEADM, seed_snapshot


@pytest.fixture
def collector() -> Iterator[list[int]]:
    """The generations collected while the test runs; the collector's state restored after."""
    collected: list[int] = []

    def seen(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            collected.append(info["generation"])

    enabled, threshold = gc.isenabled(), gc.get_threshold()
    gc.callbacks.append(seen)
    try:
        yield collected
    finally:
        gc.callbacks.remove(seen)
        gc.unfreeze()
        gc.set_threshold(*threshold)
        (gc.enable if enabled else gc.disable)()


def test_planning_runs_no_collection_and_freezes_the_plan(collector: list[int]) -> None:
    source = Source(snapshot=seed_snapshot(), settings=KUBEADM, origin="test", namespace=None)
    gc.enable()
    gc.set_threshold(1)  # any allocation would collect, were the collector running
    before = gc.get_freeze_count()
    cluster, items = _planned(source, None)
    assert collector == [] and gc.isenabled()
    assert gc.get_freeze_count() > before + len(items) and gc.get_count()[0] < 5
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
    gc.set_threshold(1)
    rows = _compared(items, observations)
    assert collector == [] and gc.isenabled()
    assert gc.get_freeze_count() == 0  # nothing left frozen: a full collection still sees it
    assert gc.get_count()[0] < 5  # the rows were not left in the young generation
    assert rows == compare(items, observations) and len(rows) == len(items)
