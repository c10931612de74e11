"""Kubernetes object dicts -> hsvc.core.model, shared by both adapters.

The dicts are what ``kubectl get -o json`` prints and what a YAML manifest
holds: camelCase keys, ``null`` allowed wherever a field may be absent. Items of
an API list carry no ``kind``/``apiVersion``, so the per-kind converters never
read them; only :func:`object_from_dict` dispatches on them.

Every converter is pure and raises only :class:`ConversionError`, whose
``path`` locates the offending field so that the manifest adapter can turn it
into ``file:line:col`` and the API adapter into a one-line message.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import TypeVar

from hsvc.core import names
from hsvc.core.dnspath import ConfigText, DnsWorkload
from hsvc.core.model import (
    BackendRef,
    ConfigData,
    ConfigSource,
    Deployment,
    Endpoint,
    EndpointPort,
    EndpointSlice,
    LabelRequirement,
    Labels,
    LabelSelector,
    Namespace,
    NetworkPolicy,
    ObjectRef,
    Pod,
    PolicyPort,
    Service,
    ServicePort,
    StatefulSet,
    TextValue,
    ValueKind,
    ValueSite,
    Workload,
    labels_of,
)

__all__ = [
    "SERVICE_NAME_LABEL",
    "WORKLOAD_KINDS",
    "ConversionError",
    "KubeObject",
    "PathPart",
    "backends_from_dict",
    "config_data_from_dict",
    "config_text_from_dict",
    "deployment_from_dict",
    "dns_workload_from_dict",
    "namespace_from_dict",
    "network_policy_from_dict",
    "object_from_dict",
    "pod_from_dict",
    "service_from_dict",
    "slice_from_dict",
    "slices_from_endpoints_dict",
    "statefulset_from_dict",
    "workload_from_dict",
]

SERVICE_NAME_LABEL = "kubernetes.io/service-name"
"""The label tying an EndpointSlice to its Service (dns-records.md rule 2)."""

_SELECTOR_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")

PathPart = str | int
KubeObject = (
    Namespace
    | Service
    | EndpointSlice
    | Pod
    | StatefulSet
    | Deployment
    | Workload
    | ConfigData
    | BackendRef
    | NetworkPolicy
)
_T = TypeVar("_T")


class ConversionError(Exception):
    """A field is missing or has the wrong type.

    Attributes:
        path: Keys and list indices from the object's root to the field, e.g.
            ``("spec", "ports", 0, "port")``; empty for the object itself.
        reason: What is wrong, e.g. ``"expected an integer, got str"``.
        index: Position of the object in its input, when the caller knows it.
    """

    def __init__(self, path: Sequence[PathPart], reason: str, index: int | None = None) -> None:
        self.path = tuple(path)
        self.reason = reason
        self.index = index
        super().__init__(f"{self.location}: {reason}" if self.path else reason)

    @property
    def location(self) -> str:
        """The path as ``spec.ports[0].port``."""
        text = ""
        for part in self.path:
            text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
        return text


# --- typed access ---------------------------------------------------------------------------


def _type_name(value: object) -> str:
    return "null" if value is None else type(value).__name__


def _mapping(value: object, path: tuple[PathPart, ...]) -> Mapping[str, object]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConversionError(path, f"expected a mapping, got {_type_name(value)}")
    return value


def _list(value: object, path: tuple[PathPart, ...]) -> Sequence[object]:
    if value is None:
        return ()
    if isinstance(value, str | bytes) or not isinstance(value, Sequence):
        raise ConversionError(path, f"expected a list, got {_type_name(value)}")
    return value


def _str(obj: Mapping[str, object], key: str, path: tuple[PathPart, ...], default: str = "") -> str:
    value = obj.get(key)
    if value is None:
        return default
    if not isinstance(value, str):
        raise ConversionError((*path, key), f"expected a string, got {_type_name(value)}")
    return value


def _required_str(obj: Mapping[str, object], key: str, path: tuple[PathPart, ...]) -> str:
    value = _str(obj, key, path)
    if not value:
        raise ConversionError((*path, key), "required field is missing or empty")
    return value


def _bool(obj: Mapping[str, object], key: str, path: tuple[PathPart, ...]) -> bool | None:
    value = obj.get(key)
    if value is None or isinstance(value, bool):
        return value
    raise ConversionError((*path, key), f"expected true or false, got {_type_name(value)}")


def _int(obj: Mapping[str, object], key: str, path: tuple[PathPart, ...]) -> int | None:
    value = obj.get(key)
    if value is None:
        return None
    # bool is an int subclass; `port: true` is a typo, not port 1.
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConversionError((*path, key), f"expected an integer, got {_type_name(value)}")
    return value


def _str_list(obj: Mapping[str, object], key: str, path: tuple[PathPart, ...]) -> tuple[str, ...]:
    items = _list(obj.get(key), (*path, key))
    out: list[str] = []
    for i, item in enumerate(items):
        if not isinstance(item, str):
            raise ConversionError((*path, key, i), f"expected a string, got {_type_name(item)}")
        out.append(item)
    return tuple(out)


def _labels(obj: Mapping[str, object], key: str, path: tuple[PathPart, ...]) -> Labels:
    mapping = _mapping(obj.get(key), (*path, key))
    for name, value in mapping.items():
        # The API rejects non-string label values; YAML's `version: 1` is the usual cause.
        if not isinstance(value, str):
            raise ConversionError((*path, key, name), f"expected a string, got {_type_name(value)}")
    return labels_of({str(k): str(v) for k, v in mapping.items()})


def _each(
    obj: Mapping[str, object], key: str, path: tuple[PathPart, ...]
) -> Iterable[tuple[Mapping[str, object], tuple[PathPart, ...]]]:
    """Yield each mapping of the list ``obj[key]`` with its path."""
    for i, item in enumerate(_list(obj.get(key), (*path, key))):
        item_path = (*path, key, i)
        yield _mapping(item, item_path), item_path


def _metadata(
    obj: Mapping[str, object],
    default_namespace: str,
    *,
    namespaced: bool = True,
    label: bool = False,
) -> tuple[Mapping[str, object], str, str]:
    """Return ``(metadata, namespace, name)``, names checked as the API server checks them.

    Namespaces (and, with ``label``, the name) must be RFC 1123 labels, other names
    RFC 1123 subdomains. The API never holds anything else, but a manifest may, and
    a Service named ``Web_1`` would otherwise show records no cluster can serve.
    """
    root = _mapping(obj, ())
    meta = _mapping(root.get("metadata"), ("metadata",))
    name = _required_str(meta, "name", ("metadata",))
    _check_name(name, ("metadata", "name"), label=label)
    namespace = _str(meta, "namespace", ("metadata",), default_namespace) if namespaced else ""
    if namespaced:
        _check_name(namespace, ("metadata", "namespace"), label=True)
    return meta, namespace, name


def _check_name(text: str, path: tuple[PathPart, ...], *, label: bool) -> None:
    if label and not names.is_dns1123_label(text):
        raise ConversionError(
            path,
            f"invalid value {text!r}: a lowercase RFC 1123 label must consist of lower case "
            "alphanumeric characters or '-', start and end with one, and be at most 63 long",
        )
    if not names.is_dns1123_subdomain(text):
        raise ConversionError(
            path,
            f"invalid value {text!r}: a lowercase RFC 1123 subdomain must consist of lower case "
            "alphanumeric characters, '-' or '.', start and end with an alphanumeric character, "
            "and be at most 253 long",
        )


# --- values checked as the API server checks them (k8s.io/kubernetes pkg/apis/core/validation) --

_PROTOCOLS = ("TCP", "UDP", "SCTP")
_SERVICE_TYPES = ("ClusterIP", "NodePort", "LoadBalancer", "ExternalName")
_ADDRESS_TYPES = ("IPv4", "IPv6", "FQDN")
_IANA_SVC_NAME = re.compile(r"[-a-z0-9]+")
_IANA_LETTER = re.compile(r"[a-z]")


def _ip_version(text: str) -> int:
    """Return 4 or 6 for an address the API server accepts, 0 for anything else.

    A zone (``fe80::1%eth0``) is refused, as Go's ``net.ParseIP`` refuses it;
    Python's ipaddress would keep it and fail later on the reverse name.
    """
    if "%" in text or text != text.strip():
        return 0
    try:
        return ipaddress.ip_address(text).version
    except ValueError:
        return 0


def _check_ip(text: str, path: tuple[PathPart, ...], family: int = 0) -> None:
    version = _ip_version(text)
    if not version or (family and version != family):
        kind = f"an IPv{family} address" if family else "an IP address"
        raise ConversionError(path, f"invalid value {text!r}: must be {kind}")


def _check_port(number: int, path: tuple[PathPart, ...]) -> None:
    if not 1 <= number <= 65535:
        raise ConversionError(path, f"invalid value {number}: must be between 1 and 65535")


def _check_protocol(protocol: str, path: tuple[PathPart, ...]) -> None:
    if protocol not in _PROTOCOLS:
        raise ConversionError(
            path, f"unsupported value {protocol!r}: must be one of {', '.join(_PROTOCOLS)}"
        )


def _check_label(text: str, path: tuple[PathPart, ...]) -> None:
    """A port name, a hostname or a subdomain: an RFC 1123 label (apimachinery IsDNS1123Label)."""
    if not names.is_dns1123_label(text):
        raise ConversionError(
            path,
            f"invalid value {text!r}: must be an RFC 1123 label (lower case alphanumeric "
            "characters or '-', starting and ending with one, at most 63 long)",
        )


def _check_target_port(target: int | str, path: tuple[PathPart, ...]) -> None:
    """A number 1-65535 or an IANA service name (apimachinery IsValidPortName)."""
    if isinstance(target, int):
        _check_port(target, path)
        return
    if not (
        0 < len(target) <= 15
        and _IANA_SVC_NAME.fullmatch(target)
        and _IANA_LETTER.search(target)
        and "--" not in target
        and not target.startswith("-")
        and not target.endswith("-")
    ):
        raise ConversionError(
            path,
            f"invalid value {target!r}: must be a port number or an IANA service name "
            "(at most 15 lower case alphanumeric characters or '-', with a letter)",
        )


def _spec(obj: Mapping[str, object], key: str = "spec") -> Mapping[str, object]:
    return _mapping(obj.get(key), (key,))


def _ref(
    ref: Mapping[str, object], path: tuple[PathPart, ...], default_namespace: str
) -> ObjectRef:
    return ObjectRef(
        kind=_str(ref, "kind", path),
        namespace=_str(ref, "namespace", path, default_namespace),
        name=_str(ref, "name", path),
    )


def _object_ref(
    obj: Mapping[str, object], key: str, path: tuple[PathPart, ...], default_namespace: str
) -> ObjectRef | None:
    if obj.get(key) is None:
        return None
    ref_path = (*path, key)
    return _ref(_mapping(obj[key], ref_path), ref_path, default_namespace)


# --- per kind --------------------------------------------------------------------------------


def namespace_from_dict(obj: Mapping[str, object]) -> Namespace:
    """Convert a Namespace.

    Raises:
        ConversionError: ``metadata.name`` is missing, or a label is not a string.
    """
    meta, _, name = _metadata(obj, "", namespaced=False, label=True)
    return Namespace(name=name, labels=_labels(meta, "labels", ("metadata",)))


def service_from_dict(obj: Mapping[str, object], *, default_namespace: str = "default") -> Service:
    """Convert a Service.

    ``spec.clusterIPs`` wins over ``spec.clusterIP`` (the API keeps them equal;
    manifests often carry only the singular field).

    Raises:
        ConversionError: A required field is missing or a field has the wrong type.
    """
    meta, namespace, name = _metadata(obj, default_namespace, label=True)
    if not names.is_dns1035_label(name):
        raise ConversionError(
            ("metadata", "name"),
            f"invalid value {name!r}: a Service name must be an RFC 1035 label (lower case "
            "alphanumeric characters or '-', starting with a letter, at most 63 long)",
        )
    spec = _spec(obj)
    service_type = _str(spec, "type", ("spec",), "ClusterIP")
    if service_type not in _SERVICE_TYPES:
        raise ConversionError(
            ("spec", "type"),
            f"unsupported value {service_type!r}: must be one of {', '.join(_SERVICE_TYPES)}",
        )
    cluster_ips = _str_list(spec, "clusterIPs", ("spec",))
    ip_key = "clusterIPs"
    if not cluster_ips:
        single = _str(spec, "clusterIP", ("spec",))
        cluster_ips = (single,) if single else ()
        ip_key = "clusterIP"
    for i, ip in enumerate(cluster_ips):
        if ip != "None" and ip != "":
            _check_ip(ip, ("spec", ip_key, i) if ip_key == "clusterIPs" else ("spec", ip_key))
    ports: list[ServicePort] = []
    for port, path in _each(spec, "ports", ("spec",)):
        number = _int(port, "port", path)
        if number is None:
            raise ConversionError((*path, "port"), "required field is missing")
        _check_port(number, (*path, "port"))
        target = port.get("targetPort")
        if target is not None and (isinstance(target, bool) or not isinstance(target, int | str)):
            raise ConversionError(
                (*path, "targetPort"), f"expected an integer or a string, got {_type_name(target)}"
            )
        if target is not None and target != "":
            _check_target_port(target, (*path, "targetPort"))
        # An invalid port name is lint's (HSVC302): it yields no SRV record, not a wrong one.
        port_name = _str(port, "name", path)
        protocol = _str(port, "protocol", path, "TCP")
        _check_protocol(protocol, (*path, "protocol"))
        ports.append(
            ServicePort(
                name=port_name,
                protocol=protocol,
                port=number,
                target_port=target,
            )
        )
    external_name = _str(spec, "externalName", ("spec",))
    if service_type == "ExternalName":
        # The API server trims one trailing dot, then wants an RFC 1123 subdomain.
        bare = external_name.removesuffix(".")
        if not names.is_dns1123_subdomain(bare):
            raise ConversionError(
                ("spec", "externalName"),
                f"invalid value {external_name!r}: must be an RFC 1123 subdomain (lower case "
                "alphanumeric characters, '-' or '.', at most 253 long)",
            )
    return Service(
        namespace=namespace,
        name=name,
        type=service_type,
        cluster_ips=cluster_ips,
        external_name=external_name,
        ports=tuple(ports),
        selector=_labels(spec, "selector", ("spec",)),
        publish_not_ready_addresses=bool(_bool(spec, "publishNotReadyAddresses", ("spec",))),
        labels=_labels(meta, "labels", ("metadata",)),
    )


def _endpoint_port(
    port: Mapping[str, object], path: tuple[PathPart, ...], *, required: bool
) -> EndpointPort:
    name = _str(port, "name", path)
    protocol = _str(port, "protocol", path, "TCP")
    _check_protocol(protocol, (*path, "protocol"))
    number = _int(port, "port", path)
    if number is None and required:
        raise ConversionError((*path, "port"), "required field is missing")
    if number is not None:
        _check_port(number, (*path, "port"))
    return EndpointPort(name=name, protocol=protocol, port=number)


def _endpoint_ports(obj: Mapping[str, object]) -> tuple[EndpointPort, ...]:
    # An EndpointSlice port may leave the number out ("all ports"); core/v1 may not.
    return tuple(
        _endpoint_port(port, path, required=False) for port, path in _each(obj, "ports", ())
    )


def slice_from_dict(
    obj: Mapping[str, object], *, default_namespace: str = "default"
) -> EndpointSlice:
    """Convert a ``discovery.k8s.io/v1`` EndpointSlice.

    An absent condition stays ``None``: CoreDNS treats an absent ``ready`` as
    ready (dns-records.md rule 2), which differs from ``false``.

    Raises:
        ConversionError: ``addressType`` or an endpoint's ``addresses`` is
            missing, or a field has the wrong type.
    """
    meta, namespace, name = _metadata(obj, default_namespace)
    labels = _labels(meta, "labels", ("metadata",))
    address_type = _required_str(_mapping(obj, ()), "addressType", ())
    if address_type not in _ADDRESS_TYPES:
        raise ConversionError(
            ("addressType",),
            f"unsupported value {address_type!r}: must be one of {', '.join(_ADDRESS_TYPES)}",
        )
    endpoints: list[Endpoint] = []
    for endpoint, path in _each(obj, "endpoints", ()):
        addresses = _str_list(endpoint, "addresses", path)
        if not addresses:
            raise ConversionError((*path, "addresses"), "required field is missing or empty")
        for i, address in enumerate(addresses):
            if address_type == "FQDN":
                if not names.is_dns1123_subdomain(address):
                    raise ConversionError(
                        (*path, "addresses", i),
                        f"invalid value {address!r}: must be an RFC 1123 subdomain",
                    )
            else:
                _check_ip(address, (*path, "addresses", i), 4 if address_type == "IPv4" else 6)
        hostname = _str(endpoint, "hostname", path)
        if hostname:
            _check_label(hostname, (*path, "hostname"))
        cond_path = (*path, "conditions")
        conditions = _mapping(endpoint.get("conditions"), cond_path)
        endpoints.append(
            Endpoint(
                addresses=addresses,
                ready=_bool(conditions, "ready", cond_path),
                serving=_bool(conditions, "serving", cond_path),
                terminating=_bool(conditions, "terminating", cond_path),
                hostname=hostname,
                target_ref=_object_ref(endpoint, "targetRef", path, namespace),
                node_name=_str(endpoint, "nodeName", path),
                zone=_str(endpoint, "zone", path),
            )
        )
    return EndpointSlice(
        namespace=namespace,
        name=name,
        service_name=dict(labels).get(SERVICE_NAME_LABEL, ""),
        address_type=address_type,
        endpoints=tuple(endpoints),
        ports=_endpoint_ports(obj),
        labels=labels,
    )


def slices_from_endpoints_dict(
    obj: Mapping[str, object], *, default_namespace: str = "default"
) -> tuple[EndpointSlice, ...]:
    """Convert a core/v1 Endpoints object into the slices the mirroring controller would write.

    One slice per subset (named ``<name>`` for the first, ``<name>-<i>`` after);
    ``addresses`` become ready endpoints, ``notReadyAddresses`` endpoints with
    ``ready: false``. An Endpoints without subsets gives one empty slice, as
    a Service whose selector matches nothing has. The address type is taken
    from the first address (Endpoints carry one family).

    Raises:
        ConversionError: An address has no ``ip``, or a field has the wrong type.
    """
    meta, namespace, name = _metadata(obj, default_namespace)
    labels = dict(_labels(meta, "labels", ("metadata",)))
    labels[SERVICE_NAME_LABEL] = name
    slices: list[EndpointSlice] = []
    subsets = list(_each(obj, "subsets", ()))
    for i, (subset, path) in enumerate(subsets or [({}, ())]):
        endpoints: list[Endpoint] = []
        for key, ready in (("addresses", True), ("notReadyAddresses", False)):
            for address, addr_path in _each(subset, key, path):
                ip = _required_str(address, "ip", addr_path)
                _check_ip(ip, (*addr_path, "ip"))
                hostname = _str(address, "hostname", addr_path)
                if hostname:
                    _check_label(hostname, (*addr_path, "hostname"))
                endpoints.append(
                    Endpoint(
                        addresses=(ip,),
                        ready=ready,
                        serving=ready,
                        hostname=hostname,
                        target_ref=_object_ref(address, "targetRef", addr_path, namespace),
                        node_name=_str(address, "nodeName", addr_path),
                    )
                )
        ipv6 = bool(endpoints) and ":" in endpoints[0].addresses[0]
        slices.append(
            EndpointSlice(
                namespace=namespace,
                name=name if i == 0 else f"{name}-{i}",
                service_name=name,
                address_type="IPv6" if ipv6 else "IPv4",
                endpoints=tuple(endpoints),
                ports=tuple(
                    _endpoint_port(port, port_path, required=True)
                    for port, port_path in _each(subset, "ports", path)
                ),
                labels=labels_of(labels),
            )
        )
    return tuple(slices)


def _pod_ready(status: Mapping[str, object]) -> bool:
    """Whether the pod counts as ready.

    A manifest has no ``status``: it declares a pod that is meant to run, so it
    counts as ready. With ``conditions``, the Ready condition decides; with a
    phase but no conditions (just created), only a running pod does.
    """
    if not status:
        return True
    if status.get("conditions") is None:
        return status.get("phase") in (None, "Running")
    for cond, path in _each(status, "conditions", ("status",)):
        if _str(cond, "type", path) == "Ready":
            return _str(cond, "status", path) == "True"
    return False


def _ready_since(status: Mapping[str, object]) -> str:
    """Return the Ready condition's ``lastTransitionTime`` when it is True, else ""."""
    for cond, path in _each(status, "conditions", ("status",)):
        if _str(cond, "type", path) == "Ready" and _str(cond, "status", path) == "True":
            return _str(cond, "lastTransitionTime", path)
    return ""


# Substrings that mark a cluster DNS name written into a container's settings.
_CLUSTER_NAME_MARKS = (".svc.", ".pod.")


def _hardcoded_names(pod_spec: Mapping[str, object], path: tuple[PathPart, ...]) -> tuple[str, ...]:
    """Return env values, args and command words that contain a cluster DNS name.

    Only these are read: ConfigMaps and mounted files are not (diagnostics that
    rely on this say so).
    """
    found: dict[str, None] = {}
    for key in ("initContainers", "containers"):
        for container, c_path in _each(pod_spec, key, path):
            words = [
                *_str_list(container, "command", c_path),
                *_str_list(container, "args", c_path),
            ]
            words += [_str(env, "value", e_path) for env, e_path in _each(container, "env", c_path)]
            for word in words:
                if any(mark in word.lower() for mark in _CLUSTER_NAME_MARKS):
                    found.setdefault(word, None)
    return tuple(found)


def _template_spec(spec: Mapping[str, object]) -> tuple[Mapping[str, object], Mapping[str, object]]:
    """Return ``(template metadata, template spec)`` of a workload's ``spec.template``."""
    template = _mapping(spec.get("template"), ("spec", "template"))
    return (
        _mapping(template.get("metadata"), ("spec", "template", "metadata")),
        _mapping(template.get("spec"), ("spec", "template", "spec")),
    )


def _controller(meta: Mapping[str, object], namespace: str) -> ObjectRef | None:
    """Return the controller owner reference, else the first owner, else None."""
    owners = list(_each(meta, "ownerReferences", ("metadata",)))
    for owner, path in owners:
        if _bool(owner, "controller", path):
            return _ref(owner, path, namespace)
    if owners:
        owner, path = owners[0]
        return _ref(owner, path, namespace)
    return None


def pod_from_dict(obj: Mapping[str, object], *, default_namespace: str = "default") -> Pod:
    """Convert a Pod.

    ``status.podIPs`` wins over ``status.podIP``; a ``deletionTimestamp`` marks
    the pod as deleting. See :func:`_pod_ready` for readiness.

    Raises:
        ConversionError: ``metadata.name`` is missing or a field has the wrong type.
    """
    meta, namespace, name = _metadata(obj, default_namespace)
    spec = _spec(obj)
    status = _spec(obj, "status")
    pod_ips = tuple(
        _required_str(entry, "ip", path) for entry, path in _each(status, "podIPs", ("status",))
    )
    for i, ip in enumerate(pod_ips):
        _check_ip(ip, ("status", "podIPs", i, "ip"))
    if not pod_ips:
        single = _str(status, "podIP", ("status",))
        if single:
            _check_ip(single, ("status", "podIP"))
        pod_ips = (single,) if single else ()
    hostname = _str(spec, "hostname", ("spec",))
    subdomain = _str(spec, "subdomain", ("spec",))
    for key, value in (("hostname", hostname), ("subdomain", subdomain)):
        if value:
            _check_label(value, ("spec", key))
    return Pod(
        namespace=namespace,
        name=name,
        labels=_labels(meta, "labels", ("metadata",)),
        hostname=hostname,
        subdomain=subdomain,
        pod_ips=pod_ips,
        phase=_str(status, "phase", ("status",), "Running"),
        ready=_pod_ready(status),
        deleting=meta.get("deletionTimestamp") is not None,
        host_network=bool(_bool(spec, "hostNetwork", ("spec",))),
        dns_policy=_str(spec, "dnsPolicy", ("spec",), "ClusterFirst"),
        owner=_controller(meta, namespace),
        ready_since=_ready_since(status),
        hardcoded_names=_hardcoded_names(spec, ("spec",)),
        images=tuple(
            image
            for container, c_path in _each(spec, "containers", ("spec",))
            if (image := _str(container, "image", c_path))
        ),
        node_name=_str(spec, "nodeName", ("spec",)),
        dns_port=_dns_port(spec, ("spec",)),
    )


def _dns_port(spec: Mapping[str, object], path: tuple[PathPart, ...]) -> int | None:
    """The containerPort a DNS server listens on: named ``dns`` (kubeadm, OpenShift), UDP."""
    for container, c_path in _each(spec, "containers", path):
        for port, p_path in _each(container, "ports", c_path):
            protocol = _str(port, "protocol", p_path, "TCP")
            number = _int(port, "containerPort", p_path)
            if _str(port, "name", p_path) == "dns" and protocol == "UDP" and number:
                return number
    return None


def _label_selector(obj: Mapping[str, object], path: tuple[PathPart, ...]) -> LabelSelector:
    requirements: list[LabelRequirement] = []
    for expr, expr_path in _each(obj, "matchExpressions", path):
        operator = _required_str(expr, "operator", expr_path)
        if operator not in _SELECTOR_OPERATORS:
            raise ConversionError(
                (*expr_path, "operator"),
                f"unknown operator {operator!r}; expected one of {', '.join(_SELECTOR_OPERATORS)}",
            )
        requirements.append(
            LabelRequirement(
                key=_required_str(expr, "key", expr_path),
                operator=operator,
                values=_str_list(expr, "values", expr_path),
            )
        )
    return LabelSelector(
        match_labels=_labels(obj, "matchLabels", path), match_expressions=tuple(requirements)
    )


def _check_replicas(replicas: int | None) -> None:
    if replicas is not None and replicas < 0:
        raise ConversionError(
            ("spec", "replicas"), f"invalid value {replicas}: must be greater than or equal to 0"
        )


def statefulset_from_dict(
    obj: Mapping[str, object], *, default_namespace: str = "default"
) -> StatefulSet:
    """Convert an ``apps/v1`` StatefulSet.

    Raises:
        ConversionError: ``metadata.name`` is missing, a selector operator is
            unknown, or a field has the wrong type.
    """
    _, namespace, name = _metadata(obj, default_namespace)
    spec = _spec(obj)
    template_meta, template_spec = _template_spec(spec)
    replicas = _int(spec, "replicas", ("spec",))
    _check_replicas(replicas)
    return StatefulSet(
        namespace=namespace,
        name=name,
        service_name=_str(spec, "serviceName", ("spec",)),
        # The API defaults an absent replicas to 1.
        replicas=1 if replicas is None else replicas,
        selector=_label_selector(
            _mapping(spec.get("selector"), ("spec", "selector")), ("spec", "selector")
        ),
        template_labels=_labels(template_meta, "labels", ("spec", "template", "metadata")),
        pod_management_policy=_str(spec, "podManagementPolicy", ("spec",), "OrderedReady"),
        hardcoded_names=_hardcoded_names(template_spec, ("spec", "template", "spec")),
    )


def deployment_from_dict(
    obj: Mapping[str, object], *, default_namespace: str = "default"
) -> Deployment:
    """Convert an ``apps/v1`` Deployment (its pod template's DNS fields only).

    Raises:
        ConversionError: ``metadata.name`` is missing or a field has the wrong type.
    """
    _, namespace, name = _metadata(obj, default_namespace)
    spec = _spec(obj)
    template_meta, template_spec = _template_spec(spec)
    replicas = _int(spec, "replicas", ("spec",))
    _check_replicas(replicas)
    t_path = ("spec", "template", "spec")
    return Deployment(
        namespace=namespace,
        name=name,
        replicas=1 if replicas is None else replicas,  # the API's default
        template_labels=_labels(template_meta, "labels", ("spec", "template", "metadata")),
        template_hostname=_str(template_spec, "hostname", t_path),
        template_subdomain=_str(template_spec, "subdomain", t_path),
        hardcoded_names=_hardcoded_names(template_spec, t_path),
    )


# --- what apps read (hsvc.core.references) ------------------------------------------------

# kind -> (API group, path of the pod spec from the object's root)
WORKLOAD_KINDS: Mapping[str, tuple[str, tuple[str, ...]]] = MappingProxyType(
    {
        "Pod": ("", ("spec",)),
        "Deployment": ("apps", ("spec", "template", "spec")),
        "StatefulSet": ("apps", ("spec", "template", "spec")),
        "DaemonSet": ("apps", ("spec", "template", "spec")),
        "ReplicaSet": ("apps", ("spec", "template", "spec")),
        "Job": ("batch", ("spec", "template", "spec")),
        "CronJob": ("batch", ("spec", "jobTemplate", "spec", "template", "spec")),
    }
)
_PROBES = ("livenessProbe", "readinessProbe", "startupProbe")


def _field_text(path: Sequence[PathPart]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def _pod_spec_at(root: Mapping[str, object], spec_path: tuple[str, ...]) -> Mapping[str, object]:
    node: Mapping[str, object] = root
    for i, key in enumerate(spec_path):
        node = _mapping(node.get(key), spec_path[: i + 1])
    return node


def workload_from_dict(
    obj: Mapping[str, object], kind: str, *, default_namespace: str = "default"
) -> Workload:
    """Convert any pod-bearing object into the strings its containers read.

    Read: ``env[].value`` (and ``valueFrom`` ConfigMap/Secret key references),
    ``envFrom``, ``command``, ``args`` and the probes' ``httpGet.host`` and
    ``tcpSocket.host`` of every init and app container.

    Raises:
        ConversionError: ``metadata.name`` is missing or a field has the wrong type.
    """
    meta, namespace, name = _metadata(obj, default_namespace)
    root = _mapping(obj, ())
    spec_path = WORKLOAD_KINDS[kind][1]
    pod_spec = _pod_spec_at(root, spec_path)
    ref = ObjectRef(kind=kind, namespace=namespace, name=name)
    values: list[TextValue] = []
    sources: list[ConfigSource] = []
    for list_key in ("initContainers", "containers"):
        for container, c_path in _each(pod_spec, list_key, spec_path):
            cname = _str(container, "name", c_path)
            c_field = _field_text(c_path)

            def site(path: tuple[PathPart, ...], shown: str) -> ValueSite:
                return ValueSite(object=ref, path=path, field=shown)

            for word_key, vkind in (("command", ValueKind.COMMAND), ("args", ValueKind.ARGS)):
                for i, word in enumerate(_str_list(container, word_key, c_path)):
                    path = (*c_path, word_key, i)
                    values.append(
                        TextValue(
                            kind=vkind,
                            text=word,
                            site=site(path, _field_text(path)),
                            container=cname,
                        )
                    )
            for env, e_path in _each(container, "env", c_path):
                env_name = _str(env, "name", e_path)
                shown = f"{c_field}.env[{env_name}]"
                value = env.get("value")
                if isinstance(value, str):
                    values.append(
                        TextValue(
                            kind=ValueKind.ENV,
                            text=value,
                            site=site((*e_path, "value"), shown),
                            container=cname,
                            key=env_name,
                        )
                    )
                value_from = _mapping(env.get("valueFrom"), (*e_path, "valueFrom"))
                for ref_key, ref_kind in (
                    ("configMapKeyRef", "ConfigMap"),
                    ("secretKeyRef", "Secret"),
                ):
                    key_ref = _mapping(value_from.get(ref_key), (*e_path, "valueFrom", ref_key))
                    if key_ref:
                        k_path = (*e_path, "valueFrom", ref_key)
                        sources.append(
                            ConfigSource(
                                kind=ref_kind,
                                name=_str(key_ref, "name", k_path),
                                key=_str(key_ref, "key", k_path),
                                env=env_name,
                                container=cname,
                                field=shown,
                                path=(*e_path, "name"),
                            )
                        )
            for env_from, f_path in _each(container, "envFrom", c_path):
                prefix = _str(env_from, "prefix", f_path)
                for ref_key, ref_kind in (("configMapRef", "ConfigMap"), ("secretRef", "Secret")):
                    from_ref = _mapping(env_from.get(ref_key), (*f_path, ref_key))
                    if from_ref:
                        sources.append(
                            ConfigSource(
                                kind=ref_kind,
                                name=_str(from_ref, "name", (*f_path, ref_key)),
                                env=prefix,
                                container=cname,
                                field=_field_text(f_path),
                                path=f_path,
                            )
                        )
            for probe_key in _PROBES:
                probe = _mapping(container.get(probe_key), (*c_path, probe_key))
                for action in ("httpGet", "tcpSocket"):
                    handler = _mapping(probe.get(action), (*c_path, probe_key, action))
                    host = _str(handler, "host", (*c_path, probe_key, action))
                    if host:
                        path = (*c_path, probe_key, action, "host")
                        values.append(
                            TextValue(
                                kind=ValueKind.PROBE,
                                text=host,
                                site=site(path, _field_text(path)),
                                container=cname,
                            )
                        )
    return Workload(
        kind=kind,
        namespace=namespace,
        name=name,
        values=tuple(values),
        sources=tuple(sources),
        owner=_controller(meta, namespace) if kind == "Pod" else None,
    )


def config_data_from_dict(
    obj: Mapping[str, object], *, default_namespace: str = "default", secret_values: bool = False
) -> ConfigData:
    """Convert a ConfigMap or a Secret into its keys and (for ConfigMaps) its values.

    A Secret's values are decoded only with ``secret_values``; otherwise only its
    key names are kept, so nothing downstream can print them. Binary data and
    values that are not UTF-8 are skipped.

    Raises:
        ConversionError: ``metadata.name`` is missing or a field has the wrong type.
    """
    _, namespace, name = _metadata(obj, default_namespace)
    root = _mapping(obj, ())
    kind = _str(root, "kind", (), "ConfigMap")
    ref = ObjectRef(kind=kind, namespace=namespace, name=name)
    keys: dict[str, None] = {}
    values: list[TextValue] = []
    read_values = kind == "ConfigMap" or secret_values
    for data_key in ("data", "stringData"):
        data = _mapping(root.get(data_key), (data_key,))
        for key, raw in data.items():
            keys.setdefault(str(key), None)
            if not read_values or raw is None:
                continue
            if not isinstance(raw, str):
                # Never echo the value: a Secret's would leak into the message.
                raise ConversionError(
                    (data_key, str(key)), f"expected a string, got {_type_name(raw)}"
                )
            text: str | None = raw
            if kind == "Secret" and data_key == "data":
                text = _decode_secret(raw)
            if text is None:
                continue
            values.append(
                TextValue(
                    kind=ValueKind.CONFIG,
                    text=text,
                    site=ValueSite(
                        object=ref, path=(data_key, str(key)), field=f"{data_key}[{key}]"
                    ),
                    key=str(key),
                )
            )
    return ConfigData(
        kind=kind, namespace=namespace, name=name, keys=tuple(keys), values=tuple(values)
    )


def _decode_secret(raw: str) -> str | None:
    try:
        return base64.b64decode(raw, validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return None


def _value_at(root: Mapping[str, object], path: Sequence[PathPart]) -> object:
    node: object = root
    for part in path:
        if isinstance(part, int):
            ok = isinstance(node, Sequence) and not isinstance(node, str) and part < len(node)
            node = node[part] if ok else None  # type: ignore[index]  # narrowed by ok
        else:
            node = node.get(part) if isinstance(node, Mapping) else None
    return node


def _backend_port(port: Mapping[str, object], path: tuple[PathPart, ...]) -> tuple[int | None, str]:
    return _int(port, "number", path), _str(port, "name", path)


def backends_from_dict(
    obj: Mapping[str, object], *, default_namespace: str = "default"
) -> tuple[BackendRef, ...]:
    """Return the Services an Ingress (``networking.k8s.io/v1``) or HTTPRoute sends traffic to.

    Ingress: ``spec.defaultBackend.service`` and every
    ``spec.rules[].http.paths[].backend.service``. HTTPRoute: every
    ``spec.rules[].backendRefs[]`` whose kind is Service (the default).

    Raises:
        ConversionError: ``metadata.name`` is missing or a field has the wrong type.
    """
    _, namespace, name = _metadata(obj, default_namespace)
    root = _mapping(obj, ())
    kind = _str(root, "kind", ())
    route = ObjectRef(kind=kind, namespace=namespace, name=name)
    spec = _spec(root)
    out: list[BackendRef] = []

    def add(
        service: str, path: tuple[PathPart, ...], port: int | None, port_name: str, ns: str
    ) -> None:
        if service:
            site = ValueSite(object=route, path=(*path, "name"), field=_field_text((*path, "name")))
            out.append(
                BackendRef(
                    route=route,
                    namespace=ns,
                    service=service,
                    port=port,
                    port_name=port_name,
                    site=site,
                )
            )

    if kind == "Ingress":
        candidates: list[tuple[PathPart, ...]] = [("spec", "defaultBackend", "service")]
        for rule, r_path in _each(spec, "rules", ("spec",)):
            http = _mapping(rule.get("http"), (*r_path, "http"))
            for _p, p_path in _each(http, "paths", (*r_path, "http")):
                candidates.append((*p_path, "backend", "service"))
        for path in candidates:
            svc = _mapping(_value_at(root, path), path)
            if svc:
                port = _mapping(svc.get("port"), (*path, "port"))
                number, port_name = _backend_port(port, (*path, "port"))
                add(_str(svc, "name", path), path, number, port_name, namespace)
        return tuple(out)
    for rule, r_path in _each(spec, "rules", ("spec",)):
        for backend, b_path in _each(rule, "backendRefs", r_path):
            if _str(backend, "kind", b_path, "Service") != "Service" or _str(
                backend, "group", b_path
            ):
                continue
            add(
                _str(backend, "name", b_path),
                b_path,
                _int(backend, "port", b_path),
                "",
                _str(backend, "namespace", b_path, namespace),
            )
    return tuple(out)


# --- dispatch ----------------------------------------------------------------------------------


def object_from_dict(
    obj: Mapping[str, object],
    *,
    default_namespace: str = "default",
    references: bool = False,
    secret_values: bool = False,
) -> tuple[KubeObject, ...]:
    """Convert one object by its ``apiVersion`` and ``kind``.

    With ``references``, pod-bearing kinds also give a :class:`Workload` (what
    their containers read), ConfigMaps and Secrets a :class:`ConfigData` (Secret
    values only with ``secret_values``), Ingresses and HTTPRoutes their
    :class:`BackendRef` list.

    Returns:
        The model objects (several for a core/v1 Endpoints with several
        subsets), or an empty tuple for a kind hsvc does not read.

    Raises:
        ConversionError: ``kind`` is missing, or the object does not convert.
    """
    root = _mapping(obj, ())
    kind = _required_str(root, "kind", ())
    api_version = _str(root, "apiVersion", ())
    group = api_version.rpartition("/")[0]
    workload: Workload | None = None
    if references and kind in WORKLOAD_KINDS and WORKLOAD_KINDS[kind][0] == group:
        workload = workload_from_dict(root, kind, default_namespace=default_namespace)
    extra: tuple[Workload, ...] = () if workload is None else (workload,)
    if kind == "Namespace" and group == "":
        return (namespace_from_dict(root),)
    if kind == "Service" and group == "":
        return (service_from_dict(root, default_namespace=default_namespace),)
    if kind == "Pod" and group == "":
        return (pod_from_dict(root, default_namespace=default_namespace), *extra)
    if kind == "Endpoints" and group == "":
        return slices_from_endpoints_dict(root, default_namespace=default_namespace)
    if kind == "EndpointSlice" and group == "discovery.k8s.io":
        return (slice_from_dict(root, default_namespace=default_namespace),)
    if kind == "StatefulSet" and group == "apps":
        return (statefulset_from_dict(root, default_namespace=default_namespace), *extra)
    if kind == "Deployment" and group == "apps":
        return (deployment_from_dict(root, default_namespace=default_namespace), *extra)
    if kind == "NetworkPolicy" and group == "networking.k8s.io":
        return (network_policy_from_dict(root, default_namespace=default_namespace),)
    if workload is not None:
        return (workload,)
    if not references:
        return ()
    if kind in ("ConfigMap", "Secret") and group == "":
        return (
            config_data_from_dict(
                root, default_namespace=default_namespace, secret_values=secret_values
            ),
        )
    if (kind, group) in (
        ("Ingress", "networking.k8s.io"),
        ("HTTPRoute", "gateway.networking.k8s.io"),
    ):
        return backends_from_dict(root, default_namespace=default_namespace)
    return ()


# --- the resolver path (hsvc.core.dnspath) and NetworkPolicies (hsvc.core.transport) ------


def dns_workload_from_dict(
    obj: Mapping[str, object], *, kind: str, default_namespace: str = "default"
) -> DnsWorkload:
    """Convert a Deployment or DaemonSet into what path discovery reads (images, args, size).

    Raises:
        ConversionError: ``metadata.name`` is missing or a field has the wrong type.
    """
    meta, namespace, name = _metadata(obj, default_namespace)
    spec = _spec(obj)
    status = _spec(obj, "status")
    _, pod_spec = _template_spec(spec)
    t_path = ("spec", "template", "spec")
    images: list[str] = []
    args: list[str] = []
    for container, c_path in _each(pod_spec, "containers", t_path):
        images.append(_str(container, "image", c_path))
        args.extend(_str_list(container, "command", c_path))
        args.extend(_str_list(container, "args", c_path))
    if kind == "DaemonSet":
        replicas = _int(status, "desiredNumberScheduled", ("status",))
        ready = _int(status, "numberReady", ("status",))
        # A DaemonSet from a manifest has no status yet: it will run (one per node).
        replicas = 1 if replicas is None else replicas
    else:
        replicas = _int(spec, "replicas", ("spec",))
        ready = _int(status, "readyReplicas", ("status",))
        replicas = 1 if replicas is None else replicas
    selector = _mapping(spec.get("selector"), ("spec", "selector"))
    return DnsWorkload(
        kind=kind,
        namespace=namespace,
        name=name,
        labels=_labels(meta, "labels", ("metadata",)),
        images=tuple(i for i in images if i),
        args=tuple(args),
        replicas=replicas,
        ready=replicas if ready is None and not status else (ready or 0),
        selector=_labels(selector, "matchLabels", ("spec", "selector")),
    )


def config_text_from_dict(
    obj: Mapping[str, object], *, default_namespace: str = "default"
) -> ConfigText:
    """Convert a ConfigMap into its text values.

    Raises:
        ConversionError: ``metadata.name`` is missing or a field has the wrong type.
    """
    _, namespace, name = _metadata(obj, default_namespace)
    data = _mapping(_mapping(obj, ()).get("data"), ("data",))
    return ConfigText(
        namespace=namespace,
        name=name,
        data=tuple((str(k), v) for k, v in sorted(data.items()) if isinstance(v, str)),
    )


def _policy_rules(spec: Mapping[str, object], key: str) -> tuple[tuple[PolicyPort, ...], ...]:
    rules = []
    for rule, r_path in _each(spec, key, ("spec",)):
        ports = []
        for port, p_path in _each(rule, "ports", r_path):
            raw = port.get("port")
            number: int | str | None
            if raw is None:
                number = None
            elif isinstance(raw, bool) or not isinstance(raw, int | str):
                raise ConversionError(
                    (*p_path, "port"), f"expected an integer or a string, got {_type_name(raw)}"
                )
            else:
                number = raw
            ports.append(
                PolicyPort(
                    protocol=_str(port, "protocol", p_path, "TCP"),
                    port=number,
                    end_port=_int(port, "endPort", p_path),
                )
            )
        rules.append(tuple(ports))
    return tuple(rules)


def network_policy_from_dict(
    obj: Mapping[str, object], *, default_namespace: str = "default"
) -> NetworkPolicy:
    """Convert a ``networking.k8s.io/v1`` NetworkPolicy (pod selector, types, rule ports).

    Raises:
        ConversionError: ``metadata.name`` is missing or a field has the wrong type.
    """
    _, namespace, name = _metadata(obj, default_namespace)
    spec = _spec(obj)
    selector = _mapping(spec.get("podSelector"), ("spec", "podSelector"))
    types = _str_list(spec, "policyTypes", ("spec",))
    if not types:
        # The API's default: Ingress always, Egress when egress rules are given.
        types = ("Ingress", "Egress") if "egress" in spec else ("Ingress",)
    return NetworkPolicy(
        namespace=namespace,
        name=name,
        pod_selector=_label_selector(selector, ("spec", "podSelector")),
        policy_types=types,
        ingress=_policy_rules(spec, "ingress"),
        egress=_policy_rules(spec, "egress"),
    )
