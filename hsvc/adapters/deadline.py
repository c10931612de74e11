"""One API request's deadline, enforced on every socket the request used; a command's waiting.

urllib3's timeouts bound each socket operation, not the request: a server that
trickles a byte at a time never times out. :class:`Deadline` shuts the request's
sockets down when its time is up, and :func:`watched_pools` hands it every socket
a connection pool opens or reuses. :class:`Waiting` keeps what each command may
still wait on the API (:class:`Account`: what one of several reads side by side
waited).
"""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import urllib3

_COMMANDS_KEPT = 64  # deadlines whose waiting time is remembered (watches re-list for ever)


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


class Account:
    """What one of several requests sent side by side may still wait, and what it waited.

    ``events`` holds, in order, ``(request, seconds waited)`` for every exchange
    and None where a page of a long list gave the whole timeout again: replayed
    in the order of a sequential run, they charge the command as that run would
    (:meth:`hsvc.adapters.kubebatch.BatchClient._overlap`).
    """

    __slots__ = ("events", "lead", "left")

    def __init__(self, left: float, lead: threading.Event | None = None) -> None:
        self.left = left
        self.events: list[tuple[Any, float] | None] = []  # (a kuberest.Request, seconds)
        # Set when the job goes on past its first exchange (the others wait for it).
        self.lead = lead


class Waiting:
    """What each command may still wait on the API: the part of a connection that counts it.

    A command's ``deadline`` (``time.monotonic()``) is where its waiting starts;
    from its first request on only the time spent waiting on the API counts
    (see :meth:`hsvc.adapters.kuberest.RestClient._send`).
    """

    def __init__(self, request_timeout: float) -> None:
        self._timeout = request_timeout
        # A command's deadline -> the seconds it may still wait on the API.
        self._waiting: dict[float, float] = {}
        # Thread -> the account its waiting is charged to while it runs one of the
        # reads side by side (hsvc.adapters.kubebatch); else _waiting.
        self._accounts: dict[int, Account] = {}

    def _spent(self, deadline: float, left: float) -> None:
        """Keep what a command may still wait, for the last few commands only."""
        self._waiting[deadline] = left
        while len(self._waiting) > _COMMANDS_KEPT:
            del self._waiting[next(iter(self._waiting))]  # the oldest command's

    def _charge(self, deadline: float, request: Any, remaining: float, waited: float) -> None:
        """``request`` waited ``waited`` of the ``remaining`` seconds the command had."""
        account = self._accounts.get(threading.get_ident())
        if account is None:
            self._spent(deadline, remaining - waited)
        else:
            account.left = remaining - waited
            account.events.append((request, waited))

    def _extend(self, deadline: float) -> None:
        """A page of a long list arrived: the command may wait the whole timeout again."""
        account = self._accounts.get(threading.get_ident())
        if account is None:
            self._waiting[deadline] = self._timeout
        else:
            account.left = self._timeout
            account.events.append(None)

    def _remaining(self, deadline: float) -> float:
        """The seconds the command of ``deadline`` may still wait on the API."""
        account = self._accounts.get(threading.get_ident())
        if account is not None:
            if account.lead is not None and account.events:
                account.lead.set()  # the job goes on after its first exchange
            return account.left
        left = self._waiting.get(deadline)
        return deadline - time.monotonic() if left is None else left
