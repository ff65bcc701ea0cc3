"""Deliberately different E- and M-steps, for teaching and for tests.

Each one is a mistake or a variant that the book discusses, kept here so that
the book, the tests and the bridge to the proven formulas use one definition:

* :func:`e_step_without_weights`: the slip of the lecture's first companion
  code, which normalized N(x^{[i]}; μ_c, σ_c) without multiplying by π_c;
* :func:`m_step_with_old_mean`: σ_e computed about the *previous* mean instead
  of the mean just updated in the same M-step (the lecture's second remark).

Use them with :func:`gmmderive.em_path` to watch what they do.
"""

from __future__ import annotations

import numpy as np

from ._validation import check_data
from .core import check_params, log_joint_dn, m_step, normalize_log_dn
from .mstep import m_step_arrays
from .params import GMMParams


def e_step_without_weights(x, params: GMMParams) -> np.ndarray:
    """Responsibilities that forgot π_c: N(x^{[i]}; μ_c, σ_c) / Σ_d N(x^{[i]}; μ_d, σ_d).

    Wrong unless all weights are equal. Shape (N, D).
    """
    params = check_params(params)
    equal = GMMParams(np.full(params.n_components, 1.0 / params.n_components), params.means, params.stds)
    resp, _ = normalize_log_dn(log_joint_dn(check_data(x), equal))
    return resp.T


def m_step_with_old_mean(x, resp, previous: GMMParams) -> GMMParams:
    """The M-step with σ_e² = Σ_i ρ_e^{[i]} (x^{[i]} - μ_e^{old})² / γ_e.

    π and μ are the correct updates; σ uses ``previous.means``. Not the
    maximizer of Q (the parallel-axis identity R1: it overestimates σ).
    """
    xs = check_data(x)
    new = m_step(xs, resp, previous=previous)
    r = np.asarray(resp, dtype=float)
    gamma = r.sum(axis=0)
    s2_old = np.einsum("nd,nd->d", r, (xs[:, None] - previous.means[None, :]) ** 2)
    # the M-step's σ from S₂ about the old means without F2's correction S₁²/γ (as if S₁ were 0)
    _, _, stds, _, _ = m_step_arrays(xs.size, gamma, np.zeros_like(gamma), s2_old, new.means, previous.means,
                                     previous.stds)
    return GMMParams(new.weights, new.means, stds)
