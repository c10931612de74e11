"""Read a resolv.conf(5) text the way glibc's stub resolver does.

A pod's ``/etc/resolv.conf`` decides which server it asks and how a short name
such as ``eureka`` expands (search list, ``ndots``). This module only parses text
the caller already has (from a pod, a file, a test); it never reads the host's own.
"""

from __future__ import annotations

import ipaddress
import re

from hsvc.core.dataclass import dataclass
from hsvc.core.model import Nameserver

# glibc's MAXNS: servers past the third are ignored.
MAX_NAMESERVERS = 3
# glibc caps ndots at 15 (RES_MAXNDOTS).
MAX_NDOTS = 15


@dataclass(frozen=True, slots=True, kw_only=True)
class ResolvConf:
    """What a stub resolver reads from one resolv.conf.

    ``search`` domains are absolute, lower-case and end with a dot. ``options``
    holds every ``options`` token as written (``ndots:5``, ``edns0``, ...);
    ``ndots`` is the value the resolver uses. ``ignored`` lists the lines glibc
    would skip, as ``line N: text (why)``, so a diagnosis can mention them.
    """

    nameservers: tuple[Nameserver, ...] = ()
    search: tuple[str, ...] = ()
    ndots: int = 1
    options: tuple[str, ...] = ()
    ignored: tuple[str, ...] = ()


def read_resolv_conf(text: str) -> ResolvConf:
    """Parse resolv.conf text as glibc does; lines glibc ignores are listed, not raised.

    ``domain`` and ``search`` replace each other (the last one wins); ``options``
    lines add up, and a later ``ndots:N`` overrides an earlier one.

    Args:
        text: The whole file's contents.

    Returns:
        The nameservers (port 53), search list, ndots and options it sets.
    """
    nameservers: list[Nameserver] = []
    search: list[str] = []
    options: list[str] = []
    ignored: list[str] = []
    ndots = 1

    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        keyword, *args = line.split()
        why = ""
        if keyword == "nameserver":
            # glibc reads the first token up to ";" or "#" and ignores the rest.
            first = re.split(r"[;#]", args[0], maxsplit=1)[0] if args else ""
            address = _address(first)
            if address is None:
                why = "not an IP address"
            elif len(nameservers) == MAX_NAMESERVERS:
                why = f"only the first {MAX_NAMESERVERS} nameservers are used"
            else:
                nameservers.append(Nameserver(host=address, port=53))
        elif keyword in ("search", "domain"):
            if keyword == "domain" and len(args) != 1:
                why = "expected one domain"
            else:
                search = [_absolute(domain) for domain in args if domain.strip(".")]
        elif keyword == "options":
            for option in args:
                options.append(option)
                name, _, value = option.partition(":")
                if name != "ndots":
                    continue
                if value.isdigit():
                    ndots = min(int(value), MAX_NDOTS)
                else:
                    why = f"{option}: ndots needs a number"
        else:
            why = "unknown keyword"
        if why:
            ignored.append(f"line {number}: {line} ({why})")

    return ResolvConf(
        nameservers=tuple(nameservers),
        search=tuple(search),
        ndots=ndots,
        options=tuple(options),
        ignored=tuple(ignored),
    )


def _address(text: str) -> str | None:
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None


def _absolute(domain: str) -> str:
    return domain.lower().rstrip(".") + "."
