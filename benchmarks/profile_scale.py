"""Per-pod and many-Service cost of ``hsvc inspect``: ``python benchmarks/profile_scale.py``.

Starts the emulated API server and knotd on 127.0.0.1 (as benchmarks/run.py
does), loads a generated cluster into both and runs the installed ``hsvc`` as a
subprocess under GNU time (``/usr/bin/time -f %M``), which reports the CPU time
and peak RSS of that child alone:

- ``--sts 2000,5000,10000,20000``: ``hsvc inspect web -n bench -o json`` of one
  StatefulSet of N pods (benchmarks/scenario.py); CPU s and peak RSS per N, and
  the slope of both over N (least squares): the cost of one more pod;
- ``--services 1000,10000``: ``hsvc inspect -A`` (table, then ``-o json``) on S
  Services of 15 pods each over S/100 namespaces (every fifth Service the
  headless Service of a StatefulSet), S x 15 pods in all;
- ``--profile DIR``: the same runs under cProfile; the top functions by own
  time are printed and the ``.prof`` files kept in DIR.

knotd 3.2.6 fails on an SRV RRset of about 32,768 records, so RRsets larger
than 16,000 records are left out of the zone (those rows are too large for one
DNS message anyway). Prints Markdown tables.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import pstats
import signal
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import tests.integration.knot as knot_module  # noqa: E402
from benchmarks.scenario import COREFILE, KUBE_DNS_IP, NAMESPACE, Scenario, _service  # noqa: E402
from tests.fleet import Cluster, PodRow, ServiceRow  # noqa: E402
from tests.integration.api_fixtures import write_kubeconfig  # noqa: E402
from tests.integration.apiserver import ApiServer  # noqa: E402
from tests.integration.knot import KnotServer  # noqa: E402

knot_module.START_TIMEOUT = 300.0  # a zone of a million records takes a while to load
PODS_PER_SERVICE = 15
SERVICES_PER_NAMESPACE = 100
MAX_RRSET = 16_000
USER_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


@dataclass
class Run:
    code: int
    wall: float
    cpu: float
    rss_mb: float
    out_bytes: int
    err: str


def hsvc_command() -> list[str]:
    script = Path(sysconfig.get_path("scripts")) / "hsvc"
    return [str(script)] if script.exists() else [sys.executable, "-m", "hsvc"]


def measure(argv: list[str], workdir: Path) -> Run:
    """Run ``argv`` under GNU time: the child's own CPU time and peak RSS."""
    stats = workdir / "time.txt"
    with (workdir / "out").open("wb") as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        code = subprocess.call(
            ["/usr/bin/time", "-o", str(stats), "-f", "%M %U %S", *argv],
            stdout=out,
            stderr=err,
            env=USER_ENV,
        )
        wall = time.perf_counter() - started
        err.seek(0)
        text = err.read().decode(errors="replace")
    rss_kb, user, system = stats.read_text().split()[-3:]
    return Run(
        code=code,
        wall=wall,
        cpu=float(user) + float(system),
        rss_mb=int(rss_kb) / 1024,
        out_bytes=(workdir / "out").stat().st_size,
        err=text,
    )


def fit(xs: list[float], ys: list[float]) -> tuple[float, float]:
    """Least-squares ``y = a + b x``: ``(a, b)``."""
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx if sxx else 0.0
    return my - b * mx, b


# --- clusters ------------------------------------------------------------------------------


def _dns_objects() -> list[dict[str, Any]]:
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "kube-system"}},
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "coredns", "namespace": "kube-system"},
            "data": {"Corefile": COREFILE},
        },
        _service("kube-system", "kube-dns", KUBE_DNS_IP, [("dns", 53)], {"k8s-app": "kube-dns"}),
    ]


def many_services(services: int) -> Cluster:
    """``services`` Services of 15 pods each; every fifth a StatefulSet's headless Service."""
    rows = []
    k = 0
    for j in range(services):
        pods = []
        for i in range(PODS_PER_SERVICE):
            ip = f"10.{64 + k // 62500}.{(k // 250) % 250}.{k % 250 + 1}"
            pods.append(PodRow(name=f"app-{j}-{i}", ip=ip))
            k += 1
        stateful = j % 5 == 0
        rows.append(
            ServiceRow(
                namespace=f"team-{j // SERVICES_PER_NAMESPACE}",
                name=f"app-{j}",
                port_name="http",
                port=8080,
                cluster_ip="None" if stateful else str(ipaddress.IPv4Address("10.96.16.1") + j),
                stateful=stateful,
                pods=tuple(pods),
            )
        )
    return Cluster(rows)


def _zones(cluster: Cluster) -> dict[str, str]:
    """The cluster's zones with kube-dns's own names (the Service _dns_objects adds)."""
    zones = cluster.zones()
    svc = "kube-dns.kube-system.svc"
    zones["cluster.local."] += (
        f"{svc} 30 IN A {KUBE_DNS_IP}\n"
        f"{svc} 30 IN SRV 0 100 53 {svc}.cluster.local.\n"
        f"_dns._tcp.{svc} 30 IN SRV 0 100 53 {svc}.cluster.local.\n"
    )
    reverse = ".".join(reversed(KUBE_DNS_IP.split(".")[1:]))
    zones["10.in-addr.arpa."] += f"{reverse} 30 IN PTR {svc}.cluster.local.\n"
    return zones


def _trim(text: str) -> str:
    """Leave out RRsets knotd cannot hold (see the module docstring)."""
    lines = text.splitlines()
    sizes = Counter(tuple(line.split()[0:4:3]) for line in lines if not line.startswith("$"))
    big = {key for key, n in sizes.items() if n > MAX_RRSET}
    if not big:
        return text
    kept = [line for line in lines if line.startswith("$") or tuple(line.split()[0:4:3]) not in big]
    return "\n".join(kept) + "\n"


class Bench:
    def __init__(self, api: ApiServer, workdir: Path, profile: Path | None) -> None:
        self.api = api
        self.workdir = workdir
        self.profile = profile

    def load(self, objects: list[dict[str, Any]], zones: dict[str, str], namespace: str | None):
        self.api.reset()
        self.api.add(*objects)
        self.knot = KnotServer({o: _trim(t) for o, t in zones.items()})
        self.kubeconfig = write_kubeconfig(
            self.workdir / "kubeconfig", self.api.url, namespace=namespace
        )

    def inspect_here(self, scope: list[str], stdout: Any) -> Any:
        """``hsvc inspect SCOPE -o json`` in this process (for capturing scripts), its
        output written to ``stdout``; returns the exit code."""
        from hsvc.cli import main
        from hsvc.core import collector

        argv = [
            *("inspect", *scope, "-o", "json", "--request-timeout", "900"),
            *("--kubeconfig", str(self.kubeconfig)),
            *("--nameserver", f"127.0.0.1:{self.knot.port}"),
        ]
        sys.argv = ["hsvc", *argv]
        # The console script's collector thresholds; the arguments given, so the run
        # returns here instead of ending the process (hsvc.outstreams.end_process).
        collector.collect_rarely()
        saved, sys.stdout = sys.stdout, stdout
        try:
            main(argv)
        except SystemExit as exc:
            return exc.code
        finally:
            sys.stdout = saved
        return None

    def run(self, args: list[str], tag: str) -> Run:
        argv = [
            *args,
            "--kubeconfig",
            str(self.kubeconfig),
            "--nameserver",
            f"127.0.0.1:{self.knot.port}",
        ]
        command = hsvc_command()
        if self.profile is not None:
            prof = self.profile / f"{tag}.prof"
            command = [sys.executable, "-m", "cProfile", "-o", str(prof), "-m", "hsvc"]
        run = measure([*command, *argv], self.workdir)
        if run.code not in (0, 1):
            raise SystemExit(f"hsvc {' '.join(args)} failed ({run.code}):\n{run.err[-3000:]}")
        if self.profile is not None:
            print(f"\n#### profile {tag}\n```")
            stats = pstats.Stats(str(prof))
            stats.sort_stats("tottime").print_stats(25)
            print("```")
        return run


def sts(bench: Bench, sizes: list[int]) -> None:
    print("\n| N | CPU s | peak RSS MB | wall s | JSON MB | exit |")
    print("|---:|---:|---:|---:|---:|---:|")
    xs, cpus, rsss = [], [], []
    for n in sizes:
        scenario = Scenario(n)
        bench.load(scenario.objects(), scenario.zones(), NAMESPACE)
        with bench.knot:
            args = ["inspect", "web", "-n", NAMESPACE, "-o", "json", "--request-timeout", "900"]
            run = bench.run(args, f"sts-{n}")
        print(
            f"| {n:,} | {run.cpu:.2f} | {run.rss_mb:.0f} | {run.wall:.1f} | "
            f"{run.out_bytes / 1e6:.0f} | {run.code} |",
            flush=True,
        )
        xs.append(float(n))
        cpus.append(run.cpu)
        rsss.append(run.rss_mb)
    if len(xs) > 1:
        a, b = fit(xs, cpus)
        ra, rb = fit(xs, rsss)
        print(
            f"\nslope: {b * 1e6:.0f} µs CPU per pod (intercept {a:.2f} s), "
            f"{rb * 1024:.1f} KB peak RSS per pod (intercept {ra:.0f} MB)"
        )


def services(bench: Bench, sizes: list[int], outputs: list[str]) -> None:
    print("\n| Services | pods | output | CPU s | peak RSS MB | wall s | output MB | exit |")
    print("|---:|---:|---|---:|---:|---:|---:|---:|")
    for s in sizes:
        cluster = many_services(s)
        bench.load(_objects(cluster), _zones(cluster), None)
        with bench.knot:
            for output in outputs:
                # A long request timeout: paging 150,000 pods may be slow on the emulator.
                args = ["inspect", "-A", "-o", output, "--request-timeout", "900"]
                run = bench.run(args, f"svc-{s}-{output}")
                print(
                    f"| {s:,} | {s * PODS_PER_SERVICE:,} | {output} | {run.cpu:.2f} | "
                    f"{run.rss_mb:.0f} | {run.wall:.1f} | {run.out_bytes / 1e6:.1f} | {run.code} |",
                    flush=True,
                )


def serve(bench: Bench, args: argparse.Namespace) -> None:
    """Keep one cluster up for runs by hand."""
    if args.sts:
        scenario = Scenario(args.sts[0])
        bench.load(scenario.objects(), scenario.zones(), NAMESPACE)
    else:
        cluster = many_services(args.services[0])
        bench.load(_objects(cluster), _zones(cluster), None)
    # SIGTERM ends it as Ctrl-C does, so knotd is stopped too.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    with bench.knot:
        print(
            f"--kubeconfig {bench.kubeconfig} --nameserver 127.0.0.1:{bench.knot.port}", flush=True
        )
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


def _objects(cluster: Cluster) -> list[dict[str, Any]]:
    return _dns_objects() + [
        json.loads(doc) for doc in cluster.manifests().split("---\n") if doc.strip()
    ]


def _ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sts", type=_ints, default=[], help="StatefulSet sizes, e.g. 2000,20000")
    parser.add_argument("--services", type=_ints, default=[], help="Service counts for -A")
    parser.add_argument("--outputs", default="table,json", help="outputs for --services")
    parser.add_argument("--profile", type=Path, help="run under cProfile, keep .prof files here")
    parser.add_argument(
        "--serve",
        action="store_true",
        help="load the first --sts or --services cluster, print a kubeconfig and wait (Ctrl-C)",
    )
    args = parser.parse_args()
    if not args.sts and not args.services:
        args.sts, args.services = [2000, 5000, 10000, 20000], [1000, 10000]
    if args.profile is not None:
        args.profile.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp, ApiServer() as api:
        bench = Bench(api, Path(tmp), args.profile)
        if args.serve:
            serve(bench, args)
            return
        if args.sts:
            sts(bench, args.sts)
        if args.services:
            services(bench, args.services, args.outputs.split(","))


if __name__ == "__main__":
    main()
