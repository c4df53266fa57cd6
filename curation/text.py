"""Shared text primitives for dedup, decontamination and the classifiers' features.

``WORD_RE`` (word runs, or single punctuation marks) feeds the quality classifier's and the selection scores'
features; what the heuristic filters count is defined in ``curation/rule_text.py``.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import numpy as np

WORD_RE = re.compile(r"\w+(?:['’\-]\w+)*|[^\w\s]")


def ngrams(tokens: list[str], n: int) -> list[str]:
    return [" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]


def dedup_key(text: str) -> str:
    """The text exact-dedup compares: NFC, whitespace collapsed, so re-wrapped copies still match."""
    return " ".join(unicodedata.normalize("NFC", text).split())


def shingles(text: str, n: int) -> list[str]:
    """MinHash shingles: n-grams of ``dedup_tokens`` (word n-grams, character n-grams in CJK/Thai text).

    A text with fewer than n tokens gives one shingle of all its tokens; a text with none gives none. The numba
    engine (``curation.dedup.signatures``) hashes exactly these tokens, from the same tables.
    """
    return token_shingles(dedup_tokens(text), n)


def token_shingles(tokens: list[str], n: int) -> list[str]:
    """``shingles`` of an already tokenized text: its n-grams, one shingle of all tokens when there are fewer than
    n, none for no tokens."""
    if not tokens:
        return []
    if len(tokens) < n:
        return [" ".join(tokens)]
    return ngrams(tokens, n)


# --- Tokens for dedup and decontamination in every script ---------------------------------------------------
# Scripts written without spaces between words (Han, Kana, Thai, Lao, Khmer, Myanmar) have no word boundary a
# regex can see, so each of their characters is one token (as BERT's basic tokenizer does for CJK); other
# scripts give word tokens (runs of letters, marks, digits and "_"). So a Chinese or Thai text yields character
# n-grams and an English, Russian or Korean one word n-grams, per character rather than per document: a
# Japanese text quoting an English title gets both, with no threshold to tune. Before that, every character is
# folded: Unicode simple lower case, full/half-width forms to their plain form (NFKC of U+FF00-U+FFEF), and
# Traditional to Simplified Chinese (OpenCC's t2s, character by character), so a text and its copy in the other
# script, case or width are the same tokens.

HAN_RANGES = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x323AF))
CJK_RANGES = (
    (0x2E80, 0x2FDF), (0x3005, 0x3007), (0x3021, 0x3029), (0x3038, 0x303C),  # CJK radicals, 々〆〇, Hangzhou
    (0x3040, 0x30FF), (0x31F0, 0x31FF), (0xFF66, 0xFF9F), (0x1B000, 0x1B16F),  # Hiragana, Katakana
    (0x3100, 0x312F), (0x31A0, 0x31BF),  # Bopomofo
    *HAN_RANGES,
)
"""Ideographs and syllabaries: one character is about a syllable or a morpheme (1.65 per word, see below)."""
BRAHMIC_UNSEGMENTED_RANGES = (
    (0x0E00, 0x0EFF),  # Thai, Lao
    (0x1000, 0x109F), (0xA9E0, 0xA9FF), (0xAA60, 0xAA7F),  # Myanmar and its extensions
    (0x1780, 0x17FF), (0x19E0, 0x19FF),  # Khmer, Khmer symbols
)
"""Alphabets written without spaces: a code point is a consonant, vowel or tone mark (Thai: 5.4 per word)."""
UNSEGMENTED_RANGES = CJK_RANGES + BRAHMIC_UNSEGMENTED_RANGES
"""Code point ranges of the scripts tokenized per character (Unicode blocks, inclusive)."""

TOKEN_SEPARATOR, TOKEN_WORD, TOKEN_CJK, TOKEN_LETTER = 0, 1, 2, 3
"""Token kinds: TOKEN_CJK and TOKEN_LETTER are single-character tokens. Tokens per word of the same text
(parallel XQuAD/PUD in shared/data/multilingual vs German words): zh characters 1.65, th code points 5.39."""


@lru_cache(maxsize=1)
def token_tables() -> tuple[np.ndarray, np.ndarray]:
    """(fold, kind): int32 folded code point and uint8 token kind per code point 0..0x10FFFF (~0.3 s, once).

    kind is TOKEN_CJK / TOKEN_LETTER for letters/marks/digits of ``CJK_RANGES`` / ``BRAHMIC_UNSEGMENTED_RANGES``,
    TOKEN_WORD for any other letter (L*), mark (M*), number (N*) or "_", TOKEN_SEPARATOR for the rest; it is read
    on the folded code point.
    """
    import opencc

    fold = np.arange(0x110000, dtype=np.int32)
    for cp in range(0xFF01, 0xFFEF):
        plain = unicodedata.normalize("NFKC", chr(cp))
        if len(plain) == 1:
            fold[cp] = ord(plain)
    han = [cp for a, b in HAN_RANGES for cp in range(a, b + 1)]
    simplified = opencc.OpenCC("t2s").convert("\n".join(map(chr, han))).split("\n")
    for cp, s in zip(han, simplified):
        if len(s) == 1:
            fold[cp] = ord(s)
    kind = np.zeros(0x110000, dtype=np.uint8)
    folded = fold.tolist()
    for cp in range(0x110000):
        low = chr(folded[cp]).lower()
        if len(low) == 1:
            fold[cp] = ord(low)
        if cp == 0x5F or unicodedata.category(chr(cp))[0] in "LMN":
            kind[cp] = TOKEN_WORD
    for ranges, single in ((CJK_RANGES, TOKEN_CJK), (BRAHMIC_UNSEGMENTED_RANGES, TOKEN_LETTER)):
        for a, b in ranges:
            kind[a : b + 1][kind[a : b + 1] == TOKEN_WORD] = single
    return fold, kind


def _class_ranges(mask: np.ndarray) -> str:
    """A regex character class body for the code points where ``mask`` holds."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], mask.astype(np.int8), [0]])))
    return "".join(f"\\U{a:08x}-\\U{b - 1:08x}" for a, b in zip(edges[::2], edges[1::2]))


@lru_cache(maxsize=1)
def _token_matcher() -> tuple[dict[int, int], re.Pattern]:
    fold, kind = token_tables()
    changed = np.flatnonzero(fold != np.arange(len(fold)))
    pattern = f"[{_class_ranges(kind >= TOKEN_CJK)}]|[{_class_ranges(kind == TOKEN_WORD)}]+"
    return dict(zip(changed.tolist(), fold[changed].tolist())), re.compile(pattern)


def dedup_tokens(text: str) -> list[str]:
    """Folded tokens: words, and single characters of unsegmented scripts (see ``UNSEGMENTED_RANGES``)."""
    table, matcher = _token_matcher()
    return matcher.findall(text.translate(table))


def unsegmented_share(text: str) -> float:
    """Share of a text's tokens that are single characters of unsegmented scripts (0 for a text of no tokens)."""
    toks = dedup_tokens(text)
    kind = token_tables()[1]
    return sum(len(t) == 1 and kind[ord(t)] >= TOKEN_CJK for t in toks) / len(toks) if toks else 0.0
