"""One API request's deadline, enforced on every socket the request used; a command's waiting.

urllib3's timeouts bound each socket operation, not the request: a server that
trickles a byte at a time never times out. :class:`Deadline` shuts the request's
sockets down when its time is up, and :func:`watched_pools` hands it every socket
a connection pool opens or reuses. :class:`Waiting` keeps what each command may
still wait on the API (:class:`Account`: what one of several reads side by side
waited).
"""

from __future__ import annotations

import heapq
import itertools
import socket
import threading
import time
from typing import Any

import urllib3

_COMMANDS_KEPT = 64  # deadlines whose waiting time is remembered (watches re-list for ever)


class Deadline:
    """The end of one request's time: then every socket it used is shut down.

    Shutting a socket down wakes a thread blocked reading it (close() alone does
    not), so the request ends with an error however the server trickles. The
    clock is the connection's :class:`Watchdog` (one thread for all requests).
    """

    def __init__(self, seconds: float, watchdog: Watchdog) -> None:
        self.expired = False
        self.cancelled = False
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._seconds = seconds
        self._watchdog = watchdog

    def start(self) -> None:
        """Start the clock."""
        self._watchdog.add(self, self._seconds)

    def cancel(self) -> None:
        """The request ended in time: stop the clock, forget its sockets."""
        with self._lock:
            self.cancelled = True
            self._sockets.clear()

    def watch(self, sock: socket.socket) -> None:
        """Shut ``sock`` down when the time is up (at once, if it already is)."""
        with self._lock:
            if not self.expired:
                self._sockets.append(sock)
                return
        _shut(sock)

    def expire(self) -> None:
        """The time is up (unless the request ended first): shut every socket down."""
        with self._lock:
            if self.cancelled:
                return
            self.expired = True
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            _shut(sock)


class Watchdog:
    """One thread that ends the time of every request of a connection, when it is up.

    A thread per request (``threading.Timer``) cost a thread start and its wait
    for every request; this one starts with the first request and waits for the
    earliest deadline not yet cancelled.
    """

    def __init__(self) -> None:
        self._wake = threading.Condition()
        self._due: list[tuple[float, int, Deadline]] = []  # a heap by time
        self._order = itertools.count()
        self._running = False
        self._closed = False

    def add(self, deadline: Deadline, seconds: float) -> None:
        """Expire ``deadline`` in ``seconds`` (at once if not positive) unless cancelled first."""
        with self._wake:
            when = time.monotonic() + max(seconds, 0.0)
            heapq.heappush(self._due, (when, next(self._order), deadline))
            self._closed = False
            if not self._running:
                self._running = True
                threading.Thread(target=self._run, name="hsvc-deadlines", daemon=True).start()
            self._wake.notify()

    def close(self) -> None:
        """End the thread (a later request starts it again)."""
        with self._wake:
            self._closed = True
            self._wake.notify()

    def _run(self) -> None:
        while True:
            with self._wake:
                due = self._next()
                if due is None:
                    self._running = False
                    return
            due.expire()

    def _next(self) -> Deadline | None:
        """Wait until the earliest deadline not cancelled is up (None once closed)."""
        while not self._closed:
            while self._due and self._due[0][2].cancelled:
                heapq.heappop(self._due)
            if not self._due:
                self._wake.wait()
                continue
            left = self._due[0][0] - time.monotonic()
            if left <= 0:
                return heapq.heappop(self._due)[2]
            self._wake.wait(left)
        return None


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
