"""Chapter 22 (beyond the lecture): EM as a map, and how fast it converges (D = 2).

EM is a map θ^{[k+1]} = M(θ^{[k]}): the E-step's responsibilities, then the M-step's updates.
Near its fixed point θ* the error e_k = θ^{[k]} - θ* shrinks as e_{k+1} ≈ J e_k, with J the
Jacobian of M at θ*: EM converges linearly, at the rate of J's largest eigenvalue (Dempster,
Laird & Rubin 1977). For D = 2, with θ = (π_0, μ_0, μ_1, σ_0, σ_1) and π_1 = 1 - π_0:

* EM1-EM3: the derivatives of a responsibility, ρ_0 (1 - ρ_0) times the derivative of the log
  of its class's joint (general in x, θ);
* :data:`EM_MAP`: M as SymPy expressions, sums over the samples of the E-step's ρ_0 composed
  into the M-step's updates; :func:`em_jacobian` differentiates them, and :func:`evaluate`
  puts in a data set and a θ.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from ._step import Hypothesis, Method, Step, by_procedure
from ._symbols import i, mu, pi, rho, sample_sum, sigma, x
from .model import pdf

#: θ for D = 2: π_1 = 1 - π_0 is not a coordinate of its own.
THETA = (pi[0], mu[0], mu[1], sigma[0], sigma[1])

_phi0, _phi1 = pdf(x[i], 0), pdf(x[i], 1)
#: ρ_0^{[i]} as a function of θ: the E-step for D = 2 (S6 with π_1 = 1 - π_0).
RHO_0 = pi[0] * _phi0 / (pi[0] * _phi0 + (1 - pi[0]) * _phi1)

#: ρ_0^{[i]} stands for RHO_0 (and ρ_1^{[i]} for 1 - ρ_0^{[i]}) in the claims below.
RHO_D2 = Hypothesis("the E-step for D = 2: ρ_0 = π_0 N_0 / (π_0 N_0 + (1 - π_0) N_1)", sp.Eq(rho[i, 0], RHO_0),
                    over=(i,), source="definition")

#: The other class, for D = 2: its responsibility and its weight are what the first leaves.
ROWS_D2 = Hypothesis("every row of ρ sums to one, for D = 2: ρ_1 = 1 - ρ_0", sp.Eq(rho[i, 1], 1 - rho[i, 0]),
                     over=(i,), source="definition")
WEIGHTS_D2 = Hypothesis("the weights sum to one, for D = 2: π_1 = 1 - π_0", sp.Eq(pi[1], 1 - pi[0]),
                        source="definition")

_R = rho[i, 0]


def _exponentials_as_symbols(expr):
    """Each exp(k b) as E_b^(k/g): one positive symbol per exponent b (up to a rational factor).

    Sound for showing that an expression vanishes: a rational function that is 0 for
    independent values of the E_b is 0 for their actual values. (SymPy writes exp(b)^2 as
    exp(2b), so the exponents of one b are collected, and g is their greatest common divisor.)
    Both sides of the claims below come from the one density
    :func:`~gmmderive.symbolic.derivation.pdf`, so equal exponents are equal expressions.
    """
    groups = {}
    for a in expr.atoms(sp.exp):
        k, b = a.args[0].as_coeff_Mul()
        groups.setdefault(b, set()).add(sp.Rational(k))
    subs = {}
    for b, ks in groups.items():
        g = sp.gcd(list(ks)) if len(ks) > 1 else next(iter(ks))
        symbol = sp.Dummy("E", positive=True)  # private: a claim cannot name it
        for k in ks:
            subs[sp.exp(k * b)] = symbol ** (k / g)
    return expr.xreplace(subs)


def by_differentiating_the_e_step(variable) -> Method:
    """SymPy differentiates ρ_0 (RHO_0) by ``variable``; minus the claim, with the step's
    hypotheses applied in order (ρ_1 and π_1 as what the first class leaves, then ρ_0 written
    out), it must cancel to 0 as a rational function of θ, x and the exponentials."""

    def run(step: Step):
        derivative = sp.diff(RHO_0, variable)
        difference = derivative - step.rhs
        for h in step.hypotheses:
            difference = h.rewrite(difference)
        left = sp.cancel(sp.together(_exponentials_as_symbols(difference)))
        ok = left == 0
        # SymPy's derivative itself, the densities written out, is too wide to show
        return ok, (), "" if ok else "derivative − rhs does not cancel to 0 (a rational function of θ, x, the exponentials)"

    return by_procedure(run, lhs=sp.Derivative(RHO_0, variable, evaluate=False),
                        tactics=("diff", "exponentials as symbols", "cancel"))

def _moves_with(sid, name, variable, rhs, justification) -> Step:
    """The derivative of ρ_0^{[i]} in one coordinate of θ, for D = 2."""
    return Step(sid, 22, name, lhs=sp.Derivative(RHO_0, variable, evaluate=False), rhs=rhs,
                justification=justification, method=by_differentiating_the_e_step(variable),
                hypotheses=(ROWS_D2, WEIGHTS_D2, RHO_D2), lhs_display=sp.Derivative(rho[i, 0], variable),
                kind="case", case="D = 2")


EM1 = _moves_with("EM1", "how a responsibility moves with its class's mean", mu[0], _R * (1 - _R) * (x[i] - mu[0]) / sigma[0] ** 2,
                  r"SymPy differentiates the E-step's $\rho_0^{[i]}$ in $\mu_0$: $\rho_0 (1 - \rho_0)$ times the derivative of $\log \mathcal{N}(x^{[i]}; \mu_0, \sigma_0)$, $(x^{[i]} - \mu_0)/\sigma_0^2$.")
EM2 = _moves_with("EM2", "how a responsibility moves with its class's standard deviation", sigma[0], _R * (1 - _R) * ((x[i] - mu[0]) ** 2 / sigma[0] ** 3 - 1 / sigma[0]),
                  r"The same with $\sigma_0$: the derivative of $\log \mathcal{N}$ in $\sigma_0$ is $(x^{[i]} - \mu_0)^2/\sigma_0^3 - 1/\sigma_0$.")
EM3 = _moves_with("EM3", "how a responsibility moves with the weight", pi[0], _R * (1 - _R) / (pi[0] * (1 - pi[0])),
                  r"With $\pi_1 = 1 - \pi_0$ the derivative of $\log \pi_0 - \log \pi_1$ is $1/\pi_0 + 1/(1 - \pi_0) = 1/(\pi_0 (1 - \pi_0))$.")

RATE_STEPS = (EM1, EM2, EM3)

# --------------------------------------------------------------------------
# The EM map for D = 2 and its Jacobian
# --------------------------------------------------------------------------

_gamma0, _gamma1 = sample_sum(RHO_0), sample_sum(1 - RHO_0)
_n = sample_sum(sp.Integer(1))
_mu0 = sample_sum(RHO_0 * x[i]) / _gamma0
_mu1 = sample_sum((1 - RHO_0) * x[i]) / _gamma1

#: M(θ) = (π_0', μ_0', μ_1', σ_0', σ_1'): the M-step's updates (S20, S24, S29) of the E-step's ρ.
EM_MAP = (
    _gamma0 / _n,
    _mu0,
    _mu1,
    sp.sqrt(sample_sum(RHO_0 * (x[i] - _mu0) ** 2) / _gamma0),
    sp.sqrt(sample_sum((1 - RHO_0) * (x[i] - _mu1) ** 2) / _gamma1),
)


def em_jacobian() -> sp.Matrix:
    """∂M_k/∂θ_j: SymPy differentiates the composed map (the sums are differentiated termwise)."""
    return sp.Matrix([[sp.diff(m, t) for t in THETA] for m in EM_MAP])


def evaluate(expr, data, theta) -> np.ndarray:
    """The value of an expression (or matrix) of :data:`EM_MAP`'s kind at a data set and θ.

    Every sum over the samples becomes a NumPy sum of its summand over ``data``; then θ is
    put in. ``theta`` = (π_0, μ_0, μ_1, σ_0, σ_1).
    """
    data = np.asarray(data, dtype=float)
    values = dict(zip(THETA, (float(t) for t in theta), strict=True))
    sums = {}

    plain = {v: sp.Dummy(f"v{k}") for k, v in enumerate((x[i], *THETA))}  # lambdify wants plain symbols

    def number(s):
        if s not in sums:
            f = sp.lambdify(tuple(plain.values()), s.function.xreplace(plain), "numpy")
            sums[s] = float(np.sum(np.broadcast_to(f(data, *values.values()), data.shape)))
        return sp.Float(sums[s])

    matrix = sp.Matrix(expr) if isinstance(expr, sp.MatrixBase) else sp.Matrix([[expr]])
    while True:  # innermost sums first: a summand may hold sums (σ' holds μ')
        inner = {a for a in matrix.atoms(sp.Sum) if not a.function.has(sp.Sum)}
        if not inner:
            break
        matrix = matrix.xreplace({a: number(a) for a in inner})
    result = np.array(matrix.subs(values).evalf(), dtype=float)
    return result if isinstance(expr, sp.MatrixBase) else float(result[0, 0])
