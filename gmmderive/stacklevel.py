"""Where a warning of gmmderive points: the first line outside the package."""

from __future__ import annotations

import os
import sys

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
