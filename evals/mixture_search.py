"""Proxy mixture search, RegMix style: fit held-out loss as a function of the domain weights, propose the minimum.

RegMix (Liu et al. 2024, "RegMix: Data Mixture as Regression for Language Model Pre-training") trains many small
proxy models on random mixtures (Dirichlet samples over domains), regresses the target loss on the mixture
weights and takes the mixture the regression predicts best. This module is the regression and the proposal; the
proxy runs are ``evals.train.train`` (``benchmarks/mixture_search.py`` drives them). With a handful of runs a
Scheffé quadratic mixture model (``sum b_i w_i + sum_{i<j} b_ij w_i w_j``, no intercept because the weights sum
to 1) is fitted by ridge-regularised least squares; RegMix's LightGBM needs hundreds of runs.

Shapes: ``weights`` is (runs, domains), every row on the simplex; ``losses`` is (runs,) in nats/token.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np


def dirichlet_mixtures(domains: int, n: int, seed: int = 0, alpha: float = 1.0) -> np.ndarray:
    """``n`` mixtures drawn from Dirichlet(alpha, ..., alpha): (n, domains), rows sum to 1 (RegMix's sampler)."""
    if domains < 2 or n < 1:
        raise ValueError(f"need >= 2 domains and >= 1 mixture, got {domains} and {n}")
    return np.random.default_rng(seed).dirichlet([alpha] * domains, size=n)


def quadratic_features(weights: np.ndarray) -> np.ndarray:
    """Scheffé quadratic terms: the weights, then every pairwise product w_i * w_j (i < j)."""
    w = np.atleast_2d(np.asarray(weights, dtype=float))
    pairs = [w[:, i] * w[:, j] for i, j in itertools.combinations(range(w.shape[1]), 2)]
    return np.column_stack([w, *pairs]) if pairs else w


@dataclass(frozen=True)
class MixtureModel:
    """A fitted Scheffé model; ``predict`` maps (k, domains) weights to predicted loss."""

    coef: np.ndarray
    domains: int
    ridge: float
    train_rmse: float
    loo_rmse: float | None  # leave-one-out RMSE: how far to trust the surface with this few runs

    def predict(self, weights: np.ndarray) -> np.ndarray:
        return quadratic_features(weights) @ self.coef


def _solve(x: np.ndarray, y: np.ndarray, ridge: float) -> np.ndarray:
    return np.linalg.solve(x.T @ x + ridge * np.eye(x.shape[1]), x.T @ y)


def fit_mixture_model(weights: np.ndarray, losses: np.ndarray, ridge: float = 1e-3) -> MixtureModel:
    """Least squares with a small ridge (a quadratic over 3 domains has 6 terms; with 8 runs it needs the help)."""
    w, y = np.asarray(weights, dtype=float), np.asarray(losses, dtype=float)
    if w.ndim != 2 or len(w) != len(y):
        raise ValueError(f"weights (runs, domains) and losses (runs,) disagree: {w.shape} vs {y.shape}")
    if w.ndim != 2 or not np.allclose(w.sum(1), 1.0, atol=1e-3) or (w < 0).any():
        raise ValueError("every mixture must be on the simplex (non-negative, summing to 1)")
    w = w / w.sum(1, keepdims=True)  # rounded weights (4 decimals in a results file) back onto the simplex
    x = quadratic_features(w)
    coef = _solve(x, y, ridge)
    train_rmse = float(np.sqrt(np.mean((x @ coef - y) ** 2)))
    loo = None
    if len(y) > 2:
        errs = [float(x[i] @ _solve(np.delete(x, i, 0), np.delete(y, i), ridge) - y[i]) for i in range(len(y))]
        loo = float(np.sqrt(np.mean(np.square(errs))))
    return MixtureModel(coef=coef, domains=w.shape[1], ridge=ridge, train_rmse=train_rmse, loo_rmse=loo)


def simplex_grid(domains: int, step: float = 0.02) -> np.ndarray:
    """Every mixture whose weights are multiples of ``step``: (points, domains)."""
    k = round(1 / step)
    pts = [c for c in itertools.product(range(k + 1), repeat=domains - 1) if sum(c) <= k]
    return np.array([[*c, k - sum(c)] for c in pts], dtype=float) / k


def propose_mixture(model: MixtureModel, step: float = 0.02, min_weight: float = 0.0,
                    observed: np.ndarray | None = None, radius: float | None = None) -> tuple[np.ndarray, float]:
    """The grid mixture with the lowest predicted loss (and that loss); ``min_weight`` keeps every domain in.

    ``observed`` + ``radius``: only mixtures within Euclidean ``radius`` of a proxy run (a trust region). With a
    handful of runs a quadratic's minimum often sits on a corner no run came near, an extrapolation; RegMix
    stays in the region it sampled by ranking many simulated mixtures drawn from its own training prior."""
    grid = simplex_grid(model.domains, step)
    grid = grid[(grid >= min_weight - 1e-12).all(1)]
    if observed is not None and radius is not None:
        dist = np.linalg.norm(grid[:, None, :] - np.asarray(observed)[None, :, :], axis=2).min(1)
        grid = grid[dist <= radius + 1e-12]
    pred = model.predict(grid)
    i = int(np.argmin(pred))
    return grid[i], float(pred[i])
