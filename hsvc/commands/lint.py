"""``hsvc lint``: misconfigurations that break cluster DNS names, found without asking DNS."""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import replace

from hsvc.commands.options import Options
from hsvc.commands.source import Api, engine, load_source
from hsvc.core.diagnose import diagnose, sort_findings
from hsvc.core.refcheck import check_app_references, reweigh_governing
from hsvc.core.report import LintReport
from hsvc.errors import NotFoundError


def run_lint(opts: Options) -> LintReport:
    """Check objects for misconfigurations that break cluster DNS names, without asking DNS.

    With ``-f`` every object in the files is checked (``-n`` narrows it to one
    namespace); live, the namespace in scope (or ``-A``). With ``--references``
    every name the workloads, ConfigMaps, routes and ExternalName Services use is
    checked too (HSVC7xx), and governing-Service findings are errors only for
    StatefulSets whose per-pod names someone uses.

    Raises:
        HsvcError: from the source (see :func:`~hsvc.commands.source.load_source`).
    """
    with ExitStack() as stack:
        source = load_source(opts, Api(opts, stack), with_deployments=True)
    cluster = engine(source)
    scope = source.namespace
    if opts.files and not opts.namespace:
        scope = None  # a CI check reads every object it is given
    elif scope is not None and scope not in cluster.namespaces and not opts.files:
        raise NotFoundError(f'namespace "{scope}" not found ({source.origin})')
    findings = diagnose(cluster, namespace=scope, observed=not opts.files, path=source.path)
    if not opts.references:
        return LintReport(source=replace(source, namespace=scope), findings=findings)
    checked, found = check_app_references(cluster, scope=scope, observed=not opts.files)
    # The reference findings name these hard-coded names with their field (HSVC706, HSVC701).
    kept = [f for f in findings if f.code not in _SUPERSEDED]
    merged = sort_findings([*reweigh_governing(kept, checked), *found])
    return LintReport(source=replace(source, namespace=scope), findings=merged, references=checked)


_SUPERSEDED = frozenset({"HSVC501", "HSVC502"})
