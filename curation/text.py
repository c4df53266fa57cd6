"""Shared text primitives for the heuristic rules and dedup.

Words come from one regex tokenizer (word runs, or single punctuation marks), close to NLTK's
``word_tokenize`` that datatrove uses, without NLTK's punkt download (no network here).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

WORD_RE = re.compile(r"\w+(?:['’\-]\w+)*|[^\w\s]")
ALNUM_WORD_RE = re.compile(r"\w+")
PUNCTUATION = set("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")


def words(text: str) -> list[str]:
    return WORD_RE.findall(text)


def ngrams(tokens: list[str], n: int) -> list[str]:
    return [" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]


def duplicate_stats(items: list[str]) -> tuple[int, int]:
    """(number of repeated elements, characters in the repeats) — Gopher's duplicate line/paragraph measure."""
    seen: set[str] = set()
    dup_n = dup_chars = 0
    for item in items:
        if item in seen:
            dup_n += 1
            dup_chars += len(item)
        else:
            seen.add(item)
    return dup_n, dup_chars


def top_ngram_chars(grams: list[str]) -> int:
    gram, count = Counter(grams).most_common(1)[0]
    return len(gram) * count


def duplicated_ngram_chars(tokens: list[str], n: int) -> int:
    """Characters covered by n-grams seen earlier, skipping past each repeat so overlaps are not double counted."""
    seen: set[str] = set()
    chars, i = 0, 0
    while i < len(tokens) - n + 1:
        gram = " ".join(tokens[i : i + n])
        if gram in seen:
            chars += len(gram)
            i += n
        else:
            seen.add(gram)
            i += 1
    return chars


def dedup_key(text: str) -> str:
    """The text exact-dedup compares: NFC, whitespace collapsed, so re-wrapped copies still match."""
    return " ".join(unicodedata.normalize("NFC", text).split())


def shingles(text: str, n: int) -> list[str]:
    """Lower-cased word n-grams; texts shorter than n words give one shingle of all their words."""
    toks = ALNUM_WORD_RE.findall(text.lower())
    if not toks:
        return []
    if len(toks) < n:
        return [" ".join(toks)]
    return ngrams(toks, n)
