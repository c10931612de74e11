"""An inspection summed up per Service, and its mismatches grouped by explanation.

For ``-A``, a namespace or many Services the first thing an operator needs is one
line per Service (how many checks passed, what broke) and then only what broke,
each explanation once with the rows it covers. This module works that out from
an :class:`~hsvc.core.report.InspectReport`; it decides nothing about DNS itself:
causes are the report's own findings and the rows' own notes and reasons.
"""

from __future__ import annotations

from collections.abc import Sequence

from hsvc.core.compare import Row, Verdict
from hsvc.core.dataclass import dataclass
from hsvc.core.model import Finding, Severity, selector_matches
from hsvc.core.names import address_from_reverse
from hsvc.core.report import InspectReport

ServiceKey = tuple[str, str]  # (namespace, name)

_SEVERITY_ORDER = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


@dataclass(frozen=True, slots=True, kw_only=True)
class ServiceTally:
    """One Service's line in the summary: its checks by status and the main cause."""

    namespace: str
    name: str
    counts: dict[str, int]  # status -> rows, every status present, plus "total"
    failed: tuple[int, ...]  # indices into the report's rows that are not ok
    cause: str  # the most severe finding about the Service, else the first mismatch's note

    @property
    def ok(self) -> bool:
        """Whether every check of this Service is ok."""
        return not self.failed


@dataclass(frozen=True, slots=True, kw_only=True)
class Explanation:
    """One explanation (status, per-server notes, why) and the rows it covers."""

    status: Verdict
    notes: tuple[str, ...]
    why: str
    rows: tuple[int, ...]  # indices into the report's rows


def service_of_name(name: str, zones: Sequence[str]) -> ServiceKey | None:
    """Return the Service a name under ``<svc>.<ns>.svc.<zone>`` belongs to."""
    for zone in zones:
        if not name.endswith("." + zone):
            continue
        labels = name[: -len(zone) - 1].split(".")
        if len(labels) >= 3 and labels[-1] == "svc":
            return (labels[-2], labels[-3])
    return None


def row_services(report: InspectReport) -> list[ServiceKey | None]:
    """Return, for each row of ``report``, the Service it is about (None: none in scope).

    Names under a Service's domain belong to it; a PTR row to the Service its
    target names; a pod record to the Service that selects the pod (or names it
    as subdomain).
    """
    zones = report.source.settings.forward_zones
    in_scope = {(s.service.namespace, s.service.name) for s in report.services}
    services = [s.service for s in report.services]
    # A pod belongs to the first Service (in the report's order) of its namespace
    # that it names as subdomain or whose selector matches it. Candidates come from
    # two indexes (by name; by the selector's first label, which a matching pod has),
    # so the cost is per pod, not per pod and Service.
    by_name: dict[tuple[str, str], list[int]] = {}
    by_label: dict[tuple[str, str, str], list[int]] = {}
    for position, svc in enumerate(services):
        by_name.setdefault((svc.namespace, svc.name), []).append(position)
        if svc.selector:
            label, value = svc.selector[0]
            by_label.setdefault((svc.namespace, label, value), []).append(position)
    pod_service: dict[tuple[str, str], ServiceKey] = {}
    ip_service: dict[str, ServiceKey] = {}
    for pod in report.source.snapshot.pods:
        ns = pod.namespace
        candidates = [
            *by_name.get((ns, pod.subdomain), ()),
            *(p for k, v in pod.labels for p in by_label.get((ns, k, v), ())),
        ]
        for position in sorted(candidates):
            svc = services[position]
            if pod.subdomain == svc.name or selector_matches(svc.selector, pod.labels):
                owner = (svc.namespace, svc.name)
                pod_service.setdefault((pod.namespace, pod.name), owner)
                for ip in pod.pod_ips:
                    ip_service.setdefault(ip, owner)
                break
    out: list[ServiceKey | None] = []
    key: ServiceKey | None
    for row in report.rows:
        key = service_of_name(row.name, zones)
        if key is None and row.name.endswith(".arpa."):
            targets = [r.data for r in row.expected.answer] or [
                r.data for c in row.checks for r in c.observation.answer
            ]
            for target in targets:
                key = service_of_name(target.lower(), zones)
                if key is not None:
                    break
            if key is None:
                address = address_from_reverse(row.name)
                key = ip_service.get(address or "")
        if key is None and row.subject.kind == "Pod":
            key = pod_service.get((row.subject.namespace, row.subject.name))
        if key is None and ".pod." in row.name:
            key = next(
                (ip_service[r.data] for r in row.expected.answer if r.data in ip_service), None
            )
        out.append(key if key in in_scope else None)
    return out


def _counts(rows: Sequence[Row]) -> dict[str, int]:
    counts = {v.value: 0 for v in Verdict}
    for row in rows:
        counts[row.status.value] += 1
    counts["total"] = len(rows)
    return counts


def _cause(findings: Sequence[Finding], rows: Sequence[Row]) -> str:
    if findings:
        best = min(findings, key=lambda f: _SEVERITY_ORDER[f.severity])
        if best.severity is not Severity.INFO or rows:
            return f"{best.code}: {best.message}"
    for row in rows:
        for check in row.checks:
            if check.verdict is not Verdict.OK and check.note:
                return check.note
        if row.reason:
            return row.reason
    return ""


def tallies(
    report: InspectReport, owners: Sequence[ServiceKey | None] | None = None
) -> list[ServiceTally]:
    """One tally per Service of the report, in its order (rows about no Service are left out).

    ``owners``: :func:`row_services` of the report, when the caller has it already.
    """
    if owners is None:
        owners = row_services(report)
    by_service: dict[ServiceKey, list[int]] = {}
    for i, key in enumerate(owners):
        if key is not None:
            by_service.setdefault(key, []).append(i)
    findings: dict[ServiceKey, list[Finding]] = {}
    for f in report.findings:
        if f.object.kind == "Service":
            findings.setdefault((f.object.namespace, f.object.name), []).append(f)
    out = []
    for s in report.services:
        key = (s.service.namespace, s.service.name)
        indices = by_service.get(key, [])
        rows = [report.rows[i] for i in indices]
        failed = tuple(i for i in indices if report.rows[i].status is not Verdict.OK)
        about = findings.get(key, [])
        out.append(
            ServiceTally(
                namespace=key[0],
                name=key[1],
                counts=_counts(rows),
                failed=failed,
                cause=_cause(about, [report.rows[i] for i in failed]),
            )
        )
    return out


def row_explanation(row: Row, *, multi: bool) -> tuple[tuple[str, ...], str]:
    """The notes (per server when ``multi``) and the why of a row that is not ok."""
    notes = tuple(
        f"{c.observation.server}: {c.note}" if multi else c.note
        for c in row.checks
        if c.verdict is not Verdict.OK and c.note
    )
    return notes, row.reason or row.expected.explanation


def explanations(rows: Sequence[Row], indices: Sequence[int], *, multi: bool) -> list[Explanation]:
    """Group the given rows by identical explanation (the why), in order of first appearance.

    Rows that share a why (every ready endpoint of a Service, one pod that is not
    ready) are one explanation; their notes (what differs) are kept, each once.
    """
    groups: dict[str, list[int]] = {}
    for i in indices:
        _notes, why = row_explanation(rows[i], multi=multi)
        groups.setdefault(why, []).append(i)
    out = []
    for why, members in groups.items():
        notes = tuple(
            dict.fromkeys(n for i in members for n in row_explanation(rows[i], multi=multi)[0])
        )
        statuses = [rows[i].status for i in members]
        worst = min(statuses, key=_STATUS_ORDER.index)
        out.append(Explanation(status=worst, notes=notes, why=why, rows=tuple(members)))
    return out


_STATUS_ORDER = [
    Verdict.WRONG,
    Verdict.MISSING,
    Verdict.UNEXPECTED,
    Verdict.TOO_LARGE,
    Verdict.ERROR,
    Verdict.OK,
]
