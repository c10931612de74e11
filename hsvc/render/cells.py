"""Cell text for every table: escaping cluster and DNS strings, names, answers, verdict marks.

Every string from the cluster or DNS passes :func:`safe`: it becomes ``rich.text.Text``
with control characters shown as visible escapes, so ``[red]`` and ANSI or OSC
sequences stay inert.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence

from rich.text import Text  # noqa: TID251

from hsvc.core.compare import Verdict
from hsvc.core.model import (
    DnsAnswer,
    Observation,
    Rcode,
    Record,
)

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


def expected_text(answer: DnsAnswer, short: Names) -> Text:
    """The expected answer as one cell: records, or the rcode and why."""
    text = _answer_text(answer.answer, answer.rcode, short, qtype=answer.type)
    if answer.open_ended:
        text.append(" (+upstream)", style="dim")
    return text


def observed_text(obs: Observation, short: Names) -> Text:
    """What a server answered as one cell: records, the rcode, or the error."""
    if obs.too_large:
        return safe("TOO LARGE", "yellow")
    if obs.rcode in (Rcode.TIMEOUT, Rcode.ERROR):
        return safe(obs.rcode.value, "yellow")
    return _answer_text(obs.answer, obs.rcode, short, qtype=obs.type)
