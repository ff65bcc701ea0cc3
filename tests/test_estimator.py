"""GaussianMixture1D with or without scikit-learn: random_state, feature names, repr, a small pickle,
and warnings at the caller's line (issue #29).

The scikit-learn-specific protocol (base classes, check_estimator) is in test_sklearn_protocol.py.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

import gmmderive as g

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(g.__file__)))
RNG = np.random.default_rng(7)
X = np.concatenate([RNG.normal(0, 1, 150), RNG.normal(5, 1, 150)])


def _python(code: str):
    env = {**os.environ, "PYTHONPATH": ROOT}
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          timeout=300, env=env)


def _one_step(random_state):
    """θ after one EM step from a random start: it depends on the draws, so it shows which were made."""
    return g.GaussianMixture1D(2, init="random", max_iter=1, tol=0.0, random_state=random_state).fit(X).means_


# -- random_state -------------------------------------------------------------------------------


def test_default_random_state_gives_the_fit_of_gmmderive_fit():
    # random_state=0 draws what seed=0 drew: the estimator's default fit is unchanged.
    assert g.GaussianMixture1D(2).fit(X).params_ == g.fit(X, 2).params
    np.testing.assert_array_equal(_one_step(3), g.fit(X, 2, init="random", max_iter=1, tol=0.0, seed=3).params.means)


@pytest.mark.parametrize("make", [lambda: 5, lambda: np.int64(5), lambda: np.random.SeedSequence(5)],
                         ids=["int", "numpy int", "SeedSequence"])
def test_a_seed_gives_the_same_fit_every_time(make):
    np.testing.assert_array_equal(_one_step(make()), _one_step(make()))
    est = g.GaussianMixture1D(2, init="random", max_iter=1, tol=0.0, random_state=make())
    np.testing.assert_array_equal(est.fit(X).means_, est.fit(X).means_)  # fit is idempotent


@pytest.mark.parametrize("make", [np.random.RandomState, np.random.default_rng, lambda s: np.random.PCG64(s)],
                         ids=["RandomState", "Generator", "BitGenerator"])
def test_a_random_generator_is_drawn_from(make):
    # As in scikit-learn: the same generator state gives the same fit, and a generator moves on.
    np.testing.assert_array_equal(_one_step(make(1)), _one_step(make(1)))
    rs = make(1)
    assert not np.array_equal(_one_step(rs), _one_step(rs))


def test_random_state_none_draws_from_numpy_s_global_random_state():
    # scikit-learn's meaning of None: np.random.seed governs it.
    np.random.seed(11)
    first = _one_step(None)
    np.random.seed(11)
    np.testing.assert_array_equal(_one_step(None), first)


@pytest.mark.parametrize("value, message", [
    (-1, "random_state must be >= 0, got -1"),
    (1.5, "random_state must be None, an int >= 0"),
    ("0", "random_state must be None, an int >= 0"),
    (True, "random_state must be None, an int >= 0"),
    (np.random.default_rng, "random_state must be None, an int >= 0"),
])
def test_bad_random_state_is_a_value_error_naming_it(value, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        g.GaussianMixture1D(2, random_state=value).fit(X)


def test_seed_is_a_deprecated_alias_of_random_state():
    with pytest.warns(FutureWarning, match="seed is deprecated: use random_state") as caught:
        old = g.GaussianMixture1D(2, init="random", max_iter=1, tol=0.0, seed=4).fit(X)
    assert caught[0].filename == __file__  # at the caller's line
    np.testing.assert_array_equal(old.means_, _one_step(4))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # random_state alone: no warning
        _one_step(4)


# -- feature names, n_features_in_ ------------------------------------------------------------


class OneColumnTable:
    """What scikit-learn reads as a DataFrame: ``columns`` and ``__array__`` (pandas is optional)."""

    def __init__(self, values, name):
        self.columns = np.array([name], dtype=object)
        self._values = np.asarray(values, dtype=float).reshape(-1, 1)

    def __array__(self, dtype=None, copy=None):
        return self._values if dtype is None else self._values.astype(dtype)

    def __len__(self):
        return self._values.shape[0]


def test_feature_names_in_after_fitting_a_table():
    est = g.GaussianMixture1D(2).fit(OneColumnTable(X, "waiting"))
    assert est.n_features_in_ == 1
    assert est.feature_names_in_.tolist() == ["waiting"] and est.feature_names_in_.dtype == object
    np.testing.assert_array_equal(est.predict(OneColumnTable(X, "waiting")), g.GaussianMixture1D(2).fit(X).predict(X))
    with pytest.raises(ValueError, match="feature names should match those that were passed during fit"):
        est.predict(OneColumnTable(X, "eruptions"))
    with pytest.warns(UserWarning, match="X does not have valid feature names"):
        est.score_samples(X)
    est.fit(X)  # a refit on an array forgets the names
    assert not hasattr(est, "feature_names_in_") and est.n_features_in_ == 1
    with pytest.warns(UserWarning, match="X has feature names, but GaussianMixture1D was fitted without"):
        est.predict_proba(OneColumnTable(X, "waiting"))


def test_a_column_not_named_by_a_string_gives_no_feature_names():
    assert not hasattr(g.GaussianMixture1D(2).fit(OneColumnTable(X, 0)), "feature_names_in_")


def test_feature_names_of_a_pandas_dataframe():
    pd = pytest.importorskip("pandas")
    est = g.GaussianMixture1D(2).fit(pd.DataFrame({"waiting": X}))
    assert est.feature_names_in_.tolist() == ["waiting"]


def test_n_features_in_after_fitting_1d_data():
    est = g.GaussianMixture1D(2).fit(X)
    assert est.n_features_in_ == 1 and not hasattr(est, "feature_names_in_")


# -- repr, pickle -------------------------------------------------------------------------------


def test_repr_names_every_parameter_set():
    est = g.GaussianMixture1D(3, equal_variance=True, n_init=4, random_state=2, tol=1e-6)
    text = " ".join(repr(est).split())  # scikit-learn's repr breaks lines at 80 characters
    assert text == "GaussianMixture1D(equal_variance=True, n_components=3, n_init=4, random_state=2, tol=1e-06)"
    assert eval(text, {"GaussianMixture1D": g.GaussianMixture1D}).get_params() == est.get_params()
    assert repr(g.GaussianMixture1D()) == "GaussianMixture1D()"


def test_pickle_of_a_fit_to_200000_samples_is_small():
    x = np.concatenate([RNG.normal(0, 1, 100_000), RNG.normal(5, 1, 100_000)])
    est = g.GaussianMixture1D(2).fit(x)
    blob = pickle.dumps(est)
    assert len(blob) < 4096, len(blob)  # was 3.2 MB: the (N, D) responsibilities were kept
    assert all(np.size(v) < x.size for v in vars(est).values())
    again = pickle.loads(blob)
    np.testing.assert_array_equal(again.predict_proba(x[:10]), est.predict_proba(x[:10]))
    assert again.log_likelihood_ == est.log_likelihood_


# -- without scikit-learn -------------------------------------------------------------------------


def test_import_gmmderive_does_not_import_scikit_learn():
    # scikit-learn's base classes take 0.7 s to import: only the estimator pays for them.
    out = _python("""
        import sys, gmmderive
        print("sklearn" in sys.modules)
        gmmderive.GaussianMixture1D
        print("sklearn" in sys.modules)
    """)
    assert out.returncode == 0, out.stderr
    pytest.importorskip("sklearn")
    assert out.stdout.split() == ["False", "True"]


def test_the_estimator_works_without_scikit_learn():
    out = _python("""
        import pickle, sys
        sys.modules["sklearn"] = None  # import sklearn raises ImportError, as without it
        import numpy as np, gmmderive as g
        from gmmderive import GaussianMixture1D
        assert all(c.__module__.startswith(("gmmderive", "builtins")) for c in GaussianMixture1D.__mro__)
        x = np.r_[np.arange(10.0), np.arange(10.0) + 30]
        est = GaussianMixture1D(2, random_state=np.random.RandomState(0), equal_variance=True)
        print(repr(GaussianMixture1D(2, tol=0.1)))
        assert est.set_params(n_components=2) is est and est.get_params()["equal_variance"] is True
        try:
            est.set_params(k=3)
        except ValueError as exc:
            print("ValueError:", exc)
        try:
            est.predict(x)
        except ValueError as exc:
            print("not fitted:", type(exc).__name__, isinstance(exc, AttributeError))
        est.fit(x)
        print(est.n_features_in_, pickle.loads(pickle.dumps(est)).means_.round(6).tolist())
    """)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == "GaussianMixture1D(n_components=2, tol=0.1)"
    assert lines[1].startswith("ValueError: Invalid parameter 'k' for estimator GaussianMixture1D(")
    assert lines[2] == "not fitted: NotFittedError True"
    assert lines[3] == "1 [4.5, 34.5]"


# -- warnings at the caller's line ---------------------------------------------------------------


def test_fit_s_warnings_point_at_the_caller_of_the_estimator():
    with pytest.warns(g.ConvergenceWarning) as caught:
        g.GaussianMixture1D(2, init="quantile", max_iter=2).fit(X)
    assert [w.filename for w in caught] == [__file__]


def test_fit_s_warnings_point_at_the_caller_of_fit():
    with pytest.warns(g.ConvergenceWarning) as caught:
        g.fit(X, 2, init="quantile", max_iter=2)
    assert [w.filename for w in caught] == [__file__]


# -- a typed public API ---------------------------------------------------------------------------


def _public_functions():
    from gmmderive import __main__ as cli
    from gmmderive.estimator import GaussianMixture1D

    methods = [f for name, f in vars(GaussianMixture1D).items() if callable(f) and not name.startswith("_")]
    return [GaussianMixture1D.__init__, *methods, cli.main, cli.read_column]


@pytest.mark.parametrize("function", _public_functions(), ids=lambda f: f.__qualname__)
def test_the_public_api_of_the_estimator_and_the_cli_is_annotated(function):
    import inspect

    signature = inspect.signature(function)
    missing = [p.name for p in signature.parameters.values()
               if p.name not in ("self", "cls") and p.annotation is inspect.Parameter.empty]
    assert not missing, f"{function.__qualname__}: parameters without a type: {missing}"
    assert signature.return_annotation is not inspect.Signature.empty, f"{function.__qualname__}: no return type"


def test_mypy_strict_on_the_estimator_and_the_cli():
    pytest.importorskip("mypy", reason="mypy is not installed")
    out = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent",
                          "gmmderive/estimator.py", "gmmderive/__main__.py"], capture_output=True, text=True,
                         cwd=ROOT, timeout=600)
    assert out.returncode == 0, out.stdout


def test_sample_takes_random_state_and_seed_as_a_deprecated_alias():
    est = g.GaussianMixture1D(2).fit(X)
    a = est.sample(50, random_state=3)
    np.testing.assert_array_equal(a[0], est.sample(50, random_state=3)[0])  # an int: the same draws
    with pytest.warns(FutureWarning, match="random_state") as caught:
        b = est.sample(50, seed=3)
    assert [w.filename for w in caught] == [__file__]
    np.testing.assert_array_equal(a[0], b[0])  # seed=3 and random_state=3 give one Generator
    np.testing.assert_array_equal(a[1], b[1])
