"""Fuzzing the two edges where outside data enters: manifests -> model, DNS answers -> verdicts.

Manifests: random documents built from Kubernetes words, and the seed manifest
with random bytes cut, inserted or swapped, go through hsvc.adapters.manifests.
Only ManifestError may come out, and what loads is a Snapshot the engine can use.

Answers: random Observations against random expected answers go through
``judge``/``compare``. Nothing raises, every check gets a Verdict, and for plain
answers the verdict is OK exactly when the record sets match and no TTL is above
the expected one.
"""

from __future__ import annotations

import io
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hsvc.adapters.manifests import read_manifests
from hsvc.core import names
from hsvc.core.cluster import ClusterDns
from hsvc.core.compare import MAX_MESSAGE, Verdict, answer_wire_size, compare, judge, record_key
from hsvc.core.model import DnsAnswer, DnsSettings, ObjectRef, Observation, Rcode, Record
from hsvc.core.records import Expectation, Group, expectations
from hsvc.errors import ManifestError

SEED = (Path(__file__).resolve().parents[1] / "data" / "seed" / "ms.yaml").read_text()
# How many examples: the Hypothesis profile (tests/conftest.py; more with --hypothesis-profile=ci).
FUZZ = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None)

# --- manifests -> model ------------------------------------------------------------------------

KINDS = ("Service", "Pod", "EndpointSlice", "Endpoints", "StatefulSet", "Namespace", "List")
KINDS += ("Deployment", "ConfigMap", "ServiceList", "Widget", "")
API_VERSIONS = ("v1", "apps/v1", "discovery.k8s.io/v1", "example.com/v1", "", "v2")
KEYS = (
    "apiVersion kind metadata name namespace labels spec selector matchLabels ports port "
    "name protocol targetPort clusterIP clusterIPs type externalName endpoints addresses "
    "conditions ready serving terminating hostname subdomain targetRef items status podIP "
    "podIPs ip phase serviceName replicas template addressType subsets "
    "publishNotReadyAddresses ownerReferences"
).split()
NAMES = st.sampled_from(["web", "db", "ms", "default", "eureka-0", "", "Web_1", "a.b", "x" * 70])
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True),
    NAMES,
    st.sampled_from(["None", "10.0.0.1", "fd00::1", "10.244.1.5", "TCP", "UDP", "ExternalName"]),
    st.text(max_size=12),
)


def documents() -> st.SearchStrategy[object]:
    """Kubernetes-shaped values: mappings of known keys, lists, scalars, nested a few deep."""
    values = st.recursive(
        SCALARS,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4),
            st.dictionaries(st.sampled_from(KEYS), inner, max_size=5),
        ),
        max_leaves=25,
    )
    shaped = st.fixed_dictionaries(
        {
            "apiVersion": st.sampled_from(API_VERSIONS),
            "kind": st.sampled_from(KINDS),
            "metadata": st.one_of(
                st.fixed_dictionaries({"name": NAMES, "namespace": NAMES}),
                values,
            ),
        },
        optional={"spec": values, "items": st.lists(values, max_size=3), "status": values},
    )
    return st.one_of(shaped, values)


def check_snapshot(text: str) -> None:
    """Load ``text`` as stdin; only ManifestError may escape, and the Snapshot must hold up."""
    try:
        loaded = read_manifests(["-"], stdin=io.StringIO(text))
    except ManifestError as exc:
        assert exc.message.startswith("<stdin>")
        assert "\n" not in exc.message
        return
    snap = loaded.snapshot
    namespaces = {n.name for n in snap.namespaces}
    objects = [*snap.services, *snap.endpoint_slices, *snap.pods, *snap.stateful_sets]
    objects += snap.deployments
    keys = [(type(o).__name__, o.namespace, o.name) for o in objects]
    assert len(keys) == len(set(keys)), "one object per kind, namespace and name"
    for obj in objects:
        assert obj.namespace in namespaces
        assert names.is_dns1123_label(obj.namespace)
        assert names.is_dns1123_subdomain(obj.name)
    for svc in snap.services:
        assert names.is_dns1123_label(svc.name)
    for sl in snap.endpoint_slices:
        assert sl.service_name
    # The engine takes whatever loaded.
    cluster = ClusterDns(snap, DnsSettings())
    for e in expectations(cluster, namespace=None, service=None):
        assert e.expected.name.endswith(".") and e.expected.name == e.expected.name.lower()


@FUZZ
@given(st.lists(documents(), min_size=1, max_size=4))
def test_random_documents_load_or_fail_with_a_manifest_error(docs: list[object]) -> None:
    check_snapshot(yaml.safe_dump_all(docs, sort_keys=False))


@st.composite
def mutated_seed(draw: st.DrawFn) -> str:
    text = SEED
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        how = draw(st.sampled_from(["cut", "insert", "swap-line", "retype"]))
        if how == "cut":
            text = text[:at] + text[at + draw(st.integers(1, 40)) :]
        elif how == "insert":
            junk = draw(
                st.one_of(
                    st.text(max_size=8),
                    st.sampled_from(
                        [": ", "- ", "{", "]", "&a ", "*a", "!!int ", "\t", "---\n", "'", "\x00"]
                    ),
                )
            )
            text = text[:at] + junk + text[at:]
        elif how == "swap-line":
            lines = text.splitlines(keepends=True)
            i = draw(st.integers(0, len(lines) - 1))
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
            text = "".join(lines)
        else:
            word = draw(st.sampled_from(["port:", "name:", "kind:", "namespace:", "ready:"]))
            text = text.replace(word, draw(st.sampled_from(["port: [", "name: 7", "x:"])), 1)
    return text


@FUZZ
@given(mutated_seed())
def test_mutated_seed_loads_or_fails_with_a_manifest_error(text: str) -> None:
    check_snapshot(text)


# --- DNS answers -> verdicts -------------------------------------------------------------------

QNAME = "web.ms.svc.cluster.local."
RECORD_NAMES = st.sampled_from([QNAME, "WEB.ms.svc.cluster.local.", "x.ms.svc.cluster.local."])
DATA = {
    "A": ["10.0.0.1", "10.0.0.2"],
    "AAAA": ["fd00::1"],
    "SRV": ["0 50 80 a.ms.svc.cluster.local.", "0 100 80 B.ms.svc.cluster.local.", "1 2"],
    "PTR": ["web.ms.svc.cluster.local."],
    "TXT": ['"[red]x\\027"', '"1.1.0"'],
    "SOA": ["ns.dns.cluster.local. hostmaster.cluster.local. 7 7200 1800 86400 30", "x"],
    "CNAME": ["[bold]y.example."],
}


@st.composite
def records(draw: st.DrawFn) -> Record:
    rtype = draw(st.sampled_from(sorted(DATA)))
    return Record(
        name=draw(RECORD_NAMES),
        type=rtype,
        ttl=draw(st.sampled_from([0, 5, 30, 31, 2**31])),
        data=draw(st.sampled_from(DATA[rtype])),
    )


RECORD_SETS = st.lists(records(), max_size=4, unique_by=record_key).map(tuple)


@st.composite
def expected_answers(draw: st.DrawFn) -> DnsAnswer:
    answer = draw(RECORD_SETS)
    rcode = Rcode.NOERROR if answer else draw(st.sampled_from([Rcode.NOERROR, Rcode.NXDOMAIN]))
    return DnsAnswer(
        name=QNAME,
        type=draw(st.sampled_from(sorted(DATA))),
        rcode=draw(st.sampled_from(list(Rcode))) if draw(st.booleans()) else rcode,
        answer=answer,
        open_ended=draw(st.booleans()),
    )


@st.composite
def observations(draw: st.DrawFn, expected: DnsAnswer | None = None) -> Observation:
    if expected is not None and draw(st.booleans()):
        # Near misses of the expected answer: a subset, a TTL changed, a record added.
        answer = list(expected.answer)
        if answer and draw(st.booleans()):
            answer.pop(draw(st.integers(0, len(answer) - 1)))
        if answer and draw(st.booleans()):
            i = draw(st.integers(0, len(answer) - 1))
            old = answer[i]
            answer[i] = Record(
                name=old.name, type=old.type, ttl=draw(st.integers(0, 60)), data=old.data
            )
        if draw(st.booleans()):
            answer.append(draw(records()))
        rcode = expected.rcode if draw(st.booleans()) else draw(st.sampled_from(list(Rcode)))
    else:
        answer = list(draw(RECORD_SETS))
        rcode = draw(st.sampled_from(list(Rcode)))
    return Observation(
        server=draw(st.sampled_from(["127.0.0.1:53", "coredns-a (port-forward)", "\x1b[31m"])),
        name=QNAME,
        type=expected.type if expected is not None else "A",
        rcode=rcode,
        answer=tuple(answer),
        too_large=draw(st.booleans()) and draw(st.booleans()),
        size=draw(st.integers(0, 70000)),
        error=draw(st.sampled_from(["", "no response within 1s", "[red]garbage"])),
        low_confidence=draw(st.booleans()),
    )


def plain(expected: DnsAnswer, obs: Observation) -> bool:
    """Whether ``judge`` compares record sets for this pair (no special case applies)."""
    return (
        not obs.too_large
        and obs.rcode not in (Rcode.SERVFAIL, Rcode.REFUSED, Rcode.TIMEOUT, Rcode.ERROR)
        and expected.rcode in (Rcode.NOERROR, Rcode.NXDOMAIN)
        and not expected.open_ended
        and answer_wire_size(expected) <= MAX_MESSAGE
    )


def oracle(expected: DnsAnswer, obs: Observation) -> bool:
    """OK iff the rcodes and record sets match (by key) and no TTL is above the expected one."""
    want = {record_key(r): r.ttl for r in expected.answer}
    got = {record_key(r): r.ttl for r in obs.answer}
    if not want and not got:
        return obs.rcode == expected.rcode
    # Clients read the rcode first: expected records under another rcode (NXDOMAIN) are not ok.
    same_rcode = not want or obs.rcode == expected.rcode
    return want.keys() == got.keys() and all(got[k] <= want[k] for k in want) and same_rcode


@FUZZ
@given(st.data())
def test_judge_never_raises_and_ok_means_equal_sets_within_ttl(data: st.DataObject) -> None:
    expected = data.draw(expected_answers())
    obs = data.draw(observations(expected))
    check = judge(expected, obs)
    assert isinstance(check.verdict, Verdict)
    assert check.observation is obs
    if plain(expected, obs):
        assert (check.verdict is Verdict.OK) == oracle(expected, obs), check
    if obs.rcode in (Rcode.SERVFAIL, Rcode.TIMEOUT, Rcode.ERROR) and not obs.too_large:
        assert check.verdict in (Verdict.ERROR, Verdict.TOO_LARGE)
    if obs.too_large:
        assert check.verdict is Verdict.TOO_LARGE


@FUZZ
@given(st.lists(expected_answers(), min_size=1, max_size=3), st.data())
def test_compare_gives_one_row_per_question_with_the_worst_verdict(
    answers: list[DnsAnswer], data: st.DataObject
) -> None:
    items = [
        Expectation(
            group=Group.SERVICE,
            subject=ObjectRef(kind="Service", namespace="ms", name="web"),
            expected=DnsAnswer(
                name=f"q{i}.{a.name}",
                type=a.type,
                rcode=a.rcode,
                answer=a.answer,
                open_ended=a.open_ended,
            ),
        )
        for i, a in enumerate(answers)
    ]
    seen = [
        Observation(
            server=o.server,
            name=item.expected.name.upper(),  # servers may echo another case
            type=item.expected.type,
            rcode=o.rcode,
            answer=o.answer,
            too_large=o.too_large,
            error=o.error,
        )
        for item in items
        for o in data.draw(st.lists(observations(item.expected), max_size=3))
    ]
    rows = compare(items, seen)
    assert [r.expected for r in rows] == [e.expected for e in items]
    order = [Verdict.WRONG, Verdict.MISSING, Verdict.UNEXPECTED, Verdict.TOO_LARGE]
    order += [Verdict.ERROR, Verdict.OK]
    for row in rows:
        mine = [o for o in seen if o.name.lower() == row.name]
        assert len(row.checks) == len(mine)  # every observation judged, none lost
        if not row.checks:
            assert row.status is Verdict.ERROR  # nobody answered: not ok
        else:
            assert row.status is min((c.verdict for c in row.checks), key=order.index)
