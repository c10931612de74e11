"""One function per CLI command: options in, a report (plain data) out.

No formatting and no exit codes here: the CLI renders the report and picks the
code. Adapters are imported inside functions so that ``hsvc --help`` loads none
of kubernetes, dnspython or PyYAML.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from hsvc.core import names
from hsvc.core.cluster import ClusterDns
from hsvc.core.compare import Row, compare, summarize
from hsvc.core.explain import Link, explain_name, first_broken
from hsvc.core.model import (
    DnsAnswer,
    DnsSettings,
    ExpectedRecord,
    Nameserver,
    NegativeExpectation,
    ObjectRef,
    Observation,
    PodsMode,
    Question,
    Rcode,
    Service,
    Snapshot,
    StatefulSet,
)
from hsvc.core.records import (
    Expectation,
    Group,
    expectations,
    expected_records,
    negative_expectations,
)
from hsvc.errors import HsvcError, InvalidNameError, NoDnsError, NotFoundError, UsageError

log = logging.getLogger(__name__)

# Called with (queries done, queries in all) while DNS is asked.
Progress = Callable[[int, int], None]

RECORD_TYPES = ("A", "AAAA", "SRV", "PTR", "CNAME", "TXT", "SOA", "NS", "MX", "ANY")


@dataclass(frozen=True, slots=True, kw_only=True)
class Options:
    """Every option a command may read, gathered once by the CLI."""

    files: tuple[str, ...] = ()
    offline: bool = False
    kubeconfig: str | None = None
    context: str | None = None
    namespace: str | None = None
    all_namespaces: bool = False
    request_timeout: float = 10.0
    corefile: str | None = None
    cluster_domain: str | None = None
    pods: PodsMode | None = None
    endpoint_pod_names: bool | None = None
    ttl: int | None = None
    nameservers: tuple[str, ...] = ()
    timeout: float = 2.0
    concurrency: int = 64


@dataclass(frozen=True, slots=True, kw_only=True)
class Source:
    """The objects and DNS settings a command works from, and where they came from."""

    snapshot: Snapshot
    settings: DnsSettings
    origin: str  # "manifests: a.yaml" / "context kind-x (https://...)"
    namespace: str | None  # the namespace in scope, None for all
    kube_dns_ip: str | None = None
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordsReport:
    """What ``hsvc records`` shows."""

    source: Source
    records: list[ExpectedRecord]
    absent: list[NegativeExpectation]


@dataclass(frozen=True, slots=True, kw_only=True)
class Candidate:
    """One absolute name a resolver tries for a short name, and what it gets."""

    name: str
    expected: DnsAnswer
    observations: tuple[Observation, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Resolution:
    """One name asked by the user: its candidates, the one that answers, why."""

    query: str
    type: str
    candidates: tuple[Candidate, ...]
    chosen: int  # index into candidates
    chain: tuple[Link, ...] = ()
    row: Row | None = None

    @property
    def expected(self) -> DnsAnswer:
        """The expected answer of the candidate that answers."""
        return self.candidates[self.chosen].expected


@dataclass(frozen=True, slots=True, kw_only=True)
class ResolveReport:
    """What ``hsvc resolve`` shows."""

    source: Source
    results: list[Resolution]
    servers: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class ServiceSummary:
    """The header of one inspected Service."""

    service: Service
    stateful_sets: tuple[StatefulSet, ...]
    ready: int
    not_ready: int


@dataclass(frozen=True, slots=True, kw_only=True)
class InspectReport:
    """What ``hsvc inspect`` shows."""

    source: Source
    services: list[ServiceSummary]
    rows: list[Row]
    servers: tuple[str, ...]
    summary: dict[str, int] = field(default_factory=dict)

    @property
    def answered(self) -> bool:
        """Whether at least one server gave at least one response."""
        return any(
            c.observation.rcode not in (Rcode.TIMEOUT, Rcode.ERROR)
            for r in self.rows
            for c in r.checks
        )


# --- sources ---------------------------------------------------------------------


def load_source(opts: Options, *, service: str | None = None) -> Source:
    """Return the objects and DNS settings from manifest files or the live API.

    Raises:
        UsageError: ``--offline`` without ``-f``.
        ManifestError: a manifest or Corefile cannot be read.
        NotFoundError, AccessDeniedError, ApiUnreachableError: from the live API.
    """
    if opts.files:
        from hsvc.adapters.manifests import load_manifests

        snapshot = load_manifests(opts.files)
        settings = _settings(opts, cluster_corefile=None)
        namespace = None if opts.all_namespaces else (opts.namespace or "default")
        return Source(
            snapshot=snapshot,
            settings=settings,
            origin="manifests: " + ", ".join(opts.files),
            namespace=namespace,
            notes=_settings_notes(settings),
        )
    if opts.offline:
        raise UsageError("--offline needs objects from manifest files: pass -f PATH")
    from hsvc.adapters import kubeapi

    with kubeapi.connect(
        kubeconfig=opts.kubeconfig, context=opts.context, request_timeout=opts.request_timeout
    ) as src:
        # One deadline for every request of the command: errors within --request-timeout.
        deadline = time.monotonic() + opts.request_timeout
        namespace = None if opts.all_namespaces else (opts.namespace or src.target.namespace)
        snapshot = src.snapshot(namespace=namespace, service=service, deadline=deadline)
        cluster_dns = src.dns_config(deadline=deadline)
    settings = _settings(opts, cluster_corefile=(cluster_dns.corefile, cluster_dns.source))
    notes = list(_settings_notes(settings))
    notes.extend(
        f"could not read {what}; results that depend on it are weaker"
        for what in snapshot.unreadable
    )
    return Source(
        snapshot=snapshot,
        settings=settings,
        origin=f"context {src.target.context!r} ({src.target.server})",
        namespace=namespace,
        kube_dns_ip=cluster_dns.kube_dns_ip,
        notes=tuple(notes),
    )


def _settings(opts: Options, *, cluster_corefile: tuple[str | None, str] | None) -> DnsSettings:
    from hsvc.core.corefile import CorefileError, parse_corefile, settings_with_overrides

    settings = DnsSettings()
    if opts.corefile:
        path = Path(opts.corefile)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot read --corefile {opts.corefile}: {exc.strerror}") from exc
        try:
            settings = parse_corefile(text, source=f"Corefile {opts.corefile}")
        except CorefileError as exc:
            from hsvc.errors import ManifestError

            raise ManifestError(opts.corefile, str(exc.reason), getattr(exc, "line", None)) from exc
    elif cluster_corefile is not None and cluster_corefile[0]:
        cluster_text, where = cluster_corefile
        try:
            settings = parse_corefile(cluster_text or "", source=where)
        except CorefileError as exc:
            log.warning("cannot parse the cluster's Corefile (%s): %s", where, exc)
            settings = DnsSettings(source=f"kubeadm defaults (assumed: {where} unparsable)")
    return settings_with_overrides(
        settings,
        cluster_domain=opts.cluster_domain,
        pods=opts.pods,
        endpoint_pod_names=opts.endpoint_pod_names,
        ttl=opts.ttl,
    )


def _settings_notes(settings: DnsSettings) -> tuple[str, ...]:
    if "assumed" in settings.source:
        return (
            "DNS settings: assuming kubeadm's Corefile (zone cluster.local, pods insecure, "
            "ttl 30); pass --corefile or --cluster-domain if your cluster differs",
        )
    return ()


def _require_scope(source: Source, cluster: ClusterDns, service: str | None) -> None:
    ns = source.namespace
    if ns is not None and ns not in cluster.namespaces:
        raise NotFoundError(f'namespace "{ns}" not found ({source.origin})')
    if service is not None:
        if not names.is_dns1123_label(service):
            raise InvalidNameError(name=service, reason="a Service name is a DNS-1123 label")
        if ns is None:
            if not any(s.name == service for s in source.snapshot.services):
                raise NotFoundError(
                    f'service "{service}" not found in any namespace ({source.origin})'
                )
        elif (ns, service) not in {(s.namespace, s.name) for s in source.snapshot.services}:
            raise NotFoundError(
                f'service "{service}" not found in namespace "{ns}" ({source.origin})'
            )


def plan(source: Source, service: str | None) -> tuple[ClusterDns, list[Expectation]]:
    """Build the answer engine and the questions for the scope.

    Raises:
        NotFoundError: the namespace or Service is not in the source.
        InvalidNameError: the Service name cannot exist.
    """
    cluster = ClusterDns(source.snapshot, source.settings)
    _require_scope(source, cluster, service)
    return cluster, expectations(cluster, namespace=source.namespace, service=service)


# --- commands ------------------------------------------------------------------------


def run_records(opts: Options, service: str | None) -> RecordsReport:
    """Return the records cluster DNS serves for a Service, a namespace or everything.

    Raises:
        HsvcError: from the source (see :func:`load_source`) or the scope.
    """
    source = load_source(opts, service=service)
    _cluster, items = plan(source, service)
    return RecordsReport(
        source=source, records=expected_records(items), absent=negative_expectations(items)
    )


def search_candidates(name: str, namespace: str, zone: str, ndots: int = 5) -> list[str]:
    """Return the names a pod's resolver tries for ``name``, in order (ClusterFirst resolv.conf).

    The search list is ``<ns>.svc.<zone> svc.<zone> <zone>`` with ``ndots:5``: a
    name with fewer dots is tried with each suffix first, then as it is.

    Raises:
        InvalidName: ``name`` cannot be a DNS name.
    """
    if name.endswith("."):
        return [names.absolute(name)]
    base = names.absolute(name)
    search = [f"{namespace}.svc.{zone}", f"svc.{zone}", zone]
    expanded = [names.absolute(base[:-1] + "." + s) for s in search]
    if name.count(".") >= ndots:
        return [base, *expanded]
    return [*expanded, base]


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
    source = load_source(opts)
    cluster = ClusterDns(source.snapshot, source.settings)
    ns = source.namespace or "default"
    zone = source.settings.primary_zone
    per_query: list[list[str]] = []
    for q in queries:
        try:
            per_query.append(search_candidates(q, ns, zone))
        except names.InvalidName as exc:
            raise InvalidNameError(name=q, reason=exc.reason) from exc
    observations: dict[tuple[str, str], list[Observation]] = {}
    servers: tuple[str, ...] = ()
    if live:
        servers_ns = pick_nameservers(opts, source)
        servers = tuple(str(s) for s in servers_ns)
        questions = [Question(name=c, type=qtype) for cands in per_query for c in cands]
        for obs in _resolve(questions, servers_ns, opts, progress):
            observations.setdefault((obs.name, obs.type), []).append(obs)
    results = []
    for q, cands in zip(queries, per_query, strict=True):
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
            tuple(explain_name(cluster, chosen_name))
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
        results.append(
            Resolution(
                query=q, type=qtype, candidates=candidates, chosen=chosen, chain=chain, row=row
            )
        )
    return ResolveReport(source=source, results=results, servers=servers)


def run_inspect(
    opts: Options,
    service: str | None,
    *,
    progress: Progress | None = None,
) -> InspectReport:
    """Work out every record for the scope, resolve them live and compare.

    Raises:
        UsageError: ``--offline`` (inspect always asks DNS).
        NoDnsError: no DNS server to ask, or none answered at all.
        HsvcError: from the source.
    """
    if opts.offline:
        raise UsageError("inspect always queries DNS; --offline is only for records and resolve")
    source = load_source(opts, service=service)
    cluster, items = plan(source, service)
    servers = pick_nameservers(opts, source)
    questions = [Question(name=e.expected.name, type=e.expected.type) for e in items]
    observations = _resolve(questions, servers, opts, progress)
    rows = compare(items, observations)
    summaries = _summaries(cluster, source, service)
    report = InspectReport(
        source=source,
        services=summaries,
        rows=rows,
        servers=tuple(str(s) for s in servers),
        summary=summarize(rows),
    )
    if rows and not report.answered:
        raise NoDnsError(
            "no DNS server answered any query ("
            + ", ".join(report.servers)
            + f", timeout {opts.timeout}s); check --nameserver and that the server is reachable"
        )
    return report


# --- helpers -------------------------------------------------------------------------


def pick_nameservers(opts: Options, source: Source) -> list[Nameserver]:
    """Return the DNS servers to ask: ``--nameserver``, else the pod's resolv.conf, else kube-dns.

    Raises:
        UsageError: a malformed ``--nameserver``.
        NoDnsError: no server can be found.
    """
    from hsvc.adapters.resolver import parse_nameserver

    if opts.nameservers:
        return [parse_nameserver(text) for text in opts.nameservers]
    if os.environ.get("KUBERNETES_SERVICE_HOST"):
        # Inside a pod: ask what the pod's own resolver asks.
        from hsvc.adapters.resolver import read_resolv_conf

        try:
            text = Path("/etc/resolv.conf").read_text(encoding="utf-8")
        except OSError:
            text = ""
        conf = read_resolv_conf(text)
        if conf.nameservers:
            return list(conf.nameservers)
    if source.kube_dns_ip:
        return [
            Nameserver(host=source.kube_dns_ip, port=53, label=f"kube-dns {source.kube_dns_ip}")
        ]
    raise NoDnsError(
        "no DNS server to ask: pass --nameserver HOST[:PORT] (the cluster DNS Service IP when "
        "you can reach it, or 127.0.0.1:PORT after "
        "'kubectl -n kube-system port-forward svc/kube-dns PORT:53' for TCP)"
    )


def _resolve(
    questions: list[Question],
    servers: Sequence[Nameserver],
    opts: Options,
    progress: Progress | None,
) -> list[Observation]:
    from hsvc.adapters.resolver import resolve_all

    total = len(questions) * len(servers)
    report = None if progress is None else (lambda done: progress(done, total))
    return resolve_all(
        questions, servers, timeout=opts.timeout, concurrency=opts.concurrency, progress=report
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


def _summaries(cluster: ClusterDns, source: Source, service: str | None) -> list[ServiceSummary]:
    out = []
    for svc in sorted(cluster.services.values(), key=lambda s: (s.namespace, s.name)):
        if source.namespace is not None and svc.namespace != source.namespace:
            continue
        if service is not None and svc.name != service:
            continue
        stses = tuple(
            s
            for s in source.snapshot.stateful_sets
            if s.namespace == svc.namespace and s.service_name == svc.name
        )
        total = [
            ep for sl in cluster.slices.get((svc.namespace, svc.name), []) for ep in sl.endpoints
        ]
        ready = sum(1 for ep in total if ep.is_ready)
        out.append(
            ServiceSummary(
                service=svc, stateful_sets=stses, ready=ready, not_ready=len(total) - ready
            )
        )
    return out


__all__ = [
    "HsvcError",
    "InspectReport",
    "Options",
    "RecordsReport",
    "ResolveReport",
    "load_source",
    "run_inspect",
    "run_records",
    "run_resolve",
]
