"""Independent reads of one command sent side by side, with the outcome of sending them in turn.

:class:`BatchClient` is the part of :class:`~hsvc.adapters.kubeapi.KubeSource`
that runs independent reads concurrently (:meth:`BatchClient._overlap`: whole
LISTs page by page, chains of GETs, single GETs) with the outcome of running
them one after another: the same requests, the same deadline (each exchange is
charged the time it waited, in the sequential run's order) and the same first
failure as :meth:`~hsvc.adapters.kuberest.RestClient._send` one after another;
only the wall time is shorter against a far-away API server.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any, TypeVar, cast

from hsvc.adapters.deadline import Account
from hsvc.adapters.kuberest import RestClient

T = TypeVar("T")
A = TypeVar("A")
B = TypeVar("B")

_WORKERS = 6  # threads running one overlap: every GET of the resolver path at once


class BatchClient(RestClient):
    """Independent reads run concurrently (a part of ``KubeSource``)."""

    def side_by_side(
        self, first: Callable[[], A], second: Callable[[], B], *, deadline: float
    ) -> tuple[A, B]:
        """Run two independent reads at once, with the outcome of ``first()`` then ``second()``.

        Until the server has answered this connection with 2xx, ``second``
        starts only once ``first`` goes on past its first request, so a rejected
        token or a missing namespace still costs one request (see :meth:`_overlap`).
        ``deadline`` is the command's, as for the reads.

        Raises:
            HsvcError: The failure a run of one after the other meets first.
        """
        one, two = self._overlap([first, second], deadline, lead=not self.accepted)
        return cast("A", one), cast("B", two)

    def _overlap(
        self, jobs: Sequence[Callable[[], T]], deadline: float, *, lead: bool = False
    ) -> list[T]:
        """Run independent reads side by side, with the outcome of running them in order.

        Each job (a LIST with its pages and conversion, a chain of GETs) runs on
        its own thread against its own :class:`~hsvc.adapters.deadline.Account`,
        which starts with what the command may still wait. Then the exchanges
        of all jobs are charged in the jobs' order, as a sequential run would
        charge them: the exchange at which the waiting adds up past what the
        command could wait fails as timed out, a page of a long list gives the
        whole timeout again, and a failure comes out as the earliest job's (the
        exchanges before it charged). Every job runs (a sequential run stops at
        a failure). A single job runs on the calling thread, as it is.

        ``lead``: the others start once the first job goes on past its first
        exchange (or ends); when it fails at its first, nothing else is sent
        (so a rejected token still costs one request).

        Raises:
            HsvcError, ApiStatus: The earliest failure in the jobs' order.
        """
        if len(jobs) <= 1:
            return [job() for job in jobs]
        start = self._remaining(deadline)
        if threading.get_ident() not in self._accounts:
            # From the first request on only waiting counts (RestClient._send): the
            # replay below charges from what was left now, not when the jobs end.
            self._spent(deadline, start)
        done = self._run(jobs, start, lead=lead)
        results: list[T] = []
        for entry in done:
            assert entry is not None  # None only after a failed first job, raised above
            account, ok, value = entry
            self._replay(deadline, account)
            if not ok:
                raise value
            results.append(value)
        return results

    def _run(
        self, jobs: Sequence[Callable[[], T]], start: float, *, lead: bool
    ) -> list[tuple[Account, bool, Any] | None]:
        """Run the jobs on up to :data:`_WORKERS` threads: (account, ok, outcome) per job.

        None for a job that did not run (the first, leading, failed at its first exchange).
        """
        done: list[tuple[Account, bool, Any] | None] = [None] * len(jobs)
        pending = iter(range(len(jobs)))
        lock = threading.Lock()
        gate = threading.Event()
        if not lead:
            gate.set()
        first_failed = False

        def work() -> None:
            nonlocal first_failed
            me = threading.get_ident()
            outer = self._accounts.get(me)  # the calling thread's, when nested
            while True:
                with lock:
                    index = next(pending, None)
                if index is None:
                    break
                if index:
                    gate.wait()
                    if first_failed:
                        break  # the first job ended at its first exchange
                account = Account(start, gate if lead and not index else None)
                self._accounts[me] = account
                try:
                    done[index] = (account, True, jobs[index]())
                except Exception as exc:  # raised in order below, on the calling thread
                    done[index] = (account, False, exc)
                    if not index and not gate.is_set():
                        first_failed = True
                finally:
                    if not index:
                        gate.set()
            if outer is None:
                self._accounts.pop(me, None)
            else:
                self._accounts[me] = outer

        workers = [
            threading.Thread(target=work, name="hsvc-api", daemon=True)
            for _ in range(min(len(jobs), _WORKERS) - 1)
        ]
        for worker in workers:
            worker.start()
        work()
        for worker in workers:
            worker.join()
        return done

    def _replay(self, deadline: float, account: Account) -> None:
        """Charge one job's exchanges to the command, in order, as a sequential run would.

        Raises:
            ApiUnreachableError: An exchange waited past what the command could wait.
        """
        for event in account.events:
            if event is None:
                self._extend(deadline)
                continue
            request, waited = event
            left = self._remaining(deadline)
            self._charge(deadline, request, left, waited)
            if waited >= left:
                raise self._timed_out(request)  # past what it could wait after the others


def noted(read: Callable[[list[str]], T]) -> tuple[T, list[str]]:
    """Run one read with notes of its own: (its outcome, what it found unreadable).

    Reads run side by side note what they cannot read in lists of their own,
    joined afterwards in the reads' order (the order one after another notes them).
    """
    notes: list[str] = []
    return read(notes), notes
