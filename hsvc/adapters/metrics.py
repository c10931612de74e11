"""``/metrics``, ``/healthz`` and ``/readyz`` of ``hsvc monitor``, through ``prometheus_client``.

Gauges describe the last verifications and are built at each scrape from what
the monitor loop last published (:meth:`Metrics.publish`), so a Service that is
gone leaves no stale series; counters and the convergence histogram are
``prometheus_client`` objects that only grow. Every metric is listed in
docs/reference/metrics.md. Labels are per Service, never per pod: at most
``max_services`` Services keep their own labels (those with wrong rows first),
the rest share ``namespace="_other", service="_other"``.

The HTTP server runs in its own daemon thread (``ThreadingHTTPServer``); it only
reads what was published, under a lock.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector

from hsvc.core.dataclass import dataclass
from hsvc.core.monitor import Gauges

# Convergence latency buckets (seconds): a healthy cluster converges within the
# record TTL (30 s by default), a cache in front doubles that.
LATENCY_BUCKETS = (0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 45.0, 60.0, 90.0, 120.0, 300.0, 600.0)


@dataclass(frozen=True, slots=True, kw_only=True)
class Published:
    """What the monitor loop last published for scrapes."""

    gauges: Gauges = field(default_factory=Gauges)
    answers: Mapping[tuple[str, str], int] = field(default_factory=dict)  # (server, verdict)
    disagreement: Mapping[str, int] = field(default_factory=dict)  # server -> rows apart
    last_sweep: float = 0.0  # unix time the last full sweep ended
    sweep_seconds: float = 0.0
    stuck_after: float = 0.0
    max_services: int = 0


class _Gauges(Collector):
    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    def collect(self) -> Iterator[Metric]:
        p = self._metrics.published()
        g = p.gauges
        checked = GaugeMetricFamily(
            "hsvc_records_checked",
            "Rows (name and type) checked in the last verification of each Service",
            labels=["namespace", "service", "type"],
        )
        for (ns, svc, rtype), n in sorted(g.checked.items()):
            checked.add_metric([ns, svc, rtype], n)
        yield checked
        mismatched = GaugeMetricFamily(
            "hsvc_records_mismatched",
            "Rows whose answer differs from what the objects say, by status",
            labels=["namespace", "service", "type", "status"],
        )
        for (ns, svc, rtype, status), n in sorted(g.mismatched.items()):
            mismatched.add_metric([ns, svc, rtype, status], n)
        yield mismatched
        for name, doc, values in (
            (
                "hsvc_records_converging",
                "Rows not ok for less than the stuck bound (DNS may be catching up)",
                g.converging,
            ),
            ("hsvc_records_stuck", "Rows not ok for the stuck bound or longer", g.stuck),
        ):
            family = GaugeMetricFamily(name, doc, labels=["namespace", "service"])
            for (ns, svc), n in sorted(values.items()):
                family.add_metric([ns, svc], n)
            yield family
        answers = GaugeMetricFamily(
            "hsvc_answers",
            "Answers in the last verifications per server asked (each layer, each replica) "
            "and verdict",
            labels=["server", "verdict"],
        )
        for (server, verdict), n in sorted(p.answers.items()):
            answers.add_metric([server, verdict], n)
        yield answers
        apart = GaugeMetricFamily(
            "hsvc_replica_disagreement",
            "Rows where a server's answer stands apart from the other servers'",
            labels=["server"],
        )
        for server, n in sorted(p.disagreement.items()):
            apart.add_metric([server], n)
        yield apart
        for name, doc, value in (
            ("hsvc_services", "Services with rows checked", float(g.services)),
            (
                "hsvc_services_folded",
                "Services beyond --max-services, counted under service=_other",
                float(g.folded),
            ),
            ("hsvc_last_sweep_timestamp_seconds", "When the last full sweep ended", p.last_sweep),
            (
                "hsvc_last_sweep_duration_seconds",
                "How long the last full sweep took",
                p.sweep_seconds,
            ),
            (
                "hsvc_stuck_after_seconds",
                "How long a row may be wrong before it counts as stuck",
                p.stuck_after,
            ),
        ):
            yield GaugeMetricFamily(name, doc, value=value)


class Metrics:
    """The monitor's registry: publish state, count errors, observe latencies."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._lock = threading.Lock()
        self._published = Published()
        self.ready = False
        self.heartbeat = time.monotonic()
        self.convergence = Histogram(
            "hsvc_convergence_seconds",
            "How long rows stayed wrong before DNS matched the objects again",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.sweeps = Counter("hsvc_sweeps", "Full sweeps done", registry=self.registry)
        self.verifications = Counter(
            "hsvc_verifications",
            "Verifications done (full sweeps and re-checks of changed Services)",
            ["trigger"],
            registry=self.registry,
        )
        self.api_errors = Counter(
            "hsvc_api_errors",
            "API requests or watches that failed, by exit-code name of the error",
            ["reason"],
            registry=self.registry,
        )
        self.dns_errors = Counter(
            "hsvc_dns_errors",
            "DNS questions that got no usable response (timeout, refused, garbage), by server",
            ["server"],
            registry=self.registry,
        )
        self.watch_events = Counter(
            "hsvc_watch_events",
            "Object changes delivered by the watch, by kind",
            ["kind"],
            registry=self.registry,
        )
        self.registry.register(_Gauges(self))

    def publish(self, published: Published) -> None:
        """Replace what scrapes show."""
        with self._lock:
            self._published = published

    def published(self) -> Published:
        """What scrapes show now."""
        with self._lock:
            return self._published

    def exposition(self) -> bytes:
        """The text exposition format."""
        return generate_latest(self.registry)


class MetricsServer:
    """``/metrics``, ``/healthz``, ``/readyz`` on ``host:port`` (port 0: any free one)."""

    def __init__(self, metrics: Metrics, host: str, port: int, *, alive_within: float) -> None:
        self.metrics = metrics
        self.alive_within = alive_within
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server._answer(self)

            def log_message(self, format: str, *args: Any) -> None:
                return  # scrapes are not state changes: no log line each

        self._http = ThreadingHTTPServer((host, port), Handler)
        self._http.daemon_threads = True
        self.address: tuple[str, int] = self._http.server_address[:2]  # type: ignore[assignment]  # (host, port) for AF_INET
        self._thread = threading.Thread(
            target=self._http.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True
        )

    def start(self) -> None:
        """Serve in a daemon thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop serving (within one poll interval)."""
        self._http.shutdown()
        self._http.server_close()

    def _answer(self, request: BaseHTTPRequestHandler) -> None:
        path = request.path.split("?", 1)[0]
        if path == "/metrics":
            body, status, ctype = self.metrics.exposition(), 200, CONTENT_TYPE_LATEST
        elif path == "/healthz":
            alive = time.monotonic() - self.metrics.heartbeat < self.alive_within
            body = json.dumps({"alive": alive}).encode() + b"\n"
            status, ctype = (200 if alive else 503), "application/json"
        elif path == "/readyz":
            ready = self.metrics.ready
            body = json.dumps({"ready": ready}).encode() + b"\n"
            status, ctype = (200 if ready else 503), "application/json"
        else:
            body, status, ctype = b"not found\n", 404, "text/plain"
        request.send_response(status)
        request.send_header("Content-Type", ctype)
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        request.wfile.write(body)
