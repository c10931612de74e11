"""A pod's exec played on this host: hsvc's lookup script run by ``sh``, its dig asking knotd.

The emulated API server hands each exec's command to a :class:`PodSandbox`
(:meth:`ApiServer.on_exec_run`), which runs the script for real with a ``dig``
first on ``PATH`` that rewrites the server the script names (``@ADDRESS -p PORT``,
or the sandbox's resolv.conf nameserver when none is named) to the knotd
playing that address, on 127.0.0.1. An address no knotd plays answers as an
unreachable server does (dig's "no servers could be reached"): the real dig is
never pointed anywhere but 127.0.0.1.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from collections.abc import Mapping
from pathlib import Path

from tests.integration.apiserver import ExecReply

_SHIM = """\
#!/bin/sh
# dig as a pod's image has it, its server rewritten to the knotd playing it.
srv={default}; port=53; prev=
for a in "$@"; do
  case "$a" in @*) srv=${{a#@}};; esac
  [ "$prev" = "-p" ] && port=$a
  prev=$a
done
case "$srv#$port" in
{routes}
  *) echo ";; connection timed out; no servers could be reached"; exit 9;;
esac
n=$#; skip=
for a in "$@"; do
  if [ -n "$skip" ]; then skip=
  elif [ "$a" = "-p" ]; then skip=1
  else case "$a" in @*) ;; *) set -- "$@" "$a";; esac
  fi
done
shift "$n"
exec {dig} @127.0.0.1 -p "$to" "$@"
"""


class PodSandbox:
    """Runs the exec'd lookup script with a resolv.conf of its own and a routing dig."""

    def __init__(self, root: Path, resolv_conf: str, routes: Mapping[tuple[str, int], int]):
        self.root = root
        (root / "bin").mkdir(parents=True, exist_ok=True)
        self.resolv = root / "resolv.conf"
        self.resolv.write_text(resolv_conf, encoding="utf-8")
        default = next(
            (line.split()[1] for line in resolv_conf.splitlines() if line.startswith("nameserver")),
            "",
        )
        cases = "\n".join(
            f"  '{host}#{port}') to={local};;" for (host, port), local in routes.items()
        )
        shim = root / "bin" / "dig"
        shim.write_text(
            _SHIM.format(default=shlex.quote(default), routes=cases, dig="/usr/bin/dig"),
            encoding="utf-8",
        )
        shim.chmod(0o755)
        self.scripts: list[str] = []

    def __call__(self, command: tuple[str, ...]) -> ExecReply:
        assert command[:2] == ("sh", "-c"), command
        script = command[2]
        self.scripts.append(script)
        script = script.replace("/etc/resolv.conf", str(self.resolv))
        env = {"PATH": f"{self.root / 'bin'}:/usr/bin:/bin", "LC_ALL": "C"}
        if "HOME" in os.environ:
            env["HOME"] = os.environ["HOME"]
        done = subprocess.run(
            ["sh", "-c", script], env=env, capture_output=True, text=True, timeout=60, check=False
        )
        return ExecReply(done.stdout, done.stderr, done.returncode)
