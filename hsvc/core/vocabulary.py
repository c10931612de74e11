"""Closed vocabularies the CLI needs at import time (kept apart from the model: ``--help`` speed).

The model's dataclasses cost milliseconds to build; an option's choices must be
known when the CLI module loads, so they live here alone.
"""

from __future__ import annotations

from enum import StrEnum

# Defaults the CLI's flags show, written here once (the modules that use them import them).
WATCH_ALLOWANCE = 2.0  # seconds for CoreDNS's own API watch to deliver a change
DEFAULT_MAX_SERVICES = 500  # Services with their own metric labels (hsvc monitor)


class PodsMode(StrEnum):
    """The ``pods`` knob of the kubernetes plugin (dns-records.md rules 28-30)."""

    DISABLED = "disabled"
    INSECURE = "insecure"
    VERIFIED = "verified"


class Flavour(StrEnum):
    """The DNS server behind the cluster DNS Service (``--dns-flavour``, hsvc.core.flavour)."""

    COREDNS = "coredns"
    KUBE_DNS = "kube-dns"  # kubedns + dnsmasq (GKE's default, old clusters)
    CLOUD_DNS = "cloud-dns"  # GKE Cloud DNS: no DNS pods, answered on the node
