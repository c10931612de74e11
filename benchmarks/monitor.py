"""Benchmark ``hsvc monitor`` and many contexts: ``python benchmarks/run.py --monitor-only``.

- monitor: a cluster of P pods (P/10 ClusterIP Services of 10 pods, in 10
  namespaces; tests/fleet.py writes the objects and the zone rows CoreDNS
  serves for them) in the emulated API server and knotd; ``hsvc monitor`` as a
  subprocess, asking knotd directly. Measured from /proc: CPU seconds per second
  and resident memory (now and peak) while idle for one sweep interval, and
  while a rollout replaces pods (each replacement: the pod and its
  EndpointSlice change, two watch events); the time to the first full sweep,
  the sweep duration it reports, and the API requests it made while idle.
- fleet: 10 emulated clusters (one API server each, 200 pods), one kubeconfig
  with 10 contexts; ``hsvc inspect -A --all-contexts`` against the same 10
  ``hsvc inspect -A --context C`` one after the other. Each context asks its
  CoreDNS replica through its own API server (port-forward), as a laptop would.
"""

from __future__ import annotations

import ipaddress
import json
import os
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.fleet import Cluster, PodRow, ServiceRow
from tests.integration.api_fixtures import TOKEN, write_kubeconfig
from tests.integration.apiserver import ApiServer
from tests.integration.knot import KnotServer
from tests.integration.monitor_process import child_env

PER_SERVICE = 10
NAMESPACES = 10
CLK_TCK = os.sysconf("SC_CLK_TCK")


def _pod_ip(k: int) -> str:
    return f"10.{64 + k // 62500}.{(k // 250) % 250}.{k % 250 + 1}"


def big_cluster(pods: int) -> Cluster:
    """``pods`` pods behind ``pods / 10`` ClusterIP Services over 10 namespaces."""
    services = []
    k = 0
    for j in range(max(1, pods // PER_SERVICE)):
        rows = []
        for i in range(PER_SERVICE):
            rows.append(PodRow(name=f"app-{j}-{i}", ip=_pod_ip(k)))
            k += 1
        services.append(
            ServiceRow(
                namespace=f"team-{j % NAMESPACES}",
                name=f"app-{j}",
                port_name="http",
                port=8080,
                cluster_ip=str(ipaddress.IPv4Address("10.97.0.1") + j),
                pods=tuple(rows),
            )
        )
    return Cluster(services)


def objects(cluster: Cluster) -> list[dict[str, Any]]:
    return [json.loads(doc) for doc in cluster.manifests().split("---\n") if doc.strip()]


@dataclass
class Usage:
    cpu: float  # seconds of CPU per second of wall time
    rss_mb: float
    peak_mb: float


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime


def _memory(pid: int) -> tuple[float, float]:
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0]) / 1024
    return values["VmRSS"], values["VmHWM"]


def usage_over(pid: int, seconds: float) -> Usage:
    cpu0, t0 = _cpu_seconds(pid), time.monotonic()
    time.sleep(seconds)
    cpu1, t1 = _cpu_seconds(pid), time.monotonic()
    rss, peak = _memory(pid)
    return Usage(cpu=(cpu1 - cpu0) / (t1 - t0), rss_mb=rss, peak_mb=peak)


@dataclass
class MonitorResult:
    pods: int
    services: int
    ready_s: float
    sweep_s: float
    rows: int
    idle: Usage
    rollout: Usage
    replaced: int
    idle_requests: int
    idle_lists: int
    stop_s: float


def _rollout(api: ApiServer, cluster: Cluster, stop: threading.Event, rate: float) -> int:
    """Replace pods one after another (new IP), as a Deployment rollout does; return how many."""
    docs = objects(cluster)
    pods = [d for d in docs if d["kind"] == "Pod"]
    slices = {
        (d["metadata"]["namespace"], d["metadata"]["labels"]["kubernetes.io/service-name"]): d
        for d in docs
        if d["kind"] == "EndpointSlice"
    }
    done = 0
    fresh = 200_000  # new IPs beyond the scenario's
    while not stop.is_set() and done < len(pods):
        pod = pods[done]
        ns, svc = pod["metadata"]["namespace"], pod["metadata"]["labels"]["app"]
        old = pod["status"]["podIP"]
        new = _pod_ip(fresh + done)
        pod["status"]["podIP"] = new
        pod["status"]["podIPs"] = [{"ip": new}]
        sl = slices[(ns, svc)]
        for endpoint in sl["endpoints"]:
            endpoint["addresses"] = [new if a == old else a for a in endpoint["addresses"]]
        api.add(pod, sl)
        done += 1
        stop.wait(1.0 / rate)
    return done


def monitor_costs(
    hsvc: list[str], pods: int, workdir: Path, *, window: float, interval: float, rate: float
) -> MonitorResult:
    cluster = big_cluster(pods)
    with ApiServer() as api, KnotServer(cluster.zones()) as knot:
        api.bookmark_interval = 60.0  # as a real API server: bookmarks about once a minute
        api.add(*objects(cluster))
        kubeconfig = write_kubeconfig(workdir / f"monitor-{pods}", api.url, namespace=None)
        argv = [
            *hsvc, "monitor", "--kubeconfig", str(kubeconfig), "--listen", "127.0.0.1:0",
            "--nameserver", f"127.0.0.1:{knot.port}", "--interval", str(interval),
            "--stuck-after", "3600",
        ]  # fmt: skip
        env = child_env(HOME=str(workdir))
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        started = time.monotonic()
        errors = workdir / f"monitor-{pods}.err"
        with errors.open("w") as err:
            proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=err, text=True, env=env)
        lines: list[dict[str, Any]] = []
        ready = threading.Event()

        def read() -> None:
            assert proc.stdout is not None
            for line in proc.stdout:
                event = json.loads(line)
                lines.append(event)
                if event["event"] == "ready":
                    ready.set()

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        try:
            if not ready.wait(600):
                raise SystemExit(f"hsvc monitor never got ready: {errors.read_text()[-2000:]}")
            ready_s = time.monotonic() - started
            time.sleep(1.0)
            api.clear_log()
            idle = usage_over(proc.pid, window)
            log = api.log
            stop = threading.Event()
            replaced: list[int] = []
            roller = threading.Thread(
                target=lambda: replaced.append(_rollout(api, cluster, stop, rate)), daemon=True
            )
            roller.start()
            rollout = usage_over(proc.pid, window)
            stop.set()
            roller.join(10)
            address = next(e["address"] for e in lines if e["event"] == "listening")
            sweep_s = _metric(address, "hsvc_last_sweep_duration_seconds")
            rows = int(_metric(address, "hsvc_records_checked"))
        finally:
            stopping = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            proc.wait(30)
            stop_s = time.monotonic() - stopping
    return MonitorResult(
        pods=pods,
        services=len(cluster.services),
        ready_s=ready_s,
        sweep_s=sweep_s,
        rows=rows,
        idle=idle,
        rollout=rollout,
        replaced=replaced[0] if replaced else 0,
        idle_requests=len(log),
        idle_lists=sum(1 for r in log if r.is_list),
        stop_s=stop_s,
    )


def _metric(address: str, name: str) -> float:
    import urllib.request

    from prometheus_client.parser import text_string_to_metric_families

    with urllib.request.urlopen(f"http://{address}/metrics", timeout=10) as response:
        text = response.read().decode()
    return sum(
        s.value for f in text_string_to_metric_families(text) for s in f.samples if s.name == name
    )


def _coredns_pod(ip: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "coredns-0",
            "namespace": "kube-system",
            "labels": {"k8s-app": "kube-dns"},
        },
        "spec": {"containers": [{"name": "coredns", "image": "coredns"}]},
        "status": {
            "phase": "Running",
            "podIP": ip,
            "podIPs": [{"ip": ip}],
            "conditions": [{"type": "Ready", "status": "True"}],
        },
    }


def multi_context(
    hsvc: list[str], workdir: Path, *, clusters: int = 10, pods: int = 200
) -> dict[str, float]:
    """Wall seconds: one run over all contexts (parallel 4 and 10), and sequential runs."""
    from benchmarks.run import measure

    cluster = big_cluster(pods)
    docs = [
        *objects(cluster),
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "kube-system"}},
        _coredns_pod("10.244.0.10"),
    ]
    servers = [ApiServer().start() for _ in range(clusters)]
    knot = KnotServer(cluster.zones())
    knot.start()
    try:
        extra: dict[str, list[dict[str, Any]]] = {"clusters": [], "users": [], "contexts": []}
        for i, api in enumerate(servers):
            api.add(*docs)
            api.forward("kube-system", "coredns-0", 53, ("127.0.0.1", knot.port))
            if i:
                name = f"cluster-{i}"
                extra["clusters"].append({"name": name, "cluster": {"server": api.url}})
                extra["users"].append({"name": name, "user": {"token": TOKEN}})
                extra["contexts"].append({"name": name, "context": {"cluster": name, "user": name}})
        kubeconfig = write_kubeconfig(
            workdir / "fleet", servers[0].url, context="cluster-0", namespace=None, extra=extra
        )
        names = ["cluster-0", *(f"cluster-{i}" for i in range(1, clusters))]
        base = [*hsvc, "inspect", "-A", "--kubeconfig", str(kubeconfig), "-o", "json"]
        out: dict[str, float] = {}
        for label, argv in (
            ("all, --parallel 4", [*base, "--all-contexts"]),
            (f"all, --parallel {clusters}", [*base, "--all-contexts", "--parallel", str(clusters)]),
        ):
            run = measure(argv)
            if run.code not in (0, 1):
                raise SystemExit(f"fleet run failed ({run.code}): {run.err[-2000:]}")
            out[label] = run.wall
            out[f"{label} rss"] = run.rss_mb
        sequential = 0.0
        for name in names:
            run = measure([*base, "--context", name])
            if run.code not in (0, 1):
                raise SystemExit(f"inspect --context {name} failed ({run.code}): {run.err[-2000:]}")
            sequential += run.wall
        out["sequential"] = sequential
        return out
    finally:
        knot.stop()
        for api in servers:
            api.stop()


def report(hsvc: list[str], workdir: Path, *, window: float = 30.0, interval: float = 30.0) -> None:
    """Print both tables (Markdown)."""
    results = [
        monitor_costs(hsvc, pods, workdir, window=window, interval=interval, rate=rate)
        for pods, rate in ((2000, 20.0), (20000, 50.0))
    ]
    print(f"hsvc monitor (--interval {interval:g}, windows of {window:g} s):\n")
    print(
        "| pods (Services) | rows | first sweep done s | sweep s | idle CPU | idle RSS MB "
        "| rollout CPU | rollout pods replaced | rollout RSS MB | peak RSS MB "
        "| idle API requests (LISTs) | SIGTERM to exit s |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        print(
            f"| {r.pods:,} ({r.services:,}) | {r.rows:,} | {r.ready_s:.1f} | {r.sweep_s:.1f} "
            f"| {r.idle.cpu:.2f} | {r.idle.rss_mb:.0f} | {r.rollout.cpu:.2f} | {r.replaced:,} "
            f"| {r.rollout.rss_mb:.0f} | {r.rollout.peak_mb:.0f} "
            f"| {r.idle_requests} ({r.idle_lists}) | {r.stop_s:.2f} |"
        )
    fleet = multi_context(hsvc, workdir)
    print("\nhsvc inspect -A over 10 emulated clusters of 200 pods:\n")
    print("| run | wall s |")
    print("|---|---:|")
    for label in ("all, --parallel 4", "all, --parallel 10"):
        print(f"| one run, `--all-contexts` ({label.split(', ')[1]}) | {fleet[label]:.2f} |")
    print(f"| 10 runs, one `--context` each, one after the other | {fleet['sequential']:.2f} |")
