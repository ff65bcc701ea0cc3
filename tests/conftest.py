"""Test configuration: ``GMMDERIVE_WITHOUT_NUMBA=1`` runs the suite as if numba were absent.

``make test`` runs the numeric tests once that way, so that the NumPy engine of ``fit``
(what users without numba get) is tested by the same suite. Tests of the fused pass itself
skip there, saying why.
"""

import os
import sys

if os.environ.get("GMMDERIVE_WITHOUT_NUMBA") == "1":
    # An ImportError on "import numba", as on a machine without it.
    sys.modules["numba"] = None
    sys.modules["llvmlite"] = None
