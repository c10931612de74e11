"""hsvc only reads: every command, every vantage point, and nothing but GETs reach the API.

The emulated apiserver logs every request. The only requests that are not plain
reads are the websocket upgrades ``--via`` asks for (``pods/portforward``,
``pods/exec``: RBAC verb ``create``, yet they change nothing), and each must be
of the kind its flag asks for. The resources read are the ones
docs/explanation/security.md lists.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from hsvc.errors import ExitCode
from tests.integration.apiserver import parse_path
from tests.integration.seed_zone import seed_zones
from tests.integration.test_exec import client_pod
from tests.integration.test_portforward import coredns_pod

pytestmark = pytest.mark.integration

EXEC = Path(__file__).resolve().parents[1] / "data" / "exec"
REPLICAS = ("coredns-5d78c9869d-abcde", "coredns-5d78c9869d-fghij")

# docs/explanation/security.md, "What hsvc asks the API server".
READ = {
    "namespaces",
    "services",
    "endpointslices",
    "endpoints",
    "pods",
    "statefulsets",
    "deployments",
    "daemonsets",  # the resolver path: node-local-dns (hsvc.core.dnspath)
    "networkpolicies",  # UDP-only DNS policies (hsvc.core.transport)
    "configmaps",
    # --references (and --include-secrets), lint and inspect only; daemonsets above
    "jobs",
    "cronjobs",
    "ingresses",
    "httproutes",
    "secrets",
}
STREAM = {"portforward", "exec"}


@pytest.fixture
def cluster(api_server, make_knot, kubeconfig: Path):
    """The seed cluster, CoreDNS replicas forwarded to knotd, a client pod that execs."""
    knot = make_knot(seed_zones())
    for i, name in enumerate(REPLICAS):
        api_server.add(coredns_pod(name, f"10.244.0.{10 + i}"))
        api_server.forward("kube-system", name, 53, ("127.0.0.1", knot.port))
    api_server.add(client_pod("client"))
    api_server.on_exec("ms", "client", (EXEC / "debian-seed.out").read_text())
    return knot


def vantage(flag: str, knot_port: int) -> list[str]:
    if flag == "direct":
        return ["--nameserver", f"127.0.0.1:{knot_port}"]
    if flag == "exec":
        return ["--via", "exec", "--pod", "client"]
    return ["--via", "port-forward"]


def runs(knot_port: int) -> list[tuple[list[str], str | None]]:
    """Every command with every way to reach DNS: (arguments, the stream it may open)."""
    out: list[tuple[list[str], str | None]] = [
        (["records", "-n", "ms"], None),
        (["records", "eureka", "-n", "ms"], None),
        (["records", "-A"], None),
        (["lint", "-n", "ms"], None),
        (["lint", "-A"], None),
        (["lint", "-n", "ms", "--references"], None),
        (["lint", "-n", "ms", "--references", "--include-secrets"], None),
    ]
    for flag, stream in (("direct", None), ("port-forward", "portforward"), ("exec", "exec")):
        extra = [*vantage(flag, knot_port), "--timeout", "1"]
        out.append((["resolve", "eureka-0.eureka", "gateway", "-n", "ms", *extra], stream))
        out.append((["inspect", "eureka", "-n", "ms", *extra], stream))
        out.append((["inspect", "-n", "ms", *extra], stream))
        out.append((["inspect", "eureka", "-n", "ms", "--references", *extra], stream))
    return out


def test_every_command_only_reads(run, api_server, kubeconfig: Path, cluster) -> None:
    read: set[str] = set()
    for args, stream in runs(cluster.port):
        api_server.clear_log()
        result = run(*args, "--kubeconfig", str(kubeconfig), "-o", "json")
        assert result.code in (ExitCode.OK, ExitCode.MISMATCH), (args, result.err)
        log = api_server.log
        assert log, args
        assert api_server.mutations == [], args
        assert {r.method for r in log} == {"GET"}, args
        for request in log:
            *_, last = request.path.rstrip("/").split("/")
            if last in STREAM:
                # Only the upgrade the flag asked for, only to a pod that exists for it.
                assert last == stream, (args, request.path)
                assert request.path.startswith(
                    "/api/v1/namespaces/ms/pods/client/"
                    if stream == "exec"
                    else "/api/v1/namespaces/kube-system/pods/coredns-"
                ), request.path
                continue
            parsed = parse_path(request.path)
            assert parsed is not None, request.path  # no discovery, no odd paths
            read.add(parsed.resource)
        if stream is not None:
            assert any(r.path.endswith("/" + stream) for r in log), args
    assert api_server.streams_closed()
    assert read <= READ, read - READ


def test_demo_never_touches_the_api(run, api_server) -> None:
    api_server.clear_log()
    result = run("demo", "--no-color")
    assert result.code == ExitCode.OK, result.err
    assert api_server.log == []


def test_monitor_only_reads(api_server, kubeconfig: Path, cluster) -> None:
    """A monitor's sweeps, watches and re-checks: GETs only, of the kinds security.md lists."""
    import copy

    from tests.integration.monitor_process import MonitorProcess, child_env

    api_server.clear_log()
    args = ["--kubeconfig", str(kubeconfig), "-n", "ms", "--interval", "1", "--timeout", "1"]
    with MonitorProcess(args, child_env()) as monitor:
        monitor.wait_for(lambda e: e["event"] == "ready", 20)
        pod = copy.deepcopy(client_pod("client"))
        pod["metadata"]["labels"] = {"changed": "yes"}
        api_server.add(pod)  # a watch event, and the re-check it triggers
        monitor.wait_for(lambda e: e["event"] == "ready", 1)
        monitor.wait_metric(
            # The first sweep and a periodic one: every kind of request a monitor makes.
            lambda s: s.get(("hsvc_sweeps_total", frozenset()), 0) >= 2,
            10,
            "two sweeps",
        )
        code, _ = monitor.terminate()
    assert code == ExitCode.OK, monitor.stderr
    log = api_server.log
    assert api_server.mutations == []
    assert {r.method for r in log} == {"GET"}
    assert any(r.is_watch for r in log)
    for request in log:
        *_, last = request.path.rstrip("/").split("/")
        if last in STREAM:
            assert last == "portforward", request.path
            assert request.path.startswith("/api/v1/namespaces/kube-system/pods/coredns-")
            continue
        parsed = parse_path(request.path)
        assert parsed is not None, request.path
        assert parsed.resource in READ, request.path
    assert api_server.streams_closed()


def test_a_monitor_started_with_sigint_ignored_keeps_ignoring_it(
    api_server, kubeconfig: Path, cluster
) -> None:
    """`nohup hsvc monitor`: a Ctrl-C meant for the shell does not end it; SIGTERM does."""
    import signal

    from tests.integration.monitor_process import MonitorProcess, child_env

    args = ["--kubeconfig", str(kubeconfig), "-n", "ms", "--interval", "1", "--timeout", "1"]
    with MonitorProcess(args, child_env(), ignore=(signal.SIGINT,)) as monitor:
        monitor.wait_for(lambda e: e["event"] == "ready", 20)
        assert monitor.process is not None
        monitor.process.send_signal(signal.SIGINT)
        monitor.wait_metric(
            lambda s: s.get(("hsvc_sweeps_total", frozenset()), 0) >= 2, 10, "a sweep after it"
        )
        assert monitor.process.poll() is None
        code, _ = monitor.terminate()
    assert code == ExitCode.OK, monitor.stderr
