"""Fixtures for the emulated Kubernetes API server and the kubeconfig files that point at it.

One plain-HTTP server and one HTTPS server (trustme CA, bearer token required)
live for the whole session; each test gets them reset and loaded with the seed
cluster (``tests/data/seed/*.yaml``). The official client reaches them only
through a real kubeconfig file written under ``tmp_path``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import yaml

from tests.integration.apiserver import ApiServer
from tests.integration.seed_zone import seed_zones

if TYPE_CHECKING:
    from hsvc.adapters.kubeapi import KubeSource

SEED_DIR = Path(__file__).resolve().parents[1] / "data" / "seed"
SEED_FILES = (SEED_DIR / "ms.yaml", SEED_DIR / "kube-system.yaml")
TOKEN = "hsvc-test-token-5ecr3t"
CONTEXT = "kind-hsvc"


def write_kubeconfig(
    path: Path,
    server: str,
    *,
    context: str = CONTEXT,
    namespace: str | None = "ms",
    token: str | None = TOKEN,
    ca_file: Path | None = None,
    current: bool = True,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write a kubeconfig with one cluster, user and context, all named after ``context``.

    ``extra`` entries are merged into the top level (e.g. more ``contexts``).
    """
    cluster: dict[str, Any] = {"server": server}
    if ca_file is not None:
        cluster["certificate-authority"] = str(ca_file)
    ctx: dict[str, Any] = {"cluster": context, "user": context}
    if namespace is not None:
        ctx["namespace"] = namespace
    user: dict[str, Any] = {"token": token} if token is not None else {}
    config: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {},
        "clusters": [{"name": context, "cluster": cluster}],
        "users": [{"name": context, "user": user}],
        "contexts": [{"name": context, "context": ctx}],
    }
    if current:
        config["current-context"] = context
    for key, value in (extra or {}).items():
        if isinstance(value, list):
            config.setdefault(key, []).extend(value)
        else:
            config[key] = value
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


def _fresh(server: ApiServer) -> ApiServer:
    server.reset()
    server.serve_endpointslices = True
    server.add_yaml(*SEED_FILES)
    return server


@pytest.fixture(scope="session")
def api_server_session() -> Iterator[ApiServer]:
    with ApiServer() as server:
        yield server


@pytest.fixture
def api_server(api_server_session: ApiServer) -> ApiServer:
    """The plain-HTTP emulated apiserver, holding the seed cluster, with no faults."""
    return _fresh(api_server_session)


@pytest.fixture(scope="session")
def api_server_tls_session() -> Iterator[ApiServer]:
    with ApiServer(tls=True, token=TOKEN) as server:
        yield server


@pytest.fixture
def api_server_tls(api_server_tls_session: ApiServer) -> ApiServer:
    """The HTTPS emulated apiserver (trustme CA, requires ``Bearer TOKEN``), seeded."""
    return _fresh(api_server_tls_session)


@pytest.fixture
def kubeconfig(api_server: ApiServer, tmp_path: Path) -> Path:
    """A kubeconfig for ``api_server``: context ``kind-hsvc``, namespace ``ms``, a token user."""
    return write_kubeconfig(tmp_path / "kubeconfig", api_server.url)


@pytest.fixture
def kubeconfig_tls(api_server_tls: ApiServer, tmp_path: Path) -> Path:
    """A kubeconfig for ``api_server_tls`` with its CA file and token."""
    assert api_server_tls.ca_pem is not None
    ca_file = tmp_path / "ca.pem"
    ca_file.write_bytes(api_server_tls.ca_pem)
    return write_kubeconfig(tmp_path / "kubeconfig-tls", api_server_tls.url, ca_file=ca_file)


def forward_to_knot(
    api_server: ApiServer,
    make_knot: Any,
    namespace: str,
    pod: str,
    port: int = 53,
    zones: Any = None,
    **knot: Any,
) -> Any:
    """Start a knotd serving ``zones`` (the seed by default) behind ``pod``'s port-forward."""
    server = make_knot(zones if zones is not None else seed_zones(), **knot)
    api_server.forward(namespace, pod, port, ("127.0.0.1", server.port))
    return server


def inspect_live(run: Any, kubeconfig: Path, *extra: str) -> Any:
    """``hsvc inspect eureka -n ms`` through ``kubeconfig``, JSON, one-second DNS timeout."""
    return run(
        "inspect",
        "eureka",
        "-n",
        "ms",
        "--kubeconfig",
        str(kubeconfig),
        "--timeout",
        "1",
        "-o",
        "json",
        *extra,
    )


@pytest.fixture
def no_ambient_kubeconfig(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The developer's own ~/.kube/config, KUBECONFIG, pod identity or proxy never leak in."""
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(var, raising=False)


def open_source(kubeconfig: Path | None, **kwargs: Any) -> KubeSource:
    """``connect`` to the cluster of ``kubeconfig`` (``context=`` among ``kwargs``), 5 s a request."""
    from hsvc.adapters.kubeapi import connect

    kwargs.setdefault("request_timeout", 5.0)
    return connect(str(kubeconfig) if kubeconfig else None, kwargs.pop("context", None), **kwargs)
