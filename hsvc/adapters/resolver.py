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
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import dns.asyncbackend
import dns.asyncquery
import dns.exception
import dns.flags
import dns.inet
import dns.message
import dns.name
import dns.query
import dns.rcode
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
    if not text.isascii() or any(c.isspace() or not c.isprintable() for c in text):
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


def _status(message: dns.message.Message) -> tuple[Rcode, str]:
    """Return the response's status and, for rcodes without one, an error text."""
    rcode = message.rcode()
    status = _RCODES.get(rcode)
    if status is None:
        return Rcode.ERROR, f"server answered {dns.rcode.to_text(rcode)}"
    return status, ""


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


def _tcp_failure(result: dns.message.Message | _Failure) -> str:
    """Return why a TCP retry did not deliver the whole answer, or "" if it did."""
    if isinstance(result, _Failure):
        return result.error
    if result.flags & dns.flags.TC:
        return "the TCP answer is truncated too (over 65535 bytes)"
    if result.rcode() not in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN):
        return f"server answered {dns.rcode.to_text(result.rcode())}"
    return ""


def _observation(
    question: _Prepared,
    server: str,
    outcome: dns.message.Message | _Failure,
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
    rcode, rcode_error = _status(outcome)
    return Observation(
        server=server,
        name=question.name,
        type=question.type,
        rcode=rcode,
        answer=_records(outcome),
        too_large=too_large,
        size=len(outcome.wire or b""),
        elapsed_ms=elapsed_ms,
        error=error or rcode_error,
    )


# --- I/O ---------------------------------------------------------------------------


async def _resolve(
    questions: list[_Prepared],
    servers: list[Nameserver],
    timeout: float,
    concurrency: int,
    retries: int,
    progress: Callable[[int], None] | None,
) -> list[Observation]:
    limit = asyncio.Semaphore(concurrency)
    finished = 0

    async def one(question: _Prepared, server: Nameserver) -> Observation:
        nonlocal finished
        async with limit:
            observation = await _ask(question, server, timeout, retries)
        finished += 1
        if progress is not None:
            progress(finished)
        return observation

    return list(
        await asyncio.gather(
            *(one(question, server) for question in questions for server in servers)
        )
    )


async def _ask(
    question: _Prepared,
    server: Nameserver,
    timeout: float,
    retries: int,
) -> Observation:
    label = str(server)
    started = time.monotonic()
    query = dns.message.make_query(
        question.qname, question.rdtype, use_edns=0, payload=EDNS_PAYLOAD
    )
    first = await _exchange(
        query, server, tcp=server.tcp_only, timeout=timeout, attempts=retries + 1
    )
    if isinstance(first, _Failure) or not first.flags & dns.flags.TC:
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
    second = await _exchange(query, server, tcp=True, timeout=timeout, attempts=1)
    why = _tcp_failure(second)
    if not why:
        return _observation(question, label, second, started)
    # Keep what the truncated reply held; a TCP reply with TC may hold more.
    partial = second if isinstance(second, dns.message.Message) and second.answer else first
    return _observation(
        question,
        label,
        partial,
        started,
        too_large=True,
        error=f"answer truncated over UDP and TCP failed: {why}",
    )


async def _exchange(
    query: dns.message.Message,
    server: Nameserver,
    *,
    tcp: bool,
    timeout: float,
    attempts: int,
) -> dns.message.Message | _Failure:
    """Send one query, retrying on timeout; return the response or why there is none."""
    for _ in range(attempts):
        try:
            if tcp:
                return await dns.asyncquery.tcp(
                    query,
                    server.host,
                    timeout=timeout,
                    port=server.port,
                    one_rr_per_rrset=True,
                )
            # A connected socket: dnspython's own is not connected on Linux, so the
            # ICMP "port unreachable" of a closed port would read as a timeout.
            backend = dns.asyncbackend.get_default_backend()
            family = dns.inet.af_for_address(server.host)
            connect = backend.make_socket(  # type: ignore[no-untyped-call]  # untyped in dnspython 2.9
                family, socket.SOCK_DGRAM, destination=(server.host, server.port)
            )
            async with await connect as sock:
                return await dns.asyncquery.udp(
                    query,
                    server.host,
                    timeout=timeout,
                    port=server.port,
                    one_rr_per_rrset=True,
                    raise_on_truncation=True,
                    sock=sock,
                )
        except dns.message.Truncated as exc:
            # Raised before dnspython compares IDs, and carries whatever parsed
            # before the cut, which is what a too-large answer keeps.
            partial: dns.message.Message = exc.message()  # type: ignore[no-untyped-call]  # untyped in dnspython 2.9
            if not query.is_response(partial):
                return _Failure(Rcode.ERROR, _MISMATCH)
            return partial
        except dns.exception.Timeout:
            continue
        except (dns.exception.DNSException, OSError, EOFError) as exc:
            return _Failure(Rcode.ERROR, _describe(exc))
    tries = f" ({attempts} attempts)" if attempts > 1 else ""
    return _Failure(Rcode.TIMEOUT, f"no response within {timeout:g}s{tries}")
