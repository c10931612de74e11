"""The cache and convergence model: each layer, each Corefile variant (hsvc.core.staleness)."""

from __future__ import annotations

import pytest

from hsvc.core.corefile import CorefileError, kubeadm_default_corefile
from hsvc.core.staleness import Layer, model_from_corefiles, parse_caches

NAME = "eureka-3.eureka.ms.svc.cluster.local."

# kubeadm before 1.32: one cache for every zone, 30 s cap.
OLD_KUBEADM = """.:53 {
    errors
    kubernetes cluster.local in-addr.arpa ip6.arpa {
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
       ttl 30
    }
    forward . /etc/resolv.conf
    cache 30
    loop
}
"""

SERVE_STALE = """.:53 {
    kubernetes cluster.local {
       ttl 10
    }
    cache 60 {
       serve_stale 30m
       prefetch 5 1m 20%
    }
}
"""

SERVE_STALE_VERIFY = SERVE_STALE.replace("serve_stale 30m", "serve_stale 30m verify")

# The node-local-dns ConfigMap's Corefile (k8s.io dns/nodelocaldns), cluster zone block.
NODE_LOCAL = """cluster.local:53 {
    errors
    cache {
            success 9984 30
            denial 9984 5
    }
    reload
    loop
    bind 169.254.20.10 10.96.0.10
    forward . 10.96.0.11 {
            force_tcp
    }
}
.:53 {
    cache 30
    forward . __PILLAR__UPSTREAM__SERVERS__
}
"""


def _bound(model, *, negative: bool, node_local: bool = False, layer: Layer = Layer.CACHE):
    staleness = model.staleness(NAME, negative=negative, through_node_local=node_local)
    return next(b for b in staleness.bounds if b.layer is layer), staleness


def test_watch_layer_is_an_allowance_with_its_reason() -> None:
    model = model_from_corefiles(OLD_KUBEADM, ttl=30, source="Corefile", watch_allowance=1.5)
    bound, whole = _bound(model, negative=True, layer=Layer.WATCH)
    assert bound.seconds == 1.5 and "watch" in bound.rule
    assert "1.5 s while CoreDNS's watch catches up" in whole.words


def test_kubeadm_1_32_disables_both_halves_for_the_cluster_zone() -> None:
    model = model_from_corefiles(kubeadm_default_corefile(), ttl=30, source="Corefile")
    for negative in (True, False):
        bound, whole = _bound(model, negative=negative)
        assert bound.seconds == 0
        assert "disable" in bound.rule and "cluster.local." in bound.rule
        assert whole.seconds == model.watch_allowance
    # Names outside the disabled zone are still cached (30 s cap).
    outside = model.staleness("example.com.", negative=False, through_node_local=False)
    assert outside.seconds == model.watch_allowance + 30


def test_older_kubeadm_cache_30_caps_positives_and_keeps_denials_for_the_soa_ttl() -> None:
    model = model_from_corefiles(OLD_KUBEADM, ttl=30, source="Corefile")
    positive, _ = _bound(model, negative=False)
    negative, whole = _bound(model, negative=True)
    assert positive.seconds == 30 and "success TTL 30 s" in positive.rule
    assert negative.seconds == 30 and "denial TTL 30 s" in negative.rule
    assert "cache 30 (Corefile line 9)" in negative.rule
    assert "up to 30 s by CoreDNS's denial cache" in whole.words


def test_minimum_ttl_raises_a_short_kubernetes_ttl() -> None:
    model = model_from_corefiles(OLD_KUBEADM, ttl=1, source="Corefile")
    bound, _ = _bound(model, negative=False)
    assert bound.seconds == 5 and "raised to the 5 s minimum" in bound.rule
    custom = OLD_KUBEADM.replace("cache 30", "cache 30 {\n success 9984 30 0\n }")
    bound, _ = _bound(model_from_corefiles(custom, ttl=1, source="Corefile"), negative=False)
    assert bound.seconds == 1


def test_soa_caps_the_denial_ttl_at_300() -> None:
    text = OLD_KUBEADM.replace("cache 30", "cache 3600")
    model = model_from_corefiles(text, ttl=900, source="Corefile")
    assert _bound(model, negative=True)[0].seconds == 300
    assert _bound(model, negative=False)[0].seconds == 900


def test_serve_stale_immediate_adds_one_re_ask_and_prefetch_adds_nothing() -> None:
    model = model_from_corefiles(SERVE_STALE, ttl=10, source="Corefile", requery=2)
    bound, whole = _bound(model, negative=False)
    assert bound.seconds == 10 + 2
    assert "serve_stale 1800s immediate" in bound.rule and "prefetch" in bound.rule
    assert "serve_stale answers once" in whole.words
    verify = model_from_corefiles(SERVE_STALE_VERIFY, ttl=10, source="Corefile", requery=2)
    assert _bound(verify, negative=False)[0].seconds == 10


def test_node_local_adds_its_caps_only_through_node_local() -> None:
    model = model_from_corefiles(
        OLD_KUBEADM.replace("ttl 30", "ttl 5"), ttl=5, source="Corefile", node_local=NODE_LOCAL
    )
    direct = model.staleness(NAME, negative=True, through_node_local=False)
    assert Layer.NODE_LOCAL not in {b.layer for b in direct.bounds}
    bound, whole = _bound(model, negative=True, node_local=True, layer=Layer.NODE_LOCAL)
    assert bound.seconds == 5 and "denial" in bound.rule and "node-local Corefile" in bound.rule
    assert whole.seconds == model.watch_allowance + 5 + 5
    assert whole.words.endswith("then up to 5 s by node-local's denial cache")
    positive, _ = _bound(model, negative=False, node_local=True, layer=Layer.NODE_LOCAL)
    assert positive.seconds == 5  # the 5 s record TTL, under the 30 s cap


def test_a_name_no_cache_covers_gets_no_cache_bound() -> None:
    text = ".:53 {\n kubernetes cluster.local\n cache 30 example.com\n}\n"
    bound, _ = _bound(model_from_corefiles(text, ttl=5, source="Corefile"), negative=False)
    assert bound.seconds == 0 and "no cache" in bound.rule


def test_no_cache_plugin_at_all() -> None:
    text = ".:53 {\n kubernetes cluster.local\n}\n"
    model = model_from_corefiles(text, ttl=5, source="Corefile")
    assert model.staleness(NAME, negative=True, through_node_local=False).seconds == 2.0


def test_server_blocks_on_other_ports_are_ignored() -> None:
    text = ".:53 {\n kubernetes cluster.local\n}\n.:5353 {\n cache 600\n}\n"
    assert parse_caches(text, source="Corefile") == ()


@pytest.mark.parametrize(
    "option",
    [
        "cache 0",
        "cache 30 {\n success\n}",
        "cache {\n disable both\n}",
        "cache {\n serve_stale 5x\n}",
    ],
)
def test_values_coredns_refuses_are_errors(option: str) -> None:
    with pytest.raises(CorefileError):
        parse_caches(f".:53 {{\n {option}\n}}\n", source="Corefile")
