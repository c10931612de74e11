"""``hsvc demo`` end to end, its playback DNS server over real sockets, and its package data."""

from __future__ import annotations

import dataclasses
import itertools
import re
import time
import zipfile
from importlib import resources
from pathlib import Path

import dns.flags
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdatatype
import dns.zone
import pytest

from hsvc.adapters.demo_server import PlaybackServer, ZoneError
from hsvc.adapters.manifests import read_manifests
from hsvc.commands import demo
from hsvc.errors import ExitCode
from tests.integration.seed_zone import CLUSTER_ROWS, REVERSE_ROWS

ROOT = Path(__file__).resolve().parent.parent.parent
ANSI = re.compile(r"\x1b\[")


@pytest.fixture
def demo_run(run, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("COLUMNS", "80")

    def invoke(*args: str):
        started = time.monotonic()
        result = run("demo", *args)
        return result, time.monotonic() - started

    return invoke


# --- hsvc demo ------------------------------------------------------------------------


def test_demo_tells_the_story_and_exits_0(demo_run) -> None:
    result, elapsed = demo_run("--no-color")
    assert result.code == ExitCode.OK, result.err
    assert elapsed < 5, f"hsvc demo took {elapsed:.1f}s"
    assert result.err == ""
    out = result.out
    # Step 1: the headless Service, with the scripted misconfiguration and its explanation.
    assert "Step 1/2: a headless Service (eureka)" in out
    assert "Service ms/eureka  headless" in out and "endpoints 2 ready, 1 not ready" in out
    assert re.search(
        r"^ ?✗\d+\s+eureka-2\.eureka\.ms\.svc\s+A\s+NXDOMAIN\s+10\.244\.1\.211", out, re.M
    )
    assert re.search(
        r"^ ?✓\s+eureka-0\.eureka\.ms\.svc\s+A\s+10\.244\.1\.210\s+10\.244\.1\.210", out, re.M
    )
    assert "eureka-2.eureka.ms.svc A: unexpected" in out
    assert "expected NXDOMAIN, got 10.244.1.211" in out
    assert "pod eureka-2 is not ready" in out and "publishNotReadyAddresses" in out
    assert "16 checks, 12 ok, 1 unexpected, 3 wrong" in out
    assert "cache 30" in out  # the narration names the cause
    # Step 2: the ClusterIP Service, every row ok, the pod's own name NXDOMAIN.
    assert "Service ms/gateway  ClusterIP 10.0.0.14" in out
    assert re.search(r"^ ?✓\s+gateway\.ms\.svc\s+A\s+10\.0\.0\.14\s+10\.0\.0\.14", out, re.M)
    assert re.search(r"^ ?✓\s+gateway-7d9f8-abcde\.gateway\.ms\.(svc)?\s", out, re.M)
    assert "9 checks, 9 ok" in out
    # The equivalent commands for a real cluster.
    assert "$ hsvc inspect eureka -n ms" in out and "$ hsvc inspect gateway -n ms" in out
    assert "$ kubectl -n ms get pod eureka-2" in out
    # Side by side, and readable at 80 columns without colour.
    side = out[out.index("Side by side") :]
    assert "eureka (headless)" in side and "gateway (ClusterIP)" in side
    assert "(every ready pod)" in side and "(its virtual IP)" in side
    assert all(len(line) <= 80 for line in out.splitlines()), max(out.splitlines(), key=len)
    assert not ANSI.search(out)
    # The install path of the bundled files is not shown.
    assert "manifests hsvc/data/demo/ms.yaml" in out and str(ROOT) not in out


def test_demo_side_by_side_wraps_names_only_after_a_dot(demo_run) -> None:
    result, _ = demo_run("--no-color")
    side = result.out.split("Side by side", 1)[1].split("The demo exits", 1)[0]
    lines = side.splitlines()
    assert all(len(line) <= 80 for line in lines)
    # Every name cell that goes on to the next line ends with a dot there.
    col = lines[1].index("gateway (ClusterIP)")
    cells = [line[col:].strip() for line in lines[3:] if len(line) > col]
    for cell, below in itertools.pairwise(cells):
        if below and not below.startswith(("10-", "eureka", "gateway", "(", "_")):
            assert cell.endswith("."), (cell, below)
    assert "gateway-7d9f8-abcde.gateway." in cells and "ms.svc" in cells


def test_demo_no_headers_and_wide(demo_run) -> None:
    result, _ = demo_run("--no-headers", "-o", "wide", "--no-color")
    assert result.code == ExitCode.OK, result.err
    assert "Service ms/eureka  headless" not in result.out
    assert not re.search(r"^\s+NAME\s+TYPE\s+EXPECTED", result.out, re.M)
    assert "eureka-2.eureka.ms.svc.cluster.local." in result.out  # wide: full names


def test_demo_honours_no_color_env(demo_run, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")
    coloured, _ = demo_run()
    assert ANSI.search(coloured.out)  # the control: a forced terminal gets colour
    monkeypatch.setenv("NO_COLOR", "1")
    plain, _ = demo_run()
    assert plain.code == ExitCode.OK and not ANSI.search(plain.out)


def test_demo_json_is_a_usage_error(demo_run) -> None:
    result, _ = demo_run("-o", "json")
    assert result.code == ExitCode.USAGE and result.out == ""
    assert result.err.startswith("hsvc: error: demo prints a story")


def test_demo_off_script_is_a_bug_not_a_show(demo_run, monkeypatch: pytest.MonkeyPatch) -> None:
    # A script expecting a ✗ that the recording does not have: the demo must say so.
    eureka, gateway = demo.STEPS
    broken = dataclasses.replace(gateway, off=(("gateway.ms.svc.cluster.local.", "A", "wrong"),))
    monkeypatch.setattr(demo, "STEPS", (eureka, broken))
    result, _ = demo_run("--no-color")
    assert result.code == ExitCode.INTERNAL
    assert (
        "the demo went off script: gateway.ms.svc.cluster.local. A is ok, not wrong" in result.err
    )
    assert "Step 2/2" in result.out  # the story was still told


def test_kubectl_style_flags_are_accepted_and_ignored(demo_run) -> None:
    result, _ = demo_run("-n", "default", "--context", "prod", "--no-color")
    assert result.code == ExitCode.OK, result.err
    assert "Service ms/eureka" in result.out


# --- the playback DNS server -------------------------------------------------------------


def zone_files() -> list[tuple[str, str]]:
    data = demo.data_dir()
    return [(name, (data / name).read_text(encoding="utf-8")) for name in demo.ZONES]


@pytest.fixture(scope="module")
def server():
    with PlaybackServer(zone_files()) as playing:
        yield playing


def ask(server: PlaybackServer, name: str, rdtype: str, *, tcp: bool, **query_options):
    query = dns.message.make_query(name, rdtype, **query_options)
    send = dns.query.tcp if tcp else dns.query.udp
    return send(query, "127.0.0.1", port=server.port, timeout=2)


def answer_data(response) -> set[str]:
    return {rdata.to_text() for rrset in response.answer for rdata in rrset}


def soa_ttl(response) -> int:
    (soa,) = response.authority
    assert soa.rdtype == dns.rdatatype.SOA
    return soa.ttl


TRANSPORTS = [pytest.param(False, id="udp"), pytest.param(True, id="tcp")]


@pytest.mark.parametrize("tcp", TRANSPORTS)
def test_server_answers_a_authoritatively(server, tcp: bool) -> None:
    response = ask(server, "eureka.ms.svc.cluster.local.", "A", tcp=tcp)
    assert response.rcode() == dns.rcode.NOERROR and response.flags & dns.flags.AA
    assert answer_data(response) == {"10.244.1.210", "10.244.2.45", "10.244.1.211"}
    assert response.answer[0].ttl == 21 and not response.authority


@pytest.mark.parametrize("tcp", TRANSPORTS)
def test_server_answers_srv_and_ptr(server, tcp: bool) -> None:
    srv = ask(server, "_gateway._tcp.gateway.ms.svc.cluster.local.", "SRV", tcp=tcp)
    assert answer_data(srv) == {"0 100 9999 gateway.ms.svc.cluster.local."}
    ptr = ask(server, "45.2.244.10.in-addr.arpa.", "PTR", tcp=tcp)
    assert ptr.flags & dns.flags.AA
    assert answer_data(ptr) == {"eureka-1.eureka.ms.svc.cluster.local."}


@pytest.mark.parametrize("tcp", TRANSPORTS)
def test_server_nxdomain_carries_the_soa(server, tcp: bool) -> None:
    response = ask(server, "gateway-7d9f8-abcde.gateway.ms.svc.cluster.local.", "A", tcp=tcp)
    assert response.rcode() == dns.rcode.NXDOMAIN and response.flags & dns.flags.AA
    assert not response.answer and soa_ttl(response) == 30
    assert response.authority[0].name == dns.name.from_text("cluster.local.")
    reverse = ask(server, "9.9.9.10.in-addr.arpa.", "PTR", tcp=tcp)
    assert reverse.rcode() == dns.rcode.NXDOMAIN
    assert reverse.authority[0].name == dns.name.from_text("in-addr.arpa.")


@pytest.mark.parametrize(
    "name",
    [
        "gateway.ms.svc.cluster.local.",  # the name has an A, not an AAAA
        "ms.svc.cluster.local.",  # a name with no records but names below it
        "_tcp.eureka.ms.svc.cluster.local.",
    ],
)
@pytest.mark.parametrize("tcp", TRANSPORTS)
def test_server_nodata_is_noerror_with_soa(server, tcp: bool, name: str) -> None:
    response = ask(server, name, "AAAA", tcp=tcp)
    assert response.rcode() == dns.rcode.NOERROR and response.flags & dns.flags.AA
    assert not response.answer and soa_ttl(response) == 30


@pytest.mark.parametrize("tcp", TRANSPORTS)
def test_server_refuses_names_outside_its_zones(server, tcp: bool) -> None:
    response = ask(server, "example.org.", "A", tcp=tcp)
    assert response.rcode() == dns.rcode.REFUSED and not response.flags & dns.flags.AA


def test_server_case_and_several_queries_per_tcp_connection(server) -> None:
    import socket

    with socket.create_connection(("127.0.0.1", server.port), timeout=2) as sock:
        for name in ("EUREKA-0.eureka.MS.svc.cluster.local.", "portal.ms.svc.cluster.local."):
            query = dns.message.make_query(name, "A")
            dns.query.send_tcp(sock, query)
            response, _ = dns.query.receive_tcp(sock, expiration=time.time() + 2)
            assert response.id == query.id and response.rcode() == dns.rcode.NOERROR
            assert len(answer_data(response)) == 1


def test_server_truncates_over_udp_and_answers_whole_over_tcp() -> None:
    rows = "\n".join(f"big 30 IN A 10.1.{i // 250}.{i % 250}" for i in range(200))
    zone = f"$ORIGIN big.test.\n@ 30 IN SOA ns. host. 1 2 3 4 5\n@ 30 IN NS ns.\n{rows}\n"
    with PlaybackServer([("big.zone", zone)]) as big:
        udp = ask(big, "big.big.test.", "A", tcp=False)
        assert udp.flags & dns.flags.TC
        edns = ask(big, "big.big.test.", "A", tcp=False, use_edns=0, payload=4096)
        assert not edns.flags & dns.flags.TC and len(answer_data(edns)) == 200
        assert len(answer_data(ask(big, "big.big.test.", "A", tcp=True))) == 200


def test_server_follows_cnames_inside_its_zones() -> None:
    zone = (
        "$ORIGIN cluster.local.\n@ 30 IN SOA ns. host. 1 2 3 4 5\n@ 30 IN NS ns.\n"
        "ext.ms.svc 30 IN CNAME db.ms.svc.cluster.local.\ndb.ms.svc 30 IN A 10.0.0.9\n"
        "out.ms.svc 30 IN CNAME db.example.org.\n"
    )
    with PlaybackServer([("c.zone", zone)]) as playing:
        inside = ask(playing, "ext.ms.svc.cluster.local.", "A", tcp=False)
        assert [r.rdtype for r in inside.answer] == [dns.rdatatype.CNAME, dns.rdatatype.A]
        outside = ask(playing, "out.ms.svc.cluster.local.", "A", tcp=False)
        assert answer_data(outside) == {"db.example.org."}


def test_server_answers_garbage_with_formerr(server) -> None:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(2)
        sock.sendto(
            b"\x12\x34" + b"\x01\x00" + b"\x00\x01" + b"\x00" * 6 + b"\xff",
            ("127.0.0.1", server.port),
        )
        reply, _ = sock.recvfrom(512)
    assert reply[:2] == b"\x12\x34" and reply[3] & 0x0F == dns.rcode.FORMERR


def test_server_rejects_a_broken_zone_file() -> None:
    with pytest.raises(ZoneError, match=r"zone file broken\.zone"):
        PlaybackServer([("broken.zone", "$ORIGIN x.\nthis is not a zone\n")])


def test_server_port_0_picks_distinct_ports() -> None:
    with PlaybackServer(zone_files()) as one, PlaybackServer(zone_files()) as two:
        assert one.port != two.port and one.port and two.port


# --- package data ------------------------------------------------------------------------


def test_demo_files_are_package_data() -> None:
    data = resources.files("hsvc") / "data" / "demo"
    for name in demo.DATA_FILES:
        assert (data / name).is_file(), name
    for name in demo.ZONES:
        dns.zone.from_text((data / name).read_text(encoding="utf-8"), relativize=False)
    with resources.as_file(data / demo.MANIFESTS) as manifest:
        snapshot = read_manifests([manifest]).snapshot
    ready = {
        e.target_ref.name: e.is_ready
        for s in snapshot.endpoint_slices
        for e in s.endpoints
        if e.target_ref
    }
    assert ready == {
        "eureka-0": True,
        "eureka-1": True,
        "eureka-2": False,
        "gateway-7d9f8-abcde": True,
    }


def test_demo_files_are_in_the_wheel(tmp_path: Path) -> None:
    wheel_builder = pytest.importorskip("hatchling.builders.wheel")
    (wheel,) = wheel_builder.WheelBuilder(str(ROOT)).build(
        directory=str(tmp_path), versions=["standard"]
    )
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {f"hsvc/data/demo/{name}" for name in demo.DATA_FILES} <= names


def test_demo_zone_is_the_seed_zone_plus_what_the_cache_kept() -> None:
    """Two hand-written records of one cluster agree: the demo zone holds every seed answer."""
    data = demo.data_dir()
    zones = {
        "cluster.local.": (data / "cluster.local.zone", CLUSTER_ROWS),
        "in-addr.arpa.": (
            data / "in-addr.arpa.zone",
            [(f"{o}.10", *rest) for o, *rest in REVERSE_ROWS],
        ),
    }
    for origin, (path, rows) in zones.items():
        zone = dns.zone.from_text(path.read_text(encoding="utf-8"), relativize=False)
        served = {
            (name.to_text(), dns.rdatatype.to_text(rdataset.rdtype), rdata.to_text())
            for name, rdataset in zone.iterate_rdatasets()
            for rdata in rdataset
            if rdataset.rdtype not in (dns.rdatatype.SOA, dns.rdatatype.NS)
        }
        assert served == {(f"{row[0]}.{origin}", row[1], row[2]) for row in rows}, origin
