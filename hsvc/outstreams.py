"""The CLI's standard streams: output that must arrive, errors that are best effort.

A result that cannot be written to stdout is a failed run (exit 74,
docs/reference/exit-codes.md); a note that cannot be written to stderr is dropped.
"""

import atexit
import errno
import os
import sys
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any, NoReturn, TextIO

from hsvc.errors import ExitCode, WriteFailedError
from hsvc.present import error_line
from hsvc.terminal import Environment

WRITE_ERRNOS = frozenset(
    {errno.ENOSPC, errno.EPIPE, errno.EIO, errno.EFBIG, errno.EBADF, errno.EDQUOT}
)


class Checked:
    """Standard output: a failed write is :class:`WriteFailedError`, reported at the catch point."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        """Write ``text``; a failure is the run's failure."""
        try:
            return self._stream.write(text)
        except OSError as exc:
            raise WriteFailedError(f"cannot write the results: {_why(exc)}") from exc

    def flush(self) -> None:
        """Flush; a failure is the run's failure."""
        try:
            self._stream.flush()
        except OSError as exc:
            raise WriteFailedError(f"cannot write the results: {_why(exc)}") from exc

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


class BestEffort:
    """Standard error: what cannot be written is dropped (there is nowhere to say so)."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        """Write ``text``, or drop it."""
        try:
            return self._stream.write(text)
        except OSError:
            return len(text)

    def flush(self) -> None:
        """Flush, or drop what is left."""
        try:
            self._stream.flush()
        except OSError:
            pass

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _why(exc: OSError) -> str:
    return (exc.strerror or str(exc)).lower() if exc.errno != errno.EPIPE else "the pipe closed"


def write_failed(exc: BaseException, env: Environment, *, own: bool) -> int:
    """Report output that could not be written; exit 74 (exit-codes.md).

    Raises:
        OSError: ``exc`` itself, when it is no write failure (a bug elsewhere).
    """
    if isinstance(exc, OSError):
        if exc.errno not in WRITE_ERRNOS:
            raise exc
        exc = WriteFailedError(f"cannot write the results: {_why(exc)}")
    assert isinstance(exc, WriteFailedError)
    error_line(exc.message, env.stderr)
    return int(ExitCode.WRITE_FAILED)


def silence_stdout() -> None:
    """Point stdout at /dev/null after a write failure.

    The interpreter flushes stdout once more on exit; what is still buffered would
    fail again and print a traceback.
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


def owns_process(caller: FrameType | None) -> bool:
    """Whether ``caller``, the frame that called the console script's ``main``, is the process.

    That is the console script's own code, or ``python -m hsvc``'s below runpy, with no
    profiler or tracer set. Anything else around it (``python -m cProfile``, which
    writes its file once the run exits; a debugger; coverage; a program calling
    ``main`` from a function; ``python -i``, whose prompt follows the exit) may still
    act on the exit, so the process ends the usual way.
    """
    if sys.getprofile() is not None or sys.gettrace() is not None:
        return False
    if sys.flags.inspect:
        return False
    if caller is None or caller.f_code.co_name != "<module>":
        return False
    if caller.f_globals.get("__name__") != "__main__":
        return False
    frame = caller.f_back
    while frame is not None:
        if frame.f_globals.get("__name__") != "runpy":
            return False
        frame = frame.f_back
    return True


def end_process(
    code: int,
    *,
    run_exit_handlers: Callable[[], None] = atexit._run_exitfuncs,
    leave: Callable[[int], NoReturn] = os._exit,
) -> NoReturn:
    """End the process with ``code`` as ``sys.exit`` would, without interpreter teardown.

    What the interpreter does at exit that can be seen is done as it does it: the
    atexit handlers run (the dataclass-init cache, logging's flush), then stdout and
    stderr are flushed. Freeing every module and object one by one after that was
    about 1 % of a small inspect's instructions (docs/reference/benchmarks.md). A run
    that still has a thread the interpreter would wait for, that is not on the main
    thread, or in development mode (whose teardown reports unclosed resources) exits
    the usual way, and so does one whose final flush fails (the interpreter reports it).
    """
    main = threading.main_thread()
    if (
        sys.flags.dev_mode
        or threading.current_thread() is not main
        or any(t is not main and not t.daemon and t.is_alive() for t in threading.enumerate())
    ):
        sys.exit(code)
    run_exit_handlers()
    try:
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:
                stream.flush()
    except (OSError, ValueError):
        sys.exit(code)
    leave(code)
