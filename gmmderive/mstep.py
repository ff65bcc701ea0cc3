"""The M-step from sufficient statistics: the one place its formulas are written.

Every M-step of the univariate model goes through :func:`m_step_arrays`: the lecture's
:func:`gmmderive.m_step`, each engine's iteration inside :func:`gmmderive.fit` (numba's fused
pass, NumPy, the chunks of a Dask array), the batched pre-runs of the default search and the
hard-assignment starts. Change the M-step here and all of them change.

The statistics are sums over the samples (each term times w_i with weights), per class e,
about centres c_e:

    γ_e = Σ_i ρ_e^{[i]},   S₁_e = Σ_i ρ_e^{[i]} (x^{[i]} - c_e),   S₂_e = Σ_i ρ_e^{[i]} (x^{[i]} - c_e)²

and the total weight W (N, or Σ_i w_i). Then (steps F1, F2, S20, S24, S29 of the book)

    μ_e = c_e + S₁_e / γ_e,   Σ_i ρ_e^{[i]} (x^{[i]} - μ_e)² = S₂_e - S₁_e² / γ_e,
    σ_e = √(Σ_i ρ_e^{[i]} (x^{[i]} - μ_e)² / γ_e),   π_e = γ_e / Σ_d γ_d.

The lecture's two-pass form is the case c_e = 0 for the means (:func:`class_means`), then the
sums about the new means, where S₁_e = 0. The engines sum about the current means and, if the
correction S₁²/γ would cancel, sum again about the new ones (:func:`em_update`).
"""

from __future__ import annotations

import numpy as np

from .params import MIN_STD, GMMParams

#: A class whose responsibility mass γ_c is below this is "empty": its mean
#: (a ratio of two vanishing sums) is undefined and the previous one is kept.
EMPTY_CLASS_MASS = 1e-10

#: Sum again about the new means when the shift correction S₁²/γ would cancel more than
#: this share of S₂ (:func:`em_update`).
RECENTRE_BELOW = 1e-3


def safe_mass(gamma, empty_below=EMPTY_CLASS_MASS):
    """γ_e as a divisor: 1 for an empty class, whose mean and σ are not used."""
    return np.where(gamma < empty_below, 1.0, gamma)


def class_means(gamma, s1, centers=0.0, empty_below=EMPTY_CLASS_MASS, safe=None):
    """μ_e = c_e + S₁_e / γ_e (S24, F1) from S₁ about ``centers`` (an empty class: c_e + S₁_e);
    ``safe`` is :func:`safe_mass` of γ if the caller has it."""
    return centers + s1 / (safe_mass(gamma, empty_below) if safe is None else safe)


def sq_dev_about_new_means(s1, s2, safe):
    """Σ_i ρ_e^{[i]} (x^{[i]} - μ_e)² = S₂_e - S₁_e² / γ_e (F2), with μ_e = c_e + S₁_e / γ_e."""
    return s2 - s1 * s1 / safe


def m_step_arrays(total, gamma, s1, s2, centers, previous_means, previous_stds, *, std_floor=0.0,
                  equal_variance=False, empty_below=EMPTY_CLASS_MASS):
    """The M-step from the statistics, for one or many parameter sets (arrays of shape (..., D)).

    Returns ``(weights, means, stds, collapsed, empty)``: ``collapsed`` says σ_e was raised to
    ``std_floor``, ``empty`` that γ_e was below :data:`EMPTY_CLASS_MASS`, so that μ_e and σ_e
    were kept from the previous parameters (with ``equal_variance``, σ is the pooled one).
    ``total`` is W (a number, or an array that broadcasts against the sets, shape (..., 1)).
    A σ below the smallest normal float (only without a floor) is returned as it is: the
    callers decide (:func:`m_step_from_sums` raises). ``empty_below`` 0 counts no class empty
    (the hard assignments of a start, whose groups are never empty, of any weight).
    """
    empty = gamma < empty_below
    safe = np.where(empty, 1.0, gamma)  # safe_mass
    means = class_means(gamma, s1, centers, safe=safe)
    sq_dev = np.maximum(sq_dev_about_new_means(s1, s2, safe), 0.0)  # with the μ_e just updated (S29)
    if equal_variance:
        # one σ for all classes: σ² = Σ_e Σ_i ρ_e^{[i]} (x^{[i]} - μ_e)² / W
        pooled = np.sqrt(np.where(empty, 0.0, sq_dev).sum(axis=-1, keepdims=True) / total)
        stds = np.broadcast_to(pooled, sq_dev.shape)
    else:
        stds = np.sqrt(sq_dev / safe)
    if empty.any():
        means = np.where(empty, previous_means, means)
        if not equal_variance:
            stds = np.where(empty, previous_stds, stds)
    collapsed = ~empty & (stds < std_floor)
    stds = np.maximum(stds, std_floor)
    # S20: π_e = γ_e / W. Σ_e γ_e = W exactly when every row of ρ sums to one (M2); rows that
    # do so only within the lecture's row check would leave the weights off the simplex.
    weights = gamma / gamma.sum(axis=-1, keepdims=True)
    return weights, means, stds, collapsed, empty


def m_step_from_sums(total, gamma, s1, s2, centers, previous=None, *, std_floor=0.0, equal_variance=False):
    """:func:`m_step_arrays` for one parameter set: ``(GMMParams, collapsed, empty)``.

    Without ``previous`` an empty class is an error (its mean is undefined); so is a σ that
    collapsed to below the smallest float (no floor held it).
    """
    if previous is None and (gamma < EMPTY_CLASS_MASS).any():
        c = int(np.flatnonzero(gamma < EMPTY_CLASS_MASS)[0])
        raise ValueError(
            f"class {c} has no responsibility mass (γ_{c} = {gamma[c]:.3g}): "
            "its mean is undefined; pass previous=... to keep its old parameters"
        )
    prev_means, prev_stds = (None, None) if previous is None else (previous.means, previous.stds)
    weights, means, stds, collapsed, empty = m_step_arrays(
        total, gamma, s1, s2, centers, prev_means, prev_stds, std_floor=std_floor, equal_variance=equal_variance)
    if not (stds >= MIN_STD).all():  # only without a floor: σ = 0 is no Gaussian
        c = int(np.flatnonzero(~(stds >= MIN_STD))[0])
        raise ValueError(f"component {c} collapsed onto a single value (σ = {stds[c]:.3g}) and std_floor = "
                         f"{std_floor:g} does not hold it; use std_floor > 0 (the default is 1e-6 of the spread)")
    return GMMParams._trusted(weights, np.array(means, dtype=np.float64), stds), collapsed, empty


def two_pass_m_step(total, gamma, sum_x, sq_dev_about, previous=None, *, std_floor=0.0, equal_variance=False):
    """The lecture's two-pass M-step: μ_e from Σ_i ρ_e^{[i]} x^{[i]} (S24), then
    ``sq_dev_about(μ)`` = Σ_i ρ_e^{[i]} (x^{[i]} - μ_e)² about the new means (S29), where S₁ = 0."""
    means = class_means(gamma, sum_x)
    return m_step_from_sums(total, gamma, np.zeros_like(means), sq_dev_about(means), means, previous,
                            std_floor=std_floor, equal_variance=equal_variance)


def em_update(sums_about, params: GMMParams, total, *, std_floor=0.0, equal_variance=False, sums=None):
    """One EM iteration's M-step from an engine's sums: ``(log-likelihood, params, collapsed, empty)``.

    ``sums_about(centers)`` returns ``(log p(𝒟; params), γ, S₁, S₂)`` about ``centers``: one pass
    of an engine over the data. The sums are taken about the current means; if a mean moved so
    far that S₂ - S₁²/γ would cancel (more than :data:`RECENTRE_BELOW`), once more about the new
    means, a small, accurate correction of both. ``sums``, if given, are
    ``sums_about(params.means)`` already computed (the batched pre-runs compute many at once).
    """
    ll, gamma, s1, s2 = sums_about(params.means) if sums is None else sums
    sq_dev = sq_dev_about_new_means(s1, s2, safe_mass(gamma))
    if np.any(~(gamma < EMPTY_CLASS_MASS) & (sq_dev < RECENTRE_BELOW * s2)):
        centers = class_means(gamma, s1, params.means)
        _, _, s1, s2 = sums_about(centers)
    else:
        centers = params.means
    new, collapsed, empty = m_step_from_sums(total, gamma, s1, s2, centers, params, std_floor=std_floor,
                                             equal_variance=equal_variance)
    return ll, new, collapsed, empty
