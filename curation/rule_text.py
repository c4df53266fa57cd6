"""What the heuristic rules (Gopher, C4, FineWeb) count, defined once and readably.

This module is the reference: ``curation/rule_kernel.py`` computes the same numbers in one compiled pass over
UTF-8 bytes, and a test checks that both agree on real documents. The papers leave the tokenizer open; winnow's
choices, each picked to follow the paper where it speaks and datatrove 0.10.1 (spaCy's English tokenizer) where
it is silent:

- **Lines** are split on ``"\\n"`` only (as datatrove does for the Gopher repetition and FineWeb rules;
  ``str.splitlines`` would also split on ``\\r``, ``\\x0b``, ``\\x0c``, ``\\u2028``), and a line holding only
  whitespace is no line: a paragraph break is not a "duplicate line", a "short line" nor a "line without
  punctuation" (Gopher, Rae et al. 2021, appendix A; datatrove splits on ``\\n+`` and FineWeb drops blank lines).
- **Chunks** are the whitespace-separated strings of the text (``str.split()``): Gopher's "words" for the rule
  "80 % of words contain at least one alphabetic character", so ``cat,`` is a word with a letter and ``##@@`` or a
  lone ``—`` is a word without one.
- **Tokens** split a chunk like spaCy's English tokenizer at its edges: each leading or trailing punctuation
  character is a token of its own (a run of periods, ``...``, or of hyphens, ``-----``, is one), the core stays
  whole (``e.g``, ``3.14``, ``don't``, ``well-known``). A chunk that is a URL, an e-mail address or a path
  (``://``, ``www.``, ``@`` before a dot, a leading ``/`` or ``~/``) is one token apart from trailing sentence
  punctuation; a chunk of punctuation only is split the same way (``_____`` is five tokens, as in spaCy). **Words** are the tokens that hold a character that is not punctuation or a
  symbol (Unicode categories P* and S*); word n-grams are built from words only, so a line of 132 dashes or a
  dotted leader is never an n-gram.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

import regex

URL_START = ("http://", "https://", "ftp://", "www.", "/", "~/")
EMAIL_RE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
OPENERS = "\"'([<{«“‘"
PARAGRAPH_RE = re.compile(r"\n{2,}")


@lru_cache(maxsize=None)
def is_symbol(ch: str) -> bool:
    """Punctuation or symbol (Unicode general category P* or S*)."""
    return unicodedata.category(ch)[0] in "PS"


@lru_cache(maxsize=None)
def is_closer(ch: str) -> bool:
    """A closing bracket or quote (Unicode Pe, Pf) or a straight quote."""
    return ch in "\"'" or unicodedata.category(ch) in ("Pe", "Pf")


@lru_cache(maxsize=1)
def sentence_terminals() -> frozenset[str]:
    """Unicode's Sentence_Terminal property (``.``, ``!``, ``?``, ``。``, ``।``, ``؟`` ...).

    FineWeb's line-punctuation rule uses the authors' terminal punctuation set, which is this property of Unicode
    (plus three Khmer signs; see ``benchmarks/results/filter_agreement.md``).
    """
    pattern = regex.compile(r"\p{Sentence_Terminal}")
    return frozenset(chr(c) for c in range(0x110000) if pattern.match(chr(c)))


def is_link(chunk: str) -> bool:
    core = chunk.lstrip(OPENERS)
    return "://" in core or core.startswith(URL_START) or EMAIL_RE.fullmatch(core.rstrip(".,;:!?)]}>\"'»”’")) is not None


GROUPED = ".-"  # a run of periods ("...") or hyphens ("-----") is one token; any other mark is a token per character


def _symbol_tokens(chunk: str, i: int, j: int) -> list[str]:
    """The punctuation marks ``chunk[i:j]`` as tokens."""
    out: list[str] = []
    while i < j:
        k = i + 1
        if chunk[i] in GROUPED:
            while k < j and chunk[k] == chunk[i]:
                k += 1
        out.append(chunk[i:k])
        i = k
    return out


def split_chunk(chunk: str) -> list[str]:
    """One whitespace-free chunk to tokens (see the module docstring)."""
    n = len(chunk)
    if all(is_symbol(ch) for ch in chunk):
        return _symbol_tokens(chunk, 0, n)
    link = is_link(chunk)
    i = 0
    while i < n and is_symbol(chunk[i]) and (not link or chunk[i] in OPENERS):
        i += 1
    trail = ".,;:!?)]}>\"'»”’" if link else None
    j = n
    while j > i and is_symbol(chunk[j - 1]) and (trail is None or chunk[j - 1] in trail):
        j -= 1
    return _symbol_tokens(chunk, 0, i) + [chunk[i:j]] + _symbol_tokens(chunk, j, n)


def tokens_of(text: str) -> list[str]:
    return [tok for chunk in text.split() for tok in split_chunk(chunk)]


def is_word(token: str) -> bool:
    return not all(is_symbol(ch) for ch in token)


def content_lines(text: str) -> list[str]:
    """Lines split on ``\\n``, without the ones that hold only whitespace."""
    return [line for line in text.split("\n") if line.strip()]


def paragraphs_of(text: str) -> list[str]:
    """Paragraphs split on blank lines (``\\n\\n``), without whitespace-only ones."""
    return [p for p in PARAGRAPH_RE.split(text.strip()) if p.strip()]


def duplicate_stats(items: list[str]) -> tuple[int, int]:
    """(repeated elements, characters in the repeats): each element after its first occurrence counts."""
    seen: set[str] = set()
    dup_n = dup_chars = 0
    for item in items:
        if item in seen:
            dup_n += 1
            dup_chars += len(item)
        else:
            seen.add(item)
    return dup_n, dup_chars


def ngram_chars(words: list[str], start: int, n: int) -> int:
    """Characters of the n-gram joined by single spaces."""
    return sum(len(w) for w in words[start : start + n]) + n - 1


def top_ngram_chars(words: list[str], n: int) -> int:
    """Characters in all occurrences of the most frequent n-gram, or 0 when no n-gram occurs twice.

    Gopher's "fraction of characters contained within the most frequent n-gram" is a repetition measure: an n-gram
    seen once repeats nothing (datatrove counts it anyway). Among n-grams equally frequent, the first seen counts
    (the paper does not say; datatrove does this).
    """
    counts = Counter(tuple(words[i : i + n]) for i in range(len(words) - n + 1))
    if not counts:
        return 0
    gram, top = counts.most_common(1)[0]
    return (sum(map(len, gram)) + n - 1) * top if top >= 2 else 0


def duplicated_ngram_chars(words: list[str], n: int) -> int:
    """Characters in n-grams seen earlier, skipping past each repeat so overlaps count once (datatrove's rule)."""
    seen: set[tuple[str, ...]] = set()
    chars, i = 0, 0
    while i < len(words) - n + 1:
        gram = tuple(words[i : i + n])
        if gram in seen:
            chars += ngram_chars(words, i, n)
            i += n
        else:
            seen.add(gram)
            i += 1
    return chars


# Extra tokens spaCy's English tokenizer splits inside a word (its infixes: period runs, "…", arithmetic between
# digits, "." between a lower- and an upper-case letter, "," between letters, hyphens and ":<>=/" before a letter)
# and at its end (contractions: "do|n't", "it|'s"). They count only toward the number of tokens that FineWeb's
# newline/token ratio divides by (its authors' code, datatrove, tokenizes with spaCy).
INFIX_RE = regex.compile(
    r"\.\.+|…|(?<=[0-9])[+\-*^](?=[0-9-])|(?<=[\p{Ll}\"'‘’“”])\.(?=[\p{Lu}\"'‘’“”])|(?<=\p{L}),(?=\p{L})"
    r"|(?<=[\p{L}0-9])(?:---|--|-|——|—|–|~)(?=\p{L})|(?<=[\p{L}0-9])[:<>=/](?=\p{L})"
)
CONTRACTION_RE = regex.compile(r"(?i).(?:n['’]t|['’](?:s|re|ve|ll|d|m))$")


def spacy_extra_tokens(core: str) -> int:
    """Tokens spaCy adds inside a word's core (see ``INFIX_RE``)."""
    return 2 * len(INFIX_RE.findall(core)) + (CONTRACTION_RE.search(core) is not None)


@dataclass(frozen=True)
class WordStats:
    """Token-level statistics for one text (the Gopher quality rule's inputs)."""

    n_tokens: int  # all tokens, punctuation and spaCy's in-word splits included (FineWeb's newline/token ratio)
    n_words: int  # tokens with a non-symbol character
    word_chars: int  # characters in those words
    n_chunks: int  # whitespace-separated strings
    alpha_chunks: int  # of which hold an alphabetic character


def word_stats(text: str) -> WordStats:
    chunks = text.split()
    n_tokens = n_words = word_chars = 0
    for chunk in chunks:
        link = is_link(chunk)
        for tok in split_chunk(chunk):
            n_tokens += 1
            if is_word(tok):
                n_words += 1
                word_chars += len(tok)
                if not link:
                    n_tokens += spacy_extra_tokens(tok)
    return WordStats(n_tokens, n_words, word_chars, len(chunks), sum(any(ch.isalpha() for ch in c) for c in chunks))


def words_of(text: str) -> list[str]:
    return [t for t in tokens_of(text) if is_word(t)]
