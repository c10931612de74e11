"""The process's own run ends without collecting what it built; a caller's run is left alone."""

from __future__ import annotations

import contextlib
import gc
import io
import subprocess
import sys
from pathlib import Path

import pytest

from hsvc.cli import main

ROOT = Path(__file__).resolve().parent.parent.parent

# Prints, from an atexit handler, how many objects are frozen once main() has ended.
_PROBE = (
    "import atexit, gc, sys\n"
    "atexit.register(lambda: print('frozen', gc.get_freeze_count(), file=sys.stderr))\n"
    "sys.argv = ['hsvc', 'explain', 'HSVC603']\n"
    "from hsvc.cli import main\n"
    "main()\n"
)


def test_own_process_freezes_its_objects_before_teardown_and_runs_atexit() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("HSVC603")  # the output is written in full
    frozen = [line for line in done.stderr.splitlines() if line.startswith("frozen ")]
    assert frozen, done.stderr  # the atexit handler ran
    assert int(frozen[0].split()[1]) > 0


def test_a_callers_run_freezes_nothing() -> None:
    gc.unfreeze()
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as done:
        main(["explain", "HSVC603"])
    assert done.value.code == 0
    assert gc.get_freeze_count() == 0
