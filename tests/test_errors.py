"""Every bad input gets a ValueError that names the problem."""

import numpy as np
import pytest

import gmmderive as g

X = np.array([0.1, 0.4, 2.0, 2.5, 3.1, 0.9])
P2 = g.GMMParams([0.5, 0.5], [0.0, 3.0], [1.0, 1.0])


@pytest.mark.parametrize(
    "x, match",
    [
        ([], "empty"),
        ([1.0, np.nan, 2.0], "non-finite"),
        ([1.0, np.inf], "non-finite"),
        ([1.0, -np.inf], "non-finite"),
        (["a", "b"], "only numbers"),
        ("1.0 2.0", "string"),
        ([[1.0, 2.0], [3.0, 4.0]], "single column"),
        (np.zeros((2, 2, 2)), "3-D"),
        ([object(), 1.0], "only numbers"),
    ],
)
def test_bad_data(x, match):
    with pytest.raises(ValueError, match=match):
        g.fit(x, 1)
    with pytest.raises(ValueError, match=match):
        g.e_step(x, P2)


def test_nan_position_is_named():
    with pytest.raises(ValueError, match="at index 2"):
        g.fit([1.0, 2.0, np.nan], 1)


@pytest.mark.parametrize("d", [0, -1])
def test_n_components_below_one(d):
    with pytest.raises(ValueError, match="n_components must be >= 1"):
        g.fit(X, d)


def test_n_components_not_integer():
    with pytest.raises(ValueError, match="n_components must be an integer"):
        g.fit(X, 2.5)


def test_n_components_more_than_distinct_values():
    with pytest.raises(ValueError, match="greater than the number of distinct values"):
        g.fit([1.0, 1.0, 2.0, 2.0], 3)


def test_single_distinct_value():
    with pytest.raises(ValueError, match="all 3 values of x are equal"):
        g.fit([4.0, 4.0, 4.0], 1)


def test_n_components_required():
    with pytest.raises(ValueError, match="n_components is required"):
        g.fit(X)


def test_init_params_wrong_length():
    with pytest.raises(ValueError, match="init has 2 components but n_components = 3"):
        g.fit(X, 3, init=P2)


def test_unknown_init_strategy():
    with pytest.raises(ValueError, match="unknown init strategy 'kmeans'"):
        g.fit(X, 2, init="kmeans")
    with pytest.raises(ValueError, match="unknown init strategy"):
        g.initial_params(X, 2, "nope")


@pytest.mark.parametrize("m", [0, -3])
def test_max_iter(m):
    with pytest.raises(ValueError, match="max_iter must be >= 1"):
        g.fit(X, 2, max_iter=m)


@pytest.mark.parametrize("tol", [-1e-3, np.nan, "small"])
def test_tol(tol):
    with pytest.raises(ValueError, match="tol must be"):
        g.fit(X, 2, tol=tol)


def test_n_init_with_fixed_params_or_quantile():
    with pytest.raises(ValueError, match="n_init > 1 needs a random init"):
        g.fit(X, init=P2, n_init=2)
    with pytest.raises(ValueError, match="deterministic"):
        g.fit(X, 2, init="quantile", n_init=3)


def test_bad_seed():
    with pytest.raises(ValueError, match="seed must be"):
        g.fit(X, 2, seed="abc")


@pytest.mark.parametrize(
    "w, m, s, match",
    [
        ([0.5, 0.6], [0, 1], [1, 1], "sum to 1"),
        ([-0.5, 1.5], [0, 1], [1, 1], "non-negative"),
        ([0.5, 0.5], [0, 1], [1, 0], "stds must be > 0"),
        ([0.5, 0.5], [0, 1], [1, -1], "stds must be > 0"),
        ([0.5, 0.5], [0, 1, 2], [1, 1], "equal lengths"),
        ([0.5, 0.5], [0, np.nan], [1, 1], "NaN"),
        ([0.5, 0.5], [0, 1], [1, np.inf], "inf"),
        ([], [], [], "empty"),
        ([0.5, 0.5], ["a", "b"], [1, 1], "only numbers"),
    ],
)
def test_invalid_params(w, m, s, match):
    with pytest.raises(ValueError, match=match):
        g.GMMParams(w, m, s)


def test_params_are_immutable_and_copied():
    w = np.array([0.5, 0.5])
    p = g.GMMParams(w, [0.0, 1.0], [1.0, 1.0])
    w[0] = 0.9
    assert p.weights[0] == 0.5
    with pytest.raises(ValueError):
        p.weights[0] = 0.1
    with pytest.raises(AttributeError):
        p.means = np.zeros(2)


def test_params_must_be_gmmparams():
    with pytest.raises(ValueError, match="params must be a GMMParams"):
        g.e_step(X, ([0.5, 0.5], [0, 1], [1, 1]))


def test_responsibilities_shape_checks():
    with pytest.raises(ValueError, match="rows but x has"):
        g.m_step(X, np.full((3, 2), 0.5))
    with pytest.raises(ValueError, match="must sum to 1"):
        g.m_step(X, np.full((X.size, 2), 0.4))
    with pytest.raises(ValueError, match="non-negative"):
        g.m_step(X, np.tile([1.5, -0.5], (X.size, 1)))
    with pytest.raises(ValueError, match=r"shape \(N, D\)"):
        g.class_responsibilities(np.ones(3))
    with pytest.raises(ValueError, match="columns but params have"):
        g.q_function(X, np.full((X.size, 3), 1 / 3), P2)


def test_estimator_not_fitted():
    with pytest.raises(ValueError, match="not fitted"):
        g.GaussianMixture1D(2).predict(X)
