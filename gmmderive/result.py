"""The result: the selected run mapped back to x, with its warnings (the last stage of the fit)."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from ._engine import user_stacklevel
from ._hessian import StandardErrors, standard_errors
from ._validation import check_log_likelihood
from .certificate import HESSIAN_TOL, MAX_ESCAPES
from .core import warn_degenerate
from .em import Run
from .params import GMMParams


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
        (``gmmderive.certificate.HESSIAN_TOL``). A run that stops at a saddle is
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


def fit_result(best: Run, samples, options) -> FitResult:
    """The best run mapped back to x, in canonical order, with the warnings it deserves."""
    frame = samples.frame
    history = best.history - samples.total_weight * frame.log_scale  # log p(x) = log p(z) - log(2^k s) per sample
    if samples.weight_exponent:
        with np.errstate(over="ignore"):  # beyond a float: the error below
            history = np.ldexp(history, samples.weight_exponent)  # Σ_i w_i log p with the weights given
        check_log_likelihood(float(np.min(history)), weighted=True)  # -inf if any overflowed

    warn_degenerate(best.collapsed, best.empty, samples.floor * frame.std_x)
    _warn_not_certified(best, options.tol, options.max_iter)
    params = frame.params_from_z(best.params)
    order = params.canonical_order()
    history.setflags(write=False)
    return FitResult(
        params=params.permuted(order),
        log_likelihood=float(history[-1]),
        history=history,
        n_iter=best.n_iter,
        converged=best.converged,
        responsibilities=samples.responsibilities(best.params, order, best.resp),
        init_params=frame.params_from_z(best.start),
        max_eigenvalue=best.max_eigenvalue,
        standard_errors=_standard_errors(best, samples, order),
    )


def _warn_not_certified(best: Run, tol: float, max_iter: int) -> None:
    """The :class:`ConvergenceWarning` of a run that stopped at a saddle, or at ``max_iter``."""
    if best.saddle and best.max_eigenvalue > HESSIAN_TOL:
        warnings.warn(f"EM stopped at a saddle point of the likelihood, not a maximum: the Hessian's largest "
                      f"eigenvalue per sample is {best.max_eigenvalue:.3g} > {HESSIAN_TOL:g}, and restarts "
                      f"along its eigenvector (at most {MAX_ESCAPES}) did not climb; try other starts",
                      ConvergenceWarning, stacklevel=user_stacklevel())
    elif best.saddle:
        warnings.warn(f"EM stopped at a point that is not a strict maximum: the Hessian's largest eigenvalue "
                      f"per sample is {best.max_eigenvalue:.3g}, within {HESSIAN_TOL:g} of 0 (a flat direction: "
                      "coincident components, so a fit with fewer components), and a restart along it did "
                      "not climb; try fewer components or other starts", ConvergenceWarning,
                      stacklevel=user_stacklevel())
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
        warnings.warn(f"EM did not converge in {max_iter} iterations ({why})", ConvergenceWarning,
                      stacklevel=user_stacklevel())


def _standard_errors(best: Run, samples, order: np.ndarray) -> StandardErrors:
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
