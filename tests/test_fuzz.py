"""A standing adversarial test (#24): random fits of every kind, checked for what must always hold.

Each case is drawn from its own seed: data of D_true = 1-6 components with separations of 0.1σ to
100σ, N = 2 to 1e5 samples, magnitudes from 1e-300 to 1e300, ties (rounded data), outliers,
weights (none, counts with zeros, huge or tiny, ranges beyond the float range), and every option
of :func:`gmmderive.fit` (the default search, each init strategy, equal_variance, accelerate,
compress, reject_degenerate, std_floor, tol = 0, few iterations). Every fit must

- succeed, or raise one of the documented errors (a ``ValueError`` naming the problem); no other
  exception, no RuntimeWarning (errors under pytest's configuration), no warning but
  ConvergenceWarning and DegenerateComponentWarning;
- give finite parameters, log-likelihood, history and responsibilities, π on the simplex, every
  σ at or above the floor, a history that never decreases;
- be honest about convergence: from a converged fit, plain EM moves the parameters by no more
  than the stopping rule allows;
- be the same fit on the other engine, for other Dask chunkings, and for any number of threads.

The multivariate fit has its own cases (p = 1-4): the same checks, covariances for σ.

``make test`` runs a bounded sample (32 cases, about 25 s on two cores); ``make fuzz`` runs
``GMMDERIVE_FUZZ_SCALE=large``: ``GMMDERIVE_FUZZ_CASES`` cases (default 1000) from seed
``GMMDERIVE_FUZZ_SEED``, larger ones. A case's test id is its seed, so
``GMMDERIVE_FUZZ_SCALE=large GMMDERIVE_FUZZ_SEED=s GMMDERIVE_FUZZ_CASES=1`` replays case s of
``make fuzz``.
"""

from __future__ import annotations

import itertools
import os
import re
import warnings
from dataclasses import dataclass, field

import numpy as np
import pytest

import gmmderive as g
from gmmderive import multivariate as mv
from gmmderive._engine import EngineWarning

#: ``small`` (make test: 32 cases, N up to 20,000, the NumPy engine compared up to 5,000) or
#: ``large`` (make fuzz: N up to 1e5, every case on both engines). A case depends on the scale
#: and its seed only.
SCALE = os.environ.get("GMMDERIVE_FUZZ_SCALE", "small")
if SCALE not in ("small", "large"):
    raise ValueError(f"GMMDERIVE_FUZZ_SCALE must be small or large, got {SCALE!r}")
N_CASES = int(os.environ.get("GMMDERIVE_FUZZ_CASES", 32 if SCALE == "small" else 1000))
FIRST_SEED = int(os.environ.get("GMMDERIVE_FUZZ_SEED", 0))
SEEDS = range(FIRST_SEED, FIRST_SEED + N_CASES)
#: For each scale, the largest N (a default search on 1e5 values takes seconds), the largest N
#: compared on the NumPy engine (several times slower than numba's) and with Dask chunks.
SIZES = {"small": (20_000, 5_000, 20_000), "large": (100_000, 100_000, 5_000)}
N_MAX, N_ENGINES, N_DASK = SIZES[SCALE]

EPS = np.finfo(np.float64).eps

#: What fit may say about valid-typed input it cannot fit: each a documented ValueError.
DOCUMENTED = [
    r"all \d+ values of x are equal",
    r"is greater than the number of distinct values",
    r"the spread of x .* is too small",
    r"all \d+ run\(s\) degenerated",
    r"collapsed onto a single value",
    r"sample_weight sums to more than the largest float",
    r"the log-likelihood .* is beyond the range of a float",
    r"init's stds .* are too small",
    r"the sample the starts are drawn from",
]
#: The multivariate fit's.
DOCUMENTED_MV = [
    r"column \d+ of X is constant",
    r"is greater than the number of distinct rows",
    r"the variance of column \d+ of X .* is beyond the range of a float",
    r"the fitted covariances .* (beyond the range of a float|cannot be represented)",
]


def _numba_available() -> bool:
    if os.environ.get("GMMDERIVE_WITHOUT_NUMBA") == "1":
        return False
    try:
        import numba  # noqa: F401
    except ImportError:
        return False
    return True


def _dask_array():
    if os.environ.get("GMMDERIVE_WITHOUT_DASK") == "1":
        return None
    try:
        import dask.array as da
    except ImportError:
        return None
    return da


# -- the cases ----------------------------------------------------------------------------


@dataclass
class Case:
    """One random fit: the data, the weights and the options."""

    seed: int
    x: np.ndarray
    d: int
    w: np.ndarray | None = None
    options: dict = field(default_factory=dict)
    note: str = ""

    def __repr__(self):  # what a failure prints: enough to see the case, the seed to replay it
        return (f"Case(seed={self.seed}, N={self.x.size}, D={self.d}, weights={self.w is not None}, "
                f"options={self.options}, {self.note})")


def _log_uniform(rng, lo, hi):
    return float(np.exp(rng.uniform(np.log(lo), np.log(hi))))


def _data(rng, n: int):
    """A random mixture sample: separations 0.1σ-100σ, magnitudes 1e-300-1e300, ties, outliers."""
    d_true = int(rng.integers(1, 7))
    sep = _log_uniform(rng, 0.1, 100.0)
    means = np.cumsum(np.r_[0.0, sep * rng.uniform(0.5, 1.5, d_true - 1)])
    stds = np.exp(rng.uniform(-1.0, 1.0, d_true))
    labels = rng.choice(d_true, size=n, p=rng.dirichlet(np.full(d_true, 2.0)))
    x = rng.normal(means[labels], stds[labels])
    notes = [f"D_true={d_true}", f"sep={sep:.3g}"]
    if rng.random() < 0.25:  # ties: rounded data
        step = _log_uniform(rng, 0.01, 2.0)
        x = np.round(x / step) * step
        notes.append(f"rounded to {step:.3g}")
    if rng.random() < 0.15 and n >= 4:  # outliers, far out
        k = int(rng.integers(1, max(2, n // 50)))
        x[rng.choice(n, k, replace=False)] = rng.choice([-1, 1], k) * 10.0 ** rng.uniform(2, 6, k)
        notes.append(f"{k} outlier(s)")
    if rng.random() < 0.3:  # any magnitude, and an offset far from 0
        scale = 10.0 ** rng.uniform(-300, 300)
        offset = rng.choice([0.0, 10.0 ** rng.uniform(0, 8)])
        x = (x + offset) * scale
        notes.append(f"scale={scale:.3g} offset={offset:.3g}")
    return x, " ".join(notes)


def _weights(rng, n: int):
    kind = rng.choice(["none", "none", "counts", "huge", "tiny", "range", "beyond"])
    if kind == "none":
        return None, ""
    if kind == "counts":  # integers with zeros: zeros remove samples
        w = rng.integers(0, 5, n).astype(float)
        w[rng.integers(n)] = 1.0  # not all 0
    elif kind == "huge":
        w = rng.uniform(0.5, 2.0, n) * 10.0 ** rng.uniform(200, 307)
    elif kind == "tiny":
        w = rng.uniform(0.5, 2.0, n) * 10.0 ** rng.uniform(-320, -200)
    elif kind == "range":  # log-uniform over 1e-150 to 1e150
        w = 10.0 ** rng.uniform(-150, 150, n)
    else:  # ratios beyond the float range: the smallest count as 0
        w = np.where(rng.random(n) < 0.5, 1e300, 1e-30)
    return w, f"weights={kind}"


def make_case(seed: int, scale: str = SCALE) -> Case:
    rng = np.random.default_rng([24, seed])
    n = int(round(_log_uniform(rng, 2, SIZES[scale][0])))
    x, note = _data(rng, n)
    w, wnote = _weights(rng, n)
    d = int(rng.integers(1, 7))
    options = {}
    init = rng.choice(["default", "default", "default", "quantile", "kmeans++", "random", "params"])
    if init == "kmeans++" or init == "random":
        options.update(init=str(init), n_init=int(rng.integers(1, 5)))
    elif init == "quantile":
        options["init"] = "quantile"
    elif init == "params":
        centre, spread = float(np.median(x)), _weighted_std(x, None) or 1.0
        options["init"] = g.GMMParams(np.full(d, 1.0 / d), centre + spread * rng.normal(0, 1, d),
                                      spread * np.exp(rng.uniform(-2, 0.5, d)))
    elif rng.random() < 0.3:
        options.update(n_init=int(rng.integers(2, 12)), pre_iter=int(rng.integers(1, 40)),
                       n_best=int(rng.integers(1, 4)))
    for flag in ("equal_variance", "compress", "reject_degenerate"):
        if rng.random() < 0.25:
            options[flag] = True
    if rng.random() < 0.2:
        options["accelerate"] = False
    options["std_floor"] = float(rng.choice([1e-6, 1e-6, 1e-6, 0.0, 1e-3, 0.1]))
    if rng.random() < 0.1:
        options.update(tol=0.0, max_iter=int(rng.integers(1, 60)))
    elif rng.random() < 0.1:
        options["max_iter"] = int(rng.integers(1, 200))
    options["seed"] = int(rng.integers(0, 2**31))
    return Case(seed, x, d, w, options, " ".join(filter(None, [note, wnote])))


# -- running a fit and what must hold ---------------------------------------------------------


def _fit(x, d, w, options):
    """``(result or None, error message or None, warnings)``; an undocumented error fails the test."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.simplefilter("error", RuntimeWarning)
        try:
            res = g.fit(x, d, sample_weight=w, **options)
        except ValueError as exc:
            message = str(exc)
            assert any(re.search(p, message) for p in DOCUMENTED), f"undocumented error: {message}"
            assert "\n" not in message
            return None, message, caught
    unexpected = [m for m in caught if not issubclass(m.category, (g.ConvergenceWarning, g.DegenerateComponentWarning,
                                                                  EngineWarning))]
    assert not unexpected, [str(m.message) for m in unexpected]
    return res, None, caught


def _weighted_std(x, w):
    w = np.ones_like(x) if w is None else w / w.max()  # / max: no overflow (ratios are what count)
    keep = w > 0
    x, w = x[keep], w[keep]
    k = np.frexp(np.abs(x).max())[1]
    u = np.ldexp(x, -k)  # as the frame: no overflow of the squares
    m = (w @ u) / w.sum()
    return float(np.ldexp(np.sqrt(w @ (u - m) ** 2 / w.sum()), k))


def _check_result(case: Case, res) -> None:
    p = res.params
    for name, a in (("weights", p.weights), ("means", p.means), ("stds", p.stds), ("history", res.history)):
        assert np.isfinite(a).all(), f"{name} not finite: {a}"
    assert np.isfinite(res.log_likelihood) and res.log_likelihood == res.history[-1]
    # π on the simplex: D ≤ 6 weights, each γ_c / N rounded once: their sum is 1 within D ulps
    assert (p.weights >= 0).all() and abs(p.weights.sum() - 1.0) <= 8 * EPS
    # σ at or above the floor, std_floor times the (weighted) std of x; the floor is held in the
    # frame z and mapped back (two or three roundings) while ours is computed in another order
    # (a sum of N terms: N·eps relative at most): 1e-9 relative covers both with room
    floor = case.options.get("std_floor", 1e-6) * _weighted_std(case.x, case.w)
    assert (p.stds >= floor * (1 - 1e-9)).all(), (p.stds, floor)
    # the history never decreases: each entry is a sum over N samples, rounded differently at each
    # pass (the fused pass's blocks, SQUAREM's points): 1e-9 of its size is far above that
    h = res.history
    assert (np.diff(h) >= -1e-9 * np.abs(h).max()).all(), np.diff(h).min()
    r = np.asarray(res.responsibilities)
    assert r.shape == (case.x.size, p.n_components) and np.isfinite(r).all()
    # each row normalized once: D terms, each rounded, sum 1 within a few ulps
    assert np.abs(r.sum(axis=1) - 1).max() <= 16 * EPS


def _distance(a: g.GMMParams, b: g.GMMParams, spread: float) -> float:
    """The stopping rule's units: a weight, or a mean or σ in units of the data's standard deviation.

    Over the orders of b's components, the closest: components with equal means (to rounding)
    may come in either order (canonical order sorts by mean first).
    """
    best = np.inf
    for order in itertools.permutations(range(b.n_components)):
        o = list(order)
        best = min(best, max(np.abs(a.weights - b.weights[o]).max(), np.abs(a.means - b.means[o]).max() / spread,
                             np.abs(a.stds - b.stds[o]).max() / spread))
    return float(best)


def _merged(p: g.GMMParams, spread: float) -> g.GMMParams:
    """``p`` with components of equal mean and σ (within 1e-6 of the spread) merged, weights added.

    Identical components form a ridge of fixed points (any split of their weight is as likely),
    on which two fits that differ only by rounding stop at different splits: one mixture.
    """
    order = np.lexsort((p.stds, p.means))
    groups = [[order[0]]]
    for c in order[1:]:
        last = groups[-1][-1]
        same = abs(p.means[c] - p.means[last]) <= 1e-6 * spread and abs(p.stds[c] - p.stds[last]) <= 1e-6 * spread
        if same:
            groups[-1].append(c)
        else:
            groups.append([c])
    return g.GMMParams([p.weights[gr].sum() for gr in groups], [p.means[gr[0]] for gr in groups],
                       [p.stds[gr[0]] for gr in groups])


def _rounding(params: g.GMMParams, spread: float) -> float:
    """How far a round trip of ``params`` through the frame z can move them: a mean of x far from
    0 in units of σ_x loses eps·|μ|/σ_x in z, amplified a little by EM's next iterations."""
    return 100 * EPS * max(1.0, float(np.abs(params.means).max()) / spread)


def _check_converged_honestly(case: Case, res) -> None:
    """From a converged fit, 200 more plain EM iterations move θ by at most about ``tol``.

    They move it toward the fixed point, by at most the distance to it (a lower bound of that
    distance, since EM may crawl): the flag was dishonest if they move it by more than the rule
    allows. The rule's estimate is first order (the Jacobian by forward differences), so a
    factor 10 above ``tol``.
    """
    opts = {k: v for k, v in case.options.items()
            if k in ("equal_variance", "compress", "std_floor")}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", g.DegenerateComponentWarning)
        later = g.fit(case.x, init=res.params, sample_weight=case.w, max_iter=200, tol=0.0, accelerate=False,
                      **opts)
    spread = _weighted_std(case.x, case.w)
    tol = case.options.get("tol", 1e-8)
    moved = _distance(later.params, res.params, spread)
    assert moved <= 10 * tol + _rounding(res.params, spread), f"converged, but EM moves it by {moved:.3g}"


def _check_same_fit(a, b, case: Case, what: str) -> None:
    """Two fits of the same data and options that differ only in the order of summation.

    Where both converged, each is within ``tol`` of the same fixed point (first order: a factor
    10), so within 20·tol of each other, plus the rounding of a round trip through the frame.
    """
    if a is None or b is None:
        assert (a is None) == (b is None), f"{what}: one fit failed, the other did not"
        return
    if not (a.converged and b.converged):
        return  # stopped by max_iter: where depends on rounding along the path
    spread = _weighted_std(case.x, case.w)
    tol = case.options.get("tol", 1e-8)
    pa, pb = _merged(a.params, spread), _merged(b.params, spread)
    assert pa.n_components == pb.n_components, f"{what}: different mixtures: {pa} and {pb}"
    gap = _distance(pa, pb, spread)
    assert gap <= 20 * tol + _rounding(a.params, spread), f"{what}: the fits differ by {gap:.3g}"
    # log-likelihoods: within tol of the same maximum, where the gradient is 0, they differ by
    # O(tol²) times the curvature (N), plus the rounding of a sum of N terms (N·eps relative)
    assert a.log_likelihood == pytest.approx(b.log_likelihood, rel=max(1e-9, case.x.size * EPS), abs=1e-6)


def _check_case(case: Case, monkeypatch) -> None:
    """Fit the case, check the fit, and compare it with the other engine and Dask chunkings."""
    res, _, _ = _fit(case.x, case.d, case.w, case.options)
    if res is not None:
        _check_result(case, res)
        if res.converged and case.options.get("tol", 1e-8) > 0:
            _check_converged_honestly(case, res)
    if case.seed % 2 == 0 and _numba_available() and case.x.size <= N_ENGINES:  # NumPy (the default is numba)
        monkeypatch.setenv("GMMDERIVE_ENGINE", "numpy")
        other, _, _ = _fit(case.x, case.d, case.w, case.options)
        monkeypatch.delenv("GMMDERIVE_ENGINE")
        _check_same_fit(res, other, case, "NumPy engine")
    da = _dask_array()
    if case.seed % 3 == 0 and da is not None and case.x.size <= N_DASK:
        rng = np.random.default_rng([24, case.seed, 1])
        for _ in range(2):  # two chunkings: from one chunk to 20 (one sample each, for N ≤ 20)
            size = int(rng.integers(-(-case.x.size // 20), case.x.size + 1))
            chunked, _, _ = _fit(da.from_array(case.x, chunks=size), case.d, case.w, case.options)
            _check_same_fit(res, chunked, case, f"Dask, chunks of {size}")


@pytest.mark.parametrize("seed", SEEDS)
def test_random_fit(seed, monkeypatch):
    _check_case(make_case(seed), monkeypatch)


#: Cases of make fuzz that failed once, kept here at their scale: (seed, scale, what was wrong).
FOUND = [
    # A class of weight 1e-20 emptied at a neighbouring point of the stopping rule's Jacobian:
    # log 0 (a RuntimeWarning), a failed check, and checks again at every step until max_iter
    # ("did not converge ... estimated distance 0 >= tol").
    (1198, "large", "Jacobian through an emptying class"),
    # Two identical components of a multivariate fit came back in the other order: the harness
    # compared them by position (not a defect of the fit; kept so that the comparison stays right).
    (1424, "large", "multivariate: identical components"),
]


@pytest.mark.parametrize("seed, scale, what", FOUND, ids=[f[2] for f in FOUND])
def test_cases_the_harness_found(seed, scale, what, monkeypatch):
    if what.startswith("multivariate"):
        _check_mv_case(*make_mv_case(seed))
    else:
        _check_case(make_case(seed, scale), monkeypatch)


def test_the_same_fit_on_any_number_of_threads(monkeypatch):
    # The fused pass splits N ≥ 131,072 between threads, each block's sums added in block order:
    # the same numbers in the same order, so the same fit exactly.
    if not _numba_available():
        pytest.skip("numba is not available: the NumPy engine has no threads of its own")
    rng = np.random.default_rng(24)
    x = np.r_[rng.normal(0, 1, 100_000), rng.normal(2.5, 0.7, 60_000)]
    fits = []
    for threads in ("1", "2", "3"):
        monkeypatch.setenv("GMMDERIVE_NUM_THREADS", threads)
        fits.append(g.fit(x, 2, init="quantile"))
    for other in fits[1:]:
        assert other.params == fits[0].params and other.n_iter == fits[0].n_iter
        np.testing.assert_array_equal(other.history, fits[0].history)


# -- the multivariate fit ---------------------------------------------------------------------


def make_mv_case(seed: int):
    rng = np.random.default_rng([24, seed, 2])
    p = int(rng.integers(1, 5))
    n = int(round(_log_uniform(rng, 3, 2000)))
    d_true = int(rng.integers(1, 5))
    sep = _log_uniform(rng, 0.1, 100.0)
    centres = rng.normal(0, sep, (d_true, p))
    labels = rng.choice(d_true, size=n)
    X = centres[labels] + rng.normal(0, 1, (n, p)) @ np.diag(np.exp(rng.uniform(-1, 1, p)))
    if rng.random() < 0.25:
        X = np.round(X / 0.5) * 0.5  # ties
    if rng.random() < 0.3:
        X = X * 10.0 ** rng.uniform(-150, 150, p)  # each column its own magnitude
    options = dict(seed=int(rng.integers(0, 2**31)), cov_floor=float(rng.choice([1e-6, 1e-6, 1e-3])),
                   max_iter=3000)
    if rng.random() < 0.1:
        options.update(tol=0.0, max_iter=int(rng.integers(1, 50)))
    return X, int(rng.integers(1, 5)), options


def _mv_distance(a: mv.MVGMMParams, b: mv.MVGMMParams, scale: np.ndarray) -> float:
    """As the stopping rule: weights, means and Cholesky factors in units of the columns' spread,
    over the orders of b's components (identical components may come in either order)."""
    la = np.linalg.cholesky(a.covariances / np.outer(scale, scale))
    lb = np.linalg.cholesky(b.covariances / np.outer(scale, scale))
    return float(min(max(np.abs(a.weights - b.weights[o]).max(), (np.abs(a.means - b.means[o]) / scale).max(),
                         np.abs(la - lb[o]).max())
                     for o in map(list, itertools.permutations(range(b.n_components)))))


@pytest.mark.parametrize("seed", SEEDS)
def test_random_multivariate_fit(seed):
    _check_mv_case(*make_mv_case(seed))


def _check_mv_case(X, d, options):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.simplefilter("error", RuntimeWarning)
        try:
            res = mv.fit(X, d, **options)
        except ValueError as exc:
            assert any(re.search(p, str(exc)) for p in DOCUMENTED_MV), f"undocumented error: {exc}"
            return
    assert all(issubclass(m.category, g.ConvergenceWarning) for m in caught), [str(m.message) for m in caught]
    p = res.params
    assert np.isfinite(res.history).all() and res.log_likelihood == res.history[-1]
    assert (p.weights >= 0).all() and abs(p.weights.sum() - 1) <= 8 * EPS
    scale = X.std(axis=0)
    floor = options["cov_floor"] * scale**2
    for cov in p.covariances:  # Σ_c - diag(floor) positive semidefinite, to rounding of its eigenvalues
        z = cov / np.outer(scale, scale) - np.diag(floor / scale**2)
        assert np.linalg.eigvalsh(z).min() >= -1e-9
    # never decreasing, to the rounding of sums of N terms (see test_random_fit)
    assert (np.diff(res.history) >= -1e-9 * np.abs(res.history).max()).all()
    np.testing.assert_allclose(res.responsibilities.sum(axis=1), 1.0, atol=16 * EPS)
    if res.converged and options.get("tol", 1e-8) > 0:  # honest: see _check_converged_honestly
        later = mv.fit(X, d, init=res.params, max_iter=200, tol=0.0, cov_floor=options["cov_floor"])
        moved = _mv_distance(later.params, res.params, scale)
        rounding = 100 * EPS * max(1.0, float((np.abs(p.means) / scale).max()))
        assert moved <= 10 * 1e-8 + rounding, f"converged, but EM moves it by {moved:.3g}"
