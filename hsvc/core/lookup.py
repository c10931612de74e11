"""The engine's vocabulary: indexed endpoints, the plugin's lookup result, its constants.

:class:`PublishedEndpoint`, :class:`SliceEndpoint` and :class:`PredictedEndpoint`
are what :class:`~hsvc.core.clusterindex.ClusterIndex` indexes; :class:`Item` and
:class:`Lookup` are what a forward lookup (:mod:`hsvc.core.forward`) hands to the
per-type answers (:mod:`hsvc.core.answers`).
"""

from __future__ import annotations

import functools
from dataclasses import field
from typing import NamedTuple

from hsvc.core.dataclass import dataclass
from hsvc.core.model import DnsSettings, Endpoint, EndpointPort, EndpointSlice, ObjectRef, Pod

DNS_SCHEMA_VERSION = "1.1.0"
DNS_VERSION_TTL = 28800  # rule 27: fixed, whatever the ttl knob says
SOA_REFRESH, SOA_RETRY, SOA_EXPIRE = 7200, 1800, 86400
NO_PORT = -1  # the plugin's sentinel for a slice without ports (rule 5)
# What a predicted answer holds where the objects hold no address yet.
ALLOCATED_ON_CREATE = "ClusterIP allocated on create"
ASSIGNED_AT_START = "address assigned when the pod starts"


@dataclass(frozen=True, slots=True)
class PublishedEndpoint:
    """One ready address of one slice endpoint, as the plugin indexes it."""

    name: str  # the endpoint label (rule 6)
    address: str  # canonical form
    family: int
    ports: tuple[EndpointPort, ...]
    zone: str
    source: ObjectRef  # the pod behind it when known, else the slice
    slice: ObjectRef
    has_hostname: bool = False  # the slice set a hostname (version gate of rule 36)


@dataclass(frozen=True, slots=True)
class SliceEndpoint:
    """One address of one slice endpoint, published or not (for causes and must-not-resolve)."""

    namespace: str
    service: str
    name: str  # the label it would be known by (rule 6)
    address: str
    endpoint: Endpoint
    slice: EndpointSlice


@dataclass(frozen=True, slots=True)
class PredictedEndpoint:
    """A slice endpoint the controller will write for a pod whose address is not known yet.

    Desired state: the pod was written without status, or is a StatefulSet pod
    missing from the input (predicted as the controller creates it, rule 21).
    """

    name: str  # its label (rule 6): the hostname when written (rule 4), "" for a dashed IP
    pod: Pod
    predicted_pod: bool  # the pod itself is predicted (not in the input)

    @property
    def subject(self) -> ObjectRef:
        """The object to point at: the pod, or its StatefulSet when the pod is predicted."""
        return (self.pod.owner or self.pod.ref) if self.predicted_pod else self.pod.ref


class Item(NamedTuple):
    """What the plugin's Services() returns: a host (IP or name) with a port and a key name.

    A named tuple: a headless Service's name makes one per endpoint and port, and
    nothing keeps them past its answer.
    """

    host: str
    port: int
    target: str  # the DNS name this item is known by (SRV target, PTR/CNAME data)
    source: ObjectRef
    rule: str


@dataclass(slots=True)
class Lookup:
    """The plugin's Records() result: items, or a name error with its reason."""

    items: list[Item] = field(default_factory=list)
    nxdomain: bool = False
    # The name exists even when ``items`` is empty: a zonal name answers NODATA for
    # every type, TXT included (dns-records.md rule 42; CoreDNS kubernetes.go Services).
    exists: bool = False
    rules: list[str] = field(default_factory=list)
    why: str = ""
    predicted: list[str] = field(default_factory=list)
    open_ended: bool = False


def server(settings: DnsSettings) -> str:
    """``CoreDNS 1.12.0``, ``kube-dns``: the server the version gates are set for."""
    name = "CoreDNS" if settings.dns_flavour == "coredns" else settings.dns_flavour
    return f"{name} {settings.dns_version}" if settings.dns_version else name


def apex_ref(zone: str) -> ObjectRef:
    """The zone apex as the object an answer points at."""
    return ObjectRef(kind="Zone", namespace="", name=zone)


@functools.lru_cache(maxsize=1024)
def namespace_ref(namespace: str) -> ObjectRef:
    """A namespace as the object an answer points at: one value for its thousands of pods."""
    return ObjectRef(kind="Namespace", namespace="", name=namespace)


def port_matches(want_port: str, want_proto: str, name: str, protocol: str) -> bool:
    """Match a requested port and protocol; an empty request matches any (as the plugin does)."""
    return (not want_port or want_port == name.lower()) and (
        not want_proto or want_proto == protocol.lower()
    )
