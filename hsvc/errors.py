"""Exit codes and the errors hsvc reports to its users.

Every error builds its own one-line message from keyword fields (as dnspython's
``DNSException`` does) and carries the exit code the CLI returns for it. Only the
CLI wrapper catches these; adapters raise them ``from`` the library exception.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any, ClassVar


class ExitCode(IntEnum):
    """Process exit codes; documented in docs/reference/exit-codes.md."""

    OK = 0
    MISMATCH = 1
    USAGE = 2
    NOT_FOUND = 3
    ACCESS_DENIED = 4
    API_UNREACHABLE = 5
    NO_DNS = 6
    BAD_MANIFEST = 7
    INTERNAL = 70
    WRITE_FAILED = 74
    INTERRUPTED = 130


class HsvcError(Exception):
    """Base of every error hsvc reports as one line and an exit code.

    Subclasses set ``fmt`` (a ``str.format`` template over the keyword fields)
    and ``exit_code``. Positional use passes a ready message.
    """

    exit_code: ClassVar[ExitCode] = ExitCode.INTERNAL
    fmt: ClassVar[str] = "{message}"

    def __init__(self, message: str | None = None, **fields: Any) -> None:
        self.fields = fields
        if message is None:
            message = self.fmt.format(**fields)
        self.message = message
        super().__init__(message)


class UsageError(HsvcError):
    """Bad flags or arguments."""

    exit_code = ExitCode.USAGE


class InvalidNameError(UsageError):
    """A DNS name or Kubernetes name that cannot exist."""

    fmt = "invalid name {name!r}: {reason}"
    shown: ClassVar[int] = 80  # characters of the name quoted in the message

    def __init__(self, message: str | None = None, **fields: Any) -> None:
        name = fields.get("name")
        if message is None and isinstance(name, str) and len(name) > self.shown:
            # A pasted blob must not push the reason out of sight.
            quoted = f"{name[: self.shown]!r}... ({len(name)} characters)"
            message = f"invalid name {quoted}: {fields.get('reason')}"
        super().__init__(message, **fields)


class NotFoundError(HsvcError):
    """A Service, namespace or context that does not exist."""

    exit_code = ExitCode.NOT_FOUND


class AccessDeniedError(HsvcError):
    """The API refused the credentials (401) or the request (403)."""

    exit_code = ExitCode.ACCESS_DENIED


class ApiUnreachableError(HsvcError):
    """The API server cannot be reached, or the kubeconfig cannot be used."""

    exit_code = ExitCode.API_UNREACHABLE


class WriteFailedError(HsvcError):
    """Standard output cannot be written (a full disk, /dev/full, a failing stream)."""

    exit_code = ExitCode.WRITE_FAILED


class NoDnsError(HsvcError):
    """No DNS server answered any query, or none can be reached."""

    exit_code = ExitCode.NO_DNS


class ManifestError(HsvcError):
    """A manifest file that cannot be read as Kubernetes objects."""

    exit_code = ExitCode.BAD_MANIFEST

    def __init__(self, path: str, reason: str, line: int | None = None, column: int | None = None):
        self.path = path
        self.line = line
        self.column = column
        self.reason = reason
        where = path
        if line is not None:
            where += f":{line}"
            if column is not None:
                where += f":{column}"
        super().__init__(f"{where}: {reason}")
