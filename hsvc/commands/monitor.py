"""``hsvc monitor``: verify a cluster's DNS continuously and publish what it finds for Prometheus.

One loop, in its own thread (the CLI's main thread waits for SIGTERM):

1. Read the objects and the DNS settings once (as ``inspect -A`` does) and start
   the source of changes: the watch engine (:mod:`hsvc.adapters.kubewatch`: LIST
   then WATCH per kind) or, with ``--no-watch``, a plain re-LIST at every sweep.
2. Every ``interval`` seconds, a full sweep: every Service's rows are asked and
   compared (the settings are read again first).
3. Between sweeps, each batch of watch events re-verifies at once only the
   Services the changed objects bear on (:func:`hsvc.core.monitor.services_touched`).

Each verification asks DNS from the vantage point ``--via`` gives (inside a pod:
its resolv.conf servers and every CoreDNS replica at its pod IP), feeds the rows
to the :class:`~hsvc.core.monitor.Tracker` and publishes gauges; every state
change is reported to ``emit`` (the CLI writes it as one JSON line). The loop
never writes to the cluster: LIST, WATCH and GET only. Errors (the API or DNS
unreachable for a while) are counted and logged, and the loop carries on: a
monitor outlives its cluster's bad minutes.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Protocol

from hsvc.commands.options import MONITOR_INTERVAL, Options
from hsvc.commands.source import Api, _settings, load_source
from hsvc.commands.vantage import labels, open_vantage
from hsvc.core.cluster import ClusterDns
from hsvc.core.compare import compare
from hsvc.core.dataclass import dataclass
from hsvc.core.model import Namespace, Question, Rcode, Snapshot
from hsvc.core.monitor import (
    DEFAULT_MAX_SERVICES,
    MonitorEvent,
    ServiceKey,
    Tracker,
    default_stuck_after,
    replica_disagreement,
    server_answers,
    services_touched,
)
from hsvc.core.records import Expectation, expectations
from hsvc.core.report import Source
from hsvc.core.tally import service_of
from hsvc.errors import HsvcError, UsageError

if TYPE_CHECKING:
    from hsvc.adapters.metrics import Metrics

log = logging.getLogger(__name__)

DEBOUNCE = 0.2  # seconds to gather more watch events before re-verifying
RETRY_MAX = 30.0  # seconds between attempts when the API is down

Emit = Callable[[dict[str, Any]], None]


@dataclass(frozen=True, slots=True, kw_only=True)
class MonitorOptions:
    """What ``hsvc monitor`` adds to the shared options."""

    interval: float = MONITOR_INTERVAL  # seconds between full sweeps
    stuck_after: float | None = None  # None: from the TTL (default_stuck_after)
    max_services: int = DEFAULT_MAX_SERVICES
    watch: bool = True
    selector: str = ""  # label selector on Services ("" for all)


class Changes(Protocol):
    """Where the objects and their changes come from (the watch engine, or re-LISTs)."""

    def snapshot(self) -> Snapshot:
        """The objects now."""
        ...

    def wait(self, timeout: float) -> list[tuple[str, object, float]]:
        """Changes as ``(kind, object, monotonic time)``, waiting up to ``timeout`` s."""
        ...

    def refresh(self) -> None:
        """Called before each full sweep."""
        ...

    def close(self) -> None:
        """Stop watching."""
        ...


class _Watched:
    """The watch engine as a source of changes."""

    def __init__(self, api: Api, source: Source, metrics: Metrics) -> None:
        from hsvc.adapters.kubeconfig import import_client
        from hsvc.adapters.kubewatch import WatchEngine, WatchScope

        import_client()  # before the engine's threads (one per kind) import the client

        self._namespaces = source.snapshot.namespaces
        self._metrics = metrics
        self._engine = WatchEngine(
            api.get(), WatchScope(namespace=source.namespace), namespaces=self._namespaces
        )
        self._engine.start()

    def snapshot(self) -> Snapshot:
        snap = self._engine.snapshot()
        known = {n.name for n in snap.namespaces}
        # Namespaces created since the start: known from the objects in them.
        extra = sorted({s.namespace for s in snap.services} - known)
        if not extra:
            return snap
        return replace(
            snap,
            namespaces=(*snap.namespaces, *(Namespace(name=n, labels_known=False) for n in extra)),
        )

    def wait(self, timeout: float) -> list[tuple[str, object, float]]:
        out: list[tuple[str, object, float]] = []
        for change in self._engine.changes(timeout):
            self._metrics.watch_events.labels(change.kind).inc()
            for obj in (change.before, change.after):
                if obj is not None:
                    out.append((change.kind, obj, change.at))
        return out

    def refresh(self) -> None:
        return None

    def close(self) -> None:
        self._engine.stop()


class _Listed:
    """``--no-watch``: the objects re-listed before every full sweep, no changes between."""

    def __init__(self, opts: Options, api: Api, source: Source, stop: threading.Event) -> None:
        self._opts, self._api, self._stop = opts, api, stop
        self._snapshot = source.snapshot

    def snapshot(self) -> Snapshot:
        return self._snapshot

    def wait(self, timeout: float) -> list[tuple[str, object, float]]:
        self._stop.wait(max(timeout, 0.0))
        return []

    def refresh(self) -> None:
        self._snapshot = load_source(self._opts, self._api).snapshot

    def close(self) -> None:
        return None


class Monitor:
    """The loop (module doc). :meth:`run` returns when ``stop`` is set."""

    def __init__(
        self,
        opts: Options,
        settings: MonitorOptions,
        metrics: Metrics,
        emit: Emit,
        stop: threading.Event,
    ) -> None:
        if settings.interval <= 0:
            raise UsageError("--interval must be positive")
        self.opts = replace(opts, all_namespaces=opts.namespace is None)
        self.settings = settings
        self.metrics = metrics
        self.emit = emit
        self.stop = stop
        self.tracker: Tracker | None = None
        self._selector = _parse_selector(settings.selector)
        self._answers: dict[tuple[str, str], int] = {}
        self._apart: dict[str, int] = {}
        self._last_sweep = 0.0
        self._sweep_seconds = 0.0

    # -- the loop --

    def run(self) -> None:
        """Run until ``stop`` is set; reconnect (with a growing delay) when the API fails."""
        delay = 1.0
        while not self.stop.is_set():
            try:
                with ExitStack() as stack:
                    self._run_connected(stack)
                return
            except HsvcError as exc:
                self._error("api", exc)
                self.metrics.ready = False
                self.stop.wait(delay)
                delay = min(delay * 2, RETRY_MAX)

    def _run_connected(self, stack: ExitStack) -> None:
        api = Api(self.opts, stack)
        source = load_source(self.opts, api)
        stuck_after = self.settings.stuck_after or self._stuck_bound(api, source)
        if self.tracker is None:
            self.tracker = Tracker(stuck_after)
        changes: Changes
        if self.settings.watch:
            changes = _Watched(api, source, self.metrics)
        else:
            changes = _Listed(self.opts, api, source, self.stop)
        stack.callback(changes.close)
        self.emit(
            {
                "event": "started",
                "origin": source.origin,
                "namespace": source.namespace,
                "watch": self.settings.watch,
                "interval": self.settings.interval,
                "stuckAfter": stuck_after,
            }
        )
        next_sweep = time.monotonic()
        first = True
        while not self.stop.is_set():
            self.metrics.heartbeat = time.monotonic()
            if time.monotonic() >= next_sweep:
                started = time.monotonic()
                if not first:
                    changes.refresh()
                    source = self._reread_settings(api, source)
                first = False
                self._verify(api, source, changes.snapshot(), scope=None, trigger="sweep")
                self._sweep_seconds = time.monotonic() - started
                self._last_sweep = time.time()
                self.metrics.sweeps.inc()
                self._publish(stuck_after)
                if not self.metrics.ready:
                    self.metrics.ready = True
                    self.emit({"event": "ready"})
                next_sweep = started + self.settings.interval
                continue
            batch = changes.wait(min(1.0, max(next_sweep - time.monotonic(), 0.0)))
            if batch:
                self.stop.wait(DEBOUNCE)
                batch += changes.wait(0.0) if not self.stop.is_set() else []
                snapshot = changes.snapshot()
                touched: set[ServiceKey] = set()
                for kind, obj, at in batch:
                    keys = services_touched(kind, obj, snapshot)
                    self.tracker.changed(keys, at)
                    touched |= {k for k in keys if k[1]}
                if touched:
                    self._verify(api, source, snapshot, scope=touched, trigger="change")
            self._emit_events(self.tracker.tick(time.monotonic()))
            self._publish(stuck_after)

    # -- one verification --

    def _verify(
        self,
        api: Api,
        source: Source,
        snapshot: Snapshot,
        *,
        scope: set[ServiceKey] | None,
        trigger: str,
    ) -> None:
        assert self.tracker is not None
        source = replace(source, snapshot=snapshot)
        cluster = ClusterDns(snapshot, source.settings)
        zones = source.settings.zones
        items = self._expectations(cluster, source.namespace, scope, zones)
        questions = list(
            dict.fromkeys(Question(name=e.expected.name, type=e.expected.type) for e in items)
        )
        try:
            with ExitStack() as stack:
                vantage = open_vantage(self.opts, source, api, stack)
                observations = vantage.ask(questions) if questions else []
                servers = labels(vantage)
        except HsvcError as exc:
            self._error("dns" if exc.exit_code == 6 else "api", exc)
            return
        self.metrics.verifications.labels(trigger).inc()
        for obs in observations:
            if obs.rcode in (Rcode.TIMEOUT, Rcode.ERROR):
                self.metrics.dns_errors.labels(obs.server).inc()
        rows = compare(items, observations)
        events = self.tracker.update(rows, zones, time.monotonic(), scope=scope)
        self._emit_events(events)
        if scope is None:
            # Per-server views are those of the last full sweep: a re-check of a few
            # Services would make them jump.
            self._answers, self._apart = server_answers(rows), replica_disagreement(rows)
            log.debug("sweep asked %s", ", ".join(servers))

    def _expectations(
        self,
        cluster: ClusterDns,
        namespace: str | None,
        scope: set[ServiceKey] | None,
        zones: tuple[str, ...],
    ) -> list[Expectation]:
        allowed = self._allowed(cluster)
        if scope is None:
            items = expectations(cluster, namespace=namespace)
        else:
            items = []
            for ns, svc in sorted(scope):
                if (namespace is None or ns == namespace) and (ns, svc) in cluster.services:
                    items.extend(expectations(cluster, namespace=ns, service=svc))
        if allowed is None:
            return items
        return [e for e in items if service_of(e, zones) in allowed]

    def _allowed(self, cluster: ClusterDns) -> set[ServiceKey] | None:
        if self._selector is None:
            return None
        return {
            key
            for key, svc in cluster.services.items()
            if all(dict(svc.labels).get(k) == v for k, v in self._selector.items())
        }

    def _stuck_bound(self, api: Api, source: Source) -> float:
        """The lag model's longest legitimate staleness for the cluster's Corefile, plus a sweep.

        :mod:`hsvc.core.staleness` (CoreDNS's watch allowance plus its ``cache``
        for positive and negative answers) for a Service name in the cluster zone;
        a row is checked again at the latest ``interval`` later. Without a readable
        Corefile: :func:`~hsvc.core.monitor.default_stuck_after`.
        """
        from hsvc.core.corefile import CorefileError
        from hsvc.core.staleness import model_from_corefiles

        interval = self.settings.interval
        try:
            dns = api.get().dns_config()
            model = model_from_corefiles(
                dns.corefile, ttl=source.settings.ttl, source=dns.source, requery=interval
            )
        except (HsvcError, CorefileError):
            return default_stuck_after(source.settings.ttl, interval)
        if not dns.corefile:
            return default_stuck_after(source.settings.ttl, interval)
        name = f"service.namespace.svc.{source.settings.primary_zone}"
        worst = max(
            model.staleness(name, negative=negative, through_node_local=False).seconds
            for negative in (False, True)
        )
        return round(worst + interval, 3)

    def _reread_settings(self, api: Api, source: Source) -> Source:
        src = api.get()
        try:
            dns = src.dns_config()
        except HsvcError as exc:
            self._error("api", exc)
            return source
        settings = _settings(self.opts, cluster_corefile=(dns.corefile, dns.source))
        return replace(
            source,
            settings=settings,
            kube_dns_ip=dns.kube_dns_ip,
            dns_pods=(dns.dns_namespace, dns.dns_selector),
        )

    # -- output --

    def _emit_events(self, events: list[MonitorEvent]) -> None:
        for e in events:
            if e.event == "converged":
                self.metrics.convergence.observe(e.seconds)
            record: dict[str, Any] = {
                "event": e.event,
                "namespace": e.namespace,
                "service": e.service,
                "name": e.name,
                "type": e.type,
                "status": e.status,
                "seconds": e.seconds,
            }
            if e.cause:
                record["cause"] = e.cause
            self.emit(record)

    def _error(self, where: str, exc: HsvcError) -> None:
        if where == "api":
            self.metrics.api_errors.labels(exc.exit_code.name.lower()).inc()
        else:
            self.metrics.dns_errors.labels("(none answered)").inc()
        self.emit({"event": "error", "layer": where, "message": exc.message})

    def _publish(self, stuck_after: float) -> None:
        from hsvc.adapters.metrics import Published

        assert self.tracker is not None
        self.metrics.publish(
            Published(
                gauges=self.tracker.gauges(self.settings.max_services),
                answers=dict(self._answers),
                disagreement=dict(self._apart),
                last_sweep=self._last_sweep,
                sweep_seconds=self._sweep_seconds,
                stuck_after=stuck_after,
                max_services=self.settings.max_services,
            )
        )


def run_monitor(
    opts: Options,
    settings: MonitorOptions,
    listen: tuple[str, int],
    emit: Emit,
    stop: threading.Event,
) -> None:
    """Serve /metrics on ``listen`` and run the loop until ``stop`` is set (SIGTERM, in the CLI).

    The loop runs in a daemon thread: a DNS query or a watch in flight does not
    hold back the end, which comes within about a second of ``stop``.

    Raises:
        UsageError: ``listen`` cannot be bound, or bad monitor options.
        Exception: whatever ended the loop other than ``stop`` (a bug: exit 70).
    """
    from hsvc.adapters.metrics import Metrics, MetricsServer

    metrics = Metrics()
    monitor = Monitor(opts, settings, metrics, emit, stop)
    host, port = listen
    try:
        server = MetricsServer(metrics, host, port, alive_within=max(3 * settings.interval, 30.0))
    except OSError as exc:
        raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    failure: list[BaseException] = []

    def loop() -> None:
        try:
            monitor.run()
        except BaseException as exc:  # handed to the caller's thread, which owns the exit code
            failure.append(exc)
        finally:
            stop.set()

    try:
        server.start()
        emit({"event": "listening", "address": "{}:{}".format(*server.address)})
        thread = threading.Thread(target=loop, name="hsvc monitor", daemon=True)
        thread.start()
        stop.wait()
    finally:
        server.stop()
    if failure:
        raise failure[0]
    thread.join(0.5)
    emit({"event": "stopped"})


def _parse_selector(text: str) -> Mapping[str, str] | None:
    """``app=web,tier=front`` (equality terms only).

    Raises:
        UsageError: a term that is not ``key=value``.
    """
    if not text:
        return None
    out: dict[str, str] = {}
    for term in text.split(","):
        key, eq, value = term.strip().partition("=")
        if not eq or not key or value.startswith("="):
            raise UsageError(f"--selector takes key=value terms separated by commas, got {term!r}")
        out[key.strip()] = value.strip()
    return out


__all__ = ["Monitor", "MonitorOptions", "run_monitor"]
