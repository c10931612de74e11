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

from collections.abc import Iterable

from hsvc.core import names
from hsvc.core.cluster import ClusterDns
from hsvc.core.desired import desired_snapshot
from hsvc.core.model import (
    DnsAnswer,
    Finding,
    Rcode,
    ValueSite,
)
from hsvc.core.references import RefClass, Reference, hostish, scan, short_kind
from hsvc.core.refnames import NameReader
from hsvc.core.refuse import (
    GOVERNING_CODES,
    REFERENCE_CHECKS,
    RULES,
    SEVERITY,
    Checked,
    describe_use,
    reweigh_governing,
    uses_of,
)
from hsvc.core.searchpath import Libc

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


class _Checker(NameReader):
    """Every reference checked in turn, and the findings each one gives."""

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

    # -- findings ------------------------------------------------------------------

    def add(self, code: str, ref: Reference, message: str, hint: str) -> None:
        self.findings.append(
            Finding(
                code=code,
                severity=SEVERITY[code],
                object=ref.owner,
                message=f"{self.where(ref)}: {message}",
                hint=hint,
                rules=RULES[code],
                site=ref.site,
            )
        )

    def where(self, ref: Reference) -> str:
        who = f"{short_kind(ref.owner.kind)}/{ref.owner.name}"
        container = f" container {ref.container}" if ref.container else ""
        return f"{who}{container} {ref.field}"

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
