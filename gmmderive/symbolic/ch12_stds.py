"""Chapter 12: the update of the standard deviations, a maximum (S25-S29, H1, H3)."""

# ruff: noqa: E501  (the justifications are LaTeX, one line each)
from __future__ import annotations

import sympy as sp

from ._printing import latex
from ._step import Step, by_differentiation, by_procedure, by_rewriting, by_solving
from ._symbols import Q_hat, e, gamma, i, mu, rho, sample_sum, sigma, x
from ._tactics import canonical, is_zero, reduce, sift, split_sums
from .ch11_means import S24
from .model import GAMMA, LAGRANGIAN, SCATTER, _add, _u

# --------------------------------------------------------------------------
# Chapter 12: standard deviations
# --------------------------------------------------------------------------

S25 = Step(
    "S25", 12, "derivative of the Lagrangian in σ_e",
    lhs=sp.Derivative(Q_hat, sigma[e]),
    rhs=sample_sum(rho[i, e] * _add(-1 / sigma[e], -_u(-2, (x[i] - mu[e]) ** 2, 1 / (2 * sigma[e] ** 3)))),
    justification=r"SymPy differentiates $\hat Q$ of S13: $\frac{d}{d\sigma}(-\log \sigma) = -\frac{1}{\sigma}$ and $\frac{d}{d\sigma}\sigma^{-2} = -2\sigma^{-3}$.",
    method=by_differentiation(LAGRANGIAN, sigma[e], sift, split_sums, named=Q_hat),
)

S26 = Step(
    "S26", 12, "the signs simplified",
    lhs=S25.rhs,
    rhs=sample_sum(rho[i, e] * (-1 / sigma[e] + (x[i] - mu[e]) ** 2 / sigma[e] ** 3)),
    justification=r"$-(-2)/(2\sigma_e^3) = 1/\sigma_e^3$.",
    method=by_rewriting(split_sums),
)

S27 = Step(
    "S27", 12, "multiply the stationarity condition by σ_e³",
    lhs=sigma[e] ** 3 * S26.rhs,
    rhs=sample_sum(rho[i, e] * (-sigma[e] ** 2 + (x[i] - mu[e]) ** 2)),
    justification=r"$\sigma_e^3 > 0$ does not depend on $i$.",
    method=by_rewriting(split_sums),
)

S28 = Step("S28", 12, "split the sum: γ_e appears", S27.rhs,
           sample_sum(rho[i, e] * (x[i] - mu[e]) ** 2) - gamma[e] * sigma[e] ** 2,
           r"$\sum_i \rho_e^{[i]} \sigma_e^2 = \gamma_e \sigma_e^2$.", by_rewriting(split_sums, GAMMA.rewrite),
           hypotheses=(GAMMA,))

S29 = Step(
    "S29", 12, "the update of the standard deviations",
    key=True,
    lhs=sigma[e],
    rhs=sp.sqrt((1 / gamma[e]) * sample_sum(rho[i, e] * (x[i] - mu[e]) ** 2)),
    justification=r"Solve S28 $= 0$ for $\sigma_e$; of the two roots $\pm\sqrt{\cdot}$ only the positive one is a standard deviation. It needs $\gamma_e > 0$ and a positive weighted scatter: with zero scatter the root would be $\sigma_e = 0$, no standard deviation.",
    method=by_solving(S28.rhs, sigma[e]),
    hypotheses=(SCATTER, GAMMA),
)


# --------------------------------------------------------------------------
# Second-order conditions: the stationary point is a maximum
# --------------------------------------------------------------------------


def _at_stationary_point(ex):
    """Σ ρ x = γ μ (S24) and Σ ρ x² = γ (σ² + μ²) (S28 with S24), after splitting sums."""
    s_rho = sample_sum(rho[i, e])
    s_x = sample_sum(rho[i, e] * x[i])
    s_xx = sample_sum(rho[i, e] * x[i] ** 2)
    at = {canonical(s_xx): gamma[e] * (sigma[e] ** 2 + mu[e] ** 2), canonical(s_x): gamma[e] * mu[e], canonical(s_rho): gamma[e]}
    return split_sums(ex).subs(at)


def _hessian_method(step):
    v = (mu[e], sigma[e])
    first = [split_sums(sift(sp.diff(LAGRANGIAN, a))) for a in v]
    hess = sp.Matrix(2, 2, lambda r, s: _at_stationary_point(sift(sp.diff(first[r], v[s]))))
    # shown simplified: the reader compares it with the claim entry by entry
    work = [("SymPy's Hessian of Q̂ in (μ_e, σ_e) at the stationary point", hess.applyfunc(sp.simplify))]
    if not all(is_zero(t) for t in (hess - step.rhs)):
        return False, work, "the Hessian differs from the claim"
    if not (hess[0, 0].is_negative and hess.det().is_positive):
        return False, work, "the Hessian is not shown negative definite"
    return True, work, r"$H_{11} < 0$ and $\det H > 0$: negative definite, so the stationary point is a maximum in $(\mu_e, \sigma_e)$."


H1 = Step(
    "H1", 12, "the Hessian in (μ_e, σ_e) is negative definite",
    key=True,
    lhs=sp.MatrixSymbol("H_{\\mu_e \\sigma_e}", 2, 2),
    rhs=sp.Matrix([[-gamma[e] / sigma[e] ** 2, 0], [0, -2 * gamma[e] / sigma[e] ** 2]]),
    justification=r"Second derivatives of $\hat Q$ at $\mu_e$ of S24 and $\sigma_e$ of S29: $-\gamma_e/\sigma_e^2$ and $-2\gamma_e/\sigma_e^2$, no cross term.",
    method=by_procedure(_hessian_method, lhs=sp.MatrixSymbol("H_{\\mu_e \\sigma_e}", 2, 2), tactics=("diff", "sift", "split_sums"),
                        # one sample has no scatter about its own mean: σ_e of S29 would be 0
                        spec=(("hessian", (LAGRANGIAN, (mu[e], sigma[e]), (S24.rhs, S29.rhs))), ("least_samples", 2))),
    hypotheses=(GAMMA, SCATTER),  # at σ_e of S29, which needs positive scatter
)


def _sigma_global_method(step):
    s_ = sp.Symbol("s", positive=True)  # σ_e, as the variable of Q̂
    scatter = sample_sum(rho[i, e] * (x[i] - mu[e]) ** 2)
    part = -gamma[e] * sp.log(s_) - scatter / (2 * s_**2)  # the terms of Q̂ that depend on σ_e
    # It is Q̂'s σ_e part: its derivative is ∂Q̂/∂σ_e of S26 (SymPy's, from the Lagrangian).
    if not is_zero(GAMMA.rewrite(sp.diff(part, s_) - S26.rhs.subs(sigma[e], s_))):
        return False, (), "the σ part differs from the Lagrangian's"
    big_s = sp.Symbol("S_e", positive=True)  # the scatter, positive by the condition
    f = part.xreplace({scatter: big_s})
    derivative = sp.diff(f, s_)
    roots = sp.solve(derivative, s_)
    at_zero, at_inf = sp.limit(f, s_, 0, "+"), sp.limit(f, s_, sp.oo)
    work = [(r"$\hat Q$ in $\sigma_e = s$, with $S_e = \sum_i \rho_e^{[i]} (x^{[i]} - \mu_e)^2 > 0$, up to terms free of $s$", f),
            ("its derivative", derivative),
            (r"its zeros for $s > 0$", sp.FiniteSet(*roots)),
            (r"its limits at $s \to 0^+$ and $s \to \infty$", sp.Tuple(at_zero, at_inf))]
    if len(roots) != 1 or at_zero != -sp.oo or at_inf != -sp.oo:
        return False, work, "no unique interior maximum"
    left = reduce(roots[0].xreplace({big_s: scatter}) - step.rhs)
    if left != 0:
        return False, work, f"the maximizer differs from the claim by ${latex(left)}$"
    return True, work, (r"One stationary point on $(0, \infty)$ and $\hat Q \to -\infty$ at both ends: "
                        r"the stationary point is the global maximum in $\sigma_e$ (Q is not concave in $\sigma_e$, "
                        r"so the Hessian of H1 alone shows only a local one).")


H3 = Step(
    "H3", 12, "the σ update is the global maximum in σ_e",
    lhs=sp.Symbol(r"\operatorname{arg\,max}_{\sigma_e > 0} \hat{Q}"),
    rhs=S29.rhs,
    justification=r"For $\gamma_e > 0$ and positive scatter, $\hat Q$ has one stationary point in $\sigma_e > 0$ and falls to $-\infty$ as $\sigma_e \to 0^+$ and as $\sigma_e \to \infty$.",
    method=by_procedure(_sigma_global_method, lhs=sp.Symbol(r"\operatorname{arg\,max}_{\sigma_e > 0} \hat{Q}"),
                        tactics=("diff", "solve", "limit", "hypothesis: definition of the class responsibilities"),
                        spec=(("argmax", (LAGRANGIAN, sigma[e])),)),
    hypotheses=(GAMMA, SCATTER),
)


