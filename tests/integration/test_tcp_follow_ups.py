"""TCP follow-ups pipelined over a few connections (hsvc.adapters.followup), over real sockets.

Each question's outcome must be what a connection of its own gives
(hsvc.adapters.exchange.tcp_exchanges, the follow-ups' code before): the same
response or the same failure, word for word, against TCP servers of this file's
own on 127.0.0.1 that pipeline, close or reset after some answers, stall, answer
out of order or with a wrong ID.
"""

from __future__ import annotations

import errno
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import dns.message
import dns.rrset
import pytest

from hsvc.adapters import followup
from hsvc.adapters.dnswire import _Failure, _prepare, _Prepared, _Response, _timed_out
from hsvc.adapters.exchange import tcp_exchanges
from hsvc.adapters.followup import CONNECTIONS, tcp_follow_ups
from hsvc.core.model import Nameserver, Question, Rcode

pytestmark = pytest.mark.integration

MISMATCH = _Failure(Rcode.ERROR, "response does not match the query (wrong ID or question)")


def _questions(count: int) -> list[_Prepared]:
    return [_prepare(Question(name=f"n{i}.ms.svc.cluster.local", type="A")) for i in range(count)]


def _address_of(name: str) -> str:
    """The address the test server answers for ``name`` (n<i>.…: 10.0.<i // 256>.<i % 256>)."""
    index = int(name.split(".")[0][1:])
    return f"10.0.{index // 256}.{index % 256}"


@dataclass
class _Server:
    """A TCP DNS server in threads, one per connection, misbehaving as told.

    ``limit``: answers per connection before ``after`` ("close", "reset" or "stall");
    ``reverse``: the queries that arrived together are answered last first;
    ``wrong_id``: every answer carries the query's ID plus one;
    ``trickle``: every answer is sent a byte at a time.
    """

    limit: int | None = None
    after: str = "close"
    reverse: bool = False
    wrong_id: bool = False
    trickle: bool = False
    connections: int = 0
    most_carried: int = 0  # the most queries one connection carried
    most_outstanding: int = 0  # the most queries read and not yet answered, over all connections
    outstanding: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    conns: list[socket.socket] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0), backlog=256)
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def nameserver(self) -> Nameserver:
        return Nameserver(host="127.0.0.1", port=self.port)

    def close(self) -> None:
        self.listener.close()
        for conn in list(self.conns):
            conn.close()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            with self.lock:
                self.connections += 1
                self.conns.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        inbox, answered, carried = b"", 0, 0
        while True:
            try:
                data = conn.recv(1 << 16)
            except OSError:
                return
            if not data:
                conn.close()
                return
            inbox += data
            queries = []
            while len(inbox) >= 2 and len(inbox) >= 2 + int.from_bytes(inbox[:2], "big"):
                size = int.from_bytes(inbox[:2], "big")
                queries.append(inbox[2 : 2 + size])
                inbox = inbox[2 + size :]
            carried += len(queries)
            with self.lock:
                self.most_carried = max(self.most_carried, carried)
                self.outstanding += len(queries)
                self.most_outstanding = max(self.most_outstanding, self.outstanding)
            if self.reverse:
                queries.reverse()
            for query in queries:
                if self.limit is not None and answered >= self.limit:
                    self._misbehave(conn)
                    return
                self._answer(conn, query)
                answered += 1

    def _misbehave(self, conn: socket.socket) -> None:
        if self.after == "reset":
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")
        if self.after in ("close", "reset"):
            conn.close()
        # "stall": the connection stays open, never answered again (closed at the end)

    def _answer(self, conn: socket.socket, query: bytes) -> None:
        message = dns.message.from_wire(query)
        response = dns.message.make_response(message)
        name = message.question[0].name
        response.answer.append(dns.rrset.from_text(name, 30, "IN", "A", _address_of(str(name))))
        if self.wrong_id:
            response.id = (message.id + 1) % 65536
        wire = response.to_wire()
        framed = len(wire).to_bytes(2, "big") + wire
        with self.lock:
            self.outstanding -= 1
        try:
            if self.trickle:
                for byte in framed:
                    conn.sendall(bytes([byte]))
            else:
                conn.sendall(framed)
        except OSError:
            return


@pytest.fixture
def serve() -> Iterator[type[_Server]]:
    started: list[_Server] = []

    def make(**options: object) -> _Server:
        server = _Server(**options)  # type: ignore[arg-type]
        started.append(server)
        return server

    yield make  # type: ignore[misc]
    for server in started:
        server.close()


def _answered(outcomes: list[_Response | _Failure], questions: list[_Prepared]) -> bool:
    """Every outcome is NOERROR with the one address its question's name has."""
    return all(
        isinstance(o, _Response)
        and o.rcode == 0
        and [r.data for r in o.answer] == [_address_of(q.name)]
        for o, q in zip(outcomes, questions, strict=True)
    )


def test_follow_ups_share_a_few_pipelined_connections(serve) -> None:
    server = serve()
    questions = _questions(300)
    outcomes = tcp_follow_ups(
        [(q, server.nameserver) for q in questions], timeout=2.0, concurrency=64
    )
    assert _answered(outcomes, questions)
    assert server.connections <= CONNECTIONS < len(questions)
    assert server.most_carried > 1  # queries pipelined, not a connection each
    assert server.most_outstanding <= 64


def test_at_most_concurrency_queries_in_flight(serve) -> None:
    server = serve()
    questions = _questions(60)
    outcomes = tcp_follow_ups(
        [(q, server.nameserver) for q in questions], timeout=2.0, concurrency=3
    )
    assert _answered(outcomes, questions)
    assert server.most_outstanding <= 3


@pytest.mark.parametrize(
    "options",
    [
        {"limit": 1, "after": "close"},
        {"limit": 3, "after": "close"},
        {"limit": 2, "after": "reset"},
        {"limit": 5, "after": "stall"},
        {"reverse": True},
        {"trickle": True},
    ],
    ids=["close-after-1", "close-after-3", "reset-after-2", "stall-after-5", "reverse", "trickle"],
)
def test_a_server_that_answers_some_per_connection_answers_every_question(
    serve, options: dict[str, object]
) -> None:
    """A connection each answers them all: pipelined, every question is answered too."""
    server = serve(**options)
    questions = _questions(40)
    asks = [(q, server.nameserver) for q in questions]
    started = time.monotonic()
    ours = tcp_follow_ups(asks, timeout=0.5, concurrency=16)
    took = time.monotonic() - started
    assert ours == tcp_exchanges(asks, timeout=0.5, concurrency=16)
    assert _answered(ours, questions)
    # A stalled query is asked again on a connection of its own: two timeouts at most.
    assert took < 2 * 0.5 + 3.0


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"wrong_id": True}, MISMATCH),
        ({"limit": 0, "after": "close"}, _Failure(Rcode.ERROR, "connection closed by server")),
        ({"limit": 0, "after": "reset"}, _Failure(Rcode.ERROR, "connection reset by server")),
        ({"limit": 0, "after": "stall"}, _timed_out(0.3, 1)),
    ],
    ids=["wrong-id", "closes-at-once", "resets-at-once", "stalls"],
)
def test_a_server_that_fails_every_question_fails_each_as_a_connection_of_its_own(
    serve, options: dict[str, object], expected: _Failure
) -> None:
    server = serve(**options)
    asks = [(q, server.nameserver) for q in _questions(20)]
    ours = tcp_follow_ups(asks, timeout=0.3, concurrency=8)
    assert ours == tcp_exchanges(asks, timeout=0.3, concurrency=8) == [expected] * 20


def test_a_stray_answer_on_a_pipelined_connection_is_not_taken(serve) -> None:
    """Answers good at first, then with wrong IDs: no question takes another's answer."""
    server = serve()
    questions = _questions(30)
    asks = [(q, server.nameserver) for q in questions]
    calls = [0]
    answer = _Server._answer

    def later_wrong(self: _Server, conn: socket.socket, query: bytes) -> None:
        calls[0] += 1
        self.wrong_id = calls[0] > 5
        answer(self, conn, query)

    server._answer = later_wrong.__get__(server)
    ours = tcp_follow_ups(asks, timeout=0.5, concurrency=16)
    assert len(ours) == 30
    for outcome, question in zip(ours, questions, strict=True):
        if isinstance(outcome, _Response):
            assert [r.data for r in outcome.answer] == [_address_of(question.name)]
        else:
            assert outcome == MISMATCH
    assert sum(isinstance(o, _Response) for o in ours) >= 5


def test_a_refused_server_and_one_that_answers_in_one_run(serve) -> None:
    server = serve()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        refused = Nameserver(host="127.0.0.1", port=sock.getsockname()[1])
    questions = _questions(30)
    asks = [(q, refused if i % 3 == 0 else server.nameserver) for i, q in enumerate(questions)]
    ours = tcp_follow_ups(asks, timeout=1.0, concurrency=8)
    assert ours == tcp_exchanges(asks, timeout=1.0, concurrency=8)
    for i, (outcome, question) in enumerate(zip(ours, questions, strict=True)):
        if i % 3 == 0:
            assert outcome == _Failure(Rcode.ERROR, "connection refused")
        else:
            assert _answered([outcome], [question])


def test_a_connect_that_fails_at_once(monkeypatch) -> None:
    monkeypatch.setattr(socket.socket, "connect_ex", lambda self, address: errno.ENETUNREACH)
    asks = [(q, Nameserver(host="127.0.0.1", port=53)) for q in _questions(3)]
    ours = tcp_follow_ups(asks, timeout=1.0, concurrency=2)
    assert ours == [_Failure(Rcode.ERROR, "network error: network is unreachable")] * 3


def test_every_connection_is_closed_at_the_end(serve, monkeypatch) -> None:
    opened: list[socket.socket] = []
    connect = followup._connect

    def counted(server: Nameserver) -> tuple[socket.socket, bool]:
        sock, connecting = connect(server)
        opened.append(sock)
        return sock, connecting

    monkeypatch.setattr(followup, "_connect", counted)
    server = serve(limit=4, after="stall")
    questions = _questions(24)
    outcomes = tcp_follow_ups(
        [(q, server.nameserver) for q in questions], timeout=0.3, concurrency=8
    )
    assert _answered(outcomes, questions)
    assert opened and all(s.fileno() == -1 for s in opened)


def test_large_answers_are_read_without_dnspythons_parser(make_knot) -> None:
    """knotd's truncated UDP answers, then TCP: dnspython's message parser stays unloaded."""
    from tests.integration.test_client_imports import in_fresh_python
    from tests.integration.test_resolver import BIG, REVERSE_ZONE, cluster_zone

    knot = make_knot({"cluster.local": cluster_zone(), "10.in-addr.arpa": REVERSE_ZONE})
    code = (
        "import json, sys\n"
        "from hsvc.adapters.resolver import resolve_all\n"
        "from hsvc.core.model import Nameserver, Question\n"
        f"server = Nameserver(host='127.0.0.1', port={knot.port})\n"
        "names = ['big.ms.svc.cluster.local.', 'medium.ms.svc.cluster.local.'] * 3\n"
        "obs = resolve_all([Question(name=n, type='A') for n in names], [server])\n"
        "print('\\n--- result ---')\n"
        "print(json.dumps([[len(o.answer), o.truncated, o.transport.edns_truncated,\n"
        "    o.transport.plain_truncated, o.transport.tcp_error] for o in obs]\n"
        "    + ['dns.message' in sys.modules]))\n"
    )
    *rows, loaded = in_fresh_python(code)
    assert loaded is False
    assert rows == [[len(BIG), True, True, True, ""], [40, False, False, True, ""]] * 3
