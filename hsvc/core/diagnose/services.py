"""2xx selection, EndpointSlices, readiness; 3xx ports and SRV names (rules 1-5, 13-18)."""

from __future__ import annotations

from hsvc.core import conditions, names
from hsvc.core.diagnose.catalogue import (
    few,
    labels_text,
)
from hsvc.core.diagnose.context import _Context
from hsvc.core.model import Rcode, Service


class _ServiceChecks(_Context):
    """2xx selection, slices and readiness; 3xx ports and SRV names."""

    def services(self) -> None:
        for svc in sorted(self.c.services.values(), key=lambda s: (s.namespace, s.name)):
            if not self.in_scope(svc.namespace):
                continue
            if svc.is_external_name:
                self.external_name(svc)
                continue
            self.ports(svc)
            self.endpoint_name_lengths(svc)
            slices = self.c.read_slices.get((svc.namespace, svc.name), [])
            if svc.selector:
                self.selection(svc)
                if self.observed and not slices and not self.slices_unreadable:
                    self.add(
                        "HSVC202",
                        svc.ref,
                        f"Service {svc.namespace}/{svc.name} has a selector but no "
                        "EndpointSlice carries kubernetes.io/service-name="
                        f"{svc.name}: DNS has no endpoints for it",
                        "the EndpointSlice controller writes one within seconds; if none "
                        "appears, check kube-controller-manager's logs",
                    )
                self.not_ready(svc)
            else:
                self.selectorless(svc)

    def endpoint_name_lengths(self, svc: Service) -> None:
        # An endpoint name is an SRV target and PTR data; over 253 characters no DNS
        # message can carry it, so CoreDNS cannot serve those records.
        for ep in self.c.ready_endpoints(svc.namespace, svc.name):
            name = names.under(self.zone, f"{ep.name}.{svc.name}.{svc.namespace}.svc")
            self.name_length(ep.source, name)

    def external_name(self, svc: Service) -> None:
        if svc.external_name and names.canonical_ip(svc.external_name) is None:
            return
        what = repr(svc.external_name) if svc.external_name else "empty"
        self.add(
            "HSVC408",
            svc.ref,
            f"externalName of Service {svc.namespace}/{svc.name} is {what}, not a DNS name: "
            "cluster DNS answers NXDOMAIN for every type",
            "for a fixed IP use a Service without selector plus an EndpointSlice holding it",
        )

    def selection(self, svc: Service) -> None:
        if self.pods_unreadable:
            return
        pods = self.selected(svc)
        templates = self.c.selected_templates(svc)
        if pods or templates:
            return
        where = "pod" if self.observed else "pod, StatefulSet or Deployment template"
        # What the name does is the engine's answer, not a second derivation: slices
        # written by hand may still give the Service endpoints.
        name = names.under(self.zone, f"{svc.name}.{svc.namespace}.svc")
        nxdomain = self.c.answer(name, "A").rcode is Rcode.NXDOMAIN
        if not self.c.ready_endpoints(svc.namespace, svc.name):
            effect = "it has no endpoints" + (", and its name is NXDOMAIN" if nxdomain else "")
        else:
            effect = "the controller lists no pod for it (its endpoints come from other slices)"
        self.add(
            "HSVC201",
            svc.ref,
            f"the selector {labels_text(svc.selector)} of Service {svc.namespace}/{svc.name} "
            f"matches no {where} in {svc.namespace}: {effect}",
            "make the selector a subset of the pod template labels (kubectl get pods "
            "--show-labels)",
        )

    def not_ready(self, svc: Service) -> None:
        if conditions.publishes_not_ready(svc):
            return
        pods = [p for p in self.selected(svc) if conditions.in_slices(p)]
        waiting = sorted(p.name for p in pods if not conditions.ready_written(svc, p))
        if not waiting:
            return
        where = f"{svc.namespace}/{svc.name}"
        if svc.is_headless:
            effect = (
                "their addresses, endpoint names, SRV targets and PTRs are absent from DNS "
                "until they are ready"
            )
        else:
            effect = (
                f"{svc.name}.{svc.namespace}.svc still answers its cluster IP, but their endpoint "
                "names (dashed IP) and PTRs are absent until they are ready"
            )
        self.add(
            "HSVC204",
            svc.ref,
            f"{len(waiting)} of {len(pods)} pods selected by Service {where} are not ready or "
            f"terminating ({few(waiting)}), and publishNotReadyAddresses is off: {effect}",
            "expected while pods start; if peers must resolve each other before they are "
            f"ready, set publishNotReadyAddresses: true on Service {svc.name} (terminating "
            "pods then stay in DNS too)",
        )

    def selectorless(self, svc: Service) -> None:
        if (svc.namespace, svc.name) == ("default", "kubernetes"):
            return  # the API server writes its slices itself
        real = self.c.read_slices.get((svc.namespace, svc.name), [])
        if not real:
            if self.slices_unreadable:
                return
            effect = (
                "its name is NXDOMAIN (no ready address)"
                if svc.is_headless
                else "its cluster IP leads nowhere"
            )
            self.add(
                "HSVC203",
                svc.ref,
                f"Service {svc.namespace}/{svc.name} has no selector and no EndpointSlice "
                f"labelled kubernetes.io/service-name={svc.name}: {effect}",
                "write an EndpointSlice (discovery.k8s.io/v1) with that label and the "
                "backend addresses, or add a selector",
            )
            return
        if not svc.is_headless:
            return
        ports = [p for sl in real for p in sl.ports]
        svc_names = {p.name for p in svc.ports if p.name}
        if not ports:
            self.add(
                "HSVC303",
                svc.ref,
                f"the hand-written EndpointSlices of headless Service {svc.namespace}/{svc.name} "
                "list no ports: no SRV record exists for it",
                "add ports (name, protocol, port) to the EndpointSlices",
            )
        elif any(not p.name for p in ports) and svc_names:
            self.add(
                "HSVC303",
                svc.ref,
                f"the hand-written EndpointSlices of headless Service {svc.namespace}/{svc.name} "
                "have unnamed ports: no _<port>._<proto> SRV name exists for them",
                f"name the slice ports as the Service does ({few(sorted(svc_names))})",
            )
        elif svc_names and not svc_names & {p.name for p in ports}:
            self.add(
                "HSVC303",
                svc.ref,
                f"the hand-written EndpointSlices of headless Service {svc.namespace}/{svc.name} "
                f"name their ports {few(sorted({p.name for p in ports}))}, the Service "
                f"{few(sorted(svc_names))}: SRV names follow the slices",
                f"name the slice ports as the Service does ({few(sorted(svc_names))}), so "
                "_<port>._<proto> names are the ones clients expect",
            )
        bare = sorted(
            {
                names.dashed_ip(ep.addresses[0])
                for sl in real
                for ep in sl.endpoints
                if not ep.hostname and ep.addresses
            }
        )
        if bare:
            self.add(
                "HSVC407",
                svc.ref,
                f"{len(bare)} endpoint(s) of the hand-written EndpointSlices of headless Service "
                f"{svc.namespace}/{svc.name} have no hostname, so they are named by their "
                f"dashed IP ({few(bare, 3)})",
                "set endpoints[].hostname in the EndpointSlices for stable per-endpoint names",
            )

    def ports(self, svc: Service) -> None:
        seen: set[str] = set()
        for port in svc.ports:
            if not port.name:
                if len(svc.ports) > 1:
                    self.add(
                        "HSVC302",
                        svc.ref,
                        f"Service {svc.namespace}/{svc.name} has {len(svc.ports)} ports and port "
                        f"{port.port}/{port.protocol} has no name: the API rejects it",
                        "name every port when a Service has more than one",
                    )
                else:
                    self.add(
                        "HSVC301",
                        svc.ref,
                        f"port {port.port}/{port.protocol} of Service {svc.namespace}/{svc.name} "
                        f"has no name: no _<port>._{port.protocol.lower()} SRV name exists, only "
                        "the bare-name SRV CoreDNS adds",
                        "name the port (for example name: http) to get "
                        f"_http._{port.protocol.lower()}.{svc.name}.{svc.namespace}.svc",
                    )
                continue
            if not names.is_dns1123_label(port.name):
                self.add(
                    "HSVC302",
                    svc.ref,
                    f"port name {port.name!r} of Service {svc.namespace}/{svc.name} is not a "
                    "DNS-1123 label: the API rejects the Service",
                    "use lower-case letters, digits and '-' (at most 63, no leading or "
                    "trailing '-')",
                )
            elif port.name in seen:
                self.add(
                    "HSVC302",
                    svc.ref,
                    f"port name {port.name!r} appears twice in Service "
                    f"{svc.namespace}/{svc.name}: the API rejects the Service",
                    "give every port a distinct name",
                )
            seen.add(port.name)
            if svc.is_headless and port.target_port not in (None, port.port):
                self.add(
                    "HSVC304",
                    svc.ref,
                    f"headless Service {svc.namespace}/{svc.name} maps port {port.port} to "
                    f"{port.target_port}: its SRV records carry the container port, not "
                    f"{port.port}",
                    "clients that read SRV connect to the target port directly; set port equal "
                    "to targetPort to avoid confusion",
                )
