"""DNS name helpers: validation, absolute lower-case form, reverse names, dashed IPs.

Everything here is pure; invalid input raises :class:`InvalidName` (a
``ValueError``), which the command layer turns into exit code 2.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Iterable, Sequence
from enum import StrEnum
from typing import NamedTuple

from hsvc.core.dataclass import dataclass

MAX_LABEL = 63
MAX_NAME = 253

_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
# A name absolute() writes back as it is, lower-cased: printable ASCII without the
# space, the backslash and the bytes a presentation-form label escapes (_ESCAPED).
_PLAIN_NAME = re.compile(r"[!#%&'*+,\-./0-9:<=>?A-Z\[\]^_`a-z{|}~]+")
# The same characters as labels of 1 to 63 (dots apart), each ending with a dot: an
# absolute name that is written back as it is, lower-cased, in one match.
_PLAIN_ABSOLUTE = re.compile(r"(?:[!#%&'*+,\-/0-9:<=>?A-Z\[\]^_`a-z{|}~]{1,63}\.)+")
# An IPv4 address as ipaddress writes it (no leading zeros): its canonical form.
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4 = re.compile(rf"{_OCTET}\.{_OCTET}\.{_OCTET}\.{_OCTET}")


class InvalidName(ValueError):  # noqa: N818 - reads as "an invalid name"
    """A string that cannot be a DNS name (or a Kubernetes name where one is needed)."""

    def __init__(self, name: str, reason: str) -> None:
        self.name = name
        self.reason = reason
        super().__init__(f"invalid name {name!r}: {reason}")


def absolute(name: str) -> str:
    r"""Return ``name`` lower-cased and ending with exactly one dot.

    ``\DDD`` and ``\X`` escapes (RFC 1035 5.1) are decoded and the name is
    written back in the presentation form DNS libraries print (dnspython's
    ``to_text``): ``\103ateway`` is ``gateway``, an escaped dot stays ``\.``.
    So a name as typed and the same name as a server echoes it compare equal.

    Raises:
        InvalidName: on empty labels, labels over 63 octets, names over 253 octets
            or characters that cannot appear in a DNS name.
    """
    text = name.strip()
    if len(text) <= MAX_NAME + 1 and _PLAIN_ABSOLUTE.fullmatch(text):
        # The usual absolute name, checked in one match (the same string when lower-case).
        return text if text.islower() else text.lower()
    if not text:
        raise InvalidName(name, "empty name")
    if text == ".":
        return "."
    if _PLAIN_NAME.fullmatch(text):  # the usual name: no escapes, so no decoding
        body = text[:-1] if text[-1] == "." else text
        parts = body.split(".")
        if len(body) <= MAX_NAME and "" not in parts and max(map(len, parts)) <= MAX_LABEL:
            return body.lower() + "."
    return _decoded(name, text)


def _decoded(name: str, text: str) -> str:
    """:func:`absolute` of any name: escapes decoded, each label written back."""
    # Printable ASCII without the space, i.e. every character in 33..126.
    if not (text.isascii() and text.isprintable()) or " " in text:
        raise InvalidName(name, "contains spaces, control or non-ASCII characters")
    parts = _wire_labels(name, text)
    for label in parts:
        if not label:
            raise InvalidName(name, "empty label (two dots in a row, or a leading dot)")
        if len(label) > MAX_LABEL:
            shown = _present(label)
            raise InvalidName(name, f"label {shown[:20]!r}… is longer than {MAX_LABEL} characters")
    if sum(len(label) + 1 for label in parts) - 1 > MAX_NAME:
        raise InvalidName(name, f"longer than {MAX_NAME} characters")
    return ".".join(_present(label.lower()) for label in parts) + "."


# Bytes a presentation-form label escapes with a backslash (dnspython's _escaped).
_ESCAPED = frozenset(b'"().;\\@$')


def _wire_labels(name: str, text: str) -> list[bytes]:
    """Split presentation text into labels as bytes, decoding escapes; a final dot ends it."""
    labels: list[bytes] = []
    label = bytearray()
    i = 0
    while i < len(text):
        char = text[i]
        if char == ".":
            labels.append(bytes(label))
            label = bytearray()
            i += 1
            if i == len(text):
                return labels  # the trailing dot of an absolute name
            continue
        if char != "\\":
            label.append(ord(char))
            i += 1
            continue
        digits = text[i + 1 : i + 4]
        if digits[:1].isdigit():
            if len(digits) < 3 or not digits.isdigit() or int(digits) > 255:
                raise InvalidName(name, "a \\DDD escape needs three digits, at most 255")
            label.append(int(digits))
            i += 4
        elif digits:
            label.append(ord(digits[0]))
            i += 2
        else:
            raise InvalidName(name, "a backslash ends the name")
    labels.append(bytes(label))
    return labels


def _present(label: bytes) -> str:
    """A label in presentation form, escaped as dnspython escapes it."""
    out = []
    for byte in label:
        if byte in _ESCAPED:
            out.append("\\" + chr(byte))
        elif 0x20 < byte < 0x7F:
            out.append(chr(byte))
        else:
            out.append(f"\\{byte:03d}")
    return "".join(out)


def under(zone: str, prefix: str) -> str:
    """Return the absolute name ``prefix`` under ``zone``: ``a.b`` under ``.`` is ``a.b.``.

    Cluster zones may be the root (``kubernetes .``): gluing with a dot would
    give ``a.b..``, a name with an empty label.
    """
    return f"{prefix}." if zone == "." else f"{prefix}.{zone}"


def fits(name: str) -> bool:
    """Return whether an absolute name is at most 253 characters (255 octets on the wire)."""
    return len(name.rstrip(".")) <= MAX_NAME


def labels(name: str) -> list[str]:
    """Split an absolute name into its labels, leftmost first (the root has none)."""
    stripped = name.rstrip(".")
    return stripped.split(".") if stripped else []


def is_subdomain(name: str, zone: str) -> bool:
    """Return whether absolute ``name`` equals ``zone`` or lies beneath it."""
    return name == zone or zone == "." or name.endswith("." + zone)


def trim_zone(name: str, zone: str) -> list[str]:
    """Return the labels of ``name`` left of ``zone`` (which it must lie in)."""
    if name == zone:
        return []
    return labels(name[: -len(zone) - 1] + ".") if zone != "." else labels(name)


# apimachinery's validation (k8s.io/apimachinery/pkg/util/validation), as the API
# server applies it per kind and field: a label is at most 63 characters, a
# subdomain at most 253 with no limit per dot-separated part.
_DNS1123_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_DNS1035_LABEL = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")


def dns1123_label_errors(text: str) -> list[str]:
    """Return why ``text`` is not an RFC 1123 label as the API server checks it (empty: valid).

    Namespace names, pod ``spec.hostname`` and ``spec.subdomain`` are such labels.
    """
    errors = []
    if len(text) > MAX_LABEL:
        errors.append(f"must be no more than {MAX_LABEL} characters")
    # fullmatch: `$` alone would let a trailing newline through.
    if not _DNS1123_LABEL.fullmatch(text):
        errors.append(
            "must be lower-case letters, digits or '-', starting and ending with a letter or digit"
        )
    return errors


def dns1123_subdomain_errors(text: str) -> list[str]:
    """Return why ``text`` is not an RFC 1123 subdomain as the API server checks it.

    Pod, EndpointSlice, StatefulSet and Deployment names are subdomains: at most
    253 characters, dot-separated parts of letters, digits and '-', and no
    63-character limit on a part (a pod name may be longer than a DNS label).
    """
    errors = []
    if len(text) > MAX_NAME:
        errors.append(f"must be no more than {MAX_NAME} characters")
    if not _DNS1123_SUBDOMAIN.fullmatch(text):
        errors.append(
            "must be lower-case letters, digits, '-' or '.', starting and ending with a "
            "letter or digit"
        )
    return errors


def dns1035_label_errors(text: str) -> list[str]:
    """Return why ``text`` is not an RFC 1035 label as the API server checks it.

    Service names are such labels: at most 63 characters, starting with a letter.
    """
    errors = []
    if len(text) > MAX_LABEL:
        errors.append(f"must be no more than {MAX_LABEL} characters")
    if not _DNS1035_LABEL.fullmatch(text):
        errors.append(
            "must be lower-case letters, digits or '-', starting with a letter and ending "
            "with a letter or digit"
        )
    return errors


def is_dns1123_label(text: str) -> bool:
    """Return whether ``text`` is a valid RFC 1123 label (apimachinery IsDNS1123Label)."""
    # What dns1123_label_errors finds no fault with, without building its messages.
    return len(text) <= MAX_LABEL and _DNS1123_LABEL.fullmatch(text) is not None


def is_dns1123_subdomain(text: str) -> bool:
    """Return whether ``text`` is a valid RFC 1123 subdomain (apimachinery IsDNS1123Subdomain)."""
    return len(text) <= MAX_NAME and _DNS1123_SUBDOMAIN.fullmatch(text) is not None


def is_dns1035_label(text: str) -> bool:
    """Return whether ``text`` is a valid RFC 1035 label (apimachinery IsDNS1035Label)."""
    return not dns1035_label_errors(text)


# Cached: answering thousands of questions parses the same few thousand addresses
# again and again, and ipaddress parsing is slow.
@functools.lru_cache(maxsize=1 << 16)
def canonical_ip(text: str) -> str | None:
    """Return the canonical (compressed) form of an IP address, or None if it is not one."""
    stripped = text.strip()
    if _IPV4.fullmatch(stripped):
        return stripped
    try:
        return str(ipaddress.ip_address(stripped))
    except ValueError:
        return None


@functools.lru_cache(maxsize=1 << 16)
def ip_family(text: str) -> int:
    """Return 4 or 6 for an IP address string, 0 when it is not one."""
    if _IPV4.fullmatch(text):
        return 4
    try:
        return ipaddress.ip_address(text).version
    except ValueError:
        return 0


def reverse_name(ip: str) -> str:
    """Return the PTR owner name of an address (full 32 nibbles for IPv6, rule 34)."""
    if _IPV4.fullmatch(ip):
        return ".".join(reversed(ip.split("."))) + ".in-addr.arpa."
    return ipaddress.ip_address(ip).reverse_pointer.lower() + "."


def address_from_reverse(name: str) -> str | None:
    """Return the address a full reverse name stands for, or None if it is partial or malformed."""
    parts = labels(name)
    if name.endswith(".in-addr.arpa.") and len(parts) == 6:
        octets = parts[:4]
        if all(o.isdigit() and len(o) <= 3 for o in octets):
            return canonical_ip(".".join(reversed(octets)))
        return None
    if name.endswith(".ip6.arpa.") and len(parts) == 34:
        nibbles = parts[:32]
        if all(len(n) == 1 and n in "0123456789abcdef" for n in nibbles):
            hexstr = "".join(reversed(nibbles))
            return canonical_ip(":".join(hexstr[i : i + 4] for i in range(0, 32, 4)))
        return None
    return None


def dashed_ip(ip: str, *, trailing_zero: bool = True) -> str:
    """Return an address as an endpoint label (rule 6 item 3).

    IPv4 dots and IPv6 colons become dashes, in the address as written; a trailing
    dash gets a ``0`` appended (``fd00:1::`` -> ``fd00-1--0``). CoreDNS before
    1.12.3 leaves the trailing dash (``trailing_zero=False``, hsvc.core.flavour).
    """
    if "." in ip:
        return ip.replace(".", "-")
    label = ip.replace(":", "-")
    return label + "0" if trailing_zero and label.endswith("-") else label


def decode_pod_label(label: str) -> str:
    """Decode a pod-record label as the pods option does, without validating it (rule 29).

    Exactly three dashes and no ``--`` decode as IPv4, anything else as IPv6.
    """
    if label.count("-") == 3 and "--" not in label:
        return label.replace("-", ".")
    return label.replace("-", ":")


def ip_from_pod_label(label: str) -> str | None:
    """Decode a pod-record label to a canonical address, or None if it is not one (rule 29)."""
    text = decode_pod_label(label)
    return canonical_ip(text) if _strict_ip(text) else None


# Every character of an address ipaddress reads, but for a scope ID (after "%").
_IP_CHARS = frozenset("0123456789abcdefABCDEF:.")


def _strict_ip(text: str) -> bool:
    if _IPV4.fullmatch(text):
        return True
    if "%" not in text and not _IP_CHARS.issuperset(text):
        return False  # a pod name, say: no address, without ipaddress's two failed parses
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


# --- what a query name addresses (dns-records.md rule 9) ----------------------------


class NameKind(StrEnum):
    """What a query name addresses in cluster DNS, read as CoreDNS's parse.go reads it."""

    OUTSIDE = "outside"  # in no zone of the plugin: handed to the next plugin (forward)
    APEX = "apex"  # <Z>, svc.<Z>, pod.<Z> (rule 32)
    DNS_VERSION = "dns-version"  # dns-version.<Z> (rule 27)
    NS_DNS = "ns-dns"  # ns.dns.<Z>: the DNS server's own name (rule 32)
    INVALID = "invalid"  # the label before <Z> is neither svc nor pod (rule 9)
    NAMESPACE = "namespace"  # <ns>.svc / <ns>.pod (rule 33)
    SERVICE = "service"  # <svc>.<ns>.svc (rules 12, 16, 24)
    ENDPOINT = "endpoint"  # <ep>.<svc>.<ns>.svc (rules 15, 17)
    PORT = "port"  # _<port>._<proto>.<svc>.<ns>.svc (rules 13, 18, 20)
    ZONAL = "zonal"  # <topo>.pin|prefer._zone.<svc>.<ns>.svc (rule 42)
    TOO_LONG = "too-long"  # three or more labels before <svc> (rule 9)
    POD = "pod"  # <x>.<ns>.pod (rules 28-31)
    REVERSE = "reverse"  # a full reverse name: PTR of one address (rules 34-37)
    REVERSE_OTHER = "reverse-other"  # a partial or malformed name in a reverse zone


@dataclass(frozen=True, slots=True, kw_only=True)
class ParsedName:
    """One query name, parsed once: the zone it lies in and what it addresses.

    Fields are lower-case (matching is case-insensitive, rule 10); ``name`` is the
    absolute name as asked, spelling kept, for owner names.
    """

    name: str
    kind: NameKind
    zone: str = ""
    namespace: str = ""
    service: str = ""
    endpoint: str = ""
    port: str = ""
    protocol: str = ""
    topology: str = ""  # zonal: the topology zone (may hold dots)
    prefer: bool = False  # zonal: prefer (fall back to every endpoint) rather than pin
    pod_label: str = ""  # pod records: the label decoded as an address (rule 29)
    address: str = ""  # reverse names: the canonical address
    extra: tuple[str, ...] = ()  # labels left of what CoreDNS reads (rule 31)

    @property
    def lower(self) -> str:
        """The name in lower case."""
        return self.name.lower()


def spelled_absolute(name: str) -> str:
    """Return ``name`` absolute with its spelling kept (as CoreDNS echoes it, rule 10).

    Raises:
        InvalidName: as :func:`absolute`.
    """
    lower = absolute(name)
    text = name.strip()
    if lower == ".":
        return "."
    spelled = text if text.endswith(".") else text + "."
    # Escaped names are kept in the presentation form absolute() writes.
    return spelled if spelled.lower() == lower else lower


def zone_of(name: str, zones: Sequence[str]) -> str | None:
    """Return the longest of ``zones`` that ``name`` (absolute, lower-case) lies in, or None."""
    if isinstance(zones, tuple):
        # Longest first (ties in their order): the first zone the name lies in.
        for zone, below in _longest_first(zones):
            if name == zone or zone == "." or name.endswith(below):
                return zone
        return None
    best: str | None = None
    for zone in zones:
        if is_subdomain(name, zone) and (best is None or len(zone) > len(best)):
            best = zone
    return best


@functools.lru_cache(maxsize=64)
def _longest_first(zones: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """Each zone with ``.zone`` (what a name below it ends with), the longest first."""
    return tuple((zone, "." + zone) for zone in sorted(zones, key=len, reverse=True))


_REVERSE_APEXES = ("in-addr.arpa.", "ip6.arpa.")
_BELOW_REVERSE = (".in-addr.arpa.", ".ip6.arpa.")


def is_reverse_zone(zone: str) -> bool:
    """Return whether ``zone`` lies in ``in-addr.arpa.`` or ``ip6.arpa.``."""
    return zone in _REVERSE_APEXES or zone.endswith(_BELOW_REVERSE)


# long: the plugin's parse order, one step per name form, reads best as one walk (rule 9)
def parse_query(
    name: str, zones: Sequence[str], *, zonal: bool = False, absolute_name: bool = False
) -> ParsedName:
    """Parse a query name once into what it addresses, given the plugin's zones.

    The one reading of a name used by the answer engine, ``explain`` and the
    diagnostics (dns-records.md rule 9; CoreDNS parse.go ``parseRequest``).
    ``absolute_name``: ``name`` is what :func:`absolute` returned (checked, lower-case),
    so it is not read again.

    Raises:
        InvalidName: ``name`` is not a valid DNS name.
    """
    spelled = name if absolute_name else spelled_absolute(name)
    lower = spelled if absolute_name else spelled.lower()
    zone = zone_of(lower, zones)
    if zone is None:
        return ParsedName(name=spelled, kind=NameKind.OUTSIDE)
    if is_reverse_zone(zone) or is_reverse_zone(lower):
        address = address_from_reverse(lower)
        if address is not None:
            return ParsedName(name=spelled, kind=NameKind.REVERSE, zone=zone, address=address)
        if is_reverse_zone(zone):
            return ParsedName(name=spelled, kind=NameKind.REVERSE_OTHER, zone=zone)
    rest = trim_zone(lower, zone)
    if rest in ([], ["svc"], ["pod"]):
        return ParsedName(name=spelled, kind=NameKind.APEX, zone=zone)
    if rest == ["dns-version"]:
        return ParsedName(name=spelled, kind=NameKind.DNS_VERSION, zone=zone)
    if rest == ["ns", "dns"]:
        return ParsedName(name=spelled, kind=NameKind.NS_DNS, zone=zone)
    kind = rest[-1]
    if kind not in ("svc", "pod"):
        return ParsedName(name=spelled, kind=NameKind.INVALID, zone=zone)
    namespace = rest[-2] if len(rest) >= 2 else ""
    if len(rest) == 2:
        return ParsedName(name=spelled, kind=NameKind.NAMESPACE, zone=zone, namespace=namespace)
    service = rest[-3]
    extra = rest[:-3]
    if kind == "pod":
        # Rule 31: CoreDNS reads the label before the namespace as the address and
        # ignores one or two labels left of it; three or more are an invalid request.
        if len(extra) > 2:
            return ParsedName(name=spelled, kind=NameKind.TOO_LONG, zone=zone, namespace=namespace)
        return ParsedName(
            name=spelled,
            kind=NameKind.POD,
            zone=zone,
            namespace=namespace,
            pod_label=service,
            extra=tuple(extra),
        )
    at = (spelled, zone, namespace, service)
    if not extra:
        return _below_service(NameKind.SERVICE, *at)
    if len(extra) == 1:
        return _below_service(NameKind.ENDPOINT, *at, endpoint=extra[0])
    if len(extra) == 2:
        port, protocol = extra[0].removeprefix("_"), extra[1].removeprefix("_")
        return _below_service(NameKind.PORT, *at, port=port, protocol=protocol)
    if zonal and extra[-1] == "_zone" and extra[-2] in ("pin", "prefer"):
        # Rule 42: the topology zone is every label left of the directive.
        topology, prefer = ".".join(extra[:-2]), extra[-2] == "prefer"
        return _below_service(NameKind.ZONAL, *at, topology=topology, prefer=prefer)
    return _below_service(NameKind.TOO_LONG, *at)


def _below_service(
    kind: NameKind,
    name: str,
    zone: str,
    namespace: str,
    service: str,
    *,
    endpoint: str = "",
    port: str = "",
    protocol: str = "",
    topology: str = "",
    prefer: bool = False,
) -> ParsedName:
    """A name at or below ``<service>.<namespace>.svc.<zone>``, as :func:`parse_query` read it."""
    return ParsedName(
        name=name,
        kind=kind,
        zone=zone,
        namespace=namespace,
        service=service,
        endpoint=endpoint,
        port=port,
        protocol=protocol,
        topology=topology,
        prefer=prefer,
    )


class Parent(NamedTuple):
    """A name the planner builds names one label below, parsed once (:func:`parent`)."""

    parsed: ParsedName
    child: NameKind | None  # what a plain label below reads as; None: parse each child


def parent(name: str, zones: Sequence[str], *, zonal: bool = False) -> Parent:
    """Parse ``name`` (what :func:`absolute` returned) once, for the names one label below it.

    Below a Service's name a label is an endpoint (rule 15), below ``<ns>.pod`` a pod
    address (rule 28); anything else is parsed name by name (:func:`parse_child`).
    """
    parsed = parse_query(name, zones, zonal=zonal, absolute_name=True)
    child = None
    if parsed.zone and not (is_reverse_zone(parsed.zone) or is_reverse_zone(name)):
        if parsed.kind is NameKind.SERVICE:
            child = NameKind.ENDPOINT
        elif parsed.kind is NameKind.NAMESPACE and trim_zone(name, parsed.zone)[-1] == "pod":
            child = NameKind.POD
    return Parent(parsed, child)


def parse_child(
    above: Parent, label: str, name: str, zones: Sequence[str], *, zonal: bool = False
) -> ParsedName:
    """:func:`parse_query` of ``name``, which is ``label`` and a dot before ``above``'s name.

    ``name`` is what :func:`absolute` returned. The name lies in the zone its parent
    lies in unless it is a zone itself, so one plain label (no dot) below a Service
    or ``<ns>.pod`` is read from the parent's parse without reading the name again.
    """
    p = above.parsed
    if above.child is None or not label or "." in label or name in zones:
        return parse_query(name, zones, zonal=zonal, absolute_name=True)
    if above.child is NameKind.ENDPOINT:
        return ParsedName(
            name=name,
            kind=NameKind.ENDPOINT,
            zone=p.zone,
            namespace=p.namespace,
            service=p.service,
            endpoint=label,
        )
    return ParsedName(
        name=name, kind=NameKind.POD, zone=p.zone, namespace=p.namespace, pod_label=label
    )


def parse_reverse(address: str, name: str, zones: Sequence[str]) -> ParsedName:
    """:func:`parse_query` of ``name``, the :func:`reverse_name` of ``address`` (rule 34).

    An IPv4 address in its canonical form is what the full reverse name reads back as.
    """
    if not _IPV4.fullmatch(address):
        return parse_query(name, zones, absolute_name=True)
    zone = zone_of(name, zones)
    if zone is None:
        return ParsedName(name=name, kind=NameKind.OUTSIDE)
    return ParsedName(name=name, kind=NameKind.REVERSE, zone=zone, address=address)


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """``; did you mean "x"?`` for the closest of ``candidates`` (the objects read), else ""."""
    import difflib

    close = difflib.get_close_matches(name, sorted(set(candidates)), n=3, cutoff=0.6)
    if not close:
        return ""
    return "; did you mean " + " or ".join(f'"{c}"' for c in close) + "?"
