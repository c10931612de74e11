"""DNS over TCP to TCP-only servers: a few long-lived connections per server, queries pipelined.

The state (open connections per server) lives in a :class:`Pipelines` value that
the resolver creates for one run and closes at its end; nothing is held between
runs or in the module.
"""

from __future__ import annotations

import asyncio

import dns.entropy  # noqa: TID251

from hsvc.adapters.dnswire import (
    _MISMATCH,
    MismatchError,
    _answers,
    _describe,
    _Failure,
    _Prepared,
    _query_wire,
    _question_wire,
    _read_wire,
    _Response,
    _timed_out,
)
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
# queries. Measured in docs/reference/benchmarks.md.

PIPELINE_CONNECTIONS = 2  # per TCP-only server


class _Closed(Exception):  # noqa: N818  (a private signal)
    """The server closed a pipelined connection before answering."""


class _TcpConnection:
    """One pipelined TCP connection: queries go out at once, answers come back by ID."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer
        self.pending: dict[int, asyncio.Future[bytes]] = {}
        self.retired = False  # takes no new queries (one timed out, or it closed)
        self._task = asyncio.get_running_loop().create_task(self._read())

    async def ask(self, section: bytes, timeout: float) -> bytes:
        """Send one query and wait for its answer.

        Raises:
            TimeoutError: No answer within ``timeout``.
            _Closed: The connection closed first.
            OSError: Writing failed.
        """
        qid = dns.entropy.random_16()
        while qid in self.pending:
            qid = dns.entropy.random_16()
        waiter: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self.pending[qid] = waiter
        wire = _query_wire(qid, section)
        try:
            self._writer.write(len(wire).to_bytes(2, "big") + wire)
            async with asyncio.timeout(timeout):
                await self._writer.drain()
                answer = await waiter
        except TimeoutError:
            self.retired = True
            raise
        finally:
            self.pending.pop(qid, None)
            if self.retired and not self.pending:
                self.close()
        if not _answers(answer, qid, section):
            raise MismatchError
        return answer

    async def _read(self) -> None:
        try:
            while True:
                size = int.from_bytes(await self._reader.readexactly(2), "big")
                wire = await self._reader.readexactly(size)
                waiter = self.pending.get(int.from_bytes(wire[:2], "big"))
                if waiter is not None and not waiter.done():
                    waiter.set_result(wire)
        except (asyncio.IncompleteReadError, OSError):
            pass
        self.retired = True
        for waiter in self.pending.values():
            if not waiter.done():
                waiter.set_exception(_Closed())
                # Mark it retrieved: an asker that already gave up must not make asyncio
                # log "Future exception was never retrieved" on stderr.
                waiter.exception()

    def close(self) -> None:
        self.retired = True
        self._task.cancel()
        self._writer.close()

    async def wait_closed(self) -> None:
        self.close()
        await asyncio.gather(self._task, return_exceptions=True)
        try:
            await self._writer.wait_closed()
        except OSError:
            pass


class _TcpPipeline:
    """The pipelined connections to one TCP-only server."""

    def __init__(self, server: Nameserver, most: int) -> None:
        self.server = server
        self.most = most  # connections at most
        self.connections: list[_TcpConnection] = []
        self._connecting: asyncio.Lock = asyncio.Lock()

    async def _connection(self, timeout: float) -> _TcpConnection:
        self.connections = [c for c in self.connections if not (c.retired and not c.pending)]
        live = [c for c in self.connections if not c.retired]
        if len(live) >= self.most:
            return min(live, key=lambda c: len(c.pending))
        async with self._connecting:
            live = [c for c in self.connections if not c.retired]
            # Open another connection only when every live one is busy.
            if live and (len(live) >= self.most or not all(c.pending for c in live)):
                return min(live, key=lambda c: len(c.pending))
            async with asyncio.timeout(timeout):
                reader, writer = await asyncio.open_connection(self.server.host, self.server.port)
            connection = _TcpConnection(reader, writer)
            self.connections.append(connection)
            return connection

    async def exchange(
        self, question: _Prepared, *, timeout: float, attempts: int
    ) -> _Response | _Failure:
        """Ask one question, retrying on timeout or a closed connection."""
        section = _question_wire(question)
        failure: _Failure = _timed_out(timeout, attempts)
        for _ in range(attempts):
            try:
                connection = await self._connection(timeout)
                wire = await connection.ask(section, timeout)
            except TimeoutError:
                failure = _timed_out(timeout, attempts)
                continue
            except _Closed:
                failure = _Failure(Rcode.ERROR, "connection closed by server")
                continue
            except MismatchError:
                return _Failure(Rcode.ERROR, _MISMATCH)
            except OSError as exc:
                return _Failure(Rcode.ERROR, _describe(exc))
            return _read_wire(wire)
        return failure

    async def close(self) -> None:
        await asyncio.gather(*(c.wait_closed() for c in self.connections))
        self.connections = []


class Pipelines:
    """Every TCP-only server's pipeline within one run; :meth:`close` ends them all."""

    def __init__(self, connections: int = PIPELINE_CONNECTIONS) -> None:
        self._connections = connections
        self._by_server: dict[Nameserver, _TcpPipeline] = {}

    async def exchange(
        self, question: _Prepared, server: Nameserver, *, timeout: float, attempts: int
    ) -> _Response | _Failure:
        """Ask one question of ``server`` over one of its pipelined connections."""
        pipeline = self._by_server.get(server)
        if pipeline is None:
            pipeline = self._by_server[server] = _TcpPipeline(server, self._connections)
        return await pipeline.exchange(question, timeout=timeout, attempts=attempts)

    async def close(self) -> None:
        """Close every connection and wait until each has closed."""
        pipelines, self._by_server = list(self._by_server.values()), {}
        await asyncio.gather(*(p.close() for p in pipelines))
