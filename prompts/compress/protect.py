"""Spans compression must never touch: numbers, URLs, e-mail addresses, IDs, code, line-leading format labels
(``Question:``, ``Answer:``) and user-marked spans.

LLMLingua's users report lost numbers and IDs; here they are cut out before any scoring and put back byte
for byte. Users mark extra spans with ``<keep>...</keep>``; the markers are removed, the content is kept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

KEEP_OPEN, KEEP_CLOSE = "<keep>", "</keep>"

_NUMBER = r"[-+]?\$?\d(?:[\d,.:/-]*\d)?%?"
PROTECTED_RE = re.compile(
    r"(?m:^[A-Z][\w ]{0,24}:)"                     # line-leading labels that carry the format (Question:, Answer:)
    r"|```.*?```"                                  # fenced code
    r"|`[^`\n]+`"                                  # inline code
    r"|(?:https?://|www\.)\S*[^\s.,;:!?)\]'\"]"       # URLs (without trailing punctuation)
    r"|[\w.+-]+@[\w-]+\.[\w.-]+"                   # e-mail
    r"|\b(?=[\w-]*\d)(?=[\w-]*[A-Za-z])[\w-]{3,}\b"  # IDs: letters and digits mixed (A1234, gpt-4, x86_64)
    rf"|{_NUMBER}(?:[ \t]*[-+*/x×=<>][ \t]*{_NUMBER})*",  # numbers, money, dates, times, whole equations
    re.S,
)


@dataclass(frozen=True)
class Piece:
    text: str
    protected: bool


def split_protected(text: str, protect_patterns: bool = True) -> list[Piece]:
    """Text as alternating free and protected pieces; user-marked spans lose their markers."""
    pieces: list[Piece] = []
    pos = 0
    while True:
        start = text.find(KEEP_OPEN, pos)
        if start < 0:
            pieces.extend(_pattern_pieces(text[pos:], protect_patterns))
            break
        end = text.find(KEEP_CLOSE, start)
        if end < 0:
            raise ValueError(f"unclosed {KEEP_OPEN} at character {start}: close it with {KEEP_CLOSE}")
        pieces.extend(_pattern_pieces(text[pos:start], protect_patterns))
        pieces.append(Piece(text[start + len(KEEP_OPEN): end], True))
        pos = end + len(KEEP_CLOSE)
    return [p for p in pieces if p.text]


def _pattern_pieces(text: str, protect_patterns: bool) -> list[Piece]:
    if not protect_patterns:
        return [Piece(text, False)]
    out, pos = [], 0
    for m in PROTECTED_RE.finditer(text):
        out.append(Piece(text[pos: m.start()], False))
        out.append(Piece(m.group(0), True))
        pos = m.end()
    out.append(Piece(text[pos:], False))
    return out


def strip_markers(text: str) -> str:
    return text.replace(KEEP_OPEN, "").replace(KEEP_CLOSE, "")
