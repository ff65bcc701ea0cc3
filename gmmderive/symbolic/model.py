"""The model's pieces and the facts the proofs take as given.

The Gaussian density of a class, the joint and the mixture, the Q-function of S10 and its
Lagrangian (S13); the hypotheses the derivation's proofs may use (the simplex, the rows of
ρ, the definition of γ, the conditions of the σ updates); small helpers that keep a
display as the lecture writes it.
"""

# ruff: noqa: E501  (the justifications are LaTeX, one line each)
from __future__ import annotations

import sympy as sp

from ._step import Hypothesis
from ._symbols import I, c, categorical, class_sum, d, e, gamma, i, lam, mu, normal_pdf, pi, rho, sample_sum, sigma, x

# --------------------------------------------------------------------------
# The model's pieces
# --------------------------------------------------------------------------


def pdf(value, cls):
    """N(value; μ_cls, σ_cls)."""
    return normal_pdf(value, mu[cls], sigma[cls])


def joint(cls, value):
    """p(Z=cls, X=value; θ) in the lecture's S3 form: Π_d π_d^{I(d=cls)} · N(value; μ_cls, σ_cls)."""
    return categorical(cls) * pdf(value, cls)


def mixture(value):
    """The mixture density Σ_d π_d N(value; μ_d, σ_d)."""
    return class_sum(pi[d] * pdf(value, d))


#: The summand of Q in the lecture's S10 form, without the constant -½ log 2π.
def q_summand(cls, sample):
    return rho[sample, cls] * (
        class_sum(I(d, cls) * sp.log(pi[d]))
        - sp.log(sigma[cls])
        - (x[sample] - mu[cls]) ** 2 / (2 * sigma[cls] ** 2)
    )


#: g(π) = 1 - Σ_d π_d, zero on the constraint.
g_constraint = 1 - class_sum(pi[d])

#: Q of S10 without its constant (what the lecture maximizes).
Q_S10 = sample_sum(class_sum(q_summand(c, i), c))

#: The Lagrangian Q̂ of S13.
LAGRANGIAN = Q_S10 + lam * g_constraint


def lagrangian_written_out(weight=1):
    """Q̂ of S13 written out as the lecture writes it (each sample's terms times ``weight``, w_i in WT2)."""
    return sample_sum(weight * class_sum(rho[i, c] * (
        class_sum(I(d, c) * sp.log(pi[d])) - sp.log(sigma[c]) - (x[i] - mu[c]) ** 2 / (2 * sigma[c] ** 2)
    ), c)) + lam * (1 - class_sum(pi[d]))

# --------------------------------------------------------------------------
# Hypotheses: facts the proofs may use, each with a rewrite for SymPy
# --------------------------------------------------------------------------


SIMPLEX = Hypothesis("the weights sum to one", sp.Eq(class_sum(pi[d]), 1), source="assumption")

#: ρ is ρ̃ normalized over its row (S7): each row sums to one. This is what the E-step's ρ is
#: (a definition of the symbol ρ); E2 proves it of the normalized form written out, which is
#: another formula, so E2 is not its source.
ROWS = Hypothesis("every row of ρ sums to one", sp.Eq(class_sum(rho[i, d]), 1), over=(i,), source="definition")

GAMMA = Hypothesis(
    "definition of the class responsibilities", sp.Eq(gamma[c], sample_sum(rho[i, c])), over=(c,), source="definition",
)

#: The σ update needs a class with positive weighted scatter (γ_e > 0 is the symbol's own assumption).
SCATTER = Hypothesis(
    "class e has positive weighted scatter",
    sp.StrictGreaterThan(sample_sum(rho[i, e] * (x[i] - mu[e]) ** 2), 0),
    over=(e,),
    source="condition",
)


def _integrate(ex):
    """Evaluate integrals, a finite sum of integrals term by term."""

    def rule(a):
        inner = a.function
        sums = [f for f in sp.Mul.make_args(inner) if isinstance(f, sp.Sum)]
        if len(sums) == 1:  # ∫ k Σ_d f_d = Σ_d ∫ k f_d, for k free of d
            s = sums[0]
            rest = inner / s
            if not (rest.free_symbols & {lim[0] for lim in s.limits}):
                return sp.Sum(sp.Integral(rest * s.function, *a.limits), *s.limits)
        return a

    ex = ex.replace(lambda a: isinstance(a, sp.Integral), rule)
    return ex.replace(lambda a: isinstance(a, sp.Integral), lambda a: a.doit())


def _u(*args):
    """An unevaluated product, to show the lecture's factors as written."""
    return sp.Mul(*args, evaluate=False)


def _add(*args):
    return sp.Add(*args, evaluate=False)

#: X12.1's update divides by Σ_i ρ_e^{[i]}, written as a sum: the class must not be empty.
CLASS_NOT_EMPTY = Hypothesis(
    "class e is not empty", sp.StrictGreaterThan(sample_sum(rho[i, e]), 0), over=(e,), source="condition",
)


