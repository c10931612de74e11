"""JSON and YAML envelopes: the contract scripts parse (docs/reference/output.md).

Every document is ``{"apiVersion": "hsvc/v1alpha1", "kind": ..., ...}`` with keys
sorted. Strings are exact (no escaping beyond JSON's own); renderers for humans
do their own escaping.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from hsvc.core.compare import Row
from hsvc.core.dnspath import ResolverPath
from hsvc.core.model import (
    DnsAnswer,
    DnsSettings,
    Finding,
    ObjectRef,
    Observation,
    Record,
    Transport,
)
from hsvc.core.refuse import describe_use
from hsvc.core.report import (
    EndpointState,
    InspectReport,
    LintReport,
    RecordsReport,
    ResolveReport,
    SearchView,
    Source,
)
from hsvc.core.searchpath import Walk
from hsvc.core.summary import tallies
from hsvc.render.jsonwrite import Lazy, Pieces, pretty_json, write_json
from hsvc.render.rowtext import LongRowError, condition_writer, row_writer

API_VERSION = "hsvc/v1alpha1"


def envelope(kind: str, **data: Any) -> dict[str, Any]:
    """Return the versioned envelope around ``data``."""
    return {"apiVersion": API_VERSION, "kind": kind, **data}


def record(rec: Record) -> dict[str, Any]:
    """A record as the contract has it: name, type, ttl, data."""
    # Owner names as the answer holds them: CoreDNS echoes the question's spelling (rule 10).
    return {"name": rec.name, "type": rec.type, "ttl": rec.ttl, "data": rec.data}


def ref(obj: ObjectRef) -> dict[str, str]:
    """An object reference."""
    return {"kind": obj.kind, "namespace": obj.namespace, "name": obj.name}


def settings(s: DnsSettings) -> dict[str, Any]:
    """The DNS settings used, and where they came from."""
    return {
        "zones": list(s.zones),
        "ttl": s.ttl,
        "pods": s.pods.value,
        "endpointPodNames": s.endpoint_pod_names,
        "namespaces": list(s.namespaces),
        "ignoreEmptyService": s.ignore_empty_service,
        "noendpoints": s.noendpoints,
        "source": s.source,
        # The server whose rules were applied (hsvc.core.flavour); version "" = 1.14.7 assumed.
        "dnsServer": {
            "flavour": s.dns_flavour,
            "version": s.dns_version,
            "versionSource": s.dns_version_source,
        },
    }


def resolver_path(path: ResolverPath | None) -> dict[str, Any] | None:
    """The resolver path found live (None from manifests)."""
    if path is None:
        return None
    return {
        "text": path.text,
        "flavour": path.flavour.value,
        "distribution": path.distribution,
        "version": path.version,
        "versionSource": path.version_source,
        "dnsPort": path.dns_port,
        "serviceTcp53": path.service_tcp_53,
        "layers": [
            {
                "kind": layer.kind,
                "addresses": list(layer.addresses),
                "port": layer.port,
                "replicas": layer.replicas,
                "version": layer.version,
                "cache": layer.cache,
                "object": ref(layer.source) if layer.source is not None else None,
            }
            for layer in path.layers
        ],
        "imports": [name for name, _ in path.imports],
    }


def source(src: Source) -> dict[str, Any]:
    """Where the objects came from, and notes about them."""
    return {
        "origin": src.origin,
        "namespace": src.namespace,
        "notes": list(src.notes),
    }


def expected(answer: DnsAnswer, reason: str = "") -> dict[str, Any]:
    """What cluster DNS must answer."""
    out: dict[str, Any] = {
        "rcode": answer.rcode.value,
        "answer": [record(r) for r in answer.answer],
        "rules": list(answer.rules),
        "explanation": answer.explanation,
        "sources": [ref(p.source) | {"rule": p.rule} for p in answer.provenance],
        "openEnded": answer.open_ended,
        "predicted": list(answer.predicted),
        "uncertain": answer.uncertain,
    }
    if reason:
        out["reason"] = reason
    return out


def observation(obs: Observation) -> dict[str, Any]:
    """What one server answered."""
    return {
        "server": obs.server,
        "rcode": obs.rcode.value,
        "answer": [record(r) for r in obs.answer],
        "tooLarge": obs.too_large,
        "size": obs.size,
        "error": obs.error,
        "elapsedMs": round(obs.elapsed_ms, 2),
        "lowConfidence": obs.low_confidence,
        "transport": transport(obs.transport),
    }


def transport(carried: Transport | None) -> dict[str, Any] | None:
    """UDP with and without EDNS, and TCP, as measured (None: asked by a tool in a pod)."""
    if carried is None:
        return None
    return {
        "ednsSize": carried.edns_size,
        "ednsTruncated": carried.edns_truncated,
        "plainSize": carried.plain_size,
        "plainTruncated": carried.plain_truncated,
        "plainError": carried.plain_error,
        "tcpSize": carried.tcp_size,
        "tcpError": carried.tcp_error,
    }


def row(r: Row, layers: Mapping[str, str] | None = None) -> dict[str, Any]:
    """One inspected question; with ``layers``, each answer names the layer that gave it."""
    layer_of = layers or {}
    return {
        "name": r.name,
        "type": r.type,
        "group": r.group.value,
        "subject": ref(r.subject),
        "expected": expected(r.expected, r.reason),
        "actual": [
            observation(c.observation)
            | {
                "verdict": c.verdict.value,
                "note": c.note,
                "layer": layer_of.get(c.observation.server, ""),
            }
            for c in r.checks
        ],
        "status": r.status.value,
    }


def row_texts(
    rows: Iterable[Row], layers: Mapping[str, str], indent: str
) -> Iterator[str | dict[str, Any]]:
    """Each row's JSON text at ``indent``: what ``row`` gives, written without its dictionary.

    A row with a list of thousands of records (a large Service's A or SRV set) is its
    dictionary instead, which ``write_json`` writes and hands on in pieces as it goes.
    """
    items = list(rows) if not isinstance(rows, Sequence) else rows
    for r, text in zip(items, row_pieces(items, layers, indent), strict=True):
        yield row(r, layers) if isinstance(text, Pieces) else text


def row_pieces(
    rows: Iterable[Row], layers: Mapping[str, str], indent: str
) -> Iterator[str | Pieces | dict[str, Any]]:
    """Each row's JSON text at ``indent``, as ``row_texts`` gives it, long rows in pieces.

    A row with a list of thousands of records is its text in :class:`Pieces` (each
    long list 2,000 items a piece), never held whole.
    """
    writers = row_writer(indent)()
    for r in rows:
        try:
            yield writers.whole(r, layers)
        except LongRowError:
            try:
                yield Pieces(writers.pieces(r, layers))
            except TypeError:  # in a long list: the general writer writes it in pieces
                yield row(r, layers)
        except TypeError:  # a value of a type the row's templates do not know
            yield pretty_json(row(r, layers)).replace("\n", "\n" + indent)


def records_doc(report: RecordsReport) -> dict[str, Any]:
    """``hsvc records -o json``."""
    return envelope(
        "RecordList",
        source=source(report.source),
        settings=settings(report.source.settings),
        records=[
            record(e.record)
            | {
                "group": str(e.group),
                "sources": [ref(p.source) | {"rule": p.rule} for p in e.provenance],
            }
            for e in report.records
        ],
        absent=[
            {
                "name": n.name,
                "type": n.type,
                "group": str(n.group),
                "subject": ref(n.source),
                "rules": list(n.rules),
                "reason": n.reason,
            }
            for n in report.absent
        ],
        predicted=[
            {
                "name": n.name,
                "type": n.type,
                "group": str(n.group),
                "subject": ref(n.source),
                "rules": list(n.rules),
                "predicted": n.reason,
            }
            for n in report.predicted
        ],
    )


def resolve_doc(report: ResolveReport) -> dict[str, Any]:
    """``hsvc resolve -o json``."""
    results = []
    for res in report.results:
        item: dict[str, Any] = {
            "query": {"name": res.query, "type": res.type},
            "answeredBy": res.candidates[res.chosen].name,
            "candidates": [
                {
                    "name": c.name,
                    "rcode": c.expected.rcode.value,
                    "actual": [observation(o) for o in c.observations],
                }
                for c in res.candidates
            ],
            "expected": expected(res.expected),
            "chain": [
                {
                    "check": link.check,
                    "ok": link.ok,
                    "detail": link.detail,
                    "rules": list(link.rules),
                    "fix": link.fix,
                }
                for link in res.chain
            ],
        }
        if res.row is not None:
            item["actual"] = row(res.row)["actual"]
            item["status"] = res.row.status.value
        if res.search is not None:
            item["search"] = search_view(res.search)
        results.append(item)
    return envelope(
        "ResolveResult",
        source=source(report.source),
        settings=settings(report.source.settings),
        path=resolver_path(report.source.path),
        servers=list(report.servers),
        results=results,
        notes=list(report.notes),
    )


def walk(w: Walk, seen: str) -> dict[str, Any]:
    """One libc's walk of the search list (``seen``: expected or actual)."""
    return {
        "libc": w.libc.value,
        "from": seen,
        "steps": [
            {"name": s.name, "outcome": s.outcome.value, "action": s.action.value} for s in w.steps
        ],
        "answeredBy": w.answered,
        "queries": w.queries,
    }


def search_view(view: SearchView) -> dict[str, Any]:
    """How getaddrinfo walks the search list for one name."""
    conf = view.resolv_conf
    gai = view.getaddrinfo
    return {
        "resolvConf": {
            "search": list(conf.search),
            "ndots": conf.ndots,
            "options": list(conf.options),
            "nameservers": [str(n) for n in conf.nameservers],
            "assumed": view.assumed,
        },
        "libc": view.libc,
        "walks": [walk(w, "expected") for w in view.expected]
        + [walk(w, "actual") for w in view.actual],
        "getaddrinfo": None
        if gai is None
        else {
            "tool": gai.tool,
            "ok": gai.ok,
            "canonical": gai.canonical,
            "addresses": list(gai.addresses),
            "error": gai.error,
        },
    }


def finding(f: Finding) -> dict[str, Any]:
    """One finding: code, severity, object, message, hint (docs/reference/findings.md)."""
    return {
        "code": f.code,
        "severity": f.severity.value,
        "object": ref(f.object),
        "message": f.message,
        "hint": f.hint,
    }


def lint_doc(report: LintReport) -> dict[str, Any]:
    """``hsvc lint -o json``: findings, each with the manifest location when known."""
    items = []
    for f in report.findings:
        item = finding(f) | {"rules": list(f.rules)}
        where = report.location_of(f)
        if where is not None:
            item["location"] = {"file": where[0], "line": where[1]}
        if f.site is not None:
            item["field"] = {"object": ref(f.site.object), "path": f.site.field}
        items.append(item)
    counts = {s: sum(1 for f in report.findings if f.severity.value == s) for s in _SEVERITIES}
    summary: dict[str, Any] = counts | {"total": len(report.findings)}
    if report.references is not None:
        summary["references"] = {
            "checked": len(report.references),
            "broken": sum(1 for c in report.references if not c.ok),
        }
    return envelope(
        "LintResult",
        source=source(report.source),
        settings=settings(report.source.settings),
        findings=items,
        summary=summary,
    )


_SEVERITIES = ("error", "warning", "info")


def _used_by(report: InspectReport, namespace: str, name: str) -> dict[str, Any]:
    """``usedBy`` of one inspected Service, present only with ``--references``."""
    if report.used_by is None:
        return {}
    return {
        "usedBy": [
            {
                "by": describe_use(c.reference),
                "object": ref(c.reference.owner),
                "field": c.reference.field,
                "name": c.reference.name,
                "ok": c.ok,
                "rcode": c.answer.rcode.value,
            }
            for c in report.used_by
            if c.service == (namespace, name)
        ]
    }


def endpoint_condition(e: EndpointState) -> dict[str, Any]:
    """One endpoint of an inspected Service, its conditions as the EndpointSlice says."""
    return {
        "name": e.name,
        "addresses": list(e.addresses),
        "pod": e.pod,
        "ready": e.ready,
        "serving": e.serving,
        "terminating": e.terminating,
        "published": e.published,
    }


def _conditions(endpoints: Sequence[EndpointState]) -> Lazy:
    """A Service's ``endpointConditions``, each written from its template (thousands at scale)."""

    def texts(indent: str) -> Iterator[str | dict[str, Any]]:
        condition = condition_writer(indent)
        for e in endpoints:
            try:
                yield condition(e)
            except TypeError:  # a value of a type the template does not know
                yield endpoint_condition(e)

    return Lazy(lambda: [endpoint_condition(e) for e in endpoints], texts)


def inspect_doc(report: InspectReport) -> dict[str, Any]:
    """``hsvc inspect -o json``."""
    return envelope(
        "Inspection",
        source=source(report.source),
        settings=settings(report.source.settings),
        path=resolver_path(report.source.path),
        layers=dict(sorted(report.layers.items())),
        servers=list(report.servers),
        services=[
            {
                "namespace": s.service.namespace,
                "name": s.service.name,
                "type": s.service.type,
                "headless": s.service.is_headless,
                "clusterIPs": list(s.service.cluster_ips),
                "selector": dict(s.service.selector),
                "ports": [
                    {"name": p.name, "protocol": p.protocol, "port": p.port}
                    for p in s.service.ports
                ],
                "publishNotReadyAddresses": s.service.publish_not_ready_addresses,
                "statefulSets": [st.name for st in s.stateful_sets],
                "endpoints": {
                    "ready": s.ready,
                    "notReady": s.not_ready,
                    "serving": s.serving,
                    "terminating": s.terminating,
                    "predicted": s.predicted,
                },
                "predictedPods": list(s.predicted_pods),
                "endpointConditions": _conditions(s.endpoints),
                "checks": t.counts,
                "cause": t.cause,
            }
            | _used_by(report, s.service.namespace, s.service.name)
            for s, t in zip(report.services, tallies(report), strict=True)
        ],
        rows=Lazy(
            lambda: (row(r, report.layers) for r in report.rows),
            lambda indent: row_pieces(report.rows, report.layers, indent),
        ),
        findings=[finding(f) for f in report.findings],
        summary=report.summary,
        notes=list(report.notes),
        disagreements=[
            {
                "server": d.server,
                "rows": list(d.rows),
                "wrong": d.wrong,
                "total": d.total,
                "silent": d.silent,
            }
            for d in report.disagreements
        ],
    )


def dump(doc: dict[str, Any], fmt: str) -> str:
    """Serialise an envelope as JSON or YAML, keys sorted."""
    text = pretty_json(doc) + "\n"
    if fmt == "yaml":
        import yaml  # noqa: TID251

        # Through JSON first, so YAML carries exactly the JSON document's plain types.
        return str(yaml.safe_dump(json.loads(text), sort_keys=True, default_flow_style=False))
    return text


__all__ = [
    "API_VERSION",
    "Lazy",
    "dump",
    "envelope",
    "expected",
    "finding",
    "inspect_doc",
    "lint_doc",
    "observation",
    "pretty_json",
    "record",
    "records_doc",
    "ref",
    "resolve_doc",
    "resolver_path",
    "row",
    "row_pieces",
    "row_texts",
    "search_view",
    "settings",
    "source",
    "transport",
    "walk",
    "write_json",
]
