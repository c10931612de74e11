"""Read the kubernetes plugin's knobs from a CoreDNS Corefile (dns-records.md section 1).

Pure text in, :class:`DnsSettings` out: no I/O. The lexer
(:mod:`hsvc.core.caddyfile`) follows the Caddyfile rules CoreDNS uses
(whitespace-separated tokens, ``"`` quotes a whole token, ``#`` starts a comment
anywhere outside quotes); the option parsing follows CoreDNS
``plugin/kubernetes/setup.go`` ``ParseStanza`` and zone normalisation follows
``plugin/normalize.go`` ``SplitHostPort`` with ``plugin/pkg/cidr`` (commit 4b26cced).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import replace

from hsvc.core.caddyfile import CorefileError as CorefileError
from hsvc.core.caddyfile import Directive, Parser, ServerBlock, Token, expand_imports, tokenize
from hsvc.core.dataclass import dataclass
from hsvc.core.model import (
    DnsSettings,
    LabelSelector,
    PodsMode,
    is_reverse_zone,
)
from hsvc.core.selector import SelectorError, parse_selector

__all__ = [
    "CorefileError",
    "ServerSummary",
    "kubeadm_default_corefile",
    "parse_corefile",
    "server_summaries",
    "settings_with_overrides",
]

# Defaults of the plugin itself when a knob is absent (CoreDNS kubernetes.go ``New``,
# dns-records.md section 1). ``DnsSettings``' own defaults are kubeadm's, not these.
PLUGIN_DEFAULT_TTL = 5
PLUGIN_DEFAULT_PODS = PodsMode.DISABLED

_MAX_TTL = 3600
_DEFAULT_PORT = "53"
# Transport prefixes CoreDNS strips from zones (plugin/pkg/parse/transport.go).
_TRANSPORTS = ("tls://", "dns://", "quic://", "grpc://", "https3://", "https://", "unix://")
_INTEGER = re.compile(r"[+-]?[0-9]+")
_PREFIX_LENGTH = re.compile(r"[0-9]{1,3}")


# --- zones -----------------------------------------------------------------------


def _split_host_port(key: str) -> tuple[str, str]:
    """Strip the transport prefix and a trailing ``:port`` (CoreDNS ``SplitHostPort``)."""
    for prefix in _TRANSPORTS:
        if key.startswith(prefix):
            key = key[len(prefix) :]
            break
    port = ""
    colon = key.rfind(":")
    if colon != -1 and _INTEGER.fullmatch(key[colon + 1 :]):
        port = str(int(key[colon + 1 :]))
        key = key[:colon]
    return key, port


def _fqdn(name: str) -> str:
    return name if name.endswith(".") else name + "."


def _has_placeholder(name: str) -> bool:
    return "{$" in name or "{%" in name


def _is_domain_name(name: str) -> bool:
    if name in ("", "."):
        return name == "."
    labels = name.removesuffix(".").split(".")
    return len(name) <= 255 and all(0 < len(label) <= 63 for label in labels)


def _reverse_zones(network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> list[str]:
    """Return the reverse zones CoreDNS serves for a CIDR (``cidr.Split`` + ``cidr.Reverse``).

    A prefix is widened to the next label boundary (8 bits for in-addr.arpa, 4 bits for
    ip6.arpa) by enumerating subnets: ``10.96.0.0/12`` serves ``96.10.in-addr.arpa.``
    through ``111.10.in-addr.arpa.``.
    """
    step = 8 if network.version == 4 else 4
    prefix = -(-network.prefixlen // step) * step
    subnets = [network] if prefix == network.prefixlen else network.subnets(new_prefix=prefix)
    zones = []
    for subnet in subnets:
        labels = subnet.network_address.reverse_pointer.split(".")
        drop = (subnet.max_prefixlen - prefix) // step
        zones.append(".".join(labels[drop:]) + ".")
    return zones


def _normalize_zone(key: str) -> list[str]:
    """Return the zones one zone argument stands for; empty if CoreDNS would drop it.

    CoreDNS ``OriginsFromArgsOrServerBlock`` silently skips arguments that are not
    valid domain names, so this does too.
    """
    host, _ = _split_host_port(key)
    if _has_placeholder(host):
        return [_fqdn(host)]  # environment placeholder: left as written
    if host == "":
        host = "."
    if not _is_domain_name(host):
        return []
    address, slash, length = host.partition("/")
    if slash and _PREFIX_LENGTH.fullmatch(length):
        if host.startswith(":") or (host.startswith("0") and ":" in host):
            return []  # CoreDNS: "invalid CIDR"
        try:
            network = ipaddress.ip_network(f"{address}/{length}", strict=False)
        except ValueError:
            pass  # not a CIDR after all: an ordinary (odd) domain name
        else:
            return _reverse_zones(network)
    return [_fqdn(host.lower())]


def _zones_of(tokens: tuple[Token, ...] | list[Token]) -> tuple[str, ...]:
    zones: list[str] = []
    for tok in tokens:
        for zone in _normalize_zone(tok.text):
            if zone not in zones:
                zones.append(zone)
    return tuple(zones)


# --- the kubernetes stanza --------------------------------------------------------


def _server_block_port(block: ServerBlock) -> str:
    if not block.keys:
        return _DEFAULT_PORT
    _, port = _split_host_port(block.keys[0].text)
    return port or _DEFAULT_PORT


def _find_kubernetes(
    blocks: list[ServerBlock], source: str
) -> tuple[ServerBlock, Directive] | None:
    found: list[tuple[ServerBlock, Directive]] = []
    for block in blocks:
        in_block = [d for d in block.directives if d.name.text == "kubernetes"]
        if len(in_block) > 1:
            raise CorefileError(
                "the kubernetes plugin can only be used once per server block",
                source=source,
                line=in_block[1].name.line,
            )
        found.extend((block, d) for d in in_block)
    if not found:
        return None
    # Several servers may each run the plugin; pods resolve through port 53, so that
    # one wins, else the first in the file.
    for block, directive in found:
        if _server_block_port(block) == _DEFAULT_PORT:
            return block, directive
    return found[0]


def _no_args(option: Directive, source: str) -> None:
    if option.args:
        raise CorefileError(
            f"{option.name.text} takes no arguments", source=source, line=option.args[0].line
        )


def _pods_value(args: list[str], source: str, line: int) -> PodsMode:
    if len(args) != 1:
        raise CorefileError("pods takes exactly one argument", source=source, line=line)
    try:
        return PodsMode(args[0])
    except ValueError:
        raise CorefileError(
            f"wrong value for pods: {args[0]!r}, must be one of: disabled, verified, insecure",
            source=source,
            line=line,
        ) from None


def _ttl_value(args: list[str], source: str, line: int) -> int:
    if not args:
        raise CorefileError("ttl needs a value", source=source, line=line)
    # CoreDNS reads only the first argument (strconv.Atoi).
    if not _INTEGER.fullmatch(args[0]):
        raise CorefileError(f"ttl is not an integer: {args[0]!r}", source=source, line=line)
    ttl = int(args[0])
    if not 0 <= ttl <= _MAX_TTL:
        raise CorefileError(
            f"ttl must be in range [0, {_MAX_TTL}]: {ttl}", source=source, line=line
        )
    return ttl


def _selector_value(name: str, args: list[str], source: str, line: int) -> LabelSelector:
    if not args:
        raise CorefileError(f"{name} needs a label selector", source=source, line=line)
    try:
        return parse_selector(" ".join(args))
    except SelectorError as exc:
        raise CorefileError(str(exc), source=source, line=line) from exc


# long: one branch per kubernetes-plugin option, in the order of setup.go ParseStanza
def _stanza_settings(block: ServerBlock, stanza: Directive, source: str) -> DnsSettings:
    """Read one ``kubernetes`` directive as CoreDNS ``ParseStanza`` does."""
    zones = _zones_of(stanza.args) if stanza.args else _zones_of(block.keys)
    if not any(not is_reverse_zone(z) for z in zones):
        raise CorefileError(
            "the kubernetes plugin needs a non-reverse zone", source=source, line=stanza.name.line
        )
    ttl = PLUGIN_DEFAULT_TTL
    pods = PLUGIN_DEFAULT_PODS
    endpoint_pod_names = False
    namespaces: set[str] = set()
    namespace_labels: LabelSelector | None = None
    labels: LabelSelector | None = None
    ignore_empty_service = False
    noendpoints = False
    zonal = False
    fallthrough: tuple[str, ...] = ()
    for option in stanza.body:
        name = option.name.text
        line = option.name.line
        args = [a.text for a in option.args]
        if name == "pods":
            pods = _pods_value(args, source, line)
        elif name == "ttl":
            ttl = _ttl_value(args, source, line)
        elif name == "endpoint_pod_names":
            _no_args(option, source)
            endpoint_pod_names = True
        elif name == "namespaces":
            if not args:
                raise CorefileError("namespaces needs at least one name", source=source, line=line)
            namespaces.update(args)
        elif name in ("labels", "namespace_labels"):
            selector = _selector_value(name, args, source, line)
            if name == "labels":
                labels = selector
            else:
                namespace_labels = selector
        elif name == "ignore":
            # A bare "ignore" is accepted and does nothing, as in CoreDNS.
            if args and args[0] != "empty_service":
                raise CorefileError(
                    f"unable to parse ignore value: {args[0]!r}", source=source, line=line
                )
            ignore_empty_service = ignore_empty_service or bool(args)
        elif name == "noendpoints":
            _no_args(option, source)
            noendpoints = True
        elif name == "zonal":
            _no_args(option, source)
            zonal = True
        elif name == "fallthrough":
            # A bare fallthrough covers every zone (CoreDNS fall.Root).
            fallthrough = _zones_of(option.args) if option.args else (".",)
        # Anything else (endpoint, tls, kubeconfig, multicluster, startup_timeout,
        # apiserver_*, the removed upstream/resyncperiod...) changes no DNS answer.
    if namespaces and namespace_labels is not None:
        raise CorefileError(
            "namespaces and namespace_labels cannot both be set",
            source=source,
            line=stanza.name.line,
        )
    if zonal and noendpoints:
        raise CorefileError(
            "zonal requires the endpoint cache; remove noendpoints",
            source=source,
            line=stanza.name.line,
        )
    return DnsSettings(
        zones=zones,
        ttl=ttl,
        pods=pods,
        endpoint_pod_names=endpoint_pod_names,
        namespaces=tuple(sorted(namespaces)),
        namespace_labels=namespace_labels,
        labels=labels,
        ignore_empty_service=ignore_empty_service,
        noendpoints=noendpoints,
        zonal=zonal,
        fallthrough=fallthrough,
        source=source,
    )


def parse_corefile(
    text: str, *, source: str, imports: Mapping[str, str] | None = None
) -> DnsSettings:
    """Read the kubernetes plugin's settings from a Corefile.

    Every field of the result comes from the Corefile or from the plugin's own
    default (ttl 5, pods disabled, no fallthrough), never from kubeadm's. With
    several server blocks running the plugin, the one on port 53 wins.

    Args:
        text: The Corefile, e.g. the ``Corefile`` key of the ``coredns`` ConfigMap.
        source: Where it came from; shown in messages and kept as ``DnsSettings.source``.
        imports: Files ``import`` lines may name (a ``coredns-custom`` ConfigMap's
            ``*.server``/``*.override`` keys), merged where they are imported.

    Returns:
        The settings of the ``kubernetes`` directive.

    Raises:
        CorefileError: The text is not a well-formed Corefile, has no ``kubernetes``
            directive, or the directive has a value CoreDNS would refuse to start with.
    """
    tokens = tokenize(text, source)
    used: list[str] = []
    if imports:
        tokens, used = expand_imports(tokens, imports, source)
    blocks = Parser(tokens, source).server_blocks()
    found = _find_kubernetes(blocks, source)
    if found is None:
        raise CorefileError("no kubernetes plugin in any server block", source=source)
    block, stanza = found
    if used:
        source = f"{source} + imports {', '.join(used)}"
    return _stanza_settings(block, stanza, source)


@dataclass(frozen=True, slots=True, kw_only=True)
class ServerSummary:
    """One server block: its zones and port, and its directives' arguments (no I/O meaning)."""

    zones: tuple[str, ...]
    port: int
    # (directive, its arguments, its block's options as (name, arguments))
    directives: tuple[tuple[str, tuple[str, ...], tuple[tuple[str, tuple[str, ...]], ...]], ...]

    def args(self, directive: str) -> tuple[str, ...]:
        """The arguments of the first ``directive`` (empty when absent)."""
        return next((a for n, a, _ in self.directives if n == directive), ())

    def options(self, directive: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """The options inside the first ``directive``'s block."""
        return next((o for n, _, o in self.directives if n == directive), ())

    def has(self, directive: str) -> bool:
        """Whether the block uses ``directive``."""
        return any(n == directive for n, _, _ in self.directives)


def server_summaries(text: str, *, source: str) -> tuple[ServerSummary, ...]:
    """Return every server block of a Corefile with its directives (e.g. NodeLocal DNSCache's).

    Zones are as written (placeholders such as ``__PILLAR__DNS__DOMAIN__`` kept).

    Raises:
        CorefileError: The text is not a well-formed Corefile.
    """
    blocks = Parser(tokenize(text, source), source).server_blocks()
    out = []
    for block in blocks:
        zones = tuple(_split_host_port(k.text)[0] for k in block.keys)
        port_text = _server_block_port(block)
        out.append(
            ServerSummary(
                zones=zones,
                port=int(port_text) if port_text.isdigit() else 53,
                directives=tuple(
                    (
                        d.name.text,
                        tuple(t.text for t in d.args),
                        tuple((o.name.text, tuple(t.text for t in o.args)) for o in d.body),
                    )
                    for d in block.directives
                ),
            )
        )
    return tuple(out)


def kubeadm_default_corefile(*, cluster_domain: str = "cluster.local") -> str:
    """Return the Corefile kubeadm writes (``cmd/kubeadm/app/phases/addons/dns/manifests.go``)."""
    return f""".:53 {{
    errors
    health {{
       lameduck 5s
    }}
    ready
    kubernetes {cluster_domain} in-addr.arpa ip6.arpa {{
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
       ttl 30
    }}
    prometheus :9153
    forward . /etc/resolv.conf {{
       max_concurrent 1000
    }}
    cache 30 {{
       disable success {cluster_domain}
       disable denial {cluster_domain}
    }}
    loop
    reload
    loadbalance
}}
"""


def settings_with_overrides(
    settings: DnsSettings,
    *,
    cluster_domain: str | None = None,
    pods: PodsMode | None = None,
    endpoint_pod_names: bool | None = None,
    ttl: int | None = None,
) -> DnsSettings:
    """Return ``settings`` with command-line flags applied on top.

    ``cluster_domain`` replaces the first forward zone (the primary zone). When any
    flag is given, ``source`` gains ``" + flags"``.

    Raises:
        ValueError: ``ttl`` is outside 0-3600 or ``cluster_domain`` is empty.
    """
    if cluster_domain is None and pods is None and endpoint_pod_names is None and ttl is None:
        return settings
    zones = settings.zones
    if cluster_domain is not None:
        zone = _fqdn(cluster_domain.strip().lower())
        if zone == ".":
            raise ValueError("cluster domain must not be empty")
        edited = list(zones)
        index = next((i for i, z in enumerate(edited) if not is_reverse_zone(z)), None)
        if index is None:
            edited.insert(0, zone)
        else:
            edited[index] = zone
        zones = tuple(dict.fromkeys(edited))
    if ttl is not None and not 0 <= ttl <= _MAX_TTL:
        raise ValueError(f"ttl must be in range [0, {_MAX_TTL}]: {ttl}")
    return replace(
        settings,
        zones=zones,
        pods=settings.pods if pods is None else PodsMode(pods),
        endpoint_pod_names=(
            settings.endpoint_pod_names if endpoint_pod_names is None else endpoint_pod_names
        ),
        ttl=settings.ttl if ttl is None else ttl,
        source=f"{settings.source} + flags",
    )
