"""``fit`` on a Dask array: EM as a map-reduce over the chunks of the data.

An EM iteration needs only sums over the samples: the log-likelihood and, per class e,
γ_e, S₁_e = Σ_i ρ_e^{[i]} (x^{[i]} - c_e) and S₂_e = Σ_i ρ_e^{[i]} (x^{[i]} - c_e)² (times w_i
with weights). Sums over all samples are sums of sums over chunks, so each chunk gives its
3D + 1 numbers from one fused pass (:mod:`gmmderive._fused`), the driver adds them in chunk
order, and the M-step follows exactly as in memory (steps F1 and F2,
``gmmderive.mstep.em_update``). No new mathematics, and nothing of size N in the
driver's memory.

Everything that reads the data is a Dask task: the checks of x and of the weights, the
standardized frame, the sample the starts are drawn from, every evaluation of M and the final
log-likelihood. They run on the scheduler that is active: Dask's threads by default, or the
workers of a ``distributed.Client`` if one exists. ``FitResult.responsibilities`` is a lazy
(N, D) Dask array.

Equal to the in-memory fit: the same iteration on the same numbers, summed in another order,
so the same parameters and log-likelihood to rounding (tests/test_dask.py: 1e-12), except
where EM crawls: there rounding differences grow along the path (SQUAREM's extrapolation
divides differences of nearly equal points) and the two fits stop within ``tol`` of the same
fixed point, not always after the same number of evaluations. The starts are drawn from the
samples of weight > 0: all of them while there are at most :data:`START_SAMPLE` (then they
are the starts of the in-memory fit), else every k-th, about ``START_SAMPLE`` of them.

The data are read once per evaluation of M. On a cluster whose memory holds x,
``x = x.persist()`` before ``fit`` keeps the chunks in the workers' memory between iterations.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import dask
import dask.array as da
import numpy as np

from . import weights as sw
from ._engine import engine
from ._hessian import n_free, score_and_hessian_sums
from ._validation import NOTHING_TO_FIT, check_dtype, check_sample_weight, first_bad_weight, weight_error
from .em import Run, short_runs
from .frame import Frame, power_of_two_below, times_power_of_two
from .mstep import em_update
from .params import MIN_STD, GMMParams
from .samples import InMemorySamples, in_memory_samples

#: Starts are drawn from at most about this many values (all of x when it is no larger).
START_SAMPLE = 1 << 20


# --------------------------------------------------------------------------
# Tasks: what each chunk computes (module-level functions, so that workers import them)
# --------------------------------------------------------------------------


def _kept(xc, wc):
    """The chunk's samples that count (weight > 0), as contiguous float64, with their weights."""
    xc = np.ascontiguousarray(xc, dtype=np.float64)
    xc, wc = sw.kept(xc, None if wc is None else np.ascontiguousarray(wc, dtype=np.float64))
    return np.ascontiguousarray(xc), None if wc is None else np.ascontiguousarray(wc)


def _check_chunk(xc, wc, d, offset):
    """What the driver needs to validate x and the weights, and the chunk's first D distinct values."""
    xc = np.asarray(xc, dtype=np.float64)
    out = {"n": xc.size, "bad_x": 0, "bad_w": 0, "neg_w": 0}
    bad = ~np.isfinite(xc)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        out.update(bad_x=int(bad.sum()), first_bad_x=(offset + i, float(xc[i])))
        return out
    if wc is not None:
        wc = np.asarray(wc, dtype=np.float64)
        bad = first_bad_weight(wc)
        if bad is not None:  # the chunk's first non-finite weight, else its first negative one
            kind, i, v = bad
            out.update({"bad_w" if kind == "nan" else "neg_w": (kind, offset + i, v)})
            return out
        out["max_w"] = float(wc.max()) if wc.size else 0.0
        positive = wc[wc > 0]
        out["min_w"] = float(positive.min()) if positive.size else np.inf
    kept, _ = _kept(xc, wc)
    out["n_kept"] = kept.size
    if kept.size:
        lo, hi = float(kept.min()), float(kept.max())
        out.update(first=float(kept[0]), max_abs=max(-lo, hi), distinct=_smallest_distinct(kept, lo, d))
    return out


def _smallest_distinct(values, lo, d):
    """The d smallest distinct values (fewer if there are fewer): d reductions, no sorted copy."""
    found = [lo]
    while len(found) < d:
        nxt = float(np.min(values, where=values > found[-1], initial=np.inf))
        if nxt == np.inf:
            break
        found.append(nxt)
    return np.array(found)


def _moments(values, wc):
    """``(n or Σw, mean, Σ w (v - mean)²)`` of the chunk, for :func:`_merge_moments`."""
    if values.size == 0:
        return 0.0, 0.0, 0.0
    mean = float(values.mean()) if wc is None else float(wc @ values) / float(wc.sum())
    dev = values - mean
    dev *= dev  # in place: one chunk-sized array
    if wc is None:
        return float(values.size), mean, float(dev.sum())
    return float(wc.sum()), mean, float(wc @ dev)


def _u_moments_chunk(xc, wc, k):
    xc, wc = _kept(xc, wc)
    return _moments(times_power_of_two(xc, -k), wc)


def _z_moments_and_sample_chunk(xc, wc, frame, step, offset):
    """The moments of z (for the σ floor), and the samples of weight > 0 numbered 0, step,
    2·step, ... among all such samples (``offset`` of them are in the chunks before)."""
    kept, wk = _kept(xc, wc)
    first = (-offset) % step
    sample = kept[first::step].copy(), None if wk is None else wk[first::step].copy()
    return _moments(frame.to_z(kept), wk), sample


def _sums_chunk(xc, wc, frame, params_list, centers_list):
    """``(K, 4, D)``: for each parameter set, (log-likelihood, γ, S₁, S₂) of the chunk."""
    xc, wc = _kept(xc, wc)
    d = params_list[0].n_components
    out = np.zeros((len(params_list), 4, d))
    if xc.size == 0:
        return out
    z = np.ascontiguousarray(frame.to_z(xc))
    eng = engine()
    for i, (params, centers) in enumerate(zip(params_list, centers_list)):
        ll, gamma, s1, s2 = eng.sufficient_statistics(z, params, centers=centers, sample_weight=wc, max_threads=1)
        out[i, 0, 0], out[i, 1], out[i, 2], out[i, 3] = ll, gamma, s1, s2
    return out


def _hessian_chunk(xc, wc, frame, p: GMMParams, equal_variance: bool):
    """The three sums of :func:`gmmderive._hessian.score_and_hessian_sums` over one chunk, in the frame z."""
    xc, wc = _kept(xc, wc)
    k = n_free(p.n_components, equal_variance)
    if xc.size == 0:
        return 0.0, np.zeros(k), np.zeros((k, k))
    return score_and_hessian_sums(frame.to_z(xc), p, wc, equal_variance)


def _distinct_chunk(xc, wc):
    """The chunk's distinct values (of weight > 0) and their counts (summed weights)."""
    xc, wc = _kept(xc, wc)
    values, inverse = np.unique(xc, return_inverse=True)
    return values, np.bincount(inverse.ravel(), weights=wc, minlength=values.size).astype(np.float64)


def _responsibilities_chunk(xc, frame, params):
    z = np.ascontiguousarray(frame.to_z(np.ascontiguousarray(xc, dtype=np.float64)))
    return np.ascontiguousarray(engine().log_likelihood_and_responsibilities(z, params)[1].T)


# --------------------------------------------------------------------------
# The driver
# --------------------------------------------------------------------------


def _merge_moments(parts):
    """Chan, Golub & LeVeque's pairwise update: (n, mean, M2) of the union of the parts."""
    n, mean, m2 = 0.0, 0.0, 0.0
    for nb, mb, m2b in parts:
        if nb == 0:
            continue
        total = n + nb
        delta = mb - mean
        share = nb / total  # n·nb/total as n·share: no product of two large weights
        mean += delta * share
        m2 += m2b + delta * delta * n * share
        n = total
    return n, mean, m2


@dataclass(frozen=True)
class DaskData:
    """A checked Dask array x (1-D float64) with its weights, and the chunks' task handles."""

    x: da.Array
    w: da.Array | None
    parts: list  # (x chunk, w chunk or None) as Delayed objects, in order
    offsets: np.ndarray  # global index of each chunk's first sample
    # from the first pass (scan):
    n_kept: int = 0  # samples of weight > 0
    kept_per_chunk: list | None = None
    weight_exponent: int = 0  # w here is the weights given divided by 2^weight_exponent
    first_value: float = 0.0
    max_abs: float = 0.0
    distinct: np.ndarray | None = None  # the D smallest distinct values of x (fewer if x has fewer)

    def samples(self, options) -> ChunkedSamples | InMemorySamples:
        """The samples EM runs on (``dask_samples``), for the options of the fit."""
        return dask_samples(self, options)

    def map(self, task, *args, per_chunk=None):
        """``task(x chunk, w chunk, *args[, per_chunk[i]])`` for every chunk, computed at once."""
        extra = [()] * len(self.parts) if per_chunk is None else [(a,) for a in per_chunk]
        delayed = dask.delayed(task)
        return dask.compute(*[delayed(xp, wp, *args, *e) for (xp, wp), e in zip(self.parts, extra)])


def as_dask_data(x, sample_weight) -> DaskData:
    """Check a Dask array's type, dtype and shape (and the weights'), lazily: nothing is computed."""
    if not isinstance(x, da.Array):
        raise ValueError(f"x is a {type(x).__name__} from Dask, not a dask.array; pass a dask.array "
                         "(for a Dask Series: series.to_dask_array(lengths=True))")
    if isinstance(x._meta, np.ma.MaskedArray):
        # The mask would be dropped silently: the masked values would be fitted.
        raise ValueError("x is a masked Dask array: drop the masked values first")
    if not isinstance(x._meta, np.ndarray):
        raise ValueError(f"x is a Dask array of {type(x._meta).__name__} chunks; fit needs NumPy chunks")
    check_dtype(x.dtype, "x")
    if x.ndim == 2:
        if x.shape[1] == 0:  # scikit-learn's wording, as in memory
            raise ValueError(f"x has 0 feature(s) (shape={x.shape}) while a minimum of 1 is required.")
        if x.shape[1] != 1:
            raise ValueError(f"x must be 1-D or a single column of shape (N, 1), got shape {x.shape}")
        x = x[:, 0]
    elif x.ndim != 1:
        raise ValueError(f"x must be 1-D or a single column of shape (N, 1), got {x.ndim}-D")
    if any(np.isnan(c) for c in x.chunks[0]):
        raise ValueError("x has chunks of unknown size; call x.compute_chunk_sizes() first")
    if x.shape[0] == 0:
        raise ValueError("x is empty: at least one sample is needed")
    x = x.astype(np.float64)
    w = None
    if sample_weight is not None and not isinstance(sample_weight, da.Array):
        # in memory: checked as the in-memory fit checks them, then chunked as x
        w = da.from_array(check_sample_weight(sample_weight, x.shape[0]), chunks=x.chunks)
    elif sample_weight is not None:
        w = sample_weight
        if isinstance(w._meta, np.ma.MaskedArray):
            raise ValueError("sample_weight is a masked Dask array: fill or drop the masked weights first")
        if w.dtype.kind == "b":
            raise ValueError("sample_weight holds booleans, not numbers; to select samples, index x with the mask")
        if w.dtype.kind not in "iuf":
            raise ValueError(f"sample_weight must be real numbers, got dtype {w.dtype}")
        if w.ndim == 2 and w.shape[1] == 1:
            w = w[:, 0]
        if w.ndim != 1:
            raise ValueError(f"sample_weight must be 1-D (one weight per sample), got shape {w.shape}")
        if any(np.isnan(c) for c in w.chunks[0]):
            raise ValueError("sample_weight has chunks of unknown size; call sample_weight.compute_chunk_sizes() first")
        if w.shape[0] != x.shape[0]:
            raise ValueError(f"sample_weight has {w.shape[0]} weights for {x.shape[0]} samples")
        w = w.astype(np.float64).rechunk(x.chunks)
    xs = x.to_delayed().ravel().tolist()
    ws = [None] * len(xs) if w is None else w.to_delayed().ravel().tolist()
    offsets = np.concatenate([[0], np.cumsum(x.chunks[0])[:-1]]).astype(np.int64)
    return DaskData(x, w, list(zip(xs, ws)), offsets)


def scan(data: DaskData, n_components: int) -> DaskData:
    """The first pass: the checks of :func:`gmmderive._validation.check_data` and of the weights,
    and what the frame and :func:`check_distinct` need."""
    # the D smallest distinct values (two at least: one would not tell equal data from varied)
    n_distinct = max(n_components, 2)
    checks = data.map(_check_chunk, n_distinct, per_chunk=[int(o) for o in data.offsets])
    bad_x = sum(c["bad_x"] for c in checks)
    if bad_x:
        i, v = next(c["first_bad_x"] for c in checks if c["bad_x"])
        raise ValueError(f"x contains {bad_x} non-finite value(s) (NaN or ±inf); the first is {v!r} at index {i}")
    for key in ("bad_w", "neg_w"):  # a non-finite weight anywhere first, as in memory
        bad = next((c[key] for c in checks if c[key]), None)
        if bad is not None:
            raise weight_error(*bad)
    kept = [c for c in checks if c["n_kept"]]
    if not kept:
        raise ValueError(NOTHING_TO_FIT)
    distinct = np.unique(np.concatenate([c["distinct"] for c in kept]))[:n_distinct]
    if data.w is not None:  # the largest weight below 1, exactly as in memory (gmmderive.weights.scale)
        e = sw.exponent(max(c["max_w"] for c in checks))
        if e:
            w = data.w.map_blocks(sw.scaled, e, dtype=np.float64)
            parts = list(zip([xp for xp, _ in data.parts], w.to_delayed().ravel().tolist()))
            data = replace(data, w=w, parts=parts, weight_exponent=e)
            if np.ldexp(min(c["min_w"] for c in checks), -e) == 0:
                # Some weights are 0 once scaled (2^1074 times below the largest), and count
                # nothing: as in memory, they are removed; the scan again says which samples count.
                return scan(data, n_components)
    return replace(data, n_kept=sum(c["n_kept"] for c in kept), kept_per_chunk=[c["n_kept"] for c in checks],
                   first_value=kept[0]["first"], max_abs=max(c["max_abs"] for c in kept), distinct=distinct)


def check_distinct(data: DaskData, n_components: int) -> None:
    """As :func:`gmmderive._validation.check_distinct`, from the first pass's D smallest distinct values."""
    if data.distinct.size == 1:
        raise ValueError(f"all {data.n_kept} values of x are equal ({data.first_value!r}): "
                         "a Gaussian needs a spread (σ > 0)")
    if n_components > data.distinct.size:
        raise ValueError(f"n_components = {n_components} is greater than the number of distinct values "
                         f"of x ({data.distinct.size})")


def frame_of(data: DaskData):
    """``(frame, total weight)``: the standardized frame (:class:`gmmderive.frame.Frame`) of the
    data and N (Σ_i w_i with weights), from one more pass."""
    k = power_of_two_below(data.max_abs)
    n, mean, m2 = _merge_moments(data.map(_u_moments_chunk, k))
    return Frame(k, mean, float(np.sqrt(m2 / n))), n


def z_std_and_start_sample(data: DaskData, frame):
    """std(z) (for the unweighted σ floor), and the sample the starts are drawn from and its weights."""
    step = max(1, -(-data.n_kept // START_SAMPLE))
    kept_offsets = np.concatenate([[0], np.cumsum(data.kept_per_chunk)[:-1]])
    results = data.map(_z_moments_and_sample_chunk, frame, step, per_chunk=[int(o) for o in kept_offsets])
    n, _, m2 = _merge_moments([r[0] for r in results])
    sample_x = np.concatenate([r[1][0] for r in results])
    sample_w = None if data.w is None else np.concatenate([r[1][1] for r in results])
    return float(np.sqrt(m2 / n)), sample_x, sample_w


def distinct_values(data: DaskData):
    """The distinct values of x (weight > 0) and their counts (summed weights): ``compress``."""
    parts = data.map(_distinct_chunk)
    values, inverse = np.unique(np.concatenate([p[0] for p in parts]), return_inverse=True)
    counts = np.bincount(inverse.ravel(), weights=np.concatenate([p[1] for p in parts]), minlength=values.size)
    return values, counts


def responsibilities(x: da.Array, frame, params: GMMParams) -> da.Array:
    """The lazy (N, D) responsibilities of ``params`` (in the frame z) for the samples of ``x``."""
    return da.map_blocks(_responsibilities_chunk, x, frame, params, dtype=np.float64, new_axis=1,
                         chunks=(x.chunks[0], (params.n_components,)), meta=np.empty((0, 0)))


class ChunkedSamples:
    """The data in the frame z, chunked: the samples protocol (:mod:`gmmderive.samples`) over Dask.

    Each evaluation of M is one Dask computation: a fused pass per chunk, its sums added here in
    chunk order, then the one M-step (:func:`gmmderive.mstep.em_update`).
    """

    keeps_resp = False  # a run's ρ is never kept: the result's is a lazy Dask array

    def __init__(self, data: DaskData, frame: Frame, total_weight: float, floor: float, start_x, start_w):
        self._data = data
        self.frame = frame
        self.total_weight = total_weight  # N, or Σ_i w_i
        self.size = data.n_kept
        self.floor = floor
        self.start_x, self.start_w = start_x, start_w
        self.weight_exponent = data.weight_exponent

    def sums(self, params_list, centers_list=None) -> np.ndarray:
        """``(K, 4, D)``: the sums of every chunk, added in chunk order."""
        centers_list = [p.means for p in params_list] if centers_list is None else centers_list
        parts = self._data.map(_sums_chunk, self.frame, list(params_list), list(centers_list))
        total = parts[0].copy()
        for p in parts[1:]:
            total += p
        return total

    def _sums_about(self, params):
        def about(centers):
            s = self.sums([params], [centers])[0]
            return float(s[0, 0]), s[1], s[2], s[3]
        return about

    def em_iteration(self, params: GMMParams, *, std_floor: float, equal_variance: bool):
        return em_update(self._sums_about(params), params, self.total_weight, std_floor=std_floor,
                         equal_variance=equal_variance)

    def final_pass(self, params: GMMParams, keep_resp: bool):
        return float(self.sums([params])[0, 0, 0]), None

    def hessian_sums(self, params: GMMParams, equal_variance: bool):
        """The certificate's sums: one Dask pass, the chunks' sums added in chunk order as EM's are."""
        parts = self._data.map(_hessian_chunk, self.frame, params, equal_variance)
        ll, grad, hess = parts[0][0], parts[0][1].copy(), parts[0][2].copy()
        for part in parts[1:]:
            ll += part[0]
            grad += part[1]
            hess += part[2]
        return ll, grad, hess

    def responsibilities(self, params: GMMParams, order: np.ndarray, resp=None) -> da.Array:
        return responsibilities(self._data.x, self.frame, params.permuted(order))

    def pre_runs(self, starts, n_iter: int, *, std_floor: float, equal_variance: bool) -> list[Run]:
        """Plain EM from K starts at once: one pass over the chunks per iteration for all of them.

        As :func:`gmmderive.em.batch_em` (the default search's pre-runs in memory), whose runs it
        equals to rounding.
        """
        k, d = len(starts), starts[0].n_components
        current = list(starts)
        history = np.empty((k, n_iter + 1))
        collapsed = np.zeros((k, d), dtype=bool)
        empty = np.zeros((k, d), dtype=bool)
        failed = np.zeros(k, dtype=bool)
        for it in range(n_iter + 1):
            live = [i for i in range(k) if not failed[i]]
            if not live:
                break
            sums = self.sums([current[i] for i in live])
            history[live, it] = sums[:, 0, 0]
            if it == n_iter:
                break
            for j, i in enumerate(live):
                s = sums[j]
                try:
                    _, current[i], col, emp = em_update(
                        self._sums_about(current[i]), current[i], self.total_weight, std_floor=std_floor,
                        equal_variance=equal_variance, sums=(float(s[0, 0]), s[1], s[2], s[3]))
                except ValueError:  # σ below the smallest float (std_floor=0): as batch_em, it stops
                    failed[i] = True
                    continue
                collapsed[i] |= col
                empty[i] |= emp
        ends = [None if failed[i] or not np.isfinite(history[i]).all() or not (p.stds >= MIN_STD).all() else p
                for i, p in enumerate(current)]
        return short_runs(starts, ends, history, collapsed, empty, n_iter)


class DistinctValues(InMemorySamples):
    """``compress`` of a Dask array: EM on its distinct values in memory; ρ of every sample lazy."""

    def responsibilities(self, params: GMMParams, order: np.ndarray, resp=None) -> da.Array:
        return responsibilities(self.x_all, self.frame, params.permuted(order))


def dask_samples(data: DaskData, options):
    """The samples of a Dask array (:meth:`DaskData.samples`): chunked, or its distinct values.

    The starts are drawn (unless ``init`` is a :class:`GMMParams`) from the samples of weight > 0
    if there are at most ``START_SAMPLE`` of them, else from every k-th of them, about
    ``START_SAMPLE`` in all.
    """
    n_components, std_floor = options.n_components, options.std_floor
    data = scan(data, n_components)
    if options.compress:  # EM on the distinct values, in memory; ρ of every sample stays lazy
        values, counts = distinct_values(data)  # counts of the weights the scan scaled
        return in_memory_samples(values, counts, False, n_components, std_floor, resp_of=data.x,
                                 weight_exponent=data.weight_exponent, kind=DistinctValues)
    check_distinct(data, n_components)
    frame, total = frame_of(data)
    if data.w is not None:
        sw.check_total(total, data.weight_exponent)
    frame.check_spread(std_floor)
    z_std, start_x, start_w = z_std_and_start_sample(data, frame)
    floor = std_floor if data.w is not None else std_floor * z_std  # as in memory
    if not isinstance(options.init, GMMParams) and np.unique(start_x).size < n_components:
        raise ValueError(f"the sample the starts are drawn from ({start_x.size} values) has fewer than "
                         f"n_components = {n_components} distinct values; pass init=GMMParams(...)")
    return ChunkedSamples(data, frame, total, floor, start_x, start_w)
