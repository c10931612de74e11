"""The emulated apiserver's watch, and hsvc's watch engine (LIST then WATCH) against it."""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from hsvc.adapters import kubeapi
from hsvc.adapters.kubewatch import Change, WatchEngine, WatchScope
from hsvc.errors import AccessDeniedError
from tests.integration.api_fixtures import write_kubeconfig
from tests.integration.apiserver import ApiServer

pytestmark = pytest.mark.integration

PODS = "/api/v1/namespaces/ms/pods"


@pytest.fixture(autouse=True)
def _no_ambient_kubeconfig(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


def _get(api: ApiServer, path: str) -> Any:
    with urllib.request.urlopen(api.url + path, timeout=5) as response:
        return json.load(response)


def _events(api: ApiServer, query: str, *, during: Any = None) -> tuple[str, list[dict[str, Any]]]:
    if during is not None:
        threading.Timer(0.15, during).start()
    with urllib.request.urlopen(f"{api.url}{PODS}?watch=true&{query}", timeout=10) as response:
        kind = response.headers["Content-Type"]
        return kind, [json.loads(line) for line in response]


def _relabel(api: ApiServer, name: str, **labels: str) -> None:
    pod = api.get("Pod", "ms", name)
    pod["metadata"].setdefault("labels", {}).update(labels)
    api.add(pod)


def test_lists_and_objects_carry_resource_versions(api_server: ApiServer) -> None:
    body = _get(api_server, PODS)
    assert int(body["metadata"]["resourceVersion"]) == api_server.resource_version
    assert all(int(i["metadata"]["resourceVersion"]) > 1000 for i in body["items"])


def test_watch_sends_only_later_changes_as_json_lines(api_server: ApiServer) -> None:
    rv = _get(api_server, PODS)["metadata"]["resourceVersion"]
    started = time.monotonic()
    kind, events = _events(
        api_server,
        f"resourceVersion={rv}&timeoutSeconds=1",
        during=lambda: _relabel(api_server, "eureka-1", touched="yes"),
    )
    assert kind == "application/json"
    assert 0.9 < time.monotonic() - started < 3  # ended by timeoutSeconds
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [
        ("MODIFIED", "eureka-1")
    ]
    assert int(events[0]["object"]["metadata"]["resourceVersion"]) > int(rv)
    assert events[0]["object"]["kind"] == "Pod"


def test_watch_without_version_starts_with_every_object_added(api_server: ApiServer) -> None:
    _, events = _events(api_server, "timeoutSeconds=0.3")
    names = {e["object"]["metadata"]["name"] for e in events if e["type"] == "ADDED"}
    assert {"eureka-0", "eureka-1", "eureka-2"} <= names


def test_bookmarks_only_when_allowed(api_server: ApiServer) -> None:
    api_server.bookmark_interval = 0.2
    rv = _get(api_server, PODS)["metadata"]["resourceVersion"]
    _, with_marks = _events(
        api_server, f"resourceVersion={rv}&timeoutSeconds=1&allowWatchBookmarks=true"
    )
    _, without = _events(api_server, f"resourceVersion={rv}&timeoutSeconds=0.5")
    marks = [e for e in with_marks if e["type"] == "BOOKMARK"]
    assert len(marks) >= 3 and not without
    assert marks[-1]["object"]["metadata"]["resourceVersion"] == rv
    assert set(marks[0]["object"]) == {"kind", "apiVersion", "metadata"}


def test_watch_from_a_compacted_version_gets_410(api_server: ApiServer) -> None:
    rv = _get(api_server, PODS)["metadata"]["resourceVersion"]
    _relabel(api_server, "eureka-0", touched="yes")
    api_server.compact()
    _, events = _events(api_server, f"resourceVersion={rv}&timeoutSeconds=1")
    assert [e["type"] for e in events] == ["ERROR"]
    assert events[0]["object"]["code"] == 410 and events[0]["object"]["kind"] == "Status"


def test_selector_applies_and_leaving_it_is_deleted(api_server: ApiServer) -> None:
    rv = _get(api_server, PODS)["metadata"]["resourceVersion"]

    def change() -> None:
        _relabel(api_server, "eureka-0", app="other")  # leaves app=eureka
        _relabel(api_server, "eureka-1", touched="yes")

    _, events = _events(
        api_server,
        f"resourceVersion={rv}&timeoutSeconds=1&labelSelector=app%3Deureka",
        during=change,
    )
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [
        ("DELETED", "eureka-0"),
        ("MODIFIED", "eureka-1"),
    ]


def test_watch_list_ends_initial_events_with_a_bookmark(api_server: ApiServer) -> None:
    _, events = _events(
        api_server,
        "sendInitialEvents=true&allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan"
        "&timeoutSeconds=0.3",
    )
    ends = [i for i, e in enumerate(events) if e["type"] == "BOOKMARK"]
    assert ends and all(e["type"] == "ADDED" for e in events[: ends[0]])
    meta = events[ends[0]]["object"]["metadata"]
    assert meta["annotations"] == {"k8s.io/initial-events-end": "true"}


# --- the engine ----------------------------------------------------------------------


def _engine(api: ApiServer, tmp_path: Path, **scope: Any) -> tuple[Any, WatchEngine]:
    config = write_kubeconfig(tmp_path / "kubeconfig", api.url)
    source = kubeapi.connect(kubeconfig=str(config), request_timeout=5)
    engine = WatchEngine(source, WatchScope(**scope), timeout_seconds=1)
    return source, engine


def _wait_changes(engine: WatchEngine, count: int, timeout: float = 5.0) -> list[Change]:
    got: list[Change] = []
    deadline = time.monotonic() + timeout
    while len(got) < count and time.monotonic() < deadline:
        got += engine.changes(0.2)
    return got


def _watching(api: ApiServer, count: int = 4) -> None:
    deadline = time.monotonic() + 5
    # Watch requests logged since the test began: open connections may be left
    # over from an earlier test until the server next writes to them.
    while sum(r.is_watch for r in api.log) < count and time.monotonic() < deadline:
        time.sleep(0.01)
    assert sum(r.is_watch for r in api.log) >= count


def _set_ip(api: ApiServer, name: str, ip: str) -> None:
    pod = api.get("Pod", "ms", name)
    pod["status"]["podIP"] = ip
    pod["status"]["podIPs"] = [{"ip": ip}]
    api.add(pod)


def test_engine_reports_changes_and_keeps_the_snapshot_current(
    api_server: ApiServer, tmp_path: Path
) -> None:
    source, engine = _engine(api_server, tmp_path, namespace="ms", service="eureka")
    with source, engine:
        before = {p.name: p.pod_ips for p in engine.snapshot().pods}
        assert set(before) == {"eureka-0", "eureka-1", "eureka-2"}
        _relabel(api_server, "eureka-0", unrelated="yes")  # a label hsvc keeps: a change
        _set_ip(api_server, "eureka-2", "10.244.9.9")
        api_server.remove("Pod", "ms", "eureka-1")
        changes = _wait_changes(engine, 3)
        assert [(c.kind, c.event, c.name) for c in changes] == [
            ("Pod", "MODIFIED", "eureka-0"),
            ("Pod", "MODIFIED", "eureka-2"),
            ("Pod", "DELETED", "eureka-1"),
        ]
        assert not any(c.relisted for c in changes)
        after = {p.name: p.pod_ips for p in engine.snapshot().pods}
        assert after == {"eureka-0": before["eureka-0"], "eureka-2": ("10.244.9.9",)}
    # One LIST per kind, and watches resumed from versions, never re-listed.
    lists = [r for r in api_server.log if r.is_list]
    assert len(lists) == 4
    watches = [r for r in api_server.log if r.is_watch]
    assert watches and all(r.query["resourceVersion"] for r in watches)
    assert all(r.query["allowWatchBookmarks"] == "true" for r in watches)


def test_engine_relists_after_410_and_loses_no_change(
    api_server: ApiServer, tmp_path: Path
) -> None:
    source, engine = _engine(api_server, tmp_path, namespace="ms", service="eureka")
    with source, engine:
        # Expire every open watch and change an object before the engine re-lists:
        # only the re-list can show that change.
        _watching(api_server)
        api_server.inject("/api/v1/namespaces/ms/pods", delay=0.5, times=1)
        api_server.expire_watches()
        _set_ip(api_server, "eureka-0", "10.244.7.7")
        changes = _wait_changes(engine, 1)
        assert [(c.event, c.name) for c in changes] == [("MODIFIED", "eureka-0")]
        # A change after the re-list comes through the resumed watch.
        _set_ip(api_server, "eureka-1", "10.244.7.8")
        later = _wait_changes(engine, 1)
        assert [(c.event, c.name, c.relisted) for c in later] == [("MODIFIED", "eureka-1", False)]
        assert {p.name: p.pod_ips[0] for p in engine.snapshot().pods}["eureka-0"] == "10.244.7.7"
        assert changes[0].relisted and engine.stats["Pod"].relists == 1


def test_engine_failure_surfaces_as_hsvc_error(api_server: ApiServer, tmp_path: Path) -> None:
    source, engine = _engine(api_server, tmp_path, namespace="ms")
    with source, engine:
        _watching(api_server)
        api_server.inject("/api/v1/namespaces/ms/pods", status=403)
        api_server.expire_watches()
        with pytest.raises(AccessDeniedError, match="forbidden"):
            _wait_changes(engine, 1, timeout=5)
