"""DNS responses as bytes: decoded into model types, and the observations built from them.

No I/O: the resolver (:mod:`hsvc.adapters.resolver`) moves the bytes; questions and
queries are encoded in :mod:`hsvc.adapters.dnsquery` (re-exported here). Common
responses are read by a fast decoder that falls back to dnspython for anything
it does not handle (property-tested against dnspython).
"""

from __future__ import annotations

import re
import socket
import struct
import sys
import time
from collections.abc import Callable
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, NamedTuple, cast

from hsvc.adapters.dnsname import _label_then_question, _name, _name_end, _suffix, _under_question
from hsvc.adapters.dnsquery import _OPT_RR as _OPT_RR
from hsvc.adapters.dnsquery import _QUERY_HEADER as _QUERY_HEADER
from hsvc.adapters.dnsquery import _RD as _RD
from hsvc.adapters.dnsquery import EDNS_PAYLOAD as EDNS_PAYLOAD
from hsvc.adapters.dnsquery import RDATATYPES, _sentence
from hsvc.adapters.dnsquery import _prepare as _prepare
from hsvc.adapters.dnsquery import _prepare_all as _prepare_all
from hsvc.adapters.dnsquery import _Prepared as _Prepared
from hsvc.adapters.dnsquery import _query_ids as _query_ids
from hsvc.adapters.dnsquery import _query_wire as _query_wire
from hsvc.adapters.dnsquery import _question_wire as _question_wire
from hsvc.core.dataclass import dataclass
from hsvc.core.model import Observation, Rcode, Record, Transport

if TYPE_CHECKING:
    # dnspython's message parser (with its rdata, TSIG and EDNS modules) is a fifth of
    # a small inspect's start: it is imported only for answers the fast decoder leaves
    # to it (docs/reference/benchmarks.md).
    import dns.message  # noqa: TID251
    import dns.rcode  # noqa: TID251

# dnspython's rcodes (dns.rcode, tests/unit/test_wire_fast.py holds them equal): the
# fast reader needs no dnspython (dnsquery.RDATATYPES).
_NOERROR, _FORMERR, _SERVFAIL, _NXDOMAIN, _NOTIMP, _REFUSED = range(6)
# Read-only tables (MappingProxyType): the adapters hold no module-level mutable state.
_RCODES = MappingProxyType(
    {
        _NOERROR: Rcode.NOERROR,
        _NXDOMAIN: Rcode.NXDOMAIN,
        _SERVFAIL: Rcode.SERVFAIL,
        _REFUSED: Rcode.REFUSED,
        _NOTIMP: Rcode.NOTIMP,
        _FORMERR: Rcode.FORMERR,
    }
)
# The rcodes the fast reader decodes; the rare ones (FORMERR, NOTIMP) go to dnspython.
_FAST_RCODES = frozenset({_NOERROR, _NXDOMAIN, _SERVFAIL, _REFUSED})
# The same by header value, and the header flags as plain ints: an IntFlag's "&"
# builds an enum member each time, a cost per message at thousands of messages.
_FAST_RCODE_OF = MappingProxyType({int(rcode): rcode for rcode in _FAST_RCODES})
_TC = 0x0200  # dns.flags.TC
_QR = 0x8000  # dns.flags.QR
_QUERY = 0  # dns.opcode.QUERY

# Types whose presentation form holds only names and numbers, so lower-casing it is
# safe. TXT and the rest carry case-sensitive text and stay as the server sent them.
_CASELESS_TYPES = frozenset(
    RDATATYPES[t] for t in ("A", "AAAA", "CNAME", "DNAME", "MX", "NS", "PTR", "SOA", "SRV")
)

_MISMATCH = "response does not match the query (wrong ID or question)"


@dataclass(frozen=True, slots=True)
class _Failure:
    """An exchange that produced no usable response."""

    rcode: Rcode  # TIMEOUT or ERROR
    error: str


# --- reading responses -------------------------------------------------------------


def _records(message: dns.message.Message) -> tuple[Record, ...]:
    """Convert the answer section into Records in presentation form."""
    import dns.rdataclass  # noqa: TID251
    import dns.rdatatype  # noqa: TID251

    records: list[Record] = []
    for rrset in message.answer:
        if rrset.rdclass != dns.rdataclass.IN:
            # Class IN only: a CH or HS record is no answer to an IN question (stub
            # resolvers drop it), however equal its bytes.
            continue
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


def _status(rcode: int) -> tuple[Rcode, str]:
    """Return a response's status and, for rcodes without one, an error text."""
    status = _RCODES.get(rcode)
    if status is None:
        import dns.rcode  # noqa: TID251

        return Rcode.ERROR, f"server answered {dns.rcode.to_text(cast('dns.rcode.Rcode', rcode))}"
    return status, ""


class _Response(NamedTuple):
    """What is kept of a response: its status, TC flag, answer records and size.

    A named tuple: one per answer, built at once (``tuple.__new__``), where a frozen
    dataclass sets its fields one by one.
    """

    rcode: int  # dns.rcode's value (the fast reader's a plain int)
    truncated: bool
    answer: tuple[Record, ...]
    size: int  # bytes on the wire


# Frozen dataclasses' __init__ takes its fields by keyword; at one Record per answer
# record and one Observation per question, calling each slot's setter directly (what
# that __init__ calls) builds the same frozen values for a third of the cost (that
# every field is set: tests/unit/test_wire_fast.py).
_new = object.__new__


def _setters(cls: type, *fields: str) -> tuple[Callable[[Any, Any], None], ...]:
    """The setter of each of ``cls``'s slots named, in that order."""
    return tuple(cls.__dict__[name].__set__ for name in fields)


_RECORD_NAME, _RECORD_TYPE, _RECORD_TTL, _RECORD_DATA = _setters(
    Record, "name", "type", "ttl", "data"
)
_tuple_new = tuple.__new__
_OBS_SERVER, _OBS_NAME, _OBS_TYPE, _OBS_RCODE, _OBS_ANSWER, _OBS_TOO_LARGE = _setters(
    Observation, "server", "name", "type", "rcode", "answer", "too_large"
)
_OBS_SIZE, _OBS_TRUNCATED, _OBS_ELAPSED_MS, _OBS_ERROR, _OBS_LOW, _OBS_TRANSPORT = _setters(
    Observation, "size", "truncated", "elapsed_ms", "error", "low_confidence", "transport"
)
_ntoa = socket.inet_ntoa  # four bytes as dnspython writes an A record: 10.0.0.1
_monotonic = time.monotonic


def _response(message: dns.message.Message) -> _Response:
    """Keep what hsvc reads from a message dnspython parsed."""
    return _Response(
        rcode=message.rcode(),
        truncated=bool(message.flags & _TC),
        answer=_records(message),
        size=len(message.wire or b""),
    )


# The fast path below reads answers of these types; anything else goes to dnspython.
_FAST_TYPES = MappingProxyType(
    {
        RDATATYPES[t]: t
        # TXT: dns-version (dns-records.md rule 27), one per inspect.
        for t in ("A", "AAAA", "CNAME", "NS", "PTR", "SRV", "TXT")
    }
)
# TXT bytes dnspython writes as they are: printable ASCII but the quote and the backslash
# (which it escapes with a backslash; other bytes as \DDD).
_PLAIN_TEXT = re.compile(rb"[ !#-\[\]-~]*")
# Types the fast path lets pass, unread, in the authority and additional sections.
_FAST_OTHER_TYPES = frozenset(RDATATYPES[t] for t in ("SOA", "NS", "A", "AAAA"))
# The header's counts (after the ID) and a record's fixed fields, precompiled.
_HEADER = struct.Struct("!HHHHH")
_HEADER_ID = struct.Struct("!HHHHHH")
_ROOT_OPT = b"\0" + struct.pack("!H", RDATATYPES["OPT"])  # an OPT record's owner and type
_RR = struct.Struct("!HHIH")
_OPT = RDATATYPES["OPT"]
_IN = 1  # dns.rdataclass.IN
# The usual answer to an A question, after its question: a pointer to the question's
# name, type, class, TTL, data length, four address bytes; then an OPT record's owner
# and type, payload, extended rcode, version and flags, data length.
_ONE_A = struct.Struct("!HHHIHBBBB3s2xB3x2s")
_ONE_A_SHAPE = (0xC00C, RDATATYPES["A"], _IN, 4, _ROOT_OPT, 0, b"\0\0")
_SRV_HEAD = struct.Struct("!HHH")  # an SRV record's priority, weight and port
_DECIMAL = tuple(str(byte) for byte in range(256))  # an address byte as inet_ntoa writes it
# A TTL with its top bit set reads as 0 (RFC 2181 section 8), as dnspython reads it.
_MAX_TTL = 0x7FFFFFFF
_A, _AAAA, _SRV, _TXT, _SOA = (RDATATYPES[t] for t in ("A", "AAAA", "SRV", "TXT", "SOA"))


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
    flags, qdcount, ancount, nscount, arcount = _HEADER.unpack_from(wire, 2)
    fast_rcode = _FAST_RCODE_OF.get(flags & 0xF)
    if flags & _TC or qdcount != 1 or fast_rcode is None:
        return None
    read = _name(wire, 12, len(wire))
    if read is None:
        return None
    qname, end = read
    # Owners are most often a pointer to the question's name (offset 12), read once:
    # only for a question written out whole (no pointer of its own, which could reach
    # bytes the owner's bound excludes).
    plain = wire[end - 1] == 0 and (end == 13 or wire[end - 2] < 0xC0)
    return _records_of(wire, qname if plain else "", end + 4, ancount, nscount, arcount, fast_rcode)


def _read_answer(wire: bytes, qid: int, question: _Prepared) -> _Response | _Failure | None:
    """Read the response to query ``qid`` asking ``question``; None if ``wire`` is none.

    :func:`_answers` then :func:`_read_wire`, in one pass for the usual response:
    one that repeats the question byte for byte, so its name is not read again.
    """
    section = question.section
    end = 12 + len(section)
    if wire[12:end] == section:
        ident, flags, qdcount, ancount, nscount, arcount = _HEADER_ID.unpack_from(wire)
        if ident == qid and flags & 0xF800 == _QR and qdcount == 1:  # QR set, opcode QUERY
            fast_rcode = _FAST_RCODE_OF.get(flags & 0xF)
            if fast_rcode is not None and not flags & _TC:
                qname = question.name if question.plain else ""
                if ancount == arcount == 1 and not nscount and qname:
                    one = _one_record(wire, qname, end, fast_rcode)
                    if one is not None:
                        return one
                fast = _records_of(wire, qname, end, ancount, nscount, arcount, fast_rcode)
                if fast is not None:
                    return fast
            return _read_wire(wire)
    if not _answers(wire, qid, section):
        return None
    return _read_wire(wire)


def _one_record(wire: bytes, qname: str, end: int, rcode: int) -> _Response | None:
    """The usual answer: one record owned by the question's name, then an OPT record.

    Read as :func:`_records_of` reads it (tests/unit/test_wire_fast.py), without its
    loop; None for any other shape (left to it).
    """
    size = len(wire)
    if size == end + 27:  # the size of one A record and the OPT record
        pointer, rdtype, rdclass, ttl, rdlen, a, b, c, d, opt, ext, optlen = _ONE_A.unpack_from(
            wire, end
        )
        if (pointer, rdtype, rdclass, rdlen, opt, ext, optlen) == _ONE_A_SHAPE:
            record: Record = _new(Record)
            _RECORD_NAME(record, qname)
            _RECORD_TYPE(record, "A")
            _RECORD_TTL(record, ttl if ttl <= _MAX_TTL else 0)
            _RECORD_DATA(record, ".".join((_DECIMAL[a], _DECIMAL[b], _DECIMAL[c], _DECIMAL[d])))
            response: _Response = _tuple_new(_Response, (rcode, False, (record,), size))
            return response
    if (
        size < end + 23
        or wire[end : end + 2] != b"\xc0\x0c"  # a pointer to the question's name
        or wire[-11:-8] != _ROOT_OPT
        or wire[-6]
        or wire[-2:] != b"\0\0"
    ):
        return None
    rdtype, rdclass, ttl, rdlen = _RR.unpack_from(wire, end + 2)
    start = end + 12
    stop = start + rdlen
    type_name = _FAST_TYPES.get(rdtype)
    if stop != size - 11 or rdclass != _IN or type_name is None:
        return None
    data = (
        _ntoa(wire[start:stop])
        if rdlen == 4 and rdtype == _A
        else _rdata(wire, rdtype, start, stop)
    )
    if data is None:
        return None
    record = _new(Record)
    _RECORD_NAME(record, qname)
    _RECORD_TYPE(record, type_name)
    _RECORD_TTL(record, ttl if ttl <= _MAX_TTL else 0)
    _RECORD_DATA(record, data)
    response = _tuple_new(_Response, (rcode, False, (record,), size))
    return response


# long: one loop over every record of the message, the usual ones read inline
def _records_of(
    wire: bytes,
    qname: str,
    offset: int,
    ancount: int,
    nscount: int,
    arcount: int,
    rcode: int,
) -> _Response | None:
    """The records after the question (ending at ``offset``), as :func:`_decode` reads them.

    ``qname``: the question's name, if it is written out whole at offset 12 ("" if not).
    """
    size = end = len(wire)
    answer: list[Record] = []
    opt_seen = False
    qend = offset - 4  # where the question's name ends
    count = ancount + nscount + arcount
    if arcount == 1 and wire[-11:-8] == _ROOT_OPT and not wire[-6] and wire[-2:] == b"\0\0":
        # The usual last record: an OPT without options or extended rcode, 11 bytes.
        # Taken as read if the records before it end where it starts.
        end -= 11
        count -= 1
        opt_seen = True
    for index in range(count):
        if qname and wire[offset : offset + 2] == b"\xc0\x0c":
            owner, at = qname, offset + 2
        elif offset < size and wire[offset] == 0:
            owner, at = ".", offset + 1
        elif (
            qname
            and offset + 1 < size
            and wire[offset] >= 0xC0
            and (tail := _suffix(qname, ((wire[offset] & 0x3F) << 8 | wire[offset + 1]) - 12))
        ):
            owner, at = tail, offset + 2  # a pointer to the zone in the question (an SOA's owner)
        elif qname and (under := _under_question(wire, offset, size, qname)):
            owner, at = under  # a label under the question's name (an SRV target's address)
        else:
            read = _name(wire, offset, size)
            if read is None:
                return None
            owner, at = read
        if at + 10 > size:
            return None
        rdtype, rdclass, ttl, rdlen = _RR.unpack_from(wire, at)
        start = at + 10
        offset = start + rdlen
        if offset > size:
            return None
        if index >= ancount:
            if rdtype == _OPT and index >= ancount + nscount and not opt_seen:
                # The extended rcode lives in the OPT TTL's top byte, options in its data:
                # leave them to dnspython.
                if owner != "." or ttl >> 24 or rdlen:
                    return None
                opt_seen = True
            elif (
                rdtype not in _FAST_OTHER_TYPES
                or rdclass != _IN
                or not _other_data_read(wire, qname, rdtype, start, offset)
            ):
                return None
            continue
        type_name = _FAST_TYPES.get(rdtype)
        if type_name is None or rdclass != _IN:
            return None
        if rdtype == _A and rdlen == 4:
            data: str | None = _ntoa(wire[start:offset])
        elif (
            rdtype == _SRV
            and rdlen > 7
            and qname
            and (target := _label_then_question(wire, start + 6, offset, qname, qend))
        ):
            data = "{} {} {} ".format(*_SRV_HEAD.unpack_from(wire, start)) + target
        else:
            data = _rdata(wire, rdtype, start, offset)
            if data is None:
                return None
        record: Record = _new(Record)
        _RECORD_NAME(record, owner)
        _RECORD_TYPE(record, type_name)
        _RECORD_TTL(record, ttl if ttl <= _MAX_TTL else 0)
        _RECORD_DATA(record, data)
        answer.append(record)
    if offset != end:
        return None
    response: _Response = _tuple_new(_Response, (rcode, False, tuple(answer), size))
    return response


def _other_data_read(wire: bytes, qname: str, rdtype: int, start: int, end: int) -> bool:
    """Whether dnspython reads the data of an authority or additional record without error.

    Those records are not reported, but dnspython reads their data and refuses the
    whole message for a malformed one (an SOA's names cut short, a glue address of
    five bytes): False leaves such a message, or one of unusual names, to it.
    ``qname`` as :func:`_records_of` has it.
    """
    if rdtype == _A:
        return end - start == 4
    if rdtype == _AAAA:
        return end - start == 16
    after = _name_end(wire, qname, start, end)
    if rdtype == _SOA:  # two names, then serial, refresh, retry, expire and minimum
        after = _name_end(wire, qname, after, end) if after > 0 else after
        return after > 0 and end - after == 20
    return after == end  # NS: one name


def _rdata(wire: bytes, rdtype: int, start: int, end: int) -> str | None:
    """Presentation form of one fast-path rdata, as dnspython (lower-cased) writes it."""
    if rdtype == _A:
        return "{}.{}.{}.{}".format(*wire[start:end]) if end - start == 4 else None
    if rdtype == _AAAA:
        import dns.ipv6  # noqa: TID251  (an AAAA record: rare in clusters)

        return dns.ipv6.inet_ntoa(wire[start:end]) if end - start == 16 else None
    if rdtype == _SRV:
        if end - start < 7:
            return None
        priority, weight, port = struct.unpack_from("!HHH", wire, start)
        target = _name(wire, start + 6, end)
        if target is None or target[1] != end:
            return None
        return f"{priority} {weight} {port} {target[0]}"
    if rdtype == _TXT:
        strings, at = [], start
        while at < end:
            text = wire[at + 1 : at + 1 + wire[at]]
            at += 1 + wire[at]
            if at > end:
                return None
            strings.append(f'"{_escaped_text(text)}"')
        return " ".join(strings) or None  # none: dnspython decides
    target = _name(wire, start, end)  # CNAME, NS, PTR: one name
    if target is None or target[1] != end:
        return None
    return target[0]


def _escaped_text(text: bytes) -> str:
    """One TXT string as dnspython writes it (``dns.rdata._escapify``)."""
    if _PLAIN_TEXT.fullmatch(text):
        return text.decode("ascii")
    return "".join(
        "\\" + chr(c) if c in b'"\\' else chr(c) if 0x20 <= c < 0x7F else f"\\{c:03d}" for c in text
    )


class MismatchError(Exception):
    """An answer that does not match its query (wrong ID or question)."""


def _describe(exc: BaseException) -> str:
    """Say in a few words why an exchange failed."""
    if isinstance(exc, MismatchError):
        return _MISMATCH
    # None of their errors before they are imported; getattr, as another thread may be
    # importing them (a module is in sys.modules before its names are).
    short = getattr(sys.modules.get("dns.message"), "ShortHeader", None)
    if short is not None and isinstance(exc, short):
        return "malformed response: shorter than a DNS header"
    malformed = getattr(sys.modules.get("dns.exception"), "DNSException", None)
    if malformed is not None and isinstance(exc, malformed):
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
    if result.rcode not in (_NOERROR, _NXDOMAIN):
        import dns.rcode  # noqa: TID251

        return f"server answered {dns.rcode.to_text(cast('dns.rcode.Rcode', result.rcode))}"
    return ""


def _observation(
    question: _Prepared,
    server: str,
    outcome: _Response | _Failure,
    started: float,
    *,
    too_large: bool = False,
    error: str = "",
    transport: Transport | None = None,
) -> Observation:
    """What ``server`` answered to ``question`` (``started``: the first send's monotonic time).

    Built as ``Observation(...)`` builds it, slot by slot (one per question: a
    third of the frozen dataclass's ``__init__``); never truncated or low
    confidence here.
    """
    # Microseconds rounded half up, as milliseconds: round(ms, 3) at a third of its cost.
    elapsed_ms = int((_monotonic() - started) * 1e6 + 0.5) / 1000
    answer: tuple[Record, ...] = ()
    if isinstance(outcome, _Failure):
        rcode, size, error = outcome.rcode, 0, outcome.error
        too_large, transport = False, None
    else:
        found = _RCODES.get(outcome.rcode)
        if found is None:
            found, rcode_error = _status(outcome.rcode)
            error = error or rcode_error
        rcode, answer, size = found, outcome.answer, outcome.size
    obs: Observation = _new(Observation)
    _OBS_SERVER(obs, server)
    _OBS_NAME(obs, question.name)
    _OBS_TYPE(obs, question.type)
    _OBS_RCODE(obs, rcode)
    _OBS_ANSWER(obs, answer)
    _OBS_TOO_LARGE(obs, too_large)
    _OBS_SIZE(obs, size)
    _OBS_TRUNCATED(obs, False)
    _OBS_ELAPSED_MS(obs, elapsed_ms)
    _OBS_ERROR(obs, error)
    _OBS_LOW(obs, False)
    _OBS_TRANSPORT(obs, transport)
    return obs


# Failure rcodes a server may answer without echoing the question (as dnspython allows).
_NO_QUESTION_RCODES = frozenset({_FORMERR, _SERVFAIL, _NOTIMP, _REFUSED})


def _answers(wire: bytes, qid: int, section: bytes) -> bool:
    """Whether ``wire`` is a response to the query (dnspython's ``is_response`` on bytes).

    Same ID, QR set, opcode QUERY, and the same question (the name compared
    without case; label length bytes are below 64 and never change case).
    """
    if len(wire) < 12 or int.from_bytes(wire[:2], "big") != qid:
        return False
    flags = int.from_bytes(wire[2:4], "big")
    if not flags & _QR or (flags >> 11) & 0xF != _QUERY:
        return False
    qdcount = int.from_bytes(wire[4:6], "big")
    if qdcount == 0:
        return flags & 0xF in _NO_QUESTION_RCODES
    got = wire[12 : 12 + len(section)]
    return qdcount == 1 and got[:-4].lower() == section[:-4].lower() and got[-4:] == section[-4:]


def _read(wire: bytes, qid: int, section: bytes) -> _Response | _Failure:
    """Check that ``wire`` answers the query and read it: the fast path, else dnspython."""
    if not _answers(wire, qid, section):
        return _Failure(Rcode.ERROR, _MISMATCH)
    return _read_wire(wire)


def _timed_out(timeout: float, attempts: int) -> _Failure:
    tries = f" ({attempts} attempts)" if attempts > 1 else ""
    return _Failure(Rcode.TIMEOUT, f"no response within {timeout:g}s{tries}")


def _read_wire(wire: bytes) -> _Response | _Failure:
    """Read a response: the fast decoder, else dnspython."""
    fast = _decode(wire)
    if fast is not None:
        return fast
    if len(wire) >= 12 and wire[2] & _TC >> 8:
        # TC set (a large answer over UDP): dnspython reads the whole message before it
        # raises Truncated with it, so one whose records are all there reads as it does
        # with TC clear, truncated; one cut short goes to dnspython (its partial message).
        whole = _decode(wire[:2] + bytes((wire[2] & ~(_TC >> 8),)) + wire[3:])
        if whole is not None:
            return whole._replace(truncated=True)
    import dns.exception  # noqa: TID251
    import dns.message  # noqa: TID251

    try:
        message = dns.message.from_wire(wire, one_rr_per_rrset=True, raise_on_truncation=True)
    except dns.message.Truncated as exc:
        partial: dns.message.Message = exc.message()  # type: ignore[no-untyped-call]  # untyped in dnspython 2.9
        return _response(partial)
    except dns.exception.DNSException as exc:
        return _Failure(Rcode.ERROR, _describe(exc))
    return _response(message)
