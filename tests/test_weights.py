"""Weighted data (chapter 21): sample weights in every sum over samples.

The properties that define them: integer weights equal repeating the samples, a zero weight
equals removing the sample, weights scaled by a constant give the same parameters; the
compressed fit (distinct values with their counts) equals the raw fit; every bad weight is
a clear ValueError (the CLI: one line, exit 2).
"""

import json
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gmmderive as gd
from gmmderive.datasets import exam_grades, old_faithful

START = gd.GMMParams([0.6, 0.4], [2.0, 4.0], [0.6, 0.4])


def _close(a: gd.GMMParams, b: gd.GMMParams, rtol=1e-9, atol=0.0):
    np.testing.assert_allclose(a.weights, b.weights, rtol=rtol, atol=max(atol, 1e-12))
    np.testing.assert_allclose(a.means, b.means, rtol=rtol, atol=atol)
    np.testing.assert_allclose(a.stds, b.stds, rtol=rtol, atol=atol)


def _grades_with_counts(seed=0, n=60):
    rng = np.random.default_rng(seed)
    x = np.round(exam_grades(n, seed=seed), 1)
    return x, rng.integers(1, 5, x.size)


# -- the readable E/M steps ---------------------------------------------------------------


def test_weighted_m_step_q_and_log_likelihood_equal_repetition():
    x, w = _grades_with_counts()
    rep = np.repeat(x, w)
    rho, rho_rep = gd.e_step(x, START), gd.e_step(rep, START)
    _close(gd.m_step(x, rho, sample_weight=w), gd.m_step(rep, rho_rep), rtol=1e-12)
    assert gd.q_function(x, rho, START, sample_weight=w) == pytest.approx(gd.q_function(rep, rho_rep, START), rel=1e-12)
    assert gd.q_function(x, rho, START, sample_weight=w, include_constant=False) == pytest.approx(
        gd.q_function(rep, rho_rep, START, include_constant=False), rel=1e-12)
    assert gd.log_likelihood(x, START, sample_weight=w) == pytest.approx(gd.log_likelihood(rep, START), rel=1e-12)
    # the weighted M-step is the M-step of the formulas (S20, S24, S29 with w_i ρ)
    wr = w[:, None] * rho
    m = gd.m_step(x, rho, sample_weight=w)
    np.testing.assert_allclose(m.weights, wr.sum(0) / w.sum())
    np.testing.assert_allclose(m.means, wr.T @ x / wr.sum(0))
    np.testing.assert_allclose(m.stds, np.sqrt((wr * (x[:, None] - m.means) ** 2).sum(0) / wr.sum(0)))


def test_equal_variance_m_step_divides_by_the_total_weight():
    x, w = _grades_with_counts(1)
    rep = np.repeat(x, w)
    _close(gd.m_step(x, gd.e_step(x, START), sample_weight=w, equal_variance=True),
           gd.m_step(rep, gd.e_step(rep, START), equal_variance=True), rtol=1e-12)


# -- fit ----------------------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore::gmmderive.fit.ConvergenceWarning")  # D = 3 on two clusters: slow, still equal
@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), d=st.integers(1, 3))
def test_integer_weights_equal_repetition(seed, d):
    rng = np.random.default_rng(seed)
    x = np.round(np.concatenate([rng.normal(0, 1, 25), rng.normal(4, 1, 25)]), 2)
    w = rng.integers(1, 4, x.size)
    a = gd.fit(x, d, sample_weight=w)
    b = gd.fit(np.repeat(x, w), d)  # the same starts: weighted ranks are the repeated ranks
    assert a.log_likelihood == pytest.approx(b.log_likelihood, rel=1e-10)
    # both within tol = 1e-8 (in units of std(x)) of one fixed point; they may stop a step apart
    _close(a.params, b.params, rtol=1e-7, atol=1e-7 * x.std())
    # plain EM from the quantile start takes the same path, iteration for iteration
    a = gd.fit(x, d, sample_weight=w, init="quantile", accelerate=False, tol=0, max_iter=50)
    b = gd.fit(np.repeat(x, w), d, init="quantile", accelerate=False, tol=0, max_iter=50)
    np.testing.assert_allclose(a.history, b.history, rtol=1e-10)
    _close(a.params, b.params, rtol=1e-7)


def test_integer_weights_equal_repetition_with_random_restarts_and_options():
    x, w = _grades_with_counts(2, 80)
    rep = np.repeat(x, w)
    for kw in ({"n_init": 6, "seed": 3}, {"n_init": 6, "seed": 3, "pre_iter": 3, "n_best": 2},
               {"equal_variance": True}, {"init": "random", "seed": 1}):
        a, b = gd.fit(x, 3, sample_weight=w, **kw), gd.fit(rep, 3, **kw)
        assert a.log_likelihood == pytest.approx(b.log_likelihood, rel=1e-10), kw
        _close(a.params, b.params, rtol=1e-7)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_a_zero_weight_removes_its_sample(seed):
    rng = np.random.default_rng(seed)
    x = np.concatenate([rng.normal(0, 1, 30), rng.normal(5, 1, 30)])
    w = rng.uniform(0.5, 2.0, x.size)
    gone = rng.random(x.size) < 0.3
    w[gone] = 0.0
    a = gd.fit(x, 2, sample_weight=w, tol=0, max_iter=30)
    b = gd.fit(x[~gone], 2, sample_weight=w[~gone], tol=0, max_iter=30)
    assert a.log_likelihood == pytest.approx(b.log_likelihood, rel=1e-12)
    _close(a.params, b.params, rtol=1e-12)
    assert a.responsibilities.shape == (x.size, 2)  # still one row per given sample
    np.testing.assert_allclose(a.responsibilities, gd.e_step(x, a.params), atol=1e-12)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000), scale=st.floats(1e-3, 1e3))
def test_weights_scaled_by_a_constant_give_the_same_parameters(seed, scale):
    rng = np.random.default_rng(seed)
    x = np.concatenate([rng.normal(0, 1, 40), rng.normal(4, 1.5, 40)])
    w = rng.uniform(0.1, 3.0, x.size)
    a = gd.fit(x, 2, sample_weight=w, tol=0, max_iter=40, accelerate=False)
    b = gd.fit(x, 2, sample_weight=scale * w, tol=0, max_iter=40, accelerate=False)
    _close(a.params, b.params, rtol=1e-9, atol=1e-9 * x.std())  # a mean may lie near 0
    assert b.log_likelihood == pytest.approx(scale * a.log_likelihood, rel=1e-9)  # Σ w log p scales


def test_unit_weights_change_nothing():
    x = exam_grades()
    a, b = gd.fit(x, 2), gd.fit(x, 2, sample_weight=np.ones(x.size))
    assert a.n_iter == b.n_iter and a.log_likelihood == pytest.approx(b.log_likelihood, rel=1e-12)
    _close(a.params, b.params, rtol=1e-10)


def test_compress_equals_the_raw_fit():
    waiting = old_faithful()["waiting"]
    assert np.unique(waiting).size < waiting.size  # whole minutes: many ties
    for kw in ({}, {"n_init": 5, "seed": 0}, {"equal_variance": True}):
        raw, packed = gd.fit(waiting, 2, **kw), gd.fit(waiting, 2, compress=True, **kw)
        assert packed.log_likelihood == pytest.approx(raw.log_likelihood, rel=1e-10), kw
        _close(packed.params, raw.params, rtol=1e-7)
        assert packed.responsibilities.shape == raw.responsibilities.shape
        np.testing.assert_allclose(packed.responsibilities, raw.responsibilities, atol=1e-6)
    # with weights: the counts multiply them
    x, w = _grades_with_counts(4)
    a, b = gd.fit(x, 2, sample_weight=w, compress=True), gd.fit(np.repeat(x, w), 2)
    assert a.log_likelihood == pytest.approx(b.log_likelihood, rel=1e-10)


def test_compress_keeps_the_samples_order_when_every_value_is_distinct():
    # compress sorts the data; with no ties the sorted values are as many as the samples, and
    # their responsibilities were once returned in sorted order (a silent wrong answer).
    x = np.random.default_rng(7).permutation(np.concatenate([np.linspace(-3, -1, 60), np.linspace(1, 4, 40)]))
    assert np.unique(x).size == x.size
    raw, packed = gd.fit(x, 2), gd.fit(x, 2, compress=True)
    np.testing.assert_allclose(packed.responsibilities, raw.responsibilities, atol=1e-9)
    assert (packed.responsibilities[x < 0, 0] > 0.99).all() and (packed.responsibilities[x > 0, 1] > 0.99).all()


def test_the_fused_pass_and_the_numpy_engine_agree_with_weights():
    pytest.importorskip("numba")
    from gmmderive import _fused, _numpy_engine

    x, w = _grades_with_counts(5, 3000)
    w = w.astype(float) * 0.37
    a, b = _fused.em_iteration(x, START, sample_weight=w), _numpy_engine.em_iteration(x, START, sample_weight=w)
    assert a[0] == pytest.approx(b[0], rel=1e-12)
    _close(a[1], b[1], rtol=1e-12)


# -- the estimator and the CLI ------------------------------------------------------------


def test_estimator_weighted_fit_score_bic_aic_equal_repetition():
    x, w = _grades_with_counts(6)
    rep = np.repeat(x, w)
    a, b = gd.GaussianMixture1D(2).fit(x, sample_weight=w), gd.GaussianMixture1D(2).fit(rep)
    _close(a.params_, b.params_, rtol=1e-7)
    assert a.score(x, sample_weight=w) == pytest.approx(b.score(rep), rel=1e-9)
    assert a.bic(x, sample_weight=w) == pytest.approx(b.bic(rep), rel=1e-9)  # N_eff = Σ w
    assert a.aic(x, sample_weight=w) == pytest.approx(b.aic(rep), rel=1e-9)


def test_cli_weights_column(tmp_path):
    x, w = _grades_with_counts(7)
    (tmp_path / "counts.csv").write_text("grade,count\n" + "".join(f"{v},{c}\n" for v, c in zip(x, w)))
    (tmp_path / "raw.csv").write_text("grade\n" + "".join(f"{v}\n" for v in np.repeat(x, w)))

    def run(*args):
        return subprocess.run([sys.executable, "-m", "gmmderive", "fit", *args], capture_output=True, text=True)

    counts = str(tmp_path / "counts.csv")
    a = json.loads(run(counts, "--column", "grade", "--weights", "count", "-k", "2", "--json").stdout)
    b = json.loads(run(str(tmp_path / "raw.csv"), "-k", "2", "--json").stdout)
    assert a["total_weight"] == b["n_samples"] == int(w.sum())
    assert a["log_likelihood"] == pytest.approx(b["log_likelihood"], rel=1e-9)
    assert a["bic"] == pytest.approx(b["bic"], rel=1e-9)
    bad = tmp_path / "bad.csv"
    for rows, expected in ((["1.0,2", "2.0,-1", "3.0,1"], "weights must be >= 0"),
                           (["1.0,0", "2.0,0", "3.0,0"], "is 0"),
                           (["1.0,2", "2.0,x", "3.0,1"], "non-numeric value 'x'"),
                           (["1.0,2", "2.0,nan", "3.0,1"], "non-finite")):
        bad.write_text("grade,count\n" + "\n".join(rows) + "\n")
        r = run(str(bad), "--column", "grade", "--weights", "count", "-k", "2")
        assert r.returncode == 2 and expected in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    r = run(str(tmp_path / "counts.csv"), "--column", "grade", "--weights", "grade", "-k", "2")
    assert r.returncode == 2 and "--weights names the fitted column" in r.stderr


# -- bad weights --------------------------------------------------------------------------

BAD_WEIGHTS = [
    (lambda n: -np.ones(n), "must be >= 0"),
    (lambda n: np.r_[np.ones(n - 1), -1e-300], "must be >= 0"),
    (lambda n: np.r_[np.ones(n - 1), np.nan], "NaN or ±inf"),
    (lambda n: np.r_[np.ones(n - 1), np.inf], "NaN or ±inf"),
    (lambda n: np.zeros(n), "0 for every sample"),
    (lambda n: np.ones(n + 1), "weights for"),
    (lambda n: np.ones(n - 1), "weights for"),
    (lambda n: np.ones((n, 2)), "must be 1-D"),
    (lambda n: np.ones((1, n)), "must be 1-D"),
    (lambda n: np.array(["1"] * n), "must be real numbers"),
    (lambda n: np.array([1 + 0j] * n), "must be real numbers"),
    (lambda n: np.array([object()] * n), "must be real numbers"),
    (lambda n: np.ones(n, dtype=bool), "booleans"),
    (lambda n: "1", "got a string"),
]


@pytest.mark.parametrize("make, message", BAD_WEIGHTS)
def test_bad_weights_are_a_clear_error(make, message):
    x = np.round(exam_grades(40), 1)
    w = make(x.size)
    rho = gd.e_step(x, START)
    calls = [lambda: gd.fit(x, 2, sample_weight=w), lambda: gd.fit(x, 2, sample_weight=w, compress=True),
             lambda: gd.m_step(x, rho, sample_weight=w), lambda: gd.q_function(x, rho, START, sample_weight=w),
             lambda: gd.log_likelihood(x, START, sample_weight=w),
             lambda: gd.GaussianMixture1D(2).fit(x, sample_weight=w)]
    for call in calls:
        with pytest.raises(ValueError, match=message):
            call()


def test_weights_of_a_fitted_estimator_are_checked_too():
    x = exam_grades(40)
    model = gd.GaussianMixture1D(2).fit(x)
    for method in (model.score, model.bic, model.aic):
        with pytest.raises(ValueError, match="must be >= 0"):
            method(x, sample_weight=-np.ones(x.size))


@pytest.mark.parametrize("scale", [1e-300, 1e200, 1e300])
def test_weights_of_any_magnitude_give_the_same_fit(scale):
    # Weights are scaled by a power of two below 1 inside fit: with 1e200 the weighted sums of
    # squares once overflowed and every σ collapsed to the floor. RuntimeWarnings are errors here.
    x = np.r_[np.random.default_rng(0).normal(0, 1, 600), np.random.default_rng(1).normal(5, 1, 400)]
    unit, scaled = gd.fit(x, 2, sample_weight=np.ones(x.size)), gd.fit(x, 2, sample_weight=np.full(x.size, scale))
    _close(scaled.params, unit.params, rtol=1e-12)
    assert scaled.log_likelihood == pytest.approx(scale * unit.log_likelihood, rel=1e-12)
    assert scaled.n_iter == unit.n_iter


# -- issue 24: weights at the edges of the float range ---------------------------------------


def test_dask_weights_with_compress_keep_the_scale_of_the_weights():
    # The Dask scan divides the weights by 2^e (the largest below 1) and compress then divided
    # the distinct values' counts once more, remembering only the second factor: the
    # log-likelihood came out 2^e times too small (a factor of 32 here).
    da = pytest.importorskip("dask.array", reason="Dask is not installed")
    x, w = _grades_with_counts(3, n=300)
    w = w * 4.0  # the largest weight 16: e = 5
    chunked = gd.fit(da.from_array(x, chunks=70), 2, sample_weight=w, compress=True)
    memory = gd.fit(x, 2, sample_weight=w, compress=True)
    # Both fit the same distinct values with the same counts (sums of integers: exact) and
    # weights scaled by powers of two (exact): the same computation, so equal exactly.
    assert chunked.params == memory.params and chunked.log_likelihood == memory.log_likelihood
    # and it is Σ w log p: the fused pass over distinct values against NumPy's pairwise sum over
    # 300 samples, which differ by about N·eps relative
    assert chunked.log_likelihood == pytest.approx(gd.log_likelihood(x, chunked.params, sample_weight=w),
                                                   rel=1e-12)


def _two_clusters(n=100):
    rng = np.random.default_rng(4)
    return np.concatenate([rng.normal(0, 1, n // 2), rng.normal(5, 1, n - n // 2)])


def test_weights_whose_ratio_is_beyond_the_float_range():
    # 1e-30 is below 2^-1074 times 1e300: scaled with the largest weight it is 0. Such a sample
    # counts nothing in any sum at double precision; it was still a candidate centre of the
    # starts, whose group then weighed 0 (AssertionError: a start's group is empty).
    x = _two_clusters()
    w = np.r_[np.full(50, 1e300), np.full(50, 1e-30)]
    res = gd.fit(x, 2, sample_weight=w)
    ref = gd.fit(x[:50], 2, sample_weight=w[:50])  # the tiny weights removed
    # the same samples with the same weights: the same computation, exactly
    assert res.params == ref.params and res.log_likelihood == ref.log_likelihood
    assert res.responsibilities.shape == (100, 2)


def test_weights_whose_total_overflows_are_a_clear_error():
    # 100 weights of 1e307 sum to 1e309: the log-likelihood Σ w log p was -inf, and the CLI
    # printed Infinity and NaN, which are not JSON.
    x = _two_clusters()
    for call in (lambda: gd.fit(x, 2, sample_weight=np.full(100, 1e307)),
                 lambda: gd.log_likelihood(x, START, sample_weight=np.full(100, 1e307)),
                 lambda: gd.GaussianMixture1D(2).fit(x, sample_weight=np.full(100, 1e307))):
        with pytest.raises(ValueError, match="sample_weight sums to more than the largest float"):
            call()


def test_a_log_likelihood_beyond_the_float_range_is_a_clear_error():
    # Σ w = 1e308 is a float, but Σ w log p (about -4.3e308 for σ = 10) is not.
    x = 10 * _two_clusters()
    w = np.full(100, 1e306)
    for call in (lambda: gd.fit(x, 2, sample_weight=w), lambda: gd.log_likelihood(x, START, sample_weight=w)):
        with pytest.raises(ValueError, match="log-likelihood .* beyond the range of a float"):
            call()


def test_cli_weights_whose_log_likelihood_overflows(tmp_path):
    x = _two_clusters()
    (tmp_path / "w.csv").write_text("x,w\n" + "".join(f"{v!r},1e308\n" for v in x.tolist()))
    r = subprocess.run([sys.executable, "-m", "gmmderive", "fit", str(tmp_path / "w.csv"), "--column", "x",
                        "--weights", "w", "-k", "2", "--json"], capture_output=True, text=True)
    assert r.returncode == 2 and r.stdout == "", r.stdout
    assert len(r.stderr.strip().splitlines()) == 1 and "sums to more than the largest float" in r.stderr
