"""``hsvc inspect`` explains mismatching answers with findings (6xx), against real knotd."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hsvc.errors import ExitCode
from tests.integration.seed_zone import CLUSTER_ROWS, REVERSE_ROWS, replace, seed_zones

pytestmark = pytest.mark.integration

DATA = Path(__file__).resolve().parent.parent / "data"
SEED = str(DATA / "seed" / "ms.yaml")
EUREKA_1 = "eureka-1.eureka.ms.svc.cluster.local."


def inspect(run, *servers, manifest: str = SEED, output: str = "json"):
    args = ["inspect", "eureka", "-n", "ms", "-f", manifest, "--timeout", "0.5", "-o", output]
    for server in servers:
        args += ["--nameserver", f"127.0.0.1:{server.port}"]
    return run(*args)


def codes(doc) -> dict[str, dict]:
    return {f["code"]: f for f in doc["findings"]}


def test_all_ok_has_no_findings(run, make_knot) -> None:
    doc = inspect(run, make_knot(seed_zones())).json()
    assert doc["findings"] == []


def test_stale_address_and_disagreeing_servers(run, make_knot) -> None:
    good = make_knot(seed_zones())
    stale = make_knot(seed_zones(replace(CLUSTER_ROWS, "10.244.2.45", "10.244.2.99")))
    result = inspect(run, good, stale)
    assert result.code == ExitCode.MISMATCH
    found = codes(result.json())
    assert set(found) == {"HSVC602", "HSVC603"}
    assert found["HSVC603"]["severity"] == "warning"
    assert "10.244.2.99" in found["HSVC603"]["message"]
    assert f"127.0.0.1:{stale.port}" in found["HSVC603"]["message"]
    assert set(found["HSVC602"]) == {"code", "severity", "object", "message", "hint"}


def test_nxdomain_right_after_readiness_says_when_to_retry(run, make_knot, tmp_path: Path) -> None:
    since = (datetime.now(UTC) - timedelta(seconds=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    text = Path(SEED).read_text()
    ready = "  - type: Ready\n    status: 'True'\n"
    eureka_1 = text.index("name: eureka-1\n")
    at = text.index(ready, eureka_1)
    stamped = ready + f"    lastTransitionTime: '{since}'\n"
    manifest = tmp_path / "ms.yaml"
    manifest.write_text(text[:at] + stamped + text[at + len(ready) :])
    # The server has not caught up yet: no per-pod name for eureka-1.
    rows = [r for r in CLUSTER_ROWS if not r[0].startswith("eureka-1.")]
    result = inspect(run, make_knot(seed_zones(rows, REVERSE_ROWS)), manifest=str(manifest))
    assert result.code == ExitCode.MISMATCH
    (finding,) = [f for f in result.json()["findings"] if f["code"] == "HSVC601"]
    assert finding["object"] == {"kind": "Pod", "namespace": "ms", "name": "eureka-1"}
    assert EUREKA_1 in finding["message"] and finding["hint"].startswith("retry in")


def test_table_lists_findings_under_the_rows(run, make_knot, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "120")
    stale = make_knot(seed_zones(replace(CLUSTER_ROWS, "10.244.2.45", "10.244.2.99")))
    result = inspect(run, stale, output="table")
    assert result.code == ExitCode.MISMATCH
    out = result.out
    assert "Findings" in out and "HSVC603" in out
    assert out.index("HSVC603") > out.index("eureka-1.eureka.ms.svc")
