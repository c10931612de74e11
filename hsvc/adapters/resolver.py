"""Ask DNS servers every question at once and record what each one answered.

The resolver of the DNS adapter (with :mod:`hsvc.adapters.dnswire`, the codec, and
:mod:`hsvc.adapters.pipeline`, TCP pipelining). Callers see plain functions and model
types: every exchange runs in a plain poll loop inside :func:`resolve_all` (no event
loop: a run never imports asyncio, a twentieth of a small inspect's start).
A server that times out, refuses, answers garbage or SERVFAIL is data (an
``Observation`` with that status), never an exception; only bad input raises.

Every query names its server and port explicitly, so the host's own
``/etc/resolv.conf`` never takes part.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace

from hsvc.adapters.dnschaos import chaos_version as chaos_version
from hsvc.adapters.dnswire import (
    EDNS_PAYLOAD,
    _Failure,
    _observation,
    _prepare_all,
    _Prepared,
    _Response,
    _tcp_failure,
)
from hsvc.adapters.exchange import tcp_exchanges
from hsvc.adapters.followup import tcp_follow_ups
from hsvc.adapters.nameservers import check_server, parse_nameserver
from hsvc.adapters.pipeline import PIPELINE_CONNECTIONS, Pipelines, pipelined_exchanges
from hsvc.adapters.udpbatch import first_exchanges
from hsvc.core import collector
from hsvc.core.model import Nameserver, Observation, Question, Rcode, Transport
from hsvc.core.resolvconf import ResolvConf, read_resolv_conf
from hsvc.errors import UsageError

__all__ = [
    "EDNS_PAYLOAD",
    "ResolvConf",
    "chaos_version",
    "parse_nameserver",
    "read_resolv_conf",
    "resolve_all",
]

log = logging.getLogger(__name__)

# The UDP payload a client without EDNS may receive (RFC 1035 4.2.1).
CLASSIC_UDP = 512


def resolve_all(
    questions: Sequence[Question],
    servers: Sequence[Nameserver],
    *,
    timeout: float = 2.0,
    concurrency: int = 64,
    retries: int = 1,
    progress: Callable[[int], None] | None = None,
    tcp_connections: int = PIPELINE_CONNECTIONS,
) -> list[Observation]:
    """Ask every server every question, concurrently, and return what each answered.

    Each query goes over UDP with EDNS0 (payload 1232) unless the server is
    ``tcp_only``, and is repeated over TCP when the UDP answer is truncated; the
    first question is also asked of each UDP server over TCP, once (the TCP
    probe, beside the UDP run: :class:`_TcpProbe`). An
    attempt that times out is sent again up to ``retries`` more times (lost UDP
    packets), so one query takes at most ``timeout * (retries + 1)`` plus one
    TCP ``timeout`` (two when a query pipelined over TCP gets no answer and is
    asked again on a connection of its own: :mod:`hsvc.adapters.followup`).

    Args:
        questions: What to ask; names may omit the trailing dot (they are
            taken as absolute, no search list applies).
        servers: Whom to ask; hosts must be IP addresses.
        timeout: Seconds to wait for each attempt.
        concurrency: Most queries in flight at once.
        retries: Extra attempts after a timeout (over TCP for ``tcp_only``).
        progress: Called with the number of queries finished so far, after
            each one finishes.
        tcp_connections: Pipelined connections per TCP-only server.

    Returns:
        One Observation per (question, server): questions-major, then servers,
        in the order given. Failures are statuses (TIMEOUT, ERROR, SERVFAIL, ...).

    Raises:
        InvalidNameError: A question's name is not a valid DNS name.
        UsageError: A question's type is unknown, a server is not an IP address
            and port, or timeout, concurrency or retries is out of range.
    """
    if not (timeout > 0 and math.isfinite(timeout)):
        raise UsageError(f"invalid --timeout {timeout}: must be more than 0 seconds")
    if concurrency < 1:
        raise UsageError(f"invalid --concurrency {concurrency}: must be at least 1")
    if retries < 0:
        raise UsageError(f"invalid retries {retries}: must be 0 or more")
    prepared = _prepare_all(questions)
    for server in servers:
        check_server(server)
    if not prepared or not servers:
        return []

    started = time.monotonic()
    # The answers are many small long-lived objects and no cycles: the cyclic collector
    # would rescan them again and again while they are built (a sixth of the run at
    # thousands of questions, docs/reference/benchmarks.md). It waits until the run ends,
    # then leaves them in its oldest generation unscanned.
    with collector.paused("age"):
        observations = _resolve(
            prepared, list(servers), timeout, concurrency, retries, progress, tcp_connections
        )
    log.debug(
        "asked %d questions of %d servers in %.0f ms",
        len(prepared),
        len(servers),
        (time.monotonic() - started) * 1000,
    )
    return observations


# --- I/O ---------------------------------------------------------------------------


# Fail fast (a silent server costs one query's timeout, not minutes): before a run of
# more than this many questions, each server is asked its first question alone ...
PROBE_OVER = 8
# ... and a server that answered none of its first this many questions is asked no more.
SILENT_AFTER = 8


class _ServerState:
    """What one server did so far: whether it ever answered, how many times it did not."""

    __slots__ = ("answered", "first_error", "silent", "unanswered")

    def __init__(self) -> None:
        self.answered = False
        self.unanswered = 0
        self.first_error = ""
        self.silent = ""  # why it is asked no more ("" while it is asked)

    def saw(self, obs: Observation, limit: int) -> None:
        if obs.rcode not in (Rcode.TIMEOUT, Rcode.ERROR):
            self.answered = True
            return
        self.unanswered += 1
        self.first_error = self.first_error or obs.error or obs.rcode.value
        if not self.answered and self.unanswered >= limit and not self.silent:
            self.silent = (
                f"server silent: no response to its first {self.unanswered} "
                f"{'query' if self.unanswered == 1 else 'queries'} ({self.first_error}); "
                "not asked the rest"
            )


# long: the probe, the first exchanges and the retries share one state per server
def _resolve(
    questions: list[_Prepared],
    servers: list[Nameserver],
    timeout: float,
    concurrency: int,
    retries: int,
    progress: Callable[[int], None] | None,
    connections: int,
) -> list[Observation]:
    """Ask with ``concurrency`` workers, each with one UDP socket per server, reused.

    A worker has one query in flight at a time, so whatever reaches its socket
    answers that query: a reply with another ID is a mismatch, as on a socket
    of its own. Reusing sockets spares a socket, a connect and a selector
    registration per query, which at thousands of queries cost more than the
    exchange itself. Every first exchange (UDP: :mod:`hsvc.adapters.udpbatch`;
    TCP-only servers, pipelined: :mod:`hsvc.adapters.pipeline`) runs in a plain
    poll loop, so Ctrl-C interrupts it at once; so do the few answers that need
    more (over 512 bytes, truncated: :func:`_follow_ups`).

    A big run starts with a probe: each server's first question, alone. A server
    that gets no response to it (or, in any run, to its first :data:`SILENT_AFTER`
    questions) is asked nothing more: its remaining questions become ``ERROR``
    observations saying "server silent", and the others go on.
    """
    jobs = [(question, server) for question in questions for server in servers]
    results: list[Observation | None] = [None] * len(jobs)
    states = {server: _ServerState() for server in servers}
    # Job i asks servers[i % n] (questions-major): its label and state by index.
    n = len(servers)
    labels = [str(server) for server in servers]
    state_of = [states[server] for server in servers]
    transports = _Transports()
    edns_of = transports.by_edns_size
    finished = 0
    probing = len(questions) > PROBE_OVER
    probe = list(range(len(servers))) if probing else []
    # UDP answers that need more (asked again without EDNS, or over TCP): (first, started).
    firsts: dict[int, tuple[_Response, float]] = {}

    def count() -> None:
        nonlocal finished
        finished += 1
        if progress is not None:
            progress(finished)

    def finish(i: int, obs: Observation, limit: int) -> None:
        results[i] = obs
        state_of[i % n].saw(obs, limit)
        count()

    def first_pass(indices: Sequence[int], limit: int) -> None:
        """Every question's first exchange with each server."""

        def skip(i: int) -> bool:
            if i < n and (results[i] is not None or i in firsts):
                return True  # answered by the probe (it asks jobs 0 to n - 1 alone)
            silent = state_of[i % n].silent
            if silent:
                results[i] = _silent(jobs[i][0], labels[i % n], silent)
                count()
                return True
            return False

        def udp_done(i: int, first: _Response | _Failure, started: float) -> None:
            nonlocal finished
            s = i % n
            if type(first) is _Response and not first.truncated and first.size <= CLASSIC_UDP:
                # The usual answer, settled as _settled and finish settle it, inline.
                carried = edns_of.get(first.size) or transports.edns(first.size)
                obs = _observation(jobs[i][0], labels[s], first, started, transport=carried)
                results[i] = obs
                state = state_of[s]
                if not state.answered or obs.rcode is Rcode.ERROR:
                    state.saw(obs, limit)
                finished += 1
                if progress is not None:
                    progress(finished)
                return
            settled = _settled(jobs[i][0], labels[s], first, started, transports)
            if settled is not None:
                finish(i, settled, limit)
            else:
                assert isinstance(first, _Response)
                firsts[i] = (first, started)

        def tcp_done(i: int, first: _Response | _Failure, started: float) -> None:
            finish(i, _tcp_only(jobs[i][0], labels[i % n], first, started, transports), limit)

        udp: Sequence[int] = indices
        tcp: Sequence[int] = []
        if any(server.tcp_only for server in servers):
            udp = [i for i in indices if not jobs[i][1].tcp_only]
            tcp = [i for i in indices if jobs[i][1].tcp_only]
        attempts = retries + 1
        # A server that answered once is never silent: with every one answered (the
        # probe's jobs are not in ``indices`` again), no UDP job is left out.
        answered = all(state.answered for state in state_of) and not indices[0] < n
        if udp:
            first_exchanges(
                jobs,
                udp,
                timeout=timeout,
                attempts=attempts,
                concurrency=concurrency,
                skip=None if answered else skip,
                done=udp_done,
            )
        if tcp:
            pipelined_exchanges(
                pipelines,
                jobs,
                tcp,
                timeout=timeout,
                attempts=attempts,
                concurrency=concurrency,
                skip=skip,
                done=tcp_done,
            )

    def follow_ups(indices: list[int], limit: int) -> None:
        """The UDP answers that need more: asked again without EDNS, then over TCP."""
        for i, obs in _follow_ups(
            jobs, labels, [(i, *firsts.pop(i)) for i in indices], timeout, retries, concurrency
        ):
            finish(i, obs, limit)

    pipelines = Pipelines(connections)
    tcp_probe = _TcpProbe(questions[0], [s for s in servers if not s.tcp_only], timeout)
    try:
        # After the probe, its jobs (0 to n - 1) are answered: the rest start after them.
        for indices, limit in ((probe, 1), (range(len(probe), len(jobs)), SILENT_AFTER)):
            if not indices:
                continue
            first_pass(indices, limit)
            if firsts:  # of this pass only (each pass's are settled before the next)
                follow_ups(sorted(firsts), limit)
    finally:
        pipelines.close()
    probed = tcp_probe.results()
    for s, server in enumerate(servers):
        first = results[s]  # the server's answer to the first question
        if server in probed and first is not None:
            results[s] = _with_tcp_probe(first, probed[server])
    for server, state in states.items():
        if state.silent:
            log.debug("%s: %s", server, state.silent)
    return [r for r in results if r is not None]


class _TcpProbe:
    """One question over TCP to each UDP server, in a thread, while the UDP run goes on.

    TCP is otherwise asked only after a truncated UDP answer, so a server whose
    answers all fit would never show that it refuses TCP (HSVC805). The probe
    costs one TCP exchange per server per run and, running beside the UDP
    questions, at most one ``timeout`` of wall time, not more.
    """

    def __init__(self, question: _Prepared, servers: list[Nameserver], timeout: float) -> None:
        self._found: dict[Nameserver, _Response | _Failure] = {}
        self._timeout = timeout
        self._thread: threading.Thread | None = None
        if servers:
            self._thread = threading.Thread(
                target=self._run, args=(question, servers), name="hsvc-tcp-probe", daemon=True
            )
            self._thread.start()

    def _run(self, question: _Prepared, servers: list[Nameserver]) -> None:
        answers = tcp_exchanges(
            [(question, s) for s in servers],
            timeout=self._timeout,
            concurrency=len(servers),
        )
        self._found.update(zip(servers, answers, strict=True))

    def results(self) -> dict[Nameserver, _Response | _Failure]:
        """Each probed server's TCP answer (waits for the probe: at most its timeout)."""
        if self._thread is not None:
            self._thread.join(self._timeout + 1)
        return dict(self._found)


def _with_tcp_probe(obs: Observation, tcp: _Response | _Failure) -> Observation:
    """``obs`` with the TCP probe's result, unless it was measured over TCP already.

    Only a server that answered over UDP is judged on TCP: a silent one is
    already an error.
    """
    carried = obs.transport
    if carried is None or carried.tcp_asked or obs.rcode in (Rcode.TIMEOUT, Rcode.ERROR):
        return obs
    size = tcp.size if isinstance(tcp, _Response) else None
    return replace(obs, transport=replace(carried, tcp_size=size, tcp_error=_tcp_failure(tcp)))


def _silent(question: _Prepared, server: str, why: str) -> Observation:
    """The observation of a question not asked because its server never answered."""
    return Observation(
        server=server, name=question.name, type=question.type, rcode=Rcode.ERROR, error=why
    )


class _Transports:
    """One run's transports of answers that took one exchange, by size: equal values built once."""

    __slots__ = ("_tcp", "by_edns_size")

    def __init__(self) -> None:
        self.by_edns_size: dict[int, Transport] = {}  # what edns() built, by size
        self._tcp: dict[int, Transport] = {}

    def edns(self, size: int) -> Transport:
        """A UDP answer with EDNS of ``size`` bytes, not truncated."""
        found = self.by_edns_size.get(size)
        if found is None:
            found = self.by_edns_size[size] = Transport(edns_size=size)
        return found

    def tcp(self, size: int) -> Transport:
        """A TCP answer of ``size`` bytes (from a TCP-only server)."""
        found = self._tcp.get(size)
        if found is None:
            found = self._tcp[size] = Transport(tcp_size=size)
        return found


def _tcp_only(
    question: _Prepared,
    label: str,
    first: _Response | _Failure,
    started: float,
    transports: _Transports,
) -> Observation:
    """The observation of a TCP-only server (a port-forward): no UDP to measure."""
    if isinstance(first, _Failure):
        return _observation(question, label, first, started)
    # A port-forward carries TCP only: the UDP sizes cannot be measured here.
    carried = transports.tcp(first.size)
    if not first.truncated:
        return _observation(question, label, first, started, transport=carried)
    return _observation(
        question,
        label,
        first,
        started,
        too_large=True,
        error="answer truncated even over TCP (over 65535 bytes)",
        transport=replace(carried, tcp_error="the TCP answer is truncated too"),
    )


def _settled(
    question: _Prepared,
    server: str,
    first: _Response | _Failure,
    started: float,
    transports: _Transports,
) -> Observation | None:
    """The observation of a UDP server's first (EDNS) exchange, or None if it needs more.

    An answer truncated or over 512 bytes is asked again as a client without EDNS
    asks, and over TCP where truncated (:func:`_follow_ups`).
    """
    if isinstance(first, _Failure):
        return _observation(question, server, first, started)
    if first.truncated or first.size > CLASSIC_UDP:
        return None
    return _observation(question, server, first, started, transport=transports.edns(first.size))


# long: the two follow-up exchanges of every answer that needs them, and their outcome
def _follow_ups(
    jobs: Sequence[tuple[_Prepared, Nameserver]],
    labels: Sequence[str],
    firsts: Sequence[tuple[int, _Response, float]],
    timeout: float,
    retries: int,
    concurrency: int,
) -> Iterator[tuple[int, Observation]]:
    """Finish each job whose first UDP answer was truncated or over 512 bytes.

    ``firsts``: (job, its first answer, the first send's monotonic time). Yields
    (job, observation) as each is settled: first every job is asked again as a
    client without EDNS asks (``concurrency`` at once, as the first exchanges),
    then the ones still truncated over TCP, pipelined over a few connections per
    server (:mod:`hsvc.adapters.followup`).
    """
    n = len(labels)
    plains: dict[int, _Response | _Failure] = {}
    first_exchanges(
        jobs,
        [i for i, _, _ in firsts],
        timeout=timeout,
        attempts=retries + 1,
        concurrency=concurrency,
        skip=None,
        done=lambda i, plain, started: plains.__setitem__(i, plain),
        edns=False,
    )
    over_tcp: list[tuple[int, _Response, float, Transport]] = []
    for i, first, started in firsts:
        carried = Transport(edns_size=first.size, edns_truncated=first.truncated)
        # Measured, not inferred: asked as a client without EDNS does. Sound to skip at
        # 512 bytes or less: the same answer without its OPT record is smaller still.
        plain = plains[i]
        if isinstance(plain, _Failure):
            carried = replace(carried, plain_error=plain.error)
        else:
            carried = replace(carried, plain_size=plain.size, plain_truncated=plain.truncated)
        if first.truncated or carried.plain_truncated:
            over_tcp.append((i, first, started, carried))
        else:
            yield i, _observation(jobs[i][0], labels[i % n], first, started, transport=carried)
    seconds = tcp_follow_ups(
        [jobs[i] for i, _, _, _ in over_tcp],
        timeout=timeout,
        concurrency=concurrency,
    )
    for (i, first, started, carried), second in zip(over_tcp, seconds, strict=True):
        yield i, _after_tcp(jobs[i][0], labels[i % n], first, started, carried, second)


def _after_tcp(
    question: _Prepared,
    label: str,
    first: _Response,
    started: float,
    carried: Transport,
    second: _Response | _Failure,
) -> Observation:
    """The observation of a UDP answer asked again over TCP (``second``: what TCP gave)."""
    why = _tcp_failure(second)
    carried = replace(
        carried,
        tcp_size=second.size if isinstance(second, _Response) else None,
        tcp_error=why,
    )
    if not first.truncated:
        # The EDNS answer was whole; TCP mattered to clients without EDNS only.
        return _observation(question, label, first, started, transport=carried)
    if not why:
        return replace(
            _observation(question, label, second, started), truncated=True, transport=carried
        )
    # Keep what the truncated reply held; a TCP reply with TC may hold more.
    partial = second if isinstance(second, _Response) and second.answer else first
    return replace(
        _observation(
            question,
            label,
            partial,
            started,
            too_large=True,
            error=f"answer truncated over UDP and TCP failed: {why}",
        ),
        truncated=True,
        transport=carried,
    )
