"""Patterns compiled at their first use: the same answers as ``re.compile``, compiled once."""

from __future__ import annotations

import copy
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from hsvc.core.patterns import deferred

ROOT = Path(__file__).resolve().parent.parent.parent
TEXT = "Host: db-0.db, host: API.example:5432 ; x"
CASES = [
    (r"(?P<key>[a-z]+):\s*(?P<value>[^\s,;]+)", re.IGNORECASE),
    (r"[\s,;]+", 0),
    (r"^host", re.M),
]


@pytest.mark.parametrize(("pattern", "flags"), CASES)
def test_every_method_answers_as_the_compiled_pattern(pattern: str, flags: int) -> None:
    mine, theirs = deferred(pattern, flags), re.compile(pattern, flags)
    for text in (TEXT, TEXT.lower(), "", "none here"):
        for method in ("match", "fullmatch", "search"):
            ours, real = getattr(mine, method)(text), getattr(theirs, method)(text)
            assert (ours and (ours.span(), ours.groups())) == (
                real and (real.span(), real.groups())
            )
        assert [m.span() for m in mine.finditer(text)] == [m.span() for m in theirs.finditer(text)]
        assert mine.findall(text) == theirs.findall(text)
        assert mine.split(text) == theirs.split(text)
        assert mine.sub("-", text) == theirs.sub("-", text)
        assert mine.subn("-", text) == theirs.subn("-", text)
    assert mine.pattern == pattern and mine.flags == theirs.flags


def test_nothing_is_compiled_before_the_first_use_and_then_once() -> None:
    pattern = deferred(r"a+b")
    assert "match" not in vars(pattern)
    assert pattern.search("xaab") is not None
    bound = vars(pattern)["match"]
    assert pattern.match("ab") is not None and vars(pattern)["match"] is bound
    assert copy.copy(deferred(r"c")).match("c") is not None  # dunder probes do not compile


def test_importing_the_scanner_and_the_tool_parsers_compiles_no_pattern() -> None:
    code = (
        "import json, hsvc.core.references as r, hsvc.core.podexec as p\n"
        "used = [n for m in (r, p) for n, v in vars(m).items()\n"
        "        if type(v).__name__ == '_Deferred' and 'match' in vars(v)]\n"
        "r.hostish('DB_HOST')\n"
        "print(json.dumps([used, 'search' in vars(r._HOSTISH)]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert json.loads(out.stdout) == [[], True], out.stderr
