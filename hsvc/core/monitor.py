"""What ``hsvc monitor`` keeps between verifications: each row's state, and the events it logs.

Pure: rows (from :func:`hsvc.core.compare.compare`) and times in, state changes
and the gauges ``/metrics`` shows out. A row is identified by its Service (see
:mod:`hsvc.core.tally`), name and type. Its state is

``ok``
    its answer matches the objects;
``converging``
    not ok for less than ``stuck_after`` seconds: DNS may still be catching up
    with a change (CoreDNS's watch, then its cache: docs/explanation/dns-lag.md);
``stuck``
    not ok for ``stuck_after`` seconds or more: DNS will not catch up by itself.

When a row turns ok again its convergence latency is how long it was not ok,
counted from the object change that made it so when the watch delivered one
(:meth:`Tracker.changed`), else from when it was first seen wrong. A row whose
expectation disappears (its object was deleted) is dropped.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import field

from hsvc.core.compare import Row, Verdict, disagreements
from hsvc.core.dataclass import dataclass
from hsvc.core.model import EndpointSlice, Pod, Service, Snapshot, StatefulSet, selector_matches
from hsvc.core.tally import service_of
from hsvc.core.vocabulary import (
    DEFAULT_MAX_SERVICES as DEFAULT_MAX_SERVICES,  # re-exported; its home is hsvc.core.vocabulary
)

ServiceKey = tuple[str, str]  # (namespace, service); service "" for pod and cluster rows
RowKey = tuple[str, str, str, str]  # (namespace, service, name, type)

# Beyond this many Services, metrics put the rest under one label (documented cap).
OTHER = "_other"


def default_stuck_after(ttl: int, interval: float) -> float:
    """How long a row may stay wrong before it is stuck: the lag model's bound plus one sweep.

    CoreDNS learns a change through its own watch (about a second) and then may
    answer from its ``cache`` for up to the record's TTL (dns-lag.md); a row is
    checked again at the latest one ``interval`` later. Twice the TTL leaves
    room for a cache in front (NodeLocal DNSCache keeps answers up to the TTL).
    """
    return 2.0 * ttl + interval + 5.0


@dataclass(frozen=True, slots=True, kw_only=True)
class MonitorEvent:
    """A row changed state (logged as one JSON line)."""

    event: str  # mismatch, converged, stuck, dropped
    namespace: str
    service: str
    name: str
    type: str
    status: str  # the row's status now
    seconds: float = 0.0  # converged, stuck, dropped: how long it had not been ok
    cause: str = ""  # the comparison's note (mismatch, stuck)


@dataclass(slots=True)
class _Bad:
    since: float
    status: str
    stuck: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Gauges:
    """What the last verifications found, as ``/metrics`` shows it."""

    checked: Mapping[tuple[str, str, str], int] = field(default_factory=dict)  # ns, svc, type
    mismatched: Mapping[tuple[str, str, str, str], int] = field(default_factory=dict)  # + status
    converging: Mapping[ServiceKey, int] = field(default_factory=dict)
    stuck: Mapping[ServiceKey, int] = field(default_factory=dict)
    services: int = 0  # Services with at least one row
    folded: int = 0  # Services put under the OTHER label by the cap


class Tracker:
    """Rows' states across verifications (module doc)."""

    def __init__(self, stuck_after: float) -> None:
        self.stuck_after = stuck_after
        self._status: dict[RowKey, str] = {}
        self._bad: dict[RowKey, _Bad] = {}
        self._pending: dict[ServiceKey, float] = {}  # earliest change not yet verified

    def changed(self, services: Iterable[ServiceKey], at: float) -> None:
        """Note that objects behind these Services changed at ``at`` (a watch event)."""
        for key in services:
            self._pending[key] = min(self._pending.get(key, at), at)

    def update(
        self,
        rows: Sequence[Row],
        zones: Sequence[str],
        now: float,
        *,
        scope: set[ServiceKey] | None = None,
    ) -> list[MonitorEvent]:
        """Take one verification's rows: those of ``scope`` (None: every Service).

        Returns:
            The state changes, in row order; then rows dropped; then rows turned stuck.
        """
        events: list[MonitorEvent] = []
        seen: set[RowKey] = set()
        verified: set[ServiceKey] = set()
        for row in rows:
            ns, svc = service_of(row, zones)
            verified.add((ns, svc))
            key = (ns, svc, row.name, row.type)
            seen.add(key)
            status = row.status.value
            self._status[key] = status
            bad = self._bad.get(key)
            if row.status is Verdict.OK:
                if bad is not None:
                    del self._bad[key]
                    events.append(_event("converged", key, status, now - bad.since))
                continue
            if bad is None:
                since = min(self._pending.get((ns, svc), now), now)
                self._bad[key] = _Bad(since=since, status=status)
                events.append(_event("mismatch", key, status, now - since, _note(row)))
            else:
                bad.status = status
        # Rows of the Services verified that no longer exist: their objects are gone.
        for key in [k for k in self._status if k not in seen]:
            if scope is None or (key[0], key[1]) in scope:
                del self._status[key]
                bad = self._bad.pop(key, None)
                if bad is not None:
                    events.append(_event("dropped", key, "gone", now - bad.since))
        for svc_key in list(self._pending) if scope is None else scope | verified:
            self._pending.pop(svc_key, None)
        events.extend(self.tick(now))
        return events

    def tick(self, now: float) -> list[MonitorEvent]:
        """Rows that have been wrong for ``stuck_after`` seconds by ``now`` (once each)."""
        events = []
        for key, bad in self._bad.items():
            if not bad.stuck and now - bad.since >= self.stuck_after:
                bad.stuck = True
                events.append(_event("stuck", key, bad.status, now - bad.since))
        return events

    def gauges(self, max_services: int = DEFAULT_MAX_SERVICES) -> Gauges:
        """The current state, at most ``max_services`` Services by name (module doc)."""
        per_service: Counter[ServiceKey] = Counter()
        bad_per_service: Counter[ServiceKey] = Counter()
        for (ns, svc, _name, _type), status in self._status.items():
            per_service[(ns, svc)] += 1
            if status != Verdict.OK.value:
                bad_per_service[(ns, svc)] += 1
        # Services with wrong rows keep their own labels first: they are what alerts name.
        ranked = sorted(per_service, key=lambda k: (-bad_per_service[k], k))
        kept = set(ranked[:max_services])

        def label(ns: str, svc: str) -> ServiceKey:
            return (ns, svc) if (ns, svc) in kept else (OTHER, OTHER)

        checked: Counter[tuple[str, str, str]] = Counter()
        mismatched: Counter[tuple[str, str, str, str]] = Counter()
        for (ns, svc, _name, rtype), status in self._status.items():
            lns, lsvc = label(ns, svc)
            checked[(lns, lsvc, rtype)] += 1
            if status != Verdict.OK.value:
                mismatched[(lns, lsvc, rtype, status)] += 1
        converging: Counter[ServiceKey] = Counter()
        stuck: Counter[ServiceKey] = Counter()
        for (ns, svc, _name, _type), bad in self._bad.items():
            (stuck if bad.stuck else converging)[label(ns, svc)] += 1
        return Gauges(
            checked=dict(checked),
            mismatched=dict(mismatched),
            converging=dict(converging),
            stuck=dict(stuck),
            services=len(per_service),
            folded=max(0, len(per_service) - len(kept)),
        )


def _event(kind: str, key: RowKey, status: str, seconds: float, cause: str = "") -> MonitorEvent:
    ns, svc, name, rtype = key
    return MonitorEvent(
        event=kind,
        namespace=ns,
        service=svc,
        name=name,
        type=rtype,
        status=status,
        seconds=round(max(seconds, 0.0), 3),
        cause=cause,
    )


def _note(row: Row) -> str:
    return next((c.note for c in row.checks if c.verdict is not Verdict.OK and c.note), "")


def server_answers(rows: Sequence[Row]) -> dict[tuple[str, str], int]:
    """Answers per server (vantage point, replica) and verdict: the per-layer view."""
    out: Counter[tuple[str, str]] = Counter()
    for row in rows:
        for check in row.checks:
            out[(check.observation.server, check.verdict.value)] += 1
    return dict(out)


def replica_disagreement(rows: Sequence[Row]) -> dict[str, int]:
    """Rows where each server answers apart from the others (0 for those in agreement)."""
    servers = {c.observation.server for r in rows for c in r.checks}
    apart = {d.server: len(d.rows) for d in disagreements(rows)}
    return {s: apart.get(s, 0) for s in sorted(servers)}


def services_touched(kind: str, obj: object, snapshot: Snapshot) -> set[ServiceKey]:
    """The Services whose names an object bears on (what a watch event makes worth re-checking)."""
    if isinstance(obj, Service):
        return {(obj.namespace, obj.name)}
    if isinstance(obj, EndpointSlice):
        return {(obj.namespace, obj.service_name)} if obj.service_name else set()
    if isinstance(obj, StatefulSet):
        return {(obj.namespace, obj.service_name)} if obj.service_name else set()
    if isinstance(obj, Pod):
        out = {
            (s.namespace, s.name)
            for s in snapshot.services
            if s.namespace == obj.namespace
            and (
                (s.selector and selector_matches(s.selector, obj.labels)) or s.name == obj.subdomain
            )
        }
        out.add((obj.namespace, ""))  # its own pod record
        return out
    return set()
