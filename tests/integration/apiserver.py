"""An emulated Kubernetes API server for tests: aiohttp in its own thread, read-only.

Holds objects as the dicts ``kubectl get -o json`` prints and serves what hsvc
and ``kubectl get`` need: discovery, GET one object, LIST (namespaced and
cluster-wide) with ``labelSelector``, ``fieldSelector`` and ``limit``/``continue``,
``Status`` bodies for errors. Every request is logged; anything but GET/HEAD is
refused with 405 and logged, so tests can assert that hsvc never writes.

Faults are injected per path with :meth:`ApiServer.inject` (401, 403 with the real
apiserver's message, 500, delays); :attr:`ApiServer.latency` delays every answer,
as a cluster far away does.

Watches (``?watch=true``) are served as the real apiserver does (test-harness.md,
"Watch"): every stored object and every LIST carries a ``resourceVersion``; a
watch from RV streams only the changes after RV as newline-delimited JSON events
(``Content-Type: application/json``, chunked), with ``labelSelector`` and
``fieldSelector`` applied (an object that stops matching is sent as ``DELETED``),
``BOOKMARK`` events every :attr:`ApiServer.bookmark_interval` seconds when
``allowWatchBookmarks=true``, an end after ``timeoutSeconds``, and an ``ERROR``
event with a 410 ``Status`` for a version older than the history kept
(:meth:`ApiServer.compact`, :meth:`ApiServer.expire_watches`).
``sendInitialEvents=true`` (client-go's watch-list) sends every current object as
``ADDED`` and a bookmark annotated ``k8s.io/initial-events-end``. Tests change
objects with :meth:`ApiServer.add` (an existing name is MODIFIED) and
:meth:`ApiServer.remove`.

``pods/portforward`` and ``pods/exec`` are served as websockets
(``v4.channel.k8s.io``), as the kubelet does behind the real apiserver: a
port-forward relays the bytes of one TCP connection to the address a test
registered with :meth:`ApiServer.forward` (a knotd standing in for a CoreDNS
replica); an exec answers with the stdout and exit code a test registered with
:meth:`ApiServer.on_exec` (captured from real tools) and logs the command.

Usage::

    with ApiServer() as api:
        api.add_yaml(Path("tests/data/seed/ms.yaml"))
        api.inject("/api/v1/namespaces/ms/pods", status=403)
        ... api.url ... api.count(path="/api/v1/namespaces/ms/pods")
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import bisect
import fnmatch
import json
import re
import socket
import ssl
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from aiohttp import WSMsgType, web

# kind -> (group, version, resource, namespaced, short names)
KINDS: dict[str, tuple[str, str, str, bool, tuple[str, ...]]] = {
    "Namespace": ("", "v1", "namespaces", False, ("ns",)),
    "Service": ("", "v1", "services", True, ("svc",)),
    "Pod": ("", "v1", "pods", True, ("po",)),
    "ConfigMap": ("", "v1", "configmaps", True, ("cm",)),
    "Endpoints": ("", "v1", "endpoints", True, ("ep",)),
    "Node": ("", "v1", "nodes", False, ("no",)),
    "EndpointSlice": ("discovery.k8s.io", "v1", "endpointslices", True, ()),
    "StatefulSet": ("apps", "v1", "statefulsets", True, ("sts",)),
    "Deployment": ("apps", "v1", "deployments", True, ("deploy",)),
    "DaemonSet": ("apps", "v1", "daemonsets", True, ("ds",)),
    "NetworkPolicy": ("networking.k8s.io", "v1", "networkpolicies", True, ("netpol",)),
    "Job": ("batch", "v1", "jobs", True, ()),
    "CronJob": ("batch", "v1", "cronjobs", True, ("cj",)),
    "Secret": ("", "v1", "secrets", True, ()),
    "Ingress": ("networking.k8s.io", "v1", "ingresses", True, ("ing",)),
    "HTTPRoute": ("gateway.networking.k8s.io", "v1", "httproutes", True, ()),
}
RESOURCE_KIND = {(g, r): k for k, (g, _v, r, _n, _s) in KINDS.items()}
GROUP_VERSIONS = {"discovery.k8s.io": "v1", "apps": "v1"}

# Field selectors the real apiserver accepts per resource (besides metadata.*).
FIELD_LABELS: dict[str, tuple[str, ...]] = {
    "pods": ("spec.nodeName", "spec.hostNetwork", "status.phase", "status.podIP"),
    "services": ("spec.clusterIP", "spec.type"),
    "namespaces": ("status.phase",),
}


@dataclass(frozen=True)
class LoggedRequest:
    """One request the server received."""

    method: str
    path: str
    query: dict[str, str]
    authorization: str | None

    @property
    def is_watch(self) -> bool:
        """Whether it opened a watch (``?watch=true``)."""
        return self.query.get("watch", "").lower() in ("true", "1")

    @property
    def is_list(self) -> bool:
        """Whether it is a first (non-continue) LIST page of some resource (not a watch)."""
        parsed = parse_path(self.path)
        return (
            parsed is not None
            and parsed.name is None
            and "continue" not in self.query
            and not self.is_watch
        )


@dataclass(frozen=True)
class ExecReply:
    """What an exec in a pod prints and returns."""

    stdout: str
    stderr: str = ""
    exit_code: int = 0


@dataclass(frozen=True)
class ExecCall:
    """One exec the server received."""

    namespace: str
    pod: str
    container: str | None
    command: tuple[str, ...]


_STREAM_PATH = re.compile(r"^/api/v1/namespaces/([^/]+)/pods/([^/]+)/(exec|portforward)$")
V4_CHANNEL = "v4.channel.k8s.io"


@dataclass(frozen=True)
class Change:
    """One stored change: the object before (None when added) and after (None when deleted)."""

    rv: int
    group: str
    resource: str
    old: dict[str, Any] | None
    new: dict[str, Any] | None


@dataclass
class Rule:
    """A fault injected for requests whose path matches ``pattern`` (fnmatch)."""

    pattern: str
    status: int | None = None
    delay: float = 0.0
    method: str | None = None
    times: int | None = None  # None: forever
    message: str | None = None
    hits: int = 0
    # Hostile answers: ``body`` (bytes, or a JSON value) served with ``status`` (200 by
    # default); ``stream`` an async function writing the whole response itself.
    body: Any = None
    stream: Any = None

    def matches(self, method: str, path: str) -> bool:
        if self.times is not None and self.hits >= self.times:
            return False
        if self.method is not None and self.method != method:
            return False
        return fnmatch.fnmatchcase(path, self.pattern)


@dataclass(frozen=True)
class ParsedPath:
    """A resource path: group ("" for core), version, resource, namespace, name."""

    group: str
    version: str
    resource: str
    namespace: str | None
    name: str | None


_CORE = re.compile(r"^/api/(?P<v>v1)(?P<rest>/.*)$")
_GROUP = re.compile(r"^/apis/(?P<g>[^/]+)/(?P<v>[^/]+)(?P<rest>/.*)$")


def parse_path(path: str) -> ParsedPath | None:
    """Split a resource URL path, or return None for anything else (discovery, junk)."""
    if m := _CORE.match(path):
        group, version, rest = "", m["v"], m["rest"]
    elif m := _GROUP.match(path):
        group, version, rest = m["g"], m["v"], m["rest"]
    else:
        return None
    parts = [p for p in rest.split("/") if p]
    namespace = None
    if len(parts) >= 3 and parts[0] == "namespaces":
        namespace, parts = parts[1], parts[2:]
    if len(parts) == 1:
        return ParsedPath(group, version, parts[0], namespace, None)
    if len(parts) == 2:
        return ParsedPath(group, version, parts[0], namespace, parts[1])
    return None


# --- selectors -----------------------------------------------------------------------------


_SET_TERM = re.compile(r"^\s*(?P<key>[^\s!=()]+)\s+(?P<op>in|notin)\s+\((?P<values>[^)]*)\)\s*$")
_EQ_TERM = re.compile(r"^\s*(?P<key>[^\s!=()]+)\s*(?P<op>==|=|!=)\s*(?P<value>[^\s!=()]*)\s*$")
_EXISTS_TERM = re.compile(r"^\s*(?P<not>!?)\s*(?P<key>[^\s!=()]+)\s*$")


class SelectorError(ValueError):
    """A selector the real apiserver would reject with 400."""


def _split_terms(selector: str) -> list[str]:
    terms: list[str] = []
    depth, current = 0, ""
    for ch in selector:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            terms.append(current)
            current = ""
        else:
            current += ch
    terms.append(current)
    return [t for t in terms if t.strip()]


Check = Callable[[Mapping[str, Any]], bool]


def _label_check(term: str) -> Check:
    if m := _SET_TERM.match(term):
        key = m["key"]
        values = frozenset(v.strip() for v in m["values"].split(",") if v.strip())
        if m["op"] == "in":
            return lambda labels: key in labels and labels[key] in values
        return lambda labels: labels.get(key) not in values
    if m := _EQ_TERM.match(term):
        key, value = m["key"], m["value"]
        if m["op"] == "!=":
            return lambda labels: labels.get(key) != value
        return lambda labels: key in labels and labels[key] == value
    if m := _EXISTS_TERM.match(term):
        key = m["key"]
        if m["not"]:
            return lambda labels: key not in labels
        return lambda labels: key in labels
    raise SelectorError(f"unable to parse requirement: {term!r}")


def label_matcher(selector: str) -> Check:
    """Compile a labelSelector string into ``labels -> bool``."""
    checks = [_label_check(term) for term in _split_terms(selector)]
    return lambda labels: all(check(labels) for check in checks)


def _field_value(obj: Mapping[str, Any], dotted: str) -> str:
    value: Any = obj
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _field_check(term: str, allowed: tuple[str, ...]) -> Check:
    m = _EQ_TERM.match(term)
    if not m:
        raise SelectorError(f"invalid field selector: {term!r}")
    key, value = m["key"], m["value"]
    if key not in allowed:
        raise SelectorError(f"field label not supported: {key}")
    if m["op"] == "!=":
        return lambda obj: _field_value(obj, key) != value
    return lambda obj: _field_value(obj, key) == value


def field_matcher(selector: str, resource: str) -> Check:
    """Compile a fieldSelector string into ``obj -> bool``; unknown fields are an error."""
    allowed = ("metadata.name", "metadata.namespace", *FIELD_LABELS.get(resource, ()))
    checks = [_field_check(term, allowed) for term in _split_terms(selector)]
    return lambda obj: all(check(obj) for check in checks)


# --- the server ------------------------------------------------------------------------------


def status_body(code: int, reason: str, message: str, **details: str) -> dict[str, Any]:
    """A ``meta/v1 Status`` failure body."""
    body: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }
    if details:
        body["details"] = dict(details)
    return body


class ApiServer:
    """The emulated apiserver. Start with ``start()`` or ``with``; all methods are thread-safe."""

    def __init__(
        self,
        *,
        tls: bool = False,
        token: str | None = None,
        user: str = "system:serviceaccount:ms:hsvc",
        serve_endpointslices: bool = True,
    ) -> None:
        self.tls = tls
        self.token = token
        self.user = user
        self.serve_endpointslices = serve_endpointslices
        self.ca_pem: bytes | None = None
        self.port = 0
        self._lock = threading.Lock()
        self._objects: dict[tuple[str, str], dict[tuple[str, str], dict[str, Any]]] = {}
        # Per resource: its keys in (namespace, name) order, and each object as a LIST
        # item's JSON (no kind/apiVersion), built when first listed and dropped when
        # the object changes. A LIST page then costs its own items, not the store's.
        self._sorted_keys: dict[tuple[str, str], list[tuple[str, str]]] = {}
        self._item_json: dict[tuple[str, str], dict[tuple[str, str], bytes]] = {}
        self.latency = 0.0  # seconds added before answering every request (a remote cluster)
        self._rules: list[Rule] = []
        self._log: list[LoggedRequest] = []
        self._rv = 1000
        # Every change since the oldest version still kept (older ones answer 410).
        self._history: list[Change] = []
        self._oldest_rv = self._rv
        self._wakeups: set[asyncio.Future[None]] = set()
        self.bookmark_interval = 1.0  # seconds between BOOKMARK events on a watch
        self.watches_open = 0
        self._generation = 0  # bumped by expire_watches: open watches end with 410
        self._forwards: dict[tuple[str, str, int], tuple[str, int]] = {}
        self._execs: dict[tuple[str, str], ExecReply] = {}
        self._exec_handlers: dict[tuple[str, str], Callable[[tuple[str, ...]], ExecReply]] = {}
        self.exec_log: list[ExecCall] = []
        self.streams_open = 0  # websockets open right now (port-forward and exec)
        self.streams_total = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._stopping: asyncio.Event | None = None
        self._ssl: ssl.SSLContext | None = None
        if tls:
            import trustme

            ca = trustme.CA()
            cert = ca.issue_cert("127.0.0.1")
            self._ssl = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            cert.configure_cert(self._ssl)
            self.ca_pem = ca.cert_pem.bytes()

    # -- lifecycle --

    @property
    def url(self) -> str:
        """``http(s)://127.0.0.1:PORT``."""
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def start(self) -> ApiServer:
        """Start serving on 127.0.0.1, port 0, in a daemon thread."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)

            async def setup() -> None:
                self._stopping = asyncio.Event()
                app = web.Application()
                app.router.add_route("*", "/{tail:.*}", self._handle)
                self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
                await self._runner.setup()
                await web.SockSite(self._runner, sock, ssl_context=self._ssl).start()

            try:
                loop.run_until_complete(setup())
            except BaseException as exc:
                failure.append(exc)
                sock.close()
                loop.close()
                ready.set()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

        self._thread = threading.Thread(target=run, name=f"apiserver-{self.port}", daemon=True)
        self._thread.start()
        if not ready.wait(10) or failure:
            raise RuntimeError("emulated apiserver did not start") from (
                failure[0] if failure else None
            )
        return self

    def stop(self) -> None:
        """Stop serving and join the thread."""
        loop, runner = self._loop, self._runner
        if loop is None or runner is None or self._thread is None:
            return

        async def shutdown() -> None:
            assert self._stopping is not None
            self._stopping.set()
            for future in list(self._wakeups):
                if not future.done():
                    future.set_result(None)
            await runner.cleanup()

        asyncio.run_coroutine_threadsafe(shutdown(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        self._thread.join(10)
        self._loop = None

    def __enter__(self) -> ApiServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def reset(self) -> None:
        """Forget objects, rules and the request log."""
        with self._lock:
            self._objects.clear()
            self._sorted_keys.clear()
            self._item_json.clear()
            self.latency = 0.0
            self._history.clear()
            self._oldest_rv = self._rv
            self.bookmark_interval = 1.0
            self._rules.clear()
            self._log.clear()
            self._forwards.clear()
            self._execs.clear()
            self._exec_handlers.clear()
            self.exec_log.clear()
            self.streams_total = 0

    # -- objects --

    def add(self, *objects: Mapping[str, Any], owned: bool = False) -> None:
        """Store objects (dicts with ``kind``); ``*List`` objects are flattened.

        An object whose kind, namespace and name are already stored replaces it
        (a MODIFIED event for watches); a new one is ADDED. ``owned``: the caller
        hands the dicts over and never touches them again, so they are stored
        as they are, not copied (benchmarks load 170,000 objects).
        """
        with self._lock:
            for obj in objects:
                kind = obj.get("kind", "")
                if kind.endswith("List") and "items" in obj:
                    for item in obj["items"]:
                        self._store(item, owned)
                else:
                    self._store(obj, owned)
        self._wake()

    def _store(self, obj: Mapping[str, Any], owned: bool = False) -> None:
        kind = obj["kind"]
        group, version, resource, namespaced, _ = KINDS[kind]
        stored: dict[str, Any] = (
            obj if owned and isinstance(obj, dict) else json.loads(json.dumps(obj))
        )
        stored["apiVersion"] = f"{group}/{version}" if group else version
        meta = stored.setdefault("metadata", {})
        if namespaced:
            meta.setdefault("namespace", "default")
        else:
            meta.pop("namespace", None)
        self._rv += 1
        meta["resourceVersion"] = str(self._rv)
        key = (meta.get("namespace", ""), meta["name"])
        store = self._objects.setdefault((group, resource), {})
        old = store.get(key)
        self._forget(group, resource, key, new=old is None)
        if old is not None:
            meta.setdefault("uid", old["metadata"].get("uid"))
            meta.setdefault("creationTimestamp", old["metadata"].get("creationTimestamp"))
        meta.setdefault("uid", str(uuid.uuid4()))
        meta.setdefault("creationTimestamp", "2024-05-01T10:00:00Z")
        store[key] = stored
        self._history.append(Change(self._rv, group, resource, old, stored))

    def _forget(self, group: str, resource: str, key: tuple[str, str], *, new: bool) -> None:
        """Drop what was derived from one object (its key order too, when it comes or goes)."""
        self._item_json.get((group, resource), {}).pop(key, None)
        if new:
            self._sorted_keys.pop((group, resource), None)

    def _keys(self, group: str, resource: str) -> list[tuple[str, str]]:
        """The stored keys of a resource in (namespace, name) order (sorted once per change)."""
        keys = self._sorted_keys.get((group, resource))
        if keys is None:
            keys = sorted(self._objects.get((group, resource), {}))
            self._sorted_keys[(group, resource)] = keys
        return keys

    def add_yaml(self, *paths: Path) -> None:
        """Store every document of YAML files."""
        for path in paths:
            with path.open(encoding="utf-8") as f:
                self.add(*(d for d in yaml.safe_load_all(f) if d))

    def remove(self, kind: str, namespace: str, name: str) -> None:
        """Delete an object (as the test's actor, not through HTTP)."""
        group, _, resource, namespaced, _ = KINDS[kind]
        with self._lock:
            key = (namespace if namespaced else "", name)
            old = self._objects.get((group, resource), {}).pop(key)
            self._forget(group, resource, key, new=True)
            self._rv += 1
            gone = json.loads(json.dumps(old))
            gone["metadata"]["resourceVersion"] = str(self._rv)
            self._history.append(Change(self._rv, group, resource, gone, None))
        self._wake()

    def get(self, kind: str, namespace: str, name: str) -> dict[str, Any]:
        """A copy of one stored object (edit it and :meth:`add` it back to modify it)."""
        group, _, resource, namespaced, _ = KINDS[kind]
        with self._lock:
            obj = self._objects[(group, resource)][(namespace if namespaced else "", name)]
            copy: dict[str, Any] = json.loads(json.dumps(obj))
        copy["kind"] = kind
        return copy

    @property
    def resource_version(self) -> int:
        """The newest resourceVersion handed out."""
        with self._lock:
            return self._rv

    def compact(self) -> None:
        """Forget the change history: a watch from any older version now gets 410 Gone."""
        with self._lock:
            self._history.clear()
            self._oldest_rv = self._rv

    def expire_watches(self) -> None:
        """Compact, and end every open watch with an ERROR event carrying 410 (as etcd compaction)."""
        with self._lock:
            self._generation += 1
        self.compact()
        self._wake()

    def _wake(self) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return

        def wake() -> None:
            for future in list(self._wakeups):
                if not future.done():
                    future.set_result(None)

        loop.call_soon_threadsafe(wake)

    def objects(self, kind: str) -> list[dict[str, Any]]:
        """Stored objects of a kind, sorted by namespace and name."""
        group, _, resource, _, _ = KINDS[kind]
        with self._lock:
            store = self._objects.get((group, resource), {})
            return [store[k] for k in sorted(store)]

    # -- websocket subresources --

    def forward(self, namespace: str, pod: str, port: int, to: tuple[str, int]) -> None:
        """Relay port-forwards to ``pod``'s ``port`` to the TCP address ``to``."""
        with self._lock:
            self._forwards[(namespace, pod, port)] = to

    def on_exec(
        self, namespace: str, pod: str, stdout: str, *, stderr: str = "", exit_code: int = 0
    ) -> None:
        """Answer an exec in ``pod`` with this output and exit code."""
        with self._lock:
            self._execs[(namespace, pod)] = ExecReply(stdout, stderr, exit_code)

    def on_exec_run(
        self, namespace: str, pod: str, handler: Callable[[tuple[str, ...]], ExecReply]
    ) -> None:
        """Answer an exec in ``pod`` with what ``handler(command)`` returns (run in a thread)."""
        with self._lock:
            self._exec_handlers[(namespace, pod)] = handler

    def streams_closed(self, timeout: float = 2.0) -> bool:
        """Wait until every websocket has ended (the server learns of a close a moment later)."""
        deadline = time.monotonic() + timeout
        while self.streams_open and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.streams_open == 0

    # -- faults and log --

    def inject(
        self,
        pattern: str,
        *,
        status: int | None = None,
        delay: float = 0.0,
        method: str | None = None,
        times: int | None = None,
        message: str | None = None,
        body: Any = None,
        stream: Any = None,
    ) -> Rule:
        """Answer requests whose path matches ``pattern`` (fnmatch) with ``status`` after ``delay``.

        ``status`` None with a delay only slows the normal answer. The first
        matching rule wins. ``body`` replaces the answer's body (bytes as they are,
        anything else as JSON); ``stream(request)`` answers the request itself
        (trickling, endless bodies).
        """
        rule = Rule(pattern, status, delay, method, times, message, body=body, stream=stream)
        with self._lock:
            self._rules.append(rule)
        return rule

    def clear_rules(self) -> None:
        """Remove every injected fault."""
        with self._lock:
            self._rules.clear()

    @property
    def log(self) -> list[LoggedRequest]:
        """A copy of the request log."""
        with self._lock:
            return list(self._log)

    def clear_log(self) -> None:
        """Empty the request log."""
        with self._lock:
            self._log.clear()

    def requests(
        self, *, method: str | None = None, path: str | None = None
    ) -> list[LoggedRequest]:
        """Logged requests, filtered by method and path glob."""
        return [
            r
            for r in self.log
            if (method is None or r.method == method)
            and (path is None or fnmatch.fnmatchcase(r.path, path))
        ]

    def count(self, *, method: str | None = None, path: str | None = None) -> int:
        """How many logged requests match."""
        return len(self.requests(method=method, path=path))

    @property
    def mutations(self) -> list[LoggedRequest]:
        """Logged requests that would change state (anything but GET/HEAD)."""
        return [r for r in self.log if r.method not in ("GET", "HEAD")]

    # -- HTTP --

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        with self._lock:
            self._log.append(
                LoggedRequest(
                    request.method,
                    path,
                    dict(request.query),
                    request.headers.get("Authorization"),
                )
            )
            rule = next((r for r in self._rules if r.matches(request.method, path)), None)
            if rule is not None:
                rule.hits += 1
        if self.latency > 0:
            await asyncio.sleep(self.latency)
        if rule is not None and rule.delay:
            assert self._stopping is not None
            try:
                await asyncio.wait_for(self._stopping.wait(), rule.delay)
            except TimeoutError:
                pass
        if request.method not in ("GET", "HEAD"):
            return self._status(405, "MethodNotAllowed", "the emulated apiserver is read-only")
        if self.token is not None and not _bearer_ok(
            request.headers.get("Authorization"), self.token
        ):
            return self._status(401, "Unauthorized", "Unauthorized")
        if rule is not None and rule.stream is not None:
            response: web.StreamResponse = await rule.stream(request)
            return response
        if rule is not None and rule.body is not None:
            raw = rule.body if isinstance(rule.body, bytes) else json.dumps(rule.body).encode()
            return web.Response(
                status=rule.status or 200, body=raw, content_type="application/json"
            )
        if rule is not None and rule.status is not None:
            return self._fault(rule, request.method, path)
        if m := _STREAM_PATH.match(path):
            return await self._stream(request, m[1], m[2], m[3])
        if request.query.get("watch", "").lower() in ("true", "1"):
            return await self._watch(request, path)
        return self._serve(path, request.query)

    @staticmethod
    def _json(body: Any, status: int = 200) -> web.Response:
        return web.Response(status=status, text=json.dumps(body), content_type="application/json")

    def _status(self, code: int, reason: str, message: str, **details: str) -> web.Response:
        return self._json(status_body(code, reason, message, **details), code)

    def _fault(self, rule: Rule, method: str, path: str) -> web.Response:
        code = rule.status
        assert code is not None
        if code == 401:
            return self._status(401, "Unauthorized", rule.message or "Unauthorized")
        if code == 403:
            parsed = parse_path(path)
            if m := _STREAM_PATH.match(path):
                message = (
                    f'pods "{m[2]}" is forbidden: User "{self.user}" cannot create resource '
                    f'"pods/{m[3]}" in API group "" in the namespace "{m[1]}"'
                )
                details = {"name": m[2], "kind": "pods"}
                return self._status(403, "Forbidden", rule.message or message, **details)
            if parsed is None:
                message = f'forbidden: User "{self.user}" cannot get path "{path}"'
                return self._status(403, "Forbidden", rule.message or message)
            verb = {"GET": "get" if parsed.name else "list"}.get(method, method.lower())
            subject = f'{parsed.resource} "{parsed.name}"' if parsed.name else parsed.resource
            scope = (
                f'in the namespace "{parsed.namespace}"'
                if parsed.namespace
                else "at the cluster scope"
            )
            message = (
                f'{subject} is forbidden: User "{self.user}" cannot {verb} resource '
                f'"{parsed.resource}" in API group "{parsed.group}" {scope}'
            )
            details = {"kind": parsed.resource}
            if parsed.name:
                details["name"] = parsed.name
            if parsed.group:
                details["group"] = parsed.group
            return self._status(403, "Forbidden", rule.message or message, **details)
        if code == 404:
            return self._status(404, "NotFound", rule.message or "the server could not find it")
        if code == 500:
            message = rule.message or "Internal error occurred: injected failure"
            return self._status(500, "InternalError", message)
        return self._status(code, "Unknown", rule.message or f"injected {code}")

    def _serve(self, path: str, query: Mapping[str, str]) -> web.Response:
        discovery = self._discovery(path.rstrip("/") or "/")
        if discovery is not None:
            return self._json(discovery)
        parsed = parse_path(path)
        if parsed is None or parsed.version != (GROUP_VERSIONS.get(parsed.group) or "v1"):
            return self._not_found_page()
        if parsed.group == "discovery.k8s.io" and not self.serve_endpointslices:
            return self._not_found_page()
        kind = RESOURCE_KIND.get((parsed.group, parsed.resource))
        if kind is None:
            return self._not_found_page()
        namespaced = KINDS[kind][3]
        if parsed.namespace is not None and not namespaced:
            return self._not_found_page()
        if parsed.name is not None:
            return self._get(parsed, kind, namespaced)
        return self._list(parsed, kind, query)

    def _not_found_page(self) -> web.Response:
        # The real apiserver answers unknown paths with a plain-text 404, no Status.
        return web.Response(status=404, text="404 page not found\n", content_type="text/plain")

    def _get(self, parsed: ParsedPath, kind: str, namespaced: bool) -> web.Response:
        assert parsed.name is not None
        if namespaced and parsed.namespace is None:
            return self._not_found_page()
        key = (parsed.namespace or "", parsed.name)
        with self._lock:
            obj = self._objects.get((parsed.group, parsed.resource), {}).get(key)
            body = json.loads(json.dumps(obj)) if obj is not None else None
        if body is None:
            details = {"name": parsed.name, "kind": parsed.resource}
            if parsed.group:
                details["group"] = parsed.group
            resource = f"{parsed.resource}.{parsed.group}" if parsed.group else parsed.resource
            return self._status(404, "NotFound", f'{resource} "{parsed.name}" not found', **details)
        body["kind"] = kind
        return self._json(body)

    def _list(self, parsed: ParsedPath, kind: str, query: Mapping[str, str]) -> web.Response:
        """One LIST page: ``limit`` items after the continue token's key, in key order.

        As the real apiserver, a continue token holds the last key served and the
        list's resourceVersion; the next page starts after that key (a binary
        search), so reading N objects in pages costs O(N), not a scan of the whole
        store per page. ``remainingItemCount`` is set only without selectors, as
        the real apiserver does.
        """
        try:
            label_selector = query.get("labelSelector", "")
            field_selector = query.get("fieldSelector", "")
            labels_ok = label_matcher(label_selector)
            fields_ok = field_matcher(field_selector, parsed.resource)
            limit = int(query.get("limit", "0") or 0)
            after, token_rv = self._decode_continue(query.get("continue"))
        except (SelectorError, ValueError) as exc:
            return self._status(400, "BadRequest", str(exc))
        selected = bool(label_selector.strip() or field_selector.strip())
        resource = (parsed.group, parsed.resource)
        with self._lock:
            store = self._objects.get(resource, {})
            keys = self._keys(*resource)
            if parsed.namespace is None:
                low, high = 0, len(keys)
            else:
                low = bisect.bisect_left(keys, (parsed.namespace, ""))
                high = bisect.bisect_left(keys, (parsed.namespace + "\0", ""))
            index = low if after is None else max(low, bisect.bisect_right(keys, after))
            page_keys: list[tuple[str, str]] = []
            while index < high and (limit <= 0 or len(page_keys) < limit):
                key = keys[index]
                index += 1
                obj = store[key]
                if not selected or (
                    labels_ok(obj["metadata"].get("labels") or {}) and fields_ok(obj)
                ):
                    page_keys.append(key)
            more = index < high
            if more and selected:
                # Is anything left that matches? (Scans on only until the first match.)
                more = False
                for key in keys[index:high]:
                    obj = store[key]
                    if labels_ok(obj["metadata"].get("labels") or {}) and fields_ok(obj):
                        more = True
                        break
            rv = token_rv or str(self._rv)
            wire = self._item_json.setdefault(resource, {})
            items: list[bytes] = []
            for key in page_keys:
                raw = wire.get(key)
                if raw is None:
                    # Items of a real list carry no kind/apiVersion.
                    item = {k: v for k, v in store[key].items() if k not in ("kind", "apiVersion")}
                    raw = wire[key] = json.dumps(item).encode()
                items.append(raw)
        meta: dict[str, Any] = {"resourceVersion": rv}
        if limit > 0 and more and page_keys:
            meta["continue"] = base64.urlsafe_b64encode(
                json.dumps({"key": list(page_keys[-1]), "rv": rv}).encode()
            ).decode()
            if not selected:
                meta["remainingItemCount"] = high - index
        group, version = KINDS[kind][0], KINDS[kind][1]
        head = {
            "kind": f"{kind}List",
            "apiVersion": f"{group}/{version}" if group else version,
            "metadata": meta,
        }
        body = json.dumps(head)[:-1].encode() + b', "items": [' + b", ".join(items) + b"]}"
        return web.Response(status=200, body=body, content_type="application/json")

    @staticmethod
    def _decode_continue(token: str | None) -> tuple[tuple[str, str] | None, str | None]:
        if not token:
            return None, None
        try:
            data = json.loads(base64.urlsafe_b64decode(token.encode()))
            namespace, name = data["key"]
            return (str(namespace), str(name)), str(data["rv"])
        except (binascii.Error, ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"invalid continue token: {exc}") from exc

    # -- watches --

    async def _watch(self, request: web.Request, path: str) -> web.StreamResponse:
        parsed = parse_path(path)
        if (
            parsed is None
            or parsed.name is not None
            or parsed.version != (GROUP_VERSIONS.get(parsed.group) or "v1")
            or (parsed.group == "discovery.k8s.io" and not self.serve_endpointslices)
        ):
            return self._not_found_page()
        kind = RESOURCE_KIND.get((parsed.group, parsed.resource))
        if kind is None or (parsed.namespace is not None and not KINDS[kind][3]):
            return self._not_found_page()
        query = request.query
        try:
            labels_ok = label_matcher(query.get("labelSelector", ""))
            fields_ok = field_matcher(query.get("fieldSelector", ""), parsed.resource)
            timeout = float(query.get("timeoutSeconds", "0") or 0)
            since = int(query.get("resourceVersion", "0") or 0)
        except (SelectorError, ValueError) as exc:
            return self._status(400, "BadRequest", str(exc))
        bookmarks = query.get("allowWatchBookmarks", "").lower() in ("true", "1")
        initial = query.get("sendInitialEvents", "").lower() in ("true", "1")
        group, version = KINDS[kind][0], KINDS[kind][1]
        api_version = f"{group}/{version}" if group else version

        def matches(obj: Mapping[str, Any] | None) -> bool:
            if obj is None:
                return False
            meta = obj["metadata"]
            return (
                (parsed.namespace is None or meta.get("namespace") == parsed.namespace)
                and labels_ok(meta.get("labels") or {})
                and fields_ok(obj)
            )

        def line(kind_of_event: str, obj: Mapping[str, Any]) -> bytes:
            body = dict(obj)
            if kind_of_event not in ("BOOKMARK", "ERROR"):
                body["kind"], body["apiVersion"] = kind, api_version
            return (json.dumps({"type": kind_of_event, "object": body}) + "\n").encode()

        def bookmark(rv: int, *, end_of_initial: bool = False) -> bytes:
            meta: dict[str, Any] = {"resourceVersion": str(rv)}
            if end_of_initial:
                meta["annotations"] = {"k8s.io/initial-events-end": "true"}
            return line("BOOKMARK", {"kind": kind, "apiVersion": api_version, "metadata": meta})

        gone = line(
            "ERROR",
            status_body(410, "Expired", f"too old resource version: {since} ({self._oldest_rv})"),
        )
        response = web.StreamResponse(status=200, headers={"Content-Type": "application/json"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout if timeout > 0 else None
        with self._lock:
            self.watches_open += 1
            generation = self._generation
            expired = bool(since) and since < self._oldest_rv and not initial
            start = self._rv
            chunks: list[bytes] = []
            if not expired and (not since or initial):
                # No version (or watch-list): the current state first, as ADDED.
                store = self._objects.get((parsed.group, parsed.resource), {})
                chunks = [line("ADDED", store[k]) for k in sorted(store) if matches(store[k])]
                if initial:
                    chunks.append(bookmark(start, end_of_initial=True))
            elif not expired:
                start = since
        try:
            if expired:
                await response.write(gone)
                return response
            for chunk in chunks:
                await response.write(chunk)
            next_bookmark = loop.time() + self.bookmark_interval
            while True:
                wakeup: asyncio.Future[None] = loop.create_future()
                self._wakeups.add(wakeup)
                try:
                    with self._lock:
                        if self._generation != generation:
                            expired = True
                        index = bisect.bisect_right(self._history, start, key=lambda c: c.rv)
                        changes = [
                            c
                            for c in self._history[index:]
                            if (c.group, c.resource) == (parsed.group, parsed.resource)
                        ]
                        start = max(start, self._rv)
                    if expired:
                        await response.write(gone)
                        return response
                    for change in changes:
                        before, after = matches(change.old), matches(change.new)
                        if after:
                            assert change.new is not None
                            await response.write(
                                line("MODIFIED" if before else "ADDED", change.new)
                            )
                        elif before:
                            # Deleted, or no longer selected: the client must forget it.
                            gone_obj = change.new if change.new is not None else change.old
                            assert gone_obj is not None
                            await response.write(line("DELETED", gone_obj))
                    now = loop.time()
                    if bookmarks and now >= next_bookmark:
                        await response.write(bookmark(start))
                        next_bookmark = now + self.bookmark_interval
                    if deadline is not None and now >= deadline:
                        return response
                    assert self._stopping is not None
                    if self._stopping.is_set():
                        return response
                    wait = next_bookmark - now if bookmarks else self.bookmark_interval
                    if deadline is not None:
                        wait = min(wait, deadline - now)
                    try:
                        await asyncio.wait_for(wakeup, max(wait, 0.001))
                    except TimeoutError:
                        pass
                finally:
                    self._wakeups.discard(wakeup)
        except (ConnectionResetError, asyncio.CancelledError):
            return response
        finally:
            with self._lock:
                self.watches_open -= 1

    # -- websockets (v4.channel.k8s.io) --

    async def _stream(
        self, request: web.Request, namespace: str, pod: str, kind: str
    ) -> web.StreamResponse:
        with self._lock:
            exists = (namespace, pod) in self._objects.get(("", "pods"), {})
        if not exists:
            return self._status(404, "NotFound", f'pods "{pod}" not found', name=pod, kind="pods")
        ws = web.WebSocketResponse(protocols=(V4_CHANNEL,))
        if not ws.can_prepare(request).ok:
            return self._status(400, "BadRequest", "upgrade request required")
        await ws.prepare(request)
        with self._lock:
            self.streams_open += 1
            self.streams_total += 1
        try:
            if kind == "portforward":
                await self._portforward(ws, request, namespace, pod)
            else:
                await self._exec(ws, request, namespace, pod)
        finally:
            with self._lock:
                self.streams_open -= 1
            await ws.close()
        return ws

    async def _portforward(
        self, ws: web.WebSocketResponse, request: web.Request, namespace: str, pod: str
    ) -> None:
        port = int(request.query.get("ports", "0").split(",")[0] or 0)
        # The kubelet opens each port's data and error channel with the port number.
        for channel in (0, 1):
            await ws.send_bytes(bytes([channel]) + port.to_bytes(2, "little"))
        with self._lock:
            target = self._forwards.get((namespace, pod, port))
        try:
            if target is None:
                raise ConnectionRefusedError("connection refused")
            reader, writer = await asyncio.open_connection(*target)
        except OSError as exc:
            message = (
                f"error forwarding port {port} to pod {pod}, uid : failed to connect to "
                f"localhost:{port} inside namespace {namespace}: {exc.strerror or exc}"
            )
            await ws.send_bytes(b"\x01" + message.encode())
            return

        async def to_pod() -> None:
            async for msg in ws:
                if msg.type is WSMsgType.BINARY and msg.data[:1] == b"\x00":
                    writer.write(msg.data[1:])
                    await writer.drain()
            writer.close()

        async def from_pod() -> None:
            while data := await reader.read(65536):
                await ws.send_bytes(b"\x00" + data)
            await ws.close()

        tasks = [asyncio.ensure_future(to_pod()), asyncio.ensure_future(from_pod())]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            writer.close()

    async def _exec(
        self, ws: web.WebSocketResponse, request: web.Request, namespace: str, pod: str
    ) -> None:
        command = tuple(request.query.getall("command", []))
        with self._lock:
            self.exec_log.append(ExecCall(namespace, pod, request.query.get("container"), command))
            reply = self._execs.get((namespace, pod))
            handler = self._exec_handlers.get((namespace, pod))
        if handler is not None:
            reply = await asyncio.to_thread(handler, command)
        if reply is None:
            reply = ExecReply("", f"exec: {command[:1]}: not found\n", 127)
        if reply.stdout:
            await ws.send_bytes(b"\x01" + reply.stdout.encode())
        if reply.stderr:
            await ws.send_bytes(b"\x02" + reply.stderr.encode())
        if reply.exit_code == 0:
            status: dict[str, Any] = {"metadata": {}, "status": "Success"}
        else:
            status = {
                "metadata": {},
                "status": "Failure",
                "message": f"command terminated with non-zero exit code: {reply.exit_code}",
                "reason": "NonZeroExitCode",
                "details": {"causes": [{"reason": "ExitCode", "message": str(reply.exit_code)}]},
            }
        await ws.send_bytes(b"\x03" + json.dumps(status).encode())

    # -- discovery --

    def _resources(self, group: str) -> list[dict[str, Any]]:
        out = []
        for kind, (g, _v, resource, namespaced, short) in KINDS.items():
            if g != group:
                continue
            entry: dict[str, Any] = {
                "name": resource,
                "singularName": kind.lower(),
                "namespaced": namespaced,
                "kind": kind,
                "verbs": ["get", "list", "watch"],
            }
            if short:
                entry["shortNames"] = list(short)
            out.append(entry)
        return out

    def _groups(self) -> Iterator[str]:
        for group in GROUP_VERSIONS:
            if group == "discovery.k8s.io" and not self.serve_endpointslices:
                continue
            yield group

    def _group(self, group: str) -> dict[str, Any]:
        gv = {"groupVersion": f"{group}/{GROUP_VERSIONS[group]}", "version": GROUP_VERSIONS[group]}
        return {"name": group, "versions": [gv], "preferredVersion": gv}

    def _discovery(self, path: str) -> dict[str, Any] | None:
        if path == "/version":
            return {
                "major": "1",
                "minor": "32",
                "gitVersion": "v1.32.0-hsvc-emulated",
                "platform": "linux/amd64",
            }
        if path == "/api":
            return {
                "kind": "APIVersions",
                "versions": ["v1"],
                "serverAddressByClientCIDRs": [
                    {"clientCIDR": "0.0.0.0/0", "serverAddress": f"127.0.0.1:{self.port}"}
                ],
            }
        if path == "/api/v1":
            return {
                "kind": "APIResourceList",
                "groupVersion": "v1",
                "resources": self._resources(""),
            }
        if path == "/apis":
            return {
                "kind": "APIGroupList",
                "apiVersion": "v1",
                "groups": [self._group(g) for g in self._groups()],
            }
        for group in self._groups():
            if path == f"/apis/{group}":
                return {"kind": "APIGroup", "apiVersion": "v1", **self._group(group)}
            if path == f"/apis/{group}/{GROUP_VERSIONS[group]}":
                return {
                    "kind": "APIResourceList",
                    "apiVersion": "v1",
                    "groupVersion": f"{group}/{GROUP_VERSIONS[group]}",
                    "resources": self._resources(group),
                }
        return None


def _bearer_ok(header: str | None, token: str) -> bool:
    """Whether an Authorization header carries ``token``; the scheme is case-insensitive (RFC 7235)."""
    if not header:
        return False
    scheme, _, value = header.partition(" ")
    return scheme.lower() == "bearer" and value.strip() == token
