"""The watch engine: LIST then WATCH each kind, keep the objects current, report every change.

Built on the official client's ``kubernetes.watch.Watch`` (test-harness.md,
"Watch"): per kind one LIST (its ``resourceVersion`` is where the watch starts),
then WATCH requests of ``timeoutSeconds`` each, resumed from the last
``resourceVersion`` seen (bookmarks included, ``allowWatchBookmarks=true``). A
``410 Gone`` (the version is older than the server keeps) re-lists that kind and
reports the difference between what was held and what the list shows as changes
marked ``relisted``, so no change is lost. One thread per kind; the consumer
reads from one queue.

Interface (``hsvc inspect --watch`` and ``hsvc monitor`` use it)::

    with kubeapi.connect(...) as api:
        scope = WatchScope(namespace="ms", service="eureka")
        with WatchEngine(api, scope, namespaces=snapshot.namespaces) as engine:
            snapshot = engine.snapshot()        # hsvc.core.model.Snapshot, now
            while running:
                for change in engine.changes(timeout=1.0):   # [] after timeout
                    ...                         # Change: kind, event, before, after, at
                snapshot = engine.snapshot()

- :meth:`WatchEngine.snapshot` is the object set as of the changes delivered so
  far (Services, EndpointSlices, Pods, StatefulSets in scope; namespaces as given),
  with the same filtering as :meth:`KubeSource.snapshot`.
- :meth:`WatchEngine.changes` blocks up to ``timeout`` for the first change, then
  returns it with every other change already queued (a batch, oldest first). A
  change whose DNS-relevant fields did not change (only ``resourceVersion`` or
  status fields hsvc does not read) is not reported.
- A failure the engine cannot get past (credentials rejected, watch forbidden,
  the API unreachable for :data:`GIVE_UP_AFTER` attempts in a row) is raised by
  the next :meth:`WatchEngine.changes` as the :class:`~hsvc.errors.HsvcError`
  a one-shot command would raise.
- :attr:`WatchEngine.stats` counts lists, watches, re-lists, bookmarks and
  events per kind (benchmarks and tests read it).

Requests: 4 LISTs at the start, one WATCH per kind per ``timeout_seconds``, and one
LIST per kind per 410; never proportional to the number of objects.
"""

from __future__ import annotations

import dataclasses
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import field
from types import TracebackType
from typing import Any, Self

import urllib3

from hsvc.adapters.convert import (
    SERVICE_NAME_LABEL,
    ConversionError,
    pod_from_dict,
    service_from_dict,
    slice_from_dict,
    statefulset_from_dict,
)
from hsvc.adapters.kubeapi import KubeSource
from hsvc.adapters.kuberest import ApiStatus, Request, status_fields
from hsvc.core.dataclass import dataclass
from hsvc.core.model import EndpointSlice, Namespace, Pod, Service, Snapshot, StatefulSet
from hsvc.core.scope import pods_for_service
from hsvc.errors import AccessDeniedError, ApiUnreachableError, HsvcError

__all__ = ["Change", "KindStats", "WatchEngine", "WatchScope"]

log = logging.getLogger(__name__)

WATCH_TIMEOUT = 240  # seconds per WATCH request (client-go picks 5-10 minutes)
GIVE_UP_AFTER = 5  # failed attempts in a row before a watch failure is fatal
RETRY_DELAY = 0.5  # seconds before the first retry; doubles up to 8 s

ModelObject = Service | EndpointSlice | Pod | StatefulSet


@dataclass(frozen=True, slots=True, kw_only=True)
class WatchScope:
    """What to watch: one namespace (None: all) and, optionally, one Service in it."""

    namespace: str | None
    service: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Change:
    """One change to one object, as the watch (or a re-list after 410 Gone) reported it."""

    kind: str  # Service, EndpointSlice, Pod, StatefulSet
    event: str  # ADDED, MODIFIED, DELETED
    namespace: str
    name: str
    resource_version: str
    at: float  # time.monotonic() when hsvc received it
    before: ModelObject | None = None
    after: ModelObject | None = None
    relisted: bool = False  # found by a re-list after 410 Gone, not by the watch itself


@dataclass(slots=True)
class KindStats:
    """Requests and events of one kind so far."""

    lists: int = 0
    watches: int = 0
    relists: int = 0  # after 410 Gone
    bookmarks: int = 0
    events: int = 0
    errors: int = 0


@dataclass(frozen=True, slots=True)
class _Kind:
    name: str
    request: Request
    convert: Callable[[Mapping[str, object]], ModelObject]


@dataclass(slots=True)
class _Failure:
    error: HsvcError


@dataclass(slots=True)
class _State:
    objects: dict[tuple[str, str], ModelObject] = field(default_factory=dict)
    readable: bool = True


def _kinds(scope: WatchScope) -> list[_Kind]:
    ns, svc = scope.namespace, scope.service
    slice_selector = f"{SERVICE_NAME_LABEL}={svc}" if svc else SERVICE_NAME_LABEL
    return [
        _Kind(
            "Service",
            Request(
                verb="list",
                resource="services",
                namespace=ns,
                field_selector=f"metadata.name={svc}" if svc else None,
            ),
            service_from_dict,
        ),
        _Kind(
            "EndpointSlice",
            Request(
                verb="list",
                resource="endpointslices",
                group="discovery.k8s.io",
                namespace=ns,
                label_selector=slice_selector,
            ),
            slice_from_dict,
        ),
        _Kind("Pod", Request(verb="list", resource="pods", namespace=ns), pod_from_dict),
        _Kind(
            "StatefulSet",
            Request(verb="list", resource="statefulsets", group="apps", namespace=ns),
            statefulset_from_dict,
        ),
    ]


class WatchEngine:
    """Keep Services, EndpointSlices, Pods and StatefulSets of a scope current (module doc)."""

    def __init__(
        self,
        source: KubeSource,
        scope: WatchScope,
        *,
        namespaces: Sequence[Namespace] = (),
        timeout_seconds: int = WATCH_TIMEOUT,
    ) -> None:
        self._source = source
        self.scope = scope
        self._namespaces = tuple(namespaces)
        self._timeout_seconds = timeout_seconds
        self._kinds = _kinds(scope)
        self._lock = threading.Lock()
        self._states = {k.name: _State() for k in self._kinds}
        self.stats = {k.name: KindStats() for k in self._kinds}
        self._queue: queue.Queue[Change | _Failure] = queue.Queue()
        self._stopping = threading.Event()
        self._watches: dict[str, Any] = {}
        self._threads: list[threading.Thread] = []
        self._unreadable: list[str] = []

    # -- lifecycle --

    def start(self) -> Self:
        """LIST every kind (in this thread, so errors surface here), then start the watches.

        Raises:
            AccessDeniedError: Credentials rejected, or services forbidden.
            NotFoundError, ApiUnreachableError: As for :meth:`KubeSource.snapshot`.
        """
        versions = {k.name: self._relist(k, initial=True) for k in self._kinds}
        for kind in self._kinds:
            if not self._states[kind.name].readable:
                continue
            thread = threading.Thread(
                target=self._run,
                args=(kind, versions[kind.name]),
                name=f"hsvc watch {kind.name}",
                daemon=True,
            )
            self._threads.append(thread)
            thread.start()
        return self

    def stop(self) -> None:
        """End every watch (their sockets are shut down) and join the threads."""
        self._stopping.set()
        with self._lock:
            watches = list(self._watches.values())
        for watch in watches:
            watch.stop()
        for thread in self._threads:
            thread.join(5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- what consumers read --

    @property
    def unreadable(self) -> tuple[str, ...]:
        """Kinds that could not be listed (403), as in ``Snapshot.unreadable``."""
        return tuple(self._unreadable)

    def snapshot(self) -> Snapshot:
        """The objects in scope as of the changes delivered so far."""
        with self._lock:
            objects = {name: dict(state.objects) for name, state in self._states.items()}

        def values(kind: str) -> list[Any]:
            return [objects[kind][k] for k in sorted(objects[kind])]

        services: tuple[Service, ...] = tuple(values("Service"))
        slices: tuple[EndpointSlice, ...] = tuple(values("EndpointSlice"))
        pods: tuple[Pod, ...] = tuple(values("Pod"))
        stateful_sets: tuple[StatefulSet, ...] = tuple(values("StatefulSet"))
        if self.scope.service is not None:
            stateful_sets = tuple(s for s in stateful_sets if s.service_name == self.scope.service)
            if services:
                pods = pods_for_service(services[0], slices, stateful_sets, pods)
            else:
                pods = ()
        return Snapshot(
            namespaces=self._namespaces,
            services=services,
            endpoint_slices=slices,
            pods=pods,
            stateful_sets=stateful_sets,
            unreadable=self.unreadable,
        )

    def changes(self, timeout: float) -> list[Change]:
        """Wait up to ``timeout`` s for a change; return it with every change queued behind it.

        Raises:
            HsvcError: A watch failed for good (see the module doc).
        """
        try:
            first = self._queue.get(timeout=max(timeout, 0.0)) if timeout > 0 else None
        except queue.Empty:
            return []
        items = [first] if first is not None else []
        while True:
            try:
                items.append(self._queue.get_nowait())
            except queue.Empty:
                break
        out = []
        for item in items:
            if isinstance(item, _Failure):
                raise item.error
            out.append(item)
        return out

    # -- the per-kind loop --

    def _run(self, kind: _Kind, version: str) -> None:
        from kubernetes import watch as typed_watch  # noqa: TID251
        from kubernetes.client.exceptions import ApiException  # noqa: TID251

        watch_module: Any = typed_watch  # untyped; keep its Any here

        failures = 0
        watcher = watch_module.Watch()
        with self._lock:
            self._watches[kind.name] = watcher
        while not self._stopping.is_set():
            try:
                self.stats[kind.name].watches += 1
                for event in watcher.stream(
                    self._watch_call(kind),
                    resource_version=version,
                    timeout_seconds=self._timeout_seconds,
                    allow_watch_bookmarks=True,
                ):
                    failures = 0
                    version = self._on_event(kind, event, version)
                    if self._stopping.is_set():
                        break
            except ApiException as exc:
                if self._stopping.is_set():
                    return
                if exc.status == 410:
                    # The version is older than the server keeps: re-list, report the difference.
                    log.debug("watch %s: 410 Gone at %s; re-listing", kind.name, version)
                    failures, version = self._retry(kind, failures, relist=True, version=version)
                    continue
                failures, version = self._fail(
                    kind, failures, version, f"the watch answered {exc.status}: {exc.reason}"
                )
            except HsvcError as exc:
                if self._stopping.is_set():
                    return
                if isinstance(exc, AccessDeniedError):
                    self._queue.put(_Failure(exc))
                    return
                failures, version = self._fail(kind, failures, version, exc.message)
            except (urllib3.exceptions.HTTPError, OSError, ValueError) as exc:
                # A read timeout, a reset connection, a truncated event line.
                if self._stopping.is_set():
                    return
                failures, version = self._fail(kind, failures, version, type(exc).__name__)

    def _fail(self, kind: _Kind, failures: int, version: str, why: str) -> tuple[int, str]:
        self.stats[kind.name].errors += 1
        log.debug("watch %s failed (%s); retrying", kind.name, why)
        if failures + 1 >= GIVE_UP_AFTER:
            self._queue.put(
                _Failure(
                    ApiUnreachableError(
                        f"cannot watch {kind.request.qualified_resource} "
                        f"{kind.request.scope}: {why} ({self._source.target})"
                    )
                )
            )
            self._stopping.set()
            return failures + 1, version
        return self._retry(kind, failures + 1, relist=False, version=version)

    def _retry(self, kind: _Kind, failures: int, *, relist: bool, version: str) -> tuple[int, str]:
        if failures:
            self._stopping.wait(min(RETRY_DELAY * 2 ** (failures - 1), 8.0))
        if self._stopping.is_set():
            return failures, version
        if not relist:
            return failures, version
        try:
            return 0, self._relist(kind, initial=False)
        except HsvcError as exc:
            if isinstance(exc, AccessDeniedError):
                self._queue.put(_Failure(exc))
                self._stopping.set()
                return failures, version
            return self._fail(kind, failures, version, exc.message)

    def _watch_call(self, kind: _Kind) -> Callable[..., Any]:
        """The function ``Watch.stream`` calls: one WATCH request, the raw urllib3 response."""
        source = self._source
        request = kind.request
        api = source._api

        def call(
            *,
            watch: bool,
            _preload_content: bool,
            resource_version: str,
            timeout_seconds: int,
            allow_watch_bookmarks: bool,
        ) -> Any:
            query: list[tuple[str, str]] = [
                ("watch", "true" if watch else "false"),
                ("resourceVersion", resource_version),
                ("timeoutSeconds", str(timeout_seconds)),
                ("allowWatchBookmarks", "true" if allow_watch_bookmarks else "false"),
            ]
            if request.label_selector:
                query.append(("labelSelector", request.label_selector))
            if request.field_selector:
                query.append(("fieldSelector", request.field_selector))
            method, url, headers, body, post = api.param_serialize(
                method="GET",
                resource_path=request.path,
                query_params=query,
                header_params={"Accept": "application/json"},
                auth_settings=["BearerToken"],
            )
            connect = source._timeout
            response = api.call_api(
                method, url, headers, body, post, _request_timeout=(connect, timeout_seconds + 30)
            )
            status = int(response.status)
            if not 200 <= status < 300:
                data = response.read()
                watching = dataclasses.replace(request, verb="watch")  # RBAC's verb for it
                raise source._translate(_status(watching, status, data, str(response.reason)))
            return response.response

        return call

    def _on_event(self, kind: _Kind, event: Mapping[str, Any], version: str) -> str:
        kind_of_event = str(event.get("type", ""))
        raw = event.get("raw_object")
        if not isinstance(raw, dict):
            return version
        meta = raw.get("metadata")
        rv = str(meta.get("resourceVersion") or version) if isinstance(meta, dict) else version
        stats = self.stats[kind.name]
        if kind_of_event == "BOOKMARK":
            stats.bookmarks += 1
            return rv
        if kind_of_event not in ("ADDED", "MODIFIED", "DELETED"):
            return rv
        stats.events += 1
        try:
            obj = kind.convert(raw)
        except ConversionError as exc:
            log.warning("skipping a %s hsvc cannot read: %s", kind.name, exc)
            return rv
        key = (getattr(obj, "namespace", ""), obj.name)
        with self._lock:
            objects = self._states[kind.name].objects
            before = objects.get(key)
            if kind_of_event == "DELETED":
                objects.pop(key, None)
                after = None
            else:
                objects[key] = obj
                after = obj
        if before == after:
            return rv
        self._queue.put(
            Change(
                kind=kind.name,
                event="DELETED" if after is None else ("ADDED" if before is None else "MODIFIED"),
                namespace=key[0],
                name=key[1],
                resource_version=rv,
                at=time.monotonic(),
                before=before,
                after=after,
            )
        )
        return rv

    def _relist(self, kind: _Kind, *, initial: bool) -> str:
        """LIST one kind, replace what is held, report the difference; return the list's version.

        Raises:
            HsvcError: As for :meth:`KubeSource.snapshot` (a 403 on a kind other than
                services is noted in :attr:`unreadable` and that kind is not watched).
        """
        stats = self.stats[kind.name]
        stats.lists += 1
        if not initial:
            stats.relists += 1
        versions: list[str] = []
        deadline = time.monotonic() + self._source._timeout
        try:
            items = self._source._list_all(kind.request, deadline, versions)
        except ApiStatus as exc:
            if exc.status == 403 and initial and kind.name != "Service":
                note = f"{kind.request.qualified_resource} (list forbidden {kind.request.scope})"
                self._unreadable.append(note)
                self._states[kind.name].readable = False
                return ""
            raise self._source._translate(exc) from exc
        fresh: dict[tuple[str, str], ModelObject] = {}
        for item in items:
            try:
                obj = kind.convert(item)
            except ConversionError as exc:
                log.warning("skipping a %s hsvc cannot read: %s", kind.name, exc)
                continue
            fresh[(getattr(obj, "namespace", ""), obj.name)] = obj
        version = versions[-1] if versions else ""
        with self._lock:
            held = self._states[kind.name].objects
            self._states[kind.name].objects = fresh
        if not initial:
            now = time.monotonic()
            for change in _differences(kind.name, held, fresh, version, now):
                self._queue.put(change)
        return version


def _differences(
    kind: str,
    held: Mapping[tuple[str, str], ModelObject],
    fresh: Mapping[tuple[str, str], ModelObject],
    version: str,
    now: float,
) -> Iterable[Change]:
    """What a re-list shows that the watch did not deliver, as relisted changes."""
    for key in sorted(set(held) | set(fresh)):
        before, after = held.get(key), fresh.get(key)
        if before == after:
            continue
        event = "DELETED" if after is None else ("ADDED" if before is None else "MODIFIED")
        yield Change(
            kind=kind,
            event=event,
            namespace=key[0],
            name=key[1],
            resource_version=version,
            at=now,
            before=before,
            after=after,
            relisted=True,
        )


def _status(request: Request, status: int, data: bytes, http_reason: str) -> ApiStatus:
    reason, message = status_fields(data)
    return ApiStatus(request, status, reason, message, http_reason)
