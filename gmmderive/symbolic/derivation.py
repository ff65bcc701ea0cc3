"""Every step of the lecture's derivation, as a named, checkable object.

The ids ``S1``-``S29`` are those of ``derivation.md`` (the lecture's
whiteboard lines); the other ids are checks beyond the lecture: ``G`` for
Gaussian facts (chapters 1-3), ``J`` for the joint, ``E`` for the E-step,
``M`` for the M-step, ``H`` for second-order conditions, ``U`` for the summary
and ``R`` for the closing remark. This module is the one place that defines a
step: the book shows these objects, the tests and ``python -m gmmderive
verify`` prove them.
"""

from __future__ import annotations

import sympy as sp

from ._step import (
    USES_LHS,
    Hypothesis,
    Step,
    by_chain,
    by_differentiation,
    by_procedure,
    by_rewriting,
    by_solving,
)
from ._symbols import (
    D,
    I,
    N,
    Q,
    Q_hat,
    X,
    c,
    categorical,
    class_sum,
    d,
    e,
    gamma,
    i,
    lam,
    mu,
    normal_pdf,
    pi,
    rho,
    rho_tilde,
    sample_sum,
    sigma,
    x,
    z,
)
from ._tactics import canonical, constant_sums, expand_logs, instantiate, is_zero, reduce, sift, split_sums, swap_sums

#: The lecture's chapters: number -> (timestamp, title).
CHAPTERS = {
    1: ("00:00", "Introduction"),
    2: ("01:10", "Clustering"),
    3: ("01:40", "Inferring parameters with missing data"),
    4: ("03:05", "The joint of the GMM"),
    5: ("04:45", "E-step: un-normalized responsibilities"),
    6: ("10:29", "E-step: normalizing the responsibilities"),
    7: ("11:13", "M-step: the Q-function"),
    8: ("15:27", "M-step: maximization, formally"),
    9: ("16:57", "M-step: the Lagrange multiplier"),
    10: ("20:20", "M-step: cluster probabilities"),
    11: ("30:50", "M-step: means"),
    12: ("35:00", "M-step: standard deviations"),
    13: ("39:37", "Summary: EM for the GMM"),
    14: ("42:52", "Important remark"),
    # Beyond the lecture (no time stamp)
    15: (None, "Real data"),
    16: (None, "Why EM works"),
    17: (None, "Pitfalls"),
    18: (None, "Choosing the number of classes"),
    19: (None, "Equal variances"),
    20: (None, "Several dimensions"),
    21: (None, "Weighted data"),
    22: (None, "Why EM is slow, and how to make it fast"),
    23: (None, "EM on data that does not fit in memory"),
}

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

S9 = Step(
    "S9", 7, "the log turns the joint's product into a sum",
    lhs=Q_S8,
    rhs=Q_S9,
    justification=r"The log of a product is the sum of the logs; $\log \prod_d \pi_d^{\mathbb{I}(d=c)} = \sum_d \mathbb{I}(d=c) \log \pi_d$.",
    method=by_rewriting(sift, expand_logs),
    lhs_display=Q,
)

S10 = Step(
    "S10", 7, "the Gaussian's normalizer split off",
    lhs=Q_S9,
    rhs=Q_S10_WITH_CONSTANT,
    justification=r"$\log \frac{1}{\sigma_c \sqrt{2\pi}} = -\log \sigma_c - \frac12 \log(2\pi)$.",
    method=by_rewriting(expand_logs),
    lhs_display=Q,
)

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

S13 = Step(
    "S13", 9, "the Lagrangian written out",
    lhs=LAGRANGIAN,
    rhs=sample_sum(class_sum(rho[i, c] * (
        class_sum(I(d, c) * sp.log(pi[d])) - sp.log(sigma[c]) - (x[i] - mu[c]) ** 2 / (2 * sigma[c] ** 2)
    ), c)) + lam * (1 - class_sum(pi[d])),
    justification=r"$\hat Q = Q + \lambda g(\pi)$, with $Q$ of S10 (constant dropped) and $g(\pi) = 1 - \sum_d \pi_d$.",
    method=by_rewriting(),
    lhs_display=Q_hat,
    definition=True,
)

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
                return False, (), f"N={n}, D={dd}: π_{k} = {found} differs from the claim"
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

# --------------------------------------------------------------------------
# Chapter 11: means
# --------------------------------------------------------------------------

S21 = Step(
    "S21", 11, "derivative of the Lagrangian in μ_e",
    lhs=sp.Derivative(Q_hat, mu[e]),
    rhs=sample_sum(rho[i, e] * _u(-2, x[i] - mu[e], -1, 1 / (2 * sigma[e] ** 2))),
    justification=r"SymPy differentiates $\hat Q$ of S13; the chain rule on $-(x^{[i]} - \mu_e)^2/(2\sigma_e^2)$ gives $-2(x^{[i]} - \mu_e)(-1)/(2\sigma_e^2)$.",
    method=by_differentiation(LAGRANGIAN, mu[e], sift, split_sums, named=Q_hat),
)

S22 = Step(
    "S22", 11, "multiply the stationarity condition by σ_e²",
    lhs=sigma[e] ** 2 * S21.rhs,
    rhs=sample_sum(rho[i, e] * (x[i] - mu[e])),
    justification=r"$\sigma_e^2 > 0$ does not depend on $i$, so $\partial \hat Q / \partial \mu_e = 0$ exactly when this sum is 0.",
    method=by_rewriting(split_sums),
)

S23 = Step(
    "S23", 11, "split the sum: γ_e appears",
    lhs=S22.rhs,
    rhs=sample_sum(rho[i, e] * x[i]) - gamma[e] * mu[e],
    justification=r"$\sum_i \rho_e^{[i]} \mu_e = \mu_e \sum_i \rho_e^{[i]} = \gamma_e \mu_e$.",
    method=by_rewriting(split_sums, GAMMA.rewrite),
    hypotheses=(GAMMA,),
)

S24 = Step(
    "S24", 11, "the update of the means",
    key=True,
    lhs=mu[e],
    rhs=(1 / gamma[e]) * sample_sum(rho[i, e] * x[i]),
    justification=r"Solve $\sum_i \rho_e^{[i]} x^{[i]} - \gamma_e \mu_e = 0$ for $\mu_e$.",
    method=by_solving(S23.rhs, mu[e]),
    hypotheses=(GAMMA,),
)

#: S24, proven above, as a fact for the closing remark (every class e).
MEAN_UPDATE = Hypothesis.from_step(S24, "μ_e is the updated mean (S24)")

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

S28 = Step(
    "S28", 12, "split the sum: γ_e appears",
    lhs=S27.rhs,
    rhs=sample_sum(rho[i, e] * (x[i] - mu[e]) ** 2) - gamma[e] * sigma[e] ** 2,
    justification=r"$\sum_i \rho_e^{[i]} \sigma_e^2 = \gamma_e \sigma_e^2$.",
    method=by_rewriting(split_sums, GAMMA.rewrite),
    hypotheses=(GAMMA,),
)

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
        return False, work, f"the maximizer differs from the claim by ${sp.latex(left)}$"
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

# --------------------------------------------------------------------------
# Chapter 13: summary
# --------------------------------------------------------------------------


#: ∂Q̂/∂π_e, ∂Q̂/∂μ_e and ∂Q̂/∂σ_e (S16, S21, S26) with the three updates substituted.
_AT_UPDATES = sp.Matrix([
    (gamma[e] / pi[e] - lam).subs({pi[e]: gamma[e] / N, lam: N}),
    S21.rhs.subs(mu[e], sample_sum(rho[i, e] * x[i]) / gamma[e]),
    S26.rhs.subs(sigma[e], sp.sqrt(sample_sum(rho[i, e] * (x[i] - mu[e]) ** 2) / gamma[e])),
])


def _updates_method(step):
    values = sp.Matrix([split_sums(GAMMA.rewrite(split_sums(v))) for v in step.lhs])
    left = reduce(values - step.rhs)  # the kernel has checked that the shapes agree
    work = [("SymPy's simplification of the three derivatives at the updates", left + step.rhs)]
    ok = all(v == 0 for v in left)
    return ok, work, "" if ok else f"an update does not make its derivative vanish: {left}"


U1 = Step(
    "U1", 13, "the three updates solve the stationarity conditions",
    key=True,
    lhs=_AT_UPDATES,
    rhs=sp.zeros(3, 1),
    justification=r"With $\pi_e = \gamma_e/N$ and $\lambda = N$, $\mu_e$ of S24, and $\sigma_e$ of S29 (with the updated $\mu_e$), $\partial \hat Q/\partial \pi_e$, $\partial \hat Q/\partial \mu_e$ and $\partial \hat Q/\partial \sigma_e$ all vanish.",
    method=by_procedure(_updates_method, lhs=USES_LHS, tactics=("split_sums", "hypothesis: definition of the class responsibilities", "simplify")),
    hypotheses=(GAMMA,),
    lhs_display=sp.Matrix([sp.Derivative(Q_hat, pi[e]), sp.Derivative(Q_hat, mu[e]), sp.Derivative(Q_hat, sigma[e])]),
)


# --------------------------------------------------------------------------
# Chapter 14: the important remark
# --------------------------------------------------------------------------

_mu_old = sp.Symbol("mu_old", real=True)

R1 = Step(
    "R1", 14, "the variance about the old mean is larger by (μ_e − μ_old)²: the parallel-axis identity",
    lhs=sample_sum(rho[i, e] * (x[i] - _mu_old) ** 2),
    rhs=sample_sum(rho[i, e] * (x[i] - mu[e]) ** 2) + gamma[e] * (mu[e] - _mu_old) ** 2,
    justification=r"With $\mu_e$ the update S24, the weighted squared deviations about any other point exceed those about $\mu_e$ by $\gamma_e (\mu_e - \mu_{\mathrm{old}})^2$.",
    method=by_rewriting(MEAN_UPDATE.rewrite, split_sums, GAMMA.rewrite, split_sums),
    hypotheses=(MEAN_UPDATE, GAMMA),
)

#: Σ_i ρ_e^{[i]} (x^{[i]} - μ_old): the first sum that fit's fused pass takes about the old mean.
_OLD_MEAN_DEVIATION = sample_sum(rho[i, e] * (x[i] - _mu_old))

F1 = Step(
    "F1", 14, "the new mean from deviations about the old one",
    lhs=mu[e],
    rhs=_mu_old + _OLD_MEAN_DEVIATION / gamma[e],
    justification=r"The update S24 is the old mean plus the mean deviation from it: $\mu_e = \mu_{\mathrm{old}} + \frac{1}{\gamma_e} \sum_i \rho_e^{[i]} (x^{[i]} - \mu_{\mathrm{old}})$. `fit` takes this sum in the same pass as the E-step.",
    method=by_rewriting(MEAN_UPDATE.rewrite, split_sums, GAMMA.rewrite, split_sums),
    hypotheses=(MEAN_UPDATE, GAMMA),
)

F2 = Step(
    "F2", 14, "the σ update from sums about the old mean (corrected two-pass)",
    lhs=sample_sum(rho[i, e] * (x[i] - mu[e]) ** 2),
    rhs=sample_sum(rho[i, e] * (x[i] - _mu_old) ** 2) - _OLD_MEAN_DEVIATION**2 / gamma[e],
    justification=r"R1 with $\mu_e - \mu_{\mathrm{old}}$ from F1: the squared deviations about the updated mean, which S29 needs, follow from two sums about the old mean, taken in the same pass as the E-step.",
    method=by_rewriting(MEAN_UPDATE.rewrite, split_sums, GAMMA.rewrite, split_sums),
    hypotheses=(MEAN_UPDATE, GAMMA),
)

# --------------------------------------------------------------------------
# Chapter 16 (beyond the lecture): why EM works
# --------------------------------------------------------------------------

q = sp.IndexedBase("q", positive=True)  # any distribution q(z) over the classes
p_joint = sp.IndexedBase("p", positive=True)  # p(Z=z, X=x; θ) of one sample, any model

Q_SIMPLEX = Hypothesis("q is a distribution over the classes", sp.Eq(class_sum(q[d]), 1), source="assumption")

_EVIDENCE = class_sum(p_joint[d])  # p(x; θ) = Σ_d p(Z=d, x; θ)
_POSTERIOR_Z = p_joint[z] / _EVIDENCE  # p(Z=z | x; θ)
ELBO = class_sum(q[z] * sp.log(p_joint[z] / q[z]), z)  # L(q, θ)
KL = class_sum(q[z] * sp.log(q[z] / _POSTERIOR_Z), z)  # KL(q || p(z | x; θ))

W1 = Step(
    "W1", 16, "log-likelihood = lower bound + KL divergence",
    lhs=sp.log(_EVIDENCE),
    rhs=ELBO + KL,
    justification=r"For any distribution $q$: $\log p(x;\theta) = \mathcal{L}(q,\theta) + \mathrm{KL}(q \,\|\, p(z \mid x;\theta))$; the logs of $q$ cancel and $\log p(z,x)/p(z \mid x) = \log p(x)$ does not depend on $z$.",
    method=by_rewriting(expand_logs, split_sums, Q_SIMPLEX.rewrite),
    hypotheses=(Q_SIMPLEX,),
)

W2 = Step(
    "W2", 16, "the E-step makes the bound tight",
    lhs=class_sum(_POSTERIOR_Z * sp.log(p_joint[z] / _POSTERIOR_Z), z),
    rhs=sp.log(_EVIDENCE),
    justification=r"With $q$ the posterior (the responsibilities of the E-step), the KL term is $\sum_z q_z \log 1 = 0$ and the bound $\mathcal{L}(q, \theta^{[k]})$ equals $\log p(x; \theta^{[k]})$.",
    method=by_rewriting(expand_logs, split_sums),
)

W3 = Step(
    "W3", 16, "the lower bound is Q plus the entropy of q",
    lhs=ELBO,
    rhs=class_sum(q[z] * sp.log(p_joint[z]), z) - class_sum(q[z] * sp.log(q[z]), z),
    justification=r"$\mathcal{L}(q,\theta) = \sum_z q_z \log p(z, x; \theta) - \sum_z q_z \log q_z$: only the first term, Q for one sample, depends on $\theta$, so the M-step maximizes $\mathcal{L}$ by maximizing Q.",
    method=by_rewriting(expand_logs, split_sums),
)


def _kl_method(step):
    if step.rhs != 0:
        return False, (), "the procedure proves KL ≥ 0 only"
    t = sp.Symbol("t", positive=True)
    f = t - 1 - sp.log(t)
    roots, curvature = sp.solve(sp.diff(f, t), t), sp.diff(f, t, 2)
    work = [(r"$f(t) = t - 1 - \log t$: zeros of $f'$ for $t > 0$", sp.FiniteSet(*roots)),
            (r"$f(1)$ and $f''(t)$", sp.Tuple(f.subs(t, 1), curvature))]
    if not (roots == [1] and f.subs(t, 1) == 0 and curvature.is_positive):
        return False, work, "the lemma log t ≤ t − 1 is not shown"
    # KL = Σ_z q_z f(t_z) − Σ_z q_z (t_z − 1), with t_z = p(z | x)/q_z > 0
    t_z = _POSTERIOR_Z / q[z]
    terms = class_sum(q[z] * (t_z - 1 - sp.log(t_z)), z)
    rest = class_sum(q[z] * (t_z - 1), z)
    identity = is_zero(Q_SIMPLEX.rewrite(split_sums(expand_logs(step.lhs - (terms - rest)))))
    vanishes = is_zero(Q_SIMPLEX.rewrite(split_sums(rest)))
    work += [(r"$\mathrm{KL} = \sum_z q_z f(t_z) - \sum_z q_z (t_z - 1)$ with $t_z = p(z \mid x)/q_z$; the second sum is", sp.S.Zero)]
    if not (identity and vanishes):
        return False, work, "KL is not Σ_z q_z f(t_z)"
    return True, work, (r"$f \ge 0$ (its one stationary point $t = 1$ is a minimum, $f(1) = 0$, $f'' = 1/t^2 > 0$) and "
                        r"$q_z > 0$: KL is a sum of nonnegative terms (Gibbs' inequality, via $\log t \le t - 1$).")


W4 = Step(
    "W4", 16, "the KL divergence is never negative",
    key=True,
    lhs=KL,
    rhs=sp.S.Zero,
    justification=r"$\log t \le t - 1$ for $t > 0$, applied to $t_z = p(z \mid x; \theta)/q_z$: $\mathrm{KL} = \sum_z q_z (t_z - 1 - \log t_z) \ge 0$, since $\sum_z q_z t_z = \sum_z p(z \mid x) = 1 = \sum_z q_z$.",
    method=by_procedure(_kl_method, lhs=KL, tactics=("diff", "solve", "expand_logs", "split_sums", "hypothesis: q is a distribution over the classes"),
                        relation=">="),
    hypotheses=(Q_SIMPLEX,),
    relation=">=",
)

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

# --------------------------------------------------------------------------
# Chapter 19 (beyond the lecture): equal variances
# --------------------------------------------------------------------------

s_shared = sp.Symbol("sigma", positive=True)  # one σ for all classes
_Q_EQUAL = sample_sum(class_sum(rho[i, c] * (
    class_sum(I(d, c) * sp.log(pi[d])) - sp.log(s_shared) - (x[i] - mu[c]) ** 2 / (2 * s_shared**2)
), c))
LAGRANGIAN_EQUAL = _Q_EQUAL + lam * g_constraint

V1 = Step(
    "V1", 19, "derivative of the shared-σ Lagrangian in σ",
    lhs=sp.Derivative(Q_hat, s_shared),
    rhs=sample_sum(class_sum(rho[i, c] * (-1 / s_shared + (x[i] - mu[c]) ** 2 / s_shared**3), c)),
    justification=r"SymPy differentiates $\hat Q$ with one $\sigma$ for all classes: every class contributes, not only class $e$.",
    method=by_differentiation(LAGRANGIAN_EQUAL, s_shared, sift, split_sums, named=Q_hat),
)

V2 = Step(
    "V2", 19, "multiply by σ³: N appears",
    lhs=s_shared**3 * V1.rhs,
    rhs=sample_sum(class_sum(rho[i, c] * (x[i] - mu[c]) ** 2, c)) - N * s_shared**2,
    justification=r"$\sum_i \sum_c \rho_c^{[i]} \sigma^2 = N \sigma^2$ because every row of $\rho$ sums to one.",
    method=by_rewriting(split_sums, swap_sums, ROWS.rewrite, constant_sums),
    hypotheses=(ROWS,),
)

V3 = Step(
    "V3", 19, "the update of the shared standard deviation",
    lhs=s_shared,
    rhs=sp.sqrt(sample_sum(class_sum(rho[i, c] * (x[i] - mu[c]) ** 2, c)) / N),
    justification=r"Solve V2 $= 0$ for $\sigma > 0$: the pooled weighted squared deviations about each class's own (updated) mean, over $N$.",
    method=by_solving(V2.rhs, s_shared),
    hypotheses=(Hypothesis(
        "positive pooled scatter",
        sp.StrictGreaterThan(sample_sum(class_sum(rho[i, c] * (x[i] - mu[c]) ** 2, c)), 0),
        source="condition",
    ),),
)

V4 = Step(
    "V4", 19, "the means' update is unchanged",
    lhs=mu[e],
    rhs=S24.rhs,
    justification=r"SymPy differentiates $\hat Q$ with one $\sigma$ in $\mu_e$ and solves $\partial \hat Q / \partial \mu_e = \sum_i \rho_e^{[i]} (x^{[i]} - \mu_e)/\sigma^2 = 0$: the root is the update S24, $\mu_e = \frac{1}{\gamma_e}\sum_i \rho_e^{[i]} x^{[i]}$ (one $\sigma$ for all classes only scales the equation).",
    method=by_solving(sp.diff(LAGRANGIAN_EQUAL, mu[e]), mu[e], sift, split_sums),
    hypotheses=(GAMMA,),
)

# --------------------------------------------------------------------------
# Chapter 20 (beyond the lecture): several dimensions, exact for dimension 2
# --------------------------------------------------------------------------

x1 = sp.IndexedBase("x1", real=True)  # first coordinate of x^{[i]}
x2 = sp.IndexedBase("x2", real=True)  # second coordinate
_MU2 = sp.Matrix([sample_sum(rho[i, e] * x1[i]), sample_sum(rho[i, e] * x2[i])]) / sample_sum(rho[i, e])
_D1, _D2 = x1[i] - _MU2[0], x2[i] - _MU2[1]
_SIGMA2 = sp.Matrix([
    [sample_sum(rho[i, e] * _D1**2), sample_sum(rho[i, e] * _D1 * _D2)],
    [sample_sum(rho[i, e] * _D1 * _D2), sample_sum(rho[i, e] * _D2**2)],
]) / sample_sum(rho[i, e])
#: Samples N for the exact checks in two dimensions. A class's part of Q involves only its own
#: column of ρ, so the class index e stays symbolic: every class, and every D, at once.
_MV_SAMPLES = (2, 3)


def _vanishes(expr) -> bool:
    """A rational expression is exactly 0: its numerator expands to 0 (no gcd needed)."""
    numerator, _ = sp.fraction(sp.together(expr))
    return sp.expand(numerator) == 0


def _mv_objective(n, k):
    """Q of class k in two dimensions, with the precision Λ = [[p, q], [q, s]] (constant dropped)."""
    m1, m2, lp, lq, ls = sp.symbols("m1 m2 lp lq ls", real=True)
    terms = 0
    for ii in range(n):
        d1, d2 = x1[ii] - m1, x2[ii] - m2
        terms += rho[ii, k] * (sp.log(lp * ls - lq**2) / 2 - (lp * d1**2 + 2 * lq * d1 * d2 + ls * d2**2) / 2)
    return terms, (m1, m2), (lp, lq, ls)


#: For the numeric check: class e's Q in two dimensions for general N, its mean and precision
#: variables, and the updated mean (see :mod:`~gmmderive.symbolic.crosscheck`).
_m1, _m2, _lp, _lq, _ls = sp.symbols("m1 m2 lp lq ls", real=True)
_MV_SPEC = (
    sample_sum(rho[i, e] * (sp.log(_lp * _ls - _lq**2) / 2
                            - (_lp * (x1[i] - _m1) ** 2 + 2 * _lq * (x1[i] - _m1) * (x2[i] - _m2)
                               + _ls * (x2[i] - _m2) ** 2) / 2)),
    (_m1, _m2), (_lp, _lq, _ls), _MU2,
)

_MV_SIZES_TEXT = "N = 2 and N = 3 samples, with the class index e symbolic (so for every class and every D)"


def _at_samples(expr, n):
    """``expr`` with N = n and its sums over the samples written out; D and e stay symbolic.

    The claim is for every class and every D, so D is not fixed: a claim that depends on D
    (the answer times D - 1) keeps D and does not vanish.
    """
    return expr.xreplace({N: n}).doit()


def _mv_means(step):
    for n in _MV_SAMPLES:
        claim = _at_samples(step.rhs, n)
        q_e, (m1, m2), _ = _mv_objective(n, e)
        grad = [sp.diff(q_e, m).xreplace({m1: claim[0], m2: claim[1]}) for m in (m1, m2)]
        if not all(_vanishes(g_) for g_ in grad):
            return False, (), f"N={n}: the gradient in μ does not vanish"
    return True, (), rf"$\nabla_{{\mu_e}} Q = 0$ at the claimed mean, exactly, for {_MV_SIZES_TEXT}."


def _mv_covariances(step):
    big_a, big_b, big_c = sp.symbols("A B C", real=True)
    det = big_a * big_c - big_b**2
    for n in _MV_SAMPLES:
        mean, cov = _at_samples(_MU2, n), _at_samples(step.rhs, n)
        # Λ = [[p, q], [q, s]] is symmetric, so its gradient sees only the symmetric part of
        # the claim: the claim must be symmetric itself (entry (1, 0) is checked too)
        if not _vanishes(cov[1, 0] - cov[0, 1]):
            return False, (), f"N={n}: the claimed covariance is not symmetric"
        q_e, (m1, m2), (lp, lq, ls) = _mv_objective(n, e)
        # Λ = Σ^{-1} for Σ = [[A, B], [B, C]], then Σ = the claimed covariance
        at_inverse = {lp: big_c / det, lq: -big_b / det, ls: big_a / det}
        inv_det_lambda = sp.Pow(lp * ls - lq**2, -1)  # 1/det Λ = det Σ
        for w_ in (lp, lq, ls):
            g_ = sp.diff(q_e, w_).xreplace({inv_det_lambda: det}).xreplace(at_inverse)
            g_ = g_.xreplace({m1: mean[0], m2: mean[1], big_a: cov[0, 0], big_b: cov[0, 1], big_c: cov[1, 1]})
            if not _vanishes(g_):
                return False, (), f"N={n}: the gradient in Λ does not vanish"
    return True, (), (rf"$\nabla_{{\Lambda_e}} Q = 0$ at $\Lambda_e = \Sigma_e^{{-1}}$ of the claimed covariance "
                      rf"(with the updated mean), exactly, for {_MV_SIZES_TEXT}.")


MV1 = Step(
    "MV1", 20, "two dimensions: the update of the mean vectors",
    lhs=sp.MatrixSymbol(r"\boldsymbol{\mu}_e", 2, 1),
    rhs=_MU2,
    justification=r"$\nabla_{\mu_e} \sum_i \rho_e^{[i]} \log \mathcal{N}(x^{[i]}; \mu_e, \Sigma_e) = \Sigma_e^{-1} \sum_i \rho_e^{[i]} (x^{[i]} - \mu_e) = 0$: the responsibility-weighted mean, coordinate by coordinate.",
    method=by_procedure(_mv_means, lhs=sp.MatrixSymbol(r"\boldsymbol{\mu}_e", 2, 1), tactics=("instantiate", "diff"),
                        spec=(("two_dimensional", _MV_SPEC),)),
    kind="exact",
)

MV2 = Step(
    "MV2", 20, "two dimensions: the update of the covariance matrices",
    lhs=sp.MatrixSymbol(r"\Sigma_e", 2, 2),
    rhs=_SIGMA2,
    justification=r"Differentiate in the precision $\Lambda_e = \Sigma_e^{-1}$: $\frac12 \gamma_e \Lambda_e^{-1} - \frac12 \sum_i \rho_e^{[i]} (x^{[i]} - \mu_e)(x^{[i]} - \mu_e)^T = 0$, the weighted scatter about the updated mean.",
    method=by_procedure(_mv_covariances, lhs=sp.MatrixSymbol(r"\Sigma_e", 2, 2), tactics=("instantiate", "diff"),
                        spec=(("two_dimensional", _MV_SPEC), ("least_samples", 3))),
    kind="exact",
)

#: All steps, in the order of the lecture.
STEPS = (
    G1, G2, G3,
    S1, S2, S3, J1, J2,
    S4, E1, S5, S6,
    S7, E2, E3,
    S8, S9, S10, M1,
    S11,
    S12, S13,
    S14, S15, S16, S16b, S17, S18, S19, S20, M2, M3, H2,
    S21, S22, S23, S24,
    S25, S26, S27, S28, S29, H1, H3,
    U1,
    R1, F1, F2,
    W1, W2, W3, W4,
    P1, P2,
    B1,
    V1, V2, V3, V4,
    MV1, MV2,
)
