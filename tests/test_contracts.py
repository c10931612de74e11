"""Contracts: import hygiene, the pure core, exit codes and CLI docs kept equal to the code."""

from __future__ import annotations

import ast
import functools
import re
import subprocess
import sys
from pathlib import Path

import pytest

from hsvc.errors import ExitCode

ROOT = Path(__file__).resolve().parent.parent


@functools.cache
def loaded_modules(*argv: str) -> frozenset[str]:
    code = (
        "import sys\n"
        "from hsvc.cli import main\n"
        "try:\n"
        f"    main({list(argv)!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        "sys.stdout.flush()\n"
        "print('--- modules ---', *sorted(sys.modules), sep='\\n')\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    return frozenset(out.stdout.rpartition("--- modules ---\n")[2].split())


@pytest.mark.parametrize(
    "argv", [["--help"], ["records", "--help"], ["inspect", "--help"], ["--version"]]
)
def test_help_loads_no_heavy_modules(argv: list[str]) -> None:
    modules = loaded_modules(*argv)
    assert "hsvc.cli" in modules
    heavy = {
        m
        for m in modules
        if m.split(".")[0] in ("kubernetes", "urllib3", "yaml", "pydantic", "pydantic_core")
        or m.startswith("dns.")
    }
    assert not heavy, sorted(heavy)[:10]


# What startup must not pay for (docs/reference/benchmarks.md, startup): the client's
# models and HTTP stack, pydantic (typer's coercion, the client's ApiClient), and
# dnspython, where no DNS is asked.
NEVER_AT_STARTUP = (
    "pydantic",
    "pydantic_core",
    "kubernetes",
    "urllib3",
    "requests",
    "requests_oauthlib",
    "oauthlib",
    "websocket",
    "dateutil",
    "charset_normalizer",
    "dns",
    "prometheus_client",
)


def heavy_in(modules: set[str], banned: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if m.split(".")[0] in banned)


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["records", "-f", "tests/data/seed", "--offline", "-o", "json"],
        ["records", "-f", "tests/data/seed", "--offline"],
        ["records", "--ttl", "60", "-f", "tests/data/seed", "--offline", "-o", "json"],
    ],
)
def test_startup_imports_only_what_the_command_uses(argv: list[str]) -> None:
    modules = loaded_modules(*argv)
    assert "hsvc.cli" in modules
    if argv[0] == "records":
        assert "hsvc.core.records" in modules and "yaml" in modules  # it did read the files
    assert not heavy_in(modules, NEVER_AT_STARTUP), heavy_in(modules, NEVER_AT_STARTUP)[:10]
    # Not a timed test: a bound on the module count catches a large import creeping in.
    assert len(modules) < (250 if argv == ["--help"] else 400), len(modules)


def test_a_bad_flag_value_still_goes_to_typer() -> None:
    """The guard above is not met by skipping typer's checks: a bad value goes to typer."""
    assert "pydantic" in loaded_modules("records", "--ttl", "x", "-f", "tests/data/seed")


def test_core_imports_only_stdlib_and_itself() -> None:
    stdlib = sys.stdlib_module_names
    for path in sorted((ROOT / "hsvc" / "core").glob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                roots = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                roots = [node.module or ""]
            else:
                continue
            for name in roots:
                top = name.split(".")[0]
                ok = top in stdlib or name == "hsvc.core" or name.startswith("hsvc.core.")
                assert ok, f"{path.name} imports {name}"


def standard_dataclasses(text: str) -> list[int]:
    """Lines of ``text`` that take ``dataclass`` from :mod:`dataclasses`."""
    found = []
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.ImportFrom) and node.module == "dataclasses":
            found += [node.lineno] * any(alias.name == "dataclass" for alias in node.names)
        elif isinstance(node, ast.Attribute) and node.attr == "dataclass":
            found += [node.lineno] * (
                isinstance(node.value, ast.Name) and node.value.id == "dataclasses"
            )
    return found


def test_dataclasses_come_from_hsvc_core_dataclass() -> None:
    """Start-up: the standard decorator compiles methods hsvc.core.dataclass makes as closures.

    No module of hsvc takes ``dataclass`` from :mod:`dataclasses` (a class decorated
    there would pay the standard's compiling at every start again).
    """
    own = ROOT / "hsvc" / "core" / "dataclass.py"
    standard = {
        str(path.relative_to(ROOT)): lines
        for path in sorted((ROOT / "hsvc").rglob("*.py"))
        if path != own and (lines := standard_dataclasses(path.read_text()))
    }
    assert not standard, standard
    assert standard_dataclasses("from dataclasses import dataclass, field\n") == [1]
    assert standard_dataclasses("import dataclasses\n@dataclasses.dataclass\nclass A: pass\n") == [
        2
    ]
    assert standard_dataclasses("from dataclasses import field, replace\n") == []


def test_exit_codes_doc_matches_enum() -> None:
    text = (ROOT / "docs" / "reference" / "exit-codes.md").read_text()
    rows = re.findall(r"^\|\s*(\d+)\s*\|\s*([A-Z_]+)\s*\|", text, flags=re.M)
    assert {(int(code), name) for code, name in rows} == {(c.value, c.name) for c in ExitCode}


def test_cli_reference_is_generated_from_the_app() -> None:
    """docs/reference/cli.md is `typer hsvc.cli utils docs --name hsvc`; regenerate it when this fails."""
    out = subprocess.run(
        [sys.executable, "-m", "typer", "hsvc.cli", "utils", "docs", "--name", "hsvc"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    committed = (ROOT / "docs" / "reference" / "cli.md").read_text()
    assert committed.strip() == out.stdout.strip(), (
        "run: python -m typer hsvc.cli utils docs --name hsvc --output docs/reference/cli.md"
    )


def test_every_command_and_option_is_documented() -> None:
    from typer.main import get_command

    from hsvc.cli import app

    text = (ROOT / "docs" / "reference" / "cli.md").read_text()
    group = get_command(app)
    for name, cmd in group.commands.items():  # type: ignore[attr-defined]
        assert f"## `hsvc {name}`" in text
        assert cmd.help, f"{name} has no help"
        for param in cmd.params:
            for opt in getattr(param, "opts", []):
                if opt.startswith("-"):
                    assert opt in text, f"{name} {opt} undocumented"


def test_environment_variables_are_documented() -> None:
    text = (ROOT / "docs" / "reference" / "environment.md").read_text()
    source = (ROOT / "hsvc" / "flags.py").read_text()
    for var in set(re.findall(r'envvar="([A-Z_]+)"', source)):
        assert f"`{var}`" in text, var
