"""The parts of the official client hsvc uses, loaded without the rest of the client.

``import kubernetes`` (and so any ``import kubernetes.x``) runs the package's
``__init__``, which imports every part at once: the client's own kubeconfig loader
(with requests, requests-oauthlib and oauthlib), the dynamic client, websockets,
leader election and informers; and ``ApiClient`` imports pydantic. That was two
thirds of a small ``hsvc inspect`` (docs/reference/benchmarks.md). hsvc reads the
kubeconfig itself (:mod:`hsvc.adapters.kubeconfig`) and sends raw JSON requests, so
it needs the client's ``Configuration``, its REST transport (``RESTClientObject``:
the connection pool, TLS, client certificates, proxies) and its exceptions.

:func:`load` registers the packages ``kubernetes``, ``kubernetes.config`` and
``kubernetes.utils`` with their ``__init__`` deferred (standard importlib:
``find_spec`` and ``module_from_spec``; PEP 562 ``__getattr__``): their submodules
import as usual, and the first use of any other name the ``__init__`` defines runs
it, so code that wants the whole client (``kubernetes.watch``, tests) still gets it.
:class:`Transport` is what ``ApiClient`` does for a GET (headers, credentials from
``Configuration.auth_settings()``, the URL) over the client's ``RESTClientObject``.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import threading
import urllib.parse
from collections.abc import Mapping, Sequence
from typing import Any

from hsvc import __version__

DEFERRED = ("kubernetes", "kubernetes.config", "kubernetes.utils")
"""Packages whose ``__init__`` waits for a name only it defines (parents first)."""

_lock = threading.RLock()


def load() -> None:
    """Register the client's packages with their ``__init__`` deferred (once, thread-safe).

    A package already imported (by a test, or by a program embedding hsvc) is
    left as it is.
    """
    with _lock:
        for name in DEFERRED:
            if name not in sys.modules:
                _defer(name)


def _defer(name: str) -> None:
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None or spec.submodule_search_locations is None:
        return  # not an installed package: the import that follows reports it
    module = importlib.util.module_from_spec(spec)
    loader = spec.loader
    done = False

    def complete(attr: str) -> Any:
        """PEP 562: a name the module lacks; import the submodule, else run ``__init__``."""
        nonlocal done
        with _lock:
            if not attr.startswith("__") and attr not in module.__dict__:
                if importlib.util.find_spec(f"{name}.{attr}") is not None:
                    return importlib.import_module(f"{name}.{attr}")
            if not done:
                done = True
                loader.exec_module(module)
        try:
            return module.__dict__[attr]
        except KeyError:
            raise AttributeError(f"module {name!r} has no attribute {attr!r}") from None

    module.__getattr__ = complete  # type: ignore[method-assign]
    sys.modules[name] = module
    parent, _, child = name.rpartition(".")
    if parent:
        setattr(sys.modules[parent], child, module)


def configuration() -> Any:
    """A new client ``Configuration`` (``kubernetes.client.configuration``)."""
    load()
    from kubernetes.client.configuration import Configuration  # noqa: TID251

    return Configuration()


class Transport:
    """``ApiClient``'s request path for hsvc's GETs, over the client's ``RESTClientObject``.

    The same URL, headers and credentials as ``ApiClient.param_serialize`` builds
    for a GET without a body, and ``call_api``'s send; without the model layer
    (and pydantic) that hsvc never uses: answers are read raw.
    """

    def __init__(self, configuration: Any) -> None:
        """Build the transport (and its connection pool) for ``configuration``.

        Raises:
            ImportError: A ``socks5://`` proxy and no PySocks installed.
        """
        load()
        from kubernetes.client import rest  # noqa: TID251

        self.configuration = configuration
        self.rest_client: Any = rest.RESTClientObject(configuration)
        self.default_headers: dict[str, str] = {"User-Agent": f"hsvc/{__version__}"}

    @property
    def user_agent(self) -> str:
        """The ``User-Agent`` sent."""
        return self.default_headers["User-Agent"]

    def param_serialize(
        self,
        *,
        method: str,
        resource_path: str,
        query_params: Sequence[tuple[str, str]] = (),
        header_params: Mapping[str, str] | None = None,
        auth_settings: Sequence[str] = (),
    ) -> tuple[str, str, dict[str, str], None, list[Any]]:
        """Return ``(method, url, headers, body, post_params)`` as ``ApiClient`` does."""
        headers = {**(header_params or {}), **self.default_headers}
        query = list(query_params)
        settings = self.configuration.auth_settings() if auth_settings else {}
        for name in auth_settings:
            setting = settings.get(name)
            if not setting:
                continue
            if setting["in"] == "header":
                headers[setting["key"]] = setting["value"]
            elif setting["in"] == "query":
                query.append((setting["key"], setting["value"]))
        url = self.configuration.host + resource_path
        if query:
            url += "?" + "&".join(f"{k}={urllib.parse.quote(str(v))}" for k, v in query)
        return method, url, headers, None, []

    def call_api(
        self,
        method: str,
        url: str,
        header_params: Mapping[str, str] | None = None,
        body: Any = None,
        post_params: Any = None,
        _request_timeout: Any = None,
    ) -> Any:
        """Send the request (the client's ``RESTResponse``; its ``.response`` is urllib3's)."""
        return self.rest_client.request(
            method,
            url,
            headers=header_params,
            body=body,
            post_params=post_params,
            _request_timeout=_request_timeout,
        )

    def close(self) -> None:
        """Release the connection pool."""
        self.rest_client.close()
