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

from collections.abc import Mapping

from hsvc.adapters.appobjects import (
    WORKLOAD_KINDS,
    backends_from_dict,
    config_data_from_dict,
    config_text_from_dict,
    dns_workload_from_dict,
    network_policy_from_dict,
    workload_from_dict,
)
from hsvc.adapters.fields import (
    _ADDRESS_TYPES,
    _SERVICE_TYPES,
    ConversionError,
    PathPart,
    _bool,
    _check_ip,
    _check_label,
    _check_port,
    _check_protocol,
    _check_target_port,
    _controller,
    _each,
    _int,
    _label_selector,
    _labels,
    _mapping,
    _metadata,
    _named_ports,
    _object_ref,
    _required_str,
    _spec,
    _str,
    _str_list,
    _template_spec,
    _type_name,
    shared,
)
from hsvc.adapters.listread import Seen, read_endpoint, read_pod
from hsvc.core import names
from hsvc.core.model import (
    BackendRef,
    ConfigData,
    Deployment,
    Endpoint,
    EndpointPort,
    EndpointSlice,
    Namespace,
    NetworkPolicy,
    Pod,
    Service,
    ServicePort,
    StatefulSet,
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


def _endpoint(
    endpoint: Mapping[str, object], path: tuple[PathPart, ...], address_type: str, namespace: str
) -> Endpoint:
    """One entry of a slice's ``endpoints``, each field read with its path."""
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
    return Endpoint(
        addresses=addresses,
        ready=_bool(conditions, "ready", cond_path),
        serving=_bool(conditions, "serving", cond_path),
        terminating=_bool(conditions, "terminating", cond_path),
        hostname=hostname,
        target_ref=_object_ref(endpoint, "targetRef", path, namespace),
        node_name=_str(endpoint, "nodeName", path),
        zone=_str(endpoint, "zone", path),
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
    # An address endpoint as the API lists it is read in one pass (listread); any
    # other, and every one in error, field by field, in the order of the list.
    family = {"IPv4": 4, "IPv6": 6}.get(address_type, 0)
    endpoints = [
        read_endpoint(endpoint, family, namespace)
        or _endpoint(endpoint, path, address_type, namespace)
        for endpoint, path in _each(obj, "endpoints", ())
    ]
    return EndpointSlice(
        namespace=namespace,
        name=name,
        service_name=dict(labels).get(SERVICE_NAME_LABEL, ""),
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
        slices.append(
            EndpointSlice(
                namespace=namespace,
                name=name if i == 0 else f"{name}-{i}",
                service_name=name,
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


def pod_from_dict(
    obj: Mapping[str, object], *, default_namespace: str = "default", seen: Seen | None = None
) -> Pod:
    """Convert a Pod.

    ``status.podIPs`` wins over ``status.podIP``; a ``deletionTimestamp`` marks
    the pod as deleting. See :func:`_pod_ready` for readiness. A pod as the API
    lists it is read in one pass (:mod:`hsvc.adapters.listread`; ``seen``: what the
    pods of its list read before it share); any other, and every one in error,
    field by field.

    Raises:
        ConversionError: ``metadata.name`` is missing or a field has the wrong type.
    """
    pod = read_pod(obj, default_namespace, seen)
    return pod if pod is not None else _pod_from_fields(obj, default_namespace)


def _pod_from_fields(obj: Mapping[str, object], default_namespace: str) -> Pod:
    """:func:`pod_from_dict`, each field read with its path (the error names the field)."""
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
    named_ports = _named_ports(spec, ("spec",))
    return Pod(
        namespace=namespace,
        name=name,
        labels=_labels(meta, "labels", ("metadata",)),
        hostname=hostname,
        subdomain=subdomain,
        pod_ips=pod_ips,
        phase=shared(_str(status, "phase", ("status",), "Running")),
        ready=_pod_ready(status),
        has_status=bool(status),
        deleting=meta.get("deletionTimestamp") is not None,
        host_network=bool(_bool(spec, "hostNetwork", ("spec",))),
        dns_policy=_str(spec, "dnsPolicy", ("spec",), "ClusterFirst"),
        owner=_controller(meta, namespace),
        ready_since=_ready_since(status),
        hardcoded_names=_hardcoded_names(spec, ("spec",)),
        images=tuple(
            shared(image)  # the pods of one workload run the same images
            for container, c_path in _each(spec, "containers", ("spec",))
            if (image := _str(container, "image", c_path))
        ),
        node_name=_str(spec, "nodeName", ("spec",)),
        dns_port=_dns_port(named_ports),
        named_ports=named_ports,
    )


def _dns_port(named_ports: tuple[tuple[str, str, int], ...]) -> int | None:
    """The containerPort a DNS server listens on: named ``dns`` (kubeadm, OpenShift), UDP."""
    return next((n for name, proto, n in named_ports if name == "dns" and proto == "UDP"), None)


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
        template_ports=_named_ports(template_spec, t_path),
    )


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
