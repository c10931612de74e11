"""Rows and findings counted per Service: the unit fleet summaries and monitor metrics use.

A row belongs to the Service its name is under (``NAME.NS.svc.ZONE`` and every
name below it: per-pod names, SRV names); a PTR row to the Service of the name
it points at; pod records (``A-B-C-D.NS.pod.ZONE``) and cluster rows to no
Service (``""``). Keeping the unit a Service, never a pod, bounds the label
cardinality of the monitor's metrics by the number of Services.

The main cause of a Service's mismatches is the engine's own words: a finding
about that Service (a 6xx finding explaining a live answer first), else a
finding about one of the objects behind its failing rows, else the note the
comparison wrote on its most common failure.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import field
from typing import Protocol

from hsvc.core import names
from hsvc.core.compare import Row, Verdict
from hsvc.core.dataclass import dataclass
from hsvc.core.model import DnsAnswer, Finding, ObjectRef, Severity
from hsvc.core.records import Group

STATUSES = tuple(v.value for v in Verdict)


@dataclass(frozen=True, slots=True, kw_only=True)
class ServiceTally:
    """One Service's rows counted by status, and the main cause of those not ok."""

    namespace: str
    service: str  # "" for pod and cluster rows
    counts: dict[str, int] = field(default_factory=dict)
    cause: str = ""

    @property
    def bad(self) -> int:
        """Rows that are not ok."""
        return sum(n for status, n in self.counts.items() if status != Verdict.OK.value)


class Question(Protocol):
    """A row or an expectation: what :func:`service_of` reads."""

    @property
    def group(self) -> Group:
        """The row's group."""
        ...

    @property
    def subject(self) -> ObjectRef:
        """The object the row is about."""
        ...

    @property
    def expected(self) -> DnsAnswer:
        """What cluster DNS must answer."""
        ...


def service_of(row: Question, zones: Sequence[str]) -> tuple[str, str]:
    """Return ``(namespace, service)`` a row (or expectation) belongs to (``""`` when none)."""
    name = row.expected.name
    if row.group is Group.PTR:
        targets = [r.data for r in row.expected.answer if r.type == "PTR"]
        if targets:
            name = targets[0]
        else:
            return row.subject.namespace, _subject_service(row.subject)
    found = service_of_name(name, zones)
    if found is not None:
        return found
    return row.subject.namespace, _subject_service(row.subject)


def service_of_name(name: str, zones: Sequence[str]) -> tuple[str, str] | None:
    """``(namespace, service)`` of a name under ``NS.svc.ZONE`` (``(NS, "")`` under ``NS.pod``)."""
    for zone in zones:
        if not names.is_subdomain(name, zone):
            continue
        labels = names.trim_zone(name, zone)
        if len(labels) >= 3 and labels[-1] == "svc":
            return labels[-2], labels[-3]
        if len(labels) >= 2 and labels[-1] == "pod":
            return labels[-2], ""
    return None


def _subject_service(subject: ObjectRef) -> str:
    return subject.name if subject.kind == "Service" else ""


def tally(
    rows: Iterable[Row], findings: Sequence[Finding], zones: Sequence[str]
) -> list[ServiceTally]:
    """Count rows by status per Service and name the main cause of the failing ones."""
    counts: dict[tuple[str, str], Counter[str]] = {}
    failing: dict[tuple[str, str], list[Row]] = {}
    for row in rows:
        key = service_of(row, zones)
        counts.setdefault(key, Counter())[row.status.value] += 1
        if row.status is not Verdict.OK:
            failing.setdefault(key, []).append(row)
    out = []
    for key in sorted(counts):
        bad = failing.get(key, [])
        out.append(
            ServiceTally(
                namespace=key[0],
                service=key[1],
                counts=dict(sorted(counts[key].items())),
                cause=main_cause(key, bad, findings) if bad else "",
            )
        )
    return out


def main_cause(key: tuple[str, str], bad: Sequence[Row], findings: Sequence[Finding]) -> str:
    """The engine's explanation of why a Service's rows are not ok (see the module doc)."""
    namespace, service = key
    subjects = {(r.subject.kind, r.subject.namespace, r.subject.name) for r in bad}

    def rank(f: Finding) -> tuple[int, int, int]:
        about_service = f.object.kind == "Service" and (f.object.namespace, f.object.name) == key
        about_row = (f.object.kind, f.object.namespace, f.object.name) in subjects
        live = f.code.startswith("HSVC6")
        severity = {Severity.ERROR: 0, Severity.WARNING: 1}.get(f.severity, 2)
        return (0 if live else 1, 0 if about_service else 1 if about_row else 2, severity)

    related = [
        f
        for f in findings
        if (f.object.kind == "Service" and (f.object.namespace, f.object.name) == key)
        or (f.object.kind, f.object.namespace, f.object.name) in subjects
        or (service == "" and f.object.namespace == namespace and f.code.startswith("HSVC6"))
    ]
    if related:
        best = min(related, key=rank)
        return f"{best.code}: {best.message}"
    notes = Counter(
        f"{row.status.value}: {check.note}"
        for row in bad
        for check in row.checks
        if check.verdict is not Verdict.OK and check.note
    )
    if notes:
        return notes.most_common(1)[0][0]
    return f"{bad[0].status.value}: {bad[0].name} {bad[0].type}"


def lint_tally(findings: Iterable[Finding]) -> list[ServiceTally]:
    """Findings counted by severity per object (``Kind/name``), the first error as the cause."""
    counts: dict[tuple[str, str], Counter[str]] = {}
    causes: dict[tuple[str, str], list[Finding]] = {}
    for f in findings:
        key = (f.object.namespace, f"{f.object.kind}/{f.object.name}")
        counts.setdefault(key, Counter())[f.severity.value] += 1
        causes.setdefault(key, []).append(f)
    order = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}
    out = []
    for key in sorted(counts):
        first = min(causes[key], key=lambda f: order.get(f.severity, 3))
        out.append(
            ServiceTally(
                namespace=key[0],
                service=key[1],
                counts=dict(sorted(counts[key].items())),
                cause=f"{first.code}: {first.message}",
            )
        )
    return out


def records_tally(
    records: Iterable[tuple[str, str]], absent: Iterable[tuple[str, str]], zones: Sequence[str]
) -> list[ServiceTally]:
    """Records and names that must not resolve, counted per Service (``(name, PTR target)``)."""
    counts: dict[tuple[str, str], Counter[str]] = {}
    for what, items in (("records", records), ("absent", absent)):
        for name, target in items:
            key = service_of_name(target or name, zones) or ("", "")
            counts.setdefault(key, Counter())[what] += 1
    return [
        ServiceTally(namespace=k[0], service=k[1], counts=dict(sorted(counts[k].items())))
        for k in sorted(counts)
    ]
