"""``hsvc demo``: a recorded cluster and its DNS, replayed on 127.0.0.1 and inspected.

The objects come from manifests bundled in ``hsvc/data/demo/``; the DNS answers
from zone files recorded from that cluster's CoreDNS, played back by
:class:`~hsvc.adapters.demo_server.PlaybackServer`. Each step is an ordinary
:func:`~hsvc.commands.inspect.run_inspect` against that server, so the demo shows exactly
what ``hsvc inspect`` shows on a real cluster.

The script is data: every step names the rows that must come out not ok (the
story's misconfiguration) and with which verdict, so a demo that goes off script
is reported as a bug instead of being shown as if it were the story.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import replace
from importlib import resources
from importlib.resources.abc import Traversable

from hsvc.commands.inspect import run_inspect
from hsvc.commands.options import Options
from hsvc.core.report import DemoStep, InspectReport, Played
from hsvc.errors import HsvcError

__all__ = [
    "DATA_FILES",
    "INTRO",
    "OUTRO",
    "STEPS",
    "DemoCluster",
    "DemoOffScriptError",
    "check_script",
    "data_dir",
    "demo_cluster",
]

log = logging.getLogger(__name__)

NAMESPACE = "ms"
MANIFESTS = "ms.yaml"
COREFILE = "Corefile"
ZONES = ("cluster.local.zone", "in-addr.arpa.zone")
DATA_FILES = (MANIFESTS, COREFILE, *ZONES)
"""Every file of ``hsvc/data/demo/`` the demo reads."""


INTRO = (
    "This replays namespace ms of a small cluster: its objects come from manifests "
    "bundled with hsvc, its DNS answers from zone files recorded from the cluster's "
    "CoreDNS, served now by a DNS server on {address}. Nothing else is contacted.",
    "Just before the recording, the readiness probe of eureka-2, one of the three "
    "pods of StatefulSet eureka, started failing.",
)

STEPS: tuple[DemoStep, ...] = (
    DemoStep(
        service="eureka",
        title="a headless Service (eureka)",
        story=(
            "eureka has clusterIP: None, so it has no virtual IP: its name answers with "
            "the IP of every ready pod behind it, and each StatefulSet pod gets a name of "
            "its own, eureka-0.eureka.ms.svc and so on. hsvc works out every answer DNS "
            "must give from the objects, asks the server, and shows both side by side."
        ),
        command="hsvc inspect eureka -n ms",
        moral=(
            "Four ✗ rows, one cause. eureka-2 is not ready and the Service does not set "
            "publishNotReadyAddresses, so DNS must leave it out: its own name must not "
            "resolve, and the Service name and SRV records must list two pods (SRV "
            "weights 50, not 33). The server still answers with all three.",
            "Why: this cluster's Corefile has a plain `cache 30`, which also caches the "
            "kubernetes plugin's answers, so for up to 30 s after a readiness change "
            "clients still reach the pod that is not ready (the recorded answers had "
            "21 s left). Disable that cache for cluster.local, as kubeadm's Corefile now "
            "does (`disable success cluster.local` and `disable denial cluster.local`). "
            "A ✗ that outlives the TTL means CoreDNS misses EndpointSlice updates: look "
            "for watch errors in its logs.",
        ),
        hints=(
            "kubectl -n ms get pod eureka-2                  # READY 0/1",
            "kubectl -n kube-system get configmap coredns -o yaml",
        ),
        off=(
            ("eureka.ms.svc.cluster.local.", "A", "wrong"),
            ("eureka-2.eureka.ms.svc.cluster.local.", "A", "unexpected"),
            ("eureka.ms.svc.cluster.local.", "SRV", "wrong"),
            ("_eureka._tcp.eureka.ms.svc.cluster.local.", "SRV", "wrong"),
        ),
    ),
    DemoStep(
        service="gateway",
        title="a ClusterIP Service (gateway)",
        story=(
            "gateway has a virtual IP, 10.0.0.14: its name answers with that one address "
            "whatever pods are behind it, and kube-proxy spreads connections over them. "
            "Its pods get no names of their own under the Service: "
            "gateway-7d9f8-abcde.gateway.ms.svc must not resolve. Only the dashed-IP "
            "endpoint name, 10-244-1-212.gateway.ms.svc, answers (CoreDNS answers those "
            "for any Service)."
        ),
        command="hsvc inspect gateway -n ms",
        moral=(
            "Every row ✓, the NXDOMAIN row too: hsvc checks the names that must not "
            "resolve as well as those that must.",
        ),
    ),
)

OUTRO = (
    "The demo exits 0: its ✗ rows are part of the show. On a real cluster "
    "`hsvc inspect` exits 1 when any row is ✗ (docs/reference/exit-codes.md).",
    "Next: `hsvc records SERVICE -n NS -f manifests/ --offline` lists what DNS must "
    "serve without a cluster; `hsvc resolve NAME -n NS` explains one name.",
)


class DemoOffScriptError(HsvcError):
    """The demo's inspections did not come out as its script says: a bug in hsvc."""

    fmt = (
        "the demo went off script: {first}{more}; this is a bug in hsvc, "
        "please report it with the output of 'hsvc demo --debug'"
    )


def data_dir() -> Traversable:
    """Return ``hsvc/data/demo/`` as installed."""
    return resources.files("hsvc") / "data" / "demo"


class DemoCluster:
    """The demo's objects and its DNS server, while it runs (see :func:`demo_cluster`)."""

    def __init__(self, options: Options, address: str) -> None:
        self.options = options
        self.address = address

    def play(self, step: DemoStep) -> Played:
        """Inspect the step's Service against the demo's DNS server.

        Raises:
            HsvcError: from :func:`~hsvc.commands.inspect.run_inspect` (a broken install).
        """
        report = _relabel(run_inspect(self.options, step.service))
        return Played(step=step, report=report, surprises=_surprises(step, report))


@contextmanager
def demo_cluster(*, timeout: float = 1.0) -> Iterator[DemoCluster]:
    """Start the demo's DNS server on 127.0.0.1 and yield the cluster to inspect.

    Raises:
        ZoneError: A bundled zone file cannot be read (a broken install).
        NoDnsError: No port can be bound on 127.0.0.1.
    """
    from hsvc.adapters.demo_server import PlaybackServer

    data = data_dir()
    zones = [(name, (data / name).read_text(encoding="utf-8")) for name in ZONES]
    with ExitStack() as stack:
        # Real paths for the manifest and Corefile readers, even from a zipped install.
        manifests = stack.enter_context(resources.as_file(data / MANIFESTS))
        corefile = stack.enter_context(resources.as_file(data / COREFILE))
        server = stack.enter_context(PlaybackServer(zones))
        options = Options(
            files=(str(manifests),),
            namespace=NAMESPACE,
            corefile=str(corefile),
            nameservers=(server.address,),
            timeout=timeout,
        )
        yield DemoCluster(options, server.address)


def check_script(played: Sequence[Played]) -> None:
    """Raise when any step did not come out as scripted.

    Raises:
        DemoOffScriptError: The first surprise, and how many more there are.
    """
    surprises = [s for p in played for s in p.surprises]
    if surprises:
        more = f" (and {len(surprises) - 1} more)" if len(surprises) > 1 else ""
        raise DemoOffScriptError(first=surprises[0], more=more)


def _surprises(step: DemoStep, report: InspectReport) -> tuple[str, ...]:
    scripted = {(name, rtype): verdict for name, rtype, verdict in step.off}
    seen = {(row.name, row.type): row.status.value for row in report.rows}
    out = [
        f"{name} {rtype} is {seen.get((name, rtype), 'not checked')}, not {verdict}"
        for (name, rtype), verdict in scripted.items()
        if seen.get((name, rtype)) != verdict
    ]
    out.extend(
        f"{name} {rtype} is {status}, not ok"
        for (name, rtype), status in seen.items()
        if status != "ok" and (name, rtype) not in scripted
    )
    for surprise in out:
        log.debug("demo step %s: %s", step.service, surprise)
    return tuple(out)


def _relabel(report: InspectReport) -> InspectReport:
    """Name the bundled files by their place in the package, not their install path."""
    source = report.source
    settings = replace(source.settings, source=f"Corefile hsvc/data/demo/{COREFILE}")
    source = replace(source, origin=f"manifests hsvc/data/demo/{MANIFESTS}", settings=settings)
    return replace(report, source=source)
