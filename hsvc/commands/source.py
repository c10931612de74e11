"""Where a command's objects and DNS settings come from: manifest files or the live API.

A command opens at most one API connection (:class:`Api`), shared by the source
and the vantage point, so a kubeconfig is loaded (and an exec credential plugin
run) once per command.
"""

from __future__ import annotations

import difflib
import functools
import logging
import time
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from hsvc.commands.options import Options
from hsvc.core import collector, names
from hsvc.core.cluster import ClusterDns
from hsvc.core.dnspath import discover
from hsvc.core.model import MAX_DESIRED_ORDINALS, DnsSettings, Nameserver, Snapshot
from hsvc.core.names import did_you_mean
from hsvc.core.records import Expectation, expectations
from hsvc.core.report import Source
from hsvc.errors import InvalidNameError, ManifestError, NotFoundError, UsageError

if TYPE_CHECKING:
    from hsvc.adapters.kubeapi import DnsConfig, KubeSource
    from hsvc.core.dnspath import PathObjects
    from hsvc.core.model import NetworkPolicy

log = logging.getLogger(__name__)


class Api:
    """The command's one API connection: opened on first use, closed with ``stack``."""

    def __init__(self, opts: Options, stack: ExitStack) -> None:
        self._opts = opts
        self._stack = stack
        self._source: KubeSource | None = None

    def get(self, *, deadline: float | None = None) -> KubeSource:
        """Return the connection, loading the kubeconfig the first time only.

        ``deadline`` (``time.monotonic()``): by when an exec credential plugin must be done.

        Raises:
            HsvcError: the kubeconfig is missing, unusable or names no such context.
        """
        if self._source is None:
            from hsvc.adapters import kubeapi

            opts = self._opts
            self._source = self._stack.enter_context(
                kubeapi.connect(
                    kubeconfig=opts.kubeconfig,
                    context=opts.context,
                    request_timeout=opts.request_timeout,
                    deadline=deadline,
                )
            )
        return self._source


def load_source(
    opts: Options, api: Api, *, service: str | None = None, with_deployments: bool = False
) -> Source:
    """Return the objects and DNS settings from manifest files or the live API.

    Raises:
        UsageError: ``--offline`` without ``-f``.
        ManifestError: a manifest or Corefile cannot be read.
        NotFoundError, AccessDeniedError, ApiUnreachableError: from the live API.
        InvalidNameError: ``-n`` is no namespace name the API server accepts.
    """
    if opts.namespace is not None and not names.is_dns1123_label(opts.namespace):
        # Exit 2, not 3: no cluster can hold such a namespace, so none is asked.
        raise InvalidNameError(
            name=opts.namespace, reason="a namespace name is an RFC 1123 label (-n)"
        )
    if opts.files:
        return _manifest_source(opts)
    if opts.offline:
        raise UsageError("--offline needs objects from manifest files: pass -f PATH")
    # The collector waits: the objects read (150,000 pods) live to the end of the run
    # and make no cycles, so its passes over them while they were built were wasted.
    with collector.paused("age"):
        return _live_source(opts, api, service=service, with_deployments=with_deployments)


def _live_source(opts: Options, api: Api, *, service: str | None, with_deployments: bool) -> Source:
    """The objects and DNS settings from the live API (:func:`load_source`)."""
    # One deadline for the whole of it, from before the kubeconfig is read: the exec
    # credential plugin, connecting, TLS, headers and bodies of every request.
    deadline = time.monotonic() + opts.request_timeout
    src = api.get(deadline=deadline)
    namespace = None if opts.all_namespaces else (opts.namespace or src.target.namespace)

    def dns_reads() -> tuple[DnsConfig, tuple[PathObjects, tuple[NetworkPolicy, ...]]]:
        cluster_dns = src.dns_config(deadline=deadline)
        return cluster_dns, src.path_objects(cluster_dns, deadline=deadline)

    # The cluster DNS reads go alongside the snapshot's, as after it (side_by_side).
    snapshot, (cluster_dns, (path_objects, policies)) = src.side_by_side(
        functools.partial(
            src.snapshot,
            namespace=namespace,
            service=service,
            deadline=deadline,
            with_deployments=with_deployments or opts.references,
            references=opts.references,
            include_secrets=opts.include_secrets,
        ),
        dns_reads,
        deadline=deadline,
    )
    path = discover(path_objects, zone=_zone_hint(opts))
    snapshot = replace(snapshot, network_policies=policies)
    settings = _settings(
        opts,
        cluster_corefile=(cluster_dns.corefile, cluster_dns.source),
        detected=(path.flavour.value, path.version, path.version_source),
        imports=dict(path.imports),
    )
    notes = list(_settings_notes(settings))
    notes.extend(path.notes)
    notes.extend(
        f"could not read {what}; results that depend on it are weaker"
        for what in snapshot.unreadable
    )
    return Source(
        snapshot=snapshot,
        settings=settings,
        origin=f"context {src.target.context!r} ({src.target.server})",
        namespace=namespace,
        kube_dns_ip=cluster_dns.kube_dns_ip,
        dns_pods=(cluster_dns.dns_namespace, cluster_dns.dns_selector),
        notes=tuple(notes),
        path=path,
    )


def _manifest_source(opts: Options) -> Source:
    """The objects of ``-f`` manifest files (desired state) and the DNS settings of the flags."""
    from hsvc.adapters.manifests import read_manifests

    manifest_set = read_manifests(
        opts.files, references=opts.references, include_secrets=opts.include_secrets
    )
    settings = _settings(opts, cluster_corefile=None)
    namespace = None if opts.all_namespaces else (opts.namespace or "default")
    return Source(
        snapshot=manifest_set.snapshot,
        settings=settings,
        origin="manifests: " + ", ".join(opts.files),
        namespace=namespace,
        notes=(*_settings_notes(settings), *_desired_notes(manifest_set.snapshot)),
        locations=manifest_set.locations,
        value_lines=manifest_set.value_lines,
        key_lines=manifest_set.key_lines,
    )


def _settings(
    opts: Options,
    *,
    cluster_corefile: tuple[str | None, str] | None,
    detected: tuple[str, str, str] | None = None,
    imports: dict[str, str] | None = None,
) -> DnsSettings:
    from hsvc.core.corefile import CorefileError, parse_corefile, settings_with_overrides

    settings = DnsSettings()
    if opts.corefile:
        text = _read_corefile(opts.corefile)
        try:
            settings = parse_corefile(text, source=f"Corefile {opts.corefile}")
        except CorefileError as exc:
            raise ManifestError(opts.corefile, str(exc.reason), getattr(exc, "line", None)) from exc
    elif cluster_corefile is not None and cluster_corefile[0]:
        cluster_text, where = cluster_corefile
        try:
            settings = parse_corefile(cluster_text or "", source=where, imports=imports)
        except CorefileError as exc:
            log.warning("cannot parse the cluster's Corefile (%s): %s", where, exc)
            settings = DnsSettings(source=f"kubeadm defaults (assumed: {where} unparsable)")
    if opts.cluster_domain is not None and opts.cluster_domain.strip() == ".":
        raise UsageError(
            "--cluster-domain . is the root zone: pass it in a Corefile (kubernetes .) instead"
        )
    if opts.cluster_domain is not None:
        try:
            names.absolute(opts.cluster_domain)
        except names.InvalidName as exc:
            raise InvalidNameError(
                name=opts.cluster_domain, reason=f"not a usable --cluster-domain: {exc.reason}"
            ) from exc
    try:
        settings = settings_with_overrides(
            settings,
            cluster_domain=opts.cluster_domain,
            pods=opts.pods,
            endpoint_pod_names=opts.endpoint_pod_names,
            ttl=opts.ttl,
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    return _with_server(settings, opts, detected)


def _read_corefile(path: str) -> str:
    """Read ``--corefile``: a missing, unreadable or non-UTF-8 file is a bad input (exit 7).

    Raises:
        ManifestError: The file cannot be read as UTF-8 text.
    """
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ManifestError(path, f"cannot read the Corefile: {exc.strerror or exc}") from exc
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ManifestError(path, "the Corefile is not UTF-8 text", line, column) from exc


def _zone_hint(opts: Options) -> str:
    """The zone node-local's Corefile is searched for (its server blocks name it)."""
    domain = (opts.cluster_domain or "cluster.local").strip(".").lower()
    return domain + "."


def _with_server(
    settings: DnsSettings, opts: Options, detected: tuple[str, str, str] | None
) -> DnsSettings:
    """Set the rules' version switches: the flags win, then what was detected live.

    ``detected`` is ``(flavour, version, where the version was read)``.

    Raises:
        UsageError: ``--dns-version`` is not a version.
    """
    from hsvc.core import flavour

    found_flavour, found_version, where = detected or ("coredns", "", "")
    name = opts.dns_flavour or flavour.Flavour(found_flavour)
    text = opts.dns_version or found_version
    version = flavour.parse_version(text) if text else None
    if text and version is None:
        raise UsageError(f"--dns-version {text!r} is not a version; use e.g. 1.12.0")
    if opts.dns_version:
        where = "--dns-version"
    elif opts.dns_flavour:
        where = "--dns-flavour"
    return flavour.settings_for(settings, name, version, source=where)


def _desired_notes(snapshot: Snapshot) -> tuple[str, ...]:
    """Say which parts of manifests (desired state) the answers predict."""
    notes = []
    if not snapshot.endpoint_slices and any(s.selector for s in snapshot.services):
        notes.append(
            "the input holds no EndpointSlices: the slices the EndpointSlice controller will "
            "write are predicted from the selected pods (ready, hostname, ports as it writes "
            "them); pods without status and StatefulSet pods missing from the input are "
            "predicted too (<sts>-0 to replicas-1, hostname and subdomain as the controller "
            "sets them): their names are predicted, their addresses assigned when the pod starts"
        )
        capped = [s.name for s in snapshot.stateful_sets if s.replicas > MAX_DESIRED_ORDINALS]
        if capped:
            notes.append(
                f"StatefulSet(s) {', '.join(sorted(capped)[:5])}: only the first "
                f"{MAX_DESIRED_ORDINALS} pods are predicted"
            )
    no_ip = [s.name for s in snapshot.services if not s.cluster_ips and not s.is_external_name]
    if no_ip:
        notes.append(
            f"Service(s) {', '.join(sorted(no_ip)[:5])} set no clusterIP: the API allocates one "
            "on create, so their address records are predicted (value not known)"
        )
    return tuple(notes)


def _settings_notes(settings: DnsSettings) -> tuple[str, ...]:
    if "assumed" in settings.source:
        zone = settings.primary_zone.rstrip(".")
        return (
            f"DNS settings: assuming kubeadm's Corefile (zone {zone}, pods "
            f"{settings.pods.value}, ttl {settings.ttl}); pass --corefile if your cluster differs",
        )
    return ()


def _require_scope(source: Source, cluster: ClusterDns, service: str | None) -> None:
    ns = source.namespace
    snap = source.snapshot
    if ns is not None and ns not in cluster.namespaces:
        present = sorted(cluster.namespaces)
        hint = did_you_mean(ns, present)
        if source.origin.startswith("manifests"):
            listed = ", ".join(present[:10]) + (" …" if len(present) > 10 else "")
            hint += f" (namespaces in the manifests: {listed or 'none'}; pass -n NS or -A)"
        raise NotFoundError(f'namespace "{ns}" not found ({source.origin}){hint}')
    if service is not None:
        if not names.is_dns1123_label(service):
            raise InvalidNameError(name=service, reason="a Service name is a DNS-1123 label")
        in_scope = [s for s in snap.services if ns is None or s.namespace == ns]
        if any(s.name == service for s in in_scope):
            return
        where = "in any namespace" if ns is None else f'in namespace "{ns}"'
        hint = (
            _workload_hint(snap, ns, service)
            or did_you_mean(service, [s.name for s in in_scope])
            or _close_statefulset(snap, ns, service)
        )
        if not hint and ns is not None:
            elsewhere = sorted({s.namespace for s in snap.services if s.name == service})
            if elsewhere:
                hint = f"; it exists in namespace {', '.join(elsewhere)}: pass -n {elsewhere[0]}"
        raise NotFoundError(f'service "{service}" not found {where} ({source.origin}){hint}')


def _workload_hint(snap: Snapshot, ns: str | None, name: str) -> str:
    """A StatefulSet named like the Service asked for: point at its governing Service."""
    for sts in snap.stateful_sets:
        if (ns is None or sts.namespace == ns) and sts.name == name and sts.service_name:
            return (
                f'; "{name}" is a StatefulSet, whose pods are named under Service '
                f'"{sts.service_name}": hsvc inspect {sts.service_name}'
            )
    return ""


def _close_statefulset(snap: Snapshot, ns: str | None, name: str) -> str:
    in_scope = [s for s in snap.stateful_sets if ns is None or s.namespace == ns]
    close = difflib.get_close_matches(name, sorted({s.name for s in in_scope}), n=1)
    sts = next((s for s in in_scope if close and s.name == close[0]), None)
    if sts is None or not sts.service_name:
        return ""
    return f'; did you mean StatefulSet "{sts.name}" (Service "{sts.service_name}")?'


def engine(source: Source) -> ClusterDns:
    """Build the answer engine for a source.

    Manifests are desired state: without EndpointSlices, the controller's slices
    are predicted. A live read scoped to a namespace holds only that namespace's
    slices, so PTRs of endpoint addresses may carry more names (rule 36).
    """
    desired = source.origin.startswith("manifests:")
    return ClusterDns(
        source.snapshot,
        source.settings,
        predict=desired,
        partial_slices=not desired and source.namespace is not None,
    )


def plan(
    source: Source, service: str | None, *, traces: bool = True
) -> tuple[ClusterDns, list[Expectation]]:
    """Build the answer engine and the questions for the scope.

    ``traces=False``: the expected answers keep no trace (inspect words every
    reason while planning and never explains an answer again).

    Raises:
        NotFoundError: the namespace or Service is not in the source.
        InvalidNameError: the Service name cannot exist.
    """
    cluster = engine(source)
    _require_scope(source, cluster, service)
    items = expectations(cluster, namespace=source.namespace, service=service, traces=traces)
    return cluster, items


def with_chaos_version(opts: Options, source: Source, servers: Sequence[Nameserver]) -> Source:
    """Take the CoreDNS version from ``version.bind`` CH TXT when the chaos plugin answers it.

    Asked once, of the first server, only live, only for CoreDNS and only when
    ``--dns-version`` is not given: the answer (``CoreDNS-1.12.0``) beats the
    image tag, which a mirror may have renamed.
    """
    path = source.path
    if opts.dns_version or opts.files or path is None or not servers:
        return source
    if path.flavour.value != "coredns":
        return source
    from hsvc.adapters.dnschaos import chaos_version

    answer = chaos_version(servers[0], timeout=opts.timeout)
    if "coredns" not in answer.lower():
        return source
    from hsvc.core import flavour

    version = flavour.parse_version(answer)
    if version is None or flavour.show(version) == path.version:
        return source
    shown = flavour.show(version)
    layers = tuple(
        replace(layer, version=shown) if layer.kind == "coredns" else layer for layer in path.layers
    )
    new_path = replace(path, version=shown, version_source="version.bind", layers=layers)
    settings = flavour.settings_for(
        source.settings, flavour.Flavour.COREDNS, version, source="version.bind"
    )
    return replace(source, path=new_path, settings=settings)
