"""Chapters 7-8: the Q-function, and why its maximization needs the simplex (S8-S11, M1)."""

# ruff: noqa: E501  (the justifications are LaTeX, one line each)
from __future__ import annotations

import sympy as sp

from ._step import Step, by_differentiation, by_procedure, by_rewriting
from ._symbols import I, N, Q, c, class_sum, d, e, gamma, i, mu, pi, rho, sample_sum, sigma, x
from ._tactics import constant_sums, expand_logs, sift, split_sums, swap_sums
from .model import GAMMA, Q_S10, ROWS, joint, pdf

# --------------------------------------------------------------------------
# Chapter 7: the Q-function
# --------------------------------------------------------------------------

Q_S8 = sample_sum(class_sum(rho[i, c] * sp.log(joint(c, x[i])), c))
Q_S9 = sample_sum(class_sum(rho[i, c] * (
    class_sum(I(d, c) * sp.log(pi[d]))
    + sp.log(1 / (sigma[c] * sp.sqrt(2 * sp.pi)), evaluate=False)
    - (x[i] - mu[c]) ** 2 / (2 * sigma[c] ** 2)
), c))
Q_S10_WITH_CONSTANT = sample_sum(class_sum(rho[i, c] * (
    class_sum(I(d, c) * sp.log(pi[d]))
    - sp.log(sigma[c]) - sp.log(2 * sp.pi) / 2
    - (x[i] - mu[c]) ** 2 / (2 * sigma[c] ** 2)
), c))

S8 = Step(
    "S8", 7, "the Q-function with the joint inserted",
    lhs=Q_S8,
    rhs=sample_sum(class_sum(rho[i, c] * sp.log(pi[c] * pdf(x[i], c)), c)),
    justification=r"$Q = \sum_i \sum_c \rho_c^{[i]} \log p(Z=c, X=x^{[i]}; \theta)$, with the joint of S3.",
    method=by_rewriting(sift, expand_logs),
    lhs_display=Q,
)

#: The next two forms of Q, each from the one before: the log of the joint split, then the
#: log of the Gaussian's normalizer.
S9 = Step("S9", 7, "the log turns the joint's product into a sum", Q_S8, Q_S9,
          r"The log of a product is the sum of the logs; $\log \prod_d \pi_d^{\mathbb{I}(d=c)} = \sum_d \mathbb{I}(d=c) \log \pi_d$.",
          by_rewriting(sift, expand_logs), lhs_display=Q)
S10 = Step("S10", 7, "the Gaussian's normalizer split off", Q_S9, Q_S10_WITH_CONSTANT,
           r"$\log \frac{1}{\sigma_c \sqrt{2\pi}} = -\log \sigma_c - \frac12 \log(2\pi)$.",
           by_rewriting(expand_logs), lhs_display=Q)

M1 = Step(
    "M1", 7, "the dropped constant is -(N/2) log 2π",
    lhs=Q_S10_WITH_CONSTANT - Q_S10,
    rhs=-N * sp.log(2 * sp.pi) / 2,
    justification=r"The constant multiplies $\sum_i \sum_c \rho_c^{[i]} = N$ (rows sum to 1): it shifts $Q$ but moves no argmax.",
    method=by_rewriting(sift, split_sums, swap_sums, ROWS.rewrite, constant_sums),
    hypotheses=(ROWS,),
)

# --------------------------------------------------------------------------
# Chapter 8: maximization, formally
# --------------------------------------------------------------------------


def _s11_method(step):
    ok, work, msg = by_differentiation(Q_S10, pi[e], sift, split_sums, named=Q).run(step)
    if not ok:
        return ok, work, msg
    if not step.rhs.is_positive:  # γ_e > 0 (a class with γ_e = 0 is empty), π_e > 0
        return False, work, "the derivative is not shown positive"
    return True, work, r"The derivative is positive for every $\pi_e$: $Q$ alone has no maximum inside $[0, 1]^D$."


S11 = Step(
    "S11", 8, "without the constraint Q grows in every π_e",
    lhs=sp.Derivative(Q, pi[e]),
    rhs=gamma[e] / pi[e],
    justification=r"$\partial Q / \partial \pi_e = \gamma_e / \pi_e > 0$: $Q$ increases without bound in $\pi$, so the maximization needs $\sum_d \pi_d = 1$.",
    method=by_procedure(_s11_method, lhs=sp.Derivative(Q, pi[e]), tactics=("diff", "sift", "split_sums"),
                        spec=(("objective", Q_S10), ("variable", pi[e]), ("positive", True))),
    hypotheses=(GAMMA,),
)

