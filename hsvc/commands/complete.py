"""Shell completion from the cluster: namespaces, Services, kubeconfig contexts.

Called by the shell completion of ``-n/--namespace``, the Service argument and
``--context`` (typer's ``_HSVC_COMPLETE`` protocol). Each reads what the command
line typed so far (``--kubeconfig``, ``--context``, ``-n``, ``--request-timeout``),
asks with one LIST, and must neither hang nor speak: the whole of it, kubeconfig and
credential plugin included, is bounded by the request timeout, and any error, a
missing kubeconfig or an unreachable cluster, completes nothing.
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from hsvc.commands.options import REQUEST_TIMEOUT

if TYPE_CHECKING:
    from hsvc.adapters.kubeapi import KubeSource

# At most this many names are offered (a shell lists them all).
MAX_NAMES = 500


@contextmanager
def _quiet() -> Iterator[None]:
    """No log record or warning reaches the terminal while the shell completes."""
    logging.disable(logging.CRITICAL)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logging.disable(logging.NOTSET)


def _context(params: Mapping[str, Any]) -> str | None:
    given = params.get("context") or ()  # --context is repeatable: the first one
    return str(given[0]) if given else None


def _timeout(params: Mapping[str, Any]) -> float:
    value = params.get("request_timeout")
    return float(value) if isinstance(value, int | float) and value > 0 else REQUEST_TIMEOUT


def _matching(names: list[str], incomplete: str) -> list[str]:
    return sorted({n for n in names if n.startswith(incomplete)})[:MAX_NAMES]


def _from_cluster(
    params: Mapping[str, Any], incomplete: str, read: Callable[[KubeSource, float], list[str]]
) -> list[str]:
    timeout = _timeout(params)
    deadline = time.monotonic() + timeout  # the client's import counts too
    try:
        with _quiet():
            from hsvc.adapters.kubeapi import KubeSource

            with KubeSource.connect(
                kubeconfig=params.get("kubeconfig"),
                context=_context(params),
                request_timeout=timeout,
                deadline=deadline,
            ) as source:
                return _matching(read(source, deadline), incomplete)
    except Exception:  # silent on every error: a completion must never break the shell
        return []


def namespaces(params: Mapping[str, Any], incomplete: str) -> list[str]:
    """Namespaces of the cluster that start with ``incomplete``."""
    return _from_cluster(
        params, incomplete, lambda src, deadline: src.names("namespaces", None, deadline=deadline)
    )


def services(params: Mapping[str, Any], incomplete: str) -> list[str]:
    """Services of the namespace typed (``-n``, else the context's) starting with ``incomplete``."""

    def read(src: KubeSource, deadline: float) -> list[str]:
        if params.get("all_namespaces"):
            return src.names("services", None, deadline=deadline)
        namespace = params.get("namespace") or src.target.namespace
        return src.names("services", str(namespace), deadline=deadline)

    return _from_cluster(params, incomplete, read)


def contexts(params: Mapping[str, Any], incomplete: str) -> list[str]:
    """Contexts of the kubeconfig (``--kubeconfig``, else KUBECONFIG, else ~/.kube/config)."""
    try:
        with _quiet():
            from hsvc.adapters.kubeconfig import list_contexts

            names, _where = list_contexts(params.get("kubeconfig"))
            return _matching(names, incomplete)
    except Exception:  # silent on every error, as above
        return []
