"""Reading fields of object dicts: typed, with the path of every bad field; values checked.

Values are checked as the API server checks them (k8s.io/kubernetes
``pkg/apis/core/validation``).

Shared by the converters (:mod:`hsvc.adapters.convert`,
:mod:`hsvc.adapters.appobjects`); raises only :class:`ConversionError`.
"""

from __future__ import annotations

import ipaddress
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import TypeVar

from hsvc.core import names
from hsvc.core.model import (
    LabelRequirement,
    Labels,
    LabelSelector,
    ObjectRef,
)

_SELECTOR_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")

PathPart = str | int
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
    if type(value) is dict:  # what JSON decodes to: no abstract-class check (150,000 pods)
        return value
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConversionError(path, f"expected a mapping, got {_type_name(value)}")
    return value


def _list(value: object, path: tuple[PathPart, ...]) -> Sequence[object]:
    if type(value) is list:  # what JSON decodes to
        return value
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
    value = obj.get(key)
    if value is None:
        return ()
    if type(value) is list:  # what JSON decodes to (an address list of 150,000 endpoints)
        for item in value:
            if type(item) is not str:
                break
        else:
            return tuple(value)
    items = _list(value, (*path, key))
    out: list[str] = []
    for i, item in enumerate(items):
        if not isinstance(item, str):
            raise ConversionError((*path, key, i), f"expected a string, got {_type_name(item)}")
        out.append(item)
    return tuple(out)


def shared(text: object) -> str:
    """The one copy of a value that many objects repeat (a namespace, a label, an image)."""
    # str(): intern takes only an exact str (a YAML key may be an int)
    return _intern(text if type(text) is str else str(text))


_intern = sys.intern


def _labels(obj: Mapping[str, object], key: str, path: tuple[PathPart, ...]) -> Labels:
    mapping = _mapping(obj.get(key), (*path, key))
    for name, value in mapping.items():
        # The API rejects non-string label values; YAML's `version: 1` is the usual cause.
        if not isinstance(value, str):
            raise ConversionError((*path, key, name), f"expected a string, got {_type_name(value)}")
    # Interned: the pods of one workload carry the same labels. Every key and value
    # comes out of shared() a str, so the map is sorted as it is (what labels_of does).
    return tuple(sorted({shared(k): shared(v) for k, v in mapping.items()}.items()))


def _each(
    obj: Mapping[str, object], key: str, path: tuple[PathPart, ...]
) -> Iterable[tuple[Mapping[str, object], tuple[PathPart, ...]]]:
    """Each mapping of the list ``obj[key]`` with its path (an error where it is met).

    An absent list and a list of dicts (what JSON decodes to: some 20 lists a
    pod) are read at once; anything else item by item, so a bad item is met
    after the items before it, as a walk of the list meets it.
    """
    value = obj.get(key)
    if value is None:
        return ()
    if type(value) is list:
        found = []
        for i, item in enumerate(value):
            if type(item) is not dict:
                return _each_item(value, key, path)
            found.append((item, (*path, key, i)))
        return found
    return _each_item(value, key, path)


def _each_item(
    value: object, key: str, path: tuple[PathPart, ...]
) -> Iterable[tuple[Mapping[str, object], tuple[PathPart, ...]]]:
    for i, item in enumerate(_list(value, (*path, key))):
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
    # Interned: a namespace is held by every object in it (150,000 pods, a few names).
    namespace = (
        shared(_str(meta, "namespace", ("metadata",), default_namespace)) if namespaced else ""
    )
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
    # A label is a subdomain too: checked as a label, a name needs no second check.
    if not label and not names.is_dns1123_subdomain(text):
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
# Dotted-quad IPv4 without leading zeros: exactly what ipaddress accepts as version 4
# in that form (anything else goes to ipaddress).
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])"
_IPV4 = re.compile(rf"{_OCTET}(?:\.{_OCTET}){{3}}")


def _ip_version(text: str) -> int:
    """Return 4 or 6 for an address the API server accepts, 0 for anything else.

    A zone (``fe80::1%eth0``) is refused, as Go's ``net.ParseIP`` refuses it;
    Python's ipaddress would keep it and fail later on the reverse name.
    """
    if _IPV4.fullmatch(text):
        return 4  # the usual form (a pod's, an endpoint's address), without ipaddress
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
        kind=shared(_str(ref, "kind", path)),
        namespace=shared(_str(ref, "namespace", path, default_namespace)),
        name=_str(ref, "name", path),
    )


def _object_ref(
    obj: Mapping[str, object], key: str, path: tuple[PathPart, ...], default_namespace: str
) -> ObjectRef | None:
    if obj.get(key) is None:
        return None
    ref_path = (*path, key)
    return _ref(_mapping(obj[key], ref_path), ref_path, default_namespace)


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


def _named_ports(
    spec: Mapping[str, object], path: tuple[PathPart, ...]
) -> tuple[tuple[str, str, int], ...]:
    """Every named containerPort of a pod spec: (name, protocol, number)."""
    found: list[tuple[str, str, int]] = []
    for container, c_path in _each(spec, "containers", path):
        for port, p_path in _each(container, "ports", c_path):
            protocol = _str(port, "protocol", p_path, "TCP")
            number = _int(port, "containerPort", p_path)
            name = _str(port, "name", p_path)
            if name and number:
                found.append((name, protocol, number))
    return tuple(found)


def _template_spec(spec: Mapping[str, object]) -> tuple[Mapping[str, object], Mapping[str, object]]:
    """Return ``(template metadata, template spec)`` of a workload's ``spec.template``."""
    template = _mapping(spec.get("template"), ("spec", "template"))
    return (
        _mapping(template.get("metadata"), ("spec", "template", "metadata")),
        _mapping(template.get("spec"), ("spec", "template", "spec")),
    )
