"""Benchmark hsvc end to end: ``python benchmarks/run.py`` (about a minute on 2 cores).

Starts the emulated API server (tests/integration/apiserver.py) and knotd on
127.0.0.1, loads a synthetic cluster (benchmarks/scenario.py) into both, and runs
the installed ``hsvc`` as a subprocess, as a user would:

- startup: ``hsvc --help`` and ``hsvc --version`` against ``kubectl --help``;
- ``hsvc inspect web -n bench`` at N = 3, 200 and 2,000 replicas (and the whole
  namespace at 2,000): wall time, peak RSS (``wait4``), API requests (the
  server's log), DNS questions (JSON rows x servers) per second of the resolve
  phase (hsvc's ``--debug`` timing line), and the row statuses;
- the manual baseline at N = 200: one ``kubectl get -o json`` plus one
  ``kdig``/``dig`` per expected name, one after the other;
- ``hsvc inspect -n bench --watch`` at N = 2,000: CPU per second while idle
  (two idle runs of different length), and what one change costs (a Service
  created while hsvc watches, knotd updated by RFC 2136 UPDATE): CPU and DNS
  questions beyond an idle run of the same length (``--watch-only`` runs just this).

Prints a Markdown table; the numbers in docs/reference/benchmarks.md come from it.
Needs knotd (Debian package ``knot``), kdig or dig, kubectl, and ``pip install -e '.[test]'``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

from benchmarks.scenario import NAMESPACE, STS, Scenario, _service  # noqa: E402
from tests.integration.api_fixtures import write_kubeconfig  # noqa: E402
from tests.integration.apiserver import ApiServer  # noqa: E402
from tests.integration.knot import KnotServer  # noqa: E402

RESOLVE_LINE = re.compile(r"asked (\d+) questions of (\d+) servers in (\d+) ms")
PHASES_LINE = re.compile(r"inspect phases: (.*)$", re.M)
WATCH_ROUND = re.compile(r"watch round \d+: (\d+) questions in (\d+) ms")


@dataclass
class Run:
    """One subprocess run."""

    code: int
    wall: float
    cpu: float  # user + system seconds of the process itself
    rss_mb: float
    out: str
    err: str


@dataclass
class InspectResult:
    """Medians over repeated ``hsvc inspect`` runs."""

    label: str
    wall: float
    cpu: float
    rss_mb: float
    api_requests: int
    api_lists: int
    questions: int
    resolve_s: float
    statuses: dict[str, int]
    phases: str
    walls: list[float] = field(default_factory=list)

    @property
    def qps(self) -> float:
        return self.questions / self.resolve_s if self.resolve_s else 0.0


def hsvc_command() -> list[str]:
    """The installed console script (not a pyenv shim), else ``python -m hsvc``."""
    script = Path(sysconfig.get_path("scripts")) / "hsvc"
    return [str(script)] if script.exists() else [sys.executable, "-m", "hsvc"]


# As on a user's machine: Python may cache bytecode. (This sandbox sets
# PYTHONDONTWRITEBYTECODE, which makes every start recompile hsvc: ~2x the startup.)
USER_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def measure(argv: list[str], env: dict[str, str] | None = None) -> Run:
    """Run a command; wall time and its own peak RSS (``wait4``, not all children)."""
    env = USER_ENV if env is None else {**USER_ENV, **env}
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=err, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Run(
            code=proc.returncode,
            wall=wall,
            cpu=usage.ru_utime + usage.ru_stime,
            rss_mb=usage.ru_maxrss / 1024,
            out=out.read().decode(),
            err=err.read().decode(),
        )


def median_wall(argv: list[str], repeat: int, env: dict[str, str] | None = None) -> float:
    measure(argv, env)  # warm the page cache
    return statistics.median(measure(argv, env).wall for _ in range(repeat))


# --- scenarios --------------------------------------------------------------------------


class Cluster:
    """The API server and knotd serving one scenario, and a kubeconfig for them."""

    def __init__(self, api: ApiServer, scenario: Scenario, workdir: Path) -> None:
        self.api = api
        self.scenario = scenario
        api.reset()
        api.add(*scenario.objects())
        self.knot = KnotServer(scenario.zones(), updatable=True)
        self.dir = workdir / f"n{scenario.replicas}"
        self.dir.mkdir(parents=True, exist_ok=True)
        # The scenario as files, for a look by hand (and for hsvc -f, offline).
        with (self.dir / "manifests.yaml").open("w", encoding="utf-8") as f:
            yaml.safe_dump_all(scenario.objects(), f, sort_keys=False)
        for origin, text in scenario.zones().items():
            (self.dir / f"{origin.rstrip('.')}.zone").write_text(text, encoding="utf-8")
        self.kubeconfig = write_kubeconfig(self.dir / "kubeconfig", api.url, namespace=NAMESPACE)

    def __enter__(self) -> Cluster:
        self.knot.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.knot.stop()

    @property
    def nameserver(self) -> str:
        return f"127.0.0.1:{self.knot.port}"

    def inspect(self, label: str, scope: list[str], repeat: int) -> InspectResult:
        argv = [
            *hsvc_command(),
            "inspect",
            *scope,
            "-n",
            NAMESPACE,
            "--kubeconfig",
            str(self.kubeconfig),
            "--nameserver",
            self.nameserver,
            "-o",
            "json",
            "--debug",
        ]
        runs: list[tuple[Run, int, int]] = []
        for _ in range(repeat):
            self.api.clear_log()
            run = measure(argv)
            if run.code not in (0, 1):
                raise SystemExit(f"hsvc inspect failed ({run.code}):\n{run.err[-2000:]}")
            log = self.api.log
            runs.append((run, len(log), sum(1 for r in log if r.is_list)))
        run, requests, lists = sorted(runs, key=lambda r: r[0].wall)[len(runs) // 2]
        doc = json.loads(run.out)
        match = RESOLVE_LINE.search(run.err)
        if match is None:
            raise SystemExit(f"no resolver timing in hsvc --debug output:\n{run.err[-2000:]}")
        questions = int(match[1]) * int(match[2])
        phases = PHASES_LINE.search(run.err)
        statuses = {k: v for k, v in doc["summary"].items() if v and k != "total"}
        return InspectResult(
            label=label,
            wall=run.wall,
            cpu=run.cpu,
            rss_mb=max(r.rss_mb for r, _, _ in runs),
            api_requests=requests,
            api_lists=lists,
            questions=questions,
            resolve_s=int(match[3]) / 1000,
            statuses=statuses,
            phases=phases[1] if phases else "",
            walls=[r.wall for r, _, _ in runs],
        )

    def watch(
        self, seconds: float, change_at: float | None = None, sweep: float = 120
    ) -> tuple[Run, dict]:
        """``inspect -n bench --watch --for SECONDS``; a Service created at ``change_at``."""
        import threading

        argv = [
            *hsvc_command(),
            "inspect",
            "-n",
            NAMESPACE,
            "--kubeconfig",
            str(self.kubeconfig),
            "--nameserver",
            self.nameserver,
            "-o",
            "json",
            "--for",
            str(seconds),
            "--sweep",
            str(sweep),
            "--debug",
        ]
        timer = None
        if change_at is not None:
            ip = "10.96.2.1"

            def change() -> None:
                self.api.add(_service(NAMESPACE, "api-new", ip, [("grpc", 7000)], {"app": "x"}))
                time.sleep(0.3)  # the replica catches up
                svc = f"api-new.{NAMESPACE}.svc"
                self.knot.update(
                    "cluster.local.",
                    add=[
                        (svc, 30, "A", ip),
                        (svc, 30, "SRV", f"0 100 7000 {svc}.cluster.local."),
                        (f"_grpc._tcp.{svc}", 30, "SRV", f"0 100 7000 {svc}.cluster.local."),
                    ],
                )
                self.knot.update(
                    "10.in-addr.arpa.", add=[("1.2.96", 30, "PTR", f"{svc}.cluster.local.")]
                )

            timer = threading.Timer(change_at, change)
            timer.start()
        run = measure(argv)
        if timer is not None:
            timer.join()
        if run.code not in (0, 1):
            raise SystemExit(f"hsvc inspect --watch failed ({run.code}):\n{run.err[-2000:]}")
        summary = json.loads(run.out.splitlines()[-1])
        summary["roundCosts"] = [(int(n), int(ms)) for n, ms in WATCH_ROUND.findall(run.err)]
        return run, summary

    def manual(self) -> tuple[float, int]:
        """``kubectl get -o json`` once, then one kdig/dig per name, sequentially."""
        env = dict(USER_ENV, KUBECACHEDIR=str(self.dir / "kube-cache"))
        get = [
            "kubectl",
            "--kubeconfig",
            str(self.kubeconfig),
            "get",
            "services,endpointslices,pods,statefulsets",
            "-n",
            NAMESPACE,
            "-o",
            "json",
        ]
        if measure(get, env).code != 0:  # untimed: fills kubectl's discovery cache
            raise SystemExit("kubectl get against the emulated API failed")
        dig = shutil.which("dig") or shutil.which("kdig")
        if dig is None:
            raise SystemExit("neither dig nor kdig found (Debian: knot-dnsutils)")
        names = self.scenario.names()
        started = time.perf_counter()
        subprocess.run(get, env=env, capture_output=True, check=True)
        for name, rtype in names:
            subprocess.run(
                [dig, f"@{self.knot.host}", "-p", str(self.knot.port), "+short", name, rtype],
                capture_output=True,
                check=True,
            )
        return time.perf_counter() - started, len(names)


# --- report -------------------------------------------------------------------------------


def version(argv: list[str]) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, check=False)
    except OSError:
        return "absent"
    lines = (done.stdout or done.stderr).splitlines()
    return lines[0].strip() if lines else "unknown"


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}"
    )


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs per inspect measurement")
    parser.add_argument("--keep", type=Path, help="keep manifests, zone files, kubeconfig here")
    parser.add_argument("--watch-only", action="store_true", help="only the --watch costs")
    parser.add_argument(
        "--monitor-only",
        action="store_true",
        help="only hsvc monitor and several contexts (benchmarks/monitor.py, ~5 minutes)",
    )
    args = parser.parse_args()
    if args.watch_only:
        watch_costs()
        return
    if args.monitor_only:
        from benchmarks.monitor import report

        print(f"machine: {machine()}\n")
        workdir = args.keep or Path(tempfile.mkdtemp(prefix="hsvc-bench-"))
        report(hsvc_command(), workdir)
        if args.keep is None:
            shutil.rmtree(workdir, ignore_errors=True)
        return
    started = time.perf_counter()
    hsvc = hsvc_command()
    print(f"machine: {machine()}")
    knotd = shutil.which("knotd", path=os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin"]))
    if knotd is None or shutil.which("kubectl") is None:
        raise SystemExit("needs knotd (Debian package knot) and kubectl on this machine")
    print(f"knotd: {version([knotd, '--version'])}; {version(['kubectl', 'version', '--client'])}")
    print(f"hsvc: {' '.join(hsvc)}\n")

    kubectl_help = median_wall(["kubectl", "--help"], 7)
    hsvc_help = median_wall([*hsvc, "--help"], 7)
    hsvc_version = median_wall([*hsvc, "--version"], 7)

    workdir = args.keep or Path(tempfile.mkdtemp(prefix="hsvc-bench-"))
    results: list[InspectResult] = []
    manual_s, manual_names = 0.0, 0
    with ApiServer() as api:
        for n, repeat in ((3, args.repeat), (200, args.repeat), (2000, args.repeat)):
            with Cluster(api, Scenario(n), workdir) as cluster:
                results.append(cluster.inspect(f"inspect {STS}, N={n}", [STS], repeat))
                if n == 200:
                    manual_s, manual_names = cluster.manual()
                if n == 2000:
                    results.append(
                        cluster.inspect(f"inspect -n {NAMESPACE}, N={n}, M=20", [], repeat)
                    )
    if args.keep is None:
        shutil.rmtree(workdir, ignore_errors=True)

    print(
        "| measurement | wall s | CPU s | peak RSS MB | API requests (LISTs) "
        "| DNS questions | questions/s | rows |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    for label, wall in (
        ("`kubectl --help`", kubectl_help),
        ("`hsvc --help`", hsvc_help),
        ("`hsvc --version`", hsvc_version),
    ):
        print(f"| {label} | {wall:.3f} | | | | | | |")
    for r in results:
        rows = ", ".join(f"{v} {k}" for k, v in sorted(r.statuses.items()))
        print(
            f"| `{r.label}` | {r.wall:.2f} | {r.cpu:.2f} | {r.rss_mb:.0f} "
            f"| {r.api_requests} ({r.api_lists}) | {r.questions} | {r.qps:,.0f} | {rows} |"
        )
    at200 = next(r for r in results if r.label.endswith("N=200"))
    print(
        f"| manual: `kubectl get -o json` + {manual_names} x kdig, N=200 | {manual_s:.2f} "
        f"| | | | {manual_names} | {manual_names / manual_s:,.0f} | |"
    )
    print()
    print("phases (ms, median run):")
    for r in results:
        print(f"  {r.label}: {r.phases}  (walls: {', '.join(f'{w:.2f}' for w in r.walls)})")
    print()
    small, big = results[0], results[2]
    lists_constant = len({r.api_lists for r in results[:3]}) == 1
    print("targets:")
    print(
        f"  hsvc --help <= 2x kubectl --help: {hsvc_help:.3f} vs {2 * kubectl_help:.3f} "
        f"-> {verdict(hsvc_help <= 2 * kubectl_help)}"
    )
    print(f"  3-pod inspect <= 0.6 s: {small.wall:.2f} -> {verdict(small.wall <= 0.6)}")
    print(f"  N=2000 inspect <= 2.5 s: {big.wall:.2f} -> {verdict(big.wall <= 2.5)}")
    print(f"  N=2000 >= 5,000 q/s: {big.qps:,.0f} -> {verdict(big.qps >= 5000)}")
    print(f"  N=2000 <= 250 MB RSS: {big.rss_mb:.0f} -> {verdict(big.rss_mb <= 250)}")
    lists = [r.api_lists for r in results[:3]]
    print(f"  LIST calls constant in N: {lists} -> {verdict(lists_constant)}")
    ratio = manual_s / at200.wall
    print(f"  >= 10x the manual baseline at N=200: {ratio:.1f}x -> {verdict(ratio >= 10)}")
    print(f"\nbenchmark took {time.perf_counter() - started:.0f} s")


def watch_costs() -> None:
    """Idle CPU and the cost of one change, ``inspect -n bench --watch`` at N = 2,000."""
    print("inspect -n bench --watch, N=2000, M=20 (6,085 questions a sweep; sweep 120 s)")
    with ApiServer() as api, Cluster(api, Scenario(2000), Path(tempfile.mkdtemp())) as cluster:
        api.bookmark_interval = 60.0  # about what a real apiserver sends
        short, _ = cluster.watch(10)
        long, idle = cluster.watch(40)
        swept, _ = cluster.watch(40, sweep=10)  # three more full sweeps than `long`
        api.clear_log()
        changed, summary = cluster.watch(40, change_at=20)
        watches = sum(1 for r in api.log if r.is_watch)
        lists = sum(1 for r in api.log if r.is_list)
    idle_cpu = (long.cpu - short.cpu) / 30
    print(f"  start (LIST, plan, first sweep) + 10 s: {short.cpu:.2f} CPU s, {short.rss_mb:.0f} MB")
    print(
        f"  idle: {idle_cpu * 100:.2f} % of a core ({long.cpu:.2f} - {short.cpu:.2f} CPU s "
        f"over 30 s); {idle['questionsAsked']} questions in 40 s ({idle['rounds']} rounds)"
    )
    after = summary["roundCosts"][1:]  # the first round is the start's full sweep
    extra_cpu = changed.cpu - long.cpu
    print(
        f"  one change (Service created): {extra_cpu:.2f} CPU s more than idle; rounds after it "
        f"(questions incl. the SOA, ms): {after}; idle rounds: {idle['roundCosts'][1:]}; "
        f"measured convergence: {[m['latency'] for m in summary['measurements']]}"
    )
    sweep_cpu = (swept.cpu - long.cpu) / 3
    with_sweeps = idle_cpu + sweep_cpu / 120
    print(
        f"  one full sweep: {sweep_cpu:.2f} CPU s; idle with the default sweep every 120 s: "
        f"{with_sweeps * 100:.2f} % of a core"
    )
    print(f"  API requests while watching 40 s with the change: {lists} LISTs, {watches} WATCHes")
    print(f"  target idle < 2 % of a core: {verdict(with_sweeps < 0.02)}")


if __name__ == "__main__":
    main()
