"""The terminal a command runs in: streams, width, colour, is-a-tty (as httpie's ``Environment``).

The CLI builds one :class:`Environment` from the process (or a test passes its
own) and every console is built from it, so tests need not patch ``sys.stdout``
or the environment. rich is imported only when a console is built.
"""

from __future__ import annotations

import os
import sys
from dataclasses import field
from pathlib import Path
from typing import TYPE_CHECKING, TextIO, cast

from hsvc.core.dataclass import dataclass

if TYPE_CHECKING:
    from rich.console import Console  # noqa: TID251

RESOLV_CONF = "/etc/resolv.conf"
# The width used when stdout is not a terminal and COLUMNS is unset: nothing wraps
# (the renderers' hsvc.render.table.UNBOUNDED; tests/unit/test_layout.py keeps them equal).
UNBOUNDED = 100_000


class _Trimmed:
    """A text stream that drops trailing spaces from every line written through it.

    rich pads table cells to their column's width; in a file or a pipe those
    spaces are noise (``grep 'x$'``, diffs), so lines end at their last character.
    """

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._pending = ""

    def write(self, text: str) -> int:
        lines = (self._pending + text).split("\n")
        self._pending = lines.pop()
        if lines:
            self._stream.write("".join(line.rstrip(" ") + "\n" for line in lines))
        return len(text)

    def flush(self) -> None:
        if self._pending:
            self._stream.write(self._pending)
            self._pending = ""
        self._stream.flush()

    def isatty(self) -> bool:
        isatty = getattr(self._stream, "isatty", None)
        return bool(isatty and isatty())

    def fileno(self) -> int:
        return self._stream.fileno()

    @property
    def encoding(self) -> str:
        return getattr(self._stream, "encoding", None) or "utf-8"


def _stdout() -> TextIO:
    return sys.stdout


def _stderr() -> TextIO:
    return sys.stderr


@dataclass(kw_only=True)
class Environment:
    """Streams and terminal facts; every field can be overridden by keyword."""

    stdout: TextIO = field(default_factory=_stdout)
    stderr: TextIO = field(default_factory=_stderr)
    # Columns of the terminal; None lets rich decide (COLUMNS, then the terminal).
    width: int | None = None
    # False: never colour (NO_COLOR set); None lets rich decide (a terminal, FORCE_COLOR).
    colors: bool | None = None
    # Running in a Kubernetes pod (KUBERNETES_SERVICE_HOST set): DNS is asked as the pod does.
    in_pod: bool = False
    resolv_conf_path: str = RESOLV_CONF
    # Set by a command whose process should end without interpreter teardown (monitor).
    exit_now: bool = False

    @classmethod
    def from_process(cls) -> Environment:
        """Read the process's streams and environment variables (the only place that does)."""
        # no-color.org: present and non-empty, whatever the value, means no colour.
        isatty = getattr(sys.stdout, "isatty", None)
        terminal = bool(isatty and isatty())
        return cls(
            colors=False if os.environ.get("NO_COLOR") else None,
            in_pod=bool(os.environ.get("KUBERNETES_SERVICE_HOST")),
            # Not a terminal and no COLUMNS: a file or a pipe, where nothing should wrap.
            width=None if terminal or os.environ.get("COLUMNS") else UNBOUNDED,
            resolv_conf_path=os.environ.get("HSVC_RESOLV_CONF") or RESOLV_CONF,
        )

    @property
    def stderr_isatty(self) -> bool:
        """Whether stderr is a terminal (progress bars go there, and only then)."""
        isatty = getattr(self.stderr, "isatty", None)
        return bool(isatty and isatty())

    def resolv_conf(self) -> str:
        """Return this pod's resolv.conf ("" outside a pod or when it cannot be read)."""
        if not self.in_pod:
            return ""
        try:
            return Path(self.resolv_conf_path).read_text(encoding="utf-8")
        except OSError:
            return ""

    def console(self, *, stderr: bool = False, no_color: bool = False) -> Console:
        """Build a console on stdout (or stderr): no markup, no highlighting, no emoji."""
        from rich.console import Console  # noqa: TID251

        plain = no_color or self.colors is False
        return Console(
            file=self.stderr if stderr else cast(TextIO, _Trimmed(self.stdout)),
            width=self.width,
            no_color=plain,
            color_system=None if plain else "auto",
            highlight=False,
            markup=False,
            emoji=False,
            soft_wrap=False,
        )
