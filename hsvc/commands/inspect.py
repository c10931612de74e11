"""``hsvc inspect``: every record for the scope, resolved live and compared row by row."""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Sequence
from contextlib import ExitStack
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from hsvc.commands.options import Options
from hsvc.commands.source import Api, load_source, plan, with_chaos_version
from hsvc.commands.vantage import Progress, labels, layers, nobody_answered, open_vantage
from hsvc.core import collector, conditions
from hsvc.core.cluster import ClusterDns
from hsvc.core.compare import Row, compare, disagreements, summarize
from hsvc.core.diagnose import diagnose
from hsvc.core.model import Finding, Labels, Observation, Question, selector_matches
from hsvc.core.records import Expectation
from hsvc.core.report import EndpointState, InspectReport, ServiceSummary, Source
from hsvc.core.transport import LIVE_CODES
from hsvc.errors import UsageError

if TYPE_CHECKING:
    from hsvc.core.refuse import Checked

log = logging.getLogger(__name__)


def run_inspect(
    opts: Options,
    service: str | None,
    *,
    progress: Progress | None = None,
) -> InspectReport:
    """Work out every record for the scope, resolve them live and compare.

    Raises:
        UsageError: ``--offline`` (inspect always asks DNS).
        NoDnsError: no DNS server to ask, or none answered at all.
        HsvcError: from the source.
    """
    if opts.offline:
        raise UsageError("inspect always queries DNS; --offline is only for records and resolve")
    started = time.monotonic()
    with ExitStack() as stack:
        api = Api(opts, stack)
        source = load_source(opts, api, service=service)
        loaded = time.monotonic()
        # The objects and the plan live until the report is written: the cyclic
        # collector need not scan them again and again (a fifth of planning at 20,000
        # pods). Frozen objects are still freed by reference counting.
        gc.freeze()
        stack.callback(gc.unfreeze)
        cluster, items = _planned(source, service)
        planned = time.monotonic()
        vantage = open_vantage(opts, source, api, stack, progress)
        versioned = with_chaos_version(opts, source, vantage.servers)
        if versioned is not source:
            # version.bind named another CoreDNS version than the image tag: its rules.
            source = versioned
            cluster, items = _planned(source, service)
        questions = [Question(name=e.expected.name, type=e.expected.type) for e in items]
        observations = vantage.ask(questions)
        del questions  # the observations name them: not held through compare and diagnose
        servers, notes = labels(vantage), tuple(vantage.notes)
        layer_of = layers(vantage)
    resolved = time.monotonic()
    rows = _compared(items, observations)
    del items, observations  # the rows hold what is kept of them
    summaries = _summaries(cluster, source, service)
    # benchmarks/run.py reads this line (with --debug) to split the wall time.
    log.debug(
        "inspect phases: source %.0f ms, plan %.0f ms, resolve %.0f ms, compare %.0f ms",
        (loaded - started) * 1000,
        (planned - loaded) * 1000,
        (resolved - planned) * 1000,
        (time.monotonic() - resolved) * 1000,
    )
    findings = diagnose(
        cluster,
        namespace=source.namespace,
        rows=rows,
        observed=not opts.files,
        now=datetime.now(UTC),
        path=source.path,
        layers=layer_of,
    )
    if service is not None:
        findings = _about_service(findings, cluster, service)
    used_by = _used_by(cluster, summaries, observed=not opts.files) if opts.references else None
    report = InspectReport(
        source=source,
        services=summaries,
        rows=rows,
        servers=servers,
        summary=summarize(rows),
        findings=findings,
        notes=notes,
        disagreements=disagreements(rows),
        used_by=used_by,
        layers=layer_of,
    )
    if rows and not report.answered:
        raise nobody_answered([c.observation for r in rows for c in r.checks])
    return report


def _planned(source: Source, service: str | None) -> tuple[ClusterDns, list[Expectation]]:
    """Plan with the cyclic collector waiting, then freeze the plan as inspect holds it.

    Planning makes about a dozen long-lived objects a question and no cycles: the
    collector's passes over them while they are built were a fifth of planning at
    20,000 pods and made its cost per question grow with N. Frozen before the
    collector runs again, the plan is never scanned (reference counting still frees it).
    """
    with collector.paused("freeze"):
        return plan(source, service, traces=False)


def _compared(items: list[Expectation], observations: list[Observation]) -> list[Row]:
    """Compare with the cyclic collector waiting; the rows then go to its oldest generation.

    Comparing makes no cycles either, and the rows live to the end of the run. Its
    passes over them while they were built, or one pass after (0.7 s), were 0.6-1.4
    of 4.3-5.3 CPU s of comparing at 10,000 Services. Freezing and unfreezing moves
    every tracked object to the oldest generation without a pass (only a full
    collection, rare with the CLI's thresholds, looks at them again).
    """
    with collector.paused("age"):
        return compare(items, observations)


def _used_by(
    cluster: ClusterDns, summaries: Sequence[ServiceSummary], *, observed: bool
) -> list[Checked]:
    """``--references``: the checked references that name one of the inspected Services."""
    from hsvc.core.refcheck import check_app_references

    checked, _found = check_app_references(cluster, scope=None, observed=observed)
    inspected = {(s.service.namespace, s.service.name) for s in summaries}
    return [c for c in checked if c.service in inspected]


def _about_service(findings: Sequence[Finding], cluster: ClusterDns, service: str) -> list[Finding]:
    """Keep the findings that concern one Service: itself, or a workload or pod it names or selects.

    Findings about live rows (6xx, and the transport ones from answers) are all kept:
    the rows are the Service's.
    """
    snap = cluster.snapshot
    labels: dict[tuple[str, str, str], tuple[str, Labels]] = {}
    for s in snap.stateful_sets:
        labels[("StatefulSet", s.namespace, s.name)] = (s.service_name, s.template_labels)
    for d in snap.deployments:
        labels[("Deployment", d.namespace, d.name)] = (d.template_subdomain, d.template_labels)
    for p in snap.pods:
        labels[("Pod", p.namespace, p.name)] = (p.subdomain, p.labels)
    kept = []
    for f in findings:
        obj = f.object
        svc = cluster.service(obj.namespace, service)
        entry = labels.get((obj.kind, obj.namespace, obj.name))
        if (
            f.code.startswith("HSVC6")
            or f.code in LIVE_CODES
            or (obj.kind == "Service" and obj.name == service)
        ):
            kept.append(f)
        elif svc is not None and entry is not None:
            subdomain, have = entry
            if subdomain == service or selector_matches(svc.selector, have):
                kept.append(f)
    return kept


def _summaries(cluster: ClusterDns, source: Source, service: str | None) -> list[ServiceSummary]:
    out = []
    for svc in sorted(cluster.services.values(), key=lambda s: (s.namespace, s.name)):
        if source.namespace is not None and svc.namespace != source.namespace:
            continue
        if service is not None and svc.name != service:
            continue
        stses = tuple(cluster.stateful_sets_by_service.get((svc.namespace, svc.name), ()))
        states = tuple(
            EndpointState(
                name=cluster.endpoint_name(ep.hostname, ep.target_ref, ep.addresses[0])
                if ep.addresses
                else ep.hostname,
                addresses=ep.addresses,
                pod=ep.target_ref.name if ep.target_ref is not None else "",
                ready=ep.ready,
                serving=ep.serving,
                terminating=ep.terminating,
                published=conditions.published(ep),
                is_serving=conditions.serving(ep),
                is_terminating=conditions.terminating(ep),
            )
            for sl in cluster.slices.get((svc.namespace, svc.name), [])
            for ep in sl.endpoints
        )
        ready = sum(1 for e in states if e.published)  # rule 2: what CoreDNS publishes
        out.append(
            ServiceSummary(
                service=svc,
                stateful_sets=stses,
                ready=ready,
                not_ready=len(states) - ready,
                serving=sum(1 for e in states if e.is_serving),
                terminating=sum(1 for e in states if e.is_terminating),
                predicted=(svc.namespace, svc.name) in cluster.predicted_slices,
                endpoints=states,
                predicted_pods=tuple(
                    e.pod.name
                    for e in cluster.predicted_endpoints.get((svc.namespace, svc.name), [])
                ),
            )
        )
    return out
