"""The test run itself may reach only loopback: a guard against stray traffic."""

from __future__ import annotations

import socket

import pytest
from pytest_socket import SocketConnectBlockedError


@pytest.mark.parametrize("host", ["10.0.0.10", "192.0.2.1"])
def test_connections_outside_loopback_are_blocked(host: str) -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        # pytest-socket warns (an error under filterwarnings=error), then refuses.
        with pytest.raises((SocketConnectBlockedError, UserWarning)):
            sock.connect((host, 53))
    finally:
        sock.close()


def test_loopback_is_allowed() -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.connect(("127.0.0.1", 53))
        sock.connect(("127.0.0.2", 53))
    finally:
        sock.close()
