"""What cluster DNS answers: the CoreDNS kubernetes plugin as a pure function, with its reasons.

:class:`ClusterDns` indexes a :class:`~hsvc.core.model.Snapshot` once and then
answers any question the way the plugin would. It follows the plugin's own order
of decisions: parse the name once (:func:`hsvc.core.names.parse_query`, rule 9),
check the namespace (rule 8), find the Service or pod, turn the found items into
records for the asked type, and fall back to NODATA or NXDOMAIN.

Every decision is recorded as a :class:`~hsvc.core.model.Step` in the answer's
``trace``, as it is taken: which object was looked at, which condition held or
failed, which rule. When a name does not answer, the engine goes on to the cause
(which pod, which condition of :mod:`hsvc.core.conditions`), so ``explain``,
resolve's because/broken/fix lines and every must-not-resolve reason are read
from the decision itself and never derived a second time.

Desired state: when the input holds no EndpointSlice at all (manifests, or an
export of pods and Services), the slices the EndpointSlice controller will write
are predicted from the selected pods (rules 3, 4); a Service without a cluster IP
answers an address allocated on create. The answers say which parts were predicted.

Not modelled: records an upstream resolver adds (ExternalName targets outside the
cluster zones, rule 25; fallthrough zones, rule 38; names outside the zones).
Answers that depend on them are marked ``open_ended``.
"""

from __future__ import annotations

from hsvc.core.answers import Answerer
from hsvc.core.clusterindex import ClusterIndex
from hsvc.core.lookup import (
    ALLOCATED_ON_CREATE,
    ASSIGNED_AT_START,
    DNS_SCHEMA_VERSION,
    DNS_VERSION_TTL,
    NO_PORT,
    SOA_EXPIRE,
    SOA_REFRESH,
    SOA_RETRY,
    PredictedEndpoint,
    PublishedEndpoint,
    SliceEndpoint,
)
from hsvc.core.model import DnsAnswer, Step
from hsvc.core.names import ParsedName

_TYPES = {t: t for t in ("A", "AAAA", "SRV", "PTR", "TXT", "CNAME", "NS", "SOA")}


class ClusterDns(ClusterIndex):
    """Answer DNS questions from Kubernetes objects, as CoreDNS would.

    Build once per snapshot (the indexes of :class:`~hsvc.core.clusterindex.ClusterIndex`);
    every lookup is a dictionary access, so answering thousands of questions stays
    linear in their number.
    """

    def answer(self, qname: str, qtype: str) -> DnsAnswer:
        """Return what cluster DNS answers for ``qname`` / ``qtype``, with its trace.

        Raises:
            InvalidName: ``qname`` is not a valid DNS name.
        """
        qtype = _TYPES.get(qtype) or qtype.upper()  # the usual types as one string each
        return Answerer(self, self.parse(qname), qtype).run()

    def answer_parsed(
        self, parsed: ParsedName, qtype: str, *, keep_trace: bool = True
    ) -> tuple[DnsAnswer, list[Step]]:
        """:meth:`answer` for a name parsed already (:meth:`parse`), and the engine's trace.

        ``keep_trace=False``: the answer itself carries no trace, and the steps returned
        are the engine's trace less the decisions that held, which nothing reads then
        (a planner that words its reason from the first failed step holds less).
        """
        qtype = _TYPES.get(qtype) or qtype.upper()
        inquiry = Answerer(self, parsed, qtype, keep_trace=keep_trace)
        return inquiry.run(), inquiry.trace


__all__ = [
    "ALLOCATED_ON_CREATE",
    "ASSIGNED_AT_START",
    "DNS_SCHEMA_VERSION",
    "DNS_VERSION_TTL",
    "NO_PORT",
    "SOA_EXPIRE",
    "SOA_REFRESH",
    "SOA_RETRY",
    "ClusterDns",
    "ClusterIndex",
    "PredictedEndpoint",
    "PublishedEndpoint",
    "SliceEndpoint",
]
