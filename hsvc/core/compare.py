"""Expected answers against observed ones: one row per question, a verdict per server.

Answers are compared as sets (the loadbalance plugin shuffles, rule 47) and TTLs
as "at most the expected TTL" (caches count down, dns-records.md section 1).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from hsvc.core.model import DnsAnswer, ObjectRef, Observation, Rcode, Record
from hsvc.core.records import Expectation, Group


class Verdict(StrEnum):
    """The status of one row (the JSON contract's ``status``)."""

    OK = "ok"
    MISSING = "missing"  # data expected, got NXDOMAIN or NODATA
    UNEXPECTED = "unexpected"  # no data expected, got some
    WRONG = "wrong"  # both have data (or both none) but they differ
    TOO_LARGE = "too-large"  # the answer does not fit one DNS message
    ERROR = "error"  # timeout, SERVFAIL, REFUSED, no usable response


# Which verdict speaks for a row when servers disagree: the most telling first.
_SEVERITY = (
    Verdict.WRONG,
    Verdict.MISSING,
    Verdict.UNEXPECTED,
    Verdict.TOO_LARGE,
    Verdict.ERROR,
    Verdict.OK,
)

_FAILED = (Rcode.SERVFAIL, Rcode.REFUSED, Rcode.TIMEOUT, Rcode.ERROR)


@dataclass(frozen=True, slots=True, kw_only=True)
class Check:
    """One server's answer to one question, judged."""

    observation: Observation
    verdict: Verdict
    note: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Row:
    """One question: what cluster DNS must answer, what each server did, the verdict."""

    group: Group
    subject: ObjectRef
    expected: DnsAnswer
    reason: str
    checks: tuple[Check, ...]
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
    name, rtype, data = record.key
    if rtype == "SOA":
        fields = data.split()
        if len(fields) == 7:
            fields[2] = "*"
        data = " ".join(fields)
    return (name, rtype, data)


def judge(expected: DnsAnswer, obs: Observation) -> Check:
    """Judge one observation against the expected answer."""
    if obs.too_large:
        seen = len([r for r in obs.answer if r.type == expected.type])
        total = len(expected.answer)
        return Check(
            observation=obs,
            verdict=Verdict.TOO_LARGE,
            note=(
                f"the answer does not fit one DNS message ({obs.size or 'over 65535'} bytes seen; "
                f"{seen} of {total} expected records could be checked); clients get a truncated "
                f"answer or SERVFAIL. {obs.error}".strip()
            ),
        )
    if obs.rcode in _FAILED:
        detail = obs.error or obs.rcode.value
        return Check(observation=obs, verdict=Verdict.ERROR, note=f"{obs.rcode.value}: {detail}")
    want = {record_key(r): r for r in expected.answer}
    got = {record_key(r): r for r in obs.answer}
    if expected.rcode is Rcode.REFUSED:
        # Outside the cluster zones: whatever upstream says is not ours to judge.
        return Check(observation=obs, verdict=Verdict.OK, note="outside the cluster zones")
    if not want:
        if expected.open_ended:
            return Check(
                observation=obs, verdict=Verdict.OK, note="answered upstream (fallthrough)"
            )
        if got:
            return Check(
                observation=obs,
                verdict=Verdict.UNEXPECTED,
                note=f"expected {_rcode_word(expected)}, got {_records_text(obs.answer)}",
            )
        if obs.rcode != expected.rcode:
            return Check(
                observation=obs,
                verdict=Verdict.WRONG,
                note=f"expected {_rcode_word(expected)}, got {_rcode_word_obs(obs)}",
            )
        return Check(observation=obs, verdict=Verdict.OK)
    if not got:
        return Check(
            observation=obs,
            verdict=Verdict.MISSING,
            note=f"expected {len(want)} record(s), got {_rcode_word_obs(obs)}",
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
        return Check(observation=obs, verdict=Verdict.WRONG, note=note)
    too_long = [(got[k].ttl, want[k].ttl) for k in want if k in got and got[k].ttl > want[k].ttl]
    if too_long:
        have, limit = too_long[0]
        return Check(
            observation=obs,
            verdict=Verdict.WRONG,
            note=f"TTL {have} is above the configured {limit} (ttl knob, rule 43)",
        )
    return Check(observation=obs, verdict=Verdict.OK)


def compare(expectations: Sequence[Expectation], observations: Iterable[Observation]) -> list[Row]:
    """Pair expectations with observations (by name and type) and judge every pair."""
    by_question: dict[tuple[str, str], list[Observation]] = {}
    for obs in observations:
        by_question.setdefault((obs.name.lower(), obs.type.upper()), []).append(obs)
    rows = []
    for exp in expectations:
        key = (exp.expected.name, exp.expected.type)
        checks = tuple(judge(exp.expected, obs) for obs in by_question.get(key, []))
        status = worst(c.verdict for c in checks) if checks else Verdict.ERROR
        rows.append(
            Row(
                group=exp.group,
                subject=exp.subject,
                expected=exp.expected,
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
    counts = Counter(r.status.value for r in rows)
    return {v.value: counts.get(v.value, 0) for v in Verdict} | {"total": len(rows)}


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
        parts.append("missing targets " + _names_text(gone))
    if new:
        parts.append("unexpected targets " + _names_text(new))
    weights, expected_weights = sorted(set(got.values())), sorted(set(want.values()))
    if weights and expected_weights and weights != expected_weights:
        parts.append(
            f"weight {'/'.join(weights)}, expected {'/'.join(expected_weights)} "
            "(rule 19: floor(100/N) over the answering endpoints)"
        )
    return "; ".join(parts) or None


def _names_text(items: Sequence[str], limit: int = 3) -> str:
    more = f" (+{len(items) - limit} more)" if len(items) > limit else ""
    return ", ".join(items[:limit]) + more


def _rcode_word(answer: DnsAnswer) -> str:
    if answer.rcode is Rcode.NOERROR and not answer.answer:
        return "NODATA"
    return answer.rcode.value


def _rcode_word_obs(obs: Observation) -> str:
    if obs.rcode is Rcode.NOERROR and not obs.answer:
        return "NODATA"
    return obs.rcode.value


def _records_text(records: Sequence[Record], limit: int = 3) -> str:
    shown = ", ".join(r.data for r in records[:limit])
    more = f" (+{len(records) - limit} more)" if len(records) > limit else ""
    return shown + more
