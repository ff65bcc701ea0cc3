"""The fused EM iteration of ``fit`` (gmmderive._fused) against the lecture's NumPy functions."""

from __future__ import annotations

import numpy as np
import pytest

nb = pytest.importorskip("numba", reason="the fused pass needs numba (GMMDERIVE_WITHOUT_NUMBA=1 or not installed)")

import gmmderive as g  # noqa: E402 (after the skip: _fused imports numba)
from gmmderive import _fused, mstep  # noqa: E402
from gmmderive.core import m_step_dn  # noqa: E402

# --------------------------------------------------------------------------
# The exponential
# --------------------------------------------------------------------------


@nb.njit
def _apply(f, t):
    out = np.empty_like(t)
    for j in range(t.size):
        out[j] = f(t[j])
    return out


@nb.njit(fastmath={"contract"}, error_model="numpy")
def _exp_without_ln2_lo(t):
    """A wrong exponential: ln 2 not split, so r drifts by k · 1.9e-10."""
    u = t if t > _fused._EXP_MIN else _fused._EXP_MIN
    rounded = u * _fused._LOG2E + _fused._ROUND
    k = rounded - _fused._ROUND
    r = u - k * _fused._LN2_HI
    p = _fused._P11
    for c in (_fused._P10, _fused._P9, _fused._P8, _fused._P7, _fused._P6, _fused._P5,
              _fused._P4, _fused._P3, _fused._P2, _fused._P1, _fused._P0):
        p = p * r + c
    return p * _fused._bits_as_float((_fused._float_as_bits(rounded) - _fused._ROUND_BITS + 1023) << 52)


def max_ulp_error(f) -> float:
    """Largest error of f against np.exp, in units in the last place, on [-707.9, 0]."""
    t = np.concatenate([
        np.linspace(-707.9, 0.0, 400_001),
        np.random.default_rng(0).uniform(-40.0, 0.0, 200_000),  # where responsibilities live
        -np.logspace(-300, 2.8, 20_000),
    ])
    ref = np.exp(t)
    return float(np.max(np.abs(_apply(f, t) - ref) / np.spacing(ref)))


def test_exp_is_within_two_ulp_of_numpy():
    assert max_ulp_error(_fused.exp) <= 2.0


def test_the_ulp_check_rejects_a_wrong_exp():
    assert max_ulp_error(_exp_without_ln2_lo) > 1e3


def test_exp_edge_values():
    t = np.array([0.0, -0.0, -1e-300, -708.0, -709.0, -1e6, -np.inf])
    out = _apply(_fused.exp, t)
    assert out[0] == 1.0 and out[1] == 1.0 and out[2] == 1.0  # the largest term is exactly 1
    assert (out[3:] == 0.0).all()


# --------------------------------------------------------------------------
# One pass against e_step and the sums of m_step
# --------------------------------------------------------------------------

CASES = [
    (1, 1), (7, 2), (1023, 3), (1024, 3), (1025, 3), (5000, 1), (5000, 5), (70_000, 4),
]


def _data_and_params(n, d, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n) * 3.0 + rng.integers(0, 4, size=n) * 5.0
    w = rng.dirichlet(np.ones(d))
    return x, g.GMMParams(w, rng.normal(5.0, 6.0, size=d), rng.uniform(0.5, 4.0, size=d))


@pytest.mark.parametrize(("n", "d"), CASES)
def test_sufficient_statistics_equal_the_numpy_sums(n, d):
    x, params = _data_and_params(n, d)
    ll, gamma, s1, s2 = _fused.sufficient_statistics(x, params)
    resp = g.e_step(x, params)
    dev = x[:, None] - params.means[None, :]
    np.testing.assert_allclose(ll, g.log_likelihood(x, params), rtol=1e-13)
    np.testing.assert_allclose(gamma, g.class_responsibilities(resp), rtol=1e-12, atol=1e-290)
    np.testing.assert_allclose(s1, (resp * dev).sum(axis=0), rtol=1e-11, atol=1e-12 * n)
    np.testing.assert_allclose(s2, (resp * dev**2).sum(axis=0), rtol=1e-12, atol=1e-290)


@pytest.mark.parametrize(("n", "d"), CASES)
def test_written_responsibilities_equal_e_step(n, d):
    x, params = _data_and_params(n, d, seed=1)
    ll, resp = _fused.log_likelihood_and_responsibilities(x, params)
    np.testing.assert_allclose(resp.T, g.e_step(x, params), rtol=1e-13, atol=1e-300)
    np.testing.assert_allclose(resp.sum(axis=0), 1.0, rtol=1e-14)


def test_a_wrong_sum_would_be_caught():
    # The comparison above is sharp: the sums about the *new* mean differ from those about the old.
    x, params = _data_and_params(5000, 3)
    _, _, s1, s2 = _fused.sufficient_statistics(x, params, centers=params.means + 1e-6)
    resp = g.e_step(x, params)
    dev = x[:, None] - params.means[None, :]
    assert not np.allclose(s1, (resp * dev).sum(axis=0), rtol=1e-11, atol=1e-12 * x.size)


def test_points_far_from_every_component():
    x = np.array([-1e6, 0.0, 1.0, 2e6])
    params = g.GMMParams([0.5, 0.5], [0.0, 1.0], [1.0, 1.0])
    ll, gamma, s1, s2 = _fused.sufficient_statistics(x, params)
    assert np.isfinite([ll, *gamma, *s1, *s2]).all()
    np.testing.assert_allclose(ll, g.log_likelihood(x, params), rtol=1e-14)
    np.testing.assert_allclose(gamma, g.e_step(x, params).sum(axis=0), rtol=1e-14)


def test_a_class_of_weight_zero_gets_no_responsibility():
    x, _ = _data_and_params(3000, 2)
    params = g.GMMParams([1.0, 0.0], [5.0, 6.0], [3.0, 3.0])
    ll, resp = _fused.log_likelihood_and_responsibilities(x, params)
    assert (resp[1] == 0.0).all() and (resp[0] == 1.0).all()


# --------------------------------------------------------------------------
# The iteration against m_step(e_step(...))
# --------------------------------------------------------------------------


@pytest.mark.parametrize("equal_variance", [False, True])
@pytest.mark.parametrize(("n", "d"), CASES[1:])
def test_em_iteration_is_e_step_then_m_step(n, d, equal_variance):
    x, params = _data_and_params(n, d, seed=2)
    ll, new, collapsed, empty = _fused.em_iteration(x, params, equal_variance=equal_variance)
    ref, ref_collapsed, ref_empty = m_step_dn(x, g.e_step(x, params).T, previous=params,
                                               equal_variance=equal_variance)
    np.testing.assert_allclose(ll, g.log_likelihood(x, params), rtol=1e-13)
    np.testing.assert_allclose(new.weights, ref.weights, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(new.means, ref.means, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(new.stds, ref.stds, rtol=1e-12)
    assert (collapsed == ref_collapsed).all() and (empty == ref_empty).all()


def test_empty_class_and_floor_as_in_m_step():
    x = np.concatenate([np.zeros(50), np.random.default_rng(3).normal(10.0, 1.0, 500)])
    params = g.GMMParams([0.3, 0.4, 0.3], [0.0, 10.0, 1e4], [1.0, 1.0, 1.0])  # class 2: far away
    ll, new, collapsed, empty = _fused.em_iteration(x, params, std_floor=0.01)
    ref, ref_collapsed, ref_empty = m_step_dn(x, g.e_step(x, params).T, previous=params, std_floor=0.01)
    assert list(empty) == [False, False, True] and (empty == ref_empty).all()
    assert list(collapsed) == [True, False, False] and (collapsed == ref_collapsed).all()
    np.testing.assert_allclose(new.means, ref.means, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(new.stds, ref.stds, rtol=1e-12)


@pytest.mark.parametrize("offset", [1e3, 1e6])
def test_a_mean_that_moves_far_is_summed_again(offset, monkeypatch):
    # One class starting `offset` σ from the data: S2 - S1²/γ cancels 2·log10(offset) digits.
    x = np.random.default_rng(4).normal(0.0, 1.0, 20_000)
    start = g.GMMParams([1.0], [offset], [1.0])
    ref = g.m_step(x, g.e_step(x, start))
    _, new, _, _ = _fused.em_iteration(x, start)
    np.testing.assert_allclose(new.stds, ref.stds, rtol=1e-12)
    np.testing.assert_allclose(new.means, ref.means, rtol=1e-12, atol=1e-12)
    # Without the second pass the shift correction is visibly wrong at the larger offset.
    monkeypatch.setattr(mstep, "RECENTRE_BELOW", 0.0)
    _, shifted, _, _ = _fused.em_iteration(x, start)
    err = abs(shifted.stds[0] / ref.stds[0] - 1.0)
    assert err < 1e-9 if offset == 1e3 else err > 1e-6


# --------------------------------------------------------------------------
# Threads
# --------------------------------------------------------------------------


def test_result_does_not_depend_on_the_number_of_threads(monkeypatch):
    x, params = _data_and_params(40_000, 3, seed=5)
    monkeypatch.setattr(_fused, "MIN_BLOCKS_PER_THREAD", 1)
    results = {}
    for threads in ("1", "2", "3"):
        monkeypatch.setenv("GMMDERIVE_NUM_THREADS", threads)
        ll, gamma, s1, s2 = _fused.sufficient_statistics(x, params)
        _, resp = _fused.log_likelihood_and_responsibilities(x, params)
        results[threads] = (ll, gamma, s1, s2, resp)
    for threads in ("2", "3"):
        for a, b in zip(results["1"], results[threads]):
            np.testing.assert_array_equal(a, b)  # bit for bit


@pytest.mark.parametrize("value", ["0", "-2", "two"])
def test_bad_thread_count_is_a_clear_error(value, monkeypatch):
    monkeypatch.setenv("GMMDERIVE_NUM_THREADS", value)
    with pytest.raises(ValueError, match="GMMDERIVE_NUM_THREADS"):
        g.fit(np.arange(10.0), 2)


def test_empty_thread_count_means_unset(monkeypatch):
    # Shells and service managers export empty variables; "" is not a bad value but no value.
    x = np.r_[np.arange(10.0), np.arange(10.0) + 30]
    monkeypatch.delenv("GMMDERIVE_NUM_THREADS", raising=False)
    ref = g.fit(x, 2)
    monkeypatch.setenv("GMMDERIVE_NUM_THREADS", "")
    assert g.fit(x, 2).params == ref.params


def test_thread_count_follows_the_data_size(monkeypatch):
    monkeypatch.setenv("GMMDERIVE_NUM_THREADS", "8")
    assert _fused._n_threads(1) == 1
    assert _fused._n_threads(2 * _fused.MIN_BLOCKS_PER_THREAD) == 2
    assert _fused._n_threads(100 * _fused.MIN_BLOCKS_PER_THREAD) == 8
    # as documented: a second thread from N = 131,072 samples on
    blocks = lambda n: -(-n // _fused.BLOCK)  # noqa: E731
    assert _fused._n_threads(blocks(131_072)) == 2 and _fused._n_threads(blocks(130_000)) == 1
