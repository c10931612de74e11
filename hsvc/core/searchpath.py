"""Which names a pod's stub resolver tries for a short name, in order, and what that costs.

``getaddrinfo("eureka")`` in a pod does not ask for ``eureka``: it walks the
search list of the pod's ``/etc/resolv.conf`` and asks A and AAAA for each
candidate until one answers. glibc and musl walk it differently (checked
against real runs, see ``tests/data/exec/README.md``):

glibc (``resolv/res_query.c`` ``__res_context_search``)
    * a name with a trailing dot is asked as is, and only as is;
    * ``dots >= ndots``: the name as is first, then every search domain;
    * ``dots < ndots``: every search domain, then the name as is (unless
      ``options no-tld-query`` and the name has no dot);
    * a candidate answers when A or AAAA has records. NXDOMAIN, NODATA
      (NOERROR without records) and SERVFAIL go on to the next candidate;
      REFUSED or no response ends the search list, but the name as is is
      still tried if it was not yet.

musl (``src/network/lookup_name.c`` ``name_from_dns_search``)
    * ``dots >= ndots`` or a trailing dot: the name as is, and only that;
    * otherwise every search domain, then the name as is;
    * only NXDOMAIN goes on. NODATA stops the walk with "no address"
      (glibc would go on), SERVFAIL or no response stops it with "try
      again", any other rcode with a failure.

Both send A and AAAA for every candidate (``AF_UNSPEC``), in parallel: two
queries per candidate (one with glibc's ``options no-aaaa``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from enum import StrEnum

from hsvc.core import names
from hsvc.core.dataclass import dataclass
from hsvc.core.model import Rcode
from hsvc.core.resolvconf import ResolvConf
from hsvc.core.text import unique

# Kubernetes' ClusterFirst resolv.conf: ndots 5 (kubelet's default).
CLUSTER_FIRST_NDOTS = 5
MAX_NAME = 253


class Libc(StrEnum):
    """The C library whose resolver a pod's programs use."""

    GLIBC = "glibc"
    MUSL = "musl"


class Outcome(StrEnum):
    """What getaddrinfo makes of one candidate's A and AAAA answers."""

    ANSWER = "answer"  # records for A or AAAA
    NODATA = "nodata"  # NOERROR, no records of either type
    NXDOMAIN = "nxdomain"
    SERVFAIL = "servfail"
    REFUSED = "refused"  # or any other rcode
    TIMEOUT = "timeout"  # no usable response
    UPSTREAM = "upstream"  # outside the cluster zones: upstream decides (walked as NXDOMAIN)


class Action(StrEnum):
    """What the resolver does after a candidate."""

    ANSWERS = "answers"
    NEXT = "next"  # tries the next candidate
    SKIPS_SEARCH = "skips-search"  # glibc: gives up the search list, still tries the name as is
    STOPS = "stops"  # the lookup fails here


@dataclass(frozen=True, slots=True, kw_only=True)
class Attempt:
    """One candidate the resolver asked, what it got and what it did next."""

    name: str
    outcome: Outcome
    action: Action


@dataclass(frozen=True, slots=True, kw_only=True)
class Walk:
    """One libc's lookup of one name: the candidates asked, which answered, the cost."""

    query: str
    libc: Libc
    steps: tuple[Attempt, ...]
    answered: str | None  # the candidate that answered, None if the lookup fails
    queries: int  # DNS queries sent (A and AAAA count separately)
    candidates: tuple[str, ...]  # every candidate the libc could try, in order

    @property
    def result(self) -> Outcome:
        """ANSWER, or the outcome of the step that ended the lookup."""
        if self.answered is not None:
            return Outcome.ANSWER
        return self.steps[-1].outcome if self.steps else Outcome.NXDOMAIN


def cluster_first(namespace: str, zone: str, ndots: int = CLUSTER_FIRST_NDOTS) -> ResolvConf:
    """Return the resolv.conf kubelet writes for dnsPolicy ClusterFirst (without node domains)."""
    zone = zone.rstrip(".") + "."
    return ResolvConf(
        search=(names.under(zone, f"{namespace}.svc"), names.under(zone, "svc"), zone),
        ndots=ndots,
        options=(f"ndots:{ndots}",),
    )


def candidates(name: str, conf: ResolvConf, libc: Libc = Libc.GLIBC) -> list[str]:
    r"""Return every absolute name ``libc`` may ask for ``name``, in order.

    Which of them are really asked depends on the answers (see :func:`walk`).
    Names that would exceed 253 characters are left out, as both libcs skip them.
    Escapes are decoded (``\119eb`` is ``web``), as the resolver sends them.
    """
    return unique([_canonical(c) for c in _candidates(name, conf, libc)])


def _canonical(name: str) -> str:
    try:
        # The spelling is kept: CoreDNS echoes it in owner names (rule 10).
        return names.spelled_absolute(name)
    except names.InvalidName:
        return name.lower()


def _candidates(name: str, conf: ResolvConf, libc: Libc) -> list[str]:
    if name.endswith("."):
        return [name]  # as spelled: CoreDNS echoes it (rule 10)
    base = name.lower()
    dots = base.count(".")
    as_is = base + "."
    expanded = [
        f"{base}.{domain}" if domain != "." else as_is
        for domain in conf.search
        if len(base) + 1 + len(domain) <= MAX_NAME + 1
    ]
    if libc is Libc.MUSL:
        if dots >= conf.ndots:
            return [as_is]
        return unique([*expanded, as_is])
    if dots >= conf.ndots:
        return unique([as_is, *expanded])
    tail = [] if dots == 0 and "no-tld-query" in conf.options else [as_is]
    return unique([*expanded, *tail])


def outcome(a: tuple[Rcode, bool], aaaa: tuple[Rcode, bool] | None, libc: Libc) -> Outcome:
    """Combine the A and AAAA answers of one candidate as ``libc`` reads them.

    Args:
        a: The A answer's rcode and whether it has address records.
        aaaa: The same for AAAA; None when only A is asked (``no-aaaa``).
        libc: Whose rules apply.
    """
    answers = [a] if aaaa is None else [a, aaaa]
    if libc is Libc.MUSL:
        # lookup_name.c checks each response in order before reading any record.
        for rcode, _data in answers:
            if rcode in (Rcode.TIMEOUT, Rcode.ERROR):
                return Outcome.TIMEOUT
            if rcode is Rcode.SERVFAIL:
                return Outcome.SERVFAIL
            if rcode is Rcode.NXDOMAIN:
                return Outcome.NXDOMAIN
            if rcode is not Rcode.NOERROR:
                return Outcome.REFUSED
        return Outcome.ANSWER if any(data for _r, data in answers) else Outcome.NODATA
    if any(rcode is Rcode.NOERROR and data for rcode, data in answers):
        return Outcome.ANSWER
    # res_query.c: the first response's rcode, or the second's when the first is NOERROR.
    rcode = a[0] if a[0] is not Rcode.NOERROR or aaaa is None else aaaa[0]
    return _RCODE_OUTCOME.get(rcode, Outcome.REFUSED)


_RCODE_OUTCOME = {
    Rcode.NOERROR: Outcome.NODATA,
    Rcode.NXDOMAIN: Outcome.NXDOMAIN,
    Rcode.SERVFAIL: Outcome.SERVFAIL,
    Rcode.REFUSED: Outcome.REFUSED,
    Rcode.TIMEOUT: Outcome.TIMEOUT,
    Rcode.ERROR: Outcome.TIMEOUT,
}


def walk(
    name: str,
    conf: ResolvConf,
    libc: Libc,
    ask: Callable[[str], Outcome],
) -> Walk:
    """Follow ``libc``'s search for ``name``, asking ``ask`` what each candidate gets.

    Args:
        name: The name as a program passes it to getaddrinfo.
        conf: The pod's resolv.conf.
        libc: Whose search rules apply.
        ask: The outcome for an absolute candidate name (expected or observed).
    """
    order = candidates(name, conf, libc)
    per_candidate = 1 if libc is Libc.GLIBC and "no-aaaa" in conf.options else 2
    steps: list[Attempt] = []
    answered: str | None = None
    base = name.lower().rstrip(".") + "."
    if libc is Libc.MUSL:
        for cand in order:
            got = ask(cand)
            if got is Outcome.ANSWER:
                steps.append(Attempt(name=cand, outcome=got, action=Action.ANSWERS))
                answered = cand
                break
            go_on = got in (Outcome.NXDOMAIN, Outcome.UPSTREAM)
            action = Action.NEXT if go_on else Action.STOPS
            steps.append(Attempt(name=cand, outcome=got, action=action))
            if not go_on:
                break
    else:
        as_is_first = bool(order) and order[0] == base and len(order) > 1 and not name.endswith(".")
        skipping = False
        for i, cand in enumerate(order):
            is_as_is = cand == base
            if skipping and not is_as_is:
                continue
            got = ask(cand)
            if got is Outcome.ANSWER:
                steps.append(Attempt(name=cand, outcome=got, action=Action.ANSWERS))
                answered = cand
                break
            if is_as_is and as_is_first and i == 0:
                action = Action.NEXT  # any failure of the first try goes on to the search list
            elif got in (Outcome.NXDOMAIN, Outcome.NODATA, Outcome.SERVFAIL, Outcome.UPSTREAM):
                action = Action.NEXT
            elif is_as_is:
                action = Action.STOPS
            else:
                action = Action.SKIPS_SEARCH
                skipping = True
            steps.append(Attempt(name=cand, outcome=got, action=action))
    if answered is None and steps and steps[-1].action is not Action.STOPS:
        # Nothing left to try: the lookup fails with the last candidate's outcome.
        steps[-1] = Attempt(name=steps[-1].name, outcome=steps[-1].outcome, action=Action.STOPS)
    return Walk(
        query=name,
        libc=libc,
        steps=tuple(steps),
        answered=answered,
        queries=per_candidate * len(steps),
        candidates=tuple(order),
    )


def resolv_conf_warnings(
    conf: ResolvConf,
    *,
    namespace: str,
    zone: str,
    dns_policy: str | None = None,
    host_network: bool = False,
    kube_dns_ip: str | None = None,
) -> list[str]:
    """Say what in a pod's resolv.conf (and dnsPolicy) makes short names behave unexpectedly.

    Args:
        conf: The pod's parsed /etc/resolv.conf.
        namespace: The pod's namespace.
        zone: The cluster zone, e.g. ``cluster.local.``.
        dns_policy: The pod's ``spec.dnsPolicy`` if known.
        host_network: The pod's ``spec.hostNetwork``.
        kube_dns_ip: The cluster DNS Service IP if known.
    """
    warnings: list[str] = []
    expected = cluster_first(namespace, zone).search
    cluster_domains = [d for d in conf.search if d in expected]
    if host_network and dns_policy in (None, "ClusterFirst"):
        warnings.append(
            "hostNetwork pod with dnsPolicy ClusterFirst: kubelet gives it the node's "
            "resolv.conf, so cluster names do not resolve; set dnsPolicy: ClusterFirstWithHostNet"
        )
    elif dns_policy == "Default":
        warnings.append(
            'dnsPolicy "Default" means the node\'s resolv.conf, not cluster DNS: '
            "short Service names do not resolve; use ClusterFirst (the default when unset)"
        )
    if not cluster_domains and dns_policy != "None":
        warnings.append(
            f"the search list has none of {_plain(expected)}: short names such as "
            '"eureka" or "eureka.ms" cannot resolve from this pod'
        )
    elif list(conf.search[: len(expected)]) != list(expected) and cluster_domains:
        warnings.append(
            "the search list does not start with "
            f"{_plain(expected)} (this pod's namespace first): short names may resolve "
            "in another namespace or not at all"
        )
    inherited = [d for d in conf.search if d not in expected]
    if inherited and cluster_domains:
        per_name = 2 * len(inherited)
        warnings.append(
            f"search domains inherited from the node: {_plain(inherited)}; every name that "
            f"is not a cluster name costs {per_name} more queries, and a name there can shadow "
            "an external one"
        )
    if conf.ndots != CLUSTER_FIRST_NDOTS and cluster_domains:
        warnings.append(
            f"ndots is {conf.ndots} (kubelet writes 5): names with {conf.ndots} or more dots "
            "are tried as they are first (glibc) or only as they are (musl)"
        )
    servers = [ns.host for ns in conf.nameservers]
    if kube_dns_ip and servers and kube_dns_ip not in servers and cluster_domains:
        warnings.append(
            f"nameserver {', '.join(servers)} is not the cluster DNS Service ({kube_dns_ip}); "
            "fine for NodeLocal DNSCache (169.254.20.10), otherwise check dnsConfig"
        )
    warnings.extend(f"resolv.conf {line}" for line in conf.ignored)
    return warnings


def _plain(domains: Iterable[str]) -> str:
    return " ".join(d.rstrip(".") for d in domains)
