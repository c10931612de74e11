"""A UDP relay on 127.0.0.1 in front of a DNS server that logs every question it passes on.

Tests count what hsvc asks (``relay.asked``) without trusting hsvc's own counters.
"""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType
from typing import Self

import dns.message


class CountingRelay:
    """Forward each UDP query to ``upstream`` and log its (name, type)."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.asked: list[tuple[str, str]] = []
        self.answered: list[tuple[str, str]] = []  # logged once the reply is sent
        self._lock = threading.Lock()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind(("127.0.0.1", 0))
        self.port = int(self._sock.getsockname()[1])
        self._sock.settimeout(0.05)  # close() does not wake a blocked recvfrom
        self._closed = False
        self._thread = threading.Thread(target=self._serve, name="dns-relay", daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._closed = True
        self._thread.join(2)
        self._sock.close()

    def mark(self) -> int:
        """How many questions so far (slice ``asked`` from here later)."""
        with self._lock:
            return len(self.asked)

    def since(self, mark: int) -> list[tuple[str, str]]:
        """The questions asked after ``mark``."""
        with self._lock:
            return list(self.asked[mark:])

    def wait_answered(self, question: tuple[str, str], after: int, timeout: float = 10) -> bool:
        """Wait until ``question`` has been answered more than ``after`` times."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if self.answered.count(question) > after:
                    return True
            time.sleep(0.01)
        return False

    def answered_count(self, question: tuple[str, str]) -> int:
        """How many times ``question`` has been answered so far."""
        with self._lock:
            return self.answered.count(question)

    def _serve(self) -> None:
        while not self._closed:
            try:
                data, client = self._sock.recvfrom(65535)
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._relay, args=(data, client), daemon=True).start()

    def _relay(self, data: bytes, client: tuple[str, int]) -> None:
        asked: tuple[str, str] | None = None
        try:
            question = dns.message.from_wire(data).question[0]
            asked = (question.name.to_text().lower(), dns.rdatatype.to_text(question.rdtype))
            with self._lock:
                self.asked.append(asked)
        except Exception:  # a test relay: garbage is passed on, unlogged
            pass
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as out:
            out.settimeout(2)
            out.sendto(data, self.upstream)
            try:
                reply = out.recv(65535)
            except OSError:
                return
        try:
            self._sock.sendto(reply, client)
        except OSError:
            return
        if asked is not None:
            with self._lock:
                self.answered.append(asked)
