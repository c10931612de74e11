"""Kubernetes objects as cluster DNS reads them, and the strings apps read.

Frozen, slotted, keyword-only dataclasses: both sources (manifest files and the
live API) convert into these at their edge, so nothing past an adapter sees a
client model or a raw dict. Only the fields a dns-records.md rule (or the
reference scanner, :mod:`hsvc.core.references`) reads are kept. Re-exported by
:mod:`hsvc.core.model`.

Label maps are tuples of ``(key, value)`` pairs, sorted, so every object hashes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import field
from enum import StrEnum

from hsvc.core.dataclass import dataclass

Labels = tuple[tuple[str, str], ...]


def labels_of(mapping: Mapping[str, str] | None) -> Labels:
    """Return a label map in the hashable form the model uses."""
    if not mapping:
        return ()
    return tuple(sorted((str(k), str(v)) for k, v in mapping.items()))


# --- Kubernetes objects ------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class ObjectRef:
    """A reference to one Kubernetes object, for provenance and messages."""

    kind: str
    namespace: str
    name: str

    def __str__(self) -> str:
        if not self.namespace:
            return f"{self.kind}/{self.name}"
        return f"{self.kind} {self.namespace}/{self.name}"


@dataclass(frozen=True, slots=True, kw_only=True)
class LabelRequirement:
    """One ``matchExpressions`` entry of a label selector."""

    key: str
    operator: str  # In, NotIn, Exists, DoesNotExist
    values: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class LabelSelector:
    """A ``metav1.LabelSelector`` (StatefulSet ``spec.selector``)."""

    match_labels: Labels = ()
    match_expressions: tuple[LabelRequirement, ...] = ()

    def matches(self, labels: Labels) -> bool:
        """Return whether ``labels`` satisfy this selector."""
        have = dict(labels)
        if any(have.get(k) != v for k, v in self.match_labels):
            return False
        for req in self.match_expressions:
            op = req.operator
            present = req.key in have
            if op == "In" and not (present and have[req.key] in req.values):
                return False
            if op == "NotIn" and present and have[req.key] in req.values:
                return False
            if op == "Exists" and not present:
                return False
            if op == "DoesNotExist" and present:
                return False
        return True


def selector_matches(selector: Labels, labels: Labels) -> bool:
    """Return whether a Service-style equality selector matches ``labels``.

    An empty selector matches nothing here: a Service without a selector
    selects no pods (its slices are written by hand).
    """
    if not selector:
        return False
    have = dict(labels)
    return all(have.get(k) == v for k, v in selector)


@dataclass(frozen=True, slots=True, kw_only=True)
class Namespace:
    """A namespace (dns-records.md rule 8: names exist only under existing ones)."""

    name: str
    labels: Labels = ()
    # False when the namespace was only implied (named by an object, not read): its
    # labels are then unknown, not empty (a namespaceSelector cannot be decided).
    labels_known: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class ServicePort:
    """One entry of ``spec.ports``."""

    name: str = ""
    protocol: str = "TCP"
    port: int
    target_port: int | str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Service:
    """A Service, as DNS classifies it (dns-records.md rule 7)."""

    namespace: str
    name: str
    type: str = "ClusterIP"
    cluster_ips: tuple[str, ...] = ()
    external_name: str = ""
    ports: tuple[ServicePort, ...] = ()
    selector: Labels = ()
    publish_not_ready_addresses: bool = False
    labels: Labels = ()
    # ``ref``, made on first use: the answer engine points at the Service in every answer.
    _ref: ObjectRef | None = field(default=None, init=False, repr=False, compare=False)
    # ``is_headless``, decided on first use: the engine asks it several times a question.
    _headless: bool | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def ref(self) -> ObjectRef:
        """This Service as an object reference."""
        ref = self._ref
        if ref is None:
            ref = ObjectRef(kind="Service", namespace=self.namespace, name=self.name)
            object.__setattr__(self, "_ref", ref)
        return ref

    @property
    def is_external_name(self) -> bool:
        """Whether DNS serves this Service as a CNAME (rule 24)."""
        return self.type == "ExternalName"

    @property
    def is_headless(self) -> bool:
        """Whether ``clusterIPs[0]`` is ``None`` (rule 7)."""
        headless = self._headless
        if headless is None:
            headless = (
                not self.is_external_name
                and bool(self.cluster_ips)
                and self.cluster_ips[0].lower() == "none"
            )
            object.__setattr__(self, "_headless", headless)
        return headless


@dataclass(frozen=True, slots=True, kw_only=True)
class EndpointPort:
    """One entry of an EndpointSlice's ``ports``."""

    name: str = ""
    protocol: str = "TCP"
    port: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Endpoint:
    """One entry of an EndpointSlice's ``endpoints``."""

    addresses: tuple[str, ...]
    # None means the condition is absent, which counts as ready (rule 2).
    ready: bool | None = None
    serving: bool | None = None
    terminating: bool | None = None
    hostname: str = ""
    target_ref: ObjectRef | None = None
    node_name: str = ""
    zone: str = ""

    @property
    def is_ready(self) -> bool:
        """Whether CoreDNS publishes this endpoint (rule 2)."""
        return self.ready is not False


@dataclass(frozen=True, slots=True, kw_only=True)
class EndpointSlice:
    """An EndpointSlice; ``service_name`` is its ``kubernetes.io/service-name`` label."""

    namespace: str
    name: str
    service_name: str = ""
    endpoints: tuple[Endpoint, ...] = ()
    ports: tuple[EndpointPort, ...] = ()
    labels: Labels = ()

    @property
    def ref(self) -> ObjectRef:
        """This slice as an object reference."""
        return ObjectRef(kind="EndpointSlice", namespace=self.namespace, name=self.name)


@dataclass(frozen=True, slots=True, kw_only=True)
class Pod:
    """A Pod, with the fields the EndpointSlice controller and DNS read."""

    namespace: str
    name: str
    labels: Labels = ()
    hostname: str = ""
    subdomain: str = ""
    pod_ips: tuple[str, ...] = ()
    phase: str = "Running"
    ready: bool = True
    deleting: bool = False
    host_network: bool = False
    dns_policy: str = "ClusterFirst"
    owner: ObjectRef | None = None
    # RFC 3339 time the Ready condition last changed (to True when ``ready``); "" if unknown.
    ready_since: str = ""
    # Container env values, args and commands that name cluster DNS names (``.svc.``/``.pod.``).
    hardcoded_names: tuple[str, ...] = ()
    # The UDP container port named "dns" (a CoreDNS replica's; OpenShift's listen on 5353).
    dns_port: int | None = None
    # Every named container port: (name, protocol, number), what a policy's ``port: dns`` means.
    named_ports: tuple[tuple[str, str, int], ...] = ()
    images: tuple[str, ...] = ()  # container images (musl-looking ones: hsvc.core.transport)
    node_name: str = ""  # spec.nodeName (a node-local cache answers for its node's pods)
    # False for a pod written without ``status`` (a manifest, or predicted from its
    # StatefulSet): desired state, its address is assigned when it starts.
    has_status: bool = True
    # ``ref``, made on first use: the answer engine points at the pod in every step about it.
    _ref: ObjectRef | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def ref(self) -> ObjectRef:
        """This pod as an object reference."""
        ref = self._ref
        if ref is None:
            ref = ObjectRef(kind="Pod", namespace=self.namespace, name=self.name)
            object.__setattr__(self, "_ref", ref)
        return ref

    @property
    def is_terminal(self) -> bool:
        """Whether the pod has finished (never in slices, rule 3)."""
        return self.phase in ("Succeeded", "Failed")


MAX_DESIRED_ORDINALS = 1000
"""Most pods of one StatefulSet or Deployment imagined before they exist (desired state).

``replicas: 100000000`` must not make hsvc enumerate every ordinal: pods that
exist are always read, whatever their number; only the names of pods not yet
created stop at this many ordinals.
"""


@dataclass(frozen=True, slots=True, kw_only=True)
class StatefulSet:
    """A StatefulSet: its pods get ``<name>-<ordinal>`` under ``serviceName`` (rule 21)."""

    namespace: str
    name: str
    service_name: str = ""
    replicas: int = 1
    selector: LabelSelector = field(default_factory=LabelSelector)
    template_labels: Labels = ()
    # OrderedReady (the default) creates pod N+1 only once pod N is ready.
    pod_management_policy: str = "OrderedReady"
    hardcoded_names: tuple[str, ...] = ()  # as for Pod, from the pod template

    @property
    def ref(self) -> ObjectRef:
        """This StatefulSet as an object reference."""
        return ObjectRef(kind="StatefulSet", namespace=self.namespace, name=self.name)


@dataclass(frozen=True, slots=True, kw_only=True)
class Deployment:
    """A Deployment's pod template: what its replicas' hostname/subdomain will be (rules 4, 21)."""

    namespace: str
    name: str
    replicas: int = 1
    template_labels: Labels = ()
    template_hostname: str = ""
    template_subdomain: str = ""
    hardcoded_names: tuple[str, ...] = ()  # as for Pod, from the pod template
    template_ports: tuple[tuple[str, str, int], ...] = ()  # named container ports, as for Pod

    @property
    def ref(self) -> ObjectRef:
        """This Deployment as an object reference."""
        return ObjectRef(kind="Deployment", namespace=self.namespace, name=self.name)


@dataclass(frozen=True, slots=True, kw_only=True)
class PolicyPort:
    """One ``ports`` entry of a NetworkPolicy rule (a number, a name, or every port).

    A named port is resolved against the destination pods' container ports
    (:mod:`hsvc.core.transport`); ``allows`` alone matches numbers only.
    """

    protocol: str = "TCP"
    port: int | str | None = None  # None: every port of the protocol
    end_port: int | None = None

    def allows(self, protocol: str, port: int) -> bool:
        """Whether this entry lets ``protocol``/``port`` through (a named port never matches 53)."""
        if self.protocol != protocol:
            return False
        if self.port is None:
            return True
        if isinstance(self.port, str):
            return False
        top = self.end_port if self.end_port is not None else self.port
        return self.port <= port <= top


@dataclass(frozen=True, slots=True, kw_only=True)
class PolicyPeer:
    """One ``to``/``from`` entry of a NetworkPolicy rule.

    Pods by labels (``pod_selector``) in the policy's own namespace, or in the
    namespaces ``namespace_selector`` matches (every pod there without a pod
    selector); or an ``ipBlock`` (``cidr`` minus ``except_cidrs``).
    """

    pod_selector: LabelSelector | None = None
    namespace_selector: LabelSelector | None = None
    cidr: str = ""
    except_cidrs: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class PolicyRule:
    """One ingress or egress rule: ``ports`` (none: every port) to or from ``peers`` (none: all)."""

    ports: tuple[PolicyPort, ...] = ()
    peers: tuple[PolicyPeer, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class NetworkPolicy:
    """A NetworkPolicy, reduced to what decides whether DNS traffic passes.

    ``ingress``/``egress`` hold its rules: each rule's ports and peers
    (:mod:`hsvc.core.transport` evaluates them the way Kubernetes does).
    """

    namespace: str
    name: str
    pod_selector: LabelSelector = field(default_factory=LabelSelector)
    policy_types: tuple[str, ...] = ()  # Ingress, Egress
    ingress: tuple[PolicyRule, ...] = ()
    egress: tuple[PolicyRule, ...] = ()

    @property
    def ref(self) -> ObjectRef:
        """This policy as an object reference."""
        return ObjectRef(kind="NetworkPolicy", namespace=self.namespace, name=self.name)


@dataclass(frozen=True, slots=True, kw_only=True)
class Snapshot:
    """Every object DNS answers from, as one source saw them at one time."""

    namespaces: tuple[Namespace, ...] = ()
    services: tuple[Service, ...] = ()
    endpoint_slices: tuple[EndpointSlice, ...] = ()
    pods: tuple[Pod, ...] = ()
    stateful_sets: tuple[StatefulSet, ...] = ()
    deployments: tuple[Deployment, ...] = ()
    # What apps read (hsvc.core.references): every pod-bearing object's container
    # strings, ConfigMap and Secret data, Ingress/HTTPRoute backends.
    workloads: tuple[Workload, ...] = ()
    config_data: tuple[ConfigData, ...] = ()
    backends: tuple[BackendRef, ...] = ()
    # NetworkPolicies (hsvc.core.transport: do they let DNS over UDP and TCP through?).
    network_policies: tuple[NetworkPolicy, ...] = ()
    # Kinds the source could not read (e.g. forbidden), so results about them are weaker.
    unreadable: tuple[str, ...] = ()


# --- what apps read (the reference scanner's input) --------------------------------


FieldPath = tuple[str | int, ...]


class ValueKind(StrEnum):
    """Where a string an app reads sits."""

    ENV = "env"
    ARGS = "args"
    COMMAND = "command"
    PROBE = "probe"  # a probe's host field: kubelet, not the pod, resolves it
    CONFIG = "config"  # a ConfigMap (or Secret) data value


@dataclass(frozen=True, slots=True, kw_only=True)
class ValueSite:
    """Where one value is written: the object, its field path, the line inside the value."""

    object: ObjectRef
    path: FieldPath  # from the object's root, e.g. ("data", "server.properties")
    field: str  # as people read it: ``spec.template.spec.containers[0].env[KAFKA_BOOTSTRAP]``
    line: int = 0  # 0-based line within a multi-line value


@dataclass(frozen=True, slots=True, kw_only=True)
class TextValue:
    """One string a container reads: an env value, an argument, a probe host, a data value."""

    kind: ValueKind
    text: str
    site: ValueSite
    container: str = ""
    key: str = ""  # the env variable or data key it is stored under


@dataclass(frozen=True, slots=True, kw_only=True)
class ConfigSource:
    """A container's ``envFrom`` or ``valueFrom`` pointing at a ConfigMap or Secret."""

    kind: str  # ConfigMap or Secret
    name: str
    container: str
    field: str  # the envFrom / env entry, as people read it
    path: FieldPath = ()  # the same, from the object's root
    key: str = ""  # one key (valueFrom); "" for every key (envFrom)
    env: str = ""  # the variable the key becomes (valueFrom) or the prefix (envFrom)


@dataclass(frozen=True, slots=True, kw_only=True)
class Workload:
    """Any object with a pod template (or a pod): what its containers read."""

    kind: str  # Pod, Deployment, StatefulSet, DaemonSet, Job, CronJob, ReplicaSet
    namespace: str
    name: str
    values: tuple[TextValue, ...] = ()
    sources: tuple[ConfigSource, ...] = ()
    owner: ObjectRef | None = None  # a pod's controller

    @property
    def ref(self) -> ObjectRef:
        """This workload as an object reference."""
        return ObjectRef(kind=self.kind, namespace=self.namespace, name=self.name)


@dataclass(frozen=True, slots=True, kw_only=True)
class ConfigData:
    """A ConfigMap, or a Secret: its keys, and its values only when they may be read."""

    kind: str  # ConfigMap or Secret
    namespace: str
    name: str
    keys: tuple[str, ...] = ()
    # Secret values are read only on explicit request (``--include-secrets``).
    values: tuple[TextValue, ...] = ()

    @property
    def ref(self) -> ObjectRef:
        """This object as a reference."""
        return ObjectRef(kind=self.kind, namespace=self.namespace, name=self.name)


@dataclass(frozen=True, slots=True, kw_only=True)
class BackendRef:
    """An Ingress or HTTPRoute backend: a Service by name, and the port it is sent to."""

    route: ObjectRef
    namespace: str  # the Service's namespace
    service: str
    port: int | None = None
    port_name: str = ""
    site: ValueSite
