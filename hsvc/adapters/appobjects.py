"""What apps read, as core types (for :mod:`hsvc.core.references`).

Workload pod templates, ConfigMaps and Secrets, Ingress and HTTPRoute backends.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType

from hsvc.adapters.fields import (
    ConversionError,
    PathPart,
    _controller,
    _each,
    _int,
    _label_selector,
    _labels,
    _mapping,
    _metadata,
    _named_ports,
    _spec,
    _str,
    _str_list,
    _template_spec,
    _type_name,
)
from hsvc.core.dnspath import ConfigText, DnsWorkload
from hsvc.core.model import (
    BackendRef,
    ConfigData,
    ConfigSource,
    NetworkPolicy,
    ObjectRef,
    PolicyPeer,
    PolicyPort,
    PolicyRule,
    TextValue,
    ValueKind,
    ValueSite,
    Workload,
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
            _read_container(ref, container, c_path, values, sources)
    return Workload(
        kind=kind,
        namespace=namespace,
        name=name,
        values=tuple(values),
        sources=tuple(sources),
        owner=_controller(meta, namespace) if kind == "Pod" else None,
    )


def _read_container(
    ref: ObjectRef,
    container: Mapping[str, object],
    c_path: tuple[PathPart, ...],
    values: list[TextValue],
    sources: list[ConfigSource],
) -> None:
    """The strings one container reads: command, args, env, envFrom, probe hosts."""
    cname = _str(container, "name", c_path)

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
    _read_env(container, c_path, cname, site, values, sources)
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


def _read_env(
    container: Mapping[str, object],
    c_path: tuple[PathPart, ...],
    cname: str,
    site: Callable[[tuple[PathPart, ...], str], ValueSite],
    values: list[TextValue],
    sources: list[ConfigSource],
) -> None:
    """A container's ``env[]``: literal values, and the ConfigMap/Secret keys it reads."""
    c_field = _field_text(c_path)
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
    ports = _named_ports(pod_spec, t_path)
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
        ports=ports,
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


def _policy_peers(
    rule: Mapping[str, object], key: str, path: tuple[PathPart, ...]
) -> tuple[PolicyPeer, ...]:
    peers = []
    for peer, p_path in _each(rule, key, path):
        pods = peer.get("podSelector")
        namespaces = peer.get("namespaceSelector")
        block = _mapping(peer.get("ipBlock"), (*p_path, "ipBlock"))
        peers.append(
            PolicyPeer(
                pod_selector=None
                if pods is None
                else _label_selector(
                    _mapping(pods, (*p_path, "podSelector")), (*p_path, "podSelector")
                ),
                namespace_selector=None
                if namespaces is None
                else _label_selector(
                    _mapping(namespaces, (*p_path, "namespaceSelector")),
                    (*p_path, "namespaceSelector"),
                ),
                cidr=_str(block, "cidr", (*p_path, "ipBlock")),
                except_cidrs=_str_list(block, "except", (*p_path, "ipBlock")),
            )
        )
    return tuple(peers)


def _policy_rules(spec: Mapping[str, object], key: str) -> tuple[PolicyRule, ...]:
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
        peers = _policy_peers(rule, "to" if key == "egress" else "from", r_path)
        rules.append(PolicyRule(ports=tuple(ports), peers=peers))
    return tuple(rules)


def network_policy_from_dict(
    obj: Mapping[str, object], *, default_namespace: str = "default"
) -> NetworkPolicy:
    """Convert a ``networking.k8s.io/v1`` NetworkPolicy (pod selector, types, rules' ports, peers).

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
