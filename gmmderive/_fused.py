"""One EM iteration as a single compiled pass over the data: the engine of :func:`~gmmderive.fit`.

:func:`~gmmderive.e_step` and :func:`~gmmderive.m_step` follow the lecture one quantity at a
time; each quantity is a NumPy sweep over an N x D array, about fifteen sweeps per iteration.
``fit`` runs the iteration hundreds of times, so here the same iteration is one loop (compiled
by numba) over blocks of :data:`BLOCK` samples that stay in the L1 cache. For each block it
forms the log-joint, its log-sum-exp, the responsibilities ρ and, per class e, the three sums

    γ_e = Σ_i ρ_e^{[i]},   S₁_e = Σ_i ρ_e^{[i]} (x^{[i]} - c_e),   S₂_e = Σ_i ρ_e^{[i]} (x^{[i]} - c_e)²

about centres c_e (the current means). Nothing of size N x D is stored. The M-step follows
exactly: μ_e = c_e + S₁_e / γ_e and Σ_i ρ_e^{[i]} (x^{[i]} - μ_e)² = S₂_e - S₁_e² / γ_e
(steps F1 and F2 of ``gmmderive.symbolic``, proven in chapter 14 of the book). With
c_e the old mean this is the two-pass form of the lecture's σ update plus a small exact
correction (the "corrected two-pass" sum); only if μ_e moved many σ_e does the correction
cancel, and then a second pass about the new means gives the two-pass sum itself.

The exponential is computed here rather than by libm so that the compiler can vectorize it:
exp(t) = 2^k · p(r), t = k ln 2 + r, -ln(2)/2 ≤ r ≤ ln(2)/2, with p the degree-11 polynomial
interpolating exp at the Chebyshev nodes of that interval (truncation error 4e-18, so about
1 ulp in all); 2^k is assembled from bits. Arguments t ≤ -708 give 0 (the true value is a
subnormal below 3e-308, and it multiplies terms of size ≥ 1).

The blocks are split between threads (the GIL is released) when N is large; every block
writes its own partial sums, which are added in block order, so the result does not depend
on the number of threads. ``GMMDERIVE_NUM_THREADS`` caps the thread count.

Tests: ``tests/test_fused.py`` checks this against the NumPy ``e_step``/``m_step``.
"""

from __future__ import annotations

import math
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numba as nb
import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

from .core import log_joint_terms
from .mstep import em_update
from .params import GMMParams

_log_joint_terms = log_joint_terms  # the name benchmarks/bench_summation_order.py reads

#: Samples per block: for a few classes, the D x BLOCK log-joints stay in the L1 cache.
BLOCK = 1024
#: A thread gets at least this many blocks (65,536 samples), so a second thread starts at
#: N = 131,072, where it begins to pay: there one pass took 0.54-0.66 ms on one thread and
#: 0.40-0.48 ms on two (two runs).
MIN_BLOCKS_PER_THREAD = 64

# Compiler options. error_model="numpy": division by zero gives inf instead of a Python
# exception check in the loop (which blocks vectorization). Only the loops that sum may be
# reassociated ("reassoc"): the exponential's range reduction must be evaluated as written.
def _cache_probe():
    return 0


def _can_cache() -> bool:
    """Whether numba finds a writable cache location (not so for a read-only package and HOME)."""
    try:
        nb.njit(cache=True)(_cache_probe)
    except RuntimeError:  # "cannot cache function ...: no locator available"
        return False
    return True


#: Without a writable cache location, compile on every import instead of failing (#14).
CACHE = _can_cache()
NAME = "numba"

_JIT = dict(nogil=True, cache=CACHE, error_model="numpy")
_AS_WRITTEN = dict(_JIT, fastmath={"contract"})
_SUMS = dict(_JIT, fastmath={"contract", "reassoc"})


# --------------------------------------------------------------------------
# A vectorizable exponential
# --------------------------------------------------------------------------


@intrinsic
def _bits_as_float(typingctx, bits):
    """Reinterpret the bits of an int64 as a float64 (no conversion)."""
    if bits != types.int64:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())

    return types.float64(types.int64), codegen


@intrinsic
def _float_as_bits(typingctx, value):
    """Reinterpret the bits of a float64 as an int64 (no conversion)."""
    if value != types.float64:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(64))

    return types.int64(types.float64), codegen


_LOG2E = 1.4426950408889634
# ln 2 split in two (Cody and Waite): k · _LN2_HI is exact for |k| < 2^20.
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
# Adding 1.5 · 2^52 rounds to an integer and leaves it in the low bits of the mantissa; no
# float-to-int conversion, which AVX2 cannot vectorize.
_ROUND = 6755399441055744.0
_ROUND_BITS = 0x4338000000000000
_EXP_MIN = -708.0  # exp(-708) = 3.3e-308, the smallest argument whose 2^k is normal
# exp(r) on [-ln2/2, ln2/2]: the degree-11 interpolant at the Chebyshev nodes (computed with
# mpmath at 50 digits; tests/test_fused.py checks the accuracy of the result).
_P0 = 1.0
_P1 = 1.0
_P2 = 0.5000000000000019
_P3 = 0.1666666666666668
_P4 = 0.0416666666664881
_P5 = 0.008333333333319601
_P6 = 0.0013888888952314775
_P7 = 0.00019841269890047113
_P8 = 2.4801485482328494e-05
_P9 = 2.755724091857897e-06
_P10 = 2.763263963904103e-07
_P11 = 2.5110037605963777e-08


@nb.njit(inline="always", **_AS_WRITTEN)
def exp(t):
    """exp(t) for t ≤ 0, within about 1 ulp; 0 for t ≤ -708 (and for -inf)."""
    u = t if t > _EXP_MIN else _EXP_MIN
    rounded = u * _LOG2E + _ROUND
    k = rounded - _ROUND  # round(u / ln 2), as a float
    r = (u - k * _LN2_HI) - k * _LN2_LO
    p = _P11
    p = p * r + _P10
    p = p * r + _P9
    p = p * r + _P8
    p = p * r + _P7
    p = p * r + _P6
    p = p * r + _P5
    p = p * r + _P4
    p = p * r + _P3
    p = p * r + _P2
    p = p * r + _P1
    p = p * r + _P0
    two_k = _bits_as_float((_float_as_bits(rounded) - _ROUND_BITS + 1023) << 52)
    return p * two_k if t > _EXP_MIN else 0.0


# --------------------------------------------------------------------------
# One block of samples
# --------------------------------------------------------------------------
# Indices into the data are unsigned: numba then emits no negative-index wraparound, and the
# loops vectorize. Blocks index the shared arrays directly rather than through views, whose
# reference counts the threads would contend for.


@nb.njit(**_AS_WRITTEN)
def _log_joint_block(x, j0, n, means, scale, const, log_joint, shift):
    """log_joint[c, j] = log π_c + log N(x^{[j0+j]}; μ_c, σ_c); shift[j] = max over c."""
    for j in range(n):
        shift[j] = -np.inf
    for c in range(means.size):
        mu = means[c]
        sc = scale[c]
        k = const[c]
        row = log_joint[c]
        for j in range(n):
            z = (x[j0 + j] - mu) * sc
            v = k - z * z
            row[j] = v
            shift[j] = v if v > shift[j] else shift[j]


@nb.njit(**_AS_WRITTEN)
def _exp_block(n, log_joint, shift, total):
    """In place: log_joint → exp(log_joint - shift) (ρ̃ up to the factor exp(shift)); total = Σ_c."""
    for j in range(n):
        total[j] = 0.0
    for c in range(log_joint.shape[0]):
        row = log_joint[c]
        for j in range(n):
            e = exp(row[j] - shift[j])
            row[j] = e
            total[j] += e


@nb.njit(**_SUMS)
def _log_likelihood_block(n, shift, total, run):
    """Σ_j (shift[j] + log total[j]); total → 1 / total in place.

    total ∈ [1, D], so a product of ``run`` of them stays finite: one log per run.
    """
    ll = 0.0
    for j in range(n):
        ll += shift[j]
    for j0 in range(np.uint64(0), n, run):
        stop = j0 + run
        if stop > n:
            stop = n
        prod = 1.0
        for j in range(j0, stop):
            prod *= total[j]
        ll += math.log(prod)
    for j in range(n):
        total[j] = 1.0 / total[j]
    return ll


@nb.njit(**_SUMS)
def _log_likelihood_block_w(w, j0, n, shift, total):
    """Σ_j w_j (shift[j] + log total[j]); total → 1 / total in place (weighted samples)."""
    ll = 0.0
    for j in range(n):
        wj = w[j0 + j]
        if wj > 0.0:  # a zero weight removes its sample, whatever its density
            ll += wj * (shift[j] + math.log(total[j]))
        total[j] = 1.0 / total[j]
    return ll


@nb.njit(inline="always", **_AS_WRITTEN)
def _store_class(c, g, s1, s2, row, inv_total, j0, n, part, b, resp_out, write_resp):
    """part[b] = (γ, S₁, S₂) of class c; its ρ = row · inv_total into resp_out if asked."""
    part[b, 1, c] = g
    part[b, 2, c] = s1
    part[b, 3, c] = s2
    if write_resp:
        cu = np.uint64(c)
        for j in range(n):
            resp_out[cu, j0 + j] = row[j] * inv_total[j]


@nb.njit(**_SUMS)
def _sums_block_w(x, w, j0, n, centers, scaled, inv_total, part, b, resp_out, write_resp):
    """As :func:`_sums_block`, each sample's ρ counted w_i times in γ, S₁ and S₂."""
    for c in range(centers.size):
        center, row = centers[c], scaled[c]
        g, s1, s2 = 0.0, 0.0, 0.0
        for j in range(n):
            wr = row[j] * inv_total[j] * w[j0 + j]
            d = x[j0 + j] - center
            g += wr
            s1 += wr * d
            s2 += wr * d * d
        _store_class(c, g, s1, s2, row, inv_total, j0, n, part, b, resp_out, write_resp)


@nb.njit(**_SUMS)
def _sums_block(x, j0, n, centers, scaled, inv_total, part, b, resp_out, write_resp):
    """ρ = scaled · inv_total per class; part[b] += (γ, S₁, S₂) about ``centers``."""
    for c in range(centers.size):
        center, row = centers[c], scaled[c]
        g, s1, s2 = 0.0, 0.0, 0.0
        for j in range(n):
            r = row[j] * inv_total[j]
            d = x[j0 + j] - center
            g += r
            s1 += r * d
            s2 += r * d * d
        _store_class(c, g, s1, s2, row, inv_total, j0, n, part, b, resp_out, write_resp)


@nb.njit(**_JIT)
def _blocks(x, w, weighted, means, scale, const, centers, first, stop, run, part, resp_out, write_resp):
    """Blocks ``first`` .. ``stop - 1``: part[b] = (log-likelihood, γ, S₁, S₂) of block b.

    ``weighted``: sample i counts ``w[i]`` times (otherwise ``w`` is not read).
    """
    d = means.size
    log_joint = np.empty((d, BLOCK))
    shift = np.empty(BLOCK)
    total = np.empty(BLOCK)
    for b in range(first, stop):
        j0 = np.uint64(b * BLOCK)
        n = np.uint64(min(BLOCK, x.size - b * BLOCK))
        _log_joint_block(x, j0, n, means, scale, const, log_joint, shift)
        _exp_block(n, log_joint, shift, total)
        if weighted:
            part[b, 0, 0] = _log_likelihood_block_w(w, j0, n, shift, total)
            _sums_block_w(x, w, j0, n, centers, log_joint, total, part, b, resp_out, write_resp)
        else:
            part[b, 0, 0] = _log_likelihood_block(n, shift, total, run)
            _sums_block(x, j0, n, centers, log_joint, total, part, b, resp_out, write_resp)


# --------------------------------------------------------------------------
# The iteration
# --------------------------------------------------------------------------


_pool: ThreadPoolExecutor | None = None
_pool_workers = 0
_pool_lock = threading.Lock()


def _executor(workers: int) -> ThreadPoolExecutor:
    """A pool kept between calls: starting threads for every pass would cost ~0.25 ms."""
    global _pool, _pool_workers
    with _pool_lock:
        if _pool is None or _pool_workers < workers:
            if _pool is not None:
                _pool.shutdown(wait=False)
            _pool = ThreadPoolExecutor(workers, thread_name_prefix="gmmderive")
            _pool_workers = workers
        return _pool


def _forget_pool() -> None:
    """In a forked child the pool's threads do not exist: start a new pool when needed."""
    global _pool, _pool_workers, _pool_lock
    _pool, _pool_workers, _pool_lock = None, 0, threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)


def _n_threads(n_blocks: int) -> int:
    env = os.environ.get("GMMDERIVE_NUM_THREADS", "").strip()
    if env:  # set and not empty (an empty value means unset)
        try:
            cap = int(env)
        except ValueError:
            cap = 0
        if cap < 1:
            raise ValueError(f"GMMDERIVE_NUM_THREADS must be a positive integer, got {env!r}")
    else:
        cap = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(cap, n_blocks // MIN_BLOCKS_PER_THREAD))


def sufficient_statistics(x: np.ndarray, params: GMMParams, centers=None, resp_out=None, sample_weight=None,
                          max_threads=None):
    """The E-step of ``params`` reduced to the sums the M-step needs, in one pass.

    Parameters
    ----------
    x : ndarray, shape (N,)
        Validated data (float64, C-contiguous).
    params : GMMParams
    centers : ndarray, shape (D,), optional
        Deviations are taken about these (default: ``params.means``).
    resp_out : ndarray, shape (D, N), optional
        If given, filled with the responsibilities ρ (class by row).
    sample_weight : ndarray, shape (N,), optional
        Sample weights w_i >= 0 (float64, C-contiguous): every sum below is weighted.
    max_threads : int, optional
        At most this many threads (Dask's tasks pass 1: the scheduler runs chunks in parallel).

    Returns
    -------
    log_likelihood : float
        ``log p(𝒟; params)`` (``Σ_i w_i log p(x^{[i]}; params)`` with weights).
    gamma, s1, s2 : ndarray, shape (D,)
        γ_e, Σ_i ρ_e^{[i]} (x^{[i]} - c_e) and Σ_i ρ_e^{[i]} (x^{[i]} - c_e)² (each term
        times w_i with weights).
    """
    d = params.n_components
    # Fresh writable copies: read-only arrays (GMMParams') would compile a second signature.
    means = np.array(params.means, dtype=np.float64)
    centers = means if centers is None else np.array(centers, dtype=np.float64)
    scale, const = log_joint_terms(params)  # const = -inf for an empty class: its ρ is 0
    n_blocks = -(-x.size // BLOCK)
    part = np.zeros((n_blocks, 4, d))
    run = np.uint64(max(1, min(BLOCK, int(690.0 / math.log(d)))) if d > 1 else BLOCK)  # d^run < 1e300
    write = resp_out is not None
    out = resp_out if write else np.empty((1, 1))
    weighted = sample_weight is not None
    args = (x, sample_weight if weighted else np.empty(1), weighted, means, scale, const, centers)
    threads = _n_threads(n_blocks) if max_threads is None else max(1, min(max_threads, _n_threads(n_blocks)))
    if threads == 1:
        _blocks(*args, 0, n_blocks, run, part, out, write)
    else:
        bounds = [t * n_blocks // threads for t in range(threads + 1)]
        pool = _executor(threads - 1)
        others = [pool.submit(_blocks, *args, bounds[t], bounds[t + 1], run, part, out, write)
                  for t in range(1, threads)]
        _blocks(*args, bounds[0], bounds[1], run, part, out, write)  # this thread's share
        for f in others:
            f.result()
    sums = part.sum(axis=0)  # block order: the same whatever the number of threads
    return float(sums[0, 0]), sums[1], sums[2], sums[3]


def log_likelihood_and_responsibilities(x: np.ndarray, params: GMMParams, sample_weight=None):
    """``log p(𝒟; params)`` (weighted, with weights) and the (D, N) responsibilities, from one pass."""
    resp = np.empty((params.n_components, x.size))
    return sufficient_statistics(x, params, resp_out=resp, sample_weight=sample_weight)[0], resp


def em_iteration(x: np.ndarray, params: GMMParams, *, std_floor: float = 0.0, equal_variance: bool = False,
                 sample_weight=None):
    """One EM iteration from ``params``: the E-step and the M-step in one pass (two, rarely).

    Returns
    -------
    log_likelihood : float
        ``log p(𝒟; params)`` (of the parameters the iteration started from).
    new_params : GMMParams
        :func:`gmmderive.m_step` of the responsibilities of ``params`` (``previous=params``).
    collapsed, empty : ndarray of bool, shape (D,)
        Which σ_e were raised to ``std_floor``; which classes had no responsibility mass.

    With ``sample_weight`` (N,), sample i counts w_i times: the weighted log-likelihood and
    M-step of chapter 21 (N becomes Σ_i w_i).
    """
    return em_update(
        lambda centers: sufficient_statistics(x, params, centers=centers, sample_weight=sample_weight), params,
        x.size if sample_weight is None else float(sample_weight.sum()), std_floor=std_floor,
        equal_variance=equal_variance,
    )
