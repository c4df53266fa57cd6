"""Every interval and every better/worse verdict winnow reports comes from this module.

- Seed means: Student's t with n - 1 degrees of freedom (``mean_ci``); with 3 seeds the 95% multiplier is
  t(0.975, 2) = 4.30, not the normal 1.96.
- Proportions: Wilson score interval (``proportion_ci``, scipy's ``binomtest``).
- Per-request latencies: percentile bootstrap over requests, seeded (``percentile_ci``); for inter-token
  latencies the resampled unit is the request (its gaps move together), not the single gap.
- Differences between two arms: a paired t interval on per-seed differences when both arms ran the same seeds
  (``paired_difference``), Welch's t when they share none (``welch_difference``), and a two-sample bootstrap
  for percentiles (``bootstrap_difference``).
- Held-out ROC AUC: stratified percentile bootstrap, seeded (``roc_auc_interval``).
- Verdicts: "within noise" unless the difference's interval excludes 0; then "better" or "worse" by the
  metric's direction (``verdict``). ``compare`` (evals.compare) widens each interval for the number of metrics
  compared (Bonferroni), so two runs of one arm are called "within noise" on all metrics at once 95% of the time.

Every function returns plain dicts (JSON-ready): ``ci95`` is ``[low, high]`` or None when no interval exists
(one observation, or too few requests beyond a tail percentile); ``n`` counts the observations used.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence

import numpy as np
from scipy import stats

CONFIDENCE = 0.95
RESAMPLES = 2000
TAIL_MIN = 5  # a percentile's bootstrap interval needs this many requests beyond it (else the max is resampled)


def _finite(values) -> np.ndarray:
    return np.asarray([v for v in values if v is not None and np.isfinite(v)], dtype=np.float64)


def t_quantile(n: int, confidence: float = CONFIDENCE) -> float:
    """Two-sided Student-t multiplier for n observations (n - 1 df): 4.303 for n = 3, 2.776 for n = 5."""
    return float(stats.t.ppf(0.5 + confidence / 2, n - 1))


def mean_ci(values, confidence: float = CONFIDENCE) -> dict:
    """Mean with a Student-t interval (df = n - 1): mean +- t * sd / sqrt(n), as ``scipy.stats.t.interval``.

    One observation has no interval (``ci95`` None); identical observations give a zero-width one."""
    x = _finite(values)
    if not len(x):
        return {"mean": None, "ci95": None, "stderr": None, "n": 0}
    m = float(x.mean())
    if len(x) == 1:
        return {"mean": m, "ci95": None, "stderr": None, "n": 1}
    se = float(stats.sem(x))
    ci = [m, m] if se == 0 else [float(v) for v in stats.t.interval(confidence, len(x) - 1, loc=m, scale=se)]
    return {"mean": m, "ci95": ci, "stderr": se, "n": int(len(x)), "df": int(len(x) - 1)}


def proportion_ci(successes: int, n: int, confidence: float = CONFIDENCE) -> dict:
    """Wilson score interval (scipy ``binomtest(...).proportion_ci(method="wilson")``): honest near 0 and 1."""
    if n == 0:
        return {"mean": None, "ci95": None, "stderr": None, "n": 0}
    p = successes / n
    ci = stats.binomtest(int(successes), int(n)).proportion_ci(confidence_level=confidence, method="wilson")
    return {"mean": p, "ci95": [float(ci.low), float(ci.high)], "stderr": float(np.sqrt(p * (1 - p) / n)), "n": n}


def _units(values) -> list[np.ndarray]:
    """Resampling units: a flat list of floats is one unit per value; a list of lists is one unit per inner list."""
    units = []
    for v in values:
        if isinstance(v, (list, tuple, np.ndarray)):
            u = _finite(v)
            if len(u):
                units.append(u)
        elif v is not None and np.isfinite(v):
            units.append(np.asarray([float(v)]))
    return units


Statistic = Callable[..., np.ndarray]  # statistic(x, axis=None), like np.mean or percentile_statistic(q)


def _boot_stats(units: list[np.ndarray], statistic: Statistic, resamples: int, rng: np.random.Generator) -> np.ndarray:
    """``resamples`` bootstrap replicates of the statistic, resampling whole units with replacement."""
    idx = rng.integers(0, len(units), size=(resamples, len(units)))
    if all(len(u) == 1 for u in units):  # one value per unit: one vectorized call
        return statistic(np.concatenate(units)[idx], axis=1)
    return np.asarray([statistic(np.concatenate([units[i] for i in row])) for row in idx])


def percentile_statistic(q: float) -> Statistic:
    """The q-th percentile as a bootstrap statistic (numpy's default linear interpolation)."""
    return lambda x, axis=None: np.percentile(x, q, axis=axis)


def percentile_ci(values, q: float, resamples: int = RESAMPLES, seed: int = 0,
                  confidence: float = CONFIDENCE) -> dict:
    """The q-th percentile of ``values`` with a seeded percentile-bootstrap interval over units.

    values: floats (one request each) or lists of floats (one request's inter-token gaps: resampled together).
    No interval when fewer than ``TAIL_MIN`` observations lie beyond the percentile (p99 of 32 requests is the
    maximum, which the bootstrap cannot bracket)."""
    units = _units(values)
    if not units:
        return {"value": None, "ci95": None, "n": 0}
    flat = np.concatenate(units)
    value = float(np.percentile(flat, q))
    out = {"value": value, "ci95": None, "n": int(len(flat)), "units": len(units)}
    if len(units) < 2 or (q != 50 and len(flat) * min(q, 100 - q) / 100 < TAIL_MIN):
        return out
    boot = _boot_stats(units, percentile_statistic(q), resamples, np.random.default_rng(seed))
    alpha = 1 - confidence
    out["ci95"] = [float(np.percentile(boot, 100 * alpha / 2)), float(np.percentile(boot, 100 * (1 - alpha / 2)))]
    return out


def paired_difference(a: Mapping, b: Mapping, confidence: float = CONFIDENCE) -> dict:
    """Mean of b[k] - a[k] over the keys (seeds) both arms share, with a t interval on those differences.

    This is the paired t test's interval (``scipy.stats.ttest_rel(b, a).confidence_interval``): the seed's
    shared initialisation and data order cancel, so it is narrower than the unpaired one when seeds correlate."""
    keys = [k for k in a if k in b and a[k] is not None and b[k] is not None]
    d = mean_ci([b[k] - a[k] for k in keys], confidence)
    return {"delta": d["mean"], "ci": d["ci95"], "n": d["n"], "method": f"paired t ({d['n']} shared seeds)"}


def welch_difference(a, b, confidence: float = CONFIDENCE) -> dict:
    """mean(b) - mean(a) with Welch's t interval (unequal variances): arms that share no seeds or requests."""
    xa, xb = _finite(a), _finite(b)
    delta = float(xb.mean() - xa.mean()) if len(xa) and len(xb) else None
    if len(xa) < 2 or len(xb) < 2:
        return {"delta": delta, "ci": None, "n": int(min(len(xa), len(xb))), "method": "none (one observation)"}
    if xa.std() == 0 and xb.std() == 0:
        return {"delta": delta, "ci": [delta, delta], "n": int(min(len(xa), len(xb))), "method": "Welch t"}
    ci = stats.ttest_ind(xb, xa, equal_var=False).confidence_interval(confidence)
    return {"delta": delta, "ci": [float(ci.low), float(ci.high)], "n": int(min(len(xa), len(xb))),
            "method": "Welch t"}


def welch_from_summaries(mean_a: float, se_a: float, n_a: int, mean_b: float, se_b: float, n_b: int,
                         confidence: float = CONFIDENCE) -> dict:
    """Welch's interval from two (mean, standard error, n) summaries, Welch-Satterthwaite degrees of freedom:
    for reports that kept no per-seed values."""
    delta = mean_b - mean_a
    var = se_a ** 2 + se_b ** 2
    if var == 0:
        return {"delta": delta, "ci": [delta, delta], "n": min(n_a, n_b), "method": "Welch t (summaries)"}
    df = var ** 2 / (se_a ** 4 / max(1, n_a - 1) + se_b ** 4 / max(1, n_b - 1))
    lo, hi = stats.t.interval(confidence, df, loc=delta, scale=np.sqrt(var))
    return {"delta": delta, "ci": [float(lo), float(hi)], "n": min(n_a, n_b), "method": "Welch t (summaries)"}


def bootstrap_difference(a, b, statistic: Statistic, resamples: int = RESAMPLES,
                         seed: int = 0, confidence: float = CONFIDENCE) -> dict:
    """statistic(b) - statistic(a), each arm resampled independently over its units (requests), seeded.

    For percentiles of per-request latencies of two separate serving runs (no request is in both)."""
    ua, ub = _units(a), _units(b)
    if len(ua) < 2 or len(ub) < 2:
        return {"delta": None, "ci": None, "n": min(len(ua), len(ub)), "method": "none (one request)"}
    delta = float(statistic(np.concatenate(ub)) - statistic(np.concatenate(ua)))
    rng = np.random.default_rng(seed)
    diff = _boot_stats(ub, statistic, resamples, rng) - _boot_stats(ua, statistic, resamples, rng)
    alpha = 1 - confidence
    ci = [float(np.percentile(diff, 100 * alpha / 2)), float(np.percentile(diff, 100 * (1 - alpha / 2)))]
    return {"delta": float(delta), "ci": ci, "n": min(len(ua), len(ub)), "method": "bootstrap (requests)"}


def percentile_difference(a, b, q: float, resamples: int = RESAMPLES, seed: int = 0,
                          confidence: float = CONFIDENCE) -> dict:
    """q-th percentile of b minus a's, bootstrapped over requests; like ``percentile_ci``, no interval when either
    run has fewer than ``TAIL_MIN`` observations beyond a tail percentile."""
    for x in (a, b):
        n = sum(len(u) for u in _units(x))
        if q != 50 and n * min(q, 100 - q) / 100 < TAIL_MIN:
            return {"delta": None, "ci": None, "n": n, "method": f"none (under {TAIL_MIN} requests beyond p{q:g})"}
    return bootstrap_difference(a, b, percentile_statistic(q), resamples, seed, confidence)


def verdict(ci: Sequence[float] | None, higher_is_better: bool, delta: float | None = None) -> str:
    """better / worse only when the interval of (b - a) excludes 0; "within noise" otherwise, also when no
    interval exists: without one there is no evidence of a difference."""
    if ci is None or ci[0] <= 0 <= ci[1]:
        return "within noise"
    up = ci[0] > 0
    return "better" if up == higher_is_better else "worse"


def majority_baseline(labels: Sequence) -> dict:
    """Accuracy of always answering the most frequent label of ``labels`` (the evaluated golds): the score a
    classifier must beat before its accuracy says anything. Returns the label and its accuracy."""
    labels = [x for x in labels if x is not None]
    if not labels:
        return {"label": None, "accuracy": None, "n": 0}
    label, count = Counter(labels).most_common(1)[0]
    return {"label": label, "accuracy": count / len(labels), "n": len(labels)}


def unigram_loss(train_tokens: np.ndarray, eval_tokens: np.ndarray, vocab_size: int) -> float:
    """Cross-entropy (nats/token) of a unigram model of ``train_tokens`` on ``eval_tokens``, Witten-Bell smoothed.

    Both are token-id arrays of any shape; ``eval_tokens`` should be the predicted tokens (``blocks[:, 1:]``).

    Witten & Bell (1991): P(w) = c(w) / (N + T) for seen tokens, and the remaining T / (N + T) shared evenly by the
    V - T unseen ones (N tokens, T distinct types, V vocabulary). Parameter-free, so the baseline is not tuned on
    the held-out text. A language model that does not beat this has learnt no context."""
    train = np.asarray(train_tokens).ravel()
    counts = np.bincount(train, minlength=vocab_size).astype(np.float64)
    n, types = float(counts.sum()), float((counts > 0).sum())
    unseen = vocab_size - types
    p = np.where(counts > 0, counts / (n + types), (types / (n + types)) / max(1.0, unseen))
    return float(-np.log(p[np.asarray(eval_tokens).ravel()]).mean())


def paired_bootstrap(a, b, resamples: int = RESAMPLES, seed: int = 0, confidence: float = CONFIDENCE) -> dict:
    """mean(b - a) over paired units (the same queries under two arms), with a seeded percentile-bootstrap interval
    that resamples units, and a two-sided paired permutation p-value (``scipy.stats.permutation_test`` with
    ``permutation_type="samples"``: each unit's two values swapped at random, i.e. a sign flip of its difference;
    exact when 2**n <= resamples). a, b: equal-length sequences of floats, one per unit (0/1 correctness or a
    per-unit mean). ``sd`` is the standard deviation of the differences (for ``detectable_difference``)."""
    xa, xb = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if xa.shape != xb.shape or xa.ndim != 1:
        raise ValueError(f"paired arms need equal-length 1-d values, got {xa.shape} and {xb.shape}")
    d = xb - xa
    n = len(d)
    out = {"delta": float(d.mean()) if n else None, "ci": None, "p": None, "n": n,
           "sd": float(d.std(ddof=1)) if n > 1 else None, "confidence": confidence,
           "method": f"paired bootstrap over {n} units; sign-flip permutation p"}
    if n < 2:
        return out
    if not d.any():
        out.update(ci=[0.0, 0.0], p=1.0)
        return out
    rng = np.random.default_rng(seed)
    boot = d[rng.integers(0, n, size=(resamples, n))].mean(axis=1)
    alpha = 1 - confidence
    out["ci"] = [float(np.percentile(boot, 100 * alpha / 2)), float(np.percentile(boot, 100 * (1 - alpha / 2)))]
    test = stats.permutation_test((xb, xa), lambda x, y, axis: np.mean(x - y, axis=axis), vectorized=True,
                                  permutation_type="samples", n_resamples=resamples, rng=seed)
    out["p"] = float(test.pvalue)
    return out


def mcnemar_exact(a_correct, b_correct) -> dict:
    """Exact McNemar test on paired right/wrong outcomes: of the discordant pairs, ``b_only`` (b right, a wrong)
    against ``a_only``, two-sided binomial p at 1/2 (scipy ``binomtest``). Concordant pairs carry no information."""
    xa, xb = np.asarray(a_correct, dtype=bool), np.asarray(b_correct, dtype=bool)
    if xa.shape != xb.shape:
        raise ValueError(f"paired outcomes need equal lengths, got {xa.shape} and {xb.shape}")
    b_only, a_only = int((xb & ~xa).sum()), int((xa & ~xb).sum())
    p = stats.binomtest(b_only, b_only + a_only, 0.5).pvalue if b_only + a_only else 1.0
    return {"b_only": b_only, "a_only": a_only, "n": int(len(xa)), "p": float(p), "method": "exact McNemar"}


def holm(pvalues: Sequence[float | None]) -> list[float | None]:
    """Holm-Bonferroni step-down adjusted p-values, in the input order (None stays None and is not counted):
    sorted ascending, p_(i) * (m - i) made monotone and capped at 1. Rejecting where adjusted p < alpha keeps the
    family-wise error at alpha (Holm 1979), uniformly more powerful than Bonferroni."""
    idx = [i for i, p in enumerate(pvalues) if p is not None]
    m = len(idx)
    out: list[float | None] = [None] * len(pvalues)
    running = 0.0
    for rank, i in enumerate(sorted(idx, key=lambda i: pvalues[i])):
        running = max(running, min(1.0, pvalues[i] * (m - rank)))
        out[i] = running
    return out


def detectable_difference(sd: float | None, n: int, alpha: float = 1 - CONFIDENCE, power: float = 0.8) -> float | None:
    """Smallest true mean paired difference a two-sided test at ``alpha`` finds with probability ``power``, for
    differences with standard deviation ``sd`` over ``n`` units (normal approximation: (z_(1-alpha/2) + z_power)
    * sd / sqrt(n)). Pass the Bonferroni-split alpha when several comparisons share one family."""
    if sd is None or n < 2:
        return None
    return float((stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)) * sd / np.sqrt(n))


def roc_auc_interval(y_true: np.ndarray, scores: np.ndarray, resamples: int = RESAMPLES,
                     seed: int = 0) -> list[float] | None:
    """95% percentile-bootstrap interval of the held-out ROC AUC (``sklearn.metrics.roc_auc_score``).

    Stratified, as pROC's ``ci.auc`` does by default: each resample draws the positives from the positives and
    the negatives from the negatives (with replacement), so every resample has both classes and the class counts
    of the hold-out. Seeded, so the report is reproducible. None when either class is missing (no AUC)."""
    from sklearn.metrics import roc_auc_score

    y_true, scores = np.asarray(y_true), np.asarray(scores)
    pos, neg = scores[y_true == 1], scores[y_true == 0]
    if not len(pos) or not len(neg):
        return None
    rng = np.random.default_rng(seed)
    labels = np.r_[np.ones(len(pos)), np.zeros(len(neg))]
    boot = [roc_auc_score(labels, np.r_[rng.choice(pos, len(pos)), rng.choice(neg, len(neg))])
            for _ in range(resamples)]
    return [float(np.percentile(boot, 2.5)), float(np.percentile(boot, 97.5))]
