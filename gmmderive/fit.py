"""Fitting a univariate GMM by EM: initialization, the iteration, restarts.

The stopping rule
-----------------
EM stops when its parameters are within ``tol`` (default ``1e-8``) of the fixed point it
converges to: the largest error of a weight, or of a mean or standard deviation in units of
the data's standard deviation, so ``tol`` means the same for data of any scale or size. The
error is estimated from the size of the last step and EM's rate of convergence, and confirmed
with the Jacobian of the EM map (:mod:`gmmderive._runs`). A small change of the
log-likelihood (the rule of mixtools and, per sample, of scikit-learn) does not mean this
where EM crawls: on overlapping components, parameters 10⁻³ from the maximum can change the
log-likelihood by less than 10⁻⁸ per iteration. ``tol=0`` switches the rule off: then exactly
``max_iter`` evaluations run.

Acceleration
------------
By default (``accelerate=True``) each run is SQUAREM-accelerated EM: two EM steps, an
extrapolation along them, kept only if it raises the log-likelihood (chapter 22 of the book).
It reaches the same fixed point as plain EM, so the log-likelihood history still never
decreases, with far fewer evaluations of M where EM is slow.

The default search
------------------
EM finds a local maximum near its start. With ``init=None``, fit draws ``DEFAULT_N_INIT`` = 50
starts (the quantile start and 49 k-means++ starts, ``seed=0`` by default, so the same data
give the same fit), runs plain EM from all of them together for ``DEFAULT_PRE_ITER`` = 30
iterations (one NumPy pass over all starts per iteration on small data), and runs the most
likely non-degenerate one to convergence. On the book's data sets this reaches the best
optimum that 600 random starts run to convergence find (tests/test_search.py); one start in
twelve reaches it on the galaxies with D = 4. A degenerate run (a collapsed or emptied
component) is returned only if every run that went on to convergence degenerated; with
``reject_degenerate=True``, when the run that went on degenerates, the next most likely
pre-run goes on, and so on (at the cost of a run to convergence each), so that only if every
start degenerates is it an error.

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
``tol`` to the weighted log-likelihood, which scales with them). Weights of any magnitude are
scaled by one power of two inside fit (exactly): a weight more than 2^1074 times below the
largest is then 0 and counts nothing, as in any sum at double precision. Weights whose sum
or whose log-likelihood Σ_i w_i log p is beyond the range of a float are a ``ValueError``:
divide them by a constant. ``compress=True`` fits the distinct values of ``x`` with their
counts: the fit of the raw data, to rounding, in time that grows with the number of distinct
values.

Data that does not fit in memory
--------------------------------
``x`` may be a Dask array (install ``gmmderive[dask]``; Dask is imported only then). Every
quantity of an EM iteration is a sum over the samples, so each chunk's fused pass returns its
3D + 1 sums and fit adds them and takes the M-step (chapter 23 of the book,
:mod:`gmmderive._dask`). The checks, the frame, the starts (drawn from all of x up to 2²⁰
values, else from a systematic sample of that size), every evaluation of M and the final
log-likelihood are Dask computations on the active scheduler: threads by default, or a
``distributed.Client``'s workers (not Dask's "processes" scheduler, which starts a pool for
every pass). From the same starts (a :class:`GMMParams`, or starts drawn from at most 2²⁰
samples) the iterations are the in-memory ones to rounding, and so is the result, to about
1e-12; where EM crawls, rounding grows along the path and both stop within ``tol`` of the
same fixed point. ``responsibilities`` stays a lazy Dask array. The data are read once per
evaluation of M; the default search's pre-runs share each pass among their starts (31 passes,
each with the work of 50), and a search on a sample in memory followed by
``fit(x, init=result.params)`` costs only the passes of one run.

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
from ._hessian import StandardErrors, standard_errors
from ._runs import BATCH_SIZE, HESSIAN_TOL, MAX_ESCAPES, Run, batch_em, run_em
from ._validation import (
    check_bool,
    check_data,
    check_log_likelihood,
    check_nonnegative_float,
    check_positive_int,
    check_sample_weight,
    check_seed,
    check_total_weight,
)
from .core import warn_degenerate
from .mstep import class_means, m_step_arrays
from .params import MIN_STD, GMMParams

INIT_STRATEGIES = ("quantile", "kmeans++", "random")
DEFAULT_MAX_ITER = 10_000
DEFAULT_TOL = 1e-8
DEFAULT_STD_FLOOR = 1e-6
#: The default search (``init=None``): the quantile start and k-means++ starts, this many in all,
DEFAULT_N_INIT = 50
#: each run for this many evaluations of M before the most likely goes on,
DEFAULT_PRE_ITER = 30
#: with this seed, so that the default fit is reproducible.
DEFAULT_SEED = 0
#: The default search continues up to this many more pre-runs while the runs that went on
#: ended at saddles (or flat points: coincident components) that their escapes did not leave.
SADDLE_RETRIES = 5

# Initial σ are at least this fraction of std(x)/D, so no start is already collapsed.
_INIT_MIN_STD = 0.1


class ConvergenceWarning(UserWarning):
    """The returned run is not a certified maximum.

    Either EM reached ``max_iter`` before the stopping rule held (θ within ``tol`` of EM's fixed
    point, the distance estimated from the steps and confirmed with the Jacobian of M), or it
    stopped at a saddle point of the likelihood (the Hessian not negative definite, per sample
    ``max_eigenvalue >= -1e-6``) that restarts along the eigenvector did not leave.
    """


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
        Log-likelihood of the initial parameters, then the highest one reached
        after each evaluation of M (for plain EM, that of θ^{[k]});
        ``history[-1] == log_likelihood``. Never decreases (up to rounding).
    n_iter : int
        Number of evaluations of the EM map M (fused passes) of the returned
        run: for plain EM its iterations, plus the stopping rule's check.
    converged : bool
        Whether the stopping rule was met before ``max_iter`` (θ within ``tol``
        of EM's fixed point) and the fixed point is a maximum: the Hessian of the
        log-likelihood is negative definite, ``max_eigenvalue < -1e-6``
        (``gmmderive._runs.HESSIAN_TOL``). A run that stops at a saddle is
        restarted along the eigenvector of the largest eigenvalue (both signs, the
        better kept; at most 3 times) before it is reported not converged. A
        degenerate fit with an emptied class is not checked (no log-ratio of a
        zero weight): its ``converged`` is the stopping rule's.
    responsibilities : ndarray, shape (N, D)
        Responsibilities of the returned ``params`` (columns in canonical order);
        for a Dask input a lazy Dask array in x's chunks, computed when asked for.
    init_params : GMMParams
        The starting point of the returned run (in the order it was made).
    max_eigenvalue : float
        The largest eigenvalue of H / W, H the Hessian of the log-likelihood in the
        free coordinates (log(π_c/π_D) for c < D, μ_c / std(x), log σ_c; one log σ
        with ``equal_variance``), W = N (Σ_i w_i with weights): the curvature per
        sample, the same for data of any scale or size, negative at a strict
        maximum. NaN if not computed (the run did not converge, or a class emptied).
    standard_errors : StandardErrors
        Of ``params.weights``, ``.means`` and ``.stds`` (same order): the square roots
        of the diagonal of (-H)⁻¹, the asymptotic covariance of maximum likelihood,
        mapped to (π, μ, σ) by the delta method (:mod:`gmmderive._hessian`). With
        weights, as if sample i were observed w_i times. NaN where H is not
        negative definite or not computed. Asymptotic: with few samples per
        component or overlapping components a bootstrap is more trustworthy.
    """

    params: GMMParams
    log_likelihood: float
    history: np.ndarray
    n_iter: int
    converged: bool
    responsibilities: np.ndarray
    init_params: GMMParams
    max_eigenvalue: float = np.nan
    standard_errors: StandardErrors | None = None

    def __repr__(self):
        # A summary that fits a notebook's column: the arrays by shape and range, not in full.
        h, r = self.history, self.responsibilities
        return "\n".join([
            "FitResult(",
            f"    params={self.params._repr(indent='    ')},",
            f"    log_likelihood={self.log_likelihood:.10g},",
            f"    n_iter={self.n_iter}, converged={self.converged}, max_eigenvalue={self.max_eigenvalue:.3g},",
            f"    history=<{h.size} values from {h[0]:.6g} to {h[-1]:.6g}>,",
            f"    responsibilities=<array of shape {r.shape}>,",
            f"    init_params={self.init_params._repr(indent='    ')},",
            ")",
        ])


# --------------------------------------------------------------------------
# Initialization
# --------------------------------------------------------------------------


def _params_from_labels(x: np.ndarray, labels: np.ndarray, n_components: int, w=None) -> GMMParams:
    """Hard-assignment M-step: the weight, mean and std of each labelled group (none empty)."""
    spread = x.std() if w is None else _weighted_std(x, w)
    count = np.bincount(labels, weights=w, minlength=n_components)
    if not (count > 0).all():
        raise AssertionError("a start's group is empty")  # every centre is a data value
    sum_x = np.bincount(labels, weights=x if w is None else w * x, minlength=n_components)
    means = class_means(count, sum_x, empty_below=0.0)  # the two passes of the M-step, ρ one-hot

    def sq_dev(means):
        dev2 = (x - means[labels]) ** 2
        return np.bincount(labels, weights=dev2 if w is None else w * dev2, minlength=n_components)

    weights, means, stds, _, _ = m_step_arrays(count.sum(), count, np.zeros(n_components), sq_dev(means), means,
                                               None, None, std_floor=_INIT_MIN_STD * spread / n_components,
                                               empty_below=0.0)
    return GMMParams(weights, means, stds)


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
            f"all {xs.size} values of x are equal ({float(xs[0])!r}): a Gaussian needs a spread (σ > 0)"
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


def times_power_of_two(xs: np.ndarray, e: int) -> np.ndarray:
    """x · 2^e, exactly as ``np.ldexp(x, e)`` (both correctly rounded), twice as fast.

    Multiplying by the float 2^e (exact down to 2^-1074, a subnormal) is one correctly
    rounded operation, hence equal to ldexp; for e > 1023 (data all subnormal) 2^e is not a
    float, and ldexp does it.
    """
    if e <= 1023:
        return xs * (2.0**e)
    return np.ldexp(xs, e)


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
        u = times_power_of_two(xs, -k)
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
        z = times_power_of_two(xs, -self.k)  # a new array: the arithmetic below runs in place (one N-array)
        z -= self.m
        z /= self.s
        return z

    def params_to_z(self, p: GMMParams, std_floor: float) -> GMMParams:
        means = (np.ldexp(p.means, -self.k) - self.m) / self.s
        stds = np.maximum(np.ldexp(p.stds, -self.k) / self.s, std_floor)
        if not (stds > 0).all():
            raise ValueError(f"init's stds {p.stds.tolist()} are too small for the spread of x "
                             f"({self.std_x:.3g}) to be represented: raise them or std_floor")
        return GMMParams(p.weights, means, stds)

    def params_u_to_z(self, p: GMMParams) -> GMMParams:
        """Parameters of u = x / 2^k in the frame z = (u - m) / s."""
        return GMMParams(p.weights, (p.means - self.m) / self.s, p.stds / self.s)

    def params_from_z(self, p: GMMParams) -> GMMParams:
        return GMMParams(p.weights, np.ldexp(self.m + self.s * p.means, self.k), np.ldexp(self.s * p.stds, self.k))


# --------------------------------------------------------------------------
# The EM iteration
# --------------------------------------------------------------------------


def _responsibilities_dn(x, params: GMMParams) -> np.ndarray:
    """The (D, N) responsibilities of ``params``, from one fused pass."""
    return engine().log_likelihood_and_responsibilities(x, params)[1]


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
    n_init: int | None = None,
    seed=DEFAULT_SEED,
    std_floor: float = DEFAULT_STD_FLOOR,
    equal_variance: bool = False,
    pre_iter: int | None = None,
    n_best: int = 1,
    reject_degenerate: bool = False,
    sample_weight=None,
    compress: bool = False,
    accelerate: bool = True,
) -> FitResult:
    """Fit a univariate Gaussian mixture to ``x`` by EM.

    Parameters
    ----------
    x : array_like or dask.array.Array, shape (N,) or (N, 1)
        The observations; never modified. A Dask array is fitted chunk by chunk
        (each pass over the data a Dask computation on the active scheduler,
        nothing of size N in memory), with the same options and result; see
        "Data that does not fit in memory" above.
    n_components : int, optional
        Number of classes D. Required unless ``init`` is a :class:`GMMParams`.
    init : {"quantile", "kmeans++", "random"} or GMMParams, optional
        Where EM starts: a strategy of :func:`initial_params`, or parameters.
        Default (None): the default search, ``n_init`` starts (the quantile
        start, then k-means++ starts drawn with ``seed``), each run for
        ``pre_iter`` iterations of plain EM, the most likely one then run to
        convergence.
        It reaches the best optimum that hundreds of random starts find on the
        book's data sets (tested).
    max_iter : int, default 10000
        Maximum number of evaluations of the EM map M (fused passes: an
        E-step and an M-step each) per run, those of the stopping rule's check
        and of the acceleration included.
    tol : float, default 1e-8
        Stop when θ is within ``tol`` of EM's fixed point: the largest error of
        a weight, or of a mean or σ in units of the data's standard deviation,
        as estimated by the stopping rule (:mod:`gmmderive._runs`: the size of
        the last step over one minus EM's rate, confirmed with the Jacobian of
        M). ``0`` disables the rule: exactly ``max_iter`` evaluations run.
    n_init : int, optional
        Number of starts; the best final run is returned (a non-degenerate one
        if there is any). Default 50 for ``init=None``, else 1; more than one
        needs a random strategy.
    seed : int, numpy.random.Generator or None, default 0
        Randomness of the starts. The default makes every fit reproducible;
        ``None`` draws fresh entropy.
    std_floor : float, default 1e-6
        Lower bound on every σ, as a fraction of the standard deviation of x.
    equal_variance : bool, default False
        Fit the model with one σ shared by all classes (mclust's "E",
        scikit-learn's ``tied``, mixtools' ``arbvar = FALSE``). A start with
        different σ starts from its pooled σ = √(Σ_c π_c σ_c²) instead, so that
        θ^{[0]} belongs to the model and the log-likelihood never decreases.
    pre_iter : int, optional
        With ``n_init > 1``: run every start for only ``pre_iter`` evaluations
        first, then continue only the ``n_best`` runs with the highest
        log-likelihood to convergence (a short pre-run, then selection).
        0 runs every start to convergence. Default 30 for the default search
        (``init=None``), else 0.
        (The pre-runs are plain EM, together in one array on small data; on a
        Dask array every pass over the chunks serves all the starts.)
    n_best : int, default 1
        How many of the short runs go on (``pre_iter > 0`` only).
    reject_degenerate : bool, default False
        Discard runs in which a component collapsed (σ at the floor) or
        emptied, and return the best of the others; a ``ValueError`` if every
        run degenerated. With pre-runs (the default search), when the runs that
        went on degenerate, the next most likely pre-runs go on, one at a time.
        Useful on rounded data (many ties), where a component can sit on one
        repeated value and make the likelihood unbounded.
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
    accelerate : bool, default True
        Run SQUAREM (Varadhan & Roland 2008): two EM steps, then an extrapolation
        along them, kept only if it raises the log-likelihood. It reaches the
        same fixed point as plain EM in far fewer evaluations of M where EM is
        slow (overlapping components). ``False`` runs the lecture's EM,
        θ^{[k+1]} = M(θ^{[k]}), as the book's derivation chapters do.

    Returns
    -------
    FitResult

    Raises
    ------
    ValueError
        Bad input, named: data that are not finite real numbers, bad weights (or weights whose
        sum or log-likelihood is beyond a float), an option of the wrong type (the booleans
        ``equal_variance``, ``reject_degenerate``, ``compress`` and ``accelerate`` take True or
        False only), too few distinct values, or every run degenerate with ``reject_degenerate``.

    Warns
    -----
    DegenerateComponentWarning
        A component of the returned run collapsed (σ at the floor) or emptied.
    ConvergenceWarning
        The returned run hit ``max_iter`` with ``tol > 0``.
    """
    chunked = _is_dask(x)
    if chunked:
        from . import _dask  # Dask is imported only when a Dask array comes in

        x_all, w_all = _dask.as_dask_data(x, sample_weight), None  # checked lazily; scanned below
    else:
        x_all = check_data(x)
        w_all = check_sample_weight(sample_weight, x_all.size)
    equal_variance = check_bool(equal_variance, "equal_variance")
    reject_degenerate = check_bool(reject_degenerate, "reject_degenerate")
    compress = check_bool(compress, "compress")
    accelerate = check_bool(accelerate, "accelerate")
    max_iter = check_positive_int(max_iter, "max_iter")
    if n_init is not None:
        n_init = check_positive_int(n_init, "n_init")
    tol = check_nonnegative_float(tol, "tol")
    std_floor = check_nonnegative_float(std_floor, "std_floor")
    if pre_iter is not None:
        pre_iter = check_positive_int(pre_iter, "pre_iter", minimum=0)
    n_best = check_positive_int(n_best, "n_best")
    n_components, init, n_init = _check_init(init, n_components, n_init)
    if pre_iter is None:  # the default search screens its starts; a chosen strategy runs each to the end
        pre_iter = DEFAULT_PRE_ITER if init is None and n_init > 1 else 0
    if chunked:
        samples = _chunked_samples(_dask.scan(x_all, n_components), compress, n_components, std_floor,
                                   draws_starts=not isinstance(init, GMMParams))
    else:
        samples = _in_memory_samples(x_all, w_all, compress, n_components, std_floor)
    rng = check_seed(seed)

    frame, floor, zs, w = samples.frame, samples.floor, samples.z, samples.weights
    strategies = [init] * n_init if init is not None else ["quantile"] + ["kmeans++"] * (n_init - 1)
    # Starts are drawn from x / 2^k, an exact scaling: which centre a sample is nearest to (ties
    # included) then does not depend on rounding in the frame, so integer weights give the
    # starts of the repeated data. (u is dropped once they are drawn: one N-array less.)
    us = times_power_of_two(samples.start_x, -frame.k)
    starts = [_start(us, samples.start_w, n_components, s, rng, frame, floor, equal_variance) for s in strategies]
    del us

    def run(params, iters, **kw):
        return run_em(zs, params, max_iter=iters, tol=tol, std_floor=floor, equal_variance=equal_variance,
                      weights=w, accelerate=accelerate, **kw)

    if pre_iter and n_init > 1 and pre_iter < max_iter:
        # Short runs of plain EM, pre_iter iterations from every start; the n_best most likely
        # non-degenerate ones go on (with reject_degenerate, more while every one degenerated).
        ev = equal_variance
        if not isinstance(zs, np.ndarray):  # chunked: every pass over the chunks serves all the starts
            short = zs.batch_em(starts, pre_iter, std_floor=floor, equal_variance=ev)
        elif n_init * n_components * samples.size <= BATCH_SIZE:  # small: all the starts in one array
            short = batch_em(zs, starts, pre_iter, std_floor=floor, equal_variance=ev, weights=w)
        else:  # one by one, the same iterations
            short = [run_em(zs, p, max_iter=pre_iter, tol=0.0, std_floor=floor, equal_variance=ev, weights=w,
                            accelerate=False, keep_resp=False) for p in starts]
        runs = _continued(_ranked(short), n_best if not reject_degenerate else None,
                          lambda r: run(r.params, max_iter - r.n_iter, before=r, keep_resp=False), n_best)
    else:
        # One run: its last pass writes ρ. Several: only the best one's ρ is computed, at the end.
        runs = (run(p, max_iter, keep_resp=n_init == 1 and samples.keeps_resp) for p in starts)
    best = _best_run(runs, reject_degenerate, n_init)
    return _result(best, samples, tol, max_iter)


def _is_dask(x) -> bool:
    """A Dask collection (checked by its type's module, so that Dask is not imported for NumPy input)."""
    return type(x).__module__.split(".")[0] == "dask"


@dataclass(frozen=True, eq=False)
class _Samples:
    """What EM runs on: the samples in the frame z, their weights, and where starts come from."""

    z: object  # ndarray (N,), or gmmderive._dask.ChunkedSamples for a Dask array
    weights: np.ndarray | None  # of z in memory (None: all 1; chunked data carries its own)
    size: int  # number of samples EM sums over
    frame: _Frame
    floor: float  # the σ floor in the frame z
    start_x: np.ndarray  # the samples the starts are drawn from (all of them in memory)
    start_w: np.ndarray | None
    x_all: object  # the data given (ndarray, or a Dask array): ρ is computed for every sample
    keeps_resp: bool  # z is x_all in its order (in memory; none removed or merged): a run's ρ is x_all's
    weight_exponent: int = 0  # the weights given are the weights here times 2^weight_exponent


def _check_spread(frame: _Frame, std_floor: float) -> None:
    if frame.std_x < MIN_STD or 0 < frame.std_x * std_floor < MIN_STD:
        raise ValueError(f"the spread of x ({frame.std_x:.3g}) is too small: the σ floor (std_floor "
                         f"= {std_floor:g} of it) is below the smallest normal float; rescale x")


def _in_memory_samples(x_all, w_all, compress: bool, n_components: int, std_floor: float, resp_of=None,
                       weight_exponent: int = 0) -> _Samples:
    """The samples EM runs on (zero weights removed, merged by ``compress``) in the frame z.

    ``w_all`` are the weights given divided by 2^``weight_exponent`` (a Dask array's scan has
    scaled them already; its compress comes here with the counts of the distinct values).
    """
    # Scaled before the zeros are removed: a weight below 2^-1074 times the largest is 0 once
    # scaled, and counts nothing in any sum; kept, it could be a start's only member (#24).
    w, exponent = _scaled_weights(w_all)
    xs, w = _weighted_samples(x_all, w, compress)
    if w is not None:
        _check_total_weight(float(w.sum()), weight_exponent + exponent)
    _check_distinct(xs, n_components)
    # EM runs in the standardized frame z (see _Frame); results are mapped back to x.
    frame = _Frame.of(xs, w)
    _check_spread(frame, std_floor)
    zs = frame.to_z(xs)
    floor = std_floor  # a fraction of the spread, as documented: the (weighted) std of z is 1
    if w is None:
        floor = std_floor * float(zs.std())
    aligned = xs is x_all and resp_of is None  # not sorted by compress, none removed (a same size is not enough)
    return _Samples(zs, w, zs.size, frame, floor, xs, w, x_all if resp_of is None else resp_of,
                    aligned, weight_exponent + exponent)


def _check_total_weight(total: float, exponent: int) -> None:
    """Σ_i w_i = ``total`` · 2^``exponent`` (the weights as given) must be a float."""
    with np.errstate(over="ignore"):  # inf is the error check_total_weight raises
        check_total_weight(float(np.ldexp(total, exponent)))


def weight_exponent(largest: float) -> int:
    """e with largest / 2^e in [1/2, 1): weights scaled by 2^-e (exactly) keep EM's sums finite."""
    return int(np.frexp(largest)[1])


def _scaled_weights(w):
    """``(w / 2^e, e)``: the largest weight below 1, so that no sum of weighted squares overflows.

    Scaling every weight by a power of two is exact, and EM's updates are ratios of weighted
    sums, so the fit is the same; only the log-likelihood Σ_i w_i log p is scaled back (#16's
    adversarial tests: weights of 1e200 made Σ ρ (x - c)² overflow). A weight more than 2^1074
    times below the largest becomes 0 (its share of any sum is far below rounding).
    (``compress`` then adds weights of equal values: at most N each, still far from overflow.)
    """
    if w is None:
        return None, 0
    e = weight_exponent(float(w.max()))
    return (w if e == 0 else np.ldexp(w, -e)), e


def _chunked_samples(data, compress: bool, n_components: int, std_floor: float, draws_starts: bool) -> _Samples:
    """:func:`_in_memory_samples` for a Dask array: each quantity a pass of Dask tasks over the chunks.

    The starts are drawn (``draws_starts``) from the samples of weight > 0 if there are at most
    ``START_SAMPLE`` of them, else from every k-th of them, about ``START_SAMPLE`` in all.
    """
    from . import _dask

    if compress:  # EM on the distinct values, in memory; ρ of every sample stays lazy
        values, counts = _dask.distinct_values(data)  # counts of the weights the scan scaled
        return _in_memory_samples(values, counts, False, n_components, std_floor, resp_of=data.x,
                                  weight_exponent=data.weight_exponent)
    _dask.check_distinct(data, n_components)
    frame, total = _dask.frame_of(data, _Frame)
    if data.w is not None:
        _check_total_weight(total, data.weight_exponent)
    _check_spread(frame, std_floor)
    z_std, start_x, start_w = _dask.z_std_and_start_sample(data, frame)
    floor = std_floor if data.w is not None else std_floor * z_std  # as in memory
    if draws_starts and np.unique(start_x).size < n_components:
        raise ValueError(f"the sample the starts are drawn from ({start_x.size} values) has fewer than "
                         f"n_components = {n_components} distinct values; pass init=GMMParams(...)")
    chunked = _dask.ChunkedSamples(data, frame, total)
    return _Samples(chunked, None, data.n_kept, frame, floor, start_x, start_w, data.x, False, data.weight_exponent)


def _check_init(init, n_components, n_init):
    """``(D, init, n_init)`` from the arguments; ``init=None`` is the default search (``n_init``
    starts: the quantile start, then k-means++ starts)."""
    if isinstance(init, GMMParams):
        if n_components is None:
            n_components = init.n_components
        n_components = check_positive_int(n_components, "n_components")
        if init.n_components != n_components:
            raise ValueError(
                f"init has {init.n_components} components but n_components = {n_components}"
            )
        if n_init is not None and n_init > 1:
            raise ValueError("n_init > 1 needs a random init strategy, not fixed GMMParams")
        return n_components, init, 1
    if n_components is None:
        raise ValueError("n_components is required unless init is a GMMParams")
    n_components = check_positive_int(n_components, "n_components")
    if init is None:
        return n_components, None, DEFAULT_N_INIT if n_init is None else n_init
    if not isinstance(init, str) or init not in INIT_STRATEGIES:
        raise ValueError(
            f"unknown init strategy {init!r}; choose one of {', '.join(INIT_STRATEGIES)} "
            "or pass a GMMParams"
        )
    n_init = 1 if n_init is None else n_init
    if init == "quantile" and n_init > 1:
        raise ValueError("init='quantile' is deterministic: n_init > 1 would repeat one run")
    return n_components, init, n_init


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


def _start(us, w, n_components, init, rng, frame, floor, equal_variance) -> GMMParams:
    """One starting point θ^{[0]} in the frame z, inside the model EM maximizes over."""
    if isinstance(init, GMMParams):
        start = frame.params_to_z(init, floor)
    else:
        start = frame.params_u_to_z(_initial_params(us, n_components, init, rng, w))
    if equal_variance:
        pooled = np.sqrt(np.sum(start.weights * start.stds**2))
        start = GMMParams(start.weights, start.means, np.full(n_components, pooled))
    if start.stds.min() < floor:
        # θ^{[0]} inside the model the M-step maximizes over (σ ≥ floor): otherwise the
        # first M-step, which floors σ, could lower the log-likelihood.
        start = GMMParams(start.weights, start.means, np.maximum(start.stds, floor))
    return start


#: Runs whose log-likelihoods differ by less than this (relative) are tied: the earlier start
#: wins, so that rounding (a sum in another order, as over Dask's chunks) never picks the winner.
TIE = 1e-9


def _better(r: Run, best: Run) -> bool:
    """Whether ``r`` beats ``best``: not degenerate if ``best`` is, or clearly more likely."""
    if r.degenerate != best.degenerate:
        return best.degenerate
    return r.log_likelihood > best.log_likelihood + TIE * abs(best.log_likelihood)


def _ranked(runs: list[Run]) -> list[Run]:
    """The runs best first (:func:`_better`); of the runs tied with the best, the earliest first."""
    order = sorted(range(len(runs)), key=lambda i: (runs[i].degenerate, -runs[i].log_likelihood))
    first = min(i for i in order if not _better(runs[order[0]], runs[i]))
    return [runs[first]] + [runs[i] for i in order if i != first]


def _continued(short: list[Run], limit: int | None, go_on, n_best: int):
    """The pre-runs ``short`` (ranked best first) that the search runs to convergence, lazily.

    The ``n_best`` most likely go on. With ``limit=None`` (``reject_degenerate``), the next most
    likely go on too, one at a time, while every run that went on degenerated (#24: the one run
    that went on collapsed, and the search said that all 50 had); a degenerate pre-run is not
    continued past ``n_best``, since its flags stay. Else at most ``limit`` (= ``n_best``) go on,
    and one more for each that ended at a saddle its escapes did not leave (at most
    ``SADDLE_RETRIES`` more), while none has ended at a certified maximum.

    Parameters
    ----------
    short : list of Run
        The pre-runs, as :func:`_ranked` orders them (the non-degenerate first).
    limit : int or None
        At most this many go on; None: as many as it takes to end non-degenerate.
    go_on : callable
        ``go_on(run)``: the run continued to convergence.
    n_best : int
        How many go on in any case.

    Yields
    ------
    Run
    """
    clean = False  # a run that went on ended non-degenerate and not at a saddle
    extra = 0  # runs that go on because those before ended at saddles (#30)
    for rank, r in enumerate(short):
        if limit is not None and rank >= limit + extra:
            return
        if rank >= n_best and (clean or r.degenerate):
            return
        done = r if r.converged else go_on(r)
        if done.saddle and not clean:
            extra = min(extra + 1, SADDLE_RETRIES)
        clean = clean or not (done.degenerate or done.saddle)
        yield done


def _best_run(runs, reject_degenerate: bool, n_init: int) -> Run:
    """The run with the highest log-likelihood among the non-degenerate ones (ties: the earliest).

    A degenerate run's likelihood is spurious (unbounded as σ → 0), so it wins only if every
    run degenerated, and not at all with ``reject_degenerate``.
    """
    best = None  # keep only the best run: one (D, N) array in memory, whatever n_init
    for r in runs:
        if reject_degenerate and r.degenerate:
            continue
        if best is None or _better(r, best):
            best = r
    if best is None:
        raise ValueError(
            f"all {n_init} run(s) degenerated (a component collapsed onto a point or emptied); "
            "try more starts (n_init) or fewer components"
        )
    return best


def _result(best: Run, samples: _Samples, tol, max_iter) -> FitResult:
    """The best run mapped back to x, in canonical order, with the warnings it deserves."""
    frame, w = samples.frame, samples.weights
    if isinstance(samples.z, np.ndarray):
        total_weight = samples.size if w is None else float(w.sum())
    else:
        total_weight = samples.z.total_weight
    history = best.history - total_weight * frame.log_scale  # log p(x) = log p(z) - log(2^k s) per sample
    if samples.weight_exponent:
        with np.errstate(over="ignore"):  # beyond a float: the error below
            history = np.ldexp(history, samples.weight_exponent)  # Σ_i w_i log p with the weights given
        check_log_likelihood(float(np.min(history)), weighted=True)  # -inf if any overflowed

    warn_degenerate(best.collapsed, best.empty, samples.floor * frame.std_x, stacklevel=4)
    if best.saddle and best.max_eigenvalue > HESSIAN_TOL:
        warnings.warn(f"EM stopped at a saddle point of the likelihood, not a maximum: the Hessian's largest "
                      f"eigenvalue per sample is {best.max_eigenvalue:.3g} > {HESSIAN_TOL:g}, and restarts "
                      f"along its eigenvector (at most {MAX_ESCAPES}) did not climb; try other starts",
                      ConvergenceWarning, stacklevel=3)
    elif best.saddle:
        warnings.warn(f"EM stopped at a point that is not a strict maximum: the Hessian's largest eigenvalue "
                      f"per sample is {best.max_eigenvalue:.3g}, within {HESSIAN_TOL:g} of 0 (a flat direction: "
                      "coincident components, so a fit with fewer components), and a restart along it did "
                      "not climb; try fewer components or other starts", ConvergenceWarning, stacklevel=3)
    elif tol > 0 and not best.converged:
        # below tol but not converged: max_iter came before the Jacobian check could confirm it
        if not np.isfinite(best.distance):
            why = ("its steps were not shrinking at the end, so the distance to the maximum could not be "
                   "estimated: EM was still far from it, or oscillating")
        elif best.distance >= tol:
            why = f"estimated distance to the maximum {best.distance:.3g} >= tol = {tol:g}"
        else:
            why = (f"the estimated distance {best.distance:.3g} was not confirmed by the stopping rule's "
                   "check before max_iter")
        warnings.warn(f"EM did not converge in {max_iter} iterations ({why})", ConvergenceWarning, stacklevel=3)
    params = frame.params_from_z(best.params)
    order = params.canonical_order()
    history.setflags(write=False)
    se = _standard_errors(best, samples, order)
    return FitResult(
        params=params.permuted(order),
        log_likelihood=float(history[-1]),
        history=history,
        n_iter=best.n_iter,
        converged=best.converged,
        responsibilities=_responsibilities(best, samples, order),
        init_params=frame.params_from_z(best.start),
        max_eigenvalue=best.max_eigenvalue,
        standard_errors=se,
    )


def _standard_errors(best: Run, samples: _Samples, order: np.ndarray) -> StandardErrors:
    """SE of the returned parameters, mapped from the frame z and the scaled weights to x's."""
    d = best.params.n_components
    if best.hessian is None or not best.converged:
        nan = np.full(d, np.nan)
        return StandardErrors(nan, nan.copy(), nan.copy())
    ev = best.hessian.shape[0] != 3 * d - 1  # 2D free coordinates: one shared log σ
    se = standard_errors(best.params, best.hessian, bool(ev))
    # ℓ with the weights given is 2^e times ℓ with the weights scaled: the covariance 2^-e times;
    # means and σ scale with x (2^k s), weights do not.
    # 2^(-e/2) = 2^-(e//2) · 2^-(e%2)/2 (e%2 is 0 or 1): 2^-e itself overflows for e < -1023.
    e = samples.weight_exponent
    shrink = float(np.ldexp(1.0, -(e // 2)) * (np.sqrt(0.5) if e % 2 else 1.0)) if e else 1.0
    spread = samples.frame.std_x
    with np.errstate(over="ignore"):  # an error beyond the largest float is inf, as it is
        return StandardErrors(se.weights[order] * shrink, se.means[order] * shrink * spread,
                              se.stds[order] * shrink * spread)


def _responsibilities(best: Run, samples: _Samples, order: np.ndarray):
    """(N, D) ρ of every sample given, columns in canonical order (lazy for a Dask array)."""
    x_all, zs = samples.x_all, samples.z
    if not isinstance(x_all, np.ndarray):  # a Dask array: computed chunk by chunk when asked for
        from ._dask import responsibilities

        return responsibilities(x_all, samples.frame, best.params.permuted(order))
    if best.resp is not None and samples.keeps_resp:
        resp = best.resp
    else:  # ρ of every sample given (also those removed by a zero weight, or merged by compress)
        resp = _responsibilities_dn(zs if samples.keeps_resp else samples.frame.to_z(x_all), best.params)
    return (resp if np.array_equal(order, np.arange(order.size)) else resp[order]).T
