"""Inputs that would take forever or all memory are refused early, with a clear error."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from hsvc.adapters import manifests
from hsvc.errors import ExitCode

WEB = """\
apiVersion: v1
kind: Service
metadata: {name: web, namespace: ms}
spec: {clusterIP: 10.0.0.14, ports: [{name: http, port: 80}]}
"""


def alias_bomb(levels: int = 9) -> str:
    """Nested Lists of aliases: under a kilobyte that stands for 10**levels objects."""
    text = "x0: &x0 {apiVersion: v1, kind: ConfigMap, metadata: {name: c}}\n"
    for i in range(1, levels):
        text += f"x{i}: &x{i} {{apiVersion: v1, kind: List, items: [{', '.join([f'*x{i - 1}'] * 10)}]}}\n"
    return f"{text}---\napiVersion: v1\nkind: List\nitems: [*x{levels - 1}]\n"


def records(run, path: Path):
    started = time.monotonic()
    result = run("records", "-n", "ms", "-f", str(path), "--offline")
    return result, time.monotonic() - started


def test_an_alias_bomb_is_refused_before_any_object_is_built(run, tmp_path) -> None:
    path = tmp_path / "bomb.yaml"
    path.write_text(alias_bomb())
    assert path.stat().st_size < 1000
    result, elapsed = records(run, path)
    assert result.code == ExitCode.BAD_MANIFEST, result.err
    assert "bomb.yaml:" in result.err and "refused: aliases nested more than 5 deep" in result.err
    assert elapsed < 2


def test_aliases_that_expand_too_far_are_refused(run, tmp_path) -> None:
    # Two levels only, but wide: 400 aliases of a 400-item list add 160,000 nodes.
    items = ", ".join(["x"] * 400)
    text = f"big: &big [{items}]\nwide: [{', '.join(['*big'] * 400)}]\n"
    path = tmp_path / "wide.yaml"
    path.write_text(text)
    result, elapsed = records(run, path)
    assert result.code == ExitCode.BAD_MANIFEST, result.err
    assert "aliases expand" in result.err and "at most 100,000" in result.err
    assert elapsed < 2


def test_a_merge_key_alias_is_fine(run, tmp_path) -> None:
    text = """\
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Service
  metadata: &meta {name: web, namespace: ms}
  spec: {clusterIP: 10.0.0.14, ports: [{name: http, port: 80}]}
- apiVersion: v1
  kind: ConfigMap
  metadata: {<<: *meta, name: cm}
"""
    path = tmp_path / "merge.yaml"
    path.write_text(text)
    result, _ = records(run, path)
    assert result.code == ExitCode.OK, result.err
    assert "web.ms.svc" in result.out


def test_deep_nesting_is_refused_not_a_crash(run, tmp_path) -> None:
    # libyaml's composer recurses per level: 100,000 levels crash the process.
    path = tmp_path / "deep.yaml"
    path.write_text("a: " + "[" * 100_000 + "]" * 100_000 + "\n")
    result, elapsed = records(run, path)
    assert result.code == ExitCode.BAD_MANIFEST, result.err
    assert "nested more than 500 deep" in result.err and elapsed < 3


def test_more_objects_than_the_cap_is_an_error(run, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(manifests, "MAX_OBJECTS", 100, raising=False)
    items = "".join(
        f"- {{apiVersion: v1, kind: ConfigMap, metadata: {{name: c{i}}}}}\n" for i in range(101)
    )
    path = tmp_path / "many.yaml"
    path.write_text(f"apiVersion: v1\nkind: List\nitems:\n{items}")
    result, _ = records(run, path)
    assert result.code == ExitCode.BAD_MANIFEST, result.err
    assert "more than 100 objects" in result.err


@pytest.mark.timeout(10)
def test_a_fifo_in_a_folder_is_not_read(run, tmp_path) -> None:
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "web.yaml").write_text(WEB)
    os.mkfifo(folder / "pipe.yaml")  # opening it would block until a writer comes
    result, elapsed = records(run, folder)
    assert result.code == ExitCode.OK, result.err
    assert "web.ms.svc" in result.out and elapsed < 3


HUGE_STS = """\
apiVersion: v1
kind: Service
metadata: {name: db, namespace: ms}
spec: {clusterIP: None, selector: {app: db}, ports: [{name: pg, port: 5432}]}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: ms}
spec:
  serviceName: db
  replicas: 100000000
  selector: {matchLabels: {app: db}}
  template: {metadata: {labels: {app: db}}}
"""


@pytest.mark.parametrize("command", ["records", "lint"])
def test_a_huge_replica_count_does_not_enumerate_every_ordinal(run, tmp_path, command) -> None:
    import json

    from hsvc.core.model import MAX_DESIRED_ORDINALS

    path = tmp_path / "sts.yaml"
    path.write_text(HUGE_STS)
    started = time.monotonic()
    args = ["-n", "ms", "--offline"] if command == "records" else []
    result = run(command, "-f", str(path), *args, "-o", "json")
    assert time.monotonic() - started < 10
    assert result.code in (ExitCode.OK, ExitCode.MISMATCH), result.err
    if command == "records":
        absent = json.loads(result.out)["absent"]
        ordinals = [a for a in absent if a["name"].startswith("db-")]
        assert len(ordinals) == MAX_DESIRED_ORDINALS == 1000
