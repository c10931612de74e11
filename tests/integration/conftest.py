"""Fixtures for the integration tests: real servers on 127.0.0.1."""

from __future__ import annotations

# --- DNS servers (knotd, misbehaving server): tests/integration/dns_fixtures.py ---
from tests.integration.dns_fixtures import make_bad_dns, make_knot

__all__ = ["make_bad_dns", "make_knot"]
# --- end DNS servers ---

# --- Kubernetes API (emulated apiserver, kubeconfig files): tests/integration/api_fixtures.py ---
from tests.integration.api_fixtures import (
    api_server,
    api_server_session,
    api_server_tls,
    api_server_tls_session,
    kubeconfig,
    kubeconfig_tls,
    no_ambient_kubeconfig,
)

__all__ += [
    "api_server",
    "api_server_session",
    "api_server_tls",
    "api_server_tls_session",
    "kubeconfig",
    "kubeconfig_tls",
    "no_ambient_kubeconfig",
]
# --- end Kubernetes API ---
