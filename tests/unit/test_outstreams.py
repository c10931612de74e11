"""Standard streams: a result that cannot be written fails the run (exit 74), a note is dropped.

Real failing files: /dev/full (every write fails with ENOSPC) and a pipe whose
reading end is closed (EPIPE).
"""

from __future__ import annotations

import errno
import io
import os
import sys
from collections.abc import Iterator

import pytest

from hsvc.errors import ExitCode, WriteFailedError
from hsvc.outstreams import BestEffort, Checked, silence_stdout, write_failed
from hsvc.terminal import Environment

FULL = "/dev/full"
needs_full = pytest.mark.skipif(not os.path.exists(FULL), reason="no /dev/full")


@pytest.fixture
def full() -> Iterator[io.TextIOWrapper]:
    stream = open(FULL, "w", buffering=1)  # line-buffered: a line is written at once
    yield stream
    try:
        stream.close()
    except OSError:
        pass  # what is still buffered cannot be written either


@pytest.fixture
def closed_pipe() -> Iterator[io.TextIOWrapper]:
    read, write = os.pipe()
    os.close(read)
    stream = open(write, "w", buffering=1)
    yield stream
    try:
        stream.close()
    except OSError:
        pass


def test_checked_writes_and_flushes_through_to_its_stream():
    target = io.StringIO()
    out = Checked(target)
    assert out.write("result\n") == 7
    out.flush()
    assert target.getvalue() == "result\n"
    assert out.getvalue() == "result\n"  # anything else is the stream's own


@needs_full
def test_checked_write_to_a_full_device_is_the_runs_failure(full):
    with pytest.raises(WriteFailedError) as caught:
        Checked(full).write("result\n")
    assert caught.value.message == "cannot write the results: no space left on device"
    assert caught.value.exit_code == ExitCode.WRITE_FAILED


@needs_full
def test_checked_flush_to_a_full_device_is_the_runs_failure():
    stream = open(FULL, "w")  # buffered: the write is kept, the flush fails
    try:
        out = Checked(stream)
        assert out.write("result") == 6
        with pytest.raises(WriteFailedError, match="no space left on device"):
            out.flush()
    finally:
        with pytest.raises(OSError):
            stream.close()  # what is buffered still cannot be written


def test_checked_write_to_a_closed_pipe_says_the_pipe_closed(closed_pipe):
    with pytest.raises(WriteFailedError) as caught:
        Checked(closed_pipe).write("result\n")
    assert caught.value.message == "cannot write the results: the pipe closed"


@needs_full
def test_best_effort_drops_what_cannot_be_written(full):
    err = BestEffort(full)
    assert err.write("note\n") == 5  # dropped, counted as written
    err.write("unfinished")
    err.flush()  # nothing raised
    assert err.name == FULL  # anything else is the stream's own


def test_best_effort_writes_through_when_it_can():
    target = io.StringIO()
    err = BestEffort(target)
    assert err.write("note\n") == 5
    err.flush()
    assert target.getvalue() == "note\n"


@pytest.mark.parametrize(
    ("exc", "message"),
    [
        (OSError(errno.ENOSPC, "No space left on device"), "no space left on device"),
        (OSError(errno.EPIPE, "Broken pipe"), "the pipe closed"),
        (WriteFailedError("cannot write the results: disk gone"), "disk gone"),
    ],
    ids=["enospc", "epipe", "already-said"],
)
def test_write_failed_is_one_error_line_and_exit_74(exc, message):
    stderr = io.StringIO()
    code = write_failed(exc, Environment(stdout=io.StringIO(), stderr=stderr), own=False)
    assert code == ExitCode.WRITE_FAILED == 74
    assert stderr.getvalue() == f"hsvc: error: cannot write the results: {message}\n"


def test_an_os_error_that_is_no_write_failure_is_raised_again():
    exc = OSError(errno.ENOENT, "No such file or directory")
    stderr = io.StringIO()
    with pytest.raises(OSError) as caught:
        write_failed(exc, Environment(stdout=io.StringIO(), stderr=stderr), own=True)
    assert caught.value is exc and stderr.getvalue() == ""


def test_silence_stdout_points_the_stdout_descriptor_at_dev_null(tmp_path, monkeypatch):
    target = tmp_path / "out"
    with target.open("w") as stream:
        monkeypatch.setattr(sys, "stdout", stream)
        silence_stdout()
        os.write(stream.fileno(), b"after the failure\n")
        null = os.stat(os.devnull)
        now = os.fstat(stream.fileno())
        assert (now.st_dev, now.st_ino, now.st_rdev) == (null.st_dev, null.st_ino, null.st_rdev)
    assert target.read_text() == ""


def test_silence_stdout_without_a_descriptor_does_nothing(monkeypatch):
    stream = io.StringIO()  # fileno() raises io.UnsupportedOperation
    monkeypatch.setattr(sys, "stdout", stream)
    silence_stdout()
    assert sys.stdout is stream
