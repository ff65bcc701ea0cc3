"""Chapter 20 (beyond the lecture): several dimensions, exact for dimension 2 (MV1, MV2)."""

# ruff: noqa: E501  (the justifications are LaTeX, one line each)
from __future__ import annotations

import sympy as sp

from ._step import Step, by_procedure
from ._symbols import N, e, i, rho, sample_sum

# --------------------------------------------------------------------------
# Chapter 20 (beyond the lecture): several dimensions, exact for dimension 2
# --------------------------------------------------------------------------

x1 = sp.IndexedBase("x1", real=True)  # first coordinate of x^{[i]}
x2 = sp.IndexedBase("x2", real=True)  # second coordinate
_MU2 = sp.Matrix([sample_sum(rho[i, e] * x1[i]), sample_sum(rho[i, e] * x2[i])]) / sample_sum(rho[i, e])
_D1, _D2 = x1[i] - _MU2[0], x2[i] - _MU2[1]
_SIGMA2 = sp.Matrix([
    [sample_sum(rho[i, e] * _D1**2), sample_sum(rho[i, e] * _D1 * _D2)],
    [sample_sum(rho[i, e] * _D1 * _D2), sample_sum(rho[i, e] * _D2**2)],
]) / sample_sum(rho[i, e])
#: Samples N for the exact checks in two dimensions. A class's part of Q involves only its own
#: column of ρ, so the class index e stays symbolic: every class, and every D, at once.
_MV_SAMPLES = (2, 3)


def _vanishes(expr) -> bool:
    """A rational expression is exactly 0: its numerator expands to 0 (no gcd needed)."""
    numerator, _ = sp.fraction(sp.together(expr))
    return sp.expand(numerator) == 0


def _mv_objective(n, k):
    """Q of class k in two dimensions, with the precision Λ = [[p, q], [q, s]] (constant dropped)."""
    m1, m2, lp, lq, ls = sp.symbols("m1 m2 lp lq ls", real=True)
    terms = 0
    for ii in range(n):
        d1, d2 = x1[ii] - m1, x2[ii] - m2
        terms += rho[ii, k] * (sp.log(lp * ls - lq**2) / 2 - (lp * d1**2 + 2 * lq * d1 * d2 + ls * d2**2) / 2)
    return terms, (m1, m2), (lp, lq, ls)


#: For the numeric check: class e's Q in two dimensions for general N, its mean and precision
#: variables, and the updated mean (see :mod:`~gmmderive.symbolic.crosscheck`).
_m1, _m2, _lp, _lq, _ls = sp.symbols("m1 m2 lp lq ls", real=True)
_MV_SPEC = (
    sample_sum(rho[i, e] * (sp.log(_lp * _ls - _lq**2) / 2
                            - (_lp * (x1[i] - _m1) ** 2 + 2 * _lq * (x1[i] - _m1) * (x2[i] - _m2)
                               + _ls * (x2[i] - _m2) ** 2) / 2)),
    (_m1, _m2), (_lp, _lq, _ls), _MU2,
)

_MV_SIZES_TEXT = "N = 2 and N = 3 samples, with the class index e symbolic (so for every class and every D)"


def _at_samples(expr, n):
    """``expr`` with N = n and its sums over the samples written out; D and e stay symbolic.

    The claim is for every class and every D, so D is not fixed: a claim that depends on D
    (the answer times D - 1) keeps D and does not vanish.
    """
    return expr.xreplace({N: n}).doit()


def _mv_means(step):
    for n in _MV_SAMPLES:
        claim = _at_samples(step.rhs, n)
        q_e, (m1, m2), _ = _mv_objective(n, e)
        grad = [sp.diff(q_e, m).xreplace({m1: claim[0], m2: claim[1]}) for m in (m1, m2)]
        if not all(_vanishes(g_) for g_ in grad):
            return False, (), f"N={n}: the gradient in μ does not vanish"
    return True, (), rf"$\nabla_{{\mu_e}} Q = 0$ at the claimed mean, exactly, for {_MV_SIZES_TEXT}."


def _mv_covariances(step):
    big_a, big_b, big_c = sp.symbols("A B C", real=True)
    det = big_a * big_c - big_b**2
    for n in _MV_SAMPLES:
        mean, cov = _at_samples(_MU2, n), _at_samples(step.rhs, n)
        # Λ = [[p, q], [q, s]] is symmetric, so its gradient sees only the symmetric part of
        # the claim: the claim must be symmetric itself (entry (1, 0) is checked too)
        if not _vanishes(cov[1, 0] - cov[0, 1]):
            return False, (), f"N={n}: the claimed covariance is not symmetric"
        q_e, (m1, m2), (lp, lq, ls) = _mv_objective(n, e)
        # Λ = Σ^{-1} for Σ = [[A, B], [B, C]], then Σ = the claimed covariance
        at_inverse = {lp: big_c / det, lq: -big_b / det, ls: big_a / det}
        inv_det_lambda = sp.Pow(lp * ls - lq**2, -1)  # 1/det Λ = det Σ
        for w_ in (lp, lq, ls):
            g_ = sp.diff(q_e, w_).xreplace({inv_det_lambda: det}).xreplace(at_inverse)
            g_ = g_.xreplace({m1: mean[0], m2: mean[1], big_a: cov[0, 0], big_b: cov[0, 1], big_c: cov[1, 1]})
            if not _vanishes(g_):
                return False, (), f"N={n}: the gradient in Λ does not vanish"
    return True, (), (rf"$\nabla_{{\Lambda_e}} Q = 0$ at $\Lambda_e = \Sigma_e^{{-1}}$ of the claimed covariance "
                      rf"(with the updated mean), exactly, for {_MV_SIZES_TEXT}.")


MV1 = Step(
    "MV1", 20, "two dimensions: the update of the mean vectors",
    lhs=sp.MatrixSymbol(r"\boldsymbol{\mu}_e", 2, 1),
    rhs=_MU2,
    justification=r"$\nabla_{\mu_e} \sum_i \rho_e^{[i]} \log \mathcal{N}(x^{[i]}; \mu_e, \Sigma_e) = \Sigma_e^{-1} \sum_i \rho_e^{[i]} (x^{[i]} - \mu_e) = 0$: the responsibility-weighted mean, coordinate by coordinate.",
    method=by_procedure(_mv_means, lhs=sp.MatrixSymbol(r"\boldsymbol{\mu}_e", 2, 1), tactics=("instantiate", "diff"),
                        spec=(("two_dimensional", _MV_SPEC),)),
    kind="exact",
)

_COVARIANCE = sp.MatrixSymbol(r"\Sigma_e", 2, 2)  # MV2's left side, what its procedure proves
MV2 = Step(
    "MV2", 20, "two dimensions: the update of the covariance matrices", _COVARIANCE, _SIGMA2,
    justification=r"Differentiate in the precision $\Lambda_e = \Sigma_e^{-1}$: $\frac12 \gamma_e \Lambda_e^{-1} - \frac12 \sum_i \rho_e^{[i]} (x^{[i]} - \mu_e)(x^{[i]} - \mu_e)^T = 0$, the weighted scatter about the updated mean.",
    method=by_procedure(_mv_covariances, lhs=_COVARIANCE, tactics=("instantiate", "diff"),
                        spec=(("two_dimensional", _MV_SPEC), ("least_samples", 3))),
    kind="exact",
)

