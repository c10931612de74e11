"""One function per CLI command: options in, a report (plain data) out.

No formatting and no exit codes here: the CLI renders the report and picks the
code. Adapters are imported inside functions so that ``hsvc --help`` loads none
of kubernetes, dnspython or PyYAML.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from hsvc.core import names, searchpath
from hsvc.core.cluster import ClusterDns
from hsvc.core.compare import Disagreement, Row, compare, disagreements, summarize
from hsvc.core.diagnose import diagnose
from hsvc.core.explain import Link, explain_name, first_broken
from hsvc.core.model import (
    DnsAnswer,
    DnsSettings,
    ExpectedRecord,
    Finding,
    Labels,
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
    selector_matches,
)
from hsvc.core.podexec import SystemAnswer
from hsvc.core.records import (
    Expectation,
    Group,
    expectations,
    expected_records,
    negative_expectations,
)
from hsvc.core.resolvconf import ResolvConf
from hsvc.core.searchpath import Libc, Walk
from hsvc.errors import HsvcError, InvalidNameError, NoDnsError, NotFoundError, UsageError
from hsvc.vantage import PodView, direct_nameservers, reach_dns

log = logging.getLogger(__name__)

# Called with (queries done, queries in all) while DNS is asked.
Progress = Callable[[int, int], None]

RECORD_TYPES = ("A", "AAAA", "SRV", "PTR", "CNAME", "TXT", "SOA", "NS", "MX")


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
    dns_flavour: str | None = None  # --dns-flavour (hsvc.core.flavour.Flavour values)
    dns_version: str | None = None  # --dns-version
    nameservers: tuple[str, ...] = ()
    timeout: float = 2.0
    concurrency: int = 64
    via: str = "auto"  # auto, direct, port-forward, exec (hsvc.vantage)
    pod: str | None = None  # --via exec: the pod whose view to check
    container: str | None = None
    in_pod: bool = False  # KUBERNETES_SERVICE_HOST is set (read by the CLI)


@dataclass(frozen=True, slots=True, kw_only=True)
class Source:
    """The objects and DNS settings a command works from, and where they came from."""

    snapshot: Snapshot
    settings: DnsSettings
    origin: str  # "manifests: a.yaml" / "context kind-x (https://...)"
    namespace: str | None  # the namespace in scope, None for all
    kube_dns_ip: str | None = None
    # Namespace and label selector of the cluster DNS pods (the DNS Service's selector).
    dns_pods: tuple[str, str] = ("kube-system", "k8s-app=kube-dns")
    notes: tuple[str, ...] = ()
    # Manifest file and line of each object, when the objects came from files.
    locations: tuple[tuple[ObjectRef, str, int], ...] = ()


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
    search: SearchView | None = None

    @property
    def expected(self) -> DnsAnswer:
        """The expected answer of the candidate that answers."""
        return self.candidates[self.chosen].expected


@dataclass(frozen=True, slots=True, kw_only=True)
class SearchView:
    """How getaddrinfo in a pod walks the search list for one name (A and AAAA per candidate)."""

    resolv_conf: ResolvConf
    assumed: bool  # ClusterFirst assumed, not read from a pod
    libc: str  # the pod's C library ("" when unknown: both walks are shown)
    expected: tuple[Walk, ...]  # per libc, from the objects
    actual: tuple[Walk, ...] = ()  # per libc, from the answers seen
    getaddrinfo: SystemAnswer | None = None  # what getent ahosts said in the pod


@dataclass(frozen=True, slots=True, kw_only=True)
class ResolveReport:
    """What ``hsvc resolve`` shows."""

    source: Source
    results: list[Resolution]
    servers: tuple[str, ...] = ()
    # About where the answers came from: the pod's resolv.conf warnings, replicas.
    notes: tuple[str, ...] = ()


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
    findings: list[Finding] = field(default_factory=list)
    # About where the answers came from (replicas not asked, stream failures, pod warnings).
    notes: tuple[str, ...] = ()
    # Servers (replicas) whose answers differ from the others' (hsvc.core.compare).
    disagreements: list[Disagreement] = field(default_factory=list)

    @property
    def answered(self) -> bool:
        """Whether at least one server gave at least one response."""
        return any(
            c.observation.rcode not in (Rcode.TIMEOUT, Rcode.ERROR)
            for r in self.rows
            for c in r.checks
        )


# --- sources ---------------------------------------------------------------------


def load_source(
    opts: Options, *, service: str | None = None, with_deployments: bool = False
) -> Source:
    """Return the objects and DNS settings from manifest files or the live API.

    Raises:
        UsageError: ``--offline`` without ``-f``.
        ManifestError: a manifest or Corefile cannot be read.
        NotFoundError, AccessDeniedError, ApiUnreachableError: from the live API.
    """
    if opts.files:
        from hsvc.adapters.manifests import read_manifests

        manifest_set = read_manifests(opts.files)
        settings = _settings(opts, cluster_corefile=None)
        namespace = None if opts.all_namespaces else (opts.namespace or "default")
        return Source(
            snapshot=manifest_set.snapshot,
            settings=settings,
            origin="manifests: " + ", ".join(opts.files),
            namespace=namespace,
            notes=_settings_notes(settings),
            locations=manifest_set.locations,
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
        snapshot = src.snapshot(
            namespace=namespace,
            service=service,
            deadline=deadline,
            with_deployments=with_deployments,
        )
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
        dns_pods=(cluster_dns.dns_namespace, cluster_dns.dns_selector),
        notes=tuple(notes),
    )


def _settings(
    opts: Options,
    *,
    cluster_corefile: tuple[str | None, str] | None,
    detected: tuple[str, str, str] | None = None,
) -> DnsSettings:
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
    settings = settings_with_overrides(
        settings,
        cluster_domain=opts.cluster_domain,
        pods=opts.pods,
        endpoint_pod_names=opts.endpoint_pod_names,
        ttl=opts.ttl,
    )
    return _with_server(settings, opts, detected)


def _with_server(
    settings: DnsSettings, opts: Options, detected: tuple[str, str, str] | None
) -> DnsSettings:
    """Set the rules' version switches: the flags win, then what was detected live.

    ``detected`` is ``(flavour, version, where the version was read)``.

    Raises:
        UsageError: ``--dns-version`` is not a version.
    """
    from hsvc.core import flavour

    found_flavour, found_version, where = detected or ("coredns", "", "")
    name = opts.dns_flavour or found_flavour
    text = opts.dns_version or found_version
    version = flavour.parse_version(text) if text else None
    if text and version is None:
        raise UsageError(f"--dns-version {text!r} is not a version; use e.g. 1.12.0")
    if opts.dns_version:
        where = "--dns-version"
    elif opts.dns_flavour:
        where = "--dns-flavour"
    return flavour.settings_for(settings, flavour.Flavour(name), version, source=where)


def _settings_notes(settings: DnsSettings) -> tuple[str, ...]:
    if "assumed" in settings.source:
        zone = settings.primary_zone.rstrip(".")
        return (
            f"DNS settings: assuming kubeadm's Corefile (zone {zone}, pods "
            f"{settings.pods.value}, ttl {settings.ttl}); pass --corefile if your cluster differs",
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
        with reach_dns(opts, source, progress) as vantage:
            seen = vantage.lookup(queries, types, conf, Libc.GLIBC)
        pod, servers, notes = vantage.pod, vantage.labels, tuple(vantage.notes)
        for obs in seen:
            observations.setdefault((obs.name, obs.type), []).append(obs)
    if pod is not None:
        conf = pod.conf
    libcs = (pod.libc,) if pod is not None and pod.lookups.libc else (Libc.GLIBC, Libc.MUSL)
    per_query = [searchpath.candidates(q, conf, libcs[0]) for q in queries]
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
        results.append(
            Resolution(
                query=q,
                type=qtype,
                candidates=candidates,
                chosen=chosen,
                chain=chain,
                row=row,
                search=view,
            )
        )
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
        raise _nobody_answered([o for seen in observations.values() for o in seen])
    return report


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
    started = time.monotonic()
    source = load_source(opts, service=service)
    loaded = time.monotonic()
    cluster, items = plan(source, service)
    planned = time.monotonic()
    questions = [Question(name=e.expected.name, type=e.expected.type) for e in items]
    with reach_dns(opts, source, progress) as vantage:
        observations = vantage.ask(questions)
    servers = vantage.servers
    resolved = time.monotonic()
    rows = compare(items, observations)
    summaries = _summaries(cluster, source, service)
    # benchmarks/run.py reads this line (with --debug) to split the wall time.
    log.debug(
        "inspect phases: source %.0f ms, plan %.0f ms, resolve %.0f ms, compare %.0f ms",
        (loaded - started) * 1000,
        (planned - loaded) * 1000,
        (resolved - planned) * 1000,
        (time.monotonic() - resolved) * 1000,
    )
    findings = diagnose(
        cluster,
        namespace=source.namespace,
        rows=rows,
        observed=not opts.files,
        now=datetime.now(UTC),
    )
    if service is not None:
        findings = _about_service(findings, cluster, service)
    report = InspectReport(
        source=source,
        services=summaries,
        rows=rows,
        servers=tuple(str(s) for s in servers),
        summary=summarize(rows),
        findings=findings,
        notes=tuple(vantage.notes),
        disagreements=disagreements(rows),
    )
    if rows and not report.answered:
        raise _nobody_answered([c.observation for r in rows for c in r.checks])
    return report


@dataclass(frozen=True, slots=True, kw_only=True)
class LintReport:
    """What ``hsvc lint`` shows."""

    source: Source
    findings: list[Finding]

    @property
    def locations(self) -> dict[ObjectRef, tuple[str, int]]:
        """Manifest file and line per object (empty for live objects)."""
        return {ref: (path, line) for ref, path, line in self.source.locations}


def run_lint(opts: Options) -> LintReport:
    """Check objects for misconfigurations that break cluster DNS names, without asking DNS.

    With ``-f`` every object in the files is checked (``-n`` narrows it to one
    namespace); live, the namespace in scope (or ``-A``).

    Raises:
        HsvcError: from the source (see :func:`load_source`).
    """
    source = load_source(opts, with_deployments=True)
    cluster = ClusterDns(source.snapshot, source.settings)
    scope = source.namespace
    if opts.files and not opts.namespace:
        scope = None  # a CI check reads every object it is given
    elif scope is not None and scope not in cluster.namespaces and not opts.files:
        raise NotFoundError(f'namespace "{scope}" not found ({source.origin})')
    findings = diagnose(cluster, namespace=scope, observed=not opts.files)
    return LintReport(source=replace(source, namespace=scope), findings=findings)


# --- helpers -------------------------------------------------------------------------


def pick_nameservers(opts: Options, source: Source) -> list[Nameserver]:
    """Return the DNS servers to ask directly: ``--nameserver``, the pod's, else kube-dns.

    Raises:
        UsageError: a malformed ``--nameserver``.
        NoDnsError: no server can be found.
    """
    return direct_nameservers(opts, source)


def _nobody_answered(observations: Sequence[Observation]) -> NoDnsError:
    """Say what each server did instead of answering: silence, garbage, refused connections.

    A server that sends garbage answers at once; calling that a timeout would send
    the user looking at the network instead of at the server.
    """
    why: dict[str, Counter[str]] = {}
    for obs in observations:
        why.setdefault(obs.server, Counter())[obs.error or obs.rcode.value] += 1
    servers = "; ".join(
        f"{server}: {errors.most_common(1)[0][0]}" for server, errors in why.items()
    )
    return NoDnsError(
        f"no DNS server answered any query ({servers}); "
        "check --nameserver and that the server is reachable"
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


def _about_service(findings: Sequence[Finding], cluster: ClusterDns, service: str) -> list[Finding]:
    """Keep the findings that concern one Service: itself, or a workload or pod it names or selects.

    Findings about live rows (6xx) are all kept: the rows are the Service's.
    """
    snap = cluster.snapshot
    labels: dict[tuple[str, str, str], tuple[str, Labels]] = {}
    for s in snap.stateful_sets:
        labels[("StatefulSet", s.namespace, s.name)] = (s.service_name, s.template_labels)
    for d in snap.deployments:
        labels[("Deployment", d.namespace, d.name)] = (d.template_subdomain, d.template_labels)
    for p in snap.pods:
        labels[("Pod", p.namespace, p.name)] = (p.subdomain, p.labels)
    kept = []
    for f in findings:
        obj = f.object
        svc = cluster.service(obj.namespace, service)
        entry = labels.get((obj.kind, obj.namespace, obj.name))
        if f.code.startswith("HSVC6") or (obj.kind == "Service" and obj.name == service):
            kept.append(f)
        elif svc is not None and entry is not None:
            subdomain, have = entry
            if subdomain == service or selector_matches(svc.selector, have):
                kept.append(f)
    return kept


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
    "LintReport",
    "Options",
    "RecordsReport",
    "ResolveReport",
    "load_source",
    "run_inspect",
    "run_lint",
    "run_records",
    "run_resolve",
]
