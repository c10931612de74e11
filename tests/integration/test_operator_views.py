"""What an operator sees: a summary first for many Services, names that never wrap mid-label.

Two clusters from tests/fleet.py, each served by knotd from hand-typed rows: 13
Services in 3 namespaces (one pod not ready but still served, one Service
answered with its old ClusterIP) and a 400-pod StatefulSet with one pod not
ready but still served. Tables are checked at 80, 120 and 200 columns and piped
(no COLUMNS: stdout is not a terminal, so nothing wraps).
"""

from __future__ import annotations

import re

import pytest

from hsvc.errors import ExitCode
from tests import fleet

pytestmark = pytest.mark.integration

# One screen of a classic terminal.
SCREEN_LINES = 24

THREE_NS_BROKEN = {
    ("zookeeper.kafka.svc", "A"),
    ("zookeeper-2.zookeeper.kafka.svc", "A"),
    ("zookeeper.kafka.svc", "SRV"),
    ("_client._tcp.zookeeper.kafka.svc", "SRV"),
    ("checkout.web.svc", "A"),
    ("10.96.2.12", "PTR"),
}


TITLES = {"Service name", "Per-pod / endpoint names", "SRV", "PTR", "Pod records", "Cluster"}


@pytest.fixture(scope="module")
def three(tmp_path_factory):
    cluster = fleet.three_namespaces()
    return cluster, str(cluster.write(tmp_path_factory.mktemp("three")))


@pytest.fixture(scope="module")
def kafka(tmp_path_factory):
    cluster = fleet.big_statefulset()
    return cluster, str(cluster.write(tmp_path_factory.mktemp("kafka")))


def inspect(run, knot, path, *args):
    return run(
        "inspect",
        *args,
        "-f",
        path,
        "--nameserver",
        f"127.0.0.1:{knot.port}",
        "--no-color",
    )


def x_rows(out: str) -> set[tuple[str, str]]:
    """(name, type) of every ✗ row of a table (names may wrap at dots onto the next lines)."""
    found = set()
    lines = out.splitlines()
    for i, line in enumerate(lines):
        m = re.match(r"^\s?✗\d+\s+(\S+)\s+(A|AAAA|SRV|PTR|TXT|CNAME)\s", line)
        if not m:
            continue
        name = m.group(1)
        j = i + 1
        while name.endswith(".") and j < len(lines):
            cont = lines[j].split()
            name += cont[0] if cont else ""
            j += 1
        found.add((name, m.group(2)))
    return found


@pytest.mark.parametrize("columns", ["80", "120", "200", None], ids=["80", "120", "200", "piped"])
def test_all_namespaces_fits_one_screen_with_every_failure(
    run, make_knot, three, monkeypatch, columns
) -> None:
    cluster, path = three
    if columns:
        monkeypatch.setenv("COLUMNS", columns)
    else:
        monkeypatch.delenv("COLUMNS", raising=False)
    result = inspect(run, make_knot(cluster.zones()), path, "-A")
    assert result.code == ExitCode.MISMATCH, result.err
    out = result.out
    lines = out.splitlines()
    # One 24-line screen, the note on stderr included.
    assert len(lines) + len(result.err.splitlines()) <= SCREEN_LINES, out
    if columns:
        assert all(len(line) <= int(columns) for line in lines), max(lines, key=len)
    # A line per broken Service, the 11 that are ok on one line.
    services = [line for line in lines if re.match(r"^[✓✗] \S+/\S+ ", line)]
    assert {line.split()[1] for line in services} == {"kafka/zookeeper", "web/checkout"}
    assert all(line.startswith("✗") for line in services)
    folded = [line for line in lines if line.startswith("✓ 11 other Services ok: ")]
    assert len(folded) == 1 and "kafka/kafka," in folded[0]
    if columns is None:  # whole when piped
        assert folded[0].endswith("web/frontend, web/postgres, web/redis")
    # Then only the ✗ rows, every one of them.
    assert x_rows(out) == THREE_NS_BROKEN
    assert not re.search(r"^\s?✓\s+\S+\.svc\s", out, re.M)  # no ok row is listed
    # The rows of one explanation share its number; each explanation is printed once.
    marks = re.findall(r"^\s?✗(\d+)\s", out, re.M)
    assert sorted(set(marks)) == ["1", "2", "3", "4"] and marks.count("1") == 3
    notes = re.findall(r"^(\d+)\. ", out, re.M)
    assert notes == ["1", "2", "3", "4"]
    if columns in (None, "200"):
        flat = " ".join(out.split())
        assert flat.count("weight 33, expected 50") == 1
    assert "132 checks, 126 ok, 1 missing, 1 unexpected, 4 wrong" in out
    # The settings note goes to stderr, as records and lint do.
    assert "note: DNS settings" not in out and "note: DNS settings" in result.err


@pytest.mark.parametrize("columns", ["80", None], ids=["80", "piped"])
def test_a_400_pod_statefulset_with_one_broken_pod_is_short(
    run, make_knot, kafka, monkeypatch, columns
) -> None:
    cluster, path = kafka
    if columns:
        monkeypatch.setenv("COLUMNS", columns)
    else:
        monkeypatch.delenv("COLUMNS", raising=False)
    result = inspect(run, make_knot(cluster.zones()), path, "kafka", "-n", "data")
    assert result.code == ExitCode.MISMATCH, result.err
    lines = result.out.splitlines()
    assert len(lines) + len(result.err.splitlines()) < 40, result.out
    if columns:
        assert all(len(line) <= 80 for line in lines), max(lines, key=len)
    assert x_rows(result.out) == {
        ("kafka.data.svc", "A"),
        ("kafka-123.kafka.data.svc", "A"),
        ("kafka.data.svc", "SRV"),
        ("_broker._tcp.kafka.data.svc", "SRV"),
    }
    # A large answer is a count and what differs, not 400 lines.
    assert re.search(r"399 addresses\s+\+10\.245\.0\.124", result.out)
    assert "1604 checks, 1600 ok, 1 unexpected, 3 wrong" in result.out


def test_only_failures_and_all_rows(run, make_knot, three, monkeypatch) -> None:
    cluster, path = three
    monkeypatch.setenv("COLUMNS", "120")
    knot = make_knot(cluster.zones())
    failures = inspect(run, knot, path, "-A", "--only-failures")
    assert failures.code == ExitCode.MISMATCH
    assert not re.search(r"^[✓✗] \S+/\S+ ", failures.out, re.M)  # no Service lines
    assert x_rows(failures.out) == THREE_NS_BROKEN
    every = inspect(run, knot, path, "-A", "--all-rows")
    assert every.code == ExitCode.MISMATCH
    ok_rows = re.findall(r"^\s?✓\s+\S", every.out, re.M)
    assert len(ok_rows) == 126
    both = inspect(run, knot, path, "-A", "--all-rows", "--only-failures")
    assert both.code == ExitCode.USAGE and both.err.startswith("hsvc: error: ")


def test_a_single_small_service_keeps_the_row_by_row_table(
    run, make_knot, three, monkeypatch
) -> None:
    cluster, path = three
    monkeypatch.setenv("COLUMNS", "80")
    result = inspect(run, make_knot(cluster.zones()), path, "zookeeper", "-n", "kafka")
    assert "Service kafka/zookeeper  headless" in result.out
    assert re.search(r"^\s?✓\s+zookeeper-0\.zookeeper\.kafka\.svc\s+A", result.out, re.M)


def test_json_keeps_every_row_and_adds_a_services_summary(run, make_knot, three) -> None:
    cluster, path = three
    knot = make_knot(cluster.zones())
    doc = run(
        "inspect", "-A", "-f", path, "--nameserver", f"127.0.0.1:{knot.port}", "-o", "json"
    ).json()
    assert len(doc["rows"]) == 132
    summary = {(s["namespace"], s["name"]): s for s in doc["services"]}
    assert len(summary) == 13
    zk = summary[("kafka", "zookeeper")]
    assert zk["checks"] == {
        "total": 15,
        "ok": 11,
        "wrong": 3,
        "unexpected": 1,
        "missing": 0,
        "too-large": 0,
        "error": 0,
        "uncertain": 0,
    }
    assert zk["cause"].startswith("HSVC204: 1 of 3 pods")
    assert summary[("web", "api")]["checks"]["ok"] == 12 and summary[("web", "api")]["cause"] == ""
    # The per-Service counts add up to the rows that belong to a Service.
    assert sum(s["checks"]["total"] for s in doc["services"]) == 132 - 1  # dns-version TXT


def test_piped_output_never_wraps_and_has_no_trailing_spaces(
    run, make_knot, three, monkeypatch
) -> None:
    cluster, path = three
    monkeypatch.delenv("COLUMNS", raising=False)
    knot = make_knot(cluster.zones())
    for args in (["-A"], ["-A", "--all-rows"], ["-A", "-o", "wide"], ["-A", "--no-headers"]):
        result = inspect(run, knot, path, *args)
        lines = result.out.splitlines()
        assert not [line for line in lines if line != line.rstrip()], args
        # Nothing wraps: every name and every explanation is on its own line, whole.
        assert not re.search(r"^\s+\S+\.svc\s*$", result.out, re.M), args
    summary = inspect(run, knot, path, "-A").out
    assert re.search(
        r"^✗ kafka/zookeeper .*HSVC204: 1 of 3 pods .*publishNotReadyAddresses is off: .*"
        r"until they are ready$",
        summary,
        re.M,
    )


@pytest.mark.parametrize("columns", [None, "80"])
def test_no_headers_and_wide_give_one_row_per_line(
    run, make_knot, three, monkeypatch, columns
) -> None:
    cluster, path = three
    if columns:
        monkeypatch.setenv("COLUMNS", columns)
    else:
        monkeypatch.delenv("COLUMNS", raising=False)
    knot = make_knot(cluster.zones())
    bare = inspect(run, knot, path, "zookeeper", "-n", "kafka", "--no-headers", "--all-rows")
    lines = bare.out.splitlines()
    # one per row (15 of the Service: 11, and the dashed-IP names of its 4 hostnamed endpoints,
    # which must not resolve; dns-version), no titles, no notes
    assert len(lines) == 16
    srv = [line for line in lines if " SRV " in line]
    assert len(srv) == 2 and all("zookeeper-0:2181,zookeeper-1:2181" in line for line in srv)
    wide = inspect(run, knot, path, "zookeeper", "-n", "kafka", "-o", "wide", "--all-rows")
    row = [
        line
        for line in wide.out.splitlines()
        if "zookeeper-2.zookeeper.kafka.svc.cluster.local." in line and " A " in line
    ]
    assert len(row) == 1 and "NXDOMAIN" in row[0] and "10.241.0.3" in row[0]


@pytest.mark.parametrize("columns", ["80", "120", "200"])
@pytest.mark.parametrize("args", [["zookeeper", "-n", "kafka"], ["-A"]], ids=["one", "all"])
def test_names_never_wrap_inside_a_label_and_headers_never_wrap(
    run, make_knot, three, monkeypatch, columns, args
) -> None:
    cluster, path = three
    monkeypatch.setenv("COLUMNS", columns)
    out = inspect(run, make_knot(cluster.zones()), path, *args).out
    lines = out.splitlines()
    header = next(line for line in lines if "NAME" in line and "EXPECTED" in line)
    assert re.search(r"NAME\s+TYPE\s+EXPECTED\s+ACTUAL$", header)
    col = header.index("NAME")
    start = lines.index(header)
    wrapped = 0
    for i, line in enumerate(lines[:-1]):
        if i <= start or not re.match(r"^\s?[✓✗]\d*\s", line) or len(line) <= col:
            continue
        fragment = line[col:].split(" ")[0]
        below = lines[i + 1]
        title = below.strip() in TITLES or re.match(r"^\S+/\S+$", below.strip())
        if len(below) > col and below[:col].strip() == "" and below[col] != " " and not title:
            wrapped += 1
            assert fragment.endswith("."), (fragment, line, below)
    if columns == "200":
        assert wrapped == 0


@pytest.mark.parametrize(
    "args",
    [
        ["-A"],
        ["-A", "--all-rows"],
        ["-A", "--only-failures"],
        ["zookeeper", "-n", "kafka", "--all-rows"],
        ["-A", "-o", "wide"],
        ["-A", "--no-headers"],
    ],
    ids=["summary", "all-rows", "only-failures", "one", "wide", "no-headers"],
)
def test_piped_lines_end_at_their_last_character(run, make_knot, three, monkeypatch, args) -> None:
    cluster, path = three
    monkeypatch.delenv("COLUMNS", raising=False)
    out = inspect(run, make_knot(cluster.zones()), path, *args).out
    lines = out.splitlines()
    assert lines
    assert not [line for line in lines if line != line.rstrip()]
    # A rule under column headers is as wide as the table's widest line, no wider.
    text = [line for line in lines if line.strip("─ ")]
    for rule in (line for line in lines if line.strip() and not line.strip("─ ")):
        assert len(rule) <= max(len(line) for line in text), rule


def test_piped_no_headers_and_wide_give_exactly_one_line_per_row(
    run, make_knot, three, monkeypatch
) -> None:
    cluster, path = three
    monkeypatch.delenv("COLUMNS", raising=False)
    knot = make_knot(cluster.zones())
    bare = inspect(run, knot, path, "-A", "--no-headers", "--all-rows").out.splitlines()
    assert len(bare) == 132 and all(re.match(r"^[✓✗]\d*\s+\S+\s+[A-Z]+\s", line) for line in bare)
    wide = inspect(run, knot, path, "-A", "-o", "wide", "--all-rows").out.splitlines()
    head = next(i for i, line in enumerate(wide) if re.match(r"^\s+NAME\s+TYPE\s", line))
    end = next(i for i, line in enumerate(wide) if re.match(r"^1\. ", line))
    table = [line for line in wide[head + 1 : end] if line.strip("─ ")]
    rows = [line for line in table if re.match(r"^[✓✗]", line)]
    assert len(rows) == 132
    # Every other line of the table is a group title: no cell continues on a line of its own.
    assert all(
        re.match(r"^\s+\S[\S ]*$", line) and "  " not in line.strip()
        for line in table
        if line not in rows
    )
