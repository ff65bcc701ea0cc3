"""Chapters 1-3: the Gaussian, the mixture, the log of a sum (G1-G3)."""

# ruff: noqa: E501  (the justifications are LaTeX, one line each)
from __future__ import annotations

import sympy as sp

from ._step import Step, by_rewriting
from ._symbols import X, c, class_sum, i, x, z
from ._tactics import sift, split_sums
from .model import SIMPLEX, _integrate, joint, mixture, pdf

# --------------------------------------------------------------------------
# Chapters 1-3: the Gaussian, the mixture, the log of a sum
# --------------------------------------------------------------------------

G1 = Step(
    "G1", 1, "the Gaussian density integrates to one",
    lhs=sp.Integral(pdf(X, c), (X, -sp.oo, sp.oo)),
    rhs=sp.S.One,
    justification=r"SymPy integrates $\mathcal{N}(X; \mu_c, \sigma_c)$ over the real line, for any $\mu_c$ and $\sigma_c > 0$.",
    method=by_rewriting(_integrate),
)

G2 = Step(
    "G2", 2, "the mixture density integrates to one",
    lhs=sp.Integral(mixture(X), (X, -sp.oo, sp.oo)),
    rhs=sp.S.One,
    justification="Integrate term by term (a finite sum); each Gaussian gives 1 and the weights sum to 1.",
    method=by_rewriting(_integrate, split_sums, SIMPLEX.rewrite),
    hypotheses=(SIMPLEX,),
)

G3 = Step(
    "G3", 3, "the log-likelihood of a sample is a log of a sum",
    lhs=sp.log(class_sum(joint(z, x[i]), z)),
    rhs=sp.log(mixture(x[i])),
    justification=r"Marginalize the latent class: $p(x^{[i]}; \theta) = \sum_z p(Z=z, X=x^{[i]}; \theta)$; the log cannot enter the sum.",
    method=by_rewriting(sift),
)

