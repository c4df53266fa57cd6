"""Normalize, exact dedup and MinHash-LSH on real messages with controlled edits."""

import gzip
import json

import numpy as np
import polars as pl
import pytest

from curation.dedup.clusters import connected_components
from curation.runner import run_frames
from curation.steps.exact_dedup import ExactDedupConfig
from curation.steps.minhash import MinHashConfig
from curation.steps.normalize import Normalize, NormalizeConfig
from tests.conftest import shared


def frame(texts, ids=None):
    ids = ids or [f"d{i}" for i in range(len(texts))]
    return pl.DataFrame({"id": ids, "text": texts, "metadata": ["{}"] * len(texts), "source": [f"f:{i}" for i in range(len(texts))]})


@pytest.fixture(scope="module")
def wiki_paragraphs():
    lines = shared("lm", "wikitext-2_test.txt").read_text().splitlines()
    return [ln.strip() for ln in lines if len(ln.split()) > 80][:40]


def test_normalize_nfc_and_whitespace():
    kept, removed = Normalize(NormalizeConfig()).run(frame(["Cafe\u0301  au\tlait \r\n\r\n\r\n\r\nnext  ", " \n\t "]))
    assert kept["text"].to_list() == ["Caf\u00e9 au lait\n\nnext"]
    assert removed["reason"].to_list() == ["normalize_empty_text"]


def test_exact_dedup_keeps_first_across_shards_and_points_to_it(tmp_path):
    docs = frame(["Same text here.", "Other text.", "Same   text here.", "Other text.", "new"], list("abcde"))
    shards = [docs[:3], docs[3:]]
    kept, removed = run_frames(ExactDedupConfig(), shards, tmp_path, partitions=3)
    assert kept["id"].to_list() == ["a", "b", "e"]
    # duplicate_of is the keeper's source (the run-unique key), not its id: ids may repeat across files
    assert removed["id"].to_list() == ["c", "d"] and removed["duplicate_of"].to_list() == ["f:0", "f:1"]
    assert removed["reason"].to_list() == ["exact_duplicate"] * 2 and removed["cluster_id"].null_count() == 0


@pytest.fixture
def run_minhash(tmp_path):
    calls = iter(range(100))

    def run(texts, ids=None, **cfg):
        batch = frame(texts, ids)
        return run_frames(MinHashConfig(**cfg), [batch[:3], batch[3:]], tmp_path / str(next(calls)), partitions=2)

    return run


def edit(text: str, every: int) -> str:
    words = text.split()
    return " ".join(w.upper() + "x" if i % every == 0 else w for i, w in enumerate(words))


@pytest.mark.parametrize("engine", ["winnow", "datasketch"])
def test_minhash_finds_lightly_edited_copies(wiki_paragraphs, run_minhash, engine):
    base = wiki_paragraphs[:6]
    texts = base + [edit(base[0], 60), edit(base[2], 50) + " appended words at the end"]
    kept, removed = run_minhash(texts, engine=engine)
    assert kept["id"].to_list() == [f"d{i}" for i in range(6)]
    assert removed["id"].to_list() == ["d6", "d7"]
    assert removed["duplicate_of"].to_list() == ["f:0", "f:2"]  # the sources of d0 and d2
    assert removed["cluster_id"].to_list() == [0, 2]
    assert set(removed["reason"]) == {"near_duplicate"}


def test_minhash_keep_longest(wiki_paragraphs, run_minhash):
    short = wiki_paragraphs[0]
    longer = short + " " + " ".join(short.split()[:6])
    kept, removed = run_minhash([short, "unrelated words in a short line", longer, wiki_paragraphs[1]], keep="longest")
    assert removed["id"].to_list() == ["d0"] and removed["duplicate_of"].to_list() == ["f:2"]  # d2's source


def test_heavily_edited_copies_are_not_merged(wiki_paragraphs, run_minhash):
    texts = wiki_paragraphs[:4] + [edit(wiki_paragraphs[0], 3)]
    _, removed = run_minhash(texts)
    assert removed.height == 0


def test_short_texts_are_not_all_one_cluster(run_minhash):
    texts = ["hello there", "good bye now", "hello there", "yes", "no", "ok then"]
    kept, removed = run_minhash(texts)
    assert removed["id"].to_list() == ["d2"]  # only the identical short text


def test_connected_components_labels_by_smallest_member():
    labels = connected_components(6, np.array([4, 1, 5]), np.array([1, 3, 2]))
    assert labels.tolist() == [0, 1, 2, 1, 1, 2]
    assert connected_components(3, np.zeros(0, dtype=int), np.zeros(0, dtype=int)).tolist() == [0, 1, 2]


def test_minhash_on_real_spam_campaigns(run_minhash):
    """Exact-count regression: raw SpamAssassin spam-2 messages (headers differ, bodies repeat)."""
    with gzip.open(shared("mail", "spamassassin.jsonl.gz"), "rt") as fh:
        rows = [json.loads(line) for line in fh]
    spam = [r for r in rows if r["group"] == "spam-2"]
    from curation.steps.mail_body import message_body

    texts = [message_body(r["text"])[1] for r in spam]
    keep = [i for i, t in enumerate(texts) if t.strip()]
    kept, removed = run_minhash([texts[i] for i in keep], [spam[i]["id"] for i in keep])
    assert kept.height + removed.height == len(keep)
    assert removed.height == EXPECTED_SPAM2_NEAR_DUPS
    dup_of = set(removed["duplicate_of"])
    assert dup_of <= set(kept["source"])  # every removed copy points at a document that was kept


EXPECTED_SPAM2_NEAR_DUPS = 470  # datasketch engine: 474


@pytest.mark.parametrize("verify", ["estimated", "exact"])
def test_pair_check_keeps_candidates_below_the_threshold(wiki_paragraphs, run_minhash, verify):
    texts = wiki_paragraphs[:4] + [edit(wiki_paragraphs[0], 60), wiki_paragraphs[1]]
    _, unchecked = run_minhash(texts)
    assert unchecked["id"].to_list() == ["d4", "d5"]
    _, checked = run_minhash(texts, verify=verify, verify_threshold=0.99)
    assert checked["id"].to_list() == ["d5"]  # only the identical copy passes a 0.99 check


def test_winnow_signatures_fill_a_datasketch_index():
    from datasketch import MinHashLSH

    from curation.dedup.signatures import minhash_signatures, to_datasketch

    lines = [ln for ln in shared("lm", "wikitext-2_test.txt").read_text().splitlines() if len(ln.split()) > 80][:30]
    lsh = MinHashLSH(num_perm=112, params=(14, 8))
    for i, m in enumerate(to_datasketch(minhash_signatures(lines))):
        lsh.insert(f"d{i}", m)
    query = to_datasketch(minhash_signatures([edit(lines[7], 70)]))[0]
    assert lsh.query(query) == ["d7"]
