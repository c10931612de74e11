"""A kubeconfig user's credentials, as the client's loader reads them, never shown.

auth-provider tokens (read, never refreshed), token and tokenFile, exec credential
plugins (run in a session of their own, bounded in time and output), basic auth,
and client certificates held in memory rather than written to a disk. Every
wrong field is one error naming the kubeconfig and the entry, never a value.
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
from typing import Any

from hsvc.errors import ApiUnreachableError

log = logging.getLogger("hsvc.adapters.kubeconfig")

MAX_EXEC_OUTPUT = 1024 * 1024
"""Most bytes an exec credential plugin may print (a credential is a few kilobytes)."""


class Fields:
    """Typed reads of one kubeconfig entry; every wrong type is one clear error."""

    def __init__(self, entry: dict[str, Any], what: str, where: str) -> None:
        self.entry = entry
        self.what = what  # 'cluster "kind"'
        self.where = where

    def fail(self, key: str, why: str) -> ApiUnreachableError:
        """The error for a wrong ``key``: where, which entry, what is wrong."""
        return ApiUnreachableError(f"kubeconfig {self.where}: {self.what}: {key} {why}")

    def text(self, key: str) -> str:
        """A string field, "" when absent."""
        value = self.entry.get(key)
        if value is None:
            return ""
        if not isinstance(value, str):
            raise self.fail(key, f"must be a string, not {type(value).__name__}")
        return value

    def flag(self, key: str) -> bool | None:
        """A boolean field, None when absent."""
        value = self.entry.get(key)
        if value is None or isinstance(value, bool):
            return value
        raise self.fail(key, "must be true or false")

    def mapping(self, key: str) -> dict[str, Any] | None:
        """A mapping field, None when absent."""
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


def credentials(
    configuration: Any,
    user: Fields,
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
        in_memory("client.crt", cert)
        if cert is not None
        else user.path("client-certificate", origin) or None
    )
    configuration.key_file = (
        in_memory("client.key", key) if key is not None else user.path("client-key", origin) or None
    )


def _provider_token(user: Fields, context: str) -> str:
    """The token an ``auth-provider`` (gcp, oidc, azure) holds; never refreshed here.

    Refreshing would reach out to a cloud's token service; hsvc only reads.

    Raises:
        ApiUnreachableError: The provider's token expired, or there is none.
    """
    provider = user.mapping("auth-provider")
    if provider is None:
        return ""
    fields = Fields(provider, f"{user.what} auth-provider", user.where)
    name = fields.text("name")
    config = Fields(fields.mapping("config") or {}, f"{user.what} auth-provider", user.where)
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
    user: Fields,
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
    spec = Fields(exec_config, f"{user.what} exec", user.where)
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
    return _status_of(out, user)


def _status_of(out: bytes, user: Fields) -> dict[str, Any]:
    """The ``status`` of the ExecCredential a plugin printed.

    Raises:
        ApiUnreachableError: The output is no ExecCredential JSON, or has no status.
    """
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


def in_memory(label: str, data: bytes) -> str:
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
