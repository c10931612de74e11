"""NetworkPolicies and DNS: whether they let the pods' queries reach the DNS pods over UDP and TCP.

Evaluated the way Kubernetes does (pod and namespace selectors, ipBlocks, named
ports): findings HSVC801/HSVC802 (:mod:`hsvc.core.transport` holds the codes).
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence

from hsvc.core.dataclass import dataclass
from hsvc.core.model import (
    Labels,
    LabelSelector,
    NetworkPolicy,
    ObjectRef,
    Pod,
    PolicyPeer,
    PolicyPort,
    PolicyRule,
)

DNS_PORT = 53


Found = tuple[str, ObjectRef, str, str]  # (code, object, message, hint)


Ternary = bool | None  # None: cannot be known from what was read


def _all(values: Iterable[Ternary]) -> Ternary:
    """Three-valued AND: False if any is False, else unknown if any is unknown."""
    seen = list(values)
    if any(v is False for v in seen):
        return False
    return None if any(v is None for v in seen) else True


def _any(values: Iterable[Ternary]) -> Ternary:
    """Three-valued OR: True if any is True, else unknown if any is unknown."""
    seen = list(values)
    if any(v is True for v in seen):
        return True
    return None if any(v is None for v in seen) else False


# Kubernetes labels every namespace with its name (since 1.21): known without reading it.
NAME_LABEL = "kubernetes.io/metadata.name"


def selects(selector: LabelSelector, labels: Labels, *, complete: bool = True) -> Ternary:
    """Whether ``selector`` matches ``labels``; unknown where it needs a label not known.

    ``complete``: ``labels`` are all the object's labels (else only some are known,
    and a requirement on a key not among them cannot be decided).
    """
    have = dict(labels)

    def known(key: str) -> bool:
        return complete or key in have or key == NAME_LABEL

    checks: list[Ternary] = []
    for key, value in selector.match_labels:
        checks.append(have.get(key) == value if known(key) else None)
    for req in selector.match_expressions:
        if not known(req.key):
            checks.append(None)
            continue
        one = LabelSelector(match_expressions=(req,))
        checks.append(one.matches(labels))
    return _all(checks)


@dataclass(frozen=True, slots=True, kw_only=True)
class Peer:
    """The pods at the other end of DNS traffic, as far as the input tells.

    ``labels_complete`` False: only some labels are known (the DNS Service's
    selector); ``ips`` None: their addresses are not known.
    """

    namespace: str
    labels: Labels = ()
    labels_complete: bool = True
    ips: tuple[str, ...] | None = None
    what: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class DnsPods(Peer):
    """The DNS pods: a :class:`Peer` with their named ports and the Service's ClusterIPs."""

    named_ports: tuple[tuple[str, str, int], ...] | None = None  # None: not known
    cluster_ips: tuple[str, ...] = ()


def _in_block(ip: str, peer: PolicyPeer) -> bool:
    """Whether ``ip`` is in the peer's ipBlock and none of its exceptions."""
    try:
        address = ipaddress.ip_address(ip)
        block = ipaddress.ip_network(peer.cidr, strict=False)
    except ValueError:
        return False
    if address.version != block.version or address not in block:
        return False
    for cut in peer.except_cidrs:
        try:
            if address in ipaddress.ip_network(cut, strict=False):
                return False
        except (ValueError, TypeError):
            continue
    return True


def _peer_text(peer: PolicyPeer) -> str:
    if peer.cidr:
        cut = f" except {', '.join(peer.except_cidrs)}" if peer.except_cidrs else ""
        return f"ipBlock {peer.cidr}{cut}"
    parts = []
    if peer.namespace_selector is not None:
        parts.append(f"namespaceSelector {_selector_text(peer.namespace_selector)}")
    if peer.pod_selector is not None:
        parts.append(f"podSelector {_selector_text(peer.pod_selector)}")
    return " and ".join(parts) or "(empty peer)"


def _selector_text(selector: LabelSelector) -> str:
    words = [f"{k}={v}" for k, v in selector.match_labels]
    for req in selector.match_expressions:
        values = f" ({','.join(req.values)})" if req.values else ""
        words.append(f"{req.key} {req.operator}{values}")
    return "{" + ", ".join(words) + "}" if words else "{} (all)"


class _Judge:
    """Evaluates rules the way Kubernetes does: ports, peers, named ports, endPort ranges."""

    def __init__(self, namespaces: Mapping[str, Labels], named: DnsPods | None) -> None:
        self.namespaces = namespaces
        self.named = named
        self.doubts: list[str] = []  # why a result is unknown
        self.misses: list[tuple[NetworkPolicy, str, str]] = []  # (policy, why, kind)

    def namespace_selected(self, selector: LabelSelector, namespace: str) -> Ternary:
        labels = self.namespaces.get(namespace)
        complete = labels is not None
        have = (*(labels or ()), (NAME_LABEL, namespace))
        got = selects(selector, have, complete=complete)
        if got is None:
            self.doubts.append(
                f"namespace {namespace}'s labels are not in the input, so whether "
                f"namespaceSelector {_selector_text(selector)} selects it cannot be known"
            )
        return got

    def peer(self, pol: NetworkPolicy, peer: PolicyPeer, end: Peer) -> Ternary:
        if not end.namespace:
            self.doubts.append(f"{end.what} are not in the input")
            return None
        if peer.cidr:
            if end.ips is None:
                self.doubts.append(
                    f"{end.what}'s IPs are not in the input, so whether ipBlock {peer.cidr} "
                    "covers them cannot be known"
                )
                return None
            if not end.ips:
                return False
            return all(_in_block(ip, peer) for ip in end.ips)
        if peer.namespace_selector is None:
            in_ns: Ternary = end.namespace == pol.namespace
        else:
            in_ns = self.namespace_selected(peer.namespace_selector, end.namespace)
        pods: Ternary = True
        if peer.pod_selector is not None:
            pods = selects(peer.pod_selector, end.labels, complete=end.labels_complete)
            if pods is None:
                self.doubts.append(
                    f"only some labels of {end.what} are known, so whether podSelector "
                    f"{_selector_text(peer.pod_selector)} selects them cannot be known"
                )
        return _all([in_ns, pods])

    def port(self, entry: PolicyPort, protocol: str, port: int) -> Ternary:
        if not isinstance(entry.port, str):
            return entry.allows(protocol, port)
        if entry.protocol != protocol:
            return False
        # A named port is resolved against the destination pods' container ports: the
        # DNS pods' in both directions here (egress to them, ingress into them).
        named = self.named.named_ports if self.named is not None else None
        if named is None:
            self.doubts.append(
                f"the DNS pods' container ports are not in the input, so what named port "
                f"'{entry.port}' stands for cannot be known"
            )
            return None
        return any(n == entry.port and p == protocol and num == port for n, p, num in named)

    def rule(
        self, pol: NetworkPolicy, rule: PolicyRule, protocol: str, port: int, end: Peer
    ) -> Ternary:
        ports = _any(self.port(p, protocol, port) for p in rule.ports) if rule.ports else True
        if ports is False:
            return False
        if not rule.peers:
            return ports
        peers = _any(self.peer(pol, peer, end) for peer in rule.peers)
        if peers is False and ports is True:
            shown = "; ".join(_peer_text(p) for p in rule.peers)
            self.misses.append((pol, f"its rule for port {port} reaches only {shown}", "peer"))
            if any(p.cidr for p in rule.peers) and isinstance(end, DnsPods):
                covered = [
                    ip
                    for ip in end.cluster_ips
                    if any(p.cidr and _in_block(ip, p) for p in rule.peers)
                ]
                if covered:
                    self.misses.append(
                        (
                            pol,
                            f"it covers the ClusterIP {covered[0]}, but policies apply after "
                            f"the Service's DNAT, to the DNS pods' IPs "
                            f"({', '.join(end.ips or ()) or 'none'})",
                            "dnat",
                        )
                    )
        return _all([ports, peers])

    def policy(
        self, pol: NetworkPolicy, rules: Sequence[PolicyRule], protocol: str, port: int, end: Peer
    ) -> Ternary:
        return _any(self.rule(pol, r, protocol, port, end) for r in rules)


# long: every policy over every DNS pod and client in the API's order; the verdicts are its locals
def network_policies(
    policies: Iterable[NetworkPolicy],
    clients: Iterable[Pod],
    dns_pods: DnsPods | None,
    dns_port: int = DNS_PORT,
    namespaces: Mapping[str, Labels] | None = None,
) -> list[Found]:
    """HSVC802/HSVC807: policies that keep DNS from going out of client pods or into DNS pods.

    NetworkPolicies add up: a pod selected by any policy of a direction is
    isolated in that direction, and then whatever any of those policies allows
    passes. A rule allows a packet when one of its ports matches (a named port
    as the DNS pods' container ports say; ``endPort`` a range) and one of its
    peers holds the other end (none: every peer): a ``podSelector`` alone
    selects pods in the policy's namespace, a ``namespaceSelector`` pods of the
    namespaces it selects, an ``ipBlock`` addresses. Egress is checked towards
    the DNS pods, after the Service's DNAT: their IPs, not the ClusterIP, must be
    in an ipBlock. So each client pod's egress policies are taken together, and
    must allow UDP and TCP on 53 (what pods ask, and NodeLocal DNSCache's port)
    and on the DNS pods' own port; the DNS pods' ingress policies together must
    allow UDP and TCP on the port they listen on, from each client pod. Where UDP
    passes and TCP does not, HSVC802 names the policy that lets UDP through;
    where neither passes, HSVC807 names the policy that isolates the pods. What
    the input does not tell (namespace labels, the DNS pods' IPs or ports) makes
    the finding a warning that says "uncertain".

    Args:
        policies: Every NetworkPolicy read (one LIST).
        clients: The pods in scope (their namespaces' policies are checked for egress).
        dns_pods: The DNS pods as far as known (their policies for ingress).
        dns_port: The DNS pods' port (from their EndpointSlice).
        namespaces: Namespace name -> its labels, for the namespaces read.
    """
    by_ns: dict[str, list[NetworkPolicy]] = defaultdict(list)
    for pol in sorted(policies, key=lambda p: (p.namespace, p.name)):
        by_ns[pol.namespace].append(pol)
    known = namespaces or {}
    found: list[Found] = []
    seen: set[tuple[str, ObjectRef]] = set()

    def keep(items: list[Found]) -> None:
        for code, ref, message, hint in items:
            if (code, ref) not in seen:
                seen.add((code, ref))
                found.append((code, ref, message, hint))

    target = dns_pods or DnsPods(namespace="", labels_complete=False, what="the DNS pods")
    groups: dict[tuple[NetworkPolicy, ...], list[Pod]] = defaultdict(list)
    clients = list(clients)
    for pod in clients:
        isolating = tuple(
            p
            for p in by_ns.get(pod.namespace, ())
            if "Egress" in p.policy_types and p.pod_selector.matches(pod.labels)
        )
        if isolating:
            groups[isolating].append(pod)
    egress_ports = sorted({DNS_PORT, dns_port})
    for isolating, pods in groups.items():
        names = sorted(p.name for p in pods)
        more = f" and {len(names) - 1} more pod(s)" if len(names) > 1 else ""
        judge = _Judge(known, dns_pods)
        keep(
            _dns_blocked(
                judge,
                {p: p.egress for p in isolating},
                target,
                egress_ports,
                dns_port,
                f"egress from {names[0]}{more}",
                "an egress rule",
            )
        )
    if dns_pods is not None:
        isolating = tuple(
            p
            for p in by_ns.get(dns_pods.namespace, ())
            if "Ingress" in p.policy_types
            and selects(p.pod_selector, dns_pods.labels, complete=dns_pods.labels_complete)
        )
        if isolating:
            senders: list[Peer] = [
                Peer(
                    namespace=pod.namespace,
                    labels=pod.labels,
                    ips=pod.pod_ips,
                    what=f"pod {pod.namespace}/{pod.name}",
                )
                for pod in clients
            ] or [Peer(namespace="", labels_complete=False, what="the client pods")]
            for sender in senders:
                judge = _Judge(known, dns_pods)
                keep(
                    _dns_blocked(
                        judge,
                        {p: p.ingress for p in isolating},
                        sender,
                        [dns_port],
                        dns_port,
                        "ingress to the DNS pods"
                        + (f" from {sender.what}" if sender.namespace else ""),
                        "an ingress rule",
                    )
                )
    return found


def _peer_fix(end: Peer, where: str, pol: NetworkPolicy) -> str:
    """The peer to add so that a rule reaches ``end``."""
    side = "'to'" if where == "an egress rule" else "'from'"
    labels = ", ".join(f"{k}: {v}" for k, v in end.labels)
    pods = f", podSelector: {{matchLabels: {{{labels}}}}}" if labels else ""
    return (
        f"add '- namespaceSelector: {{matchLabels: {{{NAME_LABEL}: {end.namespace}}}}}{pods}' "
        f"to the {side} of that rule of {pol.namespace}/{pol.name}"
    )


# long: one rule walk per direction and protocol, in the order Kubernetes applies them
def _dns_blocked(
    judge: _Judge,
    rules: dict[NetworkPolicy, tuple[PolicyRule, ...]],
    end: Peer,
    ports: Sequence[int],
    dns_port: int,
    direction: str,
    where: str,
) -> list[Found]:
    """What the isolating ``rules`` (policy -> its rules) keep from DNS on ``ports``."""
    first = next(iter(rules))

    def passes(protocol: str, port: int) -> tuple[NetworkPolicy | None, Ternary]:
        results = [(p, judge.policy(p, r, protocol, port, end)) for p, r in rules.items()]
        winner = next((p for p, v in results if v is True), None)
        return winner, _any(v for _, v in results)

    udp_only: dict[NetworkPolicy, list[int]] = defaultdict(list)
    unsure_tcp: dict[NetworkPolicy, list[int]] = defaultdict(list)
    blocked: dict[str, list[int]] = defaultdict(list)  # "TCP only" / "neither ..." -> ports
    unsure: list[int] = []
    for port in ports:
        udp, udp_ok = passes("UDP", port)
        tcp, tcp_ok = passes("TCP", port)
        if udp is not None and tcp_ok is False:
            udp_only[udp].append(port)
        elif udp is not None and tcp_ok is None:
            unsure_tcp[udp].append(port)
        elif udp_ok is False:
            blocked["TCP only" if tcp is not None else "neither UDP nor TCP"].append(port)
        elif udp_ok is None:
            unsure.append(port)

    def shown(group: Sequence[int], *, word: bool = True) -> str:
        text = " and ".join(str(p) for p in group)
        mark = " (the DNS pods' port)" if dns_port in group and dns_port != DNS_PORT else ""
        if not word:
            return f"{text}{mark}"
        return f"{'ports' if len(group) > 1 else 'port'} {text}{mark}"

    def because(pol: NetworkPolicy | None = None) -> str:
        whys = list(dict.fromkeys(w for p, w, _ in judge.misses if pol is None or p == pol))
        return f" ({'; '.join(whys)})" if whys else ""

    def doubt() -> str:
        return "; ".join(dict.fromkeys(judge.doubts)) or "the input does not tell"

    def fix(pol: NetworkPolicy, entries: str) -> str:
        missed = [p for p, _, _ in judge.misses if p in rules]
        if missed:
            return _peer_fix(end, where, missed[0])
        return f"add {entries} to {where} of {pol.namespace}/{pol.name}"

    out: list[Found] = []
    for pol, group in udp_only.items():
        tcp_text = " and ".join(f"TCP {p}" for p in group)
        missed = [p for p, _, _ in judge.misses if p in rules]
        out.append(
            (
                "HSVC802",
                pol.ref,
                f"NetworkPolicy {pol.namespace}/{pol.name} allows DNS {direction} over UDP "
                f"{shown(group, word=False)} but not {tcp_text}, and no other policy selecting "
                f"them does{because()}: a truncated answer's TCP retry is dropped, so large "
                "answers time out",
                _peer_fix(end, where, missed[0])
                if missed
                else " and ".join(
                    f"add '- protocol: TCP, port: {p}' beside the UDP {p} entry" for p in group
                ),
            )
        )
    for pol, group in unsure_tcp.items():
        tcp_text = " and ".join(f"TCP {p}" for p in group)
        out.append(
            (
                "HSVC802",
                pol.ref,
                f"uncertain: NetworkPolicy {pol.namespace}/{pol.name} allows DNS {direction} "
                f"over UDP {shown(group, word=False)}, and whether any policy allows "
                f"{tcp_text} cannot be known: {doubt()}",
                f"check that a rule allows {tcp_text} {direction.split(' ', 1)[0]}; "
                f"add '- protocol: TCP, port: {group[0]}' beside the UDP {group[0]} entry "
                "if none does",
            )
        )
    others = len(rules) - 1
    also = f" (and {others} more polic{'y' if others == 1 else 'ies'})" if others else ""
    for allows, group in blocked.items():
        entries = " and ".join(
            f"'- protocol: UDP, port: {p}' and '- protocol: TCP, port: {p}'" for p in group
        )
        out.append(
            (
                "HSVC807",
                first.ref,
                f"NetworkPolicy {first.namespace}/{first.name}{also} isolates {direction}, "
                f"and together they allow {allows} on {shown(group)}{because()}: DNS queries "
                "there are dropped and names time out",
                fix(first, entries),
            )
        )
    if unsure:
        entries = " and ".join(
            f"'- protocol: UDP, port: {p}' and '- protocol: TCP, port: {p}'" for p in unsure
        )
        out.append(
            (
                "HSVC807",
                first.ref,
                f"uncertain: NetworkPolicy {first.namespace}/{first.name}{also} isolates "
                f"{direction}, and whether they allow DNS on {shown(unsure)} cannot be known: "
                f"{doubt()}",
                f"check its rules' peers; if they miss the DNS traffic, add {entries} "
                f"with a peer that holds it to {where} of {first.namespace}/{first.name}",
            )
        )
    return out
