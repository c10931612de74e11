"""Every console example in README.md and docs/ runs, and shows what hsvc prints.

A ```` ```console ```` block holds one or more ``$ hsvc ...`` commands (a trailing
``\\`` continues one), each followed by the output it shows. The test runs each
command in the repository root, piped (nothing wraps) and without colour, and compares its
output (stdout, then stderr) with the block, line by line, after normalising what
changes from run to run: the DNS server's port (``127.0.0.1:PORT``), temporary
paths and timings. A line ``…`` in a block stands for any number of lines.

An HTML comment right before a block tells the test more (one per block):

- ``<!-- docs-test: skip REASON -->``: not run (it needs a live cluster); the
  test says how many were skipped and why. The usage lines of the generated CLI
  reference are skipped too. A pipe into ``jq`` runs (when jq is installed).
- ``<!-- docs-test: files NAME=PATH ... -->``: the command reads ``NAME``, which
  is the repository's ``PATH`` (a documented fixture).
- ``<!-- docs-test: excerpt COMMAND -->``: the block has no ``$`` line; it is a
  contiguous part of COMMAND's output (the tutorial's pieces of ``hsvc demo``).
- ``<!-- docs-test: columns N -->``: a terminal N columns wide (``0``: piped, the
  default; excerpts of ``hsvc demo`` are at 80, as the tutorial says).

Options combine in one comment, separated by ``;``. A drifted block is fixed by
running the command and pasting its output: ``HSVC_DOCS_FIX=1 python -m pytest
tests/test_docs.py`` rewrites every block that is not an excerpt in place.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from hsvc.cli import main

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
MARKER = re.compile(r"^<!--\s*docs-test:\s*(.*?)\s*-->\s*$")
# Blocks that cannot run here, with why; the count is pinned so that a new one is a choice.
SKIPPED = 20


@dataclass
class Block:
    page: Path
    line: int  # 1-based line of the opening fence
    body: list[str]
    options: dict[str, str] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def _options(text: str) -> dict[str, str]:
    options = {}
    for part in filter(None, (p.strip() for p in text.split(";"))):
        key, _, value = part.partition(" ")
        options[key] = value.strip()
    return options


def blocks() -> Iterator[Block]:
    for page in PAGES:
        lines = page.read_text(encoding="utf-8").splitlines()
        i = 0
        while i < len(lines):
            if lines[i].strip() == "```console":
                end = next(j for j in range(i + 1, len(lines)) if lines[j].strip() == "```")
                above = lines[i - 1] if i else ""
                marker = MARKER.match(above)
                yield Block(page, i + 1, lines[i + 1 : end], _options(marker[1]) if marker else {})
                i = end
            i += 1


ALL = list(blocks())


def commands(block: Block) -> list[tuple[str, list[str], list[str]]]:
    """``(command, shown output lines, its lines as written)`` of each ``$`` command."""
    out: list[tuple[str, list[str], list[str]]] = []
    lines = iter(block.body)
    for line in lines:
        if line.startswith("$ "):
            written = [line]
            command = line[2:]
            while command.endswith("\\"):
                written.append(next(lines))
                command = command[:-1] + " " + written[-1].strip()
            out.append((command, [], written))
        elif out:
            out[-1][1].append(line)
        else:
            raise AssertionError(f"{block.id}: output before any $ command (mark it an excerpt)")
    return out


_PORT = re.compile(r"127\.0\.0\.1:\d+")
_TMP = re.compile(r"/tmp/[^\s:,)]+")
_TIME = re.compile(r"\b\d+(\.\d+)? ?(ms|s)\b(?= total| elapsed|\))")


def normal(lines: list[str]) -> list[str]:
    out = []
    for line in lines:
        line = _PORT.sub("127.0.0.1:PORT", line.rstrip())
        out.append(_TIME.sub("T", _TMP.sub("/tmp/PATH", line)))
    while out and not out[-1]:
        out.pop()
    return out


def matches(shown: list[str], actual: list[str]) -> bool:
    """Whether ``actual`` is ``shown``, where a line ``…`` in ``shown`` is any lines."""
    if not shown:
        return not actual
    if shown[0] == "…":
        return any(matches(shown[1:], actual[k:]) for k in range(len(actual) + 1))
    return bool(actual) and actual[0] == shown[0] and matches(shown[1:], actual[1:])


def execute(command: str, block: Block, tmp: Path, monkeypatch, capsys) -> list[str]:
    argv = shlex.split(command, comments=True)
    pipe: list[str] = []
    if "|" in argv:  # hsvc ... | jq ...: the one pipe examples use
        at = argv.index("|")
        argv, pipe = argv[:at], argv[at + 1 :]
        assert pipe[:1] == ["jq"], f"{block.id}: only a pipe into jq runs here: {command}"
        if shutil.which("jq") is None:
            pytest.skip(f"{block.id}: jq is not installed")
    assert argv and argv[0] == "hsvc", f"{block.id}: only hsvc commands run here: {command}"
    assert not {"|", ">", "<"} & set(argv + pipe), f"{block.id}: a redirect: mark the block skip"
    cwd = ROOT
    files = block.options.get("files")
    if files:
        cwd = tmp
        for entry in (ROOT / "tests", ROOT / "hsvc"):
            (tmp / entry.name).symlink_to(entry)
        for pair in files.split():
            name, _, path = pair.partition("=")
            target = tmp / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to(ROOT / path)
    monkeypatch.chdir(cwd)
    columns = block.options.get("columns", "80" if "excerpt" in block.options else "0")
    if columns == "0":
        monkeypatch.delenv("COLUMNS", raising=False)
    else:
        monkeypatch.setenv("COLUMNS", columns)
    monkeypatch.setenv("NO_COLOR", "1")
    for name in ("KUBECONFIG", "HSVC_NAMESERVER", "HSVC_CLUSTER_DOMAIN", "HSVC_VIA"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("KUBECONFIG", str(tmp / "no-kubeconfig"))  # never a real cluster
    capsys.readouterr()
    with pytest.raises(SystemExit):
        main(argv[1:])
    captured = capsys.readouterr()
    out = captured.out
    if pipe:
        out = subprocess.run(pipe, input=out, capture_output=True, text=True, check=True).stdout
    return normal(out.splitlines() + captured.err.splitlines())


def _fix(block: Block, outputs: list[tuple[list[str], list[str]]]) -> None:
    """Write the outputs into the block (found by its text: blocks above it may have moved)."""
    page = block.page.read_text(encoding="utf-8").splitlines()
    body: list[str] = []
    for written, actual in outputs:
        body.extend(written)
        body.extend(actual)
    n = len(block.body)
    starts = [
        i
        for i in range(len(page) - n + 1)
        if page[i - 1 : i] == ["```console"] and page[i : i + n] == block.body
    ]
    assert starts, f"{block.id}: the block changed while fixing"
    start = min(starts, key=lambda i: abs(i - block.line))
    page[start : start + n] = body
    block.page.write_text("\n".join(page) + "\n", encoding="utf-8")


# Generated from --help (tests/test_contracts.py keeps it equal): usage lines, not runs.
GENERATED = ROOT / "docs" / "reference" / "cli.md"


def _skip_reason(block: Block) -> str | None:
    if block.page == GENERATED:
        return "a usage line of the generated CLI reference (tests/test_contracts.py)"
    return block.options.get("skip")


@pytest.mark.parametrize("block", ALL, ids=[b.id for b in ALL])
def test_console_block(block: Block, tmp_path: Path, monkeypatch, capsys) -> None:
    if block.page == GENERATED:
        pytest.skip(f"{block.id}: {_skip_reason(block)}")
    if "skip" in block.options:
        assert block.options["skip"], f"{block.id}: say why it is skipped"
        pytest.skip(f"{block.id}: {block.options['skip']}")
    if "excerpt" in block.options:
        actual = execute(block.options["excerpt"], block, tmp_path, monkeypatch, capsys)
        shown = normal(block.body)
        assert any(
            actual[k : k + len(shown)] == shown for k in range(len(actual) - len(shown) + 1)
        ), f"{block.id}: not a part of the output of {block.options['excerpt']}:\n" + "\n".join(
            actual
        )
        return
    ran = []
    stale = False
    for n, (command, shown, written) in enumerate(commands(block)):
        where = tmp_path / str(n)
        where.mkdir()
        actual = execute(command, block, where, monkeypatch, capsys)
        ran.append((written, actual))
        stale = stale or not matches(normal(shown), actual)
        if os.environ.get("HSVC_DOCS_FIX"):
            continue
        assert matches(normal(shown), actual), (
            f"{block.id}: `{command}` prints something else:\n" + "\n".join(actual)
        )
    if os.environ.get("HSVC_DOCS_FIX") and stale:
        _fix(block, ran)


def test_every_console_block_is_run_or_says_why_not() -> None:
    skipped = [b for b in ALL if _skip_reason(b) is not None]
    reasons = sorted({str(_skip_reason(b)) for b in skipped})
    assert all(reasons), "a skip marker without a reason"
    assert len(ALL) >= 40
    # Most examples run offline; those that need a live cluster are few, and counted.
    assert len(skipped) == SKIPPED, (len(skipped), [b.id for b in skipped])
    print(f"{len(ALL)} console blocks, {len(skipped)} skipped: " + "; ".join(reasons))
