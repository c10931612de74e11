"""Several GETs of one command sent at once, with the outcome of sending them one by one.

:class:`BatchClient` is the part of :class:`~hsvc.adapters.kubeapi.KubeSource`
that sends independent GETs concurrently (:meth:`BatchClient._send_all`): the
same requests, the same deadline (each is charged the time it waited, in order)
and the same first failure as :meth:`~hsvc.adapters.kuberest.RestClient._send`
one after another; only the wall time is shorter against a far-away API server.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Any

from hsvc.adapters.kuberest import ApiStatus, Request, RestClient, log

Answer = dict[str, Any] | ApiStatus
"""A GET's decoded object, or the non-2xx status it was answered with."""

_WORKERS = 6  # threads sending one batch: every GET of the resolver path at once


class BatchClient(RestClient):
    """Independent GETs sent concurrently (a part of ``KubeSource``)."""

    def _send_all(self, requests: Sequence[Request], deadline: float) -> list[Answer]:
        """Send GETs concurrently, as :meth:`_send` one after another would (in order).

        The outcome is the sequential run's: each request is charged the time it
        waited, in ``requests``' order, against what the command may still wait,
        so the one at which those times add up past it fails as timed out, and a
        failure comes out as the earliest request's. Each answer is the decoded
        object or the :class:`ApiStatus` it failed with; any other failure is
        raised. All of them are sent (a sequential run stops at a failure).

        Raises:
            ApiUnreachableError: Timeout, connection or TLS failure, or not JSON.
        """
        if not requests:
            return []
        remaining = self._remaining(deadline)
        if remaining <= 0:
            raise self._timed_out(requests[0])
        for request in requests:
            log.debug("GET %s", request.path)
        done: list[tuple[float, tuple[int, bytes, str] | Exception] | None] = [None] * len(requests)
        pending = iter(range(len(requests)))
        lock = threading.Lock()

        def work() -> None:
            while True:
                with lock:
                    index = next(pending, None)
                if index is None:
                    return
                sent = time.monotonic()
                try:
                    outcome: tuple[int, bytes, str] | Exception = self._exchange(
                        requests[index], remaining, None
                    )
                except Exception as exc:  # raised in order below, on the calling thread
                    outcome = exc
                done[index] = (time.monotonic() - sent, outcome)

        # No more at once than the connection pool keeps (urllib3 warns of a full pool).
        pool = getattr(getattr(self._api, "configuration", None), "connection_pool_maxsize", 1)
        workers = [
            threading.Thread(target=work, name="hsvc-get", daemon=True)
            for _ in range(min(len(requests), _WORKERS, pool or 1) - 1)
        ]
        for worker in workers:
            worker.start()
        work()
        for worker in workers:
            worker.join()
        answers: list[Answer] = []
        for request, entry in zip(requests, done, strict=True):
            assert entry is not None  # every worker has ended
            waited, outcome = entry
            self._spent(deadline, remaining - waited)
            if waited >= remaining:
                raise self._timed_out(request)  # past what it could wait after the others
            remaining -= waited
            if isinstance(outcome, Exception):
                raise outcome
            try:
                answers.append(self._decode(request, *outcome))
            except ApiStatus as exc:
                answers.append(exc)
        return answers
