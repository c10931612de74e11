"""Output that cannot be written: one line on stderr and exit 74; stderr is best effort.

Real processes with their streams on /dev/full (a device where every write fails
with ENOSPC), as `hsvc ... > /dev/full` runs them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from hsvc.errors import ExitCode

pytestmark = pytest.mark.integration

SEED = str(Path(__file__).resolve().parents[1] / "data" / "seed" / "ms.yaml")
FULL = "/dev/full"


def hsvc_to(stdout: str | None, stderr: str | None, *args: str) -> subprocess.CompletedProcess[str]:
    out = open(stdout, "w") if stdout else subprocess.PIPE
    err = open(stderr, "w") if stderr else subprocess.PIPE
    try:
        return subprocess.run(
            [sys.executable, "-m", "hsvc", *args],
            stdout=out,
            stderr=err,
            text=True,
            timeout=30,
        )
    finally:
        for stream in (out, err):
            if not isinstance(stream, int):
                stream.close()


needs_full = pytest.mark.skipif(not os.path.exists(FULL), reason="no /dev/full")


@needs_full
@pytest.mark.parametrize(
    "args",
    [
        ["records", "-n", "ms", "-f", SEED, "--offline"],
        ["records", "-n", "ms", "-f", SEED, "--offline", "-o", "json"],
        ["lint", "-f", SEED, "-o", "sarif"],
        ["--help"],
        ["--version"],
        ["records", "--help"],
    ],
    ids=["table", "json", "sarif", "help", "version", "command-help"],
)
def test_a_full_stdout_is_exit_74_with_one_line(args) -> None:
    result = hsvc_to(FULL, None, *args)
    assert result.returncode == ExitCode.WRITE_FAILED, result.stderr
    assert result.stderr == "hsvc: error: cannot write the results: no space left on device\n"


@needs_full
def test_a_full_stderr_does_not_change_the_exit_code() -> None:
    # The run writes a note to stderr (kubeadm defaults assumed); its results are fine.
    result = hsvc_to(None, FULL, "records", "-n", "ms", "-f", SEED, "--offline")
    assert result.returncode == ExitCode.OK
    assert "gateway.ms.svc" in result.stdout


def hsvc_closed(redirect: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``hsvc ARGS`` with a stream closed before it starts (``>&-`` or ``2>&-``)."""
    command = " ".join([sys.executable, "-m", "hsvc", *args])
    return subprocess.run(
        ["sh", "-c", f"exec {command} {redirect}"],
        capture_output=True,
        text=True,
        timeout=30,
    )


@pytest.mark.parametrize(
    "args",
    [
        ["records", "-n", "ms", "-f", SEED, "--offline", "-o", "json"],
        ["explain", "HSVC603"],
        ["--version"],
        ["--help"],
    ],
    ids=["json", "explain", "version", "help"],
)
def test_a_closed_stdout_is_exit_74_with_one_line(args) -> None:
    result = hsvc_closed(">&-", *args)
    assert result.returncode == ExitCode.WRITE_FAILED, result.stderr
    assert result.stderr == "hsvc: error: cannot write the results: bad file descriptor\n"


def test_a_closed_stderr_drops_the_notes_and_keeps_the_results() -> None:
    # The run writes a note to stderr (kubeadm defaults assumed); its results are fine.
    result = hsvc_closed("2>&-", "records", "-n", "ms", "-f", SEED, "--offline")
    assert result.returncode == ExitCode.OK
    assert "gateway.ms.svc" in result.stdout
