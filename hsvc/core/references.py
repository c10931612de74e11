"""The names apps use: every host name written into what a workload reads.

:func:`scan` reads the strings a pod's containers are given (env values, args,
commands, ``envFrom`` and ``valueFrom`` ConfigMap data, probe hosts), ConfigMap
data, Secret data when it was read on purpose, Ingress and HTTPRoute backends and
ExternalName targets, and pulls out every candidate host name with its port:
``host[:port]``, URLs (with several comma-separated hosts, as MongoDB and
PostgreSQL allow), JDBC and Oracle connect strings, ZooKeeper server lists
(``server.1=zk-0.zk:2888:3888;2181``) and whitespace or comma-separated lists.

Nothing here decides whether a name is right: :mod:`hsvc.core.refcheck` asks the
answer engine. Extraction only guards against what is certainly not a name
(IP addresses, ``localhost``, numbers, comment lines of configuration files).
A Secret's text never leaves this module: only the names found in it do.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from enum import StrEnum

from hsvc.core import names
from hsvc.core.dataclass import dataclass
from hsvc.core.model import (
    BackendRef,
    ObjectRef,
    Snapshot,
    TextValue,
    ValueKind,
    ValueSite,
    Workload,
)
from hsvc.core.patterns import deferred

__all__ = [
    "Found",
    "RefClass",
    "Reference",
    "extract",
    "hostish",
    "scan",
    "short_kind",
]


class RefClass(StrEnum):
    """Where a reference is written (the reference classes of the docs)."""

    ENV = "env"
    ARGS = "args"
    COMMAND = "command"
    ENV_FROM = "envFrom"  # a ConfigMap (or Secret) key a container gets as env
    CONFIG_MAP = "configMap"  # ConfigMap data not consumed as env (mounted files, ...)
    SECRET = "secret"  # Secret data, read only with --include-secrets
    PROBE = "probe"
    INGRESS = "ingress"
    HTTPROUTE = "httproute"
    EXTERNAL_NAME = "externalName"


@dataclass(frozen=True, slots=True, kw_only=True)
class Found:
    """One host name found in a text."""

    host: str  # lower-case, without a trailing dot unless written absolute
    port: int | None = None
    scheme: str = ""  # lower-case URL scheme ("jdbc:mysql", "redis"), "" if none
    line: int = 0  # 0-based line of the text it is on
    explicit: bool = False  # in a URL, with a port, or under a host-like key


@dataclass(frozen=True, slots=True, kw_only=True)
class Reference:
    """One name an object uses, who uses it and where it is written."""

    owner: ObjectRef  # the workload (or ConfigMap, Ingress, Service) that uses the name
    container: str
    field: str  # the field as people read it, e.g. ``...containers[0].env[KAFKA_BOOTSTRAP]``
    cls: RefClass
    name: str  # as written (lower-case)
    port: int | None
    protocol: str  # TCP, or UDP for udp:// style schemes
    namespace: str  # whose search path applies
    site: ValueSite  # where the text is (the ConfigMap's line for envFrom)
    explicit: bool  # see Found.explicit; backends and ExternalName targets are
    absolute: bool = False  # asked as is, not through a pod's search path
    key: str = ""  # the env variable or data key
    secret: bool = False  # found in a Secret's value (shown by name only)


def short_kind(kind: str) -> str:
    """Return kubectl's short name of a kind (``deploy``), for "used by" lines."""
    return _SHORT.get(kind, kind.lower())


_SHORT = {
    "Deployment": "deploy",
    "StatefulSet": "sts",
    "DaemonSet": "ds",
    "ReplicaSet": "rs",
    "Job": "job",
    "CronJob": "cronjob",
    "Pod": "pod",
    "ConfigMap": "cm",
    "Secret": "secret",
    "Ingress": "ing",
    "HTTPRoute": "httproute",
    "Service": "svc",
}

# --- extraction ------------------------------------------------------------------

# A URL: scheme (JDBC's "jdbc:mysql" chains included), then the authority.
_URL = deferred(
    r"(?P<scheme>[a-z][a-z0-9+.\-]*(?::[a-z][a-z0-9+.\-]*)*)://"
    # Hosts may be comma-separated (MongoDB, PostgreSQL); a comma before another
    # scheme:// starts the next URL (Kafka listener lists).
    r"(?P<auth>(?:[^\s/?#\"'<>;)\]},]|,(?![a-z][a-z0-9+.\-]*://))*)",
    re.IGNORECASE,
)
# Oracle's EZConnect in JDBC: jdbc:oracle:thin:@//host:1521/svc or @host:1521:SID.
_ORACLE = deferred(r"@(?://)?(?P<auth>[a-z0-9_.\-]+(?::\d+)?)", re.IGNORECASE)
_SPLIT = deferred(r"[\s,;\"'`()\[\]{}<>|]+")
_PORT = deferred(r"^(?P<host>[^:]+)(?::(?P<port>\d{1,5}))?(?::\d{1,5})*$")
_LABEL = deferred(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$")
_CONFIG_LINE = deferred(r"^\s*(?P<key>[A-Za-z0-9_.\-\[\]\"']+)\s*(?:=|:\s)\s*(?P<value>.*)$")
_COMMENT = ("#", "//", ";", "--", "<!--", "!")
_HOSTISH = deferred(
    r"(^|[._\-])(host|hosts|hostname|server|servers|addr|address|addresses|url|urls|uri|"
    r"endpoint|endpoints|broker|brokers|bootstrap|seed|seeds|peer|peers|master|primary|"
    r"replica|connect|dsn|upstream|backend|target)($|[._\-])",
    re.IGNORECASE,
)
_ENV_NAME = deferred(r"^[A-Za-z_][A-Za-z0-9_]*$")
_NOT_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})
_UDP_SCHEMES = frozenset({"udp", "dns", "syslog", "statsd", "coap", "sip"})


def hostish(key: str) -> bool:
    """Whether a variable or key name says it holds a host (``DB_HOST``, ``seed_hosts``)."""
    return bool(_HOSTISH.search(key))


def extract(text: str, *, key: str = "", config: bool = False) -> list[Found]:
    """Return the host names in ``text``, in order, without repeats.

    Args:
        text: An env value, an argument, a data value (possibly a whole file).
        key: The variable or data key it is stored under: a host-like key makes
            single-label words candidates.
        config: ``text`` is a configuration file: comment lines and the keys of
            ``key = value`` / ``key: value`` lines are skipped.
    """
    out: dict[tuple[str, int | None], Found] = {}
    for number, line in enumerate(text.splitlines() or [""]):
        line_key = key
        if config:
            stripped = line.strip()
            if not stripped or stripped.startswith(_COMMENT):
                continue
            line = _strip_trailing_comment(line)
            match = _CONFIG_LINE.match(line)
            if match and "://" not in match.group("key"):
                line_key = match.group("key")
                line = match.group("value")
        for found in _line(line, line_key, number):
            out.setdefault((found.host, found.port), found)
    return list(out.values())


def _strip_trailing_comment(line: str) -> str:
    # "host: a.b  # the primary": a '#' after whitespace starts a comment in
    # YAML, shell, INI and properties files; a URL fragment has no space before it.
    return re.split(r"\s#", line, maxsplit=1)[0]


def _line(line: str, key: str, number: int) -> Iterator[Found]:
    rest = line
    for url in _URL.finditer(line):
        scheme = url.group("scheme").lower()
        auth = url.group("auth").rpartition("@")[2]  # never keep user:password
        for part in auth.split(","):
            found = _host_port(part, number, scheme=scheme, explicit=True)
            if found is not None:
                yield found
        rest = rest.replace(url.group(0), " ")
    if "jdbc:oracle" in line.lower():
        for match in _ORACLE.finditer(rest):
            found = _host_port(match.group("auth"), number, scheme="jdbc:oracle", explicit=True)
            if found is not None:
                yield found
        return
    host_key = hostish(key)
    for word in _SPLIT.split(rest):
        if "=" in word:  # --flag=value, server.1=zk-0.zk:2888:3888
            flag, _, word = word.rpartition("=")
            if hostish(flag):
                host_key = True
        word = word.strip(".:")
        if word.startswith("-") or not word:
            continue
        found = _host_port(word, number, explicit=host_key)
        if found is not None:
            yield found


def _host_port(text: str, line: int, *, scheme: str = "", explicit: bool) -> Found | None:
    text = text.strip().split("/", 1)[0]  # host:port/path
    if text.startswith("["):  # [fd00::1]:443 is an address
        return None
    match = _PORT.match(text)
    if match is None:
        return None
    host = match.group("host").lower()
    port = int(match.group("port")) if match.group("port") else None
    if port is not None and not 0 < port < 65536:
        return None
    if not _is_name(host):
        return None
    if port is None and not explicit and "." not in host.rstrip("."):
        return None  # a bare word ("info", "true") is a name only where a host belongs
    return Found(
        host=host,
        port=port,
        scheme=scheme,
        line=line,
        explicit=explicit or port is not None,
    )


def _is_name(host: str) -> bool:
    if host in _NOT_NAMES or host.rstrip(".") in _NOT_NAMES:
        return False
    if names.canonical_ip(host.rstrip(".")) is not None:
        return False
    bare = host[:-1] if host.endswith(".") else host
    if not bare or len(bare) > names.MAX_NAME or ".." in bare:
        return False
    labels = bare.split(".")
    if labels[-1].isdigit() or not labels[-1][:1].isalpha():
        return False  # "server.1", "v1.2", "1.5" are not host names
    if any(not _LABEL.match(label) for label in labels):
        return False
    # Values such as "value_with_underscores" or "x_y" are not names either.
    return not any("_" in label and not label.startswith("_") for label in labels)


# --- scanning ----------------------------------------------------------------------


def scan(snapshot: Snapshot) -> list[Reference]:
    """Return every reference in the snapshot's workloads, ConfigMaps, routes and Services.

    A ConfigMap key that a container takes as env (``envFrom``, ``valueFrom``) is
    reported once per container that takes it, at the ConfigMap's value; the other
    ConfigMap data (mounted files) is reported on the ConfigMap itself. Pods made by
    a controller whose template is in the snapshot are skipped: the template says it.
    """
    data = {(d.kind, d.namespace, d.name): d for d in snapshot.config_data}
    templated = {(w.kind, w.namespace, w.name) for w in snapshot.workloads}
    consumed: set[tuple[str, str, str, str]] = set()
    out: list[Reference] = []
    for workload in snapshot.workloads:
        if workload.kind == "Pod" and _made_by(workload, templated):
            continue
        out.extend(_workload_refs(workload))
        for source in workload.sources:
            cfg = data.get((source.kind, workload.namespace, source.name))
            if cfg is None:
                continue
            for value in cfg.values:
                if source.key and value.key != source.key:
                    continue
                if not source.key and not _ENV_NAME.match(value.key):
                    continue  # envFrom skips keys that are no variable names: files to mount
                consumed.add((cfg.kind, cfg.namespace, cfg.name, value.key))
                env = source.env if source.key else source.env + value.key
                field = (
                    source.field
                    if source.key
                    else f"{source.field}({cfg.kind} {cfg.name})[{value.key}]"
                )
                out.extend(
                    _refs(
                        value,
                        owner=workload.ref,
                        namespace=workload.namespace,
                        cls=RefClass.ENV_FROM if cfg.kind == "ConfigMap" else RefClass.SECRET,
                        container=source.container,
                        field=field,
                        key=env,
                        secret=cfg.kind == "Secret",
                        config=False,
                    )
                )
    for cfg in snapshot.config_data:
        for value in cfg.values:
            if (cfg.kind, cfg.namespace, cfg.name, value.key) in consumed:
                continue
            out.extend(
                _refs(
                    value,
                    owner=cfg.ref,
                    namespace=cfg.namespace,
                    cls=RefClass.CONFIG_MAP if cfg.kind == "ConfigMap" else RefClass.SECRET,
                    container="",
                    field=value.site.field,
                    key=value.key,
                    secret=cfg.kind == "Secret",
                    config="\n" in value.text.strip() or _looks_like_file(value.key),
                )
            )
    out.extend(_backend_refs(snapshot.backends))
    out.extend(_external_name_refs(snapshot))
    return out


def _external_name_refs(snapshot: Snapshot) -> list[Reference]:
    """The names ExternalName Services point at (rule 24): absolute, written on purpose."""
    out: list[Reference] = []
    for svc in snapshot.services:
        target = svc.external_name.strip().lower()
        if svc.is_external_name and target and _is_name(target):
            out.append(
                Reference(
                    owner=svc.ref,
                    container="",
                    field="spec.externalName",
                    cls=RefClass.EXTERNAL_NAME,
                    name=target,
                    port=None,
                    protocol="TCP",
                    namespace=svc.namespace,
                    site=ValueSite(
                        object=svc.ref, path=("spec", "externalName"), field="spec.externalName"
                    ),
                    explicit=True,
                    absolute=True,
                )
            )
    return out


def _made_by(pod: Workload, templated: set[tuple[str, str, str]]) -> bool:
    owner = pod.owner
    if owner is None:
        return False
    if owner.kind == "ReplicaSet":
        deploy = owner.name.rsplit("-", 1)[0]
        return (owner.kind, pod.namespace, owner.name) in templated or (
            "Deployment",
            pod.namespace,
            deploy,
        ) in templated
    if owner.kind == "Job" and (owner.kind, pod.namespace, owner.name) not in templated:
        cron = owner.name.rsplit("-", 1)[0]
        return ("CronJob", pod.namespace, cron) in templated
    return (owner.kind, pod.namespace, owner.name) in templated


def _looks_like_file(key: str) -> bool:
    return "." in key and key.rsplit(".", 1)[1].lower() in (
        "properties",
        "conf",
        "cfg",
        "ini",
        "yaml",
        "yml",
        "toml",
        "env",
        "xml",
        "json",
    )


_VALUE_CLASS = {
    ValueKind.ENV: RefClass.ENV,
    ValueKind.ARGS: RefClass.ARGS,
    ValueKind.COMMAND: RefClass.COMMAND,
    ValueKind.PROBE: RefClass.PROBE,
    ValueKind.CONFIG: RefClass.CONFIG_MAP,
}


def _workload_refs(workload: Workload) -> Iterator[Reference]:
    for value in workload.values:
        yield from _refs(
            value,
            owner=workload.ref,
            namespace=workload.namespace,
            cls=_VALUE_CLASS[value.kind],
            container=value.container,
            field=value.site.field,
            key=value.key,
            secret=False,
            config=False,
            # A probe's host field holds one host and nothing else.
            explicit=value.kind is ValueKind.PROBE,
        )


def _refs(
    value: TextValue,
    *,
    owner: ObjectRef,
    namespace: str,
    cls: RefClass,
    container: str,
    field: str,
    key: str,
    secret: bool,
    config: bool,
    explicit: bool = False,
) -> Iterator[Reference]:
    # A shell script in args ("sh -c '...'") reads like a config file line by line.
    multiline = config or "\n" in value.text
    for found in extract(value.text, key=key, config=multiline):
        yield Reference(
            owner=owner,
            container=container,
            field=field,
            cls=cls,
            name=found.host,
            port=found.port,
            protocol="UDP" if found.scheme in _UDP_SCHEMES else "TCP",
            namespace=namespace,
            site=ValueSite(
                object=value.site.object,
                path=value.site.path,
                field=value.site.field,
                line=found.line,
            ),
            explicit=found.explicit or explicit,
            key=key,
            secret=secret,
        )


def _backend_refs(backends: Iterable[BackendRef]) -> Iterator[Reference]:
    for b in backends:
        yield Reference(
            owner=b.route,
            container="",
            field=b.site.field,
            cls=RefClass.INGRESS if b.route.kind == "Ingress" else RefClass.HTTPROUTE,
            name=f"{b.service}.{b.namespace}.svc",
            port=b.port,
            protocol="TCP",
            namespace=b.namespace,
            site=b.site,
            explicit=True,
            absolute=True,
            key=b.port_name,
        )
