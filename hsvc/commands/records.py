"""``hsvc records``: the records cluster DNS serves, and the names it must not."""

from __future__ import annotations

from contextlib import ExitStack

from hsvc.commands.options import Options
from hsvc.commands.source import Api, load_source, plan
from hsvc.core.records import expected_records, negative_expectations, predicted_expectations
from hsvc.core.report import RecordsReport


def run_records(opts: Options, service: str | None) -> RecordsReport:
    """Return the records cluster DNS serves for a Service, a namespace or everything.

    Raises:
        HsvcError: from the source (see :func:`~hsvc.commands.source.load_source`) or the scope.
    """
    with ExitStack() as stack:
        source = load_source(opts, Api(opts, stack), service=service)
    _cluster, items = plan(source, service)
    return RecordsReport(
        source=source,
        records=expected_records(items),
        absent=negative_expectations(items),
        predicted=predicted_expectations(items),
    )
