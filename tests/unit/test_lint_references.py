"""``hsvc lint --references``: rendered charts on stdin, value lines in JSON and SARIF, Secrets never shown."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import pytest

from hsvc.errors import ExitCode

DATA = Path(__file__).resolve().parent.parent / "data"
REFS = DATA / "references"
HELM = REFS / "helm-rendered.yaml"
KAFKA = REFS / "kafka.yaml"
PASSWORD = "Sup3rS3cretPassw0rd"  # inside the Secret of helm-rendered.yaml


def line_of(path: Path, text: str) -> int:
    """The 1-based line of the first line holding ``text``."""
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if text in line:
            return number
    raise AssertionError(text)


@pytest.fixture
def stdin(monkeypatch: pytest.MonkeyPatch):
    def feed(text: str) -> None:
        monkeypatch.setattr("sys.stdin", io.StringIO(text))

    return feed


def test_helm_stream_on_stdin_with_a_custom_zone(run, stdin) -> None:
    stdin(HELM.read_text())
    result = run("lint", "-f", "-", "--references", "--cluster-domain", "k8s.corp", "-o", "json")
    assert result.code == ExitCode.MISMATCH, result.err
    doc = result.json()
    found = sorted((f["code"], f["location"]["line"]) for f in doc["findings"])
    assert found == [
        ("HSVC706", line_of(HELM, "REDIS_URL:")),
        ("HSVC706", line_of(HELM, "hosts: http://search-0")),
        ("HSVC706", line_of(HELM, "hosts: http://search-0")),
        ("HSVC709", line_of(HELM, "- name: DATABASE_URL")),
    ]
    assert all(f["location"]["file"] == "<stdin>" for f in doc["findings"])
    redis = next(f for f in doc["findings"] if "REDIS_URL" in f["message"])
    # The message names the workload's field, "field" where the value is written.
    assert redis["message"].startswith(
        "deploy/api container api "
        "spec.template.spec.containers[0].envFrom[0](ConfigMap shop-config)[REDIS_URL]: "
    )
    assert redis["field"] == {
        "object": {"kind": "ConfigMap", "namespace": "shop", "name": "shop-config"},
        "path": "data[REDIS_URL]",
    }
    assert redis["hint"].startswith("did you mean redis-master.shop.svc?")
    # The file-like key is checked as the ConfigMap's file, its comment line skipped.
    search = next(f for f in doc["findings"] if "search-0" in f["message"])
    assert search["object"] == {"kind": "ConfigMap", "namespace": "shop", "name": "shop-config"}
    assert not any("shop-search" in f["message"] for f in doc["findings"])
    assert doc["summary"]["references"] == {"checked": 5, "broken": 3}


def test_same_stream_on_the_default_zone_has_only_the_secret_note(run, stdin) -> None:
    stdin(HELM.read_text())
    result = run("lint", "-f", "-", "--references", "-o", "json")
    assert result.code == ExitCode.OK, result.out
    assert [f["code"] for f in result.json()["findings"]] == ["HSVC709"]


def test_sarif_points_at_the_line_of_the_value(run, tmp_path: Path) -> None:
    result = run("lint", "-f", str(KAFKA), "--references", "-o", "sarif")
    assert result.code == ExitCode.MISMATCH
    sarif = result.json()
    results = sarif["runs"][0]["results"]
    lines = {
        r["properties"]["field"]: r["locations"][0]["physicalLocation"]["region"]["startLine"]
        for r in results
    }
    assert lines == {
        "spec.template.spec.containers[0].env[KAFKA_BOOTSTRAP]": line_of(
            KAFKA, "value: kafka-0.kafka.data.svc:9092"
        ),
        "spec.template.spec.containers[0].env[KAFKA_ZOOKEEPER_CONNECT]": line_of(
            KAFKA, "zk-0.zk-hs:2181"
        ),
        "spec.template.spec.containers[0].env[ZOO_SERVERS]": line_of(KAFKA, "server.1="),
    }
    rules = {r["id"] for r in sarif["runs"][0]["tool"]["driver"]["rules"]}
    assert {"HSVC701", "HSVC704", "HSVC710"} <= rules
    # Two findings of one code on one workload stay two results.
    assert len({r["partialFingerprints"]["hsvcObject/v1"] for r in results}) == len(results)


def test_sarif_line_inside_a_configmap_file(run, tmp_path: Path) -> None:
    path = tmp_path / "cm.yaml"
    path.write_text(
        (REFS / "base.yaml").read_text()
        + """---
apiVersion: v1
kind: ConfigMap
metadata: {name: app, namespace: shop}
data:
  application.properties: |
    # jdbc:mysql://mysql.nowhere.svc:3306/x in a comment is not read
    server.port=8080

    spring.datasource.url=jdbc:mysql://mysql.default.svc:3306/shop
"""
    )
    result = run("lint", "-f", str(path), "--references", "-o", "sarif")
    (only,) = [r for r in result.json()["runs"][0]["results"] if r["ruleId"].startswith("HSVC7")]
    region = only["locations"][0]["physicalLocation"]["region"]
    assert region["startLine"] == line_of(path, "spring.datasource.url")
    assert only["ruleId"] == "HSVC701" and "did you mean mysql.data.svc" in only["message"]["text"]


@pytest.mark.parametrize("output", ["json", "yaml", "table", "wide", "sarif"])
@pytest.mark.parametrize("include", [False, True], ids=["keys-only", "include-secrets"])
def test_secret_value_never_appears_even_with_debug(run, stdin, output: str, include: bool) -> None:
    stdin(HELM.read_text())
    args = ["lint", "-f", "-", "--references", "--debug", "-o", output]
    result = run(*args, *(["--include-secrets"] if include else []))
    assert result.code in (ExitCode.OK, ExitCode.MISMATCH), result.err
    encoded = base64.b64encode(PASSWORD.encode()).decode()
    for text in (result.out, result.err):
        assert PASSWORD not in text and encoded[:16] not in text
        assert "Sup3r" not in text
    # Keys only: not even the host in the Secret is shown; with the flag, the host is checked.
    assert ("pg-primary.db.svc" in result.out) is include


def test_include_secrets_needs_references(run) -> None:
    result = run("lint", "-f", str(KAFKA), "--include-secrets")
    assert result.code == ExitCode.USAGE
    assert result.err.strip() == "hsvc: error: --include-secrets needs --references"


def test_without_references_nothing_changes(run) -> None:
    result = run("lint", "-f", str(KAFKA), "-o", "json")
    assert result.code == ExitCode.OK
    assert result.json()["findings"] == []
    assert "references" not in result.json()["summary"]


def test_governing_service_error_only_where_per_pod_names_are_used(run, tmp_path: Path) -> None:
    sts = """\
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: cache, namespace: data}
spec:
  serviceName: cache-hs
  replicas: 2
  selector: {matchLabels: {app: cache}}
  template:
    metadata: {labels: {app: cache}}
    spec:
      containers:
        - name: c
          image: c
          env: [{name: PEERS, value: "%s"}]
"""
    quiet = tmp_path / "quiet.yaml"
    quiet.write_text(sts % "")
    plain = run("lint", "-f", str(quiet), "-o", "json")
    assert plain.code == ExitCode.MISMATCH  # without --references HSVC102 is an error
    softened = run("lint", "-f", str(quiet), "--references", "-o", "json")
    assert softened.code == ExitCode.OK
    assert [(f["code"], f["severity"]) for f in softened.json()["findings"]] == [
        ("HSVC102", "warning")
    ]
    used = tmp_path / "used.yaml"
    used.write_text(sts % "cache-0.cache-hs:7000,cache-1.cache-hs:7000")
    strict = run("lint", "-f", str(used), "--references", "-o", "json")
    assert strict.code == ExitCode.MISMATCH
    governing = next(f for f in strict.json()["findings"] if f["code"] == "HSVC102")
    assert governing["severity"] == "error"
    assert "used by sts/cache env PEERS (cache-0.cache-hs)" in governing["message"]


def test_table_names_the_value_line(run) -> None:
    result = run("lint", "-f", str(KAFKA), "--references", "--no-color", width=250)
    assert result.code == ExitCode.MISMATCH
    for value in ("value: kafka-0.kafka.data.svc:9092", "zk-0.zk-hs:2181", "server.1="):
        assert f"kafka.yaml:{line_of(KAFKA, value)}" in result.out
