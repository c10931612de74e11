"""A real Knot DNS server (``knotd``) on 127.0.0.1 for tests, started from a temp dir.

Zones are given as ``{origin: zone file text}``, written by hand in the tests:
a zone file here is the "actual" cluster DNS, so it must never come from hsvc's
own record generator. See /work/shared/docs/test-harness.md for the measured facts
(first answer ~10 ms after start, SIGTERM exit ~10 ms, SERVFAIL for a zone whose
file does not load, SERVFAIL over TCP for an answer over 64 KiB).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Self

import dns.exception
import dns.flags
import dns.message
import dns.query
import dns.rcode
import pytest

from hsvc.core.model import Nameserver

HOST = "127.0.0.1"
START_TIMEOUT = 10.0
# Debian installs knotd and knotc in /usr/sbin, which a non-root PATH may lack.
_SEARCH_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/usr/local/sbin"])


def find_binary(name: str) -> str:
    """Return the path of a Knot binary; skip the test locally, fail it under CI=true."""
    path = shutil.which(name, path=_SEARCH_PATH)
    if path is None:
        message = f"{name} not found; install Debian package 'knot' (and 'knot-dnsutils')"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


def free_port() -> int:
    """Return a port that is free on 127.0.0.1 for both UDP and TCP right now."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
            tcp.bind((HOST, 0))
            port = int(tcp.getsockname()[1])
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                try:
                    udp.bind((HOST, port))
                except OSError:
                    continue
        return port
    raise RuntimeError("no port free for both UDP and TCP on 127.0.0.1")


def _origin(zone: str) -> str:
    """Return a zone name absolute and lower-case: ``Cluster.Local`` -> ``cluster.local.``."""
    return zone.lower().rstrip(".") + "."


class KnotServer:
    """``knotd`` serving the given zones on 127.0.0.1, all its files in one temp dir.

    Use as a context manager, or call :meth:`start` and :meth:`stop`. Zones whose
    file does not load are served as SERVFAIL (knot's behaviour), which tests use.
    """

    def __init__(
        self,
        zones: Mapping[str, str],
        *,
        host: str = HOST,
        port: int = 0,
        updatable: bool = False,
        version: str | None = None,
    ) -> None:
        """Serve ``zones``; ``host``/``port`` fix the address (e.g. 127.0.0.7:53), else a free port.

        ``updatable``: accept RFC 2136 UPDATE from ``host`` (see :meth:`update`).
        """
        self.zones = {_origin(origin): text for origin, text in zones.items()}
        self.updatable = updatable
        # What version.bind CH TXT answers (as CoreDNS's chaos plugin would), or knot's default.
        self.version = version
        self.host = host
        self.port = port
        self._fixed_port = port
        self.dir: Path | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._log: Path | None = None

    # --- lifecycle -------------------------------------------------------------

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        """Write the files, start knotd on a free port and wait until every zone is settled."""
        knotd = find_binary("knotd")
        # A short path: the control socket's path must fit sun_path (108 bytes).
        self.dir = Path(tempfile.mkdtemp(prefix="hsvc-knot-"))
        (self.dir / "db").mkdir()
        (self.dir / "zones").mkdir()
        for origin, text in self.zones.items():
            self._zone_file(origin).write_text(text)
        self._log = self.dir / "knotd.log"
        last_log = ""
        for _ in range(5):
            self.port = self._fixed_port or free_port()
            self._write_conf()
            with self._log.open("wb") as log:
                self._process = subprocess.Popen(
                    [knotd, "-c", str(self.dir / "knot.conf")],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            if self._wait_ready():
                return
            last_log = self.log
            self._terminate()
            if "already in use" not in last_log:
                break
        self.stop()
        raise RuntimeError(f"knotd did not start within {START_TIMEOUT}s:\n{last_log}")

    def stop(self) -> None:
        """Stop knotd (SIGTERM, then wait) and remove the temp dir."""
        self._terminate()
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def _terminate(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    # --- what tests use ----------------------------------------------------------

    @property
    def nameserver(self) -> Nameserver:
        """This server as hsvc's resolver addresses it."""
        return Nameserver(host=self.host, port=self.port)

    @property
    def log(self) -> str:
        """knotd's log so far (stdout and stderr)."""
        if self._log is None or not self._log.exists():
            return ""
        return self._log.read_text(errors="replace")

    def set_zone(self, zone: str, text: str) -> None:
        """Replace (or add) one zone's file and make knotd serve it.

        Raises:
            RuntimeError: knotc reported a failure (e.g. the new file does not load).
        """
        origin = _origin(zone)
        new = origin not in self.zones
        self.zones[origin] = text
        self._zone_file(origin).write_text(text)
        if new:
            self._write_conf()
            self._knotc("reload")
            if not self._wait_ready():
                raise RuntimeError(f"knotd did not load new zone {origin}:\n{self.log}")
        else:
            self._knotc("zone-reload", origin)

    def update(
        self,
        zone: str,
        *,
        add: Sequence[tuple[str, int, str, str]] = (),
        delete: Sequence[tuple[str, ...]] = (),
        serial: int | None = None,
    ) -> None:
        """Change records live with one RFC 2136 UPDATE (needs ``updatable=True``).

        ``add`` holds ``(owner, ttl, type, data)``, ``delete`` ``(owner, type)`` (the whole
        set) or ``(owner, type, data)`` (one record), owners
        relative to ``zone`` or absolute. ``serial`` replaces the SOA serial (CoreDNS
        sets its serial to the time of the last change; tests play that).

        Raises:
            RuntimeError: knotd refused the update.
        """
        import dns.update

        origin = _origin(zone)
        message = dns.update.UpdateMessage(origin)
        for owner, rtype, *data in delete:
            message.delete(owner, rtype, *data)
        for owner, ttl, rtype, data in add:
            message.add(owner, ttl, rtype, data)
        if serial is not None:
            soa = self._soa(origin)
            fields = soa.split()
            fields[2] = str(serial)
            message.replace("@", 30, "SOA", " ".join(fields))
        # From ``host`` itself: the ACL allows only it, and a loopback address other
        # than 127.0.0.1 would otherwise be reached from 127.0.0.1.
        response = dns.query.tcp(message, self.host, port=self.port, timeout=2, source=self.host)
        if response.rcode() != dns.rcode.NOERROR:
            raise RuntimeError(f"knotd refused the update: {dns.rcode.to_text(response.rcode())}")

    def serial(self, zone: str) -> int:
        """The zone's SOA serial as knotd serves it now."""
        return int(self._soa(_origin(zone)).split()[2])

    def _soa(self, origin: str) -> str:
        response = dns.query.tcp(
            dns.message.make_query(origin, "SOA"), self.host, port=self.port, timeout=2
        )
        return str(response.answer[0][0])

    def reload(self) -> None:
        """Reload every zone file from disk and wait until knotd has loaded them.

        Raises:
            RuntimeError: knotc reported a failure for some zone.
        """
        self._knotc("zone-reload")

    # --- internals ---------------------------------------------------------------------

    def _zone_file(self, origin: str) -> Path:
        assert self.dir is not None, "server not started"
        name = origin.rstrip(".") or "root"
        return self.dir / "zones" / f"{name}.zone"

    def _write_conf(self) -> None:
        assert self.dir is not None
        zones = "".join(
            f"  - domain: {origin}\n    file: {self._zone_file(origin)}\n" for origin in self.zones
        )
        journal = (
            ", never keep a journal." if not self.updatable else "; UPDATEs go to the journal."
        )
        acl_use = "\n    acl: update" if self.updatable else ""
        version = f'\n    version: "{self.version}"' if self.version else ""
        acl = f"acl:\n  - id: update\n    address: {self.host}\n    action: update\n"
        self.dir.joinpath("knot.conf").write_text(
            f"""\
server:
    rundir: "{self.dir}"
    pidfile: "{self.dir}/knot.pid"
    listen: {self.host}@{self.port}{version}
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
database:
    storage: "{self.dir}/db"
control:
    listen: "{self.dir}/knot.sock"
log:
  - target: stdout
    any: info
{acl if self.updatable else ""}template:
  - id: default
    # The zone files are the truth: never write back{journal}
    zonefile-sync: -1
    zonefile-load: whole
    journal-content: {"changes" if self.updatable else "none"}{acl_use}
zone:
{zones}"""
        )

    def _knotc(self, *args: str) -> None:
        assert self.dir is not None
        knotc = find_binary("knotc")
        # -b: wait until the zone event has finished, so the next query sees it.
        done = subprocess.run(
            [knotc, "-s", str(self.dir / "knot.sock"), "-b", *args],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(
                f"knotc {' '.join(args)} failed ({done.returncode}): "
                f"{done.stdout}{done.stderr}\n{self.log}"
            )

    def _wait_ready(self) -> bool:
        """Wait until every zone answers its SOA or has failed to load (then it is SERVFAIL)."""
        deadline = time.monotonic() + START_TIMEOUT
        pending = set(self.zones) or {"."}
        while pending and time.monotonic() < deadline:
            if self._process is None or self._process.poll() is not None:
                return False
            log = self.log
            # Only this knotd's own start counts: another knotd that holds the port
            # (a free_port() race with a concurrent run) answers the SOA too, while
            # this one fails to bind TCP and exits: its answers would stand in for
            # this server's zones (knotd binds UDP with SO_REUSEPORT, no clash there).
            if f"server started in the foreground, PID {self._process.pid}" not in log:
                if "failed to configure server" in log:
                    return False
                time.sleep(0.01)
                continue
            for origin in sorted(pending):
                if f"[{origin}] zone event 'load' failed" in log or self._serves(origin):
                    pending.discard(origin)
            if pending:
                time.sleep(0.01)
        return not pending

    def _serves(self, origin: str) -> bool:
        query = dns.message.make_query(origin, "SOA")
        try:
            # TCP: the listening socket is this knotd's alone (UDP may be shared).
            response = dns.query.tcp(query, self.host, port=self.port, timeout=0.1)
        except (dns.exception.DNSException, OSError):
            return False
        if origin == "." and not self.zones:
            return True  # no zones: any answer (REFUSED) means knotd is up
        return response.rcode() == dns.rcode.NOERROR and bool(response.flags & dns.flags.AA)
