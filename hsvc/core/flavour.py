"""Which DNS server answers, and which of the rulebook's rules hold for it.

What cluster DNS serves depends on the server behind ``kube-dns`` and on its
version. Every rule in dns-records.md is stated for CoreDNS 1.14.7; this module
records, per rule, the CoreDNS versions it holds for and how kube-dns
(dnsmasq + kubedns) and GKE's Cloud DNS differ, and turns a flavour and version
into the switches the answer engine reads (:class:`~hsvc.core.model.DnsSettings`).

Version ranges were checked against the CoreDNS history (``git tag --contains``):

- R36, PTRs of endpoints without a hostname: CoreDNS #6898 restricted endpoint
  PTRs to endpoints with a hostname in 1.11.4; #7194 reverted it in 1.12.1. So
  1.11.4 up to 1.12.0 answer hostname PTRs only.
- R6, IPv6 dashed names: #7431 (1.12.3) appends ``0`` to a dashed IPv6 address
  ending in ``-`` (``fd00:1::`` -> ``fd00-1--0``); older versions leave it
  ``fd00-1--``.
- ``multicluster``: #7266, since 1.12.2 (a Corefile with it fails to start
  older servers).
- R42, ``zonal`` names: #8388, since 1.14.7.
- R11, no wildcards: #5019 removed wildcard queries in 1.9.0.
"""

from __future__ import annotations

import re
from dataclasses import replace

from hsvc.core.dataclass import dataclass
from hsvc.core.model import DnsSettings
from hsvc.core.vocabulary import Flavour

__all__ = [
    "RULE_RANGES",
    "Flavour",
    "RuleRange",
    "Version",
    "holds",
    "parse_version",
    "settings_for",
    "version_from_image",
]


Version = tuple[int, int, int]

# The version the rulebook is written for (dns-records.md section 0).
REFERENCE: Version = (1, 14, 7)
_VERSION = re.compile(r"v?(\d+)\.(\d+)(?:\.(\d+))?")


def parse_version(text: str) -> Version | None:
    """Return ``(major, minor, patch)`` from ``1.12.0``, ``v1.12.0-eks-1``, ``CoreDNS-1.12.0``."""
    match = _VERSION.search(text.strip())
    if match is None:
        return None
    major, minor, patch = match.group(1), match.group(2), match.group(3) or "0"
    return (int(major), int(minor), int(patch))


def version_from_image(image: str) -> Version | None:
    """Return the version in an image reference's tag (``registry/coredns/coredns:v1.12.0``)."""
    ref = image.split("@", 1)[0]
    last = ref.rsplit("/", 1)[-1]
    if ":" not in last:
        return None
    return parse_version(last.split(":", 1)[1])


def show(version: Version | None) -> str:
    """``1.12.0``, or ``unknown``."""
    return "unknown" if version is None else ".".join(str(p) for p in version)


@dataclass(frozen=True, slots=True, kw_only=True)
class RuleRange:
    """Where one rule (or one clause of it) holds.

    ``since``/``until`` bound the CoreDNS versions (``until`` excluded); ``gaps``
    are ranges inside them where it does not hold. ``kube_dns``/``cloud_dns``
    say whether the other flavours behave the same, ``differs`` how they don't.
    """

    rule: str
    what: str
    since: Version | None = None
    until: Version | None = None
    gaps: tuple[tuple[Version, Version], ...] = ()
    kube_dns: bool = True
    cloud_dns: bool = True
    differs: str = ""

    def holds_for(self, flavour: Flavour, version: Version | None) -> bool:
        """Return whether the rule holds for this server; an unknown version is the reference."""
        if flavour is Flavour.KUBE_DNS:
            return self.kube_dns
        if flavour is Flavour.CLOUD_DNS:
            return self.cloud_dns
        v = REFERENCE if version is None else version
        if self.since is not None and v < self.since:
            return False
        if self.until is not None and v >= self.until:
            return False
        return not any(lo <= v < hi for lo, hi in self.gaps)

    @property
    def coredns_range(self) -> str:
        """The CoreDNS versions as text: ``>= 1.12.3``, ``except >= 1.11.4 and < 1.12.1``."""
        parts = []
        if self.since is not None:
            parts.append(f">= {show(self.since)}")
        if self.until is not None:
            parts.append(f"< {show(self.until)}")
        parts.extend(f"except >= {show(lo)} and < {show(hi)}" for lo, hi in self.gaps)
        return ", ".join(parts) or "all"


# The rules whose truth depends on the server. Rules not listed hold for every
# CoreDNS version hsvc models (1.9.0 and later) and, as far as the rulebook's
# kube-dns notes say, for kube-dns too.
RULE_RANGES: dict[str, RuleRange] = {
    r.rule: r
    for r in (
        RuleRange(
            rule="R6",
            what="a dashed IPv6 endpoint name ending in '-' gets a '0' appended",
            since=(1, 12, 3),
            kube_dns=False,
            cloud_dns=False,
            differs="kube-dns names hostname-less endpoints by a hash, not the dashed address",
        ),
        RuleRange(
            rule="R11",
            what="'*' and 'any' are ordinary labels (no wildcard queries)",
            since=(1, 9, 0),
            kube_dns=False,
            differs="kube-dns answers wildcard queries",
        ),
        RuleRange(
            rule="R15",
            what="endpoint names under ClusterIP Services",
            kube_dns=False,
            cloud_dns=False,
            differs="kube-dns and Cloud DNS serve endpoint names only under headless Services",
        ),
        RuleRange(
            rule="R27",
            what="the dns-version TXT record",
            kube_dns=False,
            differs="kube-dns has no dns-version record",
        ),
        RuleRange(
            rule="R36",
            what="PTRs of endpoints without a hostname and of ClusterIP Services' endpoints",
            gaps=(((1, 11, 4), (1, 12, 1)),),
            kube_dns=False,
            cloud_dns=False,
            differs="PTR only for endpoints with a hostname (kube-dns, Cloud DNS: of headless "
            "Services only)",
        ),
        RuleRange(
            rule="R42",
            what="zone-scoped names (the zonal option)",
            since=(1, 14, 7),
            kube_dns=False,
            cloud_dns=False,
            differs="no zone-scoped names",
        ),
        RuleRange(
            rule="multicluster",
            what="the multicluster option (<ep>.<cluster>.<svc> names)",
            since=(1, 12, 2),
            kube_dns=False,
            cloud_dns=False,
            differs="no multicluster names",
        ),
    )
}


def holds(rule: str, flavour: Flavour, version: Version | None) -> bool:
    """Return whether ``rule`` holds for the server (True for rules without a range)."""
    found = RULE_RANGES.get(rule)
    return True if found is None else found.holds_for(flavour, version)


def settings_for(
    settings: DnsSettings, flavour: Flavour, version: Version | None, *, source: str = ""
) -> DnsSettings:
    """Return ``settings`` with the engine's version switches set for this server.

    The engine reads the switches, not the version: dns-records.md rules 6, 15,
    36 and 42 are gated here.
    """
    zonal = settings.zonal and holds("R42", flavour, version)
    return replace(
        settings,
        dns_flavour=flavour.value,
        dns_version=show(version) if version is not None else "",
        dns_version_source=source,
        ipv6_dashed_zero=flavour is not Flavour.COREDNS or holds("R6", flavour, version),
        clusterip_endpoint_names=holds("R15", flavour, version),
        ptr_hostname_only=not holds("R36", flavour, version),
        ptr_headless_only=flavour is not Flavour.COREDNS,
        zonal=zonal,
    )
