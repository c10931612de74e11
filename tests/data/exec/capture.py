"""Capture real getent / dig / busybox nslookup / musl getaddrinfo runs for the exec tests.

Not a test: run it by hand, as root, on Debian 12, when hsvc's lookup script or the
scenarios change (tests/integration/test_exec.py says so when the stored script is stale):

    apt-get install knot busybox bind9-dnsutils musl-tools iproute2
    python tests/data/exec/capture.py

It re-runs itself inside ``unshare -m -n`` (a private mount and network namespace),
brings up ``lo``, starts knotd on 127.0.0.1:5300 with the hand-written seed zones,
and a small logging UDP proxy on 127.0.0.1:53 in front of it, then bind-mounts a
temporary file over /etc/resolv.conf. So getent (glibc), a static musl program,
dig and busybox nslookup all use their normal resolver code against "cluster DNS",
and every query they send is logged. See README.md beside this file.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
sys.path.insert(0, str(ROOT))

import dns.message  # noqa: E402
import dns.rcode  # noqa: E402

from hsvc.core.podexec import lookup_script  # noqa: E402
from tests.integration.seed_zone import CLUSTER_ROWS, REVERSE_ROWS, replace, seed_zones  # noqa: E402

# What tests/integration/test_exec.py asks; the stored script must equal lookup_script(...) of these.
EXEC_LOOKUPS = ("eureka", "eureka-0.eureka", "eureka.ms", "nope")
EXEC_TYPES = ("A", "AAAA")
EXEC_TIMEOUT = 1.0
SEED_MANIFESTS = (
    ROOT / "tests" / "data" / "seed" / "ms.yaml",
    ROOT / "tests" / "data" / "seed" / "kube-system.yaml",
)


def inspect_questions() -> list:
    """The questions ``hsvc inspect eureka -n ms`` asks (from the seed manifests)."""
    from contextlib import ExitStack

    from hsvc.commands.options import Options
    from hsvc.commands.source import Api, load_source, plan
    from hsvc.core.model import Question

    opts = Options(files=tuple(str(p) for p in SEED_MANIFESTS), namespace="ms")
    with ExitStack() as stack:
        source = load_source(opts, Api(opts, stack))
    _cluster, items = plan(source, "eureka")
    return [Question(name=e.expected.name, type=e.expected.type) for e in items]


CLUSTER_FIRST = """\
search ms.svc.cluster.local svc.cluster.local cluster.local
nameserver 127.0.0.1
options ndots:5 timeout:1 attempts:1
"""
NDOTS_1 = CLUSTER_FIRST.replace("ndots:5", "ndots:1")

# Extra rows for the libc walks: "web" has NODATA in the pod's namespace and an address
# one search domain further; "slow" is never answered (dropped by the proxy).
WALK_ROWS = [
    *CLUSTER_ROWS,
    ("web.ms.svc", "TXT", '"no address here"'),
    ("web.svc", "A", "10.0.0.99"),
]
WALK_NAMES = ("eureka", "eureka.ms", "eureka-0.eureka", "web", "slow", "nope")
DROP = {"slow.ms.svc.cluster.local."}

MUSL_GAI = r"""
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
int main(int argc, char **argv) {
    struct addrinfo hints, *res, *p; char buf[64];
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC; hints.ai_socktype = SOCK_STREAM; hints.ai_flags = AI_CANONNAME;
    int rc = getaddrinfo(argv[1], NULL, &hints, &res);
    if (rc) { printf("%s\n", gai_strerror(rc)); return 2; }
    for (p = res; p; p = p->ai_next) {
        void *a = p->ai_family == AF_INET ? (void *)&((struct sockaddr_in *)p->ai_addr)->sin_addr
                                          : (void *)&((struct sockaddr_in6 *)p->ai_addr)->sin6_addr;
        inet_ntop(p->ai_family, a, buf, sizeof buf);
        printf("%s STREAM %s\n", buf, p == res && p->ai_canonname ? p->ai_canonname : "");
    }
    return 0;
}
"""


class LoggingProxy:
    """UDP on 127.0.0.1:53 -> knotd on 127.0.0.1:5300, logging (name, type, rcode, answers)."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 53))
        self.log: list[list[object]] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            data, peer = self.sock.recvfrom(4096)
            threading.Thread(target=self._one, args=(data, peer), daemon=True).start()

    def _one(self, data: bytes, peer: tuple[str, int]) -> None:
        query = dns.message.from_wire(data)
        q = query.question[0]
        name, rtype = q.name.to_text().lower(), dns.rdatatype.to_text(q.rdtype)
        if name in DROP:
            with self.lock:
                self.log.append([name, rtype, "DROPPED", 0])
            return
        up = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        up.settimeout(2)
        up.sendto(data, ("127.0.0.1", 5300))
        reply, _ = up.recvfrom(65535)
        up.close()
        msg = dns.message.from_wire(reply)
        with self.lock:
            self.log.append(
                [name, rtype, dns.rcode.to_text(msg.rcode()), sum(len(r) for r in msg.answer)]
            )
        self.sock.sendto(reply, peer)

    def take(self) -> list[list[object]]:
        time.sleep(0.05)
        with self.lock:
            out, self.log = self.log, []
        return out


class Knot:
    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.proc: subprocess.Popen[bytes] | None = None

    def serve(self, zones: dict[str, str]) -> None:
        self.stop()
        d = self.tmp / "knot"
        shutil.rmtree(d, ignore_errors=True)
        (d / "db").mkdir(parents=True)
        conf = [
            f"server:\n  rundir: {d}\n  pidfile: {d}/knot.pid\n  listen: 127.0.0.1@5300\n"
            f"database:\n  storage: {d}/db\ncontrol:\n  listen: {d}/knot.sock\n"
            "template:\n  - id: default\n    zonefile-sync: -1\n    journal-content: none\nzone:\n"
        ]
        for origin, text in zones.items():
            f = d / (origin.rstrip(".") + ".zone")
            f.write_text(text)
            conf.append(f"  - domain: {origin}\n    file: {f}\n")
        (d / "knot.conf").write_text("".join(conf))
        self.proc = subprocess.Popen(
            ["/usr/sbin/knotd", "-c", str(d / "knot.conf")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(0.5)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait()
            self.proc = None


def busybox_path(tmp: Path) -> str:
    """A PATH with only BusyBox applets: what a busybox image offers (no getent, dig, python3)."""
    d = tmp / "busybox-bin"
    d.mkdir(exist_ok=True)
    for applet in ("sh", "cat", "head", "ls", "nslookup", "printf"):
        (d / applet).unlink(missing_ok=True)
        (d / applet).symlink_to("/usr/bin/busybox")
    return str(d)


def run_script(script: str, path: str | None = None) -> str:
    env = {"PATH": path or os.environ["PATH"], "LC_ALL": "C"}
    shell = "sh" if path is None else str(Path(path) / "sh")
    done = subprocess.run(
        [shell, "-c", script], capture_output=True, text=True, env=env, timeout=120
    )
    return done.stdout


def inside() -> None:
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    tmp = Path(tempfile.mkdtemp(prefix="hsvc-capture-"))
    resolv = tmp / "resolv.conf"
    resolv.write_text(CLUSTER_FIRST)
    subprocess.run(["mount", "--bind", str(resolv), "/etc/resolv.conf"], check=True)
    knot = Knot(tmp)
    proxy = LoggingProxy()
    try:
        # 1. The exec captures: hsvc's own lookup script, run by sh in a "pod" with these tools.
        script = lookup_script(EXEC_LOOKUPS, EXEC_TYPES, timeout=EXEC_TIMEOUT)
        (HERE / "lookup-script.sh").write_text(script)
        inspect_script = lookup_script([], [], inspect_questions(), timeout=EXEC_TIMEOUT)
        (HERE / "inspect-script.sh").write_text(inspect_script)
        stale_rows = replace(
            replace(CLUSTER_ROWS, "10.244.1.210", "10.244.1.99"), "10-244-1-210", "10-244-1-99"
        )
        for scenario, rows in (("seed", CLUSTER_ROWS), ("stale", stale_rows)):
            knot.serve(seed_zones(rows, REVERSE_ROWS))
            (HERE / f"debian-{scenario}.out").write_text(run_script(script))
            (HERE / f"busybox-{scenario}.out").write_text(run_script(script, busybox_path(tmp)))
            (HERE / f"inspect-debian-{scenario}.out").write_text(run_script(inspect_script))
            (HERE / f"inspect-busybox-{scenario}.out").write_text(
                run_script(inspect_script, busybox_path(tmp))
            )
            proxy.take()
        # 2. The libc walks: which candidates glibc and musl really ask, in which order.
        gai_c = tmp / "gai.c"
        gai_c.write_text(MUSL_GAI)
        musl_gai = tmp / "musl-gai"
        subprocess.run(["musl-gcc", "-static", "-O1", "-o", str(musl_gai), str(gai_c)], check=True)
        knot.serve(seed_zones(WALK_ROWS, REVERSE_ROWS))
        walks = []
        for conf in (CLUSTER_FIRST, NDOTS_1):
            with resolv.open("w") as f:  # same inode: the bind mount sees it
                f.write(conf)
            for libc, argv in (("glibc", ["getent", "ahosts"]), ("musl", [str(musl_gai)])):
                for name in WALK_NAMES:
                    proxy.take()
                    done = subprocess.run([*argv, name], capture_output=True, text=True, timeout=30)
                    walks.append(
                        {
                            "libc": libc,
                            "resolvConf": conf,
                            "name": name,
                            "queries": proxy.take(),
                            "exit": done.returncode,
                            "stdout": done.stdout,
                        }
                    )
        (HERE / "libc-walks.json").write_text(json.dumps(walks, indent=1) + "\n")
        versions = {
            "glibc": subprocess.run(
                ["getconf", "GNU_LIBC_VERSION"], capture_output=True, text=True
            ).stdout.strip(),
            "musl": subprocess.run(
                ["dpkg-query", "-W", "-f", "${Version}", "musl"], capture_output=True, text=True
            ).stdout,
            "busybox": subprocess.run(
                ["busybox"], capture_output=True, text=True
            ).stdout.splitlines()[0],
            "dig": subprocess.run(["dig", "-v"], capture_output=True, text=True).stderr.strip(),
            "knotd": subprocess.run(
                ["/usr/sbin/knotd", "-V"], capture_output=True, text=True
            ).stdout.strip(),
        }
        (HERE / "versions.json").write_text(json.dumps(versions, indent=1, sort_keys=True) + "\n")
    finally:
        knot.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    if os.environ.get("HSVC_CAPTURE_NS") == "1":
        inside()
        return
    env = dict(os.environ, HSVC_CAPTURE_NS="1")
    sys.exit(subprocess.run(["unshare", "-m", "-n", sys.executable, __file__], env=env).returncode)


if __name__ == "__main__":
    main()
