"""What every vantage point shares: the protocol, DNS parameters, the view from a pod.

:class:`Vantage` is what the commands ask answers of; :mod:`hsvc.commands.vantage`
builds one (direct, port-forward) and :mod:`hsvc.commands.execvantage` the exec one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from hsvc.core.model import Nameserver, Observation, Question
from hsvc.core.podexec import PodLookups
from hsvc.core.resolvconf import ResolvConf
from hsvc.core.searchpath import Libc, candidates

# Called with (queries done, queries in all) while DNS is asked.
Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True, kw_only=True)
class DnsParams:
    """How to ask DNS: per-attempt timeout, queries in flight, progress callback."""

    timeout: float
    concurrency: int
    progress: Progress | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PodView:
    """What an exec in a pod showed: its resolv.conf, libc and tools, and the warnings."""

    namespace: str
    name: str
    container: str | None
    conf: ResolvConf
    lookups: PodLookups
    warnings: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """``pod ms/client`` (``pod ms/client/c`` with a container)."""
        where = f"{self.namespace}/{self.name}"
        return f"pod {where}/{self.container}" if self.container else f"pod {where}"

    @property
    def libc(self) -> Libc:
        """The pod's libc; glibc when it cannot be told."""
        return self.lookups.libc or Libc.GLIBC


class Vantage(Protocol):
    """The servers (or pod) answers come from, and how to ask them."""

    @property
    def servers(self) -> Sequence[Nameserver]:
        """Every server asked, as rows name them."""

    @property
    def notes(self) -> Sequence[str]:
        """What the reader should know about where the answers came from."""

    @property
    def pod(self) -> PodView | None:
        """What the pod showed (exec only)."""

    def ask(self, questions: list[Question]) -> list[Observation]:
        """Ask every server every question (absolute names, no search list)."""

    def lookup(
        self, names: Sequence[str], types: Sequence[str], conf: ResolvConf, libc: Libc
    ) -> list[Observation]:
        """Ask every candidate a resolver may try for each name, for each type."""


def labels(vantage: Vantage) -> tuple[str, ...]:
    """How each server of ``vantage`` is named in rows."""
    return tuple(str(s) for s in vantage.servers)


def all_candidates(name: str, conf: ResolvConf, libc: Libc) -> list[str]:
    """Every candidate either libc may try (glibc's and musl's orders differ, not their set)."""
    return list(dict.fromkeys([*candidates(name, conf, libc), *candidates(name, conf, Libc.MUSL)]))


def candidate_questions(
    names: Sequence[str], types: Sequence[str], conf: ResolvConf, libc: Libc
) -> list[Question]:
    """Every (candidate, type) question for ``names``, without repeats."""
    wanted = [
        Question(name=c, type=t)
        for n in names
        for c in all_candidates(n, conf, libc)
        for t in types
    ]
    return list(dict.fromkeys(wanted))
