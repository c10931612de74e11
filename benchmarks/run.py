"""Benchmark hsvc end to end against the goals of docs/reference/benchmarks.md.

``python benchmarks/run.py`` (about five minutes on 2 cores) starts the emulated
API server (tests/integration/apiserver.py) and knotd on 127.0.0.1, loads
generated clusters (benchmarks/scenario.py) into both, runs the installed
``hsvc`` as a subprocess, as a user would, and prints every goal with its figure
and ``met`` or ``MISSED``:

1. small inspect (a 3-pod StatefulSet) <= 3x one ``kubectl get`` of the same
   kinds, <= 0.8 G instructions (callgrind); ``hsvc --help`` <= 1.5x
   ``kubectl --help``;
2. per pod <= 150 us CPU and <= 15 KB peak RSS at N = 20,000, linear in N;
3. ``inspect -A`` at 1,000 Services <= 5 s; with ``--envelope``, 10,000
   Services / 150,000 pods <= 90 s and <= 1.5 GB, table and JSON;
4. hsvc's resolver >= 50 % of a raw-socket loop against knotd at the same
   concurrency, UDP and TCP pipelined (benchmarks/dnsrate.py);
5. at N = 200, hsvc <= 1x ``kubectl get -o json`` plus one ``dig -f`` batch of
   the same names;
6. ``inspect -A`` at 5,000 Services with 100 ms added to every API request
   completes with default flags.

Ratios come from runs interleaved with their comparison (a, b, a, b, ...: the
median of the pairs' ratios), so load from others on the machine weighs on
both alike. CPU and peak RSS are the child's alone: every command runs under
GNU time (``/usr/bin/time -f "%M %U %S"``), which forks it from its own small
process (``os.wait4`` from this large parent reported the parent's peak for
small children). Then the profile of where the time goes: hsvc's ``--debug``
phase line and a cProfile top list at N = 20,000 (and at 10,000 Services with
``--envelope``).

``--sweep`` also runs N = 200 ... 20,000 and fits the per-pod slope (least
squares); ``--watch-only`` and ``--monitor-only`` run only the watch and
``hsvc monitor`` costs. Needs knotd (Debian ``knot``), dig (``bind9-dnsutils``),
kubectl, GNU time, valgrind, and ``pip install -e '.[test]'``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import pstats
import re
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

import tests.integration.knot as knot_module  # noqa: E402
from benchmarks.scenario import NAMESPACE, STS, ManyServices, Scenario, _service  # noqa: E402
from tests.integration.api_fixtures import write_kubeconfig  # noqa: E402
from tests.integration.apiserver import ApiServer  # noqa: E402
from tests.integration.knot import KnotServer  # noqa: E402

RESOLVE_LINE = re.compile(r"asked (\d+) questions of (\d+) servers in (\d+) ms")
PHASES_LINE = re.compile(r"inspect phases: (.*)$", re.M)
WATCH_ROUND = re.compile(r"watch round \d+: (\d+) questions in (\d+) ms")
COLLECTED = re.compile(r"Collected : (\d+)")
GNU_TIME = "/usr/bin/time"
knot_module.START_TIMEOUT = 300.0  # a zone of 600,000 records takes a while to load


@dataclass
class Run:
    """One subprocess run."""

    code: int
    wall: float
    cpu: float  # user + system seconds of the process itself
    rss_mb: float  # its own peak RSS
    out: str
    err: str
    out_bytes: int = 0


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
    cpus: list[float] = field(default_factory=list)
    out_mb: float = 0.0

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


def measure(argv: list[str], env: dict[str, str] | None = None, *, keep_out: bool = True) -> Run:
    """Run a command under GNU time: wall time, and its own CPU time and peak RSS.

    ``keep_out`` False counts stdout's bytes without keeping them (JSON of 100 MB).
    """
    env = USER_ENV if env is None else {**USER_ENV, **env}
    with (
        tempfile.NamedTemporaryFile() as stats,
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
    ):
        started = time.perf_counter()
        code = subprocess.call(
            [GNU_TIME, "-o", stats.name, "-f", "%M %U %S", *argv], stdout=out, stderr=err, env=env
        )
        wall = time.perf_counter() - started
        fields = Path(stats.name).read_text().split()
        # A signal's exit adds "Command terminated by signal N" before the numbers.
        rss_kb, user, system = fields[-3:]
        size = out.seek(0, os.SEEK_END)
        out.seek(0)
        err.seek(0)
        return Run(
            code=code,
            wall=wall,
            cpu=float(user) + float(system),
            rss_mb=int(rss_kb) / 1024,
            out=out.read().decode() if keep_out else "",
            err=err.read().decode(errors="replace"),
            out_bytes=size,
        )


def side_by_side(
    a: Callable[[], float], b: Callable[[], float], repeat: int
) -> tuple[float, float, float]:
    """Median of a, median of b, and the median of the pairs' ratios a/b (a, b, a, b, ...)."""
    a(), b()  # warm the page cache and kubectl's discovery cache
    pairs = [(a(), b()) for _ in range(repeat)]
    return (
        statistics.median(x for x, _ in pairs),
        statistics.median(y for _, y in pairs),
        statistics.median(x / y for x, y in pairs),
    )


def instructions(argv: list[str], env: dict[str, str] | None = None) -> int:
    """CPU instructions of one run (callgrind: does not drift with the machine's load)."""
    with tempfile.TemporaryDirectory() as tmp:
        done = subprocess.run(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={tmp}/cg.out", *argv],
            capture_output=True,
            text=True,
            env=USER_ENV if env is None else {**USER_ENV, **env},
            check=False,
        )
    match = COLLECTED.search(done.stderr)
    if match is None:
        raise SystemExit(f"no instruction count from callgrind:\n{done.stderr[-2000:]}")
    return int(match[1])


def profile(argv: list[str], top: int = 15) -> str:
    """hsvc ARGV under cProfile: the top functions by own time, as text."""
    with tempfile.TemporaryDirectory() as tmp:
        prof = f"{tmp}/hsvc.prof"
        subprocess.run(
            [sys.executable, "-m", "cProfile", "-o", prof, "-m", "hsvc", *argv],
            capture_output=True,
            env=USER_ENV,
            check=False,
        )
        import io

        text = io.StringIO()
        stats = pstats.Stats(prof, stream=text)
        stats.sort_stats("tottime").print_stats(top)
    lines = text.getvalue().splitlines()
    start = next((i for i, line in enumerate(lines) if "ncalls" in line), 0)
    return "\n".join(line.replace(str(ROOT) + "/", "") for line in lines[start:] if line.strip())


# --- scenarios --------------------------------------------------------------------------


class Cluster:
    """The API server and knotd serving one scenario, and a kubeconfig for them."""

    def __init__(
        self, api: ApiServer, scenario: Scenario, workdir: Path, *, keep_files: bool = False
    ) -> None:
        self.api = api
        self.scenario = scenario
        api.reset()
        api.add(*scenario.objects(), owned=True)
        self.knot = KnotServer(scenario.zones(), updatable=True)
        self.dir = workdir / f"n{scenario.replicas}"
        self.dir.mkdir(parents=True, exist_ok=True)
        if keep_files:  # the scenario as files, for a look by hand (and for hsvc -f, offline)
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

    def argv(self, scope: list[str], *extra: str) -> list[str]:
        return [
            *hsvc_command(),
            "inspect",
            *scope,
            "--kubeconfig",
            str(self.kubeconfig),
            "--nameserver",
            self.nameserver,
            *extra,
        ]

    def inspect(self, label: str, scope: list[str], repeat: int) -> InspectResult:
        return inspect_runs(self.api, label, self.argv([*scope, "-n", NAMESPACE]), repeat)

    def kubectl_get(self) -> list[str]:
        """One ``kubectl get`` of the kinds hsvc reads, as JSON (what goal 1 compares with)."""
        return [
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

    @property
    def kubectl_env(self) -> dict[str, str]:
        return {"KUBECACHEDIR": str(self.dir / "kube-cache")}

    def manual(self) -> list[str]:
        """The best manual way: ``kubectl get -o json``, then ONE ``dig -f`` over every name."""
        names = self.dir / "names.txt"
        names.write_text("".join(f"{n} {t}\n" for n, t in self.scenario.names()))
        dig = shutil.which("dig")
        if dig is None:
            raise SystemExit("dig not found (Debian: bind9-dnsutils)")
        get = " ".join(self.kubectl_get())
        batch = f"{dig} @{self.knot.host} -p {self.knot.port} +short -f {names}"
        return ["sh", "-c", f"{get} >/dev/null && {batch} >/dev/null"]

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


class ManyCluster:
    """A ManyServices cluster in the API server and knotd (``inspect -A``)."""

    def __init__(self, api: ApiServer, scenario: ManyServices, workdir: Path) -> None:
        started = time.perf_counter()
        self.api = api
        self.scenario = scenario
        api.reset()
        api.add(*scenario.objects(), owned=True)
        self.knot = KnotServer(scenario.zones())
        self.dir = workdir / f"s{scenario.services}"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.kubeconfig = write_kubeconfig(self.dir / "kubeconfig", api.url, namespace=None)
        self.built = time.perf_counter() - started

    def __enter__(self) -> ManyCluster:
        started = time.perf_counter()
        self.knot.start()
        self.loaded = time.perf_counter() - started
        return self

    def __exit__(self, *exc: object) -> None:
        self.knot.stop()

    def argv(self, *extra: str) -> list[str]:
        return [
            *hsvc_command(),
            "inspect",
            "-A",
            "--kubeconfig",
            str(self.kubeconfig),
            "--nameserver",
            f"127.0.0.1:{self.knot.port}",
            *extra,
        ]


def inspect_runs(api: ApiServer, label: str, argv: list[str], repeat: int) -> InspectResult:
    """``argv`` (an ``inspect``) ``repeat`` times with ``-o json --debug``: the median run."""
    argv = [*argv, "-o", "json", "--debug"]
    runs: list[tuple[Run, int, int]] = []
    for _ in range(repeat):
        api.clear_log()
        run = measure(argv)
        if run.code not in (0, 1):
            raise SystemExit(f"hsvc inspect failed ({run.code}):\n{run.err[-2000:]}")
        log = api.log
        runs.append((run, len(log), sum(1 for r in log if r.is_list)))
    run, requests, lists = sorted(runs, key=lambda r: r[0].cpu)[len(runs) // 2]
    doc = json.loads(run.out)
    match = RESOLVE_LINE.search(run.err)
    if match is None:
        raise SystemExit(f"no resolver timing in hsvc --debug output:\n{run.err[-2000:]}")
    phases = PHASES_LINE.search(run.err)
    return InspectResult(
        label=label,
        wall=run.wall,
        cpu=run.cpu,
        rss_mb=statistics.median(r.rss_mb for r, _, _ in runs),
        api_requests=requests,
        api_lists=lists,
        questions=int(match[1]) * int(match[2]),
        resolve_s=int(match[3]) / 1000,
        statuses={k: v for k, v in doc["summary"].items() if v and k != "total"},
        phases=phases[1] if phases else "",
        walls=[r.wall for r, _, _ in runs],
        cpus=[r.cpu for r, _, _ in runs],
        out_mb=run.out_bytes / 1e6,
    )


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


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.1f}, {five:.1f}, {fifteen:.1f}"


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def fit(xs: list[float], ys: list[float]) -> tuple[float, float]:
    """Least squares ``y = a + b x``: ``(a, b)``."""
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx if sxx else 0.0
    return my - b * mx, b


@dataclass
class Goal:
    number: int
    text: str
    figure: str
    ok: bool | None  # None: not measured in this run


class Report:
    """What a run found: goals, a table of runs, the profiles."""

    def __init__(self) -> None:
        self.goals: list[Goal] = []
        self.rows: list[str] = []
        self.notes: list[str] = []
        self.profiles: list[tuple[str, str, str]] = []

    def goal(self, number: int, text: str, figure: str, ok: bool | None) -> None:
        self.goals.append(Goal(number, text, figure, ok))
        mark = "not run" if ok is None else verdict(ok)
        print(f"  goal {number}: {text}: {figure} -> {mark}", flush=True)

    def inspect_row(self, r: InspectResult) -> None:
        rows = ", ".join(f"{v} {k}" for k, v in sorted(r.statuses.items()))
        self.rows.append(
            f"| `{r.label}` | {r.wall:.2f} | {r.cpu:.2f} | {r.rss_mb:.0f} "
            f"| {r.api_requests} ({r.api_lists}) | {r.questions:,} | {r.qps:,.0f} "
            f"| {r.out_mb:.1f} | {rows} |"
        )
        self.notes.append(f"{r.label}: {r.phases} (CPU s: {', '.join(f'{c:.2f}' for c in r.cpus)})")

    def print(self) -> None:
        print("\n## Goals\n")
        print("| goal | figure | result |")
        print("|---|---|---|")
        for g in self.goals:
            mark = "not run" if g.ok is None else ("met" if g.ok else "**missed**")
            print(f"| {g.number}. {g.text} | {g.figure} | {mark} |")
        print("\n## Runs (`-o json --debug`, median of the runs by CPU)\n")
        print(
            "| run | wall s | CPU s | peak RSS MB | API requests (LISTs) | DNS questions "
            "| questions/s | JSON MB | rows |"
        )
        print("|---|---:|---:|---:|---:|---:|---:|---:|---|")
        for row in self.rows:
            print(row)
        print("\nphases (hsvc --debug, ms):")
        for note in self.notes:
            print(f"  {note}")
        for title, phases, text in self.profiles:
            print(f"\n## Where the time goes: {title}\n\n{phases}\n\n```\n{text}\n```")


# --- goals --------------------------------------------------------------------------------


def goal_fixed_cost(report: Report, cluster: Cluster, repeat: int) -> None:
    """Goal 1: small inspect against one kubectl get; instructions; --help against kubectl's."""
    hsvc = cluster.argv([STS, "-n", NAMESPACE], "-o", "json")
    get = cluster.kubectl_get()
    env = cluster.kubectl_env

    def run_hsvc() -> float:
        run = measure(hsvc)
        if run.code not in (0, 1):
            raise SystemExit(f"hsvc inspect failed ({run.code}):\n{run.err[-2000:]}")
        return run.wall

    def run_get() -> float:
        run = measure(get, env)
        if run.code != 0:
            raise SystemExit(f"kubectl get failed:\n{run.err[-2000:]}")
        return run.wall

    h, k, ratio = side_by_side(run_hsvc, run_get, repeat)
    count = instructions(hsvc)
    help_h, help_k, help_ratio = side_by_side(
        lambda: measure([*hsvc_command(), "--help"]).wall,
        lambda: measure(["kubectl", "--help"]).wall,
        repeat + 2,
    )
    report.goal(
        1,
        "small inspect <= 3x one `kubectl get` of the same kinds",
        f"{ratio:.1f}x ({h:.3f} s against {k:.3f} s)",
        ratio <= 3,
    )
    report.goal(1, "small inspect <= 0.8 G instructions", f"{count / 1e9:.2f} G", count <= 0.8e9)
    report.goal(
        1,
        "`hsvc --help` <= 1.5x `kubectl --help`",
        f"{help_ratio:.2f}x ({help_h:.3f} s against {help_k:.3f} s)",
        help_ratio <= 1.5,
    )


def goal_manual(report: Report, cluster: Cluster, repeat: int) -> None:
    """Goal 5: N = 200 against kubectl get + one dig -f batch of the same names."""
    hsvc = cluster.argv([STS, "-n", NAMESPACE], "-o", "json")
    manual = cluster.manual()
    env = cluster.kubectl_env
    h, m, ratio = side_by_side(
        lambda: measure(hsvc).wall, lambda: measure(manual, env).wall, repeat
    )
    names = len(cluster.scenario.names())
    report.goal(
        5,
        "N=200: hsvc <= 1x `kubectl get -o json` + one `dig -f` batch",
        f"{ratio:.2f}x ({h:.2f} s against {m:.2f} s for {names} names)",
        ratio <= 1,
    )


def per_pod(report: Report, small: InspectResult, big: InspectResult, n: int) -> None:
    """Goal 2 from two runs: the cost of one more pod between N=3 and N=``n``."""
    pods = n - 3
    cpu_us = (big.cpu - small.cpu) / pods * 1e6
    rss_kb = (big.rss_mb - small.rss_mb) * 1024 / pods
    report.goal(2, f"CPU per pod <= 150 us at N={n:,}", f"{cpu_us:.0f} us", cpu_us <= 150)
    report.goal(2, f"peak RSS per pod <= 15 KB at N={n:,}", f"{rss_kb:.1f} KB", rss_kb <= 15)


def goal_resolver(report: Report, cluster: Cluster, repeat: int, concurrency: int = 64) -> None:
    """Goal 4: hsvc's resolver against a raw-socket loop, UDP and TCP pipelined."""
    names = [
        (n, t)
        for n, t in cluster.scenario.names()
        if t != "SRV"  # the headless Service's SRV answers are too large for one message
    ]
    path = cluster.dir / "rate-names.txt"
    path.write_text("".join(f"{n} {t}\n" for n, t in names))

    def rate(mode: str) -> float:
        argv = [
            sys.executable,
            "-m",
            "benchmarks.dnsrate",
            mode,
            cluster.knot.host,
            str(cluster.knot.port),
            str(path),
            str(concurrency),
            "3",
        ]
        done = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT, env=USER_ENV)
        if done.returncode != 0:
            raise SystemExit(f"dnsrate {mode} failed:\n{done.stderr[-2000:]}")
        return float(done.stdout.split()[-1])

    for proto in ("udp", "tcp"):
        h, raw, ratio = side_by_side(
            lambda p=proto: rate(f"hsvc-{p}"), lambda p=proto: rate(f"raw-{p}"), repeat
        )
        report.goal(
            4,
            f"resolver >= 50% of knotd's raw rate, {proto.upper()}"
            + (" pipelined" if proto == "tcp" else ""),
            f"{ratio * 100:.0f}% ({h:,.0f} against {raw:,.0f} questions/s, "
            f"{len(names) * 3:,} questions, concurrency {concurrency})",
            ratio >= 0.5,
        )


def goal_many(
    report: Report, api: ApiServer, workdir: Path, services: int, limit_s: float, repeat: int
) -> InspectResult:
    """Goal 3 (part): ``inspect -A`` at ``services`` Services within ``limit_s``."""
    with ManyCluster(api, ManyServices(services), workdir) as cluster:
        r = inspect_runs(
            api,
            f"inspect -A, {services:,} Services / {services * 15:,} pods",
            cluster.argv(),
            repeat,
        )
    report.inspect_row(r)
    report.goal(
        3,
        f"`inspect -A` at {services:,} Services <= {limit_s:g} s",
        f"{r.wall:.1f} s",
        r.wall <= limit_s,
    )
    return r


def goal_envelope(report: Report, api: ApiServer, workdir: Path) -> None:
    """Goal 3: 10,000 Services / 150,000 pods, table and JSON; and its profile."""
    with ManyCluster(api, ManyServices(10_000), workdir) as cluster:
        print(
            f"  envelope: built in {cluster.built:.0f} s, knotd loaded in {cluster.loaded:.0f} s",
            flush=True,
        )
        for output in ("table", "json"):
            run = measure(cluster.argv("-o", output, "--debug"), keep_out=False)
            done = run.code in (0, 1)
            phases = PHASES_LINE.search(run.err)
            report.notes.append(
                f"envelope -o {output}: {phases[1] if phases else ''} "
                f"(exit {run.code}, {run.out_bytes / 1e6:.0f} MB out)"
            )
            report.goal(
                3,
                f"10,000 Services / 150,000 pods, `-o {output}`: <= 90 s and <= 1.5 GB",
                f"{run.wall:.0f} s wall, {run.cpu:.0f} s CPU, {run.rss_mb:,.0f} MB"
                + ("" if done else f" (exit {run.code}: {run.err.strip().splitlines()[-1:]})"),
                done and run.wall <= 90 and run.rss_mb <= 1536,
            )
        run = measure(cluster.argv("-o", "json", "--debug"), keep_out=False)
        phases = PHASES_LINE.search(run.err)
        argv = cluster.argv("-o", "json")[len(hsvc_command()) :]
        report.profiles.append(
            (
                "`inspect -A` at 10,000 Services / 150,000 pods, JSON",
                f"phases: {phases[1] if phases else ''}",
                profile(argv),
            )
        )


def goal_remote(report: Report, api: ApiServer, workdir: Path, services: int = 5000) -> None:
    """Goal 6: ``inspect -A`` at 5,000 Services with 100 ms added to every API request."""
    with ManyCluster(api, ManyServices(services), workdir) as cluster:
        api.latency = 0.1
        api.clear_log()
        run = measure(cluster.argv("-o", "json"), keep_out=False)
        pages = len(api.log)
        api.latency = 0.0
    done = run.code in (0, 1)
    why = "" if done else f"; exit {run.code}: {run.err.strip().splitlines()[-1:]}"
    report.goal(
        6,
        f"`inspect -A` at {services:,} Services, 100 ms a request, default flags, completes",
        f"{run.wall:.1f} s, {pages} requests (exit {run.code}){why}",
        done,
    )


def sweep(report: Report, api: ApiServer, workdir: Path, sizes: list[int]) -> None:
    """CPU and peak RSS of ``inspect web`` over N; the least-squares slope per pod."""
    xs: list[float] = []
    cpus: list[float] = []
    rsss: list[float] = []
    for n in sizes:
        with Cluster(api, Scenario(n), workdir) as cluster:
            r = cluster.inspect(f"sweep: inspect {STS}, N={n}", [STS], 1)
        report.inspect_row(r)
        xs.append(n)
        cpus.append(r.cpu)
        rsss.append(r.rss_mb)
        print(f"  sweep N={n:,}: {r.cpu:.2f} CPU s, {r.rss_mb:.0f} MB", flush=True)
    a, b = fit(xs, cpus)
    ra, rb = fit(xs, rsss)
    # Linear: the cost of one more pod (between neighbouring N) does not grow with N.
    steps = [(cpus[i + 1] - cpus[i]) / (xs[i + 1] - xs[i]) for i in range(len(xs) - 1)]
    growth = steps[-1] / steps[0] if steps[0] > 0 else float("inf")
    report.goal(
        2,
        "cost linear in N (least squares over " + ", ".join(f"{n:,}" for n in sizes) + ")",
        f"{b * 1e6:.0f} us CPU per pod (intercept {a:.2f} s), {rb * 1024:.1f} KB RSS per pod "
        f"(intercept {ra:.0f} MB); us per pod between neighbours: "
        + ", ".join(f"{step * 1e6:.0f}" for step in steps)
        + f" (last/first {growth:.2f}, linear if <= 1.25)",
        growth <= 1.25,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="pairs per side-by-side ratio")
    parser.add_argument("--keep", type=Path, help="keep manifests, zone files, kubeconfig here")
    parser.add_argument(
        "--envelope",
        action="store_true",
        help="also 10,000 Services / 150,000 pods, table and JSON, with its profile (~5 min)",
    )
    parser.add_argument(
        "--sweep",
        action="store_true",
        help="also N = 200, 2,000, 5,000, 10,000, 20,000: the per-pod slope (~3 min)",
    )
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
        from benchmarks.monitor import report as monitor_report

        print(f"machine: {machine()}\n")
        workdir = args.keep or Path(tempfile.mkdtemp(prefix="hsvc-bench-"))
        monitor_report(hsvc_command(), workdir)
        if args.keep is None:
            shutil.rmtree(workdir, ignore_errors=True)
        return
    started = time.perf_counter()
    hsvc = hsvc_command()
    print(f"machine: {machine()}; {load()} at the start")
    knotd = shutil.which("knotd", path=os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin"]))
    for tool in ("kubectl", "dig", "valgrind", GNU_TIME):
        if shutil.which(tool) is None:
            raise SystemExit(f"needs {tool} on this machine (see the module docstring)")
    if knotd is None:
        raise SystemExit("needs knotd (Debian package knot)")
    print(f"knotd: {version([knotd, '--version'])}; {version(['kubectl', 'version', '--client'])}")
    print(f"hsvc: {' '.join(hsvc)}\n")
    print("goals, as measured:")

    workdir = args.keep or Path(tempfile.mkdtemp(prefix="hsvc-bench-"))
    report = Report()
    keep = args.keep is not None
    with ApiServer() as api:
        with Cluster(api, Scenario(3), workdir, keep_files=keep) as cluster:
            small = cluster.inspect(f"inspect {STS}, N=3", [STS], args.repeat)
            report.inspect_row(small)
            goal_fixed_cost(report, cluster, args.repeat)
        with Cluster(api, Scenario(200), workdir, keep_files=keep) as cluster:
            report.inspect_row(cluster.inspect(f"inspect {STS}, N=200", [STS], args.repeat))
            goal_manual(report, cluster, args.repeat)
        with Cluster(api, Scenario(2000), workdir, keep_files=keep) as cluster:
            report.inspect_row(cluster.inspect(f"inspect {STS}, N=2000", [STS], 3))
            report.inspect_row(cluster.inspect(f"inspect -n {NAMESPACE}, N=2000, M=20", [], 3))
            goal_resolver(report, cluster, 3)
        n = 20_000
        with Cluster(api, Scenario(n), workdir) as cluster:
            big = cluster.inspect(f"inspect {STS}, N={n}", [STS], 2)
            report.inspect_row(big)
            per_pod(report, small, big, n)
            argv = cluster.argv([STS, "-n", NAMESPACE], "-o", "json")[len(hsvc) :]
            report.profiles.append(
                (f"`inspect {STS}` at N = {n:,}, JSON", f"phases: {big.phases}", profile(argv))
            )
        if args.sweep:
            sweep(report, api, workdir, [200, 2000, 5000, 10_000, 20_000])
        else:
            report.goal(2, "cost linear in N", "see --sweep", None)
        goal_many(report, api, workdir, 1000, 5.0, 3)
        if args.envelope:
            goal_envelope(report, api, workdir)
        else:
            report.goal(
                3, "10,000 Services / 150,000 pods <= 90 s, <= 1.5 GB", "see --envelope", None
            )
        goal_remote(report, api, workdir)
    if args.keep is None:
        shutil.rmtree(workdir, ignore_errors=True)
    report.print()
    print(f"\n{load()} at the end; the benchmark took {time.perf_counter() - started:.0f} s")


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
