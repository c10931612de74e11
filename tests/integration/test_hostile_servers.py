"""Hostile API and DNS servers on 127.0.0.1: hsvc neither misreports, hangs, leaks nor crashes.

Each test drives ``hsvc`` through a real kubeconfig against the emulated API server
(``apiserver.py``) or against a DNS server that answers as a test scripts it
(``badserver.py``, mode ``script``), and checks the exit code, the one-line message
and a time limit.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import dns.flags
import dns.message
import dns.rcode
import dns.rrset
import pytest
import yaml

from hsvc.errors import ExitCode

pytestmark = pytest.mark.integration

WEB = """\
apiVersion: v1
kind: Service
metadata: {name: web, namespace: ms}
spec: {clusterIP: 10.0.0.14, ports: [{name: http, port: 80}]}
"""
WEB_NAME = "web.ms.svc.cluster.local."


def write(tmp_path: Path, text: str, name: str = "m.yaml") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def resolve_json(run, manifest: str, server: Any, *names: str, extra: tuple[str, ...] = ()):
    started = time.monotonic()
    result = run(
        "resolve",
        *(names or (WEB_NAME,)),
        "-n",
        "ms",
        "-f",
        manifest,
        "--nameserver",
        f"127.0.0.1:{server.port}",
        "--timeout",
        "0.5",
        "-o",
        "json",
        *extra,
    )
    return result, time.monotonic() - started


def reply(query: dns.message.Message, *records: str, rcode: int = dns.rcode.NOERROR):
    response = dns.message.make_response(query)
    response.flags |= dns.flags.AA
    response.set_rcode(rcode)
    qname = query.question[0].name
    for text in records:
        response.answer.append(dns.rrset.from_text(qname, 30, "IN", "A", text))
    return response


def statuses(out: str) -> list[str]:
    doc = json.loads(out)
    return [result["status"] for result in doc["results"]]


# --- misreported data ---------------------------------------------------------------------


def test_nxdomain_carrying_the_expected_record_is_not_ok(run, make_bad_dns, tmp_path) -> None:
    server = make_bad_dns(
        "script", script=lambda q: [reply(q, "10.0.0.14", rcode=dns.rcode.NXDOMAIN)]
    )
    result, elapsed = resolve_json(run, write(tmp_path, WEB), server)
    assert result.code == ExitCode.MISMATCH, result.out + result.err
    assert statuses(result.out) == ["missing"]
    assert "NXDOMAIN" in result.out and elapsed < 5


SLICES = "/apis/discovery.k8s.io/v1/namespaces/ms/endpointslices"
PAGE_ONE = {"kind": "EndpointSliceList", "metadata": {"continue": "next"}, "items": []}
FAILURE = {
    "kind": "Status",
    "apiVersion": "v1",
    "status": "Failure",
    "message": "etcd: leader lost",
}


@pytest.mark.parametrize(
    ("bodies", "fragment"),
    [
        pytest.param([{"items": {}}], '"items" is an object, not a list', id="items-object"),
        pytest.param([{"items": ""}], '"items" is a string, not a list', id="items-string"),
        pytest.param([{"items": 0}], '"items" is a number, not a list', id="items-zero"),
        pytest.param([{"kind": "EndpointSliceList"}], 'has no "items"', id="items-missing"),
        pytest.param([FAILURE], "answered 200 with a Status: etcd: leader lost", id="status-200"),
        pytest.param([{"items": [1, "x"]}], "item 0 is a number, not an object", id="non-objects"),
        pytest.param([PAGE_ONE, {}], 'has no "items"', id="second-page-empty-object"),
        pytest.param([{"items": [], "metadata": []}], '"metadata" is a list', id="metadata-list"),
    ],
)
def test_malformed_list_is_an_error_not_no_objects(
    run, api_server, kubeconfig, bodies, fragment
) -> None:
    for body in bodies:
        api_server.inject(SLICES, body=body, times=1)
    started = time.monotonic()
    result = run("records", "eureka", "-n", "ms", "--kubeconfig", str(kubeconfig))
    assert result.code == ExitCode.API_UNREACHABLE, result.out + result.err
    assert fragment in result.err and result.err.count("\n") == 1, result.err
    assert "Traceback" not in result.err and time.monotonic() - started < 5


def test_a_continue_token_that_never_advances_is_an_error(run, api_server, kubeconfig) -> None:
    api_server.inject(SLICES, body=PAGE_ONE)
    started = time.monotonic()
    result = run("records", "eureka", "-n", "ms", "--kubeconfig", str(kubeconfig))
    assert result.code == ExitCode.API_UNREACHABLE, result.out + result.err
    assert "same continue token again" in result.err
    assert api_server.count(path=SLICES) == 2
    assert time.monotonic() - started < 3


def test_deeply_nested_json_is_an_error_not_a_crash(run, api_server, kubeconfig) -> None:
    api_server.inject(SLICES, body=b'{"items": [' + b"[" * 100_000 + b"]" * 100_000 + b"]}")
    result = run("records", "eureka", "-n", "ms", "--kubeconfig", str(kubeconfig))
    assert result.code == ExitCode.API_UNREACHABLE, result.out + result.err
    assert "nested too deeply" in result.err and "Traceback" not in result.err


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        pytest.param({"clusterIP": "fe80::1%eth0"}, "spec.clusterIP", id="cluster-ip-zone"),
        pytest.param({"clusterIP": "not-an-ip"}, "spec.clusterIP", id="cluster-ip-garbage"),
        pytest.param({"clusterIP": "10.0.0.9", "ports": [{"port": 70000}]}, "port", id="port"),
        pytest.param(
            {"type": "ExternalName", "externalName": "a b.com"}, "externalName", id="external"
        ),
    ],
)
def test_api_object_the_api_server_would_refuse_is_an_error(
    run, api_server, kubeconfig, spec, fragment
) -> None:
    body = {"kind": "Service", "metadata": {"name": "eureka", "namespace": "ms"}, "spec": spec}
    api_server.inject("/api/v1/namespaces/ms/services/eureka", body=body)
    result = run("records", "eureka", "-n", "ms", "--kubeconfig", str(kubeconfig))
    assert result.code == ExitCode.API_UNREACHABLE, result.out + result.err
    assert "sent an object hsvc cannot read (eureka)" in result.err and fragment in result.err
    assert "Traceback" not in result.err and result.err.count("\n") == 1


def test_api_endpoint_hostname_the_api_server_would_refuse_is_an_error(
    run, api_server, kubeconfig
) -> None:
    page = {
        "kind": "EndpointSliceList",
        "metadata": {},
        "items": [
            {
                "metadata": {
                    "name": "eureka-x",
                    "namespace": "ms",
                    "labels": {"kubernetes.io/service-name": "eureka"},
                },
                "addressType": "IPv4",
                "endpoints": [{"addresses": ["10.244.9.9"], "hostname": "h" * 64}],
            }
        ],
    }
    api_server.inject(SLICES, body=page)
    result = run("records", "eureka", "-n", "ms", "--kubeconfig", str(kubeconfig))
    assert result.code == ExitCode.API_UNREACHABLE, result.out + result.err
    assert "endpoints[0].hostname" in result.err and "RFC 1123 label" in result.err


def test_escaped_name_is_the_name_dns_answered(run, make_bad_dns, tmp_path) -> None:
    # \119 is "w": the model decodes escapes as the DNS library does, so they pair up.
    server = make_bad_dns("script", script=lambda q: [reply(q, "10.0.0.14")])
    escaped = "\\119eb.ms.svc.cluster.local."
    result, _ = resolve_json(run, write(tmp_path, WEB), server, escaped)
    assert result.code == ExitCode.OK, result.out + result.err
    assert statuses(result.out) == ["ok"]


def test_an_answer_of_class_ch_is_no_match(run, make_bad_dns, tmp_path) -> None:
    # A PTR reads the same in any class: only the class tells CH data from an IN answer.
    def chaos(query: dns.message.Message) -> list[dns.message.Message]:
        response = reply(query)
        qname = query.question[0].name
        response.answer.append(dns.rrset.from_text(qname, 30, "CH", "PTR", WEB_NAME))
        return [response]

    server = make_bad_dns("script", script=chaos)
    result, _ = resolve_json(
        run, write(tmp_path, WEB), server, "14.0.0.10.in-addr.arpa.", extra=("-t", "PTR")
    )
    assert result.code == ExitCode.MISMATCH, result.out + result.err
    assert statuses(result.out) == ["missing"]


# --- hangs and unbounded memory ----------------------------------------------------------


def hsvc_process(*args: str):
    """Run hsvc as its own process; return the result, seconds taken and peak memory (MB)."""
    import resource
    import subprocess
    import sys

    script = (
        "import resource, subprocess, sys, time\n"
        "t = time.monotonic()\n"
        "p = subprocess.run(sys.argv[1:], capture_output=True, text=True, timeout=60)\n"
        "rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024\n"
        "print(p.returncode, time.monotonic() - t, rss)\n"
        "sys.stderr.write(p.stderr)\n"
    )
    del resource
    done = subprocess.run(
        [sys.executable, "-c", script, sys.executable, "-m", "hsvc", *args],
        capture_output=True,
        text=True,
        timeout=90,
    )
    code, seconds, peak = done.stdout.split()
    return int(code), float(seconds), float(peak), done.stderr


@pytest.mark.parametrize("mode", ["trickle-headers", "trickle-body"])
def test_a_trickling_server_is_bounded_by_the_request_timeout(tmp_path, mode) -> None:
    from tests.integration.api_fixtures import write_kubeconfig
    from tests.integration.badserver import BadHttpServer

    with BadHttpServer(mode) as server:
        config = write_kubeconfig(tmp_path / "kc", server.url)
        code, seconds, _, err = hsvc_process(
            "records", "gateway", "--kubeconfig", str(config), "--request-timeout", "1"
        )
    assert code == ExitCode.API_UNREACHABLE, err
    assert "within 1 s" in err and err.count("\n") == 1, err
    # One request, cut at the timeout: the server would trickle on for half an hour.
    # The bound adds the interpreter's start, generously (seconds on a loaded machine).
    assert server.connections == 1
    assert seconds < 1 + 4, seconds


def test_an_endless_body_is_cut_at_the_size_limit(tmp_path) -> None:
    from tests.integration.api_fixtures import write_kubeconfig
    from tests.integration.badserver import BadHttpServer

    with BadHttpServer("endless-body") as server:
        config = write_kubeconfig(tmp_path / "kc", server.url)
        code, seconds, peak, err = hsvc_process(
            "records", "gateway", "--kubeconfig", str(config), "--request-timeout", "20"
        )
    assert code == ExitCode.API_UNREACHABLE, err
    assert "the answer is larger than 64 MB" in err and err.count("\n") == 1, err
    assert peak < 500, f"{peak:.0f} MB"
    assert seconds < 20


# --- DNS: stray replies and refusals --------------------------------------------------------


def test_a_stray_reply_with_another_id_is_skipped(run, make_bad_dns, tmp_path) -> None:
    def stray_first(query: dns.message.Message) -> list[dns.message.Message]:
        stray = reply(query, "10.9.9.9")
        stray.id = (query.id + 1) & 0xFFFF
        return [stray, reply(query, "10.0.0.14")]

    server = make_bad_dns("script", script=stray_first)
    result, elapsed = resolve_json(run, write(tmp_path, WEB), server)
    assert result.code == ExitCode.OK, result.out + result.err
    assert statuses(result.out) == ["ok"] and elapsed < 3


@pytest.mark.parametrize("rcode", ["REFUSED", "NOTIMP", "FORMERR"])
@pytest.mark.parametrize("command", ["resolve", "inspect"])
def test_refusals_of_every_kind_end_alike(run, make_bad_dns, tmp_path, rcode, command) -> None:
    # REFUSED, NOTIMP and FORMERR are all a server saying no: error rows, exit 1.
    code = dns.rcode.from_text(rcode)
    server = make_bad_dns("script", script=lambda q: [reply(q, rcode=code)])
    target = [WEB_NAME] if command == "resolve" else ["web"]
    result = run(
        command, *target, "-n", "ms", "-f", write(tmp_path, WEB),
        "--nameserver", f"127.0.0.1:{server.port}", "--timeout", "0.5", "-o", "json",
    )  # fmt: skip
    assert result.code == ExitCode.MISMATCH, result.out + result.err
    doc = json.loads(result.out)
    rows = doc["results"] if command == "resolve" else doc["rows"]
    assert rows and {r["status"] for r in rows} == {"error"}
    assert {a["rcode"] for r in rows for a in r["actual"]} == {rcode}


def test_a_silent_nameserver_with_1000_services_ends_within_one_query_timeout(
    run, make_bad_dns, tmp_path
) -> None:
    import socket

    services = "".join(
        f"---\napiVersion: v1\nkind: Service\nmetadata: {{name: s{i}, namespace: ms}}\n"
        f"spec: {{clusterIP: 10.1.{i // 250}.{i % 250 + 1}, ports: [{{name: http, port: 80}}]}}\n"
        for i in range(1000)
    )
    manifest = write(tmp_path, services)

    def inspect(port: int) -> tuple[Any, float]:
        started = time.monotonic()
        result = run(
            "inspect", "-n", "ms", "-f", manifest,
            "--nameserver", f"127.0.0.1:{port}", "--timeout", "1", "-o", "json",
        )  # fmt: skip
        return result, time.monotonic() - started

    # The same run against a closed port (refused at once) is the cost of the work itself.
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    _, work = inspect(closed)
    silent = make_bad_dns("silent")
    result, elapsed = inspect(silent.port)
    assert result.code == ExitCode.NO_DNS, result.err
    assert "no DNS server answered any query" in result.err
    # One query's timeout and its retry, plus 1 s (was: 4,001 questions' timeouts, 128 s).
    assert elapsed - work < 1 * 2 + 1, f"{elapsed:.1f} s, of which {work:.1f} s work"
    assert silent.udp_queries < 10


def _stalled(run, config, *args: str, timeout: int = 1) -> tuple[Any, float]:
    started = time.monotonic()
    result = run(*args, "--kubeconfig", str(config), "--request-timeout", str(timeout))
    return result, time.monotonic() - started


# What a run may take past --request-timeout in-process: parsing, the error line
# (a tenth of a second on a busy machine). Under one timeout, so that a second
# wait (a retry, or a deadline per step) cannot fit.
_MARGIN = 0.9


@pytest.mark.parametrize("scheme", ["http", "https"])
@pytest.mark.parametrize(
    "command", [["records", "gateway"], ["inspect", "gateway"], ["inspect", "-A"], ["lint"]]
)
def test_a_server_that_accepts_and_stalls_ends_within_the_request_timeout(
    run, tmp_path, scheme, command
) -> None:
    from tests.integration.api_fixtures import write_kubeconfig
    from tests.integration.badserver import BadHttpServer

    with BadHttpServer("stall") as server:
        url = server.url.replace("http://", f"{scheme}://")
        config = write_kubeconfig(tmp_path / "kc", url)
        result, seconds = _stalled(run, config, *command)
    assert result.code == ExitCode.API_UNREACHABLE, result.err
    assert "within 1 s" in result.err and result.err.count("\n") == 1, result.err
    # One deadline for the whole run, from before the kubeconfig is read.
    assert seconds < 1 + _MARGIN, seconds
    assert server.connections == 1  # the stalled request is not retried


def test_an_exec_plugin_and_the_requests_share_one_deadline(run, tmp_path) -> None:
    from tests.integration.api_fixtures import write_kubeconfig
    from tests.integration.badserver import BadHttpServer

    script = tmp_path / "plugin"
    # A slow credential plugin: 1.2 s of the 2 s, then a valid ExecCredential.
    script.write_text(
        "#!/bin/sh\nsleep 1.2\n"
        'echo \'{"apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential",'
        ' "status": {"token": "t"}}\'\n'
    )
    script.chmod(0o755)
    with BadHttpServer("trickle-body") as server:
        config = write_kubeconfig(tmp_path / "kc", server.url, token=None)
        doc = yaml.safe_load(config.read_text())
        doc["users"][0]["user"] = {
            "exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": str(script)}
        }
        config.write_text(yaml.safe_dump(doc))
        result, seconds = _stalled(run, config, "records", "gateway", timeout=2)
    assert result.code == ExitCode.API_UNREACHABLE, result.err
    assert seconds < 2 + _MARGIN, seconds
    assert server.connections >= 1  # the plugin finished and the request was sent
