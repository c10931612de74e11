"""Hostile strings from the cluster: inert in tables, exact in JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hsvc.render.table import safe

ESC = "\x1b"
OSC_LINK = "\x1b]8;;http://127.0.0.1/x\x07click\x1b]8;;\x07"


def hostile_manifest(tmp_path: Path) -> Path:
    doc = {
        "apiVersion": "v1",
        "kind": "List",
        "items": [
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ms"}},
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": "web", "namespace": "ms"},
                "spec": {
                    "clusterIP": "10.0.0.9",
                    "ports": [{"name": "http", "port": 80}],
                    "selector": {"app": f"[red]boom[/red]{ESC}[31m{OSC_LINK}\x07\x08"},
                },
            },
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": "ext", "namespace": "ms"},
                "spec": {"type": "ExternalName", "externalName": "[bold]x[/bold].example.com"},
            },
        ],
    }
    path = tmp_path / "hostile.json"
    path.write_text(json.dumps(doc))
    return path


def test_safe_escapes_control_characters_and_keeps_markup_literal() -> None:
    text = safe(f"[red]a{ESC}[2Jb\x07\u202ec")
    assert text.plain == "[red]a\\x1b[2Jb\\x07\\u202ec".replace("\\u202e", "\\x202e")
    assert ESC not in text.plain and "\x07" not in text.plain
    assert len(safe("x" * 5000).plain) <= 300


def test_tables_show_hostile_strings_inert(
    run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "250")
    path = hostile_manifest(tmp_path)
    result = run("records", "-n", "ms", "-f", str(path), "--offline", "--no-color", "-o", "wide")
    assert result.code == 0, result.err
    out = result.out
    assert ESC not in out and "\x07" not in out and "\x08" not in out
    assert "[bold]x[/bold].example.com." in out  # markup shown literally, not applied


def test_json_keeps_hostile_strings_exact(run, tmp_path: Path) -> None:
    path = hostile_manifest(tmp_path)
    result = run("records", "-n", "ms", "-f", str(path), "--offline", "-o", "json")
    assert result.code == 0, result.err
    assert ESC not in result.out  # JSON escapes control characters itself
    doc = json.loads(result.out)
    cname = [r for r in doc["records"] if r["type"] == "CNAME"]
    assert cname[0]["data"] == "[bold]x[/bold].example.com."


@pytest.mark.parametrize("output", ["table", "wide"])
def test_error_messages_are_escaped(run, tmp_path: Path, output: str) -> None:
    result = run(
        "records",
        f"no{ESC}[31mpe",
        "-n",
        "ms",
        "-f",
        str(hostile_manifest(tmp_path)),
        "--offline",
        "-o",
        output,
    )
    assert result.code == 2
    assert ESC not in result.err
