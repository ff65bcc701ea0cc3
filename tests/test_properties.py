"""Property tests (hypothesis): monotone EM, no NaN, equivariance, permutation."""

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import gmmderive as g

SETTINGS = settings(max_examples=60, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow])


@st.composite
def data_sets(draw):
    """Random 1-D data: clusters, duplicates, far outliers, scales 1e-8..1e8."""
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    n = draw(st.integers(3, 120))
    scale = 10.0 ** draw(st.integers(-8, 8))
    offset = draw(st.sampled_from([0.0, 1.0, -1e3])) * scale
    k = draw(st.integers(1, 3))
    centers = rng.normal(0, 5, k)
    x = centers[rng.integers(k, size=n)] + rng.normal(0, 1, n)
    if draw(st.booleans()):  # duplicates
        x[: n // 3] = x[0]
    if draw(st.booleans()):  # an outlier 1e6 away
        x[-1] = x[-1] + 1e6
    x = x * scale + offset
    d = draw(st.integers(1, min(4, n)))
    if np.unique(x).size < max(d, 2):
        x = x + np.arange(n) * scale  # make enough distinct values
    return x, d


def quiet_fit(*args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", g.DegenerateComponentWarning)
        warnings.simplefilter("ignore", g.ConvergenceWarning)
        return g.fit(*args, **kw)


@SETTINGS
@given(data_sets())
def test_no_nan_and_monotone_history(case):
    x, d = case
    res = quiet_fit(x, d, max_iter=200)
    assert np.isfinite(res.history).all()
    assert np.isfinite(res.responsibilities).all()
    for a in (res.params.weights, res.params.means, res.params.stds):
        assert np.isfinite(a).all()
    np.testing.assert_allclose(res.responsibilities.sum(axis=1), 1.0, rtol=1e-12)
    steps = np.diff(res.history)
    assert (steps >= -1e-12 * np.maximum(1.0, np.abs(res.history[1:]))).all(), steps.min()


@SETTINGS
@given(data_sets(), st.floats(-1e3, 1e3).filter(lambda a: abs(a) > 1e-3), st.floats(-1e3, 1e3))
def test_affine_equivariance(case, a, t):
    # Fitting a·x + b gives μ' = aμ + b, σ' = |a|σ, π' = π (reordered when a < 0).
    # b is a multiple of the data's spread: a far larger shift rounds the data themselves.
    x, d = case
    b = t * abs(a) * x.std()
    # A few iterations: over many, EM amplifies rounding along weakly identified directions.
    ref = quiet_fit(x, d, max_iter=5, tol=0.0)
    start = g.GMMParams(ref.init_params.weights, a * ref.init_params.means + b, abs(a) * ref.init_params.stds)
    res = quiet_fit(a * x + b, init=start, max_iter=5, tol=0.0)
    # Compared as multisets: components with tied means may come in either order.
    scale = abs(a) * x.std()
    np.testing.assert_allclose(res.params.means, np.sort(a * ref.params.means + b),
                               rtol=1e-6, atol=1e-6 * scale + 1e-9 * abs(b))
    np.testing.assert_allclose(np.sort(res.params.stds), np.sort(abs(a) * ref.params.stds),
                               rtol=1e-5, atol=1e-6 * scale)
    np.testing.assert_allclose(np.sort(res.params.weights), np.sort(ref.params.weights), atol=1e-6)
    # log p(a·x + b) = log p(x) - N log|a|
    np.testing.assert_allclose(res.log_likelihood, ref.log_likelihood - x.size * np.log(abs(a)), rtol=1e-8, atol=1e-6)


@SETTINGS
@given(data_sets(), st.integers(0, 2**32 - 1))
def test_permuting_the_data_changes_nothing(case, seed):
    x, d = case
    perm = np.random.default_rng(seed).permutation(x.size)
    # 100 iterations of plain EM from the quantile start: a function of the data up to rounding.
    # (A stopping rule, or an accelerated path, may decide one iteration differently on a
    # rounding-level tie: then the two fits differ by one step, not by rounding.)
    a = quiet_fit(x, d, max_iter=100, tol=0, init="quantile", accelerate=False)
    b = quiet_fit(x[perm], d, max_iter=100, tol=0, init="quantile", accelerate=False)
    np.testing.assert_allclose(b.params.means, a.params.means, rtol=1e-8, atol=1e-8 * x.std())
    np.testing.assert_allclose(b.params.stds, a.params.stds, rtol=1e-7, atol=1e-8 * x.std())
    np.testing.assert_allclose(b.params.weights, a.params.weights, atol=1e-8)
    np.testing.assert_allclose(b.responsibilities, a.responsibilities[perm], atol=1e-7)


@st.composite
def data_and_params(draw):
    """A data set and parameters anywhere near it: means up to 1e4 spreads away, σ over 1e8."""
    x, d = draw(data_sets())
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    spread = float(np.ptp(x)) or 1.0
    means = x.mean() + spread * rng.normal(0, 1, d) * 10.0 ** draw(st.integers(-2, 4))
    stds = spread * 10.0 ** rng.uniform(-4, 4, d)
    return x, g.GMMParams(rng.dirichlet(np.ones(d)), means, stds)


@SETTINGS
@given(data_and_params())
def test_fused_iteration_equals_e_step_then_m_step(case):
    # fit's one-pass iteration (gmmderive._fused) against the lecture's functions, far and near.
    _fused = pytest.importorskip("gmmderive._fused", reason="the fused pass needs numba")
    from gmmderive.core import e_step_dn, m_step_dn

    x, params = case
    floor = 1e-6 * float(x.std())  # fit's default floor: a component may sit on one point
    ll, new, collapsed, empty = _fused.em_iteration(x, params, std_floor=floor)
    resp, ll_ref = e_step_dn(x, params)
    ref, ref_collapsed, ref_empty = m_step_dn(x, resp, previous=params, std_floor=floor)
    np.testing.assert_allclose(ll, ll_ref, rtol=1e-12)
    assert (empty == ref_empty).all() and (collapsed == ref_collapsed).all()
    scale = float(np.ptp(x))
    np.testing.assert_allclose(new.weights, ref.weights, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(new.means, ref.means, rtol=1e-9, atol=1e-9 * scale)
    np.testing.assert_allclose(new.stds, ref.stds, rtol=1e-9, atol=1e-9 * scale)
