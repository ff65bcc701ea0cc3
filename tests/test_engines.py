"""fit's two engines (numba's fused pass and plain NumPy) agree, and fit runs in any deployment."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

import gmmderive as g
from gmmderive.datasets import galaxies, old_faithful

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(g.__file__)))


def _python(code: str, **env):
    full = {**os.environ, "PYTHONPATH": ROOT, "GMMDERIVE_ENGINE": "", **env}  # the default choice unless given
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          timeout=300, env=full)


CASES = [
    (old_faithful()["waiting"], dict(n_components=2)),
    (galaxies(), dict(n_components=3, n_init=4, seed=1)),
    (galaxies(), dict(n_components=4, equal_variance=True)),
    (galaxies(), dict(n_components=6, max_iter=50, tol=0, std_floor=0.05)),
]


@pytest.mark.skipif(os.environ.get("GMMDERIVE_WITHOUT_NUMBA") == "1", reason="numba is blocked in this run")
@pytest.mark.parametrize("x,kw", CASES, ids=["faithful", "galaxies-3", "galaxies-equal", "galaxies-floor"])
def test_numpy_engine_equals_the_fused_pass(x, kw, monkeypatch):
    pytest.importorskip("numba")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        monkeypatch.setenv("GMMDERIVE_ENGINE", "numba")
        fused = g.fit(x, **kw)
        monkeypatch.setenv("GMMDERIVE_ENGINE", "numpy")
        plain = g.fit(x, **kw)
    if kw.get("n_init", 1) == 1:  # several starts reaching one optimum may tie: any of them is the best
        assert plain.n_iter == fused.n_iter
        np.testing.assert_allclose(plain.history, fused.history, rtol=1e-10)
    assert plain.log_likelihood == pytest.approx(fused.log_likelihood, rel=1e-10)
    for a, b in ((plain.params.weights, fused.params.weights), (plain.params.means, fused.params.means),
                 (plain.params.stds, fused.params.stds)):
        np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(plain.responsibilities, fused.responsibilities, atol=1e-9)


def test_bad_engine_name(monkeypatch):
    monkeypatch.setenv("GMMDERIVE_ENGINE", "cuda")
    with pytest.raises(ValueError, match="GMMDERIVE_ENGINE"):
        g.fit(np.arange(10.0), 2)


def test_without_numba_fit_says_once_it_uses_numpy():
    out = _python("""
        import sys, warnings
        sys.modules["numba"] = None  # import numba raises ImportError, as without it
        import numpy as np, gmmderive as g
        from gmmderive import _engine
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            r1 = g.fit(np.r_[np.arange(10.0), np.arange(10.0) + 30], 2)
            r2 = g.fit(np.r_[np.arange(10.0), np.arange(10.0) + 30], 2)
        said = [w for w in caught if issubclass(w.category, _engine.EngineWarning)]
        print(_engine.engine_name(), len(said), r1.params.means.round(6).tolist())
    """)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split()[:2] == ["numpy", "1"]
    assert "[4.5, 34.5]" in out.stdout


def test_engine_numba_requested_but_absent_is_a_clear_error():
    out = _python("""
        import sys
        sys.modules["numba"] = None
        import numpy as np, gmmderive as g
        try:
            g.fit(np.arange(10.0), 2)
        except ValueError as exc:
            print("ValueError:", exc)
    """, GMMDERIVE_ENGINE="numba")
    assert "ValueError: GMMDERIVE_ENGINE=numba, but numba cannot be imported" in out.stdout, out.stderr


@pytest.mark.skipif(os.environ.get("GMMDERIVE_WITHOUT_NUMBA") == "1", reason="numba is blocked in this run")
def test_fit_works_where_numba_cannot_cache():
    # As with a read-only package directory and no writable HOME (a service user, a container):
    # numba finds no cache locator. Root bypasses file permissions, so the locators are emptied.
    pytest.importorskip("numba")
    out = _python("""
        import numba.core.caching as caching
        caching.CacheImpl._locator_classes = []
        import numpy as np, gmmderive as g
        from gmmderive import _fused
        r = g.fit(np.r_[np.arange(10.0), np.arange(10.0) + 20], 2)
        print(_fused.CACHE, r.params.means.tolist())
    """, HOME="/nonexistent")
    assert out.returncode == 0, out.stderr
    assert out.stdout.split()[0] == "False"
    assert "Traceback" not in out.stderr


def test_the_no_numba_warning_points_at_the_user_s_line_and_is_exported():
    # It pointed at gmmderive/_runs.py:210; the class is public (gmmderive.EngineWarning), so a
    # user can filter it. The first fit may come through the estimator, or from a thread.
    out = _python("""
        import sys, warnings
        sys.modules["numba"] = None
        import numpy as np, gmmderive as g
        from gmmderive import EngineWarning
        x = np.r_[np.arange(10.0), np.arange(10.0) + 30]
        for call in (lambda: g.GaussianMixture1D(2).fit(x), lambda: g.fit(x, 2, init="quantile")):
            g._engine._load.cache_clear()  # the warning is said once per process: say it again
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                call()
            said = [w for w in caught if issubclass(w.category, EngineWarning)]
            print(len(said), said[0].filename, said[0].lineno)
    """)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["1 <string> 7", "1 <string> 7"]  # the lambdas of line 7
