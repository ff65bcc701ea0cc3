"""Cross-check against scikit-learn's GaussianMixture: same data, same start."""

import warnings

import numpy as np
import pytest

import gmmderive as g
from gmmderive.datasets import galaxies, old_faithful

mixture = pytest.importorskip("sklearn.mixture", reason="scikit-learn is not installed (pip install scikit-learn)")


def sklearn_fit(x, start: g.GMMParams, n_iter: int):
    gm = mixture.GaussianMixture(
        n_components=start.n_components,
        covariance_type="full",
        tol=0.0,  # never stop early: exactly n_iter iterations
        reg_covar=0.0,  # sklearn adds 1e-6 to every variance by default
        max_iter=n_iter,
        weights_init=start.weights,
        means_init=start.means[:, None],
        precisions_init=(1.0 / start.stds**2)[:, None, None],
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning: max_iter reached on purpose
        gm.fit(x[:, None])
    return g.GMMParams(gm.weights_, gm.means_[:, 0], np.sqrt(gm.covariances_[:, 0, 0])).sorted()


@pytest.mark.parametrize(
    "name, x, d, n_iter",
    [
        ("faithful waiting", old_faithful()["waiting"], 2, 50),
        ("faithful eruptions", old_faithful()["eruptions"], 2, 50),
        ("galaxies", galaxies() / 1000, 3, 200),
        ("galaxies", galaxies() / 1000, 4, 30),
    ],
)
def test_same_iterates_as_sklearn(name, x, d, n_iter):
    start = g.initial_params(x, d, "kmeans++", seed=3)
    ours = g.fit(x, init=start, max_iter=n_iter, tol=0.0, accelerate=False).params
    theirs = sklearn_fit(x, start, n_iter)
    np.testing.assert_allclose(ours.weights, theirs.weights, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(ours.means, theirs.means, rtol=1e-8)
    np.testing.assert_allclose(ours.stds, theirs.stds, rtol=1e-8)


def test_same_log_density_and_responsibilities_as_sklearn():
    x = old_faithful()["waiting"]
    res = g.fit(x, 2)
    p = res.params
    gm = mixture.GaussianMixture(2, covariance_type="full")
    # Hand sklearn our parameters, then let it evaluate them.
    gm.weights_ = p.weights.copy()
    gm.means_ = p.means[:, None].copy()
    gm.covariances_ = (p.stds**2)[:, None, None]
    gm.precisions_cholesky_ = (1.0 / p.stds)[:, None, None]
    np.testing.assert_allclose(gm.score_samples(x[:, None]), g.log_density(x, p), rtol=1e-13)
    np.testing.assert_allclose(gm.predict_proba(x[:, None]), res.responsibilities, rtol=1e-10, atol=1e-15)
