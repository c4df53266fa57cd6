"""The pretraining ablation's pieces: cluster hold-out without leakage, WSD schedule shape, bits per byte, n-gram
baselines, the random subset's size. The run itself is a benchmark (benchmarks/pretrain_ablation.py), not a test."""

from __future__ import annotations

import json
import gzip
import math

import numpy as np
import pytest

from evals.bits_per_byte import EvalSet, bits_per_byte, ngram_doc_nats
from evals.pretrain_data import cluster_holdout, duplicate_clusters, random_subset_at_tokens
from evals.wsd import packed_blocks, schedule, wsd_multiplier
from tests.conftest import shared


def test_bits_per_byte_arithmetic():
    # 1 bit per byte: ln 2 nats for each of 10 bytes; a uniform 256-way byte model costs exactly 8 bits per byte
    assert bits_per_byte(10 * math.log(2), 10) == pytest.approx(1.0)
    assert bits_per_byte(5 * math.log(256), 5) == pytest.approx(8.0)
    with pytest.raises(ValueError):
        bits_per_byte(1.0, 0)


def test_eval_set_scores_every_token_of_every_document():
    # two documents of 3 and 2 tokens: targets are 3 + 1 (end) and 2 + 1, each owned by its document
    es = EvalSet.from_documents([np.array([5, 6, 7]), np.array([8, 9])], ["abcd", "é"], eos=0)
    assert es.tokens.tolist() == [0, 5, 6, 7, 0, 8, 9, 0]
    assert es.doc.tolist() == [0, 0, 0, 0, 1, 1, 1]
    assert es.doc_bytes.tolist() == [4, 2]  # "é" is 2 UTF-8 bytes
    x, y = es.windows(4)
    assert x.shape == (2, 4) and (y != -100).sum() == 7  # the tail window is padded, no target lost
    nats = np.array([4 * math.log(2), 2 * math.log(2)])
    assert es.bpb(nats) == pytest.approx(1.0)
    assert es.bpb(nats, np.array([1])) == pytest.approx(1.0)


def test_ngram_baselines_match_hand_counts():
    # train stream a b a b (ids 1 2 1 2), vocabulary 3: unigram Witten-Bell P(1) = 2/(4+2) = 1/3, unseen id 0 gets
    # T/(N+T) = 2/6 over 1 unseen type; bigram P(2 | 1) = (c(1,2)=2 + T(1)=1 * 1/3) / (c(1)=2 + 1) = 7/9
    train = np.array([1, 2, 1, 2])
    es = EvalSet(tokens=np.array([1, 2]), doc=np.array([0], dtype=np.int32), doc_bytes=np.array([1]))
    out = ngram_doc_nats(train, es, vocab_size=3)
    assert out["unigram"][0] == pytest.approx(-math.log(1 / 3))
    assert out["bigram"][0] == pytest.approx(-math.log(7 / 9))


def test_wsd_schedule_shape():
    plan = schedule([40_960, 81_920], tokens_per_step=2048, warmup_tokens=8192, decay_fraction=0.2)
    assert plan["warmup"] == 4
    assert plan["budgets"][40_960] == {"steps": 20, "decay_start": 16, "decay_steps": 4}
    assert plan["budgets"][81_920] == {"steps": 40, "decay_start": 32, "decay_steps": 8}
    lr = [wsd_multiplier(s, 4, 32, 8) for s in range(40)]
    assert lr[:4] == [0.25, 0.5, 0.75, 1.0]  # linear warmup
    assert all(m == 1.0 for m in lr[4:33])  # stable, and the decay's first step is still the peak
    assert all(a > b for a, b in zip(lr[32:], lr[33:]))  # strictly decaying, 1 - sqrt
    assert lr[36] == pytest.approx(1 - math.sqrt(0.5))
    # the branch for the smaller budget decays from the same stable phase
    assert [wsd_multiplier(s, 4, 16, 4) for s in range(16)] == lr[:16]
    with pytest.raises(ValueError, match="warmup"):
        schedule([8192], 2048, 8192, 0.2)


def test_packed_blocks_share_one_token():
    blocks = packed_blocks([np.array([1, 2, 3]), np.array([4, 5])], eos=0, seq_len=3)
    assert blocks.tolist() == [[1, 2, 3, 0], [0, 4, 5, 0]]


def test_random_subset_reaches_the_target_tokens():
    counts = np.full(100, 10)
    idx = random_subset_at_tokens(counts, 250, seed=3)
    assert len(idx) == 25 and len(set(idx.tolist())) == 25
    assert not np.array_equal(idx, random_subset_at_tokens(counts, 250, seed=4))


def test_cluster_holdout_has_no_near_duplicate_in_training():
    # the first 1,500 SpamAssassin bodies (as the mail_body step extracts them): threads quote each other and spam
    # campaigns repeat with small edits, so most bodies have a near duplicate and a per-id split would leak them
    from curation.steps.mail_body import message_body

    with gzip.open(shared("mail", "spamassassin.jsonl.gz"), "rt", encoding="utf-8") as f:
        texts = [message_body(json.loads(line)["text"])[0] for _, line in zip(range(1500), f)]
    keys = [str(i) for i in range(len(texts))]
    labels = duplicate_clusters(texts)
    held = cluster_holdout(labels, keys, 10.0)
    in_group = np.bincount(labels)[labels] > 1
    # measured: 1,007 bodies share a cluster; 128 are held out, 70 of them with near duplicates (all held out too)
    assert in_group.sum() == 1007 and held.sum() == 128 and (held & in_group).sum() == 70
    # a cluster is wholly held out or wholly trained on
    assert not set(labels[held].tolist()) & set(labels[~held].tolist())
    # exact copies always share a cluster
    first = {}
    for i, t in enumerate(texts):
        j = first.setdefault(t, i)
        assert labels[i] == labels[j]
    # and no held-out document has a MinHash-LSH candidate partner (same band bucket) among training documents
    from curation.dedup.signatures import band_hashes, is_empty, minhash_signatures

    sig = minhash_signatures(texts)
    ok = ~is_empty(sig)
    bands = band_hashes(sig, 14, 8)
    train_buckets = {(b, int(h)) for i in np.flatnonzero(ok & ~held) for b, h in enumerate(bands[i])}
    assert not any((b, int(h)) in train_buckets for i in np.flatnonzero(ok & held) for b, h in enumerate(bands[i]))


def test_summary_pairs_seeds_and_reads_lower_bits_per_byte_as_better():
    from evals.pretrain_ablation import AblationConfig, summarize

    cfg = AblationConfig(budgets=[4096], seeds=[0, 1, 2])
    sets = ("wikitext", "heldout", "heldout_kept", "heldout_removed")
    runs = []
    for seed in cfg.seeds:
        for arm, shift in (("extracted", 0.0), ("curated", -0.1), ("random", 0.0)):
            bpb = {e: 2.0 + 0.3 * seed + shift + (0.05 if arm == "random" and seed == 1 else 0.0) for e in sets}
            runs.append({"arm": arm, "seed": seed, "budgets": {"4096": bpb},
                         "baselines_bpb": {"unigram": {e: 4.0 for e in sets}, "bigram": {e: 3.0 for e in sets}},
                         "epochs_at_largest_budget": 1.0, **{k: 1.0 for k in (
                             "train_s", "train_cpu_s", "eval_s", "eval_cpu_s", "branch_s", "tokens_per_s",
                             "tokens_per_cpu_s", "tokens_trained", "final_train_loss", "documents",
                             "train_tokens_available")}})
    res = summarize(cfg, {}, runs, 1.0, 1.0)
    c = res["results"]["4096"]["wikitext"]["contrasts"]
    # the seed effect (0.3 per seed) cancels in the pairs: curated is 0.1 lower on every seed, an exact interval
    assert c["curated-extracted"]["delta_bpb"] == pytest.approx(-0.1)
    assert c["curated-extracted"]["ci95"] == pytest.approx([-0.1, -0.1])
    assert c["curated-extracted"]["verdict"] == "better" and c["curated-extracted"]["seeds_curated_lower"] == 3
    assert res["family_size"] == 4  # 2 contrasts x 2 primary sets x 1 budget
    # random is 0.05 higher on seed 1 only: the mean difference is (-0.1 - 0.15 - 0.1) / 3
    assert c["curated-random"]["delta_bpb"] == pytest.approx(-0.35 / 3)
    assert res["results"]["4096"]["heldout_kept"]["contrasts"]["curated-random"]["verdict"] is None  # not primary


def test_runs_made_before_extract_steps_existed_count_as_mail_body_only():
    from dataclasses import asdict

    from evals.pretrain_ablation import AblationConfig, same_config

    old = asdict(AblationConfig(extract_steps=["mail_body"]))
    del old["extract_steps"]  # a key written before the field was added
    assert same_config(json.dumps(old), json.dumps(asdict(AblationConfig(extract_steps=["mail_body"]))))
    assert not same_config(json.dumps(old), json.dumps(asdict(AblationConfig())))  # default now also normalizes
