"""``hsvc explain``: a finding's full text, offline, from the reference shipped with hsvc.

The text is docs/reference/findings.md, which the wheel carries as
``hsvc/data/findings.md`` (pyproject ``force-include``); a source checkout reads
the docs file itself. Nothing is fetched: a pip install needs no docs folder.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

from hsvc.core.dataclass import dataclass
from hsvc.errors import NotFoundError, UsageError

_CODE = re.compile(r"^HSVC\d{3}$")
_HEADING = re.compile(r"^### (HSVC\d{3})\s*$", re.M)


@dataclass(frozen=True, slots=True, kw_only=True)
class FindingDoc:
    """One finding's section of the reference."""

    code: str
    summary: str  # its bold line: severity · title · rules
    text: str  # the whole section, without its heading


_TEST_MARKER = re.compile(r"^<!-- docs-test: .*-->\n", re.M)


def reference_text() -> str:
    """Return the findings reference (package data, else the source checkout's docs).

    Raises:
        NotFoundError: neither is present (a broken install).
    """
    packaged = resources.files("hsvc").joinpath("data", "findings.md")
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    source = Path(__file__).resolve().parents[2] / "docs" / "reference" / "findings.md"
    if source.is_file():
        return source.read_text(encoding="utf-8")
    raise NotFoundError("the findings reference is not installed (hsvc/data/findings.md)")


def finding_docs(text: str | None = None) -> list[FindingDoc]:
    """Every finding of the reference, in its order."""
    text = reference_text() if text is None else text
    marks = list(_HEADING.finditer(text))
    out = []
    for i, mark in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        body = text[mark.end() : end]
        # A section ends at the next heading of any level.
        body = re.split(r"^#{1,3} ", body, maxsplit=1, flags=re.M)[0]
        # The markers for the docs' own test (tests/test_docs.py) are not text.
        body = _TEST_MARKER.sub("", body).strip()
        first = next((line for line in body.splitlines() if line.strip()), "")
        out.append(
            FindingDoc(code=mark.group(1), summary=first.replace("**", "").strip(), text=body)
        )
    return out


def explain(code: str) -> FindingDoc:
    """Return one finding's section.

    Raises:
        UsageError: ``code`` is not of the form HSVC123.
        NotFoundError: no finding has that code.
    """
    wanted = code.strip().upper()
    if not _CODE.match(wanted):
        raise UsageError(
            f"{code!r} is not a finding code; codes look like HSVC204 (hsvc explain --list)"
        )
    docs = finding_docs()
    for doc in docs:
        if doc.code == wanted:
            return doc
    near = [d.code for d in docs if d.code[:5] == wanted[:5]]
    hint = f"; codes near it: {', '.join(near[:6])}" if near else ""
    raise NotFoundError(f"no finding {wanted}{hint} (hsvc explain --list)")
