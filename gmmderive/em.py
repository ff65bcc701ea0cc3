"""One EM run: plain EM (the lecture's iteration) or SQUAREM-accelerated EM, and when to stop.

EM is a map θ^{[k+1]} = M(θ^{[k]}). Near its fixed point θ* the error shrinks by a nearly
constant factor r per iteration, the largest eigenvalue of M's Jacobian (the fraction of
missing information; chapter 22 of the book). On overlapping mixtures r is close to 1 and
plain EM crawls: each step is tiny although θ is far from θ*.

The stopping rule
-----------------
A run stops when θ is within ``tol`` of the fixed point θ*, measured by the largest error of a
weight, or of a mean or standard deviation in units of the data's standard deviation (so
``tol`` means the same on any data). A small change of the log-likelihood does not say this:
on a flat likelihood, parameters 10⁻⁴ away change it by less than 10⁻⁸.

The error is estimated twice. The cheap estimate, every iteration: a step of size
s = ‖M(θ) - θ‖ contracting at rate r leaves M(θ) about s·r/(1 - r) from θ* (the geometric
series of the remaining steps), with r the larger of the ratio of two successive plain steps
and the rate measured at the last check. When it falls below ``tol``, the check: to first
order θ* - θ = (I - J)⁻¹ (M(θ) - θ), with J the Jacobian of M at θ, here by forward
differences (3D evaluations of M). That is exact to first order whatever the direction of the
error, which a ratio of step sizes cannot see: after a SQUAREM jump the error can hide in
a slow direction that the next steps barely move. If the check fails, the run goes on (from
the Newton point θ + (I - J)⁻¹ (M(θ) - θ) when accelerated, if it raises the log-likelihood),
and the cheap estimate uses J's spectral radius from then on. A step below rounding
(``ROUNDING``) is the fixed point itself.

SQUAREM
-------
Varadhan & Roland (2008), scheme S3 with the step control of their R package SQUAREM: from
θ0, two EM steps θ1 = M(θ0), θ2 = M(θ1) give r = θ1 - θ0 and v = θ2 - 2θ1 + θ0, and the
extrapolation θ' = θ0 + 2αr + α²v with α = ‖r‖/‖v‖ (α = 1 is θ2 itself). It works in an
unconstrained parametrization (log π, μ, log σ), so θ' has weights on the simplex and σ > 0
(σ is then held at the floor as by the M-step). θ' is kept only if its log-likelihood is at
least θ1's; otherwise the run takes the plain step θ2, so the log-likelihood history never
decreases. Every evaluation of M (one fused pass) counts as an iteration.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .certificate import MIN_WEIGHT, certify
from .core import LOG_2PI
from .mstep import class_means, m_step_arrays
from .params import MIN_STD, GMMParams

#: A step this small (in the units of the stopping rule) is rounding: θ is the fixed point.
ROUNDING = 1e-13
#: SQUAREM's step bound grows (and shrinks) by this factor (Varadhan & Roland's mstep).
STEP_FACTOR = 4.0
#: Relative step of the forward differences of the Jacobian of M.
_DIFF_STEP = 1e-7


@dataclass(frozen=True, eq=False)
class Run:
    """One EM run: where it started and ended, its log-likelihoods and degeneracies."""

    start: GMMParams
    params: GMMParams
    resp: np.ndarray | None  # (D, N) responsibilities of ``params`` (None: not kept)
    history: np.ndarray  # log-likelihood after each evaluation of M (never decreasing)
    n_iter: int  # evaluations of M
    converged: bool
    distance: float  # the stopping rule's last estimate of the distance to θ*
    collapsed: np.ndarray  # a component's σ was held at the floor
    empty: np.ndarray  # a class lost its responsibility mass
    # The second-order certificate (certify): the Hessian of ℓ in the free coordinates of the
    # frame z (None: not computed), the largest eigenvalue of H / W (W = Σ_i w_i), and whether
    # the run stopped at a point where it is not below -HESSIAN_TOL (a saddle EM cannot leave).
    hessian: np.ndarray | None = None
    max_eigenvalue: float = np.nan
    saddle: bool = False

    @property
    def log_likelihood(self) -> float:
        return float(self.history[-1])

    @property
    def degenerate(self) -> bool:
        return bool(self.collapsed.any() or self.empty.any())


def step_size(a: GMMParams, b: GMMParams) -> float:
    """‖b - a‖: the largest change of a weight, mean or σ (the data standardized)."""
    return float(max(np.abs(b.weights - a.weights).max(), np.abs(b.means - a.means).max(),
                     np.abs(b.stds - a.stds).max()))


def distance_to_limit(step: float, previous_step: float | None, rate: float = 0.0) -> float:
    """The cheap estimate of how far M(θ) is from θ*: s·r/(1 - r), r = max(s/s_prev, ``rate``)."""
    if step <= ROUNDING:
        return 0.0
    if previous_step is None or previous_step <= 0 or step >= previous_step or rate >= 1.0:
        return np.inf  # no rate yet, or not contracting: no estimate
    r = max(step / previous_step, rate)
    return step * r / (1.0 - r)


def _jacobian_free(m: Evaluator, p: GMMParams, f_mp: np.ndarray, std_floor: float) -> np.ndarray | None:
    """J of M at ``p`` in the free coordinates, by forward differences (3D evaluations).

    None if M empties a class at a neighbouring point: log π has no derivative there (a class of
    weight 1e-20 whose responsibilities underflow to 0 when moved by a step; #24's harness).
    """
    f = _to_free(p, m.equal_variance)
    d = p.n_components
    jac = np.empty((f.size, f.size))
    for j in range(f.size):
        h = _DIFF_STEP * max(1.0, abs(f[j]))
        g = f.copy()
        g[j] += h
        q = _from_free(g, d, std_floor)
        if q is None:
            jac[:, j] = np.nan
            continue
        mq = m(q, keep_flags=False)[1]
        if mq.weights.min() < MIN_WEIGHT:
            return None
        jac[:, j] = (_to_free(mq, m.equal_variance) - f_mp) / h
    return jac


def check_fixed_point(m: Evaluator, p: GMMParams, std_floor: float):
    """``(distance, newton point, ll(p), M(p), rate)``: the stopping rule's check at ``p``.

    distance = ‖(I - J)⁻¹ (M(p) - p)‖ in the units of :func:`step_size`, the first-order
    distance from ``p`` to θ*; ``rate`` is J's spectral radius. Costs 3D + 1 evaluations of M.
    """
    ll, mp, _ = m(p)
    if p.weights.min() < MIN_WEIGHT or mp.weights.min() < MIN_WEIGHT:
        return step_size(p, mp), None, ll, mp, 0.0  # an empty class: M moves nothing there
    f, f_mp = _to_free(p, m.equal_variance), _to_free(mp, m.equal_variance)
    jac = _jacobian_free(m, p, f_mp, std_floor)
    if jac is None:  # a class empties nearby: as above, M moves nothing there
        return step_size(p, mp), None, ll, mp, 0.0
    try:
        delta = np.linalg.solve(np.eye(f.size) - jac, f_mp - f)
    except (np.linalg.LinAlgError, ValueError):  # singular, or NaN columns
        return np.inf, None, ll, mp, 1.0
    if not np.isfinite(delta).all():
        return np.inf, None, ll, mp, 1.0
    d = p.n_components
    rate = float(np.abs(np.linalg.eigvals(jac)).max())
    newton = _from_free(f + delta, d, std_floor)
    # the error in (π, μ, σ): log π and log σ to first order
    dlog_w = delta[:d] - p.weights @ delta[:d]
    err = max(np.abs(p.weights * dlog_w).max(), np.abs(delta[d:2 * d]).max(),
              np.abs(p.stds * delta[2 * d:]).max())
    return float(err), newton, ll, mp, rate


def _to_free(p: GMMParams, equal_variance: bool = False) -> np.ndarray:
    """(log π, μ, log σ): coordinates in which any point is a mixture (one log σ if shared)."""
    log_sd = np.log(p.stds[:1] if equal_variance else p.stds)
    return np.concatenate([np.log(p.weights), p.means, log_sd])


def _from_free(phi: np.ndarray, d: int, std_floor: float) -> GMMParams | None:
    """θ from (log π, μ, log σ); None if it is not a valid point (σ below the smallest float)."""
    if not np.isfinite(phi).all():
        return None
    a = np.exp(phi[:d] - phi[:d].max())
    stds = np.broadcast_to(np.maximum(np.exp(phi[2 * d:]), std_floor), (d,)).copy()
    if not (stds >= MIN_STD).all() or not np.isfinite(stds).all():
        return None
    return GMMParams(a / a.sum(), phi[d:2 * d], stds)


def squarem_point(p0: GMMParams, p1: GMMParams, p2: GMMParams, step_max: float, std_floor: float,
                  equal_variance: bool = False):
    """``(θ', α)``: the SQUAREM extrapolation from θ0 and its two EM steps (``None`` if α = 1)."""
    if min(p0.weights.min(), p1.weights.min(), p2.weights.min()) < MIN_WEIGHT:
        return None, 1.0
    f0, f1, f2 = (_to_free(p, equal_variance) for p in (p0, p1, p2))
    r = f1 - f0
    v = f2 - 2.0 * f1 + f0
    vv = float(v @ v)
    if not vv > 0:
        return None, 1.0
    alpha = min(step_max, max(1.0, float(np.sqrt((r @ r) / vv))))
    if alpha == 1.0:
        return None, alpha
    return _from_free(f0 + 2.0 * alpha * r + alpha * alpha * v, p0.n_components, std_floor), alpha


class Evaluator:
    """M with its bookkeeping: the count of evaluations and the degeneracy of accepted steps."""

    def __init__(self, samples, d, *, std_floor, equal_variance):
        self._iteration = samples.em_iteration  # the samples' engine (gmmderive.samples)
        self._kw = dict(std_floor=std_floor, equal_variance=equal_variance)
        self.equal_variance = equal_variance
        self.count = 0
        self.collapsed = np.zeros(d, dtype=bool)
        self.empty = np.zeros(d, dtype=bool)

    def __call__(self, p: GMMParams, keep_flags: bool = True):
        """``(log p(𝒟; p), M(p), flags)``; ``keep_flags`` records M(p)'s degeneracies now."""
        ll, new, col, emp = self._iteration(p, **self._kw)
        self.count += 1
        if keep_flags:
            self.record((col, emp))
        return ll, new, (col, emp)

    def record(self, flags) -> None:
        self.collapsed |= flags[0]
        self.empty |= flags[1]


def run_em(samples, start: GMMParams, *, max_iter, tol, std_floor, equal_variance=False, accelerate=True,
           before: Run | None = None, keep_resp=True, certify_end=True) -> Run:
    """EM from ``start`` (in the frame z) for at most ``max_iter`` evaluations of M.

    ``samples`` answer the samples protocol (:mod:`gmmderive.samples`): in memory or chunked,
    each with its weights. ``before`` is an earlier run that ended at ``start``: the result
    continues it (one history, iteration count and degeneracy record). ``keep_resp=False``
    drops the final (D, N) responsibilities, so that many short runs do not hold many such
    arrays (chunked samples never keep them). A run that converges is certified
    (:func:`gmmderive.certificate.certify`: the Hessian in one pass, escapes from a saddle)
    unless ``certify_end=False``.
    """
    m = Evaluator(samples, start.n_components, std_floor=std_floor, equal_variance=bool(equal_variance))
    steps = _accelerated if accelerate else _plain
    params, history, converged, distance = steps(m, start, max_iter, tol, std_floor)
    hessian, max_eig, saddle = None, np.nan, False
    if converged and certify_end:
        params, history, converged, distance, hessian, max_eig, saddle = certify(
            m, samples, params, history, (converged, distance), steps, max_iter, tol, std_floor)
    ll, resp = samples.final_pass(params, keep_resp)  # ρ instead of an M-step, where kept
    history.append(ll)  # of M's last output: not below history[-1], up to rounding
    history = np.array(history)
    if before is not None:
        return Run(before.start, params, resp, np.concatenate([before.history, history[1:]]),
                   before.n_iter + m.count, converged, distance, before.collapsed | m.collapsed,
                   before.empty | m.empty, hessian, max_eig, saddle)
    return Run(start, params, resp, history, m.count, converged, distance, m.collapsed, m.empty, hessian,
               max_eig, saddle)


def _pad(history: list, ll: float, count: int) -> None:
    """After a check: ``ll`` of its point, then no gain for its Jacobian's evaluations."""
    history.append(max(ll, history[-1]))
    history.extend([history[-1]] * (count - len(history)))


def converged(m: Evaluator, p: GMMParams, distance: float, tol: float, max_iter: int, history: list,
              std_floor: float):
    """The stopping rule, shared by plain EM and SQUAREM: None while the cheap estimate
    ``distance`` is not below ``tol`` (or the check would pass ``max_iter``); else the check at
    ``p`` (:func:`check_fixed_point`: ``(distance, newton point, ll(p), M(p), rate)``), with the
    history padded for its evaluations. The run stops if the checked distance is below ``tol``.
    """
    if not (tol > 0 and distance < tol and m.count + 3 * p.n_components + 1 <= max_iter):
        return None
    check = check_fixed_point(m, p, std_floor)
    _pad(history, check[2], m.count)
    return check


def _plain(m: Evaluator, start: GMMParams, max_iter: int, tol: float, std_floor: float):
    """The lecture's EM: θ^{[k+1]} = M(θ^{[k]}) until the stopping rule holds."""
    params = start
    ll, new, _ = m(params)
    history = [ll]
    previous, rate, distance = None, 0.0, np.inf
    while True:
        step = step_size(params, new)
        params = new
        distance = distance_to_limit(step, previous, rate)
        previous = step
        check = converged(m, params, distance, tol, max_iter, history, std_floor)
        if check is not None:
            distance, _, ll, new, rate = check
            if distance < tol:
                return new, history, True, distance
            continue  # new = M(params) is known: take that step
        if m.count >= max_iter:
            return params, history, False, distance
        ll, new, _ = m(params)
        history.append(ll)


def _accelerated(m: Evaluator, start: GMMParams, max_iter: int, tol: float, std_floor: float):
    """SQUAREM: two EM steps, an extrapolation kept only if it raises the log-likelihood."""
    step_max, rate, distance = 1.0, 0.0, np.inf
    p0 = start
    ll0, p1, _ = m(p0)
    history = [ll0]  # then the best log-likelihood known after each evaluation
    while True:
        if m.count >= max_iter:
            return p1, history, False, distance
        ll1, p2, _ = m(p1)
        history.append(max(ll1, history[-1]))
        distance = distance_to_limit(step_size(p1, p2), step_size(p0, p1), rate)
        check = converged(m, p2, distance, tol, max_iter, history, std_floor)
        if check is not None:
            distance, newton, ll2, p3, rate = check
            if distance < tol:
                return p3, history, True, distance
            p0, p1 = p2, p3
            if newton is not None and m.count < max_iter:  # try the Newton point
                lln, pn1, flags = m(newton, keep_flags=False)
                history.append(max(lln, history[-1]))
                if lln >= ll2:
                    m.record(flags)
                    p0, p1 = newton, pn1
            continue
        if m.count >= max_iter:
            return p2, history, False, distance
        point, alpha = squarem_point(p0, p1, p2, step_max, std_floor, m.equal_variance)
        if point is not None:
            llx, px1, flags = m(point, keep_flags=False)
            if llx >= ll1:  # kept: θ' and M(θ') start the next cycle
                m.record(flags)
                history.append(llx)
                p0, p1 = point, px1
                if alpha == step_max:
                    step_max *= STEP_FACTOR
                continue
            history.append(history[-1])  # this evaluation gained nothing
            if alpha == step_max:
                step_max = max(1.0, step_max / STEP_FACTOR)
            if m.count >= max_iter:
                return p2, history, False, distance
        elif alpha == step_max:
            step_max *= STEP_FACTOR
        # the plain step: θ2 starts the next cycle
        ll0, p1, _ = m(p2)
        history.append(max(ll0, history[-1]))
        p0 = p2


def batch_em(x, starts: list[GMMParams], n_iter: int, *, std_floor, equal_variance=False, sample_weight=None):
    """Plain EM from K starts at once, each iteration one NumPy pass over (K, D, N) arrays.

    For the default search's short pre-runs on small data, where one :func:`run_em` per start
    would spend its time in Python, not in arithmetic. The same iteration as the engine's
    (tests/test_options.py compares them), on z-scaled data so that nothing overflows.

    Returns
    -------
    list of Run, one per start: ``n_iter`` iterations, not converged, without ρ.
    """
    w_arr = np.stack([p.weights for p in starts])
    mu = np.stack([p.means for p in starts])
    sd = np.stack([p.stds for p in starts])
    k, d = w_arr.shape
    weights = sample_weight
    total = x.size if weights is None else float(weights.sum())
    history = np.empty((k, n_iter + 1))
    collapsed = np.zeros((k, d), dtype=bool)
    empty = np.zeros((k, d), dtype=bool)
    with np.errstate(all="ignore"):  # a start whose σ collapses to 0 gives NaN: dropped below
        for it in range(n_iter + 1):
            log_w = np.full_like(w_arr, -np.inf)
            np.log(w_arr, out=log_w, where=w_arr > 0)
            a = (x - mu[:, :, None]) / sd[:, :, None]
            log_joint = (log_w - np.log(sd) - 0.5 * LOG_2PI)[:, :, None] - 0.5 * a * a
            top = log_joint.max(axis=1, keepdims=True)
            rho = np.exp(log_joint - top)
            norm = rho.sum(axis=1, keepdims=True)
            log_dens = (top + np.log(norm))[:, 0, :]
            history[:, it] = log_dens.sum(axis=1) if weights is None else log_dens @ weights
            if it == n_iter:
                break
            rho /= norm
            if weights is not None:
                rho *= weights
            gamma = rho.sum(axis=2)
            # the lecture's two passes (S24, then S29 about the new means, where S₁ = 0)
            new_mu = class_means(gamma, rho @ x)
            sq_dev = np.einsum("kdn,kdn->kd", rho, (x - new_mu[:, :, None]) ** 2)
            w_arr, mu, sd, col, emp = m_step_arrays(total, gamma, np.zeros_like(sq_dev), sq_dev, new_mu, mu, sd,
                                                    std_floor=std_floor, equal_variance=equal_variance)
            collapsed |= col
            empty |= emp
    ok = np.isfinite(history).all(axis=1) & (sd >= MIN_STD).all(axis=1) & np.isfinite(mu).all(axis=1)
    ends = [GMMParams(w_arr[i], mu[i], sd[i]) if ok[i] else None for i in range(k)]
    return short_runs(starts, ends, history, collapsed, empty, n_iter)


def short_runs(starts, ends, history, collapsed, empty, n_iter: int) -> list[Run]:
    """The pre-runs as :class:`Run` objects: from each start to its end after ``n_iter`` iterations.

    An end of None collapsed beyond the smallest float (std_floor=0): a degenerate run that did
    not move (its history the start's log-likelihood only).
    """
    d = starts[0].n_components
    runs = []
    for i, (start, end) in enumerate(zip(starts, ends)):
        if end is not None:
            runs.append(Run(start, end, None, history[i], n_iter, False, np.inf, collapsed[i], empty[i]))
        else:
            runs.append(Run(start, start, None, history[i, :1], 0, False, np.inf, np.ones(d, dtype=bool), empty[i]))
    return runs
