"""Fitting a univariate GMM by EM: initialization, the iteration, restarts.

The stopping rule
-----------------
EM stops when one iteration raises the total log-likelihood ``log p(𝒟; θ)``
by less than ``tol`` (default ``1e-8``), the rule and precision of R's
mixtools (``normalmixEM``, ``epsilon = 1e-8``). The change of the *total*
log-likelihood does not depend on the units of ``x`` (rescaling x adds a
constant to every iterate's log-likelihood). scikit-learn's default, a change
of 1e-3 in the *mean* log-likelihood per sample, stops far earlier on large
data sets (scikit-learn issue #10122). ``tol=0`` switches the check off: then
exactly ``max_iter`` iterations run.

Degenerate fits
---------------
The likelihood of a GMM is unbounded: a component sitting on one data point
with σ → 0 drives it to infinity. Every σ is therefore held above
``std_floor`` times the standard deviation of the data (default 1e-6); this
is the exact M-step of the constrained problem, so EM stays monotone. A class
whose responsibility mass γ_c vanishes keeps its previous mean and standard
deviation with weight γ_c / N. Both cases are reported with a
:class:`~gmmderive.core.DegenerateComponentWarning` naming the component;
``n_init > 1`` restarts keep the best run.

How an iteration runs
---------------------
:func:`fit` does not call :func:`~gmmderive.e_step` and :func:`~gmmderive.m_step`: it runs the
same iteration as one compiled pass over the data (:mod:`gmmderive._fused`), equal to them to
rounding (tested). For N ≥ 131,072 the pass is split between the available cores; the
environment variable ``GMMDERIVE_NUM_THREADS`` caps their number. The result is bit for bit
the same for any number of threads.

Weighted data
-------------
``sample_weight`` makes sample i count w_i times (counts of repeated values, histogram bins,
survey weights): every sum over samples in the E- and M-step is weighted (chapter 21 of the
book), N becomes Σ_i w_i, and the log-likelihood is Σ_i w_i log p(x^{[i]}; θ). Integer
weights give the fit of the data with each sample repeated w_i times; a zero weight removes
its sample; weights scaled by a constant give the same parameters (the stopping rule applies
``tol`` to the weighted log-likelihood, which scales with them). ``compress=True`` fits the
distinct values of ``x`` with their counts: the fit of the raw data, to rounding, in time
that grows with the number of distinct values.

Order of components
-------------------
Results are in canonical order: components sorted by mean (ties by standard
deviation, then weight), so equal fits compare equal whatever the labels EM
happened to use (the D! label-switched maxima are one answer).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from ._engine import engine
from ._validation import check_data, check_nonnegative_float, check_positive_int, check_sample_weight, check_seed
from .core import _m_step_dn, warn_degenerate
from .params import MIN_STD, GMMParams

INIT_STRATEGIES = ("quantile", "kmeans++", "random")
DEFAULT_MAX_ITER = 1000
DEFAULT_TOL = 1e-8
DEFAULT_STD_FLOOR = 1e-6

# Initial σ are at least this fraction of std(x)/D, so no start is already collapsed.
_INIT_MIN_STD = 0.1


class ConvergenceWarning(UserWarning):
    """EM reached ``max_iter`` before the log-likelihood stopped rising by ``tol``."""


@dataclass(frozen=True, eq=False)
class FitResult:
    """The outcome of :func:`fit`.

    Attributes
    ----------
    params : GMMParams
        Fitted parameters, in canonical order (ascending means).
    log_likelihood : float
        ``log p(𝒟; params)`` of the returned ``params``.
    history : ndarray, shape (n_iter + 1,)
        Log-likelihood of the initial parameters, then after each iteration;
        ``history[-1] == log_likelihood``. Never decreases (up to rounding).
    n_iter : int
        Number of EM iterations (M-steps) run.
    converged : bool
        Whether the stopping rule was met before ``max_iter``.
    responsibilities : ndarray, shape (N, D)
        Responsibilities of the returned ``params`` (columns in canonical order).
    init_params : GMMParams
        The starting point of the returned run (in the order it was made).
    """

    params: GMMParams
    log_likelihood: float
    history: np.ndarray
    n_iter: int
    converged: bool
    responsibilities: np.ndarray
    init_params: GMMParams

    def __repr__(self):
        # A summary that fits a notebook's column: the arrays by shape and range, not in full.
        h, r = self.history, self.responsibilities
        return "\n".join([
            "FitResult(",
            f"    params={self.params._repr(indent='    ')},",
            f"    log_likelihood={self.log_likelihood:.10g},",
            f"    n_iter={self.n_iter}, converged={self.converged},",
            f"    history=<{h.size} values from {h[0]:.6g} to {h[-1]:.6g}>,",
            f"    responsibilities=<array of shape {r.shape}>,",
            f"    init_params={self.init_params._repr(indent='    ')},",
            ")",
        ])


# --------------------------------------------------------------------------
# Initialization
# --------------------------------------------------------------------------


def _params_from_labels(x: np.ndarray, labels: np.ndarray, n_components: int, w=None) -> GMMParams:
    """Hard-assignment M-step: the weight, mean and std of each labelled group."""
    onehot = np.zeros((n_components, x.size))
    onehot[labels, np.arange(x.size)] = 1.0
    spread = x.std() if w is None else _weighted_std(x, w)
    params, _, _ = _m_step_dn(x, onehot, std_floor=_INIT_MIN_STD * spread / n_components, weights=w)
    return params


def _weighted_std(x: np.ndarray, w: np.ndarray) -> float:
    mean = float(w @ x) / float(w.sum())
    return float(np.sqrt(w @ (x - mean) ** 2 / w.sum()))


def _nearest(x: np.ndarray, centers: np.ndarray) -> np.ndarray:
    return np.argmin(np.abs(x[np.newaxis, :] - centers[:, np.newaxis]), axis=0)


def initial_params(x, n_components: int, strategy: str = "quantile", seed=None) -> GMMParams:
    """Starting parameters for EM.

    Parameters
    ----------
    x : array_like, shape (N,) or (N, 1)
    n_components : int
        Number of classes D (at most the number of distinct values of x).
    strategy : {"quantile", "kmeans++", "random"}
        ``"quantile"`` (deterministic): sort x and cut it into D groups of
        equal size. ``"kmeans++"``: D centers by k-means++ seeding (each new
        center drawn with probability proportional to the squared distance
        to the nearest chosen one). ``"random"``: D distinct data values drawn
        uniformly as centers. For the last two, every point joins its nearest
        center. Each group gives a weight, mean and standard deviation (σ at
        least ``0.1 · std(x) / D``).
    seed : int, numpy.random.Generator or None
        Randomness for ``"kmeans++"`` and ``"random"``.

    Returns
    -------
    GMMParams
    """
    xs = check_data(x)
    d = check_positive_int(n_components, "n_components")
    _check_distinct(xs, d)
    if strategy not in INIT_STRATEGIES:
        raise ValueError(f"unknown init strategy {strategy!r}; choose one of {', '.join(INIT_STRATEGIES)}")
    return _initial_params(xs, d, strategy, check_seed(seed))


def _initial_params(xs: np.ndarray, d: int, strategy: str, rng: np.random.Generator, w=None) -> GMMParams:
    """:func:`initial_params` on data already checked (fit checks once for all its starts).

    With weights ``w`` a sample counts w_i times: the same start as the data with each
    sample repeated (ranks are cumulative weights; the random strategies draw distinct values).
    """
    if strategy == "quantile":
        # Group by rank; ties take the rank of their first member, so that a
        # run of equal values is never split between two groups.
        if w is None:
            labels = np.searchsorted(np.sort(xs), xs, side="left") * d // xs.size
        else:
            order = np.argsort(xs, kind="stable")
            before = np.concatenate([[0.0], np.cumsum(w[order])])  # weight of the samples below
            first = np.searchsorted(xs[order], xs, side="left")
            labels = np.minimum(np.floor(before[first] * d / before[-1]).astype(np.intp), d - 1)
        if np.unique(labels).size < d:  # heavy ties: fall back to distinct-value quantiles
            values = np.unique(xs)
            centers = values[(np.arange(d) * values.size) // d + (values.size // d) // 2]
            labels = _nearest(xs, centers)
        return _params_from_labels(xs, labels, d, w)
    values = np.unique(xs)
    if strategy == "random":
        centers = rng.choice(values, size=d, replace=False)
    else:  # kmeans++
        centers = [values[rng.integers(values.size)]]
        dist2 = (values - centers[0]) ** 2
        for _ in range(1, d):
            nxt = values[rng.choice(values.size, p=dist2 / dist2.sum())]
            centers.append(nxt)
            np.minimum(dist2, (values - nxt) ** 2, out=dist2)
        centers = np.array(centers)
    return _params_from_labels(xs, _nearest(xs, np.sort(centers)), d, w)


def _check_distinct(xs: np.ndarray, n_components: int) -> None:
    if xs.min() == xs.max():
        raise ValueError(
            f"all {xs.size} values of x are equal ({xs[0]!r}): a Gaussian needs a spread (σ > 0)"
        )
    if n_components <= 2:
        return  # two distinct values exist
    # Cheap first look at a prefix; sort all of x only when it is inconclusive.
    if np.unique(xs[: 64 * n_components]).size >= n_components:
        return
    n_distinct = np.unique(xs).size
    if n_components > n_distinct:
        raise ValueError(
            f"n_components = {n_components} is greater than the number of distinct values "
            f"of x ({n_distinct})"
        )


# --------------------------------------------------------------------------
# The standardized frame
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Frame:
    """x = 2^k (m + s z): fit works on z, of mean 0 and standard deviation 1.

    The model is affine-equivariant (a mixture of x is a mixture of z with means and
    standard deviations mapped, and log p(x) = log p(z) - log(2^k s)), so EM on z reaches
    the same fit; but z neither overflows when squared nor underflows for data of any
    magnitude. The power of two 2^k scales exactly, so data of any size fits in [-2, 2]
    before the mean and standard deviation are taken.
    """

    k: int
    m: float
    s: float

    @classmethod
    def of(cls, xs: np.ndarray, w=None) -> _Frame:
        k = int(np.frexp(np.max(np.abs(xs)))[1]) - 1  # |x| / 2^k < 2, and 2^k is finite
        u = np.ldexp(xs, -k)
        if w is None:
            return cls(k, float(u.mean()), float(u.std()))
        m = float(w @ u) / float(w.sum())  # the weighted data's mean and spread
        return cls(k, m, float(np.sqrt(w @ (u - m) ** 2 / w.sum())))

    @property
    def log_scale(self) -> float:
        """log(2^k s): what the log-density of one sample loses from z to x."""
        return float(np.log(self.s) + self.k * np.log(2.0))

    @property
    def std_x(self) -> float:
        return float(np.ldexp(self.s, self.k))

    def to_z(self, xs: np.ndarray) -> np.ndarray:
        return (np.ldexp(xs, -self.k) - self.m) / self.s

    def params_to_z(self, p: GMMParams, std_floor: float) -> GMMParams:
        means = (np.ldexp(p.means, -self.k) - self.m) / self.s
        stds = np.maximum(np.ldexp(p.stds, -self.k) / self.s, std_floor)
        if not (stds > 0).all():
            raise ValueError(f"init's stds {p.stds.tolist()} are too small for the spread of x "
                             f"({self.std_x:.3g}) to be represented: raise them or std_floor")
        return GMMParams(p.weights, means, stds)

    def params_from_z(self, p: GMMParams) -> GMMParams:
        return GMMParams(p.weights, np.ldexp(self.m + self.s * p.means, self.k), np.ldexp(self.s * p.stds, self.k))


# --------------------------------------------------------------------------
# The EM iteration
# --------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class _Run:
    """One EM run: where it started and ended, its log-likelihoods and degeneracies."""

    start: GMMParams
    params: GMMParams
    resp: np.ndarray | None  # (D, N) responsibilities of ``params`` (None: not kept)
    history: np.ndarray
    n_iter: int
    converged: bool
    collapsed: np.ndarray  # a component's σ was held at the floor
    empty: np.ndarray  # a class lost its responsibility mass

    @property
    def log_likelihood(self) -> float:
        return float(self.history[-1])

    @property
    def degenerate(self) -> bool:
        return bool(self.collapsed.any() or self.empty.any())


def _responsibilities_dn(x, params: GMMParams) -> np.ndarray:
    """The (D, N) responsibilities of ``params``, from one fused pass."""
    return engine().log_likelihood_and_responsibilities(x, params)[1]


def _run_em(x, start, *, max_iter, tol, std_floor, equal_variance=False, before=None, keep_resp=True,
            weights=None) -> _Run:
    """EM from ``start`` for at most ``max_iter`` iterations.

    ``before`` is an earlier run that ended at ``start``: the result continues it (one
    history, iteration count and degeneracy record). ``keep_resp=False`` drops the final
    (D, N) responsibilities, so that many short runs do not hold many such arrays.
    """
    eng = engine()  # numba's fused pass, or NumPy: imported on the first fit, not with gmmderive

    def iteration(p):
        return eng.em_iteration(x, p, std_floor=std_floor, equal_variance=equal_variance, weights=weights)

    params = start
    ll, new, col, emp = iteration(params)  # log-likelihood of start, and the first M-step
    history = [ll]
    collapsed = np.zeros(params.n_components, dtype=bool)
    empty = np.zeros(params.n_components, dtype=bool)
    converged = False
    resp = None
    n_iter = 0
    for n_iter in range(1, max_iter + 1):  # noqa: B007  (n_iter is the count after the loop)
        params = new
        collapsed |= col
        empty |= emp
        if n_iter < max_iter or not keep_resp:
            ll, new, col, emp = iteration(params)
        else:  # the last pass: no M-step follows, so let it write ρ instead
            ll, resp = eng.log_likelihood_and_responsibilities(x, params, weights)
        history.append(ll)
        if tol > 0 and history[-1] - history[-2] < tol:
            converged = True
            break
    if keep_resp and resp is None:
        resp = _responsibilities_dn(x, params)
    if before is not None:
        return _Run(before.start, params, resp, np.concatenate([before.history, history[1:]]),
                    before.n_iter + n_iter, converged, before.collapsed | collapsed, before.empty | empty)
    return _Run(start, params, resp, np.array(history), n_iter, converged, collapsed, empty)


def em_path(x, init: GMMParams, n_iter: int, *, e_step=None, m_step=None):
    """The parameters after each of ``n_iter`` EM iterations, for watching EM work.

    Parameters
    ----------
    x : array_like, shape (N,) or (N, 1)
    init : GMMParams
        θ^{[0]}.
    n_iter : int
        Number of iterations.
    e_step, m_step : callable, optional
        Replacements for :func:`gmmderive.e_step` and :func:`gmmderive.m_step`
        (signatures ``e_step(x, params)`` and ``m_step(x, resp, previous=params)``),
        for example those of :mod:`gmmderive.variants`.

    Returns
    -------
    params : list of GMMParams, length n_iter + 1
        θ^{[0]}, θ^{[1]}, ..., in the order EM produced the components.
    log_likelihoods : ndarray, shape (n_iter + 1,)
    """
    from .core import e_step as default_e
    from .core import log_likelihood
    from .core import m_step as default_m

    xs = check_data(x)
    n_iter = check_positive_int(n_iter, "n_iter", minimum=0)
    if not isinstance(init, GMMParams):
        raise ValueError("init must be a GMMParams")
    e_fn = e_step or default_e
    m_fn = m_step or default_m
    path = [init]
    for _ in range(n_iter):
        path.append(m_fn(xs, e_fn(xs, path[-1]), previous=path[-1]))
    return path, np.array([log_likelihood(xs, p) for p in path])


def fit(
    x,
    n_components: int | None = None,
    *,
    init=None,
    max_iter: int = DEFAULT_MAX_ITER,
    tol: float = DEFAULT_TOL,
    n_init: int = 1,
    seed=None,
    std_floor: float = DEFAULT_STD_FLOOR,
    equal_variance: bool = False,
    pre_iter: int = 0,
    n_best: int = 1,
    reject_degenerate: bool = False,
    sample_weight=None,
    compress: bool = False,
) -> FitResult:
    """Fit a univariate Gaussian mixture to ``x`` by EM.

    Parameters
    ----------
    x : array_like, shape (N,) or (N, 1)
        The observations; never modified.
    n_components : int, optional
        Number of classes D. Required unless ``init`` is a :class:`GMMParams`.
    init : {"quantile", "kmeans++", "random"} or GMMParams, optional
        Start: a strategy of :func:`initial_params`, or parameters to start
        from. Default ``"quantile"`` for one run, ``"kmeans++"`` for
        ``n_init > 1``.
    max_iter : int, default 1000
        Maximum number of EM iterations (each an E-step and an M-step).
    tol : float, default 1e-8
        Stop when an iteration raises the total log-likelihood by less than
        ``tol``. ``0`` disables the check: exactly ``max_iter`` iterations run.
    n_init : int, default 1
        Number of runs from different random starts; the run with the highest
        final log-likelihood is returned. Needs a random strategy.
    seed : int, numpy.random.Generator or None
        Randomness of the initialization.
    std_floor : float, default 1e-6
        Lower bound on every σ, as a fraction of the standard deviation of x.
    equal_variance : bool, default False
        Fit the model with one σ shared by all classes (mclust's "E",
        scikit-learn's ``tied``, mixtools' ``arbvar = FALSE``). A start with
        different σ starts from its pooled σ = √(Σ_c π_c σ_c²) instead, so that
        θ^{[0]} belongs to the model and the log-likelihood never decreases.
    pre_iter : int, default 0
        With ``n_init > 1``: run every start for only ``pre_iter`` iterations
        first, then continue only the ``n_best`` runs with the highest
        log-likelihood to convergence (a short pre-run, then selection).
        0 runs every start to convergence.
    n_best : int, default 1
        How many of the short runs go on (``pre_iter > 0`` only).
    reject_degenerate : bool, default False
        Discard runs in which a component collapsed (σ at the floor) or
        emptied, and return the best of the others; a ``ValueError`` if every
        run degenerated. Useful on rounded data (many ties), where a component
        can sit on one repeated value and make the likelihood unbounded.
    sample_weight : array_like, shape (N,), optional
        How much each sample counts (w_i >= 0, not all 0): counts of repeated
        values, histogram bin counts, survey weights. Integer weights give the
        fit of the data with each sample repeated w_i times; a zero weight
        removes its sample. The log-likelihood is Σ_i w_i log p(x^{[i]}; θ), and
        ``std_floor`` is relative to the weighted standard deviation.
    compress : bool, default False
        Fit the distinct values of ``x`` with their counts (times their weights)
        instead of every sample: the same fit, to rounding, with EM's passes
        over the distinct values only (it still sorts x once, and computes the
        responsibilities of every sample at the end). Data that arrives
        tabulated (counts per value, a histogram's bins) needs no compression:
        ``fit(values, D, sample_weight=counts)``.

    Returns
    -------
    FitResult

    Warns
    -----
    DegenerateComponentWarning
        A component of the returned run collapsed (σ at the floor) or emptied.
    ConvergenceWarning
        The returned run hit ``max_iter`` with ``tol > 0``.
    """
    x_all = check_data(x)
    w_all = check_sample_weight(sample_weight, x_all.size)
    max_iter = check_positive_int(max_iter, "max_iter")
    n_init = check_positive_int(n_init, "n_init")
    tol = check_nonnegative_float(tol, "tol")
    std_floor = check_nonnegative_float(std_floor, "std_floor")
    pre_iter = check_positive_int(pre_iter, "pre_iter", minimum=0)
    n_best = check_positive_int(n_best, "n_best")
    n_components, init = _check_init(init, n_components, n_init)

    xs, w = _weighted_samples(x_all, w_all, bool(compress))
    _check_distinct(xs, n_components)
    rng = check_seed(seed)

    # EM runs in the standardized frame z (see _Frame); results are mapped back to x.
    frame = _Frame.of(xs, w)
    if frame.std_x < MIN_STD or 0 < frame.std_x * std_floor < MIN_STD:
        raise ValueError(f"the spread of x ({frame.std_x:.3g}) is too small: the σ floor (std_floor "
                         f"= {std_floor:g} of it) is below the smallest normal float; rescale x")
    zs = frame.to_z(xs)
    floor = std_floor  # a fraction of the spread, as documented: the (weighted) std of z is 1
    if w is None:
        floor = std_floor * float(zs.std())
    starts = [_start(zs, w, n_components, init, rng, frame, floor, equal_variance) for _ in range(n_init)]

    def run(params, iters, **kw):
        return _run_em(zs, params, max_iter=iters, tol=tol, std_floor=floor,
                       equal_variance=bool(equal_variance), weights=w, **kw)

    if pre_iter and n_init > 1 and pre_iter < max_iter:
        # Short runs from every start; only the n_best most likely go on.
        short = sorted((run(p, pre_iter, keep_resp=False) for p in starts), key=lambda r: -r.log_likelihood)
        runs = (r if r.converged else run(r.params, max_iter - r.n_iter, before=r, keep_resp=False)
                for r in short[:n_best])
    else:
        # One run: its last pass writes ρ. Several: only the best one's ρ is computed, at the end.
        runs = (run(p, max_iter, keep_resp=n_init == 1 and xs.size == x_all.size) for p in starts)
    best = _best_run(runs, reject_degenerate, n_init)
    return _result(best, x_all, zs, w, frame, floor, tol, max_iter)


def _check_init(init, n_components, n_init):
    """``(D, init)`` from the arguments: a start strategy or GMMParams, checked against ``n_init``."""
    if isinstance(init, GMMParams):
        if n_components is None:
            n_components = init.n_components
        n_components = check_positive_int(n_components, "n_components")
        if init.n_components != n_components:
            raise ValueError(
                f"init has {init.n_components} components but n_components = {n_components}"
            )
        if n_init > 1:
            raise ValueError("n_init > 1 needs a random init strategy, not fixed GMMParams")
        return n_components, init
    if n_components is None:
        raise ValueError("n_components is required unless init is a GMMParams")
    n_components = check_positive_int(n_components, "n_components")
    if init is None:
        init = "quantile" if n_init == 1 else "kmeans++"
    if not isinstance(init, str) or init not in INIT_STRATEGIES:
        raise ValueError(
            f"unknown init strategy {init!r}; choose one of {', '.join(INIT_STRATEGIES)} "
            "or pass a GMMParams"
        )
    if init == "quantile" and n_init > 1:
        raise ValueError("init='quantile' is deterministic: n_init > 1 would repeat one run")
    return n_components, init


def _weighted_samples(xs: np.ndarray, w, compress: bool):
    """The samples EM sums over, with their weights (None: all 1).

    A zero weight removes its sample; ``compress`` merges equal values into one with the
    sum of their weights (their count, without weights).
    """
    if w is not None and not (w > 0).all():
        keep = w > 0
        xs, w = xs[keep], w[keep]
    if compress and w is None:
        # one sort, no argsort: the distinct values and how often each occurs
        xs = np.sort(xs)
        first = np.flatnonzero(np.concatenate([[True], xs[1:] != xs[:-1]]))
        w = np.diff(np.append(first, xs.size)).astype(np.float64)
        xs = xs[first]
    elif compress:
        xs, inverse = np.unique(xs, return_inverse=True)
        w = np.bincount(inverse.ravel(), weights=w, minlength=xs.size)
    return xs, w


def _start(zs, w, n_components, init, rng, frame, floor, equal_variance) -> GMMParams:
    """One starting point θ^{[0]} in the frame z, inside the model EM maximizes over."""
    if isinstance(init, GMMParams):
        start = frame.params_to_z(init, floor)
    else:
        start = _initial_params(zs, n_components, init, rng, w)
    if equal_variance:
        pooled = np.sqrt(np.sum(start.weights * start.stds**2))
        start = GMMParams(start.weights, start.means, np.full(n_components, pooled))
    if start.stds.min() < floor:
        # θ^{[0]} inside the model the M-step maximizes over (σ ≥ floor): otherwise the
        # first M-step, which floors σ, could lower the log-likelihood.
        start = GMMParams(start.weights, start.means, np.maximum(start.stds, floor))
    return start


def _best_run(runs, reject_degenerate: bool, n_init: int) -> _Run:
    """The run with the highest log-likelihood (among the non-degenerate ones, if asked)."""
    best = None  # keep only the best run: one (D, N) array in memory, whatever n_init
    for r in runs:
        if not (reject_degenerate and r.degenerate) and (best is None or r.log_likelihood > best.log_likelihood):
            best = r
    if best is None:
        raise ValueError(
            f"all {n_init} run(s) degenerated (a component collapsed onto a point or emptied); "
            "try more starts (n_init) or fewer components"
        )
    return best


def _result(best: _Run, x_all, zs, w, frame, floor, tol, max_iter) -> FitResult:
    """The best run mapped back to x, in canonical order, with the warnings it deserves."""
    if best.resp is not None and zs.size == x_all.size:
        resp = best.resp
    else:  # ρ of every sample given (also those removed by a zero weight, or merged by compress)
        resp = _responsibilities_dn(zs if zs.size == x_all.size else frame.to_z(x_all), best.params)
    total_weight = zs.size if w is None else float(w.sum())
    history = best.history - total_weight * frame.log_scale  # log p(x) = log p(z) - log(2^k s) per sample

    warn_degenerate(best.collapsed, best.empty, floor * frame.std_x, stacklevel=4)
    if tol > 0 and not best.converged:
        warnings.warn(
            f"EM did not converge in {max_iter} iterations (last log-likelihood change "
            f"{history[-1] - history[-2]:.3g} >= tol = {tol:g})",
            ConvergenceWarning,
            stacklevel=3,
        )
    params = frame.params_from_z(best.params)
    order = params.canonical_order()
    history.setflags(write=False)
    return FitResult(
        params=params.permuted(order),
        log_likelihood=float(history[-1]),
        history=history,
        n_iter=best.n_iter,
        converged=best.converged,
        responsibilities=(resp if np.array_equal(order, np.arange(order.size)) else resp[order]).T,
        init_params=frame.params_from_z(best.start),
    )
