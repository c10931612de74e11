"""TCP-only servers (port-forwards) asked pipelined, over real sockets to misbehaving servers."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import replace

import dns.message
import dns.name
import dns.rrset
import pytest

from hsvc.adapters.resolver import resolve_all
from hsvc.core.model import Nameserver, Question, Rcode

pytestmark = pytest.mark.integration

NAME = "eureka.ms.svc.cluster.local."


def tcp_only(server: Nameserver) -> Nameserver:
    return replace(server, tcp_only=True)


def test_a_silent_tcp_server_times_out_on_a_fresh_connection_per_attempt(make_bad_dns) -> None:
    bad = make_bad_dns("silent")
    started = time.monotonic()
    (obs,) = resolve_all(
        [Question(name=NAME, type="A")], [tcp_only(bad.nameserver)], timeout=0.3, retries=1
    )
    assert obs.rcode is Rcode.TIMEOUT
    assert obs.error == "no response within 0.3s (2 attempts)"
    # The connection where a query timed out takes no new queries: the retry opens another.
    assert bad.tcp_connections == 2 and bad.udp_queries == 0
    assert 0.6 * 1000 <= obs.elapsed_ms and time.monotonic() - started < 0.6 + 1.5


def test_many_questions_share_two_connections(make_bad_dns) -> None:
    slow = make_bad_dns("slow", delay=0.05)
    questions = [Question(name=f"n{i}.ms.svc.cluster.local.", type="A") for i in range(40)]
    observations = resolve_all(questions, [tcp_only(slow.nameserver)], concurrency=16)
    assert [o.rcode for o in observations] == [Rcode.NOERROR] * 40
    assert [o.name for o in observations] == [q.name for q in questions]
    assert slow.tcp_connections <= 2


class _Relay:
    """A TCP server that answers some queries and mangles others, in a thread."""

    def __init__(self, answer: str) -> None:
        self.answer = answer
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            with conn:
                size = int.from_bytes(conn.recv(2), "big")
                query = dns.message.from_wire(conn.recv(size))
                response = dns.message.make_response(query)
                if self.answer == "other-question":
                    response.question[0].name = dns.name.from_text("other.example.")
                response.answer.append(dns.rrset.from_text(NAME, 30, "IN", "A", "10.0.0.1"))
                wire = response.to_wire()
                if self.answer == "stray-first":
                    stray = dns.message.make_response(query)
                    stray.id = (query.id + 1) % 65536
                    data = stray.to_wire()
                    conn.sendall(len(data).to_bytes(2, "big") + data)
                conn.sendall(len(wire).to_bytes(2, "big") + wire)
                time.sleep(0.05)

    def close(self) -> None:
        self.sock.close()

    @property
    def nameserver(self) -> Nameserver:
        return Nameserver(host="127.0.0.1", port=self.port, tcp_only=True)


@pytest.mark.parametrize(
    ("answer", "rcode", "error"),
    [
        ("stray-first", Rcode.NOERROR, ""),
        ("other-question", Rcode.ERROR, "response does not match the query (wrong ID or question)"),
    ],
)
def test_answers_are_matched_by_id_and_question(answer: str, rcode: Rcode, error: str) -> None:
    relay = _Relay(answer)
    try:
        (obs,) = resolve_all([Question(name=NAME, type="A")], [relay.nameserver], timeout=2.0)
    finally:
        relay.close()
    assert (obs.rcode, obs.error) == (rcode, error)
    assert relay.connections == 1


def test_an_unreachable_address_is_an_error_not_a_hang() -> None:
    # Port 0 cannot be connected to: the connect fails at once, before any query.
    server = Nameserver(host="127.0.0.1", port=9, tcp_only=True)
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", 9)) == 0:
            pytest.skip("something listens on port 9 here")
    (obs,) = resolve_all([Question(name=NAME, type="A")], [server], timeout=1.0, retries=0)
    assert obs.rcode is Rcode.ERROR
    assert obs.error == "connection refused"
