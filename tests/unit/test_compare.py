"""Judging observed answers against expected ones (no sockets)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hsvc.core.compare import (
    MAX_MESSAGE,
    Verdict,
    answer_wire_size,
    distinct_records,
    judge,
    record_key,
    worst,
)
from hsvc.core.model import DnsAnswer, Observation, Rcode, Record

NAME = "eureka.ms.svc.cluster.local."


def rec(data: str, rtype: str = "A", ttl: int = 30, name: str = NAME) -> Record:
    return Record(name=name, type=rtype, ttl=ttl, data=data)


def expected(
    *records: Record, rcode: Rcode = Rcode.NOERROR, open_ended: bool = False, qtype: str = "A"
) -> DnsAnswer:
    return DnsAnswer(name=NAME, type=qtype, rcode=rcode, answer=records, open_ended=open_ended)


def seen(*records: Record, rcode: Rcode = Rcode.NOERROR, qtype: str = "A", **kw) -> Observation:
    return Observation(server="s", name=NAME, type=qtype, rcode=rcode, answer=records, **kw)


def test_same_set_in_any_order_and_lower_ttl_is_ok() -> None:
    check = judge(
        expected(rec("10.0.0.1"), rec("10.0.0.2")), seen(rec("10.0.0.2", ttl=3), rec("10.0.0.1"))
    )
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
    got = seen(
        rec("0 33 8888 a.x.", "SRV"),
        rec("0 33 8888 b.x.", "SRV"),
        rec("0 33 8888 c.x.", "SRV"),
        qtype="SRV",
    )
    check = judge(want, got)
    assert check.verdict is Verdict.WRONG
    assert "unexpected targets c.x.:8888" in check.note and "weight 33, expected 50" in check.note


@pytest.mark.parametrize("rcode", [Rcode.SERVFAIL, Rcode.REFUSED, Rcode.TIMEOUT, Rcode.ERROR])
def test_server_failures_are_errors(rcode: Rcode) -> None:
    check = judge(expected(rec("10.0.0.1")), seen(rcode=rcode, error="boom"))
    assert check.verdict is Verdict.ERROR and rcode.value in check.note


def test_too_large_is_its_own_status() -> None:
    check = judge(
        expected(rec("10.0.0.1"), rec("10.0.0.2")), seen(rec("10.0.0.1"), too_large=True, size=512)
    )
    assert check.verdict is Verdict.TOO_LARGE
    assert "1 of 2" in check.note


def test_open_ended_answers_accept_upstream_records() -> None:
    cname = Record(name=NAME, type="CNAME", ttl=30, data="example.com.")
    check = judge(
        expected(cname, open_ended=True), seen(cname, rec("93.184.216.34", name="example.com."))
    )
    assert check.verdict is Verdict.OK
    assert (
        judge(expected(rcode=Rcode.NXDOMAIN, open_ended=True), seen(rec("1.2.3.4"))).verdict
        is Verdict.OK
    )


def test_soa_serial_is_not_compared() -> None:
    soa = "ns.dns.cluster.local. hostmaster.cluster.local. {} 7200 1800 86400 30"
    want = expected(rec(soa.format(0), "SOA"), qtype="SOA")
    assert judge(want, seen(rec(soa.format(1764170000), "SOA"), qtype="SOA")).verdict is Verdict.OK


def test_worst_picks_the_most_telling_verdict() -> None:
    assert worst([Verdict.OK, Verdict.ERROR, Verdict.WRONG]) is Verdict.WRONG
    assert worst([Verdict.OK, Verdict.ERROR]) is Verdict.ERROR
    assert worst([]) is Verdict.OK


# --- answers too large for one DNS message ---------------------------------------------------------

SRV_NAME = "_http._tcp.web.bench.svc.cluster.local."


def srv_set(count: int) -> list[Record]:
    return [
        rec(f"0 1 8080 web-{i}.web.bench.svc.cluster.local.", "SRV", name=SRV_NAME)
        for i in range(count)
    ]


def srv_expected(count: int) -> DnsAnswer:
    return DnsAnswer(name=SRV_NAME, type="SRV", rcode=Rcode.NOERROR, answer=tuple(srv_set(count)))


def srv_seen(records, **kw) -> Observation:
    return Observation(
        server="s",
        name=SRV_NAME,
        type="SRV",
        answer=tuple(records),
        **{"rcode": Rcode.NOERROR, **kw},
    )


def test_answer_wire_size_counts_header_question_and_each_record() -> None:
    two = expected(rec("10.0.0.1"), rec("10.0.0.2"))
    assert answer_wire_size(two) == 12 + (len(NAME) + 1) + 4 + 11 + 2 * (2 + 10 + 4)
    one_srv = srv_expected(1)
    target = "web-0.web.bench.svc.cluster.local."
    assert (
        answer_wire_size(one_srv)
        == 12 + (len(SRV_NAME) + 1) + 4 + 11 + 2 + 10 + 6 + len(target) + 1
    )


def test_a_two_thousand_pod_srv_set_cannot_fit() -> None:
    assert answer_wire_size(srv_expected(1000)) < MAX_MESSAGE < answer_wire_size(srv_expected(2000))


def test_too_large_names_size_checked_records_and_what_clients_see() -> None:
    obs = srv_seen(
        [],
        too_large=True,
        size=70,
        error="answer truncated over UDP and TCP failed: server answered SERVFAIL",
    )
    check = judge(srv_expected(2000), obs)
    assert check.verdict is Verdict.TOO_LARGE
    size = answer_wire_size(srv_expected(2000))
    assert f"need at least {size} bytes" in check.note
    assert "0 of 2000" in check.note and "SERVFAIL" in check.note and "clients get" in check.note


@pytest.mark.parametrize(
    "obs",
    [
        srv_seen(srv_set(2000)[:1100]),  # a cut-down set without TC (as CoreDNS over TCP may send)
        srv_seen([], rcode=Rcode.SERVFAIL),
        srv_seen([], rcode=Rcode.TIMEOUT, error="no response within 2s"),
        srv_seen([]),  # NOERROR and no records at all
    ],
    ids=["part-of-the-set", "servfail", "timeout", "nothing"],
)
def test_an_oversized_expectation_cut_short_is_too_large_not_a_mismatch(obs: Observation) -> None:
    check = judge(srv_expected(2000), obs)
    assert check.verdict is Verdict.TOO_LARGE
    assert f"{len(obs.answer)} of 2000" in check.note


def test_an_oversized_expectation_sent_whole_is_ok_with_the_size_noted() -> None:
    check = judge(srv_expected(2000), srv_seen(srv_set(2000), size=60000))
    assert check.verdict is Verdict.OK
    assert "over the 65535" in check.note and "60000" in check.note


def test_an_oversized_expectation_with_a_foreign_record_is_still_wrong() -> None:
    stale = rec("0 1 8080 gone-9.web.bench.svc.cluster.local.", "SRV", name=SRV_NAME)
    check = judge(srv_expected(2000), srv_seen([*srv_set(2000)[:10], stale]))
    assert check.verdict is Verdict.WRONG
    assert "over the 65535" in check.note


def test_nxdomain_carrying_the_expected_records_is_missing() -> None:
    # Issue 13 item 1: stub resolvers read NXDOMAIN as "not found", answer section or not.
    check = judge(expected(rec("10.0.0.14")), seen(rec("10.0.0.14"), rcode=Rcode.NXDOMAIN))
    assert check.verdict is Verdict.MISSING
    assert "NXDOMAIN" in check.note and "10.0.0.14" in check.note


def test_compare_pairs_each_question_with_every_server_that_answered_it() -> None:
    from hsvc.core.compare import compare
    from hsvc.core.model import ObjectRef
    from hsvc.core.records import Expectation, Group

    ref = ObjectRef(kind="Service", namespace="ms", name="eureka")
    items = [
        Expectation(group=Group.SERVICE, subject=ref, expected=expected(rec("10.0.0.1"))),
        Expectation(group=Group.SRV, subject=ref, expected=expected(qtype="SRV")),
        Expectation(
            group=Group.SERVICE,
            subject=ref,
            expected=DnsAnswer(name="other.ms.svc.cluster.local.", type="A", rcode=Rcode.NOERROR),
        ),
    ]
    # Three servers for the A question (one writes the name in capitals), one for SRV,
    # none for the third question.
    observations = [
        Observation(
            server="a", name=NAME, type="A", rcode=Rcode.NOERROR, answer=(rec("10.0.0.1"),)
        ),
        Observation(server="b", name=NAME.upper(), type="a", rcode=Rcode.NXDOMAIN),
        Observation(
            server="c", name=NAME, type="A", rcode=Rcode.NOERROR, answer=(rec("10.0.0.1"),)
        ),
        Observation(server="a", name=NAME, type="SRV", rcode=Rcode.NOERROR),
    ]
    rows = compare(items, observations)
    assert [[c.observation.server for c in r.checks] for r in rows] == [["a", "b", "c"], ["a"], []]
    assert [c.verdict for c in rows[0].checks] == [Verdict.OK, Verdict.MISSING, Verdict.OK]
    assert [r.status for r in rows] == [Verdict.MISSING, Verdict.OK, Verdict.ERROR]


def test_one_record_differing_only_in_case_is_ok_and_any_other_difference_is_not() -> None:
    # The one-record shortcut compares the text first, then the key (case-insensitive).
    same = judge(
        expected(rec("web-0.Web.", "CNAME")), seen(rec("web-0.web.", "CNAME", name=NAME.upper()))
    )
    assert same.verdict is Verdict.OK
    assert judge(expected(rec("10.0.0.1")), seen(rec("10.0.0.1", ttl=31))).verdict is Verdict.WRONG
    assert judge(expected(rec("10.0.0.1")), seen(rec("10.0.0.1", "TXT"))).verdict is Verdict.WRONG


@pytest.mark.parametrize(
    ("answer", "verdict", "note"),
    [
        (expected(rcode=Rcode.NXDOMAIN), Verdict.OK, ""),
        (expected(rcode=Rcode.NXDOMAIN, open_ended=True), Verdict.OK, "fallthrough"),
        (expected(rcode=Rcode.REFUSED), Verdict.OK, "outside the cluster zones"),
        (
            DnsAnswer(name=NAME, type="A", rcode=Rcode.NXDOMAIN, uncertain="rule 30: stale"),
            Verdict.UNCERTAIN,
            "rule 30: stale",
        ),
        (
            DnsAnswer(name=NAME, type="A", rcode=Rcode.NXDOMAIN, predicted=("on create",)),
            Verdict.MISSING,
            "on create",
        ),
        (expected(rcode=Rcode.NOERROR), Verdict.WRONG, "expected NODATA"),
    ],
    ids=["same-rcode", "fallthrough", "refused", "uncertain", "predicted", "other-rcode"],
)
def test_no_data_expected_and_none_served(answer: DnsAnswer, verdict: Verdict, note: str) -> None:
    # The usual name that must not answer takes a shortcut; every other one the full path.
    check = judge(answer, seen(rcode=Rcode.NXDOMAIN))
    assert check.verdict is verdict
    assert (note in check.note) if note else check.note == ""


@pytest.mark.parametrize("count", [1, 2, 7])
def test_a_set_served_twice_over_is_judged_as_served_once(count: int) -> None:
    # Sets compare by key, so a doubled set (no shortcut) judges as the plain one.
    want = [rec(f"10.0.0.{i}") for i in range(count)]
    for got in ([], want, want[:-1], [*want, rec("10.9.9.9")], [rec(want[0].data, ttl=99)]):
        for rcode in (Rcode.NOERROR, Rcode.NXDOMAIN):
            plain = judge(expected(*want), seen(*got, rcode=rcode))
            doubled = judge(expected(*want, *want), seen(*got, *got, rcode=rcode))
            assert (plain.verdict, plain.ttl_over) == (doubled.verdict, doubled.ttl_over)
            if plain.verdict in (Verdict.OK, Verdict.MISSING) and not got:
                assert plain.note == doubled.note


def test_missing_soa_records_are_counted_by_their_keys() -> None:
    # An SOA's serial is not predicted (rule 44): two that differ only there are one record.
    soa = "ns.dns.cluster.local. hostmaster.cluster.local. {} 7200 1800 86400 30"
    want = expected(rec(soa.format(1), "SOA"), rec(soa.format(2), "SOA"), qtype="SOA")
    check = judge(want, seen(qtype="SOA"))
    assert check.verdict is Verdict.MISSING and "expected 1 record(s)" in check.note


def test_an_oversized_expectation_answered_nxdomain_is_missing_with_the_size_noted() -> None:
    check = judge(srv_expected(2000), srv_seen([], rcode=Rcode.NXDOMAIN))
    assert check.verdict is Verdict.MISSING
    assert "expected 2000 record(s), got NXDOMAIN" in check.note and "over the 65535" in check.note


_DATA = st.sampled_from(
    ["10.0.0.1", "10.0.0.1", "A.b.", "a.b.", "0 50 80 web-0.web.", "0 50 80 .", "", "x y z"]
)
_RECORDS = st.lists(
    st.builds(
        Record,
        name=st.sampled_from([NAME, NAME.upper()]),
        type=st.sampled_from(["A", "AAAA", "SRV", "PTR", "TXT", "SOA"]),
        ttl=st.just(30),
        data=_DATA,
    ),
    max_size=12,
)


@settings(max_examples=300)
@given(_RECORDS, st.sampled_from(["A", "SRV", "TXT"]))
def test_an_answers_size_is_the_sum_of_its_records_sizes(records: list[Record], rtype: str) -> None:
    # Answers of one type are counted at once; each record alone, one by one.
    for answer in (records, [replace(r, type=rtype) for r in records]):
        base = answer_wire_size(expected())
        alone = sum(answer_wire_size(expected(r)) - base for r in answer)
        assert answer_wire_size(expected(*answer)) == base + alone


@settings(max_examples=300)
@given(_RECORDS, st.booleans())
def test_distinct_records_counts_the_keys_a_set_compares(records: list[Record], one: bool) -> None:
    if one:  # one name and type: counted by the data alone
        records = [replace(r, name=NAME, type="PTR") for r in records]
    assert distinct_records(records) == len({record_key(r) for r in records})


@settings(deadline=None, max_examples=100)
@given(st.lists(st.sampled_from(Verdict), max_size=30))
def test_summarize_counts_each_status_by_its_value_in_the_contracts_order(statuses) -> None:
    from hsvc.core.compare import Row, summarize
    from hsvc.core.model import ObjectRef
    from hsvc.core.records import Group
    from hsvc.core.summary import _counts

    answer = DnsAnswer(name="a.", type="A", rcode=Rcode.NOERROR)
    subject = ObjectRef(kind="Pod", namespace="ns", name="p")
    rows = [
        Row(group=Group.POD, subject=subject, expected=answer, reason="", checks=(), status=s)
        for s in statuses
    ]
    by_value = {v.value: [s.value for s in statuses].count(v.value) for v in Verdict}
    by_value["total"] = len(statuses)
    for counts in (summarize(rows), _counts(rows)):
        assert counts == by_value
        assert list(counts) == list(by_value)
        assert all(type(k) is str and type(n) is int for k, n in counts.items())
