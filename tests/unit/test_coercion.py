"""Flag values are converted without pydantic, exactly as typer's own coercion does."""

from __future__ import annotations

import functools
from typing import Any

import pytest
import typer
from typer._coercion import build_runtime_param
from typer.main import get_command

from hsvc.cli import app
from hsvc.coercion import PlainCoercion
from hsvc.core.vocabulary import PodsMode
from hsvc.flags import Output

# Plain spellings (converted here) and everything typer must decide (bad values,
# bounds, unusual spellings that pydantic still accepts).
SAMPLES: list[Any] = [
    None,
    "x",
    "",
    "5",
    "0",
    "010",
    "-1",
    " 5",
    "5_0",
    "0.0",
    "0.05",
    "0.1",
    "2.5",
    "1e1",
    ".5",
    "1.",
    "inf",
    "nan",
    "3600",
    "3601",
    "4096",
    "4097",
    "65",
    "table",
    "Table",
    "json",
    "sarif",
    "disabled",
    "verified",
    "coredns",
    "kube-dns",
    "dns",
    "auto",
    True,
    False,
    0,
    5,
    3601,
    2.0,
    0.05,
    -0.0,
    ("a", "b"),
    ["a"],
    (),
    ("a", 1),
    Output.table,
    PodsMode.DISABLED,
]


@functools.cache
def every_param() -> tuple[tuple[Any, Any], ...]:
    """Every parameter of every command, with its context (the click tree built once)."""
    group = get_command(app)
    ctx = typer.Context(group)
    found = [(p, ctx) for p in group.get_params(ctx)]
    for cmd in group.commands.values():  # type: ignore[attr-defined]
        sub = typer.Context(cmd, parent=ctx)
        found += [(p, sub) for p in cmd.get_params(sub)]
    return tuple(found)


@functools.cache
def typers_coercions() -> dict[int, Any]:
    """Typer's own coercion of each parameter (one pydantic adapter each, built once)."""
    return {id(p): build_runtime_param(p.type_descriptor) for p, _ in every_param()}


def outcome(runtime: Any, value: Any, param: Any, ctx: Any) -> tuple[str, Any]:
    try:
        result = runtime.coerce(value, param=param, ctx=ctx)
    except typer.BadParameter as exc:
        return "error", exc.format_message()
    return type(result).__name__, result


def test_every_flag_gets_the_plain_coercion() -> None:
    params = every_param()
    assert len(params) > 100
    plain = [p.name for p, _ in params if isinstance(p._runtime_param, PlainCoercion)]
    assert len(plain) == len(params), {p.name for p, _ in params} - set(plain)


@pytest.mark.parametrize("value", SAMPLES, ids=repr)
def test_plain_coercion_equals_typers(value: Any) -> None:
    typers_of = typers_coercions()
    for param, ctx in every_param():
        typers = typers_of[id(param)]
        mine = outcome(param._runtime_param, value, param, ctx)
        assert mine == outcome(typers, value, param, ctx), (param.name, value)


def test_a_bad_value_is_reported_by_typer() -> None:
    params = {p.name: (p, ctx) for p, ctx in every_param() if ctx.command.name == "inspect"}
    param, ctx = params["ttl"]
    kind, message = outcome(param._runtime_param, "x", param, ctx)
    assert kind == "error" and "valid integer" in message
    kind, message = outcome(param._runtime_param, "3601", param, ctx)
    assert kind == "error" and "less than or equal to 3600" in message
    assert outcome(param._runtime_param, "60", param, ctx) == ("int", 60)
