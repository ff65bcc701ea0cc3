"""Which engine runs fit's EM iterations: numba's fused pass, or plain NumPy.

``GMMDERIVE_ENGINE`` chooses: ``numba`` (an error if it is not installed), ``numpy``, or unset
for numba where it imports and NumPy otherwise. Without numba, the first fit says once, with
an :class:`EngineWarning`, that it uses the NumPy engine. Install ``gmmderive[fast]`` for numba.
"""

from __future__ import annotations

import functools
import os
import sys
import warnings

ENGINES = ("numba", "numpy")


class EngineWarning(UserWarning):
    """fit runs on the slower NumPy engine because numba is not installed."""


_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep


def user_stacklevel() -> int:
    """The ``stacklevel`` that makes a warning point at the first line outside gmmderive.

    For the function that calls :func:`warnings.warn`: a fixed level is right for one path only,
    and the engine is first loaded on many (fit, the estimator, the pre-runs, Dask's chunks).
    (Python 3.12's ``skip_file_prefixes`` does this; 3.11 is supported.)
    """
    frame, level = sys._getframe(1), 1  # the caller of this function: the one that warns
    while frame.f_back is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE):
        frame, level = frame.f_back, level + 1
    return level


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
