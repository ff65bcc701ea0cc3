"""gmmderive.multivariate: the same EM in p dimensions, checked against scikit-learn."""

import warnings

import numpy as np
import pytest

import gmmderive as g
from gmmderive import multivariate as mv
from gmmderive.datasets import old_faithful

FAITHFUL = np.column_stack([old_faithful()["eruptions"], old_faithful()["waiting"]])


def test_one_dimension_agrees_with_the_univariate_code():
    x = old_faithful()["waiting"]
    p1 = g.GMMParams([0.4, 0.6], [55.0, 80.0], [6.0, 6.0])
    pm = mv.MVGMMParams(p1.weights, p1.means[:, None], (p1.stds**2)[:, None, None])
    np.testing.assert_allclose(mv.log_joint(x[:, None], pm), g.log_joint(x, p1), rtol=1e-12)
    r = g.e_step(x, p1)
    new1, newm = g.m_step(x, r), mv.m_step(x[:, None], r)
    np.testing.assert_allclose(newm.means[:, 0], new1.means, rtol=1e-12)
    np.testing.assert_allclose(np.sqrt(newm.covariances[:, 0, 0]), new1.stds, rtol=1e-12)


def test_two_dimensions_agree_with_sklearn():
    mixture = pytest.importorskip("sklearn.mixture")
    start = mv.initial_params(FAITHFUL, 2, seed=0)
    ours = mv.fit(FAITHFUL, 2, init=start, max_iter=30, tol=0.0, cov_floor=0.0)
    gm = mixture.GaussianMixture(2, covariance_type="full", reg_covar=0.0, tol=0.0, max_iter=30,
                                 weights_init=start.weights, means_init=start.means,
                                 precisions_init=np.linalg.inv(start.covariances))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gm.fit(FAITHFUL)
    order = np.lexsort(gm.means_.T[::-1])
    np.testing.assert_allclose(ours.params.means, gm.means_[order], rtol=1e-9)
    np.testing.assert_allclose(ours.params.covariances, gm.covariances_[order], rtol=1e-8)
    assert ours.log_likelihood == pytest.approx(gm.score(FAITHFUL) * FAITHFUL.shape[0], rel=1e-9)


def test_fit_is_monotone_and_converges():
    res = mv.fit(FAITHFUL, 2, seed=1)
    assert res.converged and (np.diff(res.history) >= -1e-9).all()
    np.testing.assert_allclose(res.responsibilities.sum(axis=1), 1.0)
    assert res.params.means[0, 0] < res.params.means[1, 0]


@pytest.mark.parametrize(
    "X, match",
    [(np.ones(5), "shape"), (np.array([[1.0, np.nan]]), "NaN"), (np.zeros((0, 2)), "empty"), ([["a", "b"]], "numbers")],
)
def test_bad_data(X, match):
    with pytest.raises(ValueError, match=match):
        mv.fit(X, 1)


def test_bad_params():
    with pytest.raises(ValueError, match="positive definite"):
        mv.MVGMMParams([1.0], [[0.0, 0.0]], [[[1.0, 2.0], [2.0, 1.0]]])
    with pytest.raises(ValueError, match="symmetric"):
        mv.MVGMMParams([1.0], [[0.0, 0.0]], [[[1.0, 0.5], [0.0, 1.0]]])
    with pytest.raises(ValueError, match="sum to 1"):
        mv.MVGMMParams([0.7], [[0.0, 0.0]], [np.eye(2)])
    with pytest.raises(ValueError, match="is constant"):
        mv.fit(np.ones((4, 2)), 2)
    with pytest.raises(ValueError, match="distinct rows"):
        mv.fit(np.array([[0.0, 0.0], [1.0, 2.0], [0.0, 0.0], [1.0, 2.0]]), 3)


def _monotone(history):
    return bool(np.all(np.diff(history) >= -1e-9 * np.abs(history).max()))


@pytest.mark.parametrize("seed", range(6))
def test_fit_with_the_floor_never_lowers_the_likelihood(seed):
    # Collapsing components (duplicate points) meet the floor; each M-step is the maximizer
    # of Q under it, so the history stays monotone (it used to drop, by 0.84 once).
    rng = np.random.default_rng(seed)
    base = rng.normal(size=(6, 2))
    X = np.vstack([np.repeat(base[:3], 8, axis=0), rng.normal(0, 2, (30, 2)), base[3:]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = mv.fit(X, 4, seed=seed, cov_floor=1e-3)
    assert _monotone(res.history)
    floor = 1e-3 * np.var(X, axis=0)
    for cov in res.params.covariances:
        assert np.linalg.eigvalsh(cov - np.diag(floor)).min() >= -1e-12 * floor.max()


def test_floored_covariance_is_the_constrained_maximizer():
    rng = np.random.default_rng(3)
    S = np.array([[1.0, 0.95], [0.95, 1.0]]) * 0.01  # nearly singular scatter / γ
    floor = np.array([0.02, 0.05])
    best = mv.floored_covariance(S, floor)

    def q(cov):  # a class's part of Q per unit γ: -1/2 log|Σ| - 1/2 tr(Σ^{-1} S)
        return -0.5 * np.linalg.slogdet(cov)[1] - 0.5 * np.trace(np.linalg.solve(cov, S))

    assert np.linalg.eigvalsh(best - np.diag(floor)).min() >= -1e-15
    for _ in range(300):  # every feasible neighbour is no better
        a = rng.normal(size=(2, 2)) * 0.01
        other = best + a @ a.T if rng.random() < 0.5 else np.diag(floor) + (best - np.diag(floor)) * rng.uniform(0, 2)
        if np.linalg.eigvalsh(other - np.diag(floor)).min() >= 0:
            assert q(other) <= q(best) + 1e-12
    inside = np.diag(floor) * 3
    np.testing.assert_array_equal(mv.floored_covariance(inside, floor), inside)


def test_em_path_is_the_iteration_of_fit():
    start = mv.initial_params(FAITHFUL, 2, seed=0)
    path, lls = mv.em_path(FAITHFUL, start, 12)
    assert len(path) == 13 and lls.shape == (13,)
    assert _monotone(lls)
    np.testing.assert_array_equal(path[0].means, start.means)
    res = mv.fit(FAITHFUL, 2, init=start, max_iter=12, tol=0.0)
    order = np.lexsort(path[-1].means.T[::-1])
    np.testing.assert_allclose(path[-1].means[order], res.params.means, rtol=1e-12)
    np.testing.assert_allclose(path[-1].covariances[order], res.params.covariances, rtol=1e-12)
    assert lls[-1] == pytest.approx(res.log_likelihood, rel=1e-12)
    np.testing.assert_allclose(lls, res.history, rtol=1e-12)
    with pytest.raises(ValueError, match="MVGMMParams"):
        mv.em_path(FAITHFUL, "kmeans++", 3)
    with pytest.raises(ValueError, match="dimension"):
        mv.em_path(FAITHFUL[:, :1], start, 3)
