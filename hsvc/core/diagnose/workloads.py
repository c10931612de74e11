"""1xx StatefulSets and their governing Service; 4xx pod templates of workloads (rules 4, 21-23)."""

from __future__ import annotations

from hsvc.core import conditions, names
from hsvc.core.diagnose.catalogue import (
    MAX_STATEFULSET_NAME,
    few,
    labels_text,
)
from hsvc.core.diagnose.context import _Context
from hsvc.core.model import Deployment, Service, StatefulSet


class _WorkloadChecks(_Context):
    """1xx StatefulSets and their governing Service; 4xx workload pod templates."""

    def templates(self) -> None:
        for deploy in self.snap.deployments:
            if self.in_scope(deploy.namespace):
                self.deployment(deploy)
        for sts in self.snap.stateful_sets:
            if self.in_scope(sts.namespace):
                self.hardcoded(sts.ref, sts.namespace, sts.hardcoded_names)

    def stateful_sets(self) -> None:
        for sts in self.snap.stateful_sets:
            if not self.in_scope(sts.namespace):
                continue
            self.sts_name_length(sts)
            if not sts.service_name:
                self.add(
                    "HSVC101",
                    sts.ref,
                    f"StatefulSet {sts.namespace}/{sts.name} sets no serviceName, so its pods "
                    "get no hostname.subdomain DNS names",
                    "set spec.serviceName to a headless Service that selects the pods "
                    "(serviceName is immutable: recreate the StatefulSet, e.g. with "
                    "kubectl delete --cascade=orphan)",
                )
                continue
            svc = self.c.service(sts.namespace, sts.service_name)
            if svc is None:
                self.missing_governing(sts)
                continue
            self.governing(sts, svc)
            self.other_headless(sts)
            self.ordered_ready(sts, svc)

    def sts_name_length(self, sts: StatefulSet) -> None:
        if len(sts.name) > MAX_STATEFULSET_NAME:
            self.add(
                "HSVC402",
                sts.ref,
                f"StatefulSet name {sts.name!r} has {len(sts.name)} characters: its pods "
                f"cannot be created (the controller-revision-hash label <name>-<hash> "
                f"exceeds 63), so no per-pod name ever exists",
                f"shorten the name to at most {MAX_STATEFULSET_NAME} characters",
            )
            return
        if sts.service_name and sts.replicas > 0:
            longest = f"{sts.name}-{sts.replicas - 1}.{sts.service_name}.{sts.namespace}.svc."
            self.name_length(sts.ref, names.under(self.zone, longest.rstrip(".")))

    def missing_governing(self, sts: StatefulSet) -> None:
        elsewhere = sorted(
            ns for (ns, name) in self.c.services if name == sts.service_name and ns != sts.namespace
        )
        labels = labels_text(sts.template_labels)
        create = (
            f"create a headless Service (clusterIP: None) named {sts.service_name!r} in "
            f"namespace {sts.namespace} with selector {labels}"
        )
        if elsewhere:
            self.add(
                "HSVC103",
                sts.ref,
                f"serviceName {sts.service_name!r} of StatefulSet {sts.namespace}/{sts.name} "
                f"names no Service in {sts.namespace}; a Service of that name exists in "
                f"{few(elsewhere)}, but the governing Service must be in the pods' namespace",
                create + "; a Service in another namespace can never govern these pods",
            )
            return
        self.add(
            "HSVC102",
            sts.ref,
            f"serviceName {sts.service_name!r} of StatefulSet {sts.namespace}/{sts.name} names "
            f"no Service: <pod>.{sts.service_name}.{sts.namespace}.svc and "
            f"{sts.service_name}.{sts.namespace}.svc are NXDOMAIN",
            create + self.lookalike(sts),
        )

    def lookalike(self, sts: StatefulSet) -> str:
        """Suggest a headless Service that already selects the pods (a likely typo)."""
        candidates = sorted(
            s.name
            for s in self.services_in(sts.namespace)
            if s.is_headless and conditions.selects_labels(s, sts.namespace, sts.template_labels)
        )
        if not candidates:
            return ""
        return (
            f"; or did you mean the headless Service {candidates[0]!r}, which selects these "
            "pods? (serviceName is immutable: recreate the StatefulSet with it)"
        )

    def governing(self, sts: StatefulSet, svc: Service) -> None:
        where = f"{svc.namespace}/{svc.name}"
        if svc.is_external_name:
            self.add(
                "HSVC105",
                sts.ref,
                f"the governing Service {where} of StatefulSet {sts.name} is an ExternalName "
                "Service: it has no endpoints and no names below it, so per-pod names are "
                "NXDOMAIN",
                "point serviceName at a headless Service (clusterIP: None) with a selector",
            )
            return
        if not svc.is_headless:
            self.add(
                "HSVC104",
                sts.ref,
                f"the governing Service {where} of StatefulSet {sts.name} is not headless: "
                f"{svc.name}.{svc.namespace}.svc answers the cluster IP, and per-pod names are "
                "served by CoreDNS only (not by the DNS spec or kube-dns)",
                "make the governing Service headless (clusterIP: None; immutable, so recreate "
                "it) and keep a separate ClusterIP Service for load-balanced access",
            )
            self.portability(sts, svc)
        if conditions.selects_labels(svc, sts.namespace, sts.template_labels):
            return
        hand_written = any(
            ep.hostname
            for sl in self.c.read_slices.get((svc.namespace, svc.name), [])
            for ep in sl.endpoints
        )
        if not svc.selector and hand_written:
            return  # hostnames come from hand-written slices
        if not svc.selector:
            message = (
                f"the governing Service {where} of StatefulSet {sts.name} has no selector: the "
                "EndpointSlice controller never lists the pods, so per-pod names are NXDOMAIN"
            )
        else:
            message = (
                f"the governing Service {where} selects {labels_text(svc.selector)}, which the "
                f"pod template of StatefulSet {sts.name} ({labels_text(sts.template_labels)}) "
                "does not match: per-pod names are NXDOMAIN"
            )
        self.add(
            "HSVC106",
            sts.ref,
            message,
            "make the Service selector a subset of the pod template labels "
            f"({labels_text(sts.template_labels)})",
        )

    def portability(self, sts: StatefulSet, svc: Service) -> None:
        """Per-pod names under a ClusterIP Service exist on CoreDNS only (hsvc.core.flavour)."""
        from hsvc.core.flavour import RULE_RANGES

        where = f"{svc.namespace}/{svc.name}"
        first = f"{sts.name}-0.{svc.name}.{svc.namespace}.svc"
        here = self.s.dns_flavour
        now = (
            "this cluster's kube-dns/Cloud DNS already answers NXDOMAIN for them"
            if here != "coredns"
            else "they resolve here, on CoreDNS"
        )
        self.add(
            "HSVC507",
            sts.ref,
            f"the per-pod names of StatefulSet {sts.name} ({first}, ...) and their PTRs sit "
            f"under the ClusterIP Service {where}: {now}, but kube-dns and Cloud DNS "
            f"({RULE_RANGES['R15'].differs}) and CoreDNS 1.11.4 to 1.12.0 for the PTRs of "
            "hostname-less endpoints do not serve the same names",
            "make the governing Service headless (clusterIP: None; recreate it), which every "
            "DNS server and the DNS spec serve per-pod names for",
        )

    def other_headless(self, sts: StatefulSet) -> None:
        others = sorted(
            s.name
            for s in self.services_in(sts.namespace)
            if s.is_headless
            and s.name != sts.service_name
            and conditions.selects_labels(s, sts.namespace, sts.template_labels)
        )
        if not others:
            return
        self.add(
            "HSVC107",
            sts.ref,
            f"headless Service(s) {few(others)} also select the pods of StatefulSet {sts.name}; "
            f"<pod>.<svc> names exist only under the governing Service {sts.service_name!r}, "
            "elsewhere the pods are named by their dashed IP",
            f"ask {sts.name}-0.{sts.service_name}.{sts.namespace}.svc, or enable "
            "endpoint_pod_names in the Corefile to name them after the pods everywhere",
        )

    def ordered_ready(self, sts: StatefulSet, svc: Service) -> None:
        if sts.pod_management_policy != "OrderedReady" or svc.publish_not_ready_addresses:
            return
        pods = [
            p
            for p in self.c.pods_by_namespace.get(sts.namespace, [])
            if (p.owner is not None and p.owner.kind == "StatefulSet" and p.owner.name == sts.name)
            or (p.owner is None and _ordinal(p.name, sts.name) is not None)
        ]
        stuck = sorted(
            (p for p in pods if not p.is_terminal and not p.ready),
            key=lambda p: _ordinal(p.name, sts.name) or 0,
        )
        if sts.replicas <= 1 or len(pods) >= sts.replicas or not stuck:
            return
        self.add(
            "HSVC205",
            sts.ref,
            f"StatefulSet {sts.namespace}/{sts.name} waits on pod {stuck[0].name} (not ready, "
            f"{len(pods)} of {sts.replicas} pods exist): OrderedReady creates the next pod only "
            "once it is ready, and while publishNotReadyAddresses is off no peer name "
            "resolves; an app that waits for its peers in DNS before turning ready deadlocks",
            f"set publishNotReadyAddresses: true on Service {svc.name} (usual for etcd, "
            "ZooKeeper, Kafka, Cassandra), or podManagementPolicy: Parallel (immutable)",
        )

    def deployment(self, deploy: Deployment) -> None:
        self.hardcoded(deploy.ref, deploy.namespace, deploy.hardcoded_names)
        host, sub = deploy.template_hostname, deploy.template_subdomain
        if not self.valid_labels(deploy.ref, host, sub):
            return
        if host:
            svc = self.c.service(deploy.namespace, sub) if sub else None
            shared = (
                f"; {host}.{sub}.{deploy.namespace}.svc answers all their addresses"
                if svc is not None
                else ""
            )
            self.add(
                "HSVC405",
                deploy.ref,
                f"the pod template of Deployment {deploy.namespace}/{deploy.name} sets hostname "
                f"{host!r}: every replica ({deploy.replicas}) gets it{shared}",
                "use a StatefulSet for stable per-pod names, or drop spec.hostname",
            )
            if sub:
                self.name_length(
                    deploy.ref, names.under(self.zone, f"{host}.{sub}.{deploy.namespace}.svc")
                )
        elif sub:
            self.add(
                "HSVC406",
                deploy.ref,
                f"the pod template of Deployment {deploy.namespace}/{deploy.name} sets subdomain "
                f"{sub!r} but no hostname: its pods get no <hostname>.{sub} name; Service "
                f"{sub} lists them under their dashed IP",
                "use a StatefulSet (one hostname per pod), or enable endpoint_pod_names in the "
                "Corefile to name endpoints after their pods",
            )
        if sub:
            self.subdomain_service(deploy.ref, deploy.namespace, sub, f"Deployment {deploy.name}")


def _ordinal(pod_name: str, sts_name: str) -> int | None:
    prefix, _, number = pod_name.rpartition("-")
    return int(number) if prefix == sts_name and number.isdigit() else None
