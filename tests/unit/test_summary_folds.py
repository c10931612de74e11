"""The summary view folds until it fits a screen; it skips folds that cannot fit."""

from __future__ import annotations

import io

import pytest

from hsvc.core.model import DnsSettings, Finding, ObjectRef, Severity, Snapshot
from hsvc.core.report import InspectReport, Source
from hsvc.core.summary import row_services, tallies
from hsvc.render import summary
from hsvc.terminal import Environment


def _report(warnings: int, infos: int = 0) -> InspectReport:
    def finding(n: int, severity: Severity) -> Finding:
        return Finding(
            code="HSVC803",
            severity=severity,
            object=ObjectRef(kind="Service", namespace="ns", name=f"app-{n}"),
            message=f"app-{n}.ns.svc.cluster.local. SRV only works over TCP " * 3,
            hint="open TCP 53 to the DNS pods, or keep the answer under 512 bytes",
            rules=("R43",),
        )

    source = Source(snapshot=Snapshot(), settings=DnsSettings(), origin="test", namespace="ns")
    findings = [finding(n, Severity.WARNING) for n in range(warnings)]
    findings += [finding(n, Severity.INFO) for n in range(infos)]
    return InspectReport(source=source, services=[], rows=[], servers=(), findings=findings)


def _printed(report: InspectReport, fold: int | None = None) -> str:
    out = io.StringIO()
    console = Environment(stdout=out, width=80, colors=False).console(no_color=True)
    if fold is None:
        summary.inspect_summary(console, report, wide=False)
    else:
        owners = row_services(report)
        counted = tallies(report, owners)
        kwargs = {"wide": False, "headers": True, "services": True, "fold": fold}
        summary._summary(console, report, counted, owners, **kwargs)
    return out.getvalue()


@pytest.mark.parametrize("warnings", [summary.SCREEN_LINES, 3 * summary.SCREEN_LINES])
def test_findings_that_overflow_every_fold_give_the_last_fold_at_once(warnings):
    report = _report(warnings, infos=2)  # info findings are not in the view
    folds = [_printed(report, fold) for fold in range(summary._FOLDS + 1)]
    # The bound the view relies on: no fold prints fewer lines than the findings and the
    # summary line, so none fits and the folding would end at the last fold anyway.
    assert all(text.count("\n") >= warnings + 1 > summary.SCREEN_LINES for text in folds)
    assert _printed(report) == folds[-1]


def test_a_view_that_fits_is_the_first_fold_that_fits():
    report = _report(3)
    folds = [_printed(report, fold) for fold in range(summary._FOLDS + 1)]
    fits = [text for text in folds if text.count("\n") <= summary.SCREEN_LINES]
    assert _printed(report) == fits[0]
    assert fits[0] != folds[-1]  # the first fold fits here: folding stopped early
