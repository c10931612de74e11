"""Which DNS servers to ask: ``--nameserver`` values read, nameservers checked.

The host must be an IP address: a host name would need the host's resolver to
look it up, which hsvc never consults.
"""

from __future__ import annotations

import ipaddress
import socket

from hsvc.core.model import Nameserver
from hsvc.errors import UsageError

_NAMESERVER_HELP = "use HOST[:PORT], [IPv6]:PORT or a bare IPv6 address, e.g. 10.96.0.10:53"


def address_family(host: str) -> int:
    """The socket family of an address written as text, as ``dns.inet.af_for_address``.

    The usual literals are told apart by the OS's parser, which accepts no text
    dnspython rejects (property-tested against it, tests/unit/test_resolver_units.py);
    anything else (an IPv6 scope, say) is left to dnspython, so a run asking
    servers by plain address does not import it.

    Raises:
        ValueError: The text is neither an IPv4 nor an IPv6 address.
    """
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            socket.inet_pton(family, host)
        except (OSError, ValueError):
            continue
        return family
    import dns.inet  # noqa: TID251

    return dns.inet.af_for_address(host)


def parse_nameserver(text: str) -> Nameserver:
    """Read a ``--nameserver`` value: ``HOST[:PORT]``, ``[IPv6]:PORT`` or a bare IPv6.

    The host must be an IP address: a host name would need the host's resolver
    to look it up, which this tool never consults.

    Raises:
        UsageError: The text is not an IP address with an optional port 1-65535.
    """
    raw = text.strip()
    port = 53
    if raw.startswith("["):
        host, bracket, rest = raw[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            raise UsageError(
                f"invalid --nameserver {text!r}: expected [IPv6] or [IPv6]:PORT; "
                + _NAMESERVER_HELP
            )
        if rest:
            port = _port(text, rest[1:])
        if ":" not in host:
            raise UsageError(
                f"invalid --nameserver {text!r}: only IPv6 addresses go in brackets; "
                + _NAMESERVER_HELP
            )
    elif raw.count(":") == 1:
        host, _, port_text = raw.partition(":")
        port = _port(text, port_text)
    else:
        # No colon: an IPv4 address or a name; two or more: a bare IPv6 address.
        host = raw
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        reason = "empty" if not host else f"{host!r} is not an IP address"
        raise UsageError(f"invalid --nameserver {text!r}: {reason}; {_NAMESERVER_HELP}") from None
    return Nameserver(host=str(address), port=port)


def _port(text: str, port_text: str) -> int:
    if not (port_text.isascii() and port_text.isdigit()) or not 1 <= int(port_text) <= 65535:
        raise UsageError(
            f"invalid --nameserver {text!r}: port {port_text!r} is not a number from 1 to 65535"
        )
    return int(port_text)


def check_server(server: Nameserver) -> None:
    """Check a nameserver given as an object: an IP address and a port 1-65535.

    Raises:
        UsageError: It is not.
    """
    try:
        ipaddress.ip_address(server.host)
    except ValueError:
        raise UsageError(
            f"nameserver {server.host!r} is not an IP address; give its address, e.g. 10.96.0.10"
        ) from None
    if not 1 <= server.port <= 65535:
        raise UsageError(f"nameserver {server}: port {server.port} is not from 1 to 65535")
