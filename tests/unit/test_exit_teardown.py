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
from types import SimpleNamespace
from typing import Any

import pytest

from hsvc.cli import main
from hsvc.outstreams import end_process, owns_process

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
    "if sys.argv[1] == 'thread':  # before sys.argv is the command's\n"
    "    threading.Thread(target=lambda: (time.sleep(0.2), sys.stderr.write('waited\\n'))).start()\n"
    "mode = sys.argv[1]\n"
    "sys.argv = ['hsvc', 'explain', sys.argv[2]]\n"
    "from hsvc.entry import main\n"
    "def embedding():\n"
    "    try:\n"
    "        main()\n"
    "    except SystemExit as exc:\n"
    "        sys.stderr.write(f'caught {exc.code}\\n')\n"
    "embedding() if mode == 'embedded' else main()\n"
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


def test_a_program_calling_main_itself_gets_the_exit():
    done = _probe("embedded", "NOPE")
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert "caught 2" in lines and "torn down" in lines


def test_a_profiled_run_exits_the_usual_way_so_the_profile_is_written(tmp_path):
    script = tmp_path / "run.py"
    script.write_text(
        "import sys\nsys.argv[1:] = ['explain', 'HSVC603']\nfrom hsvc.entry import main\nmain()\n"
    )
    written = tmp_path / "run.prof"
    done = subprocess.run(
        [sys.executable, "-m", "cProfile", "-o", str(written), str(script)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("HSVC603")
    assert written.stat().st_size > 0


def test_a_run_under_python_i_exits_to_its_prompt():
    # python -i reads its prompt once the run exits: the run must exit, not end the process.
    done = subprocess.run(
        [sys.executable, "-i", "-m", "hsvc", "explain", "HSVC603"],
        cwd=ROOT,
        input="print('prompt read')\n",
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.stdout.startswith("HSVC603"), done.stderr
    assert "prompt read" in done.stdout, done.stderr


def _frame(code: str, module: str, back: object = None) -> Any:
    return SimpleNamespace(
        f_code=SimpleNamespace(co_name=code), f_globals={"__name__": module}, f_back=back
    )


def test_only_the_processs_main_code_owns_the_process(monkeypatch):
    assert not owns_process(None)
    assert not owns_process(sys._getframe())  # a test function, under pytest
    monkeypatch.setattr(sys, "gettrace", lambda: None)  # as without coverage's tracer
    monkeypatch.setattr(sys, "getprofile", lambda: None)
    script = _frame("<module>", "__main__")  # the console script
    assert owns_process(script)
    assert owns_process(
        _frame(
            "<module>",
            "__main__",
            _frame("_run_code", "runpy", _frame("_run_module_as_main", "runpy")),
        )
    )
    assert not owns_process(_frame("<module>", "__main__", _frame("runctx", "cProfile")))
    assert not owns_process(_frame("<module>", "hsvc.__main__"))  # imported, not run
    assert not owns_process(_frame("embedding", "__main__"))
    monkeypatch.setattr(sys, "getprofile", lambda: object())  # a profiler
    assert not owns_process(script)
