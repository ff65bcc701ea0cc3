"""Chapters 5-6: the E-step, the responsibilities un-normalized and normalized (S4-S7, E1-E3)."""

# ruff: noqa: E501  (the justifications are LaTeX, one line each)
from __future__ import annotations

import sympy as sp

from ._step import USES_LHS, Step, by_procedure, by_rewriting
from ._symbols import X, c, class_sum, d, i, pi, rho_tilde, x, z
from ._tactics import sift, split_sums
from .model import joint, mixture, pdf

# --------------------------------------------------------------------------
# Chapter 5: E-step, un-normalized responsibilities
# --------------------------------------------------------------------------

POSTERIOR = joint(z, X) / class_sum(joint(d, X))

S4 = Step(
    "S4", 5, "Bayes' rule for the latent class",
    lhs=POSTERIOR,
    rhs=pdf(X, z) * pi[z] / mixture(X),
    justification=r"$p(Z=z \mid X) = p(X \mid Z=z)\, p(Z=z) / p(X)$, with $p(X)$ the marginal of the joint (J2).",
    method=by_rewriting(sift),
)

E1 = Step(
    "E1", 5, "the posterior sums to one over the classes",
    lhs=class_sum(S4.rhs, z),
    rhs=sp.S.One,
    justification=r"The denominator $p(X)$ does not depend on $z$, so it moves out of the sum and cancels.",
    method=by_rewriting(split_sums),
)


def _s5_method(step):
    ok, work, msg = by_rewriting(sift)(step)
    if ok and z in sift(step.rhs).free_symbols:
        return False, work, "the ratio still depends on z"
    return ok, work, msg or "The ratio is free of z: the posterior is proportional to the joint."


S5 = Step(
    "S5", 5, "the posterior is proportional to the joint",
    lhs=POSTERIOR / joint(z, X),
    rhs=1 / mixture(X),
    justification=r"Dividing the posterior by the joint leaves $1/p(X)$, the same for every class $z$: normalize later.",
    method=by_procedure(_s5_method, lhs=USES_LHS, tactics=("sift",)),
)

S6 = Step(
    "S6", 5, "the un-normalized responsibilities",
    lhs=joint(z, x[i]),
    rhs=pi[z] * pdf(x[i], z),
    justification=r"$\tilde\rho_z^{[i]}$ is the joint of S3 at $X = x^{[i]}$; the indicator product keeps $\pi_z$.",
    method=by_rewriting(sift),
)

# --------------------------------------------------------------------------
# Chapter 6: E-step, normalizing
# --------------------------------------------------------------------------

RHO_TILDE = lambda cls: pi[cls] * pdf(x[i], cls)  # noqa: E731  (S6)

S7 = Step(
    "S7", 6, "normalized responsibilities equal the posterior",
    lhs=RHO_TILDE(z) / class_sum(RHO_TILDE(d)),
    rhs=POSTERIOR.subs(X, x[i]),
    justification=r"Dividing $\tilde\rho$ by its row sum is Bayes' rule (S4) at $X = x^{[i]}$.",
    method=by_rewriting(sift),
)

E2 = Step(
    "E2", 6, "every row of ρ sums to one",
    lhs=class_sum(RHO_TILDE(c) / class_sum(RHO_TILDE(d)), c),
    rhs=sp.S.One,
    justification=r"The row sum $\sum_d \tilde\rho_d^{[i]}$ does not depend on $c$: it moves out and cancels.",
    method=by_rewriting(split_sums),
)

_k = sp.Symbol("k", positive=True)
E3 = Step(
    "E3", 6, "a factor common to a row cancels in the normalization",
    lhs=_k * rho_tilde[i, c] / class_sum(_k * rho_tilde[i, d]),
    rhs=rho_tilde[i, c] / class_sum(rho_tilde[i, d]),
    justification=r"Why the proportional form of S5 suffices: any factor $k > 0$ shared by a row (like $1/p(x^{[i]})$) cancels.",
    method=by_rewriting(split_sums),
)

