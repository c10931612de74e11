"""The console scripts ``hsvc`` and ``kubectl-hsvc``: ``--version`` and ``--help`` at once.

``hsvc --help`` and ``hsvc --version`` are answered here from text kept equal to
what the typer app prints (:mod:`hsvc.helptext`, regenerated and checked by
tests/unit/test_entry.py), without importing typer and the app (two thirds of
their start, docs/reference/benchmarks.md). Anything else, and these two where
the output could differ (a terminal narrower than the help, shell completion),
runs :func:`hsvc.cli.main`.
"""

from __future__ import annotations

import errno
import io
import os
import shutil
import sys
from collections.abc import Mapping
from typing import NoReturn

from hsvc import __version__

HELP_WIDTH = 80
"""Help is laid out to the terminal's width up to this (click's ``max_width``)."""


def fast_answer(argv: list[str], prog: str, environ: Mapping[str, str]) -> str | None:
    """The text ``hsvc ARGV`` prints when it is ``--version`` or the root help, else None."""
    if argv == ["--version"]:
        return f"hsvc {__version__}\n"
    if argv not in (["--help"], ["-h"]):
        return None
    if any(name.endswith("_COMPLETE") for name in environ):
        return None  # shell completion asks through these variables
    if shutil.get_terminal_size().columns < HELP_WIDTH:
        return None
    from hsvc.helptext import ROOT_HELP

    return ROOT_HELP.replace("Usage: hsvc ", f"Usage: {prog} ", 1)


class ClosedStream(io.TextIOBase):
    """A standard stream closed before the start (``hsvc ... >&-``): every write fails.

    Python leaves such a stream None; as this, a write to it fails as one to a
    closed descriptor would (EBADF), which is exit 74 for stdout
    (docs/reference/exit-codes.md). Nothing is ever buffered: flushing succeeds.
    """

    def write(self, text: str) -> int:
        """Fail as a write to a closed descriptor does."""
        raise OSError(errno.EBADF, os.strerror(errno.EBADF))

    def fileno(self) -> int:
        """There is no descriptor."""
        raise OSError(errno.EBADF, os.strerror(errno.EBADF))


def open_streams() -> None:
    """Bind stdout and stderr if they were closed before the start.

    A closed stdout fails the run's first write (exit 74, one line on stderr); a
    closed stderr drops what is written there, as a failing one does.
    """
    if sys.stderr is None:
        sys.stderr = open(os.devnull, "w")  # the process's own stream, open to the end
    if sys.stdout is None:
        sys.stdout = ClosedStream()


def main() -> NoReturn:
    """Run the CLI (console scripts ``hsvc`` and ``kubectl-hsvc``)."""
    open_streams()
    prog = "kubectl hsvc" if os.path.basename(sys.argv[0]).startswith("kubectl-") else "hsvc"
    text = fast_answer(sys.argv[1:], prog, os.environ)
    if text is not None:
        try:
            sys.stdout.write(text)
            sys.stdout.flush()
            sys.exit(0)
        except OSError:
            pass  # the app reports a failed write (exit 74)
    # The collector's thresholds hsvc.cli.main sets for the run, already while the
    # modules load: at the default ones it rescanned their objects again and again
    # (about 1 % of a small inspect's instructions, docs/reference/benchmarks.md).
    from hsvc.core.collector import collect_rarely

    collect_rarely()
    from hsvc.adapters import regexcache

    regexcache.install()  # before the modules load: their regular expressions from the last run
    from hsvc.adapters.initcache import install

    install()  # before hsvc's classes are defined: their __init__ code from the last run
    from hsvc.cli import main as run
    from hsvc.outstreams import end_process, owns_process

    try:
        run()
    except SystemExit as done:
        # Nothing else in the process waits for the exit: end it without teardown.
        if type(done.code) is int and owns_process(sys._getframe(1)):
            end_process(done.code)
        raise
