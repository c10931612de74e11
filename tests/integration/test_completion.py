"""Shell completion of namespaces, Services and contexts, through the real completion protocol.

The console script is run as a shell's completion would run it (typer's
``_HSVC_COMPLETE`` with bash's ``COMP_WORDS``/``COMP_CWORD`` and zsh's
``_TYPER_COMPLETE_ARGS``), against the emulated API server through a real
kubeconfig. A completion is bounded by --request-timeout and says nothing on any
error: a shell must never hang or print a traceback at a Tab.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.integration.api_fixtures import write_kubeconfig

pytestmark = pytest.mark.integration


def _script() -> str:
    beside = Path(sys.executable).parent / "hsvc"
    found = str(beside) if beside.is_file() else shutil.which("hsvc")
    if found is None:
        pytest.skip("the hsvc console script is not installed (pip install -e .)")
    return found


def complete(words: str, *, shell: str = "bash", env: dict[str, str] | None = None):
    """What the shell would be offered for the last word of ``words`` (a trailing space: a new one)."""
    parts = words.split(" ")
    base = {k: v for k, v in os.environ.items() if k not in ("KUBECONFIG", "COLUMNS")}
    if shell == "bash":
        base |= {
            "_HSVC_COMPLETE": "complete_bash",
            "COMP_WORDS": words,
            "COMP_CWORD": str(len(parts) - 1),
        }
    else:
        base |= {"_HSVC_COMPLETE": "complete_zsh", "_TYPER_COMPLETE_ARGS": words}
    started = time.monotonic()
    done = subprocess.run(
        [_script()], capture_output=True, text=True, env=base | (env or {}), timeout=60
    )
    return done, time.monotonic() - started


def test_namespaces_come_from_the_cluster(api_server, kubeconfig: Path) -> None:
    done, _ = complete(f"hsvc inspect --kubeconfig {kubeconfig} -n ")
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert done.stdout.split() == ["default", "kube-system", "ms"]
    done, _ = complete(f"hsvc records --kubeconfig {kubeconfig} --namespace m")
    assert done.stdout.split() == ["ms"]


def test_services_come_from_the_namespace_typed(api_server, kubeconfig: Path) -> None:
    done, _ = complete(f"hsvc inspect --kubeconfig {kubeconfig} -n ms ")
    assert done.stdout.split() == ["eureka", "gateway", "mysql-production", "portal"]
    done, _ = complete(f"hsvc inspect --kubeconfig {kubeconfig} -n kube-system ")
    assert done.stdout.split() == ["kube-dns"]
    # No -n: the context's namespace (ms in this kubeconfig); -A: every namespace.
    done, _ = complete(f"hsvc records --kubeconfig {kubeconfig} p")
    assert done.stdout.split() == ["portal"]
    done, _ = complete(f"hsvc inspect -A --kubeconfig {kubeconfig} --request-timeout 5 k")
    assert done.stdout.split() == ["kube-dns", "kubernetes"]


def test_zsh_gets_the_same_names(api_server, kubeconfig: Path) -> None:
    done, _ = complete(f"hsvc inspect --kubeconfig {kubeconfig} -n ms g", shell="zsh")
    assert done.returncode == 0 and "gateway" in done.stdout and "eureka" not in done.stdout


def test_contexts_come_from_the_kubeconfig(tmp_path: Path) -> None:
    extra = {
        "contexts": [{"name": "prod-eu", "context": {"cluster": "kind-hsvc", "user": "kind-hsvc"}}]
    }
    config = write_kubeconfig(tmp_path / "kc", "http://127.0.0.1:9", extra=extra)
    done, _ = complete(f"hsvc inspect --kubeconfig {config} --context ")
    assert done.stdout.split() == ["kind-hsvc", "prod-eu"]
    # KUBECONFIG is read as by kubectl; no request is sent for contexts.
    done, _ = complete("hsvc lint --context p", env={"KUBECONFIG": str(config)})
    assert done.stdout.split() == ["prod-eu"]


@pytest.mark.parametrize(
    "words",
    [
        "hsvc inspect --kubeconfig {missing} -n ",
        "hsvc inspect --kubeconfig {refused} -n ",
        "hsvc inspect --kubeconfig {refused} -n ms ",
        "hsvc inspect --kubeconfig {garbage} --context ",
    ],
    ids=["no-kubeconfig", "refused-namespaces", "refused-services", "bad-kubeconfig"],
)
def test_errors_complete_nothing_and_say_nothing(tmp_path: Path, words: str) -> None:
    refused = write_kubeconfig(tmp_path / "refused", "http://127.0.0.1:9")
    garbage = tmp_path / "garbage"
    garbage.write_text("{not: [yaml", encoding="utf-8")
    line = words.format(missing=tmp_path / "nope", refused=refused, garbage=garbage)
    done, _ = complete(line)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "" and done.stderr == ""


def test_a_stalling_cluster_is_bounded_by_the_request_timeout(tmp_path: Path) -> None:
    from tests.integration.badserver import BadHttpServer

    with BadHttpServer("stall") as server:
        config = write_kubeconfig(tmp_path / "kc", server.url)
        done, seconds = complete(f"hsvc inspect --kubeconfig {config} --request-timeout 1 -n ")
    assert done.returncode == 0 and done.stdout.strip() == "" and done.stderr == ""
    # The timeout (the client's import included), and the interpreter's start and hsvc's
    # import (about a second on a busy machine).
    assert seconds < 1 + 2, seconds
    assert server.connections >= 1
