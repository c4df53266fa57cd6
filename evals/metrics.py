"""Kept for callers of the old name: the intervals live in ``core.statistics`` (one place)."""

from core.statistics import mean_ci, percentile_ci, proportion_ci  # noqa: F401
