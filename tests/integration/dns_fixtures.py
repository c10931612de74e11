"""Fixtures for DNS servers on 127.0.0.1: real knotd, and a misbehaving one.

Imported by ``tests/integration/conftest.py``. Each factory stops every server it
started when the test ends.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pytest

from tests.integration.badserver import BadDnsServer
from tests.integration.knot import KnotServer, find_binary


@pytest.fixture
def make_knot() -> Iterator[Callable[..., KnotServer]]:
    """Start knotd with ``{origin: zone text}``; skips (fails under CI=true) without knotd."""
    find_binary("knotd")
    started: list[KnotServer] = []

    def make(
        zones: Mapping[str, str], *, updatable: bool = False, version: str | None = None
    ) -> KnotServer:
        server = KnotServer(zones, updatable=updatable, version=version)
        started.append(server)
        server.start()
        return server

    yield make
    for server in started:
        server.stop()


@pytest.fixture
def make_bad_dns() -> Iterator[Callable[..., BadDnsServer]]:
    """Start a misbehaving DNS server: ``make_bad_dns("silent")`` (see badserver.MODES)."""
    started: list[BadDnsServer] = []

    def make(mode: str, **options: Any) -> BadDnsServer:
        server = BadDnsServer(mode, **options)
        started.append(server)
        server.start()
        return server

    yield make
    for server in started:
        server.stop()
