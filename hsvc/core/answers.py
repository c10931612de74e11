"""Answers per type: what the found items become for A/AAAA, SRV, CNAME, TXT, NS, SOA.

:class:`Answerer` is the whole walk of one question: the zone (rule 9), the type's
own rules (SOA, zone transfers, NS at the apex, rule 46), the forward lookup of
:class:`~hsvc.core.forward.ForwardInquiry` or the reverse one of :mod:`hsvc.core.reverse`,
and then the records of the asked type (rules 16, 19, 24-27, 32, 45).
"""

from __future__ import annotations

import math

from hsvc.core import names, reverse
from hsvc.core.forward import ForwardInquiry
from hsvc.core.inquiry import rule_set
from hsvc.core.lookup import (
    DNS_SCHEMA_VERSION,
    DNS_VERSION_TTL,
    NO_PORT,
    Item,
    Lookup,
    apex_ref,
)
from hsvc.core.model import DnsAnswer, ObjectRef, Rcode, Record, Step
from hsvc.core.names import NameKind
from hsvc.core.text import unique

# SRV at a bare Service name is its own rule: all ports of a ClusterIP Service
# (rule 14), all slice ports of a headless one (rule 18).
_SRV_RULE = {"R12": "R14", "R16": "R18"}


class Answerer(ForwardInquiry):
    """One question answered by type, the decisions recorded as they are taken."""

    __slots__ = ()

    def run(self) -> DnsAnswer:
        """Answer the question: zone, type rules, lookup, records of the asked type."""
        p = self.p
        if p.kind is NameKind.OUTSIDE:
            self.step(
                "zone",
                False,
                f"{p.lower} is outside the cluster zones ({', '.join(self.s.zones)}): CoreDNS "
                "hands it to the next plugin (usually forward), which hsvc does not model",
                ("R9",),
                fix="use <service>.<namespace>.svc.<cluster domain>, or check --cluster-domain",
            )
            return DnsAnswer(
                name=self.name,
                type=self.qtype,
                rcode=Rcode.REFUSED,
                rules=("R9",),
                explanation=(
                    f"{p.lower} is outside the zones the kubernetes plugin serves "
                    f"({', '.join(self.s.zones)}); CoreDNS hands it to the next "
                    "plugin (usually forward), which hsvc does not model"
                ),
                open_ended=True,
                trace=self.answer_trace(),
            )
        self.last_ok = True  # the zone step held; worded only for a kept trace (shared_step)
        if self.keep_trace:
            self.shared_step(("zone", self.zone), _zone_step, self.zone)
        qtype = self.qtype
        if qtype != "A" and qtype != "AAAA":  # the usual questions take none of these
            typed = self.typed()
            if typed is not None:
                return typed
        if p.kind is NameKind.NS_DNS:
            return self.ns_dns()
        found = self.lookup()
        self.rules.extend(found.rules)
        if found.nxdomain:
            return self.negative(Rcode.NXDOMAIN, found.why)
        if qtype in ("A", "AAAA"):
            return self.address(found, qtype)
        if qtype == "SRV":
            return self.srv(found)
        if qtype == "CNAME":
            if found.items and names.canonical_ip(found.items[0].host) is None:
                item = found.items[0]
                rec = Record(name=self.name, type="CNAME", ttl=self.s.ttl, data=item.host)
                return self.positive([(rec, item.source, "R24")], ["R24"])
            self.step("type", False, "CNAME exists only for ExternalName Services", ("R46",))
            return self.negative(
                Rcode.NOERROR, f"{found.why}; CNAME exists only for ExternalName Services (rule 46)"
            )
        # Rule 46: any other type (MX, HINFO, CAA, ...) is NODATA where the name exists
        # (CoreDNS handler.go asks a fake A question to tell NODATA from NXDOMAIN).
        self.rules.append("R46")
        self.step("type", False, f"cluster DNS serves no {qtype} records", ("R46",))
        return self.negative(Rcode.NOERROR, f"{found.why}; no {qtype} records exist in cluster DNS")

    def typed(self) -> DnsAnswer | None:
        """The types with rules of their own (PTR, TXT, SOA, zone transfers, NS at the apex)."""
        p, qtype = self.p, self.qtype
        if qtype == "PTR":
            return self.ptr()
        if qtype == "TXT":
            return self.txt()
        if qtype == "SOA":
            if p.kind is NameKind.APEX and names.trim_zone(p.lower, self.zone) == []:
                return self.positive([(self.c.soa(self.zone), apex_ref(self.zone), "R32")], ["R32"])
            # dns-records.md rules 32/46 say "NODATA if the name exists"; CoreDNS's
            # handler.go answers SOA only at the apex and never looks other names up,
            # so SOA below the apex is NODATA even for absent names. We follow CoreDNS.
            self.rules.extend(["R32", "R46"])
            self.step("type", False, "SOA exists only at the zone apex", ("R32", "R46"))
            return self.negative(Rcode.NOERROR, "SOA exists only at the zone apex")
        if qtype in ("AXFR", "IXFR"):
            # Rule 46: the kubernetes plugin refuses zone transfers (handler.go); only
            # the transfer plugin, which hsvc does not model, could allow them.
            self.step("type", False, "zone transfers need the transfer plugin", ("R46",))
            return DnsAnswer(
                name=self.name,
                type=qtype,
                rcode=Rcode.REFUSED,
                rules=("R46",),
                explanation="REFUSED: zone transfers need the transfer plugin",
                trace=self.answer_trace(),
            )
        if qtype == "NS" and p.kind is NameKind.APEX and names.trim_zone(p.lower, self.zone) == []:
            return self.ns()
        return None

    def address(self, found: Lookup, qtype: str) -> DnsAnswer:
        """A/AAAA from the found items, following ExternalName CNAMEs (rules 16, 25)."""
        family = 4 if qtype == "A" else 6
        out: list[tuple[Record, ObjectRef, str]] = []
        seen: set[str] = set()
        open_ended = found.open_ended
        canonical, ip_family, name, ttl = names.canonical_ip, names.ip_family, self.name, self.s.ttl
        for item in found.items:
            host = item.host
            if canonical(host) is None:
                # ExternalName: the CNAME first, then the target's records (rule 25).
                chain, open_ended = self.cname_chain(item, qtype)
                out.extend(chain)
                continue
            if ip_family(host) != family or host in seen:
                continue
            seen.add(host)  # the server deduplicates the message (rule 16)
            out.append((Record(name=name, type=qtype, ttl=ttl, data=host), item.source, item.rule))
        if found.predicted:
            return self.predicted(found, qtype)
        if not out:
            if any(names.canonical_ip(i.host) is not None for i in found.items):
                other = "AAAA" if qtype == "A" else "A"
                self.step(
                    "family",
                    False,
                    f"only {other} addresses at this name",
                    tuple(found.rules[:1]),
                )
                return self.negative(Rcode.NOERROR, f"{found.why}, but only {other} addresses")
            if self.last_ok:
                self.step("data", False, found.why or "no address at this name", tuple(found.rules))
            return self.negative(Rcode.NOERROR, found.why, open_ended=open_ended)
        return self.positive(out, found.rules, why=found.why, open_ended=open_ended)

    def cname_chain(
        self, item: Item, qtype: str
    ) -> tuple[list[tuple[Record, ObjectRef, str]], bool]:
        """Follow an ExternalName CNAME as the plugin does (rule 25)."""
        self.rules.append("R25")
        target = item.host
        cname = (
            Record(name=self.name, type="CNAME", ttl=self.s.ttl, data=target),
            item.source,
            "R24",
        )
        if target == self.p.lower:
            return [], False  # a CNAME loop is dropped
        zone = self.c.zone_of(target)
        if zone is None or zone != self.zone:
            # Outside the zone: the CNAME is returned, the upstream adds the rest.
            self.notes.append(f"records for {target} come from the upstream resolver")
            return [cname], True
        inner = Answerer(self.c, self.c.parse(target), qtype)
        sub = inner.lookup()
        if sub.nxdomain:
            return [], False
        nested = inner.address(sub, qtype)
        if not nested.answer:
            return [], nested.open_ended
        chain = [cname]
        for rec, prov in zip(nested.answer, nested.provenance, strict=True):
            chain.append((rec, prov.source, prov.rule))
        return chain, nested.open_ended

    def srv(self, found: Lookup) -> DnsAnswer:
        """SRV from the found items, with the targets' addresses as glue (rules 14, 18, 19)."""
        items = [i for i in found.items if names.canonical_ip(i.host) is not None]
        if found.predicted:
            return self.predicted(found, "SRV")
        if not items:
            self.step("type", False, "no SRV data at this name", ("R25",))
            return self.negative(Rcode.NOERROR, f"{found.why}; no SRV data at this name (rule 25)")
        # Rule 19: weight floor(100/N) over every candidate, before duplicates collapse.
        weight = max(1, math.floor(100 / len(found.items)))
        self.rules.append("R19")
        records: list[tuple[Record, ObjectRef, str]] = []
        additional: list[Record] = []
        seen_srv: set[tuple[str, int]] = set()
        seen_glue: set[tuple[str, str]] = set()
        name, ttl, made = self.name, self.s.ttl, self.c.glue_records
        lowered: str | None = None  # the last target (its ports come together) and its lower case
        lower, fits = "", False
        prefixes: dict[int, str] = {}  # "0 <weight> <port> " for each port number
        for host, port, target, source, rule in items:
            if port == NO_PORT:
                continue  # rule 5: a slice without ports gives no SRV
            if target is not lowered:
                # Over 253 characters: no DNS message can carry it (lint HSVC402).
                lowered, lower, fits = target, target.lower(), names.fits(target)
            if not fits:
                continue
            at = (lower, port)
            if at not in seen_srv:
                seen_srv.add(at)
                prefix = prefixes.get(port)
                if prefix is None:
                    prefix = prefixes[port] = f"0 {weight} {port} "
                srv = Record(name=name, type="SRV", ttl=ttl, data=prefix + target)
                records.append((srv, source, _SRV_RULE.get(rule, rule)))
            glue = (lower, host)
            if glue not in seen_glue:
                seen_glue.add(glue)
                rec = made.get((target, host))  # every SRV answer naming it shares it
                additional.append(rec or self.glue(target, host))
        if not records:
            self.step("port", False, "the slices have no ports, so no SRV", ("R5",))
            return self.negative(
                Rcode.NOERROR, f"{found.why}; its slices have no ports, so no SRV (rule 5)"
            )
        rules = [_SRV_RULE.get(r, r) for r in found.rules]
        return self.positive(records, rules, why=found.why, additional=additional)

    def glue(self, target: str, host: str) -> Record:
        """The address record of an SRV target, made once per engine (``glue_records``)."""
        rtype = "A" if names.ip_family(host) == 4 else "AAAA"
        rec = Record(name=target, type=rtype, ttl=self.s.ttl, data=host)
        self.c.glue_records[(target, host)] = rec
        return rec

    def ptr(self) -> DnsAnswer:
        """PTR for a reverse name (:func:`hsvc.core.reverse.ptr`)."""
        return reverse.ptr(self)

    def txt(self) -> DnsAnswer:
        """TXT: the schema version record, else NODATA or the NXDOMAIN quirk (rules 27, 45)."""
        if self.p.kind is NameKind.DNS_VERSION:
            rec = Record(
                name=self.name, type="TXT", ttl=DNS_VERSION_TTL, data=f'"{DNS_SCHEMA_VERSION}"'
            )
            self.step("name form", True, "the schema version record", ("R27",))
            return self.positive(
                [(rec, apex_ref(self.zone), "R27")], ["R27"], why="the schema version record"
            )
        # CoreDNS Services(): TXT looks the name up as a forward name, before the
        # ns.dns.<zone> special case, so ns.dns TXT is NXDOMAIN ("dns" is no svc/pod).
        found = self.lookup()
        self.rules.extend(found.rules)
        self.rules.append("R45")
        if found.nxdomain:
            return self.negative(Rcode.NXDOMAIN, found.why)
        if found.items or found.exists:
            self.step("type", False, "no TXT records here", ("R45",))
            return self.negative(Rcode.NOERROR, f"{found.why}; no TXT records here")
        self.step(
            "type",
            False,
            "TXT on a name without records is NXDOMAIN (CoreDNS quirk)",
            ("R45",),
        )
        return self.negative(
            Rcode.NXDOMAIN, found.why + "; TXT on a name without records is NXDOMAIN (quirk)"
        )

    def ns(self) -> DnsAnswer:
        """NS at the zone apex, with the DNS Service's addresses as glue (rule 32)."""
        kube_dns = self.c.service("kube-system", "kube-dns")
        self.rules.append("R32")
        self.step("name form", True, "the zone apex: NS names the DNS server", ("R32",))
        if kube_dns is not None and not kube_dns.is_headless:
            target = names.under(self.zone, "kube-dns.kube-system.svc")
            glue = [
                Record(
                    name=target,
                    type="A" if names.ip_family(ip) == 4 else "AAAA",
                    ttl=self.s.ttl,
                    data=ip,
                )
                for ip in kube_dns.cluster_ips
                if names.canonical_ip(ip)
            ]
            rec = Record(name=self.name, type="NS", ttl=self.s.ttl, data=target)
            return self.positive([(rec, kube_dns.ref, "R32")], ["R32"], additional=glue)
        rec = Record(
            name=self.name, type="NS", ttl=self.s.ttl, data=names.under(self.zone, "ns.dns")
        )
        return self.positive([(rec, apex_ref(self.zone), "R32")], ["R32"], open_ended=False)

    def ns_dns(self) -> DnsAnswer:
        """``ns.dns.<zone>``: the DNS server's own addresses (CoreDNS ns.go, kubernetes.go).

        dns-records.md names ``ns.dns.<Z>`` only as the NS target and the SOA's
        mname; CoreDNS serves it: A/AAAA answer the cluster IPs of the Services
        whose endpoints hold the DNS pod's IP, every other type is NODATA.
        """
        self.rules.append("R32")
        if self.qtype not in ("A", "AAAA"):
            self.step("type", False, f"ns.dns.{self.zone} holds A/AAAA records only", ("R32",))
            return self.negative(Rcode.NOERROR, f"ns.dns.{self.zone} holds A/AAAA records only")
        found, known = self.c.dns_service_addresses()
        family = 4 if self.qtype == "A" else 6
        if not known:
            self.step(
                "name form",
                True,
                f"ns.dns.{self.zone} answers the DNS server's own address: no kube-dns "
                "endpoint is among the objects, so CoreDNS answers its local IP",
                ("R32",),
            )
            return DnsAnswer(
                name=self.name,
                type=self.qtype,
                rcode=Rcode.NOERROR,
                rules=rule_set(unique([*self.rules, "R43"])),
                explanation="the DNS server's own address (not among the objects)",
                open_ended=True,
                trace=self.answer_trace(),
                predicted=("the DNS server's own IP",),
            )
        out = [
            (Record(name=self.name, type=self.qtype, ttl=self.s.ttl, data=ip), ref, "R32")
            for ip, ref in found
            if names.ip_family(ip) == family
        ]
        self.step(
            "name form",
            True,
            f"ns.dns.{self.zone} answers the addresses of the Services in front of the DNS pods",
            ("R32",),
        )
        if not out:
            self.step("family", False, f"no {self.qtype} address for the DNS Service", ("R32",))
            return self.negative(Rcode.NOERROR, "the DNS Service has no address of this family")
        return self.positive(out, ["R32"], why="the DNS Service's cluster IPs")


def _zone_step(zone: str) -> Step:
    return Step(check="zone", ok=True, detail=f"in zone {zone}", rules=("R9",))
