"""Terminal conventions: colour switches, --no-headers, and stdout for results only.

Colour is checked against a forced terminal (``FORCE_COLOR``, which rich honours),
so that "no escape codes" means something: without the switches the same command
does colour its output. Already covered in test_cli.py: one-line errors on stderr
with nothing on stdout, and the kubeadm note on stderr.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from hsvc.errors import ExitCode

SEED = str(Path(__file__).resolve().parent.parent / "data" / "seed" / "ms.yaml")
RECORDS = ("records", "eureka", "-n", "ms", "-f", SEED, "--offline")
ANSI = re.compile(r"\x1b\[")
HEADER = re.compile(r"^\s*NAME\s+TYPE\s+TTL\s+DATA", re.M)


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make rich believe it writes to a colour terminal 80 columns wide."""
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.delenv("NO_COLOR", raising=False)


def test_a_terminal_gets_colour_by_default(run, terminal) -> None:
    result = run(*RECORDS)
    assert result.code == ExitCode.OK, result.err
    assert ANSI.search(result.out)  # the control for the tests below


def test_no_color_flag_removes_every_escape(run, terminal) -> None:
    result = run(*RECORDS, "--no-color")
    assert result.code == ExitCode.OK, result.err
    assert "eureka-1.eureka.ms.svc" in result.out
    assert not ANSI.search(result.out) and not ANSI.search(result.err)


@pytest.mark.parametrize("value", ["1", "true", "0", "yes please"])
def test_no_color_env_any_non_empty_value(
    run, terminal, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    # no-color.org: present and non-empty, whatever the value, means no colour.
    monkeypatch.setenv("NO_COLOR", value)
    result = run(*RECORDS)
    assert result.code == ExitCode.OK, result.err
    assert not ANSI.search(result.out) and not ANSI.search(result.err)


def test_empty_no_color_keeps_colour(run, terminal, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "")
    result = run(*RECORDS)
    assert result.code == ExitCode.OK and ANSI.search(result.out)


def test_errors_carry_no_escapes_on_a_terminal(run, terminal) -> None:
    result = run("records", "nope", "-n", "ms", "-f", SEED, "--offline")
    assert result.code == ExitCode.NOT_FOUND
    assert result.err.startswith("hsvc: error: ") and not ANSI.search(result.err)


def test_no_headers_keeps_only_the_rows(run) -> None:
    with_headers = run(*RECORDS, "--no-color", width=80)
    assert HEADER.search(with_headers.out) and "Service name" in with_headers.out
    result = run(*RECORDS, "--no-color", "--no-headers", width=80)
    assert result.code == ExitCode.OK, result.err
    out = result.out
    assert not HEADER.search(out)
    assert "Service name" not in out and "Names that must not resolve" not in out
    assert "DNS:" not in out and "objects:" not in out
    assert result.err == ""  # notes are headers too
    rows = [line.split() for line in out.splitlines() if line.strip()]
    assert ["eureka-1.eureka.ms.svc", "A", "30", "10.244.2.45"] in rows


def test_table_stdout_holds_no_notes(run) -> None:
    result = run(*RECORDS, "--no-color")
    assert result.code == ExitCode.OK
    assert "note:" not in result.out and "note: DNS settings" in result.err


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_data_output_is_the_only_stdout(run, fmt: str) -> None:
    result = run(*RECORDS, "-o", fmt, "--debug")
    assert result.code == ExitCode.OK, result.err
    doc = json.loads(result.out) if fmt == "json" else yaml.safe_load(result.out)
    assert doc["apiVersion"] == "hsvc/v1alpha1" and doc["kind"] == "RecordList"
    # The kubeadm assumption travels inside the document, not as a stray line.
    assert "kubeadm" in json.dumps(doc) and "note:" not in result.out
    assert not ANSI.search(result.out)


def test_resolve_notes_go_to_stderr(run) -> None:
    result = run("resolve", "eureka-1.eureka", "-n", "ms", "-f", SEED, "--offline", "-o", "json")
    assert result.code == ExitCode.OK, result.err
    json.loads(result.out)
    assert "note:" in result.err and "note:" not in result.out


def test_an_injected_environment_sets_streams_and_width_without_patching() -> None:
    # httpie's MockEnvironment: the terminal is passed in, the process is untouched.
    import io

    from hsvc.cli import main
    from hsvc.terminal import Environment

    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(SystemExit) as info:
        main([*RECORDS], env=Environment(stdout=out, stderr=err, width=60, colors=False))
    assert info.value.code == ExitCode.OK, err.getvalue()
    lines = out.getvalue().splitlines()
    assert any(line.lstrip().startswith("eureka.ms.svc") for line in lines)
    assert max(len(line) for line in lines) <= 60 < 80
    assert not ANSI.search(out.getvalue())
    assert "assuming kubeadm's Corefile" in err.getvalue()  # notes: the injected stderr
