"""DNS over TCP to TCP-only servers: a few long-lived connections per server, queries pipelined.

The state (open connections per server) lives in a :class:`Pipelines` value that
the resolver creates for one run (its probe and the rest) and closes at its end;
nothing is held between runs or in the module.
"""

from __future__ import annotations

import errno
import selectors
import socket
import time
from collections.abc import Callable, Iterator, Sequence

from hsvc.adapters.dnswire import (
    _MISMATCH,
    _describe,
    _Failure,
    _Prepared,
    _query_ids,
    _query_wire,
    _read_answer,
    _Response,
    _timed_out,
)
from hsvc.adapters.nameservers import address_family
from hsvc.core.model import Nameserver, Rcode

# --- TCP-only servers: pipelined connections (RFC 7766) ------------------------------------
#
# A TCP-only server is usually a port-forward relay (hsvc.adapters.kubestreams): every
# connection to it is one websocket through the API server and the kubelet, which
# costs far more than a query. So queries share a few long-lived connections and
# are pipelined: sent without waiting, each with an ID unique on its connection,
# and matched to their responses by ID (RFC 7766 section 6.2.1.1). CoreDNS serves
# any number of queries per connection (tcpMaxQueries -1) but answers them in
# order, so one slow query (forwarded upstream) holds up those behind it: hence
# more than one connection, and a connection where a query timed out takes no new
# queries. The connections are polled together in a plain loop, without a task,
# a future and a timer per query (measured in docs/reference/benchmarks.md, goal 4).

PIPELINE_CONNECTIONS = 2  # per TCP-only server
_CLOSED = "connection closed by server"


class _Query:
    """One question in flight: its job, attempt and the connection carrying it."""

    __slots__ = (
        "attempt",
        "connection",
        "deadline",
        "job",
        "qid",
        "question",
        "started",
    )

    def __init__(self, job: int, question: _Prepared, started: float) -> None:
        self.job = job
        self.question = question
        self.started = started  # time.monotonic() of the first send
        self.attempt = 0
        self.qid = -1  # not sent yet (its connection is still connecting)
        self.deadline = 0.0
        self.connection: _Connection | None = None


class _Connection:
    """One pipelined TCP connection: queries go out at once, answers come back by ID."""

    __slots__ = (
        "connecting",
        "events",
        "inbox",
        "outbox",
        "pending",
        "retired",
        "server",
        "sock",
        "waiting",
    )

    def __init__(self, server: Nameserver, sock: socket.socket) -> None:
        self.server = server
        self.sock = sock
        self.connecting = True
        self.pending: dict[int, _Query] = {}  # by query ID
        self.waiting: list[_Query] = []  # to send once connected
        self.retired = False  # takes no new queries (one timed out, or it closed)
        self.outbox = bytearray()
        self.inbox = b""  # the start of a message still arriving
        self.events = selectors.EVENT_READ | selectors.EVENT_WRITE  # registered for

    @property
    def load(self) -> int:
        return len(self.pending) + len(self.waiting)


class Pipelines:
    """Every TCP-only server's connections within one run; :meth:`close` ends them all."""

    def __init__(self, connections: int = PIPELINE_CONNECTIONS) -> None:
        self.connections = connections
        self.selector = selectors.DefaultSelector()
        self.by_server: dict[Nameserver, list[_Connection]] = {}

    def close(self) -> None:
        """Close every connection (the server sees EOF) and the selector."""
        for server_connections in self.by_server.values():
            for connection in server_connections:
                connection.sock.close()
        self.by_server = {}
        self.selector.close()


# long: one poll loop over every pipelined connection; its locals are the loop's state
def pipelined_exchanges(
    pipelines: Pipelines,
    jobs: Sequence[tuple[_Prepared, Nameserver]],
    indices: Sequence[int],
    *,
    timeout: float,
    attempts: int,
    concurrency: int,
    skip: Callable[[int], bool],
    done: Callable[[int, _Response | _Failure, float], None],
) -> None:
    """Ask job ``i``'s question of its TCP-only server for each of ``indices``.

    At most ``concurrency`` queries are in flight, over at most ``connections``
    connections per server (another is opened only when every live one has a
    query in flight). ``skip`` and ``done`` are as for
    :func:`hsvc.adapters.udpbatch.first_exchanges`. A query with no answer within
    ``timeout``, or whose connection closed, is sent again (``attempts`` in all);
    a connection where a query timed out takes no new ones and closes once empty.
    """
    pending = iter(indices)
    selector, by_server, connections = (
        pipelines.selector,
        pipelines.by_server,
        pipelines.connections,
    )
    flying: dict[_Query, None] = {}  # in the order they started
    ids = _query_ids()
    timed_out = _timed_out(timeout, attempts)
    monotonic = time.monotonic
    unsent: set[_Connection] = set()  # connections with queries to write this round

    def finish(query: _Query, outcome: _Response | _Failure) -> None:
        del flying[query]
        done(query.job, outcome, query.started)

    def close(connection: _Connection) -> None:
        connection.retired = True
        unsent.discard(connection)
        by_server[connection.server].remove(connection)
        selector.unregister(connection.sock)
        connection.sock.close()

    def connection_for(server: Nameserver) -> _Connection:
        """The live connection with the fewest queries, or a new one while all are busy.

        Raises:
            OSError: A new connection could not be started.
        """
        best: _Connection | None = None
        least = live = 0
        busy = True  # every live one has queries (one connecting is as good as open)
        for c in by_server.setdefault(server, []):
            if c.retired:
                continue
            live += 1
            load = len(c.pending) + len(c.waiting)
            if best is None or load < least:
                best, least = c, load
            if not load or c.connecting:
                busy = False
        if best is not None and (live >= connections or not busy):
            return best
        sock = socket.socket(address_family(server.host), socket.SOCK_STREAM)
        try:
            sock.setblocking(False)
            code = sock.connect_ex((server.host, server.port))
            if code not in (0, errno.EINPROGRESS, errno.EWOULDBLOCK):
                raise OSError(code, _strerror(code))
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except BaseException:
            sock.close()
            raise
        connection = _Connection(server, sock)
        by_server[server].append(connection)
        selector.register(sock, selectors.EVENT_READ | selectors.EVENT_WRITE, connection)
        return connection

    def send(query: _Query) -> bool:
        """Put a query (its next attempt) on a connection; False when it has ended."""
        server = jobs[query.job][1]
        try:
            connection = connection_for(server)
        except OSError as exc:
            finish(query, _Failure(Rcode.ERROR, _describe(exc)))
            return False
        query.connection = connection
        query.deadline = monotonic() + timeout
        if connection.connecting:
            connection.waiting.append(query)
        else:
            write(connection, query)
        return True

    def write(connection: _Connection, query: _Query) -> None:
        qid = next(ids)
        while qid in connection.pending:
            qid = next(ids)
        query.qid = qid
        connection.pending[qid] = query
        wire = _query_wire(qid, query.question.section)
        connection.outbox += len(wire).to_bytes(2, "big") + wire  # RFC 1035 4.2.2 framing
        unsent.add(connection)

    def flush(connection: _Connection) -> None:
        """Write what the connection can take now; wait to be writable for the rest."""
        if connection.outbox:
            try:
                sent = connection.sock.send(connection.outbox)
            except BlockingIOError:
                sent = 0
            except OSError as exc:
                lost(connection, _Failure(Rcode.ERROR, _describe(exc)))
                return
            del connection.outbox[:sent]
        events = selectors.EVENT_READ | (selectors.EVENT_WRITE if connection.outbox else 0)
        if events != connection.events:
            connection.events = events
            selector.modify(connection.sock, events, connection)

    def retry(query: _Query, failure: _Failure) -> None:
        """The attempt ended without an answer: send it again, or give up with ``failure``."""
        query.attempt += 1
        query.connection = None
        if query.attempt >= attempts:
            finish(query, failure)
        elif not send(query):
            return

    def lost(connection: _Connection, failure: _Failure | None) -> None:
        """The connection closed (``failure`` None) or broke: every query on it ends or retries."""
        queries = [*connection.pending.values(), *connection.waiting]
        connection.pending.clear()
        connection.waiting.clear()
        close(connection)
        for query in queries:
            if failure is None:
                retry(query, _Failure(Rcode.ERROR, _CLOSED))
            else:
                finish(query, failure)

    def readable(connection: _Connection) -> None:
        try:
            data = connection.sock.recv(1 << 16)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            lost(connection, None)
            return
        if connection.inbox:
            data = connection.inbox + data
        offset, end = 0, len(data)
        while end - offset >= 2:
            after = offset + 2 + ((data[offset] << 8) | data[offset + 1])
            if after > end:
                break
            wire = data[offset + 2 : after]
            offset = after
            query = connection.pending.pop(int.from_bytes(wire[:2], "big"), None)
            if query is None:
                continue  # an answer to a query that gave up: dropped
            result = _read_answer(wire, query.qid, query.question)
            finish(query, _Failure(Rcode.ERROR, _MISMATCH) if result is None else result)
        connection.inbox = data[offset:]
        if connection.retired and not connection.pending:
            close(connection)

    def writable(connection: _Connection) -> None:
        if connection.connecting:
            code = connection.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if code:
                lost(connection, _Failure(Rcode.ERROR, _describe(OSError(code, _strerror(code)))))
                return
            connection.connecting = False
            waiting, connection.waiting = connection.waiting, []
            for query in waiting:
                write(connection, query)
        flush(connection)

    def expire(now: float) -> None:
        for query in [q for q in flying if q.deadline <= now]:
            connection = query.connection
            if connection is not None:
                connection.retired = True  # a slow answer holds up those behind it
                connection.pending.pop(query.qid, None)
                if query in connection.waiting:
                    connection.waiting.remove(query)
                if not connection.load and connection in by_server[connection.server]:
                    close(connection)
            retry(query, timed_out)

    def fill(queue: Iterator[int]) -> None:
        while len(flying) < concurrency:
            job = next(queue, None)
            if job is None:
                return
            if skip(job):
                continue
            query = _Query(job, jobs[job][0], monotonic())
            flying[query] = None
            send(query)

    try:
        fill(pending)
        for connection in list(unsent):
            unsent.discard(connection)
            flush(connection)
        while flying:
            soonest = min(q.deadline for q in flying)
            for key, events in selector.select(max(0.0, soonest - monotonic())):
                connection = key.data
                if connection.retired and connection not in by_server[connection.server]:
                    continue  # closed while handling an earlier event of this round
                if events & selectors.EVENT_WRITE:
                    writable(connection)
                if events & selectors.EVENT_READ and connection in by_server[connection.server]:
                    readable(connection)
            now = monotonic()
            if soonest <= now:  # else none is late
                expire(now)
            fill(pending)
            for connection in list(unsent):
                unsent.discard(connection)
                if not connection.connecting:
                    flush(connection)
    except BaseException:
        pipelines.close()  # interrupted: connections in an unknown state
        raise


def _strerror(code: int) -> str:
    import os

    return os.strerror(code)
