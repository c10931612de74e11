"""The exec vantage point: lookups run inside an existing pod (``--via exec --pod``).

One exec of a lookup script (:mod:`hsvc.core.podexec`) each time answers are
needed: the pod's own resolver, search list and tools, what its resolv.conf
shows (:class:`~hsvc.commands.vantagebase.PodView`), and with NodeLocal DNSCache
in front each resolver layer asked by address.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from dataclasses import field
from typing import TYPE_CHECKING

from hsvc.commands.vantagebase import LayerTarget, PodView, layer_targets, resolver_layer
from hsvc.core import names
from hsvc.core.dataclass import dataclass
from hsvc.core.dnspath import ResolverPath
from hsvc.core.model import Nameserver, Observation, Pod, Question, Rcode
from hsvc.core.podexec import ToolAnswer, lookup_script, parse_lookups
from hsvc.core.resolvconf import ResolvConf, read_resolv_conf
from hsvc.core.searchpath import Libc, resolv_conf_warnings
from hsvc.errors import AccessDeniedError, InvalidNameError, NoDnsError, UsageError

if TYPE_CHECKING:
    from hsvc.adapters.kubeapi import KubeSource

log = logging.getLogger("hsvc.commands.vantage")

EXEC_TIMEOUT_FLOOR = 20.0  # seconds an exec of the lookup script may take, at least


@dataclass(slots=True, kw_only=True)
class _Seen:
    """What the last exec showed (an exec vantage fills it in as it asks)."""

    pod: PodView | None = None
    servers: list[Nameserver] = field(default_factory=list)


class ExecVantage:
    """Lookups run inside an existing pod, one exec each time answers are needed."""

    def __init__(
        self,
        api: KubeSource,
        pod: Pod,
        *,
        container: str | None,
        timeout: float,
        zone: str,
        kube_dns_ip: str | None,
        path: ResolverPath | None = None,
        targets: Sequence[LayerTarget] = (),
    ) -> None:
        self._api = api
        self._pod = pod
        self._container = container
        self._timeout = timeout
        self._zone = zone
        self._kube_dns_ip = kube_dns_ip
        self._path = path
        self._targets = tuple(targets)
        self._seen = _Seen()
        # Server label -> the layer it stands for (the pod's resolver, each target).
        self.layers: dict[str, str] = {}

    @classmethod
    def open(
        cls,
        api: KubeSource,
        target: str,
        *,
        namespace: str,
        container: str | None,
        timeout: float,
        zone: str,
        kube_dns_ip: str | None,
        path: ResolverPath | None = None,
        dns_pods: tuple[str, str] | None = None,
    ) -> ExecVantage:
        """Find ``target`` ([NAMESPACE/]NAME, else in ``namespace``) and check that it runs.

        With NodeLocal DNSCache on ``path``, the pod also asks each layer by
        address (:func:`layer_targets`; one more LIST, of the DNS pods).

        Raises:
            UsageError: the pod does not run.
            HsvcError: from the API.
        """
        name = target
        if "/" in target:
            namespace, name = target.split("/", 1)
        # Checked before any request: `--pod ms/` would otherwise GET .../pods/, a LIST.
        if not names.is_dns1123_label(namespace):
            raise InvalidNameError(name=target, reason="the namespace of --pod NS/NAME is invalid")
        if not names.is_dns1123_subdomain(name):
            raise InvalidNameError(name=target, reason="--pod needs a pod name ([NS/]NAME)")
        pod = api.get_pod(namespace, name)
        if pod.phase != "Running":
            raise UsageError(f"pod {namespace}/{name} is {pod.phase}, not Running: cannot exec")
        targets: list[LayerTarget] = []
        if path is not None and path.node_local is not None:
            label = f"pod {namespace}/{name}"
            try:
                replicas = api.dns_replicas(*dns_pods) if dns_pods else ()
            except AccessDeniedError:
                replicas = ()  # the cache and the ClusterIP are still asked
            targets = layer_targets(path, replicas, pod=pod, label=label)
        return cls(
            api,
            pod,
            container=container,
            timeout=timeout,
            zone=zone,
            kube_dns_ip=kube_dns_ip,
            path=path,
            targets=targets,
        )

    @property
    def servers(self) -> Sequence[Nameserver]:
        """One server per tool the pod used (dig, nslookup, getent)."""
        return tuple(self._seen.servers)

    @property
    def notes(self) -> Sequence[str]:
        """The pod's own warnings: its resolv.conf, missing tools."""
        return self._seen.pod.warnings if self._seen.pod is not None else ()

    @property
    def pod(self) -> PodView | None:
        """What the last exec showed."""
        return self._seen.pod

    def _run(
        self, lookups: Sequence[str], types: Sequence[str], questions: Sequence[Question]
    ) -> str:
        pod = self._pod
        servers = [(t.host, t.port) for t in self._targets]
        script = lookup_script(lookups, types, questions, timeout=self._timeout, servers=servers)
        limit = exec_limit(
            self._timeout,
            questions=len(questions),
            layers=len(servers),
            candidates=len(lookups) * len(types) * 8,
        )
        started = time.monotonic()
        result = self._api.exec_in_pod(
            pod.namespace, pod.name, ["sh", "-c", script], container=self._container, timeout=limit
        )
        elapsed = (time.monotonic() - started) * 1000
        log.debug("exec in %s/%s took %.0f ms", pod.namespace, pod.name, elapsed)
        if result.exit_code != 0 and "@@hsvc@@" not in result.stdout:
            raise NoDnsError(
                f"the lookup script could not run in pod {pod.namespace}/{pod.name}: "
                f"{_first(result.stderr) or f'exit {result.exit_code}'} (no sh in the image? "
                "use --via port-forward, or a pod with a shell)"
            )
        return result.stdout

    def _observe(self, text: str) -> list[Observation]:
        lookups = parse_lookups(text)
        conf = read_resolv_conf(lookups.resolv_conf or "")
        pod = self._pod
        warnings = (
            *lookups.problems,
            *resolv_conf_warnings(
                conf,
                namespace=pod.namespace,
                zone=self._zone,
                dns_policy=pod.dns_policy,
                host_network=pod.host_network,
                kube_dns_ip=self._kube_dns_ip,
            ),
        )
        view = PodView(
            namespace=pod.namespace,
            name=pod.name,
            container=self._container,
            conf=conf,
            lookups=lookups,
            warnings=warnings,
        )
        self._seen.pod = view
        own = resolver_layer(self._path, pod, conf.nameservers[0].host if conf.nameservers else "")
        by_where = {f"{t.host}#{t.port}": t for t in self._targets}
        out = []
        asked: list[tuple[ToolAnswer, LayerTarget | None]]
        asked = [(a, None) for a in lookups.answers.values()]
        asked += [(a, by_where.get(where)) for (_, _, where), a in lookups.direct.items()]
        for answer, target in asked:
            if target is None:
                label, layer = f"{view.label} ({answer.tool})", own
            else:
                label, layer = f"{view.label} ({answer.tool} @{target.where})", target.layer
            if label not in [str(s) for s in self._seen.servers]:
                self._seen.servers.append(Nameserver(host="0.0.0.0", label=label))
            if layer:
                self.layers[label] = layer
            out.append(
                Observation(
                    server=label,
                    name=answer.name,
                    type=answer.type,
                    rcode=answer.rcode,
                    answer=answer.answer,
                    error=answer.error,
                    low_confidence=answer.low_confidence,
                )
            )
        return out

    def ask(self, questions: list[Question]) -> list[Observation]:
        """Ask each question with the pod's dig (or nslookup), absolute names.

        Raises:
            HsvcError: from the exec.
        """
        got = self._observe(self._run([], [], questions))
        asked = {(o.name, o.type) for o in got}
        label = f"{self.pod.label if self.pod else 'pod'} (no dig or nslookup)"
        missing = [
            Observation(
                server=label,
                name=q.name,
                type=q.type,
                rcode=Rcode.ERROR,
                error="not asked: the image has neither dig nor nslookup",
            )
            for q in questions
            if (q.name, q.type) not in asked
        ]
        return got + missing

    def lookup(
        self, names: Sequence[str], types: Sequence[str], conf: ResolvConf, libc: Libc
    ) -> list[Observation]:
        """Look each name up as the pod's own resolver does (its search list, its libc).

        Raises:
            HsvcError: from the exec.
        """
        return self._observe(self._run(names, types, []))


def exec_limit(timeout: float, *, questions: int, layers: int, candidates: int) -> float:
    """Seconds one exec of the lookup script may take.

    Each query's share, and a full wait (dig ``+tries=1 +time=N``) for every
    question asked of one resolver layer that never answers: a dead replica's
    answers then come back timed out, instead of the whole exec failing as
    unfinished. Never less than :data:`EXEC_TIMEOUT_FLOOR`.

    Args:
        timeout: Seconds per query attempt (the script rounds it up).
        questions: Absolute questions, each asked of the pod's resolver and of each layer.
        layers: Resolver layers asked by address (``dig @ADDRESS``).
        candidates: Search-list candidate queries (getaddrinfo's view).
    """
    queries = questions * (1 + layers) + candidates
    silent_layer = max(1, math.ceil(timeout)) * questions if layers else 0
    return max(EXEC_TIMEOUT_FLOOR, timeout * 2 + queries * 0.05 + silent_layer)


def _first(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")
