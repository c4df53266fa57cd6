"""Every interval and every better/worse verdict winnow reports comes from this module.

- Seed means: Student's t with n - 1 degrees of freedom (``mean_ci``); with 3 seeds the 95% multiplier is
  t(0.975, 2) = 4.30, not the normal 1.96.
- Proportions: Wilson score interval (``proportion_ci``, scipy's ``binomtest``).
- Per-request latencies: percentile bootstrap over requests, seeded (``percentile_ci``); for inter-token
  latencies the resampled unit is the request (its gaps move together), not the single gap.
- Differences between two arms: a paired t interval on per-seed differences when both arms ran the same seeds
  (``paired_difference``), Welch's t when they share none (``welch_difference``), and a two-sample bootstrap
  for percentiles (``bootstrap_difference``).
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
