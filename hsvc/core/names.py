"""DNS name helpers: validation, absolute lower-case form, reverse names, dashed IPs.

Everything here is pure; invalid input raises :class:`InvalidName` (a
``ValueError``), which the command layer turns into exit code 2.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Iterable

MAX_LABEL = 63
MAX_NAME = 253

_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


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
    if not text:
        raise InvalidName(name, "empty name")
    if text == ".":
        return "."
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


def is_dns1123_label(text: str) -> bool:
    """Return whether ``text`` is a valid RFC 1123 label (what a hostname must be)."""
    # fullmatch: `$` alone would let a trailing newline through.
    return len(text) <= MAX_LABEL and bool(_DNS1123_LABEL.fullmatch(text))


def is_dns1123_subdomain(text: str) -> bool:
    """Return whether ``text`` is a valid RFC 1123 subdomain (what most object names must be)."""
    return 0 < len(text) <= 253 and all(is_dns1123_label(part) for part in text.split("."))


_DNS1035_LABEL = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")


def is_dns1035_label(text: str) -> bool:
    """Return whether ``text`` is a valid RFC 1035 label (apimachinery IsDNS1035Label)."""
    return len(text) <= MAX_LABEL and bool(_DNS1035_LABEL.fullmatch(text))


# Cached: answering thousands of questions parses the same few thousand addresses
# again and again, and ipaddress parsing is slow.
@functools.lru_cache(maxsize=1 << 16)
def canonical_ip(text: str) -> str | None:
    """Return the canonical (compressed) form of an IP address, or None if it is not one."""
    try:
        return str(ipaddress.ip_address(text.strip()))
    except ValueError:
        return None


@functools.lru_cache(maxsize=1 << 16)
def ip_family(text: str) -> int:
    """Return 4 or 6 for an IP address string, 0 when it is not one."""
    try:
        return ipaddress.ip_address(text).version
    except ValueError:
        return 0


def reverse_name(ip: str) -> str:
    """Return the PTR owner name of an address (full 32 nibbles for IPv6, rule 34)."""
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


def _strict_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """``; did you mean "x"?`` for the closest of ``candidates`` (the objects read), else ""."""
    import difflib

    close = difflib.get_close_matches(name, sorted(set(candidates)), n=3, cutoff=0.6)
    if not close:
        return ""
    return "; did you mean " + " or ".join(f'"{c}"' for c in close) + "?"
