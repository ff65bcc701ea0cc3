"""SQUAREM-accelerated EM and the stopping rule (gmmderive/em.py)."""

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import gmmderive as g
from gmmderive import GMMParams, em
from gmmderive._engine import engine
from gmmderive.em import distance_to_limit, squarem_point, step_size

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def hard_problem(n=100_000, seed=1):
    """Two unit-variance components 1.2 apart: plain EM needs about 90,000 iterations."""
    rng = np.random.default_rng(seed)
    z = rng.random(n) < 0.5
    return np.where(z, rng.normal(0.0, 1.0, n), rng.normal(1.2, 1.0, n))


HARD_START = GMMParams([0.5, 0.5], [-1.0, 2.0], [1.0, 1.0])


def _theta(p):
    return np.array([p.weights[0], *p.means, *p.stds])


def _score(x, th):
    """Gradient of log p(𝒟; θ) in (logit π_0, μ_0, μ_1, log σ_0, log σ_1), for D = 2."""
    a, mu, log_sd = th[0], th[1:3], th[3:5]
    pi0 = 1.0 / (1.0 + np.exp(-a))
    p = GMMParams([pi0, 1.0 - pi0], mu, np.exp(log_sd))
    rho = g.responsibilities(x, p)  # (N, 2)
    z2 = ((x[:, None] - mu) / p.stds) ** 2
    return np.concatenate([[rho[:, 0].sum() - x.size * pi0],
                           (rho * (x[:, None] - mu)).sum(axis=0) / p.stds**2,
                           (rho * (z2 - 1.0)).sum(axis=0)])


def newton_maximizer(x, p, steps=20):
    """Newton's method on the score, from ``p``: the point where the gradient vanishes."""
    th = np.array([np.log(p.weights[0] / p.weights[1]), *p.means, *np.log(p.stds)])
    for _ in range(steps):
        grad = _score(x, th)
        h = 1e-5
        hess = np.column_stack([(_score(x, th + h * e) - _score(x, th - h * e)) / (2 * h) for e in np.eye(5)])
        step = np.linalg.solve(hess, grad)
        th = th - step
        if np.abs(step).max() < 1e-13:
            break
    assert np.all(np.linalg.eigvalsh((hess + hess.T) / 2) < 0)  # a maximum
    assert np.abs(_score(x, th)).max() < 1e-6  # the gradient vanishes (it is of size N = 1e5 far away)
    pi0 = 1.0 / (1.0 + np.exp(-th[0]))
    return GMMParams([pi0, 1.0 - pi0], th[1:3], np.exp(th[3:5]))


def test_the_hard_case_ends_within_1e6_of_the_maximizer():
    x = hard_problem()
    res = g.fit(x, init=HARD_START)
    assert res.converged
    best = newton_maximizer(x, res.params)
    assert np.abs(_theta(res.params) - _theta(best)).max() < 1e-6
    assert res.log_likelihood == pytest.approx(g.log_likelihood(x, best), abs=1e-7)
    # The rule's own estimate of the distance was honest: below tol = 1e-8 in units of std(x).
    assert np.abs(_theta(res.params) - _theta(best)).max() < 10 * 1e-8 * x.std()


def test_a_small_log_likelihood_change_is_not_convergence():
    # On a hard case, plain EM raises the log-likelihood by less than 1e-8 per iteration long
    # before its parameters are near the maximum: why the rule measures the parameters. The
    # same run with the rule of tol = 1e-8 stops near the maximum, and 10x sooner accelerated.
    x = hard_problem(n=2_000, seed=1)
    plain = g.fit(x, init=HARD_START, accelerate=False, max_iter=100_000)
    fast = g.fit(x, init=HARD_START, max_iter=100_000)
    assert plain.converged and fast.converged
    assert np.abs(_theta(plain.params) - _theta(fast.params)).max() < 1e-6
    assert fast.log_likelihood >= plain.log_likelihood - 1e-9
    assert 10 * fast.n_iter < plain.n_iter
    gains = np.diff(plain.history)
    first = int(np.argmax(gains < 1e-8))  # where a rule on the log-likelihood would stop
    assert gains[first] < 1e-8
    early = g.fit(x, init=HARD_START, accelerate=False, tol=0, max_iter=first + 1)
    assert np.abs(_theta(early.params) - _theta(fast.params)).max() > 1e-4


class _Recorder:
    """Every point where the engine evaluates the EM map, and how often."""

    def __init__(self, monkeypatch):
        self.points = []
        eng = engine()
        original = eng.em_iteration

        def recording(x, p, **kw):
            self.points.append(p)
            return original(x, p, **kw)

        monkeypatch.setattr(eng, "em_iteration", recording)


def test_n_iter_counts_every_evaluation_of_the_em_map(monkeypatch):
    x = hard_problem(n=3_000, seed=4)
    rec = _Recorder(monkeypatch)
    res = g.fit(x, init=HARD_START)
    assert res.n_iter == len(rec.points)  # the last pass (ρ) is not an evaluation of M
    assert res.history.size == res.n_iter + 1


@st.composite
def problems(draw):
    """A sample of a random mixture and a random start near it."""
    d = draw(st.integers(1, 4))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n = draw(st.integers(20, 400))
    means = rng.normal(0, 3, d)
    x = rng.normal(means[rng.integers(0, d, n)], rng.uniform(0.3, 2.0, d)[rng.integers(0, d, n)])
    if draw(st.booleans()):
        x = np.round(x, 1)  # ties: components may collapse onto one value
    start = GMMParams(rng.dirichlet(np.ones(d)), rng.normal(0, 3, d), rng.uniform(0.2, 3.0, d))
    return x, start


@SETTINGS
@given(problems(), st.booleans())
def test_accelerated_history_never_decreases_and_every_point_is_a_mixture(case, equal_variance):
    x, start = case
    points = []
    eng = engine()
    original = eng.em_iteration

    def recording(xs, p, **kw):
        points.append(p)
        return original(xs, p, **kw)

    eng.em_iteration = recording
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = g.fit(x, init=start, equal_variance=equal_variance, max_iter=300)
    finally:
        eng.em_iteration = original
    h = res.history
    assert np.isfinite(h).all()
    assert np.all(np.diff(h) >= -1e-10 * np.abs(h).max())
    for p in points:  # in the frame z: weights on the simplex, σ above the floor
        assert np.all(p.weights >= 0) and abs(p.weights.sum() - 1) < 1e-12
        assert np.all(p.stds >= 1e-6 * 0.99)
        if equal_variance:
            assert np.ptp(p.stds) <= 1e-12 * p.stds.max()


@st.composite
def separated(draw):
    """Well-separated components: one maximum near the truth, which both methods must find."""
    d = draw(st.integers(1, 3))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n = draw(st.integers(100, 1000))
    means = np.cumsum(rng.uniform(4.0, 8.0, d))
    sds = rng.uniform(0.5, 1.0, d)
    c = rng.integers(0, d, n)
    return rng.normal(means[c], sds[c]), d


@SETTINGS
@given(separated())
def test_accelerated_and_plain_em_reach_the_same_maximum(case):
    x, d = case
    kw = dict(init="quantile", tol=1e-10, max_iter=100_000)
    fast = g.fit(x, d, **kw)
    plain = g.fit(x, d, accelerate=False, **kw)
    assert fast.converged and plain.converged
    assert fast.log_likelihood == pytest.approx(plain.log_likelihood, rel=1e-12, abs=1e-9)
    for a, b in zip(_theta(fast.params), _theta(plain.params), strict=True):
        assert a == pytest.approx(b, rel=1e-7, abs=1e-7 * x.std())


GRADES = np.round(np.concatenate([np.random.default_rng(0).normal(2.4, 0.55, 140),
                                  np.random.default_rng(1).normal(4.4, 0.3, 60)]), 1)


@pytest.mark.parametrize("kw", [
    dict(equal_variance=True),
    dict(n_init=8, pre_iter=5, n_best=2, seed=2),
    dict(init="kmeans++", n_init=6, seed=1, pre_iter=0),
    dict(reject_degenerate=True, n_init=8),
    dict(std_floor=0.05),
    dict(sample_weight=np.random.default_rng(3).integers(1, 5, GRADES.size)),
    dict(compress=True),
    dict(init=GMMParams([0.5, 0.49, 0.01], [2.4, 4.4, 40.0], [0.5, 0.3, 0.01])),  # a class empties
], ids=["equal_variance", "pre_iter", "n_init", "reject_degenerate", "std_floor", "weights", "compress",
        "empty_class"])
def test_every_option_works_accelerated(kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fast = g.fit(GRADES, 3, tol=1e-10, max_iter=20_000, **kw)
        plain = g.fit(GRADES, 3, tol=1e-10, max_iter=200_000, accelerate=False, **kw)
    assert fast.converged and plain.converged
    assert fast.log_likelihood == pytest.approx(plain.log_likelihood, rel=1e-10)
    assert fast.n_iter <= 1.2 * plain.n_iter + 1  # never much more, where EM is fast anyway
    assert np.all(np.diff(fast.history) >= -1e-9)
    if kw.get("equal_variance"):
        assert np.ptp(fast.params.stds) == 0


def test_empty_class_stays_empty_under_acceleration():
    start = GMMParams([0.5, 0.5 - 1e-300, 1e-300], [2.4, 4.4, 400.0], [0.5, 0.3, 0.01])
    with pytest.warns(g.DegenerateComponentWarning, match="lost all responsibility mass"):
        res = g.fit(GRADES, init=start)
    assert res.converged and res.params.weights.max() < 1 and res.params.weights.min() == 0


def test_the_extrapolation_stays_in_the_parameter_space():
    rng = np.random.default_rng(0)
    for _ in range(500):
        d = int(rng.integers(1, 5))
        ps = [GMMParams(rng.dirichlet(np.ones(d)), rng.normal(0, 3, d), rng.uniform(1e-3, 3.0, d))
              for _ in range(3)]
        point, alpha = squarem_point(*ps, step_max=float(rng.choice([1.0, 4.0, 1e3, 1e8])), std_floor=1e-4)
        assert alpha >= 1
        if point is not None:  # GMMParams checked it; and σ is held at the floor
            assert point.stds.min() >= 1e-4 and abs(point.weights.sum() - 1) < 1e-12


def test_the_cheap_estimate():
    # a geometric sequence of steps s r^k: the remaining distance is s r / (1 - r)
    assert distance_to_limit(0.5e-3, 1e-3) == pytest.approx(0.5e-3)
    assert distance_to_limit(0.9e-3, 1e-3) == pytest.approx(0.9e-3 * 9)
    assert distance_to_limit(1e-3, 1e-3) == np.inf  # not contracting
    assert distance_to_limit(1e-3, None) == np.inf  # no rate yet
    assert distance_to_limit(1e-4, 1e-3, rate=0.99) == pytest.approx(1e-4 * 99)  # the Jacobian's rate
    assert distance_to_limit(1e-15, 1e-3) == 0.0  # rounding: the fixed point itself
    a = GMMParams([0.3, 0.7], [0.0, 1.0], [1.0, 2.0])
    b = GMMParams([0.4, 0.6], [0.0, 1.5], [1.0, 1.8])
    assert step_size(a, b) == pytest.approx(0.5)


def test_a_plain_stop_is_confirmed_by_the_jacobian(monkeypatch):
    # Force the cheap estimate to be fooled (it says 0): the Jacobian check must refuse to stop
    # far from θ*, and the run goes on to the same maximum.
    x = hard_problem(n=1_000, seed=7)
    honest = g.fit(x, init=HARD_START, max_iter=100_000, tol=1e-10)
    calls = []
    real = em.distance_to_limit

    def fooled(step, previous, rate=0.0):
        calls.append(1)
        return 0.0 if len(calls) < 50 else real(step, previous, rate)

    monkeypatch.setattr(em, "distance_to_limit", fooled)  # the cheap estimate of the one stopping rule
    res = g.fit(x, init=HARD_START, accelerate=False, max_iter=100_000)
    assert res.converged and res.n_iter > 100  # the first checks refused to stop
    assert np.abs(_theta(res.params) - _theta(honest.params)).max() < 1e-6
