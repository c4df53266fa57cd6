"""select(): budgets honoured exactly, seeded determinism, complete manifests, and each strategy doing its job."""

from __future__ import annotations

import json

import numpy as np
import pytest

from selection import Budget, SelectParams, load_pool, select
from selection.budget import token_counts
from tests.conftest import shared

NO_TARGET = ["random", "kcenter", "semdedup"]


def _select(pool, budget, strategy, cache, target=None, seed=0, **params):
    return select(pool, budget, strategy, target=target, seed=seed, params=SelectParams(**params),
                  cache=dict(cache))


@pytest.mark.parametrize("spec,kind,value", [
    ("500", "count", 500), (50, "count", 50), ("0.1", "fraction", 0.1), ("10%", "fraction", 0.1),
    (0.25, "fraction", 0.25), ("200k tokens", "tokens", 200_000), ("1500 tokens", "tokens", 1500), ("2m t", "tokens", 2e6),
])
def test_budget_parsing(spec, kind, value):
    assert Budget.parse(spec) == Budget(kind, value)


@pytest.mark.parametrize("spec", ["", "lots", "-5", "0", "1.5%x", "150%"])
def test_bad_budgets_say_what_is_expected(spec):
    with pytest.raises(ValueError, match="budget"):
        Budget.parse(spec)


@pytest.mark.parametrize("strategy", NO_TARGET + ["knn", "dsir", "deita"])
@pytest.mark.parametrize("budget,expected", [(37, 37), ("0.1", 20), (500, 200)])
def test_count_budgets_are_exact(mixed_pool, gsm_target, pool_cache, strategy, budget, expected):
    sel = _select(mixed_pool, budget, strategy, pool_cache, target=gsm_target, deita_score="length")
    assert len(sel.rows) == expected == sel.summary["selected"]
    assert len(set(sel.ids)) == expected


@pytest.mark.parametrize("strategy", ["random", "kcenter", "knn"])
def test_token_budget_never_exceeded_and_nearly_filled(mixed_pool, gsm_target, pool_cache, strategy):
    sel = _select(mixed_pool, "5000 tokens", strategy, pool_cache, target=gsm_target)
    tokens = token_counts(mixed_pool.texts)
    spent = sum(tokens[i] for i in sel.indices)
    assert spent == sel.summary["tokens_selected"] <= 5000
    unused = [tokens[i] for i in range(len(tokens)) if i not in set(sel.indices)]
    assert 5000 - spent < min(unused)  # nothing left over would still have fitted


@pytest.mark.parametrize("strategy", NO_TARGET + ["dsir"])
def test_same_seed_same_manifest_and_seed_matters(mixed_pool, gsm_target, pool_cache, strategy):
    a = _select(mixed_pool, 25, strategy, pool_cache, target=gsm_target, seed=3)
    b = _select(mixed_pool, 25, strategy, pool_cache, target=gsm_target, seed=3)
    c = _select(mixed_pool, 25, strategy, pool_cache, target=gsm_target, seed=4)
    assert a.rows == b.rows
    assert a.ids != c.ids


def test_manifest_is_complete(tmp_path, mixed_pool, gsm_target, pool_cache):
    sel = _select(mixed_pool, 20, "knn", pool_cache, target=gsm_target)
    path = sel.write(tmp_path / "m.jsonl")
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert [r["rank"] for r in rows] == list(range(20))
    for r in rows:
        assert set(r) == {"id", "rank", "score", "reason", "strategy", "seed", "source"}
        assert r["strategy"] == "knn" and r["seed"] == 0 and r["reason"].startswith("cosine")
        assert r["id"] in mixed_pool.ids and r["source"].endswith(tuple("0123456789"))
    summary = json.loads((tmp_path / "m.summary.json").read_text())
    assert summary["selected"] == 20 and summary["pool_size"] == 200 and summary["strategy"] == "knn"


def test_knn_takes_the_true_nearest_neighbours_first(mixed_pool, gsm_target, pool_cache, embed):
    sel = _select(mixed_pool, 10, "knn", pool_cache, target=gsm_target)
    pool_emb = pool_cache["embeddings"]
    best = (pool_emb @ embed(gsm_target.texts).T).max(1)
    assert sel.indices == list(np.argsort(-best, kind="stable")[:10])
    assert [r["score"] for r in sel.rows] == pytest.approx(sorted(best, reverse=True)[:10], abs=1e-6)
    # toward GSM8K, the 50 GSM8K problems in the pool come first
    assert all(mixed_pool.metadata[i]["origin"] == "gsm8k" for i in sel.indices)


def test_dsir_resamples_toward_the_target_domain(mixed_pool, gsm_target, pool_cache):
    sel = _select(mixed_pool, 50, "dsir", pool_cache, target=gsm_target)
    share = np.mean([mixed_pool.metadata[i]["origin"] == "gsm8k" for i in sel.indices])
    assert share > 0.9  # the pool is 25% GSM8K
    random = _select(mixed_pool, 50, "random", pool_cache)
    assert np.mean([mixed_pool.metadata[i]["origin"] == "gsm8k" for i in random.indices]) < 0.5


def test_kcenter_covers_more_than_random(mixed_pool, pool_cache):
    emb = pool_cache["embeddings"]

    def radius(indices):  # farthest any pool item is from its nearest selected item
        return float((1 - emb @ emb[indices].T).min(1).max())

    kc = _select(mixed_pool, 20, "kcenter", pool_cache)
    rnd = [radius(_select(mixed_pool, 20, "random", pool_cache, seed=s).indices) for s in range(5)]
    assert radius(kc.indices) < min(rnd)


def test_deita_keeps_selected_items_apart(mixed_pool, pool_cache):
    sel = _select(mixed_pool, 30, "deita", pool_cache, deita_score="length", deita_threshold=0.6)
    emb = pool_cache["embeddings"][sel.indices]
    sims = emb @ emb.T - 2 * np.eye(len(emb))
    diverse = [r for r in sel.rows if "filled" not in r["reason"]]
    assert len(diverse) == 30 and sims.max() <= 0.6 + 1e-6
    lengths = [len(mixed_pool.responses[i]) for i in sel.indices]
    assert lengths == sorted(lengths, reverse=True)  # best score first within what passes


def test_semdedup_keeps_one_of_each_duplicate(mixed_pool, pool_cache, embed):
    pool = load_pool([shared("instruct", "alpaca_en_demo.json")])
    from selection import Pool

    texts = pool.texts[:40] + pool.texts[:10]  # 10 exact duplicates
    dup_pool = Pool.from_texts(texts)
    sel = select(dup_pool, 40, "semdedup", seed=0, cache={"embeddings": embed(texts)})
    first = [i for r, i in zip(sel.rows, sel.indices) if "filled" not in r["reason"]]
    assert len(first) == 40 and len({texts[i] for i in first}) == 40


def test_group_caps_balance_the_mix(mixed_pool, pool_cache, gsm_target):
    sel = _select(mixed_pool, 40, "knn", pool_cache, target=gsm_target, balance_by="origin", max_per_group=0.5)
    origins = [mixed_pool.metadata[i]["origin"] for i in sel.indices]
    assert origins.count("gsm8k") == 20 == origins.count("alpaca")
    assert sel.summary["group_cap"] == 20 and sel.summary["skipped_by_group_cap"] > 0


def test_strategies_that_need_a_target_say_so(mixed_pool, pool_cache):
    for strategy in ("knn", "dsir"):
        with pytest.raises(ValueError, match="target"):
            _select(mixed_pool, 5, strategy, pool_cache)
    with pytest.raises(ValueError, match="unknown strategy"):
        _select(mixed_pool, 5, "best", pool_cache)
    with pytest.raises(ValueError, match="quality_model"):
        _select(mixed_pool, 5, "quality", pool_cache)


@pytest.mark.slow
def test_ifd_ranks_matching_pairs_below_mismatched_ones():
    """The instruction helps predict its own answer (IFD well below 1) and not someone else's (near 1)."""
    from selection.scores import ifd_scores

    gsm = load_pool([shared("math", "gsm8k_train.jsonl")])
    prompts, answers = gsm.prompts[:12], gsm.responses[:12]
    matched = ifd_scores(prompts, answers)
    shuffled = ifd_scores(prompts[1:] + prompts[:1], answers)
    assert np.isfinite(matched).all() and (matched < 1).all()
    assert matched.mean() < shuffled.mean() - 0.1
    assert (matched < shuffled).mean() >= 0.9


def test_pretraining_selection_toward_clean_text_with_domain_caps():
    """DSIR on the raw Common Crawl shard toward wikitext, budget in tokens, at most 2 documents per site."""
    from selection import Pool

    web = load_pool([shared("web", "dolma_CC-MAIN-20190717121559-20190717143559-00140.jsonl.gz")], text_field="text")
    assert len(web) + len(web.quarantined) == 697
    wiki = [p for p in shared("lm", "wikitext-2_test.txt").read_text(encoding="utf-8").split("\n \n") if len(p) > 200]
    target = Pool.from_texts(wiki[:200])
    sel = select(web, "20k tokens", "dsir", target=target, params=SelectParams(balance_by="url_domain", max_per_group=2))
    domains = [web.group("url_domain")[i] for i in sel.indices]
    assert max(domains.count(d) for d in domains) <= 2 and "(none)" not in domains
    assert 18_000 < sel.summary["tokens_selected"] <= 20_000
    logw = sel.context.cache["dsir"]
    rnd = select(web, "20k tokens", "random", seed=1)
    assert np.mean(logw[sel.indices]) > np.mean(logw[rnd.indices]) + 5  # resampled toward the target
    capped = select(web, 400, "random", params=SelectParams(balance_by="url_domain", max_per_group=1))
    sites = [web.group("url_domain")[i] for i in capped.indices]
    assert len(sites) == len(set(sites)) and capped.summary["skipped_by_group_cap"] > 0  # same-site pages exist
