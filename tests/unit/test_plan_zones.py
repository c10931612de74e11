"""Plans under unusual zone sets read their names as the parser reads them (rules 9, 34, 38).

The plan takes the parse of the names it builds from their parts
(:func:`hsvc.core.names.parse_child`, :func:`~hsvc.core.names.parse_reverse`) and
tests fallthrough with :func:`~hsvc.core.names.zone_of`. These hold every plan,
under zone sets nested in one another, zones below a namespace, reverse zones for
part of the address space and partial fallthrough lists, to the plan that parses
every name in full, with and without traces.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hsvc.core import names
from hsvc.core.cluster import ClusterDns
from hsvc.core.model import DnsSettings, Namespace, Snapshot
from hsvc.core.records import expectations
from tests.unit.test_engine_properties import every_name, selected_worlds
from tests.unit.test_plan_parts import assert_planned_as_asked_alone
from tests.unit.test_properties import FAST, NS, World

FORWARD = (
    "cluster.local.",
    "local.",
    "svc.cluster.local.",
    f"{NS}.svc.cluster.local.",
    f"{NS}.pod.cluster.local.",
    "example.",
    ".",
)
REVERSE = ("in-addr.arpa.", "10.in-addr.arpa.", "0.10.in-addr.arpa.", "ip6.arpa.", "arpa.")


@st.composite
def zoned_worlds(draw: st.DrawFn) -> World:
    """A generated world under a drawn zone set, fallthrough list and zonal setting."""
    world = draw(selected_worlds())
    # A zone may also be a name the plan builds: an endpoint's, a pod address's.
    built = [*every_name(world), *(names.under("cluster.local.", f"{NS}.pod"),)]
    forward = draw(
        st.lists(st.sampled_from((*FORWARD, *built)), min_size=1, max_size=4, unique=True)
    )
    reverse = draw(st.lists(st.sampled_from(REVERSE), max_size=3, unique=True))
    zones = tuple(draw(st.permutations([*forward, *reverse])))
    fallthrough = tuple(
        draw(st.lists(st.sampled_from((*zones, "ms.svc.cluster.local.", "")), max_size=3))
    )
    settings = replace(world.settings, zones=zones, fallthrough=fallthrough)
    return World(snapshot=world.snapshot, settings=settings)


def _parse_in_full(monkeypatch: pytest.MonkeyPatch) -> None:
    """The plan without its shortcuts: every name it builds parsed as a whole name."""

    def child(
        above: object, label: str, name: str, zones: object, *, zonal: bool = False
    ) -> names.ParsedName:
        return names.parse_query(name, zones, zonal=zonal, absolute_name=True)  # type: ignore[arg-type]

    def reverse(address: str, name: str, zones: object) -> names.ParsedName:
        return names.parse_query(name, zones, absolute_name=True)  # type: ignore[arg-type]

    monkeypatch.setattr(names, "parse_child", child)
    monkeypatch.setattr(names, "parse_reverse", reverse)


def _plans(world: World, *, traces: bool) -> list[object]:
    cluster = ClusterDns(world.snapshot, world.settings)
    return [
        (e.group, e.subject, replace(e.expected, trace=()), e.reason)
        for e in expectations(cluster, traces=traces)
    ]


@FAST
@given(zoned_worlds())
def test_rule09_plans_under_odd_zones_are_the_plans_that_parse_every_name(world: World) -> None:
    lean, full = _plans(world, traces=False), _plans(world, traces=True)
    assert lean == full
    with pytest.MonkeyPatch.context() as monkeypatch:
        _parse_in_full(monkeypatch)
        assert _plans(world, traces=False) == lean
        assert _plans(world, traces=True) == full


@FAST
@given(zoned_worlds())
def test_rule38_planned_answers_under_odd_zones_are_the_answers_to_their_names(
    world: World,
) -> None:
    # Each question's answer and reason are the engine's for that name asked on its own,
    # fallthrough zones included (rule 38: an NXDOMAIN in one is handed on).
    assert_planned_as_asked_alone(world.cluster)


def test_rule38_fallthrough_is_tested_against_each_zone_listed() -> None:
    # A fallthrough list naming a zone below the plugin's: only names in it are handed on.
    settings = DnsSettings(fallthrough=(f"{NS}.svc.cluster.local.",))
    snapshot = Snapshot(namespaces=(Namespace(name=NS), Namespace(name="other")))
    cluster = ClusterDns(snapshot, settings)
    inside = cluster.answer(f"nope.{NS}.svc.cluster.local.", "A")
    outside = cluster.answer("nope.other.svc.cluster.local.", "A")
    assert inside.open_ended and "R38" in inside.rules
    assert not outside.open_ended and "R38" not in outside.rules


ZONE_TEXT = st.sampled_from((*FORWARD, *REVERSE, "", "Cluster.Local.", "cluster.local", "l."))


@given(
    st.lists(st.sampled_from(("a", "ms", "svc", "pod", "cluster", "local", "10", "in-addr"))).map(
        lambda labels: ".".join(labels) + "."
    ),
    st.lists(ZONE_TEXT, max_size=4),
    st.booleans(),
)
def test_rule38_a_name_is_in_a_fallthrough_zone_if_it_lies_in_any_of_them(
    body: str, fallthrough: list[str], as_tuple: bool
) -> None:
    # Fallthrough is tested by zone_of (the longest zone first); the rule is any zone.
    name = body if body != "." else "cluster.local."
    zones = tuple(fallthrough) if as_tuple else fallthrough
    found = names.zone_of(name, zones)
    assert (found is not None) == any(names.is_subdomain(name, z) for z in fallthrough)
    assert found is None or names.is_subdomain(name, found)
