"""Chapter 17 (beyond the lecture): pitfalls, the E-step without π and the singular likelihood (P1, P2)."""

# ruff: noqa: E501  (the justifications are LaTeX, one line each)
from __future__ import annotations

import sympy as sp

from ._step import USES_LHS, Step, by_procedure, by_rewriting
from ._symbols import D, class_sum, d, i, normal_pdf, x, z
from ._tactics import split_sums
from .model import pdf

# --------------------------------------------------------------------------
# Chapter 17 (beyond the lecture): pitfalls
# --------------------------------------------------------------------------

_SLIP = pdf(x[i], z) / class_sum(pdf(x[i], d))  # the E-step that forgot π

P1 = Step(
    "P1", 17, "the E-step without π is the E-step of equal weights",
    lhs=_SLIP,
    rhs=(pdf(x[i], z) / D) / class_sum(pdf(x[i], d) / D),
    justification=r"Dropping $\pi_c$ from $\tilde\rho_c^{[i]}$ gives the posterior of the model with $\pi_c = 1/D$: right when the weights are equal. With unequal weights it differs from the posterior (the bridge test shows it failing on data).",
    method=by_rewriting(split_sums),
)

_s0 = sp.Symbol("sigma", positive=True)
P2 = Step(
    "P2", 17, "a component on a data point has unbounded likelihood",
    lhs=sp.Limit(sp.log(normal_pdf(x[i], x[i], _s0)), _s0, 0, "+"),
    rhs=sp.oo,
    justification=r"With $\mu_c = x^{[i]}$, $\log \mathcal{N}(x^{[i]}; x^{[i]}, \sigma) = -\log \sigma - \frac12 \log 2\pi \to \infty$ as $\sigma \to 0$: the likelihood has no maximum, only a singularity.",
    method=by_procedure(lambda step: (step.lhs.doit() == step.rhs, [("SymPy's limit", step.lhs.doit())], ""),
                        lhs=USES_LHS, tactics=("limit",)),
)

