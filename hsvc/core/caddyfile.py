"""The Corefile's syntax: the Caddyfile lexer, ``import`` splicing, server blocks.

Pure text in, :class:`ServerBlock` trees out, every token with its line (for
:class:`CorefileError`). The lexer follows the Caddyfile rules CoreDNS uses
(whitespace-separated tokens, ``"`` quotes a whole token, ``#`` starts a comment
anywhere outside quotes). What the blocks mean is read by :mod:`hsvc.core.corefile`
and :mod:`hsvc.core.staleness`.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping

from hsvc.core.dataclass import dataclass


class CorefileError(ValueError):
    """A Corefile hsvc cannot read the kubernetes plugin's settings from.

    Core code may not import :mod:`hsvc.errors`; the command layer wraps this into
    an ``HsvcError`` (exit code 7, bad manifest) with the same fields.

    Attributes:
        source: Where the Corefile came from (file name or ``ConfigMap ns/name``).
        line: 1-based line of the offending token, or ``None`` for the whole file.
        reason: What is wrong, without the position.
    """

    def __init__(self, reason: str, *, source: str = "Corefile", line: int | None = None):
        self.source = source
        self.line = line
        self.reason = reason
        where = source if line is None else f"{source}:{line}"
        super().__init__(f"{where}: {reason}")


# --- lexer ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Token:
    """One token with the lines it starts and ends on; quoted tokens are never braces."""

    text: str
    line: int
    end_line: int
    quoted: bool = False

    @property
    def is_open(self) -> bool:
        """Whether this token opens a block."""
        return self.text == "{" and not self.quoted

    @property
    def is_close(self) -> bool:
        """Whether this token closes a block."""
        return self.text == "}" and not self.quoted


def tokenize(text: str, source: str) -> list[Token]:
    """Split a Corefile into tokens the way the Caddyfile lexer does."""
    tokens: list[Token] = []
    line = 1
    val: list[str] = []
    start = 1
    quoted = False
    escaped = False
    comment = False
    was_quoted = False

    def flush() -> None:
        nonlocal val, was_quoted
        tokens.append(Token("".join(val), start, line, was_quoted))
        val = []
        was_quoted = False

    for ch in text:
        if quoted:
            if not escaped:
                if ch == "\\":
                    escaped = True
                    continue
                if ch == '"':
                    quoted = False
                    flush()
                    continue
            if ch == "\n":
                line += 1
            # Caddy only unescapes quotes; any other backslash stays.
            if escaped and ch != '"':
                val.append("\\")
            val.append(ch)
            escaped = False
            continue
        if ch in " \t\r\n\f\v":
            if ch == "\n":
                comment = False
            if val:
                flush()
            if ch == "\n":
                line += 1
            continue
        if ch == "#":
            comment = True
        if comment:
            continue
        if not val:
            start = line
            if ch == '"':
                quoted = True
                was_quoted = True
                continue
        val.append(ch)
    if quoted:
        raise CorefileError("unterminated quoted string", source=source, line=start)
    if val:
        flush()
    return tokens


# --- imports ---------------------------------------------------------------------

# Spliced tokens get lines far from the importing file's, so that the line-based
# grouping of arguments never joins a directive to an imported one.
IMPORT_LINES = 1_000_000


def expand_imports(
    tokens: list[Token], imports: Mapping[str, str], source: str
) -> tuple[list[Token], list[str]]:
    """Replace each ``import PATTERN`` line with the tokens of the files it matches.

    ``imports`` maps file names to their text (the keys of a ``coredns-custom``
    ConfigMap, mounted beside the Corefile: ``import custom/*.server``). The
    pattern's last path part is matched against the keys, as the file glob
    would be; files are spliced in name order, as CoreDNS reads them.
    """
    out: list[Token] = []
    used: list[str] = []
    i = 0
    spliced = 0
    previous_line = -1
    while i < len(tokens):
        tok = tokens[i]
        starts_line = tok.line != previous_line
        previous_line = tok.end_line
        if tok.text == "import" and not tok.quoted and starts_line and i + 1 < len(tokens):
            pattern = tokens[i + 1].text.rsplit("/", 1)[-1]
            i += 2
            while i < len(tokens) and tokens[i].line == previous_line:
                i += 1  # further arguments of the import line
            for key in sorted(k for k in imports if fnmatch.fnmatchcase(k, pattern)):
                spliced += 1
                base = IMPORT_LINES * spliced
                used.append(key)
                for t in tokenize(imports[key], f"{source} import {key}"):
                    out.append(Token(t.text, base + t.line, base + t.end_line, t.quoted))
            continue
        out.append(tok)
        i += 1
    return out, used


# --- block structure -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Directive:
    """One directive (or one option inside a directive's block) with its arguments."""

    name: Token
    args: tuple[Token, ...]
    body: tuple[Directive, ...]


@dataclass(frozen=True, slots=True)
class ServerBlock:
    """One server block: its keys (zones, ports) and its directives."""

    keys: tuple[Token, ...]
    directives: tuple[Directive, ...]


class Parser:
    """Tokens to server blocks and directives, as the Caddyfile parser groups them."""

    def __init__(self, tokens: list[Token], source: str):
        self.tokens = tokens
        self.pos = 0
        self.source = source

    def error(self, reason: str, token: Token | None) -> CorefileError:
        """The error for ``reason`` at ``token``'s line."""
        return CorefileError(reason, source=self.source, line=None if token is None else token.line)

    def peek(self) -> Token | None:
        """The next token, not consumed."""
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def server_blocks(self) -> list[ServerBlock]:
        """Every server block of the file."""
        blocks: list[ServerBlock] = []
        while (tok := self.peek()) is not None:
            if tok.is_open or tok.is_close:
                raise self.error(f"unexpected {tok.text!r} where a server block should start", tok)
            if tok.text == "import" and not tok.quoted:
                # Imports name files we cannot see; their content is outside our reach.
                self.skip_line()
                continue
            keys = self.keys()
            nxt = self.peek()
            if nxt is not None and nxt.is_open:
                self.pos += 1
                directives = self.body(closing=keys[0])
            else:
                # Caddyfile allows a single server block without braces.
                directives = self.body(closing=None)
            if len(keys) == 1 and keys[0].text.startswith("(") and keys[0].text.endswith(")"):
                continue  # a snippet definition, not a server
            blocks.append(ServerBlock(tuple(keys), tuple(directives)))
        return blocks

    def skip_line(self) -> None:
        """Consume the rest of the current line."""
        first = self.tokens[self.pos]
        self.pos += 1
        last_line = first.end_line
        while (tok := self.peek()) is not None and tok.line == last_line:
            last_line = tok.end_line
            self.pos += 1

    def keys(self) -> list[Token]:
        """A server block's keys, up to its ``{``."""
        keys: list[Token] = []
        expecting_another = False
        last_line = self.tokens[self.pos].line
        while (tok := self.peek()) is not None:
            if tok.is_open:
                if expecting_another:
                    raise self.error("expected another address after ','", tok)
                break
            if tok.is_close:
                raise self.error("unexpected '}' among server block addresses", tok)
            if keys and not expecting_another and tok.line != last_line:
                break
            text = tok.text
            expecting_another = text.endswith(",")
            text = text.rstrip(",")
            if text:
                keys.append(Token(text, tok.line, tok.end_line, tok.quoted))
            last_line = tok.end_line
            self.pos += 1
        if expecting_another:
            raise self.error("expected another address after ','", self.tokens[-1])
        return keys

    def body(self, *, closing: Token | None) -> list[Directive]:
        """The directives up to ``closing``'s ``}`` (or the end of the file)."""
        directives: list[Directive] = []
        while (tok := self.peek()) is not None:
            if tok.is_close:
                if closing is None:
                    raise self.error("unexpected '}' without a matching '{'", tok)
                self.pos += 1
                return directives
            if tok.is_open:
                raise self.error("unexpected '{' without a directive before it", tok)
            directives.append(self.directive())
        if closing is not None:
            raise self.error("'{' is never closed", closing)
        return directives

    def directive(self) -> Directive:
        """One directive: its name, the arguments on its line, its block."""
        name = self.tokens[self.pos]
        self.pos += 1
        args: list[Token] = []
        last_line = name.end_line
        while (tok := self.peek()) is not None and tok.line == last_line:
            if tok.is_open or tok.is_close:
                break
            args.append(tok)
            last_line = tok.end_line
            self.pos += 1
        body: list[Directive] = []
        tok = self.peek()
        # CoreDNS wants the block's '{' on the directive's line; a '{' on the next
        # line is accepted here too, since it can only belong to this directive.
        if tok is not None and tok.is_open:
            self.pos += 1
            body = self.body(closing=tok)
        return Directive(name, tuple(args), tuple(body))
