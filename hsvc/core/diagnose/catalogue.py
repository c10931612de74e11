"""What each finding code means (docs/reference/findings.md): severity, title, rules."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from hsvc.core import transport
from hsvc.core.dataclass import dataclass
from hsvc.core.model import Finding, ObjectRef, Severity
from hsvc.core.refuse import REFERENCE_CHECKS
from hsvc.core.text import listed


@dataclass(frozen=True, slots=True, kw_only=True)
class Check:
    """What one finding code means: its severity, a title and the rules behind it."""

    code: str
    severity: Severity
    title: str
    rules: tuple[str, ...]


_E, _W, _I = Severity.ERROR, Severity.WARNING, Severity.INFO

CHECKS: dict[str, Check] = {
    c.code: c
    for c in (
        # 1xx StatefulSet and its governing Service
        Check(code="HSVC101", severity=_W, title="StatefulSet has no serviceName", rules=("R23",)),
        Check(
            code="HSVC102", severity=_E, title="serviceName names no Service", rules=("R22", "R23")
        ),
        Check(
            code="HSVC103",
            severity=_E,
            title="serviceName names a Service in another namespace only",
            rules=("R4", "R23"),
        ),
        Check(
            code="HSVC104",
            severity=_W,
            title="governing Service is not headless",
            rules=("R15", "R23"),
        ),
        Check(
            code="HSVC105",
            severity=_E,
            title="governing Service is an ExternalName Service",
            rules=("R25",),
        ),
        Check(
            code="HSVC106",
            severity=_E,
            title="governing Service does not select the pod template",
            rules=("R22", "R23"),
        ),
        Check(
            code="HSVC107",
            severity=_I,
            title="other headless Services select the same pods",
            rules=("R6", "R23"),
        ),
        # 2xx selection, endpoints, readiness
        Check(code="HSVC201", severity=_W, title="selector matches no pod", rules=("R3",)),
        Check(
            code="HSVC202", severity=_W, title="Service has no EndpointSlice", rules=("R1", "R16")
        ),
        Check(
            code="HSVC203",
            severity=_W,
            title="Service without selector has no hand-written EndpointSlice",
            rules=("R1", "R16"),
        ),
        Check(
            code="HSVC204",
            severity=_I,
            title="selected pods are not ready, so their names are absent",
            rules=("R2", "R3", "R22"),
        ),
        Check(
            code="HSVC205",
            severity=_W,
            title="OrderedReady StatefulSet waits on a pod whose peers cannot resolve",
            rules=("R3", "R16", "R22"),
        ),
        # 3xx ports
        Check(
            code="HSVC301", severity=_I, title="unnamed Service port", rules=("R13", "R14", "R18")
        ),
        Check(code="HSVC302", severity=_E, title="invalid Service port name", rules=("R13",)),
        Check(
            code="HSVC303",
            severity=_W,
            title="hand-written EndpointSlice ports lack names",
            rules=("R5", "R18"),
        ),
        Check(
            code="HSVC304",
            severity=_I,
            title="headless SRV records carry the target port",
            rules=("R5", "R18"),
        ),
        # 4xx names and hostnames
        Check(code="HSVC401", severity=_E, title="invalid hostname or subdomain", rules=("R4",)),
        Check(code="HSVC402", severity=_E, title="per-pod name too long", rules=("R21", "R22")),
        Check(code="HSVC403", severity=_W, title="subdomain names no Service", rules=("R4", "R23")),
        Check(
            code="HSVC404",
            severity=_W,
            title="several ready pods share one hostname",
            rules=("R17", "R23"),
        ),
        Check(
            code="HSVC405",
            severity=_W,
            title="Deployment template sets a hostname",
            rules=("R17", "R21"),
        ),
        Check(
            code="HSVC406",
            severity=_W,
            title="subdomain without hostname: no per-pod names",
            rules=("R4", "R6"),
        ),
        Check(
            code="HSVC407",
            severity=_I,
            title="hand-written EndpointSlice endpoints lack hostnames",
            rules=("R6",),
        ),
        Check(code="HSVC408", severity=_E, title="externalName is an IP address", rules=("R26",)),
        # 5xx settings and cluster domain
        Check(
            code="HSVC501",
            severity=_W,
            title="hard-coded name in another cluster domain",
            rules=("R9",),
        ),
        Check(
            code="HSVC502",
            severity=_W,
            title="hard-coded pod name while pod records are disabled",
            rules=("R28",),
        ),
        Check(
            code="HSVC503",
            severity=_W,
            title="hostNetwork pod does not use cluster DNS",
            rules=(),
        ),
        Check(
            code="HSVC504",
            severity=_W,
            title="ignore empty_service hides a Service",
            rules=("R40",),
        ),
        Check(
            code="HSVC505", severity=_E, title="noendpoints hides headless Services", rules=("R41",)
        ),
        Check(
            code="HSVC507",
            severity=_W,
            title="names that only CoreDNS serves (portability)",
            rules=("R15", "R36"),
        ),
        Check(
            code="HSVC508",
            severity=_I,
            title="hard-coded cluster domain (portability)",
            rules=("R9",),
        ),
        Check(
            code="HSVC506",
            severity=_W,
            title="namespace not exposed by the Corefile",
            rules=("R8",),
        ),
        # 8xx resolver path and transport (hsvc.core.transport)
        *(
            Check(code=code, severity=sev, title=title, rules=rules)
            for code, (sev, title, rules) in transport.CHECKS.items()
        ),
        # 6xx live DNS
        Check(
            code="HSVC601",
            severity=_I,
            title="NXDOMAIN still cached after the pod became ready",
            rules=("R44",),
        ),
        Check(code="HSVC602", severity=_W, title="DNS servers disagree", rules=("R43",)),
        Check(
            code="HSVC603",
            severity=_W,
            title="answer holds an address no current pod has",
            rules=("R2", "R43"),
        ),
    )
}

# 7xx the names apps use (hsvc.core.refcheck, ``hsvc lint --references``).
CHECKS.update(
    (code, Check(code=code, severity=severity, title=title, rules=rules))
    for code, severity, title, rules in REFERENCE_CHECKS
)

SEVERITY_ORDER = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}

# A StatefulSet's name plus "-" and a 10-character hash is the pods'
# controller-revision-hash label value, which must fit 63 characters
# (kubernetes/kubernetes#64023): longer names never get pods.
MAX_STATEFULSET_NAME = 52
# Slices follow a pod's readiness within about a second; allow some slack.
PROPAGATION_S = 5
SVC_NAME = re.compile(r"(?:[a-z0-9_](?:[a-z0-9_-]*[a-z0-9])?\.)+(svc|pod)\.([a-z0-9.-]+)")


_SERVICE_NAME = ("spec", "serviceName")
_TEMPLATE = ("spec", "template", "spec")

# The field of its object a finding is about, by code and object kind: SARIF and lint's
# locations point at that key (or, when the manifest lacks it, at the deepest part of its
# path there is), not at the start of the document.
FIELDS: dict[tuple[str, str], tuple[str, ...]] = {
    **{
        (code, "StatefulSet"): _SERVICE_NAME
        for code in ("HSVC101", "HSVC102", "HSVC103", "HSVC104", "HSVC105", "HSVC106")
    },
    ("HSVC107", "StatefulSet"): _SERVICE_NAME,
    ("HSVC507", "StatefulSet"): _SERVICE_NAME,
    ("HSVC205", "StatefulSet"): ("spec", "podManagementPolicy"),
    ("HSVC402", "StatefulSet"): ("metadata", "name"),
    ("HSVC402", "Pod"): ("spec", "hostname"),
    ("HSVC201", "Service"): ("spec", "selector"),
    ("HSVC202", "Service"): ("spec", "selector"),
    ("HSVC203", "Service"): ("spec", "selector"),
    ("HSVC204", "Service"): ("spec", "publishNotReadyAddresses"),
    ("HSVC301", "Service"): ("spec", "ports"),
    ("HSVC302", "Service"): ("spec", "ports"),
    ("HSVC304", "Service"): ("spec", "ports"),
    ("HSVC408", "Service"): ("spec", "externalName"),
    ("HSVC401", "Pod"): ("spec", "hostname"),
    ("HSVC403", "Pod"): ("spec", "subdomain"),
    ("HSVC404", "Pod"): ("spec", "hostname"),
    ("HSVC405", "Deployment"): (*_TEMPLATE, "hostname"),
    ("HSVC406", "Pod"): ("spec", "subdomain"),
    ("HSVC406", "Deployment"): (*_TEMPLATE, "subdomain"),
    ("HSVC503", "Pod"): ("spec", "hostNetwork"),
}


def finding(code: str, obj: ObjectRef, message: str, hint: str) -> Finding:
    """Return a finding of ``code`` with its catalogued severity, rules and field."""
    check = CHECKS[code]
    return Finding(
        code=code,
        severity=check.severity,
        object=obj,
        message=message,
        hint=hint,
        rules=check.rules,
        field=FIELDS.get((code, obj.kind), ()),
    )


def labels_text(labels: Iterable[tuple[str, str]]) -> str:
    """Say a label map as a selector (``app=web,tier=db``)."""
    return ",".join(f"{k}={v}" for k, v in labels) or "(none)"


def few(items: Sequence[str], limit: int = 5) -> str:
    """Say the first few items and how many more there are."""
    return listed(items, limit)
