"""Comparing and writing an inspect's output: ``python benchmarks/render_cost.py``.

``hsvc inspect`` compares the answers (``core.compare.compare``) and writes the
report (``-o json``, the summary table, ``-o yaml``) in its own process; this
times those steps alone, in process CPU time, on the very same report:

- ``capture sts N DIR`` (one StatefulSet of N pods, benchmarks/scenario.py) or
  ``capture services S DIR`` (``inspect -A`` on S Services of 15 pods each):
  loads the cluster into the emulated API server and knotd (as
  benchmarks/profile_scale.py does), runs ``hsvc inspect ... -o json`` in this
  process and keeps what comparing read (the plan, the observations) and the
  report in ``DIR/state.pickle``, the JSON it wrote in ``DIR/out.json``, and the
  summary table (and with ``--yaml`` the YAML) the code of the capture writes
  for that report, in ``DIR/out.table`` (``DIR/out.yaml``);
- ``bench DIR [REPS]``: compares and writes again REPS times, each output
  written to a file as the CLI writes it to stdout, and prints the fastest run of
  each step; it fails unless the rows and every output are the captured ones
  byte for byte (the code under test may change the cost, never the result);
- ``bench DIR REPS --profile FILE``: the last run under cProfile.

Run ``capture`` with the code before a change and ``bench`` with the code
after it, interleaved with the code before, in the same minute: the machine is
shared. ``bench DIR 0`` only loads (for ``valgrind --tool=callgrind``).
"""

from __future__ import annotations

import argparse
import cProfile
import filecmp
import gc
import io
import pickle
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

OUTPUTS = ("json", "table", "yaml")


def capture(kind: str, size: int, out: Path, *, yaml: bool) -> None:
    """Run one inspect and keep what comparing read, the report and its outputs."""
    import benchmarks.profile_scale as ps
    import hsvc.commands.inspect as inspect
    from benchmarks.scenario import NAMESPACE, ManyServices, Scenario
    from tests.integration.apiserver import ApiServer

    out.mkdir(parents=True, exist_ok=True)
    kept: dict[str, Any] = {}
    real_compare, real_run = inspect.compare, inspect.run_inspect

    def compare(items: Any, observations: Any) -> Any:
        kept["items"], kept["observations"] = items, observations
        return real_compare(items, observations)

    def run_inspect(*args: Any, **kwargs: Any) -> Any:
        kept["report"] = real_run(*args, **kwargs)
        return kept["report"]

    inspect.compare, inspect.run_inspect = compare, run_inspect  # type: ignore[assignment]
    if kind == "sts":
        scenario: Any = Scenario(size)
        scope, namespace = ["web", "-n", NAMESPACE], NAMESPACE
    else:
        scenario, scope, namespace = ManyServices(size), ["-A"], None
    with tempfile.TemporaryDirectory() as tmp, ApiServer() as api:
        bench = ps.Bench(api, Path(tmp), None)
        bench.load(scenario.objects(), scenario.zones(), namespace)
        with bench.knot, (out / "out.json").open("w", encoding="utf-8") as written:
            code = bench.inspect_here(scope, written)
    report = kept["report"]
    service = "web" if kind == "sts" else None
    for output in ("table", "yaml") if yaml else ("table",):
        with (out / f"out.{output}").open("w", encoding="utf-8") as f:
            _writer(output, report, service)(f)
    state = (kept["items"], kept["observations"], report, service)
    with (out / "state.pickle").open("wb") as f:
        pickle.dump(state, f, protocol=pickle.HIGHEST_PROTOCOL)
    print(f"exit {code}: {len(report.rows):,} rows kept in {out}")


def _writer(output: str, report: Any, service: str | None) -> Callable[[Any], None]:
    """Write ``report`` to a stream as ``hsvc inspect -o OUTPUT`` writes it to a file."""
    from hsvc.cli import _show_inspect
    from hsvc.commands.options import Options
    from hsvc.flags import Output, OutputOptions
    from hsvc.present import Invocation
    from hsvc.terminal import UNBOUNDED, Environment

    def write(stream: Any) -> None:
        env = Environment(stdout=stream, stderr=io.StringIO(), width=UNBOUNDED)
        run = Invocation(opts=Options(), out=OutputOptions(output=Output(output)), env=env)
        _show_inspect(run, report, service, only_failures=False, all_rows=False)

    return write


def bench(state: Path, reps: int, profile: Path | None) -> None:
    """Compare and write the captured report ``reps`` times; print the fastest of each."""
    from benchmarks.engine_cost import _fill_new_slots
    from hsvc.core.compare import compare

    gc.disable()
    with (state / "state.pickle").open("rb") as f:
        items, observations, report, service = pickle.load(f)
    snapshot = report.source.snapshot
    for obj in (*snapshot.pods, *snapshot.services, *(s.service for s in report.services)):
        _fill_new_slots(obj)
    gc.enable()
    gc.set_threshold(200_000, 30, 30)  # as hsvc.cli sets it
    gc.freeze()  # as inspect does once the objects and the plan are made
    if reps == 0:
        print("loaded")
        return
    outputs = [o for o in OUTPUTS if (state / f"out.{o}").exists()]
    times: dict[str, list[float]] = {step: [] for step in ("compare", *outputs)}
    same = True
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(reps):
            profiler = cProfile.Profile() if profile is not None and i == reps - 1 else None
            if profiler is not None:
                profiler.enable()
            started = time.process_time()
            rows = compare(items, observations)
            times["compare"].append(time.process_time() - started)
            same = same and rows == report.rows
            del rows
            for output in outputs:
                written = Path(tmp) / f"out.{output}"
                started = time.process_time()
                with written.open("w", encoding="utf-8") as f:
                    _writer(output, report, service)(f)
                times[output].append(time.process_time() - started)
                if not filecmp.cmp(written, state / f"out.{output}", shallow=False):
                    print(f"{output}: OUTPUT DIFFERS from the captured one")
                    same = False
            if profiler is not None:
                profiler.disable()
                profiler.dump_stats(str(profile))
    size = (state / "out.json").stat().st_size
    print(
        f"{len(report.rows):,} rows, {size / 1e6:.1f} MB of JSON: "
        + ", ".join(f"{step} {min(t):.3f} s" for step, t in times.items())
        + f" (first run: {', '.join(f'{t[0]:.3f}' for t in times.values())})"
        + f"; {'same rows and output as captured' if same else 'ROWS OR OUTPUT DIFFER'}"
    )
    if not same:
        raise SystemExit(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    cap = sub.add_parser("capture", help="run one inspect and keep its report and outputs")
    cap.add_argument("kind", choices=("sts", "services"))
    cap.add_argument("size", type=int, help="pods of the StatefulSet, or Services")
    cap.add_argument("dir", type=Path)
    cap.add_argument("--yaml", action="store_true", help="also keep the YAML (slow at scale)")
    run = sub.add_parser("bench", help="time comparing and writing the captured report")
    run.add_argument("dir", type=Path)
    run.add_argument("reps", type=int, nargs="?", default=3)
    run.add_argument("--profile", type=Path, help="the last run under cProfile, kept here")
    args = parser.parse_args()
    if args.command == "capture":
        capture(args.kind, args.size, args.dir, yaml=args.yaml)
    else:
        bench(args.dir, args.reps, args.profile)


if __name__ == "__main__":
    main()
