"""``hsvc lint -f``: exit codes, the JSON/YAML document, SARIF 2.1.0, the table; inspect's findings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hsvc.core.diagnose import CHECKS
from hsvc.core.model import DnsSettings, Finding, ObjectRef, Severity, Snapshot
from hsvc.core.report import InspectReport, Source
from hsvc.errors import ExitCode
from hsvc.render.data import inspect_doc

DATA = Path(__file__).resolve().parent.parent / "data"
LINT = DATA / "lint"
CLEAN, ERRORS, WARNINGS = (str(LINT / f"{n}.yaml") for n in ("clean", "errors", "warnings"))
FINDING_KEYS = {"code", "severity", "object", "message", "hint"}


def lint_json(run, *args: str):
    result = run("lint", *args, "-o", "json")
    return result, result.json()


def test_clean_manifests_exit_0_with_no_findings(run) -> None:
    result, doc = lint_json(run, "-f", CLEAN)
    assert result.code == ExitCode.OK, result.err
    assert doc["apiVersion"] == "hsvc/v1alpha1" and doc["kind"] == "LintResult"
    assert doc["findings"] == []
    assert doc["summary"] == {"error": 0, "warning": 0, "info": 0, "total": 0}


def test_errors_exit_1_and_point_at_file_and_line(run) -> None:
    result, doc = lint_json(run, "-f", ERRORS)
    assert result.code == ExitCode.MISMATCH
    by_code = {f["code"]: f for f in doc["findings"]}
    assert set(by_code) == {"HSVC102", "HSVC302", "HSVC408"}
    assert by_code["HSVC102"]["object"] == {
        "kind": "StatefulSet",
        "namespace": "shop",
        "name": "kafka",
    }
    assert by_code["HSVC102"]["location"] == {"file": ERRORS, "line": 2}
    assert by_code["HSVC302"]["location"]["line"] == 22
    assert "'kafka'" in by_code["HSVC102"]["hint"]  # the headless Service that selects the pods
    for f in doc["findings"]:
        assert set(f) == FINDING_KEYS | {"rules", "location"}
        assert f["severity"] == "error" and f["rules"] == list(CHECKS[f["code"]].rules)
    assert doc["summary"]["error"] == 3


def test_warnings_only_exit_0(run) -> None:
    result, doc = lint_json(run, "-f", WARNINGS)
    assert result.code == ExitCode.OK
    assert {(f["code"], f["severity"]) for f in doc["findings"]} == {
        ("HSVC405", "warning"),
        ("HSVC301", "info"),
        ("HSVC508", "info"),  # the hard-coded db-0.db.shop.svc.cluster.local
    }


def test_cluster_domain_flag_reveals_hard_coded_names(run) -> None:
    result, doc = lint_json(run, "-f", WARNINGS, "--cluster-domain", "corp.internal")
    assert result.code == ExitCode.OK
    (f,) = [f for f in doc["findings"] if f["code"] == "HSVC501"]
    assert "cache.shop.svc.cluster.local" in f["message"] and "corp.internal" in f["message"]


def test_folder_and_namespace_scope(run, tmp_path: Path) -> None:
    result, doc = lint_json(run, "-f", str(LINT))
    assert result.code == ExitCode.MISMATCH
    assert {f["object"]["namespace"] for f in doc["findings"]} == {"shop"}
    assert doc["source"]["namespace"] is None  # -f without -n: every object in the files
    other = tmp_path / "other.yaml"
    other.write_text(Path(ERRORS).read_text().replace("namespace: shop", "namespace: other"))
    result, doc = lint_json(run, "-f", WARNINGS, "-f", str(other), "-n", "shop")
    assert result.code == ExitCode.OK  # the errors are in namespace other
    assert {f["object"]["namespace"] for f in doc["findings"]} == {"shop"}


def test_yaml_is_the_same_document(run) -> None:
    import yaml

    as_json = run("lint", "-f", ERRORS, "-o", "json").json()
    as_yaml = yaml.safe_load(run("lint", "-f", ERRORS, "-o", "yaml").out)
    assert as_yaml == as_json


def test_sarif_shape(run) -> None:
    result = run("lint", "-f", ERRORS, "-f", WARNINGS, "-o", "sarif")
    assert result.code == ExitCode.MISMATCH
    log = json.loads(result.out)
    # Required by the SARIF 2.1.0 schema: version and runs; run.tool.driver.name;
    # result.message.text; rule.id. GitHub also reads level, locations, ruleIndex.
    assert log["version"] == "2.1.0" and log["$schema"].endswith("sarif-2.1.0.json")
    (run_,) = log["runs"]
    driver = run_["tool"]["driver"]
    assert driver["name"] == "hsvc" and driver["version"]
    ids = [r["id"] for r in driver["rules"]]
    assert ids == sorted(CHECKS)
    for rule in driver["rules"]:
        assert rule["shortDescription"]["text"] and rule["help"]["text"]
        assert rule["defaultConfiguration"]["level"] in ("error", "warning", "note")
    levels = {r["ruleId"]: r["level"] for r in run_["results"]}
    assert levels == {
        "HSVC102": "error",
        "HSVC302": "error",
        "HSVC408": "error",
        "HSVC405": "warning",
        "HSVC301": "note",
        "HSVC508": "note",
    }
    for res in run_["results"]:
        assert ids[res["ruleIndex"]] == res["ruleId"]
        assert res["message"]["text"].strip()
        (loc,) = res["locations"]
        physical = loc["physicalLocation"]
        assert physical["artifactLocation"]["uri"].endswith(("errors.yaml", "warnings.yaml"))
        assert physical["region"]["startLine"] >= 1
        assert loc["logicalLocations"][0]["fullyQualifiedName"].count("/") == 2
        assert res["partialFingerprints"]


def test_sarif_uris_are_relative_to_the_checkout(run, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(DATA.parent.parent)
    log = json.loads(run("lint", "-f", "tests/data/lint/errors.yaml", "-o", "sarif").out)
    artifact = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert artifact == {"uri": "tests/data/lint/errors.yaml", "uriBaseId": "%SRCROOT%"}


def test_sarif_without_findings_is_still_a_valid_log(run) -> None:
    result = run("lint", "-f", CLEAN, "-o", "sarif")
    assert result.code == ExitCode.OK
    (run_,) = json.loads(result.out)["runs"]
    assert run_["results"] == [] and run_["tool"]["driver"]["rules"]


def test_table_at_80_columns(run) -> None:
    result = run("lint", "-f", ERRORS, "--no-color", width=80)
    assert result.code == ExitCode.MISMATCH
    assert all(len(line) <= 80 for line in result.out.splitlines())
    for fragment in ("HSVC102", "HSVC302", "HSVC408", "fix:", "3 errors"):
        assert fragment in result.out
    assert "\x1b[" not in result.out
    wide = run("lint", "-f", ERRORS, "--no-color", "-o", "wide", width=250)
    assert f"{ERRORS}:2" in wide.out and "R22, R23" in wide.out


def test_table_clean_says_so(run) -> None:
    result = run("lint", "-f", CLEAN, "--no-color")
    assert result.code == ExitCode.OK and "no findings" in result.out


def test_hostile_strings_stay_inert_in_the_table(run, tmp_path: Path) -> None:
    path = tmp_path / "evil.yaml"
    path.write_text(
        "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: ms}\n"
        'spec: {selector: {app: "[red]x\\u001b]8;;http://evil\\u0007"}, ports: [{name: http, port: 80}]}\n'
    )
    result = run("lint", "-f", str(path), "--no-color")
    assert "\x1b]8" not in result.out and "\\x1b" in result.out and "[red]x" in result.out


@pytest.mark.parametrize(
    ("args", "code", "fragment"),
    [
        (
            ["-f", str(DATA / "broken" / "bad-yaml.yaml")],
            ExitCode.BAD_MANIFEST,
            "bad-yaml.yaml:10:3",
        ),
        (["--offline"], ExitCode.USAGE, "-f"),
        (["-f", CLEAN, "-o", "html"], ExitCode.USAGE, "html"),
    ],
    ids=["bad-manifest", "offline-without-files", "bad-output"],
)
def test_lint_errors(run, args, code, fragment) -> None:
    result = run("lint", *args)
    assert result.code == code
    assert fragment in result.err and result.out == ""


def test_lint_has_help_and_sarif_in_it(run) -> None:
    result = run("lint", "--help")
    # The codes are explained by the installed package, not by a docs path a pip install lacks.
    assert result.code == 0 and "sarif" in result.out and "hsvc explain CODE" in result.out


# --- inspect carries findings ----------------------------------------------------------------------


def test_inspect_doc_carries_the_report_findings() -> None:
    finding = Finding(
        code="HSVC204",
        severity=Severity.INFO,
        object=ObjectRef(kind="Service", namespace="ms", name="eureka"),
        message="1 of 3 pods selected by Service ms/eureka are not ready",
        hint="wait",
        rules=("R3",),
    )
    source = Source(snapshot=Snapshot(), settings=DnsSettings(), origin="test", namespace="ms")
    report = InspectReport(source=source, services=[], rows=[], servers=(), findings=[finding])
    (doc,) = inspect_doc(report)["findings"]
    assert doc == {
        "code": "HSVC204",
        "severity": "info",
        "object": {"kind": "Service", "namespace": "ms", "name": "eureka"},
        "message": "1 of 3 pods selected by Service ms/eureka are not ready",
        "hint": "wait",
    }


def _key_position(path: str, key: str, after: str = "") -> tuple[int, int]:
    """1-based line and column of ``key:`` in a file (the first after the line ``after``)."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if after in line) if after else 0
    for number, line in enumerate(lines[start:], start=start + 1):
        column = line.find(key + ":")
        if column >= 0 and not line[:column].strip(" -"):
            return number, column + 1
    raise AssertionError(key)


def test_sarif_points_at_the_key_the_finding_is_about(run) -> None:
    log = json.loads(run("lint", "-f", ERRORS, "-f", WARNINGS, "-o", "sarif").out)
    regions = {
        r["ruleId"]: r["locations"][0]["physicalLocation"]["region"]
        for r in log["runs"][0]["results"]
    }
    # HSVC102 is about the StatefulSet's spec.serviceName: that key, not the document start.
    line, column = _key_position(ERRORS, "serviceName")
    assert regions["HSVC102"] == {"startLine": line, "startColumn": column}
    # An invalid port name: the Service's spec.ports.
    line, column = _key_position(ERRORS, "ports", after="name: kafka")
    assert regions["HSVC302"] == {"startLine": line, "startColumn": column}
    line, column = _key_position(ERRORS, "externalName")
    assert regions["HSVC408"] == {"startLine": line, "startColumn": column}
    # The JSON location stays the document's start (the documented contract).
    doc = run("lint", "-f", ERRORS, "-o", "json").json()
    by_code = {f["code"]: f for f in doc["findings"]}
    assert by_code["HSVC102"]["location"] == {"file": ERRORS, "line": 2}


def test_sarif_points_at_the_nearest_key_a_manifest_has(run, tmp_path: Path) -> None:
    path = tmp_path / "sts.yaml"
    path.write_text(
        "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: db\n  namespace: shop\n"
        "spec:\n  replicas: 1\n  selector:\n    matchLabels: {app: db}\n"
        "  template:\n    metadata:\n      labels: {app: db}\n"
        "    spec:\n      containers: [{name: db, image: db}]\n",
        encoding="utf-8",
    )
    log = json.loads(run("lint", "-f", str(path), "-o", "sarif").out)
    results = {r["ruleId"]: r for r in log["runs"][0]["results"]}
    # No serviceName at all (HSVC101): the spec that lacks it.
    region = results["HSVC101"]["locations"][0]["physicalLocation"]["region"]
    assert region == {"startLine": 6, "startColumn": 1}
