"""An inspection summed up per Service, and its mismatches grouped by explanation.

For ``-A``, a namespace or many Services the first thing an operator needs is one
line per Service (how many checks passed, what broke) and then only what broke,
each explanation once with the rows it covers. This module works that out from
an :class:`~hsvc.core.report.InspectReport`; it decides nothing about DNS itself:
causes are the report's own findings and the rows' own notes and reasons.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from operator import attrgetter

from hsvc.core.compare import Row, Verdict
from hsvc.core.dataclass import dataclass
from hsvc.core.model import Finding, Pod, Service, Severity, selector_matches
from hsvc.core.names import address_from_reverse
from hsvc.core.report import InspectReport

ServiceKey = tuple[str, str]  # (namespace, name)

_STATUS = attrgetter("status")
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
    return _name_owner(zones)(name)


def _name_owner(zones: Sequence[str]) -> Callable[[str], ServiceKey | None]:
    """:func:`service_of_name` for ``zones``, the zones' suffixes made once."""
    tails = [("." + zone, len(zone) + 1) for zone in zones]

    def owner(name: str) -> ServiceKey | None:
        for tail, cut in tails:
            # The labels before the zone end in "svc" and hold two more before it
            # (the name split at its dots, without the list of every label).
            if name.endswith(tail) and name.endswith(".svc", 0, len(name) - cut):
                end = len(name) - cut - 4  # where ".svc" starts
                dot = name.rfind(".", 0, end)
                if dot >= 0:
                    return (name[dot + 1 : end], name[name.rfind(".", 0, dot) + 1 : dot])
        return None

    return owner


def _pod_owners(
    services: Sequence[Service], pods: Sequence[Pod]
) -> tuple[dict[tuple[str, str], ServiceKey], dict[str, ServiceKey]]:
    """The Service each pod belongs to, by (namespace, name) and by address.

    A pod belongs to the first Service (in the report's order) of its namespace
    that it names as subdomain or whose selector matches it. Candidates come from
    two indexes (by name; by the selector's first label, which a matching pod has),
    so the cost is per pod, not per pod and Service.
    """
    by_name: dict[tuple[str, str], list[int]] = {}
    by_label: dict[str, dict[tuple[str, str], list[int]]] = {}  # namespace -> label -> Services
    for position, svc in enumerate(services):
        by_name.setdefault((svc.namespace, svc.name), []).append(position)
        if svc.selector:
            by_label.setdefault(svc.namespace, {}).setdefault(svc.selector[0], []).append(position)
    pod_service: dict[tuple[str, str], ServiceKey] = {}
    ip_service: dict[str, ServiceKey] = {}
    nothing: dict[tuple[str, str], list[int]] = {}
    for pod in pods:
        ns = pod.namespace
        labelled = by_label.get(ns, nothing)
        candidates = [
            *by_name.get((ns, pod.subdomain), ()),
            *(p for label in pod.labels for p in labelled.get(label, ())),
        ]
        for position in sorted(candidates) if len(candidates) > 1 else candidates:
            svc = services[position]
            # A candidate not named by the pod has its selector's first label: a
            # selector of one label matches.
            if (
                pod.subdomain == svc.name
                or len(svc.selector) == 1
                or selector_matches(svc.selector, pod.labels)
            ):
                owner = (svc.namespace, svc.name)
                pod_service.setdefault((pod.namespace, pod.name), owner)
                for ip in pod.pod_ips:
                    ip_service.setdefault(ip, owner)
                break
    return pod_service, ip_service


def row_services(report: InspectReport) -> list[ServiceKey | None]:
    """Return, for each row of ``report``, the Service it is about (None: none in scope).

    Names under a Service's domain belong to it; a PTR row to the Service its
    target names; a pod record to the Service that selects the pod (or names it
    as subdomain).
    """
    of_name = _name_owner(report.source.settings.forward_zones)
    in_scope = {(s.service.namespace, s.service.name) for s in report.services}
    pod_service, ip_service = _pod_owners(
        [s.service for s in report.services], report.source.snapshot.pods
    )
    out: list[ServiceKey | None] = []
    key: ServiceKey | None
    for row in report.rows:
        expected = row.expected
        name = expected.name
        # A name under a Service's domain holds ".svc." before its zone: one without it
        # (a pod record, a PTR name) needs no look-up.
        key = of_name(name) if ".svc." in name else None
        if key is None and name.endswith(".arpa."):
            targets = [r.data for r in expected.answer] or [
                r.data for c in row.checks for r in c.observation.answer
            ]
            for target in targets:
                key = of_name(target.lower())
                if key is not None:
                    break
            if key is None:
                address = address_from_reverse(name)
                key = ip_service.get(address or "")
        if key is None and row.subject.kind == "Pod":
            key = pod_service.get((row.subject.namespace, row.subject.name))
        if key is None and ".pod." in name:
            key = next((ip_service[r.data] for r in expected.answer if r.data in ip_service), None)
        out.append(key if key in in_scope else None)
    return out


def _counts(rows: Sequence[Row]) -> dict[str, int]:
    # By the statuses themselves: a Verdict hashes and compares as its value does.
    counted = Counter(map(_STATUS, rows))
    counts = {v.value: counted.get(v, 0) for v in Verdict}
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
    row_at, ok = report.rows.__getitem__, Verdict.OK
    for s in report.services:
        key = (s.service.namespace, s.service.name)
        indices = by_service.get(key, [])
        rows = list(map(row_at, indices))
        failed = tuple(i for i, row in zip(indices, rows, strict=True) if row.status is not ok)
        about = findings.get(key, [])
        out.append(
            ServiceTally(
                namespace=key[0],
                name=key[1],
                counts=_counts(rows),
                failed=failed,
                cause=_cause(about, list(map(row_at, failed))),
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
