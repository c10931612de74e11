"""Pod records: ``<dashed-ip>.<ns>.pod.<zone>`` as the pods option answers it (rules 28-31).

:func:`find_pod` is the forward lookup of :class:`~hsvc.core.forward.ForwardInquiry`
for a pod name: the label decoded as an address, then pods insecure (any address)
or pods verified (a running pod in the namespace holds it as its primary IP),
every decision recorded in the question's trace.
"""

from __future__ import annotations

from hsvc.core import conditions, names
from hsvc.core.inquiry import Inquiry
from hsvc.core.lookup import Item, Lookup, namespace_ref
from hsvc.core.model import PodsMode


def find_pod(w: Inquiry) -> Lookup:
    """Pod records (rules 28-31); extra labels left of the address are ignored (rule 31)."""
    p = w.p
    label, namespace = p.pod_label, p.namespace
    ip = names.ip_from_pod_label(label)
    if ip is None:
        w.step(
            "pod address",
            False,
            f"{label!r} does not decode to an IP address",
            ("R29",),
            fix="write the pod IP with dashes: 10-244-1-7 (IPv6: fd00--1 for fd00::1)",
        )
        return w.nx("R29", f"{label!r} does not decode to an IP address")
    ref = namespace_ref(namespace)
    if w.s.pods is PodsMode.INSECURE:
        if w.held():
            w.step(
                "pod address",
                True,
                f"pods insecure answers {ip} without looking for a pod",
                ("R29",),
            )
        return Lookup(
            items=[Item(host=ip, port=0, target=w.name, source=ref, rule="R29")],
            rules=["R29"],
            why=f"pods insecure answers any decodable address ({ip}) without a pod lookup",
        )
    return _verified_pod(w, label, namespace, ip)


def _verified_pod(w: Inquiry, label: str, namespace: str, ip: str) -> Lookup:
    """Pods verified (rule 30): a running pod in ``namespace`` has ``ip`` as primary IP."""
    # Verified mode matches the label as decoded, not normalised: a non-compressed
    # IPv6 label ("fd00-1-0-0-0-0-0-5") finds no pod whose podIP reads "fd00:1::5".
    found = [
        pod
        for pod in w.c.pods_by_ip.get(names.decode_pod_label(label), [])
        if pod.namespace == namespace and conditions.verified_pod(pod)
    ]
    stable = [pod for pod in found if not pod.deleting]
    if stable:
        pod = stable[0]
        w.step(
            "pod address",
            True,
            f"pods verified: pod {pod.name} in {namespace} has primary IP {ip}",
            ("R30",),
            subject=pod.ref,
        )
        return Lookup(
            items=[Item(host=ip, port=0, target=w.name, source=pod.ref, rule="R30")],
            rules=["R30"],
            why=f"pods verified: pod {pod.name} in {namespace} has primary IP {ip}",
        )
    if found:
        # CoreDNS object/pod.go: a pod first seen with deletionTimestamp set is never
        # stored; one stored before its deletion began stays until it is deleted.
        pod = found[0]
        w.uncertain = (
            f"pod {pod.name} is terminating: a CoreDNS replica that stored it before its "
            f"deletion began answers {ip}, one that first saw it terminating answers "
            "NXDOMAIN (pods verified, rule 30)"
        )
        w.step(
            "pod address",
            True,
            f"pods verified: pod {pod.name} has primary IP {ip} but is terminating: the "
            "answer depends on the replica",
            ("R30",),
            subject=pod.ref,
        )
        return Lookup(
            items=[Item(host=ip, port=0, target=w.name, source=pod.ref, rule="R30")],
            rules=["R30"],
            why=w.uncertain,
        )
    other = [pod for pod in w.c.pods_by_any_ip.get(ip, []) if pod.namespace == namespace]
    detail = f"pods verified: no running pod in {namespace} has primary IP {ip}"
    subject = None
    if other:
        pod = other[0]
        subject = pod.ref
        if pod.pod_ips and names.canonical_ip(pod.pod_ips[0]) == ip:
            detail += f" (pod {pod.name} has it, but is {pod.phase or 'not running'})"
        else:
            detail += f" (pod {pod.name} has it as a secondary IP, which is not indexed)"
    w.step(
        "pod address",
        False,
        detail,
        ("R30",),
        fix="check the namespace and the pod IP (kubectl get pods -o wide)",
        subject=subject,
    )
    return w.nx("R30", f"pods verified: no running pod in {namespace} has primary IP {ip}")
