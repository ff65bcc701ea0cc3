"""The EM iteration of :func:`gmmderive.fit` in plain NumPy: the engine without numba.

The same functions as :mod:`gmmderive._fused` (``em_iteration``,
``log_likelihood_and_responsibilities`` and ``sufficient_statistics``), built from the readable E-step and M-step of
:mod:`gmmderive.core`. It stores the (D, N) responsibilities in every iteration, so it is
several times slower than the fused pass and needs more memory, but it runs wherever NumPy
does (new Python versions before numba's wheels, WebAssembly runtimes such as Pyodide).
"""

from __future__ import annotations

import numpy as np

from .core import log_joint_dn, m_step_dn, normalize_log_dn
from .params import GMMParams

NAME = "numpy"


def log_likelihood_and_responsibilities(x: np.ndarray, params: GMMParams, sample_weight=None):
    """``log p(𝒟; params)`` (``Σ_i w_i log p(x^{[i]})`` with weights) and the (D, N) responsibilities."""
    resp, log_dens = normalize_log_dn(log_joint_dn(x, params))
    return _total(log_dens, sample_weight), resp


def em_iteration(x: np.ndarray, params: GMMParams, *, std_floor: float = 0.0, equal_variance: bool = False,
                 sample_weight=None):
    """One EM iteration from ``params``: ``(log p(𝒟; params), new params, collapsed, empty)``."""
    ll, resp = log_likelihood_and_responsibilities(x, params, sample_weight)
    new, collapsed, empty = m_step_dn(x, resp, previous=params, std_floor=std_floor,
                                       equal_variance=equal_variance, sample_weight=sample_weight)
    return ll, new, collapsed, empty


def sufficient_statistics(x: np.ndarray, params: GMMParams, centers=None, sample_weight=None, max_threads=None):
    """``(log p(𝒟; params), γ, S₁, S₂)``: the E-step's sums about ``centers`` (default: the means).

    As :func:`gmmderive._fused.sufficient_statistics` (``max_threads`` is ignored: NumPy runs
    on one thread), from the stored (D, N) responsibilities.
    """
    resp, log_dens = normalize_log_dn(log_joint_dn(x, params))
    if sample_weight is not None:
        resp = resp * sample_weight
    dev = x - (params.means if centers is None else np.asarray(centers, dtype=np.float64))[:, np.newaxis]
    rdev = resp * dev
    return _total(log_dens, sample_weight), resp.sum(axis=1), rdev.sum(axis=1), np.einsum("dn,dn->d", rdev, dev)


def _total(log_dens, weights) -> float:
    if weights is None:
        return float(log_dens.sum())
    return float(weights @ np.where(weights > 0, log_dens, 0.0))  # a zero weight removes its sample
