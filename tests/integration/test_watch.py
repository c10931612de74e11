"""``hsvc inspect --watch`` against the emulated API (with real watches) and knotd changed live.

Objects change in the API while hsvc watches; knotd's zones follow by RFC 2136
UPDATE after a delay (a replica catching up), or never (a stuck replica). Bounds
are kept short with a kubeadm >= 1.32 Corefile (no cache for the cluster zone)
and a small --watch-lag, never with long sleeps.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from hsvc.core.corefile import kubeadm_default_corefile
from hsvc.errors import ExitCode
from tests.integration.apiserver import ApiServer
from tests.integration.dns_counter import CountingRelay
from tests.integration.knot import KnotServer
from tests.integration.seed_zone import seed_zones
from tests.integration.test_live_cli import scaled_eureka

pytestmark = pytest.mark.integration

ZONE = "cluster.local."
NEW_IP = "10.246.0.4"  # eureka-3 in scaled_eureka(4)
EUREKA3 = "eureka-3.eureka.ms.svc.cluster.local."
SERIAL = 1_764_000_000  # a Unix time, as CoreDNS's serials are


def eureka3_records(knot: KnotServer, *, serial: int | None = None) -> None:
    """Serve what CoreDNS serves once eureka-3 (10.246.0.4) is ready: typed in by hand."""
    targets = [f"eureka-{i}.eureka.ms.svc.cluster.local." for i in range(4)]
    srv = [
        (owner, 30, "SRV", f"0 25 8888 {t}")
        for owner in ("eureka.ms.svc", "_eureka._tcp.eureka.ms.svc")
        for t in targets
    ]
    knot.update(
        ZONE,
        delete=[("eureka.ms.svc", "SRV"), ("_eureka._tcp.eureka.ms.svc", "SRV")],
        add=[
            ("eureka-3.eureka.ms.svc", 30, "A", NEW_IP),
            ("eureka.ms.svc", 30, "A", NEW_IP),
            ("10-246-0-4.ms.pod", 30, "A", NEW_IP),
            *srv,
        ],
        serial=serial,
    )
    knot.update("10.in-addr.arpa.", add=[("4.0.246", 30, "PTR", EUREKA3)])


@pytest.fixture
def corefile(tmp_path: Path) -> Path:
    """kubeadm >= 1.32's Corefile: the cluster zone is not cached (reverse zones are)."""
    path = tmp_path / "Corefile"
    path.write_text(kubeadm_default_corefile())
    return path


def watching(api: ApiServer, then: Callable[[], None]) -> threading.Thread:
    """Run ``then`` in a thread once hsvc's four watches are open."""

    def wait_and_act() -> None:
        deadline = time.monotonic() + 20
        # Watch requests logged since the test began (open connections may be
        # left over from an earlier test until the server writes to them).
        while sum(r.is_watch for r in api.log) < 4 and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.1)
        then()

    thread = threading.Thread(target=wait_and_act, daemon=True)
    thread.start()
    return thread


def ctrl_c_once_settled(relay: CountingRelay, question: tuple[str, str], before: int) -> None:
    """Ctrl-C the watch (run in this process) once hsvc has stopped re-asking ``question``.

    ``before`` is the relay's count for it taken before the change. hsvc re-asks a
    row that is not ok every --interval (0.2 s here) and stops once it is ok (the
    next full sweep is minutes away), so a quiet relay means the row has settled.
    This ends the run as soon as what the test waits for has happened, however
    slow the machine, instead of after a fixed ``--for`` that a busy machine may
    overrun. The watch's own SIGINT handler turns the signal into the summary
    (exit 0 when every row is ok); the run's ``--for`` is far longer than these
    waits, so that the signal never comes after the watch has ended.
    """
    assert relay.wait_answered(question, before), question
    deadline = time.monotonic() + 10
    seen = relay.answered_count(question)
    while time.monotonic() < deadline:
        time.sleep(0.6)  # three --interval rounds
        now = relay.answered_count(question)
        if now == seen:
            break
        seen = now
    os.kill(os.getpid(), signal.SIGINT)


def events(out: str) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in out.splitlines() if line.strip()]
    bad = [
        e for e in lines if e.get("apiVersion") != "hsvc/v1alpha1" or e.get("kind") != "WatchEvent"
    ]
    assert not bad, bad[:2]
    return lines


def states(
    evs: list[dict[str, Any]], name: str, rtype: str = "A", server: str | None = None
) -> list[str]:
    return [
        e["state"]
        for e in evs
        if e["event"] == "row"
        and e["name"] == name
        and e["type"] == rtype
        and (server is None or e["server"] == server)
    ]


def watch_args(
    kubeconfig: Path, corefile: Path, servers: list[KnotServer | CountingRelay], *flags: str
) -> list[str]:
    args = [
        "inspect",
        "eureka",
        "-n",
        "ms",
        "--kubeconfig",
        str(kubeconfig),
        "--corefile",
        str(corefile),
        "-o",
        "json",
        "--interval",
        "0.2",
    ]
    for server in servers:
        args += ["--nameserver", f"127.0.0.1:{server.port}"]
    return [*args, *flags]


def test_pod_becoming_ready_converges_with_a_measured_latency(
    run, api_server: ApiServer, kubeconfig: Path, corefile: Path, make_knot
) -> None:
    knot = make_knot(seed_zones(), updatable=True)
    relay = CountingRelay(("127.0.0.1", knot.port)).__enter__()

    def rollout() -> None:
        assert relay.wait_answered((ZONE, "SOA"), 0)  # the first sweep is under way
        before = relay.answered_count((EUREKA3, "A"))
        api_server.add(*scaled_eureka(4))  # eureka-3 created, ready, in a slice
        # The replica catches up only after hsvc has seen it behind, and a while later.
        assert relay.wait_answered((EUREKA3, "A"), before)
        time.sleep(0.5)
        eureka3_records(knot)

    actor = watching(api_server, rollout)
    # Watch a fixed while: --until-ok would end at once, before the rollout (all ok then).
    try:
        result = run(*watch_args(kubeconfig, corefile, [relay], "--watch-lag", "3", "--for", "2.5"))
    finally:
        relay.__exit__(None, None, None)
    actor.join(5)
    assert result.code == ExitCode.OK, result.err
    evs = events(result.out)
    assert evs[0]["event"] == "start" and evs[-1]["event"] == "summary"
    # eureka-3 is a must-not-resolve row (ok) before the scale-up. Whether the
    # re-list lands before or after knotd serves the new record decides whether a
    # converging state is seen in between; either way the row must end ok.
    seen = states(evs, EUREKA3)
    assert seen[-1] == "ok" and set(seen) <= {"ok", "converging"}
    converging = next(
        e
        for e in evs
        if e["event"] == "row" and e["name"] == EUREKA3 and e["state"] == "converging"
    )
    assert converging["verdict"] == "missing" and 0 < converging["secondsLeft"] <= 3
    assert "negative answer" in converging["why"] and "watch" in converging["why"]
    changes = [e["what"] for e in evs if e["event"] == "change"]
    assert "Pod ms/eureka-3 created" in changes
    assert any(w.startswith("StatefulSet ms/eureka scaled 3 -> 4") for w in changes)
    converged = [e for e in evs if e["event"] == "converged"]
    assert converged, "no convergence measured"
    latency = max(v for e in converged for v in e["latency"].values())
    assert 0.5 <= latency < 5
    summary = evs[-1]
    assert summary["ok"] and summary["reason"] == "duration" and summary["counts"]["stuck"] == 0
    assert summary["measurements"] and all(m["latency"] for m in summary["measurements"])


def test_zone_that_never_updates_is_stuck_after_the_bound(
    run, api_server: ApiServer, kubeconfig: Path, corefile: Path, make_knot
) -> None:
    knot = make_knot(seed_zones(), updatable=True)
    api_server.add(*scaled_eureka(4))  # applied just before: the deploy script's gate
    result = run(
        *watch_args(
            kubeconfig, corefile, [knot], "--until-ok", "--watch-lag", "0.5", "--for", "2.5"
        )
    )
    assert result.code == ExitCode.MISMATCH
    assert "not every row is ok" in result.err and f"stuck {EUREKA3} A" in result.err
    assert result.err.count("\n") == 1
    evs = events(result.out)
    assert states(evs, EUREKA3) == ["converging", "stuck"]  # wrong from the start
    stuck = [e for e in evs if e["event"] == "row" and e["name"] == EUREKA3][-1]
    assert stuck["sinceChange"] >= stuck["bound"] == 0.5
    assert "longer than every cache explains" in stuck["why"]
    # The reverse zone is cached 30 s by kubeadm's Corefile: its row is still converging.
    ptr = [e for e in evs if e["event"] == "row" and e["name"] == "4.0.246.10.in-addr.arpa."]
    assert ptr and ptr[-1]["state"] == "converging" and ptr[-1]["bound"] > 30
    summary = evs[-1]
    assert not summary["ok"] and summary["reason"] == "duration"
    assert {(r["name"], r["state"]) for r in summary["notOk"]} >= {(EUREKA3, "stuck")}


def test_the_replica_that_updates_late_is_named_lagging_by_soa_serial(
    run, api_server: ApiServer, kubeconfig: Path, corefile: Path, make_knot
) -> None:
    early = make_knot(seed_zones(), updatable=True)
    late = make_knot(seed_zones(), updatable=True)
    for knot in (early, late):
        knot.update(ZONE, serial=SERIAL)

    relay = CountingRelay(("127.0.0.1", late.port)).__enter__()

    def rollout() -> None:
        assert relay.wait_answered((ZONE, "SOA"), 0)  # the first sweep is under way
        before = relay.answered_count((EUREKA3, "A"))
        api_server.add(*scaled_eureka(4))
        eureka3_records(early, serial=SERIAL + 3)
        assert relay.wait_answered((EUREKA3, "A"), before)  # hsvc saw the late one behind
        time.sleep(1.0)
        asked = relay.answered_count((EUREKA3, "A"))
        eureka3_records(late, serial=SERIAL + 3)
        ctrl_c_once_settled(relay, (EUREKA3, "A"), asked)

    actor = watching(api_server, rollout)
    try:
        result = run(
            *watch_args(kubeconfig, corefile, [early, relay], "--watch-lag", "5", "--for", "40")
        )
    finally:
        relay.__exit__(None, None, None)
    actor.join(5)
    assert result.code == ExitCode.OK, result.err
    evs = events(result.out)
    late_label, early_label = f"127.0.0.1:{relay.port}", f"127.0.0.1:{early.port}"
    replicas = [e for e in evs if e["event"] == "replica"]
    lagging = [e for e in replicas if e["lagging"]]
    assert lagging and {e["server"] for e in lagging} == {late_label}
    assert lagging[0]["behind"] == 3 and lagging[0]["serial"] == SERIAL
    assert replicas[-1]["server"] == late_label and not replicas[-1]["lagging"]
    latency = {}
    for e in evs:
        if e["event"] == "converged":
            latency.update(e["latency"])
    # The late zone is updated 1 s after the early one; latencies are rounded to
    # milliseconds and measured when each answer arrives, so allow for that.
    assert latency[late_label] - latency[early_label] >= 0.9
    assert states(evs, EUREKA3, server=early_label)[-1] == "ok"
    assert states(evs, EUREKA3, server=late_label)[-1] == "ok"


def test_410_gone_during_the_watch_relists_and_loses_no_change(
    run, api_server: ApiServer, kubeconfig: Path, corefile: Path, make_knot
) -> None:
    knot = make_knot(seed_zones(), updatable=True)
    relay = CountingRelay(("127.0.0.1", knot.port)).__enter__()

    def expire_then_change() -> None:
        # The re-lists after the 410 wait a moment; the change lands in between,
        # so only a re-list (not the watch) can show it.
        assert relay.wait_answered((ZONE, "SOA"), 0)  # the first sweep is under way
        before = relay.answered_count((EUREKA3, "A"))
        api_server.inject("*/namespaces/ms/*", delay=0.4, times=4)
        api_server.expire_watches()
        api_server.add(*scaled_eureka(4))
        assert relay.wait_answered((EUREKA3, "A"), before)
        asked = relay.answered_count((EUREKA3, "A"))
        eureka3_records(knot)
        ctrl_c_once_settled(relay, (EUREKA3, "A"), asked)

    actor = watching(api_server, expire_then_change)
    try:
        result = run(*watch_args(kubeconfig, corefile, [relay], "--watch-lag", "3", "--for", "40"))
    finally:
        relay.__exit__(None, None, None)
    actor.join(5)
    assert result.code == ExitCode.OK, result.err
    evs = events(result.out)
    changes = [e for e in evs if e["event"] == "change"]
    assert {"kind": "Pod", "namespace": "ms", "name": "eureka-3"} in [e["object"] for e in changes]
    assert all(e["relisted"] for e in changes)
    assert any("re-list after 410 Gone" in e["what"] for e in changes)
    # eureka-3 is a must-not-resolve row (ok) before the scale-up. Whether the
    # re-list lands before or after knotd serves the new record decides whether a
    # converging state is seen in between; either way the row must end ok.
    seen = states(evs, EUREKA3)
    assert seen[-1] == "ok" and set(seen) <= {"ok", "converging"}
    relists = [r for r in api_server.log if r.is_list and r.path == "/api/v1/namespaces/ms/pods"]
    assert len(relists) == 3  # the snapshot, the watch engine's first LIST, the re-list


def test_a_change_re_asks_only_the_names_it_affects(
    run, api_server: ApiServer, kubeconfig: Path, corefile: Path, make_knot
) -> None:
    knot = make_knot(seed_zones(), updatable=True)
    with CountingRelay(("127.0.0.1", knot.port)) as relay:
        marks: list[int] = []

        def rollout() -> None:
            time.sleep(0.5)  # the first sweep is over
            marks.append(relay.mark())
            api_server.add(*scaled_eureka(4))
            time.sleep(0.5)
            eureka3_records(knot)

        actor = watching(api_server, rollout)
        result = run(
            *watch_args(
                kubeconfig,
                corefile,
                [relay],
                "--watch-lag",
                "3",
                "--sweep",
                "600",
                "--for",
                "2.5",
            )
        )
        actor.join(5)
        assert result.code == ExitCode.OK, result.err
        first_sweep = relay.asked[: marks[0]]
        after = relay.since(marks[0])
    rows = events(result.out)[0]["rows"]
    assert len({q for q in first_sweep if q[1] != "SOA"}) == rows
    asked = {q for q in after if q[1] != "SOA"}
    assert (EUREKA3, "A") in asked and ("4.0.246.10.in-addr.arpa.", "PTR") in asked
    # Names the change does not touch are not asked again.
    for untouched in (
        ("eureka-0.eureka.ms.svc.cluster.local.", "A"),
        ("10-244-1-210.ms.pod.cluster.local.", "A"),
        ("210.1.244.10.in-addr.arpa.", "PTR"),
    ):
        assert untouched not in asked
    assert len(asked) < rows


def test_watch_refuses_manifest_files_and_bad_durations(run, kubeconfig: Path) -> None:
    files = run("inspect", "--watch", "-f", "tests/data/seed/ms.yaml")
    assert files.code == ExitCode.USAGE and "live API" in files.err
    bad = run("inspect", "eureka", "--kubeconfig", str(kubeconfig), "--until-ok", "--for", "soon")
    assert bad.code == ExitCode.USAGE and "not a duration" in bad.err
    yaml = run("inspect", "eureka", "--kubeconfig", str(kubeconfig), "--watch", "-o", "yaml")
    assert yaml.code == ExitCode.USAGE and "JSON" in yaml.err


def test_no_server_answering_exits_6(run, kubeconfig: Path, corefile: Path, make_bad_dns) -> None:
    silent = make_bad_dns("silent")
    args = watch_args(kubeconfig, corefile, [], "--until-ok", "--for", "3")
    result = run(*args, "--nameserver", f"127.0.0.1:{silent.port}", "--timeout", "0.2")
    assert result.code == ExitCode.NO_DNS
    assert "no DNS server answered" in result.err


def test_each_coredns_replica_through_port_forward_and_the_late_one_named(
    run, api_server: ApiServer, kubeconfig: Path, corefile: Path, make_knot
) -> None:
    from tests.integration.test_portforward import coredns_pod

    pods = ("coredns-5d78c9869d-early", "coredns-5d78c9869d-late")
    knots = {}
    for i, name in enumerate(pods):
        knot = make_knot(seed_zones(), updatable=True)
        knot.update(ZONE, serial=SERIAL)
        api_server.add(coredns_pod(name, f"10.244.0.{20 + i}"))
        api_server.forward("kube-system", name, 53, ("127.0.0.1", knot.port))
        knots[name] = knot

    def rollout() -> None:
        api_server.add(*scaled_eureka(4))
        eureka3_records(knots[pods[0]], serial=SERIAL + 2)
        time.sleep(1.8)
        eureka3_records(knots[pods[1]], serial=SERIAL + 2)

    actor = watching(api_server, rollout)
    result = run(*watch_args(kubeconfig, corefile, [], "--watch-lag", "5", "--for", "3.5"))
    actor.join(5)
    assert result.code == ExitCode.OK, result.err
    evs = events(result.out)
    labels = [f"{name} (port-forward)" for name in pods]
    assert evs[0]["servers"] == labels
    lagging = [e for e in evs if e["event"] == "replica" and e["lagging"]]
    assert {e["server"] for e in lagging} == {labels[1]} and lagging[0]["behind"] == 2
    # The early replica may already answer when hsvc first asks; the late one cannot.
    assert states(evs, EUREKA3, server=labels[0])[-1] == "ok"
    assert states(evs, EUREKA3, server=labels[1])[-2:] == ["converging", "ok"]


def watch_process(
    api_server: ApiServer, kubeconfig: Path, corefile: Path, make_knot, *extra: str, **popen: Any
) -> tuple[subprocess.Popen[str], str]:
    """``python -m hsvc`` watching a Service whose rows stay wrong; its start event read."""
    knot = make_knot(seed_zones(), updatable=True)
    api_server.add(*scaled_eureka(4))  # never served: rows stay wrong
    args = watch_args(kubeconfig, corefile, [knot], "--watch-lag", "30", "--watch", *extra)
    env = {k: v for k, v in os.environ.items() if k != "KUBECONFIG"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "hsvc", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        **popen,
    )
    assert proc.stdout is not None
    return proc, proc.stdout.readline()  # the start event: the watch is running


@pytest.mark.parametrize(("until_ok", "code"), [(False, ExitCode.MISMATCH), (True, 130)])
def test_ctrl_c_ends_with_the_summary(
    api_server: ApiServer, kubeconfig: Path, corefile: Path, make_knot, until_ok: bool, code: int
) -> None:
    extra = ["--until-ok"] if until_ok else []
    proc, start = watch_process(api_server, kubeconfig, corefile, make_knot, *extra)
    deadline = time.monotonic() + 20
    while sum(r.is_watch for r in api_server.log) < 4 and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=20)
    evs = events(start + out)
    assert proc.returncode == code, err + out[-500:]
    assert evs[0]["event"] == "start" and evs[-1]["event"] == "summary"
    assert evs[-1]["reason"] == "interrupted" and not evs[-1]["ok"]
    assert "Traceback" not in err, err


def test_a_watch_started_with_sigint_ignored_keeps_ignoring_it(
    api_server: ApiServer, kubeconfig: Path, corefile: Path, make_knot
) -> None:
    """`nohup hsvc inspect --watch --for 3`: a SIGINT does not end it early; --for does."""
    proc, start = watch_process(
        api_server,
        kubeconfig,
        corefile,
        make_knot,
        "--for",
        "3",
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    proc.send_signal(signal.SIGINT)  # after the start event: the watch's handler is set
    out, err = proc.communicate(timeout=30)
    evs = events(start + out)
    assert proc.returncode == ExitCode.MISMATCH, err + out[-500:]
    assert evs[-1]["event"] == "summary" and evs[-1]["reason"] == "duration", evs[-1]
