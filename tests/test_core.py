"""Unit tests of the E-step and M-step functions against hand-computed values."""

import math

import numpy as np
import pytest

import gmmderive as g

HALF = g.GMMParams([0.5, 0.5], [0.0, 1.0], [1.0, 1.0])


def test_log_joint_matches_hand_computation():
    lj = g.log_joint([0.0, 1.0], HALF)
    c = math.log(0.5) - 0.5 * math.log(2 * math.pi)
    expected = np.array([[c, c - 0.5], [c - 0.5, c]])
    assert lj.shape == (2, 2)
    np.testing.assert_allclose(lj, expected, rtol=1e-15)


def test_log_joint_uses_weights_and_stds():
    p = g.GMMParams([0.25, 0.75], [0.0, 2.0], [0.5, 2.0])
    lj = g.log_joint([1.0], p)
    expected = [
        math.log(0.25) - math.log(0.5) - 0.5 * math.log(2 * math.pi) - 1.0 / (2 * 0.25),
        math.log(0.75) - math.log(2.0) - 0.5 * math.log(2 * math.pi) - 1.0 / (2 * 4.0),
    ]
    np.testing.assert_allclose(lj[0], expected, rtol=1e-14)


def test_unnormalized_responsibilities_are_weighted_densities():
    rt = g.unnormalized_responsibilities([0.0], HALF)
    phi = lambda z: math.exp(-z * z / 2) / math.sqrt(2 * math.pi)  # noqa: E731
    np.testing.assert_allclose(rt[0], [0.5 * phi(0), 0.5 * phi(1)], rtol=1e-14)


def test_responsibilities_hand_value_and_row_sums():
    r = g.responsibilities([0.0, 1.0, 0.5], HALF)
    p0 = 1.0 / (1.0 + math.exp(-0.5))
    np.testing.assert_allclose(r[0], [p0, 1 - p0], rtol=1e-14)
    np.testing.assert_allclose(r[1], [1 - p0, p0], rtol=1e-14)
    np.testing.assert_allclose(r[2], [0.5, 0.5], rtol=1e-14)
    np.testing.assert_allclose(r.sum(axis=1), 1.0, rtol=1e-15)


def test_responsibilities_far_from_every_component_are_finite():
    # Naively ρ̃ underflows to 0 for both classes here, giving 0/0 = NaN.
    x = np.array([-1e4, 1e4, 1e6])
    assert (g.unnormalized_responsibilities(x, HALF) == 0).all()
    r = g.responsibilities(x, HALF)
    assert np.isfinite(r).all()
    np.testing.assert_allclose(r.sum(axis=1), 1.0)
    # Far to the left, class 0 (mean 0) is the nearer one; far right, class 1.
    assert r[0, 0] == pytest.approx(1.0) and r[2, 1] == pytest.approx(1.0)


def test_e_step_is_responsibilities():
    x = np.linspace(-2, 3, 11)
    np.testing.assert_array_equal(g.e_step(x, HALF), g.responsibilities(x, HALF))


def test_class_responsibilities_sum_rows():
    r = np.array([[0.2, 0.8], [0.5, 0.5], [1.0, 0.0]])
    np.testing.assert_allclose(g.class_responsibilities(r), [1.7, 1.3])
    gamma = g.class_responsibilities(g.e_step(np.arange(7.0), HALF))
    assert gamma.sum() == pytest.approx(7.0, rel=1e-14)


def test_m_step_hard_assignments():
    x = np.array([0.0, 1.0, 2.0, 3.0])
    r = np.array([[1, 0], [1, 0], [0, 1], [0, 1]], dtype=float)
    p = g.m_step(x, r)
    np.testing.assert_allclose(p.weights, [0.5, 0.5])
    np.testing.assert_allclose(p.means, [0.5, 2.5])
    np.testing.assert_allclose(p.stds, [0.5, 0.5])


def test_m_step_soft_assignments_hand_value():
    x = np.array([0.0, 2.0])
    r = np.array([[0.75, 0.25], [0.25, 0.75]])
    p = g.m_step(x, r)
    # γ = [1, 1]; μ_0 = 0.75·0 + 0.25·2 = 0.5; σ_0² = 0.75·0.25 + 0.25·2.25 = 0.75
    np.testing.assert_allclose(p.weights, [0.5, 0.5])
    np.testing.assert_allclose(p.means, [0.5, 1.5])
    np.testing.assert_allclose(p.stds, [math.sqrt(0.75)] * 2)


def test_m_step_is_stable_far_from_zero():
    # E[x²] - μ² loses every digit here; the two-pass form keeps them.
    rng = np.random.default_rng(0)
    base = rng.normal(0.0, 1.0, 1000)
    resp = np.ones((1000, 1))
    p = g.m_step(base + 1e9, resp)
    assert p.stds[0] == pytest.approx(base.std(), rel=1e-6)


def test_m_step_std_floor_warns_and_names_component():
    x = np.array([0.0, 0.0, 5.0, 6.0])
    r = np.array([[1, 0], [1, 0], [0, 1], [0, 1]], dtype=float)
    with pytest.warns(g.DegenerateComponentWarning, match="component 0 collapsed"):
        p = g.m_step(x, r, std_floor=0.01)
    assert p.stds[0] == 0.01 and p.stds[1] == pytest.approx(0.5)


def test_m_step_empty_class_needs_previous():
    x = np.array([0.0, 1.0])
    r = np.array([[1.0, 0.0], [1.0, 0.0]])
    with pytest.raises(ValueError, match="class 1 has no responsibility mass"):
        g.m_step(x, r)
    prev = g.GMMParams([0.5, 0.5], [0.0, 9.0], [1.0, 2.0])
    with pytest.warns(g.DegenerateComponentWarning, match="component 1 lost all"):
        p = g.m_step(x, r, previous=prev)
    assert p.weights.tolist() == [1.0, 0.0]
    assert p.means[1] == 9.0 and p.stds[1] == 2.0


def test_log_likelihood_hand_value():
    p = g.GMMParams([1.0], [0.0], [1.0])
    x = [0.0, 1.0]
    expected = -math.log(2 * math.pi) - 0.5
    assert g.log_likelihood(x, p) == pytest.approx(expected, rel=1e-15)
    np.testing.assert_allclose(
        g.log_density(x, p), [-0.5 * math.log(2 * math.pi), -0.5 * math.log(2 * math.pi) - 0.5]
    )


def test_q_function_hand_value_and_constant():
    x = np.array([0.0, 1.0])
    r = np.array([[1.0, 0.0], [0.0, 1.0]])
    lj = g.log_joint(x, HALF)
    assert g.q_function(x, r, HALF) == pytest.approx(lj[0, 0] + lj[1, 1])
    dropped = g.q_function(x, r, HALF, include_constant=False)
    assert dropped - g.q_function(x, r, HALF) == pytest.approx(math.log(2 * math.pi))


def test_q_function_zero_weight_zero_resp_is_not_nan():
    p = g.GMMParams([1.0, 0.0], [0.0, 1.0], [1.0, 1.0])
    x = np.array([0.0, 1.0])
    r = g.e_step(x, p)
    assert r[:, 1].tolist() == [0.0, 0.0]
    assert np.isfinite(g.q_function(x, r, p))


def test_q_maximized_by_m_step():
    # The M-step is the argmax of Q: perturbing its result lowers Q.
    rng = np.random.default_rng(3)
    x = np.concatenate([rng.normal(0, 1, 50), rng.normal(4, 0.5, 30)])
    r = g.e_step(x, HALF)
    best = g.m_step(x, r)
    q_best = g.q_function(x, r, best)
    for dm, ds in [(0.01, 0), (-0.01, 0), (0, 0.01), (0, -0.01)]:
        other = g.GMMParams(best.weights, best.means + dm, best.stds + ds)
        assert g.q_function(x, r, other) < q_best
    shifted = g.GMMParams(best.weights + [0.01, -0.01], best.means, best.stds)
    assert g.q_function(x, r, shifted) < q_best


def test_functions_do_not_modify_inputs():
    x = np.array([0.3, 1.2, -0.7, 2.2])
    x0 = x.copy()
    r = g.e_step(x, HALF)
    r0 = r.copy()
    g.m_step(x, r)
    g.q_function(x, r, HALF)
    g.log_likelihood(x, HALF)
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(r, r0)


def test_column_input_accepted():
    x = np.array([0.1, 0.5, 2.0])
    np.testing.assert_array_equal(g.e_step(x[:, None], HALF), g.e_step(x, HALF))


def test_lower_bound_touches_at_current_params_and_stays_below():
    rng = np.random.default_rng(5)
    x = np.concatenate([rng.normal(0, 1, 40), rng.normal(5, 1, 40)])
    theta = g.GMMParams([0.3, 0.7], [1.0, 3.0], [2.0, 1.0])
    r = g.e_step(x, theta)
    assert g.lower_bound(x, r, theta) == pytest.approx(g.log_likelihood(x, theta), rel=1e-12)
    for other in [g.m_step(x, r), g.GMMParams([0.5, 0.5], [0.0, 5.0], [1.0, 1.0])]:
        assert g.lower_bound(x, r, other) <= g.log_likelihood(x, other) + 1e-9


def test_em_animation_is_offline_html():
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    from gmmderive.plotting import em_animation

    x = np.array([0.1, 0.5, 1.2, 3.9, 4.2, 4.4])
    path, lls = g.em_path(x, g.GMMParams([0.5, 0.5], [0.0, 4.0], [1.0, 1.0]), 3)
    html = em_animation(x, path, lls)
    assert "<img" in html or "data:image/png" in html
    assert "http://" not in html and "https://" not in html  # nothing fetched from the network
    assert "fa fa-" not in html


def test_m_step_accepts_rows_summing_to_one_within_tolerance():
    # Rows summing to 1 ± 1e-7 pass the row check (1e-6); the weights must still sum to 1
    # (GMMParams checks 1e-8), not raise "weights must sum to 1".
    rng = np.random.default_rng(3)
    x = rng.normal(size=50)
    resp = rng.uniform(size=(50, 3))
    resp /= resp.sum(axis=1, keepdims=True)
    resp *= 1 + 1e-7 * np.sign(rng.normal(size=(50, 1)) + 5)  # every row off by +1e-7
    new = g.m_step(x, resp)
    assert abs(new.weights.sum() - 1) < 1e-12
    np.testing.assert_allclose(new.weights, resp.sum(axis=0) / resp.sum(), rtol=1e-12)
