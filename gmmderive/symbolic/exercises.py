"""The exercises of the book's derivation chapters, with their solutions as checkable steps.

Each exercise's answer is a :class:`~gmmderive.symbolic.Step` (ids ``X<chapter>.<n>``): the
book's folded solution shows it and proves it, the tests and ``python -m gmmderive verify``
prove it too.
"""

from __future__ import annotations

import sympy as sp

from ._printing import latex
from ._step import Step, by_procedure, by_rewriting, by_solving
from ._symbols import D, I, N, X, c, class_sum, d, e, gamma, i, lam, mu, pi, rho, sample_sum, sigma, x, z
from ._tactics import constant_sums, expand_logs, is_zero, reduce, sift, split_sums, split_sums_keep_squares, swap_sums
from .ch16_why_em import p_joint, q
from .model import (
    CLASS_NOT_EMPTY,
    GAMMA,
    LAGRANGIAN,
    Q_S10,
    ROWS,
    SCATTER,
    SIMPLEX,
    _integrate,
    g_constraint,
    mixture,
    pdf,
)

# -- chapter 4: the joint ----------------------------------------------------------

X4_1 = Step(
    "X4.1", 4, "the mean of the mixture",
    lhs=sp.Integral(X * mixture(X), (X, -sp.oo, sp.oo)),
    rhs=class_sum(pi[d] * mu[d]),
    justification=r"Integrate term by term: $\int x\, \mathcal{N}(x; \mu_d, \sigma_d)\, dx = \mu_d$.",
    method=by_rewriting(_integrate, split_sums),
)

X4_2 = Step(
    "X4.2", 4, "the second moment of the mixture",
    lhs=sp.Integral(X**2 * mixture(X), (X, -sp.oo, sp.oo)),
    rhs=class_sum(pi[d] * (sigma[d] ** 2 + mu[d] ** 2)),
    justification=r"Term by term, $\int x^2 \mathcal{N}(x; \mu_d, \sigma_d)\, dx = \sigma_d^2 + \mu_d^2$; so the mixture's variance is $\sum_d \pi_d(\sigma_d^2 + \mu_d^2) - (\sum_d \pi_d \mu_d)^2$.",
    method=by_rewriting(_integrate, split_sums),
)

# -- chapter 5: un-normalized responsibilities ---------------------------------------

X5_1 = Step(
    "X5.1", 5, "the log of the un-normalized responsibility",
    lhs=sp.log(pi[z] * pdf(x[i], z)),
    rhs=sp.log(pi[z]) - sp.log(sigma[z]) - sp.log(2 * sp.pi) / 2 - (x[i] - mu[z]) ** 2 / (2 * sigma[z] ** 2),
    justification=r"The log of a product is a sum: this is what `gmmderive.log_joint` computes, and why it never underflows.",
    method=by_rewriting(expand_logs),
)

_a, _b = sp.symbols("a b", positive=True)
X5_2 = Step(
    "X5.2", 5, "two classes: the posterior is a logistic function",
    lhs=_a / (_a + _b),
    rhs=1 / (1 + sp.exp(sp.log(_b) - sp.log(_a))),
    justification=r"With $a = \tilde\rho_0^{[i]}$, $b = \tilde\rho_1^{[i]}$: $\rho_0^{[i]} = 1/(1 + e^{\log b - \log a})$, a sigmoid of the difference of the log-joints.",
    method=by_rewriting(),
    kind="case", case="D = 2",
)

# -- chapter 6: normalizing -----------------------------------------------------------

_s = sp.Symbol("s", positive=True)
_m0, _m1 = sp.symbols("mu_0 mu_1", real=True)
_p0, _p1 = sp.symbols("pi_0 pi_1", positive=True)
_x = sp.Symbol("x", real=True)
_LOG_RATIO = (sp.log(_p0) - (_x - _m0) ** 2 / (2 * _s**2)) - (sp.log(_p1) - (_x - _m1) ** 2 / (2 * _s**2))

X6_1 = Step(
    "X6.1", 6, "two classes, one σ: where the responsibilities are equal",
    lhs=_x,
    rhs=(_m0 + _m1) / 2 + _s**2 * sp.log(_p0 / _p1) / (_m1 - _m0),
    justification=r"Solve $\log \tilde\rho_0 = \log \tilde\rho_1$ for $x$ (equal $\sigma$, so the boundary is linear): the midpoint, shifted towards the lighter class (with $\pi_1 = 1 - \pi_0$).",
    method=by_solving(_LOG_RATIO, _x),
    kind="case", case="D = 2, equal σ",
)

X6_2 = Step(
    "X6.2", 6, "the class responsibilities sum to N",
    lhs=class_sum(gamma[d]),
    rhs=N,
    justification=r"$\sum_d \gamma_d = \sum_d \sum_i \rho_d^{[i]} = \sum_i \sum_d \rho_d^{[i]} = \sum_i 1 = N$.",
    method=by_rewriting(GAMMA.rewrite, split_sums, swap_sums, ROWS.rewrite, constant_sums),
    hypotheses=(GAMMA, ROWS),
)

# -- chapter 7: the Q-function --------------------------------------------------------

X7_1 = Step(
    "X7.1", 7, "Q splits into a weights part and a Gaussians part",
    lhs=sample_sum(class_sum(rho[i, c] * (class_sum(I(d, c) * sp.log(pi[d]))
                                          - sp.log(sigma[c]) - (x[i] - mu[c]) ** 2 / (2 * sigma[c] ** 2)), c)),
    rhs=class_sum(gamma[c] * sp.log(pi[c]), c)
    + class_sum(sample_sum(rho[i, c] * (-sp.log(sigma[c]) - (x[i] - mu[c]) ** 2 / (2 * sigma[c] ** 2))), c),
    justification=r"Sift the indicator and sum the responsibilities: $\pi$ appears only in $\sum_c \gamma_c \log \pi_c$, which is why the weights' update depends on $\gamma$ alone.",
    method=by_rewriting(sift, split_sums, GAMMA.rewrite, swap_sums),
    hypotheses=(GAMMA,),
)

X7_2 = Step(
    "X7.2", 7, "for one class, Q is the log-likelihood of a Gaussian",
    lhs=sample_sum(sp.log(pdf(x[i], 0))),
    rhs=-N * sp.log(sigma[0]) - N * sp.log(2 * sp.pi) / 2 - sample_sum((x[i] - mu[0]) ** 2) / (2 * sigma[0] ** 2),
    justification=r"With $D = 1$ every $\rho_0^{[i]} = 1$ and Q is the ordinary log-likelihood of $\mathcal{N}(\mu_0, \sigma_0)$.",
    method=by_rewriting(expand_logs, split_sums, constant_sums),
    kind="case", case="D = 1",
)

# -- chapter 8: maximization, formally -----------------------------------------------

def _solutions(step):
    found = sp.solveset(gamma[e] / pi[e], pi[e], sp.Interval.open(0, sp.oo))
    ok = found == step.rhs
    return ok, [(r"SymPy's solutions of $\gamma_e/\pi_e = 0$ for $\pi_e > 0$", found)], "" if ok else "SymPy finds other solutions"


_STATIONARY_SET = sp.Symbol(r"\{\pi_e > 0 : \gamma_e/\pi_e = 0\}")
X8_1 = Step(
    "X8.1", 8, "without the constraint there is no stationary point in π",
    lhs=_STATIONARY_SET,
    rhs=sp.EmptySet,
    justification=r"$\gamma_e / \pi_e = 0$ has no solution for $\pi_e > 0$ (SymPy's `solveset`): the unconstrained Q has no maximum in $\pi$.",
    method=by_procedure(_solutions, lhs=_STATIONARY_SET, tactics=("solveset",),
                        spec=(("no_root", (gamma[e] / pi[e], pi[e])),)),
)

_g0, _g1 = sp.symbols("gamma_0 gamma_1", positive=True)
X8_2 = Step(
    "X8.2", 8, "two classes: maximize along the constraint directly",
    lhs=sp.Symbol("pi_0", positive=True),
    rhs=_g0 / (_g0 + _g1),
    justification=r"Substitute $\pi_1 = 1 - \pi_0$ into $\gamma_0 \log \pi_0 + \gamma_1 \log \pi_1$ and set the derivative to zero.",
    method=by_solving(sp.diff(_g0 * sp.log(_p0) + _g1 * sp.log(1 - _p0), _p0), _p0),
    kind="case", case="D = 2",
)

# -- chapter 9: the Lagrange multiplier -------------------------------------------------

_u, _v, _lam = sp.symbols("u v lambda", positive=True)


def _toy_lagrange(step):
    lagrangian = _g0 * sp.log(_u) + _g1 * sp.log(_v) + _lam * (1 - _u - _v)
    grad = [sp.diff(lagrangian, w) for w in (_u, _v, _lam)]
    sol = sp.solve(grad, [_u, _v, _lam], dict=True)
    work = [("SymPy's solution of $\\nabla \\hat Q = 0$", sp.Matrix([sol[0][_u], sol[0][_v], sol[0][_lam]]) if sol else sp.S.EmptySet)]
    if len(sol) != 1:
        return False, work, f"SymPy finds {len(sol)} stationary points"
    left = reduce(sp.Matrix([sol[0][_u], sol[0][_v], sol[0][_lam]]) - step.rhs)  # shapes checked by the kernel
    ok = all(v == 0 for v in left)
    return ok, work, "" if ok else f"the Lagrange solution differs from the claim by ${latex(left)}$"


X9_1 = Step(
    "X9.1", 9, "a small Lagrangian solved in full",
    lhs=sp.Matrix([_u, _v, _lam]),
    rhs=sp.Matrix([_g0 / (_g0 + _g1), _g1 / (_g0 + _g1), _g0 + _g1]),
    justification=r"Maximize $\gamma_0 \log u + \gamma_1 \log v$ subject to $u + v = 1$: all three partial derivatives of the Lagrangian vanish at once, and $\lambda$ is the total $\gamma_0 + \gamma_1$.",
    method=by_procedure(_toy_lagrange, lhs=sp.Matrix([_u, _v, _lam]), tactics=("diff", "solve"),
                        spec=(("stationary", (_g0 * sp.log(_u) + _g1 * sp.log(_v) + _lam * (1 - _u - _v), (_u, _v, _lam))),)),
    kind="case", case="D = 2",
)

X9_2 = Step(
    "X9.2", 9, "the Lagrangian equals Q on the constraint, for any λ",
    lhs=sp.Add(LAGRANGIAN, -Q_S10, evaluate=False),
    lhs_display=sp.Add(sp.Symbol("Qhat"), -sp.Symbol("Q"), evaluate=False),
    rhs=sp.S.Zero,
    justification=r"$\hat Q - Q = \lambda\, g(\pi) = \lambda (1 - \sum_d \pi_d)$: zero on the constraint, whatever $\lambda$.",
    method=by_rewriting(split_sums),
    hypotheses=(SIMPLEX,),
)

# -- chapter 10: the weights ----------------------------------------------------------

alpha = sp.IndexedBase("alpha", positive=True)
_PRIOR = class_sum((alpha[d] - 1) * sp.log(pi[d]))  # log Dirichlet(π; α) up to a constant


def _map_weights(step):
    lam_star = N + class_sum(alpha[d]) - D
    derivative = split_sums(sift(sp.diff(LAGRANGIAN + _PRIOR, pi[e])))
    claim = split_sums(GAMMA.rewrite(step.rhs))
    at = split_sums(GAMMA.rewrite(derivative.subs(pi[e], claim).subs(lam, lam_star)))
    # the constraint holds for the claimed weights too
    total = split_sums(swap_sums(split_sums(GAMMA.rewrite(class_sum(step.rhs.subs(e, d))))))
    total = constant_sums(ROWS.rewrite(total))
    ok = is_zero(at) and is_zero(total - 1)
    work = [("SymPy's derivative of $\\hat Q + \\log \\mathrm{Dir}(\\pi; \\alpha)$ by $\\pi_e$", derivative),
            ("at the claimed weights, with $\\lambda = N + \\sum_d \\alpha_d - D$", sp.simplify(at)),
            ("the claimed weights summed over the classes", sp.simplify(total))]
    return ok, work, "" if ok else "the claimed weights are not the constrained stationary point"


X10_1 = Step(
    "X10.1", 10, "weights with a Dirichlet prior (MAP)",
    lhs=pi[e],
    rhs=(gamma[e] + alpha[e] - 1) / (N + class_sum(alpha[d]) - D),
    justification=r"Add $\sum_d (\alpha_d - 1)\log \pi_d$ to $\hat Q$: the same steps give $\lambda = N + \sum_d \alpha_d - D$ and pseudo-counts $\alpha_e - 1$ added to $\gamma_e$.",
    method=by_procedure(_map_weights, lhs=pi[e], tactics=("diff", "sift", "split_sums", "hypothesis: definition of the class responsibilities", "hypothesis: every row of ρ sums to one"),
                        spec=(("simplex", (pi, Q_S10 + _PRIOR, e)),)),
    hypotheses=(GAMMA, ROWS),
)

w = sp.IndexedBase("w", positive=True)  # sample weights (repeat counts)


def _weighted_weights(step):
    q_weighted = sample_sum(class_sum(w[i] * rho[i, c] * class_sum(I(d, c) * sp.log(pi[d])), c)) + lam * g_constraint
    derivative = split_sums(sift(sp.diff(q_weighted, pi[e])))
    lam_star = sample_sum(w[i])
    at = split_sums(derivative.subs({pi[e]: step.rhs, lam: lam_star}))
    total = constant_sums(ROWS.rewrite(swap_sums(split_sums(class_sum(step.rhs.subs(e, d))))))
    ok = is_zero(at) and is_zero(split_sums(total) - 1)
    work = [("SymPy's derivative by $\\pi_e$ of the weighted Lagrangian", derivative),
            ("at the claimed weights, with $\\lambda = \\sum_i w_i$", sp.simplify(at))]
    return ok, work, "" if ok else "the claimed weights do not solve the weighted problem"


X10_2 = Step(
    "X10.2", 10, "weighted samples: the weights' update",
    lhs=pi[e],
    rhs=sample_sum(w[i] * rho[i, e]) / sample_sum(w[i]),
    justification=r"If sample $i$ counts $w_i$ times, $Q$ weights its terms by $w_i$; $\lambda$ becomes $\sum_i w_i$ and $N$ is replaced by the total weight.",
    method=by_procedure(_weighted_weights, lhs=pi[e], tactics=("diff", "sift", "split_sums", "hypothesis: every row of ρ sums to one"),
                        spec=(("simplex", (pi, sample_sum(class_sum(w[i] * rho[i, c] * sp.log(pi[c]), c)), e)),)),
    hypotheses=(ROWS,),
)

# -- chapter 11: the means -------------------------------------------------------------

_m = sp.Symbol("m", real=True)
X11_1 = Step(
    "X11.1", 11, "the updated mean minimizes the weighted squared error",
    lhs=_m,
    rhs=sample_sum(rho[i, e] * x[i]) / sample_sum(rho[i, e]),
    justification=r"$\frac{d}{dm} \sum_i \rho_e^{[i]} (x^{[i]} - m)^2 = 0$ gives the same weighted mean: $\mu_e$ is the least-squares centre of class $e$.",
    method=by_solving(split_sums(sp.diff(sample_sum(rho[i, e] * (x[i] - _m) ** 2), _m)), _m),
)

X11_2 = Step(
    "X11.2", 11, "weighted samples: the means' update",
    lhs=mu[e],
    rhs=sample_sum(w[i] * rho[i, e] * x[i]) / sample_sum(w[i] * rho[i, e]),
    justification=r"With sample weights $w_i$, $\partial Q/\partial \mu_e = \sum_i w_i \rho_e^{[i]} (x^{[i]} - \mu_e)/\sigma_e^2 = 0$.",
    method=by_solving(
        split_sums(sift(sp.diff(sample_sum(class_sum(w[i] * rho[i, c] * (-(x[i] - mu[c]) ** 2 / (2 * sigma[c] ** 2)), c)), mu[e]))),
        mu[e],
    ),
)

# -- chapter 12: the standard deviations ----------------------------------------------

_var = sp.Symbol("v", positive=True)
X12_1 = Step(
    "X12.1", 12, "differentiate in the variance instead: the same update",
    lhs=_var,
    rhs=sample_sum(rho[i, e] * (x[i] - mu[e]) ** 2) / sample_sum(rho[i, e]),
    justification=r"With $v_e = \sigma_e^2$, $\partial/\partial v_e \sum_i \rho_e^{[i]}(-\frac12 \log v_e - (x^{[i]} - \mu_e)^2/(2 v_e)) = 0$ gives $v_e = \sigma_e^2$ of S29: the maximizer does not depend on the parametrization.",
    method=by_solving(
        sp.diff(sample_sum(rho[i, e] * (-sp.log(_var) / 2 - (x[i] - mu[e]) ** 2 / (2 * _var))), _var),
        _var,
        split_sums_keep_squares,
    ),
    hypotheses=(SCATTER, CLASS_NOT_EMPTY),
)

X12_2 = Step(
    "X12.2", 12, "one class: σ² is the (biased) sample variance",
    lhs=(sample_sum((x[i] - mu[0]) ** 2) / N).subs(mu[0], sample_sum(x[i]) / N),
    rhs=sample_sum(x[i] ** 2) / N - (sample_sum(x[i]) / N) ** 2,
    justification=r"With $D = 1$, $\rho_0^{[i]} = 1$ and $\gamma_0 = N$: $\sigma_0^2 = \frac1N \sum_i (x^{[i]} - \bar x)^2 = \overline{x^2} - \bar x^2$, divided by $N$, not $N - 1$.",
    method=by_rewriting(split_sums, constant_sums),
    kind="case", case="D = 1",
)

# -- chapter 16: why EM works ----------------------------------------------------------

p_new = sp.IndexedBase("pnew", positive=True)  # p(Z=z, x; θ') after the M-step
_post = p_joint[z] / class_sum(p_joint[d])  # q = the posterior under θ (the E-step)

X16_1 = Step(
    "X16.1", 16, "the gain in log-likelihood is the gain in Q plus a KL divergence",
    lhs=sp.log(class_sum(p_new[d])) - sp.log(class_sum(p_joint[d])),
    rhs=(class_sum(_post * sp.log(p_new[z]), z) - class_sum(_post * sp.log(p_joint[z]), z))
    + class_sum(_post * sp.log(_post / (p_new[z] / class_sum(p_new[d]))), z),
    justification=r"With $q$ the posterior under $\theta$: $\log p(x;\theta') - \log p(x;\theta) = [Q(\theta') - Q(\theta)] + \mathrm{KL}(q \,\|\, p(z \mid x; \theta'))$, so the likelihood gains at least what Q gains.",
    method=by_rewriting(expand_logs, split_sums),
)


def _posterior_maximizes_bound(step):
    lam_q = sp.Symbol("lambda_q", real=True)
    bound = class_sum(q[d] * sp.log(p_joint[d] / q[d])) + lam_q * (1 - class_sum(q[d]))
    derivative = split_sums(sift(sp.diff(bound, q[e])))
    at = derivative.subs(q[e], step.rhs).subs(lam_q, sp.log(class_sum(p_joint[d])) - 1)
    total = split_sums(class_sum(step.rhs.subs(e, d)))
    ok = is_zero(expand_logs(at)) and is_zero(total - 1)
    work = [("SymPy's derivative of the Lagrangian of the bound by $q_e$", derivative),
            (r"at the claimed $q_e$, with $\lambda = \log p(x) - 1$", sp.simplify(expand_logs(at)))]
    return ok, work, "" if ok else "the claimed q is not the constrained maximizer"


X16_2 = Step(
    "X16.2", 16, "over q, the bound is maximized by the posterior",
    lhs=q[e],
    rhs=p_joint[e] / class_sum(p_joint[d]),
    justification=r"Maximize $\sum_d q_d \log(p_d / q_d)$ subject to $\sum_d q_d = 1$ with a multiplier: $q_e = p(Z=e, x)/p(x)$, the E-step is itself a maximization.",
    method=by_procedure(_posterior_maximizes_bound, lhs=q[e], tactics=("diff", "sift", "split_sums", "expand_logs"),
                        spec=(("simplex", (q, class_sum(q[d] * sp.log(p_joint[d] / q[d])), e)),)),
)

# -- chapter 19: equal variances ----------------------------------------------------------

X19_1 = Step(
    "X19.1", 19, "the shared variance averages the classes' variances",
    lhs=class_sum((gamma[c] / N) * (sample_sum(rho[i, c] * (x[i] - mu[c]) ** 2) / gamma[c]), c),
    rhs=sample_sum(class_sum(rho[i, c] * (x[i] - mu[c]) ** 2, c)) / N,
    justification=r"$\sigma^2 = \sum_c \pi_c \sigma_c^2$ with $\pi_c = \gamma_c/N$ and the per-class variances of S29: the weights' update weights the average.",
    method=by_rewriting(split_sums),
)

X19_2 = Step(
    "X19.2", 19, "free parameters of the shared-σ model",
    lhs=sp.Add(D - 1, D, 1, evaluate=False),
    rhs=2 * D,
    justification=r"$D - 1$ free weights, $D$ means and one standard deviation: $D - 1$ fewer than the unequal model (B1).",
    method=by_rewriting(),
)

#: All exercise steps, in chapter order.
EXERCISES = (
    X4_1, X4_2, X5_1, X5_2, X6_1, X6_2, X7_1, X7_2, X8_1, X8_2, X9_1, X9_2,
    X10_1, X10_2, X11_1, X11_2, X12_1, X12_2, X16_1, X16_2, X19_1, X19_2,
)
