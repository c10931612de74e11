"""Read what cluster DNS answers from, through the official ``kubernetes`` client.

The entry point of the kube adapter: :func:`connect` loads the kubeconfig
(:mod:`hsvc.adapters.kubeconfig`) and returns a :class:`KubeSource`, whose reads
are built as requests (:mod:`hsvc.adapters.kuberest`) and whose streams come from
:mod:`hsvc.adapters.kubestreams`. Requests go through the client's REST transport
(:class:`~hsvc.adapters.kubeclient.Transport`) as raw JSON, which skips the
``CoreV1Api``/``AppsV1Api`` classes, model deserialisation and the imports they
need; dicts become model objects in :mod:`hsvc.adapters.convert`.

A snapshot costs a constant number of requests whatever the number of pods
(pages of ``limit`` items aside); see :meth:`KubeSource.snapshot`.
"""

from __future__ import annotations

import functools
import logging
import math
import time
from collections.abc import Callable, Mapping
from typing import Any, Self, TypeVar

from hsvc.adapters.convert import (
    SERVICE_NAME_LABEL,
    backends_from_dict,
    config_data_from_dict,
    deployment_from_dict,
    namespace_from_dict,
    pod_from_dict,
    service_from_dict,
    slice_from_dict,
    slices_from_endpoints_dict,
    statefulset_from_dict,
    workload_from_dict,
)
from hsvc.adapters.kubebatch import noted
from hsvc.adapters.kubeclient import Transport
from hsvc.adapters.kubeconfig import (
    KubeTarget,
    kubeconfig_paths,
    load_in_cluster,
    load_kubeconfig,
    quiet_client_loggers,
)
from hsvc.adapters.kubedns import COREFILE_CONFIGMAPS as COREFILE_CONFIGMAPS
from hsvc.adapters.kubedns import DNS_SERVICES as DNS_SERVICES
from hsvc.adapters.kubedns import DnsConfig, DnsReads
from hsvc.adapters.kuberest import (
    PAGE_SIZE,
    ApiStatus,
    Request,
    forbidden_note,
    get_request,
    list_request,
)
from hsvc.adapters.kubestreams import ExecResult, PortForwards
from hsvc.adapters.listread import Seen
from hsvc.core.model import (
    BackendRef,
    ConfigData,
    EndpointSlice,
    Namespace,
    Pod,
    Service,
    Snapshot,
    Workload,
)
from hsvc.core.names import did_you_mean
from hsvc.core.scope import pods_for_service
from hsvc.errors import (
    ApiUnreachableError,
    HsvcError,
    NotFoundError,
    UsageError,
)

# Pod-bearing kinds read only for references: (kind, resource, group).
_APP_WORKLOADS = (
    ("DaemonSet", "daemonsets", "apps"),
    ("Job", "jobs", "batch"),
    ("CronJob", "cronjobs", "batch"),
)
# (resource, group, kind) of the objects that send traffic to Services by name.
_ROUTES = (
    ("ingresses", "networking.k8s.io", "Ingress"),
    ("httproutes", "gateway.networking.k8s.io", "HTTPRoute"),
)

__all__ = ["DnsConfig", "ExecResult", "KubeSource", "KubeTarget", "PortForwards", "connect"]

log = logging.getLogger(__name__)
T = TypeVar("T")


# --- the source ---------------------------------------------------------------------------


class KubeSource(DnsReads):
    """A connection to one cluster that reads what DNS answers from.

    ``request_timeout`` bounds the waiting of each public call (:meth:`snapshot`,
    :meth:`dns_config`) as a whole, not each request, except that every page
    of a long list that arrives gives the call that long again (a deadline by
    progress, :meth:`RestClient._send`): a command never waits on a silent API
    longer than that, and a long list from a far-away server still ends. urllib3 retries
    are off: one failure is one
    request.
    """

    @classmethod
    def connect(
        cls,
        kubeconfig: str | None = None,
        context: str | None = None,
        request_timeout: float = 10.0,
        *,
        page_size: int = PAGE_SIZE,
        deadline: float | None = None,
    ) -> Self:
        """Load credentials as kubectl does; no request is sent yet.

        Args:
            kubeconfig: A kubeconfig file (``--kubeconfig``); None follows
                ``KUBECONFIG``, then ``~/.kube/config``, then the in-cluster
                service account.
            context: The context to use instead of ``current-context``.
            request_timeout: Seconds each public call may take in all.
            page_size: Items per LIST page (``limit``).
            deadline: ``time.monotonic()`` by which an exec credential plugin must be
                done (the command's one budget); None: ``request_timeout`` from now.

        Raises:
            UsageError: ``request_timeout`` or ``page_size`` is not positive.
            NotFoundError: ``context`` is not in the kubeconfig (kubectl:
                ``context "x" does not exist``), exit 3 like a missing Service.
            ApiUnreachableError: No kubeconfig, an unreadable or malformed one,
                or a context without a server (exit 5: nothing can be reached).
        """
        if not (request_timeout > 0 and math.isfinite(request_timeout)):
            # inf would overflow the deadline timer; a request must end some time.
            raise UsageError(
                f"invalid --request-timeout {request_timeout}: must be a number of seconds above 0"
            )
        if page_size <= 0:
            raise UsageError(f"page size must be positive, got {page_size}")
        quiet_client_loggers()
        paths, where = kubeconfig_paths(kubeconfig)
        if paths:
            configuration, target = load_kubeconfig(
                paths, where, context, timeout=request_timeout, deadline=deadline
            )
        elif context:
            raise NotFoundError(
                f'context "{context}" does not exist: no kubeconfig found ({where})'
            )
        else:
            configuration, target = load_in_cluster(where)

        # test-harness.md: urllib3 retries a failed GET 3 more times unless this is
        # set before the transport (and its pool) is built. Never set .debug: it
        # dumps the Authorization header.
        configuration.retries = False
        try:
            api_client = Transport(configuration)
        except ImportError as exc:
            # A socks5:// proxy-url needs PySocks, which hsvc does not depend on.
            raise ApiUnreachableError(
                f"cannot use the proxy of context {target.context!r}: {exc}"
            ) from exc
        log.debug("using context %s, server %s", target.context, target.server)
        return cls(api_client, target, request_timeout, page_size)

    # -- public reads --

    # long: its docstring lists every request a snapshot makes; the code is some 60 lines
    def snapshot(
        self,
        namespace: str | None,
        service: str | None = None,
        *,
        deadline: float | None = None,
        with_deployments: bool = False,
        references: bool = False,
        include_secrets: bool = False,
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
                (default: now + the request timeout), so one command can share it;
                each page of a list that arrives moves it to the request timeout
                from then.
            with_deployments: Also LIST Deployments (for lint's template checks).
            references: Also read what apps read (``--references``): the
                containers of the pods, StatefulSets and Deployments already
                listed, plus one LIST each of daemonsets, jobs, cronjobs,
                configmaps, ingresses and httproutes (absent kinds and 403 are
                noted, not raised), in the same scope whatever ``service`` is.
            include_secrets: With ``references``, LIST secrets too and keep
                their values (never logged: only the names found in them leave).

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
        listed = self._lists(
            namespace,
            service,
            deadline,
            unreadable,
            deployments=with_deployments or references,
            raw=references,
        )
        if service is not None:
            assert namespace is not None
            services: tuple[Service, ...] = (listed["service"],)
        else:
            services = listed["services"]
        if namespace is None and any(n.startswith("namespaces ") for n in unreadable):
            namespaces = tuple(
                Namespace(name=n, labels_known=False)
                for n in sorted({s.namespace for s in services})
            )
        slices: tuple[EndpointSlice, ...] = listed["slices"]
        raw_pods: list[dict[str, Any]] = listed["pods"] if references else []
        raw_sts: list[dict[str, Any]] = listed["statefulsets"] if references else []
        raw_deployments: list[dict[str, object]] = listed.get("deployments", [])
        if references:  # the containers are read again from the objects as listed
            pods = tuple(self._convert(pod_from_dict, o) for o in raw_pods)
            stateful_sets = tuple(self._convert(statefulset_from_dict, o) for o in raw_sts)
        else:
            pods, stateful_sets = listed["pods"], listed["statefulsets"]
        if service is not None:
            stateful_sets = tuple(s for s in stateful_sets if s.service_name == service)
            pods = pods_for_service(services[0], slices, stateful_sets, pods)
        deployments = tuple(self._convert(deployment_from_dict, o) for o in raw_deployments)
        workloads: tuple[Workload, ...] = ()
        config_data: tuple[ConfigData, ...] = ()
        backends: tuple[BackendRef, ...] = ()
        if references:
            workloads, config_data, backends = self._app_objects(
                namespace,
                {"Pod": raw_pods, "StatefulSet": raw_sts, "Deployment": raw_deployments},
                deadline,
                unreadable,
                include_secrets=include_secrets,
            )
        return Snapshot(
            namespaces=namespaces,
            services=services,
            endpoint_slices=slices,
            pods=pods,
            stateful_sets=stateful_sets,
            deployments=deployments,
            workloads=workloads,
            config_data=config_data,
            backends=backends,
            unreadable=tuple(unreadable),
        )

    def _lists(
        self,
        namespace: str | None,
        service: str | None,
        deadline: float,
        unreadable: list[str],
        *,
        deployments: bool,
        raw: bool,
    ) -> dict[str, Any]:
        """The snapshot's reads after the namespace, the LISTs side by side (``_overlap``).

        ``service`` set: its GET goes first, alone (a missing Service costs no
        LIST but the one for a suggestion). Keys: ``service`` or ``services``,
        ``slices``, ``pods``, ``statefulsets`` (converted page by page as the
        pages arrive; the raw items with ``raw``), ``deployments`` (raw items,
        with ``deployments``). Notes of what is unreadable are kept in the order
        one read after another would note them.
        """
        found: dict[str, Any] = {}
        reads: dict[str, Callable[[list[str]], Any]] = {}
        if service is not None:
            assert namespace is not None
            found["service"] = self._read_service(namespace, service, deadline)
        else:
            reads["services"] = lambda notes: tuple(
                self._convert(service_from_dict, o)
                for o in self._required(list_request("services", namespace), deadline)
            )
        reads["slices"] = lambda notes: self._read_slices(namespace, service, deadline, notes)
        # The pods of the list share their namespaces, subdomains and owners: read once.
        pods: Callable[[Mapping[str, object]], Any] = functools.partial(pod_from_dict, seen=Seen())
        kinds = [("pods", "", pods), ("statefulsets", "apps", statefulset_from_dict)]
        for resource, group, converter in kinds:
            request = list_request(resource, namespace, group=group)
            if raw:
                reads[resource] = functools.partial(self._optional, request, deadline)
            else:
                reads[resource] = functools.partial(
                    self._converted, request, deadline, functools.partial(self._convert, converter)
                )
        if deployments:
            # Only lint reads them (a template's hostname); one more LIST, still constant.
            request = list_request("deployments", namespace, group="apps")
            reads["deployments"] = functools.partial(self._optional, request, deadline)
        outcomes = self._overlap(
            [functools.partial(noted, read) for read in reads.values()], deadline
        )
        for key, (value, notes) in zip(reads, outcomes, strict=True):
            found[key] = value
            unreadable.extend(notes)
        return found

    def _converted(
        self,
        request: Request,
        deadline: float,
        convert: Callable[[dict[str, Any]], Any],
        unreadable: list[str],
    ) -> tuple[Any, ...]:
        """LIST a kind hsvc can do without, converted page by page as the pages arrive."""
        return tuple(self._optional(request, deadline, unreadable, each=convert))

    def _app_objects(
        self,
        namespace: str | None,
        listed: dict[str, list[dict[str, object]]],
        deadline: float,
        unreadable: list[str],
        *,
        include_secrets: bool,
    ) -> tuple[tuple[Workload, ...], tuple[ConfigData, ...], tuple[BackendRef, ...]]:
        """Read what apps read: one LIST per kind, whatever the number of objects."""
        raw = dict(listed)
        for kind, resource, group in _APP_WORKLOADS:
            raw[kind] = self._absent_ok(
                list_request(resource, namespace, group=group), deadline, unreadable
            )
        workloads = tuple(
            self._convert(functools.partial(workload_from_dict, kind=kind), o)
            for kind, items in raw.items()
            for o in items
        )
        data_kinds = [("configmaps", "ConfigMap")]
        if include_secrets:
            data_kinds.append(("secrets", "Secret"))
        config: list[ConfigData] = []
        for resource, kind in data_kinds:
            for o in self._absent_ok(list_request(resource, namespace), deadline, unreadable):
                # API list items carry no kind; the converter reads it.
                item = {**o, "kind": kind}
                config.append(
                    self._convert(
                        functools.partial(config_data_from_dict, secret_values=include_secrets),
                        item,
                    )
                )
        backends: list[BackendRef] = []
        for resource, group, kind in _ROUTES:
            for o in self._absent_ok(
                list_request(resource, namespace, group=group), deadline, unreadable
            ):
                backends.extend(self._convert(backends_from_dict, {**o, "kind": kind}))
        return workloads, tuple(config), tuple(backends)

    def names(self, resource: str, namespace: str | None, *, deadline: float) -> list[str]:
        """Names of one kind (``namespaces``, ``services``): one LIST, [] when unreadable."""
        return self._names(resource, namespace, deadline)

    def _names(self, resource: str, namespace: str | None, deadline: float) -> list[str]:
        """Names of one kind, for a "did you mean" after a 404 (one LIST, on that path only).

        Empty when the list cannot be read: the suggestion is a courtesy, the 404 the error.
        """
        try:
            items = self._list_all(list_request(resource, namespace), deadline)
        except (ApiStatus, HsvcError):
            return []
        out = []
        for item in items:
            meta = item.get("metadata")
            if isinstance(meta, dict) and isinstance(meta.get("name"), str):
                out.append(meta["name"])
        return out

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
            obj = self._send(get_request("pods", namespace, name), deadline)
        except ApiStatus as exc:
            if exc.object_missing:
                raise NotFoundError(
                    f'pod "{name}" not found in namespace "{namespace}" ({self.target})'
                ) from exc
            raise self._translate(exc) from exc
        return self._convert(pod_from_dict, obj)

    # -- reading steps --

    def _read_namespaces(
        self, namespace: str | None, deadline: float, unreadable: list[str]
    ) -> tuple[Namespace, ...]:
        if namespace is None:
            return tuple(
                self._convert(namespace_from_dict, o)
                for o in self._optional(list_request("namespaces", None), deadline, unreadable)
            )
        request = get_request("namespaces", None, namespace)
        try:
            return (self._convert(namespace_from_dict, self._send(request, deadline)),)
        except ApiStatus as exc:
            if exc.object_missing:
                # No LIST here for a suggestion: namespace-scoped users may not list
                # namespaces, and a missing namespace costs one request.
                raise NotFoundError(f'namespace "{namespace}" not found ({self.target})') from exc
            if exc.status != 403:
                raise self._translate(exc) from exc
            # Namespace-scoped users often may not read namespaces; go on without labels.
            unreadable.append(f'namespaces (get forbidden for "{namespace}")')
            return (Namespace(name=namespace, labels_known=False),)

    def _read_service(self, namespace: str, name: str, deadline: float) -> Service:
        try:
            obj = self._send(get_request("services", namespace, name), deadline)
        except ApiStatus as exc:
            if exc.object_missing:
                hint = did_you_mean(name, self._names("services", namespace, deadline))
                raise NotFoundError(
                    f'service "{name}" not found in namespace "{namespace}" ({self.target}){hint}'
                ) from exc
            raise self._translate(exc) from exc
        return self._convert(service_from_dict, obj)

    def _read_slices(
        self, namespace: str | None, service: str | None, deadline: float, unreadable: list[str]
    ) -> tuple[EndpointSlice, ...]:
        selector = f"{SERVICE_NAME_LABEL}={service}" if service else SERVICE_NAME_LABEL
        request = list_request(
            "endpointslices", namespace, "discovery.k8s.io", label_selector=selector
        )
        try:
            items = self._list_all(request, deadline)
        except ApiStatus as exc:
            if exc.status == 403:
                unreadable.append(forbidden_note(exc.request))
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
            found = self._get_optional(
                get_request("endpoints", namespace, service), deadline, unreadable
            )
            endpoints = [found] if found is not None else []
        else:
            endpoints = self._optional(list_request("endpoints", namespace), deadline, unreadable)
        return tuple(s for o in endpoints for s in self._convert(slices_from_endpoints_dict, o))


connect = KubeSource.connect
