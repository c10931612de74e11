"""The answer engine's cost per question: ``python benchmarks/engine_cost.py``.

``hsvc inspect`` plans every question (the answer engine, ``commands.source.plan``)
and compares the answers (``core.compare.compare``) in its own process; this
times those two phases alone, in process CPU time, without the API reads, DNS
and JSON around them:

- ``capture N DIR``: loads benchmarks/scenario.py with N replicas into the
  emulated API server and knotd (as benchmarks/profile_scale.py does), runs
  ``hsvc inspect web -n bench -o json`` in this process and keeps what the two
  phases read and wrote (the source, the observations, the plan and the rows)
  in ``DIR/state.pickle``, and the JSON document in ``DIR/out.json``;
  ``capture N DIR --services``: the same for ``hsvc inspect -A -o json`` over N
  Services of 15 pods each (benchmarks/profile_scale.py's many-Service cluster);
- ``bench DIR [REPS]``: plans and compares that source again REPS times (the
  collector set as the CLI and inspect set it) and prints the fastest run per question, and
  whether the plan and the rows equal the captured ones (they must: the code
  under test may change the cost, never the result);
- ``bench DIR REPS --profile FILE``: the last run under cProfile;
- ``bench DIR REPS --plan-only``: plans only (the rows are not made again), for
  callgrind figures of planning alone.

Run ``capture`` with the code before a change and ``bench`` with the code
after it, interleaved with the code before, in the same minute: the machine is
shared. ``bench DIR 0`` only loads (for ``valgrind --tool=callgrind``: the
instructions of a run less those of loading are the two phases').
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import pickle
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def capture(n: int, out: Path, *, services: bool = False) -> None:
    """Run one inspect of N replicas (or ``-A`` over N Services); keep what planning read, wrote."""
    import benchmarks.profile_scale as ps
    import hsvc.commands.inspect as inspect
    from benchmarks.scenario import NAMESPACE, Scenario
    from tests.integration.apiserver import ApiServer

    out.mkdir(parents=True, exist_ok=True)
    kept: dict[str, Any] = {}
    real_plan, real_compare = inspect.plan, inspect.compare

    def plan(source: Any, service: Any, *, traces: bool = True) -> Any:
        kept["source"], kept["service"] = source, service
        cluster, items = real_plan(source, service, traces=traces)
        kept["items"] = items
        return cluster, items

    def compare(items: Any, observations: Any) -> Any:
        kept["observations"] = observations
        kept["rows"] = real_compare(items, observations)
        return kept["rows"]

    inspect.plan, inspect.compare = plan, compare  # type: ignore[assignment]
    written = io.StringIO()
    with tempfile.TemporaryDirectory() as tmp, ApiServer() as api:
        bench = ps.Bench(api, Path(tmp), None)
        if services:
            cluster = ps.many_services(n)
            bench.load(ps._objects(cluster), ps._zones(cluster), None)
            scope = ["-A"]
        else:
            scenario = Scenario(n)
            bench.load(scenario.objects(), scenario.zones(), NAMESPACE)
            scope = ["web", "-n", NAMESPACE]
        with bench.knot:
            code = bench.inspect_here(scope, written)
    (out / "out.json").write_text(written.getvalue())
    state = tuple(kept[k] for k in ("source", "service", "observations", "items", "rows"))
    with (out / "state.pickle").open("wb") as f:
        pickle.dump(state, f, protocol=pickle.HIGHEST_PROTOCOL)
    print(f"exit {code}: {len(kept['items']):,} questions kept in {out}")


def bench(state: Path, reps: int, profile: Path | None, *, plan_only: bool = False) -> None:
    """Plan and compare the captured source ``reps`` times; print the fastest per question."""
    from hsvc.commands.inspect import _compared, _planned

    gc.disable()
    with (state / "state.pickle").open("rb") as f:
        source, service, observations, items0, rows0 = pickle.load(f)
    for obj in (*source.snapshot.pods, *source.snapshot.services):
        _fill_new_slots(obj)
    gc.enable()
    gc.set_threshold(200_000, 30, 30)  # as hsvc.cli sets it
    gc.freeze()  # as inspect does once the objects are read
    if reps == 0:
        print("loaded")
        return
    plans, compares, same = [], [], True
    for i in range(reps):
        gc.collect()
        gc.freeze()
        profiler = cProfile.Profile() if profile is not None and i == reps - 1 else None
        if profiler is not None:
            profiler.enable()
        started = time.process_time()
        # As inspect plans and compares: the collector waiting, then what was made frozen.
        _cluster, items = _planned(source, service)
        planned = time.process_time()
        rows = rows0 if plan_only else _compared(items, observations)
        compared = time.process_time()
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(str(profile))
        plans.append(planned - started)
        compares.append(compared - planned)
        same = same and items == items0 and rows == rows0
        del items, rows, _cluster
    n = len(items0)
    print(
        f"{n:,} questions: plan {min(plans):.3f} s ({min(plans) / n * 1e6:.1f} us a question), "
        f"compare {min(compares):.3f} s ({min(compares) / n * 1e6:.1f} us), "
        f"{'same plan and rows as captured' if same else 'PLAN OR ROWS DIFFER'}"
    )
    if not same:
        raise SystemExit(1)


def _fill_new_slots(obj: object) -> None:
    """Objects pickled by older code lack slots added since: give them their defaults."""
    for name, field in getattr(type(obj), "__dataclass_fields__", {}).items():
        try:
            getattr(obj, name)
        except AttributeError:
            object.__setattr__(obj, name, field.default)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    cap = sub.add_parser("capture", help="run one inspect and keep its plan's inputs and outputs")
    cap.add_argument("replicas", type=int)
    cap.add_argument("dir", type=Path)
    cap.add_argument(
        "--services", action="store_true", help="inspect -A over N Services of 15 pods each"
    )
    run = sub.add_parser("bench", help="time planning and comparing the captured source")
    run.add_argument("dir", type=Path)
    run.add_argument("reps", type=int, nargs="?", default=3)
    run.add_argument("--profile", type=Path, help="the last run under cProfile, kept here")
    run.add_argument("--plan-only", action="store_true", help="plan only, compare nothing")
    args = parser.parse_args()
    if args.command == "capture":
        capture(args.replicas, args.dir, services=args.services)
    else:
        bench(args.dir, args.reps, args.profile, plan_only=args.plan_only)


if __name__ == "__main__":
    main()
