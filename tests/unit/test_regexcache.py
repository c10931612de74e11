"""Regular expressions compiled at import kept across runs: the same patterns, fewer compilings.

A kept program must build the very pattern ``re`` builds (``Pattern.__eq__`` compares
the pattern, its flags and its compiled program); only what module or class code
compiles is kept, and nothing whose compiling warns.
"""

from __future__ import annotations

import itertools
import marshal
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hsvc.adapters import initcache, regexcache
from hsvc.adapters.regexcache import RegexCache

COMPILER: Any = sys.modules["re._compiler"]
needs_311 = pytest.mark.skipif(sys.version_info[:2] != (3, 11), reason="CPython 3.11's re")

PATTERNS: list[tuple[str | bytes, int]] = [
    (r"[-a-z0-9]+", 0),
    (r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(?:\.(?:25[0-5]|2[0-4][0-9]|[0-9]+)){3}", 0),
    (r"(?P<key>\w+)=(?P<value>[^,]*)(?:,|$)", 0),
    (r"^(?P<a>x)(?P=a)\1$", re.MULTILINE),
    (r"(?<=ab)c(?!d)", re.IGNORECASE),
    (
        r"""
        (?P<sign>[-+])?   # optional sign
        (?P<digits>\d+)
     """,
        re.VERBOSE,
    ),
    (r"straße|ǅ", re.IGNORECASE),
    (r"\w+", re.ASCII),
    (rb"[ !#-\[\]-~]*", 0),
    (rb"(?i)[a-z]{1,63}", 0),
    (r"a{2,}?b*+c?", 0),
    (r"", 0),
]


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[RegexCache]:
    """A cache installed as ``re._compiler.compile``, undone after the test."""
    monkeypatch.setattr(COMPILER, "compile", COMPILER.compile)
    installed = regexcache.install(tmp_path / "regex")
    if installed is None:
        pytest.skip("not CPython 3.11")
    yield installed


def _same(a: re.Pattern[Any], b: re.Pattern[Any]) -> None:
    assert a == b  # pattern, flags and compiled program
    assert (a.flags, a.groups, dict(a.groupindex)) == (b.flags, b.groups, dict(b.groupindex))


_counter = itertools.count()


def _unique(text: str) -> str:
    """A pattern no earlier test compiled (``re`` keeps its own cache in front)."""
    return f"{text}(?:u{next(_counter)}x{os.getpid()})?"


@needs_311
@pytest.mark.parametrize(("pattern", "flags"), PATTERNS)
def test_a_kept_program_builds_the_pattern_re_builds(pattern: str | bytes, flags: int) -> None:
    program = RegexCache(Path("/nonexistent"), COMPILER)._program(pattern, flags)
    assert program is not None
    _same(COMPILER._sre.compile(pattern, *program), COMPILER.compile(pattern, flags))
    marshal.loads(marshal.dumps(program))  # it can be written


_PIECES = st.sampled_from(
    ["a", "b|c", "(x)", "(?P<n>y)", "[a-f]", ".", r"\d", "z*", "q+?", "^", "$"]
)


@needs_311
@given(
    st.lists(st.one_of(_PIECES, st.text(max_size=3).map(re.escape)), max_size=6),
    st.sampled_from([0, re.IGNORECASE, re.MULTILINE | re.DOTALL, re.ASCII]),
)
def test_any_pattern_built_from_its_program_equals_res(pieces: list[str], flags: int) -> None:
    pattern = "".join(pieces)
    if pattern.count("(?P<n>") > 1:
        pattern = pattern.replace("(?P<n>", "(", pattern.count("(?P<n>") - 1)
    program = RegexCache(Path("/nonexistent"), COMPILER)._program(pattern, flags)
    assert program is not None
    _same(COMPILER._sre.compile(pattern, *program), COMPILER.compile(pattern, flags))


@needs_311
def test_module_code_patterns_are_kept_and_a_functions_are_not(cache: RegexCache) -> None:
    static, dynamic = _unique("module-level"), _unique("run-time")
    namespace: dict[str, Any] = {"__name__": "some.module"}
    source = (
        f"import re\nP = re.compile({static!r})\ndef f():\n    return re.compile({dynamic!r})\n"
    )
    exec(compile(source, "<module>", "exec"), namespace)
    made = namespace["f"]()
    assert (static, 0) in cache.codes and cache.added == 1
    assert (dynamic, 0) not in cache.codes  # perhaps built from a cluster's names
    _same(namespace["P"], COMPILER._sre.compile(static, *cache.codes[(static, 0)]))
    assert made.fullmatch("run-time")


@needs_311
def test_a_pattern_whose_compiling_warns_is_never_kept(cache: RegexCache) -> None:
    warns = _unique("[[a]")
    namespace: dict[str, Any] = {"__name__": "some.module"}
    with pytest.warns(FutureWarning, match="nested set"):
        exec(compile(f"import re\nP = re.compile({warns!r})\n", "<module>", "exec"), namespace)
    assert cache.added == 0 and not cache.codes  # so it warns at every run, as before
    assert namespace["P"].pattern == warns


@needs_311
def test_a_second_run_builds_kept_patterns_without_compiling_them(tmp_path: Path) -> None:
    path = tmp_path / "regex"
    first = RegexCache(path, COMPILER)
    kept = _unique(r"(?P<name>[a-z]+)-\d+")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(regexcache, "_from_module_code", lambda: True)
        patch.setattr(sys, "dont_write_bytecode", False)
        expected = first.compile(kept, re.IGNORECASE)
        first.save()
    second = RegexCache(path, COMPILER)
    assert list(second.codes) == [(kept, int(re.IGNORECASE))]

    def refuse(p: Any, flags: int = 0) -> Any:
        raise AssertionError("compiled again")

    second.original = refuse
    _same(second.compile(kept, re.IGNORECASE), expected)


@needs_311
def test_debug_and_parsed_patterns_go_to_re_unchanged(
    cache: RegexCache, capsys: pytest.CaptureFixture[str]
) -> None:
    pattern = _unique("dbg")
    made = COMPILER.compile(pattern, re.DEBUG)
    assert made.pattern == pattern and capsys.readouterr().out  # re's listing
    parsed = COMPILER._parser.parse("ab", 0)
    assert COMPILER.compile(parsed).match("ab")
    assert cache.added == 0


def test_a_file_holding_anything_else_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "regex"
    kind = RegexCache.kind
    for data in (
        initcache.contents(kind, {"not": "a key pair"}),
        initcache.contents(kind, {("a", 0): (1, 2)}),
        initcache.contents("hsvc-inits", {("a", 0): (0, [], 0, {}, ())}),  # another kind
    ):
        path.write_bytes(data)
        assert RegexCache(path, COMPILER).codes == {}


@needs_311
def test_a_kept_program_re_refuses_is_compiled_as_always(tmp_path: Path) -> None:
    """A damaged file (a program _sre finds invalid) must not fail the run: re compiles it."""
    path = tmp_path / "regex"
    pattern = _unique(r"(?P<name>[a-z]+)-\d+")
    program = list(RegexCache(Path("/nonexistent"), COMPILER)._program(pattern, 0) or ())
    for damaged in ([0xFFFF], "not a dict"):
        bad = [*program]
        bad[1 if isinstance(damaged, list) else 3] = damaged
        path.write_bytes(initcache.contents(RegexCache.kind, {(pattern, 0): tuple(bad)}))
        cache = RegexCache(path, COMPILER)
        assert (pattern, 0) in cache.codes  # the file's shape is right: it is read
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(regexcache, "_from_module_code", lambda: True)
            made = cache.compile(pattern, 0)
        _same(made, COMPILER._sre.compile(pattern, *program))
        assert cache.codes[(pattern, 0)] == tuple(program) and cache.added == 1  # kept anew


def test_other_interpreters_install_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(COMPILER, "compile", COMPILER.compile)
    original = COMPILER.compile
    monkeypatch.setattr(sys, "version_info", (3, 12, 0, "final", 0))
    assert regexcache.install(Path("/nonexistent")) is None
    assert COMPILER.compile is original
