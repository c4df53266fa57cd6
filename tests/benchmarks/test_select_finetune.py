"""The selection-on-an-LLM benchmark's own logic, without fine-tuning: longest-k and token fills under a budget,
the paired report against random and the verdict words rendered from it."""

from __future__ import annotations

import numpy as np

from benchmarks import readme_select_finetune as readme
from benchmarks.select_finetune import _fill_tokens, longest_k, summarize
from selection import Budget


def test_longest_k_by_count_and_by_tokens():
    response = np.array([5, 50, 20, 50, 1])
    pair = response + 10
    # most response tokens first, ties in pool order
    assert longest_k(response, pair, Budget("count", 3)) == [1, 3, 2]
    # 60 + 60 = 120; 5 tokens left is under the shortest pair (11): stop
    assert longest_k(response, pair, Budget("tokens", 125)) == [1, 3]
    # 131: after 120, item 2 (30) is skipped, item 0 (15) does not fit either, item 4 (11) does
    assert longest_k(response, pair, Budget("tokens", 131)) == [1, 3, 4]


def test_fill_tokens_keeps_the_strategy_order():
    pair = np.array([100, 10, 40, 60])
    assert _fill_tokens([3, 0, 2, 1], pair, 110) == [3, 2, 1]  # 60 + 40 + 10; the 100 never fits after 60


def _runs(strategy, gsm, alpaca):
    return [{"strategy": strategy, "budget": "examples", "seed": s, "items": 8, "trained_tokens": 400,
             "gsm8k_share": 0.25, "scores": {"gsm8k_test": g, "alpaca_heldout": a, "all": (g + a) / 2}}
            for s, (g, a) in enumerate(zip(gsm, alpaca))]


def test_paired_report_and_its_words():
    runs = (_runs("random", [-1.50, -1.40, -1.45], [-1.60, -1.55, -1.58])
            # GSM8K: +0.10, +0.11, +0.09 on the same seeds: a tight paired interval above 0
            + _runs("dsir", [-1.40, -1.29, -1.36], [-1.61, -1.50, -1.70]))
    base = {"gsm8k_test": -1.6, "alpaca_heldout": -1.6, "all": -1.6}
    rows = summarize(runs, base, ["random", "dsir"], ["examples"])
    dsir = rows[1]
    assert abs(dsir["gsm8k_test"]["vs_random"]["delta"] - 0.10) < 1e-12
    assert dsir["gsm8k_test"]["vs_random"]["verdict"] == "better"
    # differences -0.01, +0.05, -0.12 straddle 0
    assert dsir["alpaca_heldout"]["vs_random"]["verdict"] == "within noise"
    assert abs(dsir["gsm8k_test"]["gain_over_base"] - (np.mean([-1.40, -1.29, -1.36]) + 1.6)) < 1e-12
    assert "vs_random" not in rows[0]["gsm8k_test"]
    result = {"summary": rows, "base": base}
    assert readme.verdicts(result) == {"better": ["dsir (examples, GSM8K test)"], "worse": [],
                                       "within noise": ["dsir (examples, Alpaca held-out)"]}
    table = readme.table(result)
    assert "| examples | dsir | 8 | 400 | 0.25 | -1.350 | +0.100 [" in table and "**better**" in table
    result |= {"spec": {"rank": 8, "epochs": 1, "lr": 1e-3, "batch_size": 2, "max_tokens": 192}, "seeds": [0, 1, 2],
               "model": "SmolLM2", "pool": {"size": 100, "gsm8k": 20}, "eval_sizes": {"gsm8k_test": 10, "alpaca_heldout": 12},
               "budgets": {"examples": {"kind": "count", "value": 8}}}
    text = " ".join(readme.reading(result).split())  # wrapped at 115 columns for the README
    assert "better than random: dsir (examples, GSM8K test); none is worse than random." in text
    assert "The other 1 comparisons are within noise (median paired interval half-width" in text
    assert "22 test items" in text
