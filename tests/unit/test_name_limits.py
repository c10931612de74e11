"""Names at the edges: the root zone, names over 253 characters, escaped labels."""

from __future__ import annotations

import json
from pathlib import Path

from hsvc.errors import ExitCode

WEB = """\
apiVersion: v1
kind: Service
metadata: {name: web, namespace: ms}
spec: {clusterIP: 10.0.0.14, ports: [{name: http, port: 80}]}
"""
ROOT_COREFILE = """\
.:53 {
    kubernetes . {
        pods insecure
    }
}
"""


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_root_zone_gives_the_service_rows_and_ptr_without_an_empty_label(run, tmp_path) -> None:
    corefile = write(tmp_path, "Corefile", ROOT_COREFILE)
    manifest = write(tmp_path, "m.yaml", WEB)
    result = run("records", "-n", "ms", "-f", manifest, "--offline", "--corefile", corefile)
    assert result.code == ExitCode.OK, result.err
    result = run(
        "records", "-n", "ms", "-f", manifest, "--offline", "--corefile", corefile, "-o", "json"
    )
    records = {(r["name"], r["type"]): r["data"] for r in json.loads(result.out)["records"]}
    assert records[("web.ms.svc.", "A")] == "10.0.0.14"
    assert records[("web.ms.svc.", "SRV")] == "0 100 80 web.ms.svc."
    assert records[("14.0.0.10.in-addr.arpa.", "PTR")] == "web.ms.svc."
    assert not any(".." in f"{name} {data}" for (name, _), data in records.items())
    resolved = run(
        "resolve", "web.ms.svc.", "-n", "ms", "-f", manifest, "--offline",
        "--corefile", corefile, "-o", "json",
    )  # fmt: skip
    (row,) = json.loads(resolved.out)["results"]
    assert [r["data"] for r in row["expected"]["answer"]] == ["10.0.0.14"]


LONG_NS = "n" * 63
LONG_SVC = "s" * 63
LONG_HOST = "h" * 63
ZONE = "z" * 50 + ".example"  # the endpoint name: 254 characters
LONG = f"""\
apiVersion: v1
kind: Service
metadata: {{name: {LONG_SVC}, namespace: {LONG_NS}}}
spec: {{clusterIP: None, ports: [{{name: http, port: 80}}]}}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: long-1
  namespace: {LONG_NS}
  labels: {{kubernetes.io/service-name: {LONG_SVC}}}
addressType: IPv4
ports: [{{name: http, port: 80}}]
endpoints:
- addresses: [10.1.0.1]
  hostname: {LONG_HOST}
"""


def test_names_over_253_characters_never_become_records_and_lint_says_so(run, tmp_path) -> None:
    manifest = write(tmp_path, "long.yaml", LONG)
    target = f"{LONG_HOST}.{LONG_SVC}.{LONG_NS}.svc.{ZONE}."
    assert len(target.rstrip(".")) > 253
    result = run(
        "records", "-n", LONG_NS, "-f", manifest, "--offline",
        "--cluster-domain", ZONE, "-o", "json",
    )  # fmt: skip
    assert result.code == ExitCode.OK, result.err
    doc = json.loads(result.out)
    for rec in doc["records"]:
        assert len(rec["name"].rstrip(".")) <= 253, rec
        assert target not in rec["data"], rec  # neither SRV target nor PTR data
    assert any(r["type"] == "A" for r in doc["records"])  # the Service name still answers
    lint = run("lint", "-f", manifest, "--cluster-domain", ZONE, "-o", "json")
    assert lint.code == ExitCode.MISMATCH, lint.out + lint.err
    found = [f for f in json.loads(lint.out)["findings"] if f["code"] == "HSVC402"]
    assert len(found) == 1 and target in found[0]["message"], found
