"""``hsvc resolve``: what cluster DNS answers for names, why, and (live) what it does answer."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import ExitStack

from hsvc.commands.options import Options
from hsvc.commands.source import Api, load_source
from hsvc.commands.vantage import PodView, Progress, labels, nobody_answered, open_vantage
from hsvc.core import names, searchpath
from hsvc.core.cluster import ClusterDns
from hsvc.core.compare import compare
from hsvc.core.explain import Link, explain_name, first_broken
from hsvc.core.model import DnsAnswer, ObjectRef, Observation, Rcode
from hsvc.core.records import Expectation, Group
from hsvc.core.report import Candidate, Resolution, ResolveReport, SearchView, Source
from hsvc.core.resolvconf import ResolvConf
from hsvc.core.searchpath import Libc
from hsvc.errors import InvalidNameError, UsageError

RECORD_TYPES = ("A", "AAAA", "SRV", "PTR", "CNAME", "TXT", "SOA", "NS", "MX")


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
    cluster = ClusterDns(source.snapshot, source.settings)
    ns = source.namespace or "default"
    zone = source.settings.primary_zone
    for q in queries:
        try:
            names.absolute(q)
        except names.InvalidName as exc:
            raise InvalidNameError(name=q, reason=exc.reason) from exc
    conf = searchpath.cluster_first(ns, zone)
    observations: dict[tuple[str, str], list[Observation]] = {}
    servers: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    pod: PodView | None = None
    if live:
        # A and AAAA for every candidate: what getaddrinfo asks (the search view).
        types = list(dict.fromkeys(["A", "AAAA", qtype]))
        vantage = open_vantage(opts, source, api, stack, progress)
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
    if (
        live
        and observations
        and not any(
            o.rcode not in (Rcode.TIMEOUT, Rcode.ERROR)
            for seen in observations.values()
            for o in seen
        )
    ):
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
    chain = (
        _explain_candidates(cluster, candidates, chosen)
        if not candidates[chosen].expected.answer
        else ()
    )
    row = None
    if live:
        row = compare(
            [
                Expectation(
                    group=_group_guess(chosen_name),
                    subject=_subject(candidates[chosen].expected),
                    expected=candidates[chosen].expected,
                    reason=_reason(chain),
                )
            ],
            candidates[chosen].observations,
        )[0]
    view = _search_view(cluster, q, conf, libcs, observations, pod, live=live)
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
    if upper not in RECORD_TYPES:
        raise UsageError(f"unknown record type {qtype!r}; use one of {', '.join(RECORD_TYPES)}")
    return upper


def _answering(candidates: Sequence[Candidate]) -> int:
    """Index of the candidate whose answer the resolver returns (first with data, else last)."""
    for i, cand in enumerate(candidates):
        observed = [o for o in cand.observations if o.answer]
        if cand.expected.answer or observed:
            return i
    for i, cand in enumerate(candidates):
        if cand.expected.rcode is Rcode.NOERROR:
            return i
    return len(candidates) - 1


def _explain_candidates(
    cluster: ClusterDns, candidates: Sequence[Candidate], chosen: int
) -> tuple[Link, ...]:
    """Explain the candidate that gets furthest along its chain (the one the user meant).

    When no search-path candidate answers, the resolver returns the last one's
    answer (often the bare name, outside the cluster zones), but the name the
    user meant is the candidate that passes the most links.
    """
    chains = [explain_name(cluster, c.name) for c in candidates]
    best = max(range(len(chains)), key=lambda i: (sum(link.ok for link in chains[i]), -i))
    if sum(link.ok for link in chains[best]) <= sum(link.ok for link in chains[chosen]):
        return tuple(chains[chosen])
    note = Link(
        check="candidate",
        ok=True,
        detail=f"explaining {candidates[best].name}, the search-path candidate that gets furthest",
    )
    return (note, *chains[best])


def _reason(chain: Sequence[Link]) -> str:
    link = first_broken(list(chain))
    if link is None:
        return ""
    return f"{link.detail}; {link.fix}" if link.fix else link.detail


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
