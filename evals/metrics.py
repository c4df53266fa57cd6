"""Kept for callers of the old name: the intervals live in ``evals.statistics`` (one place)."""

from evals.statistics import mean_ci, percentile_ci, proportion_ci  # noqa: F401
