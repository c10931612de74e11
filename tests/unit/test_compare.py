"""Judging observed answers against expected ones (no sockets)."""

from __future__ import annotations

import pytest

from hsvc.core.compare import Verdict, judge, worst
from hsvc.core.model import DnsAnswer, Observation, Rcode, Record

NAME = "eureka.ms.svc.cluster.local."


def rec(data: str, rtype: str = "A", ttl: int = 30, name: str = NAME) -> Record:
    return Record(name=name, type=rtype, ttl=ttl, data=data)


def expected(*records: Record, rcode: Rcode = Rcode.NOERROR, open_ended: bool = False, qtype: str = "A") -> DnsAnswer:
    return DnsAnswer(name=NAME, type=qtype, rcode=rcode, answer=records, open_ended=open_ended)


def seen(*records: Record, rcode: Rcode = Rcode.NOERROR, qtype: str = "A", **kw) -> Observation:
    return Observation(server="s", name=NAME, type=qtype, rcode=rcode, answer=records, **kw)


def test_same_set_in_any_order_and_lower_ttl_is_ok() -> None:
    check = judge(expected(rec("10.0.0.1"), rec("10.0.0.2")), seen(rec("10.0.0.2", ttl=3), rec("10.0.0.1")))
    assert check.verdict is Verdict.OK


def test_ttl_above_the_configured_one_is_wrong() -> None:
    check = judge(expected(rec("10.0.0.1")), seen(rec("10.0.0.1", ttl=300)))
    assert check.verdict is Verdict.WRONG and "TTL 300" in check.note


def test_missing_when_data_expected_and_none_came() -> None:
    assert judge(expected(rec("10.0.0.1")), seen(rcode=Rcode.NXDOMAIN)).verdict is Verdict.MISSING
    assert judge(expected(rec("10.0.0.1")), seen()).verdict is Verdict.MISSING


def test_unexpected_when_no_data_expected() -> None:
    check = judge(expected(rcode=Rcode.NXDOMAIN), seen(rec("10.0.0.9")))
    assert check.verdict is Verdict.UNEXPECTED and "10.0.0.9" in check.note


def test_nxdomain_versus_nodata_is_wrong() -> None:
    check = judge(expected(rcode=Rcode.NOERROR), seen(rcode=Rcode.NXDOMAIN))
    assert check.verdict is Verdict.WRONG and "NODATA" in check.note


def test_stale_address_is_wrong_and_named() -> None:
    check = judge(expected(rec("10.0.0.1")), seen(rec("10.0.0.2")))
    assert check.verdict is Verdict.WRONG
    assert "missing 10.0.0.1" in check.note and "unexpected 10.0.0.2" in check.note


def test_srv_weight_difference_is_explained() -> None:
    want = expected(rec("0 50 8888 a.x.", "SRV"), rec("0 50 8888 b.x.", "SRV"), qtype="SRV")
    got = seen(rec("0 33 8888 a.x.", "SRV"), rec("0 33 8888 b.x.", "SRV"), rec("0 33 8888 c.x.", "SRV"), qtype="SRV")
    check = judge(want, got)
    assert check.verdict is Verdict.WRONG
    assert "unexpected targets c.x.:8888" in check.note and "weight 33, expected 50" in check.note


@pytest.mark.parametrize("rcode", [Rcode.SERVFAIL, Rcode.REFUSED, Rcode.TIMEOUT, Rcode.ERROR])
def test_server_failures_are_errors(rcode: Rcode) -> None:
    check = judge(expected(rec("10.0.0.1")), seen(rcode=rcode, error="boom"))
    assert check.verdict is Verdict.ERROR and rcode.value in check.note


def test_too_large_is_its_own_status() -> None:
    check = judge(expected(rec("10.0.0.1"), rec("10.0.0.2")), seen(rec("10.0.0.1"), too_large=True, size=512))
    assert check.verdict is Verdict.TOO_LARGE
    assert "1 of 2" in check.note


def test_open_ended_answers_accept_upstream_records() -> None:
    cname = Record(name=NAME, type="CNAME", ttl=30, data="example.com.")
    check = judge(expected(cname, open_ended=True), seen(cname, rec("93.184.216.34", name="example.com.")))
    assert check.verdict is Verdict.OK
    assert judge(expected(rcode=Rcode.NXDOMAIN, open_ended=True), seen(rec("1.2.3.4"))).verdict is Verdict.OK


def test_soa_serial_is_not_compared() -> None:
    soa = "ns.dns.cluster.local. hostmaster.cluster.local. {} 7200 1800 86400 30"
    want = expected(rec(soa.format(0), "SOA"), qtype="SOA")
    assert judge(want, seen(rec(soa.format(1764170000), "SOA"), qtype="SOA")).verdict is Verdict.OK


def test_worst_picks_the_most_telling_verdict() -> None:
    assert worst([Verdict.OK, Verdict.ERROR, Verdict.WRONG]) is Verdict.WRONG
    assert worst([Verdict.OK, Verdict.ERROR]) is Verdict.ERROR
    assert worst([]) is Verdict.OK
