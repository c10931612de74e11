"""5xx DNS settings and the cluster domain (rules 8, 9, 28, 40, 41)."""

from __future__ import annotations

from hsvc.core import transport
from hsvc.core.diagnose.context import _Context
from hsvc.core.dnspath import ResolverPath
from hsvc.core.model import ObjectRef, Service, Severity, selector_matches
from hsvc.core.transport import DnsPods


class _SettingsChecks(_Context):
    """5xx DNS settings and the cluster domain (rules 8, 9, 28, 40, 41)."""

    def settings_checks(self) -> None:
        services = [s for s in self.c.services.values() if self.in_scope(s.namespace)]
        for svc in sorted(services, key=lambda s: (s.namespace, s.name)):
            if svc.is_external_name:
                continue
            if svc.is_headless and self.s.noendpoints:
                self.add(
                    "HSVC505",
                    svc.ref,
                    f"the Corefile sets noendpoints, so headless Service "
                    f"{svc.namespace}/{svc.name} and every per-pod name under it are NXDOMAIN",
                    "remove noendpoints from the kubernetes block",
                )
            if (
                not svc.is_headless
                and self.s.ignore_empty_service
                and self.observed
                and not self.c.ready_endpoints(svc.namespace, svc.name)
            ):
                self.add(
                    "HSVC504",
                    svc.ref,
                    f"Service {svc.namespace}/{svc.name} has no ready endpoint and the Corefile "
                    "sets ignore empty_service: its name is NXDOMAIN",
                    "expected while no pod is ready; remove 'ignore empty_service' if clients "
                    "need the name regardless",
                )
        for ns in sorted({s.namespace for s in services}):
            if ns in self.c.namespaces and not self.c.namespace_exposed(ns):
                self.add(
                    "HSVC506",
                    ObjectRef(kind="Namespace", namespace="", name=ns),
                    f"namespace {ns} is not exposed by the Corefile's namespaces/namespace_labels: "
                    "every name under it is NXDOMAIN",
                    "add it to the kubernetes plugin's namespaces list (or label it to match "
                    "namespace_labels)",
                )

    def transport(self, path: ResolverPath | None) -> None:
        """HSVC801/802/807 from the objects: the DNS Service's TCP port, policies blocking DNS."""
        service = path.service if path is not None else None
        if service is None:
            # From manifests: a cluster DNS Service among the files.
            service = self.c.service("kube-system", "kube-dns") or self.c.service(
                "openshift-dns", "dns-default"
            )
        found = list(transport.service_tcp(service))
        clients = [p for p in self.snap.pods if self.in_scope(p.namespace)]
        port = path.dns_port if path is not None else transport.target_port(service)
        namespaces = {ns.name: ns.labels for ns in self.snap.namespaces if ns.labels_known}
        found.extend(
            transport.network_policies(
                self.snap.network_policies,
                clients,
                self._dns_pods(service, path),
                port,
                namespaces,
            )
        )
        for code, obj, message, hint in found:
            uncertain = message.startswith("uncertain:")
            self.add(code, obj, message, hint, severity=Severity.WARNING if uncertain else None)

    def _dns_pods(self, service: Service | None, path: ResolverPath | None) -> DnsPods | None:
        """The DNS pods as far as the input tells: labels, IPs, named container ports."""
        if service is None or not service.selector:
            return None
        ns, selector = service.namespace, service.selector
        pods = [
            p for p in self.snap.pods if p.namespace == ns and selector_matches(selector, p.labels)
        ]
        ips: tuple[str, ...] | None = None
        if path is not None and path.servers is not None and path.servers.addresses:
            ips = path.servers.addresses
        elif pods and all(p.pod_ips for p in pods):
            ips = tuple(ip for p in pods for ip in p.pod_ips)
        else:
            sliced = [
                a
                for sl in self.snap.endpoint_slices
                if sl.namespace == ns and sl.service_name == service.name
                for ep in sl.endpoints
                for a in ep.addresses
            ]
            ips = tuple(sliced) if sliced else None
        named: tuple[tuple[str, str, int], ...] | None = None
        if path is not None and path.dns_named_ports:
            named = path.dns_named_ports
        elif pods:
            named = pods[0].named_ports
        else:
            templates = [
                d
                for d in self.snap.deployments
                if d.namespace == ns and selector_matches(selector, d.template_labels)
            ]
            named = templates[0].template_ports if templates else None
        labels = pods[0].labels if pods else selector
        return DnsPods(
            namespace=ns,
            labels=labels,
            labels_complete=bool(pods),
            ips=ips,
            named_ports=named,
            cluster_ips=tuple(ip for ip in service.cluster_ips if ip != "None"),
            what=f"the DNS pods ({ns}, {','.join(f'{k}={v}' for k, v in selector)})",
        )
