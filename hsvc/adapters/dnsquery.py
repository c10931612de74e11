"""DNS questions as bytes: checked, encoded, and the queries that carry them.

No I/O. Queries are built by hand as dnspython's ``make_query(use_edns=0,
payload=1232)`` builds them (property-tested against dnspython); responses are
read in :mod:`hsvc.adapters.dnswire`.
"""

from __future__ import annotations

import array
import os
import re
import struct
from collections.abc import Iterator, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING

from hsvc.core.dataclass import dataclass
from hsvc.core.model import Question
from hsvc.errors import InvalidNameError, UsageError

if TYPE_CHECKING:
    import dns.name  # noqa: TID251

# DNS Flag Day 2020: the largest UDP payload that avoids IP fragmentation.
EDNS_PAYLOAD = 1232

# dnspython's values of the codes the usual question and answer need (tests/unit/
# test_wire_fast.py holds them equal): a run whose names are plain and whose answers
# the fast reader reads never imports dnspython (a fourteenth of a small inspect's
# start, docs/reference/benchmarks.md); anything else still goes through it.
_RD = 0x0100  # dns.flags.RD
RDATATYPES = MappingProxyType(
    {"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "PTR": 12, "MX": 15, "TXT": 16, "AAAA": 28}
    | {"SRV": 33, "DNAME": 39, "OPT": 41}
)
"""A few of ``dns.rdatatype``'s values, by mnemonic."""
_IN = 1  # dns.rdataclass.IN


@dataclass(frozen=True, slots=True)
class _Prepared:
    """A validated question: what to send and how to report it."""

    name: str  # absolute, lower-case, trailing dot
    type: str  # canonical mnemonic, e.g. "SRV"
    rdtype: int  # dns.rdatatype's value
    section: bytes  # the question section on the wire: name, type, class IN
    plain: bool = False  # the name is of plain labels only, so ``name`` is how _name reads it

    @property
    def qname(self) -> dns.name.Name:
        import dns.name  # noqa: TID251

        return dns.name.from_text(self.name)


# Names of letters, digits, "-" and "_" only (what clusters hold): encoded here, as
# dnspython's from_text would (property-tested); anything else goes through dnspython.
_PLAIN_NAME = re.compile(r"(?:[A-Za-z0-9_-]{1,63}\.)*[A-Za-z0-9_-]{1,63}\.?")
# The types hsvc asks most, as dns.rdatatype reads and writes them.
_COMMON_TYPES = MappingProxyType(
    {t: (RDATATYPES[t], t) for t in ("A", "AAAA", "SRV", "PTR", "CNAME", "TXT", "NS", "SOA", "MX")}
)
_TYPE_CLASS = struct.Struct("!HH")
_new = object.__new__
_set = object.__setattr__
# A label's length byte, by length.
_LENGTH_BYTE = tuple(bytes((size,)) for size in range(64))


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
    wire_name = _plain_name_wire(text)
    plain = wire_name is not None
    if wire_name is None:
        import dns.exception  # noqa: TID251
        import dns.name  # noqa: TID251

        try:
            qname = dns.name.from_text(text).canonicalize()
        except dns.exception.DNSException as exc:
            raise InvalidNameError(name=text, reason=_sentence(exc)) from exc
        name = qname.to_text()
        wire = qname.to_wire()
        assert wire is not None  # None only when writing to a file
        wire_name = wire
    else:
        # The question's own string when it is lower-case and absolute (a plan's names
        # are): the observation keeps it, one string per question instead of two.
        lowered = text if text.islower() else text.lower()
        name = lowered if lowered.endswith(".") else lowered + "."
    common = _COMMON_TYPES.get(question.type.upper())
    if common is not None:
        rdtype, mnemonic = common
    else:
        import dns.exception  # noqa: TID251
        import dns.rdatatype  # noqa: TID251

        try:
            rdtype = dns.rdatatype.from_text(question.type)
        except (dns.exception.DNSException, ValueError) as exc:
            raise UsageError(
                f"unknown record type {question.type!r}; use e.g. A, AAAA, SRV, PTR, TXT"
            ) from exc
        if rdtype == dns.rdatatype.NONE or dns.rdatatype.is_metatype(rdtype):
            raise UsageError(f"record type {question.type!r} cannot be asked as a plain query")
        mnemonic = dns.rdatatype.to_text(rdtype)
    prepared: _Prepared = _new(_Prepared)  # as _Prepared(...) builds it, at half the cost
    _set(prepared, "name", name)
    _set(prepared, "type", mnemonic)
    _set(prepared, "rdtype", rdtype)
    _set(prepared, "section", wire_name + _TYPE_CLASS.pack(rdtype, _IN))
    _set(prepared, "plain", plain)
    return prepared


# One plain label: what a plain name (_PLAIN_NAME) is made of, dots between.
_PLAIN_LABEL = re.compile(r"[A-Za-z0-9_-]{1,63}")
# Each slot's own setter (what the frozen __init__ calls), without its name looked up.
_PREPARED_SLOTS = tuple(
    _Prepared.__dict__[field].__set__ for field in ("name", "type", "rdtype", "section", "plain")
)


# long: one loop over every question, the usual one (a plain label under a known name) inline
def _prepare_all(questions: Sequence[Question]) -> list[_Prepared]:
    """:func:`_prepare` each question, each distinct one once, in order (the same errors).

    A plan's names share their parents (``web-7`` under ``web.bench.svc.cluster.local.``):
    once a plain name is prepared, its wire form and that of its parent are kept, so a
    plain label under either is checked in one match and encoded in one concatenation
    (property-tested against :func:`_prepare`). The tables go with this call: they are
    not held while asking (a key per question, 60 MB at 640,000).
    """
    known: dict[str, dict[str, _Prepared]] = {}  # by type as given, then name as given
    wires: dict[str, bytes] = {}  # a plain name's wire form, by its text as given
    types: dict[str, tuple[int, str, bytes]] = {}  # type as given
    length_byte, label, new = _LENGTH_BYTE, _PLAIN_LABEL.fullmatch, _new
    set_name, set_type, set_rdtype, set_section, set_plain = _PREPARED_SLOTS
    prepared = []
    for question in questions:
        text, qtype = question.name, question.type
        by_name = known.get(qtype)
        if by_name is None:
            by_name = known[qtype] = {}
        ready = by_name.get(text)
        if ready is None:
            head, _, parent = text.partition(".")
            wire = wires.get(parent)
            typed = types.get(qtype)
            if (
                wire is not None
                and typed is not None
                and label(head)
                and len(head) + len(wire) < 255
            ):
                # What _prepare makes of it: the name is plain, so its wire is the label's
                # length byte, the label lower-cased and the parent's wire.
                lowered = text.lower()
                if lowered == text:  # the plan's own string (the observation keeps it)
                    lowered = text
                ready = new(_Prepared)
                set_name(ready, lowered if lowered[-1] == "." else lowered + ".")
                set_type(ready, typed[1])
                set_rdtype(ready, typed[0])
                set_section(ready, length_byte[len(head)] + head.lower().encode() + wire + typed[2])
                set_plain(ready, True)
            else:
                ready = _prepare(question)
                types[qtype] = (ready.rdtype, ready.type, ready.section[-4:])
                if ready.plain:
                    wires[text] = ready.section[:-4]
                    if parent:
                        wires[parent] = ready.section[len(head) + 1 : -4]
            by_name[text] = ready
        prepared.append(ready)
    return prepared


def _plain_name_wire(text: str) -> bytes | None:
    """The wire form (lower-case, absolute) of a name of plain labels, else None."""
    if not _PLAIN_NAME.fullmatch(text):
        return None
    labels = text.lower().rstrip(".").encode("ascii").split(b".")
    wire = b"".join([_LENGTH_BYTE[len(label)] + label for label in labels]) + b"\0"
    return wire if len(wire) <= 255 else None  # longer: dnspython's NameTooLong


def _sentence(exc: BaseException) -> str:
    """Turn dnspython's "A DNS label is empty." into "a DNS label is empty"."""
    text = str(exc).rstrip(".")
    if text[1:2].isupper():  # an acronym: "DNS message is malformed"
        return text
    return text[:1].lower() + text[1:]


# EDNS0 OPT record: root owner, payload size as its class, no extended flags (no DO).
_OPT_RR = b"\x00" + struct.pack("!HHIH", RDATATYPES["OPT"], EDNS_PAYLOAD, 0, 0)


def _question_wire(question: _Prepared) -> bytes:
    """The question section: name, type, class IN."""
    return question.section


def _query_wire(qid: int, section: bytes, *, edns: bool = True) -> bytes:
    """A query as ``dns.message.make_query(use_edns=0, payload=1232)`` builds it: RD, one OPT.

    With ``edns=False`` there is no OPT record, as ``make_query(use_edns=False)``
    builds it and musl (and glibc by default) asks: the answer must fit 512 bytes.
    Built by hand: make_query plus to_wire costs ~0.15 ms, more than the exchange.
    """
    if not edns:
        return _QUERY_HEADER.pack(qid, _RD, 1, 0, 0, 0) + section
    return _QUERY_HEADER.pack(qid, _RD, 1, 0, 0, 1) + section + _OPT_RR


# A query's header: ID, flags (RD), one question, no answer or authority, then how
# many additional records (the OPT record with EDNS): the parts of _query_wire.
_QUERY_HEADER = struct.Struct("!HHHHHH")


def _query_ids() -> Iterator[int]:
    """Random query IDs (RFC 5452 section 4.3), from the OS's random source 1,024 at a time.

    The same source as :func:`secrets.randbits`, without a system call per query.
    """
    while True:
        yield from array.array("H", os.urandom(2048))
