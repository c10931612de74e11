"""Which cluster to talk to, as kubectl decides: kubeconfig merge, context, namespace, credentials.

``--kubeconfig``, else ``KUBECONFIG`` (several files, merged: the first file that
sets a key wins), else ``~/.kube/config``, else the in-cluster service account.
Nothing here sends a request; messages name the context and the server, never a
credential.
"""

from __future__ import annotations

import logging
import os
import urllib.parse
from typing import TYPE_CHECKING, Any

from hsvc.adapters import kubeclient, yamlplain
from hsvc.adapters.kubecreds import MAX_EXEC_OUTPUT as MAX_EXEC_OUTPUT
from hsvc.adapters.kubecreds import Fields, credentials, in_memory
from hsvc.core.dataclass import dataclass
from hsvc.errors import (
    ApiUnreachableError,
    NotFoundError,
)

if TYPE_CHECKING:
    import yaml  # noqa: TID251

log = logging.getLogger(__name__)

IN_CLUSTER_CONTEXT = "(in-cluster)"


@dataclass(frozen=True, slots=True, kw_only=True)
class KubeTarget:
    """What hsvc connected to, for messages. Never holds a credential."""

    context: str
    server: str
    namespace: str

    def __str__(self) -> str:
        return f'context "{self.context}", server {self.server}'


# --- kubeconfig -----------------------------------------------------------------------------


def _strip_userinfo(url: str) -> str:
    """Drop ``user:password@`` from a server URL before it goes into a message."""
    parts = urllib.parse.urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    if parts.port is not None:
        netloc += f":{parts.port}"
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


def kubeconfig_paths(explicit: str | None) -> tuple[list[str], str]:
    """Return the kubeconfig files to merge, and how they were chosen (for messages).

    Raises:
        ApiUnreachableError: ``explicit`` does not exist.
    """
    if explicit:
        path = os.path.expanduser(explicit)
        if not os.path.isfile(path):
            raise ApiUnreachableError(f"kubeconfig {explicit} does not exist or is not a file")
        return [path], explicit
    env = os.environ.get("KUBECONFIG", "")
    if env:
        # kubectl skips files in KUBECONFIG that do not exist.
        listed = [os.path.expanduser(p) for p in env.split(os.pathsep) if p]
        return [p for p in listed if os.path.isfile(p)], f"KUBECONFIG={env}"
    default = os.path.expanduser(os.path.join("~", ".kube", "config"))
    return ([default] if os.path.isfile(default) else []), default


MAX_KUBECONFIG_BYTES = 4 * 1024 * 1024
"""Larger kubeconfig files are refused (real ones are a few kilobytes)."""


def _parse(text: str, loader: type[yaml.SafeLoader]) -> Any:
    """The document of ``text``, checked by :mod:`hsvc.adapters.yamlbounds` before it is built.

    Raises:
        yaml.YAMLError: Not YAML.
        yamlbounds.YamlLimitError: Over the bounds.
    """
    import yaml  # noqa: TID251

    from hsvc.adapters import yamlbounds

    yamlbounds.check_nesting(text, loader)
    node = yaml.compose(text, Loader=loader)
    if node is None:
        return None
    yamlbounds.check_node(node)
    return yaml.load(text, Loader=loader)


def _read_kubeconfig(path: str) -> dict[str, Any]:
    """Read and shape-check one kubeconfig file, so that nothing later can crash on it.

    The YAML is checked for nesting and alias expansion before it is built
    (:mod:`hsvc.adapters.yamlbounds`), so an alias bomb cannot hang the merge.

    Raises:
        ApiUnreachableError: The file cannot be read or is not a kubeconfig.
    """
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_KUBECONFIG_BYTES + 1)
    except OSError as exc:
        raise ApiUnreachableError(f"cannot read kubeconfig {path}: {exc.strerror}") from exc
    if len(raw) > MAX_KUBECONFIG_BYTES:
        raise ApiUnreachableError(
            f"kubeconfig {path} is larger than {MAX_KUBECONFIG_BYTES // (1024 * 1024)} MB"
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ApiUnreachableError(f"kubeconfig {path}:{line}:{column}: not UTF-8 text") from exc
    # The block YAML kubectl writes is read without PyYAML (the same data); the rest by it.
    data = yamlplain.load(text)
    if data is yamlplain.NOT_PLAIN:
        data = _load_yaml(path, text)
    return _checked(path, data)


def _load_yaml(path: str, text: str) -> Any:
    """``text`` read by PyYAML, bounded; its errors as one-line messages.

    Raises:
        ApiUnreachableError: Not YAML, or over :mod:`hsvc.adapters.yamlbounds`' limits.
    """
    import yaml  # noqa: TID251

    from hsvc.adapters import yamlbounds

    try:
        try:
            # libyaml's parser with PyYAML's constructor: the same data, ten times faster.
            data = _parse(text, getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        except (yaml.YAMLError, yamlbounds.YamlLimitError):
            # Whatever the C loader refuses is read again by PyYAML's, so that
            # what is refused, and the message saying where, stay PyYAML's.
            data = _parse(text, yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}:{mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ApiUnreachableError(f"kubeconfig {path}{where}: {problem}") from exc
    except yamlbounds.YamlLimitError as exc:
        where = f":{exc.mark.line + 1}:{exc.mark.column + 1}" if exc.mark is not None else ""
        raise ApiUnreachableError(f"kubeconfig {path}{where}: refused: {exc.reason}") from exc
    return data


def _checked(path: str, data: Any) -> dict[str, Any]:
    """``data`` if it has a kubeconfig's shape, so that nothing later can crash on it.

    Raises:
        ApiUnreachableError: It has not.
    """
    if data is None:
        raise ApiUnreachableError(f"kubeconfig {path} is empty")
    if not isinstance(data, dict):
        raise ApiUnreachableError(f"kubeconfig {path}: expected a mapping at the top level")
    for key in ("clusters", "contexts", "users"):
        entries = data.get(key) or []
        if not isinstance(entries, list) or not all(
            isinstance(e, dict) and isinstance(e.get("name"), str) for e in entries
        ):
            raise ApiUnreachableError(f'kubeconfig {path}: "{key}" must be a list of named entries')
        for entry in entries:
            inner = entry.get(key[:-1])
            if inner is not None and not isinstance(inner, dict):
                raise ApiUnreachableError(
                    f'kubeconfig {path}: {key[:-1]} "{entry["name"]}" must be a mapping'
                )
    current = data.get("current-context")
    if current is not None and not isinstance(current, str):
        raise ApiUnreachableError(f'kubeconfig {path}: "current-context" must be a string')
    return data


def _first_wins(files: list[dict[str, Any]], key: str, inner: str) -> dict[str, dict[str, Any]]:
    """Named entries of ``key`` across files; kubectl keeps the first of equal names."""
    return {name: entry for name, (entry, _) in _first_wins_from(files, [], key, inner).items()}


def _first_wins_from(
    files: list[dict[str, Any]], paths: list[str], key: str, inner: str
) -> dict[str, tuple[dict[str, Any], str]]:
    """As :func:`_first_wins`, with the file each entry came from (relative paths start there)."""
    merged: dict[str, tuple[dict[str, Any], str]] = {}
    for index, data in enumerate(files):
        origin = paths[index] if index < len(paths) else ""
        for entry in data.get(key) or []:
            merged.setdefault(entry["name"], (entry.get(inner) or {}, origin))
    return merged


def load_kubeconfig(
    paths: list[str],
    where: str,
    context: str | None,
    *,
    timeout: float = 10.0,
    deadline: float | None = None,
) -> tuple[Any, KubeTarget]:
    """Merge ``paths`` as kubectl does and load ``context`` into a client Configuration.

    The client's own kubeconfig loader is not used: it writes inline keys to
    temporary files it removes only at a normal exit, runs exec plugins without a
    time limit, and crashes on values of the wrong type. Here every field used is
    checked, inline certificates and keys live in memory only
    (:func:`hsvc.adapters.kubecreds.in_memory`), and an exec plugin must finish within
    ``timeout`` (by ``deadline``, a ``time.monotonic()``, when given: the command's one budget).

    Raises:
        NotFoundError: ``context`` is not in the kubeconfig.
        ApiUnreachableError: The kubeconfig cannot be used.
    """
    files = [_read_kubeconfig(p) for p in paths]
    # The client's merger lets the last file's current-context win; kubectl takes
    # the first file that sets one. Named entries: first file wins in both.
    current = next((f["current-context"] for f in files if f.get("current-context")), None)
    name = context or current
    if not name:
        raise ApiUnreachableError(f"kubeconfig {where} sets no current-context; pass --context")
    contexts = _first_wins_from(files, paths, "contexts", "context")
    if name not in contexts:
        raise NotFoundError(f'context "{name}" does not exist in kubeconfig {where}')
    ctx = Fields(contexts[name][0], f'context "{name}"', where)
    cluster_name, user_name = ctx.text("cluster"), ctx.text("user")
    namespace = ctx.text("namespace") or "default"
    clusters = _first_wins_from(files, paths, "clusters", "cluster")
    if cluster_name not in clusters or not clusters[cluster_name][0].get("server"):
        raise ApiUnreachableError(
            f'kubeconfig {where}: context "{name}" names cluster "{cluster_name}", '
            "which is missing or has no server"
        )
    cluster_entry, cluster_origin = clusters[cluster_name]
    cluster = Fields(cluster_entry, f'context "{name}": cluster "{cluster_name}"', where)
    user_entry, user_origin = _first_wins_from(files, paths, "users", "user").get(
        user_name, ({}, "")
    )
    user = Fields(user_entry, f'context "{name}": user "{user_name}"', where)

    configuration = kubeclient.configuration()
    configuration.host = cluster.url("server", ("http", "https")).rstrip("/")
    proxy = cluster.url("proxy-url", ("http", "https", "socks5", "socks5h"))
    if proxy:
        configuration.proxy = proxy
    skip_verify = cluster.flag("insecure-skip-tls-verify")
    if skip_verify is not None:
        configuration.verify_ssl = not skip_verify
    if cluster.text("tls-server-name"):
        configuration.tls_server_name = cluster.text("tls-server-name")
    if configuration.host.startswith("https"):
        ca = cluster.data("certificate-authority")
        configuration.ssl_ca_cert = (
            in_memory("ca.crt", ca)
            if ca is not None
            else cluster.path("certificate-authority", cluster_origin) or None
        )
    credentials(configuration, user, user_origin, name, cluster_entry, timeout, deadline)
    server = _strip_userinfo(str(configuration.host))
    return configuration, KubeTarget(context=name, server=server, namespace=namespace)


def list_contexts(kubeconfig: str | None = None) -> tuple[list[str], str]:
    """Return every context of the merged kubeconfig (first file wins, as kubectl), in order.

    Returns:
        The context names and where the kubeconfig came from (for messages).

    Raises:
        ApiUnreachableError: No kubeconfig, or one that cannot be read.
    """
    paths, where = kubeconfig_paths(kubeconfig)
    if not paths:
        raise ApiUnreachableError(f"no kubeconfig found ({where}): --all-contexts needs one")
    files = [_read_kubeconfig(p) for p in paths]
    return list(_first_wins(files, "contexts", "context")), where


def load_in_cluster(where: str) -> tuple[Any, KubeTarget]:
    """Use the pod's service account, as kubectl does when there is no kubeconfig.

    Raises:
        ApiUnreachableError: Not running in a pod (or its account files are missing).
    """
    kubeclient.load()
    from kubernetes.config import incluster_config as typed_incluster_config  # noqa: TID251
    from kubernetes.config.config_exception import ConfigException  # noqa: TID251

    incluster_config: Any = typed_incluster_config  # untyped loader; keep its Any here

    if not os.environ.get(incluster_config.SERVICE_HOST_ENV_NAME):
        raise ApiUnreachableError(
            f"no kubeconfig found ({where}) and not running in a cluster; pass --kubeconfig"
        )
    # Where the kubelet mounts the account (token, ca.crt, namespace); HSVC_SERVICE_ACCOUNT_DIR
    # points elsewhere (a projected volume at another path, tests).
    account = os.environ.get("HSVC_SERVICE_ACCOUNT_DIR") or os.path.dirname(
        incluster_config.SERVICE_TOKEN_FILENAME
    )
    configuration = kubeclient.configuration()
    try:
        incluster_config.InClusterConfigLoader(
            token_filename=os.path.join(account, "token"),
            cert_filename=os.path.join(account, "ca.crt"),
        ).load_and_set(configuration)
    except (ConfigException, OSError) as exc:
        raise ApiUnreachableError(f"cannot use the in-cluster service account: {exc}") from exc
    namespace = "default"
    ns_file = os.path.join(account, "namespace")
    try:
        with open(ns_file, encoding="utf-8") as f:
            namespace = f.read().strip() or namespace
    except OSError:
        log.debug("no %s; using namespace %s", ns_file, namespace)
    target = KubeTarget(
        context=IN_CLUSTER_CONTEXT, server=str(configuration.host), namespace=namespace
    )
    return configuration, target


def import_client() -> None:
    """Import the client's modules now, in this thread, before threads use them.

    The client's packages import lazily and are not safe to import from several
    threads at once: two contexts (or two watches) starting together got
    ``ImportError: cannot import name 'ApiClient'`` from a half-initialised
    ``kubernetes.client``.
    """
    kubeclient.load()
    import kubernetes.client.api_client  # noqa: TID251
    import kubernetes.client.exceptions  # noqa: TID251
    import kubernetes.client.rest  # noqa: TID251
    import kubernetes.config.config_exception  # noqa: TID251
    import kubernetes.config.incluster_config  # noqa: TID251
    import kubernetes.config.kube_config  # noqa: TID251
    import kubernetes.stream.ws_client  # noqa: TID251
    import kubernetes.watch  # noqa: F401, TID251


def quiet_client_loggers() -> None:
    """Keep the client's and urllib3's loggers at WARNING."""
    # STYLE.md: keep these at WARNING even under --debug; urllib3 logs URLs and
    # the client can log request details.
    for name in ("kubernetes", "urllib3"):
        logging.getLogger(name).setLevel(logging.WARNING)
