"""Fitting a univariate GMM by EM: initialization, the iteration, restarts.

The stopping rule
-----------------
EM stops when its parameters are within ``tol`` (default ``1e-8``) of the fixed point it
converges to: the largest error of a weight, or of a mean or standard deviation in units of
the data's standard deviation, so ``tol`` means the same for data of any scale or size. The
error is estimated from the size of the last step and EM's rate of convergence, and confirmed
with the Jacobian of the EM map (:mod:`gmmderive.em`). A small change of the
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
same iteration as one compiled pass over the data (:mod:`gmmderive._fused`) that gives the
sufficient statistics, and the M-step from them is the one :func:`~gmmderive.m_step` calls
(:mod:`gmmderive.mstep`); equal to them to rounding (tested). For N ≥ 131,072 the pass is
split between the available cores; the environment variable ``GMMDERIVE_NUM_THREADS`` caps
their number. The result is bit for bit the same for any number of threads.

Weighted data
-------------
``sample_weight`` makes sample i count w_i times (counts of repeated values, histogram bins,
survey weights): every sum over samples in the E- and M-step is weighted (chapter 21 of the
book), N becomes Σ_i w_i, and the log-likelihood is Σ_i w_i log p(x^{[i]}; θ). Integer
weights give the fit of the data with each sample repeated w_i times; a zero weight removes
its sample; weights scaled by a constant give the same parameters (the stopping rule measures
the parameters, not the log-likelihood, so it is the same for them). Weights of any magnitude are
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
:mod:`gmmderive._dask`: the samples protocol of :mod:`gmmderive.samples` over the chunks).
The checks, the frame, the starts (drawn from all of x up to 2²⁰
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

The stages
----------
:func:`fit` is a list of stages, one module each (ARCHITECTURE.md): the options
(:mod:`gmmderive.options`), the samples (:mod:`gmmderive.samples`, or :mod:`gmmderive._dask`),
the starts (:mod:`gmmderive.starts`), the runs (:mod:`gmmderive.runs`, each one
:func:`gmmderive.em.run_em`), the selection (:mod:`gmmderive.selection`) and the result
(:mod:`gmmderive.result`).

Order of components
-------------------
Results are in canonical order: components sorted by mean (ties by standard
deviation, then weight), so equal fits compare equal whatever the labels EM
happened to use (the D! label-switched maxima are one answer).
"""

from __future__ import annotations

import numpy as np

from ._validation import check_data, check_positive_int
from .data import checked_data
from .options import (  # noqa: F401  (the defaults, as gmmderive.fit has always named them)
    DEFAULT_MAX_ITER,
    DEFAULT_N_INIT,
    DEFAULT_PRE_ITER,
    DEFAULT_SEED,
    DEFAULT_STD_FLOOR,
    DEFAULT_TOL,
    INIT_STRATEGIES,
    FitOptions,
)
from .params import GMMParams
from .result import ConvergenceWarning, FitResult, fit_result  # noqa: F401  (public: gmmderive.FitResult)
from .runs import runs_of
from .selection import best_run
from .starts import initial_params, starting_points  # noqa: F401  (public: gmmderive.initial_params)


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
        as estimated by the stopping rule (:mod:`gmmderive.em`: the size of
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
        The returned run hit ``max_iter`` with ``tol > 0``, or stopped at a saddle point.
    """
    data = checked_data(x, sample_weight)  # a Dask array: checked lazily, scanned with the samples
    options = FitOptions.of(n_components, init=init, max_iter=max_iter, tol=tol, n_init=n_init, seed=seed,
                            std_floor=std_floor, equal_variance=equal_variance, pre_iter=pre_iter, n_best=n_best,
                            reject_degenerate=reject_degenerate, compress=compress, accelerate=accelerate)
    samples = data.samples(options)
    starts = starting_points(samples, options)
    runs = runs_of(samples, starts, options)  # lazily: the selection asks for them
    best = best_run(runs, options.reject_degenerate, options.n_init)
    return fit_result(best, samples, options)
