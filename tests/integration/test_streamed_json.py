"""``-o json`` is written in pieces as it is made: the same bytes as the whole document at once."""

from __future__ import annotations

import json
from pathlib import Path

from hsvc.commands.inspect import run_inspect
from hsvc.commands.options import Options
from hsvc.render import data
from tests.integration.seed_zone import stale_eureka1_zones

SEED = str(Path(__file__).resolve().parent.parent / "data" / "seed" / "ms.yaml")


def _materialised(value: object) -> object:
    """The document with every lazy list made a list (what the writer must write)."""
    if isinstance(value, dict):
        return {k: _materialised(v) for k, v in value.items()}
    if isinstance(value, list | tuple | data.Lazy):
        return [_materialised(v) for v in value]
    return value


def test_streamed_inspect_is_byte_for_byte_the_whole_document(make_knot) -> None:
    server = make_knot(stale_eureka1_zones())  # a wrong row, so every part of a row is there
    opts = Options(
        files=(SEED,), namespace="ms", nameservers=(f"127.0.0.1:{server.port}",), timeout=0.5
    )
    report = run_inspect(opts, None)
    doc = data.inspect_doc(report)
    assert isinstance(doc["rows"], data.Lazy)  # rows are made while written
    whole = json.dumps(_materialised(doc), indent=2, sort_keys=True)
    pieces: list[str] = []
    data.write_json(doc, pieces.append, batch=8)
    assert len(pieces) > 1  # written in several pieces, not at once
    assert "".join(pieces) == whole
    assert {r["status"] for r in json.loads(whole)["rows"]} >= {"ok", "wrong"}


def test_cli_json_is_what_json_dumps_writes(run, make_knot) -> None:
    server = make_knot(stale_eureka1_zones())
    result = run(
        "inspect", "-n", "ms", "-f", SEED, "--nameserver", f"127.0.0.1:{server.port}", "-o", "json"
    )
    assert result.code == 1, result.err
    assert result.out == json.dumps(json.loads(result.out), indent=2, sort_keys=True) + "\n"
