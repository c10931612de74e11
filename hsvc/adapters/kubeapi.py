"""Read a live cluster through the official ``kubernetes`` client: the only module importing it.

Connection follows kubectl: ``--kubeconfig``, else ``KUBECONFIG`` (several files,
merged), else ``~/.kube/config``, else the in-cluster service account; the
context's namespace, else ``default``. Requests are built as data
(:class:`_Request`) and sent through ``ApiClient.call_api`` as raw JSON, which
skips the lazily built ``CoreV1Api``/``AppsV1Api`` classes (~0.8 s) and model
deserialisation; dicts become model objects in :mod:`hsvc.adapters.convert`.

A snapshot costs a constant number of requests whatever the number of pods
(pages of ``limit`` items aside); see :meth:`KubeSource.snapshot`. Library and
HTTP errors become :mod:`hsvc.errors` classes here, naming the context and the
server, never a credential.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import select
import socket
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self, TypeVar

import urllib3
import yaml

from hsvc import __version__
from hsvc.adapters.convert import (
    SERVICE_NAME_LABEL,
    ConversionError,
    deployment_from_dict,
    namespace_from_dict,
    pod_from_dict,
    service_from_dict,
    slice_from_dict,
    slices_from_endpoints_dict,
    statefulset_from_dict,
)
from hsvc.core.model import (
    Deployment,
    EndpointSlice,
    Nameserver,
    Namespace,
    Pod,
    Service,
    Snapshot,
    StatefulSet,
    selector_matches,
)
from hsvc.errors import (
    AccessDeniedError,
    ApiUnreachableError,
    HsvcError,
    NotFoundError,
    UsageError,
)

__all__ = ["ClusterDns", "ExecResult", "KubeSource", "KubeTarget", "PortForwards", "connect"]

log = logging.getLogger(__name__)
_T = TypeVar("_T")

PAGE_SIZE = 500
IN_CLUSTER_CONTEXT = "(in-cluster)"

# Where distributions keep the CoreDNS Corefile, most common first. kubeadm,
# kind, k3s, EKS, AKS, minikube and MicroK8s all use kube-system/coredns.
COREFILE_CONFIGMAPS: tuple[tuple[str, str], ...] = (
    ("kube-system", "coredns"),
    ("kube-system", "rke2-coredns-rke2-coredns"),  # RKE2's Helm chart
    ("openshift-dns", "dns-default"),  # OpenShift's DNS operator
)
# The cluster DNS Service whose clusterIP pods get as their nameserver.
DNS_SERVICES: tuple[tuple[str, str], ...] = (
    ("kube-system", "kube-dns"),  # kubeadm, kind, k3s, EKS, AKS, GKE
    ("kube-system", "rke2-coredns-rke2-coredns"),
    ("openshift-dns", "dns-default"),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class KubeTarget:
    """What hsvc connected to, for messages. Never holds a credential."""

    context: str
    server: str
    namespace: str

    def __str__(self) -> str:
        return f'context "{self.context}", server {self.server}'


@dataclass(frozen=True, slots=True, kw_only=True)
class ClusterDns:
    """Where cluster DNS is configured: the Corefile text and the DNS Service's IP."""

    corefile: str | None
    # Where ``corefile`` came from ("ConfigMap kube-system/coredns"), or why there is none.
    source: str
    kube_dns_ip: str | None
    # The DNS Service's namespace and pod selector ("k8s-app=kube-dns"): its replicas.
    dns_namespace: str = "kube-system"
    dns_selector: str = "k8s-app=kube-dns"


# --- requests as data ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class _Request:
    """One GET against the API, described well enough to build the URL and the messages."""

    verb: str  # "get" or "list"
    resource: str  # plural, e.g. "endpointslices"
    group: str = ""
    version: str = "v1"
    namespace: str | None = None
    name: str | None = None
    label_selector: str | None = None
    field_selector: str | None = None
    subresource: str = ""  # "portforward", "exec": verb "create" in RBAC

    @property
    def path(self) -> str:
        root = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        if self.namespace is not None and self.resource != "namespaces":
            root += f"/namespaces/{urllib.parse.quote(self.namespace, safe='')}"
        root += f"/{self.resource}"
        if self.name is not None:
            root += f"/{urllib.parse.quote(self.name, safe='')}"
        if self.subresource:
            root += f"/{self.subresource}"
        return root

    @property
    def qualified_resource(self) -> str:
        """``pods``, ``statefulsets.apps``, ``pods/exec``: the name RBAC rules and kubectl use."""
        resource = f"{self.resource}/{self.subresource}" if self.subresource else self.resource
        return f"{resource}.{self.group}" if self.group else resource

    @property
    def scope(self) -> str:
        if self.namespace is None or self.resource == "namespaces":
            return "at the cluster scope"
        return f'in namespace "{self.namespace}"'

    def describe(self) -> str:
        """``list pods in namespace "ms"``, ``get services "eureka" in namespace "ms"``."""
        what = self.qualified_resource
        if self.name is not None:
            what += f' "{self.name}"'
            if self.resource == "namespaces" or self.namespace is None:
                return f"{self.verb} {what}"
        return f"{self.verb} {what} {self.scope}"


def _list(resource: str, namespace: str | None, group: str = "", **selectors: str) -> _Request:
    return _Request(verb="list", resource=resource, group=group, namespace=namespace, **selectors)


def _get(resource: str, namespace: str | None, name: str, group: str = "") -> _Request:
    return _Request(verb="get", resource=resource, group=group, namespace=namespace, name=name)


class _ApiStatus(Exception):  # noqa: N818  (a private signal, translated before it leaves)
    """The API answered with a non-2xx status."""

    def __init__(
        self, request: _Request, status: int, reason: str, message: str, http_reason: str
    ) -> None:
        self.request = request
        self.status = status
        self.reason = reason  # from the Status body; "" when there was none
        self.message = message
        self.http_reason = http_reason
        super().__init__(f"{status} {reason or http_reason}: {message}")

    @property
    def object_missing(self) -> bool:
        """Whether the object does not exist (not: the path is not served at all).

        The apiserver answers a missing object with a ``Status`` (reason
        NotFound) and an unknown path with a plain-text 404; so does any other
        web server, which must not make hsvc report a missing namespace.
        """
        return self.status == 404 and self.reason == "NotFound"


# --- kubeconfig -----------------------------------------------------------------------------


def _strip_userinfo(url: str) -> str:
    """Drop ``user:password@`` from a server URL before it goes into a message."""
    parts = urllib.parse.urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    if parts.port is not None:
        netloc += f":{parts.port}"
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


def _kubeconfig_paths(explicit: str | None) -> tuple[list[str], str]:
    """Return the kubeconfig files to merge, and how they were chosen (for messages).

    Raises:
        ApiUnreachableError: ``explicit`` does not exist.
    """
    if explicit:
        path = os.path.expanduser(explicit)
        if not os.path.isfile(path):
            raise ApiUnreachableError(f"kubeconfig {explicit} does not exist or is not a file")
        return [path], explicit
    env = os.environ.get("KUBECONFIG", "")
    if env:
        # kubectl skips files in KUBECONFIG that do not exist.
        listed = [os.path.expanduser(p) for p in env.split(os.pathsep) if p]
        return [p for p in listed if os.path.isfile(p)], f"KUBECONFIG={env}"
    default = os.path.expanduser(os.path.join("~", ".kube", "config"))
    return ([default] if os.path.isfile(default) else []), default


def _read_kubeconfig(path: str) -> dict[str, Any]:
    """Read and shape-check one kubeconfig file, so that the client's loader cannot crash on it.

    Raises:
        ApiUnreachableError: The file cannot be read or is not a kubeconfig.
    """
    try:
        with open(path, encoding="utf-8") as f:
            data = yaml.safe_load(f)
    except OSError as exc:
        raise ApiUnreachableError(f"cannot read kubeconfig {path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}:{mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ApiUnreachableError(f"kubeconfig {path}{where}: {problem}") from exc
    if data is None:
        raise ApiUnreachableError(f"kubeconfig {path} is empty")
    if not isinstance(data, dict):
        raise ApiUnreachableError(f"kubeconfig {path}: expected a mapping at the top level")
    for key in ("clusters", "contexts", "users"):
        entries = data.get(key) or []
        if not isinstance(entries, list) or not all(
            isinstance(e, dict) and isinstance(e.get("name"), str) for e in entries
        ):
            raise ApiUnreachableError(f'kubeconfig {path}: "{key}" must be a list of named entries')
        for entry in entries:
            inner = entry.get(key[:-1])
            if inner is not None and not isinstance(inner, dict):
                raise ApiUnreachableError(
                    f'kubeconfig {path}: {key[:-1]} "{entry["name"]}" must be a mapping'
                )
    return data


def _first_wins(files: list[dict[str, Any]], key: str, inner: str) -> dict[str, dict[str, Any]]:
    """Named entries of ``key`` across files; kubectl keeps the first of equal names."""
    merged: dict[str, dict[str, Any]] = {}
    for data in files:
        for entry in data.get(key) or []:
            merged.setdefault(entry["name"], entry.get(inner) or {})
    return merged


def _load_kubeconfig(paths: list[str], where: str, context: str | None) -> tuple[Any, KubeTarget]:
    """Merge ``paths`` as kubectl does and load ``context`` into a client Configuration.

    Raises:
        NotFoundError: ``context`` is not in the kubeconfig.
        ApiUnreachableError: The kubeconfig cannot be used.
    """
    from kubernetes.client import Configuration
    from kubernetes.config import kube_config as typed_kube_config
    from kubernetes.config.config_exception import ConfigException

    kube_config: Any = typed_kube_config  # its loaders are untyped; keep their Any here

    files = [_read_kubeconfig(p) for p in paths]
    # The client's merger lets the last file's current-context win; kubectl takes
    # the first file that sets one. Named entries: first file wins in both.
    current = next((f["current-context"] for f in files if f.get("current-context")), None)
    name = context or current
    if not name:
        raise ApiUnreachableError(f"kubeconfig {where} sets no current-context; pass --context")
    contexts = _first_wins(files, "contexts", "context")
    if name not in contexts:
        raise NotFoundError(f'context "{name}" does not exist in kubeconfig {where}')
    cluster_name = contexts[name].get("cluster")
    clusters = _first_wins(files, "clusters", "cluster")
    if cluster_name not in clusters or not clusters[cluster_name].get("server"):
        raise ApiUnreachableError(
            f'kubeconfig {where}: context "{name}" names cluster "{cluster_name}", '
            "which is missing or has no server"
        )
    namespace = contexts[name].get("namespace") or "default"

    merger = kube_config.KubeConfigMerger("")
    configuration = Configuration()
    try:
        for path in paths:
            merger.load_config(path)
        loader = kube_config.KubeConfigLoader(
            config_dict=merger.config, active_context=name, config_base_path=None
        )
        # Runs exec credential plugins; their failures are logged by the client
        # and show up as 401 later.
        loader.load_and_set(configuration)
    except (ConfigException, ValueError, OSError) as exc:
        raise ApiUnreachableError(f'kubeconfig {where}: context "{name}": {exc}') from exc
    server = _strip_userinfo(str(configuration.host))
    return configuration, KubeTarget(context=name, server=server, namespace=str(namespace))


def _load_in_cluster(where: str) -> tuple[Any, KubeTarget]:
    """Use the pod's service account, as kubectl does when there is no kubeconfig.

    Raises:
        ApiUnreachableError: Not running in a pod (or its account files are missing).
    """
    from kubernetes.client import Configuration
    from kubernetes.config import incluster_config as typed_incluster_config
    from kubernetes.config.config_exception import ConfigException

    incluster_config: Any = typed_incluster_config  # untyped loader; keep its Any here

    if not os.environ.get(incluster_config.SERVICE_HOST_ENV_NAME):
        raise ApiUnreachableError(
            f"no kubeconfig found ({where}) and not running in a cluster; pass --kubeconfig"
        )
    configuration = Configuration()
    try:
        incluster_config.InClusterConfigLoader(
            token_filename=incluster_config.SERVICE_TOKEN_FILENAME,
            cert_filename=incluster_config.SERVICE_CERT_FILENAME,
        ).load_and_set(configuration)
    except (ConfigException, OSError) as exc:
        raise ApiUnreachableError(f"cannot use the in-cluster service account: {exc}") from exc
    namespace = "default"
    ns_file = os.path.join(os.path.dirname(incluster_config.SERVICE_TOKEN_FILENAME), "namespace")
    try:
        with open(ns_file, encoding="utf-8") as f:
            namespace = f.read().strip() or namespace
    except OSError:
        log.debug("no %s; using namespace %s", ns_file, namespace)
    target = KubeTarget(
        context=IN_CLUSTER_CONTEXT, server=str(configuration.host), namespace=namespace
    )
    return configuration, target


# --- the source ---------------------------------------------------------------------------


class KubeSource:
    """A connection to one cluster that reads what DNS answers from.

    ``request_timeout`` bounds each public call (:meth:`snapshot`,
    :meth:`dns_config`) as a whole, not each request, so a command never waits
    on the API longer than that. urllib3 retries are off: one failure is one
    request.
    """

    def __init__(
        self, api_client: Any, target: KubeTarget, request_timeout: float, page_size: int
    ) -> None:
        self._api = api_client
        self.target = target
        self._timeout = request_timeout
        self._page_size = page_size

    @classmethod
    def connect(
        cls,
        kubeconfig: str | None = None,
        context: str | None = None,
        request_timeout: float = 10.0,
        *,
        page_size: int = PAGE_SIZE,
    ) -> Self:
        """Load credentials as kubectl does; no request is sent yet.

        Args:
            kubeconfig: A kubeconfig file (``--kubeconfig``); None follows
                ``KUBECONFIG``, then ``~/.kube/config``, then the in-cluster
                service account.
            context: The context to use instead of ``current-context``.
            request_timeout: Seconds each public call may take in all.
            page_size: Items per LIST page (``limit``).

        Raises:
            UsageError: ``request_timeout`` or ``page_size`` is not positive.
            NotFoundError: ``context`` is not in the kubeconfig (kubectl:
                ``context "x" does not exist``), exit 3 like a missing Service.
            ApiUnreachableError: No kubeconfig, an unreadable or malformed one,
                or a context without a server (exit 5: nothing can be reached).
        """
        if request_timeout <= 0:
            raise UsageError(f"request timeout must be positive, got {request_timeout}")
        if page_size <= 0:
            raise UsageError(f"page size must be positive, got {page_size}")
        _quiet_client_loggers()
        paths, where = _kubeconfig_paths(kubeconfig)
        if paths:
            configuration, target = _load_kubeconfig(paths, where, context)
        elif context:
            raise NotFoundError(
                f'context "{context}" does not exist: no kubeconfig found ({where})'
            )
        else:
            configuration, target = _load_in_cluster(where)

        from kubernetes.client import ApiClient

        # test-harness.md: urllib3 retries a failed GET 3 more times unless this is
        # set before the ApiClient (and its pool) is built. Never set .debug: it
        # dumps the Authorization header.
        configuration.retries = False
        api_client = ApiClient(configuration=configuration)
        api_client.user_agent = f"hsvc/{__version__}"
        log.debug("using context %s, server %s", target.context, target.server)
        return cls(api_client, target, request_timeout, page_size)

    def close(self) -> None:
        """Release the connection pool."""
        self._api.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- public reads --

    def snapshot(
        self,
        namespace: str | None,
        service: str | None = None,
        *,
        deadline: float | None = None,
        with_deployments: bool = False,
    ) -> Snapshot:
        """Read the Services, EndpointSlices, Pods and StatefulSets DNS answers from.

        Requests, whatever the number of objects (each LIST may take several
        pages of ``page_size``):

        - ``service`` set: GET the namespace, GET the Service; LIST
          endpointslices with ``kubernetes.io/service-name=SERVICE``, LIST pods
          and LIST statefulsets in the namespace. Pods are listed once and
          filtered here: a label selector cannot also find pods by
          ``spec.subdomain`` (not a field selector), and one list beats two.
          Kept: pods the selector matches, pods with ``subdomain == SERVICE``,
          pods a slice points at, pods of StatefulSets governed by the Service.
        - ``namespace`` only: GET the namespace; LIST services, endpointslices
          (label ``kubernetes.io/service-name`` exists), pods, statefulsets.
        - neither (all namespaces): the same five as cluster-wide LISTs.

        When discovery.k8s.io/v1 is not served (404), core/v1 Endpoints are
        read instead and converted. A 403 on namespaces, endpointslices, pods
        or statefulsets is noted in ``Snapshot.unreadable`` and the rest goes
        on; services must be readable.

        Args:
            namespace: The namespace, or None for all namespaces.
            service: One Service in ``namespace`` (the context's namespace if
                ``namespace`` is None).
            deadline: ``time.monotonic()`` by which every request must be done
                (default: now + the request timeout), so one command can share it.
            with_deployments: Also LIST Deployments (for lint's template checks).

        Raises:
            NotFoundError: The namespace or the Service does not exist.
            AccessDeniedError: Credentials rejected (401), or services forbidden (403).
            ApiUnreachableError: Connection, TLS or timeout failure, a server
                error, or an object that cannot be read.
        """
        if deadline is None:
            deadline = time.monotonic() + self._timeout
        if service is not None and namespace is None:
            namespace = self.target.namespace
        unreadable: list[str] = []
        namespaces = self._read_namespaces(namespace, deadline, unreadable)
        if service is not None:
            assert namespace is not None
            services: tuple[Service, ...] = (self._read_service(namespace, service, deadline),)
        else:
            services = tuple(
                self._convert(service_from_dict, o)
                for o in self._required(_list("services", namespace), deadline)
            )
        if namespace is None and any(n.startswith("namespaces ") for n in unreadable):
            namespaces = tuple(Namespace(name=n) for n in sorted({s.namespace for s in services}))
        slices = self._read_slices(namespace, service, deadline, unreadable)
        pods = tuple(
            self._convert(pod_from_dict, o)
            for o in self._optional(_list("pods", namespace), deadline, unreadable)
        )
        stateful_sets = tuple(
            self._convert(statefulset_from_dict, o)
            for o in self._optional(
                _list("statefulsets", namespace, group="apps"), deadline, unreadable
            )
        )
        if service is not None:
            stateful_sets = tuple(s for s in stateful_sets if s.service_name == service)
            pods = _pods_for_service(services[0], slices, stateful_sets, pods)
        deployments: tuple[Deployment, ...] = ()
        if with_deployments:
            # Only lint reads them (a template's hostname); one more LIST, still constant.
            deployments = tuple(
                self._convert(deployment_from_dict, o)
                for o in self._optional(
                    _list("deployments", namespace, group="apps"), deadline, unreadable
                )
            )
        return Snapshot(
            namespaces=namespaces,
            services=services,
            endpoint_slices=slices,
            pods=pods,
            stateful_sets=stateful_sets,
            deployments=deployments,
            unreadable=tuple(unreadable),
        )

    def dns_config(self, *, deadline: float | None = None) -> ClusterDns:
        """Read the CoreDNS Corefile and the cluster DNS Service's IP.

        Tries the ConfigMaps in :data:`COREFILE_CONFIGMAPS` and the Services in
        :data:`DNS_SERVICES` in order with one GET each, stopping at the first
        found; 404 and 403 move on to the next. Parsing the Corefile is
        :mod:`hsvc.core.corefile`'s job.

        Raises:
            AccessDeniedError: Credentials rejected (401).
            ApiUnreachableError: Connection, TLS or timeout failure, or a server error.
        """
        if deadline is None:
            deadline = time.monotonic() + self._timeout
        corefile: str | None = None
        source = ""
        notes: list[str] = []
        for namespace, name in COREFILE_CONFIGMAPS:
            obj = self._get_optional(_get("configmaps", namespace, name), deadline, notes)
            if obj is None:
                continue
            data = obj.get("data")
            text = data.get("Corefile") if isinstance(data, dict) else None
            if isinstance(text, str):
                corefile, source = text, f"ConfigMap {namespace}/{name}"
                break
            notes.append(f"{namespace}/{name} has no Corefile key")
        if corefile is None:
            tried = ", ".join(f"{ns}/{n}" for ns, n in COREFILE_CONFIGMAPS)
            source = f"no Corefile found (tried ConfigMaps {tried})"
            if notes:
                source += f"; {'; '.join(notes)}"
        kube_dns_ip: str | None = None
        dns_namespace, dns_selector = "kube-system", "k8s-app=kube-dns"
        for namespace, name in DNS_SERVICES:
            obj = self._get_optional(_get("services", namespace, name), deadline, [])
            if obj is None:
                continue
            dns_service = self._convert(service_from_dict, obj)
            ips = dns_service.cluster_ips
            kube_dns_ip = ips[0] if ips and ips[0].lower() != "none" else None
            if dns_service.selector:
                dns_namespace = namespace
                dns_selector = ",".join(f"{k}={v}" for k, v in dns_service.selector)
            break
        return ClusterDns(
            corefile=corefile,
            source=source,
            kube_dns_ip=kube_dns_ip,
            dns_namespace=dns_namespace,
            dns_selector=dns_selector,
        )

    def dns_replicas(
        self,
        namespace: str = "kube-system",
        selector: str = "k8s-app=kube-dns",
        *,
        deadline: float | None = None,
    ) -> tuple[Pod, ...]:
        """List the cluster DNS pods (one LIST of pods with the DNS Service's selector).

        Raises:
            AccessDeniedError: pods may not be listed there (401/403).
            ApiUnreachableError: Connection, TLS or timeout failure, or a server error.
        """
        if deadline is None:
            deadline = time.monotonic() + self._timeout
        request = _list("pods", namespace, label_selector=selector)
        pods = (self._convert(pod_from_dict, o) for o in self._required(request, deadline))
        return tuple(sorted(pods, key=lambda p: p.name))

    def get_pod(self, namespace: str, name: str, *, deadline: float | None = None) -> Pod:
        """Read one pod (its dnsPolicy and hostNetwork matter to its resolv.conf).

        Raises:
            NotFoundError: The pod does not exist.
            AccessDeniedError: Credentials rejected (401) or get forbidden (403).
            ApiUnreachableError: Connection, TLS or timeout failure, or a server error.
        """
        if deadline is None:
            deadline = time.monotonic() + self._timeout
        try:
            obj = self._send(_get("pods", namespace, name), deadline)
        except _ApiStatus as exc:
            if exc.object_missing:
                raise NotFoundError(
                    f'pod "{name}" not found in namespace "{namespace}" ({self.target})'
                ) from exc
            raise self._translate(exc) from exc
        return self._convert(pod_from_dict, obj)

    def forward(self, pods: Iterable[Pod], port: int = 53) -> PortForwards:
        """Port-forward to ``port`` of every pod, each behind a local TCP relay.

        Each relay listens on 127.0.0.1, port 0; every connection to it opens one
        port-forward stream (a websocket through the API server to the kubelet,
        which connects to the pod's port). The first stream of each pod is opened
        here, so that a missing permission or a gone pod fails now, with a
        message, rather than as a closed connection later. Close the result (or
        use it as a context manager) to end every stream and relay.

        Raises:
            AccessDeniedError: ``create`` on ``pods/portforward`` is not granted.
            NotFoundError: A pod is gone.
            ApiUnreachableError: The API server cannot be reached or refuses the upgrade.
        """
        forwards = PortForwards()
        try:
            for pod in pods:
                request = _Request(
                    verb="create",
                    resource="pods",
                    namespace=pod.namespace,
                    name=pod.name,
                    subresource="portforward",
                )
                forwards.add(
                    _Relay(
                        functools.partial(self._open_forward, request, port),
                        label=f"{pod.name} (port-forward)",
                        port=port,
                    )
                )
        except BaseException:
            forwards.close()
            raise
        return forwards

    def exec_in_pod(
        self,
        namespace: str,
        pod: str,
        command: list[str],
        *,
        container: str | None = None,
        timeout: float = 30.0,
    ) -> ExecResult:
        """Run ``command`` in a pod's container (``pods/exec``) and collect its output.

        Raises:
            AccessDeniedError: ``create`` on ``pods/exec`` is not granted.
            NotFoundError: The pod (or container) does not exist.
            ApiUnreachableError: The API server cannot be reached, or the command
                did not finish within ``timeout``.
        """
        from kubernetes.stream import ws_client as typed_ws_client

        ws_client: Any = typed_ws_client  # partly typed; keep its Any here

        request = _Request(
            verb="create", resource="pods", namespace=namespace, name=pod, subresource="exec"
        )
        query: list[tuple[str, str]] = [("command", word) for word in command]
        if container:
            query.append(("container", container))
        query += [("stdin", "false"), ("stdout", "true"), ("stderr", "true"), ("tty", "false")]
        url, headers = self._stream_url(request, query)
        log.debug("exec in pod %s/%s (%d words)", namespace, pod, len(command))
        client = self._connect_stream(
            request,
            timeout,
            lambda: ws_client.WSClient(self._api.configuration, url, headers, False),
        )
        try:
            client.run_forever(timeout=timeout)
            finished = not client.is_open()
            stdout = str(client.read_channel(ws_client.STDOUT_CHANNEL))
            stderr = str(client.read_channel(ws_client.STDERR_CHANNEL))
            status = str(client.read_channel(ws_client.ERROR_CHANNEL))
        finally:
            client.close()
            # close() sends nothing and keeps the socket when the server closed first.
            client.sock.shutdown()
        if not finished:
            raise ApiUnreachableError(
                f"cannot {request.describe()}: the command did not finish within "
                f"{timeout:g} s ({self.target})"
            )
        code, message = _exec_status(status)
        if code is None:
            if "not found" in message and "container" in message:
                raise NotFoundError(f"cannot {request.describe()}: {_one_line(message)}")
            code = 126
            stderr = (stderr + "\n" + message).strip()
        return ExecResult(stdout=stdout, stderr=stderr, exit_code=code)

    # -- streams (websockets) --

    def _stream_url(
        self, request: _Request, query: list[tuple[str, str]]
    ) -> tuple[str, dict[str, str]]:
        from kubernetes.stream import ws_client as typed_ws_client

        ws_client: Any = typed_ws_client  # partly typed; keep its Any here

        _method, url, headers, _body, _post = self._api.param_serialize(
            method="GET",
            resource_path=request.path,
            query_params=query,
            header_params={},
            auth_settings=["BearerToken"],
        )
        return str(ws_client.get_websocket_url(url)), dict(headers)

    def _open_forward(self, request: _Request, port: int) -> Any:
        """Open one port-forward stream; return ``kubernetes.stream`` PortForward.

        Raises:
            HsvcError: Translated handshake or transport failure.
        """
        from kubernetes.stream import ws_client as typed_ws_client

        ws_client: Any = typed_ws_client  # partly typed; keep its Any here

        url, headers = self._stream_url(request, [("ports", str(port))])
        log.debug("port-forward %s/%s:%d", request.namespace, request.name, port)

        def open_socket() -> Any:
            return ws_client.create_websocket(self._api.configuration, url, headers)

        websocket = self._connect_stream(request, self._timeout, open_socket)
        # Connected: from now on the client's proxy thread waits with select().
        websocket.settimeout(None)
        return ws_client.PortForward(websocket, [port])

    def _connect_stream(self, request: _Request, timeout: float, connect: Callable[[], _T]) -> _T:
        """Run a websocket handshake within ``timeout``, translating its failures.

        Raises:
            HsvcError: 401/403/404 and transport failures, as for plain requests.
        """
        import websocket

        previous = websocket.getdefaulttimeout()
        websocket.setdefaulttimeout(timeout)
        try:
            return connect()
        except websocket.WebSocketBadStatusException as exc:
            body = exc.resp_body if isinstance(exc.resp_body, bytes) else b""
            reason, message = _status_fields(body)
            status = _ApiStatus(request, exc.status_code, reason, message, exc.status_message or "")
            if status.status == 404:
                raise NotFoundError(
                    f"cannot {request.describe()}: {message or 'not found'} ({self.target})"
                ) from exc
            raise self._translate(status) from exc
        except websocket.WebSocketTimeoutException as exc:
            raise self._timed_out(request) from exc
        except (websocket.WebSocketException, OSError) as exc:
            why = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
            raise self._unreachable(request, _one_line(why)) from exc
        finally:
            websocket.setdefaulttimeout(previous)

    # -- reading steps --

    def _read_namespaces(
        self, namespace: str | None, deadline: float, unreadable: list[str]
    ) -> tuple[Namespace, ...]:
        if namespace is None:
            return tuple(
                self._convert(namespace_from_dict, o)
                for o in self._optional(_list("namespaces", None), deadline, unreadable)
            )
        request = _get("namespaces", None, namespace)
        try:
            return (self._convert(namespace_from_dict, self._send(request, deadline)),)
        except _ApiStatus as exc:
            if exc.object_missing:
                raise NotFoundError(f'namespace "{namespace}" not found ({self.target})') from exc
            if exc.status != 403:
                raise self._translate(exc) from exc
            # Namespace-scoped users often may not read namespaces; go on without labels.
            unreadable.append(f'namespaces (get forbidden for "{namespace}")')
            return (Namespace(name=namespace),)

    def _read_service(self, namespace: str, name: str, deadline: float) -> Service:
        try:
            obj = self._send(_get("services", namespace, name), deadline)
        except _ApiStatus as exc:
            if exc.object_missing:
                raise NotFoundError(
                    f'service "{name}" not found in namespace "{namespace}" ({self.target})'
                ) from exc
            raise self._translate(exc) from exc
        return self._convert(service_from_dict, obj)

    def _read_slices(
        self, namespace: str | None, service: str | None, deadline: float, unreadable: list[str]
    ) -> tuple[EndpointSlice, ...]:
        selector = f"{SERVICE_NAME_LABEL}={service}" if service else SERVICE_NAME_LABEL
        request = _list("endpointslices", namespace, "discovery.k8s.io", label_selector=selector)
        try:
            items = self._list_all(request, deadline)
        except _ApiStatus as exc:
            if exc.status == 403:
                unreadable.append(_forbidden_note(exc.request))
                return ()
            if exc.status != 404:
                raise self._translate(exc) from exc
        else:
            return tuple(self._convert(slice_from_dict, o) for o in items)
        # A LIST answers 404 only when the resource is not served (clusters
        # before 1.21): fall back to core/v1 Endpoints, one per Service.
        log.info("discovery.k8s.io/v1 not served by %s; reading core/v1 endpoints", self.target)
        if service is not None:
            assert namespace is not None
            found = self._get_optional(_get("endpoints", namespace, service), deadline, unreadable)
            endpoints = [found] if found is not None else []
        else:
            endpoints = self._optional(_list("endpoints", namespace), deadline, unreadable)
        return tuple(s for o in endpoints for s in self._convert(slices_from_endpoints_dict, o))

    # -- transport --

    def _required(self, request: _Request, deadline: float) -> list[dict[str, Any]]:
        """LIST a kind hsvc cannot do without: every failure is an HsvcError."""
        try:
            return self._list_all(request, deadline)
        except _ApiStatus as exc:
            raise self._translate(exc) from exc

    def _optional(
        self, request: _Request, deadline: float, unreadable: list[str]
    ) -> list[dict[str, Any]]:
        """LIST a kind hsvc can do without: 403 is noted, not raised."""
        try:
            return self._list_all(request, deadline)
        except _ApiStatus as exc:
            if exc.status != 403:
                raise self._translate(exc) from exc
            unreadable.append(_forbidden_note(request))
            return []

    def _get_optional(
        self, request: _Request, deadline: float, notes: list[str]
    ) -> dict[str, Any] | None:
        """GET an object that may be absent or forbidden (None, with a note for 403)."""
        try:
            return self._send(request, deadline)
        except _ApiStatus as exc:
            if exc.status == 404:
                return None
            if exc.status == 403:
                notes.append(_forbidden_note(request))
                return None
            raise self._translate(exc) from exc

    def _list_all(self, request: _Request, deadline: float) -> list[dict[str, Any]]:
        """Every item of a LIST, page by page: the one reader of list answers.

        A page must be a list object: ``items`` a list of objects (``null`` reads
        as empty, as client-go reads it), ``metadata`` a mapping, no ``Status``.
        Anything else is an error, never "no objects": a headless Service must
        not lose its endpoints to a broken answer. A ``continue`` token seen
        before would loop forever and is an error too.

        Raises:
            _ApiStatus: A page was answered with a non-2xx status.
            HsvcError: Transport failure or an unreadable answer.
        """
        items: list[dict[str, Any]] = []
        token: str | None = None
        seen: set[str] = set()
        while True:
            body = self._send(request, deadline, token)
            if "items" not in body:
                raise self._garbage(request, 'the list answer has no "items"')
            page = body["items"]
            if page is None:
                page = []
            if not isinstance(page, list):
                raise self._garbage(request, f'"items" is {_json_type(page)}, not a list')
            for index, item in enumerate(page):
                if not isinstance(item, dict):
                    raise self._garbage(
                        request, f"item {len(items) + index} is {_json_type(item)}, not an object"
                    )
            items.extend(page)
            meta = body.get("metadata")
            if meta is None:
                meta = {}
            if not isinstance(meta, dict):
                raise self._garbage(request, f'"metadata" is {_json_type(meta)}, not an object')
            token = meta.get("continue")
            if token is not None and not isinstance(token, str):
                raise self._garbage(request, f'"continue" is {_json_type(token)}, not a string')
            if not token:
                return items
            if token in seen:
                raise self._garbage(
                    request,
                    f"the server sent the same continue token again after {len(seen) + 1} "
                    "pages (the list would never end)",
                )
            seen.add(token)

    def _send(self, request: _Request, deadline: float, token: str | None = None) -> dict[str, Any]:
        """Send one GET and return its JSON object.

        Raises:
            _ApiStatus: The answer's status is not 2xx.
            ApiUnreachableError: Timeout, connection or TLS failure, or not JSON.
        """
        from kubernetes.client.exceptions import ApiException

        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise self._timed_out(request)
        query: list[tuple[str, str]] = []
        if request.label_selector:
            query.append(("labelSelector", request.label_selector))
        if request.field_selector:
            query.append(("fieldSelector", request.field_selector))
        if request.verb == "list":
            query.append(("limit", str(self._page_size)))
            if token:
                query.append(("continue", token))
        method, url, headers, body, post_params = self._api.param_serialize(
            method="GET",
            resource_path=request.path,
            query_params=query,
            header_params={"Accept": "application/json"},
            auth_settings=["BearerToken"],
        )
        log.debug("GET %s", request.path)
        try:
            response = self._api.call_api(
                method, url, headers, body, post_params, _request_timeout=remaining
            )
            data = response.read()
        except ApiException as exc:
            # The client turns TLS failures into ApiException(status=0).
            lines = str(exc.reason or exc).splitlines()
            why = _one_line(lines[-1]) if lines else "unknown"
            raise self._unreachable(request, f"TLS failure: {why}") from exc
        except urllib3.exceptions.HTTPError as exc:
            raise self._transport_error(request, exc) from exc
        except OSError as exc:
            raise self._unreachable(request, exc.strerror or str(exc)) from exc
        status = int(response.status)
        if not 200 <= status < 300:
            reason, message = _status_fields(data)
            raise _ApiStatus(request, status, reason, message, str(response.reason or ""))
        try:
            decoded = json.loads(data)
        except ValueError as exc:
            raise self._garbage(request, "the answer is not JSON") from exc
        except RecursionError as exc:
            raise self._garbage(request, "the answer is JSON nested too deeply to read") from exc
        if not isinstance(decoded, dict):
            raise self._garbage(request, "the answer is not a JSON object")
        if decoded.get("kind") == "Status":
            # A failure must come with a failure status code; one inside a 200 is not data.
            said = decoded.get("message")
            why = f": {_one_line(said)}" if isinstance(said, str) and said else ""
            raise self._garbage(request, f"the server answered 200 with a Status{why}")
        return decoded

    # -- error translation --

    def _convert(
        self, converter: Callable[[Mapping[str, object]], _T], obj: Mapping[str, Any]
    ) -> _T:
        """Apply a :mod:`convert` function, turning its error into an HsvcError.

        Raises:
            ApiUnreachableError: The API sent an object hsvc cannot read.
        """
        try:
            return converter(obj)
        except ConversionError as exc:
            meta = obj.get("metadata")
            name = meta.get("name") if isinstance(meta, dict) else None
            raise ApiUnreachableError(
                f"{self.target.server} sent an object hsvc cannot read "
                f"({name or 'unnamed'}): {exc} ({self.target})"
            ) from exc

    def _translate(self, exc: _ApiStatus) -> HsvcError:
        request = exc.request
        if exc.status == 401:
            return AccessDeniedError(
                f'unauthorized: the credentials of context "{self.target.context}" were '
                f"rejected by {self.target.server}; renew them (log in again)"
            )
        if exc.status == 403:
            return AccessDeniedError(
                f"cannot {request.describe()}: forbidden; grant "
                f'"{request.verb}" on "{request.qualified_resource}" ({self.target})'
            )
        detail = f"{exc.status} {exc.reason or exc.http_reason}".strip()
        if exc.message:
            detail += f": {_one_line(exc.message)}"
        if exc.status == 404:
            # An object that is missing was handled by the caller; this path is not served.
            return self._garbage(request, f"the server answered {detail}")
        return ApiUnreachableError(
            f"cannot {request.describe()}: the API server answered {detail} ({self.target})"
        )

    def _transport_error(self, request: _Request, exc: urllib3.exceptions.HTTPError) -> HsvcError:
        if isinstance(exc, urllib3.exceptions.MaxRetryError) and isinstance(
            exc.reason, urllib3.exceptions.HTTPError
        ):
            return self._transport_error(request, exc.reason)
        if isinstance(exc, urllib3.exceptions.NameResolutionError):
            return self._unreachable(request, "cannot resolve the server's host name")
        if isinstance(exc, urllib3.exceptions.NewConnectionError):
            refused = isinstance(exc.__cause__ or exc.__context__, ConnectionRefusedError)
            why = "connection refused" if refused else "cannot connect"
            return self._unreachable(request, why)
        if isinstance(exc, urllib3.exceptions.TimeoutError):
            return self._timed_out(request)
        if isinstance(exc, urllib3.exceptions.SSLError):
            return self._unreachable(request, "TLS failure")
        if isinstance(exc, urllib3.exceptions.ProxyError):
            return self._unreachable(request, "the proxy failed")
        return self._unreachable(request, f"connection failed ({type(exc).__name__})")

    def _unreachable(self, request: _Request, why: str) -> ApiUnreachableError:
        return ApiUnreachableError(
            f"cannot {request.describe()}: {why} at {self.target.server} "
            f'(context "{self.target.context}")'
        )

    def _timed_out(self, request: _Request) -> ApiUnreachableError:
        return ApiUnreachableError(
            f"cannot {request.describe()}: no answer from {self.target.server} within "
            f'{self._timeout:g} s (context "{self.target.context}"); '
            "check the server or raise the request timeout"
        )

    def _garbage(self, request: _Request, why: str) -> ApiUnreachableError:
        return ApiUnreachableError(
            f"cannot {request.describe()}: {why} ({self.target}); is this a Kubernetes API server?"
        )


connect = KubeSource.connect


# --- helpers --------------------------------------------------------------------------------


def _quiet_client_loggers() -> None:
    # STYLE.md: keep these at WARNING even under --debug; urllib3 logs URLs and
    # the client can log request details.
    for name in ("kubernetes", "urllib3"):
        logging.getLogger(name).setLevel(logging.WARNING)


def _one_line(text: str, limit: int = 200) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _json_type(value: object) -> str:
    """``an object``, ``a string``: what a JSON value is, for messages."""
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return "null" if value is None else type(value).__name__


def _status_fields(data: bytes) -> tuple[str, str]:
    """Return ``(reason, message)`` from a ``Status`` body, or empty strings."""
    try:
        body = json.loads(data)
    except (ValueError, RecursionError):
        return "", ""
    if not isinstance(body, dict):
        return "", ""
    reason, message = body.get("reason"), body.get("message")
    return (
        reason if isinstance(reason, str) else "",
        message if isinstance(message, str) else "",
    )


def _forbidden_note(request: _Request) -> str:
    """``pods (list forbidden in namespace ms)``, for ``Snapshot.unreadable``."""
    scope = (
        "at the cluster scope" if request.namespace is None else f"in namespace {request.namespace}"
    )
    return f"{request.qualified_resource} ({request.verb} forbidden {scope})"


def _pods_for_service(
    service: Service,
    slices: Iterable[EndpointSlice],
    stateful_sets: Iterable[StatefulSet],
    pods: Iterable[Pod],
) -> tuple[Pod, ...]:
    """Keep the pods that bear on one Service's DNS names (see KubeSource.snapshot)."""
    referenced = {
        e.target_ref.name
        for s in slices
        for e in s.endpoints
        if e.target_ref is not None and e.target_ref.kind == "Pod"
    }
    sts_names = {s.name for s in stateful_sets}
    sts_selectors = [s.selector for s in stateful_sets]
    return tuple(
        p
        for p in pods
        if selector_matches(service.selector, p.labels)
        or p.subdomain == service.name
        or p.name in referenced
        or (p.owner is not None and p.owner.kind == "StatefulSet" and p.owner.name in sts_names)
        or any(sel.matches(p.labels) for sel in sts_selectors if sel.match_labels)
    )


# --- pod streams ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class ExecResult:
    """What a command run in a pod printed, and its exit code."""

    stdout: str
    stderr: str
    exit_code: int


def _exec_status(text: str) -> tuple[int | None, str]:
    """Read the exec status channel: ``(exit code, "")`` or ``(None, why it did not run)``."""
    try:
        status = json.loads(text) if text.strip() else {}
    except (ValueError, RecursionError):
        return None, _one_line(text)
    if not isinstance(status, dict) or status.get("status") == "Success":
        return 0, ""
    details = status.get("details")
    causes = details.get("causes") if isinstance(details, dict) else None
    for cause in causes or []:
        if isinstance(cause, dict) and cause.get("reason") == "ExitCode":
            message = str(cause.get("message", ""))
            if message.isdigit():
                return int(message), ""
    return None, str(status.get("message") or "the command could not be run")


class _Relay:
    """127.0.0.1:PORT, where every accepted connection becomes one port-forward stream.

    Threads: one accepts; one per connection copies bytes between the local
    socket and the stream's socket (the client's PortForward runs its own
    thread between that socket and the websocket).
    """

    def __init__(self, open_stream: Callable[[], Any], *, label: str, port: int) -> None:
        self.label = label
        self.errors: list[str] = []
        self._open = open_stream
        self._port = port
        self._lock = threading.Lock()
        self._closed = False
        self._sockets: set[Any] = set()
        self._threads: list[threading.Thread] = []
        self._ready: Any = open_stream()  # the first stream: fails early, with a message
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(16)
        self.address: tuple[str, int] = self._listener.getsockname()[:2]
        self._start(self._accept, "accept")

    def _start(self, target: Callable[..., None], name: str, *args: Any) -> None:
        thread = threading.Thread(
            target=target, args=args, name=f"hsvc relay {self.label} {name}", daemon=True
        )
        with self._lock:
            self._threads.append(thread)
        thread.start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return  # closed
            with self._lock:
                stream, self._ready = self._ready, None
            if stream is None:
                try:
                    stream = self._open()
                except HsvcError as exc:
                    self.errors.append(exc.message)
                    client.close()
                    continue
            self._start(self._pump, "pump", client, stream)

    def _pump(self, client: socket.socket, stream: Any) -> None:
        remote = stream.socket(self._port)
        with self._lock:
            if self._closed:
                client.close()
                remote.close()
                return
            self._sockets.update((client, remote))
        peers = {client.fileno(): remote, remote.fileno(): client}
        try:
            while True:
                readable, _, _ = select.select([client, remote], [], [])
                if self._closed:
                    return
                for sock in readable:
                    data = sock.recv(65536)
                    if not data:
                        return
                    peers[sock.fileno()].sendall(data)
        except OSError:
            return
        finally:
            with self._lock:
                self._sockets.difference_update((client, remote))
            client.close()
            remote.close()
            error = stream.error(self._port)
            if error:
                self.errors.append(_one_line(error))

    def close(self) -> None:
        """Close the listener, every connection and every stream; wait for the threads."""
        with self._lock:
            self._closed = True
            sockets, self._sockets = list(self._sockets), set()
            threads = list(self._threads)
            ready, self._ready = self._ready, None
        # shutdown() wakes the threads blocked in accept() and select(); close() alone does not.
        for sock in [self._listener, *sockets]:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # not connected (any more)
        for thread in threads:
            thread.join(2)
        self._listener.close()
        for sock in sockets:
            sock.close()
        if ready is not None:
            ready.close()


class PortForwards:
    """Local relays to DNS replicas: hand :attr:`nameservers` to the resolver, then close."""

    def __init__(self) -> None:
        self._relays: list[_Relay] = []

    def add(self, relay: _Relay) -> None:
        """Keep a relay (closed with the rest)."""
        self._relays.append(relay)

    @property
    def nameservers(self) -> list[Nameserver]:
        """One TCP-only server per replica, labelled with the pod's name."""
        return [
            Nameserver(host=r.address[0], port=r.address[1], label=r.label, tcp_only=True)
            for r in self._relays
        ]

    def problems(self) -> list[str]:
        """Stream failures seen so far, as ``label: message``."""
        return [f"{r.label}: {e}" for r in self._relays for e in dict.fromkeys(r.errors)]

    def close(self) -> None:
        """End every stream and relay."""
        for relay in self._relays:
            relay.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
