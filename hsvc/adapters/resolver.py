"""Ask DNS servers every question at once and record what each one answered.

The only module that imports dnspython. Callers see plain functions and model
types: one asyncio event loop lives inside :func:`resolve_all` and ends with it.
A server that times out, refuses, answers garbage or SERVFAIL is data (an
``Observation`` with that status), never an exception; only bad input raises.

Every query names its server and port explicitly, so the host's own
``/etc/resolv.conf`` never takes part.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import math
import re
import socket
import struct
import time
import weakref
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, cast

import dns.asyncquery
import dns.entropy
import dns.exception
import dns.flags
import dns.inet
import dns.ipv4
import dns.ipv6
import dns.message
import dns.name
import dns.opcode
import dns.query
import dns.rcode
import dns.rdataclass
import dns.rdatatype

from hsvc.core.model import Nameserver, Observation, Question, Rcode, Record
from hsvc.core.resolvconf import ResolvConf, read_resolv_conf
from hsvc.errors import InvalidNameError, UsageError

__all__ = [
    "EDNS_PAYLOAD",
    "ResolvConf",
    "parse_nameserver",
    "read_resolv_conf",
    "resolve_all",
]

log = logging.getLogger(__name__)

# DNS Flag Day 2020: the largest UDP payload that avoids IP fragmentation.
EDNS_PAYLOAD = 1232

_RCODES = {
    dns.rcode.NOERROR: Rcode.NOERROR,
    dns.rcode.NXDOMAIN: Rcode.NXDOMAIN,
    dns.rcode.SERVFAIL: Rcode.SERVFAIL,
    dns.rcode.REFUSED: Rcode.REFUSED,
}

# Types whose presentation form holds only names and numbers, so lower-casing it is
# safe. TXT and the rest carry case-sensitive text and stay as the server sent them.
_CASELESS_TYPES = frozenset(
    {
        dns.rdatatype.A,
        dns.rdatatype.AAAA,
        dns.rdatatype.CNAME,
        dns.rdatatype.DNAME,
        dns.rdatatype.MX,
        dns.rdatatype.NS,
        dns.rdatatype.PTR,
        dns.rdatatype.SOA,
        dns.rdatatype.SRV,
    }
)

_MISMATCH = "response does not match the query (wrong ID or question)"
_NAMESERVER_HELP = "use HOST[:PORT], [IPv6]:PORT or a bare IPv6 address, e.g. 10.96.0.10:53"


@dataclass(frozen=True, slots=True)
class _Prepared:
    """A validated question: what to send and how to report it."""

    name: str  # absolute, lower-case, trailing dot
    type: str  # canonical mnemonic, e.g. "SRV"
    qname: dns.name.Name
    rdtype: dns.rdatatype.RdataType


@dataclass(frozen=True, slots=True)
class _Failure:
    """An exchange that produced no usable response."""

    rcode: Rcode  # TIMEOUT or ERROR
    error: str


def resolve_all(
    questions: Sequence[Question],
    servers: Sequence[Nameserver],
    *,
    timeout: float = 2.0,
    concurrency: int = 64,
    retries: int = 1,
    progress: Callable[[int], None] | None = None,
) -> list[Observation]:
    """Ask every server every question, concurrently, and return what each answered.

    Each query goes over UDP with EDNS0 (payload 1232) unless the server is
    ``tcp_only``, and is repeated over TCP when the UDP answer is truncated. An
    attempt that times out is sent again up to ``retries`` more times (lost UDP
    packets), so one query takes at most ``timeout * (retries + 1)`` plus one
    TCP ``timeout``.

    Args:
        questions: What to ask; names may omit the trailing dot (they are
            taken as absolute, no search list applies).
        servers: Whom to ask; hosts must be IP addresses.
        timeout: Seconds to wait for each attempt.
        concurrency: Most queries in flight at once.
        retries: Extra attempts after a timeout (over TCP for ``tcp_only``).
        progress: Called with the number of queries finished so far, after
            each one finishes.

    Returns:
        One Observation per (question, server): questions-major, then servers,
        in the order given. Failures are statuses (TIMEOUT, ERROR, SERVFAIL, ...).

    Raises:
        InvalidNameError: A question's name is not a valid DNS name.
        UsageError: A question's type is unknown, a server is not an IP address
            and port, or timeout, concurrency or retries is out of range.
    """
    if not (timeout > 0 and math.isfinite(timeout)):
        raise UsageError(f"invalid --timeout {timeout}: must be more than 0 seconds")
    if concurrency < 1:
        raise UsageError(f"invalid --concurrency {concurrency}: must be at least 1")
    if retries < 0:
        raise UsageError(f"invalid retries {retries}: must be 0 or more")
    prepared = [_prepare(question) for question in questions]
    for server in servers:
        _check_server(server)
    if not prepared or not servers:
        return []

    started = time.monotonic()
    observations = asyncio.run(
        _resolve(prepared, list(servers), timeout, concurrency, retries, progress)
    )
    log.debug(
        "asked %d questions of %d servers in %.0f ms",
        len(prepared),
        len(servers),
        (time.monotonic() - started) * 1000,
    )
    return observations


def parse_nameserver(text: str) -> Nameserver:
    """Read a ``--nameserver`` value: ``HOST[:PORT]``, ``[IPv6]:PORT`` or a bare IPv6.

    The host must be an IP address: a host name would need the host's resolver
    to look it up, which this tool never consults.

    Raises:
        UsageError: The text is not an IP address with an optional port 1-65535.
    """
    raw = text.strip()
    port = 53
    if raw.startswith("["):
        host, bracket, rest = raw[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            raise UsageError(
                f"invalid --nameserver {text!r}: expected [IPv6] or [IPv6]:PORT; "
                + _NAMESERVER_HELP
            )
        if rest:
            port = _port(text, rest[1:])
        if ":" not in host:
            raise UsageError(
                f"invalid --nameserver {text!r}: only IPv6 addresses go in brackets; "
                + _NAMESERVER_HELP
            )
    elif raw.count(":") == 1:
        host, _, port_text = raw.partition(":")
        port = _port(text, port_text)
    else:
        # No colon: an IPv4 address or a name; two or more: a bare IPv6 address.
        host = raw
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        reason = "empty" if not host else f"{host!r} is not an IP address"
        raise UsageError(f"invalid --nameserver {text!r}: {reason}; {_NAMESERVER_HELP}") from None
    return Nameserver(host=str(address), port=port)


def _port(text: str, port_text: str) -> int:
    if not (port_text.isascii() and port_text.isdigit()) or not 1 <= int(port_text) <= 65535:
        raise UsageError(
            f"invalid --nameserver {text!r}: port {port_text!r} is not a number from 1 to 65535"
        )
    return int(port_text)


# --- input checks ----------------------------------------------------------------


def _prepare(question: Question) -> _Prepared:
    """Validate a question before anything is sent.

    Raises:
        InvalidNameError: The name cannot be a DNS name.
        UsageError: The type is unknown or a meta type (ANY, AXFR, OPT, ...).
    """
    text = question.name
    if not text or text == "@":
        raise InvalidNameError(name=text, reason="empty name")
    # In ASCII the only printable white space is the space itself.
    if not text.isascii() or not text.isprintable() or " " in text:
        raise InvalidNameError(
            name=text, reason="only printable ASCII without spaces; write IDN names as xn--"
        )
    try:
        qname = dns.name.from_text(text).canonicalize()
    except dns.exception.DNSException as exc:
        raise InvalidNameError(name=text, reason=_sentence(exc)) from exc
    try:
        rdtype = dns.rdatatype.from_text(question.type)
    except (dns.exception.DNSException, ValueError) as exc:
        raise UsageError(
            f"unknown record type {question.type!r}; use e.g. A, AAAA, SRV, PTR, TXT"
        ) from exc
    if rdtype == dns.rdatatype.NONE or dns.rdatatype.is_metatype(rdtype):
        raise UsageError(f"record type {question.type!r} cannot be asked as a plain query")
    return _Prepared(
        name=qname.to_text(),
        type=dns.rdatatype.to_text(rdtype),
        qname=qname,
        rdtype=rdtype,
    )


def _check_server(server: Nameserver) -> None:
    try:
        ipaddress.ip_address(server.host)
    except ValueError:
        raise UsageError(
            f"nameserver {server.host!r} is not an IP address; give its address, e.g. 10.96.0.10"
        ) from None
    if not 1 <= server.port <= 65535:
        raise UsageError(f"nameserver {server}: port {server.port} is not from 1 to 65535")


def _sentence(exc: BaseException) -> str:
    """Turn dnspython's "A DNS label is empty." into "a DNS label is empty"."""
    text = str(exc).rstrip(".")
    if text[1:2].isupper():  # an acronym: "DNS message is malformed"
        return text
    return text[:1].lower() + text[1:]


# --- reading responses -------------------------------------------------------------


def _records(message: dns.message.Message) -> tuple[Record, ...]:
    """Convert the answer section into Records in presentation form."""
    records: list[Record] = []
    for rrset in message.answer:
        owner = rrset.name.canonicalize().to_text()
        caseless = rrset.rdtype in _CASELESS_TYPES
        for rdata in rrset:
            data = rdata.to_text()
            records.append(
                Record(
                    name=owner,
                    type=dns.rdatatype.to_text(rrset.rdtype),
                    ttl=int(rrset.ttl),
                    data=data.lower() if caseless else data,
                )
            )
    return tuple(records)


def _status(rcode: dns.rcode.Rcode) -> tuple[Rcode, str]:
    """Return a response's status and, for rcodes without one, an error text."""
    status = _RCODES.get(rcode)
    if status is None:
        return Rcode.ERROR, f"server answered {dns.rcode.to_text(rcode)}"
    return status, ""


@dataclass(frozen=True, slots=True)
class _Response:
    """What is kept of a response: its status, TC flag, answer records and size."""

    rcode: dns.rcode.Rcode
    truncated: bool
    answer: tuple[Record, ...]
    size: int  # bytes on the wire


def _response(message: dns.message.Message) -> _Response:
    """Keep what hsvc reads from a message dnspython parsed."""
    return _Response(
        rcode=message.rcode(),
        truncated=bool(message.flags & dns.flags.TC),
        answer=_records(message),
        size=len(message.wire or b""),
    )


# The fast path below reads answers of these types; anything else goes to dnspython.
_FAST_TYPES = {
    dns.rdatatype.A: "A",
    dns.rdatatype.AAAA: "AAAA",
    dns.rdatatype.CNAME: "CNAME",
    dns.rdatatype.NS: "NS",
    dns.rdatatype.PTR: "PTR",
    dns.rdatatype.SRV: "SRV",
}
# Types the fast path lets pass, unread, in the authority and additional sections.
_FAST_OTHER_TYPES = frozenset(
    {dns.rdatatype.SOA, dns.rdatatype.NS, dns.rdatatype.A, dns.rdatatype.AAAA}
)
_MAX_POINTERS = 16  # dns.name.MAX_COMPRESSION_POINTER_CHAIN
# Label bytes dnspython prints as they are (no escapes).
_PLAIN_LABEL = re.compile(rb"[A-Za-z0-9_-]+")


def _name(wire: bytes, offset: int, bound: int) -> tuple[str, int] | None:
    """Read a name at ``offset`` (ending before ``bound``): lower-case text, offset after it.

    None wherever dnspython would escape or reject (dns.name.from_wire_parser):
    unusual label bytes, extended label types, pointers that do not go strictly
    backwards or overlap the name, chains over 16 pointers, over 255 bytes.
    """
    labels: list[bytes] = []
    after = -1  # the offset after the name, once a pointer has been followed
    start = lowest = offset
    hops = length = 0
    while True:
        if offset >= bound:
            return None
        size = wire[offset]
        if size >= 0xC0:
            if offset + 1 >= bound:
                return None
            target = ((size & 0x3F) << 8) | wire[offset + 1]
            hops += 1
            if target >= lowest or hops > _MAX_POINTERS:
                return None
            if after < 0:
                after = offset + 2
            bound = start  # the target must not overlap what was read
            offset = start = lowest = target
            continue
        if size > 63:
            return None
        offset += 1
        length += size + 1
        if size == 0:
            break
        if offset + size > bound:
            return None
        label = wire[offset : offset + size]
        if not _PLAIN_LABEL.fullmatch(label):
            return None
        labels.append(label)
        offset += size
    if length > 255:
        return None
    text = b".".join(labels).decode("ascii").lower() + "."
    return text, after if after >= 0 else offset


def _decode(wire: bytes) -> _Response | None:
    """Read a plain response without dnspython's message parser, or None to leave it to it.

    dnspython spends ~0.15 ms per message building objects hsvc then turns into
    text; at thousands of queries that is most of the run. This reads what
    cluster DNS sends (A, AAAA, CNAME, NS, PTR, SRV answers; SOA, NS, address
    and OPT records in the other sections) to the same Records as
    :func:`_records`, checks the framing of every section, and returns None for
    anything else (TC set, other types, extended rcodes, escapes, trailing bytes)
    so that dnspython decides, and words any error, as before.
    """
    if len(wire) < 12:
        return None
    flags, qdcount, ancount, nscount, arcount = struct.unpack_from("!HHHHH", wire, 2)
    if flags & dns.flags.TC or qdcount != 1 or flags & 0xF not in _RCODES:
        return None
    question = _name(wire, 12, len(wire))
    if question is None:
        return None
    offset = question[1] + 4
    answer: list[Record] = []
    opt_seen = False
    for index in range(ancount + nscount + arcount):
        owner = _name(wire, offset, len(wire))
        if owner is None or owner[1] + 10 > len(wire):
            return None
        rdtype, rdclass, ttl, rdlen = struct.unpack_from("!HHIH", wire, owner[1])
        start = owner[1] + 10
        offset = start + rdlen
        if offset > len(wire):
            return None
        if index >= ancount:
            if rdtype == dns.rdatatype.OPT and index >= ancount + nscount and not opt_seen:
                # The extended rcode lives in the OPT TTL's top byte; leave it to dnspython.
                if owner[0] != "." or ttl >> 24:
                    return None
                opt_seen = True
            elif rdtype not in _FAST_OTHER_TYPES or rdclass != dns.rdataclass.IN:
                return None
            continue
        name = _FAST_TYPES.get(rdtype)
        if name is None or rdclass != dns.rdataclass.IN:
            return None
        data = _rdata(wire, rdtype, start, offset)
        if data is None:
            return None
        answer.append(Record(name=owner[0], type=name, ttl=ttl, data=data))
    if offset != len(wire):
        return None
    rcode = dns.rcode.Rcode(flags & 0xF)
    return _Response(rcode=rcode, truncated=False, answer=tuple(answer), size=len(wire))


def _rdata(wire: bytes, rdtype: int, start: int, end: int) -> str | None:
    """Presentation form of one fast-path rdata, as dnspython (lower-cased) writes it."""
    if rdtype == dns.rdatatype.A:
        return dns.ipv4.inet_ntoa(wire[start:end]) if end - start == 4 else None
    if rdtype == dns.rdatatype.AAAA:
        return dns.ipv6.inet_ntoa(wire[start:end]) if end - start == 16 else None
    if rdtype == dns.rdatatype.SRV:
        if end - start < 7:
            return None
        priority, weight, port = struct.unpack_from("!HHH", wire, start)
        target = _name(wire, start + 6, end)
        if target is None or target[1] != end:
            return None
        return f"{priority} {weight} {port} {target[0]}"
    target = _name(wire, start, end)  # CNAME, NS, PTR: one name
    if target is None or target[1] != end:
        return None
    return target[0]


def _describe(exc: BaseException) -> str:
    """Say in a few words why an exchange failed."""
    if isinstance(exc, dns.query.BadResponse):
        return _MISMATCH
    if isinstance(exc, dns.message.ShortHeader):
        return "malformed response: shorter than a DNS header"
    if isinstance(exc, dns.exception.DNSException):
        return f"malformed response: {_sentence(exc)}"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, ConnectionResetError):
        return "connection reset by server"
    if isinstance(exc, EOFError):
        return "connection closed by server"
    if isinstance(exc, OSError) and exc.strerror:
        return f"network error: {exc.strerror.lower()}"
    return f"network error: {exc}"


def _tcp_failure(result: _Response | _Failure) -> str:
    """Return why a TCP retry did not deliver the whole answer, or "" if it did."""
    if isinstance(result, _Failure):
        return result.error
    if result.truncated:
        return "the TCP answer is truncated too (over 65535 bytes)"
    if result.rcode not in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN):
        return f"server answered {dns.rcode.to_text(result.rcode)}"
    return ""


def _observation(
    question: _Prepared,
    server: str,
    outcome: _Response | _Failure,
    started: float,
    *,
    too_large: bool = False,
    error: str = "",
) -> Observation:
    elapsed_ms = round((time.monotonic() - started) * 1000, 3)
    if isinstance(outcome, _Failure):
        return Observation(
            server=server,
            name=question.name,
            type=question.type,
            rcode=outcome.rcode,
            elapsed_ms=elapsed_ms,
            error=outcome.error,
        )
    rcode, rcode_error = _status(outcome.rcode)
    return Observation(
        server=server,
        name=question.name,
        type=question.type,
        rcode=rcode,
        answer=outcome.answer,
        too_large=too_large,
        size=outcome.size,
        elapsed_ms=elapsed_ms,
        error=error or rcode_error,
    )


# --- I/O ---------------------------------------------------------------------------


# Fail fast (a silent server costs one query's timeout, not minutes): before a run of
# more than this many questions, each server is asked its first question alone ...
PROBE_OVER = 8
# ... and a server that answered none of its first this many questions is asked no more.
SILENT_AFTER = 8


class _ServerState:
    """What one server did so far: whether it ever answered, how many times it did not."""

    __slots__ = ("answered", "first_error", "silent", "unanswered")

    def __init__(self) -> None:
        self.answered = False
        self.unanswered = 0
        self.first_error = ""
        self.silent = ""  # why it is asked no more ("" while it is asked)

    def saw(self, obs: Observation, limit: int) -> None:
        if obs.rcode not in (Rcode.TIMEOUT, Rcode.ERROR):
            self.answered = True
            return
        self.unanswered += 1
        self.first_error = self.first_error or obs.error or obs.rcode.value
        if not self.answered and self.unanswered >= limit and not self.silent:
            self.silent = (
                f"server silent: no response to its first {self.unanswered} "
                f"{'query' if self.unanswered == 1 else 'queries'} ({self.first_error}); "
                "not asked the rest"
            )


async def _resolve(
    questions: list[_Prepared],
    servers: list[Nameserver],
    timeout: float,
    concurrency: int,
    retries: int,
    progress: Callable[[int], None] | None,
) -> list[Observation]:
    """Ask with ``concurrency`` workers, each with one UDP socket per server, reused.

    A worker has one query in flight at a time, so whatever reaches its socket
    answers that query: a reply with another ID is a mismatch, as on a socket
    of its own. Reusing sockets spares a socket, a connect and a selector
    registration per query, which at thousands of queries cost more than the
    exchange itself.

    A big run starts with a probe: each server's first question, alone. A server
    that gets no response to it (or, in any run, to its first :data:`SILENT_AFTER`
    questions) is asked nothing more: its remaining questions become ``ERROR``
    observations saying "server silent", and the others go on.
    """
    jobs = [(question, server) for question in questions for server in servers]
    results: list[Observation | None] = [None] * len(jobs)
    states = {server: _ServerState() for server in servers}
    finished = 0
    probing = len(questions) > PROBE_OVER
    probe = list(range(len(servers))) if probing else []

    async def worker(pending: Iterator[int], limit: int) -> None:
        nonlocal finished
        sockets = _Sockets()
        try:
            for i in pending:
                if results[i] is not None:
                    continue  # answered by the probe
                question, server = jobs[i]
                state = states[server]
                if state.silent:
                    results[i] = _silent(question, str(server), state.silent)
                else:
                    results[i] = obs = await _ask(question, server, sockets, timeout, retries)
                    state.saw(obs, limit)
                finished += 1
                if progress is not None:
                    progress(finished)
        finally:
            sockets.close()

    async def run(indices: Sequence[int], limit: int) -> None:
        pending = iter(indices)  # shared: each index goes to one worker
        # gather, not a TaskGroup: a bug surfaces as its own exception, not a group.
        await asyncio.gather(
            *(worker(pending, limit) for _ in range(min(concurrency, len(indices))))
        )

    try:
        if probe:
            await run(probe, 1)
        await run(range(len(jobs)), SILENT_AFTER)
    finally:
        await _pipelines().close()
    for server, state in states.items():
        if state.silent:
            log.debug("%s: %s", server, state.silent)
    return [r for r in results if r is not None]


def _silent(question: _Prepared, server: str, why: str) -> Observation:
    """The observation of a question not asked because its server never answered."""
    return Observation(
        server=server, name=question.name, type=question.type, rcode=Rcode.ERROR, error=why
    )


async def _ask(
    question: _Prepared,
    server: Nameserver,
    sockets: _Sockets,
    timeout: float,
    retries: int,
) -> Observation:
    label = str(server)
    started = time.monotonic()
    if server.tcp_only:
        first = await _exchange_tcp(question, server, timeout=timeout, attempts=retries + 1)
    else:
        first = await _exchange_udp(question, server, sockets, timeout, attempts=retries + 1)
    if isinstance(first, _Failure) or not first.truncated:
        return _observation(question, label, first, started)
    if server.tcp_only:
        return _observation(
            question,
            label,
            first,
            started,
            too_large=True,
            error="answer truncated even over TCP (over 65535 bytes)",
        )
    second = await _exchange_tcp(question, server, timeout=timeout, attempts=1)
    why = _tcp_failure(second)
    if not why:
        return _observation(question, label, second, started)
    # Keep what the truncated reply held; a TCP reply with TC may hold more.
    partial = second if isinstance(second, _Response) and second.answer else first
    return _observation(
        question,
        label,
        partial,
        started,
        too_large=True,
        error=f"answer truncated over UDP and TCP failed: {why}",
    )


# EDNS0 OPT record: root owner, payload size as its class, no extended flags (no DO).
_OPT_RR = b"\x00" + struct.pack("!HHIH", dns.rdatatype.OPT, EDNS_PAYLOAD, 0, 0)
# Failure rcodes a server may answer without echoing the question (as dnspython allows).
_NO_QUESTION_RCODES = frozenset(
    {dns.rcode.FORMERR, dns.rcode.SERVFAIL, dns.rcode.NOTIMP, dns.rcode.REFUSED}
)


def _question_wire(question: _Prepared) -> bytes:
    """The question section: name, type, class IN."""
    name = question.qname.to_wire()
    assert name is not None  # None only when writing to a file
    return name + struct.pack("!HH", question.rdtype, dns.rdataclass.IN)


def _query_wire(qid: int, section: bytes) -> bytes:
    """A query as ``dns.message.make_query(use_edns=0, payload=1232)`` builds it: RD, one OPT.

    Built by hand: make_query plus to_wire costs ~0.15 ms, more than the exchange.
    """
    return struct.pack("!HHHHHH", qid, dns.flags.RD, 1, 0, 0, 1) + section + _OPT_RR


def _answers(wire: bytes, qid: int, section: bytes) -> bool:
    """Whether ``wire`` is a response to the query (dnspython's ``is_response`` on bytes).

    Same ID, QR set, opcode QUERY, and the same question (the name compared
    without case; label length bytes are below 64 and never change case).
    """
    if len(wire) < 12 or int.from_bytes(wire[:2], "big") != qid:
        return False
    flags = int.from_bytes(wire[2:4], "big")
    if not flags & dns.flags.QR or (flags >> 11) & 0xF != dns.opcode.QUERY:
        return False
    qdcount = int.from_bytes(wire[4:6], "big")
    if qdcount == 0:
        return flags & 0xF in _NO_QUESTION_RCODES
    got = wire[12 : 12 + len(section)]
    return qdcount == 1 and got[:-4].lower() == section[:-4].lower() and got[-4:] == section[-4:]


class _Udp(asyncio.DatagramProtocol):
    """A connected UDP socket whose next datagram (or ICMP error) answers one waiter."""

    def __init__(self) -> None:
        self.transport: asyncio.DatagramTransport | None = None
        self.waiter: asyncio.Future[bytes] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # asyncio's selector transport implements DatagramTransport without subclassing it.
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(data)

    def error_received(self, exc: Exception) -> None:
        # On a connected socket the ICMP "port unreachable" of a closed port
        # arrives here as ConnectionRefusedError instead of reading as a timeout.
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(exc)


class _Sockets:
    """One worker's UDP sockets, one per server, opened on first use."""

    def __init__(self) -> None:
        self._open: dict[Nameserver, _Udp] = {}

    async def get(self, server: Nameserver) -> _Udp:
        udp = self._open.get(server)
        if udp is None:
            sock = socket.socket(dns.inet.af_for_address(server.host), socket.SOCK_DGRAM)
            try:
                sock.setblocking(False)
                sock.connect((server.host, server.port))
                _, udp = await asyncio.get_running_loop().create_datagram_endpoint(_Udp, sock=sock)
            except BaseException:
                sock.close()
                raise
            self._open[server] = udp
        return udp

    def discard(self, server: Nameserver) -> None:
        """Close a socket after a failed exchange, so a late reply cannot meet the next query."""
        udp = self._open.pop(server, None)
        if udp is not None and udp.transport is not None:
            udp.transport.close()

    def close(self) -> None:
        for server in list(self._open):
            self.discard(server)


async def _exchange_udp(
    question: _Prepared,
    server: Nameserver,
    sockets: _Sockets,
    timeout: float,
    *,
    attempts: int,
) -> _Response | _Failure:
    """Send one query over UDP, retrying on timeout; return the response or why there is none."""
    section = _question_wire(question)
    for _ in range(attempts):
        qid = dns.entropy.random_16()
        try:
            udp = await sockets.get(server)
        except OSError as exc:
            return _Failure(Rcode.ERROR, _describe(exc))
        assert udp.transport is not None
        waiter = udp.waiter = asyncio.get_running_loop().create_future()
        try:
            udp.transport.sendto(_query_wire(qid, section))
            async with asyncio.timeout(timeout):
                wire = await waiter
        except TimeoutError:
            sockets.discard(server)
            continue
        except OSError as exc:
            sockets.discard(server)
            return _Failure(Rcode.ERROR, _describe(exc))
        finally:
            udp.waiter = None
        result = _read(wire, qid, section)
        if isinstance(result, _Failure):
            sockets.discard(server)
        return result
    return _timed_out(timeout, attempts)


async def _exchange_tcp(
    question: _Prepared,
    server: Nameserver,
    *,
    timeout: float,
    attempts: int,
) -> _Response | _Failure:
    """Send one query over TCP, retrying on timeout; return the response or why there is none."""
    if server.tcp_only:
        # Port-forward relays: pipelined over a few connections (see below), never one each.
        return await _pipelines().exchange(question, server, timeout=timeout, attempts=attempts)
    section = _question_wire(question)
    for _ in range(attempts):
        qid = dns.entropy.random_16()
        query = _query_wire(qid, section)
        writer: asyncio.StreamWriter | None = None
        try:
            async with asyncio.timeout(timeout):
                reader, writer = await asyncio.open_connection(server.host, server.port)
                writer.write(len(query).to_bytes(2, "big") + query)  # RFC 1035 4.2.2 framing
                size = int.from_bytes(await reader.readexactly(2), "big")
                wire = await reader.readexactly(size)
        except TimeoutError:
            continue
        except (OSError, EOFError) as exc:  # IncompleteReadError is an EOFError
            return _Failure(Rcode.ERROR, _describe(exc))
        finally:
            if writer is not None:
                writer.close()
        return _read(wire, qid, section)
    return _timed_out(timeout, attempts)


def _read(wire: bytes, qid: int, section: bytes) -> _Response | _Failure:
    """Check that ``wire`` answers the query and read it: the fast path, else dnspython."""
    if not _answers(wire, qid, section):
        return _Failure(Rcode.ERROR, _MISMATCH)
    return _read_wire(wire)


def _timed_out(timeout: float, attempts: int) -> _Failure:
    tries = f" ({attempts} attempts)" if attempts > 1 else ""
    return _Failure(Rcode.TIMEOUT, f"no response within {timeout:g}s{tries}")


# --- TCP-only servers: pipelined connections (RFC 7766) ------------------------------------
#
# A TCP-only server is usually a port-forward relay (hsvc.adapters.kubeapi): every
# connection to it is one websocket through the API server and the kubelet, which
# costs far more than a query. So queries share a few long-lived connections and
# are pipelined: sent without waiting, each with an ID unique on its connection,
# and matched to their responses by ID (RFC 7766 section 6.2.1.1). CoreDNS serves
# any number of queries per connection (tcpMaxQueries -1) but answers them in
# order, so one slow query (forwarded upstream) holds up those behind it: hence
# more than one connection, and a connection where a query timed out takes no new
# queries. Measured in docs/reference/benchmarks.md.

PIPELINE_CONNECTIONS = 2  # per TCP-only server


class _Closed(Exception):  # noqa: N818  (a private signal)
    """The server closed a pipelined connection before answering."""


class _TcpConnection:
    """One pipelined TCP connection: queries go out at once, answers come back by ID."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer
        self.pending: dict[int, asyncio.Future[bytes]] = {}
        self.retired = False  # takes no new queries (one timed out, or it closed)
        self._task = asyncio.get_running_loop().create_task(self._read())

    async def ask(self, section: bytes, timeout: float) -> bytes:
        """Send one query and wait for its answer.

        Raises:
            TimeoutError: No answer within ``timeout``.
            _Closed: The connection closed first.
            OSError: Writing failed.
        """
        qid = dns.entropy.random_16()
        while qid in self.pending:
            qid = dns.entropy.random_16()
        waiter: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self.pending[qid] = waiter
        wire = _query_wire(qid, section)
        try:
            self._writer.write(len(wire).to_bytes(2, "big") + wire)
            async with asyncio.timeout(timeout):
                await self._writer.drain()
                answer = await waiter
        except TimeoutError:
            self.retired = True
            raise
        finally:
            self.pending.pop(qid, None)
            if self.retired and not self.pending:
                self.close()
        if not _answers(answer, qid, section):
            raise dns.query.BadResponse
        return answer

    async def _read(self) -> None:
        try:
            while True:
                size = int.from_bytes(await self._reader.readexactly(2), "big")
                wire = await self._reader.readexactly(size)
                waiter = self.pending.get(int.from_bytes(wire[:2], "big"))
                if waiter is not None and not waiter.done():
                    waiter.set_result(wire)
        except (asyncio.IncompleteReadError, OSError):
            pass
        self.retired = True
        for waiter in self.pending.values():
            if not waiter.done():
                waiter.set_exception(_Closed())
                # Mark it retrieved: an asker that already gave up must not make asyncio
                # log "Future exception was never retrieved" on stderr.
                waiter.exception()

    def close(self) -> None:
        self.retired = True
        self._task.cancel()
        self._writer.close()

    async def wait_closed(self) -> None:
        self.close()
        await asyncio.gather(self._task, return_exceptions=True)
        try:
            await self._writer.wait_closed()
        except OSError:
            pass


class _TcpPipeline:
    """The pipelined connections to one TCP-only server."""

    def __init__(self, server: Nameserver) -> None:
        self.server = server
        self.connections: list[_TcpConnection] = []
        self._connecting: asyncio.Lock = asyncio.Lock()

    async def _connection(self, timeout: float) -> _TcpConnection:
        self.connections = [c for c in self.connections if not (c.retired and not c.pending)]
        live = [c for c in self.connections if not c.retired]
        if len(live) >= PIPELINE_CONNECTIONS:
            return min(live, key=lambda c: len(c.pending))
        async with self._connecting:
            live = [c for c in self.connections if not c.retired]
            # Open another connection only when every live one is busy.
            if live and (len(live) >= PIPELINE_CONNECTIONS or not all(c.pending for c in live)):
                return min(live, key=lambda c: len(c.pending))
            async with asyncio.timeout(timeout):
                reader, writer = await asyncio.open_connection(self.server.host, self.server.port)
            connection = _TcpConnection(reader, writer)
            self.connections.append(connection)
            return connection

    async def exchange(
        self, question: _Prepared, *, timeout: float, attempts: int
    ) -> _Response | _Failure:
        """Ask one question, retrying on timeout or a closed connection."""
        section = _question_wire(question)
        failure: _Failure = _timed_out(timeout, attempts)
        for _ in range(attempts):
            try:
                connection = await self._connection(timeout)
                wire = await connection.ask(section, timeout)
            except TimeoutError:
                failure = _timed_out(timeout, attempts)
                continue
            except _Closed:
                failure = _Failure(Rcode.ERROR, "connection closed by server")
                continue
            except dns.query.BadResponse:
                return _Failure(Rcode.ERROR, _MISMATCH)
            except OSError as exc:
                return _Failure(Rcode.ERROR, _describe(exc))
            return _read_wire(wire)
        return failure

    async def close(self) -> None:
        await asyncio.gather(*(c.wait_closed() for c in self.connections))
        self.connections = []


class _Pipelines:
    """Every TCP-only server's pipeline within one event loop."""

    def __init__(self) -> None:
        self._by_server: dict[Nameserver, _TcpPipeline] = {}

    async def exchange(
        self, question: _Prepared, server: Nameserver, *, timeout: float, attempts: int
    ) -> _Response | _Failure:
        pipeline = self._by_server.get(server)
        if pipeline is None:
            pipeline = self._by_server[server] = _TcpPipeline(server)
        return await pipeline.exchange(question, timeout=timeout, attempts=attempts)

    async def close(self) -> None:
        pipelines, self._by_server = list(self._by_server.values()), {}
        await asyncio.gather(*(p.close() for p in pipelines))


_PIPELINES: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Pipelines] = (
    weakref.WeakKeyDictionary()
)


def _pipelines() -> _Pipelines:
    """This event loop's pipelines (each resolve_all runs its own loop)."""
    loop = asyncio.get_running_loop()
    found = _PIPELINES.get(loop)
    if found is None:
        found = _PIPELINES[loop] = _Pipelines()
    return found


def _read_wire(wire: bytes) -> _Response | _Failure:
    """Read a response: the fast decoder, else dnspython."""
    fast = _decode(wire)
    if fast is not None:
        return fast
    try:
        message = dns.message.from_wire(wire, one_rr_per_rrset=True, raise_on_truncation=True)
    except dns.message.Truncated as exc:
        partial: dns.message.Message = exc.message()  # type: ignore[no-untyped-call]  # untyped in dnspython 2.9
        return _response(partial)
    except dns.exception.DNSException as exc:
        return _Failure(Rcode.ERROR, _describe(exc))
    return _response(message)
