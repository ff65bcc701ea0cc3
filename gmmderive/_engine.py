"""Which engine runs fit's EM iterations: numba's fused pass, or plain NumPy.

``GMMDERIVE_ENGINE`` chooses: ``numba`` (an error if it is not installed), ``numpy``, or unset
for numba where it imports and NumPy otherwise. Without numba, the first fit says once, with
an :class:`EngineWarning`, that it uses the NumPy engine. Install ``gmmderive[fast]`` for numba.
"""

from __future__ import annotations

import functools
import os
import warnings

from .stacklevel import user_stacklevel

ENGINES = ("numba", "numpy")


class EngineWarning(UserWarning):
    """fit runs on the slower NumPy engine because numba is not installed."""


@functools.cache
def _load(choice: str):
    if choice in ("", "numba"):
        try:
            from . import _fused
        except ImportError as exc:
            if choice == "numba":
                raise ValueError(f"GMMDERIVE_ENGINE=numba, but numba cannot be imported ({exc}); "
                                 "pip install 'gmmderive[fast]'") from None
            warnings.warn("numba is not installed: gmmderive.fit uses the NumPy engine, several times "
                          "slower (pip install 'gmmderive[fast]' for the fused pass)", EngineWarning,
                          stacklevel=user_stacklevel())
        else:
            return _fused
    from . import _numpy_engine

    return _numpy_engine


def engine():
    """The engine module (``em_iteration``, ``log_likelihood_and_responsibilities``, ``NAME``)."""
    choice = os.environ.get("GMMDERIVE_ENGINE", "").strip().lower()
    if choice not in ("", *ENGINES):
        raise ValueError(f"GMMDERIVE_ENGINE must be one of {', '.join(ENGINES)} (or unset), got {choice!r}")
    return _load(choice)


def engine_name() -> str:
    """``"numba"`` or ``"numpy"``: the engine fit uses now."""
    return engine().NAME
