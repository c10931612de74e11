"""The JSON envelope is a contract (docs/reference/output.md): pin its keys."""

from __future__ import annotations

from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "data"
SEED = str(DATA / "seed" / "ms.yaml")

RECORD_KEYS = {"name", "type", "ttl", "data"}
EXPECTED_KEYS = {
    "rcode",
    "answer",
    "rules",
    "explanation",
    "sources",
    "openEnded",
    "predicted",
    "uncertain",
}
SETTINGS_KEYS = {
    "zones",
    "ttl",
    "pods",
    "endpointPodNames",
    "namespaces",
    "ignoreEmptyService",
    "noendpoints",
    "source",
    "dnsServer",
}


def test_records_envelope(run) -> None:
    doc = run("records", "-n", "ms", "-f", SEED, "--offline", "-o", "json").json()
    assert set(doc) == {
        "apiVersion",
        "kind",
        "source",
        "settings",
        "records",
        "absent",
        "predicted",
    }
    assert doc["apiVersion"] == "hsvc/v1alpha1" and doc["kind"] == "RecordList"
    assert set(doc["settings"]) == SETTINGS_KEYS
    assert set(doc["source"]) == {"origin", "namespace", "notes"}
    for rec in doc["records"]:
        assert set(rec) == RECORD_KEYS | {"group", "sources"}
        assert rec["name"] == rec["name"].lower() and rec["name"].endswith(".")
        assert rec["group"] in {"service", "endpoint", "srv", "ptr", "pod", "cluster"}
    for absent in doc["absent"]:
        assert set(absent) == {"name", "type", "group", "subject", "rules", "reason"}
    txt = [r for r in doc["records"] if r["type"] == "TXT"]
    assert txt and txt[0]["data"] == '"1.1.0"' and txt[0]["ttl"] == 28800


def test_resolve_envelope(run) -> None:
    doc = run("resolve", "eureka", "nope", "-n", "ms", "-f", SEED, "--offline", "-o", "json").json()
    assert set(doc) == {
        "apiVersion",
        "kind",
        "source",
        "settings",
        "path",
        "servers",
        "results",
        "notes",
    }
    assert doc["path"] is None  # from manifests: no resolver path
    assert doc["kind"] == "ResolveResult"
    found, missing = doc["results"]
    assert set(found) == {"query", "answeredBy", "candidates", "expected", "chain", "search"}
    assert set(found["search"]) == {"resolvConf", "libc", "walks", "getaddrinfo"}
    assert set(found["search"]["resolvConf"]) == {
        "search",
        "ndots",
        "options",
        "nameservers",
        "assumed",
    }
    for walk in found["search"]["walks"]:
        assert set(walk) == {"libc", "from", "steps", "answeredBy", "queries"}
        assert all(set(s) == {"name", "outcome", "action"} for s in walk["steps"])
    assert set(found["expected"]) == EXPECTED_KEYS
    assert set(found["query"]) == {"name", "type"}
    assert all(set(r) == RECORD_KEYS for r in found["expected"]["answer"])
    assert missing["expected"]["rcode"] in ("NXDOMAIN", "REFUSED")


def test_yaml_carries_the_same_document(run) -> None:
    import yaml

    as_json = run("records", "gateway", "-n", "ms", "-f", SEED, "--offline", "-o", "json").json()
    as_yaml = yaml.safe_load(
        run("records", "gateway", "-n", "ms", "-f", SEED, "--offline", "-o", "yaml").out
    )
    assert as_yaml == as_json
