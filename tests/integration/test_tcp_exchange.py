"""TCP exchanges in a plain poll loop (hsvc.adapters.exchange), against the event loop's.

Each outcome is compared with what the same exchange gave when it ran in asyncio
(the reference below is that code): the same response, or the same failure,
word for word, from real servers on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import errno
import socket
import threading
from pathlib import Path

import pytest

from hsvc.adapters import exchange
from hsvc.adapters.dnswire import (
    _describe,
    _Failure,
    _prepare,
    _Prepared,
    _query_wire,
    _read,
    _Response,
    _timed_out,
)
from hsvc.adapters.exchange import tcp_exchanges
from hsvc.core.model import Nameserver, Question, Rcode
from tests.integration.seed_zone import seed_zones
from tests.integration.test_client_imports import in_fresh_python

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parent.parent.parent
QUESTION = _prepare(Question(name="eureka.ms.svc.cluster.local", type="A"))


async def _asyncio_exchange(
    question: _Prepared, server: Nameserver, timeout: float
) -> _Response | _Failure:
    """One TCP exchange as the resolver ran it in an event loop (the reference)."""
    qid = 4242
    query = _query_wire(qid, question.section)
    writer: asyncio.StreamWriter | None = None
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(server.host, server.port)
            writer.write(len(query).to_bytes(2, "big") + query)
            size = int.from_bytes(await reader.readexactly(2), "big")
            wire = await reader.readexactly(size)
    except TimeoutError:
        return _timed_out(timeout, 1)
    except (OSError, EOFError) as exc:
        return _Failure(Rcode.ERROR, _describe(exc))
    finally:
        if writer is not None:
            writer.close()
    return _read(wire, qid, question.section)


def _free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _same_records(outcome: _Response | _Failure) -> _Response | _Failure:
    """The outcome with its records in one order (a server may send an RRset in any)."""
    if isinstance(outcome, _Failure):
        return outcome
    answer = tuple(sorted(outcome.answer, key=lambda r: r.data))
    return _Response(outcome.rcode, outcome.truncated, answer, outcome.size)


def _both(server: Nameserver, timeout: float = 0.3) -> tuple[object, object]:
    ours = tcp_exchanges([(QUESTION, server)], timeout=timeout, concurrency=1)
    assert len(ours) == 1
    theirs = asyncio.run(_asyncio_exchange(QUESTION, server, timeout))
    return _same_records(ours[0]), _same_records(theirs)


def test_an_answer_reads_as_in_the_event_loop(make_knot) -> None:
    knot = make_knot(seed_zones())
    ours, theirs = _both(Nameserver(host="127.0.0.1", port=knot.port), timeout=2.0)
    assert isinstance(ours, _Response) and ours == theirs
    assert [r.data for r in ours.answer] and not ours.truncated


@pytest.mark.parametrize("mode", ["silent", "truncate", "truncate-tcp", "wrong-id", "garbage"])
def test_a_bad_server_fails_as_in_the_event_loop(make_bad_dns, mode: str) -> None:
    ours, theirs = _both(make_bad_dns(mode).nameserver)
    assert ours == theirs
    expected = {
        "silent": _timed_out(0.3, 1),
        "truncate": _Failure(Rcode.ERROR, "connection closed by server"),
    }.get(mode)
    if expected is not None:
        assert ours == expected
    if mode == "truncate-tcp":
        assert isinstance(ours, _Response) and ours.truncated


def test_a_refused_connection_fails_as_in_the_event_loop() -> None:
    ours, theirs = _both(Nameserver(host="127.0.0.1", port=_free_port()))
    assert ours == theirs == _Failure(Rcode.ERROR, "connection refused")
    # IPv6 (refused, or unreachable where the machine has no ::1).
    ours, theirs = _both(Nameserver(host="::1", port=_free_port()))
    assert ours == theirs and isinstance(ours, _Failure)


def test_a_connect_that_fails_at_once_as_in_the_event_loop(monkeypatch) -> None:
    """A connect refused before it starts (here: no route) is worded as the event loop words it."""

    def no_route(self: socket.socket, address: object) -> int:
        return errno.ENETUNREACH

    monkeypatch.setattr(socket.socket, "connect_ex", no_route)
    ours = tcp_exchanges(
        [(QUESTION, Nameserver(host="127.0.0.1", port=53))], timeout=1.0, concurrency=1
    )
    assert ours == [_Failure(Rcode.ERROR, "network error: network is unreachable")]


def test_a_reset_and_a_trickled_answer_as_in_the_event_loop() -> None:
    """An answer sent a byte at a time is read whole; a reset is an error, as before."""
    response = bytes.fromhex("1092 8180 0001 0000 0000 0000".replace(" ", "")) + QUESTION.section

    def serve(listener: socket.socket, reset: bool) -> None:
        for _ in range(2):  # ours, then the reference
            conn, _ = listener.accept()
            with conn:
                query = conn.recv(4096)
                if reset:
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")
                    continue
                reply = query[2:4] + response[2:]
                for byte in len(reply).to_bytes(2, "big") + reply:
                    conn.sendall(bytes([byte]))

    for reset in (False, True):
        with socket.socket() as listener:
            listener.bind(("127.0.0.1", 0))
            listener.listen(4)
            thread = threading.Thread(target=serve, args=(listener, reset), daemon=True)
            thread.start()
            server = Nameserver(host="127.0.0.1", port=listener.getsockname()[1])
            ours, theirs = _both(server, timeout=2.0)
            thread.join(5)
        if reset:
            assert ours == theirs == _Failure(Rcode.ERROR, "connection reset by server")
        else:
            assert isinstance(ours, _Response) and ours == theirs
            assert ours.rcode == 0 and ours.answer == () and ours.size == len(response)


def test_at_most_concurrency_connections_at_once(make_bad_dns, monkeypatch) -> None:
    """Each exchange has a connection of its own; no more than ``concurrency`` are open."""
    opened: list[socket.socket] = []
    most = [0]
    connect = exchange._connect

    def counted(server: Nameserver) -> tuple[socket.socket, bool]:
        live = sum(1 for s in opened if s.fileno() != -1)
        most[0] = max(most[0], live + 1)
        sock, connecting = connect(server)
        opened.append(sock)
        return sock, connecting

    monkeypatch.setattr(exchange, "_connect", counted)
    silent = make_bad_dns("silent").nameserver
    refused = Nameserver(host="127.0.0.1", port=_free_port())
    asks = [(QUESTION, silent if i % 2 else refused) for i in range(7)]
    outcomes = tcp_exchanges(asks, timeout=0.2, concurrency=2)
    assert len(opened) == 7 and most[0] == 2
    assert all(s.fileno() == -1 for s in opened)  # every connection closed at the end
    assert outcomes == [
        _timed_out(0.2, 1) if i % 2 else _Failure(Rcode.ERROR, "connection refused")
        for i in range(7)
    ]


def test_large_answers_are_finished_without_asyncio(make_bad_dns) -> None:
    """Truncated answers go on over UDP without EDNS and over TCP; asyncio stays unloaded."""
    server = make_bad_dns("truncate-tcp").nameserver
    code = (
        "import json, sys\n"
        "from hsvc.adapters.resolver import resolve_all\n"
        "from hsvc.core.model import Nameserver, Question\n"
        f"server = Nameserver(host={server.host!r}, port={server.port})\n"
        "obs = resolve_all([Question(name=f'n{i}.example', type='A') for i in range(3)],\n"
        "    [server], timeout=2.0)\n"
        "print('\\n--- result ---')\n"
        "print(json.dumps([[o.too_large, o.truncated, o.transport.tcp_error, o.error]\n"
        "    for o in obs] + ['asyncio' in sys.modules]))\n"
    )
    *rows, loaded = in_fresh_python(code)
    assert loaded is False
    assert (
        rows
        == [
            [
                True,
                True,
                "the TCP answer is truncated too (over 65535 bytes)",
                "answer truncated over UDP and TCP failed: "
                "the TCP answer is truncated too (over 65535 bytes)",
            ]
        ]
        * 3
    )
