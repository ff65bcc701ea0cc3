"""The second-order certificate of a converged run, and escapes from saddles (#30).

A run that stops is checked: the Hessian of the log-likelihood in one pass over the samples
(``hessian_sums`` of the samples protocol, :mod:`gmmderive.samples`), its largest eigenvalue
per sample below -:data:`HESSIAN_TOL` certifies a maximum. At a saddle, EM restarts along the
eigenvector (both signs, the better kept), at most :data:`MAX_ESCAPES` times.
"""

from __future__ import annotations

import numpy as np

from ._hessian import from_free as _from_log_ratios
from ._hessian import to_free as _to_log_ratios
from .params import GMMParams

#: No extrapolation through (no log-ratio of) a class this empty: log π would lose all precision.
MIN_WEIGHT = 1e-200
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


def curvature(samples, p: GMMParams, equal_variance: bool, std_floor: float = 0.0):
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
    if p.weights.min() < MIN_WEIGHT or p.stds.min() <= std_floor:
        return None, np.nan, None
    _, _, hess = samples.hessian_sums(p, equal_variance)
    total = samples.total_weight
    d = p.n_components
    scale = np.ones(hess.shape[0])
    scale[d - 1:2 * d - 1] = p.stds
    eigval, eigvec = np.linalg.eigh(hess * np.outer(scale, scale) / total)
    # the directions that do not curve down, steepest first; and nearly flat ones (ESCAPE_TOL):
    # at coincident components the split is flat only at θ*, and EM stops within tol of it
    up = eigval[::-1] >= -ESCAPE_TOL
    return hess, float(eigval[-1]), scale[:, None] * eigvec[:, ::-1][:, up]


def certify(m, samples, params, history, state, steps, max_iter, tol, std_floor):
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
        hess, max_eig, v = curvature(samples, params, ev, std_floor)
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
