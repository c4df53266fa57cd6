"""core.statistics: intervals equal scipy's reference computations, pairing narrows what seeds share, the
verdict needs the interval to exclude 0, tail percentiles of few requests get no interval, and the baselines
(majority class, unigram) have their textbook values."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from core.statistics import (bootstrap_difference, majority_baseline, mean_ci, paired_difference, percentile_ci,
                              percentile_statistic, proportion_ci, t_quantile, unigram_loss, verdict,
                              welch_difference)


def test_seed_mean_interval_is_student_t_with_n_minus_1_df():
    x = [3.9, 4.1, 4.3]
    m = mean_ci(x)
    lo, hi = stats.t.interval(0.95, 2, loc=np.mean(x), scale=stats.sem(x))
    assert m["ci95"] == pytest.approx([lo, hi]) and m["df"] == 2 and m["n"] == 3
    # 3 seeds: the multiplier is t(0.975, 2) = 4.303, 2.2x the normal 1.96 the old code used
    assert t_quantile(3) == pytest.approx(4.3027, abs=1e-4)
    assert (m["ci95"][1] - m["mean"]) / m["stderr"] == pytest.approx(4.3027, abs=1e-4)
    assert mean_ci([5.0])["ci95"] is None  # one seed: no interval, not a zero-width one
    assert mean_ci([2.0, 2.0])["ci95"] == [2.0, 2.0]
    assert mean_ci([1.0, None, float("nan"), 3.0])["n"] == 2


def test_wilson_interval_matches_the_closed_form():
    k, n, z = 45, 60, stats.norm.ppf(0.975)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    assert proportion_ci(k, n)["ci95"] == pytest.approx([centre - half, centre + half])
    assert proportion_ci(60, 60)["ci95"][1] == pytest.approx(1.0)


def test_paired_interval_uses_shared_seeds_and_is_narrower_than_unpaired():
    # seed effects (1, 2, 3, 4) are shared by both arms; the arm effect is a steady +0.1
    a = {0: 1.00, 1: 2.00, 2: 3.00, 3: 4.00}
    b = {0: 1.10, 1: 2.12, 2: 3.08, 3: 4.10, 9: 100.0}  # seed 9 ran in b only: left out of the pairing
    paired = paired_difference(a, b)
    ref = stats.ttest_rel([b[k] for k in a], list(a.values())).confidence_interval(0.95)
    assert paired["n"] == 4 and paired["delta"] == pytest.approx(0.1)
    assert paired["ci"] == pytest.approx([ref.low, ref.high])
    unpaired = welch_difference(list(a.values()), [b[k] for k in a])
    ref = stats.ttest_ind([b[k] for k in a], list(a.values()), equal_var=False).confidence_interval(0.95)
    assert unpaired["ci"] == pytest.approx([ref.low, ref.high])
    # the same numbers: paired says the +0.1 is real, unpaired cannot see it through the seed spread
    assert verdict(paired["ci"], higher_is_better=True) == "better"
    assert verdict(unpaired["ci"], higher_is_better=True) == "within noise"


def test_verdict_follows_direction_and_says_within_noise_without_evidence():
    assert verdict([0.1, 0.3], higher_is_better=True) == "better"
    assert verdict([0.1, 0.3], higher_is_better=False) == "worse"
    assert verdict([-0.3, -0.1], higher_is_better=False) == "better"
    assert verdict([-0.1, 0.3], higher_is_better=True) == "within noise"
    assert verdict([0.0, 0.0], higher_is_better=True) == "within noise"  # identical runs
    assert verdict(None, higher_is_better=True) == "within noise"


def test_percentile_bootstrap_is_seeded_and_refuses_tails_it_cannot_bracket():
    values = [float(v) for v in range(1, 101)]
    a, b = percentile_ci(values, 50), percentile_ci(values, 50)
    assert a == b and a["value"] == pytest.approx(50.5) and a["ci95"][0] < 50.5 < a["ci95"][1]
    assert percentile_ci(values, 90)["ci95"] is not None  # 10 requests beyond p90
    assert percentile_ci(values, 99)["ci95"] is None  # 1 request beyond p99: the bootstrap only resamples the max
    assert percentile_ci([None, float("nan")], 50) == {"value": None, "ci95": None, "n": 0}
    # inter-token gaps: a request's gaps are one unit; the percentile is over all 60 gaps
    gaps = [[0.01, 0.02], [0.03, 0.01], [0.02, 0.02]] * 10
    g = percentile_ci(gaps, 50)
    assert g["n"] == 60 and g["units"] == 30 and g["value"] == pytest.approx(0.02)


def test_bootstrap_difference_of_medians():
    rng = np.random.default_rng(0)
    same_a, same_b = rng.normal(1.0, 0.1, 40).tolist(), rng.normal(1.0, 0.1, 40).tolist()
    d = bootstrap_difference(same_a, same_b, percentile_statistic(50))
    assert d["ci"][0] < 0 < d["ci"][1] and d["delta"] == pytest.approx(np.median(same_b) - np.median(same_a))
    faster = (np.asarray(same_b) - 0.5).tolist()
    assert verdict(bootstrap_difference(same_a, faster, percentile_statistic(50))["ci"], False) == "better"


def test_majority_baseline_and_unigram_loss():
    # BoolQ-like: 6 of 10 golds are "no" (label 0); always answering "no" scores 0.6
    assert majority_baseline([0, 0, 1, 0, 1, 0, 1, 0, 1, 0]) == {"label": 0, "accuracy": 0.6, "n": 10}
    # Witten-Bell: N = 4 tokens, T = 3 types, V = 10: P(1) = 2/7, each of the 7 unseen gets (3/7)/7
    loss = unigram_loss(np.array([1, 1, 2, 3]), np.array([1, 4]), 10)
    assert loss == pytest.approx(-(math.log(2 / 7) + math.log(3 / 49)) / 2)
    # a unigram model of the eval text itself cannot be beaten by a worse one of other text
    text = np.random.default_rng(0).integers(0, 50, 5000)
    assert unigram_loss(text, text, 50) < unigram_loss(np.arange(50).repeat(2), text, 50) + 1e-9


def test_roc_auc_interval_edges():
    import numpy as np

    from core.statistics import roc_auc_interval

    y = np.array([0, 0, 0, 1, 1, 1])
    assert roc_auc_interval(y, np.array([0.1, 0.2, 0.3, 0.7, 0.8, 0.9]), resamples=200) == [1.0, 1.0]  # separable
    assert roc_auc_interval(np.ones(4, dtype=int), np.arange(4.0)) is None  # one class: no AUC to bracket
