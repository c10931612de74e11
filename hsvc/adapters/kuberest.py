"""Requests sent as raw JSON, LISTs read page by page, every library or HTTP error translated.

A request is a :class:`~hsvc.adapters.kuberequest.Request` until
:meth:`RestClient._send` hands it to the client's transport (``call_api``); the
same value builds the URL and every message about it. Library and HTTP errors become
:mod:`hsvc.errors` classes here (as lightkube's ``transform_exception``), naming
the context and the server, never a credential.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any, Self, TypeVar

import urllib3

from hsvc.adapters.convert import (
    ConversionError,
)
from hsvc.adapters.deadline import Deadline, Waiting, Watchdog, watched_pools
from hsvc.adapters.kubeconfig import KubeTarget
from hsvc.adapters.kuberequest import Request as Request
from hsvc.adapters.kuberequest import forbidden_note as forbidden_note
from hsvc.adapters.kuberequest import get_request as get_request
from hsvc.adapters.kuberequest import list_request as list_request
from hsvc.errors import (
    AccessDeniedError,
    ApiUnreachableError,
    HsvcError,
)

log = logging.getLogger(__name__)

T = TypeVar("T")

PAGE_SIZE = 1000
"""Items per LIST page (``limit``): fewer round trips to a far-away API server; a
page of 1,000 pods of 20 KB each (managedFields and all) is 20 MB, well within
:data:`MAX_RESPONSE_BYTES`."""

MAX_RESPONSE_BYTES = 64 * 1024 * 1024
"""Largest API answer read (one page of a LIST, or one object); larger ones are refused."""

_CHUNK = 256 * 1024


class ApiStatus(Exception):  # noqa: N818  (a private signal, translated before it leaves)
    """The API answered with a non-2xx status."""

    def __init__(
        self, request: Request, status: int, reason: str, message: str, http_reason: str
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


class RestClient(Waiting):
    """One API connection: sends requests within a deadline and translates what goes wrong."""

    def __init__(
        self, api_client: Any, target: KubeTarget, request_timeout: float, page_size: int
    ) -> None:
        self._api = api_client
        self.target = target
        super().__init__(request_timeout)
        self._page_size = page_size
        # The deadline of the request each thread is sending, which every socket
        # the pool opens or reuses for it is handed to (see watched_pools).
        self._deadlines: dict[int, Deadline] = {}
        self._watchdog = Watchdog()
        # No more exchanges at once than the connection pool keeps (urllib3 warns
        # of a full pool and drops the connection).
        size = getattr(getattr(api_client, "configuration", None), "connection_pool_maxsize", 1)
        self._slots = threading.BoundedSemaphore(max(int(size or 1), 1))
        # Whether the server has answered a request of this connection with 2xx:
        # from then on no read need go alone to learn that the credentials work.
        self.accepted = False
        pool_manager = getattr(getattr(api_client, "rest_client", None), "pool_manager", None)
        if isinstance(pool_manager, urllib3.PoolManager) and not type(
            pool_manager
        ).__name__.startswith("SOCKS"):
            pool_manager.pool_classes_by_scheme = watched_pools(self._watch)

    def _watch(self, sock: socket.socket) -> None:
        deadline = self._deadlines.get(threading.get_ident())
        if deadline is not None:
            deadline.watch(sock)

    def close(self) -> None:
        """Release the connection pool."""
        self._watchdog.close()
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

    # -- transport --

    def _required(self, request: Request, deadline: float) -> list[dict[str, Any]]:
        """LIST a kind hsvc cannot do without: every failure is an HsvcError."""
        try:
            return self._list_all(request, deadline)
        except ApiStatus as exc:
            raise self._translate(exc) from exc

    def _optional(
        self,
        request: Request,
        deadline: float,
        unreadable: list[str],
        each: Callable[[dict[str, Any]], Any] | None = None,
    ) -> list[Any]:
        """LIST a kind hsvc can do without: 403 is noted, not raised (``each``: as _list_all)."""
        try:
            return self._list_all(request, deadline, each=each)
        except ApiStatus as exc:
            if exc.status != 403:
                raise self._translate(exc) from exc
            unreadable.append(forbidden_note(request))
            return []

    def _get_optional(
        self, request: Request, deadline: float, notes: list[str]
    ) -> dict[str, Any] | None:
        """GET an object that may be absent or forbidden (None, with a note for 403)."""
        try:
            return self._send(request, deadline)
        except ApiStatus as exc:
            return self._absent_or_forbidden(exc, notes)

    def _absent_or_forbidden(
        self, answer: dict[str, Any] | ApiStatus, notes: list[str]
    ) -> dict[str, Any] | None:
        """An object, or None for 404 and 403 (with a note); any other status raised."""
        if not isinstance(answer, ApiStatus):
            return answer
        if answer.status == 404:
            return None
        if answer.status == 403:
            notes.append(forbidden_note(answer.request))
            return None
        raise self._translate(answer) from answer

    def _list_all(
        self,
        request: Request,
        deadline: float,
        versions: list[str] | None = None,
        *,
        each: Callable[[dict[str, Any]], Any] | None = None,
    ) -> list[Any]:
        """Every item of a LIST, page by page: the one reader of list answers.

        A page must be a list object: ``items`` a list of objects (``null`` reads
        as empty, as client-go reads it), ``metadata`` a mapping, no ``Status``.
        Anything else is an error, never "no objects": a headless Service must
        not lose its endpoints to a broken answer. A ``continue`` token seen
        before would loop forever and is an error too. The list's
        ``metadata.resourceVersion`` (where a watch resumes) is appended to
        ``versions`` when it is given. With ``each``, every item is passed through
        it as its page arrives and the results are kept instead (the objects of a
        150,000-pod list are converted page by page, never all held as JSON).

        The deadline moves by progress: each page that brings items and a
        ``continue`` token gives the command the request timeout afresh (see
        :meth:`_send`), so a long list from a slow, far-away API server ends as
        long as its pages keep coming, each within the timeout.

        Raises:
            ApiStatus: A page was answered with a non-2xx status.
            HsvcError: Transport failure or an unreadable answer.
        """
        items: list[Any] = []
        token: str | None = None
        seen: set[str] = set()
        ahead: _Ahead | None = None
        while True:
            body = self._send(request, deadline, token) if ahead is None else ahead.answer()
            token, ahead = self._page(request, deadline, body, items, seen, versions, each)
            if token is None:
                return items

    def _page(
        self,
        request: Request,
        deadline: float,
        body: dict[str, Any],
        items: list[Any],
        seen: set[str],
        versions: list[str] | None,
        each: Callable[[dict[str, Any]], Any] | None,
    ) -> tuple[str | None, _Ahead | None]:
        """Read one page of a LIST into ``items``: (the next page's token, its request ahead).

        With ``each``, the next page is asked for while this one is converted
        (:class:`_Ahead`), as soon as the page's token is seen; its outcome is
        met where the sequential run meets it, after this page's own failures.
        """
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
        ahead = None if each is None else self._ask_ahead(request, deadline, body, page, seen)
        try:
            items.extend(page if each is None else map(each, page))
            token = self._next_token(request, body, versions)
        except Exception:
            if ahead is not None:
                ahead.answer(discard=True)  # this page's failure comes first
            raise
        if token is None:
            return None, None
        if page and ahead is None:
            self._extend(deadline)
        if token in seen:
            raise self._garbage(
                request,
                f"the server sent the same continue token again after {len(seen) + 1} "
                "pages (the list would never end)",
            )
        seen.add(token)
        return token, ahead

    def _next_token(
        self, request: Request, body: dict[str, Any], versions: list[str] | None
    ) -> str | None:
        """The page's ``continue`` token; None at the list's end (its version kept)."""
        meta = body.get("metadata")
        if meta is None:
            meta = {}
        if not isinstance(meta, dict):
            raise self._garbage(request, f'"metadata" is {_json_type(meta)}, not an object')
        token = meta.get("continue")
        if token is not None and not isinstance(token, str):
            raise self._garbage(request, f'"continue" is {_json_type(token)}, not a string')
        if not token:
            if versions is not None:
                versions.append(str(meta.get("resourceVersion") or ""))
            return None
        return token

    def _ask_ahead(
        self,
        request: Request,
        deadline: float,
        body: dict[str, Any],
        page: list[Any],
        seen: set[str],
    ) -> _Ahead | None:
        """Send the next page's request now, if this page is one a sequential run goes on after.

        The page gives the command the timeout afresh first (:meth:`_extend`), as
        it would before the sequential run's next request.
        """
        meta = body.get("metadata")
        token = meta.get("continue") if type(meta) is dict else None
        if not page or type(token) is not str or not token or token in seen:
            return None
        self._extend(deadline)
        return _Ahead(self, request, deadline, token)

    def _send(self, request: Request, deadline: float, token: str | None = None) -> dict[str, Any]:
        """Send one GET and return its JSON object.

        ``deadline`` is the command's: until its first request, everything counts
        against it; from then on only the time spent waiting on the API does (not
        hsvc's own work between requests, such as reading 150,000 pods), and each
        page of a long list gives it the whole timeout again (:meth:`_extend`). So
        the API keeps a command waiting at most the timeout since its last page.

        Raises:
            ApiStatus: The answer's status is not 2xx.
            ApiUnreachableError: Timeout, connection or TLS failure, or not JSON.
        """
        remaining = self._remaining(deadline)
        if remaining <= 0:
            raise self._timed_out(request)
        log.debug("GET %s", request.path)
        sent = time.monotonic()
        try:
            answer = self._exchange(request, remaining, token)
        finally:
            self._charge(deadline, request, remaining, time.monotonic() - sent)
        return self._decode(request, *answer)

    def _exchange(
        self, request: Request, remaining: float, token: str | None
    ) -> tuple[int, bytes, str]:
        """Send one GET within ``remaining`` seconds: its status, body and HTTP reason.

        Raises:
            ApiUnreachableError: Timeout, connection or TLS failure.
        """
        from kubernetes.client.exceptions import ApiException  # noqa: TID251

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
        # One deadline for the whole request: connecting, the headers, the body.
        # urllib3's timeouts apply per socket read, so a server trickling a byte a
        # second would hold a request for ever; at the deadline its socket is shut.
        guard = Deadline(remaining, self._watchdog)
        self._deadlines[threading.get_ident()] = guard
        guard.start()
        try:
            with self._slots:
                response = self._api.call_api(
                    method, url, headers, body, post_params, _request_timeout=remaining
                )
                data = self._read_body(request, response.response)
        except ApiException as exc:
            if guard.expired:
                raise self._timed_out(request) from exc
            # The client turns TLS failures into ApiException(status=0).
            lines = str(exc.reason or exc).splitlines()
            why = one_line(lines[-1]) if lines else "unknown"
            raise self._unreachable(request, f"TLS failure: {why}") from exc
        except urllib3.exceptions.HTTPError as exc:
            if guard.expired:
                raise self._timed_out(request) from exc
            raise self._transport_error(request, exc) from exc
        except OSError as exc:
            if guard.expired:
                raise self._timed_out(request) from exc
            raise self._unreachable(request, exc.strerror or str(exc)) from exc
        finally:
            guard.cancel()
            self._deadlines.pop(threading.get_ident(), None)
        if guard.expired:
            raise self._timed_out(request)  # an answer cut at the deadline is no answer
        status = int(response.status)
        if 200 <= status < 300:
            self.accepted = True
        return status, data, str(response.reason or "")

    def _decode(self, request: Request, status: int, data: bytes, reason: str) -> dict[str, Any]:
        """The JSON object of an answer.

        Raises:
            ApiStatus: The status is not 2xx.
            ApiUnreachableError: The body is not a JSON object, or a Status inside a 200.
        """
        if not 200 <= status < 300:
            status_reason, message = status_fields(data)
            raise ApiStatus(request, status, status_reason, message, reason)
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
            why = f": {one_line(said)}" if isinstance(said, str) and said else ""
            raise self._garbage(request, f"the server answered 200 with a Status{why}")
        return decoded

    def _read_body(self, request: Request, raw: Any) -> bytes:
        """Read a response body of at most :data:`MAX_RESPONSE_BYTES`.

        Raises:
            ApiUnreachableError: The body is larger (announced or sent).
            urllib3.exceptions.HTTPError: The connection broke while reading.
        """
        too_large = self._garbage(
            request,
            f"the answer is larger than {MAX_RESPONSE_BYTES // (1024 * 1024)} MB "
            f"(a LIST page holds at most {self._page_size} objects)",
        )
        length = raw.headers.get("Content-Length")
        if length is not None and length.isdigit() and int(length) > MAX_RESPONSE_BYTES:
            raw.close()
            raise too_large
        chunks: list[bytes] = []
        size = 0
        while True:
            chunk = raw.read(_CHUNK)
            if not chunk:
                break
            size += len(chunk)
            if size > MAX_RESPONSE_BYTES:
                raw.close()
                raise too_large
            chunks.append(chunk)
        raw.release_conn()
        return b"".join(chunks)

    # -- error translation --

    def _convert(self, converter: Callable[[Mapping[str, object]], T], obj: Mapping[str, Any]) -> T:
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

    def _translate(self, exc: ApiStatus) -> HsvcError:
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
            detail += f": {one_line(exc.message)}"
        if exc.status == 404:
            # An object that is missing was handled by the caller; this path is not served.
            return self._garbage(request, f"the server answered {detail}")
        return ApiUnreachableError(
            f"cannot {request.describe()}: the API server answered {detail} ({self.target})"
        )

    def _transport_error(self, request: Request, exc: urllib3.exceptions.HTTPError) -> HsvcError:
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

    def _unreachable(self, request: Request, why: str) -> ApiUnreachableError:
        return ApiUnreachableError(
            f"cannot {request.describe()}: {why} at {self.target.server} "
            f'(context "{self.target.context}")'
        )

    def _timed_out(self, request: Request) -> ApiUnreachableError:
        return ApiUnreachableError(
            f"cannot {request.describe()}: no answer from {self.target.server} within "
            f'{self._timeout:g} s (context "{self.target.context}"); '
            "check the server or raise the request timeout"
        )

    def _garbage(self, request: Request, why: str) -> ApiUnreachableError:
        return ApiUnreachableError(
            f"cannot {request.describe()}: {why} ({self.target}); is this a Kubernetes API server?"
        )


class _Ahead:
    """The next page of a LIST, asked for on a thread of its own while this page converts.

    The thread waits on the command's account as the caller would (its
    :class:`~hsvc.adapters.deadline.Account`, if it runs side by side).
    """

    def __init__(self, client: RestClient, request: Request, deadline: float, token: str) -> None:
        self._outcome: dict[str, Any] | Exception | None = None
        account = client._accounts.get(threading.get_ident())

        def ask() -> None:
            me = threading.get_ident()
            if account is not None:
                client._accounts[me] = account
            try:
                self._outcome = client._send(request, deadline, token)
            except Exception as exc:  # met by the caller, where the sequential run meets it
                self._outcome = exc
            finally:
                client._accounts.pop(me, None)

        self._thread = threading.Thread(target=ask, name="hsvc-page", daemon=True)
        self._thread.start()

    def answer(self, *, discard: bool = False) -> dict[str, Any]:
        """The page's JSON object, once it has come (raised: what the request failed with)."""
        self._thread.join()
        outcome = self._outcome
        if isinstance(outcome, Exception):
            if discard:
                return {}
            raise outcome
        assert outcome is not None
        return outcome


def one_line(text: str, limit: int = 200) -> str:
    """``text`` on one line, whitespace collapsed, cut at ``limit`` characters."""
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


def status_fields(data: bytes) -> tuple[str, str]:
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
