"""The console scripts ``hsvc`` and ``kubectl-hsvc``: ``--version`` and ``--help`` at once.

``hsvc --help`` and ``hsvc --version`` are answered here from text kept equal to
what the typer app prints (:mod:`hsvc.helptext`, regenerated and checked by
tests/unit/test_entry.py), without importing typer and the app (two thirds of
their start, docs/reference/benchmarks.md). Anything else, and these two where
the output could differ (a terminal narrower than the help, shell completion),
runs :func:`hsvc.cli.main`.
"""

from __future__ import annotations

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


def main() -> NoReturn:
    """Run the CLI (console scripts ``hsvc`` and ``kubectl-hsvc``)."""
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
