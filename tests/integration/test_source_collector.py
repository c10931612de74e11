"""A live source is read and converted with the cyclic collector waiting, then aged."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from hsvc.adapters.kuberest import RestClient
from hsvc.commands.options import Options
from hsvc.commands.source import Api, _live_source, load_source
from tests.gcwatch import collections_inside

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("no_ambient_kubeconfig")]


@pytest.fixture
def collections() -> Iterator[list[str]]:
    """Collections started while hsvc lists and converts; the collector restored after.

    Only collections with the LIST reader or ``load_source`` on the stack count (the
    reads run on threads of their own): a coverage tracer allocates at every line, and
    the collections that sets off around the call are not the code's. Young
    collections only (the threshold of the older generations out of reach), so a low
    threshold stays cheap in a large test process.
    """
    watched = {RestClient._list_all.__code__: "list", _live_source.__code__: "load_source"}
    with collections_inside(watched) as inside:
        yield inside


def _load(kubeconfig: Path) -> Any:
    opts = Options(kubeconfig=str(kubeconfig), namespace="ms")
    with ExitStack() as stack:
        return load_source(opts, Api(opts, stack))


def test_reading_runs_no_collection_and_leaves_the_objects_old(
    kubeconfig: Path, collections: list[str]
) -> None:
    gc.enable()
    gc.set_threshold(100, 1_000_000, 1_000_000)  # a young pass every 100 objects, were it on
    source = _load(kubeconfig)
    assert collections == [] and gc.isenabled()
    assert gc.get_freeze_count() == 0  # nothing left frozen: a full collection still sees it
    pods = source.snapshot.pods
    assert pods and any(o is pods for o in gc.get_objects(generation=2))


def test_a_disabled_collector_stays_disabled(kubeconfig: Path, collections: list[str]) -> None:
    gc.disable()
    source = _load(kubeconfig)
    assert not gc.isenabled() and collections == [] and source.snapshot.pods
