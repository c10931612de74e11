"""Look names up from inside a pod with the tools its image has, in one exec, and read the output.

:func:`lookup_script` writes one POSIX ``sh`` script that prints the pod's
``/etc/resolv.conf``, which C library it has, which tools it has, then runs:

* ``getent ahosts NAME`` for each name a program would look up (glibc or
  musl ``getaddrinfo``, search list and all), or ``python3`` calling
  ``getaddrinfo`` when ``getent`` is missing;
* ``dig`` for each absolute question, or ``nslookup`` when ``dig`` is
  missing. BusyBox's ``nslookup`` is recognised and its answers are marked
  low-confidence: it exits 1 and prints NXDOMAIN for search candidates it
  tried besides the one that answered, older builds print
  ``can't resolve '(null)'`` for the server, and a NODATA AAAA shows as
  nothing at all (or as NXDOMAIN in some builds).

Every output sits between ``@@hsvc@@ begin KIND ARGS`` and ``@@hsvc@@ end RC``
lines, which :func:`parse_lookups` splits before the per-tool parsers read
them. Captures of real runs live in ``tests/data/exec/``.
"""

from __future__ import annotations

import ipaddress
import math
import re
import shlex
from collections.abc import Sequence
from dataclasses import field

from hsvc.core.dataclass import dataclass
from hsvc.core.model import Question, Rcode, Record
from hsvc.core.patterns import deferred
from hsvc.core.searchpath import Libc

MARK = "@@hsvc@@"

# getaddrinfo through python3 when the image has no getent; prints getent's format.
_PY_GAI = (
    "import socket,sys\n"
    "try:\n"
    " r=socket.getaddrinfo(sys.argv[1],None,0,socket.SOCK_STREAM,0,socket.AI_CANONNAME)\n"
    "except socket.gaierror as e:\n"
    " print(e);sys.exit(2)\n"
    'for i,x in enumerate(r):print(x[4][0],"STREAM",x[3] if i==0 else "")\n'
)


def lookup_script(
    lookups: Sequence[str],
    types: Sequence[str] = ("A", "AAAA"),
    questions: Sequence[Question] = (),
    *,
    timeout: float = 2.0,
    servers: Sequence[tuple[str, int]] = (),
) -> str:
    """Return the ``sh`` script that does every lookup in one exec.

    For each name in ``lookups`` it runs getaddrinfo (``getent ahosts``) on the
    name as given, then asks every ``types`` for every candidate either libc
    may try: the name with each domain of the pod's own search list, then the
    name as is. The search list is read by the script itself, so one exec is
    enough whatever the pod's resolv.conf says.

    Args:
        lookups: Names as a program passes them to getaddrinfo (short names too).
        types: Record types to ask for each candidate.
        questions: More absolute (name, type) pairs to ask as they are.
        timeout: Seconds per query attempt (rounded up to whole seconds).
        servers: (address, port) of each resolver layer to ask every question of
            by name, with ``dig @ADDRESS -p PORT`` (NodeLocal DNSCache's address,
            the kube-dns ClusterIP, each DNS pod): the pod's network reaches them
            all, so each layer's answer is seen from where the pod stands.
    """
    wait = max(1, math.ceil(timeout))
    type_words = " ".join(shlex.quote(t) for t in types)
    lines = [
        "# hsvc: DNS lookups from this pod (read-only)",
        f"M={MARK}",
        'b() { printf \'%s begin %s\\n\' "$M" "$*"; }',
        'e() { printf \'\\n%s end %s\\n\' "$M" "$1"; }',
        'has() { command -v "$1" >/dev/null 2>&1; }',
        "b resolv.conf; cat /etc/resolv.conf 2>&1; e $?",
        "b libc; getconf GNU_LIBC_VERSION 2>/dev/null; ls /lib/ld-musl-* 2>/dev/null; e 0",
        'b tools; for t in getent dig nslookup python3; do command -v "$t"; done; e 0',
        "if ! has dig && has nslookup; then"
        " b nslookup-version; nslookup </dev/null 2>&1 | head -n 2; e 0; fi",
        'S=; while read -r k v; do case "$k" in search|domain) S=$v;; esac;'
        " done 2>/dev/null </etc/resolv.conf",
        'g() { if has getent; then b getent "$1"; getent ahosts "$1" 2>&1; e $?;'
        ' elif has python3; then b python3 "$1"; python3 -c "$P" "$1" 2>&1; e $?; fi; }',
        'q() { if has dig; then b dig "$1" "$2";'
        f' dig +noall +comments +question +answer +tries=1 +time={wait} "$1" "$2" 2>&1;'
        ' e $?; elif has nslookup; then b nslookup "$1" "$2";'
        f' nslookup -type="$2" -timeout={wait} -retry=1 "$1" 2>&1; e $?; fi; }}',
        'x() { n=$1; case "$n" in *.) ;; *) for d in $S; do d=${d%.};'
        f' [ -n "$d" ] || continue; for t in {type_words}; do q "$n.$d." "$t"; done; done;'
        ' n="$n.";; esac;'
        f' for t in {type_words}; do q "$n" "$t"; done; }}',
        f"P={shlex.quote(_PY_GAI)}",
    ]
    for name in lookups:
        lines.append(f"g {shlex.quote(name)}; x {shlex.quote(name)}")
    lines.extend(f"q {shlex.quote(q.name)} {shlex.quote(q.type)}" for q in questions)
    if servers and questions:
        lines.append(
            'r() { if has dig; then b dig "$3" "$4" "@$1#$2";'
            f" dig +noall +comments +question +answer +tries=1 +time={wait}"
            ' -p "$2" "@$1" "$3" "$4" 2>&1; e $?; fi; }'
        )
        lines.extend(
            f"r {shlex.quote(host)} {int(port)} {shlex.quote(q.name)} {shlex.quote(q.type)}"
            for host, port in servers
            for q in questions
        )
    return "\n".join(lines) + "\n"


# --- parsed output ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Section:
    """One tool's output between two markers."""

    kind: str  # resolv.conf, libc, tools, nslookup-version, getent, python3, dig, nslookup
    args: tuple[str, ...]
    body: str
    rc: int | None  # None: the script was cut off before the end marker


@dataclass(frozen=True, slots=True, kw_only=True)
class SystemAnswer:
    """What getaddrinfo returned in the pod for one name (``getent ahosts``)."""

    name: str
    tool: str
    canonical: str  # absolute; the candidate that answered (or the CNAME target)
    addresses: tuple[str, ...]
    ok: bool
    error: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class ToolAnswer:
    """What dig or nslookup got in the pod for one absolute question."""

    name: str
    type: str
    tool: str  # "dig", "nslookup", "busybox nslookup"
    rcode: Rcode
    answer: tuple[Record, ...] = ()
    error: str = ""
    low_confidence: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class PodLookups:
    """Everything one lookup script printed, parsed."""

    resolv_conf: str | None
    libc: Libc | None
    libc_detail: str
    tools: tuple[str, ...]
    busybox: bool
    system: dict[str, SystemAnswer] = field(default_factory=dict)
    answers: dict[tuple[str, str], ToolAnswer] = field(default_factory=dict)
    # Answers of one named server (``dig @ADDRESS``): (name, type, "ADDRESS#PORT").
    direct: dict[tuple[str, str, str], ToolAnswer] = field(default_factory=dict)
    problems: tuple[str, ...] = ()


def split_sections(text: str) -> list[Section]:
    """Cut script output into sections at the marker lines."""
    sections: list[Section] = []
    kind: str | None = None
    args: tuple[str, ...] = ()
    body: list[str] = []
    for line in text.splitlines():
        if line.startswith(MARK + " begin "):
            if kind is not None:
                sections.append(Section(kind=kind, args=args, body=_body(body), rc=None))
            words = line[len(MARK) + 7 :].split()
            kind, args, body = (words[0] if words else "?"), tuple(words[1:]), []
        elif line.startswith(MARK + " end ") and kind is not None:
            rc_text = line[len(MARK) + 5 :].strip()
            rc = int(rc_text) if rc_text.isdigit() else None
            sections.append(Section(kind=kind, args=args, body=_body(body), rc=rc))
            kind, args, body = None, (), []
        elif kind is not None:
            body.append(line)
    if kind is not None:
        sections.append(Section(kind=kind, args=args, body=_body(body), rc=None))
    return sections


def _body(lines: list[str]) -> str:
    # e() prints a newline before the end marker, so that output without one stays whole.
    if lines and lines[-1] == "":
        lines = lines[:-1]
    return "\n".join(lines)


def parse_lookups(text: str) -> PodLookups:
    """Read the whole output of :func:`lookup_script`."""
    sections = split_sections(text)
    resolv: str | None = None
    libc: Libc | None = None
    libc_detail = ""
    tools: tuple[str, ...] = ()
    version = ""
    problems: list[str] = []
    for sec in sections:
        if sec.kind == "resolv.conf":
            if sec.rc == 0:
                resolv = sec.body + "\n"
            else:
                problems.append(f"cannot read /etc/resolv.conf: {_first_line(sec.body)}")
        elif sec.kind == "libc":
            libc, libc_detail = detect_libc(sec.body)
        elif sec.kind == "tools":
            tools = tuple(line.strip() for line in sec.body.splitlines() if line.strip())
        elif sec.kind == "nslookup-version":
            version = sec.body
    busybox = "busybox" in version.lower()
    system: dict[str, SystemAnswer] = {}
    answers: dict[tuple[str, str], ToolAnswer] = {}
    direct: dict[tuple[str, str, str], ToolAnswer] = {}
    for sec in sections:
        if sec.kind in ("getent", "python3") and sec.args:
            tool = "getent ahosts" if sec.kind == "getent" else "python3 getaddrinfo"
            system[sec.args[0]] = parse_getent_ahosts(sec.args[0], sec.body, sec.rc, tool=tool)
        elif sec.kind == "dig" and len(sec.args) == 2:
            got = parse_dig(sec.args[0], sec.args[1], sec.body, sec.rc)
            answers[(got.name, got.type)] = got
        elif sec.kind == "dig" and len(sec.args) == 3 and sec.args[2].startswith("@"):
            got = parse_dig(sec.args[0], sec.args[1], sec.body, sec.rc)
            direct[(got.name, got.type, sec.args[2][1:])] = got
        elif sec.kind == "nslookup" and len(sec.args) == 2:
            is_busybox = busybox or _looks_busybox(sec.body)
            got = parse_nslookup(sec.args[0], sec.args[1], sec.body, sec.rc, busybox=is_busybox)
            busybox = busybox or is_busybox
            answers[(got.name, got.type)] = got
    if not any(s.kind == "tools" for s in sections):
        problems.append("the lookup script did not run (no shell in the image?)")
    elif not any(t.endswith(("/dig", "/nslookup")) for t in tools):
        problems.append("the image has neither dig nor nslookup: per-candidate answers unknown")
    if tools and not any(t.endswith(("/getent", "/python3")) for t in tools):
        problems.append("the image has neither getent nor python3: getaddrinfo's view unknown")
    return PodLookups(
        resolv_conf=resolv,
        libc=libc,
        libc_detail=libc_detail,
        tools=tools,
        busybox=busybox,
        system=system,
        answers=answers,
        direct=direct,
        problems=tuple(problems),
    )


def detect_libc(text: str) -> tuple[Libc | None, str]:
    """Tell glibc (``getconf GNU_LIBC_VERSION``) from musl (``/lib/ld-musl-*``)."""
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("glibc "):
            return Libc.GLIBC, line
        if "ld-musl-" in line:
            return Libc.MUSL, "musl (" + line.rsplit("/", 1)[-1] + ")"
    return None, ""


# --- getent ahosts ------------------------------------------------------------------------


def parse_getent_ahosts(name: str, body: str, rc: int | None, *, tool: str) -> SystemAnswer:
    """Read ``getent ahosts NAME``: ``ADDR STREAM CANON`` on the first line, then more addresses.

    getent exits 2 when the name does not resolve (any reason: getaddrinfo's
    error is not printed).
    """
    addresses: list[str] = []
    canonical = ""
    for line in body.splitlines():
        words = line.split()
        if len(words) < 2 or words[1] not in ("STREAM", "DGRAM", "RAW"):
            continue
        address = _ip(words[0])
        if address is None:
            continue
        if address not in addresses:
            addresses.append(address)
        if not canonical and len(words) >= 3 and words[1] == "STREAM":
            canonical = words[2].lower().rstrip(".") + "."
    ok = rc == 0 and bool(addresses)
    error = ""
    if not ok:
        error = _first_line(body) or (
            "no address (getent exit 2)" if rc == 2 else f"exit {rc}" if rc else "no output"
        )
    return SystemAnswer(
        name=name, tool=tool, canonical=canonical, addresses=tuple(addresses), ok=ok, error=error
    )


# --- dig ------------------------------------------------------------------------------------

_DIG_STATUS = deferred(r"status: ([A-Z]+)")


def parse_dig(name: str, qtype: str, body: str, rc: int | None) -> ToolAnswer:
    """Read ``dig +noall +comments +question +answer NAME TYPE``."""
    qname, qtype = _absolute(name), qtype.upper()
    status = None
    records: list[Record] = []
    in_answer = False
    for line in body.splitlines():
        if m := _DIG_STATUS.search(line):
            status = m.group(1)
        if line.startswith(";; ANSWER SECTION"):
            in_answer = True
            continue
        if not line.strip() or line.startswith(";"):
            in_answer = in_answer and bool(line.strip())
            continue
        if in_answer:
            rec = _zone_line(line)
            if rec is not None:
                records.append(rec)
    if status is None:
        text = body.lower()
        if "timed out" in text or "no servers could be reached" in text:
            return ToolAnswer(
                name=qname, type=qtype, tool="dig", rcode=Rcode.TIMEOUT, error=_first_line(body)
            )
        return ToolAnswer(
            name=qname,
            type=qtype,
            tool="dig",
            rcode=Rcode.ERROR,
            error=_first_line(body) or f"dig exit {rc}",
        )
    rcode = _RCODES.get(status)
    return ToolAnswer(
        name=qname,
        type=qtype,
        tool="dig",
        rcode=rcode or Rcode.ERROR,
        answer=tuple(records),
        error="" if rcode else f"server answered {status}",
    )


_RCODES = {
    "NOERROR": Rcode.NOERROR,
    "NXDOMAIN": Rcode.NXDOMAIN,
    "SERVFAIL": Rcode.SERVFAIL,
    "REFUSED": Rcode.REFUSED,
    "NOTIMP": Rcode.NOTIMP,
    "FORMERR": Rcode.FORMERR,
}


def _zone_line(line: str) -> Record | None:
    """``owner TTL IN TYPE DATA...`` as dig prints answer records."""
    words = line.split()
    if len(words) < 5 or words[2] != "IN" or not words[1].isdigit():
        return None
    rtype = words[3].upper()
    data = " ".join(words[4:])
    return Record(name=_absolute(words[0]), type=rtype, ttl=int(words[1]), data=_data(rtype, data))


# --- nslookup (BIND and BusyBox) -------------------------------------------------------------

_CANT_FIND = deferred(r"\*\* server can't find (\S+?):? ([A-Z]+)\s*$")
_NO_ANSWER = deferred(r"\*\*\* Can't find (\S+?): No answer")
_OLD_BUSYBOX = deferred(r"can't resolve '([^']*)'")
_ADDRESS_N = deferred(r"^Address(?: \d+)?:\s+(\S+)")
_FIELD = deferred(r"^(\S+)\s+(service|name|canonical name|text|mail exchanger|nameserver) = (.+)$")
_FIELD_TYPES = {
    "service": "SRV",
    "name": "PTR",
    "canonical name": "CNAME",
    "text": "TXT",
    "mail exchanger": "MX",
    "nameserver": "NS",
}


def _looks_busybox(body: str) -> bool:
    # BusyBox prints the server as "Address: 10.96.0.10:53" (BIND: "10.96.0.10#53").
    return bool(re.search(r"^Address:\s+\S+:53\s*$", body, flags=re.M)) or "(null)" in body


def parse_nslookup(
    name: str, qtype: str, body: str, rc: int | None, *, busybox: bool
) -> ToolAnswer:
    """Read ``nslookup -type=TYPE NAME`` from BIND or BusyBox."""
    qname, qtype = _absolute(name), qtype.upper()
    tool = "busybox nslookup" if busybox else "nslookup"
    records: list[Record] = []
    failure: Rcode | None = None
    nodata = False
    error = ""
    owner = ""
    blocks = re.split(r"\n\s*\n", body)
    for block in blocks:
        lines = [line.rstrip() for line in block.splitlines() if line.strip()]
        if lines and lines[0].startswith("Server:"):
            continue  # the server the tool asked, not an answer
        for line in lines:
            if m := _CANT_FIND.search(line):
                if _absolute(m.group(1)) == qname:
                    failure = _RCODES.get(m.group(2), Rcode.ERROR)
                continue
            if _NO_ANSWER.search(line):
                nodata = True
                continue
            if m := _OLD_BUSYBOX.search(line):
                if m.group(1) not in ("(null)", ""):
                    failure = Rcode.NXDOMAIN
                continue
            lowered = line.lower()
            if "timed out" in lowered or "no servers could be reached" in lowered:
                failure, error = Rcode.TIMEOUT, line.strip(" ;")
                continue
            if line.startswith("Name:"):
                owner = _absolute(line.split(":", 1)[1].strip() or qname)
                continue
            if m := _ADDRESS_N.match(line):
                address = _ip(m.group(1))
                if address is None:
                    continue
                rtype = "AAAA" if ":" in address else "A"
                records.append(Record(name=owner or qname, type=rtype, ttl=0, data=address))
                continue
            if m := _FIELD.match(line):
                rtype = _FIELD_TYPES[m.group(2)]
                records.append(
                    Record(
                        name=_absolute(m.group(1)),
                        type=rtype,
                        ttl=0,
                        data=_data(rtype, m.group(3)),
                    )
                )
    wanted = [r for r in records if r.type in (qtype, "CNAME")]
    if wanted:
        rcode = Rcode.NOERROR
    elif failure is not None:
        rcode = failure
    elif nodata or rc == 0:
        rcode = Rcode.NOERROR
    else:
        rcode, error = Rcode.ERROR, _first_line(body) or f"nslookup exit {rc}"
    if busybox and not error:
        error = "busybox nslookup: low confidence (bogus NXDOMAIN, no TTLs)"
    return ToolAnswer(
        name=qname,
        type=qtype,
        tool=tool,
        rcode=rcode,
        answer=tuple(wanted),
        error=error if rcode in (Rcode.TIMEOUT, Rcode.ERROR) else "",
        low_confidence=busybox,
    )


# --- helpers -----------------------------------------------------------------------------------


def _absolute(name: str) -> str:
    return name.strip().lower().rstrip(".") + "."


def _ip(text: str) -> str | None:
    try:
        return str(ipaddress.ip_address(text.strip("[]")))
    except ValueError:
        return None


def _data(rtype: str, data: str) -> str:
    """Normalise record data as dnspython prints it: names absolute and lower-case."""
    data = data.strip()
    if rtype in ("A", "AAAA"):
        return _ip(data) or data
    if rtype in ("PTR", "CNAME", "NS"):
        return _absolute(data)
    if rtype in ("SRV", "MX"):
        words = data.split()
        if words:
            words[-1] = _absolute(words[-1])
        return " ".join(words).lower()
    return data


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")
