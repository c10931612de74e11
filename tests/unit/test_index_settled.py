"""The engine's appended indexes, settled as tuples in place, read as plain dictionaries."""

from __future__ import annotations

from collections import defaultdict

import pytest

from hsvc.commands.source import engine
from hsvc.core.clusterindex import _settled
from hsvc.core.report import Source
from tests.conftest import KUBEADM, seed_snapshot


def test_settled_keeps_every_key_with_its_items_in_order_as_tuples() -> None:
    index: defaultdict[tuple[str, str], list[int]] = defaultdict(list)
    for n, key in enumerate([("a", "x"), ("b", "y"), ("a", "x"), ("c", "z"), ("a", "x")]):
        index[key].append(n)
    settled = _settled(index)
    assert settled == {("a", "x"): (0, 2, 4), ("b", "y"): (1,), ("c", "z"): (3,)}
    assert list(settled) == [("a", "x"), ("b", "y"), ("c", "z")]  # insertion order kept


def test_a_settled_index_adds_no_key_on_a_miss() -> None:
    index: defaultdict[str, list[int]] = defaultdict(list)
    index["a"].append(1)
    settled = _settled(index)
    assert settled.get("b", ()) == ()
    assert "b" not in settled
    with pytest.raises(KeyError):
        settled["b"]
    assert list(settled) == ["a"]


def test_the_engines_indexes_hold_tuples_and_miss_like_dictionaries() -> None:
    source = Source(snapshot=seed_snapshot(), settings=KUBEADM, origin="test", namespace=None)
    cluster = engine(source)
    for index in (cluster.pods_by_name, cluster.endpoints_by_ip, cluster.slice_endpoints_by_name):
        assert index and all(isinstance(found, tuple) and found for found in index.values())
        size = len(index)
        with pytest.raises(KeyError):
            index[("no", "such", "key")]  # type: ignore[index]
        assert len(index) == size
