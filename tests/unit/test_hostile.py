"""Hostile strings from the cluster: inert in tables, exact in JSON."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from hsvc.render.table import safe

ESC = "\x1b"
OSC_LINK = "\x1b]8;;http://127.0.0.1/x\x07click\x1b]8;;\x07"
# The API server accepts only an RFC 1123 subdomain here; markup is refused (below).
EXTERNAL = "x.example.com"


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
                "spec": {"type": "ExternalName", "externalName": EXTERNAL},
            },
        ],
    }
    path = tmp_path / "hostile.json"
    path.write_text(json.dumps(doc))
    return path


def test_safe_escapes_control_characters_and_keeps_markup_literal() -> None:
    text = safe(f"[red]a{ESC}[2Jb\x07\u202ec")
    assert text.plain == "[red]a\\x1b[2Jb\\x07\\u202ec"
    assert ESC not in text.plain and "\x07" not in text.plain
    assert len(safe("x" * 5000).plain) <= 300


@pytest.mark.parametrize(
    ("char", "shown"),
    [
        ("\u200b", "\\u200b"),  # zero-width space
        ("\u200d", "\\u200d"),  # zero-width joiner
        ("\ufeff", "\\ufeff"),  # zero-width no-break space (BOM)
        ("\u202e", "\\u202e"),  # right-to-left override
        ("\u2066", "\\u2066"),  # left-to-right isolate
        ("\u00ad", "\\xad"),  # soft hyphen
        ("\U000e0041", "\\U000e0041"),  # tag latin capital A
    ],
)
def test_invisible_characters_are_escaped_by_code_point(char: str, shown: str) -> None:
    # "web" and "we<ZWSP>b" must not look alike in a table.
    assert safe(f"we{char}b").plain == f"we{shown}b"


def test_tables_show_hostile_strings_inert(run, tmp_path: Path) -> None:
    path = hostile_manifest(tmp_path)
    result = run(
        "records", "-n", "ms", "-f", str(path), "--offline", "--no-color", "-o", "wide", width=250
    )
    assert result.code == 0, result.err
    out = result.out
    assert ESC not in out and "\x07" not in out and "\x08" not in out
    assert "x.example.com." in out
    assert "[red]" not in out  # the selector's markup is no record


def test_json_keeps_hostile_strings_exact(run, tmp_path: Path) -> None:
    path = hostile_manifest(tmp_path)
    result = run("records", "-n", "ms", "-f", str(path), "--offline", "-o", "json")
    assert result.code == 0, result.err
    assert ESC not in result.out  # JSON escapes control characters itself
    doc = json.loads(result.out)
    cname = [r for r in doc["records"] if r["type"] == "CNAME"]
    assert cname[0]["data"] == "x.example.com."


def test_external_name_with_markup_is_refused_and_quoted_inert(run, tmp_path: Path) -> None:
    path = tmp_path / "ext.json"
    bad = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "ext", "namespace": "ms"},
        "spec": {"type": "ExternalName", "externalName": f"[bold]x[/bold]{ESC}[2J.example.com"},
    }
    path.write_text(json.dumps(bad))
    result = run("records", "-n", "ms", "-f", str(path), "--offline")
    assert result.code == 7
    line = one_error_line(result.err)
    assert "spec.externalName" in line and "[bold]x[/bold]" in line  # literal, not applied


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


# --- error messages and findings ------------------------------------------------------------

HOSTILE = f"[red]boom[/red]{ESC}[2J{OSC_LINK}\x9b31m\u202e"
RAW_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e]")


def assert_inert(text: str) -> None:
    assert not RAW_CONTROL.findall(text), repr(text)


def one_error_line(err: str) -> str:
    assert err.startswith("hsvc: error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    assert_inert(err)
    return err


def test_unknown_namespace_error_is_inert(run, tmp_path: Path) -> None:
    path = hostile_manifest(tmp_path)
    result = run("records", "-n", HOSTILE, "-f", str(path), "--offline")
    assert result.code == 2  # no cluster can hold such a namespace: a usage error
    assert "[red]boom[/red]\\x1b[2J" in one_error_line(result.err)


def test_unknown_context_error_is_inert(run, tmp_path: Path) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "c", "cluster": {"server": "http://127.0.0.1:9"}}],
                "users": [{"name": "u", "user": {}}],
                "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}],
                "current-context": "c",
            }
        )
    )
    result = run("records", "--kubeconfig", str(kubeconfig), "--context", HOSTILE)
    assert result.code == 3
    assert "does not exist" in one_error_line(result.err)


def test_manifest_error_quoting_cluster_text_is_inert(run, tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    bad = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": HOSTILE, "namespace": "ms"}}
    path.write_text(json.dumps(bad))
    result = run("records", "-f", str(path), "--offline")
    assert result.code == 7
    assert "bad.json:1" in one_error_line(result.err)


def findings_manifest(tmp_path: Path) -> Path:
    """A StatefulSet whose serviceName and a Service whose selector carry HOSTILE."""
    doc = {
        "apiVersion": "v1",
        "kind": "List",
        "items": [
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": "web", "namespace": "ms"},
                "spec": {"clusterIP": "10.0.0.9", "selector": {"app": HOSTILE}},
            },
            {
                "apiVersion": "apps/v1",
                "kind": "StatefulSet",
                "metadata": {"name": "db", "namespace": "ms"},
                "spec": {
                    "serviceName": HOSTILE,
                    "selector": {"matchLabels": {"a": "b"}},
                    "template": {"metadata": {"labels": {"a": "b"}}},
                },
            },
        ],
    }
    path = tmp_path / "findings.json"
    path.write_text(json.dumps(doc))
    return path


@pytest.mark.parametrize("output", ["table", "wide"])
def test_lint_findings_table_is_inert(run, tmp_path: Path, output: str) -> None:
    result = run(
        "lint", "-f", str(findings_manifest(tmp_path)), "-o", output, "--no-color", width=250
    )
    assert result.code == 1, result.err
    assert_inert(result.out + result.err)
    assert "HSVC102" in result.out and "HSVC201" in result.out
    assert "[red]boom[/red]" in result.out  # literal, not applied


@pytest.mark.parametrize("output", ["json", "sarif"])
def test_lint_findings_json_keeps_cluster_text(run, tmp_path: Path, output: str) -> None:
    result = run("lint", "-f", str(findings_manifest(tmp_path)), "-o", output)
    assert result.code == 1, result.err
    assert ESC not in result.out  # JSON escapes it
    doc = json.loads(result.out)
    text = json.dumps(doc, ensure_ascii=False)
    assert "[red]boom[/red]" in text
    if output == "json":
        (selector,) = [f for f in doc["findings"] if f["code"] == "HSVC201"]
        assert HOSTILE in selector["message"]  # the selector, exactly as the object has it


def test_zero_width_characters_in_a_lint_table_are_visible(run, tmp_path: Path) -> None:
    doc = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web", "namespace": "ms"},
        "spec": {"clusterIP": "10.0.0.9", "selector": {"app": "we\u200bb\u200d\ufeff\u202e"}},
    }
    path = tmp_path / "zw.json"
    path.write_text(json.dumps(doc))
    result = run("lint", "-f", str(path), "--no-color", width=250)
    assert "HSVC201" in result.out, result.out + result.err
    assert "we\\u200bb\\u200d\\ufeff\\u202e" in result.out
    assert not re.search("[\u200b\u200d\ufeff\u202e]", result.out + result.err)
