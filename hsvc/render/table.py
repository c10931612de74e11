"""Rich tables for people. Every string from the cluster or DNS passes :func:`safe`.

Cluster and DNS strings are never parsed as markup: they become ``rich.text.Text``
with control characters shown as visible escapes, so ``[red]`` and ANSI or OSC
sequences stay inert.
"""

from __future__ import annotations

import ipaddress
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from rich import box  # noqa: TID251
from rich.console import Console, Group  # noqa: TID251
from rich.table import Table  # noqa: TID251
from rich.text import Text  # noqa: TID251

from hsvc.core.compare import Row, Verdict
from hsvc.core.model import (
    DnsAnswer,
    DnsSettings,
    Finding,
    LabelSelector,
    ObjectRef,
    Observation,
    Rcode,
    Record,
    Severity,
    rcode_word,
)
from hsvc.core.records import GROUP_ORDER
from hsvc.core.refcheck import Checked, describe_use
from hsvc.core.report import (
    InspectReport,
    LintReport,
    RecordsReport,
    ResolveReport,
    SearchView,
    ServiceSummary,
    Source,
)
from hsvc.core.searchpath import Walk
from hsvc.core.summary import Explanation, explanations

# Characters that would act instead of showing, or show as nothing: C0, DEL and C1
# controls; and invisible format characters that let one name pass for another or
# reorder text -- soft hyphen, Arabic letter mark, Mongolian vowel separator,
# zero-width space/joiners and direction marks (U+200B-U+200F), line and paragraph
# separators, bidirectional embeddings, overrides and isolates (U+202A-U+202E,
# U+2066-U+2069), word joiner and invisible operators (U+2060-U+206F), the byte
# order mark / zero-width no-break space (U+FEFF), interlinear annotations and tags.
_CONTROL = re.compile(
    "[\x00-\x1f\x7f-\x9f\xad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f"
    "\ufeff\ufff9-\ufffb\U000e0000-\U000e007f]"
)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


MAX_CELL = 300
# A group of more rows than this lists its problems and only a few ok rows (not -o wide).
COLLAPSE_AT = 40
COLLAPSED_OK_ROWS = 5

GROUP_TITLES = {
    "service": "Service name",
    "endpoint": "Per-pod / endpoint names",
    "srv": "SRV",
    "ptr": "PTR",
    "pod": "Pod records",
    "cluster": "Cluster",
}

MARK = {
    Verdict.OK: ("✓", "green"),
    Verdict.MISSING: ("✗", "red"),
    Verdict.UNEXPECTED: ("✗", "red"),
    Verdict.WRONG: ("✗", "red"),
    Verdict.TOO_LARGE: ("!", "yellow"),
    Verdict.ERROR: ("?", "yellow"),
    Verdict.UNCERTAIN: ("~", "cyan"),
}


def safe(value: object, style: str = "", *, limit: int = MAX_CELL) -> Text:
    """Return ``value`` as inert text: control characters escaped, strings over ``limit`` cut."""
    text = str(value)
    text = _CONTROL.sub(_escape, text)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return Text(text, style=style)


class Names:
    """Shortens names for narrow terminals: the cluster zone is implied, PTR names show the IP."""

    def __init__(self, zone: str, wide: bool, *, compact_srv: bool = True) -> None:
        self.suffix = "." + zone
        self.wide = wide
        self.compact_srv = compact_srv

    def __call__(self, name: str) -> str:
        """Return ``name`` without the zone, a reverse name as its address (unless wide)."""
        if self.wide:
            return name
        if name.endswith(".arpa."):
            address = _address_from_reverse(name)
            return address or name
        if not name.endswith(self.suffix):
            return name
        return name[: -len(self.suffix)]

    def data(self, rec: Record) -> str:
        """Return a record's data with any target name shortened (SRV as ``target:port``).

        SRV targets under the queried Service show only the endpoint label.
        """
        if self.wide:
            return rec.data
        parts = rec.data.split(" ")
        if rec.type == "SRV" and len(parts) == 4 and not self.compact_srv:
            return " ".join([*parts[:3], self(parts[3])])
        if rec.type == "SRV" and len(parts) == 4:
            target = parts[3]
            labels = rec.name.split(".")
            while labels and labels[0].startswith("_"):
                labels.pop(0)
            base = ".".join(labels)
            if target.endswith("." + base):
                return f"{target[: -len(base) - 1]}:{parts[2]}"
            return f"{self(target)}:{parts[2]}"
        if rec.type in ("PTR", "CNAME", "NS"):
            return self(rec.data)
        return rec.data


def _address_from_reverse(name: str) -> str | None:
    from hsvc.core.names import address_from_reverse

    return address_from_reverse(name)


def _answer_text(
    answer: Sequence[Record], rcode: Rcode, short: Names, *, qtype: str | None = None
) -> Text:
    if rcode is not Rcode.NOERROR:
        return safe(rcode.value, "bold")
    shown = sorted(
        (r for r in answer if qtype is None or r.type in (qtype, "CNAME")),
        key=lambda r: (r.type != "CNAME", _sort_key(short.data(r))),
    )
    if not shown:
        return safe("NODATA", "bold")
    text = Text()
    for i, rec in enumerate(shown[:20]):
        if i:
            text.append("\n")
        prefix = "CNAME " if rec.type == "CNAME" and qtype != "CNAME" else ""
        text.append_text(safe(prefix + short.data(rec)))
    if len(shown) > 20:
        text.append(f"\n… {len(shown) - 20} more")
    return text


def _sort_key(text: str) -> tuple[int, int, str]:
    """Addresses in numeric order, everything else after them alphabetically."""
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return (1, 0, text)
    return (0, int(ip), text)


def _expected_text(answer: DnsAnswer, short: Names) -> Text:
    text = _answer_text(answer.answer, answer.rcode, short, qtype=answer.type)
    if answer.open_ended:
        text.append(" (+upstream)", style="dim")
    return text


def _observed_text(obs: Observation, short: Names) -> Text:
    if obs.too_large:
        return safe("TOO LARGE", "yellow")
    if obs.rcode in (Rcode.TIMEOUT, Rcode.ERROR):
        return safe(obs.rcode.value, "yellow")
    return _answer_text(obs.answer, obs.rcode, short, qtype=obs.type)


def settings_line(src: Source, servers: Sequence[str] = (), *, compact: bool = False) -> Text:
    """DNS settings used and where they came from, the servers asked, the objects read.

    ``compact``: the servers and the objects share one line.
    """
    s = src.settings
    text = Text("DNS: ", style="bold")
    options = "".join(f" {o}" for o in settings_options(s))
    text.append_text(
        safe(
            f"zone {s.primary_zone} ttl {s.ttl} pods {s.pods.value}{options} rules of "
            f"{server_name(s)} — {s.source}"
        )
    )
    if servers:
        text.append("\nasked: ", style="bold")
        text.append_text(safe(", ".join(servers)))
    text.append("  objects: " if compact and servers else "\nobjects: ", style="bold")
    text.append_text(safe(src.origin))
    return text


def _selector_text(selector: LabelSelector) -> str:
    parts = [f"{k}={v}" for k, v in selector.match_labels]
    for req in selector.match_expressions:
        values = ",".join(req.values)
        parts.append(f"{req.key} {req.operator}" + (f" ({values})" if values else ""))
    return ",".join(parts)


def settings_options(s: DnsSettings) -> list[str]:
    """The kubernetes plugin's options that differ from kubeadm's Corefile, as written there.

    The zone, ttl and pods mode are always shown; these only when set (dns-records.md
    section 1).
    """
    default = DnsSettings()
    options: list[str] = []
    others = [z for z in s.forward_zones if z != s.primary_zone]
    if others:
        options.append("zones +" + " ".join(others))
    if s.endpoint_pod_names:
        options.append("endpoint_pod_names")
    if s.namespaces:
        options.append("namespaces " + " ".join(s.namespaces))
    if s.namespace_labels is not None:
        options.append("namespace_labels " + _selector_text(s.namespace_labels))
    if s.labels is not None:
        options.append("labels " + _selector_text(s.labels))
    if s.ignore_empty_service:
        options.append("ignore empty_service")
    if s.noendpoints:
        options.append("noendpoints")
    if s.zonal:
        options.append("zonal")
    if s.fallthrough != default.fallthrough:
        options.append(
            "fallthrough " + " ".join(s.fallthrough) if s.fallthrough else "no fallthrough"
        )
    return options


def server_name(s: DnsSettings) -> str:
    """``CoreDNS 1.12.0 (image tag)``, ``kube-dns``, ``CoreDNS 1.14.7 (assumed)``."""
    name = {"coredns": "CoreDNS", "kube-dns": "kube-dns", "cloud-dns": "Cloud DNS"}.get(
        s.dns_flavour, s.dns_flavour
    )
    if s.dns_flavour != "coredns":
        return name + (f" ({s.dns_version_source})" if s.dns_version_source else "")
    if not s.dns_version:
        return f"{name} 1.14.7 (version assumed)"
    where = f" ({s.dns_version_source})" if s.dns_version_source else ""
    return f"{name} {s.dns_version}{where}"


def print_notes(console: Console, src: Source | str) -> None:
    """Print the source's notes (assumptions, unreadable kinds), or one note, to ``console``."""
    for note in (src,) if isinstance(src, str) else src.notes:
        console.print(safe("note: " + note, "yellow"))


def records_table(
    console: Console, report: RecordsReport, *, wide: bool, headers: bool = True
) -> None:
    """Print ``hsvc records`` as tables."""
    short = Names(report.source.settings.primary_zone, wide, compact_srv=False)
    table = Table(box=box.SIMPLE, show_header=headers, pad_edge=False, expand=False)
    table.add_column("NAME", overflow="fold", ratio=2)
    table.add_column("TYPE", no_wrap=True)
    table.add_column("TTL", justify="right", no_wrap=True)
    table.add_column("DATA", overflow="fold", ratio=2)
    if wide:
        table.add_column("FROM", overflow="fold", ratio=2)
    order = {g.value: i for i, g in enumerate(GROUP_ORDER)}
    records = sorted(report.records, key=lambda e: order.get(e.group, 99))
    group = None
    for e in records:
        if e.group != group and headers:
            group = e.group
            title = Text(GROUP_TITLES.get(group, group), style="bold cyan")
            table.add_row(title, *([""] * (len(table.columns) - 1)))
        cells: list[Text | str] = [
            safe(short(e.record.name)),
            e.record.type,
            str(e.record.ttl),
            safe(short.data(e.record)),
        ]
        if wide:
            cells.append(safe("; ".join(f"{p.source} ({p.rule})" for p in e.provenance)))
        table.add_row(*cells)
    console.print(table)
    if report.predicted:
        pred = Table(
            title="Names that will answer once created (predicted)" if headers else None,
            box=box.SIMPLE,
            show_header=headers,
            title_justify="left",
        )
        pred.add_column("NAME", overflow="fold")
        pred.add_column("TYPE")
        pred.add_column("PREDICTED", overflow="fold")
        for n in report.predicted:
            pred.add_row(safe(short(n.name)), n.type, safe(n.reason))
        console.print(pred)
    if report.absent:
        neg = Table(
            title="Names that must not resolve" if headers else None,
            box=box.SIMPLE,
            show_header=headers,
            title_justify="left",
        )
        neg.add_column("NAME", overflow="fold")
        neg.add_column("TYPE")
        neg.add_column("WHY", overflow="fold")
        for n in report.absent:
            neg.add_row(safe(short(n.name)), n.type, safe(f"{n.reason} ({', '.join(n.rules)})"))
        console.print(neg)
    if headers:
        console.print(settings_line(report.source), style="dim")


def path_line(src: Source) -> Text | None:
    """``path: pod → node-local 169.254.20.10 (cache 30/5) → CoreDNS ×2 1.12.0 :53``."""
    if src.path is None:
        return None
    text = Text("path: ", style="bold")
    text.append_text(safe(src.path.text))
    return text


def resolve_blocks(console: Console, report: ResolveReport, *, wide: bool) -> None:
    """Print ``hsvc resolve`` as one block per name, under the resolver path (once)."""
    line = path_line(report.source)
    if line is not None:
        console.print(line, style="dim")
    short = Names(report.source.settings.primary_zone, True)
    for res in report.results:
        chosen = res.candidates[res.chosen]
        exp = chosen.expected
        head = Text()
        head.append_text(safe(res.query, "bold"))
        head.append(f" {res.type}  → ")
        head.append_text(safe(chosen.name))
        if res.row is not None:
            mark, colour = MARK[res.row.status]
            head.append(f"  {mark} {res.row.status.value}", style=colour)
        console.print(head)
        lines = Table.grid(padding=(0, 1))
        lines.add_column(style="dim", no_wrap=True)
        lines.add_column(overflow="fold")
        lines.add_row(
            "expected", Group(_expected_text(exp, short), safe(", ".join(exp.rules), "dim"))
        )
        if res.row is not None:
            for check in res.row.checks:
                cell = _observed_text(check.observation, short)
                if check.note:
                    cell.append("  ")
                    cell.append_text(safe(check.note, "yellow"))
                lines.add_row(safe(check.observation.server), cell)
        lines.add_row("because", safe(exp.explanation))
        if exp.provenance:
            origins = "; ".join(dict.fromkeys(f"{p.source} ({p.rule})" for p in exp.provenance))
            lines.add_row("from", safe(origins))
        broken = next((link for link in res.chain if not link.ok), None)
        if broken is not None:
            lines.add_row("broken", safe(f"{broken.check}: {broken.detail}"))
            if broken.fix:
                lines.add_row("fix", safe(broken.fix))
        if len(res.candidates) > 1 or wide:
            tried = ", ".join(f"{c.name} ({rcode_word(c.expected)})" for c in res.candidates)
            lines.add_row("tried", safe(tried))
        if res.search is not None:
            for key, text in search_rows(res.search):
                lines.add_row(key, safe(text))
        console.print(lines)
        console.print()
    for note in report.notes:
        console.print(safe("note: " + note, "yellow"))


def _walk_text(walk: Walk) -> str:
    steps = " → ".join(f"{step.name} {step.outcome.value.upper()}" for step in walk.steps)
    end = "answers" if walk.answered else "fails"
    return f"{steps} ({end}; {walk.queries} queries)"


def search_rows(view: SearchView) -> list[tuple[str, str]]:
    """Label/text rows for how getaddrinfo walks the search list (A and AAAA per candidate)."""
    conf = view.resolv_conf
    where = "ClusterFirst, assumed" if view.assumed else "the pod's"
    rows = [
        (
            "search",
            f"{' '.join(d.rstrip('.') for d in conf.search) or '(none)'}; ndots {conf.ndots} "
            f"({where})",
        )
    ]
    for seen, walks in (("expected", view.expected), ("actual", view.actual)):
        if not walks:
            continue
        same = len({_walk_text(w) for w in walks}) == 1
        shown = walks[:1] if same else walks
        for w in shown:
            libc = "glibc/musl" if same and len(walks) > 1 else w.libc.value
            rows.append((f"{libc} {seen}", _walk_text(w)))
    gai = view.getaddrinfo
    if gai is not None:
        got = (
            f"{gai.canonical.rstrip('.')} {' '.join(gai.addresses)}"
            if gai.ok
            else f"fails: {gai.error}"
        )
        rows.append(("getaddrinfo", f"{got} ({gai.tool}{', ' + view.libc if view.libc else ''})"))
    return rows


def _service_header(s: ServiceSummary) -> Text:
    svc = s.service
    kind = "headless" if svc.is_headless else svc.type
    text = Text()
    text.append("Service ", style="bold")
    text.append_text(safe(f"{svc.namespace}/{svc.name}", "bold"))
    text.append(f"  {kind}")
    if not svc.is_headless and svc.cluster_ips:
        text.append_text(safe(" " + ",".join(svc.cluster_ips)))
    if svc.is_external_name:
        text.append_text(safe(" → " + svc.external_name))
    selector = ",".join(f"{k}={v}" for k, v in svc.selector) or "(none)"
    ports = (
        ", ".join(f"{p.name or '(unnamed)'} {p.port}/{p.protocol}" for p in svc.ports) or "(none)"
    )
    text.append("\n  selector ")
    text.append_text(safe(selector))
    text.append("  ports ")
    text.append_text(safe(ports))
    if s.stateful_sets:
        text.append("\n  StatefulSets ")
        text.append_text(safe(", ".join(f"{st.name} ×{st.replicas}" for st in s.stateful_sets)))
    text.append(
        f"\n  endpoints {s.ready} ready, {s.not_ready} not ready; {s.serving} serving, "
        f"{s.terminating} terminating"
    )
    if s.predicted:
        text.append("  (predicted: the input holds no EndpointSlices)")
    if s.predicted_pods:
        shown = ", ".join(s.predicted_pods[:5])
        more = f" and {len(s.predicted_pods) - 5} more" if len(s.predicted_pods) > 5 else ""
        text.append("\n  predicted pods ")
        text.append_text(safe(shown + more))
        text.append(": their names will answer, addresses assigned when the pods start")
    if svc.publish_not_ready_addresses:
        text.append(
            "\n  publishNotReadyAddresses: not-ready and terminating pods stay in DNS (the "
            "controller writes them ready=true); serving and terminating say their real state"
        )
    odd = [e for e in s.endpoints if not e.published or not e.is_serving or e.is_terminating]
    for e in odd[:_ENDPOINT_LINES]:
        text.append("\n    ")
        text.append_text(safe(e.pod or e.name))
        text.append_text(safe(" " + ",".join(e.addresses), "dim"))
        text.append(
            f"  ready={_condition(e.ready)} serving={_condition(e.serving)} "
            f"terminating={_condition(e.terminating)}"
        )
        text.append("  in DNS" if e.published else "  not in DNS", style="dim")
    if len(odd) > _ENDPOINT_LINES:
        text.append(
            f"\n    … {len(odd) - _ENDPOINT_LINES} more endpoint(s) not ready, not "
            "serving or terminating (-o json lists them all)",
            style="dim",
        )
    return text


# The header lists at most this many endpoints that are not ready, not serving or terminating.
_ENDPOINT_LINES = 10


def _condition(value: bool | None) -> str:
    """An EndpointSlice condition as written; an absent one says so."""
    return "absent" if value is None else str(value).lower()


def _used_by(s: ServiceSummary, checked: Sequence[Checked]) -> Text:
    """The references into one Service: who breaks with it ("used by: deploy/api env X")."""
    key = (s.service.namespace, s.service.name)
    mine = [c for c in checked if c.service == key]
    text = Text("  used by", style="bold")
    if not mine:
        text.append(" (no reference found in the objects read)", style="dim")
        return text
    for c in mine:
        text.append("\n    ")
        text.append("✓ " if c.ok else "✗ ", style="green" if c.ok else "red")
        text.append_text(safe(describe_use(c.reference)))
        text.append("  ")
        text.append_text(safe(c.reference.name, "dim"))
        if not c.ok:
            text.append_text(safe(f"  {c.answer.rcode.value}", "red"))
    return text


def _hidden_line(table: Table, group: str | None, hidden: dict[str, int]) -> None:
    """Close a collapsed group with the count of ``ok`` rows not listed."""
    count = hidden.get(group or "", 0)
    if count:
        cells = [Text(f"… {count} more ok", style="green")]
        table.add_row(Text("✓", style="green"), *cells, *([""] * (len(table.columns) - 2)))


# --- layout: names that never wrap inside a label, headers that never wrap -----------------


# Wider than any terminal: the console width when nothing is to wrap (hsvc.terminal sets it
# for a pipe or a file).
UNBOUNDED = 100_000
_PIECE = re.compile(r"[^./]*[./]|[^./]+")
# Data columns give way to whole names down to this width (an IPv4 address) or their
# longest word, whichever is less; below it names wrap at dots first.
DATA_FLOOR = 15
# Answer cells list at most this many records in the summary views (the notes say the rest).
SHORT_CELL = 3


def unbounded(console: Console) -> bool:
    """Whether the console lays out without wrapping (stdout is not a terminal)."""
    return console.width >= UNBOUNDED


def name_pieces(name: str) -> list[str]:
    """Split a name after each dot (and the slash of namespace/name): where it may wrap."""
    return _PIECE.findall(name) or [name]


def fit_name(name: str, width: int) -> str:
    """Break ``name`` into lines of at most ``width`` characters, only after dots."""
    if len(name) <= width:
        return name
    lines: list[str] = []
    line = ""
    for piece in name_pieces(name):
        if line and len(line) + len(piece) > width:
            lines.append(line)
            line = ""
        line += piece
    lines.append(line)
    return "\n".join(lines)


def name_width(names: Sequence[str], budget: int, *, header: str = "NAME") -> int:
    """Width of a name column: every name whole if ``budget`` allows, else wrapped at dots.

    A single label is never cut unless it alone is wider than ``budget``.
    """
    longest = max((len(n) for n in names), default=len(header))
    piece = max((len(p) for n in names for p in name_pieces(n)), default=len(header))
    return max(len(header), min(longest, max(budget, piece)))


def _lines_width(cells: Sequence[Text | str]) -> int:
    return max(
        (len(line) for c in cells for line in (c.plain if isinstance(c, Text) else c).split("\n")),
        default=0,
    )


def _fit_lines(cell: Text | str, width: int) -> Text | str:
    """Wrap the long name-like lines of a data cell at dots (addresses and names alike)."""
    text = _plain(cell)
    if all(len(line) <= width or " " in line for line in text.split("\n")):
        return cell
    fitted = "\n".join(
        line if len(line) <= width or " " in line else fit_name(line, width)
        for line in text.split("\n")
    )
    return Text(fitted, style=cell.style if isinstance(cell, Text) else "")


def _plain(cell: Text | str) -> str:
    return cell.plain if isinstance(cell, Text) else cell


def _header(text: str) -> Text:
    return Text(text, no_wrap=True, overflow="ellipsis")


class _Grid:
    """Rows of cells collected first, so column widths can be chosen before rich lays out."""

    def __init__(
        self,
        headers: Sequence[str],
        *,
        name_col: int,
        data_cols: Sequence[int],
        cut_cols: Sequence[int] = (),
    ) -> None:
        self.headers = list(headers)
        self.name_col = name_col
        self.data_cols = set(data_cols) | set(cut_cols)
        self.cut_cols = set(cut_cols)  # one line per cell on a terminal, cut with "…"
        self.rows: list[list[Text | str]] = []
        self.titles: set[int] = set()  # indices of group title rows

    def add(self, cells: Sequence[Text | str]) -> None:
        self.rows.append(list(cells))

    def title(self, text: Text) -> None:
        self.titles.add(len(self.rows))
        cells: list[Text | str] = [""] * len(self.headers)
        cells[self.name_col] = text
        self.rows.append(cells)

    def table(self, console: Console, *, headers: bool, one_line: bool = False) -> Table:
        """Lay the grid out for ``console``: names fitted first, data columns share the rest.

        ``one_line`` (``-o wide``, ``--no-headers``): nothing wraps, each row is one line.
        """
        free = one_line or unbounded(console)
        body = [r for i, r in enumerate(self.rows) if i not in self.titles]
        ncols = len(self.headers)
        natural = [
            max(_lines_width([r[c] for r in body]), len(self.headers[c]) if headers else 0)
            for c in range(ncols)
        ]
        fixed = sum(
            natural[c] for c in range(ncols) if c != self.name_col and c not in self.data_cols
        )
        # A data cell wraps at spaces: its longest word is what it cannot do without.
        words = [
            max((len(w) for r in body for w in _plain(r[c]).split()), default=0)
            for c in range(ncols)
        ]
        floors = {
            c: max(min(words[c], DATA_FLOOR), len(self.headers[c]) if headers else 0)
            for c in self.data_cols
            if c not in self.cut_cols
        }
        cut_floor = {c: len(self.headers[c]) + 2 for c in self.cut_cols}
        budget = console.width - fixed - sum(floors.values()) - sum(cut_floor.values())
        budget -= 3 * (ncols - 1)
        names = [r[self.name_col] for r in body]
        plain = [n.plain if isinstance(n, Text) else n for n in names]
        width = name_width(plain, UNBOUNDED if free else budget)
        titles = [_plain(r[self.name_col]) for i, r in enumerate(self.rows) if i in self.titles]
        width = max(width, min(max(map(len, titles), default=0), max(budget, 0)))
        # What the names leave over: data columns share it, none below its header.
        spare = console.width - fixed - width - 3 * (ncols - 1)
        table = Table(
            box=box.SIMPLE,
            show_header=headers,
            show_edge=False,
            pad_edge=False,
            expand=not free,
        )
        cut: dict[int, int] = {}
        data = [c for c in self.data_cols if c not in self.cut_cols]
        # About what each data column gets: names in it wrap at dots to that, not mid-label.
        estimates = {c: max(floors[c], spare // max(len(data), 1)) for c in data}
        for c, head in enumerate(self.headers):
            if c == self.name_col:
                table.add_column(_header(head), width=width, overflow="fold")
            elif c in self.cut_cols:
                # What is left of the line; cells are cut to it here (rich would squeeze it).
                cut[c] = max(cut_floor[c], spare)
                table.add_column(_header(head), no_wrap=True, overflow="ellipsis")
            elif c in self.data_cols:
                share = spare // max(len(self.data_cols), 1)
                floor = max(len(head), min(floors[c], share))
                table.add_column(
                    _header(head), overflow="fold", ratio=None if free else 1, min_width=floor
                )
            else:
                table.add_column(_header(head), no_wrap=True)
        for i, row in enumerate(self.rows):
            cells = list(row)
            for c, limit in cut.items():
                cell = cells[c]
                if not free and isinstance(cell, Text) and len(cell.plain) > limit:
                    cells[c] = Text(cell.plain[: limit - 1] + "…", style=cell.style)
            if not free:
                for c, limit in estimates.items():
                    cells[c] = _fit_lines(cells[c], limit)
            if i not in self.titles:
                cell = cells[self.name_col]
                text = cell if isinstance(cell, Text) else Text(cell)
                fitted = fit_name(text.plain, width)
                cells[self.name_col] = (
                    text if fitted == text.plain else Text(fitted, style=text.style)
                )
            table.add_row(*cells)
        return table


def _one_line(text: Text, joined: bool) -> Text:
    """Join a multi-line cell with commas (``--no-headers``, ``-o wide``: one row per line)."""
    if not joined or "\n" not in text.plain:
        return text
    return Text(",".join(text.plain.split("\n")), style=text.style)


def _diff_text(row: Row, obs: Observation, short: Names, *, ok_counts: bool = True) -> Text | None:
    """A short cell for an answer of many records: what is extra (+) and missing (−).

    Records are compared as shown (an SRV as target:port: weights are in the notes).
    """
    want = {short.data(r).lower(): r for r in row.expected.answer if r.type == row.type}
    got = {short.data(r).lower(): r for r in obs.answer if r.type == row.type}
    if obs.rcode is not Rcode.NOERROR or not got or max(len(got), len(want)) <= 1:
        return None
    extra = [got[k] for k in got if k not in want]
    missing = [want[k] for k in want if k not in got]
    same = len(got) - len(extra)
    text = Text()
    parts: list[Text] = [safe("+" + short.data(r), "red") for r in extra[:SHORT_CELL]]
    parts += [safe("−" + short.data(r), "red") for r in missing[:SHORT_CELL]]
    more = len(extra) + len(missing) - len(parts)
    for i, part in enumerate(parts):
        if i:
            text.append(" ")
        text.append_text(part)
    if more > 0:
        text.append(f" +{more} more")
    if same and (ok_counts or not parts):
        text.append(f" (+{same} ok)" if parts else f"{same} ok", style="dim")
    return text


def _count_text(answer: DnsAnswer, short: Names) -> Text:
    """A large expected answer as a count (the full set is in -o wide and JSON)."""
    records = [r for r in answer.answer if r.type == answer.type]
    if len(records) <= 1:
        return _expected_text(answer, short)
    kind = {"A": "addresses", "AAAA": "addresses", "SRV": "targets"}.get(answer.type, "records")
    text = Text(f"{len(records)} {kind}")
    if answer.open_ended:
        text.append(" (+upstream)", style="dim")
    return text


@dataclass(frozen=True, slots=True, kw_only=True)
class RowsView:
    """How the rows table is drawn."""

    wide: bool = False
    headers: bool = True
    collapse: bool = True  # large groups show their ok rows as a count
    short_cells: bool = False  # large answers as counts and differences
    by_service: bool = False  # titles are Services, not record groups
    ok_counts: bool = True  # a short cell says how many records are ok
    rule: bool = True  # a line under the column headers


def rows_table(
    console: Console,
    report: InspectReport,
    indices: Sequence[int],
    view: RowsView,
    *,
    numbers: dict[int, int] | None = None,
    titles: dict[int, str] | None = None,
) -> tuple[Table, dict[str, int]]:
    """The side-by-side table of the given rows; returns it and the ok rows hidden per group.

    ``numbers`` gives each row not ok its footnote number; ``titles`` the title to
    print before a row (``by_service``).
    """
    short = Names(report.source.settings.primary_zone, view.wide)
    multi = len(report.servers) > 1
    joined = view.wide or not view.headers
    heads = ["", "NAME", "TYPE", "EXPECTED"]
    heads += [_server_header(s) for s in report.servers] if multi else ["ACTUAL"]
    if view.wide:
        heads.append("RULES")
    grid = _Grid(heads, name_col=1, data_cols=range(3, 4 + max(len(report.servers), 1)))
    group_sizes = Counter(report.rows[i].group for i in indices)
    group: str | None = None
    shown_ok: Counter[str] = Counter()
    hidden_ok: dict[str, int] = {}
    numbers = numbers or {}
    for i in indices:
        row = report.rows[i]
        if titles and i in titles and view.headers:
            grid.title(safe(titles[i], "bold cyan"))
            group = None
        if row.group != group and not view.by_service:
            if hidden_ok.get(group or ""):
                grid.add(_hidden_cells(hidden_ok[group or ""], len(heads)))
            group = row.group
            if view.headers:
                grid.title(Text(GROUP_TITLES.get(group, group), style="bold cyan"))
        if (
            row.status is Verdict.OK
            and view.collapse
            and not view.wide
            and group_sizes[row.group] > COLLAPSE_AT
        ):
            # Big groups (thousands of pods) show their problems and a few good rows.
            shown_ok[row.group] += 1
            if shown_ok[row.group] > COLLAPSED_OK_ROWS:
                hidden_ok[row.group] = hidden_ok.get(row.group, 0) + 1
                continue
        mark, colour = MARK[row.status]
        ref = str(numbers[i]) if i in numbers else ""
        expected = (
            _count_text(row.expected, short)
            if view.short_cells
            else _expected_text(row.expected, short)
        )
        server_cells: dict[str, Text] = {}
        limits = {c.ttl_over[1] for c in row.checks if c.ttl_over is not None}
        if limits:
            # Failing on TTL alone (rule 43): the records agree, so show the TTLs.
            expected = expected.copy()
            expected.append(f"\nTTL ≤{min(limits)}", style="bold")
        for c in row.checks:
            cell = (
                _diff_text(row, c.observation, short, ok_counts=view.ok_counts)
                if view.short_cells
                else None
            )
            shown = cell or _observed_text(c.observation, short)
            if limits:
                ttls = {r.ttl for r in c.observation.answer if r.type == row.type}
                shown = shown.copy()
                ttl = max(ttls, default=0)
                shown.append(f"\nTTL {ttl}", style="bold red" if c.ttl_over else "bold")
            server_cells[c.observation.server] = _one_line(shown, joined)
        cells: list[Text | str] = [
            Text(f"{mark}{ref}", style=colour),
            safe(short(row.name)),
            row.type,
            _one_line(expected, joined),
        ]
        for server in report.servers:
            cells.append(server_cells.get(server, Text("—")))
        if view.wide:
            cells.append(safe(", ".join(row.expected.rules)))
        grid.add(cells)
    if hidden_ok.get(group or ""):
        grid.add(_hidden_cells(hidden_ok[group or ""], len(heads)))
    table = grid.table(console, headers=view.headers, one_line=joined)
    if not view.rule:
        table.box = None
    return table, hidden_ok


def _hidden_cells(count: int, ncols: int) -> list[Text | str]:
    return [
        Text("✓", style="green"),
        Text(f"… {count} more ok", style="green"),
        *([""] * (ncols - 2)),
    ]


def layers_line(layers: Mapping[str, str]) -> Text:
    """``layers: coredns-a = CoreDNS replica coredns-a; ...``: which layer each column is."""
    text = Text("layers: ")
    for i, (server, layer) in enumerate(sorted(layers.items())):
        if i:
            text.append("; ")
        text.append_text(safe(_server_header(server)))
        text.append(" = ")
        text.append_text(safe(layer))
    return text


def _server_header(server: str) -> str:
    """A replica's column header: its name without the way it is reached (said in "asked:")."""
    for suffix in (" (port-forward)", " (exec)"):
        server = server.removesuffix(suffix)
    return server


def footnote(console: Console, number: str, body: Text, *, one_line: bool = False) -> None:
    """Print a numbered note whose wrapped lines hang under its text, not under the number.

    ``one_line``: the note is cut to the terminal's width (whole when piped).
    """
    if one_line:
        line = Text(number, style="bold")
        line.append(" ")
        line.append_text(body)
        if not unbounded(console) and len(line.plain) > console.width:
            line = line[: console.width - 1]
            line.append("…")
        console.print(line, crop=False, no_wrap=True)
        return
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True)
    grid.add_column(overflow="fold")
    grid.add_row(Text(number, style="bold"), body)
    console.print(grid, crop=not unbounded(console))


def explanation_text(
    report: InspectReport, explanation: Explanation, short: Names, *, one_line: bool = False
) -> Text:
    """The rows an explanation covers, their status, what differs, and the why."""
    rows = [report.rows[i] for i in explanation.rows]
    names = [f"{short(r.name)} {r.type}" for r in rows[:5]]
    if len(rows) > 5:
        names.append(f"and {len(rows) - 5} more")
    statuses = ", ".join(dict.fromkeys(r.status.value for r in rows))
    # On one line the rows are those marked with the note's number: only the status.
    head = statuses if one_line else ", ".join(names) + f": {statuses}"
    text = safe(head, MARK[explanation.status][1])
    for n, note in enumerate(explanation.notes):
        text.append(" — " if n == 0 else "; ")
        text.append_text(safe(note))
    if explanation.why:
        text.append(" — because: " if one_line else "\nexpected because: ", style="dim")
        text.append_text(safe(explanation.why))
    return text


def print_explanations(
    console: Console,
    report: InspectReport,
    groups: Sequence[Explanation],
    *,
    wide: bool,
    one_line: bool = False,
) -> None:
    """Print each explanation once, numbered, with the rows it covers."""
    short = Names(report.source.settings.primary_zone, wide)
    for number, explanation in enumerate(groups, start=1):
        body = explanation_text(report, explanation, short, one_line=one_line)
        footnote(console, f"{number}.", body, one_line=one_line)


def numbered(groups: Sequence[Explanation]) -> dict[int, int]:
    """Footnote number of each row, from the explanation groups."""
    return {i: n for n, g in enumerate(groups, start=1) for i in g.rows}


def summary_line(report: InspectReport) -> Text:
    """``13 checks, 12 ok, 1 missing``."""
    summary = report.summary
    parts = [f"{summary.get('total', 0)} checks"]
    parts += [f"{v} {k}" for k, v in summary.items() if k != "total" and v]
    ok = summary.get("ok", 0) == summary.get("total", 0)
    return Text(", ".join(parts), style="bold green" if ok else "bold red")


def print_tail(console: Console, report: InspectReport) -> None:
    """The replicas that stand apart and the notes about where answers came from."""
    for odd in report.disagreements:
        if not odd.rows:
            console.print(
                Text(
                    f"server {odd.server} sent no response to {odd.silent} of "
                    f"{odd.silent + odd.total} queries (silent, not disagreeing)",
                    style="bold yellow",
                )
            )
            continue
        line = Text(
            f"replica {odd.server} disagrees with the others on {len(odd.rows)} of "
            f"{odd.total} rows ({odd.wrong} also wrong against the objects): ",
            style="bold red" if odd.wrong else "bold yellow",
        )
        line.append_text(safe(", ".join(odd.rows[:5]) + (" …" if len(odd.rows) > 5 else "")))
        console.print(line)


def inspect_table(
    console: Console,
    report: InspectReport,
    *,
    wide: bool,
    headers: bool = True,
    collapse: bool = True,
) -> None:
    """Print ``hsvc inspect`` row by row: headers, the side-by-side table, explanations.

    ``collapse``: groups of many rows show their ok rows as a count (not ``--all-rows``).
    """
    if headers:
        line = path_line(report.source)
        if line is not None:
            console.print(line, style="dim")
        if report.layers:
            console.print(layers_line(report.layers), style="dim")
        for s in report.services:
            console.print(_service_header(s))
            if report.used_by is not None:
                console.print(_used_by(s, report.used_by))
        console.print(settings_line(report.source, report.servers), style="dim")
    multi = len(report.servers) > 1
    failed = [i for i, r in enumerate(report.rows) if r.status is not Verdict.OK]
    groups = explanations(report.rows, failed, multi=multi)
    view = RowsView(wide=wide, headers=headers, collapse=collapse)
    table, hidden = rows_table(
        console, report, range(len(report.rows)), view, numbers=numbered(groups)
    )
    _print_table(console, table, wide=wide, headers=headers)
    if hidden and headers:
        console.print(
            Text("(ok rows of large groups are counted; -o wide lists every row)", style="dim")
        )
    if headers:
        print_explanations(console, report, groups, wide=wide)
    if report.findings and headers:
        findings_table(console, report.findings, wide=wide, headers=headers)
    if headers:
        console.print(summary_line(report))
        print_tail(console, report)


def _print_table(console: Console, table: Table, *, wide: bool, headers: bool) -> None:
    """Print a table; ``-o wide`` and ``--no-headers`` keep each row on one line."""
    if (wide or not headers) and not unbounded(console):
        for col in table.columns:
            col.no_wrap = True
            col.overflow = "ignore"
            col.ratio = None
            col.min_width = None
        table.expand = False
        # console.print(width=) cannot go past the console's own width: widen it meanwhile.
        width = console.width
        console.width = UNBOUNDED
        try:
            console.print(table, crop=False)
        finally:
            console.width = width
        return
    console.print(table, crop=not unbounded(console))


SEVERITY_STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}


def findings_table(
    console: Console,
    findings: Sequence[Finding],
    *,
    wide: bool,
    headers: bool = True,
    locations: dict[ObjectRef, tuple[str, int]] | None = None,
    locate: Callable[[Finding], tuple[str, int] | None] | None = None,
) -> None:
    """Print findings: severity, code, object (and its file:line), message with the fix."""
    where = locations or {}
    table = Table(
        title="Findings" if headers else None,
        title_justify="left",
        box=box.SIMPLE,
        show_header=headers,
        pad_edge=False,
        expand=not unbounded(console),  # piped: natural widths, no padding to "infinity"
    )
    table.add_column("SEVERITY", no_wrap=True)
    table.add_column("CODE", no_wrap=True)
    table.add_column("OBJECT", overflow="fold", ratio=2)
    table.add_column("MESSAGE", overflow="fold", ratio=5)
    if wide:
        table.add_column("RULES", overflow="fold")
    for f in findings:
        ref = f.object
        obj = safe(ref.kind)
        obj.append("\n")
        obj.append_text(safe(f"{ref.namespace}/{ref.name}" if ref.namespace else ref.name))
        at = locate(f) if locate is not None else where.get(f.object)
        if at is not None:
            path, line = at
            obj.append("\n")
            obj.append_text(safe(f"{path}:{line}", "dim"))
        message = safe(f.message)
        message.append("\nfix: ", style="dim")
        message.append_text(safe(f.hint))
        cells: list[Text | str] = [
            Text(f.severity.value, style=SEVERITY_STYLE[f.severity]),
            f.code,
            obj,
            message,
        ]
        if wide:
            cells.append(", ".join(f.rules))
        table.add_row(*cells)
    console.print(table)


def findings_summary(findings: Sequence[Finding]) -> Text:
    """One line: how many findings of each severity."""
    if not findings:
        return Text("no findings", style="bold green")
    counts = [
        (sum(1 for f in findings if f.severity is sev), sev)
        for sev in (Severity.ERROR, Severity.WARNING, Severity.INFO)
    ]
    words = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "info"}
    parts = [
        f"{n} {words[sev]}{'s' if n != 1 and sev is not Severity.INFO else ''}"
        for n, sev in counts
        if n
    ]
    style = "bold red" if counts[0][0] else "bold yellow" if counts[1][0] else "bold"
    return Text(", ".join(parts), style=style)


def lint_table(console: Console, report: LintReport, *, wide: bool, headers: bool = True) -> None:
    """Print ``hsvc lint``: the findings table and a one-line summary."""
    if report.findings:
        findings_table(
            console, report.findings, wide=wide, headers=headers, locate=report.location_of
        )
    if headers:
        console.print(findings_summary(report.findings))
