"""Expected answers against observed ones: one row per question, a verdict per server.

Answers are compared as sets (the loadbalance plugin shuffles, rule 47) and TTLs
as "at most the expected TTL" (caches count down, dns-records.md section 1).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from enum import StrEnum
from operator import attrgetter

from hsvc.core.dataclass import dataclass
from hsvc.core.model import DnsAnswer, ObjectRef, Observation, Rcode, Record, rcode_word
from hsvc.core.records import Expectation, Group
from hsvc.core.text import listed


class Verdict(StrEnum):
    """The status of one row (the JSON contract's ``status``)."""

    OK = "ok"
    MISSING = "missing"  # data expected, got NXDOMAIN or NODATA
    UNEXPECTED = "unexpected"  # no data expected, got some
    WRONG = "wrong"  # both have data (or both none) but they differ
    TOO_LARGE = "too-large"  # the answer does not fit one DNS message
    ERROR = "error"  # timeout, SERVFAIL, REFUSED, no usable response
    # Not judged: the answer depends on what a CoreDNS replica saw before (pods
    # verified and a terminating pod, dns-records.md rule 30).
    UNCERTAIN = "uncertain"


# Verdicts that do not fail a run (exit 0).
PASSING = frozenset({Verdict.OK, Verdict.UNCERTAIN})


# Which verdict speaks for a row when servers disagree: the most telling first.
_SEVERITY = (
    Verdict.WRONG,
    Verdict.MISSING,
    Verdict.UNEXPECTED,
    Verdict.TOO_LARGE,
    Verdict.ERROR,
    Verdict.UNCERTAIN,
    Verdict.OK,
)

_FAILED = frozenset(
    (Rcode.SERVFAIL, Rcode.REFUSED, Rcode.NOTIMP, Rcode.FORMERR, Rcode.TIMEOUT, Rcode.ERROR)
)
_FAILED_WORDS = {
    Rcode.SERVFAIL: "SERVFAIL: the server failed to answer",
    Rcode.REFUSED: "REFUSED: the server does not answer for this name",
    Rcode.TIMEOUT: "TIMEOUT: no response",
    Rcode.ERROR: "ERROR: no usable response",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class ServerCheck:
    """One server's answer to one question, judged."""

    observation: Observation
    verdict: Verdict
    note: str = ""
    # Set when the records match and only a TTL is over the limit (rule 43): the
    # highest TTL served and the limit, so the table can show both.
    ttl_over: tuple[int, int] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Row:
    """One question: what cluster DNS must answer, what each server did, the verdict."""

    group: Group
    subject: ObjectRef
    expected: DnsAnswer
    reason: str
    checks: tuple[ServerCheck, ...]
    status: Verdict

    @property
    def name(self) -> str:
        """The question's name."""
        return self.expected.name

    @property
    def type(self) -> str:
        """The question's type."""
        return self.expected.type


def record_key(record: Record) -> tuple[str, str, str]:
    """Identity of a record for set comparison; an SOA's serial is not predicted (rule 44)."""
    rtype = record.type
    if rtype != "SOA":
        return (record.name.lower(), rtype, record.data.lower())  # Record.key
    name, rtype, data = record.key
    fields = data.split()
    if len(fields) == 7:
        fields[2] = "*"
    return (name, rtype, " ".join(fields))


_NAME, _TYPE, _DATA = attrgetter("name"), attrgetter("type"), attrgetter("data")
_STATUS = attrgetter("status")


# The most bytes one DNS message can hold: TCP frames it with a 16-bit length
# (RFC 1035 4.2.2), and UDP with EDNS0 allows no more.
MAX_MESSAGE = 65535


def answer_wire_size(answer: DnsAnswer) -> int:
    """Return the fewest bytes a DNS message holding every record of ``answer`` takes.

    Header (12), question (name + 4), an EDNS OPT record (11), and per record a
    2-byte compression pointer for its owner, 10 bytes of type, class, TTL and
    length, and its data: 4 for A, 16 for AAAA, 6 plus the whole target for SRV
    (RFC 2782 forbids compressing it; neither CoreDNS's miekg/dns nor knot
    does), 2 for a name that may be compressed (PTR, CNAME, NS), else the
    text's length. The additional section (SRV glue) is left out: servers drop
    it first. A lower bound, so a size over :data:`MAX_MESSAGE` cannot fit.
    """
    size = 12 + _name_size(answer.name) + 4 + 11
    records = answer.answer
    types = list(map(_TYPE, records))
    if len(records) > 1 and types.count(types[0]) == len(types):
        return size + _rdata_sizes(types[0], records)  # one type: counted at once
    fixed = _FIXED_RDATA.get
    for rec in records:
        known = fixed(rec.type)
        size += 12 + (_rdata_size(rec) if known is None else known)
    return size


def _rdata_sizes(rtype: str, records: Sequence[Record]) -> int:
    """What the records of one type add to a message: ``12 + _rdata_size(r)`` for each."""
    known = _FIXED_RDATA.get(rtype)
    if known is not None:
        return (12 + known) * len(records)
    if rtype != "SRV":
        return 12 * len(records) + sum(map(len, map(_DATA, records)))
    # 6 + the target's wire size: its text without the final dots, plus 2 (1 for the root).
    targets = [data.rsplit(" ", 1)[-1].rstrip(".") for data in map(_DATA, records)]
    return (12 + 6 + 2) * len(records) + sum(map(len, targets)) - targets.count("")


# The data size of the types whose data does not depend on its text (see _rdata_size).
_FIXED_RDATA = {"A": 4, "AAAA": 16, "PTR": 2, "CNAME": 2, "NS": 2}


def _name_size(name: str) -> int:
    """Bytes of an absolute name in wire form: a length byte per label, the root's zero."""
    text = name.rstrip(".")
    return len(text) + 2 if text else 1


def _rdata_size(rec: Record) -> int:
    """The data size of a record of a type not in :data:`_FIXED_RDATA`."""
    if rec.type == "SRV":
        return 6 + _name_size(rec.data.rsplit(" ", 1)[-1])
    return len(rec.data)


def record_keys(records: Sequence[Record]) -> set[tuple[str, str, str]]:
    """``{record_key(r) for r in records}``, one call for a whole answer."""
    if any(r.type == "SOA" for r in records):
        return {record_key(r) for r in records}
    return {(r.name.lower(), r.type, r.data.lower()) for r in records}


def distinct_records(records: Sequence[Record]) -> int:
    """``len(record_keys(records))``: records of one name and type (not SOA) by their data alone."""
    if not records:
        return 0
    names, types = list(map(_NAME, records)), list(map(_TYPE, records))
    first = records[0]
    if (
        first.type != "SOA"
        and names.count(first.name) == len(names)
        and types.count(first.type) == len(types)
    ):
        return len(set(map(str.lower, map(_DATA, records))))
    return len(record_keys(records))


def _too_large(
    expected: DnsAnswer,
    obs: Observation,
    size: int,
    want: set[tuple[str, str, str]] | None = None,
) -> ServerCheck:
    """A row whose answer does not fit one DNS message: what could be checked, what clients see.

    ``want``: the expected answer's :func:`record_keys`, when the caller has them.
    """
    if obs.answer:
        if want is None:
            want = record_keys(expected.answer)
        checked = sum(map(want.__contains__, map(record_key, obs.answer)))
        expected_count = len(want)
    else:  # nothing came: only the count of what was expected
        checked, expected_count = 0, distinct_records(expected.answer)
    if size > MAX_MESSAGE:
        head = (
            f"too large for one DNS message: the {expected_count} expected records need at "
            f"least {size} bytes, over the {MAX_MESSAGE} a message holds"
        )
    else:
        head = f"the answer did not arrive whole ({expected_count} records expected)"
    sent = f"the server sent {checked} of {expected_count}"
    if obs.size:
        sent += f" in {obs.size} bytes"
    if obs.error or obs.rcode in _FAILED:
        sent += f" ({obs.error or obs.rcode.value})"
    if size > MAX_MESSAGE:
        clients = (
            "clients get a truncated answer (TC) over UDP, and over TCP part of the set "
            "(CoreDNS) or SERVFAIL (knot): a client that needs every member gets an incomplete list"
        )
    else:
        clients = "clients that cannot retry over TCP get a truncated answer"
    return ServerCheck(
        observation=obs, verdict=Verdict.TOO_LARGE, note=f"{head}; {sent}. {clients}"
    )


def _cut_short(expected: DnsAnswer, obs: Observation, size: int) -> ServerCheck | None:
    """The check of ``obs`` if it is what an answer too large to send turns into.

    That is a failure, or part of the set; None for any other answer.
    """
    if obs.rcode in (Rcode.SERVFAIL, Rcode.TIMEOUT, Rcode.ERROR):
        return _too_large(expected, obs, size)
    if obs.rcode is not Rcode.NOERROR:
        return None
    if not obs.answer:  # none of the records expected (there are some: the size is over)
        return _too_large(expected, obs, size)
    want = record_keys(expected.answer)
    return _too_large(expected, obs, size, want) if record_keys(obs.answer) < want else None


# An answer of at most one record whose name and data hold fewer characters than this
# fits one message: its size is at most 12 + 4 + 11 + the name + 2 and, for the
# record, 12 + 16 + its data + 8 bytes (what ``answer_wire_size`` counts at most).
_SURELY_FITS = MAX_MESSAGE - 100


def judge(expected: DnsAnswer, obs: Observation) -> ServerCheck:
    """Judge one observation against the expected answer."""
    answer = expected.answer
    if (
        not obs.too_large
        and len(answer) <= 1
        and len(expected.name) + (len(answer[0].data) if answer else 0) < _SURELY_FITS
    ):
        return _judge(expected, obs)  # the usual row: its size need not be counted
    size = answer_wire_size(expected)
    if obs.too_large:
        return _too_large(expected, obs, size)
    short = _cut_short(expected, obs, size) if size > MAX_MESSAGE else None
    if short is not None:
        return short
    check = _judge(expected, obs)
    if size > MAX_MESSAGE:
        # The server sent all of it, so it compressed what CoreDNS may not: say so.
        note = (
            f"the {len(expected.answer)} expected records need at least {size} bytes, over "
            f"the {MAX_MESSAGE} one DNS message holds; this server fit them in {obs.size} bytes, "
            "CoreDNS truncates such an answer"
        )
        return ServerCheck(
            observation=obs,
            verdict=check.verdict,
            note=f"{check.note}; {note}" if check.note else note,
        )
    return check


def _judge(expected: DnsAnswer, obs: Observation) -> ServerCheck:
    if (
        expected.rcode is Rcode.REFUSED
        and expected.open_ended
        and obs.rcode not in (Rcode.SERVFAIL, Rcode.TIMEOUT, Rcode.ERROR)
    ):
        # Outside the cluster zones: CoreDNS forwards the name upstream, so whatever
        # comes back (a local test server refuses it) is not ours to judge.
        return ServerCheck(observation=obs, verdict=Verdict.OK, note="outside the cluster zones")
    if obs.rcode in _FAILED:
        # "REFUSED: REFUSED" said nothing twice: the rcode alone when there is no more to say.
        failed = (
            f"{obs.rcode.value}: {obs.error}"
            if obs.error
            else _FAILED_WORDS.get(obs.rcode, obs.rcode.value)
        )
        return ServerCheck(observation=obs, verdict=Verdict.ERROR, note=failed)
    if (
        len(expected.answer) == 1
        and len(obs.answer) == 1
        and obs.rcode is expected.rcode
        and not expected.uncertain
    ):
        # The usual row: one record expected and one served (the same rcode, NOERROR
        # as data is expected). Equal within the TTL limit is what _judge_data finds.
        (want_one,), (got_one,) = expected.answer, obs.answer
        if got_one.ttl <= want_one.ttl and (
            # The same text is the same key (record_key is of the text alone).
            (
                got_one.data == want_one.data
                and got_one.name == want_one.name
                and got_one.type == want_one.type
            )
            or record_key(got_one) == record_key(want_one)
        ):
            return ServerCheck(observation=obs, verdict=Verdict.OK)
    elif (
        not expected.answer
        and not obs.answer
        and obs.rcode is expected.rcode
        and expected.rcode is not Rcode.REFUSED
        and not (expected.open_ended or expected.uncertain or expected.predicted)
    ):
        # The usual name that must not answer: no data expected, none served, the
        # rcode expected (what _judge_no_data finds for it).
        return ServerCheck(observation=obs, verdict=Verdict.OK)
    if expected.rcode is Rcode.REFUSED:
        # Outside the cluster zones: whatever upstream says is not ours to judge.
        return ServerCheck(observation=obs, verdict=Verdict.OK, note="outside the cluster zones")
    if expected.uncertain:
        return ServerCheck(observation=obs, verdict=Verdict.UNCERTAIN, note=expected.uncertain)
    if not expected.answer:
        if expected.predicted:
            return _judge_predicted(expected, obs)
        return _judge_no_data(expected, obs)
    if not obs.answer:
        return ServerCheck(
            observation=obs,
            verdict=Verdict.MISSING,
            note=f"expected {distinct_records(expected.answer)} record(s), got {rcode_word(obs)}",
        )
    want = {record_key(r): r for r in expected.answer}
    got = {record_key(r): r for r in obs.answer}
    return _judge_data(expected, obs, want, got)


def _judge_predicted(expected: DnsAnswer, obs: Observation) -> ServerCheck:
    """Desired state: data of this type is predicted, its value not known yet."""
    typed = [r for r in obs.answer if r.type == expected.type]
    if typed:
        return ServerCheck(
            observation=obs,
            verdict=Verdict.OK,
            note=f"predicted ({'; '.join(expected.predicted)}): any {expected.type} data",
        )
    return ServerCheck(
        observation=obs,
        verdict=Verdict.MISSING,
        note=f"expected {expected.type} data ({'; '.join(expected.predicted)}), "
        f"got {rcode_word(obs)}",
    )


def _judge_no_data(expected: DnsAnswer, obs: Observation) -> ServerCheck:
    """No data is expected: the rcode must match, and nothing may answer."""
    if expected.open_ended:
        return ServerCheck(
            observation=obs, verdict=Verdict.OK, note="answered upstream (fallthrough)"
        )
    if obs.answer:
        return ServerCheck(
            observation=obs,
            verdict=Verdict.UNEXPECTED,
            note=f"expected {rcode_word(expected)}, got {_records_text(obs.answer)}",
        )
    if obs.rcode != expected.rcode:
        return ServerCheck(
            observation=obs,
            verdict=Verdict.WRONG,
            note=f"expected {rcode_word(expected)}, got {rcode_word(obs)}",
        )
    return ServerCheck(observation=obs, verdict=Verdict.OK)


def _judge_data(
    expected: DnsAnswer,
    obs: Observation,
    want: dict[tuple[str, str, str], Record],
    got: dict[tuple[str, str, str], Record],
) -> ServerCheck:
    """Data is expected and some served: the records, the rcode a stub reads first, the TTLs."""
    if obs.rcode is not expected.rcode:
        # Data is expected, so the expected rcode is NOERROR. A stub resolver reads
        # the rcode first: NXDOMAIN means "no such name" whatever the answer holds.
        return ServerCheck(
            observation=obs,
            verdict=Verdict.MISSING,
            note=(
                f"expected {len(want)} record(s), got {obs.rcode.value} with "
                f"{_records_text(obs.answer)} in the answer section, which clients ignore"
            ),
        )
    missing = [want[k] for k in want if k not in got]
    extra = [got[k] for k in got if k not in want]
    if expected.open_ended:
        extra = []  # records behind an outside CNAME come from upstream (rule 25)
    if missing or extra:
        note = _srv_note(missing, extra) if expected.type == "SRV" else None
        if note is None:
            parts = []
            if missing:
                parts.append(f"missing {_records_text(missing)}")
            if extra:
                parts.append(f"unexpected {_records_text(extra)}")
            note = "; ".join(parts)
        return ServerCheck(observation=obs, verdict=Verdict.WRONG, note=note)
    too_long = [(got[k].ttl, want[k].ttl) for k in want if k in got and got[k].ttl > want[k].ttl]
    if too_long:
        have, limit = too_long[0]
        return ServerCheck(
            observation=obs,
            verdict=Verdict.WRONG,
            note=f"TTL {have} is above the configured {limit} (ttl knob, rule 43)",
            ttl_over=(have, limit),
        )
    return ServerCheck(observation=obs, verdict=Verdict.OK)


def compare(expectations: Sequence[Expectation], observations: Iterable[Observation]) -> list[Row]:
    """Pair expectations with observations (by name and type) and judge every pair."""
    # By type, then name: one entry per question, a list only where several servers
    # answered it, and no key of its own (this index is the peak of a 640,000-row run).
    by_type: dict[str, dict[str, Observation | list[Observation]]] = {}
    for obs in observations:
        by_name = by_type.setdefault(obs.type.upper(), {})
        name = obs.name if obs.name.islower() else obs.name.lower()  # names usually are
        held = by_name.get(name)
        if held is None:
            by_name[name] = obs
        elif isinstance(held, list):
            held.append(obs)
        else:
            by_name[name] = [held, obs]
    rows = []
    none: dict[str, Observation | list[Observation]] = {}
    for exp in expectations:
        x = exp.expected
        found = by_type.get(x.type, none).get(x.name if x.name.islower() else x.name.lower())
        if found is None:
            checks: tuple[ServerCheck, ...] = ()
            status = Verdict.ERROR
        elif not isinstance(found, list):  # one server: its verdict speaks for the row
            check = judge(x, found)
            checks = (check,)
            status = check.verdict
        else:
            checks = tuple(judge(x, obs) for obs in found)
            status = worst(c.verdict for c in checks)
        rows.append(
            Row(
                group=exp.group,
                subject=exp.subject,
                expected=x,
                reason=exp.reason,
                checks=checks,
                status=status,
            )
        )
    return rows


def worst(verdicts: Iterable[Verdict]) -> Verdict:
    """Return the verdict that speaks for a row."""
    seen = set(verdicts)
    return next((v for v in _SEVERITY if v in seen), Verdict.OK)


def summarize(rows: Sequence[Row]) -> dict[str, int]:
    """Count rows per status, every status present (zero included)."""
    counts = Counter(map(_STATUS, rows))  # a Verdict hashes and compares as its value
    return {v.value: counts.get(v, 0) for v in Verdict} | {"total": len(rows)}


def _srv_note(missing: Sequence[Record], extra: Sequence[Record]) -> str | None:
    """Say what differs in SRV sets by target and port, and weights apart (rule 19)."""

    def split(records: Sequence[Record]) -> dict[tuple[str, str], str] | None:
        out = {}
        for rec in records:
            fields = rec.data.split()
            if len(fields) != 4:
                return None
            out[(fields[3].lower(), fields[2])] = fields[1]
        return out

    want, got = split(missing), split(extra)
    if want is None or got is None:
        return None
    parts = []
    gone = [f"{t}:{p}" for t, p in want if (t, p) not in got]
    new = [f"{t}:{p}" for t, p in got if (t, p) not in want]
    if gone:
        parts.append("missing targets " + listed(gone))
    if new:
        parts.append("unexpected targets " + listed(new))
    weights, expected_weights = sorted(set(got.values())), sorted(set(want.values()))
    if weights and expected_weights and weights != expected_weights:
        parts.append(
            f"weight {'/'.join(weights)}, expected {'/'.join(expected_weights)} "
            "(rule 19: floor(100/N) over the answering endpoints)"
        )
    return "; ".join(parts) or None


def _records_text(records: Sequence[Record], limit: int = 3) -> str:
    return listed([r.data for r in records], limit)


@dataclass(frozen=True, slots=True, kw_only=True)
class Disagreement:
    """A server (a CoreDNS replica) whose answers differ from what the other servers say.

    A server that sent no response is not disagreeing: it is ``silent`` on those
    rows (timeouts are not answers, docs/reference/findings.md).
    """

    server: str
    rows: tuple[str, ...]  # "name TYPE" of each row where it stands apart
    wrong: int  # of those, rows where it also differs from the objects
    total: int  # rows it answered
    silent: int = 0  # rows it sent no response to


def _answer_key(obs: Observation) -> tuple[str, frozenset[tuple[str, str, str]]]:
    rcode = obs.rcode.value
    if obs.rcode in (Rcode.TIMEOUT, Rcode.ERROR):
        rcode = "no response"
    return rcode, frozenset(record_key(r) for r in obs.answer)


def disagreements(rows: Sequence[Row]) -> list[Disagreement]:
    """Find servers that answer differently from the others (a stale or broken replica).

    On each row with answers from three or more servers, a server in a minority
    (fewer servers gave its answer than gave the most common one) stands apart;
    with two servers, both do when they differ. A replica whose informer lags
    stands apart exactly on the rows its stale data touches.
    """
    apart: dict[str, list[str]] = {}
    wrong: Counter[str] = Counter()
    answered: Counter[str] = Counter()
    silent: Counter[str] = Counter()
    servers: set[str] = set()
    for row in rows:
        checks = []
        for check in row.checks:
            if check.observation.low_confidence:
                continue
            servers.add(check.observation.server)
            if check.observation.rcode in (Rcode.TIMEOUT, Rcode.ERROR):
                silent[check.observation.server] += 1
                continue
            checks.append(check)
        for check in checks:
            answered[check.observation.server] += 1
        if len(checks) < 2:
            continue
        groups = Counter(_answer_key(c.observation) for c in checks)
        if len(groups) < 2:
            continue
        top = max(groups.values())
        for check in checks:
            key = _answer_key(check.observation)
            if groups[key] < top or (len(checks) == 2 and groups[key] == 1):
                apart.setdefault(check.observation.server, []).append(f"{row.name} {row.type}")
                if check.verdict is not Verdict.OK:
                    wrong[check.observation.server] += 1
    out = [
        Disagreement(
            server=server,
            rows=tuple(names),
            wrong=wrong[server],
            total=answered[server],
            silent=silent[server],
        )
        for server, names in sorted(apart.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    ]
    # A server that stayed silent while others answered is named as silent.
    out.extend(
        Disagreement(server=server, rows=(), wrong=0, total=answered[server], silent=silent[server])
        for server in sorted(servers)
        if silent[server] and server not in apart and len(servers) > 1
    )
    return out
