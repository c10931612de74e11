"""The cache of frozen dataclasses' ``__init__`` code: the same code as compiling, kept across runs."""

from __future__ import annotations

import json
import marshal
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from hsvc.adapters import initcache
from hsvc.adapters.initcache import InitCache
from hsvc.adapters.regexcache import RegexCache
from hsvc.core.dataclass import InitCompiler, compile_init, dataclass

ROOT = Path(__file__).resolve().parent.parent.parent
SOURCE = "def __create_fn__():\n def __init__(self,*,a):\n  pass\n return __init__\n"


@pytest.fixture
def compiler() -> Iterator[None]:
    """Leave the process's compiler as it was."""
    before = InitCompiler.__dict__["compile"]
    yield
    InitCompiler.compile = before  # type: ignore[method-assign]


def define() -> type:
    @dataclass(frozen=True, slots=True, kw_only=True)
    class Pair:
        """Two fields, one with a default."""

        left: str
        right: tuple[int, ...] = ()

    return Pair


def test_a_class_built_through_the_cache_has_the_compiled_init(
    tmp_path: Path, compiler: None
) -> None:
    plain = define()
    cache = initcache.install(tmp_path / "inits")
    cached, again = define(), define()
    assert cache.added == 1  # the second class of the same shape came from the cache
    for cls in (cached, again):
        assert cls.__init__.__code__ == plain.__init__.__code__
        assert cls.__init__.__kwdefaults__ == plain.__init__.__kwdefaults__
        assert cls(left="a") == cls(left="a", right=())
        assert repr(cls(left="a", right=(1,))).endswith(".Pair(left='a', right=(1,))")
    with pytest.raises(TypeError):
        cached(right=())  # type: ignore[call-arg]


def test_the_code_is_kept_for_the_next_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    path = tmp_path / "sub" / "inits"
    first = InitCache(path)
    code = first.compile(SOURCE)
    assert code == compile_init(SOURCE) and first.added == 1
    first.save()
    assert first.added == 0 and path.exists()
    second = InitCache(path)
    assert second.codes == {SOURCE: code}
    assert second.compile(SOURCE) is second.codes[SOURCE] and second.added == 0
    path.unlink()
    second.save()  # nothing new: nothing written
    assert not path.exists()
    assert not list(path.parent.iterdir())  # no temporary left behind


def test_nothing_is_written_when_bytecode_is_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    cache = InitCache(tmp_path / "inits")
    cache.compile(SOURCE)
    cache.save()
    assert not (tmp_path / "inits").exists()


def _damaged() -> bytes:
    """A good file with one byte of its payload changed (a disk's error, not a shape's)."""
    data = bytearray(initcache.contents("hsvc-inits", {SOURCE: compile_init(SOURCE)}))
    data[-3] ^= 0x01
    return bytes(data)


DAMAGED = _damaged()


def test_a_good_file_with_its_check_is_read(tmp_path: Path) -> None:
    path = tmp_path / "inits"
    path.write_bytes(initcache.contents("hsvc-inits", {SOURCE: compile_init(SOURCE)}))
    assert set(InitCache(path).codes) == {SOURCE}


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"hsvc-inits another python\n" + marshal.dumps({SOURCE: compile_init(SOURCE)}),
        initcache._stamp() + initcache._check(b"\x00garbage") + b"\x00garbage",
        initcache.contents("hsvc-inits", ["not", "a", "dict"]),
        initcache.contents("hsvc-inits", {SOURCE: "not code"}),
        initcache._stamp() + marshal.dumps({SOURCE: compile_init(SOURCE)}),  # no check line
        DAMAGED,
    ],
)
def test_a_file_of_another_interpreter_or_broken_is_ignored(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "inits"
    path.write_bytes(content)
    cache = InitCache(path)
    assert cache.codes == {}
    assert cache.compile(SOURCE) == compile_init(SOURCE)


def test_a_folder_that_cannot_be_written_is_no_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    blocker = tmp_path / "file"
    blocker.write_text("")
    cache = InitCache(blocker / "inits")  # a folder under a file
    cache.compile(SOURCE)
    cache.save()
    assert cache.added == 1
    taken = tmp_path / "inits"
    taken.mkdir()  # os.replace cannot put a file where a folder is
    other = InitCache(taken)
    other.compile(SOURCE)
    other.save()
    assert taken.is_dir() and other.added == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "inits"]  # no temporary left


def test_old_sources_are_dropped_past_the_bound(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    monkeypatch.setattr(initcache, "MAX_SOURCES", 2)
    path = tmp_path / "inits"
    cache = InitCache(path)
    sources = [SOURCE.replace("a)", f"a{i})") for i in range(3)]
    for source in sources[:2]:
        cache.compile(source)
    cache.save()
    cache.compile(sources[2])
    cache.save()
    assert list(InitCache(path).codes) == sources[2:]


def test_the_file_sits_with_hsvcs_bytecode(monkeypatch: pytest.MonkeyPatch) -> None:
    package = Path(initcache.__file__).resolve().parent.parent
    monkeypatch.setattr(sys, "pycache_prefix", None)
    assert initcache.cache_file().parent == package / "__pycache__"
    monkeypatch.setattr(sys, "pycache_prefix", "/var/cache/py")
    assert initcache.cache_file().parent == Path("/var/cache/py" + str(package))
    assert sys.implementation.cache_tag in initcache.cache_file().name


def test_a_second_run_reads_the_code_the_first_wrote(tmp_path: Path) -> None:
    """End to end: ``python -m hsvc`` twice, bytecode allowed, under a pycache prefix.

    The regular expressions' cache (:mod:`hsvc.adapters.regexcache`) is written beside.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(tmp_path)
    argv = [sys.executable, "-m", "hsvc", "records", "-f", "tests/data/seed", "--offline"]
    runs = [
        subprocess.run([*argv, "-o", "json"], capture_output=True, text=True, cwd=ROOT, env=env)
        for _ in range(2)
    ]
    assert [r.returncode for r in runs] == [0, 0], runs[0].stderr
    assert runs[0].stdout == runs[1].stdout and json.loads(runs[0].stdout)["kind"]
    written = list(tmp_path.rglob("dataclass-inits.*.marshal"))
    assert len(written) == 1
    assert len(InitCache(written[0]).codes) > 50  # hsvc's own frozen classes
    if sys.version_info[:2] == (3, 11):  # and the regular expressions' programs
        programs = list(tmp_path.rglob("regex-programs.*.marshal"))
        assert len(programs) == 1
        assert len(RegexCache(programs[0], sys.modules["re._compiler"]).codes) > 20
