"""Inspect plans with the cyclic collector waiting and keeps the plan frozen."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import Any

import pytest

from hsvc.commands.inspect import _planned
from hsvc.commands.source import plan
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
