"""Test configuration: ``GMMDERIVE_WITHOUT_NUMBA=1`` runs the suite as if numba were absent,
``GMMDERIVE_WITHOUT_DASK=1`` as if Dask were.

``make test`` runs the numeric tests once that way (both set: the minimal install of NumPy and
SymPy), so that the NumPy engine of ``fit`` (what users without numba get) is tested by the
same suite. Tests of the fused pass and of Dask input skip there, saying why.

The other environments of ``make test`` run only what depends on them, by marker: ``engine``
(the tests of what fit's engine computes: run again without numba) and ``versions`` (the
numeric and symbolic tests: run again at the declared floors). The files are listed here, in
one place; a new test file joins a list or runs in the main environment only.
"""

import os
import sys

import pytest

ENGINE = {
    "test_fit.py", "test_options.py", "test_magnitudes.py", "test_errors.py", "test_properties.py",
    "test_engines.py", "test_weights.py", "test_acceleration.py", "test_search.py", "test_sklearn.py",
    "test_hessian.py",
}
VERSIONS = ENGINE | {
    "test_core.py", "test_fused.py", "test_multivariate.py", "test_cli.py", "test_dask.py", "test_symbolic.py",
    "test_symbolic_honesty.py", "test_symbolic_layout.py", "test_symbolic_skeptic.py", "test_kernel_mutants.py",
}

if os.environ.get("GMMDERIVE_WITHOUT_NUMBA") == "1":
    # An ImportError on "import numba", as on a machine without it.
    sys.modules["numba"] = None
    sys.modules["llvmlite"] = None
if os.environ.get("GMMDERIVE_WITHOUT_DASK") == "1":
    sys.modules["dask"] = None  # as on a machine without Dask: tests/test_dask.py skips


def pytest_configure(config):
    config.addinivalue_line("markers", "engine: depends on fit's engine (make test-without-numba runs it again)")
    config.addinivalue_line("markers", "versions: numeric or symbolic (make test-floors runs it at the floors)")


def pytest_collection_modifyitems(config, items):
    for item in items:
        name = item.path.name
        if name in ENGINE:
            item.add_marker(pytest.mark.engine)
        if name in VERSIONS:
            item.add_marker(pytest.mark.versions)
