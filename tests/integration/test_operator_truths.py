"""Small truths an operator relies on: what a row shows is what failed, the DNS line is whole.

Clusters from tests/fleet.py served by knotd from hand-typed zone rows; a test edits
a row (a TTL, a Corefile option) and checks what the table says about it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hsvc.errors import ExitCode
from tests import fleet

pytestmark = pytest.mark.integration


def _inspect(run, knot, path, *args):
    return run("inspect", *args, "-f", path, "--nameserver", f"127.0.0.1:{knot.port}", "--no-color")


@pytest.mark.parametrize("columns", [None, "80"])
def test_rule43_a_row_failing_on_ttl_alone_shows_both_ttls(
    run, make_knot, tmp_path, monkeypatch, columns
) -> None:
    cluster = fleet.three_namespaces()
    path = str(cluster.write(tmp_path))
    zones = cluster.zones()
    # DNS serves grafana's name with TTL 300 against the Corefile's ttl 30 (rule 43).
    zones["cluster.local."] = re.sub(
        r"^grafana\.ops\.svc 30 IN A ",
        "grafana.ops.svc 300 IN A ",
        zones["cluster.local."],
        flags=re.M,
    )
    assert "grafana.ops.svc 300 IN A" in zones["cluster.local."]
    if columns:
        monkeypatch.setenv("COLUMNS", columns)
    else:
        monkeypatch.delenv("COLUMNS", raising=False)
    result = _inspect(run, make_knot(zones), path, "grafana", "-n", "ops")
    assert result.code == ExitCode.MISMATCH, result.out + result.err
    lines = result.out.splitlines()
    at = next(
        i for i, line in enumerate(lines) if re.match(r"^✗\d+\s+grafana\.ops\.svc\s+A\s", line)
    )
    cells = " ".join(lines[at : at + 2])
    # EXPECTED and ACTUAL differ visibly: the limit on one side, the TTL served on the other.
    assert re.search(r"TTL ≤30\s+TTL 300", cells), cells
    assert "TTL 300 is above the configured 30" in result.out
    # The rows that pass keep their plain cells.
    assert "TTL ≤" not in "".join(line for line in lines if line.startswith("✓"))


def test_rule43_one_row_per_line_keeps_the_ttls(run, make_knot, tmp_path) -> None:
    cluster = fleet.three_namespaces()
    path = str(cluster.write(tmp_path))
    zones = cluster.zones()
    zones["cluster.local."] = zones["cluster.local."].replace(
        "grafana.ops.svc 30 IN A", "grafana.ops.svc 120 IN A"
    )
    result = _inspect(run, make_knot(zones), path, "grafana", "-n", "ops", "--no-headers")
    row = [
        line
        for line in result.out.splitlines()
        if re.match(r"^✗\d+\s+grafana\.ops\.svc\s+A\s", line)
    ]
    assert len(row) == 1 and re.search(r"10\.\S+,TTL ≤30\s+10\.\S+,TTL 120$", row[0]), row


COREFILE = """\
.:53 {
    kubernetes cluster.local example.org in-addr.arpa ip6.arpa {
       pods verified
       endpoint_pod_names
       namespaces ops web
       ignore empty_service
       ttl 30
    }
}
"""


def test_the_dns_line_shows_every_option_that_is_not_kubeadms(
    run, make_knot, tmp_path: Path
) -> None:
    cluster = fleet.three_namespaces()
    path = str(cluster.write(tmp_path))
    corefile = tmp_path / "Corefile"
    corefile.write_text(COREFILE, encoding="utf-8")
    knot = make_knot(cluster.zones())
    result = _inspect(run, knot, path, "grafana", "-n", "ops", "--corefile", str(corefile))
    line = " ".join(result.out.split("\nasked:")[0].split("DNS:", 1)[1].split())
    line = "DNS: " + line
    assert line.startswith("DNS: zone cluster.local. ttl 30 pods verified "), line
    for option in (
        "zones +example.org.",
        "endpoint_pod_names",
        "namespaces ops web",
        "ignore empty_service",
        "no fallthrough",
    ):
        assert option in line, (option, line)
    # kubeadm's own Corefile: nothing beyond zone, ttl and pods.
    plain = _inspect(run, knot, path, "grafana", "-n", "ops")
    dns = plain.out.split("\nasked:")[0]
    assert not re.search(r"endpoint_pod_names|namespaces|ignore|zones \+", dns), dns


def test_a_refusing_server_is_named_once_not_refused_refused(run, make_knot, tmp_path) -> None:
    cluster = fleet.three_namespaces()
    path = str(cluster.write(tmp_path))
    # A server with no cluster zone refuses every cluster name (it is there and says no).
    knot = make_knot(
        {
            "example.org.": "$ORIGIN example.org.\n$TTL 30\n@ SOA ns hm 1 7200 1800 86400 30\n@ NS ns\nns A 127.0.0.1\n"
        }
    )
    table = _inspect(run, knot, path, "grafana", "-n", "ops", "--all-rows")
    assert table.code == ExitCode.MISMATCH, table.err
    doc = run(
        "inspect",
        "grafana",
        "-n",
        "ops",
        "-f",
        path,
        "--nameserver",
        f"127.0.0.1:{knot.port}",
        "-o",
        "json",
    ).json()
    notes = {c["note"] for r in doc["rows"] for c in r["actual"]}
    assert notes == {"REFUSED: the server does not answer for this name"}, notes
    assert "REFUSED: REFUSED" not in table.out + table.err
    assert "REFUSED: the server does not answer for this name" in table.out


@pytest.mark.parametrize("qtype", ["SRV", "TXT", "PTR"])
def test_no_getaddrinfo_walk_for_questions_that_are_not_addresses(
    run, make_knot, tmp_path, qtype
) -> None:
    cluster = fleet.three_namespaces()
    path = str(cluster.write(tmp_path))
    knot = make_knot(cluster.zones())
    name = "10.96.3.11" if qtype == "PTR" else "grafana"
    args = [
        "resolve",
        name,
        "-n",
        "ops",
        "-t",
        qtype,
        "-f",
        path,
        "--nameserver",
        f"127.0.0.1:{knot.port}",
    ]
    table = run(*args, "--no-color")
    assert table.code in (ExitCode.OK, ExitCode.MISMATCH), table.err
    assert not re.search(r"^(search|glibc|musl|glibc/musl) ", table.out, re.M), table.out
    doc = run(*args, "-o", "json").json()
    assert all("search" not in r for r in doc["results"])
    # An address question keeps its walk.
    a = run(
        "resolve",
        "grafana",
        "-n",
        "ops",
        "-f",
        path,
        "--nameserver",
        f"127.0.0.1:{knot.port}",
        "--no-color",
    )
    assert re.search(r"^search ", a.out, re.M) and re.search(r"^glibc/musl expected ", a.out, re.M)
