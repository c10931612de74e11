"""``hsvc inspect --watch``: follow the objects, re-ask what changed, tell converging from stuck.

The I/O loop around :class:`hsvc.core.convergence.Tracker`: one LIST then one
WATCH per kind (:mod:`hsvc.adapters.kubewatch`); on each batch of changes the
scope is planned again and only the questions whose expected answer changed are
asked, every server (replica) each; rows not ok yet are asked again every
``interval``; every question is asked again every ``sweep``. Each round also
asks every server the zone's SOA, whose serial CoreDNS sets to the time of the
last change that replica saw. Everything that happens is handed to ``emit`` as
a :class:`WatchEvent`; the summary is returned.
"""

from __future__ import annotations

import logging
import re
import signal
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hsvc.commands.options import WATCH_INTERVAL, WATCH_SWEEP, Options, Via
from hsvc.commands.source import Api, load_source, plan
from hsvc.commands.vantage import Vantage, labels, nobody_answered, open_vantage, via_of
from hsvc.core.compare import compare
from hsvc.core.convergence import (
    Measurement,
    ReplicaFreshness,
    RowState,
    Tracker,
    Transition,
    WatchEvent,
    WatchSummary,
)
from hsvc.core.corefile import CorefileError
from hsvc.core.dataclass import dataclass
from hsvc.core.model import Observation, Question
from hsvc.core.records import Expectation
from hsvc.core.report import Source
from hsvc.core.staleness import WATCH_ALLOWANCE, StalenessModel, model_from_corefiles
from hsvc.errors import NotFoundError, UsageError

if TYPE_CHECKING:
    from hsvc.adapters.kubewatch import Change

log = logging.getLogger(__name__)

INTERVAL = WATCH_INTERVAL  # seconds between re-asks of rows that are not ok
SWEEP = WATCH_SWEEP  # seconds between full sweeps (every question again)
RECHECK = 10.0  # seconds between re-asks of stuck and flapping rows
NODE_LOCAL_IP = "169.254.20.10"  # NodeLocal DNSCache's usual link-local address


@dataclass(frozen=True, slots=True, kw_only=True)
class WatchOptions:
    """What ``--watch`` adds to inspect's options."""

    until_ok: bool = False  # stop (exit 0) as soon as every row is ok
    duration: float | None = None  # --for: stop after this many seconds
    interval: float = INTERVAL
    sweep: float = SWEEP
    recheck: float = RECHECK
    watch_allowance: float = WATCH_ALLOWANCE
    node_local_corefile: str | None = None
    watch_timeout: int = 240  # seconds per WATCH request


Emit = Callable[[WatchEvent], None]


def run_watch(
    opts: Options,
    service: str | None,
    wopts: WatchOptions,
    emit: Emit,
    *,
    clock: Callable[[], float] = time.monotonic,
) -> WatchSummary:
    """Follow a Service (or namespace, or every namespace) and its DNS until told to stop.

    Raises:
        UsageError: ``-f``/``--offline`` (a watch needs the live API), a bad duration.
        NoDnsError: no DNS server answered the first round at all.
        HsvcError: from the API (also while watching) or the resolver.
    """
    if opts.files or opts.offline:
        raise UsageError("--watch follows the live API; it cannot read manifest files (-f)")
    from hsvc.adapters.kubewatch import WatchEngine, WatchScope

    started = clock()
    with ExitStack() as stack:
        api = Api(opts, stack)
        source = load_source(opts, api, service=service)
        _cluster, items = plan(source, service)
        model = _model(opts, wopts, source, api)
        engine = stack.enter_context(
            WatchEngine(
                api.get(),
                WatchScope(namespace=source.namespace, service=service),
                namespaces=source.snapshot.namespaces,
                timeout_seconds=wopts.watch_timeout,
            )
        )
        vantage = open_vantage(opts, source, api, stack)
        node_local = _node_local_servers(opts, vantage, model)
        tracker = Tracker(model, started=started, through_node_local=node_local.__contains__)
        loop = _Loop(
            source=source,
            service=service,
            vantage=vantage,
            tracker=tracker,
            emit=emit,
            clock=clock,
            wopts=wopts,
        )
        start = WatchEvent(
            event="start",
            at=started,
            data={
                "scope": _scope(source, service),
                "servers": list(labels(vantage)),
                "rows": len(items),
                "notes": [*source.notes, *vantage.notes],
                "settings": model.where,
            },
        )
        return loop.run(engine, items, start)


def _scope(source: Source, service: str | None) -> str:
    ns = source.namespace
    if service:
        return f"service {ns}/{service}"
    return f"namespace {ns}" if ns else "all namespaces"


def _model(opts: Options, wopts: WatchOptions, source: Source, api: Api) -> StalenessModel:
    """The cache layers: the Corefile in use (--corefile, else the cluster's), node-local's.

    Raises:
        UsageError: ``--node-local-corefile`` cannot be read.
        ManifestError: a Corefile's cache options cannot be read.
    """
    from hsvc.errors import ManifestError

    text: str | None = None
    where = source.settings.source
    if opts.corefile:
        text = Path(opts.corefile).read_text(encoding="utf-8")
    else:
        text = api.get().dns_config().corefile
    if text is None:
        from hsvc.core.corefile import kubeadm_default_corefile

        text = kubeadm_default_corefile(cluster_domain=source.settings.primary_zone.rstrip("."))
        where = "kubeadm's Corefile (assumed)"
    node_local: str | None = None
    if wopts.node_local_corefile:
        try:
            node_local = Path(wopts.node_local_corefile).read_text(encoding="utf-8")
        except OSError as exc:
            raise UsageError(
                f"cannot read --node-local-corefile {wopts.node_local_corefile}: {exc.strerror}"
            ) from exc
    try:
        return model_from_corefiles(
            text,
            ttl=source.settings.ttl,
            source=where,
            node_local=node_local,
            watch_allowance=wopts.watch_allowance,
            requery=wopts.interval,
        )
    except CorefileError as exc:
        raise ManifestError(exc.source, exc.reason, exc.line) from exc


def _node_local_servers(opts: Options, vantage: Vantage, model: StalenessModel) -> set[str]:
    """Servers whose answers pass NodeLocal DNSCache: a pod's resolver, or its usual address."""
    if model.node_local is None:
        return set()
    if via_of(opts) is Via.EXEC:
        return set(labels(vantage))
    return {str(s) for s in vantage.servers if s.host == NODE_LOCAL_IP}


@dataclass(slots=True, kw_only=True)
class _Loop:
    source: Source
    service: str | None
    vantage: Vantage
    tracker: Tracker
    emit: Emit
    clock: Callable[[], float]
    wopts: WatchOptions
    asked: int = 0
    rounds: int = 0
    answered: bool = False
    _items: dict[tuple[str, str], Expectation] = field(default_factory=dict)

    def run(self, engine: Any, items: list[Expectation], start: WatchEvent) -> WatchSummary:
        started = self.tracker.started
        self._items = {(e.expected.name, e.expected.type): e for e in items}
        end = started + self.wopts.duration if self.wopts.duration is not None else None
        reason = "interrupted"
        stop = threading.Event()

        def on_interrupt(signum: int, frame: object) -> None:
            # The first Ctrl-C asks the loop to end with the summary (within one
            # --interval); raising at an arbitrary point could land in a finalizer
            # and print a traceback. A second Ctrl-C interrupts at once.
            if stop.is_set():
                raise KeyboardInterrupt
            stop.set()

        # A SIGINT ignored when hsvc started (`nohup`, a script's background job) stays
        # ignored, as Python leaves it: such a watch ends by --for, --until-ok or SIGTERM.
        catch = threading.current_thread() is threading.main_thread() and (
            signal.getsignal(signal.SIGINT) is not signal.SIG_IGN
        )
        previous = signal.signal(signal.SIGINT, on_interrupt) if catch else None
        try:
            # From here on Ctrl-C ends the watch with the summary.
            self.emit(start)
            self.tracker.replan(items, started)
            self._round(self.tracker.questions(), first=True)
            next_sweep = self.clock() + self.wopts.sweep
            next_retry = self.clock() + self.wopts.interval
            while not stop.is_set():
                now = self.clock()
                if self.wopts.until_ok and self.tracker.all_ok():
                    reason = "ok"
                    break
                if end is not None and now >= end:
                    reason = "duration"
                    break
                wait = min(next_sweep, next_retry, end if end is not None else next_sweep) - now
                # Short waits: a Ctrl-C is noticed between them.
                changes = engine.changes(timeout=min(max(wait, 0.0), 0.25))
                now = self.clock()
                ask: list[Question] = []
                if changes:
                    ask += self._replan(engine, changes)
                if now >= next_sweep:
                    ask = self.tracker.questions()
                    next_sweep = now + self.wopts.sweep
                    next_retry = now + self.wopts.interval
                elif now >= next_retry:
                    ask += self.tracker.pending(now, recheck=self.wopts.recheck)
                    next_retry = now + self.wopts.interval
                if ask:
                    self._round(list(dict.fromkeys(ask)))
                for transition in self.tracker.tick(self.clock()):
                    self._transition(transition)
        except KeyboardInterrupt:
            reason = "interrupted"
        finally:
            if previous is not None:
                signal.signal(signal.SIGINT, previous)
        return self._summary(reason)

    def _replan(self, engine: Any, changes: Sequence[Change]) -> list[Question]:
        source = replace(self.source, snapshot=engine.snapshot())
        try:
            _cluster, items = plan(source, self.service)
        except NotFoundError:
            items = []  # the Service is gone: its names must all stop answering
        self._items = {(e.expected.name, e.expected.type): e for e in items}
        what = [describe(c) for c in changes]
        first = min(c.at for c in changes)
        for text, change in zip(what, changes, strict=True):
            self.emit(
                WatchEvent(
                    event="change",
                    at=change.at,
                    data={
                        "object": {
                            "kind": change.kind,
                            "namespace": change.namespace,
                            "name": change.name,
                        },
                        "action": change.event,
                        "what": text,
                        "relisted": change.relisted,
                        "resourceVersion": change.resource_version,
                    },
                )
            )
        return self.tracker.replan(items, self.clock(), what=what, at=first)

    def _round(self, questions: list[Question], *, first: bool = False) -> None:
        zone = self.source.settings.primary_zone
        soa = Question(name=zone, type="SOA")
        asked_at = self.clock()
        observations = self.vantage.ask([*questions, soa])
        now = self.clock()
        # benchmarks/run.py reads this line (with --debug): the cost of each round.
        log.debug(
            "watch round %d: %d questions in %.0f ms",
            self.rounds + 1,
            len(questions) + 1,
            (now - asked_at) * 1000,
        )
        self.rounds += 1
        self.asked += len(questions) + 1
        answered = [o for o in observations if o.served]
        if answered:
            self.answered = True
        elif first and observations:
            raise nobody_answered(observations)
        wanted = [
            self._items[(q.name, q.type)] for q in questions if (q.name, q.type) in self._items
        ]
        rows = compare(wanted, [o for o in observations if o.type != "SOA" or o.name != zone])
        transitions, measured = self.tracker.observe(rows, now)
        for transition in transitions:
            self._transition(transition)
        for m in measured:
            self.emit(WatchEvent(event="converged", at=now, data=measurement_doc(m)))
        serials = {o.server: _serial(o) for o in observations if o.type == "SOA" and o.name == zone}
        for fresh in self.tracker.serials(serials):
            self.emit(WatchEvent(event="replica", at=now, data=replica_doc(fresh)))

    def _transition(self, transition: Transition) -> None:
        server = transition.server
        row = transition.row
        self.emit(
            WatchEvent(
                event="row",
                at=server.since,
                data={
                    "name": row.name,
                    "type": row.type,
                    "group": row.group,
                    "server": server.server,
                    "state": server.state.value,
                    "previous": transition.previous.value if transition.previous else None,
                    "verdict": server.verdict.value,
                    "secondsLeft": round(server.seconds_left, 3),
                    "bound": round(server.bound, 3),
                    "sinceChange": round(server.since - row.changed_at, 3),
                    "why": server.why,
                },
            )
        )

    def _summary(self, reason: str) -> WatchSummary:
        not_ok = tuple(
            {
                "name": s.name,
                "type": s.type,
                "state": s.state.value,
                "servers": sorted(x.server for x in s.servers if x.state is not RowState.OK),
                "why": next((x.why for x in s.servers if x.state is s.state), ""),
            }
            for s in self.tracker.statuses()
            if s.state is not RowState.OK or not s.servers
        )
        return WatchSummary(
            ok=self.tracker.all_ok(),
            reason=reason,
            counts=self.tracker.counts(),
            not_ok=not_ok,
            measurements=tuple(measurement_doc(m) for m in self.tracker.measurements),
            replicas=tuple(replica_doc(r) for r in self.tracker.replicas.values()),
            questions_asked=self.asked,
            rounds=self.rounds,
            elapsed=self.clock() - self.tracker.started,
            answered=self.answered,
        )


def measurement_doc(m: Measurement) -> dict[str, Any]:
    """A measurement as plain data (the ``converged`` event and the summary)."""
    return {
        "change": m.id,
        "what": list(m.what),
        "questions": len(m.questions),
        "bound": round(m.bound, 3),
        "latency": {server: round(s, 3) for server, s in sorted(m.latencies.items())},
        "withinBound": all(s <= m.bound for s in m.latencies.values()),
    }


def replica_doc(r: ReplicaFreshness) -> dict[str, Any]:
    """A server's SOA freshness as plain data (the ``replica`` event and the summary)."""
    return {"server": r.server, "serial": r.serial, "behind": r.behind, "lagging": r.lagging}


def _serial(obs: Observation) -> int | None:
    for record in obs.answer:
        if record.type == "SOA":
            fields = record.data.split()
            if len(fields) == 7 and fields[2].isdigit():
                return int(fields[2])
    return None


def describe(change: Change) -> str:
    """One object change in words: ``Pod ms/eureka-3 became ready``."""
    who = f"{change.kind} {change.namespace}/{change.name}" if change.namespace else change.name
    before, after = change.before, change.after
    if change.event == "ADDED":
        text = f"{who} created"
    elif change.event == "DELETED":
        text = f"{who} deleted"
    else:
        text = f"{who} changed"
        details = _details(before, after)
        if details:
            text = f"{who} {details}"
    return text + (" (seen by a re-list after 410 Gone)" if change.relisted else "")


def _details(before: Any, after: Any) -> str:
    from hsvc.core.model import EndpointSlice, Pod, StatefulSet

    if isinstance(before, Pod) and isinstance(after, Pod):
        if before.ready != after.ready:
            return "became ready" if after.ready else "became not ready"
        if before.deleting != after.deleting and after.deleting:
            return "is terminating"
        if before.pod_ips != after.pod_ips:
            return f"IPs {','.join(before.pod_ips) or '-'} -> {','.join(after.pod_ips) or '-'}"
    if isinstance(before, StatefulSet) and isinstance(after, StatefulSet):
        if before.replicas != after.replicas:
            return f"scaled {before.replicas} -> {after.replicas}"
    if isinstance(before, EndpointSlice) and isinstance(after, EndpointSlice):
        was = sum(1 for e in before.endpoints if e.is_ready)
        now = sum(1 for e in after.endpoints if e.is_ready)
        return f"ready endpoints {was} -> {now}"
    return ""


_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")


def parse_duration(text: str) -> float:
    """Read ``--for``: ``90s``, ``5m``, ``1h30m``, ``500ms``; a plain number is seconds.

    Raises:
        UsageError: not a positive duration.
    """
    value = text.strip().lower()
    try:
        seconds = float(value)
    except ValueError:
        seconds, pos = 0.0, 0
        for match in _DURATION.finditer(value):
            if match.start() != pos:
                break
            unit = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}[match[2]]
            seconds += float(match[1]) * unit
            pos = match.end()
        if pos != len(value) or not value:
            raise UsageError(
                f"--for {text!r} is not a duration; use e.g. 90s, 5m or 1h30m"
            ) from None
    if seconds <= 0 or seconds != seconds:
        raise UsageError(f"--for {text!r} must be longer than zero")
    return seconds
