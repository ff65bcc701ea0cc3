"""Chapter 11: the update of the means (S21-S24)."""

# ruff: noqa: E501  (the justifications are LaTeX, one line each)
from __future__ import annotations

import sympy as sp

from ._step import Hypothesis, Step, by_differentiation, by_rewriting, by_solving
from ._symbols import Q_hat, e, gamma, i, mu, rho, sample_sum, sigma, x
from ._tactics import sift, split_sums
from .model import GAMMA, LAGRANGIAN, _u

# --------------------------------------------------------------------------
# Chapter 11: means
# --------------------------------------------------------------------------

S21 = Step(
    "S21", 11, "derivative of the Lagrangian in μ_e",
    lhs=sp.Derivative(Q_hat, mu[e]),
    rhs=sample_sum(rho[i, e] * _u(-2, x[i] - mu[e], -1, 1 / (2 * sigma[e] ** 2))),
    justification=r"SymPy differentiates $\hat Q$ of S13; the chain rule on $-(x^{[i]} - \mu_e)^2/(2\sigma_e^2)$ gives $-2(x^{[i]} - \mu_e)(-1)/(2\sigma_e^2)$.",
    method=by_differentiation(LAGRANGIAN, mu[e], sift, split_sums, named=Q_hat),
)

S22 = Step(
    "S22", 11, "multiply the stationarity condition by σ_e²",
    lhs=sigma[e] ** 2 * S21.rhs,
    rhs=sample_sum(rho[i, e] * (x[i] - mu[e])),
    justification=r"$\sigma_e^2 > 0$ does not depend on $i$, so $\partial \hat Q / \partial \mu_e = 0$ exactly when this sum is 0.",
    method=by_rewriting(split_sums),
)

#: Σ_i ρ_e^{[i]} μ_e is γ_e μ_e: the definition of γ, after the sum is split.
S23 = Step("S23", 11, "split the sum: γ_e appears", S22.rhs, sample_sum(rho[i, e] * x[i]) - gamma[e] * mu[e],
           r"$\sum_i \rho_e^{[i]} \mu_e = \mu_e \sum_i \rho_e^{[i]} = \gamma_e \mu_e$.",
           by_rewriting(split_sums, GAMMA.rewrite), hypotheses=(GAMMA,))

S24 = Step(
    "S24", 11, "the update of the means",
    key=True,
    lhs=mu[e],
    rhs=(1 / gamma[e]) * sample_sum(rho[i, e] * x[i]),
    justification=r"Solve $\sum_i \rho_e^{[i]} x^{[i]} - \gamma_e \mu_e = 0$ for $\mu_e$.",
    method=by_solving(S23.rhs, mu[e]),
    hypotheses=(GAMMA,),
)

#: S24, proven above, as a fact for the closing remark (every class e).
MEAN_UPDATE = Hypothesis.from_step(S24, "μ_e is the updated mean (S24)")

