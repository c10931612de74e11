"""Hostile strings from DNS servers and the API: inert in tables and on stderr, exact in JSON.

A knotd zone (written by hand, tests/integration/knot.py) holds answers a
compromised or careless cluster could serve: a CNAME target and a PTR name with
escape bytes and rich markup, a TXT with ``\\027`` escapes, C1 bytes and markup,
an SRV target of 250 characters. They reach ``inspect`` and ``resolve`` tables
(no ESC, BEL or C1 character may come out; ``[red]`` stays literal) and their JSON
(the presentation form, RFC 1035 escapes and all, exactly as dnspython reads it).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from hsvc.errors import ExitCode
from tests.integration.api_fixtures import write_kubeconfig
from tests.integration.seed_zone import SOA

pytestmark = pytest.mark.integration

# C0 (but newline), DEL, C1: none may reach a terminal from cluster or DNS data.
RAW_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")

LONG = ".".join(["a" * 63, "b" * 63, "c" * 63, "d" * 57]) + "."  # 251 characters
# Zone-file text -> the presentation form dnspython gives back (what JSON must carry).
CNAME_ZONE = "\\027\\09131m\\091red\\093evil\\007\\155.example."
CNAME_DATA = "\\027[31m[red]evil\\007\\155.example."
PTR_ZONE = "\\091red\\093x\\027\\200.evil."
PTR_DATA = "[red]x\\027\\200.evil."
TXT_ZONE = '"[red]boom[/red]\\027[2J\\007\\155\\194\\155 end" "\\"quoted\\" back\\\\slash"'
TXT_DATA = TXT_ZONE  # dnspython writes it back as knot reads it

MANIFEST = """\
apiVersion: v1
kind: Service
metadata: {name: web, namespace: ms}
spec: {clusterIP: 10.0.0.9, ports: [{name: http, port: 80}], selector: {app: web}}
"""


def hostile_zones() -> dict[str, str]:
    head = f"@ 30 IN SOA {SOA}\n"
    cluster = (
        f"$ORIGIN cluster.local.\n{head}@ 30 IN NS ns.dns\nns.dns 30 IN A 10.96.0.10\n"
        f"web.ms.svc 30 IN CNAME {CNAME_ZONE}\n"
        f"_http._tcp.web.ms.svc 30 IN SRV 0 100 80 {LONG}\n"
        f"dns-version 30 IN TXT {TXT_ZONE}\n"
    )
    reverse = (
        f"$ORIGIN 10.in-addr.arpa.\n{head}@ 30 IN NS ns.dns.cluster.local.\n"
        f"9.0.0 30 IN PTR {PTR_ZONE}\n"
    )
    return {"cluster.local.": cluster, "10.in-addr.arpa.": reverse}


@pytest.fixture
def hostile(make_knot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("COLUMNS", "250")
    server = make_knot(hostile_zones())
    manifest = tmp_path / "web.yaml"
    manifest.write_text(MANIFEST, encoding="utf-8")

    def invoke(run, *args: str):
        return run(
            *args,
            "-n",
            "ms",
            "-f",
            str(manifest),
            "--nameserver",
            f"127.0.0.1:{server.port}",
            "--timeout",
            "1",
            "--no-color",
        )

    return invoke


def assert_inert(text: str) -> None:
    found = RAW_CONTROL.findall(text)
    assert not found, f"raw control characters {found!r} in:\n{text}"


RESOLVES = [
    ("dns-version.cluster.local.", "TXT", TXT_DATA),
    ("9.0.0.10.in-addr.arpa.", "PTR", PTR_DATA),
    ("web.ms.svc.cluster.local.", "CNAME", CNAME_DATA),
    ("_http._tcp.web.ms.svc.cluster.local.", "SRV", f"0 100 80 {LONG}"),
]


@pytest.mark.parametrize("output", ["table", "wide"])
def test_inspect_table_shows_hostile_answers_inert(run, hostile, output: str) -> None:
    result = hostile(run, "inspect", "web", "-o", output)
    assert result.code == ExitCode.MISMATCH, result.err
    assert_inert(result.out + result.err)
    # Markup stays literal (rich did not eat it), escapes stay visible.
    assert "[red]evil" in result.out and "[red]boom[/red]" in result.out
    assert "\\027[31m" in result.out
    assert "Traceback" not in result.out + result.err


def test_inspect_json_carries_hostile_answers_exactly(run, hostile) -> None:
    result = hostile(run, "inspect", "web", "-o", "json")
    assert result.code == ExitCode.MISMATCH, result.err
    assert_inert(result.out)
    actual = {
        (row["name"], row["type"]): [r["data"] for a in row["actual"] for r in a["answer"]]
        for row in json.loads(result.out)["rows"]
    }
    assert actual[("web.ms.svc.cluster.local.", "A")] == [CNAME_DATA]
    assert actual[("9.0.0.10.in-addr.arpa.", "PTR")] == [PTR_DATA]
    assert actual[("dns-version.cluster.local.", "TXT")] == [TXT_DATA]
    assert actual[("_http._tcp.web.ms.svc.cluster.local.", "SRV")] == [f"0 100 80 {LONG}"]


@pytest.mark.parametrize(("name", "qtype", "data"), RESOLVES, ids=[r[1] for r in RESOLVES])
def test_resolve_shows_hostile_answers_inert_and_exact(
    run, hostile, name: str, qtype: str, data: str
) -> None:
    table = hostile(run, "resolve", name, "-t", qtype)
    assert table.code in (ExitCode.OK, ExitCode.MISMATCH), table.err
    assert_inert(table.out + table.err)
    if qtype != "SRV":
        assert "[red]" in table.out
    doc = json.loads(hostile(run, "resolve", name, "-t", qtype, "-o", "json").out)
    (got,) = doc["results"]
    assert [r["data"] for a in got["actual"] for r in a["answer"]] == [data]


# --- the API: error messages and the cluster's own Corefile -------------------------------

HOSTILE = "[red]boom[/red]\x1b[2J\x1b]8;;http://127.0.0.1/x\x07click\x1b]8;;\x07\x9b31m\u202e"


def test_api_error_message_is_inert(run, api_server, kubeconfig: Path) -> None:
    api_server.inject("*/services*", status=500, message=HOSTILE)
    result = run("records", "-n", "ms", "--kubeconfig", str(kubeconfig))
    assert result.code == ExitCode.API_UNREACHABLE
    assert result.err.startswith("hsvc: error: ") and result.err.count("\n") == 1
    assert_inert(result.err)
    assert "\u202e" not in result.err
    assert "[red]boom[/red]" in result.err


def test_hostile_corefile_and_context_stay_inert_in_logs(api_server, tmp_path: Path) -> None:
    # A process of its own: in-process, pytest's log capture replaces hsvc's log handler.
    # The context name (from a kubeconfig someone handed over) is logged with --debug.
    kubeconfig = write_kubeconfig(tmp_path / "kc", api_server.url, context=f"ctx{HOSTILE}")
    corefile = (
        f".:53 {{\n    kubernetes cluster.local {{\n        labels {HOSTILE} in (\n    }}\n}}\n"
    )
    api_server.add(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "coredns", "namespace": "kube-system"},
            "data": {"Corefile": corefile},
        }
    )
    for debug in ([], ["--debug"]):
        args = ["records", "gateway", "-n", "ms", "--kubeconfig", str(kubeconfig), *debug]
        result = subprocess.run(
            [sys.executable, "-m", "hsvc", *args],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert result.returncode == ExitCode.OK, result.stderr
        assert "hsvc: WARNING: cannot parse the cluster's Corefile" in result.stderr
        assert "[red]boom[/red]" in result.stderr
        assert_inert(result.stdout + result.stderr)


@pytest.mark.parametrize("output", ["table", "json"])
def test_hostile_api_objects_in_inspect_findings(
    run, api_server, kubeconfig: Path, make_knot, output: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    api_server.add(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "odd", "namespace": "ms", "labels": {"x": HOSTILE}},
            "spec": {"clusterIP": "10.0.0.77", "selector": {"app": HOSTILE}},
        }
    )
    knot = make_knot(hostile_zones())
    result = run(
        "inspect",
        "odd",
        "-n",
        "ms",
        "--kubeconfig",
        str(kubeconfig),
        "--nameserver",
        f"127.0.0.1:{knot.port}",
        "--timeout",
        "0.5",
        "-o",
        output,
        "--no-color",
    )
    assert result.code == ExitCode.MISMATCH, result.err
    assert_inert(result.out + result.err)
    if output == "json":
        doc = json.loads(result.out)
        (finding,) = [f for f in doc["findings"] if f["code"] == "HSVC201"]
        assert HOSTILE in finding["message"]  # exact in JSON
        assert doc["services"][0]["selector"] == {"app": HOSTILE}
    else:
        assert "HSVC201" in result.out and "[red]boom[/red]" in result.out
