"""DNS over TCP, one connection per query, for the few questions that need it.

The resolver (:mod:`hsvc.adapters.resolver`) asks every question's first query in
plain poll loops (:mod:`hsvc.adapters.udpbatch`, :mod:`hsvc.adapters.pipeline`);
the TCP probe asks one question of each server over TCP: those exchanges are
here, in a poll loop of their own (no event loop: a small run never imports
asyncio). The truncated UDP answers asked again over TCP share a few pipelined
connections instead (:mod:`hsvc.adapters.followup`), each with the outcome an
exchange here gives.

Each exchange is what a stub resolver does: connect, send the framed query
(RFC 1035 4.2.2), read the two-byte length and the message, all within the
exchange's ``timeout``, on a connection that closes after it.
"""

from __future__ import annotations

import errno
import os
import selectors
import socket
import time
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
from hsvc.adapters.nameservers import address_family
from hsvc.core.model import Nameserver, Rcode

_CONNECTING = (errno.EINPROGRESS, errno.EWOULDBLOCK, errno.EALREADY)


class _Exchange:
    """One question over TCP: its connection, bytes out and in."""

    __slots__ = (
        "at",
        "connecting",
        "deadline",
        "inbox",
        "outbox",
        "qid",
        "question",
        "server",
        "sock",
    )

    def __init__(self, at: int, question: _Prepared, server: Nameserver) -> None:
        self.at = at  # its place in the results
        self.question = question
        self.server = server
        self.sock: socket.socket | None = None
        self.connecting = False
        self.qid = 0
        self.outbox = b""
        self.inbox = b""
        self.deadline = 0.0


def _address(server: Nameserver, family: int) -> tuple[str, int] | tuple[str, int, int, int]:
    """The socket address of ``server`` as a connect error names it (flow and scope 0 for IPv6)."""
    if family == socket.AF_INET6:
        return (server.host, server.port, 0, 0)
    return (server.host, server.port)


def _connect(server: Nameserver) -> tuple[socket.socket, bool]:
    """A non-blocking TCP socket connecting to ``server``, and whether it is still connecting.

    Raises:
        OSError: The socket could not be made, or the connect failed at once.
    """
    family = address_family(server.host)
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setblocking(False)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        code = sock.connect_ex(_address(server, family))
        if code and code not in _CONNECTING:
            raise OSError(code, os.strerror(code))
    except BaseException:
        sock.close()
        raise
    return sock, bool(code)


# long: one poll loop over every connection; its locals are the loop's state
def tcp_exchanges(
    asks: Sequence[tuple[_Prepared, Nameserver]],
    *,
    timeout: float,
    concurrency: int,
) -> list[_Response | _Failure]:
    """Ask each question of its server over TCP once, at most ``concurrency`` at once.

    Returns each exchange's response or why there is none, in the order asked:
    no whole answer within ``timeout`` is a timeout; a refused or broken
    connection, or one closed before the whole answer, an error.
    """
    results: list[_Response | _Failure | None] = [None] * len(asks)
    queue = iter([_Exchange(at, q, s) for at, (q, s) in enumerate(asks)])
    flying: list[_Exchange] = []
    ids = _query_ids()
    monotonic = time.monotonic
    selector = selectors.DefaultSelector()
    timed_out = _timed_out(timeout, 1)

    def end(exchange: _Exchange, outcome: _Response | _Failure) -> None:
        close(exchange)
        flying.remove(exchange)
        results[exchange.at] = outcome

    def close(exchange: _Exchange) -> None:
        if exchange.sock is not None:
            selector.unregister(exchange.sock)
            exchange.sock.close()
            exchange.sock = None

    def begin(exchange: _Exchange) -> None:
        """Start the exchange: its connection and query."""
        exchange.qid = qid = next(ids)
        query = _query_wire(qid, exchange.question.section)
        exchange.outbox = len(query).to_bytes(2, "big") + query
        exchange.inbox = b""
        exchange.deadline = monotonic() + timeout
        try:
            exchange.sock, exchange.connecting = _connect(exchange.server)
        except OSError as exc:
            end(exchange, _Failure(Rcode.ERROR, _describe(exc)))
            return
        selector.register(exchange.sock, selectors.EVENT_WRITE, exchange)

    def writable(exchange: _Exchange, sock: socket.socket) -> None:
        if exchange.connecting:
            code = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if code:
                address = _address(exchange.server, sock.family)
                raise OSError(code, f"Connect call failed {address}")
            exchange.connecting = False
        sent = sock.send(exchange.outbox)
        exchange.outbox = exchange.outbox[sent:]
        if not exchange.outbox:
            selector.modify(sock, selectors.EVENT_READ, exchange)

    def readable(exchange: _Exchange, sock: socket.socket) -> None:
        data = sock.recv(1 << 16)
        if not data:
            raise EOFError("connection closed before the whole answer")
        inbox = exchange.inbox = exchange.inbox + data
        if len(inbox) >= 2 and len(inbox) >= 2 + int.from_bytes(inbox[:2], "big"):
            wire = inbox[2 : 2 + int.from_bytes(inbox[:2], "big")]
            end(exchange, _read(wire, exchange.qid, exchange.question.section))

    def fill() -> None:
        while len(flying) < concurrency:
            exchange = next(queue, None)
            if exchange is None:
                return
            flying.append(exchange)
            begin(exchange)

    try:
        fill()
        while flying:
            soonest = min(e.deadline for e in flying)
            for key, events in selector.select(max(0.0, soonest - monotonic())):
                exchange, sock = key.data, key.fileobj
                if sock is not exchange.sock:
                    continue  # ended while handling an earlier event of this round
                try:
                    if events & selectors.EVENT_WRITE:
                        writable(exchange, sock)
                    elif events & selectors.EVENT_READ:
                        readable(exchange, sock)
                except BlockingIOError:
                    continue
                except (OSError, EOFError) as exc:
                    end(exchange, _Failure(Rcode.ERROR, _describe(exc)))
            now = monotonic()
            for exchange in [e for e in flying if e.deadline <= now]:
                end(exchange, timed_out)
            fill()
    finally:
        for exchange in flying:
            close(exchange)
        selector.close()
    return [r for r in results if r is not None]
