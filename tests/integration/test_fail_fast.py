"""A silent DNS server costs about one query's timeout, not minutes (fail fast).

Before a big run each server gets a probe (its first question, alone); a server
that answered none of its first SILENT_AFTER questions is asked no more. Its
remaining rows are ``error`` "server silent", the other servers are asked
everything, and exit 6 comes only when no server answered at all.
"""

from __future__ import annotations

import time

import pytest

from hsvc.adapters.resolver import PROBE_OVER, SILENT_AFTER, resolve_all
from hsvc.core.model import Question, Rcode
from hsvc.errors import ExitCode
from tests import fleet
from tests.integration.seed_zone import zone_text

pytestmark = pytest.mark.integration

NAMES = [f"n{i}.load.svc.cluster.local." for i in range(300)]


def load_zone() -> dict[str, str]:
    rows = [
        (name.removesuffix(".cluster.local."), "A", f"10.9.1.{i % 250 + 1}")
        for i, name in enumerate(NAMES)
    ]
    return {"cluster.local.": zone_text("cluster.local.", rows)}


def questions(count: int) -> list[Question]:
    return [Question(name=name, type="A") for name in NAMES[:count]]


def test_probe_stops_a_silent_server_after_one_query(make_bad_dns) -> None:
    silent = make_bad_dns("silent")
    began = time.monotonic()
    seen = resolve_all(questions(300), [silent.nameserver], timeout=0.3, retries=1)
    wall = time.monotonic() - began
    assert len(seen) == 300
    # Only the probe went out (the query and its one retry), not 300 queries.
    assert silent.udp_queries == 2
    # Two attempts of 0.3 s; the count above is the claim, the bound is room for a
    # busy machine (a query each would be 300 x 0.6 s over 64 workers).
    assert wall < 0.6 + 3
    assert seen[0].rcode is Rcode.TIMEOUT
    assert {o.rcode for o in seen[1:]} == {Rcode.ERROR}
    assert all(
        o.error.startswith("server silent: no response to its first 1 query") for o in seen[1:]
    )
    assert "no response within 0.3s" in seen[1].error


def test_silent_server_does_not_stop_the_others(make_knot, make_bad_dns) -> None:
    knot = make_knot(load_zone())
    silent = make_bad_dns("silent")
    began = time.monotonic()
    seen = resolve_all(questions(300), [silent.nameserver, knot.nameserver], timeout=0.3)
    wall = time.monotonic() - began
    by_server: dict[str, list[Rcode]] = {}
    for obs in seen:
        by_server.setdefault(obs.server, []).append(obs.rcode)
    assert by_server[str(knot.nameserver)] == [Rcode.NOERROR] * 300
    assert by_server[str(silent.nameserver)][1:] == [Rcode.ERROR] * 299
    assert silent.udp_queries == 2  # the probe and its retry, then nothing more
    assert wall < 0.6 + 4  # room for a busy machine; the count is the claim


def test_early_stop_after_k_unanswered_questions(make_bad_dns) -> None:
    # A run too small for a probe: the server is dropped after its first K silences.
    count = PROBE_OVER
    assert count > SILENT_AFTER // 2
    silent = make_bad_dns("silent")
    concurrency = 2
    began = time.monotonic()
    seen = resolve_all(
        questions(count), [silent.nameserver], timeout=0.2, retries=0, concurrency=concurrency
    )
    wall = time.monotonic() - began
    asked = silent.udp_queries
    assert asked <= SILENT_AFTER + concurrency - 1
    assert len(seen) == count
    timed_out = [o for o in seen if o.rcode is Rcode.TIMEOUT]
    skipped = [o for o in seen if o.error.startswith("server silent")]
    assert len(timed_out) == asked and len(timed_out) + len(skipped) == count
    assert wall < (asked / concurrency + 1) * 0.2 + 3  # room for a busy machine


def test_a_server_that_answers_is_asked_everything(make_knot) -> None:
    knot = make_knot(load_zone())
    # NXDOMAIN answers count as answers: a server is silent only without responses.
    asked = [Question(name=f"nosuch{i}.load.svc.cluster.local.", type="A") for i in range(40)]
    seen = resolve_all(asked, [knot.nameserver], timeout=0.5)
    assert [o.rcode for o in seen] == [Rcode.NXDOMAIN] * 40


@pytest.fixture(scope="module")
def kafka(tmp_path_factory):
    cluster = fleet.big_statefulset()
    return cluster, str(cluster.write(tmp_path_factory.mktemp("kafka")))


def test_inspect_a_big_statefulset_against_a_silent_server_exits_6_fast(
    run, make_bad_dns, kafka
) -> None:
    _cluster, path = kafka
    silent = make_bad_dns("silent")
    began = time.monotonic()
    result = run(
        "inspect",
        "kafka",
        "-n",
        "data",
        "-f",
        path,
        "--nameserver",
        f"127.0.0.1:{silent.port}",
        "--timeout",
        "0.3",
    )
    wall = time.monotonic() - began
    assert result.code == ExitCode.NO_DNS, result.err
    assert "no DNS server answered" in result.err
    assert "no response within 0.3s" in result.err
    assert silent.udp_queries == 2
    # The count above is the claim: the silent server costs one query (two attempts),
    # not 1,203 timeouts over 64 workers. Reading and planning 1,203 checks takes most
    # of the wall time, several times more under coverage on a busy machine.
    assert wall < 20.0


def test_inspect_goes_on_with_the_servers_that_answer(run, make_knot, make_bad_dns, kafka) -> None:
    cluster, path = kafka
    knot = make_knot(cluster.zones())
    silent = make_bad_dns("silent")
    result = run(
        "inspect",
        "kafka",
        "-n",
        "data",
        "-f",
        path,
        "--nameserver",
        f"127.0.0.1:{knot.port}",
        "--nameserver",
        f"127.0.0.1:{silent.port}",
        "--timeout",
        "0.3",
        "-o",
        "json",
    )
    assert result.code == ExitCode.MISMATCH, result.err
    doc = result.json()
    # Per pod: its hostname name, its dashed-IP name (must not resolve), PTR, pod record.
    assert len(doc["rows"]) == 1604
    # Every row has a silent server; the lagging pod's rows are worse than that.
    statuses = {(r["name"], r["type"]): r["status"] for r in doc["rows"]}
    assert {k for k, v in statuses.items() if v != "error"} == {
        ("kafka.data.svc.cluster.local.", "A"),
        ("kafka-123.kafka.data.svc.cluster.local.", "A"),
        ("kafka.data.svc.cluster.local.", "SRV"),
        ("_broker._tcp.kafka.data.svc.cluster.local.", "SRV"),
    }
    silent_label = f"127.0.0.1:{silent.port}"
    notes = [a for r in doc["rows"] for a in r["actual"] if a["server"] == silent_label]
    assert sum(1 for a in notes if "server silent" in a["error"]) == 1603
    answered = [a for r in doc["rows"] for a in r["actual"] if a["server"] != silent_label]
    assert len(answered) == 1604 and all(a["rcode"] in ("NOERROR", "NXDOMAIN") for a in answered)
