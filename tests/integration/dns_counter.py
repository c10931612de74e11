"""A UDP relay on 127.0.0.1 in front of a DNS server that logs every question it passes on.

Tests count what hsvc asks (``relay.asked``) without trusting hsvc's own counters.
"""

from __future__ import annotations

import socket
import threading
from types import TracebackType
from typing import Self

import dns.message


class CountingRelay:
    """Forward each UDP query to ``upstream`` and log its (name, type)."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.asked: list[tuple[str, str]] = []
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
        try:
            question = dns.message.from_wire(data).question[0]
            with self._lock:
                self.asked.append(
                    (question.name.to_text().lower(), dns.rdatatype.to_text(question.rdtype))
                )
        except Exception:
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
