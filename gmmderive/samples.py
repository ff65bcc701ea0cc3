"""The samples protocol: what EM runs on, whatever kind of data it is.

One object per kind of data owns the frame (z = (x / 2^k - m) / s), the weights (checked,
scaled by 2^-e and without their zeros), the sample the starts are drawn from and the total
weight W, and answers every question the stages of :func:`gmmderive.fit` ask of the data:

=================================================  ==================================================
``sums(params_list, centers_list=None)``           (K, 4, D): for each parameter set the
                                                   log-likelihood and γ, S₁, S₂ about the centres
                                                   (default: its means), all from one pass
``em_iteration(params, *, std_floor, ...)``        ``(ll, M(params), collapsed, empty)``: the engine's
                                                   sums and the one M-step (:mod:`gmmderive.mstep`)
``pre_runs(starts, n_iter, *, std_floor, ...)``    plain EM from every start, sharing the passes
``final_pass(params, keep_resp)``                  ``(ll, (D, N) ρ or None)`` after a run
``hessian_sums(params, equal_variance)``           the certificate's (ll, score, Hessian) sums
``responsibilities(params, order, resp)``          ρ of every sample given, (N, D), columns in
                                                   ``order`` (lazy for a Dask array)
=================================================  ==================================================

and the attributes ``frame``, ``floor`` (the σ floor in z), ``start_x`` / ``start_w``, ``size``,
``total_weight`` and ``weight_exponent`` (the weights given are those here times 2^e).

:class:`InMemorySamples` (NumPy arrays; the engine of :mod:`gmmderive._engine`: numba's fused
pass or NumPy) and :class:`gmmderive._dask.ChunkedSamples` (a Dask array, each pass a Dask
computation) implement it. :func:`gmmderive.data.checked_data` is the one place that looks at
the type of x; a new kind of data (a GPU array) is a new class with these methods and a branch
there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from . import weights as sw
from ._engine import engine
from ._hessian import score_and_hessian_sums
from ._validation import check_distinct
from .em import Run, batch_em, run_em
from .frame import Frame
from .params import GMMParams

#: In-memory starts are pre-run together (arrays of K x D x N) while that many numbers stay small.
BATCH_SIZE = 1 << 20


class Samples(Protocol):
    """The samples protocol (the module docstring); implemented by :class:`InMemorySamples` and
    :class:`gmmderive._dask.ChunkedSamples`."""

    frame: Frame
    floor: float
    start_x: np.ndarray
    start_w: np.ndarray | None
    size: int
    total_weight: float
    weight_exponent: int

    def sums(self, params_list, centers_list=None) -> np.ndarray: ...

    def em_iteration(self, params: GMMParams, *, std_floor: float, equal_variance: bool): ...

    def pre_runs(self, starts, n_iter: int, *, std_floor: float, equal_variance: bool) -> list[Run]: ...

    def final_pass(self, params: GMMParams, keep_resp: bool): ...

    def hessian_sums(self, params: GMMParams, equal_variance: bool): ...

    def responsibilities(self, params: GMMParams, order: np.ndarray, resp=None): ...


@dataclass(frozen=True, eq=False)
class InMemorySamples:
    """The samples in the frame z in memory (zero weights removed, merged by ``compress``)."""

    z: np.ndarray  # (N,) in the frame
    sample_weight: np.ndarray | None  # of z (None: all 1), scaled by 2^-weight_exponent
    frame: Frame
    floor: float  # the σ floor in the frame z
    start_x: np.ndarray  # the samples the starts are drawn from (all of them)
    start_w: np.ndarray | None
    x_all: np.ndarray  # the data given: ρ is computed for every sample
    keeps_resp: bool  # z is x_all in its order (none removed or merged): a run's ρ is x_all's
    weight_exponent: int = 0  # the weights given are the weights here times 2^weight_exponent
    batch_size: int = BATCH_SIZE  # pre-runs in one array while K·D·N is at most this
    total_weight: float = field(init=False)

    def __post_init__(self):
        w = self.sample_weight
        object.__setattr__(self, "total_weight", self.z.size if w is None else float(w.sum()))

    @property
    def engine(self):
        """fit's engine (:func:`gmmderive._engine.engine`), chosen at the first pass and kept.

        Not in ``__post_init__``: the first choice may warn (no numba), and the warning points
        at the first frame outside gmmderive, which dataclass's generated ``__init__`` would be.
        """
        eng = self.__dict__.get("_engine")
        if eng is None:
            eng = engine()
            object.__setattr__(self, "_engine", eng)
        return eng

    @property
    def size(self) -> int:
        return self.z.size

    def sums(self, params_list, centers_list=None) -> np.ndarray:
        centers_list = [None] * len(params_list) if centers_list is None else centers_list
        w = self.sample_weight
        return np.array([_as_rows(self.engine.sufficient_statistics(self.z, p, centers=c, sample_weight=w))
                         for p, c in zip(params_list, centers_list)])

    def em_iteration(self, params: GMMParams, *, std_floor: float, equal_variance: bool):
        return self.engine.em_iteration(self.z, params, std_floor=std_floor, equal_variance=equal_variance,
                                     sample_weight=self.sample_weight)

    def pre_runs(self, starts, n_iter: int, *, std_floor: float, equal_variance: bool) -> list[Run]:
        """Plain EM from every start: in one array on small data, else one by one (the same iterations)."""
        if len(starts) * starts[0].n_components * self.size <= self.batch_size:
            return batch_em(self.z, starts, n_iter, std_floor=std_floor, equal_variance=equal_variance,
                            sample_weight=self.sample_weight)
        return [run_em(self, p, max_iter=n_iter, tol=0.0, std_floor=std_floor, equal_variance=equal_variance,
                       accelerate=False, keep_resp=False) for p in starts]

    def final_pass(self, params: GMMParams, keep_resp: bool):
        if keep_resp:  # the last pass writes ρ
            return self.engine.log_likelihood_and_responsibilities(self.z, params, self.sample_weight)
        return self.engine.sufficient_statistics(self.z, params, sample_weight=self.sample_weight)[0], None

    def hessian_sums(self, params: GMMParams, equal_variance: bool):
        return score_and_hessian_sums(self.z, params, self.sample_weight, equal_variance)

    def responsibilities(self, params: GMMParams, order: np.ndarray, resp=None):
        """(N, D) ρ of every sample given, columns in ``order``; ``resp`` (D, N) if a run kept it."""
        if resp is None or not self.keeps_resp:  # also the samples removed by a zero weight, or merged
            z = self.z if self.keeps_resp else self.frame.to_z(self.x_all)
            resp = self.engine.log_likelihood_and_responsibilities(z, params)[1]
        return (resp if np.array_equal(order, np.arange(order.size)) else resp[order]).T


def _as_rows(sums) -> np.ndarray:
    """(log-likelihood, γ, S₁, S₂) as the (4, D) rows of :meth:`Samples.sums` (ll in [0, 0])."""
    ll, gamma, s1, s2 = sums
    out = np.zeros((4, gamma.size))
    out[0, 0], out[1], out[2], out[3] = ll, gamma, s1, s2
    return out


def merged(xs: np.ndarray, w, compress: bool):
    """The samples EM sums over, with their weights (None: all 1).

    A zero weight removes its sample; ``compress`` merges equal values into one with the
    sum of their weights (their count, without weights).
    """
    xs, w = sw.kept(xs, w)
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


def in_memory_samples(x_all, w_all, compress: bool, n_components: int, std_floor: float, resp_of=None,
                      weight_exponent: int = 0, kind=None) -> InMemorySamples:
    """The samples EM runs on (zero weights removed, merged by ``compress``) in the frame z.

    ``w_all`` are the weights given divided by 2^``weight_exponent`` (a Dask array's scan has
    scaled them already; its compress comes here with the counts of the distinct values, and
    ``resp_of`` the Dask array whose responsibilities the fit returns, ``kind`` the class).
    """
    # Scaled before the zeros are removed: a weight below 2^-1074 times the largest is 0 once
    # scaled, and counts nothing in any sum; kept, it could be a start's only member (#24).
    w, exponent = sw.scale(w_all)
    xs, w = merged(x_all, w, compress)
    if w is not None:
        sw.check_total(float(w.sum()), weight_exponent + exponent)
    check_distinct(xs, n_components)
    # EM runs in the standardized frame z (see Frame); results are mapped back to x.
    frame = Frame.of(xs, w)
    frame.check_spread(std_floor)
    zs = frame.to_z(xs)
    floor = std_floor  # a fraction of the spread, as documented: the (weighted) std of z is 1
    if w is None:
        floor = std_floor * float(zs.std())
    aligned = xs is x_all and resp_of is None  # not sorted by compress, none removed (a same size is not enough)
    return (kind or InMemorySamples)(zs, w, frame, floor, xs, w, x_all if resp_of is None else resp_of, aligned,
                           weight_exponent + exponent)
