"""The reference scanner and checker: every reference class fires on a broken name and stays silent on a correct one."""

from __future__ import annotations

import base64
import textwrap
from dataclasses import replace
from pathlib import Path

import pytest

from hsvc.adapters.manifests import read_manifests
from hsvc.core.cluster import ClusterDns
from hsvc.core.desired import desired_snapshot
from hsvc.core.model import DnsSettings, Finding, Severity
from hsvc.core.refcheck import (
    REFERENCE_CHECKS,
    Checked,
    check_references,
    describe_use,
    reweigh_governing,
)
from hsvc.core.references import RefClass, extract, scan

DATA = Path(__file__).parents[1] / "data" / "references"
BASE = (DATA / "base.yaml").read_text()


def run(
    tmp_path: Path,
    manifest: str,
    *,
    settings: DnsSettings | None = None,
    include_secrets: bool = False,
    base: bool = True,
) -> tuple[list[Checked], list[Finding]]:
    path = tmp_path / "m.yaml"
    path.write_text((BASE + "---\n" if base else "") + textwrap.dedent(manifest))
    ms = read_manifests([path], references=True, include_secrets=include_secrets)
    cluster = ClusterDns(desired_snapshot(ms.snapshot), settings or DnsSettings())
    return check_references(cluster, scan(ms.snapshot), observed=False)


def codes(findings: list[Finding]) -> list[str]:
    return [f.code for f in findings]


def deployment(container: str, *, kind: str = "containers", extra: str = "") -> str:
    body = textwrap.indent(textwrap.dedent(container).strip(), " " * 8)
    return f"""\
apiVersion: apps/v1
kind: Deployment
metadata: {{name: api, namespace: shop}}
spec:
  selector: {{matchLabels: {{app: api}}}}
  template:
    metadata: {{labels: {{app: api}}}}
    spec:
      {kind}:
{body}
{extra}"""


# --- extraction ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "key", "hosts"),
    [
        pytest.param(
            "kafka-0.kafka.data.svc:9092", "", [("kafka-0.kafka.data.svc", 9092)], id="host-port"
        ),
        pytest.param(
            "PLAINTEXT://kafka-0.kafka-headless:9092,SSL://kafka-1.kafka-headless:9093",
            "",
            [("kafka-0.kafka-headless", 9092), ("kafka-1.kafka-headless", 9093)],
            id="kafka-listeners",
        ),
        pytest.param(
            "server.1=zk-0.zk-hs:2888:3888;2181 server.2=zk-1.zk-hs:2888:3888;2181",
            "ZOO_SERVERS",
            [("zk-0.zk-hs", 2888), ("zk-1.zk-hs", 2888)],
            id="zoo-servers",
        ),
        pytest.param(
            "jdbc:mysql://mysql.data.svc:3306/shop?useSSL=false",
            "",
            [("mysql.data.svc", 3306)],
            id="jdbc-mysql",
        ),
        pytest.param(
            "jdbc:postgresql://pg-0.pg,pg-1.pg:5433/app",
            "",
            [("pg-0.pg", None), ("pg-1.pg", 5433)],
            id="jdbc-postgres-multi-host",
        ),
        pytest.param(
            "jdbc:oracle:thin:@//ora.data.svc:1521/XE", "", [("ora.data.svc", 1521)], id="oracle"
        ),
        pytest.param(
            "mongodb://app:pa55word@mongo-0.mongo.data.svc:27017,mongo-1.mongo.data.svc:27017/db",
            "",
            [("mongo-0.mongo.data.svc", 27017), ("mongo-1.mongo.data.svc", 27017)],
            id="mongo-with-password",
        ),
        pytest.param(
            "redis://:secret@redis-master.data.svc:6379/0",
            "",
            [("redis-master.data.svc", 6379)],
            id="redis",
        ),
        pytest.param("mysql", "DB_HOST", [("mysql", None)], id="bare-word-under-host-key"),
        pytest.param(
            "es-0.es-headless es-1.es-headless",
            "",
            [("es-0.es-headless", None), ("es-1.es-headless", None)],
            id="space-list",
        ),
        pytest.param("--bootstrap-server=kafka:9092", "", [("kafka", 9092)], id="flag-value"),
    ],
)
def test_extract_finds_names(text: str, key: str, hosts: list[tuple[str, int | None]]) -> None:
    assert [(f.host, f.port) for f in extract(text, key=key)] == hosts


@pytest.mark.parametrize(
    ("text", "key"),
    [
        pytest.param("10.0.0.5:3306", "DB_HOST", id="ipv4"),
        pytest.param("[fd00::5]:443", "", id="ipv6"),
        pytest.param("localhost:6379", "REDIS_HOST", id="localhost"),
        pytest.param("http://127.0.0.1:8080/health", "", id="loopback-url"),
        pytest.param("debug", "LOG_LEVEL", id="bare-word"),
        pytest.param("mysql", "DB_NAME", id="bare-word-not-a-host-key"),
        pytest.param("1.25.3", "VERSION", id="version"),
        pytest.param("server.1", "", id="numeric-label"),
    ],
)
def test_extract_ignores_what_is_no_name(text: str, key: str) -> None:
    assert extract(text, key=key) == []


def test_extract_skips_comments_and_keys_of_config_files() -> None:
    text = textwrap.dedent(
        """\
        # the old primary: mysql-old.data.svc:3306
        ; also mysql-older.data.svc:3306
        bootstrap.servers=kafka-0.kafka.data.svc:9092  # not kafka-9.kafka.data.svc
        log.level=info
        """
    )
    found = extract(text, config=True)
    assert [(f.host, f.port, f.line) for f in found] == [("kafka-0.kafka.data.svc", 9092, 2)]


# --- one test that fires and one that stays silent, per reference class --------------------

CASES = {
    # class: (manifest with a broken name, the same with a correct one, code, the class seen)
    "env": (
        deployment("- {name: api, image: a, env: [{name: DB_HOST, value: mysql}]}"),
        deployment("- {name: api, image: a, env: [{name: DB_HOST, value: mysql.data.svc}]}"),
        "HSVC701",
        RefClass.ENV,
    ),
    "args": (
        deployment(
            '- {name: api, image: a, args: ["--redis", "redis://redis-master.cache.svc:6379/0"]}'
        ),
        deployment(
            '- {name: api, image: a, args: ["--redis", "redis://redis-master.data.svc:6379/0"]}'
        ),
        "HSVC701",
        RefClass.ARGS,
    ),
    "command": (
        deployment(
            '- {name: api, image: a, command: ["sh", "-c", "until nc -z es-0.es.data.svc 9200; do sleep 1; done"]}'
        ),
        deployment(
            '- {name: api, image: a, command: ["sh", "-c", "until nc -z es-0.es-headless.data.svc 9200; do sleep 1; done"]}'
        ),
        "HSVC701",
        RefClass.COMMAND,
    ),
    "init-container": (
        deployment(
            "- {name: wait, image: a, env: [{name: DB_ADDR, value: 'mysql-0.mysql.data.svc:3306'}]}",
            kind="initContainers",
        ),
        deployment(
            "- {name: wait, image: a, env: [{name: DB_ADDR, value: 'mysql-0.mysql-headless.data.svc:3306'}]}",
            kind="initContainers",
        ),
        "HSVC701",
        RefClass.ENV,
    ),
    "envFrom-configmap": (
        deployment(
            "- {name: api, image: a, envFrom: [{configMapRef: {name: api-env}}]}",
            extra="---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: api-env, namespace: shop}\n"
            "data:\n  ES_URL: http://es-4.es-headless.data.svc:9200\n",
        ),
        deployment(
            "- {name: api, image: a, envFrom: [{configMapRef: {name: api-env}}]}",
            extra="---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: api-env, namespace: shop}\n"
            "data:\n  ES_URL: http://es-2.es-headless.data.svc:9200\n",
        ),
        "HSVC704",
        RefClass.ENV_FROM,
    ),
    "valueFrom-configmap": (
        deployment(
            "- {name: api, image: a, env: [{name: CACHE, valueFrom: {configMapKeyRef: {name: api-env, key: cache}}}]}",
            extra="---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: api-env, namespace: shop}\n"
            "data:\n  cache: redis-master.data.svc:6380\n",
        ),
        deployment(
            "- {name: api, image: a, env: [{name: CACHE, valueFrom: {configMapKeyRef: {name: api-env, key: cache}}}]}",
            extra="---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: api-env, namespace: shop}\n"
            "data:\n  cache: redis-master.data.svc:6379\n",
        ),
        "HSVC703",
        RefClass.ENV_FROM,
    ),
    "configmap-file": (
        """\
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: app-config, namespace: shop}
        data:
          application.properties: |
            # moved: mysql.data.svc
            spring.datasource.url=jdbc:mysql://mysql.default.svc:3306/shop
        """,
        """\
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: app-config, namespace: shop}
        data:
          application.properties: |
            # was: mysql.default.svc
            spring.datasource.url=jdbc:mysql://mysql.data.svc:3306/shop
        """,
        "HSVC701",
        RefClass.CONFIG_MAP,
    ),
    "probe": (
        deployment(
            "- {name: api, image: a, readinessProbe: {httpGet: {host: web.shop.svc, port: 80, path: /}}}"
        ),
        deployment("- {name: api, image: a, readinessProbe: {httpGet: {port: 80, path: /}}}"),
        "HSVC708",
        RefClass.PROBE,
    ),
    "ingress": (
        """\
        apiVersion: networking.k8s.io/v1
        kind: Ingress
        metadata: {name: shop, namespace: shop}
        spec:
          rules:
            - http:
                paths:
                  - {path: /, pathType: Prefix, backend: {service: {name: web-svc, port: {number: 80}}}}
        """,
        """\
        apiVersion: networking.k8s.io/v1
        kind: Ingress
        metadata: {name: shop, namespace: shop}
        spec:
          rules:
            - http:
                paths:
                  - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
        """,
        "HSVC701",
        RefClass.INGRESS,
    ),
    "httproute": (
        """\
        apiVersion: gateway.networking.k8s.io/v1
        kind: HTTPRoute
        metadata: {name: shop, namespace: shop}
        spec:
          rules:
            - backendRefs: [{name: web, port: 8080}]
        """,
        """\
        apiVersion: gateway.networking.k8s.io/v1
        kind: HTTPRoute
        metadata: {name: shop, namespace: shop}
        spec:
          rules:
            - backendRefs: [{name: web, port: 80}]
        """,
        "HSVC703",
        RefClass.HTTPROUTE,
    ),
    "externalName": (
        """\
        apiVersion: v1
        kind: Service
        metadata: {name: db, namespace: shop}
        spec: {type: ExternalName, externalName: mysql.olddb.svc.cluster.local}
        """,
        """\
        apiVersion: v1
        kind: Service
        metadata: {name: db, namespace: shop}
        spec: {type: ExternalName, externalName: mysql.data.svc.cluster.local}
        """,
        "HSVC701",
        RefClass.EXTERNAL_NAME,
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_reference_class_fires_on_a_broken_name(tmp_path: Path, case: str) -> None:
    broken, _good, code, cls = CASES[case]
    checked, findings = run(tmp_path, broken)
    assert code in codes(findings), findings
    assert any(c.reference.cls is cls for c in checked)


@pytest.mark.parametrize("case", list(CASES))
def test_reference_class_is_silent_on_a_correct_name(tmp_path: Path, case: str) -> None:
    _broken, good, _code, cls = CASES[case]
    checked, findings = run(tmp_path, good)
    assert findings == []
    # Silent because the name was found and answers, not because it was missed.
    if case != "probe":
        assert any(c.reference.cls is cls and c.ok for c in checked)


def test_finding_names_workload_container_field_name_why_and_fix(tmp_path: Path) -> None:
    kafka = (DATA / "kafka.yaml").read_text()
    _checked, findings = run(tmp_path, kafka)
    (bootstrap,) = [f for f in findings if "KAFKA_BOOTSTRAP" in f.message]
    assert bootstrap.code == "HSVC701" and bootstrap.severity is Severity.ERROR
    assert bootstrap.object.kind == "Deployment" and bootstrap.object.name == "api"
    assert bootstrap.message.startswith(
        "deploy/api container api spec.template.spec.containers[0].env[KAFKA_BOOTSTRAP]: "
        "kafka-0.kafka.data.svc does not resolve"
    )
    # The reason is the engine's explanation, the fix a name the engine answers.
    assert "no ready endpoint of Service data/kafka is named 'kafka-0'" in bootstrap.message
    assert bootstrap.hint == "did you mean kafka-0.kafka-headless.data.svc?"
    misspelt = next(f for f in findings if "zk-0.zk-hs" in f.message)
    assert misspelt.hint == "did you mean zk-0.zk-headless.data.svc?"
    beyond = next(f for f in findings if f.code == "HSVC704")
    assert "zk-3.zk-headless" in beyond.message and "3 replica(s)" in beyond.message
    # Correct names in the same values stay silent.
    assert not any("kafka.data.svc:9092" in f.message for f in findings)
    assert not any("api.github.com" in f.message for f in findings)


def test_moved_database_suggests_its_new_namespace(tmp_path: Path) -> None:
    _c, findings = run(tmp_path, CASES["configmap-file"][0])
    (f,) = findings
    assert f.object.kind == "ConfigMap"
    assert (
        f.site is not None and f.site.line == 1
    )  # the second line of the file: the comment is skipped
    assert f.hint == "did you mean mysql.data.svc?"


def test_elasticsearch_seed_hosts_beyond_replicas(tmp_path: Path) -> None:
    _c, findings = run(
        tmp_path,
        """\
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: es-config, namespace: data}
        data:
          elasticsearch.yml: |
            cluster.name: logs
            discovery.seed_hosts: ["es-0.es-headless", "es-1.es-headless", "es-5.es-headless"]
        """,
    )
    assert [(f.code, "es-5.es-headless" in f.message) for f in findings] == [("HSVC704", True)]


def test_custom_zone_hard_coded_cluster_local(tmp_path: Path) -> None:
    settings = DnsSettings(
        zones=("k8s.corp.", "in-addr.arpa.", "ip6.arpa."), source="--cluster-domain"
    )
    bad = deployment(
        "- {name: api, image: a, env: [{name: CACHE_URL, value: 'redis://redis-master.data.svc.cluster.local:6379'}]}"
    )
    _c, findings = run(tmp_path, bad, settings=settings)
    (f,) = findings
    assert f.code == "HSVC706" and "cluster.local" in f.message and "k8s.corp" in f.message
    assert f.hint.startswith("did you mean redis-master.data.svc?")
    good = bad.replace("svc.cluster.local", "svc.k8s.corp")
    assert run(tmp_path, good, settings=settings)[1] == []


def test_nodata_and_port_protocol(tmp_path: Path) -> None:
    _c, findings = run(
        tmp_path,
        deployment(
            "- {name: api, image: a, env: [{name: A_URL, value: 'http://data.svc/'}, "
            "{name: B_URL, value: 'udp://redis-master.data.svc:6379'}]}"
        ),
    )
    assert sorted(codes(findings)) == ["HSVC702", "HSVC703"]
    nodata = next(f for f in findings if f.code == "HSVC702")
    assert "NODATA" in nodata.message


def test_not_ready_pod_live(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(
        BASE
        + textwrap.dedent(
            """\
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: es-1, namespace: data, labels: {app: es}}
            spec: {hostname: es-1, subdomain: es-headless, containers: [{name: es, image: e}]}
            status:
              podIP: 10.1.0.11
              conditions: [{type: Ready, status: "False"}]
            ---
            """
        )
        + deployment(
            "- {name: api, image: a, env: [{name: ES_HOSTS, value: 'es-1.es-headless.data.svc'}]}"
        )
    )
    ms = read_manifests([path], references=True)
    snapshot = desired_snapshot(ms.snapshot)
    # As the controller writes the slice in the live cluster: es-1 not ready.
    slices = tuple(
        replace(s, endpoints=tuple(replace(e, ready=False) for e in s.endpoints))
        if s.service_name == "es-headless"
        else s
        for s in snapshot.endpoint_slices
    )
    cluster = ClusterDns(replace(ms.snapshot, endpoint_slices=slices), DnsSettings())
    _c, findings = check_references(cluster, scan(ms.snapshot), observed=True)
    assert codes(findings) == ["HSVC705"]
    assert "pod es-1 is not ready" in findings[0].message


def test_coredns_only_names_are_portability_warnings(tmp_path: Path) -> None:
    _c, findings = run(
        tmp_path,
        deployment(
            "- {name: api, image: a, env: [{name: PEER_ADDR, value: '10-1-0-5.shop.pod:7000'}]}"
        ),
    )
    assert codes(findings) == ["HSVC707"]
    assert "pod A record" in findings[0].message


def test_false_positive_guards(tmp_path: Path) -> None:
    checked, findings = run(
        tmp_path,
        deployment(
            """\
            - name: api
              image: a
              env:
                - {name: UPSTREAM, value: 'https://api.github.com/v3'}
                - {name: DB_HOST, value: '10.0.0.5'}
                - {name: CACHE, value: 'localhost:6379'}
                - {name: LOG_LEVEL, value: debug}
                - {name: CONFIG, value: /etc/app/config.yaml}
                - {name: S3, value: 's3.eu-west-1.amazonaws.com:443'}
            """
        ),
    )
    assert findings == [] and checked == []


def test_secret_values_are_not_read_without_include_secrets(tmp_path: Path) -> None:
    secret = base64.b64encode(b"postgres://app:hunter2-not-shown@pg.olddb.svc:5432/app").decode()
    manifest = deployment(
        "- {name: api, image: a, env: [{name: DATABASE_URL, valueFrom: {secretKeyRef: {name: db, key: url}}}]}",
        extra=f"---\napiVersion: v1\nkind: Secret\nmetadata: {{name: db, namespace: shop}}\ndata:\n  url: {secret}\n",
    )
    checked, findings = run(tmp_path, manifest)
    assert codes(findings) == ["HSVC709"] and checked == []
    assert "pg.olddb" not in repr(findings) and "hunter2" not in repr(findings)
    checked, findings = run(tmp_path, manifest, include_secrets=True)
    assert codes(findings) == ["HSVC701"]
    assert "pg.olddb.svc" in findings[0].message and "hunter2" not in repr(findings)
    assert [c.reference.secret for c in checked] == [True]


def test_governing_findings_are_errors_only_where_per_pod_names_are_used(tmp_path: Path) -> None:
    from hsvc.core.diagnose import diagnose

    orphan = """\
        apiVersion: apps/v1
        kind: StatefulSet
        metadata: {name: cache, namespace: data}
        spec:
          serviceName: cache-hs
          replicas: 2
          selector: {matchLabels: {app: cache}}
          template:
            metadata: {labels: {app: cache}}
            spec: {containers: [{name: c, image: c}]}
        """
    for users, severity in (
        ("", Severity.WARNING),
        ("CACHE_PEERS: cache-0.cache-hs.data.svc", Severity.ERROR),
    ):
        extra = (
            f"---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: peers, namespace: data}}\ndata:\n  {users}\n"
            if users
            else ""
        )
        path = tmp_path / "m.yaml"
        path.write_text(BASE + "---\n" + textwrap.dedent(orphan) + extra)
        ms = read_manifests([path], references=True)
        cluster = ClusterDns(desired_snapshot(ms.snapshot), DnsSettings())
        checked, _f = check_references(cluster, scan(ms.snapshot), observed=False)
        plain = diagnose(ClusterDns(ms.snapshot, DnsSettings()))
        (governing,) = [f for f in reweigh_governing(plain, checked) if f.code == "HSVC102"]
        assert governing.severity is severity
        assert ("cm/peers data[CACHE_PEERS]" in governing.message) is bool(users)


def test_describe_use_reads_like_kubectl(tmp_path: Path) -> None:
    checked, _f = run(tmp_path, (DATA / "kafka.yaml").read_text())
    uses = {describe_use(c.reference) for c in checked}
    assert "deploy/api env KAFKA_BOOTSTRAP" in uses and "sts/zk env ZOO_SERVERS" in uses


SECRET_REF = deployment(
    "- {name: api, image: a, env: [{name: DB_HOST, valueFrom: {secretKeyRef: {name: db, key: host}}}]}"
)


def test_every_reference_code_fires_in_a_case_here(tmp_path: Path) -> None:
    custom = DnsSettings(zones=("k8s.corp.",), source="test")
    scenarios = [
        run(tmp_path, CASES["env"][0]),
        run(tmp_path, CASES["probe"][0]),
        run(tmp_path, CASES["envFrom-configmap"][0]),
        run(tmp_path, CASES["httproute"][0]),
        run(tmp_path, SECRET_REF),
        run(
            tmp_path,
            deployment("- {name: a, image: a, env: [{name: A_URL, value: 'http://data.svc/'}]}"),
        ),
        run(
            tmp_path,
            deployment("- {name: a, image: a, env: [{name: P, value: '10-1-0-5.shop.pod:1'}]}"),
        ),
        run(
            tmp_path,
            deployment("- {name: a, image: a, env: [{name: SMTP_HOST, value: mailrelay}]}"),
        ),
        run(
            tmp_path,
            deployment(
                "- {name: a, image: a, env: [{name: C, value: 'web.shop.svc.cluster.local:80'}]}"
            ),
            settings=custom,
        ),
    ]
    fired = {f.code for _c, found in scenarios for f in found}
    assert fired >= {code for code, *_ in REFERENCE_CHECKS} - {
        "HSVC705"
    }  # 705: test_not_ready_pod_live


def test_secret_class_is_silent_on_a_correct_name(tmp_path: Path) -> None:
    url = base64.b64encode(b"mysql://app:pw-not-shown@mysql.data.svc:3306/app").decode()
    manifest = deployment(
        "- {name: api, image: a, env: [{name: DATABASE_URL, valueFrom: {secretKeyRef: {name: db, key: url}}}]}",
        extra=f"---\napiVersion: v1\nkind: Secret\nmetadata: {{name: db, namespace: shop}}\ndata:\n  url: {url}\n",
    )
    checked, findings = run(tmp_path, manifest, include_secrets=True)
    assert findings == []
    assert [(c.reference.cls, c.ok) for c in checked] == [(RefClass.SECRET, True)]


@pytest.mark.parametrize("target", ["db.example.com", "rds.eu-west-1.amazonaws.com"])
def test_external_externalname_targets_are_left_to_upstream(tmp_path: Path, target: str) -> None:
    checked, findings = run(
        tmp_path,
        f"""\
        apiVersion: v1
        kind: Service
        metadata: {{name: db, namespace: shop}}
        spec: {{type: ExternalName, externalName: {target}}}
        """,
    )
    assert findings == [] and checked == []


def test_named_target_port_of_a_headless_service_is_not_judged_from_manifests(
    tmp_path: Path,
) -> None:
    manifest = textwrap.dedent(
        """\
        apiVersion: v1
        kind: Service
        metadata: {name: api-hs, namespace: shop}
        spec:
          clusterIP: None
          selector: {app: api}
          ports: [{name: http, port: 80, targetPort: http}]
        ---
        """
    ) + deployment(
        "- {name: api, image: a, env: [{name: PEER_URL, value: 'http://api-hs.shop.svc:8080/'}]}"
    )
    checked, findings = run(tmp_path, manifest)
    assert findings == [] and [c.ok for c in checked] == [True]


def test_without_a_name_that_works_the_fix_is_the_engines(tmp_path: Path) -> None:
    _c, findings = run(
        tmp_path,
        deployment(
            "- {name: api, image: a, env: [{name: Q_URL, value: 'amqp://rabbit.data.svc:5672'}]}"
        ),
    )
    (f,) = findings
    assert f.code == "HSVC701"
    assert f.hint == "check the Service name, or create Service 'rabbit' in data"
