"""fit(), initialization, degenerate fits, the estimator, the data sets."""

import warnings

import numpy as np
import pytest

import gmmderive as g
from gmmderive import selection
from gmmderive.data import checked_data
from gmmderive.datasets import exam_grades, galaxies, old_faithful
from gmmderive.em import Run
from gmmderive.fit import DEFAULT_STD_FLOOR, INIT_STRATEGIES
from gmmderive.options import FitOptions
from gmmderive.runs import runs_of
from gmmderive.starts import starting_points


def two_clusters(n=400, seed=0):
    rng = np.random.default_rng(seed)
    return np.concatenate([rng.normal(-2.0, 0.7, n // 2), rng.normal(3.0, 1.2, n - n // 2)])


def test_fit_recovers_two_clusters():
    res = g.fit(two_clusters(4000), 2)
    assert res.converged
    np.testing.assert_allclose(res.params.means, [-2.0, 3.0], atol=0.1)
    np.testing.assert_allclose(res.params.stds, [0.7, 1.2], atol=0.1)
    np.testing.assert_allclose(res.params.weights, [0.5, 0.5], atol=0.03)


def test_fit_result_is_consistent():
    x = two_clusters()
    res = g.fit(x, 2)
    assert res.log_likelihood == res.history[-1] == pytest.approx(g.log_likelihood(x, res.params))
    assert len(res.history) == res.n_iter + 1
    np.testing.assert_allclose(res.responsibilities, g.e_step(x, res.params), rtol=1e-12)
    assert res.responsibilities.shape == (x.size, 2)


def test_one_iteration_is_e_step_then_m_step():
    x = two_clusters()
    start = g.GMMParams([0.3, 0.7], [-1.0, 1.0], [2.0, 2.0])
    res = g.fit(x, init=start, max_iter=1, tol=0.0)
    expected = g.m_step(x, g.e_step(x, start))
    np.testing.assert_allclose(res.params.means, expected.means, rtol=1e-13)
    np.testing.assert_allclose(res.params.stds, expected.stds, rtol=1e-13)
    np.testing.assert_allclose(res.params.weights, expected.weights, rtol=1e-13)
    assert res.history[0] == pytest.approx(g.log_likelihood(x, start))


def test_tol_zero_runs_exactly_max_iter():
    x = two_clusters()
    start = g.initial_params(x, 2)
    res = g.fit(x, init=start, max_iter=500, tol=0.0)  # converges long before
    assert res.n_iter == 500 and not res.converged and len(res.history) == 501


def test_history_never_decreases():
    res = g.fit(galaxies() / 1000, 4, init="random", seed=2)
    steps = np.diff(res.history)
    assert (steps >= -1e-12 * np.abs(res.history[1:])).all()


def test_stopping_rule_reaches_a_fixed_point():
    # With tol = 1e-8 on the total log-likelihood the estimate is at EM's
    # fixed point to many digits: further iterations barely move it.
    x = galaxies() / 1000
    res = g.fit(x, 3)
    more = g.fit(x, init=res.params, max_iter=2000, tol=0.0)
    np.testing.assert_allclose(more.params.means, res.params.means, rtol=1e-4)
    assert more.log_likelihood - res.log_likelihood < 1e-5


def test_max_iter_hit_warns():
    with pytest.warns(g.ConvergenceWarning, match="did not converge in 2 iterations"):
        res = g.fit(galaxies() / 1000, 3, max_iter=2)
    assert not res.converged and res.n_iter == 2


def test_canonical_order_sorted_by_mean():
    x = two_clusters()
    start = g.GMMParams([0.5, 0.5], [5.0, -5.0], [1.0, 1.0])  # labels the "wrong" way
    res = g.fit(x, init=start)
    assert res.params.means[0] < res.params.means[1]
    np.testing.assert_allclose(res.responsibilities, g.e_step(x, res.params), rtol=1e-12)
    swapped = g.fit(x, init=start.permuted([1, 0]))
    np.testing.assert_allclose(swapped.params.means, res.params.means, rtol=1e-9)


@pytest.mark.filterwarnings("ignore::gmmderive.ConvergenceWarning")
def test_n_init_keeps_best():
    x = galaxies() / 1000
    best = g.fit(x, 5, init="random", n_init=8, seed=0)
    runs = []
    rng = np.random.default_rng(0)
    for _ in range(8):
        runs.append(g.fit(x, init=g.initial_params(x, 5, "random", rng), tol=1e-8).log_likelihood)
    assert best.log_likelihood == pytest.approx(max(runs), rel=1e-12)
    assert max(runs) > min(runs) + 1.0  # the starts did reach different optima


def test_seed_makes_runs_reproducible():
    x = galaxies() / 1000
    a = g.fit(x, 4, init="kmeans++", seed=7)
    b = g.fit(x, 4, init="kmeans++", seed=7)
    assert a.params == b.params


@pytest.mark.parametrize("strategy", INIT_STRATEGIES)
def test_initial_params_are_valid(strategy):
    x = np.concatenate([np.zeros(50), np.ones(3), np.arange(10.0)])  # heavy ties
    for d in (1, 2, 3, 5):
        p = g.initial_params(x, d, strategy, seed=1)
        assert p.n_components == d and (p.stds > 0).all()


def test_quantile_init_is_deterministic_and_ordered():
    x = two_clusters()
    p = g.initial_params(x, 2)
    assert p == g.initial_params(x, 2)
    assert p.means[0] < p.means[1]
    np.testing.assert_allclose(p.weights, [0.5, 0.5])


def test_collapse_onto_a_point_is_floored_and_named():
    # Galaxies with many components: a component sits on a single velocity;
    # without a floor σ -> 0 and the log-likelihood -> +inf.
    x = np.concatenate([galaxies() / 1000, [15.0, 15.0, 15.0]])
    start = g.GMMParams(
        [0.5, 0.45, 0.05], [21.0, 22.0, 15.0], [3.0, 3.0, 0.5]
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = g.fit(x, init=start, max_iter=200)
    msgs = [str(w.message) for w in caught if issubclass(w.category, g.DegenerateComponentWarning)]
    assert any("component 2 collapsed" in m for m in msgs), msgs
    floor = DEFAULT_STD_FLOOR * x.std()
    assert res.params.stds.min() == pytest.approx(floor)
    assert np.isfinite(res.log_likelihood) and np.isfinite(res.responsibilities).all()


def test_empty_component_is_handled():
    x = np.concatenate([np.linspace(-1, 1, 50), np.linspace(9, 11, 50)])
    start = g.GMMParams([0.5, 0.5 - 1e-300, 1e-300], [0.0, 10.0, 1e4], [1.0, 1.0, 1e-3])
    with pytest.warns(g.DegenerateComponentWarning, match="component 2 lost all"):
        res = g.fit(x, init=start)
    assert np.isfinite(res.log_likelihood)
    assert res.params.weights[2] == 0.0


def test_fit_handles_scales_and_offsets():
    base = two_clusters(600)
    ref = g.fit(base, 2)
    for a, b in [(1e-8, 0.0), (1e8, 0.0), (1.0, 1e9), (-3.0, 5.0)]:
        res = g.fit(a * base + b, 2)
        order = np.argsort(a * ref.params.means + b)
        np.testing.assert_allclose(res.params.means, (a * ref.params.means + b)[order], rtol=1e-7, atol=abs(a) * 1e-7)
        np.testing.assert_allclose(res.params.stds, (abs(a) * ref.params.stds)[order], rtol=1e-6)


def test_fit_does_not_modify_input():
    x = two_clusters()
    x0 = x.copy()
    g.fit(x, 2, n_init=2, seed=0)
    np.testing.assert_array_equal(x, x0)


def test_estimator_api():
    x = two_clusters()
    gm = g.GaussianMixture1D(2, seed=0).fit(x[:, None])
    assert gm.converged_ and gm.n_iter_ >= 1 and gm.n_features_in_ == 1
    assert gm.means_[0] < gm.means_[1]
    proba = gm.predict_proba(x)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    labels = gm.predict(x)
    assert (labels[: x.size // 2] == 0).mean() > 0.95
    ll = g.log_likelihood(x, gm.params_)
    assert gm.score(x) == pytest.approx(ll / x.size)
    np.testing.assert_allclose(gm.score_samples(x), g.log_density(x, gm.params_))
    assert gm.bic(x) == pytest.approx(-2 * ll + 5 * np.log(x.size))
    assert gm.aic(x) == pytest.approx(-2 * ll + 10)
    xs, ys = gm.sample(20000, random_state=1)
    assert xs.shape == ys.shape == (20000,)
    assert np.mean(ys == 0) == pytest.approx(gm.weights_[0], abs=0.02)
    assert xs[ys == 1].mean() == pytest.approx(gm.means_[1], abs=0.05)
    np.testing.assert_array_equal(g.GaussianMixture1D(2).fit_predict(x), labels)


def test_exam_grades():
    x, labels = exam_grades(return_labels=True)
    assert x.shape == (200,) and labels.shape == (200,)
    assert x.min() >= 1.0 and x.max() <= 5.0
    np.testing.assert_array_equal(x, exam_grades())
    assert not np.array_equal(x, exam_grades(seed=1))
    assert 0.6 < np.mean(labels == 0) < 0.8
    assert exam_grades(n=17).shape == (17,)
    with pytest.raises(ValueError, match="n must be >= 1"):
        exam_grades(n=0)


def test_real_datasets_match_their_sources():
    of = old_faithful()
    assert set(of) == {"eruptions", "waiting"}
    assert of["waiting"].shape == of["eruptions"].shape == (272,)
    assert of["waiting"].mean() == pytest.approx(70.897, abs=1e-3)
    v = galaxies()
    assert v.shape == (82,) and v.dtype == np.float64
    assert v.mean() == pytest.approx(20828.17, abs=0.01)


def test_em_path_matches_fit():
    x = two_clusters()
    start = g.initial_params(x, 2)
    path, lls = g.em_path(x, start, 5)
    res = g.fit(x, init=start, max_iter=5, tol=0.0, accelerate=False)
    assert len(path) == 6 and path[0] == start
    np.testing.assert_allclose(lls, res.history, rtol=1e-12)
    np.testing.assert_allclose(np.sort(path[-1].means), res.params.means, rtol=1e-12)
    with pytest.raises(ValueError, match="n_iter must be >= 0"):
        g.em_path(x, start, -1)


def test_variants_differ_from_em_and_old_mean_is_not_better():
    from gmmderive import variants

    x = two_clusters()
    start = g.GMMParams([0.8, 0.2], [-1.0, 1.0], [2.0, 2.0])
    r = g.e_step(x, start)
    assert not np.allclose(variants.e_step_without_weights(x, start), r)
    exact = g.m_step(x, r)
    old = variants.m_step_with_old_mean(x, r, previous=start)
    np.testing.assert_array_equal(old.means, exact.means)
    assert (old.stds > exact.stds).all()  # parallel-axis identity (R1)
    assert g.q_function(x, r, old) < g.q_function(x, r, exact)


def test_equal_variance_m_step_hand_value():
    x = np.array([0.0, 2.0, 10.0, 14.0])
    r = np.array([[1, 0], [1, 0], [0, 1], [0, 1]], dtype=float)
    p = g.m_step(x, r, equal_variance=True)
    # deviations: ±1 about 1 and ±2 about 12: σ² = (1 + 1 + 4 + 4) / 4
    np.testing.assert_allclose(p.stds, [np.sqrt(2.5)] * 2)
    np.testing.assert_allclose(p.means, [1.0, 12.0])


def test_equal_variance_fit_and_estimator():
    x = old_faithful()["waiting"]
    res = g.fit(x, 2, equal_variance=True)
    assert res.converged and res.params.stds[0] == res.params.stds[1]
    free = g.fit(x, 2)
    assert free.log_likelihood >= res.log_likelihood - 1e-9  # the unequal model nests it
    history = np.diff(res.history)
    assert (history >= -1e-9).all()
    gm = g.GaussianMixture1D(2, equal_variance=True).fit(x)
    assert gm.n_parameters() == 4 and g.GaussianMixture1D(2).fit(x).n_parameters() == 5
    assert gm.bic(x) == pytest.approx(-2 * gm.log_likelihood_ + 4 * np.log(x.size))


def test_equal_variance_matches_sklearn_tied():
    mixture = pytest.importorskip("sklearn.mixture")
    x = galaxies() / 1000
    start = g.GMMParams([0.2, 0.6, 0.2], [10.0, 21.0, 30.0], [2.0, 2.0, 2.0])
    ours = g.fit(x, init=start, max_iter=40, tol=0.0, equal_variance=True).params
    gm = mixture.GaussianMixture(3, covariance_type="tied", tol=0.0, reg_covar=0.0, max_iter=40,
                                 weights_init=start.weights, means_init=start.means[:, None],
                                 precisions_init=np.array([[1 / 4.0]]))
    import warnings as w

    with w.catch_warnings():
        w.simplefilter("ignore")
        gm.fit(x[:, None])
    np.testing.assert_allclose(ours.means, np.sort(gm.means_[:, 0]), rtol=1e-8)
    np.testing.assert_allclose(ours.stds, np.sqrt(gm.covariances_[0, 0]), rtol=1e-8)


@pytest.mark.filterwarnings("ignore::gmmderive.ConvergenceWarning")
def test_short_pre_runs_then_best_candidates():
    x = galaxies() / 1000
    full = g.fit(x, 4, init="random", n_init=20, seed=3)
    screened = g.fit(x, 4, init="random", n_init=20, seed=3, pre_iter=10, n_best=3)
    # Same 20 starts; the screened run continues 3 of them, so it cannot beat the full search
    assert screened.log_likelihood <= full.log_likelihood + 1e-8
    assert screened.history[0] == pytest.approx(g.log_likelihood(x, screened.init_params))
    assert len(screened.history) == screened.n_iter + 1
    steps = np.diff(screened.history)
    assert (steps >= -1e-9).all()
    with pytest.raises(ValueError, match="pre_iter must be >= 0"):
        g.fit(x, 2, pre_iter=-1)
    with pytest.raises(ValueError, match="n_best must be >= 1"):
        g.fit(x, 2, n_best=0)


def test_degenerate_runs_lose_to_any_other():
    x = old_faithful()["waiting"]  # whole minutes: many ties
    # fit's stages (gmmderive/fit.py): every run, and the one the selection chooses
    options = FitOptions.of(4, init="kmeans++", max_iter=10_000, tol=1e-8, n_init=10, seed=0, std_floor=1e-6,
                            equal_variance=False, pre_iter=0, n_best=1, reject_degenerate=False, compress=False,
                            accelerate=True)
    samples = checked_data(x, None).samples(options)
    runs = list(runs_of(samples, starting_points(samples, options), options))
    chosen = [selection.best_run(runs, False, 10)]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = g.fit(x, 4, init="kmeans++", n_init=10, seed=0, pre_iter=0)
    degenerate = [r for r in runs if r.degenerate]
    top = max(r.log_likelihood for r in runs if not r.degenerate)
    # Several starts reach the same maximum; their log-likelihoods differ in the last bits, by
    # the processor's order of summation (AVX-512 or AVX2). The rule (fit.TIE): of the runs
    # tied with the best, the earliest wins, so the choice does not follow those bits.
    best = next(r for r in runs if not r.degenerate and r.log_likelihood >= top - selection.TIE * abs(top))
    assert degenerate and max(r.log_likelihood for r in degenerate) > best.log_likelihood  # spuriously "better"
    assert chosen == [best]
    assert not any(issubclass(w.category, g.DegenerateComponentWarning) for w in caught)
    assert res.params.stds.min() > 1.0
    # reject_degenerate returns the same; it differs only when every run degenerated
    clean = g.fit(x, 4, init="kmeans++", n_init=10, seed=0, pre_iter=0, reject_degenerate=True)
    assert clean.log_likelihood == res.log_likelihood
    x = np.array([0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 5.0])
    start = g.GMMParams([0.4, 0.4, 0.2], [0.0, 1.0, 5.0], [0.1, 0.1, 0.1])
    with pytest.warns(g.DegenerateComponentWarning):
        g.fit(x, 3, init=start)
    with pytest.raises(ValueError, match="degenerated"):
        g.fit(x, 3, init=start, reject_degenerate=True)


def _run(log_likelihood, degenerate=False):
    p = g.GMMParams([0.5, 0.5], [0.0, 1.0], [1.0, 1.0])
    return Run(p, p, None, np.array([log_likelihood]), 1, True, 0.0,
                          np.array([degenerate, False]), np.zeros(2, bool))


def test_runs_tied_within_TIE_go_to_the_earliest_start():
    # Log-likelihoods apart by far more than rounding (1e-6 relative vs TIE = 1e-9), so the
    # expected choice does not depend on the processor.
    ll = -1000.0
    tied = ll * (1 - selection.TIE / 4)  # higher than ll, by a quarter of the tie band
    clear = ll * (1 - 1e-6)  # higher by 1e-6 relative: not a tie
    runs = [_run(ll), _run(tied), _run(ll)]
    assert selection.best_run(runs, False, 3) is runs[0]  # a tie: the earliest
    assert selection.ranked(runs)[0] is runs[0]
    runs = [_run(ll), _run(clear), _run(tied)]
    assert selection.best_run(runs, False, 3) is runs[1]  # clearly better: it wins
    assert selection.ranked(runs)[0] is runs[1]
    runs = [_run(0.0, degenerate=True), _run(ll)]
    assert selection.best_run(runs, False, 2) is runs[1]  # a degenerate run loses to any other


@pytest.mark.parametrize("kw", [dict(n_init=4, seed=1), dict(n_init=4, seed=1, pre_iter=3, n_best=2),
                                dict(max_iter=5, tol=0.0), dict()])
def test_responsibilities_are_those_of_the_returned_params(kw):
    # Whichever pass computed them (the last iteration's, or one more for the best of n_init runs).
    x = galaxies() / 1000
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = g.fit(x, 3, **kw)
    np.testing.assert_allclose(res.responsibilities, g.e_step(x, res.params), rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(res.log_likelihood, g.log_likelihood(x, res.params), rtol=1e-13)


def test_printed_params_and_results_fit_a_notebook_column():
    # The book prints GMMParams and FitResult: every line within 79 columns, and the
    # parameters' repr is still a Python call with every value (to the 6 digits it shows).
    import ast

    from gmmderive import GMMParams

    rng = np.random.default_rng(3)
    for d in (1, 2, 3, 7, 12):
        p = GMMParams(np.full(d, 1 / d), np.sort(rng.normal(0, 1e4, d)), rng.uniform(0.1, 1e3, d))
        text = repr(p)
        assert max(len(line) for line in text.splitlines()) <= 79, text
        call = ast.parse(text, mode="eval").body
        back = {k.arg: ast.literal_eval(k.value) for k in call.keywords}
        np.testing.assert_allclose(back["means"], p.means, rtol=1e-5)
        np.testing.assert_allclose(back["stds"], p.stds, rtol=1e-5)
    assert "\n" not in repr(GMMParams([0.5, 0.5], [1.0, 2.0], [1.0, 1.0]))  # short: one line
    x = np.concatenate([rng.normal(0, 1, 300), rng.normal(6, 1, 300)])
    res = g.fit(x, 2, seed=0)
    text = repr(res)
    assert max(len(line) for line in text.splitlines()) <= 79, text
    assert "responsibilities=<array of shape (600, 2)>" in text and f"n_iter={res.n_iter}" in text
