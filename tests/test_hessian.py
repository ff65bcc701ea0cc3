"""The second-order certificate (#30): the Hessian of the log-likelihood, standard errors, and
escapes from saddles.

Coincident components are a fixed point of EM, so the stopping rule (a distance to the fixed
point) is met at a saddle. Every converged fit now checks that the Hessian is negative definite
(gmmderive._hessian), and a run that stops at a saddle restarts along its eigenvector.
"""

import warnings

import numpy as np
import pytest

import gmmderive as g
from gmmderive import certificate
from gmmderive._hessian import from_free, log_likelihood_hessian, to_free
from gmmderive.datasets import galaxies, old_faithful
from gmmderive.fit import ConvergenceWarning

RNG = np.random.default_rng(0)
X = np.concatenate([RNG.normal(-2.0, 1.0, 300), RNG.normal(2.0, 1.0, 200)])  # bimodal
W = RNG.integers(1, 4, X.size).astype(float)


def coincident(x, ev=True):
    """Both components at the data's mean and spread: a fixed point of EM, a saddle of ℓ here."""
    m, s = float(x.mean()), float(x.std())
    return g.GMMParams([0.5, 0.5], [m, m], [s, s])


# --------------------------------------------------------------------------
# The Hessian
# --------------------------------------------------------------------------


@pytest.mark.parametrize("equal_variance", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
def test_hessian_equals_central_differences_of_the_log_likelihood(equal_variance, weighted):
    x = X[:150]
    w = W[:150] if weighted else None
    p = g.GMMParams([0.3, 0.5, 0.2], [-2.5, -1.0, 2.0], [1.0] * 3 if equal_variance else [1.0, 0.7, 0.4])
    d, phi = 3, to_free(p, equal_variance)
    grad, hess = log_likelihood_hessian(x, p, sample_weight=w, equal_variance=equal_variance)

    def ll(q):
        return g.log_likelihood(x, from_free(q, d, equal_variance), sample_weight=w)

    h, k = 1e-4, phi.size
    e = np.eye(k) * h
    num_grad = np.array([(ll(phi + e[i]) - ll(phi - e[i])) / (2 * h) for i in range(k)])
    num_hess = np.array([[(ll(phi + e[i] + e[j]) - ll(phi + e[i] - e[j]) - ll(phi - e[i] + e[j])
                           + ll(phi - e[i] - e[j])) / (4 * h * h) for j in range(k)] for i in range(k)])
    # Central differences err by h² f'''/6 (h² = 1e-8, derivatives O(|ℓ|) ≈ 500: 1e-6) plus the
    # rounding of ℓ (|ℓ| ε ≈ 1e-13) over 4h² = 4e-8 (1e-5 for the Hessian); measured: 1.6e-5
    # against entries up to 500. 1e-4 absolute (2e-7 of the largest) leaves room; a wrong term
    # (a missing ρ ρᵀ or a factor 2) is off by O(1) to O(100).
    np.testing.assert_allclose(grad, num_grad, atol=1e-5)
    np.testing.assert_allclose(hess, num_hess, atol=1e-4)
    np.testing.assert_allclose(hess, hess.T, atol=0)


def test_free_coordinates_reject_bad_input_by_name():
    p = g.GMMParams([0.5, 0.5], [0.0, 1.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="equal stds"):
        to_free(p, equal_variance=True)
    with pytest.raises(ValueError, match="every weight > 0"):
        to_free(g.GMMParams([1.0, 0.0], [0.0, 1.0], [1.0, 2.0]))
    with pytest.raises(ValueError, match="phi has shape"):
        from_free(np.zeros(4), 2)


# --------------------------------------------------------------------------
# The certificate and the standard errors on FitResult
# --------------------------------------------------------------------------


@pytest.mark.parametrize("name,d", [("galaxies", 2), ("galaxies", 3), ("galaxies", 4), ("waiting", 2),
                                    ("eruptions", 3)])
def test_converged_fits_of_the_book_are_certified_maxima(name, d):
    x = galaxies() / 1000 if name == "galaxies" else old_faithful()[name]
    res = g.fit(x, d)
    assert res.converged
    assert res.max_eigenvalue < -certificate.HESSIAN_TOL
    for se in (res.standard_errors.weights, res.standard_errors.means, res.standard_errors.stds):
        assert np.isfinite(se).all() and (se > 0).all()


def test_one_component_standard_errors_are_the_textbook_ones():
    # For one Gaussian, (-H)⁻¹ gives SE(μ) = σ̂/√N and SE(σ) = σ̂/√(2N) exactly; the weight is 1.
    x = X
    res = g.fit(x, 1)
    n, s = x.size, x.std()
    se = res.standard_errors
    # the fit is within tol = 1e-8 (in units of std(x)) of μ̂, σ̂: the SE relatively to about 1e-8
    assert se.means[0] == pytest.approx(s / np.sqrt(n), rel=1e-7)
    assert se.stds[0] == pytest.approx(s / np.sqrt(2 * n), rel=1e-7)
    assert se.weights[0] == 0.0
    assert res.max_eigenvalue == pytest.approx(-1.0, rel=1e-7)  # -1 (μ/σ) and -2 (log σ) per sample


def test_standard_errors_follow_the_data():
    res = g.fit(X, 2)
    # x scaled by 1000: means' and σ's SE scale with it, the weights' do not (the same fit to
    # tol = 1e-8, so SE agree to about 1e-7 relative)
    scaled = g.fit(1000 * X, 2)
    np.testing.assert_allclose(scaled.standard_errors.means, 1000 * res.standard_errors.means, rtol=1e-6)
    np.testing.assert_allclose(scaled.standard_errors.stds, 1000 * res.standard_errors.stds, rtol=1e-6)
    np.testing.assert_allclose(scaled.standard_errors.weights, res.standard_errors.weights, rtol=1e-6)
    assert scaled.max_eigenvalue == pytest.approx(res.max_eigenvalue, rel=1e-6)
    # integer weights are repeated samples; weights times 2^-40 are scaled back exactly
    repeated = g.fit(np.repeat(X, W.astype(int)), 2)
    weighted = g.fit(X, 2, sample_weight=W)
    tiny = g.fit(X, 2, sample_weight=W * 2.0**-40)
    for name in ("weights", "means", "stds"):
        a = getattr(repeated.standard_errors, name)
        np.testing.assert_allclose(getattr(weighted.standard_errors, name), a, rtol=1e-6)
        np.testing.assert_allclose(getattr(tiny.standard_errors, name), a * 2.0**20, rtol=1e-6)


# --------------------------------------------------------------------------
# Saddles: escaped, and never reported converged
# --------------------------------------------------------------------------


def assert_certified_maximum(res, x, equal_variance, sample_weight=None):
    assert res.converged
    assert res.max_eigenvalue < -certificate.HESSIAN_TOL
    _, hess = log_likelihood_hessian(x, res.params, sample_weight=sample_weight, equal_variance=equal_variance)
    assert np.linalg.eigvalsh(hess).max() < 0


@pytest.mark.parametrize("equal_variance", [True, False])
@pytest.mark.parametrize("option", ["none", "weights", "compress", "plain EM"])
def test_a_coincident_start_escapes_to_a_certified_maximum(equal_variance, option):
    x = np.round(X, 1) if option == "compress" else X
    kw = {"weights": {"sample_weight": W}, "compress": {"compress": True},
          "plain EM": {"accelerate": False}, "none": {}}[option]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no ConvergenceWarning
        res = g.fit(x, init=coincident(x), equal_variance=equal_variance, **kw)
    saddle = g.log_likelihood(x, coincident(x), sample_weight=kw.get("sample_weight"))
    # The saddle is one Gaussian on two clusters 4σ apart: the two-cluster fit is ~100 higher
    # (before #30 the fit stayed at the saddle, converged=True).
    assert res.log_likelihood > saddle + 50
    assert np.ptp(res.params.means) > 3
    assert_certified_maximum(res, x, equal_variance, kw.get("sample_weight"))


def test_a_coincident_start_escapes_on_a_dask_array():
    da = pytest.importorskip("dask.array", reason="Dask is not installed")
    import dask

    with dask.config.set(scheduler="threads"):
        res = g.fit(da.from_array(X, chunks=(1, 199, 300)), init=coincident(X), equal_variance=True)
    memory = g.fit(X, init=coincident(X), equal_variance=True)
    assert res.log_likelihood > g.log_likelihood(X, coincident(X)) + 50
    assert_certified_maximum(res, X, True)
    # the same iterations summed in another order: the in-memory fit to about 1e-10 (test_dask.py)
    np.testing.assert_allclose(res.params.means, memory.params.means, rtol=1e-8)
    assert res.max_eigenvalue == pytest.approx(memory.max_eigenvalue, rel=1e-6)


def test_a_saddle_that_is_not_escaped_is_not_converged(monkeypatch):
    monkeypatch.setattr(certificate, "MAX_ESCAPES", 0)
    with pytest.warns(ConvergenceWarning, match="saddle point|not a strict maximum"):
        res = g.fit(X, init=coincident(X), equal_variance=True)
    assert not res.converged
    assert res.max_eigenvalue >= -certificate.HESSIAN_TOL
    assert np.isnan(res.standard_errors.means).all()


def outlier_data(seed):
    """#30's reproducer: N = 296, two clusters and one outlier near 2.5e5."""
    rng = np.random.default_rng(seed)
    n1 = rng.integers(100, 200)
    return np.concatenate([rng.normal(0, 1, n1), rng.normal(rng.uniform(3, 20), rng.uniform(0.5, 3), 295 - n1),
                           [2.5e5 + rng.normal()]])


# The fit before #30: four identical components, converged=True, no warning.
BEFORE = {1: -782.2433249137343, 3: -613.6998809391594}


@pytest.mark.parametrize("seed", sorted(BEFORE))
def test_the_issues_reproducer_is_escaped_and_not_reported_converged(seed):
    x = outlier_data(seed)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = g.fit(x, 5, equal_variance=True)
    # escaped: well above the saddle (EM from a perturbed point gains 17 to 33 here)
    assert res.log_likelihood > BEFORE[seed] + 10
    # no ascent direction left beyond the tolerance
    assert res.max_eigenvalue <= certificate.HESSIAN_TOL
    if not res.max_eigenvalue < -certificate.HESSIAN_TOL:
        # three components still coincide (every start is far wider than the clusters: σ from
        # std(x), which the outlier makes 1e4): a flat direction, said so, not converged
        assert not res.converged
        assert any("not a strict maximum" in str(w.message) for w in caught)
    else:
        assert res.converged


# --------------------------------------------------------------------------
# The small items of #30
# --------------------------------------------------------------------------


def test_the_warning_for_steps_that_do_not_shrink_says_what_happened():
    with pytest.warns(ConvergenceWarning) as caught:
        g.fit(X, 2, init="quantile", max_iter=1)
    message = str(caught[0].message)
    assert " inf" not in message and "not shrinking" in message


def test_the_convergence_warning_describes_the_rule_in_force():
    doc = ConvergenceWarning.__doc__
    assert "log-likelihood stopped rising" not in doc
    assert "tol" in doc and "saddle" in doc and "Jacobian" in doc


@pytest.mark.parametrize("cell,decimal", [("1,234.5", "."), ("1.234,5", ",")])
def test_the_cli_names_the_fix_for_a_thousands_separator(tmp_path, cell, decimal):
    from gmmderive.__main__ import InputError, read_column

    path = tmp_path / "data.csv"
    path.write_text(f"x;y\n{cell};2\n3;4\n")
    # before #30: "(decimal commas? pass --decimal ,)", which does not read "1,234.5" either
    with pytest.raises(InputError, match="thousands separators\\? remove them"):
        read_column(str(path), "x", decimal=decimal)
