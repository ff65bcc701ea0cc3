"""The EM iteration of :func:`gmmderive.fit` in plain NumPy: the engine without numba.

The same functions as :mod:`gmmderive._fused` (``em_iteration`` and
``log_likelihood_and_responsibilities``), built from the readable E-step and M-step of
:mod:`gmmderive.core`. It stores the (D, N) responsibilities in every iteration, so it is
several times slower than the fused pass and needs more memory, but it runs wherever NumPy
does (new Python versions before numba's wheels, WebAssembly runtimes such as Pyodide).
"""

from __future__ import annotations

import numpy as np

from .core import _e_step_dn, _m_step_dn
from .params import GMMParams

NAME = "numpy"


def log_likelihood_and_responsibilities(x: np.ndarray, params: GMMParams):
    """``log p(𝒟; params)`` and the (D, N) responsibilities."""
    resp, ll = _e_step_dn(x, params)
    return ll, resp


def em_iteration(x: np.ndarray, params: GMMParams, *, std_floor: float = 0.0, equal_variance: bool = False):
    """One EM iteration from ``params``: ``(log p(𝒟; params), new params, collapsed, empty)``."""
    resp, ll = _e_step_dn(x, params)
    new, collapsed, empty = _m_step_dn(x, resp, previous=params, std_floor=std_floor,
                                       equal_variance=equal_variance)
    return ll, new, collapsed, empty
