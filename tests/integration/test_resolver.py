"""hsvc.adapters.resolver against a real knotd and a misbehaving server, on 127.0.0.1.

The zone files below are the "actual" cluster DNS and are written by hand.
"""

from __future__ import annotations

import gc
import time

import pytest

from hsvc.adapters.resolver import EDNS_PAYLOAD, resolve_all
from hsvc.core.model import Nameserver, Observation, Question, Rcode, Record
from hsvc.errors import InvalidNameError, UsageError
from tests.integration.badserver import TRUNCATED_ADDRESSES
from tests.integration.knot import KnotServer, free_port

pytestmark = pytest.mark.integration

SOA = "@ SOA ns.dns.cluster.local. hostmaster.cluster.local. 1 7200 1800 86400 30"

CLUSTER_ZONE = f"""\
$ORIGIN cluster.local.
$TTL 30
{SOA}
@                           NS    ns.dns.cluster.local.
ns.dns                      A     10.96.0.10
dns-version                 TXT   "1.1.0"
eureka.ms.svc               A     10.244.1.10
eureka.ms.svc               A     10.244.2.11
eureka.ms.svc               A     10.244.3.12
eureka-0.eureka.ms.svc      A     10.244.1.10
eureka-1.eureka.ms.svc      A     10.244.2.11
eureka-2.eureka.ms.svc      A     10.244.3.12
_eureka._tcp.eureka.ms.svc  SRV   0 33 8888 eureka-0.eureka.ms.svc.cluster.local.
_eureka._tcp.eureka.ms.svc  SRV   0 33 8888 eureka-1.eureka.ms.svc.cluster.local.
_eureka._tcp.eureka.ms.svc  SRV   0 33 8888 eureka-2.eureka.ms.svc.cluster.local.
external.ms.svc       5     CNAME Example.COM.
"""
# 200 A records (~3.2 kB): over the 1232-byte EDNS payload, under 64 KiB.
BIG = [f"10.1.{i // 250}.{i % 250 + 1}" for i in range(200)]
# 40 A records (~700 bytes): whole with EDNS, truncated without (over 512 bytes).
MEDIUM = [f"10.4.0.{i + 1}" for i in range(40)]
# 5000 A records (~80 kB): over 65535 bytes, so knot answers SERVFAIL over TCP.
HUGE = [f"10.2.{i // 250}.{i % 250 + 1}" for i in range(5000)]
# 500 names, each with its own address, to catch crossed answers under load.
LOAD = {f"pod-{i}.load.ms.svc.cluster.local.": f"10.3.{i // 250}.{i % 250 + 1}" for i in range(500)}

REVERSE_ZONE = f"""\
$ORIGIN 10.in-addr.arpa.
$TTL 30
{SOA}
@                           NS    ns.dns.cluster.local.
10.1.244                    PTR   eureka-0.eureka.ms.svc.cluster.local.
"""


def cluster_zone() -> str:
    lines = [CLUSTER_ZONE]
    lines += [f"big.ms.svc A {address}" for address in BIG]
    lines += [f"huge.ms.svc A {address}" for address in HUGE]
    lines += [f"medium.ms.svc A {address}" for address in MEDIUM]
    lines += [f"{name} A {address}" for name, address in LOAD.items()]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def knot():
    zones = {
        "cluster.local": cluster_zone(),
        "10.in-addr.arpa": REVERSE_ZONE,
        # Not a zone file: knot keeps the zone configured and answers SERVFAIL in it.
        "broken.local": "this is not a zone file\n",
    }
    with KnotServer(zones) as server:
        yield server


def ask(server: Nameserver, name: str, type_: str, **options) -> Observation:
    (observation,) = resolve_all([Question(name=name, type=type_)], [server], **options)
    return observation


def datas(observation: Observation) -> set[str]:
    return {record.data for record in observation.answer}


# --- answers knot gives --------------------------------------------------------------


@pytest.mark.parametrize("enabled", [True, False])
def test_the_cyclic_collector_waits_for_the_run_and_is_left_as_it_was(knot, enabled):
    during: list[bool] = []
    (gc.enable if enabled else gc.disable)()
    try:
        observations = resolve_all(
            [Question(name="eureka.ms.svc.cluster.local", type="A")] * 3,
            [knot.nameserver],
            progress=lambda _: during.append(gc.isenabled()),
        )
        after, young = gc.isenabled(), gc.get_count()[0]
    finally:
        gc.enable()
    assert [o.rcode for o in observations] == [Rcode.NOERROR] * 3
    assert during == [False] * 3
    assert after is enabled
    # What the run made is left out of the young generation (no pass over it), or,
    # with the collector off, where it is.
    assert (young < 20) is enabled, young


def test_a_set(knot):
    obs = ask(knot.nameserver, "eureka.ms.svc.cluster.local", "A")
    assert obs.rcode is Rcode.NOERROR
    assert obs.error == ""
    assert obs.too_large is False
    assert obs.name == "eureka.ms.svc.cluster.local."
    assert obs.type == "A"
    assert sorted(obs.answer, key=lambda r: r.data) == [
        Record(name="eureka.ms.svc.cluster.local.", type="A", ttl=30, data=address)
        for address in ("10.244.1.10", "10.244.2.11", "10.244.3.12")
    ]
    assert 12 < obs.size <= EDNS_PAYLOAD
    assert obs.elapsed_ms > 0


def test_question_name_is_normalised(knot):
    obs = ask(knot.nameserver, "Eureka-0.EUREKA.ms.svc.cluster.local.", "a")
    assert (obs.name, obs.type) == ("eureka-0.eureka.ms.svc.cluster.local.", "A")
    assert [(r.name, r.data) for r in obs.answer] == [
        ("eureka-0.eureka.ms.svc.cluster.local.", "10.244.1.10")
    ]


def test_srv_presentation_form(knot):
    obs = ask(knot.nameserver, "_eureka._tcp.eureka.ms.svc.cluster.local.", "SRV")
    assert obs.rcode is Rcode.NOERROR
    assert {r.name for r in obs.answer} == {"_eureka._tcp.eureka.ms.svc.cluster.local."}
    assert {r.type for r in obs.answer} == {"SRV"}
    assert datas(obs) == {f"0 33 8888 eureka-{i}.eureka.ms.svc.cluster.local." for i in range(3)}


def test_ptr(knot):
    obs = ask(knot.nameserver, "10.1.244.10.in-addr.arpa.", "PTR")
    assert obs.rcode is Rcode.NOERROR
    assert obs.answer == (
        Record(
            name="10.1.244.10.in-addr.arpa.",
            type="PTR",
            ttl=30,
            data="eureka-0.eureka.ms.svc.cluster.local.",
        ),
    )


def test_txt_is_quoted(knot):
    obs = ask(knot.nameserver, "dns-version.cluster.local.", "TXT")
    assert [r.data for r in obs.answer] == ['"1.1.0"']


def test_cname_is_in_the_answer_lower_case(knot):
    # knot is authoritative only: it answers the CNAME and does not chase example.com.
    obs = ask(knot.nameserver, "external.ms.svc.cluster.local.", "A")
    assert obs.rcode is Rcode.NOERROR
    assert obs.answer == (
        Record(name="external.ms.svc.cluster.local.", type="CNAME", ttl=5, data="example.com."),
    )


def test_nodata_is_noerror_without_records(knot):
    obs = ask(knot.nameserver, "eureka.ms.svc.cluster.local.", "AAAA")
    assert obs.rcode is Rcode.NOERROR
    assert obs.answer == ()
    assert obs.size > 12  # a real response (with the SOA in authority) arrived
    assert obs.error == ""


def test_nxdomain(knot):
    obs = ask(knot.nameserver, "nosuch.ms.svc.cluster.local.", "A")
    assert obs.rcode is Rcode.NXDOMAIN
    assert obs.answer == ()
    assert obs.error == ""


def test_refused_outside_knots_zones(knot):
    obs = ask(knot.nameserver, "example.org.", "A")
    assert obs.rcode is Rcode.REFUSED
    assert obs.answer == ()


def test_servfail_for_a_zone_that_failed_to_load(knot):
    obs = ask(knot.nameserver, "x.broken.local.", "A")
    assert obs.rcode is Rcode.SERVFAIL
    assert obs.answer == ()
    assert obs.too_large is False


def test_tcp_only_server(knot):
    server = Nameserver(host=knot.host, port=knot.port, tcp_only=True)
    obs = ask(server, "eureka.ms.svc.cluster.local.", "A")
    assert obs.rcode is Rcode.NOERROR
    assert len(obs.answer) == 3


# --- truncation ---------------------------------------------------------------------------


def test_truncated_udp_answer_is_retried_over_tcp(knot):
    obs = ask(knot.nameserver, "big.ms.svc.cluster.local.", "A")
    assert obs.rcode is Rcode.NOERROR
    assert obs.too_large is False
    assert obs.error == ""
    assert len(obs.answer) == len(BIG)
    assert datas(obs) == set(BIG)
    # Only the TCP answer can exceed the EDNS payload the query offered.
    assert obs.size > EDNS_PAYLOAD


def test_too_large_when_knot_fails_over_tcp(knot):
    obs = ask(knot.nameserver, "huge.ms.svc.cluster.local.", "A")
    assert obs.too_large is True
    assert obs.rcode is Rcode.NOERROR  # what the truncated UDP reply said
    assert obs.error.startswith("answer truncated over UDP and TCP failed: ")
    assert "SERVFAIL" in obs.error
    assert len(obs.answer) < len(HUGE)


def test_too_large_when_tcp_connection_is_closed(make_bad_dns):
    bad = make_bad_dns("truncate")
    obs = ask(bad.nameserver, "big.example.", "A", timeout=1.0)
    assert obs.too_large is True
    assert obs.error == "answer truncated over UDP and TCP failed: connection closed by server"
    # The records the truncated UDP reply held are kept.
    assert datas(obs) == set(TRUNCATED_ADDRESSES)
    # Asked with EDNS, again without (measured, not inferred), then over TCP; the
    # second TCP connection is the run's TCP probe (one per server per run).
    assert bad.udp_queries == 2
    assert bad.tcp_connections == 2
    assert obs.transport is not None
    assert obs.transport.edns_truncated and obs.transport.plain_truncated
    assert obs.transport.tcp_error == "connection closed by server"
    assert obs.transport.tcp_size is None


# --- transport measured: UDP with and without EDNS, TCP -----------------------------------


def test_small_answers_are_asked_once(knot):
    """At 512 bytes or less with EDNS, no second UDP question: it fits without EDNS too.

    Over TCP only the first question of the run is asked (the TCP probe).
    """
    first, second = resolve_all(
        [
            Question(name="eureka.ms.svc.cluster.local.", type="A"),
            Question(name="gateway.ms.svc.cluster.local.", type="A"),
        ],
        [knot.nameserver],
    )
    for obs in (first, second):
        assert obs.transport is not None
        assert obs.transport.edns_size == obs.size and obs.size <= 512
        assert obs.transport.plain_size is None
    assert first.transport is not None and first.transport.tcp_error == ""
    assert first.transport.tcp_size is not None and first.transport.tcp_size > 0
    assert second.transport is not None and not second.transport.tcp_asked


def test_the_tcp_probe_sees_a_server_that_refuses_tcp_with_small_answers(knot, make_bad_dns):
    """Every answer fits UDP, TCP is closed: the run's one TCP probe still finds it (HSVC805)."""
    from hsvc.core import transport
    from hsvc.core.model import ObjectRef

    relay = make_bad_dns("udp-relay", upstream=knot.nameserver)
    names = ["eureka.ms.svc.cluster.local.", "gateway.ms.svc.cluster.local."]
    observations = resolve_all(
        [Question(name=n, type="A") for n in names], [relay.nameserver], timeout=1.0
    )
    assert all(o.rcode in (Rcode.NOERROR, Rcode.NXDOMAIN) and o.size <= 512 for o in observations)
    assert relay.tcp_connections == 1  # one probe per server per run, not one per question
    subject = ObjectRef(kind="Service", namespace="ms", name="eureka")
    found = transport.answer_sizes([(subject, o) for o in observations], [])
    ((code, ref, message, hint),) = found
    assert code == "HSVC805" and ref.name == str(relay.nameserver)
    assert "answers over UDP but not over TCP (connection closed by server" in message
    assert "as a probe" in message and "open TCP 53" in hint


def test_an_answer_over_512_bytes_is_asked_without_edns_and_over_tcp(knot):
    """knotd's real TC bit without EDNS, its whole answer with EDNS and over TCP."""
    obs = ask(knot.nameserver, "medium.ms.svc.cluster.local.", "A")
    assert obs.rcode is Rcode.NOERROR and datas(obs) == set(MEDIUM)
    assert obs.truncated is False  # whole with EDNS
    carried = obs.transport
    assert carried is not None
    assert carried.edns_size == obs.size and 512 < obs.size <= EDNS_PAYLOAD
    assert not carried.edns_truncated
    assert carried.plain_truncated is True
    assert carried.plain_size is not None and carried.plain_size <= 512
    # TCP asked because a client without EDNS must: it answered the whole set.
    assert carried.tcp_error == "" and carried.tcp_size is not None
    assert carried.tcp_size >= obs.size - 11  # no OPT record over TCP


def test_an_answer_over_edns_is_measured_on_every_transport(knot):
    obs = ask(knot.nameserver, "big.ms.svc.cluster.local.", "A")
    carried = obs.transport
    assert carried is not None
    assert carried.edns_truncated and carried.plain_truncated
    assert carried.tcp_size == obs.size and carried.tcp_size > EDNS_PAYLOAD


def test_a_udp_server_whose_tcp_closes_is_measured(knot, make_bad_dns):
    """UDP relayed to knotd (a real answer over 512 bytes), TCP closed at once."""
    relay = make_bad_dns("udp-relay", upstream=knot.nameserver)
    obs = ask(relay.nameserver, "medium.ms.svc.cluster.local.", "A", timeout=1.0)
    assert obs.rcode is Rcode.NOERROR and datas(obs) == set(MEDIUM)  # whole with EDNS
    carried = obs.transport
    assert carried is not None and carried.plain_truncated
    assert carried.tcp_error == "connection closed by server"
    # The truncated answer's TCP retry and the run's TCP probe.
    assert relay.tcp_connections == 2 and relay.udp_queries == 2


def test_a_tcp_only_server_measures_tcp_alone(knot):
    server = Nameserver(host=knot.host, port=knot.port, tcp_only=True)
    obs = ask(server, "medium.ms.svc.cluster.local.", "A")
    assert obs.transport is not None
    assert obs.transport.tcp_size == obs.size
    assert obs.transport.edns_size is None and obs.transport.plain_size is None


def test_too_large_when_tcp_answer_is_truncated_too(make_bad_dns):
    bad = make_bad_dns("truncate-tcp")
    obs = ask(bad.nameserver, "big.example.", "A", timeout=1.0)
    assert obs.too_large is True
    assert "truncated too" in obs.error
    assert datas(obs) == set(TRUNCATED_ADDRESSES)
    assert bad.tcp_connections == 2  # the retry and the run's TCP probe


def test_tcp_only_server_that_closes_is_an_error_not_too_large(make_bad_dns):
    bad = make_bad_dns("truncate")
    server = Nameserver(host=bad.host, port=bad.port, tcp_only=True)
    obs = ask(server, "big.example.", "A", timeout=1.0)
    assert obs.rcode is Rcode.ERROR
    assert obs.too_large is False
    assert obs.error == "connection closed by server"
    assert bad.udp_queries == 0


# --- servers that fail ---------------------------------------------------------------------


@pytest.mark.parametrize("retries", [0, 1])
def test_silent_server_times_out_after_retries(make_bad_dns, retries):
    bad = make_bad_dns("silent")
    began = time.monotonic()
    obs = ask(bad.nameserver, "eureka.ms.svc.cluster.local.", "A", timeout=0.3, retries=retries)
    wall = time.monotonic() - began
    attempts = retries + 1
    assert obs.rcode is Rcode.TIMEOUT
    assert obs.error.startswith("no response within 0.3s")
    assert obs.answer == ()
    assert obs.size == 0
    assert bad.udp_queries == attempts
    assert 0.3 * attempts * 1000 <= obs.elapsed_ms < (0.3 * attempts + 0.5) * 1000
    assert wall < 0.3 * attempts + 0.7


def test_garbage_is_an_error(make_bad_dns):
    bad = make_bad_dns("garbage")
    obs = ask(bad.nameserver, "eureka.ms.svc.cluster.local.", "A", timeout=0.3)
    assert obs.rcode is Rcode.ERROR
    assert obs.error.startswith(("malformed response", "response does not match"))
    # Bytes with another ID are skipped, as stub resolvers skip them: the query waits
    # out its timeout for its own reply (two attempts), then says what came instead.
    assert bad.udp_queries == 2
    assert obs.elapsed_ms < 2 * 300 + 1500  # room for a busy machine


def test_wrong_id_is_an_error(make_bad_dns):
    bad = make_bad_dns("wrong-id")
    obs = ask(bad.nameserver, "eureka.ms.svc.cluster.local.", "A", timeout=0.3)
    assert obs.rcode is Rcode.ERROR
    assert obs.error.startswith("response does not match the query (wrong ID or question)")
    assert obs.answer == ()
    assert bad.udp_queries == 2  # waited for the right ID, asked again, then gave up
    assert obs.elapsed_ms < 2 * 300 + 1500  # room for a busy machine


@pytest.mark.parametrize("tcp_only", [False, True], ids=["udp", "tcp"])
def test_nothing_listening_is_connection_refused(tcp_only):
    server = Nameserver(host="127.0.0.1", port=free_port(), tcp_only=tcp_only)
    obs = ask(server, "eureka.ms.svc.cluster.local.", "A", timeout=1.0)
    assert obs.rcode is Rcode.ERROR
    assert obs.error == "connection refused"


def test_failing_server_is_a_row_not_an_exception(knot, make_bad_dns):
    silent = make_bad_dns("silent")
    label = Nameserver(host=knot.host, port=knot.port, label="coredns-abc (port-forward)")
    questions = [
        Question(name="eureka-0.eureka.ms.svc.cluster.local.", type="A"),
        Question(name="nosuch.ms.svc.cluster.local.", type="A"),
    ]
    observations = resolve_all(
        questions, [knot.nameserver, silent.nameserver, label], timeout=0.3, retries=0
    )
    assert [(o.name, o.server, o.rcode) for o in observations] == [
        ("eureka-0.eureka.ms.svc.cluster.local.", f"127.0.0.1:{knot.port}", Rcode.NOERROR),
        ("eureka-0.eureka.ms.svc.cluster.local.", f"127.0.0.1:{silent.port}", Rcode.TIMEOUT),
        ("eureka-0.eureka.ms.svc.cluster.local.", "coredns-abc (port-forward)", Rcode.NOERROR),
        ("nosuch.ms.svc.cluster.local.", f"127.0.0.1:{knot.port}", Rcode.NXDOMAIN),
        ("nosuch.ms.svc.cluster.local.", f"127.0.0.1:{silent.port}", Rcode.TIMEOUT),
        ("nosuch.ms.svc.cluster.local.", "coredns-abc (port-forward)", Rcode.NXDOMAIN),
    ]


# --- concurrency, progress, input checks ----------------------------------------------------


def test_many_questions_under_a_small_bound_all_answer_correctly(knot):
    questions = [Question(name=name, type="A") for name in LOAD]
    observations = resolve_all(questions, [knot.nameserver], concurrency=8, timeout=2.0)
    assert len(observations) == len(LOAD)
    assert [o.rcode for o in observations] == [Rcode.NOERROR] * len(LOAD)
    # Each answer belongs to its own question: nothing crossed between queries.
    assert [(o.name, datas(o)) for o in observations] == [
        (name, {address}) for name, address in LOAD.items()
    ]


def test_without_poll_the_sockets_are_polled_through_selectors(knot, make_bad_dns, monkeypatch):
    """Where the platform has no ``select.poll``, the same answers and silences."""
    import select

    monkeypatch.delattr(select, "poll")
    silent = make_bad_dns("silent")
    questions = [Question(name=name, type="A") for name in list(LOAD)[:40]]
    observations = resolve_all(
        questions, [knot.nameserver, silent.nameserver], concurrency=8, timeout=0.2, retries=0
    )
    assert [(o.name, datas(o)) for o in observations[::2]] == [
        (name, {address}) for name, address in list(LOAD.items())[:40]
    ]
    assert {o.rcode for o in observations[1::2]} == {Rcode.TIMEOUT, Rcode.ERROR}
    assert silent.udp_queries == 1  # the probe, then silent


@pytest.mark.parametrize("concurrency", [1, 8])
def test_concurrency_bound_is_respected(make_bad_dns, concurrency):
    slow = make_bad_dns("slow", delay=0.05)
    questions = [Question(name=f"q{i}.example.", type="A") for i in range(20)]
    began = time.monotonic()
    observations = resolve_all(questions, [slow.nameserver], concurrency=concurrency, timeout=2.0)
    wall = time.monotonic() - began
    assert [o.rcode for o in observations] == [Rcode.NOERROR] * 20
    assert slow.udp_queries == 20
    assert slow.max_outstanding == concurrency
    assert wall >= 20 / concurrency * 0.05 * 0.9


def test_progress_counts_finished_queries(knot):
    seen: list[int] = []
    questions = [Question(name=name, type="A") for name in list(LOAD)[:10]]
    resolve_all(questions, [knot.nameserver, knot.nameserver], progress=seen.append)
    assert seen == list(range(1, 21))


def test_invalid_input_raises_before_anything_is_sent(make_bad_dns):
    silent = make_bad_dns("silent")
    good = Question(name="eureka.ms.svc.cluster.local.", type="A")
    with pytest.raises(InvalidNameError, match=r"a\.\.b"):
        resolve_all([good, Question(name="a..b", type="A")], [silent.nameserver])
    with pytest.raises(UsageError, match="unknown record type 'XYZ'"):
        resolve_all([good, Question(name="a.b", type="XYZ")], [silent.nameserver])
    with pytest.raises(UsageError, match="not an IP address"):
        resolve_all([good], [silent.nameserver, Nameserver(host="localhost")])
    time.sleep(0.05)
    assert silent.udp_queries == 0


# --- the harness itself ------------------------------------------------------------------------


def test_knot_serves_a_changed_zone_after_set_zone(make_knot):
    zone = f"$ORIGIN ms.local.\n$TTL 30\n{SOA}\n@ NS ns.dns.cluster.local.\nweb A 10.0.0.1\n"
    server = make_knot({"ms.local": zone})
    assert datas(ask(server.nameserver, "web.ms.local.", "A")) == {"10.0.0.1"}
    server.set_zone("ms.local", zone.replace("10.0.0.1", "10.0.0.2"))
    assert datas(ask(server.nameserver, "web.ms.local.", "A")) == {"10.0.0.2"}
    server.set_zone("other.local", zone.replace("ms.local.", "other.local."))
    assert datas(ask(server.nameserver, "web.other.local.", "A")) == {"10.0.0.1"}
