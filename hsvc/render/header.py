"""The lines around tables: DNS settings, the resolver path, notes, a Service's header."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console  # noqa: TID251
from rich.text import Text  # noqa: TID251

from hsvc.core.model import (
    DnsSettings,
    LabelSelector,
)
from hsvc.core.refuse import Checked, describe_use
from hsvc.core.report import (
    ServiceSummary,
    Source,
)
from hsvc.core.text import and_more
from hsvc.render.cells import safe


def settings_line(src: Source, servers: Sequence[str] = (), *, compact: bool = False) -> Text:
    """DNS settings used and where they came from, the servers asked, the objects read.

    ``compact``: the servers and the objects share one line.
    """
    s = src.settings
    text = Text("DNS: ", style="bold")
    options = "".join(f" {o}" for o in settings_options(s))
    text.append_text(
        safe(
            f"zone {s.primary_zone} ttl {s.ttl} pods {s.pods.value}{options} rules of "
            f"{server_name(s)} — {s.source}"
        )
    )
    if servers:
        text.append("\nasked: ", style="bold")
        text.append_text(safe(", ".join(servers)))
    text.append("  objects: " if compact and servers else "\nobjects: ", style="bold")
    text.append_text(safe(src.origin))
    return text


def _selector_text(selector: LabelSelector) -> str:
    parts = [f"{k}={v}" for k, v in selector.match_labels]
    for req in selector.match_expressions:
        values = ",".join(req.values)
        parts.append(f"{req.key} {req.operator}" + (f" ({values})" if values else ""))
    return ",".join(parts)


def settings_options(s: DnsSettings) -> list[str]:
    """The kubernetes plugin's options that differ from kubeadm's Corefile, as written there.

    The zone, ttl and pods mode are always shown; these only when set (dns-records.md
    section 1).
    """
    default = DnsSettings()
    options: list[str] = []
    others = [z for z in s.forward_zones if z != s.primary_zone]
    if others:
        options.append("zones +" + " ".join(others))
    if s.endpoint_pod_names:
        options.append("endpoint_pod_names")
    if s.namespaces:
        options.append("namespaces " + " ".join(s.namespaces))
    if s.namespace_labels is not None:
        options.append("namespace_labels " + _selector_text(s.namespace_labels))
    if s.labels is not None:
        options.append("labels " + _selector_text(s.labels))
    if s.ignore_empty_service:
        options.append("ignore empty_service")
    if s.noendpoints:
        options.append("noendpoints")
    if s.zonal:
        options.append("zonal")
    if s.fallthrough != default.fallthrough:
        options.append(
            "fallthrough " + " ".join(s.fallthrough) if s.fallthrough else "no fallthrough"
        )
    return options


def server_name(s: DnsSettings) -> str:
    """``CoreDNS 1.12.0 (image tag)``, ``kube-dns``, ``CoreDNS 1.14.7 (assumed)``."""
    name = {"coredns": "CoreDNS", "kube-dns": "kube-dns", "cloud-dns": "Cloud DNS"}.get(
        s.dns_flavour, s.dns_flavour
    )
    if s.dns_flavour != "coredns":
        return name + (f" ({s.dns_version_source})" if s.dns_version_source else "")
    if not s.dns_version:
        return f"{name} 1.14.7 (version assumed)"
    where = f" ({s.dns_version_source})" if s.dns_version_source else ""
    return f"{name} {s.dns_version}{where}"


def print_notes(console: Console, src: Source | str) -> None:
    """Print the source's notes (assumptions, unreadable kinds), or one note, to ``console``."""
    for note in (src,) if isinstance(src, str) else src.notes:
        console.print(safe("note: " + note, "yellow"))


def path_line(src: Source) -> Text | None:
    """``path: pod → node-local 169.254.20.10 (cache 30/5) → CoreDNS ×2 1.12.0 :53``."""
    if src.path is None:
        return None
    text = Text("path: ", style="bold")
    text.append_text(safe(src.path.text))
    return text


def service_header(s: ServiceSummary) -> Text:
    """The line above a Service's rows: its kind, ports, endpoints and their conditions."""
    svc = s.service
    kind = "headless" if svc.is_headless else svc.type
    text = Text()
    text.append("Service ", style="bold")
    text.append_text(safe(f"{svc.namespace}/{svc.name}", "bold"))
    text.append(f"  {kind}")
    if not svc.is_headless and svc.cluster_ips:
        text.append_text(safe(" " + ",".join(svc.cluster_ips)))
    if svc.is_external_name:
        text.append_text(safe(" → " + svc.external_name))
    selector = ",".join(f"{k}={v}" for k, v in svc.selector) or "(none)"
    ports = (
        ", ".join(f"{p.name or '(unnamed)'} {p.port}/{p.protocol}" for p in svc.ports) or "(none)"
    )
    text.append("\n  selector ")
    text.append_text(safe(selector))
    text.append("  ports ")
    text.append_text(safe(ports))
    if s.stateful_sets:
        text.append("\n  StatefulSets ")
        text.append_text(safe(", ".join(f"{st.name} ×{st.replicas}" for st in s.stateful_sets)))
    text.append(
        f"\n  endpoints {s.ready} ready, {s.not_ready} not ready; {s.serving} serving, "
        f"{s.terminating} terminating"
    )
    if s.predicted:
        text.append("  (predicted: the input holds no EndpointSlices)")
    if s.predicted_pods:
        text.append("\n  predicted pods ")
        text.append_text(safe(and_more(s.predicted_pods, 5)))
        text.append(": their names will answer, addresses assigned when the pods start")
    if svc.publish_not_ready_addresses:
        text.append(
            "\n  publishNotReadyAddresses: not-ready and terminating pods stay in DNS (the "
            "controller writes them ready=true); serving and terminating say their real state"
        )
    odd = [e for e in s.endpoints if not e.published or not e.is_serving or e.is_terminating]
    for e in odd[:_ENDPOINT_LINES]:
        text.append("\n    ")
        text.append_text(safe(e.pod or e.name))
        text.append_text(safe(" " + ",".join(e.addresses), "dim"))
        text.append(
            f"  ready={_condition(e.ready)} serving={_condition(e.serving)} "
            f"terminating={_condition(e.terminating)}"
        )
        text.append("  in DNS" if e.published else "  not in DNS", style="dim")
    if len(odd) > _ENDPOINT_LINES:
        text.append(
            f"\n    … {len(odd) - _ENDPOINT_LINES} more endpoint(s) not ready, not "
            "serving or terminating (-o json lists them all)",
            style="dim",
        )
    return text


# The header lists at most this many endpoints that are not ready, not serving or terminating.
_ENDPOINT_LINES = 10


def _condition(value: bool | None) -> str:
    """An EndpointSlice condition as written; an absent one says so."""
    return "absent" if value is None else str(value).lower()


def used_by(s: ServiceSummary, checked: Sequence[Checked]) -> Text:
    """The references into one Service: who breaks with it ("used by: deploy/api env X")."""
    key = (s.service.namespace, s.service.name)
    mine = [c for c in checked if c.service == key]
    text = Text("  used by", style="bold")
    if not mine:
        text.append(" (no reference found in the objects read)", style="dim")
        return text
    for c in mine:
        text.append("\n    ")
        text.append("✓ " if c.ok else "✗ ", style="green" if c.ok else "red")
        text.append_text(safe(describe_use(c.reference)))
        text.append("  ")
        text.append_text(safe(c.reference.name, "dim"))
        if not c.ok:
            text.append_text(safe(f"  {c.answer.rcode.value}", "red"))
    return text
