"""What the reference checks say: their codes, a checked reference, who uses a name.

The HSVC7xx codes with their severity and rules (merged into the findings
catalogue), :class:`Checked` (one reference and what cluster DNS answers for it,
as :mod:`hsvc.core.refcheck` decides), how a use is said (``deploy/api env
KAFKA_BOOTSTRAP``) and the governing-Service findings reweighed by who uses
per-pod names. Renderers read this module, not the checker.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import replace

from hsvc.core.dataclass import dataclass
from hsvc.core.model import DnsAnswer, Finding, Severity
from hsvc.core.references import RefClass, Reference, short_kind

__all__ = [
    "GOVERNING_CODES",
    "REFERENCE_CHECKS",
    "RULES",
    "SEVERITY",
    "Checked",
    "describe_use",
    "reweigh_governing",
    "uses_of",
]

# (code, severity, title, rules): merged into hsvc.core.diagnose.CHECKS.
REFERENCE_CHECKS: tuple[tuple[str, Severity, str, tuple[str, ...]], ...] = (
    ("HSVC701", Severity.ERROR, "referenced name does not exist", ("R9", "R23", "R44")),
    ("HSVC702", Severity.ERROR, "referenced name has no address", ("R16", "R44", "R46")),
    ("HSVC703", Severity.ERROR, "referenced port is not served", ("R5", "R14", "R18")),
    (
        "HSVC704",
        Severity.ERROR,
        "referenced pod is beyond the StatefulSet's replicas",
        ("R21", "R22"),
    ),
    ("HSVC705", Severity.WARNING, "referenced pod is not ready", ("R2", "R3", "R22")),
    ("HSVC706", Severity.ERROR, "referenced name hard-codes another zone", ("R9",)),
    ("HSVC707", Severity.WARNING, "referenced name works with CoreDNS only", ("R15", "R29")),
    ("HSVC708", Severity.WARNING, "probe host is resolved by kubelet, not in the pod", ()),
    ("HSVC709", Severity.INFO, "name behind a Secret key not checked", ()),
    ("HSVC710", Severity.WARNING, "short name matches nothing in the cluster", ("R9", "R23")),
)
SEVERITY = {code: sev for code, sev, _t, _r in REFERENCE_CHECKS}
RULES = {code: rules for code, _s, _t, rules in REFERENCE_CHECKS}

# Governing-Service findings that --references reweighs (dns-records.md rules 22, 23).
GOVERNING_CODES = frozenset({"HSVC101", "HSVC102", "HSVC103", "HSVC104", "HSVC105", "HSVC106"})


@dataclass(frozen=True, slots=True, kw_only=True)
class Checked:
    """One reference, the name it means and what cluster DNS answers for it."""

    reference: Reference
    meant: str  # the absolute name the reference means (the one explained)
    answer: DnsAnswer  # the engine's A answer for ``meant`` (or the name that answered)
    answered: str | None  # the search-list candidate that answered (glibc), None if none
    service: tuple[str, str] | None  # (namespace, Service) the name points at
    stateful_set: tuple[str, str] | None  # (namespace, StatefulSet) when it names one of its pods
    ok: bool


def describe_use(ref: Reference) -> str:
    """Say who uses a name, kubectl style: ``deploy/api env KAFKA_BOOTSTRAP``."""
    who = f"{short_kind(ref.owner.kind)}/{ref.owner.name}"
    if ref.cls in (RefClass.ENV, RefClass.ENV_FROM) and ref.key:
        return f"{who} env {ref.key}"
    if ref.cls in (RefClass.CONFIG_MAP, RefClass.SECRET) and not ref.container:
        return f"{who} data[{ref.key}]"
    if ref.cls is RefClass.SECRET:
        return f"{who} env {ref.key}"
    labels = {
        RefClass.ARGS: "args",
        RefClass.COMMAND: "command",
        RefClass.PROBE: "probe host",
        RefClass.INGRESS: "backend",
        RefClass.HTTPROUTE: "backendRef",
        RefClass.EXTERNAL_NAME: "externalName",
    }
    return f"{who} {labels.get(ref.cls, ref.cls.value)}"


def uses_of(checked: Iterable[Checked], namespace: str, service: str) -> list[Checked]:
    """Return the checked references that point at one Service (itself or its pods)."""
    return [c for c in checked if c.service == (namespace, service)]


def reweigh_governing(findings: Sequence[Finding], checked: Sequence[Checked]) -> list[Finding]:
    """Make governing-Service findings errors only where someone uses per-pod names.

    A StatefulSet whose governing Service is missing or wrong breaks only the
    per-pod names (dns-records.md rules 22, 23): when no reference names one of
    its pods, the finding is a warning; when one does, an error naming the user.
    """
    users: dict[tuple[str, str], list[Reference]] = defaultdict(list)
    for c in checked:
        if c.stateful_set is not None:
            users[c.stateful_set].append(c.reference)
    out = []
    for f in findings:
        if f.code not in GOVERNING_CODES or f.object.kind != "StatefulSet":
            out.append(f)
            continue
        who = users.get((f.object.namespace, f.object.name), [])
        if not who:
            out.append(replace(f, severity=Severity.WARNING))
            continue
        shown = ", ".join(dict.fromkeys(f"{describe_use(r)} ({r.name})" for r in who[:3]))
        more = f" and {len(who) - 3} more" if len(who) > 3 else ""
        out.append(
            replace(
                f,
                severity=Severity.ERROR,
                message=f"{f.message}; per-pod names are used by {shown}{more}",
            )
        )
    return out
