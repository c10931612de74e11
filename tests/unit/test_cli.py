"""The CLI end to end from manifest files (no network): content, exit codes, messages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hsvc import cli
from hsvc.cli import hoist_command
from hsvc.errors import ExitCode

DATA = Path(__file__).resolve().parent.parent / "data"
SEED = str(DATA / "seed" / "ms.yaml")


def not_ready_seed(tmp_path: Path) -> str:
    """The seed with eureka-2 not ready: its slice endpoint says ready: false."""
    text = Path(SEED).read_text()
    endpoint = "- addresses:\n  - 10.244.1.211\n  conditions:\n    ready: true"
    assert text.count(endpoint) == 1
    path = tmp_path / "ms-not-ready.yaml"
    path.write_text(text.replace(endpoint, endpoint.replace("ready: true", "ready: false")))
    return str(path)


def records_of(doc: dict, name: str, rtype: str) -> set[str]:
    return {r["data"] for r in doc["records"] if r["name"] == name and r["type"] == rtype}


def test_records_eureka_offline_lists_the_seed_records(run) -> None:
    result = run("records", "eureka", "-n", "ms", "-f", SEED, "--offline", "-o", "json")
    assert result.code == 0, result.err
    doc = result.json()
    assert doc["apiVersion"] == "hsvc/v1alpha1" and doc["kind"] == "RecordList"
    ips = {"10.244.1.210", "10.244.2.45", "10.244.1.211"}
    assert records_of(doc, "eureka.ms.svc.cluster.local.", "A") == ips
    for i, ip in enumerate(["10.244.1.210", "10.244.2.45", "10.244.1.211"]):
        assert records_of(doc, f"eureka-{i}.eureka.ms.svc.cluster.local.", "A") == {ip}
    srv = records_of(doc, "_eureka._tcp.eureka.ms.svc.cluster.local.", "SRV")
    assert srv == {f"0 33 8888 eureka-{i}.eureka.ms.svc.cluster.local." for i in range(3)}
    assert records_of(doc, "45.2.244.10.in-addr.arpa.", "PTR") == {
        "eureka-1.eureka.ms.svc.cluster.local."
    }
    assert all(r["ttl"] == 30 for r in doc["records"] if r["type"] != "TXT")
    # Every record names the object and rule it comes from.
    assert all(r["sources"] and r["sources"][0]["rule"].startswith("R") for r in doc["records"])


def test_records_gateway_has_cluster_ip_and_no_per_pod_names(run) -> None:
    result = run("records", "gateway", "-n", "ms", "-f", SEED, "--offline", "-o", "json")
    assert result.code == 0, result.err
    doc = result.json()
    assert records_of(doc, "gateway.ms.svc.cluster.local.", "A") == {"10.0.0.14"}
    assert records_of(doc, "14.0.0.10.in-addr.arpa.", "PTR") == {"gateway.ms.svc.cluster.local."}
    # The pod's name under the Service must not resolve (rule 6: no hostname, dashed IP).
    absent = {a["name"]: a for a in doc["absent"]}
    pod_name = "gateway-7d9f8-abcde.gateway.ms.svc.cluster.local."
    assert pod_name in absent and "hostname" in absent[pod_name]["reason"]
    assert not any(r["name"] == pod_name for r in doc["records"])


def test_records_table_is_readable_at_80_columns(run) -> None:
    result = run("records", "eureka", "-n", "ms", "-f", SEED, "--offline", "--no-color", width=80)
    assert result.code == 0
    assert all(len(line) <= 80 for line in result.out.splitlines())
    assert "eureka-1.eureka.ms.svc" in result.out
    assert "0 33 8888 eureka-0.eureka.ms.svc" in result.out
    assert "\x1b[" not in result.out


def test_resolve_offline_json_gives_the_pod_ip_with_rules(run) -> None:
    result = run("resolve", "eureka-1.eureka", "-n", "ms", "-f", SEED, "--offline", "-o", "json")
    assert result.code == 0, result.err
    (res,) = result.json()["results"]
    assert res["query"] == {"name": "eureka-1.eureka", "type": "A"}
    assert res["answeredBy"] == "eureka-1.eureka.ms.svc.cluster.local."
    assert res["expected"]["rcode"] == "NOERROR"
    assert [r["data"] for r in res["expected"]["answer"]] == ["10.244.2.45"]
    assert "R17" in res["expected"]["rules"]
    assert res["candidates"][0]["name"] == "eureka-1.eureka.ms.svc.cluster.local."


def test_resolve_not_ready_pod_is_nxdomain_with_reason(run, tmp_path: Path) -> None:
    manifest = not_ready_seed(tmp_path)
    result = run(
        "resolve",
        "eureka-2.eureka.ms.svc.cluster.local.",
        "-f",
        manifest,
        "--offline",
        "-o",
        "json",
    )
    assert result.code == 0, result.err
    (res,) = result.json()["results"]
    assert res["expected"]["rcode"] == "NXDOMAIN"
    broken = [link for link in res["chain"] if not link["ok"]]
    assert broken and "publishNotReadyAddresses" in broken[0]["detail"]


def test_flags_before_the_subcommand_work_like_kubectl(run) -> None:
    result = run("-n", "ms", "-f", SEED, "--offline", "records", "gateway", "-o", "json")
    assert result.code == 0, result.err
    assert records_of(result.json(), "gateway.ms.svc.cluster.local.", "A") == {"10.0.0.14"}


def test_hoist_command_skips_flag_values() -> None:
    cmds = {"records", "inspect"}
    flags = {"-n", "--namespace"}
    assert hoist_command(["-n", "records", "inspect"], cmds, flags) == ["inspect", "-n", "records"]
    assert hoist_command(["records", "-n", "x"], cmds, flags) == ["records", "-n", "x"]
    assert hoist_command(["--offline", "records"], cmds, flags) == ["records", "--offline"]


def test_flags_and_commands_read_from_signatures_are_those_typer_builds() -> None:
    group = cli._group()
    built = {
        opt
        for command in group.commands.values()
        for param in command.params
        if param.param_type_name == "option" and not param.is_flag
        for opt in param.opts
    }
    assert cli._value_flags() == built
    assert "--namespace" in built and "--watch" not in built  # both kinds are there
    assert cli._command_names() == set(group.commands)


@pytest.mark.parametrize("name", sorted(cli._command_names()))
def test_a_command_built_alone_is_the_one_built_with_the_others(name: str) -> None:
    alone = cli._one_command(name)
    assert set(alone.commands) == {name}
    together = cli._group().commands[name]
    ours = alone.commands[name]

    def picture(command: Any) -> list[tuple[Any, ...]]:
        return [
            (p.name, tuple(p.opts), tuple(p.secondary_opts), p.required, repr(p.default), p.hidden)
            for p in command.params
        ]

    assert picture(ours) == picture(together)
    assert ours.help == together.help and ours.short_help == together.short_help
    assert [p.name for p in alone.params] == [p.name for p in cli._group().params]


def test_a_run_builds_only_its_command_and_help_all_of_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert cli._group_for(["inspect", "-n", "ms"]) is cli._one_command("inspect")
    assert cli._group_for(["--install-completion"]) is cli._group()
    assert cli._group_for(["inspct"]) is cli._group()  # typer's "did you mean" needs them all
    assert cli._group_for([]) is cli._group()
    monkeypatch.setenv("_HSVC_COMPLETE", "complete_bash")
    assert cli._group_for(["inspect"]) is cli._group()


@pytest.mark.parametrize(
    ("args", "code", "fragment"),
    [
        (["records", "nope", "-n", "ms"], ExitCode.NOT_FOUND, 'service "nope" not found'),
        (["records", "-n", "nowhere"], ExitCode.NOT_FOUND, 'namespace "nowhere" not found'),
        (["records", "Bad_Name", "-n", "ms"], ExitCode.USAGE, "invalid name"),
        (["resolve", "a..b", "-n", "ms"], ExitCode.USAGE, "empty label"),
        (["resolve", "x" * 64 + ".ms", "-n", "ms"], ExitCode.USAGE, "longer than 63"),
        (["resolve", "eureka", "-n", "ms", "-t", "BOGUS"], ExitCode.USAGE, "unknown record type"),
        (["inspect", "eureka", "-n", "ms"], ExitCode.USAGE, "--offline"),
    ],
)
def test_bad_input_gives_one_line_and_exit_code(run, args, code, fragment) -> None:
    result = run(*args, "-f", SEED, "--offline")
    assert result.code == code, result.err
    assert fragment in result.err
    assert result.err.startswith("hsvc: error: ") and result.err.count("\n") == 1
    assert "Traceback" not in result.err and result.out == ""


def test_offline_without_files_is_a_usage_error(run) -> None:
    result = run("records", "--offline")
    assert result.code == ExitCode.USAGE
    assert "-f" in result.err


@pytest.mark.parametrize(
    ("name", "position"),
    [
        ("bad-yaml.yaml", "bad-yaml.yaml:10:3"),
        ("missing-kind.yaml", "missing-kind.yaml:11"),
        ("not-a-mapping.yaml", "not-a-mapping.yaml:8"),
    ],
)
def test_bad_manifest_names_file_and_position(run, name: str, position: str) -> None:
    result = run("records", "-f", str(DATA / "broken" / name), "--offline")
    assert result.code == ExitCode.BAD_MANIFEST
    assert position in result.err
    assert result.err.count("\n") == 1 and "Traceback" not in result.err


def test_corefile_and_flags_change_the_answers(run, tmp_path: Path) -> None:
    corefile = tmp_path / "Corefile"
    corefile.write_text(
        ".:53 {\n  kubernetes k8s.example in-addr.arpa ip6.arpa {\n    ttl 7\n  }\n}\n"
    )
    result = run(
        "records",
        "gateway",
        "-n",
        "ms",
        "-f",
        SEED,
        "--offline",
        "--corefile",
        str(corefile),
        "-o",
        "json",
    )
    assert result.code == 0, result.err
    doc = result.json()
    assert records_of(doc, "gateway.ms.svc.k8s.example.", "A") == {"10.0.0.14"}
    assert {r["ttl"] for r in doc["records"] if r["type"] == "A"} == {7}
    assert doc["settings"]["pods"] == "disabled"  # the plugin's default without a pods line
    flagged = run(
        "records",
        "gateway",
        "-n",
        "ms",
        "-f",
        SEED,
        "--offline",
        "--cluster-domain",
        "corp.internal",
        "--ttl",
        "12",
        "-o",
        "json",
    ).json()
    assert records_of(flagged, "gateway.ms.svc.corp.internal.", "A") == {"10.0.0.14"}
    assert {r["ttl"] for r in flagged["records"] if r["type"] == "A"} == {12}


def test_default_settings_are_announced(run) -> None:
    result = run("records", "gateway", "-n", "ms", "-f", SEED, "--offline")
    assert result.code == 0
    assert "kubeadm" in result.err  # the assumption is said, on stderr


def test_version(run) -> None:
    from hsvc import __version__

    result = run("--version")
    assert result.code == 0 and result.out.strip() == f"hsvc {__version__}"


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["records", "-o", "bogus"], "'bogus' is not one of"),
        (["records", "--bogus"], "No such option: --bogus"),
        (["nosuch"], "No such command 'nosuch'"),
        (["inspect", "--timeout", "-1"], "--timeout"),
    ],
)
def test_parse_errors_are_one_line_exit_2(run, args: list[str], fragment: str) -> None:
    result = run(*args)
    assert result.code == ExitCode.USAGE
    assert result.err.startswith("hsvc: error: ") and result.err.count("\n") == 1
    assert fragment in result.err and "--help" in result.err


def test_no_arguments_prints_help(run) -> None:
    result = run()
    assert result.code == 0
    assert "inspect" in result.out and "records" in result.out
