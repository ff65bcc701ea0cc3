"""The default search of fit reaches the best optimum of the book's data sets.

The optima below are the highest non-degenerate log-likelihoods that 600 starts (300
k-means++, 300 random), each run to convergence by plain EM, found on each data set (galaxies
in 1000 km/s). Higher values exist only for degenerate fits (a σ on one repeated value).
"""

import warnings

import numpy as np
import pytest

import gmmderive as g
from gmmderive.datasets import galaxies, old_faithful

OPTIMA = {
    ("galaxies", 2): -220.058,
    ("galaxies", 3): -203.179,
    ("galaxies", 4): -197.454,
    ("eruptions", 2): -276.360,
    ("waiting", 2): -1034.002,
}


def data(name):
    return galaxies() / 1000 if name == "galaxies" else old_faithful()[name]


@pytest.mark.parametrize(("name", "d"), list(OPTIMA))
def test_the_default_fit_reaches_the_best_optimum(name, d):
    res = g.fit(data(name), d)
    assert res.converged
    assert res.log_likelihood == pytest.approx(OPTIMA[name, d], abs=1e-3)
    assert not (res.params.stds < 1e-3).any()


def test_the_default_fit_is_reproducible():
    x = data("galaxies")
    a, b = g.fit(x, 4), g.fit(x, 4)
    assert a.params == b.params and a.n_iter == b.n_iter


def test_a_single_quantile_start_can_miss_it():
    # what the default search is for: the quantile start alone ends in a poorer optimum
    res = g.fit(data("galaxies"), 3, init="quantile")
    assert res.log_likelihood < OPTIMA["galaxies", 3] - 1


def test_seed_none_draws_fresh_starts():
    x = data("galaxies")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        starts = {tuple(np.round(g.fit(x, 3, init="random", seed=None, max_iter=1, tol=0).init_params.means, 9))
                  for _ in range(5)}
    assert len(starts) > 1


def _normal_with_a_repeated_value():
    # 205 normal values and one value repeated 5 times: with D = 3 a component can sit on the
    # repeated value (σ at the floor, an unbounded likelihood), but non-degenerate fits exist.
    return np.concatenate([np.random.default_rng(1).normal(0, 1, 205), np.full(5, 3.0)])


def test_the_search_goes_on_to_the_next_start_when_the_best_degenerates():
    # The default search continued only the most likely pre-run; it collapsed onto 3.0, and
    # reject_degenerate said "all 50 run(s) degenerated" although pre_iter=0 (every start run
    # to the end) found non-degenerate fits.
    x = _normal_with_a_repeated_value()
    with warnings.catch_warnings():
        warnings.simplefilter("error", g.DegenerateComponentWarning)
        res = g.fit(x, 3, reject_degenerate=True)
    assert res.converged
    assert res.params.stds.min() > 10 * 1e-6 * x.std()  # none held at the floor (std_floor = 1e-6)
    # Without reject_degenerate the one run that went on is returned, degenerate, and says so
    # (continuing the others would cost a run to convergence each wherever every run collapses).
    with pytest.warns(g.DegenerateComponentWarning):
        plain = g.fit(x, 3)
    assert plain.log_likelihood > res.log_likelihood  # spuriously: a σ on one repeated value
