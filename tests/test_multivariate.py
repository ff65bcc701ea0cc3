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


# -- issue 24: the univariate fit's standard ---------------------------------------------


def _overlapping(seed=0, n=500):
    rng = np.random.default_rng(seed)
    return np.vstack([rng.normal(0, 1, (n, 2)), rng.normal([1.0, 0.5], 1, (n, 2))])


def test_converged_means_within_tol_of_the_fixed_point():
    # The rule was a log-likelihood change below tol: here it stopped 3.5e-5 standard
    # deviations short of the maximum (EM crawls on overlapping classes) and said converged.
    X = _overlapping()
    res = mv.fit(X, 2, seed=0)
    assert res.converged
    later = mv.fit(X, 2, init=res.params, max_iter=5000, tol=0.0)  # plain EM continued, far
    scale = X.std(axis=0)
    moved = max(np.abs(later.params.means - res.params.means).max() / scale.min(),
                np.abs(later.params.weights - res.params.weights).max(),
                np.abs(np.sqrt(np.diagonal(later.params.covariances, axis1=1, axis2=2))
                       - np.sqrt(np.diagonal(res.params.covariances, axis1=1, axis2=2))).max() / scale.min())
    # The rule's distance is first order in the error ((I - J)^-1 (M(θ) - θ), J by forward
    # differences): it may be off by a small factor, not by orders of magnitude.
    assert moved < 10 * 1e-8


@pytest.mark.parametrize("X, match", [
    (FAITHFUL + 1j, "complex"),
    (np.ma.masked_array(FAITHFUL, mask=np.zeros_like(FAITHFUL, dtype=bool)), "masked"),
    (FAITHFUL.astype(str), "not strings"),
    (np.array([[1, 2], [3, 4], [5, 10**400]], dtype=object), "beyond the range of a float"),
    (FAITHFUL > 3, "booleans"),
])
def test_data_checks_are_the_univariate_checks(X, match):
    # Complex data were fitted by their real part (NumPy drops the imaginary part with a warning).
    with pytest.raises(ValueError, match=match):
        mv.fit(X, 2, seed=0)
    with pytest.raises(ValueError, match=match):
        mv.initial_params(X, 2, seed=0)


@pytest.mark.parametrize("scale", [1e200, 1e-200])
def test_covariances_beyond_the_float_range_are_a_clear_error(scale):
    # At 1e200 the covariances (1e400) are not floats: k-means++ drew from NaN probabilities.
    # At 1e-200 they underflow to 0: the columns were called constant.
    for call in (lambda: mv.fit(FAITHFUL * scale, 2, seed=0), lambda: mv.initial_params(FAITHFUL * scale, 2, seed=0)):
        with pytest.raises(ValueError, match="beyond the range of a float.*rescale"):
            call()


@pytest.mark.parametrize("scale", [2.0**-400, 2.0**400])
def test_fit_is_the_same_at_any_representable_magnitude(scale):
    # EM runs in a frame scaled by a power of two per column: data scaled by another power of
    # two give the same numbers in that frame, so the same fit exactly, mapped back.
    a, b = mv.fit(FAITHFUL, 2, seed=0), mv.fit(FAITHFUL * scale, 2, seed=0)
    assert a.n_iter == b.n_iter and a.converged == b.converged
    np.testing.assert_array_equal(b.params.means, a.params.means * scale)
    np.testing.assert_array_equal(b.params.covariances, a.params.covariances * scale**2)
    np.testing.assert_array_equal(b.params.weights, a.params.weights)
    n, p = FAITHFUL.shape
    # log p(X s) = log p(X) - N p log s: the only rounding is this subtraction's
    assert b.log_likelihood == pytest.approx(a.log_likelihood - n * p * np.log(scale), rel=1e-15)
