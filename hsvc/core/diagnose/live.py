"""6xx live DNS answers (rules 43, 44)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

from hsvc.core import compare, names, transport
from hsvc.core.compare import Row
from hsvc.core.diagnose.catalogue import (
    PROPAGATION_S,
)
from hsvc.core.diagnose.context import _Context
from hsvc.core.model import ObjectRef, Pod, Rcode, Record


class _LiveChecks(_Context):
    """6xx live DNS answers (rules 43, 44)."""

    def live(self, rows: Sequence[Row], now: datetime | None) -> None:
        known = self.c.known_addresses
        disagreeing: dict[ObjectRef, list[Row]] = defaultdict(list)
        for row in rows:
            if not self.in_scope(row.subject.namespace) and row.subject.namespace:
                continue
            if now is not None:
                self.negative_cache(row, now)
            if _disagree(row):
                disagreeing[row.subject].append(row)
            if not self.pods_unreadable:
                self.stale(row, known)
        for subject, group in disagreeing.items():
            row = group[0]
            answers = "; ".join(
                f"{c.observation.server}: {_observed(c.observation.rcode, c.observation.answer)}"
                for c in row.checks
            )
            more = _more_names(group)
            self.add(
                "HSVC602",
                subject,
                f"DNS servers disagree on {row.name} {row.type}{more}: {answers}",
                "one CoreDNS replica may serve stale data (watch lag or a stuck replica: check "
                "its logs, restart it) or a cache still holds an old answer; compare again "
                f"after {self.s.ttl} s",
            )

    def negative_cache(self, row: Row, now: datetime) -> None:
        if not row.expected.answer:
            return
        nx = [c for c in row.checks if c.observation.rcode is Rcode.NXDOMAIN]
        if not nx:
            return
        window = min(self.s.ttl, 300)  # the SOA's TTL and minimum (rule 44)
        best: tuple[float, Pod] | None = None
        for prov in row.expected.provenance:
            ref = prov.source
            pod = self.c.pod_of(ref)
            since = _parse_time(pod.ready_since) if pod is not None and pod.ready else None
            if pod is None or since is None:
                continue
            age = (now - since).total_seconds()
            if 0 <= age <= window + PROPAGATION_S and (best is None or age < best[0]):
                best = (age, pod)
        if best is None:
            return
        age, pod = best
        wait = max(1, round(window + PROPAGATION_S - age))
        at = (now + timedelta(seconds=wait)).astimezone(UTC).strftime("%H:%M:%S UTC")
        servers = ", ".join(c.observation.server for c in nx)
        self.add(
            "HSVC601",
            pod.ref,
            f"{row.name} {row.type} got NXDOMAIN ({servers}), but pod {pod.name} became ready "
            f"only {round(age)} s ago: resolvers may keep the denial for up to {window} s "
            f"(SOA minimum, ttl {self.s.ttl} capped at 300)",
            f"retry in {wait} s (after {at}); nothing to fix if it answers then",
        )

    def stale(self, row: Row, known: frozenset[str]) -> None:
        if row.type not in ("A", "AAAA") or row.expected.open_ended:
            return
        want = {r.data for r in row.expected.answer}
        for check in row.checks:
            for rec in check.observation.answer:
                if rec.type != row.type:
                    continue
                address = names.canonical_ip(rec.data)
                if address is None or address in want or address in known:
                    continue
                self.add(
                    "HSVC603",
                    row.subject,
                    f"{row.name} answers {address} ({check.observation.server}), an address no "
                    "current pod, Service or EndpointSlice has: a stale record",
                    "a cache or a lagging CoreDNS replica holds an old answer: wait "
                    f"{self.s.ttl} s, or restart the replica that still answers it",
                )

    def live_transport(self, rows: Sequence[Row], layers: Mapping[str, str]) -> None:
        """HSVC803-806 from the answers: sizes, truncation, TCP, and which layer is stale."""
        in_scope = [
            r for r in rows if not r.subject.namespace or self.in_scope(r.subject.namespace)
        ]
        musl = transport.musl_looking(p for p in self.snap.pods if self.in_scope(p.namespace))
        pairs = [(r.subject, c.observation) for r in in_scope for c in r.checks]
        for code, obj, message, hint in transport.answer_sizes(pairs, musl):
            self.add(code, obj, message, hint)
        if not layers:
            return
        stale: dict[tuple[ObjectRef, str], list[Row]] = defaultdict(list)
        for row in in_scope:
            good = [c for c in row.checks if c.verdict is compare.Verdict.OK]
            bad = [
                c
                for c in row.checks
                if c.verdict not in (compare.Verdict.OK, compare.Verdict.ERROR)
            ]
            if not good or not bad:
                continue
            for check in bad:
                stale[(row.subject, check.observation.server)].append(row)
        for (subject, server), group in stale.items():
            row = group[0]
            layer = layers.get(server, server)
            obs = next(c.observation for c in row.checks if c.observation.server == server)
            ok = next(c.observation for c in row.checks if c.verdict is compare.Verdict.OK)
            more = _more_names(group)
            self.add(
                "HSVC806",
                subject,
                f"{layer} holds a stale answer for {row.name} {row.type}{more}: it says "
                f"{_observed(obs.rcode, obs.answer)} while {layers.get(ok.server, ok.server)} "
                f"says {_observed(ok.rcode, ok.answer)}, as the objects do",
                _stale_hint(layer, self.s.ttl),
            )


def _parse_time(text: str) -> datetime | None:
    if not text:
        return None
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    return when if when.tzinfo is not None else None


def _answer_key(check: compare.ServerCheck) -> tuple[str, frozenset[str]]:
    obs = check.observation
    return (obs.rcode.value, frozenset(r.data.lower() for r in obs.answer))


def _disagree(row: Row) -> bool:
    if len(row.checks) < 2:
        return False  # one server (the usual run) cannot disagree with itself
    answered = [c for c in row.checks if c.observation.rcode not in (Rcode.TIMEOUT, Rcode.ERROR)]
    return len({_answer_key(c) for c in answered}) > 1


def _observed(rcode: Rcode, answer: Sequence[Record]) -> str:
    if rcode is not Rcode.NOERROR:
        return rcode.value
    if not answer:
        return "NODATA"
    return ", ".join(sorted(r.data for r in answer))


def _stale_hint(layer: str, ttl: int) -> str:
    if layer.startswith("node-local"):
        return (
            "the node's NodeLocal DNSCache still holds the old answer: wait out its cache "
            "TTL cap, or restart the node-local-dns pod on that node"
        )
    return (
        f"that CoreDNS replica lags the API (watch lag or a stuck replica): check its logs, "
        f"restart it, and compare again after {ttl} s"
    )


def _more_names(group: Sequence[object]) -> str:
    """`` (and 2 more name(s))`` after the first of ``group``; empty for one."""
    return f" (and {len(group) - 1} more name(s))" if len(group) > 1 else ""
