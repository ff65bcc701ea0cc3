"""Chapter 19 (beyond the lecture): one standard deviation for all classes (V1-V4)."""

# ruff: noqa: E501  (the justifications are LaTeX, one line each)
from __future__ import annotations

import sympy as sp

from ._step import Hypothesis, Step, by_differentiation, by_rewriting, by_solving
from ._symbols import I, N, Q_hat, c, class_sum, d, e, i, lam, mu, pi, rho, sample_sum, x
from ._tactics import constant_sums, sift, split_sums, swap_sums
from .ch11_means import S24
from .model import GAMMA, ROWS, g_constraint

# --------------------------------------------------------------------------
# Chapter 19 (beyond the lecture): equal variances
# --------------------------------------------------------------------------

s_shared = sp.Symbol("sigma", positive=True)  # one σ for all classes
_Q_EQUAL = sample_sum(class_sum(rho[i, c] * (
    class_sum(I(d, c) * sp.log(pi[d])) - sp.log(s_shared) - (x[i] - mu[c]) ** 2 / (2 * s_shared**2)
), c))
LAGRANGIAN_EQUAL = _Q_EQUAL + lam * g_constraint

V1 = Step(
    "V1", 19, "derivative of the shared-σ Lagrangian in σ",
    lhs=sp.Derivative(Q_hat, s_shared),
    rhs=sample_sum(class_sum(rho[i, c] * (-1 / s_shared + (x[i] - mu[c]) ** 2 / s_shared**3), c)),
    justification=r"SymPy differentiates $\hat Q$ with one $\sigma$ for all classes: every class contributes, not only class $e$.",
    method=by_differentiation(LAGRANGIAN_EQUAL, s_shared, sift, split_sums, named=Q_hat),
)

V2 = Step(
    "V2", 19, "multiply by σ³: N appears",
    lhs=s_shared**3 * V1.rhs,
    rhs=sample_sum(class_sum(rho[i, c] * (x[i] - mu[c]) ** 2, c)) - N * s_shared**2,
    justification=r"$\sum_i \sum_c \rho_c^{[i]} \sigma^2 = N \sigma^2$ because every row of $\rho$ sums to one.",
    method=by_rewriting(split_sums, swap_sums, ROWS.rewrite, constant_sums),
    hypotheses=(ROWS,),
)

V3 = Step(
    "V3", 19, "the update of the shared standard deviation",
    lhs=s_shared,
    rhs=sp.sqrt(sample_sum(class_sum(rho[i, c] * (x[i] - mu[c]) ** 2, c)) / N),
    justification=r"Solve V2 $= 0$ for $\sigma > 0$: the pooled weighted squared deviations about each class's own (updated) mean, over $N$.",
    method=by_solving(V2.rhs, s_shared),
    hypotheses=(Hypothesis(
        "positive pooled scatter",
        sp.StrictGreaterThan(sample_sum(class_sum(rho[i, c] * (x[i] - mu[c]) ** 2, c)), 0),
        source="condition",
    ),),
)

V4 = Step(
    "V4", 19, "the means' update is unchanged",
    lhs=mu[e],
    rhs=S24.rhs,
    justification=r"SymPy differentiates $\hat Q$ with one $\sigma$ in $\mu_e$ and solves $\partial \hat Q / \partial \mu_e = \sum_i \rho_e^{[i]} (x^{[i]} - \mu_e)/\sigma^2 = 0$: the root is the update S24, $\mu_e = \frac{1}{\gamma_e}\sum_i \rho_e^{[i]} x^{[i]}$ (one $\sigma$ for all classes only scales the equation).",
    method=by_solving(sp.diff(LAGRANGIAN_EQUAL, mu[e]), mu[e], sift, split_sums),
    hypotheses=(GAMMA,),
)

