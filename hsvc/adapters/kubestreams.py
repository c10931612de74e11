"""Streams into pods through the API server: exec, and port-forward behind local TCP relays.

Both are websockets (``kubernetes.stream``); a port-forward relay listens on
127.0.0.1 and opens one stream per connection it accepts.
"""

from __future__ import annotations

import functools
import json
import logging
import select
import socket
import threading
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Any, Self, TypeVar

from hsvc.adapters.kuberest import ApiStatus, Request, RestClient, one_line, status_fields
from hsvc.core.dataclass import dataclass
from hsvc.core.model import (
    Nameserver,
    Pod,
)
from hsvc.errors import (
    ApiUnreachableError,
    HsvcError,
    NotFoundError,
)

log = logging.getLogger(__name__)
T = TypeVar("T")


class StreamClient(RestClient):
    """A connection that can also exec in pods and port-forward to them."""

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
                request = Request(
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
        from kubernetes.stream import ws_client as typed_ws_client  # noqa: TID251

        ws_client: Any = typed_ws_client  # partly typed; keep its Any here

        request = Request(
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
                raise NotFoundError(f"cannot {request.describe()}: {one_line(message)}")
            code = 126
            stderr = (stderr + "\n" + message).strip()
        return ExecResult(stdout=stdout, stderr=stderr, exit_code=code)

    # -- streams (websockets) --

    def _stream_url(
        self, request: Request, query: list[tuple[str, str]]
    ) -> tuple[str, dict[str, str]]:
        from kubernetes.stream import ws_client as typed_ws_client  # noqa: TID251

        ws_client: Any = typed_ws_client  # partly typed; keep its Any here

        _method, url, headers, _body, _post = self._api.param_serialize(
            method="GET",
            resource_path=request.path,
            query_params=query,
            header_params={},
            auth_settings=["BearerToken"],
        )
        return str(ws_client.get_websocket_url(url)), dict(headers)

    def _open_forward(self, request: Request, port: int) -> Any:
        """Open one port-forward stream; return ``kubernetes.stream`` PortForward.

        Raises:
            HsvcError: Translated handshake or transport failure.
        """
        from kubernetes.stream import ws_client as typed_ws_client  # noqa: TID251

        ws_client: Any = typed_ws_client  # partly typed; keep its Any here

        url, headers = self._stream_url(request, [("ports", str(port))])
        log.debug("port-forward %s/%s:%d", request.namespace, request.name, port)

        def open_socket() -> Any:
            return ws_client.create_websocket(self._api.configuration, url, headers)

        websocket = self._connect_stream(request, self._timeout, open_socket)
        # Connected: from now on the client's proxy thread waits with select().
        websocket.settimeout(None)
        return ws_client.PortForward(websocket, [port])

    def _connect_stream(self, request: Request, timeout: float, connect: Callable[[], T]) -> T:
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
            reason, message = status_fields(body)
            status = ApiStatus(request, exc.status_code, reason, message, exc.status_message or "")
            if status.status == 404:
                raise NotFoundError(
                    f"cannot {request.describe()}: {message or 'not found'} ({self.target})"
                ) from exc
            raise self._translate(status) from exc
        except websocket.WebSocketTimeoutException as exc:
            raise self._timed_out(request) from exc
        except (websocket.WebSocketException, OSError) as exc:
            why = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
            raise self._unreachable(request, one_line(why)) from exc
        finally:
            websocket.setdefaulttimeout(previous)


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
        return None, one_line(text)
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
                self.errors.append(one_line(error))

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
