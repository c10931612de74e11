"""1,000 names in flight against a server that loses 10% of UDP queries.

A proxy (tests/integration/badserver.py, mode ``drop``) in front of knotd drops a
seeded tenth of the queries it receives; knotd is also asked directly. Every row
must end with a definite status, ok after a retry or an error saying why; no row
and no server's observation may go missing; and it all ends within the budget
that the timeout and the retry give.
"""

from __future__ import annotations

import time

import pytest

from hsvc.adapters.resolver import resolve_all
from hsvc.core.compare import Verdict, compare
from hsvc.core.model import DnsAnswer, ObjectRef, Question, Rcode, Record
from hsvc.core.records import Expectation, Group
from tests.integration.seed_zone import SOA

pytestmark = pytest.mark.integration

N = 1000
TIMEOUT = 0.5  # per attempt; resolve_all retries a timed-out UDP query once
ZONE = "cluster.local."


def name(i: int) -> str:
    return f"n{i}.load.svc.{ZONE}"


def address(i: int) -> str:
    return f"10.88.{i // 250}.{i % 250 + 1}"


def zone_text() -> str:
    head = f"$ORIGIN {ZONE}\n@ 30 IN SOA {SOA}\n@ 30 IN NS ns.dns\nns.dns 30 IN A 10.96.0.10\n"
    return head + "".join(f"n{i}.load.svc 30 IN A {address(i)}\n" for i in range(N))


def test_a_thousand_names_through_a_lossy_server(make_knot, make_bad_dns) -> None:
    knot = make_knot({ZONE: zone_text()})
    lossy = make_bad_dns("drop", loss=0.1, seed=7, upstream=knot.nameserver)
    servers = [lossy.nameserver, knot.nameserver]
    items = [
        Expectation(
            group=Group.SERVICE,
            subject=ObjectRef(kind="Service", namespace="load", name=f"n{i}"),
            expected=DnsAnswer(
                name=name(i),
                type="A",
                rcode=Rcode.NOERROR,
                answer=(Record(name=name(i), type="A", ttl=30, data=address(i)),),
            ),
        )
        for i in range(N)
    ]
    started = time.monotonic()
    seen = resolve_all(
        [Question(name=name(i), type="A") for i in range(N)],
        servers,
        timeout=TIMEOUT,
        concurrency=128,
    )
    elapsed = time.monotonic() - started
    rows = compare(items, seen)

    # Nothing silently missing: a row per question, an observation per server in each.
    assert len(rows) == N
    labels = sorted(str(s) for s in servers)
    assert all(sorted(c.observation.server for c in row.checks) == labels for row in rows)

    # The seed decides which questions lose both attempts (the first and the retry).
    lost = {
        name(i) for i in range(N) if lossy.drops(name(i), "A", 0) and lossy.drops(name(i), "A", 1)
    }
    retried = {name(i) for i in range(N) if lossy.drops(name(i), "A", 0)} - lost
    assert 60 < len(retried) < 140 and lost  # about 10%, and about 1% lost twice
    assert lossy.dropped == len(retried) + 2 * len(lost)
    for row in rows:
        direct, proxied = sorted(
            row.checks, key=lambda c: c.observation.server != str(knot.nameserver)
        )
        assert direct.verdict is Verdict.OK, direct
        if row.name in lost:
            assert row.status is Verdict.ERROR
            assert proxied.verdict is Verdict.ERROR
            assert proxied.observation.rcode is Rcode.TIMEOUT
            assert proxied.observation.error == f"no response within {TIMEOUT:g}s (2 attempts)"
            assert proxied.note  # the row says why
        else:
            assert row.status is Verdict.OK, (row.name, proxied)
            if row.name in retried:
                assert proxied.observation.elapsed_ms >= TIMEOUT * 1000  # ok after a retry

    # Bounded: no query outlives its two attempts, and the whole run stays short.
    worst = max(c.observation.elapsed_ms for row in rows for c in row.checks)
    assert worst < 2 * TIMEOUT * 1000 + 500
    assert elapsed < 6, f"{elapsed:.1f}s"
