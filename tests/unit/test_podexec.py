"""Parsing what the lookup script printed in a pod (core/podexec.py), from real captures."""

from __future__ import annotations

from pathlib import Path

import pytest

from hsvc.core.model import Question, Rcode
from hsvc.core.podexec import (
    lookup_script,
    parse_dig,
    parse_getent_ahosts,
    parse_lookups,
    parse_nslookup,
    split_sections,
)
from hsvc.core.searchpath import Libc

EXEC = Path(__file__).resolve().parents[1] / "data" / "exec"
EUREKA = ("10.244.1.210", "10.244.1.211", "10.244.2.45")


def capture(name: str) -> str:
    return (EXEC / name).read_text()


def test_sections_and_exit_codes() -> None:
    sections = split_sections(capture("busybox-seed.out"))
    assert sections[0].kind == "resolv.conf" and sections[0].rc == 0
    failing = [s for s in sections if s.kind == "nslookup" and s.rc == 1]
    assert failing and all("server can't find" in s.body for s in failing)


def test_cut_off_output_keeps_what_arrived() -> None:
    text = capture("debian-seed.out")
    cut = text[: text.index("@@hsvc@@ begin dig") + 60]
    last = split_sections(cut)[-1]
    assert last.kind == "dig" and last.rc is None


def test_debian_pod_getent_and_dig() -> None:
    got = parse_lookups(capture("debian-seed.out"))
    assert got.libc is Libc.GLIBC and got.libc_detail == "glibc 2.36"
    assert not got.busybox and got.problems == ()
    assert "search ms.svc.cluster.local" in (got.resolv_conf or "")
    eureka = got.system["eureka"]
    assert (
        eureka.ok
        and eureka.canonical == "eureka.ms.svc.cluster.local."
        and eureka.addresses == EUREKA
    )
    assert got.system["eureka-0.eureka"].canonical == "eureka-0.eureka.ms.svc.cluster.local."
    nope = got.system["nope"]
    assert not nope.ok and nope.addresses == () and "exit 2" in nope.error
    a = got.answers[("eureka.ms.svc.cluster.local.", "A")]
    assert a.tool == "dig" and a.rcode is Rcode.NOERROR and not a.low_confidence
    assert sorted(r.data for r in a.answer) == sorted(EUREKA) and {r.ttl for r in a.answer} == {30}
    assert got.answers[("eureka.ms.svc.cluster.local.", "AAAA")].answer == ()
    assert got.answers[("eureka.ms.svc.cluster.local.", "AAAA")].rcode is Rcode.NOERROR
    assert got.answers[("eureka.svc.cluster.local.", "A")].rcode is Rcode.NXDOMAIN
    assert got.answers[("eureka.", "A")].rcode is Rcode.REFUSED


def test_stale_pod_sees_the_stale_address() -> None:
    got = parse_lookups(capture("debian-stale.out"))
    assert "10.244.1.99" in got.system["eureka"].addresses
    assert [r.data for r in got.answers[("eureka-0.eureka.ms.svc.cluster.local.", "A")].answer] == [
        "10.244.1.99"
    ]


def test_busybox_pod_nslookup_is_low_confidence() -> None:
    got = parse_lookups(capture("busybox-seed.out"))
    assert got.busybox and got.system == {}
    assert any("getent" in p for p in got.problems)
    a = got.answers[("eureka.ms.svc.cluster.local.", "A")]
    assert a.tool == "busybox nslookup" and a.low_confidence
    assert sorted(r.data for r in a.answer) == sorted(EUREKA)
    # NODATA for AAAA shows as nothing at all, exit 0.
    assert got.answers[("eureka.ms.svc.cluster.local.", "AAAA")].rcode is Rcode.NOERROR
    assert got.answers[("nope.ms.svc.cluster.local.", "A")].rcode is Rcode.NXDOMAIN


def test_script_is_one_shell_text_quoting_every_name() -> None:
    script = lookup_script(
        ["eureka", "x'; rm -rf /"], ["A"], [Question(name="45.2.244.10.in-addr.arpa.", type="PTR")]
    )
    assert "g 'x'\"'\"'; rm -rf /'" in script
    assert script.count("\ng ") == 2 and "q 45.2.244.10.in-addr.arpa. PTR" in script


def test_script_asks_each_layer_by_address_only_when_told() -> None:
    questions = [Question(name="eureka.ms.svc.cluster.local.", type="A")]
    plain = lookup_script([], ["A"], questions)
    assert "r()" not in plain and "\nr " not in plain
    script = lookup_script([], ["A"], questions, servers=[("169.254.20.10", 53), ("fd00::a", 5353)])
    assert script.startswith(plain.rstrip("\n"))  # the pod's own resolver first, unchanged
    assert "r 169.254.20.10 53 eureka.ms.svc.cluster.local. A" in script
    assert "r fd00::a 5353 eureka.ms.svc.cluster.local. A" in script
    assert '-p "$2" "@$1"' in script


def test_answers_of_a_named_server_are_kept_apart() -> None:
    body = (
        ";; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: 1\n"
        ";; ANSWER SECTION:\n"
        "eureka.ms.svc.cluster.local. 5 IN A 10.244.2.99\n"
    )
    text = (
        "@@hsvc@@ begin tools\n/usr/bin/dig\n\n@@hsvc@@ end 0\n"
        f"@@hsvc@@ begin dig eureka.ms.svc.cluster.local. A\n{body.replace('99', '45')}\n"
        "@@hsvc@@ end 0\n"
        f"@@hsvc@@ begin dig eureka.ms.svc.cluster.local. A @169.254.20.10#53\n{body}\n"
        "@@hsvc@@ end 0\n"
    )
    got = parse_lookups(text)
    (own,) = got.answers.values()
    assert [r.data for r in own.answer] == ["10.244.2.45"]
    cached = got.direct[("eureka.ms.svc.cluster.local.", "A", "169.254.20.10#53")]
    assert [r.data for r in cached.answer] == ["10.244.2.99"]


def test_dig_timeout() -> None:
    got = parse_dig(
        "slow.ms.svc.cluster.local.",
        "A",
        ";; communications error to 10.96.0.10#53: timed out\n;; no servers could be reached",
        9,
    )
    assert got.rcode is Rcode.TIMEOUT


# Hand-written from BusyBox 1.28-1.31 on musl (the old nslookup, widely reported): not a capture.
OLD_BUSYBOX = """\
nslookup: can't resolve '(null)': Name does not resolve

Name:      eureka-0.eureka.ms.svc.cluster.local
Address 1: 10.244.1.210 eureka-0.eureka.ms.svc.cluster.local
"""


def test_old_busybox_null_quirk_is_ignored() -> None:
    got = parse_nslookup("eureka-0.eureka.ms.svc.cluster.local.", "A", OLD_BUSYBOX, 0, busybox=True)
    assert got.rcode is Rcode.NOERROR and [r.data for r in got.answer] == ["10.244.1.210"]
    assert got.low_confidence


@pytest.mark.parametrize(
    ("body", "rc", "ok"),
    [
        ("10.0.0.14       STREAM gateway.ms.svc.cluster.local\n10.0.0.14       DGRAM  \n", 0, True),
        ("", 2, False),
        ("[Errno -2] Name or service not known", 2, False),
    ],
)
def test_getent_ahosts(body: str, rc: int, ok: bool) -> None:
    got = parse_getent_ahosts("gateway", body, rc, tool="getent ahosts")
    assert got.ok is ok
