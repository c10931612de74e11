"""The source phase's cost: ``python benchmarks/source_cost.py [--sts N | --services S]``.

``hsvc inspect`` starts by reading the cluster (``commands.source.load_source``:
the kubeconfig, the LIST pages over HTTP, their JSON, the Pods, EndpointSlices
and the rest converted into hsvc's objects, the DNS server's own reads). This
times that phase alone, in process CPU time (every thread), without the plan,
DNS and output after it:

- loads benchmarks/scenario.py with N replicas (``--sts N``, ``inspect web -n
  bench``), or S Services of 15 pods each (``--services S``, ``inspect -A``), into
  the emulated API server, as benchmarks/profile_scale.py does;
- runs ``load_source`` in a fresh process per run (``--reps``, the collector set
  as the CLI sets it, hsvc's modules imported first as a real run has them), and
  prints the CPU seconds of each run and their median;
- ``--against DIR``: the same runs with hsvc imported from DIR (another checkout,
  e.g. ``git archive COMMIT | tar -x -C DIR``), interleaved with this one's, so
  that the two are measured in the same minute on a shared machine.

knotd is not needed: the phase asks no DNS.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

USER_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}

# One run, in a child: import hsvc from ROOT, then time load_source.
CHILD = """
import gc, sys, time
root, kubeconfig, scope = sys.argv[1:4]
sys.path.insert(0, root)
gc.set_threshold(200_000, 30, 30)  # as hsvc.cli sets it
import hsvc.cli  # the modules a real run has imported by then
from contextlib import ExitStack
from hsvc.commands.options import Options
from hsvc.commands.source import Api, load_source
assert hsvc.cli.__file__.startswith(root), hsvc.cli.__file__
every = scope == "-A"
opts = Options(kubeconfig=kubeconfig, namespace=None if every else "bench",
               all_namespaces=every, request_timeout=900)
started = time.process_time()
with ExitStack() as stack:
    source = load_source(opts, Api(opts, stack), service=None if every else "web")
print(time.process_time() - started, len(source.snapshot.pods))
"""


def run_once(root: Path, kubeconfig: Path, scope: str) -> tuple[float, int]:
    """CPU seconds of one ``load_source`` in a fresh process, and the pods it read."""
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(root), str(kubeconfig), scope],
        env=USER_ENV,  # bytecode written and reused, as a user's installed hsvc has it
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    return float(out[0]), int(out[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--sts", type=int, default=20_000, help="StatefulSet replicas")
    group.add_argument("--services", type=int, help="Services of 15 pods each, inspect -A")
    parser.add_argument("--reps", type=int, default=5, help="runs per checkout")
    parser.add_argument("--against", type=Path, help="another checkout, interleaved")
    args = parser.parse_args()

    import benchmarks.profile_scale as ps
    from benchmarks.scenario import NAMESPACE, Scenario
    from tests.integration.api_fixtures import write_kubeconfig
    from tests.integration.apiserver import ApiServer

    roots = {"this": ROOT} | ({"against": args.against.resolve()} if args.against else {})
    with tempfile.TemporaryDirectory() as tmp, ApiServer() as api:
        if args.services:
            cluster = ps.many_services(args.services)
            api.add(*ps._objects(cluster))
            scope, namespace = "-A", None
        else:
            api.add(*Scenario(args.sts).objects())
            scope, namespace = "web", NAMESPACE
        kubeconfig = write_kubeconfig(Path(tmp) / "kubeconfig", api.url, namespace=namespace)
        runs: dict[str, list[float]] = {name: [] for name in roots}
        pods = 0
        for _ in range(args.reps):
            for name, root in roots.items():
                cpu, pods = run_once(root, kubeconfig, scope)
                runs[name].append(cpu)
    what = f"{args.services:,} Services, -A" if args.services else f"N = {args.sts:,}"
    print(f"load_source, {what} ({pods:,} pods), CPU s per run:")
    for name, cpus in runs.items():
        median = statistics.median(cpus)
        shown = " ".join(f"{c:.3f}" for c in cpus)
        print(f"  {name} ({roots[name]}): median {median:.3f}, {median / pods * 1e6:.1f} us a pod")
        print(f"    runs: {shown}")


if __name__ == "__main__":
    main()
