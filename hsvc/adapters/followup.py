"""The TCP follow-ups of truncated UDP answers: a few pipelined connections per server.

An answer a client without EDNS gets truncated is asked again over TCP
(:func:`hsvc.adapters.resolver._follow_ups`): hundreds of them in a large run (an
SRV set of a headless Service of a few dozen pods is over 512 bytes). A
connection each, 64 at once, overflowed the server's listen queue (knotd's holds
10 connections): the dropped SYNs were sent again after TCP's initial
retransmission timeout of one second (docs/reference/benchmarks.md, goal 3). So
the follow-ups share at most :data:`CONNECTIONS` connections per server, their
queries pipelined (RFC 7766 section 6.2.1.1: each with an ID unique on its
connection, answers matched by ID), at most :data:`PER_CONNECTION` in flight on
each.

Each question's outcome is what a connection of its own gives
(:func:`hsvc.adapters.exchange.tcp_exchanges`, word for word):

- a connection takes a second query only once it answered its first, so a
  server that refuses, resets, closes, stalls or answers garbage does so to one
  query on a connection of its own, and that is its outcome; every later
  question to that server then goes on a connection of its own, as before;
- on a connection that carried more than one query, only a response that
  answers its query (its ID and question) is taken. A connection that closes or
  breaks after answering hands its unanswered queries to another connection; any
  other frame (an unknown ID, a mismatch) sends them each to a connection of its
  own; a query with no answer within ``timeout`` is asked again on a connection
  of its own (a server that answers in order holds the queries behind a slow
  one), so a stalling server may cost such a question two timeouts.
"""

from __future__ import annotations

import selectors
import socket
import time
from collections import deque
from collections.abc import Sequence

from hsvc.adapters.dnswire import (
    _describe,
    _Failure,
    _Prepared,
    _query_ids,
    _query_wire,
    _read,
    _Response,
    _timed_out,
)
from hsvc.adapters.exchange import _address, _connect
from hsvc.core.model import Nameserver, Rcode

CONNECTIONS = 4  # pipelined per server at once (under knotd's listen queue of 10)
PER_CONNECTION = 16  # queries in flight on one connection
_READ = selectors.EVENT_READ
_BOTH = selectors.EVENT_READ | selectors.EVENT_WRITE


class _Ask:
    """One question: its place in the results, and the connection carrying it now."""

    __slots__ = ("alone", "at", "deadline", "link", "qid", "question", "server")

    def __init__(self, at: int, question: _Prepared, server: Nameserver) -> None:
        self.at = at
        self.question = question
        self.server = server
        self.alone = False  # to be asked on a connection of its own
        self.link: _Link | None = None
        self.qid = 0
        self.deadline = 0.0


class _Link:
    """One TCP connection: the queries it carried, bytes out and in."""

    __slots__ = (
        "alone",
        "answered",
        "carried",
        "connecting",
        "events",
        "inbox",
        "outbox",
        "pending",
        "retired",
        "server",
        "sock",
    )

    def __init__(self, server: Nameserver, sock: socket.socket, connecting: bool) -> None:
        self.server = server
        self.sock: socket.socket | None = sock  # None once closed
        self.connecting = connecting
        self.alone = False  # carries one query, then closes
        self.answered = False  # answered a query: takes more
        self.retired = False  # takes no new queries (one timed out)
        self.carried = 0
        self.pending: dict[int, _Ask] = {}  # by query ID
        self.outbox = bytearray()
        self.inbox = b""
        self.events = _BOTH


def tcp_follow_ups(
    asks: Sequence[tuple[_Prepared, Nameserver]],
    *,
    timeout: float,
    concurrency: int,
) -> list[_Response | _Failure]:
    """Ask each question of its server over TCP, at most ``concurrency`` at once.

    Returns each question's response or why there is none, in the order asked,
    as :func:`hsvc.adapters.exchange.tcp_exchanges` does.
    """
    return _FollowUps(asks, timeout, concurrency).run()


class _FollowUps:
    """The state of one run: the questions waiting per server, the connections, the results."""

    def __init__(
        self, asks: Sequence[tuple[_Prepared, Nameserver]], timeout: float, concurrency: int
    ) -> None:
        self.results: list[_Response | _Failure | None] = [None] * len(asks)
        self.queues: dict[Nameserver, deque[_Ask]] = {}
        for at, (question, server) in enumerate(asks):
            self.queues.setdefault(server, deque()).append(_Ask(at, question, server))
        self.links: dict[Nameserver, list[_Link]] = {server: [] for server in self.queues}
        self.distrusted: set[Nameserver] = set()  # asked a connection per question
        self.flying: dict[_Ask, None] = {}  # sent (or connecting), in the order started
        self.unsent: set[_Link] = set()
        self.selector = selectors.DefaultSelector()
        self.ids = _query_ids()
        self.timeout = timeout
        self.concurrency = concurrency
        self.timed_out = _timed_out(timeout, 1)

    def run(self) -> list[_Response | _Failure]:
        try:
            self.fill()
            while self.flying:
                soonest = min(ask.deadline for ask in self.flying)
                for key, events in self.selector.select(max(0.0, soonest - time.monotonic())):
                    link: _Link = key.data
                    if link.sock is not None and events & selectors.EVENT_WRITE:
                        self.writable(link)
                    if link.sock is not None and events & _READ:
                        self.readable(link)
                now = time.monotonic()
                if soonest <= now:
                    self.expire(now)
                self.fill()
        finally:
            for links in self.links.values():
                for link in list(links):
                    self.close(link)
            self.selector.close()
        return [r for r in self.results if r is not None]

    # --- placing questions on connections --------------------------------------------

    def fill(self) -> None:
        """Start what waits, up to the bound; then write every connection's new queries.

        Once this returns, nothing waits unless a question is in flight: a write that
        fails hands its questions back, and they are placed again.
        """
        while True:
            placed = True
            while placed and len(self.flying) < self.concurrency:
                placed = False
                for server, queue in self.queues.items():
                    if queue and len(self.flying) < self.concurrency and self.place(server, queue):
                        placed = True
            if not self.unsent:
                return
            for link in list(self.unsent):
                self.unsent.discard(link)
                if link.sock is not None and not link.connecting:
                    self.flush(link)

    def place(self, server: Nameserver, queue: deque[_Ask]) -> bool:
        """Start the server's next question; False when it must wait for a connection."""
        ask = queue[0]
        alone = ask.alone or server in self.distrusted
        link = None if alone else self.pick(server)
        if link is None and not alone and self.open_links(server) >= CONNECTIONS:
            return False
        queue.popleft()
        if link is None:
            try:
                sock, connecting = _connect(server)
            except OSError as exc:
                self.results[ask.at] = _Failure(Rcode.ERROR, _describe(exc))
                self.distrusted.add(server)
                return True
            link = _Link(server, sock, connecting)
            link.alone = alone
            self.links[server].append(link)
            self.selector.register(sock, _BOTH, link)
        self.send(ask, link)
        return True

    def pick(self, server: Nameserver) -> _Link | None:
        """The least busy connection that answered and has room, if any."""
        best: _Link | None = None
        for link in self.links[server]:
            if link.answered and not (link.retired or link.alone or link.connecting):
                if len(link.pending) < PER_CONNECTION and (
                    best is None or len(link.pending) < len(best.pending)
                ):
                    best = link
        return best

    def open_links(self, server: Nameserver) -> int:
        """The server's connections that may take questions (or will, once answered)."""
        return sum(1 for link in self.links[server] if not (link.retired or link.alone))

    def send(self, ask: _Ask, link: _Link) -> None:
        qid = next(self.ids)
        while qid in link.pending:
            qid = next(self.ids)
        ask.qid, ask.link = qid, link
        ask.deadline = time.monotonic() + self.timeout
        link.pending[qid] = ask
        link.carried += 1
        wire = _query_wire(qid, ask.question.section)
        link.outbox += len(wire).to_bytes(2, "big") + wire  # RFC 1035 4.2.2 framing
        self.flying[ask] = None
        self.unsent.add(link)

    # --- outcomes ---------------------------------------------------------------------

    def end(self, ask: _Ask, outcome: _Response | _Failure) -> None:
        self.results[ask.at] = outcome
        del self.flying[ask]
        if ask.link is not None:
            ask.link.pending.pop(ask.qid, None)
            ask.link = None

    def again(self, ask: _Ask, *, alone: bool) -> None:
        """Put a question back at the front of its server's queue."""
        del self.flying[ask]
        if ask.link is not None:
            ask.link.pending.pop(ask.qid, None)
            ask.link = None
        ask.alone = ask.alone or alone
        self.queues[ask.server].appendleft(ask)

    def single(self, link: _Link) -> _Ask | None:
        """The one question of a connection that has carried only it, unanswered."""
        if link.carried == 1 and not link.answered and len(link.pending) == 1:
            return next(iter(link.pending.values()))
        return None

    def broke(self, link: _Link, exc: BaseException) -> None:
        """The connection failed or closed: its questions end, or go on elsewhere."""
        only = self.single(link)
        asks = list(link.pending.values())
        self.close(link)
        if only is not None:
            self.end(only, _Failure(Rcode.ERROR, _describe(exc)))
            self.distrusted.add(link.server)
            return
        for ask in asks:  # the connection answered before: the server limits its queries
            self.again(ask, alone=False)

    def frame(self, link: _Link, wire: bytes) -> None:
        """A whole message arrived on ``link``."""
        only = self.single(link)
        if only is not None:  # as on a connection of its own: this is its answer
            outcome = _read(wire, only.qid, only.question.section)
            self.end(only, outcome)
            if isinstance(outcome, _Response) and not link.alone:
                link.answered = True
            else:
                self.close(link)
                if not isinstance(outcome, _Response):
                    self.distrusted.add(link.server)
            return
        ask = link.pending.get(int.from_bytes(wire[:2], "big"))
        answer = None if ask is None else _read(wire, ask.qid, ask.question.section)
        if ask is None or not isinstance(answer, _Response):
            asks = list(link.pending.values())
            self.close(link)
            self.distrusted.add(link.server)
            for each in asks:
                self.again(each, alone=True)
            return
        self.end(ask, answer)

    def expire(self, now: float) -> None:
        for ask in [a for a in self.flying if a.deadline <= now]:
            link = ask.link
            assert link is not None
            if self.single(link) is ask:
                self.end(ask, self.timed_out)
                self.close(link)
                self.distrusted.add(link.server)
                continue
            link.retired = True  # a slow answer holds up those behind it
            self.again(ask, alone=True)
            if not link.pending:
                self.close(link)

    # --- the sockets ------------------------------------------------------------------

    def close(self, link: _Link) -> None:
        sock = link.sock
        if sock is None:
            return
        link.sock = None
        self.unsent.discard(link)
        self.links[link.server].remove(link)
        self.selector.unregister(sock)
        sock.close()

    def writable(self, link: _Link) -> None:
        sock = link.sock
        assert sock is not None
        if link.connecting:
            code = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if code:
                address = _address(link.server, sock.family)
                self.broke(link, OSError(code, f"Connect call failed {address}"))
                return
            link.connecting = False
        self.flush(link)

    def flush(self, link: _Link) -> None:
        """Write what the connection takes now; wait to be writable for the rest."""
        sock = link.sock
        assert sock is not None
        if link.outbox:
            try:
                sent = sock.send(link.outbox)
            except BlockingIOError:
                sent = 0
            except OSError as exc:
                self.broke(link, exc)
                return
            del link.outbox[:sent]
        events = _BOTH if link.outbox else _READ
        if events != link.events:
            link.events = events
            self.selector.modify(sock, events, link)

    def readable(self, link: _Link) -> None:
        sock = link.sock
        assert sock is not None
        try:
            data = sock.recv(1 << 16)
        except BlockingIOError:
            return
        except OSError as exc:
            self.broke(link, exc)
            return
        if not data:
            self.broke(link, EOFError("connection closed before the whole answer"))
            return
        data = link.inbox + data if link.inbox else data
        offset, end = 0, len(data)
        while end - offset >= 2:
            after = offset + 2 + int.from_bytes(data[offset : offset + 2], "big")
            if after > end:
                break
            self.frame(link, data[offset + 2 : after])
            offset = after
            if link.sock is None:
                return
        link.inbox = data[offset:]
        if link.retired and not link.pending:
            self.close(link)
