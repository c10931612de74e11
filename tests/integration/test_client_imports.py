"""The official client, loaded in part: what a live command imports, and that the rest still works.

Each check runs in a fresh interpreter (``sys.modules`` of this test process is
shared by every test). No timed assertions: module names and counts.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.seed_zone import seed_zones
from tests.test_contracts import NEVER_AT_STARTUP

ROOT = Path(__file__).resolve().parent.parent.parent

pytestmark = pytest.mark.integration

# What a live inspect or records must not load: what startup never loads but the
# client's transport and DNS, and of those only the parts a live read uses: not the
# client's models, its own kubeconfig loader, websockets (exec and port-forward
# only), ApiClient (pydantic), dnspython's asyncio half.
NEVER_LIVE = (
    *(m for m in NEVER_AT_STARTUP if m not in ("kubernetes", "urllib3", "dns")),
    "kubernetes.client.models",
    "kubernetes.client.api",
    "kubernetes.client.api_client",
    "kubernetes.config.kube_config",
    "kubernetes.dynamic",
    "kubernetes.stream",
    "kubernetes.watch",
    "kubernetes.informer",
    "kubernetes.leaderelection",
    "dns.asyncquery",
    "dns.asyncbackend",
    "dns.query",
    "dns.message",  # the fast reader reads what cluster DNS answers
    "asyncio",  # the resolver's exchanges run in plain poll loops
)

# What a live inspect with --nameserver has no use for: the exec vantage point and
# the pod tools' parsers (--via exec only), the thread pool of a run over several
# contexts.
ONLY_WHEN_ASKED = ("hsvc.commands.execvantage", "hsvc.core.podexec", "concurrent.futures")


def in_fresh_python(code: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    return json.loads(out.stdout.rpartition("\n--- result ---\n")[2])


def modules_of(*argv: str) -> tuple[int, list[str]]:
    result = in_fresh_python(
        "import json, sys\n"
        "from hsvc.cli import main\n"
        "try:\n"
        f"    main({list(argv)!r})\n"
        "except SystemExit as exc:\n"
        "    code = exc.code\n"
        "sys.stdout.flush()\n"
        "print('\\n--- result ---')\n"
        "print(json.dumps([code, sorted(sys.modules)]))\n"
    )
    return result[0], result[1]


def banned(modules: list[str]) -> list[str]:
    return [m for m in modules if any(m == b or m.startswith(b + ".") for b in NEVER_LIVE)]


def test_live_inspect_loads_only_the_clients_transport(kubeconfig: Path, make_knot) -> None:
    knot = make_knot(seed_zones())
    code, modules = modules_of(
        "inspect",
        "eureka",
        "-n",
        "ms",
        "--kubeconfig",
        str(kubeconfig),
        "--nameserver",
        f"127.0.0.1:{knot.port}",
        "-o",
        "json",
    )
    assert code == 0
    assert "kubernetes.client.rest" in modules and "kubernetes.client.configuration" in modules
    assert "hsvc.adapters.resolver" in modules  # it did ask DNS
    assert not banned(modules), banned(modules)
    # Plain names, plain answers, servers by address: hsvc's own codec does it all.
    assert not [m for m in modules if m.split(".")[0] == "dns"]
    assert not [m for m in modules if m in ONLY_WHEN_ASKED], ONLY_WHEN_ASKED
    # The kubeconfig is block YAML as kubectl writes it: read without PyYAML.
    assert not [m for m in modules if m.split(".")[0] == "yaml"]
    client = [m for m in modules if m.split(".")[0] == "kubernetes"]
    assert len(client) <= 12, client  # of the client's ~1,800 modules


def test_live_records_loads_no_dns_at_all(kubeconfig: Path) -> None:
    code, modules = modules_of(
        "records", "eureka", "-n", "ms", "--kubeconfig", str(kubeconfig), "-o", "json"
    )
    assert code == 0
    assert "kubernetes.client.rest" in modules
    assert not banned(modules), banned(modules)
    assert not [m for m in modules if m.split(".")[0] == "dns"]
    assert not [m for m in modules if m in ONLY_WHEN_ASKED], ONLY_WHEN_ASKED


def test_the_deferred_packages_still_give_the_whole_client() -> None:
    """After hsvc's partial load, ``import kubernetes`` code elsewhere works as usual."""
    result = in_fresh_python(
        "import json, sys\n"
        "from hsvc.adapters import kubeclient\n"
        "kubeclient.configuration()\n"
        "before = 'kubernetes.config.kube_config' in sys.modules\n"
        "import kubernetes\n"
        "from kubernetes import watch\n"
        "lazy = 'kubernetes.config.kube_config' in sys.modules\n"
        "from kubernetes.config import load_kube_config\n"
        "from kubernetes.utils import parse_quantity\n"
        "print('\\n--- result ---')\n"
        "print(json.dumps([before, lazy, kubernetes.__version__, callable(load_kube_config),\n"
        "    str(parse_quantity('1Ki')), kubernetes.client.CoreV1Api.__name__,\n"
        "    watch.Watch.__name__, kubernetes.dynamic.DynamicClient.__name__]))\n"
    )
    before, lazy, version, *names = result
    assert before is False and lazy is False  # `from kubernetes import watch` ran no __init__
    assert version.count(".") == 2
    assert names == [True, "1024", "CoreV1Api", "Watch", "DynamicClient"]


def test_transport_builds_what_the_api_client_builds() -> None:
    """Same URL, headers and credentials as ``ApiClient.param_serialize`` for hsvc's GETs."""
    from kubernetes.client import ApiClient, Configuration

    from hsvc.adapters.kubeclient import Transport

    configuration = Configuration()
    configuration.host = "https://127.0.0.1:6443"
    configuration.api_key["BearerToken"] = "Bearer s3cr3t"
    refreshed = []
    configuration.refresh_api_key_hook = lambda c: refreshed.append(c)
    official = ApiClient(configuration=configuration)
    official.user_agent = "hsvc/test"
    mine = Transport(configuration)
    mine.default_headers["User-Agent"] = "hsvc/test"
    for query in (
        [],
        [("limit", "500")],
        [("labelSelector", "kubernetes.io/service-name=web,app in (a b)"), ("limit", "5")],
        [("fieldSelector", "metadata.name=x&y"), ("continue", "eyJ2Ijoi/+==")],
        [("command", "sh"), ("command", "-c"), ("command", "echo 'a b'"), ("stdout", "true")],
    ):
        for headers in ({"Accept": "application/json"}, {}):
            args = {
                "method": "GET",
                "resource_path": "/api/v1/namespaces/ms/pods",
                "query_params": list(query),
                "header_params": dict(headers),
                "auth_settings": ["BearerToken"],
            }
            theirs = official.param_serialize(**{**args, "query_params": list(query)})
            assert mine.param_serialize(**args) == (*theirs[:3], None, [])
    assert mine.param_serialize(method="GET", resource_path="/api")[2] == {
        "User-Agent": "hsvc/test"
    }
    assert len(refreshed) == 20  # the refresh hook runs per request in both
    mine.close()
    official.close()


def test_the_label_key_pattern_is_compiled_at_its_first_use() -> None:
    # Importing hsvc.core.selector (every Corefile read does) compiles no label-key pattern.
    result = in_fresh_python(
        "import json\n"
        "from hsvc.core import selector\n"
        "before = selector._label_key.cache_info().currsize\n"
        "selector.parse_selector('example.com/app=web')\n"
        "print('\\n--- result ---')\n"
        "print(json.dumps([before, selector._label_key.cache_info().currsize]))\n"
    )
    assert result == [0, 1]
