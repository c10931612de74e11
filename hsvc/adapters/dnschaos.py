"""``version.bind`` CH TXT: the question CoreDNS's chaos plugin answers, asked and read.

Built and read without dnspython's message classes (a small inspect's start
would pay for importing them), checked against dnspython in tests.
"""

from __future__ import annotations

import os
import socket
import struct
import time

from hsvc.adapters.dnsquery import RDATATYPES
from hsvc.adapters.dnswire import _answers, _query_wire
from hsvc.adapters.nameservers import address_family
from hsvc.core.model import Nameserver

_CH = 3  # dns.rdataclass.CH (tests/unit/test_version_bind.py holds it equal)
VERSION_QUESTION = b"\x07version\x04bind\x00" + struct.pack("!HH", RDATATYPES["TXT"], _CH)


def version_query(qid: int) -> bytes:
    """``version.bind`` CH TXT as ``dns.message.make_query`` builds it (RD, no EDNS)."""
    return _query_wire(qid, VERSION_QUESTION, edns=False)


def _skip_name(wire: bytes, offset: int) -> int:
    """The offset after the name at ``offset`` (labels, then a zero byte or a pointer).

    Raises:
        ValueError: A label type DNS does not have.
    """
    while True:
        size = wire[offset]
        if size >= 0xC0:
            return offset + 2
        if size > 63:
            raise ValueError("extended label type")
        offset += size + 1
        if size == 0:
            return offset


def version_text(wire: bytes, qid: int) -> str:
    """The first CH TXT answer to :func:`version_query`: its strings joined, at most 100 characters.

    "" for anything else: another ID or question, no such record, a malformed message.
    """
    if not _answers(wire, qid, VERSION_QUESTION):
        return ""
    try:
        qdcount, ancount = struct.unpack_from("!HH", wire, 4)
        offset = 12
        for _ in range(qdcount):
            offset = _skip_name(wire, offset) + 4
        for _ in range(ancount):
            offset = _skip_name(wire, offset)
            rdtype, rdclass, _ttl, rdlen = struct.unpack_from("!HHIH", wire, offset)
            start, end = offset + 10, offset + 10 + rdlen
            if end > len(wire):
                return ""
            if rdtype == RDATATYPES["TXT"] and rdclass == _CH:
                strings, at = [], start
                while at < end:
                    strings.append(wire[at + 1 : at + 1 + wire[at]])
                    at += 1 + wire[at]
                if at != end or not strings:
                    return ""
                return b"".join(strings).decode("utf-8", "replace")[:100]
            offset = end
    except (IndexError, ValueError, struct.error):
        return ""
    return ""


def chaos_version(server: Nameserver, *, timeout: float) -> str:
    """Ask ``version.bind`` CH TXT (CoreDNS's chaos plugin); "" when nothing answers it.

    One query, over TCP to a TCP-only server (a port-forward), else over UDP, all
    within ``timeout``. Any failure (no chaos plugin: REFUSED; silence; garbage) is
    "", never an error. Built and read by :mod:`hsvc.adapters.dnswire`, without
    dnspython's message parser (a fifth of a small inspect's start).
    """
    qid = int.from_bytes(os.urandom(2), "big")  # a random ID (RFC 5452 section 4.3)
    query = version_query(qid)
    deadline = time.monotonic() + timeout
    try:
        family = address_family(server.host)
        if server.tcp_only:
            with socket.socket(family, socket.SOCK_STREAM) as sock:
                sock.settimeout(timeout)
                sock.connect((server.host, server.port))
                sock.sendall(len(query).to_bytes(2, "big") + query)
                size = int.from_bytes(_receive(sock, 2, deadline), "big")
                wire = _receive(sock, size, deadline)
        else:
            with socket.socket(family, socket.SOCK_DGRAM) as sock:
                sock.settimeout(timeout)
                sock.connect((server.host, server.port))  # answers from elsewhere are dropped
                sock.send(query)
                wire = sock.recv(65535)
    except (OSError, ValueError):
        return ""
    return version_text(wire, qid)


def _receive(sock: socket.socket, size: int, deadline: float) -> bytes:
    """Read exactly ``size`` bytes by ``deadline``.

    Raises:
        OSError: Timeout, or the connection closed first.
    """
    data = b""
    while len(data) < size:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError
        sock.settimeout(remaining)
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionResetError
        data += chunk
    return data
