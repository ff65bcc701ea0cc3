"""Chapter 21 (beyond the lecture): the derivation with sample weights, step by step.

Sample i carries a weight ``w_i > 0`` (how often it was observed, a histogram bin's count,
a survey weight): every sum over the samples carries it. The chain is the lecture's
(S8-S29) with ``w_i ρ_e^{[i]}`` where the lecture has ``ρ_e^{[i]}``, and ``Σ_i w_i`` where
it has ``N``:

* WT1 the weighted Q written out, WT2 the weighted Lagrangian;
* WT3-WT6 the weights: the derivative in π_e, λ = Σ_i w_i ρ_e^{[i]}/π_e, the trick
  λ = Σ_i w_i, and the update π_e = Σ_i w_i ρ_e^{[i]} / Σ_i w_i;
* WT7-WT8 the means, WT9-WT10 the standard deviations (about the new mean);
* WT11 and WT12: integer weights are repeated samples, for Q and for the log-likelihood
  (exact, at concrete sizes).

The weights' and the means' updates are the answers of the exercises X10.2 and X11.2: the
steps here take their right-hand sides from those exercises (one expression for each claim)
and prove them again along the lecture's chain, from the weighted Lagrangian itself.
"""

from __future__ import annotations

import sympy as sp

from ._printing import latex
from ._step import (
    PRIVATE_FUNCTIONS,
    Hypothesis,
    Step,
    by_chain,
    by_differentiation,
    by_procedure,
    by_rewriting,
    by_solving,
)
from ._symbols import D, I, N, c, class_sum, d, e, i, lam, mu, pi, rho, sample_sum, sigma, x
from ._tactics import expand_logs, sift, split_sums, split_sums_keep_squares, swap_sums
from .exercises import X10_2, X11_2, w
from .model import ROWS, SIMPLEX, _u, g_constraint, joint, lagrangian_written_out, mixture

#: Display names of the weighted objectives (their values are built below).
Q_w = sp.Symbol("Q_w")
Q_hat_w = sp.Symbol(r"\hat{Q}_w")


def weighted_q_summand(cls, sample, constant=False):
    """The summand of the weighted Q in the lecture's S10 form: w_i ρ_c^{[i]} (...)."""
    inner = class_sum(I(d, cls) * sp.log(pi[d])) - sp.log(sigma[cls]) - (x[sample] - mu[cls]) ** 2 / (2 * sigma[cls] ** 2)
    if constant:
        inner -= sp.log(2 * sp.pi) / 2
    return rho[sample, cls] * inner


#: Σ_i w_i Σ_c ρ_c^{[i]} log p(Z=c, X=x^{[i]}; θ): the weighted Q as defined (S8's form).
Q_W_DEFINITION = sample_sum(w[i] * class_sum(rho[i, c] * sp.log(joint(c, x[i])), c))

#: The weighted Q written out (S10's form, with its constant).
Q_W_WITH_CONSTANT = sample_sum(w[i] * class_sum(weighted_q_summand(c, i, constant=True), c))

#: The weighted Q without its constant: what the M-step maximizes.
Q_W = sample_sum(w[i] * class_sum(weighted_q_summand(c, i), c))

#: The weighted Lagrangian Q̂_w = Q_w + λ g(π).
LAGRANGIAN_W = Q_W + lam * g_constraint

# --------------------------------------------------------------------------
# Conditions: the sums the updates divide by are positive
# --------------------------------------------------------------------------

#: Σ_i w_i > 0: every w_i > 0 and there is at least one sample.
TOTAL_WEIGHT = Hypothesis(
    "the total weight is positive", sp.StrictGreaterThan(sample_sum(w[i]), 0, evaluate=False), source="condition",
)

#: Σ_i w_i ρ_e^{[i]} > 0, the weighted γ_e: class e is not empty.
CLASS_WEIGHT = Hypothesis(
    "class e has positive weight", sp.StrictGreaterThan(sample_sum(w[i] * rho[i, e]), 0), over=(e,), source="condition",
)

#: Σ_i w_i ρ_e^{[i]} (x^{[i]} - μ_e)² > 0: as S29's condition, with weights.
WEIGHTED_SCATTER = Hypothesis(
    "class e has positive weighted scatter",
    sp.StrictGreaterThan(sample_sum(w[i] * rho[i, e] * (x[i] - mu[e]) ** 2), 0),
    over=(e,),
    source="condition",
)

# --------------------------------------------------------------------------
# The weighted Q and its Lagrangian
# --------------------------------------------------------------------------

WT1 = Step(
    "WT1", 21, "the weighted Q-function written out",
    lhs=Q_W_DEFINITION,
    rhs=Q_W_WITH_CONSTANT,
    justification=r"$Q_w = \sum_i w_i \sum_c \rho_c^{[i]} \log p(Z=c, X=x^{[i]}; \theta)$: sample $i$ counts $w_i$ times. Its joint written out and its log split as in S8–S10; $w_i$ multiplies every term of sample $i$.",
    method=by_rewriting(sift, expand_logs),
    lhs_display=Q_w,
)

WT2 = Step(
    "WT2", 21, "the weighted Lagrangian written out", LAGRANGIAN_W, lagrangian_written_out(w[i]),
    justification=r"$\hat Q_w = Q_w + \lambda g(\pi)$, with $Q_w$ of WT1 (constant dropped) and the same constraint $g(\pi) = 1 - \sum_d \pi_d$ as S13: weights on the samples change nothing about $\pi$'s simplex.",
    method=by_rewriting(),
    lhs_display=Q_hat_w,
    definition=True,
)

# --------------------------------------------------------------------------
# The weights π
# --------------------------------------------------------------------------

WT3 = Step(
    "WT3", 21, "derivative of the weighted Lagrangian in π_e",
    lhs=sp.Derivative(Q_hat_w, pi[e]),
    rhs=sample_sum(w[i] * rho[i, e]) / pi[e] - lam,
    justification=r"SymPy differentiates $\hat Q_w$ of WT2; the indicator picks class $e$ (S14–S16), and $\sum_i w_i \rho_e^{[i]}$ takes the place of $\gamma_e$.",
    method=by_differentiation(LAGRANGIAN_W, pi[e], sift, split_sums, named=Q_hat_w),
)

WT4 = Step(
    "WT4", 21, "setting ∂Q̂_w/∂π_e = 0 gives λ in terms of class e",
    lhs=lam,
    rhs=sample_sum(w[i] * rho[i, e]) / pi[e],
    justification=r"Solve WT3 $= 0$ for $\lambda$; it holds for every class with one and the same $\lambda$ (as S16b, S18).",
    method=by_solving(WT3.rhs, lam),
)

#: WT4 for every class: λ = Σ_i w_i ρ_d^{[i]} / π_d with one λ (derived from WT4's proof, general in e).
STATIONARY_PI_W = Hypothesis.from_step(
    WT4, "stationarity in every π_e, weighted: λ = Σ_i w_i ρ_e^{[i]}/π_e (WT4)", over=(e,),
    assumed="WT4 solves ∂Q̂_w/∂π_e = 0 for one class; Lagrange's method sets it to 0 for every class at once, with one λ",
)

WT5 = Step(
    "WT5", 21, "the trick again: λ = Σ_i w_i",
    lhs=lam,
    rhs=sample_sum(w[i]),
    justification=r"$\lambda = \lambda \sum_d \pi_d = \sum_d \frac{\sum_i w_i \rho_d^{[i]}}{\pi_d} \pi_d = \sum_i w_i \sum_d \rho_d^{[i]} = \sum_i w_i$: the rows of $\rho$ still sum to one, so the total weight takes the place of $N$ (S19).",
    method=by_chain([
        (_u(lam, 1), "multiply by one", ()),
        (lam * class_sum(pi[d]), "the weights sum to one", (SIMPLEX.rewrite,)),
        (class_sum(lam * pi[d]), "λ does not depend on d", (split_sums,)),
        (class_sum(_u(sample_sum(w[i] * rho[i, d]) / pi[d], pi[d])), "stationarity: λ = Σ_i w_i ρ_d^{[i]}/π_d for every d (WT4)",
         (STATIONARY_PI_W.rewrite, split_sums)),
        (class_sum(sample_sum(w[i] * rho[i, d])), "cancel π_d", (split_sums,)),
        (sample_sum(w[i] * class_sum(rho[i, d])), "exchange the finite sums; w_i does not depend on d", (split_sums, swap_sums)),
    ], split_sums, swap_sums, ROWS.rewrite),
    hypotheses=(SIMPLEX, STATIONARY_PI_W, ROWS),
)

#: WT5, proven above, as a fact for the weights' update.
LAMBDA_IS_TOTAL_WEIGHT = Hypothesis.from_step(WT5, "λ = Σ_i w_i (WT5)")

WT6 = Step(
    "WT6", 21, "the update of the weights, weighted: share of the total weight",
    key=True,
    lhs=pi[e],
    rhs=X10_2.rhs,
    justification=r"Solve WT3 $= 0$ with $\lambda = \sum_i w_i$ (WT5) for $\pi_e$: the class's share of the total weight (the answer of exercise X10.2). With every $w_i = 1$ it is S20, $\gamma_e / N$.",
    method=by_solving(WT3.rhs, pi[e], LAMBDA_IS_TOTAL_WEIGHT.rewrite),
    hypotheses=(LAMBDA_IS_TOTAL_WEIGHT, CLASS_WEIGHT, TOTAL_WEIGHT),
)

# --------------------------------------------------------------------------
# The means μ
# --------------------------------------------------------------------------

WT7 = Step(
    "WT7", 21, "derivative of the weighted Lagrangian in μ_e",
    lhs=sp.Derivative(Q_hat_w, mu[e]),
    rhs=sample_sum(w[i] * rho[i, e] * (x[i] - mu[e])) / sigma[e] ** 2,
    justification=r"SymPy differentiates $\hat Q_w$ of WT2 (S21–S22 with the factor $w_i$): only class $e$'s terms depend on $\mu_e$.",
    method=by_differentiation(LAGRANGIAN_W, mu[e], sift, split_sums, named=Q_hat_w),
)

WT8 = Step(
    "WT8", 21, "the update of the means, weighted", mu[e], X11_2.rhs,
    key=True,
    justification=r"Solve WT7 $= 0$ for $\mu_e$ ($\sigma_e^2 > 0$): the mean of the samples weighted by $w_i \rho_e^{[i]}$ (the answer of exercise X11.2). It needs class $e$ to carry weight.",
    method=by_solving(WT7.rhs, mu[e], split_sums),
    hypotheses=(CLASS_WEIGHT,),
)

# --------------------------------------------------------------------------
# The standard deviations σ
# --------------------------------------------------------------------------

WT9 = Step("WT9", 21, "derivative of the weighted Lagrangian in σ_e", sp.Derivative(Q_hat_w, sigma[e]),
           sample_sum(w[i] * rho[i, e] * (-1 / sigma[e] + (x[i] - mu[e]) ** 2 / sigma[e] ** 3)),
           r"SymPy differentiates $\hat Q_w$ of WT2 (S25–S26 with the factor $w_i$).",
           by_differentiation(LAGRANGIAN_W, sigma[e], sift, split_sums, named=Q_hat_w))

WT10 = Step(
    "WT10", 21, "the update of the standard deviations, weighted (new mean)",
    key=True,
    lhs=sigma[e],
    rhs=sp.sqrt(sample_sum(w[i] * rho[i, e] * (x[i] - mu[e]) ** 2) / sample_sum(w[i] * rho[i, e])),
    justification=r"Solve WT9 $= 0$ for $\sigma_e$; of the roots $\pm\sqrt{\cdot}$ only the positive one is a standard deviation. As in S29, $\mu_e$ is the mean just updated (WT8), and the root needs a class with positive weight and positive weighted scatter.",
    method=by_solving(WT9.rhs, sigma[e], split_sums_keep_squares),
    hypotheses=(WEIGHTED_SCATTER, CLASS_WEIGHT),
)

# --------------------------------------------------------------------------
# Integer weights are repeated samples (exact, at concrete sizes)
# --------------------------------------------------------------------------

#: j runs over the repeated data set; r_j is the sample that its j-th value copies.
j = sp.Symbol("j", integer=True, nonnegative=True)
r = sp.IndexedBase("r", integer=True, nonnegative=True)

#: The number of values in the repeated data set: sample i appears w_i times.
_REPEATED = sample_sum(w[i]) - 1


def _repeated_q_summand(cls):
    inner = class_sum(I(d, cls) * sp.log(pi[d])) - sp.log(sigma[cls]) - sp.log(2 * sp.pi) / 2 \
        - (x[r[j]] - mu[cls]) ** 2 / (2 * sigma[cls] ** 2)
    return rho[r[j], cls] * inner


#: (N, D, integer weights) for the exact checks: N = 3 samples weighted (2, 1, 3) are 6 samples.
REPEAT_SIZES = ((3, 2, (2, 1, 3)), (3, 3, (2, 1, 3)), (2, 2, (1, 4)))


def _copies(weights):
    """r_j for the repeated data set: sample k appears weights[k] times, in order."""
    return [k for k, wk in enumerate(weights) for _ in range(wk)]


def _unroll(expr):
    """Every sum and product with integer bounds written out term by term (innermost first)."""

    def written_out(a):
        (v, lo, hi), rest = a.limits[0], a.limits[1:]
        terms = [a.function.xreplace({v: sp.Integer(k)}) for k in range(int(lo), int(hi) + 1)]
        inner = sp.Add(*terms) if isinstance(a, sp.Sum) else sp.Mul(*terms)
        return a.func(inner, *rest) if rest else inner

    def fixed(a):
        return isinstance(a, (sp.Sum, sp.Product)) and all(b.is_Integer for b in a.limits[0][1:])

    previous = None
    while previous != expr:
        previous, expr = expr, expr.replace(fixed, written_out)
    return expr


def _expand(expr, n, dd, weights):
    """expr at N = n, D = dd, w = weights, with the repeated set's r_j, every sum written out."""
    expr = _unroll(expr.subs({N: n, D: dd}))
    expr = _unroll(expr.xreplace({w[k]: sp.Integer(wk) for k, wk in enumerate(weights)}))
    return expr.xreplace({r[jj]: sp.Integer(k) for jj, k in enumerate(_copies(weights))})


_ell = sp.Function("ell")
_value = sp.Wild("value")
PRIVATE_FUNCTIONS.add(_ell)  # a claim that names ℓ would be compared with the procedure's own


def _per_value_terms_kept_whole(expr):
    """log p(x; θ) of one value as one opaque term ℓ(x): the same function on both sides.

    Sound: if the sides agree for every function ℓ, they agree for this one. It only saves
    SymPy writing out each density; a side that differs in the density keeps it written out.
    """
    return expr.replace(sp.log(mixture(_value)), _ell(_value))


def _repetition_method(step):
    """Both sides expanded at each size of REPEAT_SIZES; their difference must expand to 0."""
    lhs, rhs = _per_value_terms_kept_whole(step.lhs), _per_value_terms_kept_whole(step.rhs)
    for n, dd, weights in REPEAT_SIZES:
        left, right = _expand(lhs, n, dd, weights), _expand(rhs, n, dd, weights)
        if left.has(sp.Sum, r) or right.has(sp.Sum, r):
            return False, (), f"N={n}, D={dd}: a sum or a copy index was left unexpanded"
        difference = sp.expand(left - right, deep=False)  # the logs are the same on both sides
        if difference != 0:
            return False, (), f"N={n}, D={dd}, w = {weights}: the two sides differ by ${latex(difference)}$"
    sizes = ", ".join(f"N={n}, D={dd} with w = {weights} ({sum(weights)} repeated samples)" for n, dd, weights in REPEAT_SIZES)
    kept = r" (the log-density of one value, $\log p(x; \theta)$, kept as one term $\ell(x)$)" if lhs.has(_ell) else ""
    return True, (), rf"Both sides expanded, with exact symbolic values{kept}, for {sizes}: equal."


WT11 = Step(
    "WT11", 21, "integer weights are repeated samples: the weighted Q",
    lhs=Q_W_WITH_CONSTANT,
    lhs_display=Q_w,
    rhs=sp.Sum(class_sum(_repeated_q_summand(c), c), (j, 0, _REPEATED)),
    justification=r"The data set that repeats sample $i$ $w_i$ times has $\sum_i w_i$ values; its $j$-th value is $x^{[r_j]}$, a copy of sample $r_j$, with the same responsibilities. Its Q (S10) is the weighted Q: a weight counts copies.",
    method=by_procedure(_repetition_method, lhs=Q_W_WITH_CONSTANT, tactics=("instantiate", "expand"),
                        spec=(("repeated", (w, r)),)),
    kind="exact",
)

WT12 = Step(
    "WT12", 21, "integer weights are repeated samples: the log-likelihood",
    lhs=sample_sum(w[i] * sp.log(mixture(x[i]))),
    rhs=sp.Sum(sp.log(mixture(x[r[j]])), (j, 0, _REPEATED)),
    justification=r"The weighted log-likelihood $\sum_i w_i \log p(x^{[i]}; \theta)$, which EM increases and `gmmderive.log_likelihood(..., sample_weight=w)` computes, is the log-likelihood of the repeated data set.",
    method=by_procedure(_repetition_method, lhs=sample_sum(w[i] * sp.log(mixture(x[i]))), tactics=("instantiate", "expand"),
                        spec=(("repeated", (w, r)),)),
    kind="exact",
)

#: The steps of chapter 21, in the page's order.
WEIGHTED_STEPS = (WT1, WT2, WT3, WT4, WT5, WT6, WT7, WT8, WT9, WT10, WT11, WT12)
