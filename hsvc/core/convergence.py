"""Rows over time: ok, converging, stuck or flapping, per server; convergence measured per change.

Pure: plans (expectations), judged rows and SOA serials go in with the time they
were seen (``time.monotonic()`` seconds, passed in); states, events and the
summary come out. The I/O loop is :mod:`hsvc.commands.watch`.

A row's state, per server (a CoreDNS replica, a pod's resolver):

``ok``
    the answer is what the objects say now.
``converging``
    it is not, but the expected answer changed less than the staleness bound
    ago (:mod:`hsvc.core.staleness`; the bound for the kind of stale answer
    seen: a denial, or an old positive): still legitimate, with seconds left.
``stuck``
    it is not, and the bound has passed: no cache explains it any more.
``flapping``
    the answer changed while the objects did not (two replicas behind one
    address that disagree, a cache evicting): until the row is ok again.

The expected answer of every row starts "changed" when the watch starts: a
row wrong at the start is converging until the bound has passed since then.

Each reported object change that alters expected answers opens a measurement:
the questions it affected, the bound, and per server the time until every one
of them was answered as expected.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import field
from enum import StrEnum
from typing import Any

from hsvc.core.compare import Row, Verdict, record_key
from hsvc.core.dataclass import dataclass
from hsvc.core.model import DnsAnswer, Observation, Question, Rcode
from hsvc.core.records import Expectation
from hsvc.core.staleness import StalenessModel

__all__ = [
    "Measurement",
    "ReplicaFreshness",
    "RowState",
    "RowStatus",
    "ServerStatus",
    "Tracker",
    "Transition",
    "WatchEvent",
    "WatchSummary",
]

Key = tuple[str, str]  # (name, type)


class RowState(StrEnum):
    """The state of one row on one server (the stream contract's ``state``)."""

    OK = "ok"
    CONVERGING = "converging"
    STUCK = "stuck"
    FLAPPING = "flapping"


# Which state speaks for a row across its servers: the worst first.
_WORST = (RowState.STUCK, RowState.FLAPPING, RowState.CONVERGING, RowState.OK)


@dataclass(frozen=True, slots=True, kw_only=True)
class ServerStatus:
    """One row on one server, now."""

    server: str
    state: RowState
    since: float  # when this state began
    verdict: Verdict
    seconds_left: float = 0.0  # converging: until the bound passes
    bound: float = 0.0  # the bound that applies to the answer seen (0 when ok)
    why: str = ""  # the bound in words, or what makes it stuck or flapping
    signature: tuple[str, frozenset[tuple[str, str, str]]] = ("", frozenset())


@dataclass(frozen=True, slots=True, kw_only=True)
class RowStatus:
    """One row now: the worst state across servers, and each server's."""

    name: str
    type: str
    group: str
    subject: str
    expected: DnsAnswer
    changed_at: float  # when its expected answer last changed
    servers: tuple[ServerStatus, ...]

    @property
    def state(self) -> RowState:
        """The worst state among the servers (ok when none has answered yet)."""
        states = {s.state for s in self.servers}
        return next((s for s in _WORST if s in states), RowState.OK)

    @property
    def since(self) -> float:
        """When the worst state began (the earliest server in it)."""
        state = self.state
        return min((s.since for s in self.servers if s.state is state), default=self.changed_at)


@dataclass(frozen=True, slots=True, kw_only=True)
class Transition:
    """A row entered a new state on one server."""

    row: RowStatus
    server: ServerStatus
    previous: RowState | None  # None: the first answer seen


@dataclass(slots=True, kw_only=True)
class Measurement:
    """One object change and how long each server took to serve its new answers."""

    id: int
    what: tuple[str, ...]  # the object changes, in words ("Pod ms/eureka-3 became ready")
    at: float  # when hsvc saw the (first) object change
    questions: frozenset[Key]
    bound: float  # the longest legitimate staleness of its questions
    latencies: dict[str, float] = field(default_factory=dict)  # server -> seconds

    def done(self, servers: Iterable[str]) -> bool:
        """Whether every one of ``servers`` has converged."""
        return all(s in self.latencies for s in servers)


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplicaFreshness:
    """One server's SOA serial for the zone (CoreDNS: the Unix time of the last change it saw)."""

    server: str
    serial: int | None  # None: no SOA answer
    behind: int = 0  # seconds behind the newest serial among the servers
    lagging: bool = False


def _signature(obs: Observation) -> tuple[str, frozenset[tuple[str, str, str]]]:
    return (obs.rcode.value, frozenset(record_key(r) for r in obs.answer))


def _expected_key(answer: DnsAnswer) -> tuple[str, frozenset[tuple[str, str, str]]]:
    return (answer.rcode.value, frozenset(record_key(r) for r in answer.answer))


@dataclass(frozen=True, slots=True, kw_only=True)
class WatchEvent:
    """One thing that happened, for the live table or the JSON stream (docs/reference/output.md)."""

    event: str  # start, change, row, converged, replica, summary
    at: float  # time.monotonic()
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class WatchSummary:
    """How the watch ended."""

    ok: bool  # every row ok at the end
    reason: str  # ok, duration, interrupted
    counts: dict[str, int]
    not_ok: tuple[dict[str, Any], ...]  # rows not ok at the end: name, type, state, servers
    measurements: tuple[dict[str, Any], ...]
    replicas: tuple[dict[str, Any], ...]
    questions_asked: int
    rounds: int
    elapsed: float
    answered: bool


class Tracker:
    """The state of every row over time (module doc)."""

    def __init__(
        self,
        model: StalenessModel,
        *,
        started: float,
        through_node_local: Callable[[str], bool] = lambda server: False,
    ) -> None:
        self.model = model
        self.started = started
        self._through_node_local = through_node_local
        self._items: dict[Key, Expectation] = {}
        self._index: dict[Key, int] = {}
        self._changed_at: dict[Key, float] = {}
        self._servers: dict[Key, dict[str, ServerStatus]] = {}
        self._observed_since_change: dict[tuple[Key, str], bool] = {}
        self._asked_at: dict[Key, float] = {}
        # Rows not ok on some server, or not answered since their answer changed: the
        # only ones the idle loop looks at (a 2,000-pod Service has ~8,000 rows).
        self._unsettled: set[Key] = set()
        self.measurements: list[Measurement] = []
        self.replicas: dict[str, ReplicaFreshness] = {}
        self.server_names: list[str] = []

    # -- plans --

    def replan(
        self, items: Sequence[Expectation], now: float, *, what: Sequence[str] = (), at: float = 0.0
    ) -> list[Question]:
        """Take a new plan; return the questions that are new or whose expected answer changed.

        ``what`` describes the object changes behind it; when it is given and some
        expected answer changed, a :class:`Measurement` starts at ``at`` (else now).
        """
        fresh = {(e.expected.name, e.expected.type): e for e in items}
        affected: list[Key] = []
        for key, item in fresh.items():
            old = self._items.get(key)
            if old is None or _expected_key(old.expected) != _expected_key(item.expected):
                affected.append(key)
                self._unsettled.add(key)
                self._changed_at[key] = now if self._items else self.started
                for server in self._servers.get(key, {}):
                    self._observed_since_change[(key, server)] = False
        for key in set(self._items) - set(fresh):
            self._changed_at.pop(key, None)
            self._servers.pop(key, None)
            self._unsettled.discard(key)
        self._items = fresh
        self._index = {key: i for i, key in enumerate(fresh)}
        for m in self.measurements:
            m.questions = frozenset(q for q in m.questions if q in fresh)
        if what and affected:
            keys = frozenset(affected)
            self.measurements.append(
                Measurement(
                    id=len(self.measurements) + 1,
                    what=tuple(what),
                    at=at or now,
                    questions=keys,
                    bound=max(self._change_bound(k) for k in keys),
                )
            )
        return [Question(name=n, type=t) for n, t in affected]

    def _change_bound(self, key: Key) -> float:
        # The expected answer now has data: what lingers is a denial; else an old positive.
        negative = bool(self._items[key].expected.answer)
        servers = self.server_names or [""]
        return max(
            self.model.staleness(
                key[0], negative=negative, through_node_local=self._through_node_local(s)
            ).seconds
            for s in servers
        )

    def questions(self) -> list[Question]:
        """Every question of the plan (a full sweep)."""
        return [Question(name=n, type=t) for n, t in self._items]

    def pending(self, now: float, *, recheck: float) -> list[Question]:
        """Questions to ask again now: converging, or not asked since their answer changed.

        Stuck and flapping rows are asked again only every ``recheck`` seconds:
        they are not expected to change soon, and a big answer asked every
        second would cost more than the whole idle watch.
        """
        out = []
        for key in sorted(self._unsettled, key=self._order):
            servers = self._servers.get(key, {})
            states = {s.state for s in servers.values()}
            due = (
                not servers
                or RowState.CONVERGING in states
                or not all(self._observed_since_change.get((key, s), True) for s in servers)
                or (
                    states & {RowState.STUCK, RowState.FLAPPING}
                    and now - self._asked_at.get(key, 0.0) >= recheck
                )
            )
            if due:
                out.append(Question(name=key[0], type=key[1]))
        return out

    def expectation(self, question: Question) -> Expectation | None:
        """The current plan's expectation for a question."""
        return self._items.get((question.name, question.type))

    # -- observations --

    def observe(
        self, rows: Sequence[Row], now: float
    ) -> tuple[list[Transition], list[Measurement]]:
        """Judge rows just answered; return the state changes and the measurements completed."""
        transitions: list[Transition] = []
        for row in rows:
            key = (row.name, row.type)
            if key not in self._items:
                continue
            self._asked_at[key] = now
            for check in row.checks:
                server = check.observation.server
                if server not in self.server_names:
                    self.server_names.append(server)
                status = self._judge(key, check.observation, check.verdict, now)
                previous = self._servers.setdefault(key, {}).get(server)
                self._servers[key][server] = status
                self._observed_since_change[(key, server)] = True
                if previous is None or previous.state is not status.state:
                    transitions.append(
                        Transition(
                            row=self.status(key),
                            server=status,
                            previous=None if previous is None else previous.state,
                        )
                    )
            self._settle(key)
        return transitions, self._measure(now)

    def _order(self, key: Key) -> int:
        return self._index.get(key, 0)

    def _settle(self, key: Key) -> None:
        """Keep ``key`` in the unsettled set while it is not ok everywhere, or not re-asked."""
        servers = self._servers.get(key, {})
        settled = bool(servers) and all(
            status.state is RowState.OK and self._observed_since_change.get((key, server), True)
            for server, status in servers.items()
        )
        if settled:
            self._unsettled.discard(key)
        else:
            self._unsettled.add(key)

    def _judge(self, key: Key, obs: Observation, verdict: Verdict, now: float) -> ServerStatus:
        previous = self._servers.get(key, {}).get(obs.server)
        signature = _signature(obs)
        changed_at = self._changed_at.get(key, self.started)
        if verdict is Verdict.TOO_LARGE:
            # Not staleness: no cache makes the answer fit one DNS message.
            since = previous.since if previous and previous.state is RowState.STUCK else now
            return ServerStatus(
                server=obs.server,
                state=RowState.STUCK,
                since=since,
                verdict=verdict,
                why="the answer does not fit one DNS message; no cache explains that",
                signature=signature,
            )
        if verdict is Verdict.OK:
            since = previous.since if previous and previous.state is RowState.OK else now
            return ServerStatus(
                server=obs.server,
                state=RowState.OK,
                since=since,
                verdict=verdict,
                signature=signature,
            )
        # A timeout or an unreadable answer is no answer: it cannot flap.
        moved = (
            previous is not None
            and previous.signature != signature
            and obs.rcode not in (Rcode.TIMEOUT, Rcode.ERROR)
        )
        if (
            previous is not None
            and moved
            and self._observed_since_change.get((key, obs.server), True)
        ):
            # The answer changed, the objects did not, and it is still wrong.
            since = previous.since if previous.state is RowState.FLAPPING else now
            return ServerStatus(
                server=obs.server,
                state=RowState.FLAPPING,
                since=since,
                verdict=verdict,
                why="the answer changed while the objects did not",
                signature=signature,
            )
        if previous is not None and previous.state is RowState.FLAPPING and not moved:
            return previous
        negative = not obs.answer
        staleness = self.model.staleness(
            key[0], negative=negative, through_node_local=self._through_node_local(obs.server)
        )
        bound = staleness.seconds
        age = now - changed_at
        state = RowState.CONVERGING if age < bound else RowState.STUCK
        since = previous.since if previous is not None and previous.state is state else now
        why = staleness.words
        if state is RowState.STUCK:
            why = f"wrong {age:.0f} s after the change, longer than every cache explains: {why}"
        return ServerStatus(
            server=obs.server,
            state=state,
            since=since,
            verdict=verdict,
            seconds_left=max(bound - age, 0.0) if state is RowState.CONVERGING else 0.0,
            bound=bound,
            why=why,
            signature=signature,
        )

    def tick(self, now: float) -> list[Transition]:
        """Move converging rows whose bound has passed to stuck (no new answer needed)."""
        out = []
        for key in list(self._unsettled):
            servers = self._servers.get(key, {})
            changed_at = self._changed_at.get(key, self.started)
            for server, status in list(servers.items()):
                if status.state is not RowState.CONVERGING:
                    continue
                age = now - changed_at
                if age < status.bound:
                    servers[server] = _with_left(status, status.bound - age)
                    continue
                stuck = ServerStatus(
                    server=server,
                    state=RowState.STUCK,
                    since=now,
                    verdict=status.verdict,
                    bound=status.bound,
                    why=f"wrong {age:.0f} s after the change, longer than every cache "
                    f"explains: {status.why}",
                    signature=status.signature,
                )
                servers[server] = stuck
                out.append(Transition(row=self.status(key), server=stuck, previous=status.state))
        return out

    def _measure(self, now: float) -> list[Measurement]:
        done = []
        for m in self.measurements:
            if not m.questions or m.done(self.server_names):
                continue
            for server in self.server_names:
                if server in m.latencies:
                    continue
                if all(
                    self._observed_since_change.get((q, server), False)
                    and self._servers.get(q, {}).get(server) is not None
                    and self._servers[q][server].state is RowState.OK
                    for q in m.questions
                ):
                    m.latencies[server] = max(now - m.at, 0.0)
            if m.done(self.server_names):
                done.append(m)
        return done

    # -- SOA serials --

    def serials(self, serials: dict[str, int | None]) -> list[ReplicaFreshness]:
        """Take each server's SOA serial; return the servers whose lagging changed."""
        known = [s for s in serials.values() if s is not None]
        newest = max(known, default=None)
        changed = []
        for server, serial in serials.items():
            behind = newest - serial if newest is not None and serial is not None else 0
            fresh = ReplicaFreshness(
                server=server, serial=serial, behind=behind, lagging=behind > 0
            )
            old = self.replicas.get(server)
            self.replicas[server] = fresh
            if (
                old is None
                or old.lagging != fresh.lagging
                or (fresh.lagging and old.behind != behind)
            ):
                changed.append(fresh)
        return changed

    # -- reading --

    def status(self, key: Key) -> RowStatus:
        """One row now."""
        item = self._items[key]
        return RowStatus(
            name=key[0],
            type=key[1],
            group=item.group.value,
            subject=f"{item.subject.kind} {item.subject.namespace}/{item.subject.name}".replace(
                " /", " "
            ),
            expected=item.expected,
            changed_at=self._changed_at.get(key, self.started),
            servers=tuple(self._servers.get(key, {}).values()),
        )

    def statuses(self) -> list[RowStatus]:
        """Every row now, in plan order."""
        return [self.status(k) for k in self._items]

    def counts(self) -> dict[str, int]:
        """Rows per state (the worst across servers), every state present."""
        counts = {s.value: 0 for s in RowState}
        for key in self._items:
            counts[self.status(key).state.value] += 1
        return counts

    def all_ok(self) -> bool:
        """Whether every row has been answered and is ok on every server."""
        return bool(self._items) and not self._unsettled


def _with_left(status: ServerStatus, left: float) -> ServerStatus:
    return ServerStatus(
        server=status.server,
        state=status.state,
        since=status.since,
        verdict=status.verdict,
        seconds_left=max(left, 0.0),
        bound=status.bound,
        why=status.why,
        signature=status.signature,
    )
