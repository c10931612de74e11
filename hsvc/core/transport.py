"""Whether DNS answers reach clients: UDP size and truncation, TCP, NetworkPolicies, layers.

Pure checks; :mod:`hsvc.core.diagnose` turns what they return into findings
(codes HSVC801-HSVC807, docs/reference/findings.md). An answer larger than the
UDP payload a client offers comes back truncated (TC) and must be asked again
over TCP; clients that never retry (musl before 1.2.4, as in Alpine images, and
some JVM settings) see a partial or empty answer. So TCP 53 must be open all
the way: the DNS Service must expose it and no NetworkPolicy may allow UDP 53
alone.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

from hsvc.core.model import (
    ObjectRef,
    Observation,
    Pod,
    Rcode,
    Service,
    Severity,
)
from hsvc.core.policies import DNS_PORT, DnsPods, Found, Peer, Ternary, network_policies, selects

# The UDP payload a client without EDNS may receive (RFC 1035 4.2.1); glibc sends
# no EDNS unless resolv.conf says "options edns0", musl never does.
CLASSIC_UDP = 512


# The payload hsvc offers over UDP (and what most EDNS clients offer, DNS flag day 2020).
EDNS_UDP = 1232


# Image names that suggest musl libc (Alpine-based), whose resolver did not retry
# truncated answers over TCP before musl 1.2.4.
_MUSL_HINTS = ("alpine", "musl", "distroless/static")


# code -> (severity, title, rules)
CHECKS: dict[str, tuple[Severity, str, tuple[str, ...]]] = {
    "HSVC801": (Severity.ERROR, "DNS Service does not expose TCP 53", ("R47",)),
    "HSVC802": (Severity.ERROR, "NetworkPolicy allows DNS over UDP only", ("R47",)),
    "HSVC803": (Severity.WARNING, "answer too large for UDP without EDNS", ("R16", "R18")),
    "HSVC804": (Severity.WARNING, "answer only complete over TCP", ("R16", "R18")),
    "HSVC805": (Severity.ERROR, "DNS server does not answer over TCP", ()),
    "HSVC806": (Severity.WARNING, "a resolver layer holds a stale answer", ("R43",)),
    "HSVC807": (Severity.ERROR, "NetworkPolicy blocks DNS to a DNS port", ("R47",)),
}


# The codes that come from live answers (inspect's rows), not from the objects.
LIVE_CODES = frozenset({"HSVC803", "HSVC804", "HSVC805", "HSVC806"})


def musl_looking(pods: Iterable[Pod]) -> list[str]:
    """Return ``pod (image)`` for pods whose images look musl-based (Alpine)."""
    out = []
    for pod in pods:
        for image in pod.images:
            if any(h in image.lower() for h in _MUSL_HINTS):
                out.append(f"{pod.name} ({image})")
                break
    return out


def _tcp_not_answered(error: str) -> bool:
    """Whether the TCP retry got no DNS answer at all (not a SERVFAIL or a too-large one)."""
    if "TCP failed" not in error:
        return False
    why = error.split("TCP failed: ", 1)[-1]
    return not why.startswith(("server answered", "the TCP answer is truncated"))


def service_tcp(service: Service | None) -> list[Found]:
    """HSVC801: the cluster DNS Service must expose port 53 over TCP as well as UDP."""
    if service is None or any(p.port == DNS_PORT and p.protocol == "TCP" for p in service.ports):
        return []
    return [
        (
            "HSVC801",
            service.ref,
            f"Service {service.namespace}/{service.name} exposes no TCP port 53: answers that "
            "do not fit UDP (large headless Services) come back truncated and the TCP retry "
            "has nowhere to go",
            "add '- name: dns-tcp, port: 53, protocol: TCP, targetPort: dns-tcp' to its spec.ports",
        )
    ]


def target_port(service: Service | None) -> int:
    """The DNS pods' port as the DNS Service says it (offline): its UDP 53's numeric targetPort."""
    if service is not None:
        for p in service.ports:
            if p.protocol == "UDP" and p.port == DNS_PORT and isinstance(p.target_port, int):
                return p.target_port
    return DNS_PORT


def _size_code(obs: Observation) -> tuple[str, bool] | None:
    """HSVC804 or HSVC803 for one answer, and whether it was measured (not inferred)."""
    carried = obs.transport
    if obs.truncated and not obs.too_large:
        return "HSVC804", True
    if carried is not None and carried.plain_size is not None:
        # Asked without EDNS: the TC bit says it, whatever the size with EDNS.
        return ("HSVC803", True) if carried.plain_truncated else None
    if carried is not None and carried.plain_error:
        return None  # no UDP answer without EDNS: nothing measured to flag
    if obs.size > CLASSIC_UDP:
        return "HSVC803", False  # TCP only (a port-forward): inferred from the size
    return None


def _tcp_refused(obs: Observation) -> str:
    """Why TCP gave no answer to a question that needed it, or ""."""
    carried = obs.transport
    if carried is not None and carried.tcp_error:
        if carried.tcp_error.startswith(("server answered", "the TCP answer is truncated")):
            return ""
        return carried.tcp_error
    if obs.truncated and obs.too_large and _tcp_not_answered(obs.error):
        return obs.error.rsplit(": ", 1)[-1]
    return ""


def _measured(obs: Observation) -> str:
    """``EDNS 700 bytes, without EDNS truncated (TC) at 45, TCP 700``: what was seen."""
    carried = obs.transport
    if carried is None:
        return f"{obs.size} bytes"
    parts = []
    if carried.edns_size is not None:
        tc = " truncated (TC)" if carried.edns_truncated else ""
        parts.append(f"over UDP with EDNS {carried.edns_size} bytes{tc}")
    if carried.plain_size is not None:
        tc = "truncated (TC) at" if carried.plain_truncated else "whole in"
        parts.append(f"over UDP without EDNS {tc} {carried.plain_size} bytes")
    if carried.tcp_size is not None and not carried.tcp_error:
        parts.append(f"over TCP {carried.tcp_size} bytes")
    elif carried.tcp_error:
        parts.append(f"over TCP no answer ({carried.tcp_error})")
    return ", ".join(parts) or f"{obs.size} bytes"


def answer_sizes(
    observations: Iterable[tuple[ObjectRef, Observation]], musl: Sequence[str]
) -> list[Found]:
    """HSVC803/HSVC804/HSVC805 from the live answers: size, truncation, TCP.

    What the resolver measured decides (:class:`hsvc.core.model.Transport`): the
    TC bit of the UDP answer with EDNS (HSVC804) and without it (HSVC803), and
    whether TCP then answered (HSVC805). Only a TCP-only server (a port-forward)
    leaves HSVC803 to the size, and says so.

    Args:
        observations: Each row's subject with one server's observation.
        musl: Pods in scope whose images look musl-based (named in the message).
    """
    found: list[Found] = []
    who = f"; musl-looking pods here: {', '.join(musl[:3])}" if musl else ""
    tcp_failed: dict[str, tuple[Observation, str]] = {}
    # One finding per (code, subject): the largest answer, and how many more there are.
    big: dict[tuple[str, ObjectRef], list[Observation]] = defaultdict(list)
    inferred: set[tuple[str, ObjectRef]] = set()
    for subject, obs in observations:
        refused = _tcp_refused(obs)
        if refused:
            tcp_failed.setdefault(obs.server, (obs, refused))
        if obs.rcode is not Rcode.NOERROR or not obs.size:
            continue
        decided = _size_code(obs)
        if decided is None:
            continue
        code, measured = decided
        big[(code, subject)].append(obs)
        if not measured:
            inferred.add((code, subject))
    for (code, subject), group in big.items():
        found.append(_size_finding(code, subject, group, (code, subject) in inferred, who))
    for server, (obs, why) in tcp_failed.items():
        carried = obs.transport
        probed = not obs.truncated and not (carried is not None and carried.plain_truncated)
        seen = (
            # The once-per-run TCP probe (hsvc.adapters.resolver): the answer fit UDP.
            f"{server} answers over UDP but not over TCP ({why}; asked {obs.name} {obs.type} "
            "over TCP as a probe): answers too large for UDP fail there"
            if probed
            else f"{server} answered {obs.name} {obs.type} truncated over UDP and then not "
            f"over TCP ({why}): large answers fail there"
        )
        found.append(
            (
                "HSVC805",
                ObjectRef(kind="Server", namespace="", name=server),
                seen,
                "open TCP 53 on the DNS pods and every hop to them (Service ports, "
                "NetworkPolicies, node firewalls)",
            )
        )
    return found


def _size_finding(
    code: str, subject: ObjectRef, group: list[Observation], inferred: bool, who: str
) -> Found:
    """One HSVC803/HSVC804 finding for ``subject``: its largest answer, and how many more.

    ``inferred``: the size alone decided (a TCP-only server such as a port-forward).
    """
    largest = max(group, key=lambda o: o.size)
    others = len({(o.name, o.type) for o in group}) - 1
    more = f" (and {others} more answer(s) over the limit)" if others else ""
    what = f"{largest.name} {largest.type}{more}"
    if code == "HSVC804":
        return (
            code,
            subject,
            f"{what} is truncated over UDP even with EDNS ({EDNS_UDP}), complete only "
            f"over TCP (from {largest.server}: {_measured(largest)}); clients that "
            f"never retry over TCP get a partial answer{who}",
            "keep the answer small (fewer endpoints per headless Service, or ask "
            "for one pod's name), and use images whose resolver retries over TCP "
            "(glibc, musl 1.2.4+)",
        )
    if inferred:
        return (
            code,
            subject,
            f"{what} is {largest.size} bytes over TCP (from {largest.server}; a "
            "port-forward carries no UDP, so the size is all that could be seen): a "
            f"client without EDNS (glibc by default, musl) gets it truncated at "
            f"{CLASSIC_UDP} and must retry over TCP{who}",
            "make sure TCP 53 is open to the DNS pods (HSVC801, HSVC802), or add "
            "'options edns0' to the pods' dnsConfig",
        )
    return (
        code,
        subject,
        f"{what} only works over TCP for clients without EDNS (musl always, "
        f"glibc by default): asked from {largest.server} {_measured(largest)}; "
        f"resolvers that never retry over TCP (musl before 1.2.4, Alpine images) "
        f"get nothing{who}",
        "make sure TCP 53 is open to the DNS pods (HSVC801, HSVC802), or add "
        "'options edns0' to the pods' dnsConfig (glibc), or keep the answer "
        "under 512 bytes",
    )


__all__ = [
    "CHECKS",
    "CLASSIC_UDP",
    "DNS_PORT",
    "EDNS_UDP",
    "LIVE_CODES",
    "DnsPods",
    "Found",
    "Peer",
    "Ternary",
    "answer_sizes",
    "musl_looking",
    "network_policies",
    "selects",
    "service_tcp",
    "target_port",
]
