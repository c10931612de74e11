"""Benchmark DNS over port-forward: ``python benchmarks/portforward.py`` (about 30 s).

Starts the emulated API server and one knotd per CoreDNS replica on 127.0.0.1,
port-forwards to every replica with hsvc's relays (hsvc.adapters.kubeapi) and
asks the same questions of all of them with hsvc's resolver, comparing:

- ``per-query``: one TCP connection per query (dnspython's ``asyncquery.tcp``),
  so one port-forward websocket per query, as a naive client would;
- ``pipelined xN``: hsvc's RFC 7766 pipelining over N connections per replica.

Each strategy runs with no added latency and with 50 ms added to every
port-forward handshake (``inject(delay=)``; a remote API server and kubelet
cost about that per stream). Prints a Markdown table for docs/reference/benchmarks.md.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import dns.asyncquery  # noqa: E402
import dns.exception  # noqa: E402
import dns.message  # noqa: E402

from hsvc.adapters import dnswire, kubeapi, pipeline, resolver  # noqa: E402
from hsvc.core.model import Question  # noqa: E402
from tests.integration.api_fixtures import SEED_FILES, write_kubeconfig  # noqa: E402
from tests.integration.apiserver import ApiServer  # noqa: E402
from tests.integration.knot import KnotServer  # noqa: E402
from tests.integration.seed_zone import CLUSTER_ROWS, seed_zones  # noqa: E402
from tests.integration.test_portforward import REPLICAS, coredns_pod  # noqa: E402

QUESTIONS = 200  # per replica
RUNS = 3


class PerQuery:
    """Stands in for hsvc's pipelines: a new TCP connection (websocket) per query."""

    async def exchange(self, question, server, *, timeout, attempts):
        query = dns.message.make_query(question.qname, question.rdtype, use_edns=0, payload=1232)
        try:
            message = await dns.asyncquery.tcp(
                query, server.host, port=server.port, timeout=timeout
            )
        except (dns.exception.DNSException, OSError, EOFError) as exc:
            return dnswire._Failure(dnswire.Rcode.ERROR, str(exc))
        return dnswire._response(message)

    async def close(self):
        pass


def questions() -> list[Question]:
    rows = [r for r in CLUSTER_ROWS if r[1] in ("A", "SRV")]
    out = [Question(name=f"{r[0]}.cluster.local.", type=r[1]) for r in rows]
    i = 0
    while len(out) < QUESTIONS:
        out.append(Question(name=f"nope-{i}.ms.svc.cluster.local.", type="A"))
        i += 1
    return out


def measure(api: ApiServer, kubeconfig: Path, strategy: str) -> tuple[float, int, int]:
    """Return (seconds, streams opened, failed answers) for one run."""
    original = resolver.Pipelines
    connections = pipeline.PIPELINE_CONNECTIONS
    if strategy == "per-query":
        resolver.Pipelines = lambda connections: PerQuery()  # type: ignore[assignment,misc]
    else:
        connections = int(strategy.rsplit("x", 1)[1])
    before = api.streams_total
    started = time.monotonic()
    try:
        with kubeapi.connect(kubeconfig=str(kubeconfig)) as src:
            pods = src.dns_replicas()
            with src.forward(pods) as forwards:
                got = resolver.resolve_all(
                    questions(), forwards.nameservers, timeout=5.0, tcp_connections=connections
                )
    finally:
        resolver.Pipelines = original  # type: ignore[misc]
    elapsed = time.monotonic() - started
    failed = sum(1 for o in got if o.rcode.value in ("TIMEOUT", "ERROR"))
    return elapsed, api.streams_total - before, failed


def main() -> None:
    tmp = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("/tmp")
    knots = []
    print(f"{QUESTIONS} questions x {len(REPLICAS)} replicas, median of {RUNS} runs\n")
    print("| strategy | handshake delay | wall time | streams opened | failed |")
    print("|---|---|---|---|---|")
    with ApiServer() as api:
        api.add_yaml(*SEED_FILES)
        for i, name in enumerate(REPLICAS):
            knot = KnotServer(seed_zones())
            knot.start()
            knots.append(knot)
            api.add(coredns_pod(name, f"10.244.0.{10 + i}"))
            api.forward("kube-system", name, 53, ("127.0.0.1", knot.port))
        kubeconfig = write_kubeconfig(tmp / "hsvc-bench-kubeconfig", api.url)
        try:
            for delay in (0.0, 0.05):
                api.clear_rules()
                if delay:
                    api.inject("*/portforward", delay=delay)
                for strategy in ("per-query", "pipelined x1", "pipelined x2", "pipelined x4"):
                    runs = [measure(api, kubeconfig, strategy) for _ in range(RUNS)]
                    wall = statistics.median(r[0] for r in runs)
                    streams = max(r[1] for r in runs)
                    failed = max(r[2] for r in runs)
                    print(
                        f"| {strategy} | {delay * 1000:.0f} ms | {wall * 1000:.0f} ms | "
                        f"{streams} | {failed} |"
                    )
        finally:
            for knot in knots:
                knot.stop()


if __name__ == "__main__":
    main()
