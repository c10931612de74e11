"""SARIF 2.1.0 for ``hsvc lint -o sarif``, the format code-scanning services read.

One run, one tool (``hsvc``) whose rules are the finding codes of
:data:`hsvc.core.diagnose.CHECKS`; one result per finding. A result points at the
manifest file and line of its object when the objects came from files: the key
the finding is about (``spec.serviceName``, line and column) when it has one, the
line of the value that holds the name for a reference finding, and
always names the object as a logical location (``Service/ms/eureka``), so live
findings are valid SARIF too. Keys are those the schema requires plus a few
optional ones that GitHub code scanning shows.
"""

from __future__ import annotations

from pathlib import PurePath
from typing import Any
from urllib.parse import quote

from hsvc.core.diagnose import CHECKS
from hsvc.core.model import Finding, ObjectRef, Severity
from hsvc.core.report import LintReport

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
# SARIF has no "info" level; "note" is its lowest.
LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
# Relative manifest paths are relative to where hsvc ran: the checkout in CI.
SRCROOT = "%SRCROOT%"


def sarif_doc(report: LintReport, version: str) -> dict[str, Any]:
    """Return the SARIF log of a lint report."""
    codes = sorted(CHECKS)
    index = {code: i for i, code in enumerate(codes)}
    rules = [_rule(code) for code in codes]
    results = [_result(f, index[f.code], report.position_of(f)) for f in report.findings]
    return {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [
            {
                "tool": {"driver": {"name": "hsvc", "version": version, "rules": rules}},
                "results": results,
            }
        ],
    }


def _rule(code: str) -> dict[str, Any]:
    check = CHECKS[code]
    anchor = code.lower()
    return {
        "id": code,
        "name": "".join(word[:1].upper() + word[1:] for word in check.title.split()),
        "shortDescription": {"text": check.title},
        "help": {
            "text": f"{check.title}. See docs/reference/findings.md#{anchor}",
            "markdown": f"{check.title}. See [findings.md](docs/reference/findings.md#{anchor})",
        },
        "defaultConfiguration": {"level": LEVELS[check.severity]},
        "properties": {"tags": ["kubernetes", "dns"], "rules": list(check.rules)},
    }


def _result(
    f: Finding, rule_index: int, where: tuple[str, int, int | None] | None
) -> dict[str, Any]:
    location: dict[str, Any] = {"logicalLocations": [_logical(f.object)]}
    if where is not None and where[0] != "<stdin>":
        region: dict[str, int] = {"startLine": max(1, where[1])}
        if where[2] is not None:
            region["startColumn"] = where[2]
        location["physicalLocation"] = {"artifactLocation": _artifact(where[0]), "region": region}
    return {
        "ruleId": f.code,
        "ruleIndex": rule_index,
        "level": LEVELS[f.severity],
        "message": {"text": f"{f.message}. Fix: {f.hint}."},
        "locations": [location],
        "partialFingerprints": {"hsvcObject/v1": _fingerprint(f)},
        "properties": {"object": _qualified(f.object), "hint": f.hint}
        | ({"field": f.site.field} if f.site is not None else {}),
    }


def _fingerprint(f: Finding) -> str:
    # Several names in one workload give several results: the field and the line tell them apart.
    base = f"{f.code}:{_qualified(f.object)}"
    return base if f.site is None else f"{base}:{f.site.field}:{f.site.line}"


def _artifact(path: str) -> dict[str, str]:
    pure = PurePath(path)
    if pure.is_absolute():
        return {"uri": "file://" + quote(pure.as_posix())}
    return {"uri": quote(pure.as_posix()), "uriBaseId": SRCROOT}


def _qualified(obj: ObjectRef) -> str:
    return "/".join(part for part in (obj.kind, obj.namespace, obj.name) if part)


def _logical(obj: ObjectRef) -> dict[str, str]:
    return {"name": obj.name, "fullyQualifiedName": _qualified(obj), "kind": "object"}
