"""A connection's one watchdog thread ends each request's time: sockets shut, cancels kept."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from hsvc.adapters.deadline import Deadline, Watchdog


def eventually(check: Callable[[], bool], within: float = 5.0) -> bool:
    end = time.monotonic() + within
    while time.monotonic() < end:
        if check():
            return True
        time.sleep(0.005)
    return check()


def watchdog_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "hsvc-deadlines" and t.is_alive()]


Pair = tuple[Watchdog, socket.socket, socket.socket]


@pytest.fixture
def pair() -> Iterator[Pair]:
    """A watchdog and a connected socket pair, all closed after the test."""
    watchdog = Watchdog()
    left, right = socket.socketpair()
    try:
        yield watchdog, left, right
    finally:
        watchdog.close()
        left.close()
        right.close()


def test_a_deadline_shuts_its_sockets_when_its_time_is_up(pair: Pair) -> None:
    watchdog, left, _ = pair
    deadline = Deadline(0.05, watchdog)
    deadline.watch(left)
    deadline.start()
    # A blocked read wakes: the shut socket reads as closed.
    left.settimeout(5)
    assert left.recv(1) == b""
    assert deadline.expired


def test_a_socket_watched_after_the_time_is_up_is_shut_at_once(pair: Pair) -> None:
    watchdog, left, _ = pair
    deadline = Deadline(0, watchdog)
    deadline.start()
    assert eventually(lambda: deadline.expired)
    deadline.watch(left)
    left.settimeout(5)
    assert left.recv(1) == b""


def test_a_cancelled_deadline_never_expires(pair: Pair) -> None:
    watchdog, left, right = pair
    cancelled = Deadline(0.05, watchdog)
    cancelled.watch(left)
    cancelled.start()
    cancelled.cancel()
    later = Deadline(0.1, watchdog)
    later.start()
    assert eventually(lambda: later.expired)  # the clock went past the cancelled one
    assert not cancelled.expired
    right.sendall(b"x")
    left.settimeout(5)
    assert left.recv(1) == b"x"  # its socket still works


def test_deadlines_expire_in_time_order_on_one_thread() -> None:
    watchdog = Watchdog()
    expired: list[int] = []
    deadlines = []
    before = len(watchdog_threads())
    try:
        for order, seconds in enumerate([0.3, 0.1, 0.2, 0.0]):
            deadline = Deadline(seconds, watchdog)
            original = deadline.expire

            def expire(order: int = order, original: Callable[[], None] = original) -> None:
                expired.append(order)
                original()

            deadline.expire = expire  # type: ignore[method-assign]
            deadline.start()
            deadlines.append(deadline)
        assert len(watchdog_threads()) <= before + 1  # one thread, not one a deadline
        assert eventually(lambda: len(expired) == 4)
        assert expired == [3, 1, 2, 0]
        assert all(d.expired for d in deadlines)
    finally:
        watchdog.close()


def test_closing_ends_the_thread_and_a_later_request_starts_it_again() -> None:
    watchdog = Watchdog()
    first = Deadline(60, watchdog)
    first.start()
    assert eventually(lambda: len(watchdog_threads()) >= 1)
    watchdog.close()
    assert eventually(lambda: not watchdog._running)
    second = Deadline(0.01, watchdog)
    second.start()
    assert eventually(lambda: second.expired)
    watchdog.close()
    assert not first.expired
