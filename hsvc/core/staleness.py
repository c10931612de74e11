"""How long a stale answer stays legitimate after an object changes: the cache layers, per record.

Pure: Corefile text and :class:`DnsSettings` in, bounds out. After a change
(a pod becomes ready, is deleted, a Service is created), cluster DNS may keep
answering the old way for a while without anything being broken. The wait is
the sum of layers, each with the rule that sets it:

``watch``
    CoreDNS learns of the change through its own watch of the API (an
    informer); its kubernetes plugin answers from that copy. No setting bounds
    it; an allowance (:data:`WATCH_ALLOWANCE`) covers a healthy watch.
``cache``
    CoreDNS's ``cache`` plugin in the server block that answers the zone
    (``plugin/cache/setup.go`` ``cacheParse``, ``cache.go`` ``computeTTL``): an
    answer is kept for its TTL, raised to the minimum (``success``/``denial``
    MINTTL, default 5 s) and capped at the maximum (``cache TTL``, or the
    ``success``/``denial`` TTL; default 3600 s, 1800 s for denials). A
    positive answer's TTL is the kubernetes plugin's ``ttl``; a negative
    answer's is its SOA's, ``min(ttl, 300)`` (``plugin/backend_lookup.go``
    ``SOA``). ``disable success|denial ZONES`` (kubeadm ≥ 1.32 writes both for
    the cluster zone) turns that half off for names in those zones.
    ``serve_stale`` in ``immediate`` mode may answer once more from an
    expired entry while it refreshes, so the next query after expiry can
    still be stale: one re-ask interval more. In ``verify`` mode a stale entry
    is served only when the refresh fails, which a local kubernetes plugin does
    not. ``prefetch`` refreshes popular entries early: it shortens, never
    lengthens.
``node-local``
    NodeLocal DNSCache on the node, when its Corefile is known and the answers
    come through it (a pod's own resolver): the same cache plugin, usually
    ``success 9984 30`` and ``denial 9984 5`` for the cluster zone, caching
    what CoreDNS handed it with at most the record's TTL.

A client's own cache (a JVM's ``networkaddress.cache.ttl``, nscd) comes after
all of these; hsvc asks servers directly and does not see it.
"""

from __future__ import annotations

import re
from enum import StrEnum

from hsvc.core.caddyfile import CorefileError, Directive, Parser, ServerBlock, tokenize
from hsvc.core.corefile import _normalize_zone, _split_host_port, _zones_of
from hsvc.core.dataclass import dataclass
from hsvc.core.vocabulary import (
    WATCH_ALLOWANCE as WATCH_ALLOWANCE,  # re-exported; its home is hsvc.core.vocabulary
)

__all__ = [
    "WATCH_ALLOWANCE",
    "Bound",
    "CacheConfig",
    "Layer",
    "Staleness",
    "StalenessModel",
    "parse_caches",
]

# Defaults of the cache plugin (plugin/cache/cache.go: maxTTL, maxNTTL, minTTL, minNTTL).
CACHE_SUCCESS_MAX = 3600
CACHE_DENIAL_MAX = 1800
CACHE_MIN = 5
SERVE_STALE_DEFAULT = 3600.0  # serve_stale without a duration: 1 h
SOA_TTL_CAP = 300  # plugin/backend_lookup.go SOA: the SOA record's TTL is min(ttl, 300)

_GO_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")
_UNIT = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


class Layer(StrEnum):
    """Where a stale answer can come from."""

    WATCH = "watch"
    CACHE = "cache"
    NODE_LOCAL = "node-local"


@dataclass(frozen=True, slots=True, kw_only=True)
class CacheConfig:
    """One ``cache`` directive as the cache plugin reads it (``plugin/cache/setup.go``)."""

    zones: tuple[str, ...]  # the names it caches (its ZONES, else the server block's)
    block_zones: tuple[str, ...]  # the server block it sits in (which queries reach it)
    success_max: int = CACHE_SUCCESS_MAX
    success_min: int = CACHE_MIN
    denial_max: int = CACHE_DENIAL_MAX
    denial_min: int = CACHE_MIN
    success_disabled: tuple[str, ...] = ()  # disable success ZONES
    denial_disabled: tuple[str, ...] = ()  # disable denial ZONES
    serve_stale: float = 0.0  # seconds an expired entry may still be served; 0: off
    serve_stale_verify: bool = False
    prefetch: int = 0  # AMOUNT; 0: off
    text: str = "cache"  # the directive as written (first line), for the explanation
    line: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class Bound:
    """One layer's part of the wait: how long, and the rule (setting) that sets it."""

    layer: Layer
    seconds: float
    rule: str  # the setting, e.g. "cache 30 (Corefile line 19): denial TTL 5 s"
    words: str  # the sentence part: "up to 5 s by CoreDNS's denial cache"


@dataclass(frozen=True, slots=True, kw_only=True)
class Staleness:
    """The longest legitimate staleness of one answer kind for one name, layer by layer."""

    name: str
    negative: bool  # the stale answer is a denial (NXDOMAIN/NODATA), else an old positive
    bounds: tuple[Bound, ...]

    @property
    def seconds(self) -> float:
        """The whole bound: every layer's part, added (each may start as the last ends)."""
        return sum(b.seconds for b in self.bounds)

    @property
    def words(self) -> str:
        """The bound in one sentence."""
        kind = "a negative answer" if self.negative else "an old positive answer"
        parts = [b.words for b in self.bounds if b.seconds > 0]
        if not parts:
            return f"{kind} for {self.name} should not outlive the change"
        return f"{kind} for {self.name} may be served " + ", then ".join(parts)


def _go_duration(text: str, *, source: str, line: int) -> float:
    """Read a Go ``time.ParseDuration`` string (``1h``, ``90s``, ``1m30s``)."""
    pos, total = 0, 0.0
    for match in _GO_DURATION.finditer(text):
        if match.start() != pos:
            break
        total += float(match[1]) * _UNIT[match[2]]
        pos = match.end()
    if pos != len(text) or not text:
        raise CorefileError(f"invalid duration {text!r}", source=source, line=line)
    return total


def _int(text: str, what: str, *, source: str, line: int) -> int:
    try:
        return int(text)
    except ValueError:
        raise CorefileError(
            f"{what} is not an integer: {text!r}", source=source, line=line
        ) from None


# long: one branch per cache option, in the order of CoreDNS cache/setup.go cacheParse
def _cache_of(block: ServerBlock, directive: Directive, source: str) -> CacheConfig:
    """Read one ``cache`` directive as ``cacheParse`` does."""
    line = directive.name.line
    args = [a.text for a in directive.args]
    success_max, denial_max = CACHE_SUCCESS_MAX, CACHE_DENIAL_MAX
    if args and re.fullmatch(r"[+-]?\d+", args[0]):
        ttl = int(args[0])
        if ttl <= 0:
            raise CorefileError(
                f"cache TTL can not be zero or negative: {ttl}", source=source, line=line
            )
        success_max = denial_max = ttl
        args = args[1:]
    block_zones = _zones_of(block.keys)
    zones = tuple(z for a in args for z in _normalize_zone(a)) or block_zones
    fields: dict[str, object] = {}
    success_min = denial_min = CACHE_MIN
    for option in directive.body:
        name, opt_line = option.name.text, option.name.line
        values = [a.text for a in option.args]
        if name in ("success", "denial"):
            if not values:
                raise CorefileError(f"{name} needs a capacity", source=source, line=opt_line)
            _int(values[0], f"{name} capacity", source=source, line=opt_line)
            if len(values) > 1:
                ttl = _int(values[1], f"{name} TTL", source=source, line=opt_line)
                if ttl <= 0:
                    raise CorefileError(
                        f"cache TTL can not be zero or negative: {ttl}",
                        source=source,
                        line=opt_line,
                    )
                if name == "success":
                    success_max = ttl
                else:
                    denial_max = ttl
            if len(values) > 2:
                minimum = _int(values[2], f"{name} min TTL", source=source, line=opt_line)
                if minimum < 0:
                    raise CorefileError(
                        f"cache min TTL can not be negative: {minimum}",
                        source=source,
                        line=opt_line,
                    )
                if name == "success":
                    success_min = minimum
                else:
                    denial_min = minimum
        elif name == "disable":
            if not values or values[0] not in ("success", "denial"):
                raise CorefileError(
                    'cache type for disable must be "success" or "denial"',
                    source=source,
                    line=opt_line,
                )
            disabled = tuple(z for v in values[1:] for z in _normalize_zone(v)) or (".",)
            fields["success_disabled" if values[0] == "success" else "denial_disabled"] = disabled
        elif name == "serve_stale":
            fields["serve_stale"] = (
                _go_duration(values[0], source=source, line=opt_line)
                if values
                else SERVE_STALE_DEFAULT
            )
            fields["serve_stale_verify"] = len(values) > 1 and values[1].lower() == "verify"
        elif name == "prefetch":
            if not values:
                raise CorefileError("prefetch needs an amount", source=source, line=opt_line)
            fields["prefetch"] = _int(values[0], "prefetch amount", source=source, line=opt_line)
        # keepttl, servfail, serve_stale_policy: no bearing on how long a stale answer lasts.
    written = " ".join([directive.name.text, *(a.text for a in directive.args)])
    return CacheConfig(
        zones=zones,
        block_zones=block_zones,
        success_max=success_max,
        success_min=success_min,
        denial_max=denial_max,
        denial_min=denial_min,
        text=written,
        line=line,
        **fields,  # type: ignore[arg-type]  # keys and value types are the fields' own
    )


def parse_caches(text: str, *, source: str) -> tuple[CacheConfig, ...]:
    """Return the ``cache`` directive of every port-53 server block of a Corefile.

    Raises:
        CorefileError: The Corefile is malformed, or a cache option has a value
            CoreDNS would refuse to start with.
    """
    blocks = Parser(tokenize(text, source), source).server_blocks()
    out = []
    for block in blocks:
        if block.keys and (_split_host_port(block.keys[0].text)[1] or "53") != "53":
            continue
        caches = [d for d in block.directives if d.name.text == "cache"]
        if caches:
            out.append(_cache_of(block, caches[0], source))
    return tuple(out)


def _within(name: str, zones: tuple[str, ...]) -> bool:
    return any(zone == "." or name == zone or name.endswith("." + zone) for zone in zones)


def _block_for(caches: tuple[CacheConfig, ...], name: str) -> CacheConfig | None:
    """The cache of the server block CoreDNS routes ``name`` to (the longest matching zone)."""
    best: tuple[int, CacheConfig] | None = None
    for cache in caches:
        for zone in cache.block_zones:
            if _within(name, (zone,)) and (best is None or len(zone) > best[0]):
                best = (len(zone), cache)
    if best is None or not _within(name, best[1].zones):
        return None
    return best[1]


def _duration(ttl: int, minimum: int, maximum: int) -> int:
    """How long the cache keeps an answer of TTL ``ttl`` (``cache.go`` ``computeTTL``)."""
    return min(max(ttl, minimum), maximum)


@dataclass(frozen=True, slots=True, kw_only=True)
class StalenessModel:
    """The cache layers of one cluster: CoreDNS's Corefile, NodeLocal DNSCache's when known."""

    ttl: int  # the kubernetes plugin's ttl
    caches: tuple[CacheConfig, ...]  # CoreDNS's Corefile
    node_local: tuple[CacheConfig, ...] | None = None  # None: not known / not used
    watch_allowance: float = WATCH_ALLOWANCE
    requery: float = 1.0  # seconds between re-asks (serve_stale immediate adds one)
    where: str = "Corefile"

    def staleness(self, name: str, *, negative: bool, through_node_local: bool) -> Staleness:
        """Return the bound for a stale ``negative`` (else positive) answer for ``name``.

        ``through_node_local``: the answers come through NodeLocal DNSCache (a
        pod's own resolver), not from a CoreDNS replica directly.
        """
        bounds = [
            Bound(
                layer=Layer.WATCH,
                seconds=self.watch_allowance,
                rule="CoreDNS's API watch (no setting; an allowance for a healthy watch)",
                words=f"up to {self.watch_allowance:g} s while CoreDNS's watch catches up",
            )
        ]
        bounds.append(self._cache_bound(name, self.caches, negative, Layer.CACHE, self.where))
        if through_node_local and self.node_local is not None:
            bounds.append(
                self._cache_bound(
                    name, self.node_local, negative, Layer.NODE_LOCAL, "node-local Corefile"
                )
            )
        return Staleness(name=name, negative=negative, bounds=tuple(bounds))

    def _cache_bound(
        self,
        name: str,
        caches: tuple[CacheConfig, ...],
        negative: bool,
        layer: Layer,
        where: str,
    ) -> Bound:
        who = "CoreDNS's" if layer is Layer.CACHE else "node-local's"
        half = "denial" if negative else "success"
        cache = _block_for(caches, name)
        if cache is None:
            return Bound(layer=layer, seconds=0, rule=f"no cache for this name ({where})", words="")
        at = f"{cache.text} ({where} line {cache.line})"
        disabled = cache.denial_disabled if negative else cache.success_disabled
        if _within(name, disabled):
            return Bound(
                layer=layer,
                seconds=0,
                rule=f"{at}: disable {half} {' '.join(disabled)}",
                words="",
            )
        # What the answer's TTL is when it reaches this cache: the kubernetes
        # plugin's ttl, and for a denial its SOA's, min(ttl, 300).
        ttl = min(self.ttl, SOA_TTL_CAP) if negative else self.ttl
        minimum = cache.denial_min if negative else cache.success_min
        maximum = cache.denial_max if negative else cache.success_max
        seconds: float = _duration(ttl, minimum, maximum)
        why = f"TTL {ttl} s"
        if ttl < minimum:
            why += f", raised to the {minimum} s minimum"
        elif ttl > maximum:
            why += f", capped at {maximum} s"
        rule = f"{at}: {half} {why}"
        words = f"up to {seconds:g} s by {who} {half} cache"
        if cache.serve_stale and not cache.serve_stale_verify:
            seconds += self.requery
            rule += f"; serve_stale {cache.serve_stale:g}s immediate: one more answer after expiry"
            words += " (plus one re-ask: serve_stale answers once from the expired entry)"
        if cache.prefetch and not negative:
            rule += "; prefetch refreshes early (shortens, never lengthens)"
        return Bound(layer=layer, seconds=seconds, rule=rule, words=words)


def model_from_corefiles(
    corefile: str | None,
    *,
    ttl: int,
    source: str,
    node_local: str | None = None,
    watch_allowance: float = WATCH_ALLOWANCE,
    requery: float = 1.0,
) -> StalenessModel:
    """Build the model from CoreDNS's Corefile text (and NodeLocal DNSCache's, when known).

    Raises:
        CorefileError: A Corefile or one of its cache options cannot be read.
    """
    caches = parse_caches(corefile, source=source) if corefile else ()
    nodes = parse_caches(node_local, source="node-local Corefile") if node_local else None
    return StalenessModel(
        ttl=ttl,
        caches=caches,
        node_local=nodes,
        watch_allowance=watch_allowance,
        requery=requery,
        where=source,
    )
