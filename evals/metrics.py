"""Intervals for the numbers winnow reports: every mean comes with a 95% interval."""

from __future__ import annotations

import math

import numpy as np


def mean_ci(values, z: float = 1.96) -> dict:
    """Mean with a normal-approximation 95% interval (stderr = sd / sqrt(n))."""
    x = np.asarray([v for v in values if v is not None and np.isfinite(v)], dtype=np.float64)
    if not len(x):
        return {"mean": None, "ci95": None, "stderr": None, "n": 0}
    se = float(x.std(ddof=1) / math.sqrt(len(x))) if len(x) > 1 else 0.0
    m = float(x.mean())
    return {"mean": m, "ci95": [m - z * se, m + z * se], "stderr": se, "n": int(len(x))}


def proportion_ci(successes: int, n: int, z: float = 1.96) -> dict:
    """Wilson score interval: honest at small n and near 0 or 1, unlike mean +- 1.96 se."""
    if n == 0:
        return {"mean": None, "ci95": None, "stderr": None, "n": 0}
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return {"mean": p, "ci95": [centre - half, centre + half], "stderr": math.sqrt(p * (1 - p) / n), "n": n}


def percentile_ci(values, q: float, resamples: int = 1000, seed: int = 0) -> dict:
    """A percentile with a bootstrap 95% interval: latency tails are skewed, so no normal approximation."""
    x = np.asarray([v for v in values if v is not None and np.isfinite(v)], dtype=np.float64)
    if not len(x):
        return {"value": None, "ci95": None, "n": 0}
    boot = np.percentile(np.random.default_rng(seed).choice(x, size=(resamples, len(x))), q, axis=1)
    return {"value": float(np.percentile(x, q)), "ci95": [float(np.percentile(boot, 2.5)),
                                                         float(np.percentile(boot, 97.5))], "n": int(len(x))}
