"""Findings: every misconfiguration that changes what cluster DNS answers, and why a row failed.

:func:`diagnose` reads the objects (a :class:`~hsvc.core.cluster.ClusterDns` over a
Snapshot and the DNS settings) and, after a live comparison, the compared rows. Each
finding has a stable code (documented in docs/reference/findings.md), grouped by theme:

- 1xx StatefulSets and their governing Service (dns-records.md rules 21-23)
- 2xx selection, EndpointSlices and readiness (rules 1-3, 16)
- 3xx ports and SRV names (rules 5, 13, 14, 18)
- 4xx names and hostnames (rules 4, 6, 17, 24-26)
- 5xx DNS settings and the cluster domain (rules 8, 9, 28, 40, 41)
- 6xx live DNS answers (rules 43, 44)
- 7xx names apps use, checked by :mod:`hsvc.core.refcheck` (``--references``)

``observed`` says whether the snapshot is the cluster's state (API) rather than
manifests meant for it: only observed snapshots are expected to hold
EndpointSlices written by the controller, so checks about missing slices run only then.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from hsvc.core.cluster import ClusterDns
from hsvc.core.compare import Row
from hsvc.core.diagnose.catalogue import CHECKS, MAX_STATEFULSET_NAME, SEVERITY_ORDER, Check
from hsvc.core.diagnose.live import _LiveChecks
from hsvc.core.diagnose.pods import _PodChecks
from hsvc.core.diagnose.services import _ServiceChecks
from hsvc.core.diagnose.settings import _SettingsChecks
from hsvc.core.diagnose.workloads import _WorkloadChecks
from hsvc.core.dnspath import ResolverPath
from hsvc.core.model import Finding, Severity


class _Diagnosis(_WorkloadChecks, _ServiceChecks, _PodChecks, _SettingsChecks, _LiveChecks):
    """Every family of checks over one engine's indexes."""


def diagnose(
    cluster: ClusterDns,
    *,
    namespace: str | None = None,
    rows: Sequence[Row] = (),
    observed: bool = False,
    now: datetime | None = None,
    path: ResolverPath | None = None,
    layers: Mapping[str, str] | None = None,
) -> list[Finding]:
    """Return the findings about the objects in scope and, when live, about the rows.

    Args:
        cluster: The answer engine over the snapshot and DNS settings.
        namespace: Only objects in this namespace; None for every namespace.
        rows: Compared rows of a live run (6xx findings come from them).
        observed: The snapshot is the cluster's state, not manifests.
        now: The time of the live run (timezone-aware), for the negative-cache window.
        path: The resolver path found live (the DNS Service, its pods' port), for 8xx.
        layers: Server label -> the layer it stands for ("node-local on node n1"),
            to name the layer that holds a stale answer (HSVC806).

    Returns:
        Findings, errors first, then by code and object.
    """
    d = _Diagnosis(cluster, namespace, observed)
    d.stateful_sets()
    d.services()
    d.templates()
    d.pods()
    d.shared_hostnames()
    d.settings_checks()
    d.transport(path)
    if rows:
        d.live(rows, now)
        d.live_transport(rows, layers or {})
    return sort_findings(d.found)


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Return findings without repeats, errors first, then by code, object and message."""
    return sorted(
        dict.fromkeys(findings),
        key=lambda f: (SEVERITY_ORDER[f.severity], f.code, str(f.object), f.message),
    )


def has_errors(findings: Iterable[Finding]) -> bool:
    """Return whether any finding is an error (``hsvc lint`` exits 1 then)."""
    return any(f.severity is Severity.ERROR for f in findings)


__all__ = ["CHECKS", "MAX_STATEFULSET_NAME", "Check", "diagnose", "has_errors", "sort_findings"]
