"""One API request's deadline, enforced on every socket the request used.

urllib3's timeouts bound each socket operation, not the request: a server that
trickles a byte at a time never times out. :class:`Deadline` shuts the request's
sockets down when its time is up, and :func:`watched_pools` hands it every socket
a connection pool opens or reuses.
"""

from __future__ import annotations

import socket
import threading
from typing import Any

import urllib3


class Deadline:
    """The end of one request's time: then every socket it used is shut down.

    Shutting a socket down wakes a thread blocked reading it (close() alone does
    not), so the request ends with an error however the server trickles.
    """

    def __init__(self, seconds: float) -> None:
        self.expired = False
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._timer = threading.Timer(max(seconds, 0.0), self._expire)
        self._timer.daemon = True

    def start(self) -> None:
        """Start the clock."""
        self._timer.start()

    def cancel(self) -> None:
        """The request ended in time: stop the clock, forget its sockets."""
        self._timer.cancel()
        with self._lock:
            self._sockets.clear()

    def watch(self, sock: socket.socket) -> None:
        """Shut ``sock`` down when the time is up (at once, if it already is)."""
        with self._lock:
            if not self.expired:
                self._sockets.append(sock)
                return
        _shut(sock)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            _shut(sock)


def _shut(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already closed


def watched_pools(watch: Any) -> dict[str, type[urllib3.HTTPConnectionPool]]:
    """Connection pools whose connections hand every socket they use to ``watch``.

    A new connection's socket is handed over as soon as it exists (before TLS),
    a reused one when a request starts on it.
    """
    from urllib3.connection import HTTPConnection, HTTPSConnection

    def watched(base: type[HTTPConnection]) -> type[HTTPConnection]:
        class Watched(base):  # type: ignore[valid-type,misc]
            def _new_conn(self) -> socket.socket:
                sock: socket.socket = super()._new_conn()
                watch(sock)
                return sock

            def request(self, *args: Any, **kwargs: Any) -> None:
                if self.sock is not None:
                    watch(self.sock)
                super().request(*args, **kwargs)

        return Watched

    class Pool(urllib3.HTTPConnectionPool):
        ConnectionCls = watched(HTTPConnection)

    class TlsPool(urllib3.HTTPSConnectionPool):
        ConnectionCls = watched(HTTPSConnection)  # type: ignore[assignment]

    return {"http": Pool, "https": TlsPool}
