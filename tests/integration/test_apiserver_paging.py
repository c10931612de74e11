"""The emulated apiserver's LIST pages: what the real one serves, at a cost linear in the list.

Benchmarks read 150,000 pods through it; a page that scanned the whole store
would be counted as hsvc's time (quadratic in the list).
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import pytest

from tests.integration.apiserver import ApiServer

pytestmark = pytest.mark.integration


def _pods(namespace: str, count: int, label: str) -> list[dict[str, Any]]:
    return [
        {
            "kind": "Pod",
            "metadata": {
                "name": f"p-{i:03d}",
                "namespace": namespace,
                "labels": {"app": label if i % 3 else "other"},
            },
        }
        for i in range(count)
    ]


def _get(api: ApiServer, path: str, **query: str) -> dict[str, Any]:
    url = f"{api.url}{path}?{urllib.parse.urlencode(query)}"
    with urllib.request.urlopen(url, timeout=10) as response:
        body: dict[str, Any] = json.loads(response.read())
    return body


def _pages(api: ApiServer, path: str, limit: int, **query: str) -> list[dict[str, Any]]:
    pages: list[dict[str, Any]] = []
    token = ""
    while True:
        extra = {"continue": token} if token else {}
        page = _get(api, path, limit=str(limit), **query, **extra)
        pages.append(page)
        token = page["metadata"].get("continue", "")
        if not token:
            return pages


@pytest.fixture
def api() -> Any:
    with ApiServer() as server:
        server.add(*_pods("a", 25, "web"), *_pods("b", 10, "web"), *_pods("c", 7, "web"))
        yield server


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/api/v1/pods", {}),
        ("/api/v1/namespaces/b/pods", {}),
        ("/api/v1/pods", {"labelSelector": "app=web"}),
        ("/api/v1/namespaces/a/pods", {"labelSelector": "app=other"}),
        ("/api/v1/pods", {"fieldSelector": "metadata.namespace=c"}),
    ],
    ids=["cluster", "namespace", "label", "namespace-label", "field"],
)
@pytest.mark.parametrize("limit", [1, 4, 7, 100])
def test_pages_join_to_the_unpaged_list(
    api: ApiServer, path: str, query: dict[str, str], limit: int
) -> None:
    whole = _get(api, path, **query)
    pages = _pages(api, path, limit, **query)
    joined = [item for page in pages for item in page["items"]]
    assert joined == whole["items"] and joined
    assert all(len(page["items"]) == limit for page in pages[:-1])
    assert 0 < len(pages[-1]["items"]) <= limit
    # One list, one version: every page carries the first page's resourceVersion.
    assert {page["metadata"]["resourceVersion"] for page in pages} == {
        whole["metadata"]["resourceVersion"]
    }
    tokens = [page["metadata"].get("continue") for page in pages[:-1]]
    assert len(set(tokens)) == len(tokens)
    for page in pages:
        assert all("kind" not in item and "apiVersion" not in item for item in page["items"])
        assert page["kind"] == "PodList" and page["apiVersion"] == "v1"


def test_remaining_item_count_only_without_selectors(api: ApiServer) -> None:
    first = _get(api, "/api/v1/pods", limit="10")
    assert first["metadata"]["remainingItemCount"] == 42 - 10
    selected = _get(api, "/api/v1/pods", limit="10", labelSelector="app=web")
    assert "continue" in selected["metadata"]
    assert "remainingItemCount" not in selected["metadata"]


def test_a_page_after_a_change_goes_on_after_the_last_key(api: ApiServer) -> None:
    first = _get(api, "/api/v1/namespaces/a/pods", limit="5")
    api.remove("Pod", "a", "p-001")  # already served: the next page is unaffected
    api.add(*_pods("a", 30, "web")[25:])  # new names sort after the rest
    rest = _pages_from(api, "/api/v1/namespaces/a/pods", first["metadata"]["continue"])
    names = [p["metadata"]["name"] for p in first["items"] + rest]
    assert names == [f"p-{i:03d}" for i in range(30)]


def _pages_from(api: ApiServer, path: str, token: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    while token:
        page = _get(api, path, limit="5", **{"continue": token})
        items.extend(page["items"])
        token = page["metadata"].get("continue", "")
    return items


def test_a_bad_continue_token_is_a_400(api: ApiServer) -> None:
    with pytest.raises(urllib.error.HTTPError) as info:
        _get(api, "/api/v1/pods", limit="5", **{"continue": "not-a-token"})
    assert info.value.code == 400
    info.value.close()


def test_latency_delays_every_request(api: ApiServer) -> None:
    api.latency = 0.1
    start = time.monotonic()
    pages = _pages(api, "/api/v1/pods", 10)
    elapsed = time.monotonic() - start
    assert len(pages) == 5
    assert elapsed >= 5 * 0.1
    api.reset()
    assert api.latency == 0.0
