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

import functools
from dataclasses import dataclass

import numpy as np

from ._engine import engine
from ._hessian import from_free as _from_log_ratios
from ._hessian import hessian_sums
from ._hessian import to_free as _to_log_ratios
from .core import LOG_2PI
from .mstep import class_means, m_step_arrays
from .params import MIN_STD, GMMParams

#: A step this small (in the units of the stopping rule) is rounding: θ is the fixed point.
ROUNDING = 1e-13
#: SQUAREM's step bound grows (and shrinks) by this factor (Varadhan & Roland's mstep).
STEP_FACTOR = 4.0
#: No extrapolation through a class this empty: log π would lose all precision.
_MIN_WEIGHT = 1e-200
#: Relative step of the forward differences of the Jacobian of M.
_DIFF_STEP = 1e-7
#: The certificate: a converged run is a maximum if the largest eigenvalue of the curvature per
#: sample (``curvature``: the Hessian of ℓ in coordinates without units, over W = Σ_i w_i) is
#: below -HESSIAN_TOL. EM stops within tol = 1e-8 of θ*, which moves the curvature by about 1e-8
#: times the third derivatives (O(1) to O(100) per sample in these units), and its sums round at
#: about 1e-13: an eigenvalue above -1e-6 is not told from 0.
HESSIAN_TOL = 1e-6
#: At most this many escapes from saddles per run (each costs two runs of EM per direction tried),
MAX_ESCAPES = 3
#: Directions this close to flat are tried too (not certified against: see HESSIAN_TOL),
ESCAPE_TOL = 1e-3
#: each trying at most this many directions (of eigenvalue >= -HESSIAN_TOL) until one climbs.
MAX_DIRECTIONS = 4
#: An escape starts this far from the saddle along the eigenvector (of unit length in the
#: coordinates of ``curvature``: log-ratios, μ_c/σ_c, log σ): means move by at most half a σ.
#: A step of 1e-3 σ escapes too (#30), slowly: EM leaves a saddle at the rate of M's unstable
#: eigenvalue, near 1; a step much larger than σ could land in another basin.
ESCAPE_STEP = 0.5


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


def _jacobian_free(m: _Evaluator, p: GMMParams, f_mp: np.ndarray, std_floor: float) -> np.ndarray | None:
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
        if mq.weights.min() < _MIN_WEIGHT:
            return None
        jac[:, j] = (_to_free(mq, m.equal_variance) - f_mp) / h
    return jac


def check_fixed_point(m: _Evaluator, p: GMMParams, std_floor: float):
    """``(distance, newton point, ll(p), M(p), rate)``: the stopping rule's check at ``p``.

    distance = ‖(I - J)⁻¹ (M(p) - p)‖ in the units of :func:`step_size`, the first-order
    distance from ``p`` to θ*; ``rate`` is J's spectral radius. Costs 3D + 1 evaluations of M.
    """
    ll, mp, _ = m(p)
    if p.weights.min() < _MIN_WEIGHT or mp.weights.min() < _MIN_WEIGHT:
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
    if min(p0.weights.min(), p1.weights.min(), p2.weights.min()) < _MIN_WEIGHT:
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


class _Evaluator:
    """M with its bookkeeping: the count of evaluations and the degeneracy of accepted steps."""

    def __init__(self, x, d, *, std_floor, equal_variance, weights):
        if isinstance(x, np.ndarray):  # numba's fused pass, or NumPy: imported on the first fit
            self._iteration = functools.partial(engine().em_iteration, x)
        else:  # chunked data (gmmderive._dask): the same sums, added over the chunks
            self._iteration = x.em_iteration
        self._kw = dict(std_floor=std_floor, equal_variance=equal_variance, weights=weights)
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


def run_em(x, start: GMMParams, *, max_iter, tol, std_floor, equal_variance=False, weights=None,
           accelerate=True, before: Run | None = None, keep_resp=True, certify=True) -> Run:
    """EM from ``start`` for at most ``max_iter`` evaluations of M.

    ``x`` is the data in memory, or chunked (:class:`gmmderive._dask.ChunkedSamples`, which
    carries its weights). ``before`` is an earlier run that ended at ``start``: the result
    continues it (one history, iteration count and degeneracy record). ``keep_resp=False``
    drops the final (D, N) responsibilities, so that many short runs do not hold many such
    arrays (chunked data never keeps them). A run that converges is certified (``_certify``:
    the Hessian in one pass, escapes from a saddle) unless ``certify=False``.
    """
    m = _Evaluator(x, start.n_components, std_floor=std_floor, equal_variance=bool(equal_variance),
                   weights=weights)
    steps = _accelerated if accelerate else _plain
    params, history, converged, distance = steps(m, start, max_iter, tol, std_floor)
    hessian, max_eig, saddle = None, np.nan, False
    if converged and certify:
        params, history, converged, distance, hessian, max_eig, saddle = _certify(
            m, x, weights, params, history, (converged, distance), steps, max_iter, tol, std_floor)
    if keep_resp and isinstance(x, np.ndarray):  # the last pass writes ρ instead of taking an M-step
        ll, resp = engine().log_likelihood_and_responsibilities(x, params, weights)
    else:
        ll, resp = m(params, keep_flags=False)[0], None
        m.count -= 1  # only the log-likelihood of this pass is used, not its M-step
    history.append(ll)  # of M's last output: not below history[-1], up to rounding
    history = np.array(history)
    if before is not None:
        return Run(before.start, params, resp, np.concatenate([before.history, history[1:]]),
                   before.n_iter + m.count, converged, distance, before.collapsed | m.collapsed,
                   before.empty | m.empty, hessian, max_eig, saddle)
    return Run(start, params, resp, history, m.count, converged, distance, m.collapsed, m.empty, hessian,
               max_eig, saddle)


def curvature(x, p: GMMParams, weights, equal_variance: bool, std_floor: float = 0.0):
    """``(H, λ, V)``: the Hessian of ℓ at ``p`` in the free coordinates (one pass), the largest
    eigenvalue λ of the curvature per sample, and in φ the eigenvectors whose eigenvalues are
    >= -ESCAPE_TOL (the columns of V, the largest eigenvalue first).

    The curvature per sample is S H S / W, W = Σ_i w_i, S = diag(1 for the log-ratios, σ_c for
    μ_c, 1 for the log σ): H in the coordinates (log-ratios, μ_c/σ_c, log σ), which have no units,
    so λ is the same for data of any scale, size or spread of the components (a cluster 1e-4
    wide beside an outlier 1e5 away has the curvature of the same cluster alone). S is
    invertible, so S H S is negative definite exactly when H is. ``(None, nan, None)`` where a
    weight is 0 (there is no log-ratio there) or a σ is at the floor (a maximum on the boundary
    of the model, where ℓ's gradient is not 0): degenerate fits, reported as such.
    """
    if p.weights.min() < _MIN_WEIGHT or p.stds.min() <= std_floor:
        return None, np.nan, None
    _, _, hess = hessian_sums(x, p, weights, equal_variance)
    if isinstance(x, np.ndarray):
        total = x.size if weights is None else float(weights.sum())
    else:  # chunked data carries its own weights
        total = x.total_weight
    d = p.n_components
    scale = np.ones(hess.shape[0])
    scale[d - 1:2 * d - 1] = p.stds
    eigval, eigvec = np.linalg.eigh(hess * np.outer(scale, scale) / total)
    # the directions that do not curve down, steepest first; and nearly flat ones (ESCAPE_TOL):
    # at coincident components the split is flat only at θ*, and EM stops within tol of it
    up = eigval[::-1] >= -ESCAPE_TOL
    return hess, float(eigval[-1]), scale[:, None] * eigvec[:, ::-1][:, up]


def _certify(m: _Evaluator, x, weights, params, history, state, steps, max_iter, tol, std_floor):
    """The second-order check of a converged run, and escapes from saddles (#30).

    At a point whose curvature has an eigenvalue >= -HESSIAN_TOL, EM restarts from
    θ ± ESCAPE_STEP·v (v its eigenvector, of unit length in units of σ) and the branch with the
    higher log-likelihood is kept (a non-degenerate one first), if it is higher than the saddle's;
    at most MAX_ESCAPES times. Both branches' evaluations count (the other one's as no gain in
    the history; its degeneracies are forgotten). Returns the run's new end, with ``converged``
    False if it is still not certified, and whether it ends uncertified (a saddle or flat).
    """
    converged, distance = state
    ev = m.equal_variance
    d = params.n_components
    for escape in range(MAX_ESCAPES + 1):
        hess, max_eig, v = curvature(x, params, weights, ev, std_floor)
        if hess is None or max_eig < -HESSIAN_TOL:
            return params, history, converged, distance, hess, max_eig, False  # (hess None: an empty class)
        if escape == MAX_ESCAPES or m.count >= max_iter:
            break
        phi = _to_log_ratios(params, ev)
        level = history[-1]
        flags = (m.collapsed.copy(), m.empty.copy())
        branches, climbed = [], False
        # Coincident components with σ fitted to them are flat to second order (a saddle of
        # fourth order): their directions are all ~0, and eigh's order among them is arbitrary.
        # The next one is tried while none climbs (2 runs each, at most MAX_DIRECTIONS).
        for direction in range(min(v.shape[1], MAX_DIRECTIONS)):
            branches, climbed = _escape(m, phi, v[:, direction], d, ev, flags, steps, max_iter, tol, std_floor,
                                        level, history)
            if climbed or m.count >= max_iter:
                break
        if not climbed:
            break  # no branch climbs: EM returns to the saddle, or the direction is flat
        params, _, converged, distance = branches[0][0]
        if not converged and m.count < max_iter:  # the branch's budget ran out: go on with the rest
            params, h, converged, distance = steps(m, params, max_iter, tol, std_floor)
            history.extend(np.maximum.accumulate(np.maximum(h, history[-1])).tolist())
        if not converged:  # max_iter came first: the escape's end is not a saddle, nor certified
            return params, history, False, distance, None, np.nan, False
    return params, history, False, distance, hess, max_eig, True


def _escape(m, phi, v, d, ev, flags, steps, max_iter, tol, std_floor, level, history):
    """EM from φ ± ESCAPE_STEP·v: ``([best branch first], climbed)``, the history extended (the
    losing branch's evaluations as no gain) and M's degeneracy record the kept branch's."""
    branches = []
    for sign in (1.0, -1.0):
        if m.count >= max_iter:
            break
        q = _from_log_ratios(phi + sign * ESCAPE_STEP * v, d, ev)
        q = GMMParams(q.weights, q.means, np.maximum(q.stds, std_floor))
        m.collapsed, m.empty = flags[0].copy(), flags[1].copy()
        before = m.count
        # a branch along a flat direction can crawl for ever: each gets a quarter of what is left
        end = steps(m, q, min(max_iter, m.count + max(100, (max_iter - m.count) // 4)), tol, std_floor)
        branches.append((end, m.count - before, (m.collapsed, m.empty)))
    branches.sort(key=lambda b: (not (b[2][0].any() or b[2][1].any()), b[0][1][-1]), reverse=True)
    climbed = bool(branches) and branches[0][0][1][-1] > level + 1e-9 * abs(level)
    for _, count, _ in branches[1:] if climbed else branches:  # evaluations that gained nothing
        history.extend([history[-1]] * count)
    if climbed:
        m.collapsed, m.empty = branches[0][2]
        h = branches[0][0][1]
        history.extend(np.maximum.accumulate(np.maximum(h, history[-1])).tolist())
    else:
        m.collapsed, m.empty = flags
    return branches, climbed


def _pad(history: list, ll: float, count: int) -> None:
    """After a check: ``ll`` of its point, then no gain for its Jacobian's evaluations."""
    history.append(max(ll, history[-1]))
    history.extend([history[-1]] * (count - len(history)))


def _plain(m: _Evaluator, start: GMMParams, max_iter: int, tol: float, std_floor: float):
    """The lecture's EM: θ^{[k+1]} = M(θ^{[k]}) until the stopping rule holds."""
    check_cost = 3 * start.n_components + 1
    params = start
    ll, new, _ = m(params)
    history = [ll]
    previous, rate, distance = None, 0.0, np.inf
    while True:
        step = step_size(params, new)
        params = new
        distance = distance_to_limit(step, previous, rate)
        previous = step
        if tol > 0 and distance < tol and m.count + check_cost <= max_iter:
            distance, _, ll, new, rate = check_fixed_point(m, params, std_floor)
            _pad(history, ll, m.count)
            if distance < tol:
                return new, history, True, distance
            continue  # new = M(params) is known: take that step
        if m.count >= max_iter:
            return params, history, False, distance
        ll, new, _ = m(params)
        history.append(ll)


def _accelerated(m: _Evaluator, start: GMMParams, max_iter: int, tol: float, std_floor: float):
    """SQUAREM: two EM steps, an extrapolation kept only if it raises the log-likelihood."""
    check_cost = 3 * start.n_components + 1
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
        if tol > 0 and distance < tol and m.count + check_cost <= max_iter:
            distance, newton, ll2, p3, rate = check_fixed_point(m, p2, std_floor)
            _pad(history, ll2, m.count)
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


#: Starts are pre-run together (arrays of K x D x N) while that many numbers stay small.
BATCH_SIZE = 1 << 20


def batch_em(x, starts: list[GMMParams], n_iter: int, *, std_floor, equal_variance=False, weights=None):
    """Plain EM from K starts at once, each iteration one NumPy pass over (K, D, N) arrays.

    For the default search's short pre-runs on small data, where one :func:`run_em` per start
    would spend its time in Python, not in arithmetic. The same iteration as the engine's
    (tests/test_runs.py compares them), on z-scaled data so that nothing overflows.

    Returns
    -------
    list of Run, one per start: ``n_iter`` iterations, not converged, without ρ.
    """
    w_arr = np.stack([p.weights for p in starts])
    mu = np.stack([p.means for p in starts])
    sd = np.stack([p.stds for p in starts])
    k, d = w_arr.shape
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
            # the lecture's two passes (S24, then S29 about the new means, where S1 = 0)
            new_mu = class_means(gamma, rho @ x)
            sq_dev = np.einsum("kdn,kdn->kd", rho, (x - new_mu[:, :, None]) ** 2)
            w_arr, mu, sd, col, emp = m_step_arrays(total, gamma, np.zeros_like(sq_dev), sq_dev, new_mu, mu, sd,
                                                    std_floor=std_floor, equal_variance=equal_variance)
            collapsed |= col
            empty |= emp
    runs = []
    for i, start in enumerate(starts):
        if np.isfinite(history[i]).all() and (sd[i] >= MIN_STD).all() and np.isfinite(mu[i]).all():
            runs.append(Run(start, GMMParams(w_arr[i], mu[i], sd[i]), None, history[i], n_iter, False, np.inf,
                            collapsed[i], empty[i]))
        else:  # collapsed beyond the smallest float (std_floor=0): a degenerate run that did not move
            runs.append(Run(start, start, None, history[i, :1], 0, False, np.inf, np.ones(d, dtype=bool), empty[i]))
    return runs
