"""Help that is true and errors that lead somewhere (no network: manifests only).

Help: plain metavars, only the options that apply, whole one-line command
summaries; ``hsvc explain`` reads the findings reference offline. Errors: "did
you mean" from the objects read, the namespaces present in manifests, ``-A``
refused where it means nothing, and one exit code for an unreadable input file.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hsvc.commands.explain import finding_docs, reference_text
from hsvc.errors import ExitCode

ROOT = Path(__file__).resolve().parent.parent.parent
SEED = str(ROOT / "tests" / "data" / "seed" / "ms.yaml")
COMMANDS = ["records", "resolve", "inspect", "lint", "demo", "explain", "monitor"]


@pytest.fixture
def wide_help(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")


@pytest.mark.parametrize("command", COMMANDS)
def test_help_has_plain_metavars(run, wide_help, command: str) -> None:
    result = run(command, "--help")
    assert result.code == ExitCode.OK
    assert not re.search(r"<[a-z\[\]|. -]+>", result.out), result.out
    for python_type in ("list[str]", "float range", "int range", "<str>"):
        assert python_type not in result.out


def test_option_metavars_say_what_to_give(run, wide_help) -> None:
    out = run("inspect", "--help").out
    assert "--request-timeout SECONDS" in out and "--timeout SECONDS" in out
    assert "-n, --namespace NAMESPACE" in out and "-f, --filename PATH" in out
    assert "--nameserver HOST[:PORT]" in out and "[SERVICE]" in out
    assert "{NAME}..." in run("resolve", "--help").out


def option_names(out: str) -> set[str]:
    return set(re.findall(r"(?<![\w-])(--[a-z][a-z-]+)", out))


def test_options_are_listed_only_where_they_apply(run, wide_help) -> None:
    inspect = option_names(run("inspect", "--help").out)
    assert "--offline" not in inspect  # inspect always asks DNS
    assert {"--only-failures", "--all-rows", "--nameserver"} <= inspect
    resolve = option_names(run("resolve", "--help").out)
    assert "--all-namespaces" not in resolve
    demo = option_names(run("demo", "--help").out)
    assert demo <= {"--output", "--no-headers", "--no-color", "--debug", "--help"}
    assert "--offline" in option_names(run("records", "--help").out)


@pytest.mark.parametrize(
    ("args", "flag"),
    [
        (["inspect", "eureka", "-n", "ms", "-f", SEED, "--offline"], "--offline"),
        (["resolve", "eureka", "-A", "-f", SEED, "--offline"], "-A"),
        (["demo", "--nameserver", "127.0.0.1"], "--nameserver"),
    ],
)
def test_options_that_mean_nothing_are_refused(run, args: list[str], flag: str) -> None:
    result = run(*args)
    assert result.code == ExitCode.USAGE
    assert result.err.startswith("hsvc: error: No such option: " + flag)
    assert result.err.count("\n") == 1 and result.out == ""


def test_command_list_shows_whole_summaries(run, wide_help) -> None:
    out = run("--help").out
    assert "…" not in out and "..." not in out.split("Commands:")[1]
    assert (
        "Compare what cluster DNS must answer for a Service with what it answers, row by row."
        in " ".join(out.split())
    )


def test_lint_help_points_at_explain_not_at_a_docs_path(run, wide_help) -> None:
    out = run("lint", "--help").out
    assert "docs/reference/findings.md" not in out
    assert "hsvc explain CODE" in " ".join(out.split())


def test_explain_prints_a_finding_offline(run) -> None:
    result = run("explain", "HSVC204")
    assert result.code == ExitCode.OK, result.err
    assert result.out.startswith("HSVC204\n")
    assert "selected pods are not ready" in result.out
    assert "publishNotReadyAddresses: true" in result.out
    assert "### HSVC205" not in result.out and "HSVC205" not in result.out  # one section
    assert run("explain", "hsvc204").out == result.out  # any case


def test_explain_list_covers_every_code_of_the_reference(run) -> None:
    result = run("explain", "--list")
    assert result.code == ExitCode.OK
    lines = result.out.splitlines()
    codes = re.findall(r"^### (HSVC\d{3})$", reference_text(), re.M)
    assert [line.split()[0] for line in lines] == codes
    assert any(line.startswith("HSVC204  info · ") for line in lines)


def test_explain_reads_the_same_text_as_the_docs() -> None:
    docs = (ROOT / "docs" / "reference" / "findings.md").read_text(encoding="utf-8")
    assert reference_text() == docs
    assert len(finding_docs()) == len(re.findall(r"^### HSVC", docs, re.M))


@pytest.mark.parametrize(
    ("code", "exit_code", "text"),
    [
        ("HSVC299", ExitCode.NOT_FOUND, "no finding HSVC299; codes near it: HSVC201"),
        ("204", ExitCode.USAGE, "is not a finding code"),
    ],
)
def test_explain_unknown_codes(run, code: str, exit_code: int, text: str) -> None:
    result = run("explain", code)
    assert result.code == exit_code and text in result.err


def test_wheel_ships_the_findings_reference() -> None:
    text = (ROOT / "pyproject.toml").read_text()
    assert '"docs/reference/findings.md" = "hsvc/data/findings.md"' in text


# --- errors that lead somewhere -----------------------------------------------------------


def test_service_did_you_mean(run) -> None:
    result = run("records", "eurka", "-n", "ms", "-f", SEED, "--offline")
    assert result.code == ExitCode.NOT_FOUND
    assert result.err.strip().endswith('did you mean "eureka"?')


def test_namespace_did_you_mean_and_the_namespaces_present(run) -> None:
    result = run("records", "eureka", "-n", "mss", "-f", SEED, "--offline")
    assert result.code == ExitCode.NOT_FOUND
    assert 'did you mean "ms"?' in result.err
    assert "(namespaces in the manifests: ms; pass -n NS or -A)" in result.err
    default = run("records", "eureka", "-f", SEED, "--offline")
    assert (
        'namespace "default" not found' in default.err
        and "namespaces in the manifests: ms" in default.err
    )


def test_a_statefulset_name_points_at_its_service(run, tmp_path: Path) -> None:
    text = Path(SEED).read_text().replace("serviceName: eureka", "serviceName: eureka-peers", 1)
    text = text.replace(
        "  name: eureka\n  namespace: ms\n  labels:\n    app: eureka\nspec:\n  type: ClusterIP",
        "  name: eureka-peers\n  namespace: ms\n  labels:\n    app: eureka\nspec:\n  type: ClusterIP",
        1,
    )
    path = tmp_path / "ms.yaml"
    path.write_text(text)
    result = run("records", "eureka", "-n", "ms", "-f", str(path), "--offline")
    assert result.code == ExitCode.NOT_FOUND, result.out + result.err
    assert (
        '"eureka" is a StatefulSet, whose pods are named under Service "eureka-peers"' in result.err
    )
    close = run("records", "eureka-peer", "-n", "ms", "-f", str(path), "--offline")
    assert 'did you mean "eureka-peers"?' in close.err


def test_no_suggestion_when_nothing_is_close(run) -> None:
    result = run("records", "zzzzzz", "-n", "ms", "-f", SEED, "--offline")
    assert result.code == ExitCode.NOT_FOUND and "did you mean" not in result.err


def test_a_missing_corefile_is_a_bad_input_file_like_a_missing_manifest(run) -> None:
    manifest = run("records", "-n", "ms", "-f", "/nonexistent/m.yaml", "--offline")
    corefile = run(
        "records", "-n", "ms", "-f", SEED, "--offline", "--corefile", "/nonexistent/Corefile"
    )
    assert manifest.code == corefile.code == ExitCode.BAD_MANIFEST
    assert corefile.err.startswith("hsvc: error: /nonexistent/Corefile: cannot read the Corefile")
