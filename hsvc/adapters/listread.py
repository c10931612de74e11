"""Pods and slice endpoints as the API lists them, read in one pass: the converters' usual case.

:func:`hsvc.adapters.convert.pod_from_dict` and ``slice_from_dict`` read every
field through the typed accessors of :mod:`hsvc.adapters.fields`, each carrying
the path of the field for its error message: some fifty calls a pod, most of the
cost of converting the 150,000 pods and endpoints of a large cluster.
:func:`read_pod` and :func:`read_endpoint` read an object whose every field they
look at has the exact JSON type the API writes (a field absent or ``null``, a
string, a list of objects) and whose names and addresses pass the converter's
checks, and make the same :class:`~hsvc.core.model.Pod` or
:class:`~hsvc.core.model.Endpoint`. Anything else, from a wrong type to an
invalid name, gives None: the converter then reads the object itself and finds
the error there, with its path. So this module never decides that an object is
wrong, only that it is plainly right (``tests/unit/test_listread.py`` holds the
two against each other on generated objects).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

from hsvc.adapters.fields import _ip_version
from hsvc.core import names
from hsvc.core.model import Endpoint, ObjectRef, Pod

__all__ = ["Seen", "read_endpoint", "read_pod"]

_intern = sys.intern
_is_label = names.is_dns1123_label
_is_subdomain = names.is_dns1123_subdomain


class Seen:
    """What the pods of one list share, each read once.

    Their namespaces and subdomains (checked as labels, held once) and their
    controllers' references (one per controller).
    """

    __slots__ = ("labels", "owners")

    def __init__(self) -> None:
        self.labels: dict[str, str] = {}
        self.owners: dict[tuple[str, str, str], ObjectRef] = {}


class _Unusual(Exception):  # noqa: N818  (a private signal, never raised out of here)
    """A field this reader leaves to the converter."""


def _text(obj: dict[str, Any], key: str, default: str = "") -> str:
    value = obj.get(key)
    if value is None:
        return default
    if type(value) is not str:
        raise _Unusual
    return value


def _list(obj: dict[str, Any], key: str, kind: type) -> list[Any]:
    """The list ``obj[key]`` of ``kind`` items (JSON objects or strings); [] when absent or null."""
    value = obj.get(key)
    if value is None:
        return []
    if type(value) is not list:
        raise _Unusual
    for item in value:
        if type(item) is not kind:
            raise _Unusual
    return value


def _mapping(obj: dict[str, Any], key: str) -> dict[str, Any]:
    value = obj.get(key)
    if value is None:
        return {}
    if type(value) is not dict:
        raise _Unusual
    return value


def read_pod(
    obj: Mapping[str, object], default_namespace: str, seen: Seen | None = None
) -> Pod | None:
    """The Pod :func:`~hsvc.adapters.convert.pod_from_dict` makes of ``obj``, or None.

    ``seen``: what the pods read before it from the same list share.
    """
    try:
        return _read(obj, default_namespace, seen or Seen())
    except _Unusual:
        return None


def _read(obj: Mapping[str, object], default_namespace: str, seen: Seen) -> Pod:
    if type(obj) is not dict:
        raise _Unusual
    meta = _mapping(obj, "metadata")
    spec = _mapping(obj, "spec")
    status = _mapping(obj, "status")
    get = meta.get
    name = get("name")
    hostname = _text(spec, "hostname")
    if type(name) is not str or not name:
        raise _Unusual
    if hostname == name:  # a StatefulSet's pod: one check, as every label is a subdomain
        if not _is_label(name):
            raise _Unusual
    elif not _is_subdomain(name) or (hostname and not _is_label(hostname)):
        raise _Unusual
    labels = seen.labels
    namespace = _label(labels, _text(meta, "namespace", default_namespace))
    subdomain = _text(spec, "subdomain")
    ready, ready_since = _readiness(status)
    named_ports, images, hardcoded = _containers(spec)
    return Pod(
        namespace=namespace,
        name=name,
        labels=_labels(meta),
        hostname=hostname,
        subdomain=_label(labels, subdomain) if subdomain else subdomain,
        pod_ips=_addresses(status),
        phase=_intern(_text(status, "phase", "Running")),
        ready=ready,
        has_status=bool(status),
        deleting=get("deletionTimestamp") is not None,
        host_network=_flag(spec, "hostNetwork"),
        dns_policy=_text(spec, "dnsPolicy", "ClusterFirst"),
        owner=_owner(meta, namespace, seen.owners),
        ready_since=ready_since,
        hardcoded_names=hardcoded,
        images=images,
        node_name=_text(spec, "nodeName"),
        dns_port=_dns_port(named_ports) if named_ports else None,
        named_ports=named_ports,
    )


def _label(known: dict[str, str], text: str) -> str:
    """``text``, an RFC 1123 label (a namespace, a subdomain), held once; else _Unusual.

    The pods of a list share a few of them: each is checked once, not once a pod.
    """
    label = known.get(text)
    if label is None:
        if not _is_label(text):
            raise _Unusual
        label = known[text] = _intern(text)
    return label


def _dns_port(named_ports: tuple[tuple[str, str, int], ...]) -> int | None:
    """The UDP container port named ``dns``."""
    return next((n for name, proto, n in named_ports if name == "dns" and proto == "UDP"), None)


def _condition(obj: dict[str, Any], key: str) -> bool | None:
    """A true or false field; None when absent or null."""
    value = obj.get(key)
    if value is not None and type(value) is not bool:
        raise _Unusual
    return value


def _flag(obj: dict[str, Any], key: str) -> bool:
    return _condition(obj, key) is True


def _labels(meta: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    labels = _mapping(meta, "labels")
    if not labels:
        return ()
    try:  # sys.intern takes nothing but a str: the type check of every key and value
        return tuple(sorted([(_intern(k), _intern(v)) for k, v in labels.items()]))
    except TypeError:
        raise _Unusual from None


def _addresses(status: dict[str, Any]) -> tuple[str, ...]:
    """``status.podIPs``, else ``status.podIP``: each an address the converter accepts."""
    found = tuple([_text(entry, "ip") for entry in _list(status, "podIPs", dict)])
    if not found:
        single = _text(status, "podIP")
        found = (single,) if single else ()
    for ip in found:
        if not ip or not _ip_version(ip):
            raise _Unusual
    return found


def _readiness(status: dict[str, Any]) -> tuple[bool, str]:
    """Whether the pod is ready, and since when (``_pod_ready``, ``_ready_since`` of convert)."""
    ready: bool | None = None
    since: str | None = None
    for cond in _list(status, "conditions", dict):
        state, changed = _text(cond, "status"), _text(cond, "lastTransitionTime")
        if _text(cond, "type") == "Ready":
            if ready is None:
                ready = state == "True"
            if since is None and state == "True":
                since = changed
    if not status:
        ready = True  # a manifest's pod, meant to run
    elif status.get("conditions") is None:
        ready = status.get("phase") in (None, "Running")  # just created: only a running pod
    return bool(ready), since or ""


def _containers(
    spec: dict[str, Any],
) -> tuple[tuple[tuple[str, str, int], ...], tuple[str, ...], tuple[str, ...]]:
    """Named ports, images and cluster DNS names written into the containers' settings."""
    named: list[tuple[str, str, int]] = []
    images: list[str] = []
    found: dict[str, None] = {}
    for key in ("initContainers", "containers"):
        for container in _list(spec, key, dict):
            if "command" in container or "args" in container or "env" in container:
                _hardcoded(container, found)
            if key == "initContainers":
                continue
            for port in _list(container, "ports", dict):
                protocol = _text(port, "protocol", "TCP")
                number = port.get("containerPort")
                if number is not None and type(number) is not int:
                    raise _Unusual
                port_name = _text(port, "name")
                if port_name and number:
                    named.append((port_name, protocol, number))
            image = _text(container, "image")
            if image:
                images.append(_intern(image))
    return tuple(named), tuple(images), tuple(found)


def _hardcoded(container: dict[str, Any], found: dict[str, None]) -> None:
    """Add the cluster DNS names of a container's command, args and env values to ``found``."""
    words = [*_list(container, "command", str), *_list(container, "args", str)]
    words += [_text(env, "value") for env in _list(container, "env", dict)]
    for word in words:
        low = word.lower()
        if ".svc." in low or ".pod." in low:
            found.setdefault(word, None)


def _owner(
    meta: dict[str, Any], namespace: str, made: dict[tuple[str, str, str], ObjectRef]
) -> ObjectRef | None:
    """The controller owner reference, else the first owner (the converter's ``_controller``).

    The pods of one controller share its reference: each is made once.
    """
    owners = _list(meta, "ownerReferences", dict)
    if not owners:
        return None
    chosen = None
    for owner in owners:
        if _flag(owner, "controller") and chosen is None:
            chosen = owner
    if chosen is None:
        chosen = owners[0]
    key = (_text(chosen, "kind"), _text(chosen, "namespace", namespace), _text(chosen, "name"))
    ref = made.get(key)
    if ref is None:
        kind, ref_namespace, name = key
        ref = made[key] = ObjectRef(kind=_intern(kind), namespace=_intern(ref_namespace), name=name)
    return ref


def _ref(ref: object, namespace: str) -> ObjectRef:
    """An object reference (``fields._ref``): its namespace the object's when absent."""
    if type(ref) is not dict:
        raise _Unusual
    return ObjectRef(
        kind=_intern(_text(ref, "kind")),
        namespace=_intern(_text(ref, "namespace", namespace)),
        name=_text(ref, "name"),
    )


def read_endpoint(endpoint: Mapping[str, object], family: int, namespace: str) -> Endpoint | None:
    """The Endpoint ``slice_from_dict`` makes of one of a slice's ``endpoints``, or None.

    ``family`` is 4 or 6, the slice's ``addressType``; 0 (FQDN) leaves it to the converter.
    """
    try:
        return _endpoint(endpoint, family, namespace)
    except _Unusual:
        return None


def _endpoint(endpoint: Mapping[str, object], family: int, namespace: str) -> Endpoint:
    if type(endpoint) is not dict or not family:
        raise _Unusual
    addresses = endpoint.get("addresses")
    if type(addresses) is not list or not addresses:
        raise _Unusual
    for address in addresses:
        if type(address) is not str or _ip_version(address) != family:
            raise _Unusual
    hostname = _text(endpoint, "hostname")
    if hostname and not _is_label(hostname):
        raise _Unusual
    conditions = _mapping(endpoint, "conditions")
    ready = conditions.get("ready")
    serving = conditions.get("serving")
    terminating = conditions.get("terminating")
    for state in (ready, serving, terminating):
        if state is not None and type(state) is not bool:
            raise _Unusual
    ref = endpoint.get("targetRef")
    return Endpoint(
        addresses=tuple(addresses),
        ready=ready,
        serving=serving,
        terminating=terminating,
        hostname=hostname,
        target_ref=None if ref is None else _ref(ref, namespace),
        node_name=_text(endpoint, "nodeName"),
        zone=_text(endpoint, "zone"),
    )
