"""Test configuration: ``GMMDERIVE_WITHOUT_NUMBA=1`` runs the suite as if numba were absent,
``GMMDERIVE_WITHOUT_DASK=1`` as if Dask were.

``make test`` runs the numeric tests once that way (both set: the minimal install of NumPy and
SymPy), so that the NumPy engine of ``fit`` (what users without numba get) is tested by the
same suite. Tests of the fused pass and of Dask input skip there, saying why.
"""

import os
import sys

if os.environ.get("GMMDERIVE_WITHOUT_NUMBA") == "1":
    # An ImportError on "import numba", as on a machine without it.
    sys.modules["numba"] = None
    sys.modules["llvmlite"] = None
if os.environ.get("GMMDERIVE_WITHOUT_DASK") == "1":
    sys.modules["dask"] = None  # as on a machine without Dask: tests/test_dask.py skips
