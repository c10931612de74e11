"""What each command returns: plain data that renderers read and the CLI maps to exit codes.

Results are values (as pipx's ``OperationResult``): commands build them, renderers
turn them into tables or documents, and the CLI reads their ``ok`` to pick the
exit code. Nothing here does I/O.
"""

from __future__ import annotations

from dataclasses import field
from typing import TYPE_CHECKING, Generic, TypeVar

from hsvc.core.compare import PASSING, Disagreement, Row
from hsvc.core.dataclass import dataclass
from hsvc.core.dnspath import ResolverPath
from hsvc.core.explain import Link
from hsvc.core.model import (
    DnsAnswer,
    DnsSettings,
    ExpectedRecord,
    FieldPath,
    Finding,
    NegativeExpectation,
    ObjectRef,
    Observation,
    Service,
    Severity,
    Snapshot,
    StatefulSet,
)
from hsvc.core.resolvconf import ResolvConf
from hsvc.core.searchpath import Walk
from hsvc.core.tally import ServiceTally

if TYPE_CHECKING:
    # Field types only: the pod tools (--via exec) and the reference scanner
    # (--references) are imported by the runs that use them.
    from hsvc.core.podexec import SystemAnswer
    from hsvc.core.refuse import Checked

# Responses that are not answers: nothing was heard, or nothing usable.


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
    # (object, field path, file, line, block) of each value the reference scanner
    # read from files: a block scalar's text starts on the line after ``line``.
    value_lines: tuple[tuple[ObjectRef, FieldPath, str, int, bool], ...] = ()
    # (object, field path, line, column) of the keys findings point at, in the object's file.
    key_lines: tuple[tuple[ObjectRef, FieldPath, int, int], ...] = ()
    # The resolver path found live (node-local, DNS pods, flavour, port); None from files.
    path: ResolverPath | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordsReport:
    """What ``hsvc records`` shows."""

    source: Source
    records: list[ExpectedRecord]
    absent: list[NegativeExpectation]
    # Desired state: names that will answer once the API fills in what the objects
    # lack (a cluster IP allocated on create); ``reason`` says what is predicted.
    predicted: list[NegativeExpectation] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Always true: listing what DNS must serve finds no mismatch."""
        return True


@dataclass(frozen=True, slots=True, kw_only=True)
class Candidate:
    """One absolute name a resolver tries for a short name, and what it gets."""

    name: str
    expected: DnsAnswer
    observations: tuple[Observation, ...] = ()


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
class ResolveReport:
    """What ``hsvc resolve`` shows."""

    source: Source
    results: list[Resolution]
    servers: tuple[str, ...] = ()
    # About where the answers came from: the pod's resolv.conf warnings, replicas.
    notes: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """Whether every name asked live got the answer cluster DNS must give (offline: true)."""
        return all(r.row is None or r.row.status in PASSING for r in self.results)


@dataclass(frozen=True, slots=True, kw_only=True)
class EndpointState:
    """One slice endpoint of an inspected Service, its conditions as the EndpointSlice says.

    ``ready`` / ``serving`` / ``terminating`` are the conditions as written (None:
    absent); ``published``, ``is_serving`` and ``is_terminating`` are how they read
    (:mod:`hsvc.core.conditions`).
    """

    name: str  # the label it is known by (rule 6)
    addresses: tuple[str, ...]
    pod: str  # the targetRef's pod name ("" when the slice names none)
    ready: bool | None
    serving: bool | None
    terminating: bool | None
    published: bool
    is_serving: bool
    is_terminating: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class ServiceSummary:
    """The header of one inspected Service."""

    service: Service
    stateful_sets: tuple[StatefulSet, ...]
    ready: int
    not_ready: int
    # As the EndpointSlices say: ``serving`` (the pod's Ready condition) and
    # ``terminating``; with publishNotReadyAddresses a pod that is not Ready is
    # still published (counted in ``ready``) but not serving.
    serving: int = 0
    terminating: int = 0
    predicted: bool = False  # the slices are predicted (the input holds none)
    # Every slice endpoint with its conditions, in slice order.
    endpoints: tuple[EndpointState, ...] = ()
    # Desired state: pods whose endpoints the slices will hold once they start (pods
    # without status, StatefulSet pods missing from the input); addresses unknown.
    predicted_pods: tuple[str, ...] = ()


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
    # With --references: the names apps use that point at the inspected Services
    # (None: not asked for).
    used_by: list[Checked] | None = None
    # Server label -> the resolver layer that answered there ("node-local on node n1",
    # "CoreDNS replica coredns-a"): which layer holds which answer, for every row.
    layers: dict[str, str] = field(default_factory=dict)

    @property
    def answered(self) -> bool:
        """Whether at least one server gave at least one response."""
        return any(c.observation.served for r in self.rows for c in r.checks)

    @property
    def ok(self) -> bool:
        """Whether every row is ok (``hsvc inspect`` exits 1 otherwise)."""
        return all(r.status in PASSING for r in self.rows)


@dataclass(frozen=True, slots=True, kw_only=True)
class LintReport:
    """What ``hsvc lint`` shows."""

    source: Source
    findings: list[Finding]
    # With --references: every name apps use that was checked (None: not asked for).
    references: list[Checked] | None = None
    # source.key_lines by object, filled on first use (position_of).
    key_index: dict[ObjectRef, dict[FieldPath, tuple[int, int]]] = field(
        default_factory=dict, compare=False, repr=False
    )

    @property
    def locations(self) -> dict[ObjectRef, tuple[str, int]]:
        """Manifest file and line per object (empty for live objects)."""
        return {ref: (path, line) for ref, path, line in self.source.locations}

    def location_of(self, finding: Finding) -> tuple[str, int] | None:
        """Return the file and line of a finding: its value's line when known, else its object's.

        (lint's JSON ``location`` and table; SARIF points at the key, ``position_of``.)
        """
        site = finding.site
        if site is not None:
            for ref, path, file, line, block in self.source.value_lines:
                if ref == site.object and path == site.path:
                    return file, line + 1 + site.line if block else line
        return self.locations.get(finding.object)

    def position_of(self, finding: Finding) -> tuple[str, int, int | None] | None:
        """File, line and column (None: the whole line) of the most specific place known.

        A value (a name an app reads), else the key the finding is about (``spec.serviceName``,
        or the deepest part of its path the manifest has), else the object's first line.
        """
        site = finding.site
        if site is not None:
            for ref, path, file, line, block in self.source.value_lines:
                if ref == site.object and path == site.path:
                    return file, line + 1 + site.line if block else line, None
        start = self.locations.get(finding.object)
        if start is None:
            return None
        if finding.field:
            if not self.key_index and self.source.key_lines:
                for ref, path, line, column in self.source.key_lines:
                    self.key_index.setdefault(ref, {})[path] = (line, column)
            keys = self.key_index.get(finding.object, {})
            for depth in range(len(finding.field), 0, -1):
                key = keys.get(finding.field[:depth])
                if key is not None:
                    return start[0], key[0], key[1]
        return start[0], start[1], None

    @property
    def ok(self) -> bool:
        """Whether no finding is an error (``hsvc lint`` exits 1 otherwise)."""
        return not any(f.severity is Severity.ERROR for f in self.findings)


@dataclass(frozen=True, slots=True, kw_only=True)
class DemoStep:
    """One step of the demo's story: a Service to inspect, what to say, what must come out."""

    service: str
    title: str
    story: str
    command: str  # the same inspection on a real cluster
    moral: tuple[str, ...]  # paragraphs
    hints: tuple[str, ...] = ()  # more commands to run on a real cluster
    # (name, type, verdict) of every row that must not be ok; all other rows must be ok.
    off: tuple[tuple[str, str, str], ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Played:
    """One demo step as it ran: the inspection and whatever did not go as scripted."""

    step: DemoStep
    report: InspectReport
    surprises: tuple[str, ...] = ()


# The reports a run over several contexts collects (hsvc.commands.fleet).
FleetR = TypeVar("FleetR", InspectReport, RecordsReport, LintReport)


@dataclass(frozen=True, slots=True, kw_only=True)
class ContextResult(Generic[FleetR]):
    """What one context gave: a report, or the error that stopped it."""

    context: str
    exit_code: int
    seconds: float
    report: FleetR | None = None
    error: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class FleetReport(Generic[FleetR]):
    """Every context's result, in the order asked, and one summary across them."""

    command: str  # inspect, records, lint
    results: tuple[ContextResult[FleetR], ...]
    summary: tuple[tuple[str, ServiceTally], ...]  # (context, tally)

    @property
    def exit_code(self) -> int:
        """The worst of the contexts' exit codes."""
        return max((r.exit_code for r in self.results), default=0)  # 0: ExitCode.OK


__all__ = [
    "Candidate",
    "ContextResult",
    "DemoStep",
    "FleetReport",
    "InspectReport",
    "LintReport",
    "Played",
    "RecordsReport",
    "Resolution",
    "ResolveReport",
    "SearchView",
    "ServiceSummary",
    "Source",
]
