"""Single DNS exchanges in the event loop, for the few answers that need more than one.

The resolver (:mod:`hsvc.adapters.resolver`) asks every question's first query in
plain poll loops (:mod:`hsvc.adapters.udpbatch`, :mod:`hsvc.adapters.pipeline`);
an answer over 512 bytes is asked again over UDP without EDNS, a truncated one
over TCP, and the TCP probe asks one question over TCP: those exchanges are here.
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any, cast

import dns.entropy  # noqa: TID251
import dns.inet  # noqa: TID251

from hsvc.adapters.dnswire import (
    _MISMATCH,
    _answers,
    _describe,
    _Failure,
    _Prepared,
    _query_wire,
    _question_wire,
    _read,
    _Response,
    _timed_out,
)
from hsvc.core.model import Nameserver, Rcode


class _Udp(asyncio.DatagramProtocol):
    """A connected UDP socket whose next datagram (or ICMP error) answers one waiter."""

    def __init__(self) -> None:
        self.transport: asyncio.DatagramTransport | None = None
        self.waiter: asyncio.Future[bytes] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # asyncio's selector transport implements DatagramTransport without subclassing it.
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(data)

    def error_received(self, exc: Exception) -> None:
        # On a connected socket the ICMP "port unreachable" of a closed port
        # arrives here as ConnectionRefusedError instead of reading as a timeout.
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(exc)


class _Sockets:
    """One worker's UDP sockets, one per server, opened on first use."""

    def __init__(self) -> None:
        self._open: dict[Nameserver, _Udp] = {}

    async def get(self, server: Nameserver) -> _Udp:
        udp = self._open.get(server)
        if udp is None:
            sock = socket.socket(dns.inet.af_for_address(server.host), socket.SOCK_DGRAM)
            try:
                sock.setblocking(False)
                sock.connect((server.host, server.port))
                _, udp = await asyncio.get_running_loop().create_datagram_endpoint(_Udp, sock=sock)
            except BaseException:
                sock.close()
                raise
            self._open[server] = udp
        return udp

    def discard(self, server: Nameserver) -> None:
        """Close a socket after a failed exchange, so a late reply cannot meet the next query."""
        udp = self._open.pop(server, None)
        if udp is not None and udp.transport is not None:
            udp.transport.close()

    def close(self) -> None:
        for server in list(self._open):
            self.discard(server)


async def _exchange_udp(
    question: _Prepared,
    server: Nameserver,
    sockets: _Sockets,
    timeout: float,
    *,
    attempts: int,
    edns: bool = True,
) -> _Response | _Failure:
    """Send one query over UDP, retrying on timeout; return the response or why there is none."""
    section = _question_wire(question)
    mismatched = 0
    for _ in range(attempts):
        qid = dns.entropy.random_16()
        try:
            udp = await sockets.get(server)
        except OSError as exc:
            return _Failure(Rcode.ERROR, _describe(exc))
        assert udp.transport is not None
        waiter = udp.waiter = asyncio.get_running_loop().create_future()
        try:
            udp.transport.sendto(_query_wire(qid, section, edns=edns))
            async with asyncio.timeout(timeout):
                wire = await waiter
                while not _answers(wire, qid, section):
                    # A stray or forged datagram (another ID or question): stub
                    # resolvers drop it and wait on for the reply to their query.
                    mismatched += 1
                    waiter = udp.waiter = asyncio.get_running_loop().create_future()
                    wire = await waiter
        except TimeoutError:
            sockets.discard(server)
            continue
        except OSError as exc:
            sockets.discard(server)
            return _Failure(Rcode.ERROR, _describe(exc))
        finally:
            udp.waiter = None
        result = _read(wire, qid, section)
        if isinstance(result, _Failure):
            sockets.discard(server)
        return result
    if mismatched:
        return _Failure(
            Rcode.ERROR,
            f"{_MISMATCH}: {mismatched} response(s), none for this query within {timeout:g}s",
        )
    return _timed_out(timeout, attempts)


async def _exchange_tcp(
    question: _Prepared,
    server: Nameserver,
    *,
    timeout: float,
    attempts: int,
) -> _Response | _Failure:
    """Send one query over TCP, on a connection of its own, retrying on timeout.

    For a UDP server's truncated answers; TCP-only servers are asked pipelined
    (:mod:`hsvc.adapters.pipeline`).
    """
    section = _question_wire(question)
    for _ in range(attempts):
        qid = dns.entropy.random_16()
        query = _query_wire(qid, section)
        writer: asyncio.StreamWriter | None = None
        try:
            async with asyncio.timeout(timeout):
                reader, writer = await asyncio.open_connection(server.host, server.port)
                writer.write(len(query).to_bytes(2, "big") + query)  # RFC 1035 4.2.2 framing
                size = int.from_bytes(await reader.readexactly(2), "big")
                wire = await reader.readexactly(size)
        except TimeoutError:
            continue
        except (OSError, EOFError) as exc:  # IncompleteReadError is an EOFError
            return _Failure(Rcode.ERROR, _describe(exc))
        finally:
            if writer is not None:
                writer.close()
        return _read(wire, qid, section)
    return _timed_out(timeout, attempts)
