"""Where live DNS answers come from: a server asked directly, every CoreDNS replica, or a pod.

A helper of :mod:`hsvc.commands` (the only module importing this one), kept apart
so that ``commands`` stays one function per command. :func:`reach_dns` picks the
vantage point from ``--via`` and holds what it needs open (port-forward streams)
until the ``with`` block ends, whatever happens inside it:

``direct``
    ``--nameserver`` servers, else (inside a pod) the pod's resolv.conf
    nameservers, else the cluster DNS Service IP; over UDP, TCP on truncation.
``port-forward``
    one port-forward per CoreDNS replica through the API server, DNS over TCP
    (port-forward carries TCP only); every replica is asked every question and
    labelled with its pod's name. The default outside a pod without ``--nameserver``:
    the Service IP is rarely reachable from a laptop, and finding that out costs
    a timeout, while a port-forward always works where the API server does.
``exec``
    one exec of a lookup script in an existing pod (``--pod``): its own
    resolver, search list and tools (:mod:`hsvc.core.podexec`).

Every Observation's ``server`` names its vantage point.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from hsvc.core.model import Nameserver, Observation, Question, Rcode
from hsvc.core.podexec import PodLookups, lookup_script, parse_lookups
from hsvc.core.resolvconf import ResolvConf, read_resolv_conf
from hsvc.core.searchpath import Libc, candidates, resolv_conf_warnings
from hsvc.errors import NoDnsError, UsageError

if TYPE_CHECKING:
    from hsvc.commands import Options, Source

log = logging.getLogger(__name__)

VIA = ("auto", "direct", "port-forward", "exec")
DNS_PORT = 53
EXEC_TIMEOUT_FLOOR = 20.0  # seconds an exec of the lookup script may take, at least


@dataclass(slots=True, kw_only=True)
class PodView:
    """What an exec in a pod showed: its resolv.conf, libc and tools, and the warnings."""

    namespace: str
    name: str
    container: str | None
    conf: ResolvConf
    lookups: PodLookups
    warnings: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        """``pod ms/client`` (``pod ms/client/c`` with a container)."""
        where = f"{self.namespace}/{self.name}"
        return f"pod {where}/{self.container}" if self.container else f"pod {where}"

    @property
    def libc(self) -> Libc:
        """The pod's libc; glibc when it cannot be told."""
        return self.lookups.libc or Libc.GLIBC


@dataclass(slots=True, kw_only=True)
class Vantage:
    """The servers (or pod) answers come from, and how to ask them."""

    mode: str  # direct, port-forward, exec
    servers: list[Nameserver] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    pod: PodView | None = None
    _ask: Callable[[list[Question]], list[Observation]] | None = None
    _lookup: Callable[[Sequence[str], Sequence[str]], list[Observation]] | None = None
    _problems: Callable[[], list[str]] | None = None

    @property
    def labels(self) -> tuple[str, ...]:
        """How each server is named in rows."""
        return tuple(str(s) for s in self.servers)

    def ask(self, questions: list[Question]) -> list[Observation]:
        """Ask every server every question (absolute names, no search list).

        Raises:
            HsvcError: from the resolver or the exec.
        """
        assert self._ask is not None
        observations = self._ask(questions)
        self._collect()
        return observations

    def lookup(
        self, names: Sequence[str], types: Sequence[str], conf: ResolvConf, libc: Libc
    ) -> list[Observation]:
        """Ask every candidate a resolver may try for each name, for each type.

        Raises:
            HsvcError: from the resolver or the exec.
        """
        if self._lookup is not None:
            observations = self._lookup(names, types)
        else:
            wanted = [
                Question(name=c, type=t)
                for n in names
                for c in _all_candidates(n, conf, libc)
                for t in types
            ]
            observations = self.ask(list(dict.fromkeys(wanted)))
        self._collect()
        return observations

    def _collect(self) -> None:
        if self._problems is not None:
            for problem in self._problems():
                if problem not in self.notes:
                    self.notes.append(problem)


def _all_candidates(name: str, conf: ResolvConf, libc: Libc) -> list[str]:
    """Every candidate either libc may try (glibc's and musl's orders differ, not their set)."""
    return list(dict.fromkeys([*candidates(name, conf, libc), *candidates(name, conf, Libc.MUSL)]))


def via_of(opts: Options) -> str:
    """Resolve ``--via auto`` to a mode.

    Raises:
        UsageError: an unknown mode, or ``--pod`` without ``--via exec``.
    """
    via = opts.via
    if via not in VIA:
        raise UsageError(f"unknown --via {via!r}; use one of {', '.join(VIA)}")
    if opts.pod and via not in ("auto", "exec"):
        raise UsageError(f"--pod is for --via exec, not --via {via}")
    if via != "auto":
        return via
    if opts.pod:
        return "exec"
    if opts.nameservers or opts.in_pod or opts.files:
        return "direct"
    return "port-forward"


@contextmanager
def reach_dns(
    opts: Options, source: Source, progress: Callable[[int, int], None] | None = None
) -> Iterator[Vantage]:
    """Open the vantage point ``--via`` asks for; close everything when the block ends.

    Raises:
        UsageError: bad ``--via``/``--pod`` combinations or a malformed ``--nameserver``.
        NoDnsError: no server to ask, or no CoreDNS replica to forward to.
        AccessDeniedError: ``pods/portforward`` or ``pods/exec`` not granted.
        HsvcError: other API failures.
    """
    mode = via_of(opts)
    with ExitStack() as stack:
        if mode == "exec":
            yield _exec_vantage(opts, source, stack)
            return
        if mode == "port-forward":
            vantage = _port_forward_vantage(opts, source, stack)
        else:
            vantage = Vantage(mode="direct", servers=direct_nameservers(opts, source))
        servers = vantage.servers

        def ask(questions: list[Question]) -> list[Observation]:
            return _resolve(questions, servers, opts, progress)

        vantage._ask = ask
        yield vantage


def direct_nameservers(opts: Options, source: Source) -> list[Nameserver]:
    """Return ``--nameserver``, else the pod's resolv.conf servers, else the kube-dns IP.

    Raises:
        UsageError: a malformed ``--nameserver``.
        NoDnsError: no server can be found.
    """
    from hsvc.adapters.resolver import parse_nameserver

    if opts.nameservers:
        return [parse_nameserver(text) for text in opts.nameservers]
    if opts.in_pod:
        # Inside a pod: ask what the pod's own resolver asks.
        try:
            text = Path("/etc/resolv.conf").read_text(encoding="utf-8")
        except OSError:
            text = ""
        conf = read_resolv_conf(text)
        if conf.nameservers:
            return list(conf.nameservers)
    if source.kube_dns_ip:
        return [
            Nameserver(host=source.kube_dns_ip, port=53, label=f"kube-dns {source.kube_dns_ip}")
        ]
    raise NoDnsError(
        "no DNS server to ask: pass --nameserver HOST[:PORT] (the cluster DNS Service IP when "
        "you can reach it), or --via port-forward to ask every CoreDNS replica through the "
        "API server"
    )


def _resolve(
    questions: list[Question],
    servers: Sequence[Nameserver],
    opts: Options,
    progress: Callable[[int, int], None] | None,
) -> list[Observation]:
    from hsvc.adapters.resolver import resolve_all

    total = len(questions) * len(servers)
    report = None if progress is None else (lambda done: progress(done, total))
    return resolve_all(
        questions, servers, timeout=opts.timeout, concurrency=opts.concurrency, progress=report
    )


def _port_forward_vantage(opts: Options, source: Source, stack: ExitStack) -> Vantage:
    """Port-forward to every running CoreDNS replica; the relays close with ``stack``.

    Raises:
        NoDnsError: no replica runs.
        HsvcError: from the API.
    """
    from hsvc.adapters import kubeapi

    api = stack.enter_context(
        kubeapi.connect(
            kubeconfig=opts.kubeconfig, context=opts.context, request_timeout=opts.request_timeout
        )
    )
    namespace, selector = source.dns_pods
    pods = api.dns_replicas(namespace, selector)
    running = [p for p in pods if p.phase == "Running" and p.pod_ips and not p.deleting]
    notes = [
        f"replica {p.name} is not running ({p.phase}{', terminating' if p.deleting else ''}): "
        "not asked"
        for p in pods
        if p not in running
    ]
    if not running:
        raise NoDnsError(
            f"no running cluster DNS pod in namespace {namespace!r} with labels {selector!r} "
            f"({api.target}); pass --nameserver, or --via exec --pod POD"
        )
    notes.extend(
        f"replica {p.name} is running but not ready: asked anyway" for p in running if not p.ready
    )
    forwards = stack.enter_context(api.forward(running, DNS_PORT))
    log.debug("port-forwarding to %d replicas: %s", len(running), [p.name for p in running])
    return Vantage(
        mode="port-forward",
        servers=forwards.nameservers,
        notes=notes,
        _problems=forwards.problems,
    )


def _exec_vantage(opts: Options, source: Source, stack: ExitStack) -> Vantage:
    """Prepare lookups from inside ``--pod`` (one exec each time answers are needed).

    Raises:
        UsageError: ``--via exec`` without ``--pod``.
        HsvcError: from the API.
    """
    from hsvc.adapters import kubeapi

    if not opts.pod:
        raise UsageError("--via exec needs --pod POD (a running pod whose view to check)")
    pod_name = opts.pod
    namespace = source.namespace or opts.namespace or "default"
    if "/" in pod_name:
        namespace, pod_name = pod_name.split("/", 1)
    vantage = Vantage(mode="exec")
    api = stack.enter_context(
        kubeapi.connect(
            kubeconfig=opts.kubeconfig, context=opts.context, request_timeout=opts.request_timeout
        )
    )
    pod = api.get_pod(namespace, pod_name)
    if pod.phase != "Running":
        raise UsageError(f"pod {namespace}/{pod_name} is {pod.phase}, not Running: cannot exec")

    def run(lookups: Sequence[str], types: Sequence[str], questions: Sequence[Question]) -> str:
        script = lookup_script(lookups, types, questions, timeout=opts.timeout)
        queries = len(questions) + len(lookups) * len(types) * 8
        limit = max(EXEC_TIMEOUT_FLOOR, opts.timeout * 2 + queries * 0.05)
        started = time.monotonic()
        result = api.exec_in_pod(
            namespace, pod_name, ["sh", "-c", script], container=opts.container, timeout=limit
        )
        elapsed = (time.monotonic() - started) * 1000
        log.debug("exec in %s/%s took %.0f ms", namespace, pod_name, elapsed)
        if result.exit_code != 0 and "@@hsvc@@" not in result.stdout:
            raise NoDnsError(
                f"the lookup script could not run in pod {namespace}/{pod_name}: "
                f"{_first(result.stderr) or f'exit {result.exit_code}'} (no sh in the image? "
                "use --via port-forward, or a pod with a shell)"
            )
        return result.stdout

    def observe(text: str) -> list[Observation]:
        lookups = parse_lookups(text)
        conf = read_resolv_conf(lookups.resolv_conf or "")
        view = PodView(
            namespace=namespace, name=pod_name, container=opts.container, conf=conf, lookups=lookups
        )
        view.warnings = [
            *lookups.problems,
            *resolv_conf_warnings(
                conf,
                namespace=namespace,
                zone=source.settings.primary_zone,
                dns_policy=pod.dns_policy,
                host_network=pod.host_network,
                kube_dns_ip=source.kube_dns_ip,
            ),
        ]
        vantage.pod = view
        vantage.notes = list(view.warnings)
        out = []
        for answer in lookups.answers.values():
            label = f"{view.label} ({answer.tool})"
            if label not in [str(s) for s in vantage.servers]:
                vantage.servers.append(Nameserver(host="0.0.0.0", label=label))
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

    def ask(questions: list[Question]) -> list[Observation]:
        got = observe(run([], [], questions))
        asked = {(o.name, o.type) for o in got}
        label = f"{vantage.pod.label if vantage.pod else 'pod'} (no dig or nslookup)"
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

    def lookup(names: Sequence[str], types: Sequence[str]) -> list[Observation]:
        return observe(run(names, types, []))

    vantage._ask = ask
    vantage._lookup = lookup
    return vantage


def _first(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")
