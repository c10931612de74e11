"""How a name written in an app's configuration is read against cluster DNS.

:class:`NameReader` holds what the reference checks (:mod:`hsvc.core.refcheck`)
ask of every written name: the cluster name it means (the pod's search list,
dns-records.md rule 9, :mod:`hsvc.core.searchpath`), whether it is meant for
cluster DNS at all, which Service or StatefulSet pod it points at, and a name
that answers when it does not. The engine's answers are cached: many references
share names.
"""

from __future__ import annotations

import difflib
import re
from collections import defaultdict

from hsvc.core import names, searchpath
from hsvc.core.cluster import ClusterDns
from hsvc.core.model import DnsAnswer, Finding, Rcode, StatefulSet
from hsvc.core.references import Reference
from hsvc.core.refuse import Checked
from hsvc.core.searchpath import Libc, Outcome

_ORDINAL = re.compile(r"^(?P<base>[a-z0-9]([a-z0-9-]*[a-z0-9])?)-(?P<n>\d+)$")
# Public suffixes seen in configuration: a name ending in one is not a cluster name.
_PUBLIC = frozenset(
    "com net org io dev app cloud co ai me info biz us uk de fr eu nl ch at be es it se no "
    "dk fi pl cz ru cn jp kr in au ca br mx gov edu mil int arpa amazonaws azure gcr".split()
)


class NameReader:
    """The names one cluster's apps write, read as cluster DNS and the pods' resolvers read them."""

    def __init__(self, cluster: ClusterDns, observed: bool) -> None:
        self.c = cluster
        self.observed = observed
        self.zone = cluster.settings.primary_zone
        self.zones = cluster.settings.forward_zones
        self.checked: list[Checked] = []
        self.findings: list[Finding] = []
        snap = cluster.snapshot
        self.sts: dict[tuple[str, str], StatefulSet] = {
            (s.namespace, s.name): s for s in snap.stateful_sets
        }
        self.sts_by_ns: dict[str, list[StatefulSet]] = defaultdict(list)
        for s in snap.stateful_sets:
            self.sts_by_ns[s.namespace].append(s)
        self.service_names: dict[str, list[str]] = defaultdict(list)  # name -> namespaces
        for ns, name in cluster.services:
            self.service_names[name].append(ns)
        self.pods = {(p.namespace, p.name): p for p in snap.pods}
        self._walks: dict[tuple[str, str, Libc], searchpath.Walk] = {}
        self._answers: dict[tuple[str, str], DnsAnswer] = {}
        self.secret_sources = [
            (w, s) for w in snap.workloads for s in w.sources if s.kind == "Secret"
        ]
        self.secret_values = {
            (d.namespace, d.name) for d in snap.config_data if d.kind == "Secret" and d.values
        }

    def answer(self, name: str, qtype: str = "A") -> DnsAnswer:
        """The engine's answer for ``name`` / ``qtype`` (cached)."""
        key = (name, qtype)
        if key not in self._answers:
            self._answers[key] = self.c.answer(name, qtype)
        return self._answers[key]

    def outcome(self, name: str, libc: Libc) -> Outcome:
        """How a resolver takes the A and AAAA answers for one search-list candidate."""
        a, aaaa = self.answer(name, "A"), self.answer(name, "AAAA")
        if a.rcode is Rcode.REFUSED:
            return Outcome.UPSTREAM  # outside the cluster zones
        return searchpath.outcome((a.rcode, bool(a.answer)), (aaaa.rcode, bool(aaaa.answer)), libc)

    def walk(self, name: str, namespace: str, libc: Libc) -> searchpath.Walk:
        """The search-list walk for ``name`` from a pod in ``namespace`` (cached)."""
        key = (name, namespace, libc)
        if key not in self._walks:
            conf = searchpath.cluster_first(namespace, self.zone)
            self._walks[key] = searchpath.walk(
                name, conf, libc, lambda cand: self.outcome(cand, libc)
            )
        return self._walks[key]

    def answers(self, name: str, namespace: str) -> bool:
        """Whether ``name`` answers from a pod in ``namespace`` (glibc's walk)."""
        return self.walk(name, namespace, Libc.GLIBC).answered is not None

    def foreign_zone(self, labels: list[str]) -> str | None:
        """Return the zone a ``<...>.<ns>.svc.<zone>`` name hard-codes, if it is not served."""
        for i in range(2, len(labels) - 1):
            if labels[i] in ("svc", "pod"):
                zone = ".".join(labels[i + 1 :]) + "."
                if zone in self.zones or any(names.is_subdomain(zone, z) for z in self.zones):
                    return None
                return zone
        return None

    def relevant(self, ref: Reference, labels: list[str]) -> bool:
        """Whether a name written without zone is meant for cluster DNS."""
        if labels[-1] in ("svc", "pod") and len(labels) >= 2:
            return True
        whole = ".".join(labels) + "."
        if any(names.is_subdomain(whole, z) for z in self.zones):
            return True
        if labels[-1] in _PUBLIC:
            return False
        ns = ref.namespace
        if labels[-1] in self.c.namespaces:
            return True
        if len(labels) == 1:
            return ref.explicit
        if len(labels) == 2 and self.c.service(ns, labels[1]) is not None:
            return True
        if self.pod_of(labels[0], ns) is not None:
            return True
        return ref.explicit and len(labels) <= 3 and labels[0] in self.service_names

    def pod_of(self, label: str, namespace: str) -> tuple[StatefulSet, int] | None:
        """The StatefulSet and ordinal a ``<sts>-<n>`` label names in ``namespace``, if any."""
        match = _ORDINAL.match(label)
        if match is None:
            return None
        sts = self.sts.get((namespace, match.group("base")))
        return (sts, int(match.group("n"))) if sts is not None else None

    def meant(self, labels: list[str], namespace: str) -> str:
        """The absolute name a short name stands for, read as people write them.

        ``x`` is the Service x in the pod's namespace; ``x.ns`` the Service x in
        ns when ns is a namespace, else the endpoint x of Service ns here;
        ``a.b.c`` the endpoint a of Service b in namespace c; names ending in
        ``svc`` or ``pod`` get the zone.
        """
        zone = self.zone
        whole = ".".join(labels) + "."
        if any(names.is_subdomain(whole, z) for z in self.zones):
            return whole
        if labels[-1] in ("svc", "pod"):
            return f"{whole}{zone}"
        if len(labels) == 1:
            return f"{whole}{namespace}.svc.{zone}"
        if len(labels) == 2:
            first, second = labels
            if second in self.c.namespaces and self.pod_of(first, namespace) is None:
                return f"{whole}svc.{zone}"
            return f"{whole}{namespace}.svc.{zone}"
        return f"{whole}svc.{zone}"

    def target(self, meant: str) -> tuple[tuple[str, str] | None, tuple[str, str] | None]:
        """The (namespace, Service) and (namespace, StatefulSet) a name points at."""
        zone = self.c.zone_of(meant)
        if zone is None:
            return None, None
        rest = names.trim_zone(meant, zone)
        if len(rest) < 3 or rest[-1] != "svc":
            return None, None
        ns, svc = rest[-2], rest[-3]
        sts: tuple[str, str] | None = None
        if len(rest) == 4:
            found = self.pod_of(rest[0], ns)
            if found is not None:
                sts = (ns, found[0].name)
        return (ns, svc), sts

    def suggestion(self, ref: Reference, meant: str) -> str:
        """A short name that answers and is probably what the reference means, else ""."""
        zone = self.c.zone_of(meant)
        if zone is None:
            return ""
        rest = names.trim_zone(meant, zone)
        if len(rest) < 3 or rest[-1] != "svc":
            return ""
        ns, svc = rest[-2], rest[-3]
        head = rest[:-3]
        tries: list[tuple[list[str], str, str]] = []
        if len(head) == 1:
            found = self.pod_of(head[0], ns)
            if found is not None and found[0].service_name:
                tries.append((head, found[0].service_name, ns))
        for other in sorted(self.service_names.get(svc, [])):
            tries.append((head, svc, other))
        in_ns = sorted(n for (n_ns, n) in self.c.services if n_ns == ns)
        for close in difflib.get_close_matches(svc, in_ns, n=3, cutoff=0.6):
            tries.append((head, close, ns))
        for close_ns in difflib.get_close_matches(ns, sorted(self.c.namespaces), n=2, cutoff=0.6):
            tries.append((head, svc, close_ns))
        for h, s, n in tries:
            candidate = ".".join([*h, s, n, "svc"])
            if candidate + "." + zone != meant and self.answers(candidate, ref.namespace):
                return candidate
        return ""
