"""What cluster DNS reads from Kubernetes, and what hsvc says about it.

Frozen, slotted, keyword-only dataclasses: both sources (manifest files and the
live API) convert into these at their edge, so nothing past an adapter sees a
client model or a raw dict. Only the fields a dns-records.md rule reads are kept.
The objects themselves are in :mod:`hsvc.core.objects` (re-exported here).

DNS names are absolute, lower-case and end with a dot.
"""

from __future__ import annotations

import functools
from enum import StrEnum

from hsvc.core.dataclass import dataclass

# The Kubernetes objects and what apps read live in hsvc.core.objects; re-exported here.
from hsvc.core.objects import (
    MAX_DESIRED_ORDINALS,
    BackendRef,
    ConfigData,
    ConfigSource,
    Deployment,
    Endpoint,
    EndpointPort,
    EndpointSlice,
    FieldPath,
    LabelRequirement,
    Labels,
    LabelSelector,
    Namespace,
    NetworkPolicy,
    ObjectRef,
    Pod,
    PolicyPeer,
    PolicyPort,
    PolicyRule,
    Service,
    ServicePort,
    Snapshot,
    StatefulSet,
    TextValue,
    ValueKind,
    ValueSite,
    Workload,
    labels_of,
    selector_matches,
)

# Re-exported: its home is hsvc.core.vocabulary, light enough for the CLI to import.
from hsvc.core.vocabulary import PodsMode as PodsMode


class Rcode(StrEnum):
    """Response codes, plus the outcomes of a query that got no response."""

    NOERROR = "NOERROR"
    NXDOMAIN = "NXDOMAIN"
    SERVFAIL = "SERVFAIL"
    REFUSED = "REFUSED"
    # A server that will not serve the query reads as REFUSED does (exit-codes.md).
    NOTIMP = "NOTIMP"
    FORMERR = "FORMERR"
    TIMEOUT = "TIMEOUT"
    ERROR = "ERROR"


class Severity(StrEnum):
    """How much a finding matters: ``error`` fails ``hsvc lint`` (exit 1)."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


# --- DNS settings --------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class DnsSettings:
    """The kubernetes plugin's knobs (dns-records.md section 1).

    ``zones`` are absolute and lower-case; the first forward zone is the primary
    zone (PTR targets, rule 35). Defaults are kubeadm's Corefile.
    """

    zones: tuple[str, ...] = ("cluster.local.", "in-addr.arpa.", "ip6.arpa.")
    ttl: int = 30
    pods: PodsMode = PodsMode.INSECURE
    endpoint_pod_names: bool = False
    namespaces: tuple[str, ...] = ()  # empty: every namespace is exposed
    namespace_labels: LabelSelector | None = None
    labels: LabelSelector | None = None
    ignore_empty_service: bool = False
    noendpoints: bool = False
    zonal: bool = False
    fallthrough: tuple[str, ...] = ("in-addr.arpa.", "ip6.arpa.")
    # The server these rules are for (hsvc.core.flavour): "coredns", "kube-dns",
    # "cloud-dns"; its version ("" when unknown: the rulebook's 1.14.7) and where
    # the version was read. The switches below follow from them (flavour.settings_for).
    dns_flavour: str = "coredns"
    dns_version: str = ""
    dns_version_source: str = ""
    # dns-records.md rule 6: a dashed IPv6 name ending in "-" gets a "0" (CoreDNS >= 1.12.3).
    ipv6_dashed_zero: bool = True
    # Rule 15: endpoint names under ClusterIP Services (CoreDNS only).
    clusterip_endpoint_names: bool = True
    # Rule 36: endpoint PTRs only for endpoints with a hostname (CoreDNS 1.11.4-1.12.0, kube-dns).
    ptr_hostname_only: bool = False
    # Rule 36: endpoint PTRs only for headless Services' endpoints (kube-dns, Cloud DNS).
    ptr_headless_only: bool = False
    # Where these settings came from, shown to the user ("kubeadm defaults (assumed)").
    source: str = "kubeadm defaults (assumed)"

    @property
    def forward_zones(self) -> tuple[str, ...]:
        """The zones that are not reverse zones."""
        return _split_zones(self.zones)[0]

    @property
    def reverse_zones(self) -> tuple[str, ...]:
        """The reverse (``in-addr.arpa.``/``ip6.arpa.``) zones."""
        return _split_zones(self.zones)[1]

    @property
    def primary_zone(self) -> str:
        """The zone used in PTR targets (rule 35): the first forward zone."""
        return _split_zones(self.zones)[2]


# The answer engine reads the primary zone for every PTR target and many reasons:
# each list of zones is split once.
@functools.lru_cache(maxsize=256)
def _split_zones(zones: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...], str]:
    """The forward zones, the reverse zones and the primary zone of ``zones``."""
    forward = tuple(z for z in zones if not is_reverse_zone(z))
    reverse = tuple(z for z in zones if is_reverse_zone(z))
    return forward, reverse, forward[0] if forward else "cluster.local."


def is_reverse_zone(zone: str) -> bool:
    """Whether ``zone`` is a reverse (PTR) zone."""
    return zone.endswith(("in-addr.arpa.", "ip6.arpa."))


# --- DNS data ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Record:
    """One resource record in presentation form (the JSON contract's record)."""

    name: str
    type: str
    ttl: int
    data: str

    @property
    def key(self) -> tuple[str, str, str]:
        """Identity for set comparison: TTLs are compared separately (as "at most")."""
        return (self.name.lower(), self.type, self.data.lower())


@dataclass(frozen=True, slots=True, kw_only=True)
class Provenance:
    """Why a record exists: the object it comes from and the rule that makes it."""

    source: ObjectRef
    rule: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ExpectedRecord:
    """A positive record cluster DNS serves, with where it comes from."""

    record: Record
    group: str
    provenance: tuple[Provenance, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class NegativeExpectation:
    """A name people expect that must not answer, and why."""

    name: str
    type: str
    group: str
    source: ObjectRef
    rules: tuple[str, ...]
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Step:
    """One decision of the answer engine: what it looked at, whether the condition held.

    The engine records these as it decides (its trace); ``explain``, resolve's
    because/broken/fix lines and every must-not-resolve reason are read from them.
    """

    check: str  # the condition's name: "namespace", "service", "selected", "ready", ...
    ok: bool
    detail: str
    rules: tuple[str, ...] = ()
    fix: str = ""
    subject: ObjectRef | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class DnsAnswer:
    """What cluster DNS answers for one question, and the rules that decided it."""

    name: str
    type: str
    rcode: Rcode
    answer: tuple[Record, ...] = ()
    additional: tuple[Record, ...] = ()
    authority: tuple[Record, ...] = ()
    rules: tuple[str, ...] = ()
    explanation: str = ""
    # One entry per ``answer`` record: the object and rule it comes from.
    provenance: tuple[Provenance, ...] = ()
    # Part of the real answer comes from outside the cluster's objects (an
    # ExternalName target or a fallthrough zone resolved upstream): the actual
    # answer may hold more than ``answer``.
    open_ended: bool = False
    # The engine's decisions, in order; a failed step is a cause of a missing answer.
    trace: tuple[Step, ...] = ()
    # Parts the objects do not hold yet and the controllers will fill in (desired
    # state): "ClusterIP allocated on create". The answer has data of the asked
    # type, but which data is not known.
    predicted: tuple[str, ...] = ()
    # Set when the answer depends on what a CoreDNS replica saw before (pods
    # verified and a terminating pod, rule 30): rows are not judged on it.
    uncertain: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Nameserver:
    """A DNS server to ask, and the vantage point it stands for."""

    host: str
    port: int = 53
    # How the user should read it: "127.0.0.1:5353", "coredns-abc (port-forward)".
    label: str = ""
    tcp_only: bool = False

    def __str__(self) -> str:
        if self.label:
            return self.label
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Question:
    """One (name, type) to ask."""

    name: str
    type: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Transport:
    """How one answer travelled: UDP with and without EDNS, and TCP, as measured.

    The resolver asks over UDP with EDNS (payload 1232). Only when that answer is
    over 512 bytes or truncated does it ask again over UDP without EDNS, as musl
    and glibc (by default) do: an answer of at most 512 bytes with EDNS fits 512
    bytes without its OPT record, so it cannot come back truncated. TCP is asked
    when either UDP answer is truncated, and for each server's first question of
    a run (the TCP probe, :mod:`hsvc.adapters.resolver`). A TCP-only server (a port-forward) can
    only be measured over TCP. ``None`` sizes were not asked.
    """

    edns_size: int | None = None  # bytes of the UDP answer with EDNS
    edns_truncated: bool = False
    plain_size: int | None = None  # bytes of the UDP answer without EDNS
    plain_truncated: bool = False
    plain_error: str = ""  # why no UDP answer came without EDNS
    tcp_size: int | None = None  # bytes of the TCP answer
    tcp_error: str = ""  # why TCP gave no whole answer ("" when it did, or was not asked)

    @property
    def tcp_asked(self) -> bool:
        """Whether TCP was tried (it answered, or ``tcp_error`` says why not)."""
        return self.tcp_size is not None or bool(self.tcp_error)


@dataclass(frozen=True, slots=True, kw_only=True)
class Observation:
    """What one server answered to one question (or why it did not)."""

    server: str
    name: str
    type: str
    rcode: Rcode
    answer: tuple[Record, ...] = ()
    # The answer did not fit one DNS message even over TCP (or UDP was truncated
    # and TCP failed): ``answer`` holds only what could be read.
    too_large: bool = False
    size: int = 0  # bytes of the response message, when one arrived
    # The UDP answer (EDNS payload 1232) came back truncated, so the answer needed TCP:
    # clients that never retry over TCP get only part of it (hsvc.core.transport).
    truncated: bool = False
    elapsed_ms: float = 0.0
    error: str = ""  # why there is no response (timeout, refused connection, garbage)
    # From a tool known to misreport (BusyBox nslookup): a mismatch may not be real.
    low_confidence: bool = False
    # UDP with and without EDNS, and TCP, as measured (None: asked by a tool in a pod).
    transport: Transport | None = None

    @property
    def served(self) -> bool:
        """Whether a server answered the question at all (exit code 6 when none did).

        Silence and garbage are no answer. Any rcode is one, a refusal to serve --
        REFUSED, NOTIMP, FORMERR -- as much as SERVFAIL: the server is there and
        says no, which its rows show (exit code 1, exit-codes.md).
        """
        return self.rcode not in (Rcode.TIMEOUT, Rcode.ERROR)


# --- diagnostics -------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    """One misconfiguration or explained mismatch (docs/reference/findings.md)."""

    code: str  # stable: HSVC101, ...
    severity: Severity
    object: ObjectRef
    message: str  # one line: what is wrong and what it does to DNS
    hint: str  # the fix
    rules: tuple[str, ...] = ()  # dns-records.md rules behind it
    # Where in the objects the offending value is written, when one value is the cause.
    site: ValueSite | None = None
    # The field of ``object`` the finding is about (("spec", "serviceName")), () for none.
    field: FieldPath = ()


def rcode_word(result: DnsAnswer | Observation) -> str:
    """The rcode as people say it: ``NODATA`` for NOERROR with an empty answer."""
    if result.rcode is Rcode.NOERROR and not result.answer:
        return "NODATA"
    return result.rcode.value


__all__ = [
    "MAX_DESIRED_ORDINALS",
    "BackendRef",
    "ConfigData",
    "ConfigSource",
    "Deployment",
    "DnsAnswer",
    "DnsSettings",
    "Endpoint",
    "EndpointPort",
    "EndpointSlice",
    "ExpectedRecord",
    "FieldPath",
    "Finding",
    "LabelRequirement",
    "LabelSelector",
    "Labels",
    "Nameserver",
    "Namespace",
    "NegativeExpectation",
    "NetworkPolicy",
    "ObjectRef",
    "Observation",
    "Pod",
    "PodsMode",
    "PolicyPeer",
    "PolicyPort",
    "PolicyRule",
    "Provenance",
    "Question",
    "Rcode",
    "Record",
    "Service",
    "ServicePort",
    "Severity",
    "Snapshot",
    "StatefulSet",
    "Step",
    "TextValue",
    "Transport",
    "ValueKind",
    "ValueSite",
    "Workload",
    "is_reverse_zone",
    "labels_of",
    "rcode_word",
    "selector_matches",
]
