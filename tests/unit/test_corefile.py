"""Corefile -> DnsSettings (dns-records.md section 1)."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from textwrap import dedent

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from hsvc.core.corefile import (
    CorefileError,
    kubeadm_default_corefile,
    parse_corefile,
    settings_with_overrides,
)
from hsvc.core.model import DnsSettings, LabelRequirement, LabelSelector, PodsMode

K3S_COREFILE = """\
.:53 {
    errors
    health
    ready
    kubernetes cluster.local in-addr.arpa ip6.arpa {
      pods insecure
      fallthrough in-addr.arpa ip6.arpa
    }
    hosts /etc/coredns/NodeHosts {
      ttl 60
      reload 15s
      fallthrough
    }
    prometheus :9153
    forward . /etc/resolv.conf
    cache 30
    loop
    reload
    loadbalance
    import /etc/coredns/custom/*.override
}
import /etc/coredns/custom/*.server
"""


def parse(text: str) -> DnsSettings:
    return parse_corefile(dedent(text), source="test")


def stanza(options: str, zones: str = "cluster.local") -> DnsSettings:
    body = "\n".join("        " + line for line in options.splitlines())
    return parse_corefile(
        f".:53 {{\n    kubernetes {zones} {{\n{body}\n    }}\n}}\n", source="test"
    )


def error_of(text: str) -> CorefileError:
    with pytest.raises(CorefileError) as info:
        parse_corefile(dedent(text), source="cm/coredns")
    return info.value


# --- whole Corefiles -------------------------------------------------------------


def test_kubeadm_corefile_gives_kubeadm_settings() -> None:
    settings = parse_corefile(kubeadm_default_corefile(), source="kubeadm")
    assert settings == DnsSettings(
        zones=("cluster.local.", "in-addr.arpa.", "ip6.arpa."),
        ttl=30,
        pods=PodsMode.INSECURE,
        endpoint_pod_names=False,
        namespaces=(),
        namespace_labels=None,
        labels=None,
        ignore_empty_service=False,
        noendpoints=False,
        zonal=False,
        fallthrough=("in-addr.arpa.", "ip6.arpa."),
        source="kubeadm",
    )
    assert settings.primary_zone == "cluster.local."


def test_seed_configmap_corefile_equals_the_model_kubeadm_defaults() -> None:
    seed = Path(__file__).parent.parent / "data" / "seed" / "kube-system.yaml"
    (configmap,) = (d for d in yaml.safe_load_all(seed.read_text()) if d["kind"] == "ConfigMap")
    settings = parse_corefile(configmap["data"]["Corefile"], source="ConfigMap kube-system/coredns")
    # DnsSettings' defaults claim to be kubeadm's; a real kubeadm Corefile must agree.
    assert settings == DnsSettings(source="ConfigMap kube-system/coredns")


def test_kubeadm_corefile_with_other_cluster_domain() -> None:
    text = kubeadm_default_corefile(cluster_domain="corp.example")
    settings = parse_corefile(text, source="kubeadm")
    assert settings.zones == ("corp.example.", "in-addr.arpa.", "ip6.arpa.")
    assert "disable success corp.example" in text


def test_k3s_corefile_uses_plugin_ttl_and_ignores_other_plugins_options() -> None:
    settings = parse_corefile(K3S_COREFILE, source="k3s")
    # No ttl line: the plugin default 5 (R43), not the hosts plugin's 60 nor kubeadm's 30.
    assert settings.ttl == 5
    assert settings.pods is PodsMode.INSECURE
    # The hosts block's bare "fallthrough" must not leak into the kubernetes plugin.
    assert settings.fallthrough == ("in-addr.arpa.", "ip6.arpa.")
    assert settings.zones == ("cluster.local.", "in-addr.arpa.", "ip6.arpa.")
    assert settings.source == "k3s"


def test_bare_plugin_takes_every_plugin_default() -> None:
    settings = parse(
        """
        cluster.local:53 {
            kubernetes
        }
        """
    )
    assert settings == DnsSettings(
        zones=("cluster.local.",),
        ttl=5,
        pods=PodsMode.DISABLED,
        endpoint_pod_names=False,
        namespaces=(),
        namespace_labels=None,
        labels=None,
        ignore_empty_service=False,
        noendpoints=False,
        zonal=False,
        fallthrough=(),
        source="test",
    )


def test_server_block_zones_used_when_plugin_has_none() -> None:
    settings = parse(
        """
        dns://Cluster.Local:53, 10.96.0.0/16:53 {
            kubernetes {
                pods verified
            }
        }
        """
    )
    assert settings.zones == ("cluster.local.", "96.10.in-addr.arpa.")
    assert settings.pods is PodsMode.VERIFIED


def test_root_server_block_without_plugin_zones_serves_root() -> None:
    assert parse(".:53 {\n  kubernetes\n}\n").zones == (".",)
    assert parse(":53 {\n  kubernetes\n}\n").zones == (".",)


def test_plugin_zones_override_server_block_zones() -> None:
    settings = parse(
        """
        .:53 {
            kubernetes MyCluster.Example in-addr.arpa.
        }
        """
    )
    assert settings.zones == ("mycluster.example.", "in-addr.arpa.")


def test_multiple_server_blocks_find_the_kubernetes_one() -> None:
    settings = parse(
        """
        example.org:53 {
            forward . 8.8.8.8
            cache 30
        }
        cluster.local:53 {
            errors
            kubernetes {
                ttl 11
            }
        }
        .:53 {
            forward . /etc/resolv.conf
        }
        """
    )
    assert settings.ttl == 11
    assert settings.zones == ("cluster.local.",)


def test_plugin_on_port_53_wins_over_other_ports() -> None:
    settings = parse(
        """
        cluster.local:5353 {
            kubernetes {
                ttl 1
            }
        }
        .:53 {
            kubernetes cluster.local {
                ttl 2
            }
        }
        """
    )
    assert settings.ttl == 2


def test_without_port_53_the_first_plugin_wins() -> None:
    settings = parse(
        """
        a.local:1053 {
            kubernetes {
                ttl 1
            }
        }
        b.local:2053 {
            kubernetes {
                ttl 2
            }
        }
        """
    )
    assert (settings.zones, settings.ttl) == (("a.local.",), 1)


def test_comments_quotes_and_braces_on_other_lines() -> None:
    settings = parse(
        """
        # kubernetes commented.out {
        .:53
        {
            # ttl 99
            kubernetes "cluster.local" in-addr.arpa   # trailing comment
            {
                ttl 17 # seventeen
                pods "verified"
            }
        }
        """
    )
    assert settings.zones == ("cluster.local.", "in-addr.arpa.")
    assert settings.ttl == 17
    assert settings.pods is PodsMode.VERIFIED


def test_closing_brace_on_the_same_line() -> None:
    settings = parse(".:53 { kubernetes cluster.local { pods insecure } }\n")
    assert settings.pods is PodsMode.INSECURE
    assert settings.zones == ("cluster.local.",)


def test_single_server_block_without_braces() -> None:
    settings = parse(
        """
        .:53
        errors
        kubernetes cluster.local {
            ttl 3
        }
        forward . 1.1.1.1
        """
    )
    assert settings.ttl == 3


def test_environment_placeholders_are_left_as_written() -> None:
    settings = parse(
        """
        .:53 {
            kubernetes {$CLUSTER_DOMAIN} in-addr.arpa {
                ttl 7
            }
        }
        """
    )
    assert settings.zones == ("{$CLUSTER_DOMAIN}.", "in-addr.arpa.")
    assert settings.ttl == 7


def test_imports_and_snippets_are_ignored() -> None:
    settings = parse(
        """
        (common) {
            kubernetes snippet.local {
                ttl 99
            }
        }
        import /etc/coredns/custom/*.server
        .:53 {
            import common
            kubernetes cluster.local
        }
        """
    )
    assert settings.zones == ("cluster.local.",)
    assert settings.ttl == 5


def test_invalid_zone_argument_is_dropped_as_coredns_does() -> None:
    settings = parse(".:53 {\n  kubernetes bad..zone cluster.local\n}\n")
    assert settings.zones == ("cluster.local.",)


# --- CIDR zones (dns-records.md rule 34, CoreDNS plugin/pkg/cidr) --------------------


@pytest.mark.parametrize(
    ("cidr", "zones"),
    [
        pytest.param("10.0.0.0/8", ["10.in-addr.arpa."], id="v4-8"),
        pytest.param("10.96.0.0/16", ["96.10.in-addr.arpa."], id="v4-16"),
        pytest.param("10.96.0.0/24", ["0.96.10.in-addr.arpa."], id="v4-24"),
        pytest.param("10.96.0.7/32", ["7.0.96.10.in-addr.arpa."], id="v4-32"),
        pytest.param("0.0.0.0/0", ["in-addr.arpa."], id="v4-0"),
        # The cases of CoreDNS plugin/pkg/cidr/cidr_test.go.
        pytest.param("10.0.0.0/15", ["0.10.in-addr.arpa.", "1.10.in-addr.arpa."], id="v4-15"),
        pytest.param(
            "192.168.1.1/23", ["0.168.192.in-addr.arpa.", "1.168.192.in-addr.arpa."], id="v4-23"
        ),
        pytest.param(
            "10.129.60.0/22",
            [f"{n}.129.10.in-addr.arpa." for n in (60, 61, 62, 63)],
            id="v4-22",
        ),
        pytest.param(
            "2001:db8::/31", ["8.b.d.0.1.0.0.2.ip6.arpa.", "9.b.d.0.1.0.0.2.ip6.arpa."], id="v6-31"
        ),
        pytest.param("fd00::/8", ["d.f.ip6.arpa."], id="v6-8"),
        pytest.param("fd00::/7", ["c.f.ip6.arpa.", "d.f.ip6.arpa."], id="v6-7"),
    ],
)
def test_rule34_cidr_arguments_become_classful_reverse_zones(cidr: str, zones: list[str]) -> None:
    settings = parse(f".:53 {{\n  kubernetes cluster.local {cidr}\n}}\n")
    assert settings.zones == ("cluster.local.", *zones)
    assert settings.reverse_zones == tuple(zones)


def test_rule34_service_cidr_12_expands_to_sixteen_zones() -> None:
    settings = parse(".:53 {\n  kubernetes cluster.local 10.96.0.0/12\n}\n")
    assert settings.reverse_zones == tuple(f"{n}.10.in-addr.arpa." for n in range(96, 112))


def test_rule34_cidr_with_port_in_server_block_key() -> None:
    settings = parse("cluster.local:53 10.96.0.0/24:53 {\n  kubernetes\n}\n")
    assert settings.zones == ("cluster.local.", "0.96.10.in-addr.arpa.")


@given(
    address=st.integers(min_value=0, max_value=2**32 - 1),
    prefix=st.integers(min_value=1, max_value=32),
    probe=st.integers(min_value=0, max_value=2**32 - 1),
)
def test_rule34_reverse_zones_cover_exactly_the_network(
    address: int, prefix: int, probe: int
) -> None:
    network = ipaddress.ip_network((address, prefix), strict=False)
    settings = parse(f".:53 {{\n  kubernetes cluster.local {network}\n}}\n")
    zones = settings.reverse_zones
    widened = -(-prefix // 8) * 8
    assert len(zones) == 2 ** (widened - prefix)
    # Any address is inside exactly one zone if it is in the network, else in none.
    ip = ipaddress.ip_address(probe)
    name = ip.reverse_pointer + "."
    inside = [z for z in zones if name == z or name.endswith("." + z)]
    assert len(inside) == (1 if ip in network else 0)


def test_rule34_only_reverse_zones_is_an_error() -> None:
    err = error_of(
        """
        .:53 {
            kubernetes 10.0.0.0/8 ip6.arpa
        }
        """
    )
    assert err.line == 3
    assert "non-reverse zone" in err.reason


# --- each knob ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "field", "value"),
    [
        pytest.param("ttl 0", "ttl", 0, id="ttl-0"),
        pytest.param("ttl 3600", "ttl", 3600, id="ttl-max"),
        pytest.param("ttl 30", "ttl", 30, id="ttl-30"),
        pytest.param("pods disabled", "pods", PodsMode.DISABLED, id="pods-disabled"),
        pytest.param("pods insecure", "pods", PodsMode.INSECURE, id="pods-insecure"),
        pytest.param("pods verified", "pods", PodsMode.VERIFIED, id="pods-verified"),
        pytest.param("endpoint_pod_names", "endpoint_pod_names", True, id="endpoint-pod-names"),
        pytest.param("namespaces b a", "namespaces", ("a", "b"), id="namespaces"),
        pytest.param(
            "namespaces a\nnamespaces c", "namespaces", ("a", "c"), id="namespaces-repeated"
        ),
        pytest.param("ignore empty_service", "ignore_empty_service", True, id="ignore"),
        pytest.param("ignore", "ignore_empty_service", False, id="ignore-bare"),
        pytest.param("noendpoints", "noendpoints", True, id="noendpoints"),
        pytest.param("zonal", "zonal", True, id="zonal"),
        pytest.param("fallthrough", "fallthrough", (".",), id="fallthrough-all"),
        pytest.param(
            "fallthrough In-Addr.Arpa example.org",
            "fallthrough",
            ("in-addr.arpa.", "example.org."),
            id="fallthrough-zones",
        ),
        pytest.param(
            "fallthrough 10.96.0.0/15",
            "fallthrough",
            ("96.10.in-addr.arpa.", "97.10.in-addr.arpa."),
            id="fallthrough-cidr",
        ),
        pytest.param(
            "labels app=web",
            "labels",
            LabelSelector(match_labels=(("app", "web"),)),
            id="labels",
        ),
        pytest.param(
            "namespace_labels team in (a, b)",
            "namespace_labels",
            LabelSelector(
                match_expressions=(LabelRequirement(key="team", operator="In", values=("a", "b")),)
            ),
            id="namespace-labels",
        ),
    ],
)
def test_each_knob_sets_its_field(options: str, field: str, value: object) -> None:
    settings = stanza(options)
    assert getattr(settings, field) == value


def test_ignored_options_change_nothing() -> None:
    settings = stanza(
        "endpoint https://10.0.0.1:6443\n"
        "tls cert key ca\n"
        "kubeconfig /etc/kube.conf ctx\n"
        "upstream\n"
        "startup_timeout 10s\n"
        "apiserver_qps 5\n"
        "multicluster clusterset.local\n"
    )
    assert settings == stanza("")


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        pytest.param(
            "app = web, tier==db",
            LabelSelector(match_labels=(("app", "web"), ("tier", "db"))),
            id="equals",
        ),
        pytest.param("app=", LabelSelector(match_labels=(("app", ""),)), id="empty-value"),
        pytest.param(
            "example.com/team notin (x,y), !legacy, canary",
            LabelSelector(
                match_expressions=(
                    LabelRequirement(key="example.com/team", operator="NotIn", values=("x", "y")),
                    LabelRequirement(key="legacy", operator="DoesNotExist"),
                    LabelRequirement(key="canary", operator="Exists"),
                )
            ),
            id="expressions",
        ),
        pytest.param(
            '"env in (prod, qa)"',
            LabelSelector(
                match_expressions=(
                    LabelRequirement(key="env", operator="In", values=("prod", "qa")),
                )
            ),
            id="quoted",
        ),
    ],
)
def test_label_selectors(selector: str, expected: LabelSelector) -> None:
    assert stanza(f"labels {selector}").labels == expected


@pytest.mark.parametrize(
    "selector",
    ["app!=web", "replicas > 3", "app in (a", "app in a", "-bad", "app=web,", "app=web tier"],
)
def test_label_selector_errors_name_the_line(selector: str) -> None:
    with pytest.raises(CorefileError) as info:
        stanza(f"ttl 30\nlabels {selector}")
    assert info.value.line == 4
    assert "label selector" in info.value.reason


# --- errors ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "reason"),
    [
        pytest.param("ttl 3601", "ttl must be in range", id="ttl-too-big"),
        pytest.param("ttl -1", "ttl must be in range", id="ttl-negative"),
        pytest.param("ttl thirty", "not an integer", id="ttl-word"),
        pytest.param("ttl", "ttl needs a value", id="ttl-missing"),
        pytest.param("pods sometimes", "wrong value for pods", id="pods-bad"),
        pytest.param("pods", "exactly one argument", id="pods-missing"),
        pytest.param("pods insecure verified", "exactly one argument", id="pods-two"),
        pytest.param("endpoint_pod_names yes", "takes no arguments", id="epn-args"),
        pytest.param("noendpoints now", "takes no arguments", id="noendpoints-args"),
        pytest.param("zonal on", "takes no arguments", id="zonal-args"),
        pytest.param("namespaces", "at least one", id="namespaces-empty"),
        pytest.param("labels", "needs a label selector", id="labels-empty"),
        pytest.param("ignore everything", "ignore value", id="ignore-bad"),
    ],
)
def test_bad_option_errors_carry_the_option_line(options: str, reason: str) -> None:
    with pytest.raises(CorefileError) as info:
        stanza("fallthrough\n" + options)
    err = info.value
    assert err.line == 4
    assert reason in err.reason
    assert str(err).startswith("test:4: ")


def test_namespaces_and_namespace_labels_conflict() -> None:
    with pytest.raises(CorefileError, match="cannot both be set") as info:
        stanza("namespaces a\nnamespace_labels team=x")
    assert info.value.line == 2


def test_zonal_needs_endpoints() -> None:
    with pytest.raises(CorefileError, match="zonal requires the endpoint cache"):
        stanza("zonal\nnoendpoints")


def test_no_kubernetes_plugin_is_an_error_without_line() -> None:
    err = error_of(
        """
        .:53 {
            forward . /etc/resolv.conf
            # kubernetes cluster.local
        }
        """
    )
    assert err.line is None
    assert str(err) == "cm/coredns: no kubernetes plugin in any server block"
    assert isinstance(err, ValueError)


def test_plugin_twice_in_one_block_is_an_error() -> None:
    err = error_of(
        """
        .:53 {
            kubernetes cluster.local
            kubernetes other.local
        }
        """
    )
    assert err.line == 4
    assert "once per server block" in err.reason


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        pytest.param(".:53 {\n  kubernetes {\n    ttl 3\n  }\n", 1, "never closed", id="unclosed"),
        pytest.param(".:53 {\n  kubernetes\n}\n}\n", 4, "unexpected '}'", id="extra-close"),
        pytest.param('.:53 {\n  kubernetes "cluster.local\n}\n', 2, "unterminated", id="quote"),
        pytest.param(".:53 {\n  {\n  }\n}\n", 2, "unexpected '{'", id="stray-open"),
        pytest.param("{\n}\n", 1, "server block", id="no-keys"),
        pytest.param("a.local:53,\n{\n kubernetes\n}\n", 2, "another address", id="comma"),
    ],
)
def test_syntax_errors_carry_the_line(text: str, line: int, reason: str) -> None:
    err = error_of(text)
    assert err.line == line
    assert reason in err.reason


# --- overrides ----------------------------------------------------------------------------


def test_overrides_replace_the_primary_zone_only() -> None:
    base = parse_corefile(kubeadm_default_corefile(), source="ConfigMap kube-system/coredns")
    settings = settings_with_overrides(base, cluster_domain="Corp.Example")
    assert settings.zones == ("corp.example.", "in-addr.arpa.", "ip6.arpa.")
    assert settings.primary_zone == "corp.example."
    assert settings.ttl == 30
    assert settings.source == "ConfigMap kube-system/coredns + flags"


def test_overrides_each_flag() -> None:
    base = parse(".:53 {\n  kubernetes cluster.local 10.0.0.0/8\n}\n")
    settings = settings_with_overrides(base, pods=PodsMode.VERIFIED, endpoint_pod_names=True, ttl=0)
    assert (settings.pods, settings.endpoint_pod_names, settings.ttl) == (
        PodsMode.VERIFIED,
        True,
        0,
    )
    assert settings.zones == base.zones
    assert settings.source == "test + flags"


def test_overrides_without_flags_change_nothing() -> None:
    base = parse(".:53 {\n  kubernetes cluster.local\n}\n")
    assert settings_with_overrides(base) is base


def test_overrides_cluster_domain_with_only_reverse_zones() -> None:
    base = DnsSettings(zones=("in-addr.arpa.",), source="x")
    settings = settings_with_overrides(base, cluster_domain="cluster.local.")
    assert settings.zones == ("cluster.local.", "in-addr.arpa.")


@pytest.mark.parametrize(
    "kwargs",
    [{"ttl": 3601}, {"ttl": -1}, {"cluster_domain": ""}, {"cluster_domain": "."}],
    ids=["ttl-big", "ttl-negative", "domain-empty", "domain-root"],
)
def test_overrides_reject_bad_values(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        settings_with_overrides(DnsSettings(), **kwargs)  # type: ignore[arg-type]
