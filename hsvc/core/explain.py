"""Why a name answers as it does: the answer engine's own trace, read back.

``explain`` decides nothing itself: it asks :class:`~hsvc.core.cluster.ClusterDns`
for the answer and returns the steps the engine recorded while deciding it
(which object it looked at, which condition held or failed, which rule). The
first failed step is the cause of a missing answer; its ``fix`` is the advice.
"""

from __future__ import annotations

from collections.abc import Sequence

from hsvc.core.cluster import ClusterDns
from hsvc.core.conditions import pod_steps
from hsvc.core.model import DnsAnswer, Pod, Rcode, Service, Step
from hsvc.core.names import NameKind

# A step of the engine's trace, as the explanation shows it.
Link = Step


def explain(answer: DnsAnswer) -> list[Link]:
    """Return the engine's trace for an answer, up to and including its first failed step."""
    out: list[Link] = []
    for step in answer.trace:
        out.append(step)
        if not step.ok:
            break
    return out


def explain_name(cluster: ClusterDns, qname: str, qtype: str | None = None) -> list[Link]:
    """Answer ``qname`` and return the decisions behind it (see :func:`explain`).

    Without ``qtype``, a reverse name is asked for PTR and any other for A.

    Raises:
        InvalidName: ``qname`` is not a valid DNS name.
    """
    if qtype is None:
        qtype = "PTR" if cluster.parse(qname).kind is NameKind.REVERSE else "A"
    return explain(cluster.answer(qname, qtype))


def verdict(answer: DnsAnswer) -> str:
    """Return ``ok`` when the trace shows no failed condition, else ``broken``."""
    return "broken" if first_broken(explain(answer)) is not None else "ok"


def first_broken(chain: Sequence[Link]) -> Link | None:
    """Return the first link that failed, if any."""
    return next((link for link in chain if not link.ok), None)


def reason(answer: DnsAnswer, trace: Sequence[Step] | None = None) -> str:
    """Word why an answer holds no data: the first failed step and its fix, from the trace.

    ``trace``: the steps the engine recorded for ``answer`` when the answer was
    built without them (:meth:`~hsvc.core.cluster.ClusterDns.answer_parsed`).
    """
    if answer.answer or (answer.rcode is Rcode.NOERROR and answer.predicted):
        return ""
    link = first_broken(answer.trace if trace is None else trace)
    if link is None:
        return answer.explanation
    return f"{link.detail}; {link.fix}" if link.fix else link.detail


def pod_links(cluster: ClusterDns, pod: Pod, svc: Service) -> list[Link]:
    """Return the conditions of ``<hostname>.<svc>`` for ``pod`` (:func:`conditions.pod_steps`)."""
    return pod_steps(cluster, pod, svc)


def pod_name_link(cluster: ClusterDns, pod: Pod, svc: Service) -> Link:
    """Return the first failed condition of ``<hostname>.<svc>`` for ``pod`` (rules 22, 23)."""
    return pod_steps(cluster, pod, svc)[-1]
