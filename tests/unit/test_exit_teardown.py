"""The process's own run ends without collecting or tearing down what it built.

A caller's run is left alone, and so is a process with a thread the interpreter
would wait for.
"""

from __future__ import annotations

import contextlib
import gc
import io
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from hsvc.cli import main
from hsvc.outstreams import end_process

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


# Says so when the interpreter clears its own state, the last step of its teardown.
_TEARDOWN_PROBE = (
    "import atexit, os, sys, threading, time\n"
    "def hook(event, args, write=os.write):\n"
    "    if event == 'cpython.PyInterpreterState_Clear':\n"
    "        write(2, b'torn down\\n')\n"
    "sys.addaudithook(hook)\n"
    "atexit.register(lambda: sys.stderr.write('atexit ran\\n'))\n"
    "if sys.argv[1] == 'thread':\n"
    "    threading.Thread(target=lambda: (time.sleep(0.2), sys.stderr.write('waited\\n'))).start()\n"
    "sys.argv = ['hsvc', 'explain', sys.argv[2]]\n"
    "from hsvc.cli import main\n"
    "main()\n"
)


def _probe(mode: str, code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _TEARDOWN_PROBE, mode, code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize(("code", "status"), [("HSVC603", 0), ("NOPE", 2)])
def test_own_process_ends_with_its_exit_code_and_atexit_but_without_teardown(code, status):
    done = _probe("alone", code)
    assert done.returncode == status, done.stderr
    lines = done.stderr.splitlines()
    assert "atexit ran" in lines
    assert "torn down" not in lines
    if status == 0:
        assert done.stdout.startswith("HSVC603")  # the output is flushed in full
    else:
        assert "NOPE" in done.stderr  # the error line reached stderr


def test_a_thread_the_interpreter_waits_for_makes_the_usual_exit():
    done = _probe("thread", "HSVC603")
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert lines.index("waited") < lines.index("atexit ran")  # as the interpreter orders them
    assert "torn down" in lines
    assert done.stdout.startswith("HSVC603")


class _Ends:
    """What end_process did, in order."""

    def __init__(self) -> None:
        self.calls: list[object] = []

    def handlers(self) -> None:
        self.calls.append("handlers")

    def leave(self, code: int) -> None:
        self.calls.append(code)
        raise SystemExit(f"left {code}")


def test_end_process_runs_the_handlers_flushes_and_leaves_with_the_code(capsys):
    ends = _Ends()
    sys.stdout.write("pending")
    with pytest.raises(SystemExit, match="left 3"):
        end_process(3, run_exit_handlers=ends.handlers, leave=ends.leave)
    assert ends.calls == ["handlers", 3]
    assert capsys.readouterr().out == "pending"


def test_end_process_exits_the_usual_way_when_the_final_flush_fails(monkeypatch):
    class Failing(io.StringIO):
        def flush(self) -> None:
            raise OSError(28, "No space left on device")

    ends = _Ends()
    monkeypatch.setattr(sys, "stdout", Failing())
    with pytest.raises(SystemExit) as done:
        end_process(4, run_exit_handlers=ends.handlers, leave=ends.leave)
    assert done.value.code == 4
    assert ends.calls == ["handlers"]  # the interpreter reports the failed flush itself


def test_end_process_off_the_main_thread_exits_the_usual_way():
    ends = _Ends()
    caught: list[BaseException] = []

    def run() -> None:
        try:
            end_process(5, run_exit_handlers=ends.handlers, leave=ends.leave)
        except SystemExit as exc:
            caught.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    assert [e.code for e in caught if isinstance(e, SystemExit)] == [5]
    assert ends.calls == []
