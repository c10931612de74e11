"""``kubectl hsvc ...`` through the real kubectl binary and the installed ``kubectl-hsvc`` script.

kubectl finds plugins on PATH, passes every argument after the plugin name
unchanged and returns the plugin's exit code; its own global flags
(``--context``, ``--kubeconfig``, ``-n``) after the plugin name are hsvc's to parse.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from hsvc.errors import ExitCode

SEED = str(Path(__file__).resolve().parent.parent / "data" / "seed" / "ms.yaml")


def need(what: str, found: str | Path | None) -> Path:
    """Return what was found; skip without it, fail under CI=true."""
    if found:
        return Path(found)
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} not found; CI must have it")
    pytest.skip(f"{what} not found")


@dataclass
class Kubectl:
    binary: Path
    env: dict[str, str]

    def __call__(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.binary), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )


@pytest.fixture(scope="module")
def kubectl(tmp_path_factory: pytest.TempPathFactory) -> Kubectl:
    binary = need("kubectl", shutil.which("kubectl"))
    # The console script pip installed beside this interpreter, else whatever PATH has.
    beside = Path(sys.executable).parent / "kubectl-hsvc"
    plugin = need("kubectl-hsvc", beside if beside.is_file() else shutil.which("kubectl-hsvc"))
    home = tmp_path_factory.mktemp("kubectl-home")
    env = {
        **os.environ,
        "PATH": f"{plugin.parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "HOME": str(home),  # kubectl's cache and any default kubeconfig: never the user's
        "KUBECONFIG": str(home / "no-such-kubeconfig"),
        "COLUMNS": "80",
    }
    env.pop("NO_COLOR", None)
    return Kubectl(binary=binary, env=env)


def test_records_through_kubectl(kubectl: Kubectl) -> None:
    done = kubectl("hsvc", "records", "eureka", "-n", "ms", "-f", SEED, "--offline", "-o", "json")
    assert done.returncode == ExitCode.OK, done.stderr
    doc = json.loads(done.stdout)
    assert doc["kind"] == "RecordList"
    a = {
        r["data"]
        for r in doc["records"]
        if r["name"] == "eureka.ms.svc.cluster.local." and r["type"] == "A"
    }
    assert a == {"10.244.1.210", "10.244.2.45", "10.244.1.211"}


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["-n", "ms", "records", "gateway"], id="namespace-before-subcommand"),
        pytest.param(["--namespace=ms", "records", "gateway"], id="namespace-equals-before"),
        pytest.param(["records", "gateway", "-n", "ms"], id="namespace-after"),
        pytest.param(
            ["--context", "prod", "--kubeconfig", "/nonexistent", "-n", "ms", "records", "gateway"],
            id="kubectl-global-flags-before",
        ),
        pytest.param(
            ["records", "gateway", "--context", "prod", "--kubeconfig", "/nonexistent", "-n", "ms"],
            id="kubectl-global-flags-after",
        ),
    ],
)
def test_kubectl_global_flags_are_parsed_by_hsvc(kubectl: Kubectl, args: list[str]) -> None:
    done = kubectl("hsvc", *args, "-f", SEED, "--offline", "-o", "json")
    assert done.returncode == ExitCode.OK, done.stderr
    doc = json.loads(done.stdout)
    a = {
        r["data"]
        for r in doc["records"]
        if r["name"] == "gateway.ms.svc.cluster.local." and r["type"] == "A"
    }
    assert a == {"10.0.0.14"}


def test_exit_code_and_stderr_pass_through_kubectl(kubectl: Kubectl) -> None:
    done = kubectl("hsvc", "records", "nope", "-n", "ms", "-f", SEED, "--offline")
    assert done.returncode == ExitCode.NOT_FOUND
    assert done.stdout == ""
    assert done.stderr.startswith('hsvc: error: service "nope" not found')


def test_help_names_the_plugin(kubectl: Kubectl) -> None:
    done = kubectl("hsvc", "--help")
    assert done.returncode == 0, done.stderr
    assert "Usage: kubectl hsvc" in done.stdout


def test_demo_through_kubectl(kubectl: Kubectl) -> None:
    done = kubectl("hsvc", "demo", "--no-color")
    assert done.returncode == ExitCode.OK, done.stderr
    assert "eureka-2.eureka.ms.svc A: unexpected" in done.stdout
    assert "$ hsvc inspect gateway -n ms" in done.stdout
    assert "\x1b[" not in done.stdout


# --- the krew route: manifest and launcher ---------------------------------------------

ROOT = Path(__file__).resolve().parent.parent.parent


def krew_archive():
    spec = importlib.util.spec_from_file_location(
        "krew_archive", ROOT / "plugins" / "krew_archive.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_krew_manifest_matches_the_launcher_archive(tmp_path: Path) -> None:
    from hsvc import __version__

    manifest = yaml.safe_load((ROOT / "plugins" / "hsvc.yaml").read_text())
    assert manifest["apiVersion"] == "krew.googlecontainertools.github.com/v1alpha2"
    assert manifest["kind"] == "Plugin" and manifest["metadata"]["name"] == "hsvc"
    spec = manifest["spec"]
    assert spec["version"] == f"v{__version__}"
    assert len(spec["shortDescription"]) <= 50
    assert "pipx install hsvc" in spec["caveats"]
    (platform,) = spec["platforms"]
    builder = krew_archive()
    _, digest = builder.build(tmp_path)
    assert platform["sha256"] == digest, "launcher changed: run python plugins/krew_archive.py"
    assert platform["uri"].endswith(f"/{spec['version']}/{builder.ARCHIVE}")
    assert platform["bin"] == "kubectl-hsvc"
    assert {"from": "kubectl-hsvc", "to": "."} in platform["files"]


@pytest.fixture
def krew_bin(tmp_path: Path) -> Path:
    """The launcher as krew would unpack it: from the archive, with the archive's mode."""
    archive, _ = krew_archive().build(tmp_path)
    target = tmp_path / "krew-bin"
    with zipfile.ZipFile(archive) as unpacked:
        (info,) = unpacked.infolist()
        unpacked.extract(info, target)
        (target / info.filename).chmod(info.external_attr >> 16 & 0o777)
    return target


def launcher_env(
    kubectl: Kubectl, krew_bin: Path, *path: str | Path, **extra: str
) -> dict[str, str]:
    system = [p for p in ("/usr/local/bin", "/usr/bin", "/bin") if Path(p).is_dir()]
    env = {**kubectl.env, "PATH": os.pathsep.join(map(str, (krew_bin, *path, *system))), **extra}
    env["HOME"] = str(krew_bin.parent / "home")  # no ~/.local/bin
    env.pop("PIPX_BIN_DIR", None)
    env.update(extra)
    return env


def test_krew_launcher_runs_hsvc_through_kubectl(kubectl: Kubectl, krew_bin: Path) -> None:
    hsvc_dir = Path(sys.executable).parent
    if not (hsvc_dir / "hsvc").is_file():
        need("hsvc console script beside the interpreter", None)
    run = Kubectl(kubectl.binary, launcher_env(kubectl, krew_bin, hsvc_dir))
    done = run("hsvc", "-n", "ms", "records", "gateway", "-f", SEED, "--offline", "-o", "json")
    assert done.returncode == ExitCode.OK, done.stderr
    assert json.loads(done.stdout)["kind"] == "RecordList"
    missing = run("hsvc", "records", "nope", "-n", "ms", "-f", SEED, "--offline")
    assert missing.returncode == ExitCode.NOT_FOUND  # hsvc's code, through two execs


def test_krew_launcher_prefers_the_pipx_script(
    kubectl: Kubectl, krew_bin: Path, tmp_path: Path
) -> None:
    pipx_bin = tmp_path / "pipx-bin"
    pipx_bin.mkdir()
    fake = pipx_bin / "kubectl-hsvc"
    fake.write_text('#!/bin/sh\necho "pipx kubectl-hsvc $*"\nexit 3\n')
    fake.chmod(0o755)
    run = Kubectl(kubectl.binary, launcher_env(kubectl, krew_bin, PIPX_BIN_DIR=str(pipx_bin)))
    done = run("hsvc", "records", "-n", "ms")
    assert (done.returncode, done.stdout) == (3, "pipx kubectl-hsvc records -n ms\n")


def test_krew_launcher_without_hsvc_says_how_to_install(kubectl: Kubectl, krew_bin: Path) -> None:
    env = launcher_env(kubectl, krew_bin)
    if shutil.which("hsvc", path=env["PATH"]):
        pytest.skip("hsvc is installed system-wide")
    done = Kubectl(kubectl.binary, env)("hsvc", "demo")
    assert done.returncode == 127
    assert "pipx install hsvc" in done.stderr
