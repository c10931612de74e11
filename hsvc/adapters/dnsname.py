"""Names in DNS messages read as text, as dnspython reads them (property-tested against it).

No I/O, no dnspython: :mod:`hsvc.adapters.dnswire` reads owners and the names in
record data through :func:`_name`.
"""

from __future__ import annotations

import re

_MAX_POINTERS = 16  # dns.name.MAX_COMPRESSION_POINTER_CHAIN
# Label bytes dnspython prints as they are (no escapes), with the dots that join labels.
_PLAIN_JOINED = re.compile(rb"[A-Za-z0-9_.-]+")
# Label lengths as dots, but those that are also plain bytes ("-", ".", "/", digits).
_LENGTH_DOTS = bytes.maketrans(bytes([*range(1, 45), *range(58, 64)]), b"." * 50)


def _name(wire: bytes, offset: int, bound: int) -> tuple[str, int] | None:
    """Read a name at ``offset`` (ending before ``bound``): lower-case text, offset after it.

    None wherever dnspython would escape or reject (dns.name.from_wire_parser):
    unusual label bytes, extended label types, pointers that do not go strictly
    backwards or overlap the name, chains over 16 pointers, over 255 bytes.

    A name written out whole, of labels whose lengths are no plain bytes (under 45),
    is read in one pass over its length bytes, then turned to text at once; any
    other goes label by label (:func:`_walk`).
    """
    at = offset
    labels = 0
    while at < bound:
        size = wire[at]
        if not size:
            break
        if size > 44:  # a pointer, an extended label type, or a length that reads as text
            return _walk(wire, offset, bound)
        at += size + 1
        labels += 1
    else:
        return None  # runs past the bound
    if not labels:
        return ".", at + 1
    if at + 1 - offset > 255:
        return None
    # Every length byte is a dot now; a label byte that became one (not plain) or a dot
    # inside a label shows as one dot too many: dnspython would escape it.
    text = wire[offset + 1 : at].translate(_LENGTH_DOTS)
    if text.count(b".") != labels - 1 or not _PLAIN_JOINED.fullmatch(text):
        return None
    return text.decode("ascii").lower() + ".", at + 1


def _walk(wire: bytes, offset: int, bound: int) -> tuple[str, int] | None:
    """Read any name at ``offset``, label by label, pointers followed: what :func:`_name` reads.

    None wherever dnspython would escape or reject (dns.name.from_wire_parser):
    unusual label bytes, extended label types, pointers that do not go strictly
    backwards or overlap the name, chains over 16 pointers, over 255 bytes.
    """
    labels: list[bytes] = []
    after = -1  # the offset after the name, once a pointer has been followed
    start = lowest = offset
    hops = 0
    length = 1  # the root label's length byte
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
        if size == 0:
            break
        length += size + 1
        if offset + size > bound:
            return None
        labels.append(wire[offset : offset + size])
        offset += size
    if length > 255:
        return None
    end = after if after >= 0 else offset
    if not labels:
        return ".", end
    joined = b".".join(labels)
    # One check for every label: plain bytes, and no "." inside a label (one dot fewer
    # than labels, those that join them): dnspython would escape it.
    if joined.count(b".") != len(labels) - 1 or not _PLAIN_JOINED.fullmatch(joined):
        return None
    return joined.decode("ascii").lower() + ".", end


def _name_end(wire: bytes, qname: str, at: int, end: int) -> int:
    """The offset after a name that dnspython reads without error (ending by ``end``), or -1.

    The usual one in a record's data (an SOA's) is labels then a pointer to a label of
    the question's name, written whole (``qname``), checked without building its text;
    any other is read by :func:`_name`.
    """
    start, length = at, 1  # the wire length so far, with the root's byte
    while at < end:
        size = wire[at]
        if size >= 0xC0 and qname and at + 1 < end:
            target = (size & 0x3F) << 8 | wire[at + 1]
            tail = qname if target == 12 else _suffix(qname, target - 12)
            if tail and length + len(tail) <= 255:
                return at + 2
            break
        if size > 63:
            break
        at += size + 1
        if not size:
            return at if length <= 255 else -1
        length += size + 1
    read = _name(wire, start, end)
    return -1 if read is None else read[1]


def _under_question(wire: bytes, offset: int, bound: int, qname: str) -> tuple[str, int] | None:
    """Read labels then a pointer into the question's name, as :func:`_walk` reads them.

    The usual owner of an SRV answer's address records (``web-7`` then a pointer to
    the question's ``web.bench.svc.cluster.local``): the question is written whole at
    offset 12 as ``qname``, before any name after it, so the pointer goes backwards
    and needs no walk. None for any other name (left to :func:`_name`).
    """
    at = offset
    labels = 0
    while at < bound:
        size = wire[at]
        if size >= 0xC0:
            break
        if not size or size > 44:  # no pointer, or a length that reads as text
            return None
        at += size + 1
        labels += 1
    if not labels or at + 1 >= bound:
        return None
    target = ((wire[at] & 0x3F) << 8 | wire[at + 1]) - 12
    tail = qname if target == 0 else _suffix(qname, target)
    if len(tail) < 2 or at - offset + 1 + len(tail) > 255:  # "" or the root: not this shape
        return None
    text = wire[offset + 1 : at].translate(_LENGTH_DOTS)
    if text.count(b".") != labels - 1 or not _PLAIN_JOINED.fullmatch(text):
        return None
    return text.decode("ascii").lower() + "." + tail, at + 2


def _label_then_question(wire: bytes, at: int, end: int, qname: str, qend: int) -> str:
    """Read one label then the question's name from a label on, written whole, ending at ``end``.

    The usual SRV target (``web-7`` then ``web.bench.svc.cluster.local``, written
    uncompressed as RFC 2782 asks) as :func:`_name` reads it; "" for any other name
    (left to it). ``qname``: the question's name as read, written whole from offset 12
    to ``qend``.
    """
    size = wire[at] if at < end else 0
    after = at + 1 + size
    skipped = qend - 12 - (end - after)  # the question's bytes before the target's tail
    if not 0 < size <= 63 or skipped < 0 or end - at > 255 or len(qname) < 2:
        return ""
    tail = qname if not skipped else _suffix(qname, skipped)
    label = wire[at + 1 : after]
    if not tail or wire[after:end] != wire[12 + skipped : qend]:
        return ""
    if b"." in label or not _PLAIN_JOINED.fullmatch(label):
        return ""
    return label.decode("ascii").lower() + "." + tail


def _suffix(qname: str, at: int) -> str:
    """The name from ``at`` bytes into the question's name (written whole at offset 12), or "".

    Its text is ``qname`` from ``at`` when a label starts there (byte for character:
    a label's length byte stands where the dot before it does), what following a
    pointer there reads; "" anywhere else, the root included (left to :func:`_name`).
    """
    if at <= 0 or at >= len(qname) or qname[at - 1] != ".":
        return ""  # 0 is offset 12 itself (read as the question's name before this)
    return qname[at:]
