"""Rows over time (hsvc.core.convergence): converging, stuck, flapping, measured convergence."""

from __future__ import annotations

from hsvc.core.compare import compare
from hsvc.core.convergence import RowState, Tracker
from hsvc.core.model import DnsAnswer, ObjectRef, Observation, Rcode, Record
from hsvc.core.records import Expectation, Group
from hsvc.core.staleness import model_from_corefiles

NAME = "eureka-3.eureka.ms.svc.cluster.local."
COREFILE = ".:53 {\n kubernetes cluster.local {\n  ttl 5\n }\n cache 30\n}\n"
MODEL = model_from_corefiles(COREFILE, ttl=5, source="Corefile", watch_allowance=1.0)
# A stale denial: 1 s watch + 5 s denial cache; a stale positive the same.
BOUND = 6.0


def expect(ip: str | None) -> Expectation:
    answer = (Record(name=NAME, type="A", ttl=5, data=ip),) if ip else ()
    rcode = Rcode.NOERROR if ip else Rcode.NXDOMAIN
    return Expectation(
        group=Group.ENDPOINT,
        subject=ObjectRef(kind="Pod", namespace="ms", name="eureka-3"),
        expected=DnsAnswer(name=NAME, type="A", rcode=rcode, answer=answer),
    )


def seen(ip: str | None, server: str = "a") -> Observation:
    answer = (Record(name=NAME, type="A", ttl=5, data=ip),) if ip else ()
    rcode = Rcode.NOERROR if ip else Rcode.NXDOMAIN
    return Observation(server=server, name=NAME, type="A", rcode=rcode, answer=answer)


def observe(tracker: Tracker, item: Expectation, now: float, *obs: Observation):
    return tracker.observe(compare([item], obs), now)


def test_a_new_record_converges_then_is_ok_with_a_measured_latency() -> None:
    tracker = Tracker(MODEL, started=0.0)
    absent, present = expect(None), expect("10.0.0.3")
    tracker.replan([absent], 0.0)
    observe(tracker, absent, 0.1, seen(None))
    assert tracker.all_ok()
    asked = tracker.replan([present], 10.0, what=["Pod ms/eureka-3 became ready"], at=9.9)
    assert [q.name for q in asked] == [NAME]
    moves, done = observe(tracker, present, 10.5, seen(None))
    assert [(m.previous, m.server.state) for m in moves] == [(RowState.OK, RowState.CONVERGING)]
    status = moves[0].server
    assert status.bound == BOUND and 5 < status.seconds_left <= 5.5
    assert "negative answer" in status.why and not done
    moves, done = observe(tracker, present, 12.0, seen("10.0.0.3"))
    assert moves[0].server.state is RowState.OK
    assert [(m.id, m.latencies) for m in done] == [(1, {"a": 12.0 - 9.9})]
    assert done[0].bound == BOUND and done[0].what == ("Pod ms/eureka-3 became ready",)


def test_a_mismatch_older_than_every_bound_is_stuck() -> None:
    tracker = Tracker(MODEL, started=0.0)
    present = expect("10.0.0.3")
    tracker.replan([present], 0.0)
    moves, _ = observe(tracker, present, 1.0, seen(None))
    assert moves[0].server.state is RowState.CONVERGING
    assert tracker.tick(BOUND - 0.1) == []
    stuck = tracker.tick(BOUND + 0.1)
    assert [m.server.state for m in stuck] == [RowState.STUCK]
    assert "longer than every cache explains" in stuck[0].server.why
    assert tracker.counts()["stuck"] == 1 and not tracker.all_ok()
    # A fresh answer still wrong stays stuck; a stuck row is re-asked only every recheck.
    moves, _ = observe(tracker, present, BOUND + 1, seen(None))
    assert moves == [] and tracker.statuses()[0].state is RowState.STUCK
    assert tracker.pending(BOUND + 2, recheck=10) == []
    assert [q.name for q in tracker.pending(BOUND + 11, recheck=10)] == [NAME]


def test_an_answer_too_large_for_one_message_is_stuck_at_once() -> None:
    tracker = Tracker(MODEL, started=0.0)
    present = expect("10.0.0.3")
    tracker.replan([present], 0.0)
    big = Observation(server="a", name=NAME, type="A", rcode=Rcode.NOERROR, too_large=True)
    moves, _ = observe(tracker, present, 0.5, big)
    assert moves[0].server.verdict.value == "too-large"
    assert moves[0].server.state is RowState.STUCK and "does not fit" in moves[0].server.why


def test_an_answer_that_changes_without_an_object_change_is_flapping() -> None:
    tracker = Tracker(MODEL, started=0.0)
    present = expect("10.0.0.3")
    tracker.replan([present], 0.0)
    observe(tracker, present, 0.5, seen("10.0.0.3"))
    moves, _ = observe(tracker, present, 1.5, seen("10.0.0.9"))
    assert [(m.previous, m.server.state) for m in moves] == [(RowState.OK, RowState.FLAPPING)]
    assert "objects did not" in moves[0].server.why
    moves, _ = observe(tracker, present, 2.5, seen("10.0.0.9"))
    assert moves == []  # still flapping
    moves, _ = observe(tracker, present, 3.5, seen("10.0.0.3"))
    assert moves[0].server.state is RowState.OK


def test_a_timeout_is_no_flap() -> None:
    tracker = Tracker(MODEL, started=0.0)
    present = expect("10.0.0.3")
    tracker.replan([present], 0.0)
    observe(tracker, present, 0.5, seen("10.0.0.3"))
    timeout = Observation(server="a", name=NAME, type="A", rcode=Rcode.TIMEOUT, error="timeout")
    moves, _ = observe(tracker, present, 1.0, timeout)
    assert moves[0].server.state is RowState.CONVERGING


def test_rows_are_per_server_and_a_measurement_waits_for_every_server() -> None:
    tracker = Tracker(MODEL, started=0.0)
    absent, present = expect(None), expect("10.0.0.3")
    tracker.replan([absent], 0.0)
    observe(tracker, absent, 0.1, seen(None, "a"), seen(None, "b"))
    tracker.replan([present], 5.0, what=["scaled 3 -> 4"])
    _, done = observe(tracker, present, 6.0, seen("10.0.0.3", "a"), seen(None, "b"))
    assert done == [] and tracker.statuses()[0].state is RowState.CONVERGING
    assert [q.name for q in tracker.pending(8.0, recheck=10)] == [NAME]
    _, done = observe(tracker, present, 8.0, seen("10.0.0.3", "a"), seen("10.0.0.3", "b"))
    assert done[0].latencies == {"a": 1.0, "b": 3.0}
    assert tracker.pending(8.0, recheck=10) == []


def test_soa_serials_name_the_lagging_replica_and_how_far_behind() -> None:
    tracker = Tracker(MODEL, started=0.0)
    assert [r.lagging for r in tracker.serials({"a": 100, "b": 100})] == [False, False]
    changed = tracker.serials({"a": 104, "b": 100})
    assert [(r.server, r.lagging, r.behind) for r in changed] == [("b", True, 4)]
    assert tracker.serials({"a": 104, "b": 100}) == []
    assert [(r.server, r.lagging) for r in tracker.serials({"a": 104, "b": 104})] == [("b", False)]


def test_a_replan_that_changes_nothing_asks_nothing() -> None:
    tracker = Tracker(MODEL, started=0.0)
    present = expect("10.0.0.3")
    tracker.replan([present], 0.0)
    assert tracker.replan([expect("10.0.0.3")], 3.0, what=["Pod relabelled"]) == []
    assert tracker.measurements == []
