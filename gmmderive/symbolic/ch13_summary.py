"""Chapters 13-14: the three updates together, and the important remark (U1, R1, F1, F2)."""

# ruff: noqa: E501  (the justifications are LaTeX, one line each)
from __future__ import annotations

import sympy as sp

from ._printing import latex
from ._step import USES_LHS, Step, by_procedure, by_rewriting
from ._symbols import N, Q_hat, e, gamma, i, lam, mu, pi, rho, sample_sum, sigma, x
from ._tactics import reduce, split_sums
from .ch11_means import MEAN_UPDATE, S21
from .ch12_stds import S26
from .model import GAMMA

# --------------------------------------------------------------------------
# Chapter 13: summary
# --------------------------------------------------------------------------


#: ∂Q̂/∂π_e, ∂Q̂/∂μ_e and ∂Q̂/∂σ_e (S16, S21, S26) with the three updates substituted.
_AT_UPDATES = sp.Matrix([
    (gamma[e] / pi[e] - lam).subs({pi[e]: gamma[e] / N, lam: N}),
    S21.rhs.subs(mu[e], sample_sum(rho[i, e] * x[i]) / gamma[e]),
    S26.rhs.subs(sigma[e], sp.sqrt(sample_sum(rho[i, e] * (x[i] - mu[e]) ** 2) / gamma[e])),
])


def _updates_method(step):
    values = sp.Matrix([split_sums(GAMMA.rewrite(split_sums(v))) for v in step.lhs])
    left = reduce(values - step.rhs)  # the kernel has checked that the shapes agree
    work = [("SymPy's simplification of the three derivatives at the updates", left + step.rhs)]
    ok = all(v == 0 for v in left)
    return ok, work, "" if ok else f"an update does not make its derivative vanish: ${latex(left)}$"


U1 = Step(
    "U1", 13, "the three updates solve the stationarity conditions",
    key=True,
    lhs=_AT_UPDATES,
    rhs=sp.zeros(3, 1),
    justification=r"With $\pi_e = \gamma_e/N$ and $\lambda = N$, $\mu_e$ of S24, and $\sigma_e$ of S29 (with the updated $\mu_e$), $\partial \hat Q/\partial \pi_e$, $\partial \hat Q/\partial \mu_e$ and $\partial \hat Q/\partial \sigma_e$ all vanish.",
    method=by_procedure(_updates_method, lhs=USES_LHS, tactics=("split_sums", "hypothesis: definition of the class responsibilities", "simplify")),
    hypotheses=(GAMMA,),
    lhs_display=sp.Matrix([sp.Derivative(Q_hat, pi[e]), sp.Derivative(Q_hat, mu[e]), sp.Derivative(Q_hat, sigma[e])]),
)


# --------------------------------------------------------------------------
# Chapter 14: the important remark
# --------------------------------------------------------------------------

_mu_old = sp.Symbol("mu_old", real=True)

R1 = Step(
    "R1", 14, "the variance about the old mean is larger by (μ_e − μ_old)²: the parallel-axis identity",
    lhs=sample_sum(rho[i, e] * (x[i] - _mu_old) ** 2),
    rhs=sample_sum(rho[i, e] * (x[i] - mu[e]) ** 2) + gamma[e] * (mu[e] - _mu_old) ** 2,
    justification=r"With $\mu_e$ the update S24, the weighted squared deviations about any other point exceed those about $\mu_e$ by $\gamma_e (\mu_e - \mu_{\mathrm{old}})^2$.",
    method=by_rewriting(MEAN_UPDATE.rewrite, split_sums, GAMMA.rewrite, split_sums),
    hypotheses=(MEAN_UPDATE, GAMMA),
)

#: Σ_i ρ_e^{[i]} (x^{[i]} - μ_old): the first sum that fit's fused pass takes about the old mean.
_OLD_MEAN_DEVIATION = sample_sum(rho[i, e] * (x[i] - _mu_old))

F1 = Step(
    "F1", 14, "the new mean from deviations about the old one",
    lhs=mu[e],
    rhs=_mu_old + _OLD_MEAN_DEVIATION / gamma[e],
    justification=r"The update S24 is the old mean plus the mean deviation from it: $\mu_e = \mu_{\mathrm{old}} + \frac{1}{\gamma_e} \sum_i \rho_e^{[i]} (x^{[i]} - \mu_{\mathrm{old}})$. `fit` takes this sum in the same pass as the E-step.",
    method=by_rewriting(MEAN_UPDATE.rewrite, split_sums, GAMMA.rewrite, split_sums),
    hypotheses=(MEAN_UPDATE, GAMMA),
)

F2 = Step(
    "F2", 14, "the σ update from sums about the old mean (corrected two-pass)",
    lhs=sample_sum(rho[i, e] * (x[i] - mu[e]) ** 2),
    rhs=sample_sum(rho[i, e] * (x[i] - _mu_old) ** 2) - _OLD_MEAN_DEVIATION**2 / gamma[e],
    justification=r"R1 with $\mu_e - \mu_{\mathrm{old}}$ from F1: the squared deviations about the updated mean, which S29 needs, follow from two sums about the old mean, taken in the same pass as the E-step.",
    method=by_rewriting(MEAN_UPDATE.rewrite, split_sums, GAMMA.rewrite, split_sums),
    hypotheses=(MEAN_UPDATE, GAMMA),
)

