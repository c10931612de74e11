"""Which cluster to talk to, as kubectl decides: kubeconfig merge, context, namespace, credentials.

``--kubeconfig``, else ``KUBECONFIG`` (several files, merged: the first file that
sets a key wins), else ``~/.kube/config``, else the in-cluster service account.
Nothing here sends a request; messages name the context and the server, never a
credential.
"""

from __future__ import annotations

import atexit
import base64
import binascii
import datetime
import json
import logging
import os
import selectors
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
from dataclasses import dataclass
from typing import Any

import yaml  # noqa: TID251

from hsvc.adapters import kubeclient, yamlbounds
from hsvc.errors import (
    ApiUnreachableError,
    NotFoundError,
)

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

MAX_EXEC_OUTPUT = 1024 * 1024
"""Most bytes an exec credential plugin may print (a credential is a few kilobytes)."""


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
    try:
        yamlbounds.check_nesting(text, yaml.SafeLoader)
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        if node is not None:
            yamlbounds.check_node(node)
        data = yaml.safe_load(text) if node is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}:{mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ApiUnreachableError(f"kubeconfig {path}{where}: {problem}") from exc
    except yamlbounds.YamlLimitError as exc:
        where = f":{exc.mark.line + 1}:{exc.mark.column + 1}" if exc.mark is not None else ""
        raise ApiUnreachableError(f"kubeconfig {path}{where}: refused: {exc.reason}") from exc
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


class _Fields:
    """Typed reads of one kubeconfig entry; every wrong type is one clear error."""

    def __init__(self, entry: dict[str, Any], what: str, where: str) -> None:
        self.entry = entry
        self.what = what  # 'cluster "kind"'
        self.where = where

    def fail(self, key: str, why: str) -> ApiUnreachableError:
        return ApiUnreachableError(f"kubeconfig {self.where}: {self.what}: {key} {why}")

    def text(self, key: str) -> str:
        value = self.entry.get(key)
        if value is None:
            return ""
        if not isinstance(value, str):
            raise self.fail(key, f"must be a string, not {type(value).__name__}")
        return value

    def flag(self, key: str) -> bool | None:
        value = self.entry.get(key)
        if value is None or isinstance(value, bool):
            return value
        raise self.fail(key, "must be true or false")

    def mapping(self, key: str) -> dict[str, Any] | None:
        value = self.entry.get(key)
        if value is None or isinstance(value, dict):
            return value
        raise self.fail(key, "must be a mapping")

    def url(self, key: str, schemes: tuple[str, ...]) -> str:
        """A URL with one of ``schemes``, a host and a port 1-65535 if any."""
        value = self.text(key)
        if not value:
            return ""
        try:
            parts = urllib.parse.urlsplit(value)
            port = parts.port  # raises ValueError when out of range or not a number
        except ValueError as exc:
            raise self.fail(key, f"is not a usable URL ({exc})") from exc
        if parts.scheme not in schemes or not parts.hostname:
            raise self.fail(
                key, f"must be a URL of the form {'|'.join(schemes)}://HOST[:PORT]"
            ) from None
        if port == 0:
            raise self.fail(key, "has port 0")
        return value

    def data(self, key: str) -> bytes | None:
        """``KEY-data`` as bytes (base64-decoded), else None."""
        value = self.text(f"{key}-data")
        if not value:
            return None
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise self.fail(f"{key}-data", "is not base64") from exc

    def path(self, key: str, origin: str) -> str:
        """A file path, relative paths taken from the kubeconfig file's folder (as kubectl)."""
        value = self.text(key)
        if not value:
            return ""
        value = os.path.expanduser(value)
        if not os.path.isabs(value) and origin:
            value = os.path.join(os.path.dirname(os.path.abspath(origin)), value)
        return value


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
    (:func:`_in_memory`), and an exec plugin must finish within ``timeout`` (by
    ``deadline``, a ``time.monotonic()``, when given: the command's one budget).

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
    ctx = _Fields(contexts[name][0], f'context "{name}"', where)
    cluster_name, user_name = ctx.text("cluster"), ctx.text("user")
    namespace = ctx.text("namespace") or "default"
    clusters = _first_wins_from(files, paths, "clusters", "cluster")
    if cluster_name not in clusters or not clusters[cluster_name][0].get("server"):
        raise ApiUnreachableError(
            f'kubeconfig {where}: context "{name}" names cluster "{cluster_name}", '
            "which is missing or has no server"
        )
    cluster_entry, cluster_origin = clusters[cluster_name]
    cluster = _Fields(cluster_entry, f'context "{name}": cluster "{cluster_name}"', where)
    user_entry, user_origin = _first_wins_from(files, paths, "users", "user").get(
        user_name, ({}, "")
    )
    user = _Fields(user_entry, f'context "{name}": user "{user_name}"', where)

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
            _in_memory("ca.crt", ca)
            if ca is not None
            else cluster.path("certificate-authority", cluster_origin) or None
        )
    _credentials(configuration, user, user_origin, name, cluster_entry, timeout, deadline)
    server = _strip_userinfo(str(configuration.host))
    return configuration, KubeTarget(context=name, server=server, namespace=namespace)


def _credentials(
    configuration: Any,
    user: _Fields,
    origin: str,
    context: str,
    cluster: dict[str, Any],
    timeout: float,
    deadline: float | None = None,
) -> None:
    """Set the token or client certificate of ``user``, in the client's order.

    auth-provider, then token or tokenFile, then exec, then username/password (as
    the client's loader); a client certificate may come with any of them.

    Raises:
        ApiUnreachableError: A field has the wrong type, a file cannot be read, an
            auth-provider token expired, or an exec plugin misbehaves.
    """
    token = _provider_token(user, context) or user.text("token")
    token_file = user.path("tokenFile", origin)
    if not token and token_file:
        try:
            with open(token_file, encoding="utf-8") as f:
                token = f.read().strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise user.fail("tokenFile", f"cannot be read ({exc})") from exc
    cert = user.data("client-certificate")
    key = user.data("client-key")
    exec_config = user.mapping("exec")
    if not token and exec_config is not None:
        status = _run_exec_plugin(exec_config, user, origin, cluster, timeout, deadline)
        if status is not None:
            token = str(status.get("token") or "")
            if not token and status.get("clientCertificateData"):
                cert = str(status["clientCertificateData"]).encode()
                key = str(status.get("clientKeyData") or "").encode()
    if token:
        configuration.api_key["BearerToken"] = f"Bearer {token}"
    elif user.text("username") and user.text("password"):
        pair = f"{user.text('username')}:{user.text('password')}".encode()
        configuration.api_key["BearerToken"] = "Basic " + base64.b64encode(pair).decode()
    if not str(configuration.host).startswith("https"):
        return
    configuration.cert_file = (
        _in_memory("client.crt", cert)
        if cert is not None
        else user.path("client-certificate", origin) or None
    )
    configuration.key_file = (
        _in_memory("client.key", key)
        if key is not None
        else user.path("client-key", origin) or None
    )


def _provider_token(user: _Fields, context: str) -> str:
    """The token an ``auth-provider`` (gcp, oidc, azure) holds; never refreshed here.

    Refreshing would reach out to a cloud's token service; hsvc only reads.

    Raises:
        ApiUnreachableError: The provider's token expired, or there is none.
    """
    provider = user.mapping("auth-provider")
    if provider is None:
        return ""
    fields = _Fields(provider, f"{user.what} auth-provider", user.where)
    name = fields.text("name")
    config = _Fields(fields.mapping("config") or {}, f"{user.what} auth-provider", user.where)
    token = config.text("id-token") if name == "oidc" else config.text("access-token")
    expiry = config.text("expiry")
    if expiry and name != "oidc":
        when = _parse_time(expiry)
        if when is not None and when <= datetime.datetime.now(datetime.UTC):
            raise ApiUnreachableError(
                f'kubeconfig {user.where}: context "{context}": the {name} auth-provider token '
                f"expired at {expiry}; hsvc does not refresh it: refresh it with your cloud's "
                "CLI (or use its exec credential plugin)"
            )
    if not token:
        raise ApiUnreachableError(
            f'kubeconfig {user.where}: context "{context}": the {name or "unnamed"} '
            "auth-provider holds no token; log in with your cloud's CLI first"
        )
    return token


def _parse_time(text: str) -> datetime.datetime | None:
    try:
        when = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=datetime.UTC)


def _run_exec_plugin(
    exec_config: dict[str, Any],
    user: _Fields,
    origin: str,
    cluster: dict[str, Any],
    timeout: float,
    deadline: float | None = None,
) -> dict[str, Any] | None:
    """Run an exec credential plugin within ``timeout``; return its ``status``, None if it failed.

    The plugin runs in a session (process group) of its own; past the timeout the
    whole group is killed, children included, and that is an error. A plugin that
    exits non-zero is logged with its stderr (never its stdout, where the
    credential is) and the request goes on without credentials, as kubectl does.

    Raises:
        ApiUnreachableError: The plugin cannot start, runs too long, prints too much
            or prints no credential.
    """
    spec = _Fields(exec_config, f"{user.what} exec", user.where)
    command = spec.text("command")
    api_version = spec.text("apiVersion") or "client.authentication.k8s.io/v1"
    args = exec_config.get("args") or []
    env_list = exec_config.get("env") or []
    if not command:
        raise spec.fail("command", "is missing")
    if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
        raise spec.fail("args", "must be a list of strings")
    if not isinstance(env_list, list) or not all(
        isinstance(e, dict) and isinstance(e.get("name"), str) and isinstance(e.get("value"), str)
        for e in env_list
    ):
        raise spec.fail("env", "must be a list of {name, value} strings")
    folder = os.path.dirname(os.path.abspath(origin)) if origin else None
    if os.sep in command and not os.path.isabs(command) and folder:
        command = os.path.join(folder, command)  # as kubectl: relative to the kubeconfig
    interactive = sys.stdout.isatty()
    info: dict[str, Any] = {
        "apiVersion": api_version,
        "kind": "ExecCredential",
        "spec": {"interactive": interactive},
    }
    if exec_config.get("provideClusterInfo"):
        info["spec"]["cluster"] = cluster
    env = {**os.environ, **{e["name"]: e["value"] for e in env_list}}
    env["KUBERNETES_EXEC_INFO"] = json.dumps(info)
    try:
        proc = subprocess.Popen(
            [command, *args],
            stdin=None if interactive else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=None if interactive else subprocess.PIPE,
            cwd=folder,
            env=env,
            start_new_session=True,
        )
    except OSError as exc:
        raise spec.fail("command", f"cannot be run: {exc.strerror or exc}") from exc
    try:
        # What is left of the command's budget: the plugin, then the requests, share it.
        wait = timeout if deadline is None else max(0.0, deadline - time.monotonic())
        out, err = _collect(proc, wait)
    except subprocess.TimeoutExpired as exc:
        raise ApiUnreachableError(
            f"kubeconfig {user.where}: {user.what}: the exec credential plugin "
            f"{os.path.basename(command)!r} did not finish within {timeout:g} s; it was stopped"
        ) from exc
    except _TooMuch as exc:
        raise ApiUnreachableError(
            f"kubeconfig {user.where}: {user.what}: the exec credential plugin "
            f"{os.path.basename(command)!r} printed more than {MAX_EXEC_OUTPUT // 1024} KB; "
            "it was stopped"
        ) from exc
    if proc.returncode != 0:
        detail = err.decode("utf-8", "replace").strip()
        log.error("exec: process returned %d%s", proc.returncode, f". {detail}" if detail else "")
        return None
    try:
        credential = json.loads(out)
    except (ValueError, RecursionError) as exc:
        raise ApiUnreachableError(
            f"kubeconfig {user.where}: {user.what}: the exec credential plugin printed no "
            "ExecCredential JSON"
        ) from exc
    status = credential.get("status") if isinstance(credential, dict) else None
    if not isinstance(status, dict):
        raise ApiUnreachableError(
            f"kubeconfig {user.where}: {user.what}: the exec credential plugin's answer has "
            "no status"
        )
    return status


class _TooMuch(Exception):  # noqa: N818 - a private signal
    """A plugin printed more than MAX_EXEC_OUTPUT."""


def _collect(proc: subprocess.Popen[bytes], timeout: float) -> tuple[bytes, bytes]:
    """Read a plugin's stdout and stderr until it exits, at most ``timeout`` seconds.

    Raises:
        subprocess.TimeoutExpired: The plugin (or a child holding its pipes) outlived
            the timeout; its process group is killed.
        _TooMuch: It printed too much; its process group is killed.
    """
    deadline = time.monotonic() + timeout
    buffers: dict[int, bytearray] = {}
    streams = [s for s in (proc.stdout, proc.stderr) if s is not None]
    out_fd = proc.stdout.fileno() if proc.stdout is not None else -1
    err_fd = proc.stderr.fileno() if proc.stderr is not None else -1
    try:
        with selectors.DefaultSelector() as selector:
            for stream in streams:
                buffers[stream.fileno()] = bytearray()
                selector.register(stream, selectors.EVENT_READ)
            while selector.get_map():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise subprocess.TimeoutExpired(proc.args, timeout)
                for key, _ in selector.select(remaining):
                    chunk = os.read(key.fd, 65536)
                    if not chunk:
                        selector.unregister(key.fileobj)
                        continue
                    buffers[key.fd] += chunk
                    if len(buffers[key.fd]) > MAX_EXEC_OUTPUT:
                        raise _TooMuch
        proc.wait(max(0.0, deadline - time.monotonic()))
    except BaseException:
        _kill_group(proc)
        raise
    finally:
        for stream in streams:
            stream.close()
    return bytes(buffers.get(out_fd, b"")), bytes(buffers.get(err_fd, b""))


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    """Kill the plugin and everything it started (its own session), then reap it."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()


def _in_memory(label: str, data: bytes) -> str:
    """Return a path that reads ``data`` without it ever being written to a disk.

    On Linux the bytes live in an anonymous memory file (``memfd_create``) that
    this process keeps open; ``/proc/self/fd/N`` reads it, for the TLS library and
    the websocket library alike, and it vanishes with the process, however the
    process ends (signals included). Elsewhere a private temporary file is used
    and removed at exit.
    """
    if hasattr(os, "memfd_create"):
        fd = os.memfd_create(f"hsvc-{label}")
        os.write(fd, data)
        # Never closed: a raw descriptor stays open until the process ends.
        return f"/proc/self/fd/{fd}"
    handle, path = tempfile.mkstemp(prefix="hsvc-", suffix=f"-{label}")  # pragma: no cover
    with os.fdopen(handle, "wb") as f:  # pragma: no cover
        f.write(data)
    atexit.register(_remove, path)  # pragma: no cover
    return path  # pragma: no cover


def _remove(path: str) -> None:  # pragma: no cover - not Linux
    try:
        os.unlink(path)
    except OSError:
        pass


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
