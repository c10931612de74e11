"""Credentials never reach any output: stdout, stderr, or the logs ``--debug`` turns on.

One kubeconfig holds every kind of credential hsvc may be given: a bearer token, a
client key inline (``client-key-data``) and as a file, an exec plugin (a script in
tmp_path printing an ExecCredential), a password in the server URL. Every command
that talks to the API runs with ``--debug`` against the HTTPS emulated apiserver,
answering normally, 401, 403 and 500, and against a closed port; then every byte
of output and every log record (tracebacks included) is searched for the secrets.
"""

from __future__ import annotations

import base64
import json
import logging
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import trustme
import yaml

from hsvc.errors import ExitCode
from tests.integration.api_fixtures import TOKEN
from tests.integration.seed_zone import seed_zones

pytestmark = pytest.mark.integration

WRONG_TOKEN = "wrong-token-9d2f7a61c0"
EXEC_WRONG_TOKEN = "exec-token-4be81c99d3"
URL_PASSWORD = "url-passw0rd-77aa"


class Credentials:
    """The kubeconfig, and every string in it that must never be printed."""

    def __init__(self, tmp_path: Path, server_url: str, ca_pem: bytes) -> None:
        self.path = tmp_path / "kubeconfig"
        ca = tmp_path / "ca.pem"
        ca.write_bytes(ca_pem)
        client = trustme.CA().issue_cert("hsvc-user@example.com")
        key_pem = client.private_key_pem.bytes()
        cert_pem = client.cert_chain_pems[0].bytes()
        key_file, cert_file = tmp_path / "client.key", tmp_path / "client.crt"
        key_file.write_bytes(key_pem)
        cert_file.write_bytes(cert_pem)
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            closed = sock.getsockname()[1]
        host = server_url.removeprefix("https://")
        clusters = {
            "emulated": {"server": server_url, "certificate-authority": str(ca)},
            "closed": {
                "server": f"https://admin:{URL_PASSWORD}@127.0.0.1:{closed}",
                "certificate-authority": str(ca),
            },
            "userinfo": {
                "server": f"https://admin:{URL_PASSWORD}@{host}",
                "certificate-authority": str(ca),
            },
        }
        key_data = base64.b64encode(key_pem).decode()
        users: dict[str, dict[str, Any]] = {
            "token-and-inline-key": {
                "token": TOKEN,
                "client-certificate-data": base64.b64encode(cert_pem).decode(),
                "client-key-data": key_data,
            },
            "token-and-key-file": {
                "token": TOKEN,
                "client-certificate": str(cert_file),
                "client-key": str(key_file),
            },
            "exec": {"exec": self._plugin(tmp_path / "good-plugin", TOKEN)},
            "exec-wrong": {"exec": self._plugin(tmp_path / "wrong-plugin", EXEC_WRONG_TOKEN)},
            "wrong-token": {"token": WRONG_TOKEN},
        }
        contexts = {
            "token": ("emulated", "token-and-inline-key"),
            "key-file": ("emulated", "token-and-key-file"),
            "exec": ("emulated", "exec"),
            "exec-wrong": ("emulated", "exec-wrong"),
            "wrong": ("emulated", "wrong-token"),
            "closed": ("closed", "token-and-inline-key"),
            "userinfo": ("userinfo", "token-and-inline-key"),
        }
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "current-context": "token",
            "clusters": [{"name": n, "cluster": c} for n, c in clusters.items()],
            "users": [{"name": n, "user": u} for n, u in users.items()],
            "contexts": [
                {"name": n, "context": {"cluster": c, "user": u, "namespace": "ms"}}
                for n, (c, u) in contexts.items()
            ],
        }
        self.path.write_text(yaml.safe_dump(config), encoding="utf-8")
        body = [
            line for line in key_pem.decode().splitlines() if line and not line.startswith("-----")
        ]
        self.secrets = [
            TOKEN,
            WRONG_TOKEN,
            EXEC_WRONG_TOKEN,
            URL_PASSWORD,
            key_data[40:80],
            *body,
        ]

    @staticmethod
    def _plugin(path: Path, token: str) -> dict[str, Any]:
        credential = {
            "apiVersion": "client.authentication.k8s.io/v1beta1",
            "kind": "ExecCredential",
            "status": {"token": token},
        }
        path.write_text(f"#!/bin/sh\ncat <<'EOF'\n{json.dumps(credential)}\nEOF\n")
        path.chmod(0o755)
        return {"apiVersion": "client.authentication.k8s.io/v1beta1", "command": str(path)}

    def leaks(self, text: str) -> list[str]:
        return [s for s in self.secrets if s in text]


@pytest.fixture
def creds(api_server_tls, tmp_path: Path) -> Credentials:
    assert api_server_tls.ca_pem is not None
    return Credentials(tmp_path, api_server_tls.url, api_server_tls.ca_pem)


def commands(dns_port: int) -> dict[str, list[str]]:
    dns = ["--nameserver", f"127.0.0.1:{dns_port}", "--timeout", "0.5"]
    return {
        "records": ["records", "gateway"],
        "resolve": ["resolve", "gateway", *dns],
        "inspect": ["inspect", "gateway", *dns],
        "lint": ["lint"],
    }


# (id, context, fault injected on the API, the exit code every command gives)
CASES = [
    ("token", "token", None, None),
    ("client-key-file", "key-file", None, None),
    ("exec-plugin", "exec", None, None),
    ("url-userinfo", "userinfo", None, None),
    ("401-token", "wrong", None, ExitCode.ACCESS_DENIED),
    ("401-exec-plugin", "exec-wrong", None, ExitCode.ACCESS_DENIED),
    ("403", "token", ("*/services*", 403), ExitCode.ACCESS_DENIED),
    ("500", "token", ("*", 500), ExitCode.API_UNREACHABLE),
    ("closed-port", "closed", None, ExitCode.API_UNREACHABLE),
]


@pytest.mark.parametrize(
    ("context", "fault", "code"), [pytest.param(*c[1:], id=c[0]) for c in CASES]
)
def test_no_output_or_log_carries_a_credential(
    run,
    api_server_tls,
    creds: Credentials,
    make_knot,
    caplog: pytest.LogCaptureFixture,
    context: str,
    fault: tuple[str, int] | None,
    code: int | None,
) -> None:
    if fault is not None:
        api_server_tls.inject(fault[0], status=fault[1])
    knot = make_knot(seed_zones())
    caplog.set_level(logging.DEBUG)
    for name, args in commands(knot.port).items():
        caplog.clear()
        result = run(
            *args,
            "--kubeconfig",
            str(creds.path),
            "--context",
            context,
            "--request-timeout",
            "2",
            "--debug",
        )
        expected = (ExitCode.OK, ExitCode.MISMATCH) if code is None else (code,)
        assert result.code in expected, (name, result.err)
        seen = result.out + result.err + caplog.text
        assert creds.leaks(seen) == [], (name, seen)
        # --debug logs hsvc's own steps, never the client's or urllib3's wire details.
        noisy = [r for r in caplog.records if r.name.startswith(("kubernetes", "urllib3"))]
        assert all(r.levelno >= logging.WARNING for r in noisy), noisy
        if fault is None and code is None:
            assert any(r.name.startswith("hsvc") for r in caplog.records)
    if code is None:
        # The credentials did reach the server, and only in the Authorization header.
        assert api_server_tls.log and all(
            r.authorization == f"Bearer {TOKEN}" for r in api_server_tls.log
        )


@pytest.mark.parametrize("context", ["exec", "exec-wrong"])
def test_a_real_process_with_debug_prints_no_credential(
    api_server_tls, creds: Credentials, context: str
) -> None:
    # In-process runs log to pytest's handler; this is hsvc's own stderr handler.
    args = ["records", "gateway", "--kubeconfig", str(creds.path), "--context", context]
    result = subprocess.run(
        [sys.executable, "-m", "hsvc", *args, "--debug", "-o", "json"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == (ExitCode.OK if context == "exec" else ExitCode.ACCESS_DENIED)
    assert "hsvc: DEBUG: using context" in result.stderr
    assert creds.leaks(result.stdout + result.stderr) == []
