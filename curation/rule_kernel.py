"""The heuristic rules' statistics in one compiled pass per document (numba), from a batch's UTF-8 buffer.

Computes exactly what ``curation/rule_text.py`` defines (lines, paragraphs, chunks, tokens, words, n-grams; C4's
line cleanup), on code points decoded from the column's Arrow buffer, so a batch never becomes Python objects
until its decisions are made. Repeated lines, paragraphs and n-grams are found by 64-bit hashes in open-addressing
tables (a collision would need two different strings with the same hash in one document). The decision functions
are the filters' own (``gopher_quality_reason`` etc.), so ``FilterStep.check`` and this path decide alike; a test
runs both on real documents.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

import numba as nb
import regex
import numpy as np
import polars as pl

from curation.dedup.signatures import utf8_buffer, utf8_code_point
from curation.rule_text import OPENERS, is_closer, sentence_terminals

SPACE, SYMBOL, ALPHA, STERM, OPENER, TRAIL, LINEBREAK, DIGIT, UNSEGMENTED, CLOSER, LETTER, LOWER, UPPER = (
    1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096)
LINK_TRAIL = ".,;:!?)]}>\"'»”’"
C4_END = ".?!\"'”’"
C4_CLOSERS = "\"'”’)]"
MAX_NGRAM = 16


TABLES_VERSION = "3"


@lru_cache(maxsize=1)
def char_tables() -> tuple[np.ndarray, np.ndarray]:
    """(flags, lower): uint16 class bits and int32 single-code-point lower case for every code point.

    Built once (~3 s) and kept in the winnow cache, keyed by the Unicode version of this Python and the regex module.
    """
    import os

    from core.models import cache_dir

    path = cache_dir() / f"rule-chars-{TABLES_VERSION}-{unicodedata.unidata_version}-{regex.__version__}.npz"
    if path.exists():
        try:
            with np.load(path) as z:
                return z["flags"], z["lower"]
        except (OSError, ValueError, KeyError):
            pass
    flags, lower = _build_char_tables()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp.npz")
    np.savez(tmp, flags=flags, lower=lower)
    os.replace(tmp, path)
    return flags, lower


def _build_char_tables() -> tuple[np.ndarray, np.ndarray]:
    from curation.text import UNSEGMENTED_RANGES

    unsegmented = np.zeros(0x110000, dtype=np.bool_)
    for a, b in UNSEGMENTED_RANGES:
        unsegmented[a : b + 1] = True
    flags = np.zeros(0x110000, dtype=np.uint16)
    lower = np.arange(0x110000, dtype=np.int32)
    terminals = sentence_terminals()
    for cp in range(0x110000):
        ch = chr(cp)
        f = 0
        if ch.isspace():
            f |= SPACE
        cat = unicodedata.category(ch)
        if cat[0] in "PS":
            f |= SYMBOL
        if ch.isalpha():
            f |= ALPHA
            low = ch.lower()
            if len(low) == 1:
                lower[cp] = ord(low)
        elif cat == "Lu" or cat == "Lt":
            low = ch.lower()
            if len(low) == 1:
                lower[cp] = ord(low)
        if ch in terminals:
            f |= STERM
        if ch in OPENERS:
            f |= OPENER
        if ch in LINK_TRAIL:
            f |= TRAIL
        if ("a" + ch + "b").splitlines() != ["a" + ch + "b"]:
            f |= LINEBREAK
        if cat == "Nd":
            f |= DIGIT
        if unsegmented[cp] and f & ALPHA:
            f |= UNSEGMENTED
        if is_closer(ch):
            f |= CLOSER
        if cat[0] == "L":
            f |= LETTER
        if cat == "Ll":
            f |= LOWER
        if cat == "Lu":
            f |= UPPER
        flags[cp] = f
    return flags, lower


@nb.njit(cache=True)
def _decode(buf, start, end, out):
    """UTF-8 bytes to code points in ``out``; returns the count."""
    n = 0
    i = start
    while i < end:
        cp, size = utf8_code_point(buf, i)
        out[n] = cp
        n += 1
        i += size
    return n


@nb.njit(cache=True, inline="always")
def _mix(h):
    h = (h ^ (h >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    h = (h ^ (h >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    h = h ^ (h >> np.uint64(31))
    return h if h != np.uint64(0) else np.uint64(1)


@nb.njit(cache=True)
def _hash_range(cps, a, b, lower, lowered):
    h = np.uint64(0xCBF29CE484222325)
    for i in range(a, b):
        c = cps[i]
        if lowered:
            c = lower[c]
        h = (h ^ np.uint64(c)) * np.uint64(0x100000001B3)
    return _mix(h ^ np.uint64(b - a))


@nb.njit(cache=True)
def _insert(table, key):
    """Adds ``key`` (non-zero) to an open-addressing set; returns True if it was already there."""
    mask = len(table) - 1
    i = np.int64(key & np.uint64(mask))
    while True:
        k = table[i]
        if k == key:
            return True
        if k == 0:
            table[i] = key
            return False
        i = (i + 1) & mask


@nb.njit(cache=True)
def _table(n):
    size = 16
    while size < 2 * n + 2:
        size *= 2
    return np.zeros(size, dtype=np.uint64)


@nb.njit(cache=True)
def _dup_ranges(cps, starts, ends, m, lower):
    """(repeated elements, characters in repeats) over ranges ``[starts[i], ends[i])``, i < m."""
    table = _table(m)
    dup_n = 0
    dup_chars = 0
    for i in range(m):
        if _insert(table, _hash_range(cps, starts[i], ends[i], lower, False)):
            dup_n += 1
            dup_chars += ends[i] - starts[i]
    return dup_n, dup_chars


@nb.njit(cache=True)
def _has(cps, a, b, pat):
    """Whether ``cps[a:b]`` starts with the code points ``pat``."""
    if b - a < len(pat):
        return False
    for k in range(len(pat)):
        if cps[a + k] != pat[k]:
            return False
    return True


@nb.njit(cache=True)
def _is_link(cps, a, b, flags, has_at):
    """``rule_text.is_link`` on the chunk ``cps[a:b]``: ``://``, a leading ``www.``, ``/`` or ``~/``, or an e-mail."""
    while a < b and flags[cps[a]] & OPENER:
        a += 1
    if a >= b:
        return False
    c0 = cps[a]
    if c0 == 47 or (c0 == 126 and a + 1 < b and cps[a + 1] == 47):
        return True
    if c0 == 119 and b - a >= 4 and cps[a + 1] == 119 and cps[a + 2] == 119 and cps[a + 3] == 46:
        return True
    for i in range(a, b - 2):
        if cps[i] == 58 and cps[i + 1] == 47 and cps[i + 2] == 47:
            return True
    if not has_at:
        return False
    e = b
    while e > a and flags[cps[e - 1]] & TRAIL:
        e -= 1
    # [^@\s]+@[^@\s]+\.[^@\s]+ over the whole core (chunks hold no whitespace)
    at = -1
    for i in range(a, e):
        if cps[i] == 64:
            if at >= 0:
                return False
            at = i
    if at <= a:
        return False
    for i in range(at + 2, e - 1):
        if cps[i] == 46:
            return True
    return False


@nb.njit(cache=True, inline="always")
def _quote(c):
    return c == 34 or c == 39 or c == 0x2018 or c == 0x2019 or c == 0x201C or c == 0x201D


@nb.njit(cache=True)
def _spacy_extra_tokens(cps, i, j, flags):
    """``rule_text.spacy_extra_tokens`` on the core ``cps[i:j]``."""
    extra = 0
    p = i
    while p < j:
        c = cps[p]
        if c == 46 and p + 1 < j and cps[p + 1] == 46:
            while p < j and cps[p] == 46:
                p += 1
            extra += 2
            continue
        if c == 0x2026:
            extra += 2
            p += 1
            continue
        if p > i and p + 1 < j:
            prev = cps[p - 1]
            if c == 43 or c == 45 or c == 42 or c == 94:
                nxt = cps[p + 1]
                if 48 <= prev <= 57 and (48 <= nxt <= 57 or nxt == 45):
                    extra += 2
                    p += 1
                    continue
            if c == 46:
                nxt = cps[p + 1]
                if (flags[prev] & LOWER or _quote(prev)) and (flags[nxt] & UPPER or _quote(nxt)):
                    extra += 2
                    p += 1
                    continue
            if c == 44 and flags[prev] & LETTER and flags[cps[p + 1]] & LETTER:
                extra += 2
                p += 1
                continue
            if flags[prev] & LETTER or 48 <= prev <= 57:
                if c == 45 or c == 0x2014 or c == 0x2013 or c == 126:
                    q = p
                    while q < j and cps[q] == c:
                        q += 1
                    run = q - p
                    ok = (c == 45 and run <= 3) or (c == 0x2014 and run <= 2) or run == 1
                    if ok and q < j and flags[cps[q]] & LETTER:
                        extra += 2
                        p = q
                        continue
                elif (c == 58 or c == 60 or c == 62 or c == 61 or c == 47) and flags[cps[p + 1]] & LETTER:
                    extra += 2
                    p += 1
                    continue
        p += 1
    # contractions: one character, then n't / 's / 're / 've / 'll / 'd / 'm at the end (any case)
    n = j - i
    if n >= 2:
        l1 = cps[j - 1] | 32 if cps[j - 1] < 128 else cps[j - 1]
        if n >= 4 and l1 == 116 and _apos(cps[j - 2]) and (cps[j - 3] | 32) == 110:
            extra += 1
        elif n >= 3 and _apos(cps[j - 2]) and (l1 == 115 or l1 == 100 or l1 == 109):
            extra += 1
        elif n >= 4 and _apos(cps[j - 3]):
            l2 = cps[j - 2] | 32 if cps[j - 2] < 128 else cps[j - 2]
            if (l2 == 114 and l1 == 101) or (l2 == 118 and l1 == 101) or (l2 == 108 and l1 == 108):
                extra += 1
    return extra


@nb.njit(cache=True, inline="always")
def _apos(c):
    return c == 39 or c == 0x2019


@nb.njit(cache=True)
def _symbol_tokens(cps, i, j, tok_s, tok_e, word_flag, nt):
    """``rule_text._symbol_tokens``: the marks ``cps[i:j]`` as tokens from index nt (a run of "." or "-" is one)."""
    while i < j:
        k = i + 1
        if cps[i] == 46 or cps[i] == 45:
            while k < j and cps[k] == cps[i]:
                k += 1
        tok_s[nt] = i
        tok_e[nt] = k
        word_flag[nt] = False
        nt += 1
        i = k
    return nt


@nb.njit(cache=True)
def _split_chunk(cps, a, b, flags, link, tok_s, tok_e, word_flag, nt, extra):
    """``rule_text.split_chunk`` for a chunk with a non-symbol character: appends its tokens from index nt."""
    i = a
    while i < b and flags[cps[i]] & SYMBOL and (not link or flags[cps[i]] & OPENER):
        i += 1
    j = b
    while j > i and flags[cps[j - 1]] & SYMBOL and (not link or flags[cps[j - 1]] & TRAIL):
        j -= 1
    nt = _symbol_tokens(cps, a, i, tok_s, tok_e, word_flag, nt)
    tok_s[nt] = i
    tok_e[nt] = j
    word_flag[nt] = True
    extra[0] += 0 if link else _spacy_extra_tokens(cps, i, j, flags)
    return _symbol_tokens(cps, j, b, tok_s, tok_e, word_flag, nt + 1)


@nb.njit(cache=True)
def _tokenize(cps, n, flags, tok_s, tok_e, word_flag):
    """All tokens of ``cps[:n]``; returns (n_tokens, n_chunks, alpha_chunks, spaCy's extra in-word tokens);
    word_flag[t] marks words."""
    extra = np.zeros(1, dtype=np.int64)
    nt = 0
    n_chunks = 0
    alpha_chunks = 0
    i = 0
    while i < n:
        while i < n and flags[cps[i]] & SPACE:
            i += 1
        if i >= n:
            break
        a = i
        alpha = False
        all_sym = True
        has_at = False
        maybe_link = False
        while i < n:
            f = flags[cps[i]]
            if f & SPACE:
                break
            if f & ALPHA:
                alpha = True
            if f & SYMBOL:
                c = cps[i]
                if c == 64:
                    has_at = True
                    maybe_link = True
                elif c == 47 or c == 46:
                    maybe_link = True
            else:
                all_sym = False
            i += 1
        n_chunks += 1
        if alpha:
            alpha_chunks += 1
        if all_sym:
            nt = _symbol_tokens(cps, a, i, tok_s, tok_e, word_flag, nt)
        else:
            link = maybe_link and _is_link(cps, a, i, flags, has_at)
            nt = _split_chunk(cps, a, i, flags, link, tok_s, tok_e, word_flag, nt, extra)
    return nt, n_chunks, alpha_chunks, extra[0]


@nb.njit(cache=True)
def _content_lines(cps, n, flags, ls, le):
    """Lines split on "\\n" that hold a non-space character; returns their count."""
    m = 0
    a = 0
    for i in range(n + 1):
        if i == n or cps[i] == 10:
            content = False
            for k in range(a, i):
                if not flags[cps[k]] & SPACE:
                    content = True
                    break
            if content:
                ls[m] = a
                le[m] = i
                m += 1
            a = i + 1
    return m


@nb.njit(cache=True)
def _slot(table, counts, key):
    """Adds one to ``key``'s count; returns its slot."""
    mask = len(table) - 1
    i = np.int64(key & np.uint64(mask))
    while True:
        k = table[i]
        if k == key:
            counts[i] += 1
            return i
        if k == 0:
            table[i] = key
            counts[i] = 1
            return i
        i = (i + 1) & mask


@nb.njit(cache=True)
def _ngram_stats(wh, wl, nw, ns, want_top, want_dup, top_out, dup_out):
    """For each n in ``ns`` (ascending): characters of the most frequent n-gram's occurrences if it occurs twice or
    more, else 0 (``want_top``), and characters in n-grams seen earlier with datatrove's skip rule (``want_dup``).

    n-gram hashes and lengths are extended one word at a time from the (n-1)-grams', so all sizes cost one sweep.
    """
    if nw == 0:
        return
    gh = wh[:nw].copy()
    gc = wl[:nw].copy()
    slots = np.empty(nw, dtype=np.int64)
    cur = 1
    for q in range(len(ns)):
        n = ns[q]
        if nw < n:
            break
        while cur < n:
            for i in range(nw - cur):
                gh[i] = _mix((gh[i] * np.uint64(0x100000001B3)) ^ wh[i + cur] ^ np.uint64(cur))
                gc[i] += wl[i + cur] + 1
            cur += 1
        m = nw - n + 1
        if want_top[q]:
            table = _table(m)
            counts = np.zeros(len(table), dtype=np.int64)
            top = 0
            for i in range(m):
                slots[i] = _slot(table, counts, gh[i])
                if counts[slots[i]] > top:
                    top = counts[slots[i]]
            if top >= 2:
                for i in range(m):
                    if counts[slots[i]] == top:
                        top_out[q] = gc[i] * top
                        break
        if want_dup[q]:
            seen = _table(m)
            dup = 0
            i = 0
            while i < m:
                if _insert(seen, gh[i]):
                    dup += gc[i]
                    i += n
                else:
                    i += 1
            dup_out[q] = dup


# Output columns of _rule_stats
(N_CHARS, N_LINES, DUP_LINES, DUP_LINE_CHARS, N_PARAS, DUP_PARAS, DUP_PARA_CHARS, N_TOKENS, N_WORDS, WORD_CHARS,
 N_CHUNKS, ALPHA_CHUNKS, HASHES, ELLIPSES, BULLET_LINES, ELLIPSIS_LINES, STOP_WORDS, PUNCT_LINES, SHORT_LINES,
 NEWLINES, N_STATS) = range(21)


@nb.njit(cache=True)
def _rule_stats(buf, offsets, flags, lower, bullets, stop_hashes, max_stop_len, short_len, ns, want_top, want_dup,
                want_ngrams, want_dup_lines, want_paragraphs):
    nd = len(offsets) - 1
    out = np.zeros((nd, N_STATS), dtype=np.int64)
    top_out = np.zeros((nd, len(ns)), dtype=np.int64)
    dup_out = np.zeros((nd, len(ns)), dtype=np.int64)
    maxlen = 1
    for d in range(nd):
        maxlen = max(maxlen, offsets[d + 1] - offsets[d] + 1)
    cps = np.empty(maxlen, dtype=np.int32)
    ls = np.empty(maxlen, dtype=np.int64)
    le = np.empty(maxlen, dtype=np.int64)
    tok_s = np.empty(2 * maxlen + 2, dtype=np.int64)
    tok_e = np.empty(2 * maxlen + 2, dtype=np.int64)
    word_flag = np.empty(2 * maxlen + 2, dtype=np.bool_)
    wh = np.empty(maxlen, dtype=np.uint64)
    wl = np.empty(maxlen, dtype=np.int64)
    for d in range(nd):
        n = _decode(buf, offsets[d], offsets[d + 1], cps)
        o = out[d]
        o[N_CHARS] = n
        # lines
        m = _content_lines(cps, n, flags, ls, le)
        o[N_LINES] = m
        if want_dup_lines:
            o[DUP_LINES], o[DUP_LINE_CHARS] = _dup_ranges(cps, ls, le, m, lower)
        for j in range(m):
            a = ls[j]
            b = le[j]
            ln = b - a
            if ln <= short_len:
                o[SHORT_LINES] += 1
            if flags[cps[b - 1]] & STERM:
                o[PUNCT_LINES] += 1
            x = a
            while flags[cps[x]] & SPACE:
                x += 1
            for bc in bullets:
                if cps[x] == bc:
                    o[BULLET_LINES] += 1
                    break
            y = b
            while flags[cps[y - 1]] & SPACE:
                y -= 1
            if cps[y - 1] == 0x2026 or (y - a >= 3 and cps[y - 1] == 46 and cps[y - 2] == 46 and cps[y - 3] == 46):
                o[ELLIPSIS_LINES] += 1
        # paragraphs: text.strip() split on runs of 2+ "\n", whitespace-only ones dropped
        if want_paragraphs:
            s = 0
            while s < n and flags[cps[s]] & SPACE:
                s += 1
            e = n
            while e > s and flags[cps[e - 1]] & SPACE:
                e -= 1
            pm = 0
            a = s
            i = s
            while i <= e:
                if i == e or (cps[i] == 10 and i + 1 < e and cps[i + 1] == 10):
                    content = False
                    for k in range(a, i):
                        if not flags[cps[k]] & SPACE:
                            content = True
                            break
                    if content:
                        ls[pm] = a
                        le[pm] = i
                        pm += 1
                    if i == e:
                        break
                    while i < e and cps[i] == 10:
                        i += 1
                    a = i
                else:
                    i += 1
            o[N_PARAS] = pm
            o[DUP_PARAS], o[DUP_PARA_CHARS] = _dup_ranges(cps, ls, le, pm, lower)
        # characters
        run = 0
        for i in range(n):
            c = cps[i]
            if c == 10:
                o[NEWLINES] += 1
            elif c == 35:
                o[HASHES] += 1
            elif c == 0x2026:
                o[ELLIPSES] += 1
            if c == 46:
                run += 1
            else:
                o[ELLIPSES] += run // 3
                run = 0
        o[ELLIPSES] += run // 3
        # tokens and words
        nt, o[N_CHUNKS], o[ALPHA_CHUNKS], extra = _tokenize(cps, n, flags, tok_s, tok_e, word_flag)
        o[N_TOKENS] = nt + extra
        nw = 0
        stop_seen = np.uint64(0)
        for t in range(nt):
            if word_flag[t]:
                wl[nw] = tok_e[t] - tok_s[t]
                o[WORD_CHARS] += wl[nw]
                if len(stop_hashes) and wl[nw] <= max_stop_len:
                    lh = _hash_range(cps, tok_s[t], tok_e[t], lower, True)
                    for q in range(len(stop_hashes)):
                        if stop_hashes[q] == lh:
                            stop_seen |= np.uint64(1) << np.uint64(q)
                if want_ngrams:
                    wh[nw] = _hash_range(cps, tok_s[t], tok_e[t], lower, False)
                nw += 1
        o[N_WORDS] = nw
        cnt = 0
        while stop_seen:
            cnt += 1
            stop_seen &= stop_seen - np.uint64(1)
        o[STOP_WORDS] = cnt
        if want_ngrams:
            _ngram_stats(wh, wl, nw, ns, want_top, want_dup, top_out[d], dup_out[d])
    return out, top_out, dup_out


def _cps(s: str) -> np.ndarray:
    return np.array([ord(ch) for ch in s], dtype=np.int64)


def _lower_hash(word: str) -> int:
    flags, lower = char_tables()
    cps = _cps(word)
    return int(_hash_range(cps, 0, len(cps), lower, True))


def rule_stats(texts: pl.Series | list[str], bullets=("•",), stop_words=(), short_len: int = 30,
               top_ns=(), dup_ns=(), dup_lines: bool = True,
               paragraphs: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-document statistics (n_docs x N_STATS int64), top n-gram characters and duplicated n-gram characters."""
    flags, lower = char_tables()
    if len(stop_words) > 64:
        raise ValueError("stop_words: at most 64 words")
    if any(len(b) != 1 for b in bullets):
        raise ValueError("bullet_chars: single characters only")
    buf, offsets = utf8_buffer(texts)
    stop = np.unique(np.array([_lower_hash(w) for w in stop_words], dtype=np.uint64))
    ns = sorted(set(top_ns) | set(dup_ns))
    if any(n < 1 for n in ns):
        raise ValueError("n-gram sizes must be >= 1")
    st, top, dup = _rule_stats(
        buf, offsets, flags, lower, _cps("".join(bullets)), stop, max((len(w) for w in stop_words), default=0),
        short_len, np.array(ns, dtype=np.int64), np.array([n in top_ns for n in ns], dtype=np.bool_),
        np.array([n in dup_ns for n in ns], dtype=np.bool_), bool(ns), dup_lines, paragraphs)
    return st, top[:, [ns.index(n) for n in top_ns]], dup[:, [ns.index(n) for n in dup_ns]]


def gopher_quality_reasons(texts, config) -> list[str | None]:
    from curation.steps.gopher import gopher_quality_reason

    st, _, _ = rule_stats(texts, config.bullet_chars, config.stop_words, dup_lines=False, paragraphs=False)
    return [gopher_quality_reason(config, int(r[N_WORDS]), int(r[WORD_CHARS]), int(r[HASHES]), int(r[ELLIPSES]),
                                  int(r[N_LINES]), int(r[BULLET_LINES]), int(r[ELLIPSIS_LINES]), int(r[N_CHUNKS]),
                                  int(r[ALPHA_CHUNKS]), int(r[STOP_WORDS])) for r in st]


def gopher_repetition_reasons(texts, config) -> list[str | None]:
    from curation.steps.gopher import gopher_repetition_reason

    top_ns = [n for n, _ in config.top_n_grams]
    dup_ns = [n for n, _ in config.dup_n_grams]
    st, top, dup = rule_stats(texts, top_ns=top_ns, dup_ns=dup_ns)
    return [gopher_repetition_reason(config, int(r[N_CHARS]), int(r[N_PARAS]), int(r[DUP_PARAS]),
                                     int(r[DUP_PARA_CHARS]), int(r[N_LINES]), int(r[DUP_LINES]),
                                     int(r[DUP_LINE_CHARS]), dict(zip(top_ns, map(int, t))),
                                     dict(zip(dup_ns, map(int, u))))
            for r, t, u in zip(st, top, dup)]


def fineweb_reasons(texts, config) -> list[str | None]:
    from curation.steps.fineweb import fineweb_reason

    st, _, _ = rule_stats(texts, short_len=config.short_line_length, paragraphs=False)
    return [fineweb_reason(config, int(r[N_LINES]), int(r[PUNCT_LINES]), int(r[SHORT_LINES]), int(r[DUP_LINE_CHARS]),
                           int(r[N_CHARS] - r[NEWLINES]), int(r[NEWLINES]), int(r[N_TOKENS])) for r in st]


# C4 line cleanup (curation/steps/c4.py is the reference)
C4_KEEP, C4_LOREM, C4_CURLY, C4_FEW_SENTENCES = 0, 1, 2, 3
C4_REASONS = {C4_LOREM: "c4_lorem_ipsum", C4_CURLY: "c4_curly_bracket", C4_FEW_SENTENCES: "c4_too_few_sentences"}


@nb.njit(cache=True)
def _contains(low, n, pat):
    m = len(pat)
    for i in range(n - m + 1):
        if low[i] == pat[0]:
            ok = True
            for k in range(1, m):
                if low[i + k] != pat[k]:
                    ok = False
                    break
            if ok:
                return True
    return False


@nb.njit(cache=True)
def _citation_end(cps, i, b, flags, edit, needed):
    """End of a citation mark starting at ``cps[i] == '['`` (``\\[\\d*]|\\[edit]|\\[citation needed]``), or -1."""
    j = i + 1
    while j < b and flags[cps[j]] & DIGIT:
        j += 1
    if j < b and cps[j] == 93:
        return j + 1
    for pat in (edit, needed):
        if b - i >= len(pat):
            ok = True
            for k in range(len(pat)):
                if cps[i + k] != pat[k]:
                    ok = False
                    break
            if ok:
                return i + len(pat)
    return -1


@nb.njit(cache=True)
def _abbreviation(line, a, j, flags, abbrevs):
    """``c4.is_abbreviation`` on ``line[a:j]`` (the word before a single period, openers already skipped)."""
    n = j - a
    if n == 1 and flags[line[a]] & ALPHA:
        return True
    for i in range(a, j):
        if line[i] == 46:
            return True
    for pat in abbrevs:
        if len(pat) == n:
            same = True
            for k in range(n):
                if line[a + k] != pat[k]:
                    same = False
                    break
            if same:
                return True
    return False


@nb.njit(cache=True)
def _count_sentences(line, n, flags, abbrevs):
    """``c4.count_sentences``."""
    count = 1
    i = 0
    while i < n:
        if not flags[line[i]] & STERM:
            i += 1
            continue
        j = i
        only_periods = True
        while j < n and flags[line[j]] & STERM:
            if line[j] != 46:
                only_periods = False
            j += 1
        k = j
        while k < n and flags[line[k]] & CLOSER:
            k += 1
        spaced = k < n and flags[line[k]] & SPACE
        while k < n and flags[line[k]] & (SPACE | SYMBOL):
            k += 1
        if spaced and k < n:
            if j == i + 1 and line[i] == 46:
                a = i
                while a > 0 and not flags[line[a - 1]] & SPACE:
                    a -= 1
                while a < i and flags[line[a]] & OPENER:
                    a += 1
                if not _abbreviation(line, a, i, flags, abbrevs):
                    count += 1
            elif not only_periods:
                count += 1
        i = k
    return count


@nb.njit(cache=True)
def _grow(arr, need):
    if need <= len(arr):
        return arr
    out = np.empty(max(need, 2 * len(arr)), dtype=arr.dtype)
    out[: len(arr)] = arr
    return out


@nb.njit(cache=True)
def _c4(buf, offsets, flags, lower, opts, lorem, javascript, policies, edit, needed, abbrevs):
    """Per document a reason code; per kept line (document, start, end, citation removed) in code points."""
    remove_citations, filter_no_terminal_punct, min_sentences, min_words, max_word_length = (
        opts[0], opts[1], opts[2], opts[3], opts[4])
    filter_lorem, filter_js, filter_curly, filter_policy = opts[5], opts[6], opts[7], opts[8]
    nd = len(offsets) - 1
    reasons = np.zeros(nd, dtype=np.int64)
    kd = np.empty(1024, dtype=np.int64)
    ka = np.empty(1024, dtype=np.int64)
    kb = np.empty(1024, dtype=np.int64)
    kc = np.empty(1024, dtype=np.bool_)
    nk = 0
    maxlen = 1
    for d in range(nd):
        maxlen = max(maxlen, offsets[d + 1] - offsets[d] + 1)
    cps = np.empty(maxlen, dtype=np.int32)
    line = np.empty(maxlen, dtype=np.int32)
    low = np.empty(maxlen, dtype=np.int32)
    for d in range(nd):
        n = _decode(buf, offsets[d], offsets[d + 1], cps)
        first_kept = nk
        sentences = 0
        reason = C4_KEEP
        start = 0
        while start < n and reason == C4_KEEP:
            end = start
            while end < n and not flags[cps[end]] & LINEBREAK:
                end += 1
            nxt = end + 1
            if end < n and cps[end] == 13 and end + 1 < n and cps[end + 1] == 10:
                nxt = end + 2
            a = start
            b = end
            start = nxt
            while a < b and flags[cps[a]] & SPACE:
                a += 1
            while b > a and flags[cps[b - 1]] & SPACE:
                b -= 1
            if max_word_length >= 0:
                too_long = False
                w = 0
                for i in range(a, b + 1):
                    if i == b or flags[cps[i]] & SPACE:
                        if w > max_word_length:
                            too_long = True
                            break
                        w = 0
                    else:
                        w += 1
                if too_long:
                    continue
            ln = 0
            changed = False
            i = a
            while i < b:
                if remove_citations and cps[i] == 91:
                    e = _citation_end(cps, i, b, flags, edit, needed)
                    if e >= 0:
                        changed = True
                        i = e
                        continue
                line[ln] = cps[i]
                ln += 1
                i += 1
            if filter_no_terminal_punct:
                if ln == 0:
                    continue
                last = line[ln - 1]
                if not (last == 46 or last == 63 or last == 33 or last == 34 or last == 0x201D):
                    continue
                if ln >= 3 and line[ln - 1] == 46 and line[ln - 2] == 46 and line[ln - 3] == 46:
                    continue
            words = 0
            inword = False
            for i in range(ln):
                if flags[line[i]] & SPACE:
                    inword = False
                elif not inword:
                    inword = True
                    words += 1
            if words < min_words:
                continue
            for i in range(ln):
                low[i] = lower[line[i]]
            if filter_lorem and _contains(low, ln, lorem):
                reason = C4_LOREM
                break
            if filter_js and _contains(low, ln, javascript):
                continue
            if filter_curly:
                curly = False
                for i in range(ln):
                    if line[i] == 123:
                        curly = True
                        break
                if curly:
                    reason = C4_CURLY
                    break
            if filter_policy:
                hit = False
                for pat in policies:
                    if _contains(low, ln, pat):
                        hit = True
                        break
                if hit:
                    continue
            sentences += _count_sentences(line, ln, flags, abbrevs)
            kd = _grow(kd, nk + 1)
            ka = _grow(ka, nk + 1)
            kb = _grow(kb, nk + 1)
            kc = _grow(kc, nk + 1)
            kd[nk] = d
            ka[nk] = a
            kb[nk] = b
            kc[nk] = changed
            nk += 1
        if reason == C4_KEEP and sentences < min_sentences:
            reason = C4_FEW_SENTENCES
        if reason != C4_KEEP:
            nk = first_kept
        reasons[d] = reason
    return reasons, kd[:nk], ka[:nk], kb[:nk], kc[:nk]


def c4_reasons_and_texts(texts: pl.Series, config) -> tuple[list[str | None], list[str]]:
    """C4's decision per document and the cleaned text of each kept one (the input text for removed ones)."""
    from curation.steps.c4 import ABBREVIATIONS, CITATION_RE, POLICY_SUBSTRINGS

    flags, lower = char_tables()
    buf, offsets = utf8_buffer(texts)
    c = config
    opts = np.array([c.remove_citations, c.filter_no_terminal_punct, c.min_num_sentences, c.min_words_per_line,
                     c.max_word_length, c.filter_lorem_ipsum, c.filter_javascript, c.filter_curly_bracket,
                     c.filter_policy], dtype=np.int64)
    policies = nb.typed.List()
    for p in POLICY_SUBSTRINGS:
        policies.append(_cps(p))
    abbrevs = nb.typed.List()
    for a in sorted(ABBREVIATIONS):
        abbrevs.append(_cps(a))
    codes, kd, ka, kb, kc = _c4(buf, offsets, flags, lower, opts, _cps("lorem ipsum"), _cps("javascript"),
                                policies, _cps("[edit]"), _cps("[citation needed]"), abbrevs)
    values = texts.to_list()
    out = list(values)
    bounds = np.searchsorted(kd, np.arange(len(values) + 1))
    for d in np.flatnonzero(codes == C4_KEEP):
        text = values[d]
        lo, hi = bounds[d], bounds[d + 1]
        out[d] = "\n".join(
            CITATION_RE.sub("", text[a:b]) if changed else text[a:b]
            for a, b, changed in zip(ka[lo:hi].tolist(), kb[lo:hi].tolist(), kc[lo:hi].tolist())
        ).strip()
    return [C4_REASONS.get(int(code)) for code in codes], out


@nb.njit(cache=True)
def _unsegmented_share(buf, offsets, flags):
    nd = len(offsets) - 1
    out = np.zeros(nd, dtype=np.float64)
    cps = np.empty(1, dtype=np.int32)
    for d in range(nd):
        n_bytes = offsets[d + 1] - offsets[d]
        if len(cps) < n_bytes:
            cps = np.empty(n_bytes, dtype=np.int32)
        n = _decode(buf, offsets[d], offsets[d + 1], cps)
        letters = 0
        unseg = 0
        for i in range(n):
            f = flags[cps[i]]
            if f & ALPHA:
                letters += 1
                if f & UNSEGMENTED:
                    unseg += 1
        out[d] = unseg / letters if letters else 0.0
    return out


def unsegmented_letter_share(texts: pl.Series | list[str]) -> np.ndarray:
    """Per text, the share of its letters in scripts written without spaces (Han, Kana, Thai, Lao, Khmer, ...)."""
    flags, _ = char_tables()
    buf, offsets = utf8_buffer(texts)
    return _unsegmented_share(buf, offsets, flags)
