"""The *effect* of every option of fit and the estimator (gaps a mutation run found).

A test that only checks that an option is accepted survives a mutant that ignores it; each
test here fails when the option's effect is removed or changed.
"""

from __future__ import annotations

import dataclasses
import re
import warnings

import numpy as np
import pytest

import gmmderive as g
from gmmderive import multivariate as mv
from gmmderive.data import checked_data
from gmmderive.datasets import galaxies
from gmmderive.em import batch_em, run_em
from gmmderive.frame import Frame
from gmmderive.options import FitOptions
from gmmderive.runs import pre_runs, went_on
from gmmderive.samples import InMemorySamples
from gmmderive.starts import starting_points


def _stages(x, n_components, **kw):
    """fit's first stages (gmmderive/fit.py): the options, the samples and the starts."""
    defaults = dict(init=None, max_iter=10_000, tol=1e-8, n_init=None, seed=0, std_floor=1e-6,
                    equal_variance=False, pre_iter=None, n_best=1, reject_degenerate=False, compress=False,
                    accelerate=True)
    options = FitOptions.of(n_components, **{**defaults, **kw})
    samples = checked_data(x, None).samples(options)
    return options, samples, starting_points(samples, options)


def _in_memory(z, w=None):
    """Samples already in the frame z (EM's data), for the runs."""
    return InMemorySamples(z, w, Frame(0, 0.0, 1.0), 0.0, z, w, z, True)

RNG = np.random.default_rng(11)
X2 = np.concatenate([RNG.normal(0, 1, 300), RNG.normal(5, 0.7, 200)])


def test_equal_variance_starts_from_the_pooled_sigma():
    start = g.GMMParams([0.25, 0.75], [0.0, 5.0], [1.0, 3.0])
    res = g.fit(X2, init=start, equal_variance=True, max_iter=5, tol=0)
    pooled = np.sqrt(0.25 * 1.0**2 + 0.75 * 3.0**2)
    np.testing.assert_allclose(res.init_params.stds, [pooled, pooled], rtol=1e-15)
    assert res.params.stds[0] == res.params.stds[1]
    assert np.all(np.diff(res.history) >= -1e-9)


@pytest.mark.parametrize("batched", [True, False])
def test_n_best_runs_go_on_after_the_pre_runs(batched):
    # fit's stages: the pre-runs, then the runs that went on (continued, or already converged)
    x = galaxies()
    for n_best in (3, 1):
        options, samples, starts = _stages(x, 3, n_init=6, seed=0, pre_iter=2, n_best=n_best)
        if not batched:  # the pre-runs one by one, as on large data
            samples = dataclasses.replace(samples, batch_size=0)
        short = pre_runs(samples, starts, options)
        assert len(short) == 6
        best = sorted(short, key=lambda r: (r.degenerate, -r.log_likelihood))[:n_best]
        continued = [r for r in went_on(samples, short, options) if not any(r is s for s in short)]
        # exactly the n_best most likely short runs go on (those not yet converged)
        assert len(continued) == sum(not r.converged for r in best)
        assert [r.start for r in continued] == [r.start for r in best if not r.converged]
    assert len(continued) <= 1


def test_batched_pre_runs_are_the_engines_iterations():
    # batch_em runs plain EM from all starts at once: the same iterates as one run per start
    rng = np.random.default_rng(5)
    z = np.concatenate([rng.normal(-1, 0.5, 60), rng.normal(1, 0.8, 40), [0.0, 0.0, 0.0]])
    w = rng.uniform(0.5, 2.0, z.size)
    starts = [g.initial_params(z, 3, "kmeans++", seed=s) for s in range(4)]
    starts.append(g.GMMParams([0.5, 0.5, 0.0], [-1.0, 1.0, 5.0], [0.5, 0.5, 1.0]))  # an empty class
    for kw in ({}, {"equal_variance": True}, {"sample_weight": w}, {"std_floor": 0.3}):
        floor = kw.pop("std_floor", 1e-6)
        w = kw.pop("sample_weight", None)
        together = batch_em(z, starts, 7, std_floor=floor, sample_weight=w, **kw)
        for start, b in zip(starts, together, strict=True):
            a = run_em(_in_memory(z, w), start, max_iter=7, tol=0, std_floor=floor, accelerate=False,
                       keep_resp=False, **kw)
            np.testing.assert_allclose(b.history, a.history, rtol=1e-12)
            for name in ("weights", "means", "stds"):
                np.testing.assert_allclose(getattr(b.params, name), getattr(a.params, name), rtol=1e-9, atol=1e-12)
            assert (b.collapsed == a.collapsed).all() and (b.empty == a.empty).all()


def test_n_best_equal_to_n_init_is_the_full_search():
    x = galaxies()
    full = g.fit(x, 3, n_init=5, seed=4)
    screened = g.fit(x, 3, n_init=5, seed=4, pre_iter=3, n_best=5)
    assert screened.log_likelihood == pytest.approx(full.log_likelihood, abs=1e-6)


def _emptying_start():
    # a third component far from every point loses all its mass in the first E-step
    return g.GMMParams([0.45, 0.45, 0.1], [0.0, 5.0, 1e4], [1.0, 1.0, 1.0])


def test_reject_degenerate_discards_an_emptied_class():
    with pytest.warns(g.DegenerateComponentWarning, match="lost all responsibility mass"):
        res = g.fit(X2, init=_emptying_start(), max_iter=20)
    assert res.params.weights.min() == 0
    with pytest.raises(ValueError, match="degenerated"):
        g.fit(X2, init=_emptying_start(), max_iter=20, reject_degenerate=True)


def test_reject_degenerate_passes_through_the_estimator():
    est = g.GaussianMixture1D(3, init=_emptying_start(), max_iter=20, reject_degenerate=True)
    with pytest.raises(ValueError, match="degenerated"):
        est.fit(X2)


def test_no_convergence_warning_when_tol_is_zero():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = g.fit(X2, 2, max_iter=3, tol=0)
    assert res.n_iter == 3 and not res.converged
    with pytest.warns(g.ConvergenceWarning):
        g.fit(X2, 2, max_iter=3, tol=1e-8)


@pytest.mark.parametrize("head", [0, 1000])
def test_distinct_values_check_at_its_boundary(head):
    # three distinct values, the later ones possibly beyond the prefix the check looks at first
    x = np.concatenate([np.zeros(head), [0.0, 1.0, 2.0, 1.0, 2.0]])
    g.fit(x, 3, max_iter=5, tol=0)  # D equal to the number of distinct values: allowed
    with pytest.raises(ValueError, match="greater than the number of distinct values"):
        g.fit(x, 4)


def test_sample_uses_the_standard_deviations():
    est = g.GaussianMixture1D(2).fit(X2)
    draws, labels = est.sample(200_000, random_state=1)
    for c in range(2):
        assert draws[labels == c].std() == pytest.approx(est.stds_[c], rel=0.02)
        assert draws[labels == c].mean() == pytest.approx(est.means_[c], abs=0.02)
    assert np.bincount(labels) / labels.size == pytest.approx(est.weights_, abs=0.01)


@pytest.mark.parametrize("arg", ["n_components", "max_iter", "n_init", "pre_iter", "n_best"])
def test_bool_is_not_an_int(arg):
    kwargs = {"n_components": 2, arg: True}
    with pytest.raises(ValueError, match=arg):
        g.fit(X2, **kwargs)


def test_gmmparams_equality_and_tie_order():
    p = g.GMMParams([0.2, 0.3, 0.5], [1.0, 1.0, 1.0], [2.0, 1.0, 1.0])
    # equal means: by std, then by weight
    np.testing.assert_array_equal(p.canonical_order(), [1, 2, 0])
    q = g.GMMParams([0.2, 0.3, 0.5], [1.0, 1.0, 1.0], [2.0, 1.0, 1.0])
    assert p == q and hash(p) == hash(q)
    for other in (g.GMMParams([0.3, 0.2, 0.5], [1.0, 1.0, 1.0], [2.0, 1.0, 1.0]),
                  g.GMMParams([0.2, 0.3, 0.5], [1.0, 1.0, 1.5], [2.0, 1.0, 1.0]),
                  g.GMMParams([0.2, 0.3, 0.5], [1.0, 1.0, 1.0], [2.0, 1.0, 1.1])):
        assert p != other


def test_two_identical_components_keep_a_finite_likelihood():
    # The fused pass's overflow guard: equal log-joints in every class.
    start = g.GMMParams([0.5, 0.5], [2.0, 2.0], [1.5, 1.5])
    res = g.fit(X2, init=start, max_iter=10, tol=0)
    assert np.all(np.isfinite(res.history))
    assert res.log_likelihood == pytest.approx(g.log_likelihood(X2, res.params), rel=1e-12)
    far = np.concatenate([X2, [1e6]])  # an outlier far in the tail of both
    res = g.fit(far, init=start, max_iter=5, tol=0)
    assert np.all(np.isfinite(res.history))


def test_fit_applies_the_sigma_floor_to_the_start():
    # A start below the floor would make the first M-step lower the log-likelihood (#14, item 4).
    x = np.array([0, 3, 1, 3, 2, 1, 0, 0, 1, 2, 2], dtype=float)
    res = g.fit(x, 4, std_floor=0.1)
    assert np.all(np.diff(res.history) >= -1e-9 * np.abs(res.history[:-1]).max())
    start = g.GMMParams([0.25] * 4, [0.0, 1.0, 2.0, 3.0], [1e-9] * 4)
    res = g.fit(x, init=start, std_floor=0.1)
    assert res.init_params.stds.min() >= 0.1 * x.std()
    assert np.all(np.diff(res.history) >= -1e-9 * np.abs(res.history[:-1]).max())


# -- the multivariate fit -------------------------------------------------------------

def _two_blobs(scale=1.0):
    rng = np.random.default_rng(5)
    a = rng.normal([4.0, 0.0], 0.5, (150, 2))
    b = rng.normal([0.0, 3.0], 0.8, (100, 2))
    return np.vstack([a, b]) * scale


def test_multivariate_canonical_order_and_responsibilities():
    X = _two_blobs()
    res = mv.fit(X, 2, seed=0)
    # components sorted by their first coordinate
    assert res.params.means[0, 0] < res.params.means[1, 0]
    # responsibilities reordered with them: they are those of the returned parameters
    np.testing.assert_allclose(res.responsibilities, mv.responsibilities(X, res.params), atol=1e-10)


def test_multivariate_covariance_floor_is_relative():
    X = _two_blobs()
    small, big = mv.fit(X, 2, seed=0, cov_floor=0.05), mv.fit(X * 1000, 2, seed=0, cov_floor=0.05)
    np.testing.assert_allclose(big.params.covariances, small.params.covariances * 1e6, rtol=1e-6)
    # a floor that binds: every Σ_c - floor·var(X) stays positive semidefinite, and the fit differs
    tight, loose = mv.fit(X, 2, seed=0, cov_floor=0.5), mv.fit(X, 2, seed=0, cov_floor=0.0)
    floor = 0.5 * np.var(X, axis=0)
    assert np.linalg.eigvalsh(tight.params.covariances - np.diag(floor)).min() >= -1e-12
    assert np.linalg.eigvalsh(loose.params.covariances - np.diag(floor)).min() < 0


# -- survivors of the mutation run (tests/MUTATION.md), killed ------------------------------

def test_random_init_draws_distinct_data_values():
    x = galaxies()
    for seed in range(5):
        start = g.initial_params(x, 4, strategy="random", seed=seed)
        rng = np.random.default_rng(seed)
        centers = np.sort(rng.choice(np.unique(x), size=4, replace=False))
        # each sample goes to its nearest centre: the means are those groups' means
        labels = np.argmin(np.abs(x[:, None] - centers[None, :]), axis=1)
        np.testing.assert_allclose(start.means, [x[labels == c].mean() for c in range(4)])
    assert g.initial_params(x, 4, "random", seed=1) != g.initial_params(x, 4, "kmeans++", seed=1)


def test_initial_params_are_equivariant_with_a_singleton_group():
    # a group of one point gets the initial σ floor, which scales with the data
    x = np.array([0.0, 0.1, 0.2, 5.0, 9.0, 9.1, 9.3])
    a = g.initial_params(x, 3)
    b = g.initial_params(1000.0 * x, 3)
    np.testing.assert_allclose(b.stds, 1000.0 * a.stds, rtol=1e-12)
    np.testing.assert_allclose(b.means, 1000.0 * a.means, rtol=1e-12)


def test_n_best_default_is_one():
    options, samples, starts = _stages(galaxies(), 3, n_init=6, seed=3, pre_iter=2)
    short = pre_runs(samples, starts, options)
    continued = [r for r in went_on(samples, short, options) if not any(r is s for s in short)]
    assert len(continued) <= 1


def test_quantile_start_refuses_several_runs():
    with pytest.raises(ValueError, match="deterministic"):
        g.fit(X2, 2, init="quantile", n_init=2)


def test_pre_runs_count_toward_max_iter():
    res = g.fit(galaxies(), 3, n_init=4, seed=0, pre_iter=2, max_iter=6, tol=0)
    assert res.n_iter == 6 and res.history.size == 7


def test_history_is_read_only():
    res = g.fit(X2, 2)
    with pytest.raises(ValueError):
        res.history[0] = 0.0


def test_degenerate_warning_names_the_floor_in_data_units():
    x = np.concatenate([np.zeros(5), RNG.normal(50, 10, 100)]) * 1000.0
    start = g.GMMParams([0.05, 0.95], [0.0, 50_000.0], [1.0, 10_000.0])
    with pytest.warns(g.DegenerateComponentWarning, match=f"floor {0.01 * x.std():.3g}"):
        g.fit(x, init=start, std_floor=0.01, max_iter=5, tol=0)


def test_lower_bound_with_exactly_zero_responsibilities():
    params = g.GMMParams([1.0, 0.0], [0.0, 5.0], [1.0, 1.0])  # an empty class: ρ = 0 exactly
    resp = g.e_step(X2, params)
    assert (resp[:, 1] == 0).all()
    assert np.isfinite(g.lower_bound(X2, resp, params))
    assert g.lower_bound(X2, resp, params) == pytest.approx(g.log_likelihood(X2, params), rel=1e-12)


def test_em_path_keeps_an_emptied_class():
    path, ll = g.em_path(X2, _emptying_start(), 3)
    assert len(path) == 4 and np.all(np.diff(ll) >= -1e-9)
    assert path[-1].weights[2] == 0 and path[-1].means[2] == 1e4


def test_scalar_parameters_are_one_component():
    p = g.GMMParams(1.0, 0.0, 2.0)
    assert p.n_components == 1 and p.stds.tolist() == [2.0]


def test_fit_near_the_largest_float():
    x = np.concatenate([RNG.normal(0, 1, 50), RNG.normal(6, 1, 50)]) * 2e307
    res = g.fit(x, 2)
    assert np.isfinite(res.params.means).all() and np.isfinite(res.history).all()


# -- issue 24: options that are booleans ---------------------------------------------------

NOT_BOOLEANS = ["no", "False", 0, 1, None, np.array([True]), 1.0]


@pytest.mark.parametrize("value", NOT_BOOLEANS, ids=repr)
@pytest.mark.parametrize("option", ["equal_variance", "accelerate", "compress", "reject_degenerate"])
def test_boolean_options_must_be_booleans(option, value):
    # equal_variance='no' used to fit one shared σ: any truthy value counted as True.
    with pytest.raises(ValueError, match=re.escape(f"{option} must be True or False, got {value!r}")):
        g.fit(X2, 2, **{option: value})
    if option != "compress":  # the estimator has no compress
        with pytest.raises(ValueError, match=f"{option} must be True or False"):
            g.GaussianMixture1D(2, **{option: value}).fit(X2)


@pytest.mark.parametrize("value", NOT_BOOLEANS[:3], ids=repr)
def test_boolean_arguments_of_the_steps_must_be_booleans(value):
    rho = g.e_step(X2, g.GMMParams([0.5, 0.5], [0.0, 5.0], [1.0, 1.0]))
    with pytest.raises(ValueError, match="equal_variance must be True or False"):
        g.m_step(X2, rho, equal_variance=value)
    with pytest.raises(ValueError, match="include_constant must be True or False"):
        g.q_function(X2, rho, g.GMMParams([0.5, 0.5], [0.0, 5.0], [1.0, 1.0]), include_constant=value)


@pytest.mark.parametrize("flag", [True, False, np.True_, np.False_])
def test_numpy_booleans_are_booleans(flag):
    a = g.fit(X2, 2, equal_variance=flag, accelerate=flag, compress=flag, reject_degenerate=flag)
    b = g.fit(X2, 2, equal_variance=bool(flag), accelerate=bool(flag), compress=bool(flag),
              reject_degenerate=bool(flag))
    assert a.params == b.params and a.n_iter == b.n_iter
