"""Chapter 18 (beyond the lecture): counting the free parameters (B1)."""

# ruff: noqa: E501  (the justifications are LaTeX, one line each)
from __future__ import annotations

import sympy as sp

from ._step import Step, by_rewriting
from ._symbols import D

# --------------------------------------------------------------------------
# Chapter 18 (beyond the lecture): counting parameters
# --------------------------------------------------------------------------

B1 = Step(
    "B1", 18, "free parameters of the GMM",
    lhs=sp.Add(D - 1, D, D, evaluate=False),
    rhs=3 * D - 1,
    justification=r"$D$ weights with one constraint $\sum_d \pi_d = 1$, $D$ means and $D$ standard deviations: $n_\theta = 3D - 1$ ($2D$ with one shared $\sigma$).",
    method=by_rewriting(),
)

