"""Chapter 22: the derivatives of a responsibility (EM1-EM3) and the Jacobian of the EM map."""

import numpy as np
import pytest
import sympy as sp

import gmmderive as g
from gmmderive import symbolic as gs
from gmmderive.symbolic import rate
from gmmderive.symbolic._symbols import i, mu, pi, rho, sigma, x

R = rho[i, 0]

# Each claim with one thing wrong: SymPy must refuse it.
FALSE_CLAIMS = {
    "EM1": [R * (x[i] - mu[0]) / sigma[0] ** 2,  # (1 - ρ) dropped
           -R * (1 - R) * (x[i] - mu[0]) / sigma[0] ** 2,  # sign
           R * (1 - R) * (x[i] - mu[0]) / sigma[0],  # σ instead of σ²
           R * (1 - R) * (x[i] - mu[1]) / sigma[0] ** 2,  # the other class's mean
           R ** 2 * (x[i] - mu[0]) / sigma[0] ** 2],  # ρ² for ρ(1 - ρ)
    "EM2": [R * (1 - R) * (x[i] - mu[0]) ** 2 / sigma[0] ** 3,  # -1/σ dropped
           R * (1 - R) * ((x[i] - mu[0]) ** 2 / sigma[0] ** 2 - 1 / sigma[0]),  # σ² for σ³
           R * (1 - R) * ((x[i] - mu[0]) ** 2 / sigma[0] ** 3 + 1 / sigma[0])],  # sign of 1/σ
    "EM3": [R * (1 - R) / pi[0],  # π_1 forgotten
           R / (pi[0] * (1 - pi[0])),  # (1 - ρ) dropped
           R * (1 - R) / (pi[0] * (1 + pi[0]))],  # π_1 = 1 + π_0
}


def test_the_derivatives_of_a_responsibility_are_proven():
    for s in rate.RATE_STEPS:
        assert s.check().passed, s.id
        assert gs.step(s.id) is s and s.chapter == 22


@pytest.mark.parametrize(("step_id", "k"), [(sid, k) for sid, claims in FALSE_CLAIMS.items()
                                            for k in range(len(claims))])
def test_false_derivatives_are_rejected(step_id, k):
    true = gs.step(step_id)
    false = gs.Step(true.id, 0, true.name, lhs=true.lhs, rhs=FALSE_CLAIMS[step_id][k],
                    justification=true.justification, method=true.method, hypotheses=true.hypotheses,
                    kind=true.kind, case=true.case)
    assert not false.check().passed


def test_the_symbolic_jacobian_is_that_of_the_e_and_m_steps():
    rng = np.random.default_rng(0)
    data = np.concatenate([rng.normal(0, 1, 30), rng.normal(2, 0.7, 20)])
    theta = np.array([0.55, 0.1, 2.2, 0.9, 0.6])  # anywhere, not only at the fixed point

    def em_map(t):
        p = g.GMMParams([t[0], 1 - t[0]], t[1:3], t[3:5])
        q = g.m_step(data, g.e_step(data, p))
        return np.array([q.weights[0], *q.means, *q.stds])

    np.testing.assert_allclose(rate.evaluate(sp.Matrix([rate.EM_MAP]), data, theta)[0], em_map(theta), rtol=1e-12)
    h = 1e-6
    central = np.column_stack([(em_map(theta + h * u) - em_map(theta - h * u)) / (2 * h) for u in np.eye(5)])
    np.testing.assert_allclose(rate.evaluate(rate.em_jacobian(), data, theta), central, atol=1e-8)
