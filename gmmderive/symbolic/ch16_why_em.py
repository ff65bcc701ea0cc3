"""Chapter 16 (beyond the lecture): why EM works, the bound and the KL divergence (W1-W4)."""

# ruff: noqa: E501  (the justifications are LaTeX, one line each)
from __future__ import annotations

import sympy as sp

from ._step import Hypothesis, Step, by_procedure, by_rewriting
from ._symbols import class_sum, d, z
from ._tactics import expand_logs, is_zero, split_sums

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

