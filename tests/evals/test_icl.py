"""ICL reporting without a language model: paired tests, Holm, copy rates, baselines and spreads on hand-made
records whose right answers can be worked out by hand; demo orders and template variants."""

from __future__ import annotations

import numpy as np
import pytest

from core.statistics import detectable_difference, holm, mcnemar_exact, paired_bootstrap
from evals.icl import ORDERS, demo_order
from evals.icl_report import copy_rates, demo_majority_label, reanalyze_sweep, spread, summarize_variants
from prompts.templates import Template, render, template_variants


def test_mcnemar_counts_only_discordant_pairs():
    a = [1, 1, 0, 0, 1, 0, 0, 0, 1, 1]
    b = [1, 0, 1, 1, 1, 1, 1, 1, 1, 1]
    r = mcnemar_exact(a, b)
    # discordant: a-only at index 1; b-only at 2, 3, 5, 6, 7 -> binomial(5 of 6, 1/2), two-sided p = 14/64
    assert (r["b_only"], r["a_only"]) == (5, 1) and r["p"] == pytest.approx(14 / 64)
    assert mcnemar_exact([1, 0], [1, 0])["p"] == 1.0


def test_paired_bootstrap_exact_sign_flip_p_and_interval():
    a, b = [0.0] * 6, [1.0, 1.0, 1.0, 1.0, 0.0, 0.0]
    r = paired_bootstrap(a, b, resamples=5000)
    # 4 differences of +1, 2 of 0: of the 2**4 sign patterns of the non-zero ones only all-plus and all-minus
    # reach |mean| >= 4/6, so the exact two-sided p is 2/16 (zeros flip to themselves: 2**6 = 64 patterns, 8 hits)
    assert r["delta"] == pytest.approx(4 / 6) and r["p"] == pytest.approx(8 / 64)
    assert 0 < r["ci"][0] < r["delta"] < r["ci"][1] <= 1
    same = paired_bootstrap([1.0, 0.0, 1.0], [1.0, 0.0, 1.0])
    assert same["delta"] == 0 and same["ci"] == [0.0, 0.0] and same["p"] == 1.0
    with pytest.raises(ValueError):
        paired_bootstrap([1.0, 2.0], [1.0])


def test_holm_steps_down_and_keeps_order():
    # sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1 = 0.02, 0.03, 0.06, 0.04 -> monotone 0.02, 0.03, 0.06, 0.06
    assert holm([0.01, 0.04, None, 0.03, 0.005]) == pytest.approx([0.03, 0.06, None, 0.06, 0.02])
    assert holm([0.9, 0.8]) == [1.0, 1.0]


def test_detectable_difference_shrinks_with_queries():
    # (1.96 + 0.8416) * 0.5 / sqrt(25) = 0.280
    assert detectable_difference(0.5, 25) == pytest.approx(0.2802, abs=1e-3)
    assert detectable_difference(0.5, 100) == pytest.approx(detectable_difference(0.5, 25) / 2)
    assert detectable_difference(None, 10) is None


def test_demo_orders_are_distinct_permutations():
    for seed in range(20):
        perms = [demo_order(4, rule, seed) for rule in ORDERS]
        assert all(sorted(p) == [0, 1, 2, 3] for p in perms) and len({tuple(p) for p in perms}) == 3
    assert demo_order(3, "ascending", 0)[-1] == 2 and demo_order(3, "descending", 0)[0] == 2
    assert demo_order(3, "shuffled", 7) == demo_order(3, "shuffled", 7)
    with pytest.raises(ValueError):
        demo_order(3, "alphabetical", 0)


def test_template_variants_render_the_same_examples():
    variants = template_variants(Template(), ["negative", "positive"])
    demo, query = {"input": "Review: fine\nSentiment:", "output": "positive"}, {"input": "Review: bad\nSentiment:"}
    assert render(variants["plain"], [demo], query) == "Review: fine\nSentiment: positive\n\nReview: bad\nSentiment:"
    assert render(variants["instructed"], [demo], query) == ("Answer with one of: negative, positive.\n###\n"
                                                            "Review: fine\nSentiment: positive\n###\nReview: bad\nSentiment:")
    assert template_variants(Template())["instructed"].instruction.startswith("Answer the last question")


def test_demo_majority_breaks_ties_by_similarity():
    assert demo_majority_label([0, 1, 1]) == 1
    assert demo_majority_label([1, 0]) == 0           # tie: the most similar (last) wins
    assert demo_majority_label([2, 1, 2, 1]) == 1
    assert demo_majority_label([0, None]) is None


def test_copy_rates_separate_copying_from_chance():
    preds = np.array([[1, 1], [0, 0], [1, 0], [0, 0]])
    nearest = [1, 0, 1, 1]
    gold = [1, 0, 0, 0]
    adjacent = np.array([[1, 0], [0, 0], [1, 1], [1, 0]])
    r = copy_rates(preds, nearest, adjacent, gold)
    assert r["nearest"] == pytest.approx(5 / 8)    # equal in (0,0),(0,1),(1,0),(1,1),(2,0)
    assert r["adjacent"] == pytest.approx(5 / 8)    # equal in (0,0),(1,0),(1,1),(2,0),(3,1)
    # nearest is wrong for queries 2 and 3 (4 pairs); the prediction follows it in (2,0) only
    assert r["follows_wrong_nearest"] == pytest.approx(1 / 4) and r["wrong_nearest_pairs"] == 4
    # marginals: pred 1 in 3/8, nearest 1 in 6/8 -> 3/8*6/8 + 5/8*2/8 = 28/64
    assert r["expected_if_independent"] == pytest.approx(28 / 64)
    assert copy_rates(preds, [None] * 4, None, gold)["nearest"] is None


def test_spread_is_a_t_interval_over_variants():
    s = spread({"plain/ascending": 0.5, "plain/descending": 0.6, "instructed/ascending": 0.7})
    # mean 0.6, sd 0.1, t(0.975, 2) = 4.303: 0.6 +- 4.303 * 0.1 / sqrt(3)
    assert (s["mean"], s["min"], s["max"]) == pytest.approx((0.6, 0.5, 0.7))
    assert s["ci95"] == pytest.approx([0.6 - 0.24843, 0.6 + 0.24843], abs=1e-4)


def _record(task, q, gold, nearest, zero, knn_preds, rand_preds, knn_labels, rand_labels):
    variants = [f"{t}/{o}" for t in ("instructed", "plain") for o in ORDERS]

    def cell(preds, labels):
        return {"demos": [f"d{i}" for i in range(3)], "demo_labels": labels,
                "orders": {"ascending": [0, 1, 2], "descending": [2, 1, 0], "shuffled": [1, 2, 0]},
                "variants": {v: {"pred": p, "gold_lp": -1.0} for v, p in zip(variants, preds)}}
    return {"task": task, "query": q, "draw": q, "id": f"{task}-{q}", "gold": gold, "k": 3, "n_choices": 2,
            "gold_label": gold, "nearest_label": nearest,
            "zero_shot": {"instructed": {"pred": zero, "gold_lp": -2.0}, "plain": {"pred": zero, "gold_lp": -2.0}},
            "strategies": {"random": cell(rand_preds, rand_labels), "knn": cell(knn_preds, knn_labels)}}


def test_summary_reports_copying_and_a_constant_answerer():
    # 12 queries: kNN always predicts its nearest demo's label (right for the first 9), random always says 0,
    # gold is 1 for 8 queries. Zero-shot answers 1 everywhere.
    recs = []
    for q in range(12):
        gold = 1 if q < 8 else 0
        nearest = gold if q < 9 else 1 - gold
        recs.append(_record("toy", q, gold, nearest, 1, [nearest] * 6, [0] * 6, [1 - nearest, nearest, nearest],
                            [0, 0, 0]))
    out = summarize_variants(recs, pool_majority={"toy": 1}, resamples=2000)
    t = out["tasks"]["toy"]
    assert t["n"] == 12 and t["baselines"]["majority_eval"]["accuracy"] == pytest.approx(8 / 12)
    assert t["baselines"]["majority_pool"]["accuracy"] == pytest.approx(8 / 12)
    assert t["baselines"]["nearest_demo_label"] == pytest.approx(9 / 12)
    assert t["baselines"]["zero_shot"]["mean"] == pytest.approx(8 / 12)
    knn, rand = t["cells"]["knn"], t["cells"]["random"]
    assert knn["accuracy_spread"]["mean"] == pytest.approx(9 / 12) and knn["accuracy_spread"]["ci95"] == [0.75, 0.75]
    assert knn["copying"]["nearest"] == 1.0 and knn["copying"]["follows_wrong_nearest"] == 1.0
    assert knn["demo_vote_baseline"] == pytest.approx(9 / 12)
    assert rand["most_predicted"] == {"choice": 0, "share": 1.0}
    assert rand["accuracy_spread"]["mean"] == pytest.approx(4 / 12)
    by_pair = {(c["a"], c["b"]): c for c in out["comparisons"]}
    assert set(by_pair) == {("random", "knn"), ("zero_shot", "random"), ("nearest_demo_label", "random"),
                            ("zero_shot", "knn"), ("nearest_demo_label", "knn")}
    # kNN equals the no-LM 1-NN baseline on every query: difference exactly 0, within noise
    same = by_pair[("nearest_demo_label", "knn")]
    assert same["delta"] == 0 and same["verdict"] == "within noise"
    # kNN vs random: +1 on queries 0-7 (gold 1, kNN right), -1 on 9-11 (gold 0: random right, kNN copies a wrong 1),
    # 0 on query 8; one strategy comparison in its family, four baseline comparisons in theirs
    kr = by_pair[("random", "knn")]
    assert kr["delta"] == pytest.approx(5 / 12) and kr["family"] == 1 and same["family"] == 4
    assert [(m["b_only"], m["a_only"]) for m in kr["mcnemar_by_variant"]] == [(8, 3)] * 6


def test_reanalyze_sweep_pairs_by_query_id():
    def cond(strategy, seed, preds, demos):
        return {"task": "toy", "k": 1, "strategy": strategy, "seed": seed,
                "records": [{"id": f"q{i}", "demos": [d], "pred": p, "gold": 1, "correct": p == 1,
                             "gold_logprob_per_token": float(p)} for i, (p, d) in enumerate(zip(preds, demos))]}
    rows = [cond("knn", 0, [1, 1, 1, 0], ["a", "a", "a", "b"]),
            cond("random", 0, [0, 1, 0, 0], ["b"] * 4), cond("random", 1, [0, 0, 0, 0], ["b"] * 4)]
    out = reanalyze_sweep(rows, {"toy": {"a": 1, "b": 0}}, resamples=2000)
    (c,) = out["cells"]
    assert c["accuracy"] == {"knn": 0.75, "random": 0.125}
    assert c["accuracy_knn_minus_random"]["delta"] == pytest.approx(0.625)
    assert c["mcnemar_vs_random_seed0"]["b_only"] == 2 and c["mcnemar_vs_random_seed0"]["a_only"] == 0
    assert c["nearest_demo_label"] == 0.75 and c["copying_knn"]["nearest"] == 1.0


def test_readme_few_shot_tables_come_from_the_json():
    """Every table row of the README's few-shot section is what ``demo_icl.py --readme`` renders from the JSON."""
    import json
    from pathlib import Path

    from benchmarks.demo_icl import RESULTS, readme_tables

    root = Path(__file__).resolve().parents[2]
    tables = readme_tables(json.loads((RESULTS / "demo_icl_variants.json").read_text()),
                           json.loads((RESULTS / "demo_icl_sweep_paired.json").read_text()))
    readme = (root / "README.md").read_text()
    missing = [line for line in tables.splitlines() if line and line not in readme]
    assert not missing, missing[:3]
