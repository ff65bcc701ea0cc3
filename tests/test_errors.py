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
        (["a", "b"], "must contain numbers, not strings"),
        ("1.0 2.0", "string"),
        ([[1.0, 2.0], [3.0, 4.0]], "single column"),
        (np.zeros((2, 2, 2)), "3-D"),
        ([object(), 1.0], "must contain numbers, not strings or other objects"),
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


# -- inputs that used to be accepted, or fail deep inside NumPy (#14, item 5) ----------

@pytest.mark.parametrize("x, message", [
    (np.array([1 + 1j, 2, 3, 10, 11]), "complex"),
    (np.ma.array([1.0, 2, 3, 100, 11], mask=[0, 0, 0, 1, 0]), "masked array"),
    (["1.5", "2.5", "3", "9", "10"], "not strings"),
    (np.array(["1.5", "2.5", "3"]), "not strings"),
    (np.array(["2020-01-01", "2020-01-02", "2020-01-05"], dtype="datetime64[D]"), "dates"),
    (np.array([1, 2, 3], dtype="timedelta64[s]"), "time deltas"),
    (np.array([True, False, True]), "booleans"),
    ([1.0, None, 3.0], "not strings or other objects"),
])
def test_non_real_data_is_refused(x, message):
    for call in (lambda: g.fit(x, 2), lambda: g.e_step(x, g.GMMParams([1.0], [0.0], [1.0]))):
        with pytest.raises(ValueError, match=message):
            call()


def test_object_array_of_numbers_is_fine():
    x = np.array([1.0, 2, 3, 10, 11, 12], dtype=object)
    assert g.fit(x, 2).params.means.round(6).tolist() == [2.0, 11.0]


@pytest.mark.parametrize("floor", [-1, "a", float("nan"), True])
def test_m_step_std_floor_is_checked(floor):
    x = np.arange(10.0)
    resp = g.e_step(x, g.GMMParams([0.5, 0.5], [2.0, 7.0], [1.0, 1.0]))
    with pytest.raises(ValueError, match="std_floor"):
        g.m_step(x, resp, std_floor=floor)


@pytest.mark.parametrize("seed, message", [(1.5, "seed must be"), (-1, "seed must be a non-negative"),
                                          ("7", "seed must be"), (True, "seed must be")])
def test_bad_seed_names_the_seed(seed, message):
    with pytest.raises(ValueError, match=message):
        g.fit(np.arange(20.0), 2, n_init=2, seed=seed)
    with pytest.raises(ValueError, match=message):
        g.initial_params(np.arange(20.0), 2, strategy="kmeans++", seed=seed)


def test_multivariate_init_is_checked():
    from gmmderive import multivariate as mv

    X = np.random.default_rng(0).normal(size=(50, 2))
    with pytest.raises(ValueError, match="init must be None or an MVGMMParams"):
        mv.fit(X, 3, init="bogus")
    one = mv.initial_params(X, 1, seed=0)
    with pytest.raises(ValueError, match="init has 1 components but n_components = 3"):
        mv.fit(X, 3, init=one)
    three_d = mv.initial_params(np.random.default_rng(1).normal(size=(50, 3)), 2, seed=0)
    with pytest.raises(ValueError, match="dimension 3 but X has 2 columns"):
        mv.fit(X, 2, init=three_d)


def test_multivariate_constant_column_is_a_clear_error():
    from gmmderive import multivariate as mv

    X = np.c_[np.random.default_rng(0).normal(size=40), np.full(40, 3.0)]
    with pytest.raises(ValueError, match="column 1 of X is constant"):
        mv.fit(X, 2)


def test_a_collapse_without_a_floor_is_named():
    # std_floor=0 on two repeated values: a component reaches σ = 0, which is no Gaussian; the
    # message says so and how to avoid it (not GMMParams' bare "stds must be > 0").
    x = np.tile([1.0, 2.0], 20_000)  # large: the pre-runs go one by one
    for data in (x, x[:200]):
        with pytest.raises(ValueError, match=r"collapsed onto a single value .* std_floor > 0"):
            g.fit(data, 2, std_floor=0)


# -- issue 24 ----------------------------------------------------------------------------


@pytest.mark.parametrize("x, where", [
    ([1, 2, 3, 10**400], "index 3"),
    ([1.0, -(10**400), 2.0, 5.0], "index 1"),
    (np.array([[1], [2], [10**309], [4]], dtype=object), "index 2"),
])
def test_a_number_beyond_the_float_range_is_named(x, where):
    # float(10**400) raises OverflowError inside NumPy's conversion; the message names the value.
    for call in (lambda: g.fit(x, 2), lambda: g.e_step(x, P2), lambda: g.GaussianMixture1D(2).fit(x)):
        with pytest.raises(ValueError, match=f"beyond the range of a float .*{where}"):
            call()
