"""``hsvc --help`` and ``--version`` answered without typer: the same text as the app's.

When the app's help changes, regenerate hsvc/helptext.py:
``python -c "from tests.unit.test_entry import write_helptext; write_helptext()"``.
"""

from __future__ import annotations

import contextlib
import errno
import io
import subprocess
import sys
from pathlib import Path

import pytest

from hsvc import entry
from hsvc.cli import main

ROOT = Path(__file__).resolve().parent.parent.parent


def apps_output(argv: list[str], prog: str = "hsvc") -> str:
    buf = io.StringIO()
    old = sys.argv[0]
    sys.argv[0] = "kubectl-hsvc" if prog.startswith("kubectl") else "hsvc"
    try:
        with contextlib.redirect_stdout(buf), pytest.raises(SystemExit) as done:
            main(argv)
    finally:
        sys.argv[0] = old
    assert done.value.code == 0
    return buf.getvalue()


def helptext_source(text: str) -> str:
    assert '"""' not in text and "\\" not in text
    return (
        '"""The root help of the typer app, as it prints it at 80 columns or more.\n\n'
        "Generated, and checked, by tests/unit/test_entry.py.\n"
        '"""\n\n'
        f'ROOT_HELP = """\\\n{text}"""\n'
    )


def write_helptext() -> None:
    (ROOT / "hsvc" / "helptext.py").write_text(helptext_source(apps_output(["--help"])))


@pytest.mark.parametrize("prog", ["hsvc", "kubectl hsvc"])
@pytest.mark.parametrize("argv", [["--help"], ["-h"], ["--version"]])
def test_fast_answer_is_the_apps_output(
    argv: list[str], prog: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "120")
    assert entry.fast_answer(argv, prog, {}) == apps_output(argv, prog)


def test_helptext_is_generated_from_the_app() -> None:
    committed = (ROOT / "hsvc" / "helptext.py").read_text()
    assert committed == helptext_source(apps_output(["--help"])), __doc__


@pytest.mark.parametrize(
    ("argv", "columns", "environ"),
    [
        (["inspect", "--help"], "120", {}),
        (["--help", "x"], "120", {}),
        ([], "120", {}),
        (["--help"], "60", {}),  # a narrow terminal: typer lays the help out
        (["--help"], "120", {"_HSVC_COMPLETE": "bash_source"}),
    ],
)
def test_everything_else_goes_to_the_app(
    argv: list[str], columns: str, environ: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", columns)
    assert entry.fast_answer(argv, "hsvc", environ) is None


def test_the_console_script_help_loads_no_typer() -> None:
    code = (
        "import sys\n"
        "sys.argv = ['hsvc', '--help']\n"
        "from hsvc.entry import main\n"
        "try:\n"
        "    main()\n"
        "except SystemExit as exc:\n"
        "    assert exc.code == 0\n"
        "sys.stdout.flush()\n"
        "print('typer' in sys.modules, 'hsvc.cli' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env={"COLUMNS": "100", "PATH": "/usr/bin:/bin"},
    )
    assert out.stdout.startswith("Usage: hsvc [OPTIONS] COMMAND [ARGS]...")
    assert out.stdout.split()[-2:] == ["False", "False"]


def test_streams_closed_before_the_start_are_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdout", None)
    monkeypatch.setattr(sys, "stderr", None)
    entry.open_streams()
    assert isinstance(sys.stdout, entry.ClosedStream)
    sys.stdout.flush()  # nothing buffered: the interpreter's last flush succeeds
    for call in (lambda: sys.stdout.write("x"), sys.stdout.fileno):
        with pytest.raises(OSError) as failed:
            call()
        assert failed.value.errno == errno.EBADF
    assert sys.stderr.write("dropped\n") == 8  # to the null device
    sys.stderr.close()


def test_open_streams_leaves_open_streams_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    out, err = io.StringIO(), io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(sys, "stderr", err)
    entry.open_streams()
    assert (sys.stdout, sys.stderr) == (out, err)
