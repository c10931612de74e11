"""Reverse names: PTR answers for cluster IPs and ready endpoint addresses (rules 34-39).

A full reverse name answers the Service owning the cluster IP (rule 35), else every
ready endpoint holding the address (rule 36, gated by server and version,
:mod:`hsvc.core.flavour`); a partial one is read as a forward name (CoreDNS
reverse.go). A missing PTR is followed to its cause (:func:`hsvc.core.causes.ptr_cause`).
"""

from __future__ import annotations

from hsvc.core import causes, names
from hsvc.core.clusterindex import ClusterIndex
from hsvc.core.forward import ForwardInquiry
from hsvc.core.lookup import PublishedEndpoint, server
from hsvc.core.model import DnsAnswer, ObjectRef, Rcode, Record
from hsvc.core.names import NameKind


def ptr(w: ForwardInquiry) -> DnsAnswer:
    """The PTR answer for the walk's name (rules 34-37)."""
    p = w.p
    if p.kind is not NameKind.REVERSE:
        # CoreDNS reverse.go: no address in the name, so Records() reads it as a
        # forward name (ns.dns.<zone> PTR is NXDOMAIN: "dns" is neither svc nor pod).
        found = w.lookup()
        w.rules.extend(found.rules)
        w.rules.append("R37")
        if found.nxdomain:
            return w.negative(Rcode.NXDOMAIN, found.why)
        w.step("type", False, "PTR exists only for full reverse names", ("R37",))
        return w.negative(Rcode.NOERROR, f"{found.why}; PTR exists only for full reverse names")
    address = p.address
    primary = w.s.primary_zone
    svc = w.c.services_by_ip.get(address)
    svc_ptr = names.under(primary, f"{svc.name}.{svc.namespace}.svc") if svc else ""
    if svc is not None and namespace_ok(w.c, svc.namespace) and names.fits(svc_ptr):
        if w.held():
            w.step(
                "address",
                True,
                f"{address} is the cluster IP of Service {svc.namespace}/{svc.name}",
                ("R35",),
                subject=svc.ref,
            )
        rec = Record(name=w.name, type="PTR", ttl=w.s.ttl, data=svc_ptr)
        return w.positive(
            [(rec, svc.ref, "R35")],
            ["R34", "R35"],
            why=f"{address} is the cluster IP of Service {svc.namespace}/{svc.name}",
        )
    out, hidden = _endpoint_ptrs(w, address)
    partial = w.c.partial_slices
    if partial:
        w.notes.append(
            "only the EndpointSlices in scope were read: other Services' slices may add "
            "PTR names for this address"
        )
    if out:
        if w.held():
            first = w.c.endpoints_by_ip[address][0]
            w.step(
                "address",
                True,
                f"{address} is a ready endpoint of Service {first[0]}/{first[1]}",
                ("R36",),
                subject=first[2].source,
            )
        return w.positive(
            out,
            ["R34", "R36"],
            why=f"{address} is a ready endpoint address",
            open_ended=partial,
        )
    w.rules.extend(["R34", "R37"])
    if hidden:
        w.rules.append("R36")
        why = (
            f"{address} is a ready endpoint address, but {server(w.s)} answers endpoint "
            "PTRs only for endpoints with a hostname"
            + (" of headless Services" if w.s.ptr_headless_only else "")
        )
        w.step("address", False, why, ("R36",))
        return w.negative(Rcode.NXDOMAIN, why, open_ended=partial)
    w.add(causes.ptr_cause(w.c, w.p.lower, address))
    return w.negative(
        Rcode.NXDOMAIN,
        f"{address} is neither a cluster IP nor a ready endpoint address",
        open_ended=partial,
    )


def _endpoint_ptrs(
    w: ForwardInquiry, address: str
) -> tuple[list[tuple[Record, ObjectRef, str]], int]:
    """The PTRs of the ready endpoints holding ``address`` (rule 36), and how many are hidden.

    Hidden: those the configured server does not answer (version gates, :func:`version_ok`).
    """
    primary = w.s.primary_zone
    out: list[tuple[Record, ObjectRef, str]] = []
    seen: set[str] = set()
    hidden = 0
    for ns, svc_name, ep in w.c.endpoints_by_ip.get(address, []):
        if not namespace_ok(w.c, ns):
            continue
        if not version_ok(w.c, ns, svc_name, ep):
            hidden += 1
            continue
        data = names.under(primary, f"{ep.name}.{svc_name}.{ns}.svc")
        if data in seen or not names.fits(data):
            continue  # a name over 253 characters cannot be sent (lint HSVC402)
        seen.add(data)
        out.append((Record(name=w.name, type="PTR", ttl=w.s.ttl, data=data), ep.source, "R36"))
    return out, hidden


def version_ok(c: ClusterIndex, namespace: str, service: str, ep: PublishedEndpoint) -> bool:
    """Whether the configured server answers a PTR for this endpoint (rule 36 by version)."""
    # Rule 36 by version (hsvc.core.flavour): CoreDNS 1.11.4-1.12.0 and kube-dns
    # answer endpoint PTRs only for endpoints with a hostname; kube-dns and Cloud
    # DNS only for headless Services' endpoints.
    if c.settings.ptr_hostname_only and not ep.has_hostname:
        return False
    if c.settings.ptr_headless_only:
        svc = c.service(namespace, service)
        return svc is not None and svc.is_headless
    return True


def namespace_ok(c: ClusterIndex, namespace: str) -> bool:
    """Whether PTRs for addresses in ``namespace`` are served (rule 39)."""
    # Rule 39: only the `namespaces` list filters PTRs, not namespace_labels.
    return not c.settings.namespaces or c.namespace_exposed(namespace)
