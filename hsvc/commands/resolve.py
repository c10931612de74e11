"""``hsvc resolve``: what cluster DNS answers for names, why, and (live) what it does answer."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from contextlib import ExitStack

from hsvc.commands.options import Options
from hsvc.commands.source import Api, engine, load_source, with_chaos_version
from hsvc.commands.vantage import PodView, Progress, labels, nobody_answered, open_vantage
from hsvc.core import names, searchpath
from hsvc.core.cluster import ClusterDns
from hsvc.core.compare import compare
from hsvc.core.explain import Link, explain, reason
from hsvc.core.model import DnsAnswer, ObjectRef, Observation, Rcode
from hsvc.core.records import Expectation, Group
from hsvc.core.report import Candidate, Resolution, ResolveReport, SearchView, Source
from hsvc.core.resolvconf import ResolvConf
from hsvc.core.searchpath import Libc
from hsvc.errors import InvalidNameError, UsageError

# The question types getaddrinfo asks, whose search-list walk resolve shows.
ADDRESS_TYPES = ("A", "AAAA")

RECORD_TYPES = ("A", "AAAA", "SRV", "PTR", "CNAME", "TXT", "SOA", "NS", "MX")
# Every data type mnemonic a question may carry (IANA DNS parameters); cluster DNS
# serves a few and answers NODATA for the rest at an existing name (rule 46).
QUERY_TYPES = frozenset(
    (
        *RECORD_TYPES,
        *"HINFO RP AFSDB X25 ISDN RT NSAP NSAP-PTR SIG KEY PX GPOS LOC NXT NAPTR KX CERT "
        "DNAME APL DS SSHFP IPSECKEY RRSIG NSEC DNSKEY DHCID NSEC3 NSEC3PARAM TLSA SMIMEA HIP "
        "NINFO RKEY TALINK CDS CDNSKEY OPENPGPKEY CSYNC ZONEMD SVCB HTTPS SPF NID L32 L64 LP "
        "EUI48 EUI64 URI CAA AVC DLV WKS MB MG MR MINFO NULL MD MF AMTRELAY RESINFO".split(),
    )
)
# A label a client can ask: letters, digits, '-', '_' (SRV names) and '*' (rule 11).
_QUERY_LABEL = re.compile(r"[A-Za-z0-9_*-]+")


def run_resolve(
    opts: Options,
    queries: Sequence[str],
    qtype: str,
    *,
    progress: Progress | None = None,
    live: bool,
) -> ResolveReport:
    """Say what cluster DNS answers (and, live, what it does answer) for names.

    Raises:
        InvalidNameError: a name or type that cannot be asked.
        HsvcError: from the source or the resolver.
    """
    qtype = _check_type(qtype)
    queries, qtype = _reverse_queries(queries, qtype)
    for q in queries:
        _check_query(q)
    with ExitStack() as stack:
        api = Api(opts, stack)
        source = load_source(opts, api)
        return _resolve(opts, api, stack, source, queries, qtype, progress=progress, live=live)


def _resolve(
    opts: Options,
    api: Api,
    stack: ExitStack,
    source: Source,
    queries: Sequence[str],
    qtype: str,
    *,
    progress: Progress | None,
    live: bool,
) -> ResolveReport:
    cluster = engine(source)
    ns = source.namespace or "default"
    zone = source.settings.primary_zone
    conf = searchpath.cluster_first(ns, zone)
    observations: dict[tuple[str, str], list[Observation]] = {}
    servers: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    pod: PodView | None = None
    if live:
        # A and AAAA for every candidate: what getaddrinfo asks (the search view),
        # which only an address question has.
        types = list(dict.fromkeys(["A", "AAAA", qtype])) if qtype in ADDRESS_TYPES else [qtype]
        vantage = open_vantage(opts, source, api, stack, progress)
        versioned = with_chaos_version(opts, source, vantage.servers)
        if versioned is not source:
            source, cluster = versioned, engine(versioned)
        seen = vantage.lookup(queries, types, conf, Libc.GLIBC)
        pod, servers, notes = vantage.pod, labels(vantage), tuple(vantage.notes)
        for obs in seen:
            observations.setdefault((obs.name, obs.type), []).append(obs)
    if pod is not None:
        conf = pod.conf
    libcs = (pod.libc,) if pod is not None and pod.lookups.libc else (Libc.GLIBC, Libc.MUSL)
    per_query = [searchpath.candidates(q, conf, libcs[0]) for q in queries]
    results = [
        _resolution(cluster, q, cands, qtype, observations, conf, libcs, pod, live=live)
        for q, cands in zip(queries, per_query, strict=True)
    ]
    report = ResolveReport(source=source, results=results, servers=servers, notes=notes)
    if live and observations and not any(o.served for seen in observations.values() for o in seen):
        raise nobody_answered([o for seen in observations.values() for o in seen])
    return report


def _resolution(
    cluster: ClusterDns,
    q: str,
    cands: Sequence[str],
    qtype: str,
    observations: dict[tuple[str, str], list[Observation]],
    conf: ResolvConf,
    libcs: Sequence[Libc],
    pod: PodView | None,
    *,
    live: bool,
) -> Resolution:
    """Pair one name's candidates with what was seen; pick the one that answers; explain it."""
    candidates = tuple(
        Candidate(
            name=c,
            expected=cluster.answer(c, qtype),
            observations=tuple(observations.get((c, qtype), [])),
        )
        for c in cands
    )
    chosen = _answering(candidates)
    chosen_name = candidates[chosen].name
    chain = _explain_candidates(candidates, chosen) if not _has_data(candidates[chosen]) else ()
    row = None
    if live:
        row = compare(
            [
                Expectation(
                    group=_group_guess(chosen_name),
                    subject=_subject(candidates[chosen].expected),
                    expected=candidates[chosen].expected,
                    reason=reason(candidates[chosen].expected),
                )
            ],
            candidates[chosen].observations,
        )[0]
    # getaddrinfo walks the search list for addresses; an SRV, TXT or PTR question is
    # an application's own lookup (res_search, a DNS library): no getaddrinfo walk.
    view = (
        _search_view(cluster, q, conf, libcs, observations, pod, live=live)
        if qtype in ADDRESS_TYPES
        else None
    )
    return Resolution(
        query=q,
        type=qtype,
        candidates=candidates,
        chosen=chosen,
        chain=chain,
        row=row,
        search=view,
    )


def _search_view(
    cluster: ClusterDns,
    query: str,
    conf: ResolvConf,
    libcs: Sequence[Libc],
    observations: dict[tuple[str, str], list[Observation]],
    pod: PodView | None,
    *,
    live: bool,
) -> SearchView:
    """Walk the search list for ``query`` as each libc would: by the objects, and as answered."""

    def expected(libc: Libc) -> Callable[[str], searchpath.Outcome]:
        def ask(name: str) -> searchpath.Outcome:
            a, aaaa = cluster.answer(name, "A"), cluster.answer(name, "AAAA")
            if a.rcode is Rcode.REFUSED:
                return searchpath.Outcome.UPSTREAM  # outside the cluster zones
            return searchpath.outcome(
                (a.rcode, bool(a.answer)), (aaaa.rcode, bool(aaaa.answer)), libc
            )

        return ask

    def actual(libc: Libc) -> Callable[[str], searchpath.Outcome]:
        def ask(name: str) -> searchpath.Outcome:
            a, aaaa = observations.get((name, "A")), observations.get((name, "AAAA"))
            if not a or not aaaa:
                return searchpath.Outcome.UPSTREAM  # not asked: unknown
            return searchpath.outcome(
                (a[0].rcode, bool(a[0].answer)), (aaaa[0].rcode, bool(aaaa[0].answer)), libc
            )

        return ask

    return SearchView(
        resolv_conf=conf,
        assumed=pod is None,
        libc=pod.lookups.libc_detail if pod is not None and pod.lookups.libc else "",
        expected=tuple(searchpath.walk(query, conf, libc, expected(libc)) for libc in libcs),
        actual=(
            tuple(searchpath.walk(query, conf, libc, actual(libc)) for libc in libcs)
            if live
            else ()
        ),
        getaddrinfo=pod.lookups.system.get(query) if pod is not None else None,
    )


def _check_type(qtype: str) -> str:
    upper = qtype.upper()
    if upper not in QUERY_TYPES and not re.fullmatch(r"TYPE[0-9]{1,5}", upper):
        raise UsageError(f"unknown record type {qtype!r}; use e.g. {', '.join(RECORD_TYPES)}")
    return upper


def _reverse_queries(queries: Sequence[str], qtype: str) -> tuple[list[str], str]:
    """An IP address given to resolve means its reverse name, asked for PTR (rule 34)."""
    out = []
    any_ip = False
    for q in queries:
        canon = names.canonical_ip(q)
        if canon is not None and q.strip() == q:
            out.append(names.reverse_name(canon))
            any_ip = True
        else:
            out.append(q)
    if any_ip and qtype != "PTR":
        if len(out) > sum(1 for q in queries if names.canonical_ip(q) is not None):
            raise UsageError("give IP addresses and names in separate hsvc resolve calls")
        qtype = "PTR"
    return out, qtype


def _check_query(query: str) -> None:
    """Refuse a name no client can ask (exit 2): bad labels, lengths, characters."""
    try:
        decoded = names.absolute(query)  # escapes decoded, as the resolver sends them
    except names.InvalidName as exc:
        raise InvalidNameError(name=query, reason=exc.reason) from exc
    bad = [label for label in names.labels(decoded) if not _QUERY_LABEL.fullmatch(label)]
    if bad:
        raise InvalidNameError(
            name=query,
            reason=f"label {bad[0]!r} holds characters a host name cannot have "
            "(letters, digits, '-' and '_' only)",
        )


def _has_data(candidate: Candidate) -> bool:
    return bool(candidate.expected.answer) or (
        candidate.expected.rcode is Rcode.NOERROR and bool(candidate.expected.predicted)
    )


def _answering(candidates: Sequence[Candidate]) -> int:
    """Index of the candidate that explains the outcome.

    The first candidate with data (expected or observed) is what the resolver
    returns. When none has data, the resolver goes on to the last candidate, often
    outside the cluster zones (forwarded upstream, open-ended); the candidate that
    explains the outcome is the in-cluster one that gets furthest in the engine's
    trace (the name the user meant), the first of equals.
    """
    for i, cand in enumerate(candidates):
        observed = [o for o in cand.observations if o.answer]
        if _has_data(cand) or observed:
            return i
    inside = [i for i, c in enumerate(candidates) if c.expected.rcode is not Rcode.REFUSED]
    if not inside:
        return len(candidates) - 1
    return max(inside, key=lambda i: (_progress(candidates[i].expected), -i))


def _progress(answer: DnsAnswer) -> tuple[int, int]:
    """How far a name gets: NODATA beats NXDOMAIN, then the decisions that held."""
    return (int(answer.rcode is Rcode.NOERROR), sum(step.ok for step in explain(answer)))


def _explain_candidates(candidates: Sequence[Candidate], chosen: int) -> tuple[Link, ...]:
    """The engine's trace of the candidate that explains the outcome, and where the others went."""
    chain = explain(candidates[chosen].expected)
    if len(candidates) == 1:
        return tuple(chain)
    others = [c for i, c in enumerate(candidates) if i != chosen]
    outside = [c.name for c in others if c.expected.rcode is Rcode.REFUSED]
    detail = f"explaining {candidates[chosen].name}, the search-path candidate that gets furthest"
    if outside:
        detail += (
            f"; {', '.join(outside)} lies outside the cluster zones and is forwarded upstream "
            "(open-ended)"
        )
    note = Link(check="candidate", ok=True, detail=detail)
    return (note, *chain)


def _group_guess(name: str) -> Group:
    if name.endswith(".arpa."):
        return Group.PTR
    if ".pod." in name:
        return Group.POD
    return Group.SERVICE


def _subject(answer: DnsAnswer) -> ObjectRef:
    if answer.provenance:
        return answer.provenance[0].source
    return ObjectRef(kind="Name", namespace="", name=answer.name)
