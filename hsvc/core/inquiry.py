"""One question's walk through the plugin's decisions, and the answer it builds.

:class:`Inquiry` holds what a question has gathered so far (the rules that applied,
notes, the trace of steps) and turns it into a :class:`~hsvc.core.model.DnsAnswer`:
positive, negative (NXDOMAIN/NODATA with the SOA), or predicted for desired state.
The decisions themselves live in :mod:`hsvc.core.forward`, :mod:`hsvc.core.reverse`
and :mod:`hsvc.core.answers`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from hsvc.core import names
from hsvc.core.clusterindex import ClusterIndex
from hsvc.core.lookup import Lookup
from hsvc.core.model import DnsAnswer, ObjectRef, Provenance, Rcode, Record, Step
from hsvc.core.names import ParsedName
from hsvc.core.text import unique

# Every distinct tuple of rules, kept once: thousands of answers share a few dozen.
_RULE_SETS: dict[tuple[str, ...], tuple[str, ...]] = {}


def rule_set(rules: Iterable[str]) -> tuple[str, ...]:
    """The rules as a tuple, the same object for the same rules."""
    key = tuple(rules)
    return _RULE_SETS.setdefault(key, key)


def _provenance(
    made: dict[tuple[int, str], Provenance], source: ObjectRef, rule: str
) -> Provenance:
    """Why a record exists, one value per object and rule for every answer of an engine.

    Keyed by the object's identity: the value kept holds the object, so no other takes
    its identity while the engine lives (a pod's SRV records, its glue and its names).
    """
    key = (id(source), rule)
    found = made.get(key)
    if found is None:
        found = made[key] = Provenance(source=source, rule=rule)
    return found


class Inquiry:
    """The state of one question: what was decided, and how it becomes an answer."""

    # One per question asked (tens of thousands a plan): slots, no instance dictionary.
    __slots__ = (
        "c",
        "keep_trace",
        "last_ok",
        "name",
        "notes",
        "p",
        "qtype",
        "rules",
        "s",
        "trace",
        "uncertain",
        "zone",
        "zone_spelled",
    )

    def __init__(
        self, cluster: ClusterIndex, parsed: ParsedName, qtype: str, *, keep_trace: bool = True
    ) -> None:
        self.c = cluster
        # False: the answer is built without its trace, and the trace keeps only the
        # decisions that failed (the caller words its reason from the first of them).
        self.keep_trace = keep_trace
        self.s = cluster.settings
        self.p = parsed
        self.name = parsed.name  # as spelled: owner names echo the question (rule 10)
        self.qtype = qtype
        self.zone = parsed.zone
        # The zone as spelled in the question: SRV targets end with it (rule 10).
        self.zone_spelled = (
            parsed.name[len(parsed.name) - len(parsed.zone) :] if parsed.zone else ""
        )
        self.rules: list[str] = []
        self.notes: list[str] = []
        self.trace: list[Step] = []
        self.last_ok = True  # no decision yet, or the last one held
        self.uncertain = ""

    def step(
        self,
        check: str,
        ok: bool,
        detail: str,
        rules: tuple[str, ...] = (),
        fix: str = "",
        subject: ObjectRef | None = None,
    ) -> None:
        """Record one decision in the trace."""
        self.last_ok = ok
        if ok and not self.keep_trace:
            return  # a decision that held: nothing reads it without the trace
        self.trace.append(
            Step(check=check, ok=ok, detail=detail, rules=rules, fix=fix, subject=subject)
        )

    def held(self) -> bool:
        """A decision held: whether to word its step (only a kept trace holds passed steps)."""
        self.last_ok = True
        return self.keep_trace

    def shared_step(
        self, key: tuple[object, ...], make: Callable[..., Step], *args: object
    ) -> None:
        """Record a decision that held and depends only on the objects named in ``key``.

        The step is ``make(*args)``, made once per engine for every question that takes
        it, and not at all when the trace is not kept.
        """
        self.last_ok = True
        if not self.keep_trace:
            return
        step = self.c.shared_steps.get(key)
        if step is None:
            step = self.c.shared_steps[key] = make(*args)
        self.trace.append(step)

    def answer_trace(self) -> tuple[Step, ...]:
        """The trace the answer carries: every step, or none when the caller keeps them."""
        return tuple(self.trace) if self.keep_trace else ()

    def add(self, steps: list[Step]) -> None:
        """Record decisions taken elsewhere (the causes of :mod:`hsvc.core.causes`)."""
        if steps:
            self.last_ok = steps[-1].ok
        self.trace.extend(steps)

    def nx(self, rule: str, why: str) -> Lookup:
        """A name error with the rule that decided it and its reason."""
        return Lookup(nxdomain=True, rules=[rule], why=why)

    def predicted(self, found: Lookup, qtype: str) -> DnsAnswer:
        """A name that will answer once the API has filled in what the objects lack."""
        self.rules.append("R43")
        what = "; ".join(found.predicted)
        return DnsAnswer(
            name=self.name,
            type=qtype,
            rcode=Rcode.NOERROR,
            rules=rule_set(unique(self.rules + found.rules)),
            explanation=f"{found.why} ({what})",
            open_ended=True,
            trace=self.answer_trace(),
            predicted=tuple(found.predicted),
        )

    def positive(
        self,
        records: list[tuple[Record, ObjectRef, str]],
        rules: list[str],
        *,
        why: str = "",
        additional: list[Record] | None = None,
        open_ended: bool = False,
    ) -> DnsAnswer:
        """A NOERROR answer holding ``records``, each with its source object and rule."""
        made = self.c.provenances
        if len(records) == 1:  # the usual answer: one record from one object
            rec, source, rule = records[0]
            answer: tuple[Record, ...] = (rec,)
            record_rules: tuple[str, ...] = (rule,)
            provenance: tuple[Provenance, ...] = (_provenance(made, source, rule),)
        else:
            answer, _, record_rules = zip(*records, strict=True) if records else ((), (), ())
            # Looked up inline: a headless Service's name holds a record per endpoint.
            provenance = tuple(
                [made.get((id(s), r)) or _provenance(made, s, r) for _, s, r in records]
            )
        all_rules = dict.fromkeys([*self.rules, *rules, *record_rules, "R43"])  # text.unique
        text = why or ""
        if self.notes:
            text = "; ".join([t for t in [text, *self.notes] if t])
        return DnsAnswer(
            name=self.name,
            type=self.qtype,
            rcode=Rcode.NOERROR,
            answer=answer,
            additional=tuple(additional) if additional else (),
            rules=rule_set(all_rules),
            explanation=text,
            provenance=provenance,
            open_ended=open_ended,
            trace=tuple(self.trace) if self.keep_trace else (),  # answer_trace
            uncertain=self.uncertain,
        )

    def negative(self, rcode: Rcode, why: str, *, open_ended: bool = False) -> DnsAnswer:
        """NXDOMAIN or NODATA with the zone's SOA (rule 44); fallthrough hands it on (rule 38)."""
        self.rules.append("R44")
        # In a fallthrough zone: the first of them the name lies in (is_subdomain of any).
        fallthrough = self.s.fallthrough
        if (
            rcode is Rcode.NXDOMAIN
            and fallthrough
            and names.zone_of(self.p.lower, fallthrough) is not None
        ):
            # Rule 38: the NXDOMAIN is handed to the next plugin (forward) instead.
            self.rules.append("R38")
            self.notes.append("with fallthrough here, the upstream resolver answers instead")
            open_ended = True
        label = "NXDOMAIN" if rcode is Rcode.NXDOMAIN else "NODATA"
        text = why
        if self.notes:
            text = "; ".join([why, *self.notes])
        return DnsAnswer(
            name=self.name,
            type=self.qtype,
            rcode=rcode,
            authority=(self.c.soa(self.zone),),
            rules=rule_set(dict.fromkeys(self.rules)),  # text.unique
            explanation=f"{label}: {text}" if text else label,
            open_ended=open_ended,
            trace=tuple(self.trace) if self.keep_trace else (),  # answer_trace
        )
