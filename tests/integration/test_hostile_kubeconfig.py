"""Kubeconfigs and credential plugins that misbehave: one line, a documented code, no leak.

Real processes where it matters (a key left on disk only shows after the process
is gone): ``python -m hsvc`` with its own ``TMPDIR``, killed by SIGPIPE or SIGTERM.
"""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import trustme
import yaml

from hsvc.errors import ExitCode
from tests.integration.api_fixtures import TOKEN, write_kubeconfig

pytestmark = pytest.mark.integration


def edit(path: Path, **changes: Any) -> Path:
    """Change the one cluster's and user's fields of a kubeconfig written by write_kubeconfig."""
    data = yaml.safe_load(path.read_text())
    data["clusters"][0]["cluster"].update(changes.get("cluster", {}))
    data["users"][0]["user"] = changes.get("user", data["users"][0]["user"])
    path.write_text(yaml.safe_dump(data))
    return path


def hsvc(*args: str, env: dict[str, str] | None = None, timeout: float = 20):
    return subprocess.run(
        [sys.executable, "-m", "hsvc", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


# --- client keys never touch the disk ---------------------------------------------------


@pytest.fixture
def inline_key_kubeconfig(api_server_tls, tmp_path: Path) -> Path:
    client = trustme.CA().issue_cert("hsvc-user@example.com")
    ca = tmp_path / "ca.pem"
    ca.write_bytes(api_server_tls.ca_pem)
    path = write_kubeconfig(tmp_path / "kubeconfig", api_server_tls.url, ca_file=ca)
    user = {
        "token": TOKEN,
        "client-certificate-data": base64.b64encode(client.cert_chain_pems[0].bytes()).decode(),
        "client-key-data": base64.b64encode(client.private_key_pem.bytes()).decode(),
    }
    ca_data = base64.b64encode(api_server_tls.ca_pem).decode()
    return edit(path, cluster={"certificate-authority-data": ca_data}, user=user)


def leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.rglob("*") if p.is_file() and b"PRIVATE KEY" in p.read_bytes()]


def test_inline_client_key_is_used_and_never_written(inline_key_kubeconfig, tmp_path) -> None:
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = {"TMPDIR": str(tmp)}
    result = hsvc("records", "gateway", "--kubeconfig", str(inline_key_kubeconfig), env=env)
    assert result.returncode == ExitCode.OK, result.stderr
    assert list(tmp.iterdir()) == []


def test_key_is_not_left_behind_by_sigpipe_or_sigterm(
    inline_key_kubeconfig, api_server_tls, tmp_path
) -> None:
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = {**os.environ, "TMPDIR": str(tmp)}
    args = [sys.executable, "-m", "hsvc", "records", "-n", "ms", "-o", "json"]
    args += ["--kubeconfig", str(inline_key_kubeconfig)]
    # `hsvc ... | head -c 100`: the reader goes away, hsvc dies by SIGPIPE.
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    assert proc.stdout is not None
    proc.stdout.read(100)
    proc.stdout.close()
    proc.wait(timeout=20)
    # `timeout 1.5 hsvc ...`: SIGTERM while it waits on a slow API server.
    api_server_tls.inject("*", delay=10.0)
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    time.sleep(1.5)
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=5)
    assert proc.returncode == -signal.SIGTERM
    assert leftovers(tmp) == [] and list(tmp.iterdir()) == []


# --- exec credential plugins --------------------------------------------------------------


def plugin(tmp_path: Path, body: str) -> dict[str, Any]:
    script = tmp_path / "plugin"
    script.write_text(f"#!/bin/sh\n{body}\n")
    script.chmod(0o755)
    return {"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": str(script)}}


def test_a_hanging_plugin_is_killed_with_its_children(api_server, tmp_path) -> None:
    pids = tmp_path / "pids"
    # The plugin starts a child that would outlive it, and both hang.
    user = plugin(tmp_path, f"sleep 300 & echo $! > {pids}; echo $$ >> {pids}; wait")
    path = edit(write_kubeconfig(tmp_path / "kc", api_server.url), user=user)
    started = time.monotonic()
    result = hsvc("records", "gateway", "--kubeconfig", str(path), "--request-timeout", "1")
    elapsed = time.monotonic() - started
    assert result.returncode == ExitCode.API_UNREACHABLE, result.stderr
    assert "did not finish within 1 s" in result.stderr and result.stderr.count("\n") == 1
    # The plugin would hang for 300 s: the bound is the timeout plus the interpreter's
    # start, with room for a busy machine.
    assert elapsed < 1 + 5
    for pid in pids.read_text().split():
        assert gone(int(pid)), pid


def gone(pid: int, within: float = 5.0) -> bool:
    """Whether a process is dead by ``within`` seconds: a SIGKILL takes effect when
    the process next runs, which on a busy machine may be a moment after hsvc ends."""
    deadline = time.monotonic() + within
    while alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def alive(pid: int) -> bool:
    """Whether a process runs (a zombie, killed and waiting for its reaper, does not)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status


def test_a_plugin_printing_forever_is_stopped(run, api_server, tmp_path) -> None:
    user = plugin(tmp_path, "yes")
    path = edit(write_kubeconfig(tmp_path / "kc", api_server.url), user=user)
    started = time.monotonic()
    result = run("records", "gateway", "--kubeconfig", str(path), "--request-timeout", "5")
    assert result.code == ExitCode.API_UNREACHABLE, result.err
    assert "printed more than 1024 KB" in result.err and time.monotonic() - started < 3


# --- kubeconfigs that used to crash -----------------------------------------------------------


def kubeconfig_cases(tmp_path: Path, url: str) -> dict[str, tuple[Path, str]]:
    base = write_kubeconfig(tmp_path / "base", url)
    text = base.read_text()
    cases: dict[str, tuple[Path, str]] = {}

    def case(name: str, content: bytes | str, fragment: str) -> None:
        path = tmp_path / name
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
        cases[name] = (path, fragment)

    case("deep", text + "preferences: " + "[" * 5000 + "]" * 5000 + "\n", "nested more than")
    case("not-utf8", text.encode() + b"# caf\xe9\n", "not UTF-8 text")
    case("server-number", text.replace(f"server: {url}", "server: 5"), "server must be a string")
    bomb = "x0: &x0 [a, a, a, a, a, a, a, a, a, a]\n" + "".join(
        f"x{i}: &x{i} [{', '.join([f'*x{i - 1}'] * 10)}]\n" for i in range(1, 9)
    )
    case("alias-bomb", bomb + text, "refused: aliases nested more than 5 deep")
    data = yaml.safe_load(text)
    data["clusters"][0]["cluster"]["proxy-url"] = "::garbage::"
    case("proxy-garbage", yaml.safe_dump(data), "proxy-url must be a URL")
    data = yaml.safe_load(text)
    data["clusters"][0]["cluster"]["server"] = "https://user:pw@127.0.0.1:99999"
    case("port-99999", yaml.safe_dump(data), "server is not a usable URL")
    data = yaml.safe_load(text)
    data["users"][0]["user"] = {
        "auth-provider": {
            "name": "gcp",
            "config": {"access-token": "ya29.old", "expiry": "2020-01-01T00:00:00Z"},
        }
    }
    case("gcp-expired", yaml.safe_dump(data), "gcp auth-provider token expired")
    return cases


CASE_NAMES = [
    "deep",
    "not-utf8",
    "server-number",
    "alias-bomb",
    "proxy-garbage",
    "port-99999",
    "gcp-expired",
]


@pytest.mark.parametrize("name", CASE_NAMES)
def test_broken_kubeconfig_is_one_line_and_exit_5(run, api_server, tmp_path, name) -> None:
    path, fragment = kubeconfig_cases(tmp_path, api_server.url)[name]
    started = time.monotonic()
    result = run("records", "gateway", "--kubeconfig", str(path))
    assert result.code == ExitCode.API_UNREACHABLE, result.out + result.err
    assert fragment in result.err and result.err.count("\n") == 1, result.err
    assert "Traceback" not in result.err and "pw@" not in result.err
    # Bounded, not hanging: an unbounded expansion or depth would take minutes. The
    # deep case is re-read by PyYAML's pure parser for its wording (~0.8 s, and
    # several times that under a line tracer such as coverage's).
    assert time.monotonic() - started < 10
    assert api_server.log == []  # refused before any request
