"""A misbehaving DNS server on 127.0.0.1 (UDP and TCP on one port), in a thread.

Modes:
    silent    never answers; TCP connections are accepted and left hanging.
    garbage   answers random bytes (never with the query's ID).
    wrong-id  answers a well-formed response whose ID is the query's plus one.
    truncate  UDP: TC set with a partial answer (3 A records); TCP: reads the
              query and closes the connection.
    truncate-tcp
              TC set with the same partial answer over UDP and over TCP (an
              answer that does not fit even 65535 bytes).
    slow      answers correctly (NOERROR, one A record) after ``delay`` seconds,
              and records the most queries it held at once (``max_outstanding``).
    drop      loses a ``loss`` share of UDP queries (seeded, see :meth:`BadDnsServer.drops`)
              and answers the rest: forwarded to ``upstream`` (a knotd) when given,
              else itself as ``slow`` does without the delay. TCP is never dropped and
              always answered by the server itself.
    udp-relay UDP forwarded to ``upstream`` (a knotd), nothing lost; TCP: reads the
              query and closes the connection (a DNS path that carries UDP only).
    script    answers what ``script(query)`` returns: a list of messages (or raw wire)
              sent in order, over UDP as datagrams and over TCP framed. Hostile
              answers are written this way: NXDOMAIN with data, class CH, a stray
              datagram with another ID before the real answer, REFUSED, NOTIMP, ...
"""

from __future__ import annotations

import os
import random
import selectors
import socket
import struct
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Self

import dns.exception
import dns.flags
import dns.message
import dns.rdatatype
import dns.rrset

from hsvc.core.model import Nameserver

HOST = "127.0.0.1"
MODES = (
    "silent",
    "garbage",
    "wrong-id",
    "truncate",
    "truncate-tcp",
    "slow",
    "drop",
    "udp-relay",
    "script",
)
Script = Callable[[dns.message.Message], list["dns.message.Message | bytes"]]
TRUNCATED_ADDRESSES = ("10.0.0.1", "10.0.0.2", "10.0.0.3")


class BadDnsServer:
    """A DNS server that misbehaves in one chosen way; counts what it received."""

    def __init__(
        self,
        mode: str,
        *,
        delay: float = 0.05,
        loss: float = 0.1,
        seed: int = 0,
        upstream: Nameserver | None = None,
        script: Script | None = None,
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}; use one of {', '.join(MODES)}")
        self.mode = mode
        self.delay = delay
        self.loss = loss
        self.seed = seed
        self.upstream = upstream
        self.script = script
        self.dropped = 0
        self._seen: dict[tuple[str, str], int] = {}  # drop mode: queries per question so far
        # drop mode with upstream: our query ID -> (the client's ID, its address)
        self._relayed: dict[int, tuple[bytes, tuple[str, int]]] = {}
        self._next_id = 0
        self._up: socket.socket | None = None
        self.host = HOST
        self.port = 0
        self.udp_queries = 0
        self.tcp_connections = 0
        self.max_outstanding = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._udp: socket.socket | None = None
        self._tcp: socket.socket | None = None
        self._conns: list[socket.socket] = []
        # slow mode: (due time, wire, address) not yet sent
        self._pending: list[tuple[float, bytes, tuple[str, int]]] = []

    @property
    def nameserver(self) -> Nameserver:
        """This server as hsvc's resolver addresses it."""
        return Nameserver(host=self.host, port=self.port)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        """Bind UDP and TCP on one free port and serve in a daemon thread."""
        for _ in range(50):
            udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            udp.bind((self.host, 0))
            port = udp.getsockname()[1]
            tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                tcp.bind((self.host, port))
            except OSError:
                udp.close()
                tcp.close()
                continue
            tcp.listen(64)
            self._udp, self._tcp, self.port = udp, tcp, port
            break
        else:
            raise RuntimeError("no port free for both UDP and TCP on 127.0.0.1")
        if self.upstream is not None:
            self._up = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self._up.connect((self.upstream.host, self.upstream.port))
        self._thread = threading.Thread(
            target=self._serve, name=f"bad-dns-{self.mode}", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread and close every socket."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        for sock in [self._udp, self._tcp, self._up, *self._conns]:
            if sock is not None:
                sock.close()
        self._udp = self._tcp = self._up = None
        self._conns.clear()

    # --- the loop ------------------------------------------------------------------

    def _serve(self) -> None:
        assert self._udp is not None and self._tcp is not None
        with selectors.DefaultSelector() as selector:
            selector.register(self._udp, selectors.EVENT_READ, "udp")
            selector.register(self._tcp, selectors.EVENT_READ, "listen")
            if self._up is not None:
                selector.register(self._up, selectors.EVENT_READ, "upstream")
            while not self._stop.is_set():
                for key, _ in selector.select(timeout=0.01):
                    sock = key.fileobj
                    assert isinstance(sock, socket.socket)
                    if key.data == "udp":
                        self._on_udp(sock)
                    elif key.data == "upstream":
                        self._on_upstream(sock)
                    elif key.data == "listen":
                        conn, _ = sock.accept()
                        with self._lock:
                            self.tcp_connections += 1
                        self._conns.append(conn)
                        selector.register(conn, selectors.EVENT_READ, "conn")
                    elif not self._on_tcp(sock):
                        selector.unregister(sock)
                        self._conns.remove(sock)
                        sock.close()
                self._send_due()

    def _on_udp(self, sock: socket.socket) -> None:
        try:
            wire, address = sock.recvfrom(65535)
        except OSError:
            return
        with self._lock:
            self.udp_queries += 1
        if self.mode == "silent":
            return
        if self.mode in ("drop", "udp-relay"):
            self._drop_or_answer(sock, wire, address)
            return
        if self.mode == "script":
            for reply in self._scripted(wire):
                sock.sendto(reply, address)
            return
        if self.mode == "slow":
            self._pending.append(
                (time.monotonic() + self.delay, self._reply(wire, tcp=False), address)
            )
            self.max_outstanding = max(self.max_outstanding, len(self._pending))
            return
        sock.sendto(self._reply(wire, tcp=False), address)

    # --- drop mode -------------------------------------------------------------------

    def drops(self, name: str, qtype: str, attempt: int) -> bool:
        """Whether the ``attempt``-th query (from 0) for ``name``/``qtype`` is lost.

        Decided by the seed and the question, not by arrival order, so a test knows
        in advance which questions lose every attempt, however queries interleave.
        """
        key = f"{self.seed}:{name.lower()}:{qtype.upper()}:{attempt}"
        return random.Random(key).random() < self.loss

    def _drop_or_answer(self, sock: socket.socket, wire: bytes, address: tuple[str, int]) -> None:
        try:
            question = dns.message.from_wire(wire).question[0]
        except (dns.exception.DNSException, IndexError):
            return
        name = question.name.to_text()
        qtype = dns.rdatatype.to_text(question.rdtype)
        with self._lock:
            attempt = self._seen.get((name, qtype), 0)
            self._seen[(name, qtype)] = attempt + 1
        if self.mode == "drop" and self.drops(name, qtype, attempt):
            with self._lock:
                self.dropped += 1
            return
        if self._up is None:
            sock.sendto(self._reply(wire, tcp=False), address)
            return
        self._next_id = (self._next_id + 1) & 0xFFFF
        self._relayed[self._next_id] = (wire[:2], address)
        self._up.send(struct.pack("!H", self._next_id) + wire[2:])

    def _on_upstream(self, sock: socket.socket) -> None:
        try:
            reply = sock.recv(65535)
        except OSError:
            return
        found = self._relayed.pop(struct.unpack("!H", reply[:2])[0], None)
        if found is not None and self._udp is not None:
            client_id, address = found
            self._udp.sendto(client_id + reply[2:], address)

    def _on_tcp(self, conn: socket.socket) -> bool:
        """Serve one message on a TCP connection; return False to close it."""
        try:
            head = conn.recv(2)
            if len(head) < 2:
                return False
            (length,) = struct.unpack("!H", head)
            wire = b""
            while len(wire) < length:
                chunk = conn.recv(length - len(wire))
                if not chunk:
                    return False
                wire += chunk
        except OSError:
            return False
        if self.mode == "silent":
            return True
        if self.mode in ("truncate", "udp-relay"):
            return False
        if self.mode == "script":
            for reply in self._scripted(wire):
                conn.sendall(struct.pack("!H", len(reply)) + reply)
            return True
        reply = self._reply(wire, tcp=True)
        conn.sendall(struct.pack("!H", len(reply)) + reply)
        return True

    def _send_due(self) -> None:
        if not self._pending or self._udp is None:
            return
        now = time.monotonic()
        due = [item for item in self._pending if item[0] <= now]
        self._pending = [item for item in self._pending if item[0] > now]
        for _, wire, address in due:
            self._udp.sendto(wire, address)

    def _scripted(self, wire: bytes) -> list[bytes]:
        assert self.script is not None
        try:
            query = dns.message.from_wire(wire)
        except dns.exception.DNSException:
            return []
        return [m if isinstance(m, bytes) else m.to_wire() for m in self.script(query)]

    def _reply(self, wire: bytes, *, tcp: bool) -> bytes:
        query_id = struct.unpack("!H", wire[:2])[0] if len(wire) >= 2 else 0
        if self.mode == "garbage":
            junk = bytearray(os.urandom(48))
            junk[0:2] = struct.pack("!H", (query_id + 1) & 0xFFFF)
            return bytes(junk)
        try:
            query = dns.message.from_wire(wire)
        except dns.exception.DNSException:
            return b""
        response = dns.message.make_response(query)
        qname = query.question[0].name
        truncate = self.mode == "truncate-tcp" or (self.mode == "truncate" and not tcp)
        addresses = TRUNCATED_ADDRESSES if truncate else TRUNCATED_ADDRESSES[:1]
        response.answer.append(dns.rrset.from_text_list(qname, 30, "IN", "A", list(addresses)))
        if truncate:
            response.flags |= dns.flags.TC
        if self.mode == "wrong-id":
            response.id = (query_id + 1) & 0xFFFF
        return response.to_wire()


# --- a misbehaving HTTP server (a hostile "API server") ------------------------------------

HTTP_MODES = ("trickle-headers", "trickle-body", "endless-body", "stall")


class BadHttpServer:
    """An HTTP server on 127.0.0.1 that answers every request in one hostile way.

    Modes:
        trickle-headers  sends the status line, then one header byte every ``interval``.
        trickle-body     sends headers (Content-Length 1 MB), then one body byte every
                         ``interval``.
        endless-body     a 200 JSON list whose chunked body never ends, as fast as the
                         client reads.
        stall            accepts the connection and never sends a byte (for https: no
                         TLS handshake either).
    Counts the connections it accepted.
    """

    def __init__(self, mode: str, *, interval: float = 0.2) -> None:
        if mode not in HTTP_MODES:
            raise ValueError(f"unknown mode {mode!r}; use one of {', '.join(HTTP_MODES)}")
        self.mode = mode
        self.interval = interval
        self.connections = 0
        self.sent = 0  # bytes written in all
        self._stop = threading.Event()
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind((HOST, 0))
        self._listener.listen(16)
        self._listener.settimeout(0.05)
        self.port = self._listener.getsockname()[1]
        self._threads: list[threading.Thread] = []

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def __enter__(self) -> Self:
        thread = threading.Thread(target=self._accept, name=f"bad-http-{self.mode}", daemon=True)
        self._threads.append(thread)
        thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)
        self._listener.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _send(self, conn: socket.socket, data: bytes) -> bool:
        try:
            conn.sendall(data)
        except OSError:
            return False
        self.sent += len(data)
        return True

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            if self.mode == "stall":
                self._stop.wait()
                return
            conn.settimeout(5)
            try:
                conn.recv(65536)  # the request; its details do not matter
            except OSError:
                return
            if self.mode == "trickle-headers":
                head = b"HTTP/1.1 200 OK\r\n" + b"X-Slow: " + b"a" * 10_000
                if not self._send(conn, head[:17]):
                    return
                for byte in head[17:]:
                    if self._stop.wait(self.interval) or not self._send(conn, bytes([byte])):
                        return
            elif self.mode == "trickle-body":
                head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                if not self._send(conn, head + b"Content-Length: 1000000\r\n\r\n{"):
                    return
                while not self._stop.wait(self.interval):
                    if not self._send(conn, b" "):
                        return
            else:
                head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                head += b"Transfer-Encoding: chunked\r\n\r\n"
                chunk = b'{"items": [' + b"{}, " * 16_000
                if not self._send(conn, head):
                    return
                while not self._stop.is_set():
                    if not self._send(conn, b"%x\r\n%s\r\n" % (len(chunk), chunk)):
                        return
                    chunk = b"{}, " * 16_384
