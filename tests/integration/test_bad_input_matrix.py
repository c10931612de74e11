"""Bad input of every kind: one table, one row per case, each ending fast, in one line, no traceback.

Every row runs one command (in-process through ``main``, or as a subprocess for
Ctrl-C) and asserts: the exit code; the message fragment (on stderr for errors,
anywhere in the output for exit 0 and 1); exactly one ``hsvc: error:`` line on
stderr when the code is an error; no ``Traceback`` anywhere (no ``--debug``);
done within the row's time limit.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from hsvc.errors import ExitCode
from tests.integration.api_fixtures import write_kubeconfig
from tests.integration.seed_zone import SOA, seed_zones

pytestmark = pytest.mark.integration

DATA = Path(__file__).resolve().parents[1] / "data"
SEED = str(DATA / "seed" / "ms.yaml")
BROKEN = DATA / "broken"
OK_CODES = (ExitCode.OK, ExitCode.MISMATCH)


@dataclass
class Call:
    """What a row runs: the arguments, and (for Ctrl-C) the silent server to wait on."""

    args: list[str]
    interrupt: Any = None  # a BadDnsServer: SIGINT once it has seen a query
    closed_stdin: bool = False  # run as a process whose file descriptor 0 is closed


class Env:
    """The fixtures a row may need, fetched only when it asks for them."""

    def __init__(self, request: pytest.FixtureRequest, tmp_path: Path) -> None:
        self._request = request
        self.tmp = tmp_path

    def fixture(self, name: str) -> Any:
        return self._request.getfixturevalue(name)

    # -- the API --

    def api(self, *args: str, inject: tuple[str, dict[str, Any]] | None = None) -> Call:
        server = self.fixture("api_server")
        if inject is not None:
            server.inject(inject[0], **inject[1])
        return Call([*args, "--kubeconfig", str(self.fixture("kubeconfig"))])

    def tls(self, *args: str, ca_pem: bytes | None = None, token: str | None = None) -> Call:
        server = self.fixture("api_server_tls")
        ca = self.tmp / "ca.pem"
        ca.write_bytes(ca_pem or server.ca_pem)
        extra = {} if token is None else {"token": token}
        cfg = write_kubeconfig(self.tmp / "kc-tls", server.url, ca_file=ca, **extra)
        return Call([*args, "--kubeconfig", str(cfg)])

    def kubeconfig_text(self, text: str, *args: str) -> Call:
        path = self.tmp / "kubeconfig"
        path.write_text(text, encoding="utf-8")
        return Call([*args, "--kubeconfig", str(path)])

    def closed_port(self, *args: str) -> Call:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        cfg = write_kubeconfig(self.tmp / "kc", f"http://127.0.0.1:{port}")
        return Call([*args, "--kubeconfig", str(cfg), "--request-timeout", "2"])

    # -- DNS --

    def dns(self, server: Any, *args: str, command: str = "inspect", timeout: str = "0.3") -> Call:
        # --timeout is a parameter, not one of args: the last --timeout given wins.
        target = ["gateway"] if command == "inspect" else []
        return Call(
            [
                command,
                *target,
                *args,
                "-n",
                "ms",
                "-f",
                SEED,
                "--nameserver",
                f"127.0.0.1:{server.port}",
                "--timeout",
                timeout,
                "--no-color",
            ]
        )

    def bad_dns(self, mode: str) -> Any:
        return self.fixture("make_bad_dns")(mode)

    def knot(self, zones: dict[str, str]) -> Any:
        return self.fixture("make_knot")(zones)

    # -- manifests --

    def manifest(self, text: str, *args: str, name: str = "m.yaml") -> Call:
        path = self.tmp / name
        path.write_text(text, encoding="utf-8")
        return Call(["records", *args, "-n", "ms", "-f", str(path), "--offline"])


# --- setups that need more than one line ---------------------------------------------------


def second_ca(env: Env) -> Call:
    import trustme

    return env.tls("records", "gateway", ca_pem=trustme.CA().cert_pem.bytes())


BIG = 150  # A records: about 2.4 KB, over the 1232-byte EDNS payload


def truncated_then_tcp(env: Env) -> Call:
    ips = [f"10.99.{i // 250}.{i % 250 + 1}" for i in range(BIG)]
    manifest = env.tmp / "big.yaml"
    manifest.write_text(
        "apiVersion: v1\nkind: Service\nmetadata: {name: big, namespace: ms}\n"
        "spec: {clusterIP: None, selector: {app: big}}\n---\n"
        "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n"
        "metadata: {name: big-1, namespace: ms, labels: {kubernetes.io/service-name: big}}\n"
        "addressType: IPv4\nendpoints:\n"
        + "".join(f"- addresses: [{ip}]\n  conditions: {{ready: true}}\n" for ip in ips),
        encoding="utf-8",
    )
    zone = (
        f"$ORIGIN cluster.local.\n@ 30 IN SOA {SOA}\n@ 30 IN NS ns.dns\nns.dns 30 IN A 10.96.0.10\n"
    )
    zone += "".join(f"big.ms.svc 30 IN A {ip}\n" for ip in ips)
    knot = env.knot({"cluster.local.": zone})
    return Call(
        [
            "resolve",
            "big.ms.svc.cluster.local.",
            "-n",
            "ms",
            "-f",
            str(manifest),
            "--nameserver",
            f"127.0.0.1:{knot.port}",
            "-o",
            "json",
        ]
    )


def servfail(env: Env) -> Call:
    zones = seed_zones()
    zones["cluster.local."] = (
        "not a zone file\n"  # knot serves a zone that fails to load as SERVFAIL
    )
    return env.dns(env.knot(zones))


def refused(env: Env) -> Call:
    return env.dns(env.knot({"example.org.": f"$ORIGIN example.org.\n@ 30 IN SOA {SOA}\n"}))


def huge_manifest(env: Env) -> Call:
    path = env.tmp / "huge.yaml"
    with path.open("wb") as f:
        f.truncate(50 * 1024 * 1024)  # sparse: 50 MB that would take PyYAML minutes
    return Call(["records", "-n", "ms", "-f", str(path), "--offline"])


UNKNOWN_KINDS = """\
apiVersion: example.com/v1
kind: Widget
metadata: {name: w, namespace: ms}
spec: {anything: [1, 2]}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: ms}
spec: {clusterIP: 10.0.0.9, ports: [{name: http, port: 80}]}
"""


def ctrl_c(env: Env) -> Call:
    silent = env.bad_dns("silent")
    call = env.dns(silent, timeout="30")
    assert call.args.count("--timeout") == 1 and "30" in call.args
    return Call(call.args, interrupt=silent)


def corefile_latin1(env: Env) -> Call:
    path = env.tmp / "Corefile"
    path.write_bytes(b".:53 {\n    kubernetes cluster.local # caf\xe9\n}\n")
    return Call(["records", "-f", SEED, "--offline", "--corefile", str(path)])


def stdin_closed(env: Env) -> Call:
    return Call(["records", "-n", "ms", "-f", "-", "--offline"], closed_stdin=True)


API_500 = ("*/services*", {"status": 500})
SLOW = ("*", {"delay": 3.0})


def forbidden(pattern: str) -> tuple[str, dict[str, Any]]:
    return (pattern, {"status": 403})


NS = "/api/v1/namespaces/ms"

# (id, setup, exit code, fragment, seconds)
CASES: list[tuple[str, Callable[[Env], Call], int, str, float]] = [
    # --- the cluster: names, kubeconfig, transport, credentials, permissions ---
    (
        "unknown-service",
        lambda e: e.api("records", "nope", "-n", "ms"),
        ExitCode.NOT_FOUND,
        'service "nope" not found in namespace "ms"',
        5,
    ),
    (
        "unknown-namespace",
        lambda e: e.api("records", "-n", "nowhere"),
        ExitCode.NOT_FOUND,
        'namespace "nowhere" not found',
        5,
    ),
    (
        "unknown-context",
        lambda e: e.api("records", "--context", "nope"),
        ExitCode.NOT_FOUND,
        'context "nope" does not exist',
        5,
    ),
    (
        "kubeconfig-missing",
        lambda e: Call(["records", "--kubeconfig", str(e.tmp / "absent")]),
        ExitCode.API_UNREACHABLE,
        "does not exist or is not a file",
        5,
    ),
    (
        "kubeconfig-garbage",
        lambda e: e.kubeconfig_text("clusters: [\n  - {name: x\n\t: : ]]\n", "records"),
        ExitCode.API_UNREACHABLE,
        "kubeconfig",
        5,
    ),
    (
        "kubeconfig-not-a-mapping",
        lambda e: e.kubeconfig_text("- just\n- a list\n", "records"),
        ExitCode.API_UNREACHABLE,
        "expected a mapping",
        5,
    ),
    (
        "api-closed-port",
        lambda e: e.closed_port("records"),
        ExitCode.API_UNREACHABLE,
        "connection refused",
        5,
    ),
    ("tls-unknown-ca", second_ca, ExitCode.API_UNREACHABLE, "TLS failure", 5),
    (
        "token-invalid-401",
        lambda e: e.tls("records", "gateway", token="not-the-token"),
        ExitCode.ACCESS_DENIED,
        "unauthorized",
        5,
    ),
    (
        "token-expired-401",
        lambda e: e.api("records", inject=("*", {"status": 401, "message": "token has expired"})),
        ExitCode.ACCESS_DENIED,
        "renew them",
        5,
    ),
    (
        "forbidden-services",
        lambda e: e.api("records", "eureka", inject=forbidden(f"{NS}/services*")),
        ExitCode.ACCESS_DENIED,
        'cannot get services "eureka" in namespace "ms": forbidden; grant "get"',
        5,
    ),
    (
        "forbidden-pods",
        lambda e: e.api("records", "eureka", inject=forbidden(f"{NS}/pods*")),
        ExitCode.OK,
        "could not read pods (list forbidden in namespace ms)",
        5,
    ),
    (
        "forbidden-endpointslices",
        lambda e: e.api(
            "records",
            "eureka",
            inject=forbidden("/apis/discovery.k8s.io/v1/namespaces/ms/endpointslices*"),
        ),
        ExitCode.OK,
        "could not read endpointslices.discovery.k8s.io (list forbidden",
        5,
    ),
    (
        "forbidden-statefulsets",
        lambda e: e.api(
            "records", "eureka", inject=forbidden("/apis/apps/v1/namespaces/ms/statefulsets*")
        ),
        ExitCode.OK,
        "could not read statefulsets.apps (list forbidden",
        5,
    ),
    (
        "api-500",
        lambda e: e.api("records", inject=API_500),
        ExitCode.API_UNREACHABLE,
        "the API server answered 500 InternalError",
        5,
    ),
    (
        "api-slower-than-request-timeout",
        lambda e: e.api("records", "--request-timeout", "0.5", inject=SLOW),
        ExitCode.API_UNREACHABLE,
        "within 0.5 s",
        2.5,
    ),
    # --- DNS servers ---
    (
        "dns-down",
        lambda e: e.dns(e.bad_dns("silent")),
        ExitCode.NO_DNS,
        "no DNS server answered any query",
        3,
    ),
    (
        "dns-down-resolve",
        lambda e: e.dns(e.bad_dns("silent"), "gateway", command="resolve"),
        ExitCode.NO_DNS,
        "no DNS server answered any query",
        3,
    ),
    ("dns-servfail", servfail, ExitCode.MISMATCH, "SERVFAIL", 5),
    ("dns-refused", refused, ExitCode.MISMATCH, "REFUSED", 5),
    ("dns-truncated-tcp-retry", truncated_then_tcp, ExitCode.OK, '"status": "ok"', 5),
    (
        "dns-garbage",
        lambda e: e.dns(e.bad_dns("garbage")),
        ExitCode.NO_DNS,
        "response does not match the query",
        3,
    ),
    (
        "dns-wrong-id",
        lambda e: e.dns(e.bad_dns("wrong-id")),
        ExitCode.NO_DNS,
        "response does not match the query",
        3,
    ),
    # --- names and types ---
    (
        "name-empty-label",
        lambda e: Call(["resolve", "a..b", "-f", SEED, "--offline"]),
        ExitCode.USAGE,
        "invalid name 'a..b'",
        3,
    ),
    (
        "name-label-over-63",
        lambda e: Call(["resolve", "x" * 64 + ".ms", "-f", SEED, "--offline"]),
        ExitCode.USAGE,
        "is longer than 63 characters",
        3,
    ),
    (
        "name-pasted-blob",  # the reason must survive a name far over any cell width
        lambda e: Call(["resolve", "x" * 5000, "-f", SEED, "--offline"]),
        ExitCode.USAGE,
        "(5000 characters): label 'xxxxxxxxxxxxxxxxxxxx'… is longer than 63 characters",
        3,
    ),
    (
        "name-empty",
        lambda e: Call(["resolve", "", "-f", SEED, "--offline"]),
        ExitCode.USAGE,
        "invalid name ''",
        3,
    ),
    (
        "service-name-invalid",
        lambda e: Call(["records", "Bad_Name", "-n", "ms", "-f", SEED, "--offline"]),
        ExitCode.USAGE,
        "invalid name 'Bad_Name'",
        3,
    ),
    (
        "bad-record-type",
        lambda e: Call(["resolve", "gateway", "-t", "BOGUS", "-f", SEED, "--offline"]),
        ExitCode.USAGE,
        "unknown record type 'BOGUS'",
        3,
    ),
    # --- manifests ---
    (
        "manifest-yaml-syntax",
        lambda e: Call(["records", "-f", str(BROKEN / "bad-yaml.yaml"), "--offline"]),
        ExitCode.BAD_MANIFEST,
        "bad-yaml.yaml:10:3: invalid YAML",
        3,
    ),
    (
        "manifest-unknown-kind-skipped",
        lambda e: e.manifest(UNKNOWN_KINDS, "-o", "json"),
        ExitCode.OK,
        '"web.ms.svc.cluster.local."',
        3,
    ),
    (
        "manifest-missing-kind",
        lambda e: Call(["records", "-f", str(BROKEN / "missing-kind.yaml"), "--offline"]),
        ExitCode.BAD_MANIFEST,
        "missing-kind.yaml:11:1: missing 'kind'",
        3,
    ),
    (
        "manifest-missing-name",
        lambda e: Call(["records", "-f", str(BROKEN / "missing-name.yaml"), "--offline"]),
        ExitCode.BAD_MANIFEST,
        "metadata.name",
        3,
    ),
    (
        "manifest-invalid-name",
        lambda e: e.manifest("apiVersion: v1\nkind: Service\nmetadata: {name: Web_1}\n"),
        ExitCode.BAD_MANIFEST,
        "m.yaml:3:18: Service default/Web_1: metadata.name: invalid value 'Web_1'",
        3,
    ),
    ("manifest-50-mb", huge_manifest, ExitCode.BAD_MANIFEST, "larger than 20 MB", 1),
    # --- settings and names checked before anything is read ---
    (
        "corefile-missing",
        lambda e: Call(["records", "-f", SEED, "--offline", "--corefile", str(e.tmp / "nope")]),
        ExitCode.BAD_MANIFEST,
        "cannot read the Corefile: No such file or directory",
        3,
    ),
    (
        "corefile-directory",
        lambda e: Call(["records", "-f", SEED, "--offline", "--corefile", str(e.tmp)]),
        ExitCode.BAD_MANIFEST,
        "cannot read the Corefile: Is a directory",
        3,
    ),
    ("corefile-not-utf8", corefile_latin1, ExitCode.BAD_MANIFEST, "not UTF-8 text", 3),
    (
        "cluster-domain-empty-label",
        lambda e: Call(["records", "-f", SEED, "--offline", "--cluster-domain", "a..b"]),
        ExitCode.USAGE,
        "not a usable --cluster-domain: empty label",
        3,
    ),
    (
        "cluster-domain-space",
        lambda e: Call(["records", "-f", SEED, "--offline", "--cluster-domain", "x y"]),
        ExitCode.USAGE,
        "not a usable --cluster-domain",
        3,
    ),
    (
        "cluster-domain-empty",
        lambda e: Call(["records", "-f", SEED, "--offline", "--cluster-domain", ""]),
        ExitCode.USAGE,
        "invalid name ''",
        3,
    ),
    (
        "cluster-domain-root",
        lambda e: Call(["records", "-f", SEED, "-n", "ms", "--offline", "--cluster-domain", "."]),
        ExitCode.USAGE,
        "pass it in a Corefile (kubernetes .)",
        3,
    ),
    (
        "namespace-invalid",
        lambda e: e.api("records", "-n", "Bad_NS"),
        ExitCode.USAGE,
        "invalid name 'Bad_NS'",
        3,
    ),
    (
        "pod-without-name",
        lambda e: e.api("resolve", "gateway", "-n", "ms", "--via", "exec", "--pod", "ms/"),
        ExitCode.USAGE,
        "--pod needs a pod name",
        3,
    ),
    (
        "request-timeout-inf",
        lambda e: e.api("records", "gateway", "--request-timeout", "inf"),
        ExitCode.USAGE,
        "invalid --request-timeout inf",
        3,
    ),
    ("stdin-closed", stdin_closed, ExitCode.BAD_MANIFEST, "standard input is closed", 5),
    # --- the user ---
    ("ctrl-c-while-resolving", ctrl_c, ExitCode.INTERRUPTED, "interrupted", 10),
]


@dataclass
class Outcome:
    code: int
    out: str
    err: str


def interrupted(call: Call) -> Outcome:
    """Run ``hsvc`` as a process; SIGINT it once the silent server has seen its first query."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    # A test run started as a background job of a script (`pytest ... &`, as a CI
    # runner may) has SIGINT ignored: POSIX shells start such jobs that way, and
    # exec keeps an ignored signal ignored, so hsvc (like any program) would honour
    # it and never see the Ctrl-C. A handler, unlike SIG_IGN, is reset by exec: the
    # child starts with SIGINT at its default, as under a terminal.
    ignored = signal.getsignal(signal.SIGINT) == signal.SIG_IGN
    if ignored:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "hsvc", *call.args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
    finally:
        if ignored:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        deadline = time.monotonic() + 8
        while call.interrupt.udp_queries == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert call.interrupt.udp_queries > 0, "hsvc never asked the server"
        time.sleep(0.3)  # well inside the 30 s query timeout
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=5)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    return Outcome(proc.returncode, out, err)


@pytest.mark.parametrize(
    ("setup", "code", "fragment", "limit"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_bad_input(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    run,
    setup: Callable[[Env], Call],
    code: int,
    fragment: str,
    limit: float,
) -> None:
    call = setup(Env(request, tmp_path))
    started = time.monotonic()
    if call.interrupt is not None:
        result = interrupted(call)
    elif call.closed_stdin:
        # `<&-`: the shell closes file descriptor 0 before hsvc starts.
        done = subprocess.run(
            ["sh", "-c", 'exec "$@" <&-', "sh", sys.executable, "-m", "hsvc", *call.args],
            capture_output=True,
            text=True,
            timeout=limit + 5,
        )
        result = Outcome(done.returncode, done.stdout, done.stderr)
    else:
        got = run(*call.args)
        result = Outcome(got.code, got.out, got.err)
    elapsed = time.monotonic() - started
    everything = result.out + result.err
    assert result.code == code, everything
    assert "Traceback" not in everything
    if code in OK_CODES:
        assert fragment in everything, everything
        assert "hsvc: error:" not in result.err, result.err
    else:
        assert fragment in result.err, result.err
        errors = [line for line in result.err.splitlines() if line.startswith("hsvc: error:")]
        assert len(errors) == 1, result.err
        assert result.err.strip() == errors[0], result.err
    assert elapsed < limit, f"took {elapsed:.2f}s, limit {limit}s"
