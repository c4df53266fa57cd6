"""Near-dedup in every script, on the real multilingual text in ../shared/data/multilingual (see its SOURCE.md).

Chinese, Japanese and Thai are written without spaces between words: winnow-minhash-1 split words on ASCII only,
so a whole Chinese paragraph was one "word" and only exact copies were found (text-dedup#103). Tokens are now
single characters in those scripts and words elsewhere, folded (case, width, Traditional -> Simplified), and both
engines hash exactly the same shingles.
"""

import json
import tempfile
from functools import lru_cache

import numpy as np
import polars as pl
import pytest

from curation.dedup.signatures import band_hashes, minhash_signatures, shingle_sets
from curation.runner import run_frames
from curation.steps.minhash import MinHashConfig, datasketch_signatures
from curation.text import dedup_tokens, shingles, unsegmented_share
from tests.conftest import SHARED, shared

LANGS = ["zh", "ja", "th", "ko", "ar", "hi", "ru", "de", "fr", "es"]


@lru_cache(maxsize=None)
def records(lang: str) -> tuple[dict, ...]:
    return tuple(json.loads(line) for line in shared("multilingual", f"{lang}.jsonl").read_text().splitlines())


@lru_cache(maxsize=1)
def pairs() -> tuple[dict, ...]:
    path = shared("multilingual", "neardup_pairs_zh_ja.jsonl")
    return tuple(json.loads(line) for line in path.read_text().splitlines())


def frame(ids: list[str], texts: list[str]) -> pl.DataFrame:
    # source = id, so duplicate_of names the same document whether it is keyed by id or by source
    return pl.DataFrame({"id": ids, "text": texts, "metadata": ["{}"] * len(ids), "source": ids})


def run_minhash(ids, texts, **cfg):
    batch = frame(ids, texts)
    with tempfile.TemporaryDirectory() as tmp:
        return run_frames(MinHashConfig(**cfg), [batch[: batch.height // 2], batch[batch.height // 2 :]], tmp,
                          partitions=2)


# --- tokens and shingles --------------------------------------------------------------------------------------

def test_tokens_are_characters_in_unsegmented_scripts_and_words_elsewhere():
    assert dedup_tokens("今年春天，江城舉辦了 Python 讀書節。") == [
        "今", "年", "春", "天", "江", "城", "举", "办", "了", "python", "读", "书", "节"]  # Traditional folded
    assert dedup_tokens("ＡＢＣ１２３ ｶﾀｶﾅ。") == ["abc123", "カ", "タ", "カ", "ナ"]  # width folded
    assert dedup_tokens("ภาษาไทย ดี") == list("ภาษาไทยดี")  # Thai: combining vowels are tokens too
    assert dedup_tokens("हिन्दी भाषा") == ["हिन्दी", "भाषा"]  # marks stay inside words (Python's \w splits them)
    assert dedup_tokens("Москва — СТОЛИЦА, 한국어 문장, العربية!") == ["москва", "столица", "한국어", "문장", "العربية"]
    assert shingles("今年春天，江城", 5) == ["今 年 春 天 江", "年 春 天 江 城"]
    assert shingles("two words", 5) == ["two words"] and shingles("…!", 5) == []
    assert unsegmented_share("今年春天 reading") == 0.8 and unsegmented_share("plain English") == 0.0


M64 = (1 << 64) - 1


def reference_shingle_hashes(text: str, n: int = 5) -> set[int]:
    """The numba engine's hashing written out in Python over ``curation.text.shingles`` (the datasketch engine's
    shingles): FNV-1a over each token's code points, tokens combined by h*golden + t, splitmix64, low 32 bits."""
    out = set()
    for gram in shingles(text, n):
        h = 0
        for token in gram.split(" "):
            t = 0xCBF29CE484222325
            for ch in token:
                t = ((t ^ ord(ch)) * 0x100000001B3) & M64
            h = (h * 0x9E3779B97F4A7C15 + t) & M64
        h = ((h ^ (h >> 30)) * 0xBF58476D1CE4E5B9) & M64
        h = ((h ^ (h >> 27)) * 0x94D049BB133111EB) & M64
        out.add((h ^ (h >> 31)) & 0xFFFFFFFF)
    return out


@pytest.mark.parametrize("lang", LANGS)
def test_both_engines_shingle_every_document_identically(lang):
    texts = [r["text"] for r in records(lang)][::8]  # an eighth of each file, every source in it
    if lang in ("zh", "ja"):
        texts += [p["b_text"] for p in pairs() if p["lang"] == lang]  # edited copies: spaces, ASCII punctuation
    numba_sets = [set(s.tolist()) for s in shingle_sets(texts)]
    assert numba_sets == [reference_shingle_hashes(t) for t in texts]


# --- the user case and labelled pairs ---------------------------------------------------------------------------

@pytest.mark.parametrize("engine", ["winnow", "datasketch"])
def test_cjk_near_dup_case(engine):
    """cases/cjk-near-dup: the Chinese near copy (1 character changed in 174) goes like the English one."""
    path = SHARED.parent / "cases" / "cjk-near-dup" / "input.jsonl"
    rows = [json.loads(x) for x in path.read_text().splitlines()]
    kept, removed = run_minhash([r["id"] for r in rows], [r["text"] for r in rows], engine=engine)
    assert kept["id"].to_list() == ["zh-a", "zh-c", "en-a"]
    assert removed["id"].to_list() == ["zh-b-near-copy", "en-b-near-copy"]
    assert removed["duplicate_of"].to_list() == ["zh-a", "en-a"]


def candidate_pairs_found(engine: str) -> np.ndarray:
    """Whether each labelled pair shares a 14 x 8 LSH bucket (what makes the step compare them)."""
    a, b = [p["a_text"] for p in pairs()], [p["b_text"] for p in pairs()]
    if engine == "winnow":
        sa, sb = minhash_signatures(a), minhash_signatures(b)
    else:
        sa, sb = datasketch_signatures(a, 112, 5, 1), datasketch_signatures(b, 112, 5, 1)
    return (band_hashes(sa, 14, 8) == band_hashes(sb, 14, 8)).any(axis=1)


# Found pairs per edit (of 25 per language; negatives of 75), winnow engine. The misses are the edits that push
# the character-5-gram Jaccard below the LSH threshold (1/14)^(1/8) = 0.72: 10 % of characters replaced (SOURCE.md:
# Jaccard 0.40-0.66), the last 30 % cut, a sentence deleted from a short paragraph. Punctuation made ASCII and
# spaces/newlines inserted are found in full: punctuation and spaces are not tokens. winnow-minhash-1 found 21 of
# these 450 and 1 of the 1,000 Traditional/Simplified pairs.
EXPECTED_FOUND = {
    ("zh", "append_foreign_sentence"): 25, ("zh", "char_substitute_10pct"): 2, ("zh", "char_substitute_3pct"): 23,
    ("zh", "delete_sentence"): 23, ("zh", "insert_boilerplate"): 25, ("zh", "punct_halfwidth"): 25,
    ("zh", "swap_adjacent_sentences"): 25, ("zh", "truncate_70pct"): 16, ("zh", "whitespace_noise"): 25,
    ("zh", "same_article_other_paragraph"): 0,
    ("ja", "append_foreign_sentence"): 22, ("ja", "char_substitute_10pct"): 2, ("ja", "char_substitute_3pct"): 23,
    ("ja", "delete_sentence"): 15, ("ja", "insert_boilerplate"): 25, ("ja", "punct_halfwidth"): 25,
    ("ja", "swap_adjacent_sentences"): 25, ("ja", "truncate_70pct"): 12, ("ja", "whitespace_noise"): 25,
    ("ja", "same_article_other_paragraph"): 0,
    ("zh", "traditional_vs_simplified_script"): 988,  # of 1,000 real UD GSD / GSDSimp sentence pairs
}


def test_labelled_zh_ja_pairs_precision_and_recall():
    found = candidate_pairs_found("winnow")
    per_edit: dict = {}
    for p, f in zip(pairs(), found):
        per_edit[(p["lang"], p["edit"])] = per_edit.get((p["lang"], p["edit"]), 0) + int(f)
    assert per_edit == EXPECTED_FOUND
    label = np.array([p["label"] for p in pairs()])
    constructed = np.array([p["kind"] == "constructed" for p in pairs()])
    # precision 1.0: none of the 150 hard negatives (two paragraphs of one article) is a candidate;
    # recall 363 / 450 = 0.807 on constructed edits, 988 / 1000 = 0.988 on the real script pairs
    assert int((found & (label == 0)).sum()) == 0
    assert (int((found & constructed).sum()), int((found & ~constructed).sum())) == (363, 988)


def test_datasketch_engine_on_the_labelled_pairs():
    """Same shingles, other hash functions: the counts differ by sampling only (winnow: 363 and 988)."""
    found = candidate_pairs_found("datasketch")
    label = np.array([p["label"] for p in pairs()])
    constructed = np.array([p["kind"] == "constructed" for p in pairs()])
    assert int((found & (label == 0)).sum()) == 0
    assert (int((found & constructed).sum()), int((found & ~constructed).sum())) == (353, 983)


# --- planted near copies in whole corpora --------------------------------------------------------------------

def _sentences(text: str) -> list[str]:
    import re

    return [s for s in re.split(r"(?<=[。！？!?.।])\s*", text) if s]


def _one_token_changed(text: str) -> str:
    """The middle token replaced by another token of the text (a typo-level edit in any script)."""
    toks = dedup_tokens(text)
    middle = toks[len(toks) // 2]
    other = next(t for t in toks[len(toks) // 3 :] if t != middle)
    at = text.lower().find(middle, len(text) // 3)
    return text[:at] + other + text[at + len(middle):] if at >= 0 else text + " " + other


def _spaced(text: str) -> str:
    """Badly scraped copy: a newline after each sentence, spaces doubled, ASCII punctuation; in Chinese, Japanese
    and Thai also a space after every 7th character (spaces there are not word boundaries)."""
    text = text.translate(str.maketrans("，。（）：；！？、", ",.():;!?,")).replace(" ", "  ")
    if unsegmented_share(text) > 0.5:
        return "\n".join(" ".join(s[i : i + 7] for i in range(0, len(s), 7)) for s in _sentences(text))
    return "\n".join(_sentences(text))


def _other_sentence_appended(text: str, other: str) -> str:
    return text + " " + _sentences(other)[0][:60]


def korean_gsd_paragraphs() -> list[tuple[str, str]]:
    """Korean test docs: 12 consecutive UD Korean-GSD sentences each (CC BY-SA). KorQuAD is CC BY-ND: no edits."""
    gsd = [r for r in records("ko") if r["id"].startswith("ud-")]
    return [(f"ko-gsd-par-{i}", " ".join(r["text"] for r in gsd[i : i + 12])) for i in range(0, 600, 12)]


# Near duplicates already in each whole file (winnow engine, found before planting), so the planted copies are
# the only additions: th 1 (two iApp product pages, same template), ru 8 (Taiga posts differing by an emoji or
# case), ar 13 (ARCD paragraph pairs where one is the other's first part), ko 0 in the GSD paragraphs.
NATURAL = {"zh": 0, "ja": 0, "th": 1, "ar": 13, "hi": 0, "ru": 8, "ko": 0}


@pytest.mark.parametrize("lang", list(NATURAL))
def test_planted_near_copies_are_removed_from_whole_corpora(lang):
    if lang == "ko":
        docs = korean_gsd_paragraphs()
    else:
        docs = [(r["id"], r["text"]) for r in records(lang)]
    long = [i for i, (_, t) in enumerate(docs) if len(t) >= 200]
    originals = [long[5], long[len(long) // 3], long[len(long) // 2], long[-5]]
    edits = [_one_token_changed, _spaced, lambda t: _other_sentence_appended(t, docs[long[7]][1])]
    if lang == "zh":
        import opencc

        edits.append(opencc.OpenCC("s2t").convert)  # the same paragraph in Traditional script
    planted = [(f"copy-{k}-of-{docs[o][0]}", edit(docs[o][1])) for k, (o, edit) in enumerate(zip(originals, edits))]
    assert all(text != docs[o][1] for (_, text), o in zip(planted, originals))
    ids, texts = zip(*(docs + planted))
    kept, removed = run_minhash(list(ids), list(texts))
    dup_of = dict(zip(removed["id"], removed["duplicate_of"]))
    assert {pid: dup_of.get(pid) for pid, _ in planted} == {pid: docs[o][0] for (pid, _), o in zip(planted, originals)}
    assert removed.height == NATURAL[lang] + len(planted)
    assert kept.height == len(docs) - NATURAL[lang]
