"""The core's list wording: how many items are named and how many are counted."""

from __future__ import annotations

import pytest

from hsvc.core.text import and_more, listed, unique


@pytest.mark.parametrize(
    ("items", "limit", "expected"),
    [
        ([], 3, ""),
        (["a", "b", "c"], 3, "a, b, c"),
        (["a", "b", "c", "d", "e"], 3, "a, b, c and 2 more"),
        (["a", "b"], 1, "a and 1 more"),
    ],
)
def test_and_more_names_the_first_and_counts_the_rest(
    items: list[str], limit: int, expected: str
) -> None:
    assert and_more(items, limit) == expected


def test_listed_counts_the_rest_in_parentheses() -> None:
    assert listed(["a", "b", "c", "d"], 2) == "a, b (+2 more)"
    assert listed(["a"], 2) == "a"


def test_unique_keeps_the_first_of_each() -> None:
    assert unique(["b", "a", "b", "c", "a"]) == ["b", "a", "c"]
