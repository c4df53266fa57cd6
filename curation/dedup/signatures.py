"""MinHash signatures without a Python call per shingle: one numba pass from UTF-8 bytes to 32-bit minima.

Tokens are exactly ``curation.text.dedup_tokens`` (the datasketch engine's), read from the same two tables:
each code point is folded (lower case, full/half width, Traditional to Simplified Chinese), then it is part of a
word (letters, marks, digits, "_"), a token of its own (a character of a script written without spaces: Han,
Kana, Thai, Lao, Khmer, Myanmar), or a separator. Each token is FNV-1a hashed over its folded code points,
k consecutive token hashes are combined into a 64-bit shingle hash (a text with fewer than k tokens is one
shingle of all its tokens; a text with none has no shingles), and permutation j is the murmur3 finaliser of the
shingle hash xor a per-permutation seed. ``SIGNATURE_VERSION`` changes whenever any of this changes, and is
stored with the signatures and in every cache fingerprint (winnow-minhash-1 split words on ASCII only, so a
Chinese paragraph was one word and only exact copies matched).
"""

from __future__ import annotations

import numba as nb
import numpy as np
import polars as pl
import pyarrow as pa

from curation.text import token_tables

SIGNATURE_VERSION = "winnow-minhash-2"
EMPTY = np.uint32(0xFFFFFFFF)
_FNV_OFFSET = np.uint64(0xCBF29CE484222325)
_FNV_PRIME = np.uint64(0x100000001B3)


def permutation_seeds(num_perm: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 2**32, num_perm, dtype=np.uint64).astype(np.uint32)


@nb.njit(cache=True, inline="always")
def _mix64(z):
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@nb.njit(cache=True, inline="always")
def utf8_code_point(buf, i):
    """(code point, byte length) of the UTF-8 sequence starting at ``buf[i]`` (its continuation bytes unchecked)."""
    c = np.int64(buf[i])
    if c < 0x80:
        return c, 1
    if c < 0xE0:
        cp, size = c & 0x1F, 2
    elif c < 0xF0:
        cp, size = c & 0x0F, 3
    else:
        cp, size = c & 0x07, 4
    for t in range(1, size):
        if i + t < len(buf):
            cp = (cp << 6) | (np.int64(buf[i + t]) & 0x3F)
    return cp, size


@nb.njit(cache=True)
def _token_hashes(buf, start, end, fold, kind, out, kinds):
    """FNV-1a hashes of the folded code points of each token of ``buf[start:end]`` (``curation.text.dedup_tokens``)
    into ``out``, each token's kind (``curation.text.TOKEN_*``) into ``kinds``; returns the number of tokens."""
    n = 0
    h = _FNV_OFFSET
    inword = False
    i = start
    while i < end:
        cp, size = utf8_code_point(buf, i)
        if i + size > end:  # truncated sequence (not in valid UTF-8): stop
            break
        i += size
        cp = fold[min(cp, 0x10FFFF)]
        k = kind[cp]
        if k == 1:
            h = (h ^ np.uint64(cp)) * _FNV_PRIME
            inword = True
            continue
        if inword:
            out[n] = h
            kinds[n] = 1
            n += 1
            h = _FNV_OFFSET
            inword = False
        if k >= 2:
            out[n] = (_FNV_OFFSET ^ np.uint64(cp)) * _FNV_PRIME
            kinds[n] = k
            n += 1
    if inword:
        out[n] = h
        kinds[n] = 1
        n += 1
    return n


@nb.njit(cache=True)
def _shingle_hashes(words, m, k, out):
    """Writes the 32-bit hashes of the text's k-shingles into ``out``; returns how many."""
    if m == 0:
        return 0
    cnt = m - k + 1 if m >= k else 1
    kk = k if m >= k else m
    for i in range(cnt):
        h = np.uint64(0)
        for t in range(kk):
            h = h * np.uint64(0x9E3779B97F4A7C15) + words[i + t]
        out[i] = np.uint32(_mix64(h) & np.uint64(0xFFFFFFFF))
    return cnt


@nb.njit(cache=True, nogil=True)
def _signatures(buf, offsets, k, seeds, fold, kind):
    n = len(offsets) - 1
    perms = len(seeds)
    out = np.full((n, perms), np.uint32(0xFFFFFFFF), dtype=np.uint32)
    maxlen = 1
    for d in range(n):
        maxlen = max(maxlen, offsets[d + 1] - offsets[d] + 1)
    words = np.empty(maxlen, dtype=np.uint64)
    kinds = np.empty(maxlen, dtype=np.uint8)
    xs = np.empty(maxlen, dtype=np.uint32)
    for d in range(n):
        m = _token_hashes(buf, offsets[d], offsets[d + 1], fold, kind, words, kinds)
        cnt = _shingle_hashes(words, m, k, xs)
        for j in range(perms):
            sd = seeds[j]
            mn = np.uint32(0xFFFFFFFF)
            for i in range(cnt):
                v = np.uint32(xs[i] ^ sd)  # murmur3 fmix32, kept in 32 bits (numba widens scalars)
                v = np.uint32(v ^ (v >> np.uint32(16)))
                v = np.uint32(v * np.uint32(0x85EBCA6B))
                v = np.uint32(v ^ (v >> np.uint32(13)))
                v = np.uint32(v * np.uint32(0xC2B2AE35))
                v = np.uint32(v ^ (v >> np.uint32(16)))
                if v < mn:
                    mn = v
            out[d, j] = mn
    return out


@nb.njit(cache=True, nogil=True)
def _shingle_sets(buf, offsets, k, fold, kind):
    """All shingle hashes of every text, flat, with per-text offsets (exact Jaccard checks and benchmarks)."""
    n = len(offsets) - 1
    total = offsets[n] - offsets[0] + n
    flat = np.empty(total, dtype=np.uint32)
    starts = np.zeros(n + 1, dtype=np.int64)
    words = np.empty(max(1, offsets[n] - offsets[0] + 1), dtype=np.uint64)
    kinds = np.empty(len(words), dtype=np.uint8)
    pos = 0
    for d in range(n):
        m = _token_hashes(buf, offsets[d], offsets[d + 1], fold, kind, words, kinds)
        cnt = _shingle_hashes(words, m, k, flat[pos:])
        pos += cnt
        starts[d + 1] = pos
    return flat[:pos], starts


@nb.njit(cache=True, nogil=True)
def _token_streams(buf, offsets, fold, kind):
    n = len(offsets) - 1
    flat = np.empty(max(1, offsets[n] - offsets[0]), dtype=np.uint64)
    kinds = np.empty(len(flat), dtype=np.uint8)
    starts = np.zeros(n + 1, dtype=np.int64)
    pos = 0
    for d in range(n):
        pos += _token_hashes(buf, offsets[d], offsets[d + 1], fold, kind, flat[pos:], kinds[pos:])
        starts[d + 1] = pos
    return flat[:pos], kinds[:pos], starts


def utf8_buffer(texts: pl.Series | list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Zero-copy view of a string column as one UTF-8 byte buffer and int64 offsets."""
    arr = pa.array(texts, type=pa.large_string()) if isinstance(texts, list) else texts.to_arrow()
    arr = arr.cast(pa.large_string())
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if arr.null_count:
        arr = arr.fill_null("")
    _, offsets_buf, data_buf = arr.buffers()
    offsets = np.frombuffer(offsets_buf, dtype=np.int64)[arr.offset : arr.offset + len(arr) + 1]
    data = np.frombuffer(data_buf, dtype=np.uint8) if data_buf is not None else np.zeros(1, dtype=np.uint8)
    return data, offsets


def minhash_signatures(texts: pl.Series | list[str], num_perm: int = 112, ngram: int = 5, seed: int = 1) -> np.ndarray:
    """(n, num_perm) uint32 signatures; a row of all 0xFFFFFFFF means the text had no words."""
    data, offsets = utf8_buffer(texts)
    return _signatures(data, offsets, ngram, permutation_seeds(num_perm, seed), *token_tables())


def shingle_sets(texts: pl.Series | list[str], ngram: int = 5) -> list[np.ndarray]:
    """Distinct shingle hashes per text, the same shingles the signatures summarise."""
    data, offsets = utf8_buffer(texts)
    flat, starts = _shingle_sets(data, offsets, ngram, *token_tables())
    return [np.unique(flat[starts[i] : starts[i + 1]]) for i in range(len(starts) - 1)]


def token_hashes(texts: pl.Series | list[str]) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per text, (uint64 hash, uint8 kind) of each token in order (``curation.text.dedup_tokens``; the kinds are
    ``curation.text.TOKEN_WORD``, ``TOKEN_CJK`` or ``TOKEN_LETTER``). Decontamination's n-grams read these."""
    data, offsets = utf8_buffer(texts)
    flat, kinds, starts = _token_streams(data, offsets, *token_tables())
    return [(flat[starts[i] : starts[i + 1]], kinds[starts[i] : starts[i + 1]]) for i in range(len(starts) - 1)]


def is_empty(signatures: np.ndarray) -> np.ndarray:
    return (signatures == EMPTY).all(axis=1)


def estimated_jaccard(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise fraction of equal minima: an unbiased estimate of the shingle-set Jaccard."""
    return (a == b).mean(axis=-1)


@nb.njit(cache=True, nogil=True)
def _band_hashes(sigs, bands, rows):
    n = sigs.shape[0]
    out = np.empty((n, bands), dtype=np.uint64)
    for d in range(n):
        for b in range(bands):
            h = np.uint64(b + 1) * np.uint64(0x9E3779B97F4A7C15)
            for r in range(rows):
                h = _mix64(h ^ np.uint64(sigs[d, b * rows + r]))
            out[d, b] = h
    return out


def band_hashes(signatures: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """(n, bands) uint64: two documents share a bucket in band b iff their rows of band b agree (barring 2^-64)."""
    return _band_hashes(np.ascontiguousarray(signatures), bands, rows)


def to_datasketch(signatures: np.ndarray, seed: int = 1) -> list:
    """winnow signatures as datasketch LeanMinHash objects, to fill a ``MinHashLSH`` for streaming queries.

    Query the index with ``to_datasketch(minhash_signatures([text]))[0]`` (same hashing on both sides).
    """
    from datasketch import LeanMinHash, MinHash

    return [
        LeanMinHash(MinHash(num_perm=len(row), seed=seed, hashvalues=row.astype(np.uint64), scheme="affine32"))
        for row in signatures
    ]
