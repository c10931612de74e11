"""DNS questions per second against one server: a raw-socket loop, and hsvc's resolver.

``python -m benchmarks.dnsrate MODE HOST PORT NAMES CONCURRENCY [ROUNDS]`` prints
one number, questions answered per second, measured in this fresh process (so
nothing of the benchmark's own parent weighs on it):

- ``raw-udp``: one connected UDP socket, ``CONCURRENCY`` queries kept in flight
  (a new one sent as each answer arrives), answers counted, not parsed: the
  most this machine's Python can get out of the server;
- ``raw-tcp``: the same over one TCP connection, queries pipelined (RFC 7766);
- ``hsvc-udp`` / ``hsvc-tcp``: :func:`hsvc.adapters.resolver.resolve_all` at the
  same ``--concurrency`` (``hsvc-tcp``: the server as TCP-only, as a
  port-forward is), every answer parsed into records as ``inspect`` does.

``NAMES`` is a file of ``name type`` lines (``dig -f`` format); an answer of
NOERROR or NXDOMAIN counts (the names an inspect asks include names that must not
resolve), anything else fails the run. Queries are
built once (dnspython, EDNS0, payload 1232) before the clock starts. The
``hsvc-*`` modes also write the run's CPU time per question (user + system,
``getrusage``) on stderr.
"""

from __future__ import annotations

import resource
import socket
import struct
import sys
import time
from pathlib import Path


def _queries(names: list[tuple[str, str]]) -> list[bytes]:
    import dns.message

    wires = []
    for i, (name, rtype) in enumerate(names):
        query = dns.message.make_query(name, rtype, use_edns=0, payload=1232)
        query.id = i % 65536
        wires.append(query.to_wire())
    return wires


def raw_udp(host: str, port: int, queries: list[bytes], concurrency: int, rounds: int) -> float:
    """Questions per second with ``concurrency`` in flight on one UDP socket."""
    total = len(queries) * rounds
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.connect((host, port))
        sock.settimeout(1.0)
        sent = answered = 0
        started = time.perf_counter()
        while sent < min(concurrency, total):
            sock.send(queries[sent % len(queries)])
            sent += 1
        while answered < total:
            try:
                sock.recv(65535)
            except TimeoutError:
                answered = sent  # lost on loopback: give up on those in flight
                while sent < min(answered + concurrency, total):
                    sock.send(queries[sent % len(queries)])
                    sent += 1
                continue
            answered += 1
            if sent < total:
                sock.send(queries[sent % len(queries)])
                sent += 1
        return total / (time.perf_counter() - started)


def raw_tcp(host: str, port: int, queries: list[bytes], concurrency: int, rounds: int) -> float:
    """Questions per second with ``concurrency`` pipelined on one TCP connection."""
    framed = [struct.pack("!H", len(q)) + q for q in queries]
    total = len(queries) * rounds
    with socket.create_connection((host, port), timeout=10) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        started = time.perf_counter()
        sent = min(concurrency, total)
        sock.sendall(b"".join(framed[i % len(framed)] for i in range(sent)))
        answered = 0
        buffer = b""
        while answered < total:
            data = sock.recv(1 << 20)
            if not data:
                raise SystemExit("the server closed the connection")
            buffer += data
            offset = 0
            more: list[bytes] = []
            while len(buffer) - offset >= 2:
                size = struct.unpack_from("!H", buffer, offset)[0]
                if len(buffer) - offset - 2 < size:
                    break
                offset += 2 + size
                answered += 1
                if sent < total:
                    more.append(framed[sent % len(framed)])
                    sent += 1
            buffer = buffer[offset:]
            if more:
                sock.sendall(b"".join(more))
        return total / (time.perf_counter() - started)


def hsvc_rate(
    host: str, port: int, names: list[tuple[str, str]], concurrency: int, rounds: int, tcp: bool
) -> float:
    """Questions per second through hsvc's resolver, every answer parsed."""
    from hsvc.adapters.resolver import resolve_all
    from hsvc.core.model import Nameserver, Question, Rcode

    questions = [Question(name=n, type=t) for n, t in names] * rounds
    server = Nameserver(host=host, port=port, tcp_only=tcp)
    before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    observations = resolve_all(questions, [server], concurrency=concurrency)
    rate = len(questions) / (time.perf_counter() - started)
    after = resource.getrusage(resource.RUSAGE_SELF)
    user, system = after.ru_utime - before.ru_utime, after.ru_stime - before.ru_stime
    print(  # on stderr: stdout's last word is the rate (benchmarks/run.py reads it)
        f"CPU per question: {(user + system) / len(questions) * 1e6:.1f} us "
        f"({user / len(questions) * 1e6:.1f} user)",
        file=sys.stderr,
    )
    failed = sum(1 for o in observations if o.rcode not in (Rcode.NOERROR, Rcode.NXDOMAIN))
    if failed:
        raise SystemExit(
            f"{failed} of {len(observations)} questions were not answered NOERROR or NXDOMAIN"
        )
    return rate


def main(argv: list[str]) -> None:
    mode, host, port, names_file, concurrency = argv[:5]
    rounds = int(argv[5]) if len(argv) > 5 else 1
    names = [
        (line.split()[0], line.split()[1])
        for line in Path(names_file).read_text().splitlines()
        if line.strip()
    ]
    if mode.startswith("raw-"):
        queries = _queries(names)
        loop = raw_udp if mode == "raw-udp" else raw_tcp
        rate = loop(host, int(port), queries, int(concurrency), rounds)
    else:
        rate = hsvc_rate(host, int(port), names, int(concurrency), rounds, mode == "hsvc-tcp")
    print(f"{rate:.0f}")


if __name__ == "__main__":
    main(sys.argv[1:])
