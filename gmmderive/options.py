"""The options of :func:`gmmderive.fit`, checked once: the first stage of the fit."""

from __future__ import annotations

from dataclasses import dataclass

from ._validation import check_bool, check_nonnegative_float, check_positive_int
from .params import GMMParams

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


@dataclass(frozen=True)
class FitOptions:
    """Every option of :func:`gmmderive.fit`, checked, with the defaults that depend on others filled in.

    ``init`` is None (the default search), a strategy name or a :class:`GMMParams`; ``n_init``
    is the number of starts; ``pre_iter`` 0 runs every start to the end. ``seed`` is checked
    where the starts are drawn (:mod:`gmmderive.starts`).
    """

    n_components: int
    init: object
    n_init: int
    max_iter: int
    tol: float
    std_floor: float
    equal_variance: bool
    pre_iter: int
    n_best: int
    reject_degenerate: bool
    compress: bool
    accelerate: bool
    seed: object

    @classmethod
    def of(cls, n_components, *, init, max_iter, tol, n_init, seed, std_floor, equal_variance, pre_iter, n_best,
           reject_degenerate, compress, accelerate) -> FitOptions:
        """The options as :func:`gmmderive.fit` takes them; a ``ValueError`` names a bad one."""
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
        n_components, init, n_init = check_init(init, n_components, n_init)
        if pre_iter is None:  # the default search screens its starts; a chosen strategy runs each to the end
            pre_iter = DEFAULT_PRE_ITER if init is None and n_init > 1 else 0
        return cls(n_components, init, n_init, max_iter, tol, std_floor, equal_variance, pre_iter, n_best,
                   reject_degenerate, compress, accelerate, seed)

    @property
    def strategies(self) -> list:
        """Where each start comes from: ``init`` ``n_init`` times, or the default search's list."""
        if self.init is not None:
            return [self.init] * self.n_init
        return ["quantile"] + ["kmeans++"] * (self.n_init - 1)

    @property
    def screens(self) -> bool:
        """Whether every start is pre-run for ``pre_iter`` evaluations and only the best go on."""
        return bool(self.pre_iter and self.n_init > 1 and self.pre_iter < self.max_iter)


def check_init(init, n_components, n_init):
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
