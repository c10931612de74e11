"""Check every name an app uses against what cluster DNS answers.

For each :class:`~hsvc.core.references.Reference`, :func:`check_references` walks
the pod's search list (dns-records.md rule 9 and :mod:`hsvc.core.searchpath`:
ClusterFirst, ndots 5, glibc and musl) asking the answer engine
(:meth:`ClusterDns.answer`) for every candidate, and turns what it answers into
findings (HSVC7xx, docs/reference/findings.md): the name does not exist, has no
address, points at a port the Service does not serve, at a StatefulSet pod beyond
its replicas or not ready, hard-codes another cluster's zone, relies on what only
CoreDNS serves, or is a probe host kubelet resolves outside the pod. Every reason
is the engine's explanation; every "did you mean" is a name the engine answers.

Only names that belong to the cluster are checked: names under ``svc``/``pod``,
names whose labels are the cluster's namespaces, Services or StatefulSet pods,
and single labels where a host belongs. Other names (``api.github.com``) are
left alone: the upstream resolver answers them.
"""

from __future__ import annotations

import difflib
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from hsvc.core import names, searchpath
from hsvc.core.cluster import ClusterDns
from hsvc.core.desired import desired_snapshot
from hsvc.core.model import (
    DnsAnswer,
    Finding,
    Rcode,
    Severity,
    StatefulSet,
    ValueSite,
)
from hsvc.core.references import RefClass, Reference, hostish, scan, short_kind
from hsvc.core.searchpath import Libc, Outcome

__all__ = [
    "GOVERNING_CODES",
    "REFERENCE_CHECKS",
    "Checked",
    "check_app_references",
    "check_references",
    "describe_use",
    "reweigh_governing",
    "uses_of",
]

# (code, severity, title, rules): merged into hsvc.core.diagnose.CHECKS.
REFERENCE_CHECKS: tuple[tuple[str, Severity, str, tuple[str, ...]], ...] = (
    ("HSVC701", Severity.ERROR, "referenced name does not exist", ("R9", "R23", "R44")),
    ("HSVC702", Severity.ERROR, "referenced name has no address", ("R16", "R44", "R46")),
    ("HSVC703", Severity.ERROR, "referenced port is not served", ("R5", "R14", "R18")),
    (
        "HSVC704",
        Severity.ERROR,
        "referenced pod is beyond the StatefulSet's replicas",
        ("R21", "R22"),
    ),
    ("HSVC705", Severity.WARNING, "referenced pod is not ready", ("R2", "R3", "R22")),
    ("HSVC706", Severity.ERROR, "referenced name hard-codes another zone", ("R9",)),
    ("HSVC707", Severity.WARNING, "referenced name works with CoreDNS only", ("R15", "R29")),
    ("HSVC708", Severity.WARNING, "probe host is resolved by kubelet, not in the pod", ()),
    ("HSVC709", Severity.INFO, "name behind a Secret key not checked", ()),
    ("HSVC710", Severity.WARNING, "short name matches nothing in the cluster", ("R9", "R23")),
)
_SEVERITY = {code: sev for code, sev, _t, _r in REFERENCE_CHECKS}
_RULES = {code: rules for code, _s, _t, rules in REFERENCE_CHECKS}

# Governing-Service findings that --references reweighs (dns-records.md rules 22, 23).
GOVERNING_CODES = frozenset({"HSVC101", "HSVC102", "HSVC103", "HSVC104", "HSVC105", "HSVC106"})

_ORDINAL = re.compile(r"^(?P<base>[a-z0-9]([a-z0-9-]*[a-z0-9])?)-(?P<n>\d+)$")
# Public suffixes seen in configuration: a name ending in one is not a cluster name.
_PUBLIC = frozenset(
    "com net org io dev app cloud co ai me info biz us uk de fr eu nl ch at be es it se no "
    "dk fi pl cz ru cn jp kr in au ca br mx gov edu mil int arpa amazonaws azure gcr".split()
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Checked:
    """One reference, the name it means and what cluster DNS answers for it."""

    reference: Reference
    meant: str  # the absolute name the reference means (the one explained)
    answer: DnsAnswer  # the engine's A answer for ``meant`` (or the name that answered)
    answered: str | None  # the search-list candidate that answered (glibc), None if none
    service: tuple[str, str] | None  # (namespace, Service) the name points at
    stateful_set: tuple[str, str] | None  # (namespace, StatefulSet) when it names one of its pods
    ok: bool


def check_references(
    cluster: ClusterDns, references: Iterable[Reference], *, observed: bool
) -> tuple[list[Checked], list[Finding]]:
    """Check references against the engine; return what each means and the findings.

    Args:
        cluster: The engine over the snapshot (for manifests: the desired state,
            :func:`hsvc.core.desired.desired_snapshot`).
        references: From :func:`hsvc.core.references.scan`.
        observed: The snapshot is the cluster's live state (pods may be not ready).
    """
    checker = _Checker(cluster, observed)
    for ref in references:
        checker.check(ref)
    checker.secret_keys()
    return checker.checked, list(dict.fromkeys(checker.findings))


def check_app_references(
    cluster: ClusterDns, *, scope: str | None, observed: bool
) -> tuple[list[Checked], list[Finding]]:
    """Scan what apps read in the cluster's snapshot and check every name in scope.

    From manifests (``observed`` false) the names are checked against the desired
    state (every replica exists and is ready: :func:`~hsvc.core.desired.desired_snapshot`);
    live, against the cluster as it is.
    """
    snapshot = cluster.snapshot
    references = [r for r in scan(snapshot) if scope is None or r.namespace == scope]
    engine = cluster if observed else ClusterDns(desired_snapshot(snapshot), cluster.settings)
    return check_references(engine, references, observed=observed)


def describe_use(ref: Reference) -> str:
    """Say who uses a name, kubectl style: ``deploy/api env KAFKA_BOOTSTRAP``."""
    who = f"{short_kind(ref.owner.kind)}/{ref.owner.name}"
    if ref.cls in (RefClass.ENV, RefClass.ENV_FROM) and ref.key:
        return f"{who} env {ref.key}"
    if ref.cls in (RefClass.CONFIG_MAP, RefClass.SECRET) and not ref.container:
        return f"{who} data[{ref.key}]"
    if ref.cls is RefClass.SECRET:
        return f"{who} env {ref.key}"
    labels = {
        RefClass.ARGS: "args",
        RefClass.COMMAND: "command",
        RefClass.PROBE: "probe host",
        RefClass.INGRESS: "backend",
        RefClass.HTTPROUTE: "backendRef",
        RefClass.EXTERNAL_NAME: "externalName",
    }
    return f"{who} {labels.get(ref.cls, ref.cls.value)}"


def uses_of(checked: Iterable[Checked], namespace: str, service: str) -> list[Checked]:
    """Return the checked references that point at one Service (itself or its pods)."""
    return [c for c in checked if c.service == (namespace, service)]


def reweigh_governing(findings: Sequence[Finding], checked: Sequence[Checked]) -> list[Finding]:
    """Make governing-Service findings errors only where someone uses per-pod names.

    A StatefulSet whose governing Service is missing or wrong breaks only the
    per-pod names (dns-records.md rules 22, 23): when no reference names one of
    its pods, the finding is a warning; when one does, an error naming the user.
    """
    users: dict[tuple[str, str], list[Reference]] = defaultdict(list)
    for c in checked:
        if c.stateful_set is not None:
            users[c.stateful_set].append(c.reference)
    out = []
    for f in findings:
        if f.code not in GOVERNING_CODES or f.object.kind != "StatefulSet":
            out.append(f)
            continue
        who = users.get((f.object.namespace, f.object.name), [])
        if not who:
            out.append(replace(f, severity=Severity.WARNING))
            continue
        shown = ", ".join(dict.fromkeys(f"{describe_use(r)} ({r.name})" for r in who[:3]))
        more = f" and {len(who) - 3} more" if len(who) > 3 else ""
        out.append(
            replace(
                f,
                severity=Severity.ERROR,
                message=f"{f.message}; per-pod names are used by {shown}{more}",
            )
        )
    return out


class _Checker:
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

    # -- engine access (cached: many references share names) ---------------------

    def answer(self, name: str, qtype: str = "A") -> DnsAnswer:
        key = (name, qtype)
        if key not in self._answers:
            self._answers[key] = self.c.answer(name, qtype)
        return self._answers[key]

    def outcome(self, name: str, libc: Libc) -> Outcome:
        a, aaaa = self.answer(name, "A"), self.answer(name, "AAAA")
        if a.rcode is Rcode.REFUSED:
            return Outcome.UPSTREAM  # outside the cluster zones
        return searchpath.outcome((a.rcode, bool(a.answer)), (aaaa.rcode, bool(aaaa.answer)), libc)

    def walk(self, name: str, namespace: str, libc: Libc) -> searchpath.Walk:
        key = (name, namespace, libc)
        if key not in self._walks:
            conf = searchpath.cluster_first(namespace, self.zone)
            self._walks[key] = searchpath.walk(
                name, conf, libc, lambda cand: self.outcome(cand, libc)
            )
        return self._walks[key]

    def answers(self, name: str, namespace: str) -> bool:
        return self.walk(name, namespace, Libc.GLIBC).answered is not None

    # -- one reference -----------------------------------------------------------

    def check(self, ref: Reference) -> None:
        try:
            written = names.absolute(ref.name)
        except names.InvalidName:
            return
        labels = names.labels(written)
        foreign = self.foreign_zone(labels)
        if foreign is not None:
            self.hard_coded_zone(ref, labels, foreign)
            return
        if ref.absolute:
            self.check_absolute(ref, written)
            return
        if not self.relevant(ref, labels):
            return
        glibc = self.walk(ref.name, ref.namespace, Libc.GLIBC)
        meant = glibc.answered or self.meant(labels, ref.namespace)
        answer = self.answer(meant)
        service, sts = self.target(meant)
        ok = glibc.answered is not None
        self.checked.append(
            Checked(
                reference=ref,
                meant=meant,
                answer=answer,
                answered=glibc.answered,
                service=service,
                stateful_set=sts,
                ok=ok,
            )
        )
        if ref.cls is RefClass.PROBE:
            self.probe(ref, meant, service)
            return
        if ok:
            self.working(ref, meant, answer, service)
        else:
            self.broken(ref, meant, answer, service, sts, labels)

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

    # -- findings ------------------------------------------------------------------

    def add(self, code: str, ref: Reference, message: str, hint: str) -> None:
        self.findings.append(
            Finding(
                code=code,
                severity=_SEVERITY[code],
                object=ref.owner,
                message=f"{self.where(ref)}: {message}",
                hint=hint,
                rules=_RULES[code],
                site=ref.site,
            )
        )

    def where(self, ref: Reference) -> str:
        who = f"{short_kind(ref.owner.kind)}/{ref.owner.name}"
        container = f" container {ref.container}" if ref.container else ""
        return f"{who}{container} {ref.field}"

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

    def why(self, answer: DnsAnswer) -> str:
        rules = ", ".join(answer.rules)
        text = answer.explanation or answer.rcode.value
        for label in ("NXDOMAIN: ", "NODATA: "):
            text = text.removeprefix(label)
        return f"{text} (rules {rules})" if rules else text

    def hard_coded_zone(self, ref: Reference, labels: list[str], zone: str) -> None:
        cut = len(labels) - len(names.labels(zone))
        short = ".".join(labels[:cut])
        meant = f"{short}.{self.zone}"
        answer = self.answer(meant)
        service, sts = self.target(meant)
        self.checked.append(
            Checked(
                reference=ref,
                meant=meant,
                answer=answer,
                answered=None,
                service=service,
                stateful_set=sts,
                ok=False,
            )
        )
        served = ", ".join(z.rstrip(".") for z in self.zones)
        if self.answers(short, ref.namespace):
            hint = f"did you mean {short}? (the search path adds {self.zone.rstrip('.')})"
        else:
            hint = (
                f"use {short} (the search path adds the zone); it does not answer either: "
                f"{self.why(answer)}"
            )
        self.add(
            "HSVC706",
            ref,
            f"{ref.name} hard-codes the zone {zone.rstrip('.')}, but cluster DNS serves "
            f"{served} (settings: {self.c.settings.source}); the name goes upstream and "
            "does not resolve",
            hint,
        )

    def check_absolute(self, ref: Reference, written: str) -> None:
        """Backends and ExternalName targets: asked as written, no search list."""
        if ref.cls in (RefClass.INGRESS, RefClass.HTTPROUTE):
            meant = f"{written}{self.zone}"
        elif self.c.zone_of(written) is None:
            return  # an external target: the upstream resolver answers it (rule 25)
        else:
            meant = written
        answer = self.answer(meant)
        service, sts = self.target(meant)
        ok = bool(answer.answer) or answer.open_ended
        if ref.cls in (RefClass.INGRESS, RefClass.HTTPROUTE) and service is not None:
            # Controllers read the Service and its slices, not DNS: the Service must exist.
            ok = self.c.service(*service) is not None
        self.checked.append(
            Checked(
                reference=ref,
                meant=meant,
                answer=answer,
                answered=meant if ok else None,
                service=service,
                stateful_set=sts,
                ok=ok,
            )
        )
        what = {
            RefClass.INGRESS: "Ingress backend",
            RefClass.HTTPROUTE: "HTTPRoute backendRef",
            RefClass.EXTERNAL_NAME: "ExternalName target",
        }[ref.cls]
        if not ok:
            shown = meant.rstrip(".")
            suggestion = self.suggestion(ref, meant)
            hint = (
                f"did you mean {suggestion}?" if suggestion else "point it at an existing Service"
            )
            code = "HSVC701" if answer.rcode is Rcode.NXDOMAIN else "HSVC702"
            self.add(
                code,
                ref,
                f"{what} {shown} does not resolve: {_rcode_text(answer)} ({self.why(answer)})",
                hint,
            )
            return
        if service is not None and ref.cls in (RefClass.INGRESS, RefClass.HTTPROUTE):
            self.backend_port(ref, service)

    def backend_port(self, ref: Reference, service: tuple[str, str]) -> None:
        svc = self.c.service(*service)
        if svc is None or svc.is_external_name:
            return
        numbers = sorted({p.port for p in svc.ports})
        port_names = sorted({p.name for p in svc.ports if p.name})
        if ref.port is not None and ref.port not in numbers:
            self.add(
                "HSVC703",
                ref,
                f"backend port {ref.port} is not a port of Service {svc.namespace}/{svc.name} "
                f"(it has {', '.join(map(str, numbers)) or 'none'})",
                f"use one of the Service's ports: {', '.join(map(str, numbers)) or 'add one'}",
            )
        elif ref.key and ref.key not in port_names:
            self.add(
                "HSVC703",
                ref,
                f"backend port name {ref.key!r} is not a port of Service "
                f"{svc.namespace}/{svc.name} (named: {', '.join(port_names) or 'none'})",
                "use one of the Service's port names, or the port number",
            )

    def probe(self, ref: Reference, meant: str, service: tuple[str, str] | None) -> None:
        self.add(
            "HSVC708",
            ref,
            f"probe host {ref.name} is resolved by kubelet with the node's resolver, which "
            "does not search the pod's cluster domains (and usually does not ask cluster "
            "DNS at all)",
            "drop host (the probe then targets the pod's own IP), or probe with exec; "
            "set an httpGet Host header if the app needs a name",
        )

    def working(
        self, ref: Reference, meant: str, answer: DnsAnswer, service: tuple[str, str] | None
    ) -> None:
        musl = self.walk(ref.name, ref.namespace, Libc.MUSL)
        if musl.answered is None:
            last = musl.steps[-1] if musl.steps else None
            at = f" ({last.name} gave {last.outcome.value})" if last is not None else ""
            self.add(
                "HSVC707",
                ref,
                f"{ref.name} answers with glibc's search but not with musl's{at}: images "
                "on Alpine (musl) cannot resolve it",
                f"write the full name {meant.rstrip('.')} or {_short(meant, self.zone)}",
            )
        if "R15" in answer.rules:
            self.add(
                "HSVC707",
                ref,
                f"{ref.name} is an endpoint name under a ClusterIP Service: CoreDNS answers "
                f"it ({self.why(answer)}), the DNS specification and kube-dns do not",
                "make the governing Service headless (clusterIP: None)",
            )
        elif any(r in answer.rules for r in ("R29", "R30", "R31")):
            self.add(
                "HSVC707",
                ref,
                f"{ref.name} is a pod A record (<dashed-ip>.<ns>.pod): only CoreDNS serves "
                f"them, and only with 'pods insecure' or 'pods verified' ({self.why(answer)})",
                "use a Service name, or a per-pod name under a headless Service",
            )
        if ref.port is not None and service is not None:
            self.port(ref, service)

    def port(self, ref: Reference, service: tuple[str, str]) -> None:
        svc = self.c.service(*service)
        if svc is None or svc.is_external_name:
            return
        if (
            not self.observed
            and svc.is_headless
            and any(isinstance(p.target_port, str) for p in svc.ports)
        ):
            # A named targetPort becomes a number only in the pods' slices (rule 5):
            # manifests do not say which, so the port cannot be judged.
            return
        ns, name = service
        srv = self.answer(f"{name}.{ns}.svc.{self.zone}", "SRV")
        # The bare-name SRV lists every port the name serves: Service ports for a
        # ClusterIP Service (rule 14), slice (target) ports for a headless one (rule 18).
        served = sorted({int(r.data.split()[2]) for r in srv.answer if r.type == "SRV"})
        protocols = {(p.port, p.protocol.upper()) for p in svc.ports}
        target = {
            (p.target_port, p.protocol.upper()) for p in svc.ports if isinstance(p.target_port, int)
        }
        if not served:
            return
        if ref.port not in served:
            self.add(
                "HSVC703",
                ref,
                f"{ref.name} port {ref.port}: Service {ns}/{name} serves "
                f"{', '.join(map(str, served))} there ({srv.name} SRV, rules "
                f"{', '.join(srv.rules)})",
                f"use port {served[0]}" if len(served) == 1 else "use one of the served ports",
            )
        elif (ref.port, ref.protocol) not in protocols | target:
            self.add(
                "HSVC703",
                ref,
                f"{ref.name} port {ref.port}/{ref.protocol}: Service {ns}/{name} has that "
                f"port only for another protocol",
                f"add a {ref.protocol} port to the Service",
            )

    def broken(
        self,
        ref: Reference,
        meant: str,
        answer: DnsAnswer,
        service: tuple[str, str] | None,
        sts: tuple[str, str] | None,
        labels: list[str],
    ) -> None:
        shown = meant.rstrip(".")
        suggestion = self.suggestion(ref, meant)
        hint = f"did you mean {suggestion}?" if suggestion else ""
        if sts is not None and service is not None:
            stateful = self.sts[sts]
            zone = self.c.zone_of(meant) or self.zone
            ordinal = int(names.trim_zone(meant, zone)[0].rsplit("-", 1)[1])
            if ordinal >= stateful.replicas:
                last = stateful.replicas - 1
                have = f"{stateful.name}-0 … {stateful.name}-{last}" if last >= 0 else "no pods"
                self.add(
                    "HSVC704",
                    ref,
                    f"{ref.name} names pod {ordinal} of StatefulSet {sts[0]}/{sts[1]}, which "
                    f"has {stateful.replicas} replica(s) ({have}): that pod does not exist, "
                    f"so {shown} is {answer.rcode.value} ({self.why(answer)})",
                    hint
                    or f"scale the StatefulSet to {ordinal + 1} replicas, or list only "
                    "existing ordinals",
                )
                return
            pod = self.pods.get((sts[0], f"{stateful.name}-{ordinal}"))
            if (
                self.observed
                and service[1] == stateful.service_name
                and (pod is None or not pod.ready)
            ):
                state = "does not exist yet" if pod is None else "is not ready"
                self.add(
                    "HSVC705",
                    ref,
                    f"{ref.name}: pod {stateful.name}-{ordinal} {state}, so {shown} is "
                    f"{answer.rcode.value} until it is ({self.why(answer)})",
                    "expected while it starts; if peers must find each other before they are "
                    "ready, set publishNotReadyAddresses: true on the governing Service",
                )
                return
        if answer.rcode is Rcode.NXDOMAIN:
            if len(labels) == 1 and not suggestion and labels[0] not in self.service_names:
                self.add(
                    "HSVC710",
                    ref,
                    f"{ref.name} names no Service, pod or namespace in the cluster: {shown} is "
                    f"NXDOMAIN ({self.why(answer)}); only the node's search domains could "
                    "answer it",
                    "write the Service name as <svc>.<namespace>.svc, or the external name in full",
                )
                return
            self.add(
                "HSVC701",
                ref,
                f"{ref.name} does not resolve: {shown} is NXDOMAIN ({self.why(answer)})",
                hint or _engine_fix(answer) or "create the Service it names, or correct the name",
            )
            return
        self.add(
            "HSVC702",
            ref,
            f"{ref.name} resolves to no address: {shown} is {_rcode_text(answer)} "
            f"({self.why(answer)})",
            hint
            or _engine_fix(answer)
            or "give the Service ready endpoints (or the other address family)",
        )

    def secret_keys(self) -> None:
        """Say which host-like values sit in Secrets that were not read."""
        for workload, source in self.secret_sources:
            if (workload.namespace, source.name) in self.secret_values:
                continue
            key = source.env or source.key
            if not (hostish(source.env) or hostish(source.key)):
                continue
            ref = Reference(
                owner=workload.ref,
                container=source.container,
                field=source.field,
                cls=RefClass.SECRET,
                name="",
                port=None,
                protocol="TCP",
                namespace=workload.namespace,
                site=ValueSite(object=workload.ref, path=source.path, field=source.field),
                explicit=False,
                key=key,
                secret=True,
            )
            self.add(
                "HSVC709",
                ref,
                f"env {key} comes from Secret {source.name}"
                + (f" key {source.key}" if source.key else "")
                + ": hsvc reads Secrets by key name only, so the name in it is not checked",
                "pass --include-secrets to check the names Secrets hold (values are never shown)",
            )


def _engine_fix(answer: DnsAnswer) -> str:
    """The fix the engine's trace gives for the first decision that failed, if any."""
    return next((step.fix for step in answer.trace if not step.ok and step.fix), "")


def _short(meant: str, zone: str) -> str:
    return meant[: -len(zone) - 1] if meant.endswith("." + zone) else meant.rstrip(".")


def _rcode_text(answer: DnsAnswer) -> str:
    return "NODATA" if answer.rcode is Rcode.NOERROR else answer.rcode.value
