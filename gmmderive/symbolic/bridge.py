"""From symbols to numbers: the proven formulas, lambdified, against the numeric code.

The E-step of S7 (built on S6) and the updates S20, S24 and S29 (σ with the
updated μ) are instantiated for concrete sizes, turned into NumPy functions
with ``sympy.lambdify``, and compared with :func:`gmmderive.e_step` and
:func:`gmmderive.m_step`. A numeric E-step that forgot π_c (the slip told in
the book) disagrees with the proven one and fails :func:`check_e_step`.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import sympy as sp

from ..params import GMMParams
from ._symbols import i, mu, pi, rho, sigma, x
from ._tactics import instantiate
from .ch05_estep import S7
from .ch09_weights import S20
from .ch11_means import S24
from .ch12_stds import S29
from .model import GAMMA


@cache
def _e_step_lambda(n_components: int):
    value = sp.Symbol("value", real=True)
    w = sp.symbols(f"w0:{n_components}", positive=True)
    m = sp.symbols(f"m0:{n_components}", real=True)
    s = sp.symbols(f"s0:{n_components}", positive=True)
    names = {x[i]: value}
    for k in range(n_components):
        names.update({pi[k]: w[k], mu[k]: m[k], sigma[k]: s[k]})
    # S7 for every class z: ρ_z^{[i]} = ρ̃_z^{[i]} / Σ_d ρ̃_d^{[i]}
    rows = [instantiate(S7.lhs, 1, n_components, z=k).xreplace(names) for k in range(n_components)]
    return sp.lambdify((value, w, m, s), rows, modules="numpy")


def symbolic_e_step(x_values, params: GMMParams) -> np.ndarray:
    """Responsibilities (N, D) from the proven formula S7, evaluated in NumPy."""
    f = _e_step_lambda(params.n_components)
    xv = np.asarray(x_values, dtype=float)
    cols = f(xv, params.weights, params.means, params.stds)
    return np.column_stack([np.broadcast_to(col, xv.shape) for col in cols])


@cache
def _m_step_lambda(n_samples: int, n_components: int):
    xs = sp.symbols(f"x0:{n_samples}", real=True)
    r = [[sp.Symbol(f"r{a}_{b}", nonnegative=True) for b in range(n_components)] for a in range(n_samples)]
    names = {x[a]: xs[a] for a in range(n_samples)}
    names.update({rho[a, b]: r[a][b] for a in range(n_samples) for b in range(n_components)})
    mean = GAMMA.rewrite(S24.rhs)
    std = GAMMA.rewrite(S29.rhs.subs(mu[S24.lhs.indices[0]], S24.rhs))  # σ with the updated μ
    weight = GAMMA.rewrite(S20.rhs)
    exprs = []
    for update in (weight, mean, std):
        exprs.append([instantiate(update, n_samples, n_components, e=k).xreplace(names) for k in range(n_components)])
    return sp.lambdify((xs, r), exprs, modules="numpy")


def symbolic_m_step(x_values, resp) -> GMMParams:
    """π, μ, σ from the proven updates S20, S24, S29, evaluated in NumPy."""
    xv = np.asarray(x_values, dtype=float)
    rv = np.asarray(resp, dtype=float)
    f = _m_step_lambda(xv.size, rv.shape[1])
    weights, means, stds = (np.array(v, dtype=float) for v in f(xv, rv))
    return GMMParams(weights, means, stds)


def check_e_step(e_step, x_values, params: GMMParams, rtol: float = 1e-10) -> bool:
    """Whether a numeric E-step agrees with the proven one on these data."""
    return bool(np.allclose(e_step(x_values, params), symbolic_e_step(x_values, params), rtol=rtol, atol=1e-14))


def check_m_step(m_step, x_values, resp, rtol: float = 1e-10) -> bool:
    """Whether a numeric M-step agrees with the proven updates on these data."""
    ours, proven = m_step(x_values, resp), symbolic_m_step(x_values, resp)
    return all(
        np.allclose(a, b, rtol=rtol, atol=1e-14)
        for a, b in ((ours.weights, proven.weights), (ours.means, proven.means), (ours.stds, proven.stds))
    )


__all__ = ["check_e_step", "check_m_step", "symbolic_e_step", "symbolic_m_step"]
