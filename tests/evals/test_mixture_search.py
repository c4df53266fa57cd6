"""The RegMix-style regression and proposal on synthetic losses with a known minimum (no training here)."""

from __future__ import annotations

import numpy as np
import pytest

from evals.mixture_search import (
    dirichlet_mixtures, fit_mixture_model, propose_mixture, quadratic_features, simplex_grid,
)


def true_loss(w: np.ndarray) -> np.ndarray:
    """A convex quadratic on the simplex with its minimum at (0.5, 0.3, 0.2)."""
    return 3.0 + ((w - np.array([0.5, 0.3, 0.2])) ** 2).sum(1)


def test_fit_recovers_a_quadratic_and_proposes_its_minimum():
    w = dirichlet_mixtures(3, 12, seed=1)
    assert np.allclose(w.sum(1), 1) and (w >= 0).all()
    model = fit_mixture_model(w, true_loss(w), ridge=1e-9)
    assert model.train_rmse < 1e-6 and model.loo_rmse < 1e-5  # the Scheffé quadratic holds this function exactly
    best, predicted = propose_mixture(model, step=0.05)
    assert best == pytest.approx([0.5, 0.3, 0.2])
    assert predicted == pytest.approx(3.0, abs=1e-6)


def test_trust_region_keeps_the_proposal_near_the_runs():
    w = np.array([[0.6, 0.2, 0.2], [0.5, 0.3, 0.2], [0.7, 0.1, 0.2], [0.6, 0.3, 0.1], [0.5, 0.2, 0.3],
                  [0.7, 0.2, 0.1], [0.6, 0.1, 0.3]])
    loss = 3.0 + w[:, 1]  # falls toward less of domain 1: unconstrained, the fit runs to the edge w1 = 0
    model = fit_mixture_model(w, loss, ridge=1e-9)
    free, _ = propose_mixture(model, step=0.05)
    near, _ = propose_mixture(model, step=0.05, observed=w, radius=0.1)
    assert free[1] == pytest.approx(0.0)
    assert np.linalg.norm(w - near, axis=1).min() <= 0.1 + 1e-9 and near[1] == pytest.approx(0.05)


def test_shapes_and_refusals():
    assert quadratic_features(np.array([[0.2, 0.3, 0.5]])).shape == (1, 6)  # 3 linear + 3 pairwise terms
    assert len(simplex_grid(3, 0.5)) == 6  # (0,0,1) (0,.5,.5) (0,1,0) (.5,0,.5) (.5,.5,0) (1,0,0)
    with pytest.raises(ValueError):
        fit_mixture_model(np.array([[0.5, 0.6]]), np.array([1.0]))
    with pytest.raises(ValueError):
        dirichlet_mixtures(1, 3)
