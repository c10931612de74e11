"""JSON and YAML envelopes: the contract scripts parse (docs/reference/output.md).

Every document is ``{"apiVersion": "hsvc/v1alpha1", "kind": ..., ...}`` with keys
sorted. Strings are exact (no escaping beyond JSON's own); renderers for humans
do their own escaping.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from hsvc.commands import InspectReport, RecordsReport, ResolveReport, Source
from hsvc.core.compare import Row
from hsvc.core.model import DnsAnswer, DnsSettings, ObjectRef, Observation, Record

API_VERSION = "hsvc/v1alpha1"


def envelope(kind: str, **data: Any) -> dict[str, Any]:
    """Return the versioned envelope around ``data``."""
    return {"apiVersion": API_VERSION, "kind": kind, **data}


def record(rec: Record) -> dict[str, Any]:
    """A record as the contract has it: name, type, ttl, data."""
    return {"name": rec.name.lower(), "type": rec.type, "ttl": rec.ttl, "data": rec.data}


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
    }


def row(r: Row) -> dict[str, Any]:
    """One inspected question."""
    return {
        "name": r.name,
        "type": r.type,
        "group": r.group.value,
        "subject": ref(r.subject),
        "expected": expected(r.expected, r.reason),
        "actual": [
            observation(c.observation) | {"verdict": c.verdict.value, "note": c.note}
            for c in r.checks
        ],
        "status": r.status.value,
    }


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
        results.append(item)
    return envelope(
        "ResolveResult",
        source=source(report.source),
        settings=settings(report.source.settings),
        servers=list(report.servers),
        results=results,
    )


def inspect_doc(report: InspectReport, findings: Sequence[dict[str, Any]] = ()) -> dict[str, Any]:
    """``hsvc inspect -o json``."""
    return envelope(
        "Inspection",
        source=source(report.source),
        settings=settings(report.source.settings),
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
                "endpoints": {"ready": s.ready, "notReady": s.not_ready},
            }
            for s in report.services
        ],
        rows=[row(r) for r in report.rows],
        findings=list(findings),
        summary=report.summary,
    )


def dump(doc: dict[str, Any], fmt: str) -> str:
    """Serialise an envelope as JSON or YAML, keys sorted."""
    text = json.dumps(doc, indent=2, sort_keys=True) + "\n"
    if fmt == "yaml":
        import yaml

        # Through JSON first, so YAML carries exactly the JSON document's plain types.
        return str(yaml.safe_dump(json.loads(text), sort_keys=True, default_flow_style=False))
    return text
