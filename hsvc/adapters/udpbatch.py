"""UDP queries without the event loop: one socket per worker and server, one poll for all.

The resolver (:mod:`hsvc.adapters.resolver`) sends every question's first query
(UDP, EDNS0) through :func:`first_exchanges`. Each of ``concurrency`` workers has
one connected UDP socket per server and one query in flight, exactly as the
asyncio workers had, so whatever reaches a worker's socket answers that query or
is a mismatch; but the sockets are polled together in a plain loop, without a
task, a future and a timer per query, which cost three times the exchange itself
(measured in docs/reference/benchmarks.md, goal 4). The rare follow-ups go the
same way: an answer over 512 bytes is asked again here without EDNS, and a
truncated one over TCP (:mod:`hsvc.adapters.exchange`).
"""

from __future__ import annotations

import math
import select
import selectors
import socket
import time
from collections.abc import Callable, Iterator, Sequence

from hsvc.adapters.dnswire import (
    _MISMATCH,
    _OPT_RR,
    _QUERY_HEADER,
    _RD,
    _describe,
    _Failure,
    _Prepared,
    _query_ids,
    _read_answer,
    _Response,
    _timed_out,
)
from hsvc.adapters.nameservers import address_family
from hsvc.core.model import Nameserver, Rcode

_DONTWAIT = getattr(socket, "MSG_DONTWAIT", 0)
_MAX_DATAGRAM = 65535


_POLLIN = getattr(select, "POLLIN", 1)


class _SelectorPoll:
    """``select.poll``'s interface for reading, over :mod:`selectors` (where there is no poll)."""

    def __init__(self) -> None:
        self._selector = selectors.DefaultSelector()

    def register(self, fd: int, events: int) -> None:
        self._selector.register(fd, selectors.EVENT_READ)

    def unregister(self, fd: int) -> None:
        self._selector.unregister(fd)

    def poll(self, timeout_ms: float) -> list[tuple[int, int]]:
        return [(key.fd, _POLLIN) for key, _ in self._selector.select(timeout_ms / 1000)]

    def close(self) -> None:
        self._selector.close()


class _Worker:
    """One worker's sockets (one per server, opened on first use) and its query in flight."""

    __slots__ = (
        "attempt",
        "deadline",
        "job",
        "mismatched",
        "qid",
        "question",
        "server",
        "sock",
        "sockets",
        "started",
    )

    def __init__(self) -> None:
        self.sockets: dict[Nameserver, socket.socket] = {}
        self.server: Nameserver | None = None  # the server of the job in flight (or the last)
        self.sock: socket.socket | None = None  # its socket, None until opened
        self.job = -1  # the index of the query in flight, -1 when idle
        self.question: _Prepared | None = None
        self.qid = 0
        self.started = 0.0
        self.deadline = 0.0
        self.attempt = 0
        self.mismatched = 0


# long: one poll loop over every UDP socket; its locals are the loop's state
def first_exchanges(
    jobs: Sequence[tuple[_Prepared, Nameserver]],
    indices: Sequence[int],
    *,
    timeout: float,
    attempts: int,
    concurrency: int,
    skip: Callable[[int], bool] | None,
    done: Callable[[int, _Response | _Failure, float], None],
    edns: bool = True,
) -> None:
    """Send job ``i``'s query for each of ``indices`` over UDP; report each outcome to ``done``.

    ``skip(i)`` is asked just before a job would be sent and True leaves it out
    (answered already, or its server went silent); None when none is left out.
    ``done(i, outcome, started)`` gets the response or why there is none, and the
    ``time.monotonic()`` of the first send. An attempt that gets no matching
    answer within ``timeout`` is sent again on a new socket, up to ``attempts``
    in all (the socket of a failed exchange is closed, so a late reply cannot
    meet the next query).
    ``edns`` False asks as a client without EDNS does (no OPT record).
    """
    pending = iter(indices)
    ids = _query_ids()
    monotonic = time.monotonic
    poller = select.poll() if hasattr(select, "poll") else _SelectorPoll()
    by_fd: dict[int, tuple[_Worker, socket.socket]] = {}  # every open socket, by its fd
    workers = [_Worker() for _ in range(min(concurrency, len(indices)))]
    outbox: list[_Worker] = []  # workers whose query goes out at the end of the round
    header = _QUERY_HEADER.pack
    inf = math.inf
    additional, opt = (1, _OPT_RR) if edns else (0, b"")

    def finish(worker: _Worker, outcome: _Response | _Failure) -> None:
        job = worker.job
        worker.job = -1
        done(job, outcome, worker.started)

    def discard(worker: _Worker) -> None:
        sock = worker.sock
        if sock is not None:
            assert worker.server is not None
            del worker.sockets[worker.server]
            poller.unregister(sock.fileno())
            del by_fd[sock.fileno()]
            sock.close()
            worker.sock = None

    def send(worker: _Worker) -> bool:
        """Send the worker's query (its next attempt); False when the exchange has ended."""
        sock = worker.sock
        try:
            if sock is None:
                server = worker.server
                assert server is not None
                sock = socket.socket(address_family(server.host), socket.SOCK_DGRAM)
                try:
                    sock.connect((server.host, server.port))
                except BaseException:
                    sock.close()
                    raise
                worker.sockets[server] = sock
                poller.register(sock.fileno(), _POLLIN)
                by_fd[sock.fileno()] = (worker, sock)
                worker.sock = sock
            assert worker.question is not None
            worker.qid = qid = next(ids)
            # The query as _query_wire builds it, without the call.
            sock.send(header(qid, _RD, 1, 0, 0, additional) + worker.question.section + opt)
        except OSError as exc:
            discard(worker)
            finish(worker, _Failure(Rcode.ERROR, _describe(exc)))
            return False
        worker.deadline = now = monotonic()
        worker.deadline += timeout
        if not worker.attempt:
            worker.started = now
        return True

    def wait(worker: _Worker) -> None:
        """Put the worker's query on the outbox: nothing reaching it counts until it is sent."""
        worker.qid = -1
        worker.deadline = math.inf
        outbox.append(worker)

    def flush() -> None:
        """Send every query of this round at once (the server wakes once for them all)."""
        at = 0
        while at < len(outbox):
            worker = outbox[at]
            at += 1
            if not send(worker):
                start(worker, pending)  # back on the outbox, behind the rest
        outbox.clear()

    def start(worker: _Worker, queue: Iterator[int]) -> None:
        """Give an idle worker the next job, to send with the round's others, if any is left."""
        for job in queue:
            if skip is not None and skip(job):
                continue
            question, server = jobs[job]
            worker.job = job
            worker.question = question
            if server is not worker.server:
                worker.server = server
                worker.sock = worker.sockets.get(server)
            worker.attempt = worker.mismatched = 0
            worker.qid = -1  # as wait() does
            worker.deadline = inf
            outbox.append(worker)
            return

    def expire(worker: _Worker) -> None:
        """The attempt in flight got no answer in time: send it again, or give up."""
        discard(worker)
        worker.attempt += 1
        if worker.attempt < attempts:
            wait(worker)
            return
        if worker.mismatched:
            finish(
                worker,
                _Failure(
                    Rcode.ERROR,
                    f"{_MISMATCH}: {worker.mismatched} response(s), none for this query "
                    f"within {timeout:g}s",
                ),
            )
        else:
            finish(worker, _timed_out(timeout, attempts))
        start(worker, pending)

    def receive(worker: _Worker, sock: socket.socket) -> None:
        try:
            wire = sock.recv(_MAX_DATAGRAM, _DONTWAIT)
        except BlockingIOError:
            return
        except OSError as exc:
            if worker.job < 0 or sock is not worker.sock:
                return
            # On a connected socket an ICMP "port unreachable" reads as ConnectionRefusedError.
            discard(worker)
            finish(worker, _Failure(Rcode.ERROR, _describe(exc)))
            start(worker, pending)
            return
        if worker.job < 0 or sock is not worker.sock:
            return  # no query in flight on this socket: a late or stray datagram, dropped
        assert worker.question is not None
        result = _read_answer(wire, worker.qid, worker.question)
        if result is None:
            # A stray or forged datagram (another ID or question): stub resolvers drop
            # it and wait on for the reply to their query.
            worker.mismatched += 1
            return
        if type(result) is _Failure:
            discard(worker)
        job = worker.job
        worker.job = -1
        done(job, result, worker.started)
        start(worker, pending)

    try:
        for worker in workers:
            start(worker, pending)
        flush()
        while True:
            deadlines = [w.deadline for w in workers if w.job >= 0]
            if not deadlines:
                return
            soonest = min(deadlines)
            for fd, _ in poller.poll(max(0, math.ceil((soonest - monotonic()) * 1000))):
                ready = by_fd.get(fd)
                if ready is not None:  # else closed while handling an earlier one
                    receive(*ready)
            now = monotonic()
            if soonest <= now:  # else none is late
                for worker in workers:
                    if worker.job >= 0 and worker.deadline <= now:
                        expire(worker)
            flush()
    finally:
        for worker in workers:
            for sock in worker.sockets.values():
                sock.close()
        if isinstance(poller, _SelectorPoll):
            poller.close()
