"""What every family of checks shares: the engine's indexes, the scope, the findings so far."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from hsvc.core import names
from hsvc.core.cluster import ClusterDns
from hsvc.core.diagnose.catalogue import SVC_NAME, finding
from hsvc.core.model import Finding, ObjectRef, Pod, Service, Severity


class _Context:
    """The objects in scope and the findings; indexes are the answer engine's own."""

    def __init__(self, cluster: ClusterDns, namespace: str | None, observed: bool) -> None:
        self.c = cluster
        self.snap = cluster.snapshot
        self.s = cluster.settings
        self.ns = namespace
        self.observed = observed
        self.zone = self.s.primary_zone
        self.long_names: set[str] = set()
        self.found: list[Finding] = []
        self.pods_unreadable = any(u.startswith("pods") for u in self.snap.unreadable)
        self.slices_unreadable = any(
            u.startswith(("endpointslices", "endpoints")) for u in self.snap.unreadable
        )

    def add(
        self,
        code: str,
        obj: ObjectRef,
        message: str,
        hint: str,
        *,
        severity: Severity | None = None,
    ) -> None:
        """Record a finding (``severity``: instead of the code's, e.g. for an uncertain one)."""
        made = finding(code, obj, message, hint)
        self.found.append(made if severity is None else replace(made, severity=severity))

    def in_scope(self, namespace: str) -> bool:
        return self.ns is None or namespace == self.ns

    def services_in(self, namespace: str) -> list[Service]:
        return self.c.services_by_namespace.get(namespace, [])

    def selected(self, svc: Service) -> list[Pod]:
        """Return the pods the Service's selector matches (none without a selector)."""
        return self.c.selected_pods(svc)

    def owned_by_workload(self, pod: Pod) -> bool:
        """Whether a StatefulSet or Deployment in the snapshot made this pod (checked there)."""
        return self.c.owner_in_snapshot(pod)

    def name_length(self, obj: ObjectRef, name: str) -> None:
        if name in self.long_names:
            return  # the same name seen from a pod and from its endpoint
        if len(name.rstrip(".")) > names.MAX_NAME:
            self.long_names.add(name)
            self.add(
                "HSVC402",
                obj,
                f"per-pod name {name} has {len(name.rstrip('.'))} characters, over the "
                f"{names.MAX_NAME} a DNS name may have: no client can ask it",
                "shorten the pod hostname, the Service name or the namespace",
            )

    def valid_labels(self, obj: ObjectRef, hostname: str, subdomain: str) -> bool:
        ok = True
        for field_name, value in (("hostname", hostname), ("subdomain", subdomain)):
            if value and not names.is_dns1123_label(value):
                ok = False
                self.add(
                    "HSVC401",
                    obj,
                    f"{field_name} {value!r} of {obj} is not a DNS-1123 label (lower-case "
                    "letters, digits and '-', at most 63): the API rejects the pod",
                    f"rename the {field_name}",
                )
        return ok

    def subdomain_service(self, obj: ObjectRef, namespace: str, sub: str, who: str) -> None:
        if self.c.service(namespace, sub) is not None:
            return
        self.add(
            "HSVC403",
            obj,
            f"subdomain {sub!r} of {who} names no Service in {namespace}: the EndpointSlice "
            "controller writes no hostname, so no per-pod name exists",
            f"create a headless Service named {sub!r} in {namespace} selecting these pods",
        )

    def hardcoded(self, obj: ObjectRef, namespace: str, texts: Sequence[str]) -> None:
        zones = self.s.forward_zones
        seen: set[str] = set()
        for text in texts:
            for match in SVC_NAME.finditer(text.lower()):
                name = match.group(0).rstrip(".")
                kind, rest = match.group(1), match.group(2).rstrip(".")
                zone = rest + "."
                if name in seen or not rest:
                    continue
                seen.add(name)
                if not any(names.is_subdomain(zone, z) or zone == z for z in zones):
                    self.add(
                        "HSVC501",
                        obj,
                        f"{obj} names {name} in its env, args or command, but the cluster "
                        f"zone is {self.zone.rstrip('.')} (settings: {self.s.source}); that "
                        "name is outside it and does not resolve",
                        f"use the short name ({name.split('.' + kind + '.')[0]}.{kind}; the "
                        "search path adds the zone) or the cluster's zone",
                    )
                elif zone == self.zone and kind == "svc":
                    short = name.removesuffix("." + self.zone.rstrip("."))
                    self.add(
                        "HSVC508",
                        obj,
                        f"{obj} writes the cluster domain out in {name}: it resolves on this "
                        f"cluster, and breaks on one whose domain is not "
                        f"{self.zone.rstrip('.')}",
                        f"use {short} (the pod's search path adds the cluster domain)",
                    )
                elif kind == "pod" and self.s.pods.value == "disabled":
                    self.add(
                        "HSVC502",
                        obj,
                        f"{obj} names the pod record {name}, but pod records are disabled "
                        "in the Corefile: it is NXDOMAIN",
                        "set 'pods insecure' (or verified) in the Corefile, or use a Service "
                        "name instead",
                    )
