"""``hsvc monitor`` as a subprocess: its JSON lines read as they come, /metrics scraped over HTTP."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


class MonitorProcess:
    """Start ``python -m hsvc monitor ARGS`` with ``env``; stop it with SIGTERM."""

    def __init__(
        self,
        args: list[str],
        env: Mapping[str, str],
        cwd: Path | None = None,
        ignore: tuple[signal.Signals, ...] = (),
    ) -> None:
        self.args = args
        self.ignore = ignore  # signals the monitor starts with ignored, as under `nohup`
        self.env = dict(env)
        self.cwd = cwd
        self.lines: list[dict[str, Any]] = []
        self.stderr = ""
        self.process: subprocess.Popen[str] | None = None
        self.address = ""
        self._cond = threading.Condition()
        self._threads: list[threading.Thread] = []

    def __enter__(self) -> MonitorProcess:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "hsvc", "monitor", "--listen", "127.0.0.1:0", *self.args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=self.env,
            cwd=self.cwd,
            preexec_fn=self._ignore if self.ignore else None,
        )
        self._threads = [
            threading.Thread(target=self._read, daemon=True),
            threading.Thread(target=self._read_err, daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        listening = self.wait_for(lambda e: e["event"] == "listening", 20)
        self.address = listening["address"]
        return self

    def _ignore(self) -> None:
        for sig in self.ignore:
            signal.signal(sig, signal.SIG_IGN)

    def __exit__(self, *exc: object) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(5)
        for thread in self._threads:
            thread.join(5)
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()

    def _read(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        for line in self.process.stdout:
            with self._cond:
                self.lines.append(json.loads(line))
                self._cond.notify_all()

    def _read_err(self) -> None:
        assert self.process is not None and self.process.stderr is not None
        for line in self.process.stderr:
            self.stderr += line

    def wait_for(self, match: Callable[[dict[str, Any]], bool], timeout: float) -> dict[str, Any]:
        """The first JSON line that ``match`` accepts, waiting up to ``timeout`` s."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for line in self.lines:
                    if match(line):
                        return line
                left = deadline - time.monotonic()
                assert self.process is not None
                if left <= 0 or self.process.poll() is not None:
                    raise AssertionError(
                        f"no such line within {timeout} s; lines: {self.lines}; stderr: {self.stderr}"
                    )
                self._cond.wait(min(left, 0.2))

    def get(self, path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(f"http://{self.address}{path}", timeout=5) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    def scrape(self) -> Samples:
        """``/metrics`` parsed with prometheus_client's own parser."""
        status, text = self.get("/metrics")
        assert status == 200, text
        samples: Samples = {}
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
        return samples

    def wait_metric(
        self, check: Callable[[Samples], bool], timeout: float, what: str = ""
    ) -> Samples:
        deadline = time.monotonic() + timeout
        while True:
            samples = self.scrape()
            if check(samples):
                return samples
            if time.monotonic() > deadline:
                raise AssertionError(f"metrics never showed {what}; last lines: {self.lines[-5:]}")
            time.sleep(0.2)

    def terminate(self) -> tuple[int, float]:
        """SIGTERM; return the exit code and the seconds it took to end."""
        assert self.process is not None
        started = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(10)
        return code, time.monotonic() - started


def total(samples: Samples, name: str, **labels: str) -> float:
    """Sum of the samples of ``name`` whose labels include ``labels``."""
    want = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and want <= ls)


def child_env(**extra: str) -> dict[str, str]:
    """The environment for a child hsvc: this one, minus what would point it elsewhere."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("KUBECONFIG", "HSVC_NAMESERVER", "HSVC_VIA", "KUBERNETES_SERVICE_HOST")
    }
    env.update(extra)
    return env
