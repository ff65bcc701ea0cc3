r"""The Hessian of the observed log-likelihood: the second-order certificate of a fit.

EM stops at a fixed point of its map M, and a fixed point is a stationary point of the
log-likelihood ℓ, not always a maximum: coincident components with a shared σ are a fixed point
of EM at a saddle (#30). The Hessian of ℓ tells them apart, and its inverse gives the standard
errors. D is small, so the Hessian (at most (3D - 1)²) is computed exactly, in one pass.

The free coordinates
--------------------
φ = (a_1, ..., a_{D-1}, μ_1, ..., μ_D, s_1, ..., s_D) with a_c = log(π_c / π_D) (log-ratio
weights: the last component is the reference) and s_c = log σ_c; with a shared σ, one s. Any φ
is a mixture, and no direction of φ leaves ℓ unchanged for distinct components, so at a strict
local maximum the Hessian is negative definite.

Derivation
----------
Per sample x (the index i dropped), write l_c = log π_c + log N(x; μ_c, σ_c)
= log π_c - s_c - ½ log 2π - ½ u_c² with u_c = (x - μ_c)/σ_c, so that ℓ = log Σ_c e^{l_c} and
ρ_c = e^{l_c - ℓ} are the responsibilities.

(H1) The score. ∂ℓ/∂φ = Σ_c e^{l_c} ∂l_c/∂φ / e^ℓ = Σ_c ρ_c g_c with g_c = ∂l_c/∂φ.

(H2) The Hessian. Differentiating (H1) once more, ∂ρ_c/∂φ = ρ_c (g_c - Σ_k ρ_k g_k), so

    ∂²ℓ/∂φ∂φᵀ = Σ_c ρ_c (H_c + g_c g_cᵀ) - (Σ_c ρ_c g_c)(Σ_c ρ_c g_c)ᵀ,   H_c = ∂²l_c/∂φ∂φᵀ.

(H3) The derivatives of l_c. From log π_c = a_c - log Σ_k e^{a_k} (a_D = 0):
∂ log π_c/∂a_j = δ_cj - π_j and ∂² log π_c/∂a_j∂a_k = -(δ_jk π_j - π_j π_k), the same for
every c. From ∂u_c/∂μ_c = -1/σ_c and ∂u_c/∂s_c = -u_c:

    ∂l_c/∂μ_c = u_c/σ_c,  ∂l_c/∂s_c = u_c² - 1,
    ∂²l_c/∂μ_c² = -1/σ_c²,  ∂²l_c/∂μ_c∂s_c = -2u_c/σ_c,  ∂²l_c/∂s_c² = -2u_c²,

and every other derivative of l_c is 0 (l_c depends on the parameters of component c and the
weights only). With a shared s the same formulas hold with s_c = s for every c.

(H4) Data. ℓ(𝒟) = Σ_i w_i ℓ(x^{[i]}) (w_i = 1 without weights), so its score and Hessian are
the w_i-weighted sums of the per-sample terms (H1) and (H2): one pass over the data.

Standard errors
---------------
At a maximum, the inverse of the observed information -H estimates the covariance of φ̂
(the asymptotics of maximum likelihood; only where the mixture is identifiable, no empty or
coincident component). The delta method maps it to (π, μ, σ) with the Jacobian
∂π_c/∂a_j = π_c (δ_cj - π_j), ∂μ/∂μ = I and ∂σ_c/∂s_c = σ_c.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .core import LOG_2PI
from .params import GMMParams

#: Samples per block of the pass: (block, D, 3D - 1) floats stay a few MB for any N.
_BLOCK = 8192


def n_free(d: int, equal_variance: bool) -> int:
    """Length of φ: D - 1 log-ratios, D means, D log σ (one if shared)."""
    return 2 * d if equal_variance else 3 * d - 1


def to_free(p: GMMParams, equal_variance: bool = False) -> np.ndarray:
    """φ = (log(π_c/π_D) for c < D, μ, log σ (one if shared))."""
    if equal_variance and not np.all(p.stds == p.stds[0]):
        raise ValueError(f"equal_variance=True needs equal stds, got {p.stds.tolist()}")
    if (p.weights <= 0).any():
        raise ValueError(f"the free coordinates need every weight > 0, got {p.weights.tolist()}")
    log_w = np.log(p.weights)
    log_sd = np.log(p.stds[:1] if equal_variance else p.stds)
    return np.concatenate([log_w[:-1] - log_w[-1], p.means, log_sd])


def from_free(phi: np.ndarray, d: int, equal_variance: bool = False) -> GMMParams:
    """θ from φ (the inverse of :func:`to_free`)."""
    phi = np.asarray(phi, dtype=np.float64)
    if phi.shape != (n_free(d, equal_variance),):
        raise ValueError(f"phi has shape {phi.shape}; D = {d} needs ({n_free(d, equal_variance)},)")
    a = np.append(phi[:d - 1], 0.0)
    w = np.exp(a - a.max())
    stds = np.broadcast_to(np.exp(phi[2 * d - 1:]), (d,))
    return GMMParams(w / w.sum(), phi[d - 1:2 * d - 1], stds)


def score_and_hessian_sums(x: np.ndarray, p: GMMParams, sample_weight=None, equal_variance: bool = False):
    """``(Σ_i w_i ℓ_i, Σ_i w_i ∇ℓ_i, Σ_i w_i ∇²ℓ_i)`` in the free coordinates, one pass over ``x``.

    (H1)-(H4) of the module docstring, in blocks of samples. A chunk of a Dask array gives its
    three sums, added over the chunks like EM's.
    """
    d = p.n_components
    k = n_free(d, equal_variance)
    mu, sd, pi = p.means, p.stds, p.weights
    ia, im = np.arange(d - 1), d - 1 + np.arange(d)  # where a_c and μ_c sit in φ
    js = 2 * d - 1 + (np.zeros(d, dtype=int) if equal_variance else np.arange(d))  # where s_c sits
    # ∂ log π_c/∂a_j = δ_cj - π_j (H3): the same matrix for every sample
    dlogpi = np.eye(d)[:, :d - 1] - pi[:d - 1]
    weight_block = -(np.diag(pi[:d - 1]) - np.outer(pi[:d - 1], pi[:d - 1]))
    ll, grad, hess = 0.0, np.zeros(k), np.zeros((k, k))
    for lo in range(0, x.size, _BLOCK):
        xb = x[lo:lo + _BLOCK]
        wb = None if sample_weight is None else sample_weight[lo:lo + _BLOCK]
        u = (xb[:, None] - mu) / sd  # (n, D)
        lc = np.log(pi) - np.log(sd) - 0.5 * LOG_2PI - 0.5 * u * u
        top = lc.max(axis=1, keepdims=True)
        e = np.exp(lc - top)
        total = e.sum(axis=1, keepdims=True)
        rho = e / total
        lli = (top + np.log(total))[:, 0]
        n = xb.size
        g = np.zeros((n, d, k))  # g_c = ∂l_c/∂φ per sample (H3)
        g[:, :, ia] = dlogpi
        g[:, np.arange(d), im] = u / sd
        g[:, np.arange(d), js] = u * u - 1.0
        r = rho if wb is None else rho * wb[:, None]  # w_i ρ_c (H4)
        score = np.matmul(rho[:, None, :], g)[:, 0, :]  # ∇ℓ_i (H1)
        ws = score if wb is None else score * wb[:, None]
        ll += float(lli.sum() if wb is None else wb @ lli)
        grad += ws.sum(axis=0)
        # (H2): Σ_c ρ_c g_c g_cᵀ - ∇ℓ_i ∇ℓ_iᵀ, then Σ_c ρ_c H_c
        g2 = g.reshape(n * d, k)  # Σ_i Σ_c w_i ρ_c g_c g_cᵀ as one matrix product (BLAS)
        hess += (g2 * r.reshape(-1, 1)).T @ g2 - ws.T @ score
        rc = r.sum(axis=0)  # Σ_i w_i ρ_c
        hess[np.ix_(ia, ia)] += weight_block * rc.sum()
        hess[im, im] -= rc / sd**2
        cross = -2.0 * (r * u).sum(axis=0) / sd  # ∂²l_c/∂μ_c∂s_c
        np.add.at(hess, (im, js), cross)
        np.add.at(hess, (js, im), cross)
        np.add.at(hess, (js, js), -2.0 * (r * u * u).sum(axis=0))
    return ll, grad, 0.5 * (hess + hess.T)


def log_likelihood_hessian(x, params: GMMParams, *, sample_weight=None, equal_variance: bool = False):
    """``(gradient, hessian)`` of ``log_likelihood(x, params, sample_weight=...)`` in φ.

    φ as :func:`to_free` makes it (a shared σ needs equal ``params.stds``); exact to rounding,
    one pass over x. For data far from the origin, fit works in the standardized frame instead.
    """
    from ._validation import check_data, check_sample_weight

    xs = check_data(x)
    w = check_sample_weight(sample_weight, xs.size)
    to_free(params, equal_variance)  # the checks
    _, grad, hess = score_and_hessian_sums(xs, params, w, equal_variance)
    return grad, hess


@dataclass(frozen=True, eq=False)
class StandardErrors:
    """Standard errors of the fitted weights, means and standard deviations (components in
    the order of ``FitResult.params``); NaN where the Hessian is not negative definite."""

    weights: np.ndarray
    means: np.ndarray
    stds: np.ndarray


def standard_errors(p: GMMParams, hess: np.ndarray, equal_variance: bool) -> StandardErrors:
    """SE of (π, μ, σ) at ``p`` from the Hessian in φ: √diag(J (-H)⁻¹ Jᵀ), J = ∂(π, μ, σ)/∂φ."""
    d = p.n_components
    jac = np.zeros((3 * d, hess.shape[0]))
    pi = p.weights
    jac[:d, :d - 1] = pi[:, None] * (np.eye(d)[:, :d - 1] - pi[:d - 1])  # ∂π_c/∂a_j
    jac[d:2 * d, d - 1:2 * d - 1] = np.eye(d)
    if equal_variance:
        jac[2 * d:, 2 * d - 1] = p.stds
    else:
        jac[2 * d:, 2 * d - 1:] = np.diag(p.stds)
    try:
        cov = np.linalg.inv(-hess)
        ok = bool(np.all(np.linalg.eigvalsh(-hess) > 0))
    except np.linalg.LinAlgError:
        ok = False
    if not ok:
        nan = np.full(d, np.nan)
        return StandardErrors(nan, nan.copy(), nan.copy())
    se = np.sqrt(np.maximum(np.einsum("ik,kl,il->i", jac, cov, jac), 0.0))
    return StandardErrors(se[:d], se[d:2 * d], se[2 * d:])
