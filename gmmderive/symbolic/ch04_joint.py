"""Chapter 4: the joint p(Z, X) of the GMM (S1-S3, J1, J2)."""

# ruff: noqa: E501  (the justifications are LaTeX, one line each)
from __future__ import annotations

import sympy as sp

from ._step import Step, by_rewriting
from ._symbols import X, class_sum, d, mu, pi, sigma, z
from ._tactics import sift, split_sums
from .model import SIMPLEX, _integrate, joint, mixture, pdf

# --------------------------------------------------------------------------
# Chapter 4: the joint
# --------------------------------------------------------------------------

S1 = Step(
    "S1", 4, "chain rule: p(X | Z=z) = p(Z=z, X) / p(Z=z) is N(X; μ_z, σ_z)",
    lhs=joint(z, X) / sp.Integral(joint(z, X), (X, -sp.oo, sp.oo)),
    rhs=pdf(X, z),
    justification=r"Divide the joint $p(Z=z, X)$ of S3 by its marginal $p(Z=z) = \int p(Z=z, x)\, dx = \pi_z$: the conditional is the Gaussian of class $z$, so $p(Z, X) = p(Z)\, p(X \mid Z)$ with the factors of S2.",
    method=by_rewriting(sift, _integrate),
)


def _stats_normal(value, cls):
    from sympy.stats import Normal, density

    return density(Normal("X_" + str(cls), mu[cls], sigma[cls]))(value)


S2 = Step(
    "S2", 4, "the factors are Cat(Z; π) and N(X; μ_Z, σ_Z)",
    lhs=pi[z] * _stats_normal(X, z),
    lhs_display=sp.Symbol(r"\pi_z \cdot \mathtt{sympy.stats.Normal}(\mu_z, \sigma_z)\mathtt{.pdf}(X)"),
    rhs=pi[z] * pdf(X, z),
    justification=r"The Gaussian density as the book writes it equals SymPy's own (`sympy.stats.Normal`): no slip in $2\sigma^2$ or $\sqrt{2\pi}$.",
    method=by_rewriting(),
)

S3 = Step(
    "S3", 4, "the joint written out, Cat in indicator form",
    lhs=pi[z] * pdf(X, z),
    rhs=joint(z, X),
    justification=r"$\prod_d \pi_d^{\mathbb{I}(d=z)}$ keeps only the factor $d = z$: the sifting property of the indicator.",
    method=by_rewriting(sift),
)

J1 = Step(
    "J1", 4, "the joint is normalized",
    lhs=class_sum(sp.Integral(joint(z, X), (X, -sp.oo, sp.oo)), z),
    rhs=sp.S.One,
    justification=r"Integrate over $x$ (each Gaussian gives 1), then sum over $z$ (the weights sum to 1).",
    method=by_rewriting(sift, _integrate, split_sums, lambda ex: SIMPLEX.rewrite(ex.subs(z, d))),
    hypotheses=(SIMPLEX,),
)

J2 = Step(
    "J2", 4, "summing the joint over z gives the mixture",
    lhs=class_sum(joint(z, X), z),
    rhs=mixture(X),
    justification="The sifting property in every term, then rename the summation index.",
    method=by_rewriting(sift),
)

