"""Chapters 9-10: the Lagrangian, and the update of the weights (S12-S20, M2, M3, H2)."""

# ruff: noqa: E501  (the justifications are LaTeX, one line each)
from __future__ import annotations

import sympy as sp

from ._printing import latex
from ._step import Hypothesis, Step, by_chain, by_differentiation, by_procedure, by_rewriting, by_solving
from ._symbols import I, N, Q_hat, c, class_sum, d, e, gamma, i, lam, pi, rho, sample_sum
from ._tactics import constant_sums, instantiate, is_zero, sift, split_sums, swap_sums
from .model import GAMMA, LAGRANGIAN, ROWS, SIMPLEX, _u, g_constraint, lagrangian_written_out

# --------------------------------------------------------------------------
# Chapter 9: the Lagrangian
# --------------------------------------------------------------------------

S12 = Step(
    "S12", 9, "the constraint function vanishes on the simplex",
    lhs=g_constraint,
    rhs=sp.S.Zero,
    justification=r"$g(\pi) = 1 - \sum_d \pi_d$ is zero exactly when the weights sum to one, so $\hat Q = Q + \lambda g(\pi)$ equals $Q$ there.",
    method=by_rewriting(SIMPLEX.rewrite),
    hypotheses=(SIMPLEX,),
)

S13 = Step("S13", 9, "the Lagrangian written out", LAGRANGIAN, lagrangian_written_out(),
           r"$\hat Q = Q + \lambda g(\pi)$, with $Q$ of S10 (constant dropped) and $g(\pi) = 1 - \sum_d \pi_d$.",
           by_rewriting(), lhs_display=Q_hat, definition=True)

# --------------------------------------------------------------------------
# Chapter 10: cluster probabilities
# --------------------------------------------------------------------------

S14 = Step(
    "S14", 10, "derivative of the Lagrangian in π_e",
    lhs=sp.Derivative(Q_hat, pi[e]),
    rhs=sample_sum(class_sum(rho[i, c] * I(e, c) * (1 / pi[e]), c)) - lam,
    justification=r"SymPy differentiates $\hat Q$ of S13; only the terms with $d = e$ depend on $\pi_e$.",
    method=by_differentiation(LAGRANGIAN, pi[e], sift, split_sums, named=Q_hat),
)

S15 = Step(
    "S15", 10, "1/π_e moves out of the sums",
    lhs=S14.rhs,
    rhs=(1 / pi[e]) * sample_sum(class_sum(rho[i, c] * I(e, c), c)) - lam,
    justification=r"$1/\pi_e$ does not depend on $i$ or $c$.",
    method=by_rewriting(sift, split_sums),
)

S16 = Step(
    "S16", 10, "the indicator picks class e: γ_e appears",
    lhs=S15.rhs,
    rhs=gamma[e] / pi[e] - lam,
    justification=r"$\sum_c \rho_c^{[i]} \mathbb{I}(e=c) = \rho_e^{[i]}$, and $\sum_i \rho_e^{[i]} = \gamma_e$.",
    method=by_rewriting(sift, split_sums, GAMMA.rewrite),
    hypotheses=(GAMMA,),
)

S16b = Step(
    "S16b", 10, "setting ∂Q̂/∂π_e = 0 gives λ = γ_e/π_e",
    lhs=lam,
    rhs=gamma[e] / pi[e],
    justification=r"Solve $\gamma_e/\pi_e - \lambda = 0$ for $\lambda$.",
    method=by_solving(gamma[e] / pi[e] - lam, lam),
)

S17 = Step(
    "S17", 10, "the derivative in λ is the constraint",
    lhs=sp.Derivative(Q_hat, lam),
    rhs=1 - class_sum(pi[d]),
    justification=r"SymPy differentiates $\hat Q$ by $\lambda$: $\partial \hat Q / \partial \lambda = g(\pi) = 0$ is the constraint again.",
    method=by_differentiation(LAGRANGIAN, lam, named=Q_hat),
)

#: S16b for every class: λ = γ_e/π_e with one and the same λ (derived from S16b's proof, general in e).
STATIONARY_PI = Hypothesis.from_step(
    S16b, "stationarity in every π_e: λ = γ_e/π_e (S16b)", over=(e,),
    assumed="S16b solves ∂Q̂/∂π_e = 0 for one class; Lagrange's method sets it to 0 for every class at once, with one λ",
)

S18 = Step(
    "S18", 10, "the same λ for every class",
    lhs=lam * pi[d],
    rhs=gamma[d],
    justification=r"S16b holds for every class with one and the same $\lambda$: $\gamma_{e-1}/\pi_{e-1} = \gamma_e/\pi_e = \gamma_{e+1}/\pi_{e+1} = \lambda$; at class $d$, multiply by $\pi_d$.",
    method=by_rewriting(),
    hypotheses=(STATIONARY_PI,),
)

S19 = Step(
    "S19", 10, "the trick: λ = N",
    key=True,
    lhs=lam,
    rhs=N,
    justification=r"$\lambda = \lambda \cdot 1 = \lambda \sum_d \pi_d = \sum_d \lambda \pi_d = \sum_d \frac{\gamma_d}{\pi_d} \pi_d = \sum_d \gamma_d = N$.",
    method=by_chain([
        (_u(lam, 1), "multiply by one", ()),
        (lam * class_sum(pi[d]), "the weights sum to one", (SIMPLEX.rewrite,)),
        (class_sum(lam * pi[d]), "λ does not depend on d", (split_sums,)),
        (class_sum(_u(gamma[d] / pi[d], pi[d])), "stationarity: λ = γ_d/π_d for every d (S16, S18)",
         (STATIONARY_PI.rewrite, split_sums)),
        (class_sum(gamma[d]), "cancel π_d", (split_sums,)),
    ], GAMMA.rewrite, split_sums, swap_sums, ROWS.rewrite, constant_sums),
    hypotheses=(SIMPLEX, STATIONARY_PI, GAMMA, ROWS),
)

#: S19, proven above, as a fact for the weights' update.
LAMBDA_IS_N = Hypothesis.from_step(S19, "λ = N (S19)")

S20 = Step(
    "S20", 10, "the update of the weights: π_e = γ_e / N",
    key=True,
    lhs=pi[e],
    rhs=gamma[e] / N,
    justification=r"Solve the stationarity condition $\gamma_e/\pi_e - \lambda = 0$ with $\lambda = N$ for $\pi_e$.",
    method=by_solving(gamma[e] / pi[e] - lam, pi[e], LAMBDA_IS_N.rewrite),
    hypotheses=(LAMBDA_IS_N, GAMMA),
)

M2 = Step(
    "M2", 10, "the updated weights sum to one",
    lhs=class_sum(gamma[d] / N),
    rhs=sp.S.One,
    justification=r"$\sum_d \gamma_d = \sum_i \sum_d \rho_d^{[i]} = N$: the update stays on the simplex.",
    method=by_rewriting(GAMMA.rewrite, split_sums, swap_sums, ROWS.rewrite, constant_sums),
    hypotheses=(GAMMA, ROWS),
)


def _eliminated_weights(dd):
    """π_d maximizing Σ_d γ_d log π_d with π_{D-1} = 1 - Σ_{d<D-1} π_d, for concrete D.

    Returns the weights' symbols, the γ symbols and SymPy's stationary points.
    """
    p = sp.symbols(f"p0:{dd - 1}", positive=True)
    g = sp.symbols(f"g0:{dd}", positive=True)
    objective = sum(g[k] * sp.log(p[k]) for k in range(dd - 1)) + g[dd - 1] * sp.log(1 - sum(p))
    return p, g, sp.solve([sp.diff(objective, pk) for pk in p], p, dict=True)


def _m3_method(step):
    sizes = [(2, 2), (3, 2), (2, 3), (3, 3), (2, 4), (3, 4)]
    for n, dd in sizes:
        p, g, sol = _eliminated_weights(dd)
        if len(sol) != 1:
            return False, (), f"D={dd}: expected one stationary point, got {len(sol)}"
        # γ_c = Σ_i ρ_c^{[i]} for N concrete samples; rows sum to one:
        # ρ_{D-1}^{[i]} = 1 - Σ_{c<D-1} ρ_c^{[i]}.
        rows = {rho[ii, dd - 1]: 1 - sum(rho[ii, k] for k in range(dd - 1)) for ii in range(n)}
        gammas = {g[k]: sum(rho[ii, k] for ii in range(n)) for k in range(dd)}
        # every class, the eliminated last one too: π_{D-1} = 1 - Σ_{d<D-1} π_d
        weights = [sol[0][p[k]] for k in range(dd - 1)]
        weights.append(1 - sum(weights))
        for k in range(dd):
            claimed = instantiate(GAMMA.rewrite(step.rhs), n, dd, e=k)
            found = weights[k].subs(gammas)
            if sp.simplify((found - claimed).subs(rows)) != 0:
                return False, (), f"N={n}, D={dd}: $\\pi_{k} = {latex(found)}$ differs from the claim"
    sz = ", ".join(f"(N={n}, D={dd})" for n, dd in sizes)
    return True, (), rf"Eliminating $\pi_{{D-1}}$ and solving $\nabla = 0$ gives $\gamma_e/N$ for every class $e$ (the last one from the constraint), exactly, for {sz}."


M3 = Step(
    "M3", 10, "without λ: eliminating π_{D-1} gives the same weights",
    lhs=pi[e],
    rhs=gamma[e] / N,
    justification=r"An independent check of the Lagrange trick: substitute $\pi_{D-1} = 1 - \sum_{d<D-1} \pi_d$ and maximize without a multiplier.",
    method=by_procedure(_m3_method, lhs=pi[e], tactics=("solve", "instantiate", "simplify"),
                        spec=(("simplex", (pi, class_sum(gamma[c] * sp.log(pi[c]), c), e)),)),
    kind="exact",
    hypotheses=(ROWS, GAMMA),
)



def _concave_method(step):
    objective = class_sum(gamma[c] * sp.log(pi[c]), c)
    second = sift(sp.diff(sift(sp.diff(objective, pi[e])), pi[d]))
    work = [("SymPy's ∂²/∂π_d∂π_e of Σ_c γ_c log π_c", second)]
    if not is_zero(second - step.rhs):
        return False, work, "the second derivative differs from the claim"
    diag = step.rhs.subs(d, e)
    if not diag.is_negative:
        return False, work, "the diagonal is not shown negative"
    return True, work, "Diagonal with negative entries: Σ_c γ_c log π_c is strictly concave, so on the simplex its stationary point (S20) is the maximum."


H2 = Step(
    "H2", 10, "the weights' part of Q is strictly concave",
    lhs=sp.Derivative(class_sum(gamma[c] * sp.log(pi[c]), c), pi[e], pi[d]),
    rhs=-gamma[e] / pi[e] ** 2 * I(d, e),
    justification=r"The Hessian of $\sum_c \gamma_c \log \pi_c$ is diagonal with entries $-\gamma_e/\pi_e^2 < 0$.",
    method=by_procedure(_concave_method, lhs=sp.Derivative(class_sum(gamma[c] * sp.log(pi[c]), c), pi[e], pi[d]),
                        tactics=("diff", "sift")),
)

