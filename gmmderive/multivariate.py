"""EM for the Gaussian mixture in several dimensions (full covariance matrices).

The same E-step and M-step as the univariate lecture, with vectors and matrices:
``ρ_c^{[i]} ∝ π_c N(x^{[i]}; μ_c, Σ_c)``, ``π_c = γ_c / N``,
``μ_c = Σ_i ρ_c^{[i]} x^{[i]} / γ_c`` and
``Σ_c = Σ_i ρ_c^{[i]} (x^{[i]} - μ_c)(x^{[i]} - μ_c)^T / γ_c`` (with the updated μ_c).
Data have shape (N, p): a row per sample, a column per dimension.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from ._validation import check_nonnegative_float, check_positive_int, check_seed
from .core import LOG_2PI, _normalize_log_dn
from .fit import DEFAULT_MAX_ITER, DEFAULT_TOL, ConvergenceWarning
from .params import check_weights


def check_data_nd(X, *, name: str = "X") -> np.ndarray:
    """Return ``X`` as a new float64 array of shape (N, p), or raise a ValueError."""
    try:
        arr = np.array(X, dtype=np.float64, copy=True)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must contain only numbers: {exc}") from None
    if arr.ndim != 2:
        raise ValueError(f"{name} must have shape (N, p), got {arr.ndim}-D")
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"{name} is empty: shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or ±inf")
    return arr


@dataclass(frozen=True, eq=False)
class MVGMMParams:
    """Parameters of a D-component Gaussian mixture in p dimensions.

    Parameters
    ----------
    weights : array_like, shape (D,)
    means : array_like, shape (D, p)
    covariances : array_like, shape (D, p, p)
        Symmetric positive definite.
    """

    weights: np.ndarray
    means: np.ndarray
    covariances: np.ndarray

    def __post_init__(self):
        w = np.array(self.weights, dtype=float, copy=True).reshape(-1)
        m = np.array(self.means, dtype=float, copy=True)
        s = np.array(self.covariances, dtype=float, copy=True)
        if m.ndim != 2 or s.ndim != 3 or not (w.size == m.shape[0] == s.shape[0]):
            raise ValueError(
                f"need weights (D,), means (D, p) and covariances (D, p, p); got {w.shape}, {m.shape}, {s.shape}"
            )
        if s.shape[1:] != (m.shape[1], m.shape[1]):
            raise ValueError(f"covariances must be (D, {m.shape[1]}, {m.shape[1]}), got {s.shape}")
        for name, a in (("weights", w), ("means", m), ("covariances", s)):
            if not np.isfinite(a).all():
                raise ValueError(f"{name} contain NaN or ±inf")
        check_weights(w)
        if not np.allclose(s, np.swapaxes(s, 1, 2), rtol=1e-10, atol=0):
            raise ValueError("covariances must be symmetric")
        try:
            np.linalg.cholesky(s)
        except np.linalg.LinAlgError:
            raise ValueError("covariances must be positive definite") from None
        for name, a in (("weights", w), ("means", m), ("covariances", s)):
            a.setflags(write=False)
            object.__setattr__(self, name, a)

    @property
    def n_components(self) -> int:
        return int(self.weights.size)

    @property
    def n_dims(self) -> int:
        return int(self.means.shape[1])


def _log_joint_dn(X: np.ndarray, params: MVGMMParams) -> np.ndarray:
    """log π_c + log N(x^{[i]}; μ_c, Σ_c), as a (D, N) array."""
    chol = np.linalg.cholesky(params.covariances)  # Σ_c = L_c L_c^T
    p = X.shape[1]
    out = np.empty((params.n_components, X.shape[0]))
    with np.errstate(divide="ignore"):
        log_w = np.log(params.weights)
    for c in range(params.n_components):
        # ‖L_c^{-1}(x - μ_c)‖² is the Mahalanobis term, without forming Σ_c^{-1}
        z = np.linalg.solve(chol[c], (X - params.means[c]).T)
        half_log_det = np.log(np.diag(chol[c])).sum()
        out[c] = log_w[c] - 0.5 * p * LOG_2PI - half_log_det - 0.5 * np.einsum("ij,ij->j", z, z)
    return out


def log_joint(X, params: MVGMMParams) -> np.ndarray:
    """``log π_c + log N(x^{[i]}; μ_c, Σ_c)``, shape (N, D)."""
    return _log_joint_dn(check_data_nd(X), params).T


def responsibilities(X, params: MVGMMParams) -> np.ndarray:
    """Responsibilities ρ_c^{[i]}, shape (N, D), rows summing to 1 (log-sum-exp)."""
    resp, _ = _normalize_log_dn(_log_joint_dn(check_data_nd(X), params))
    return resp.T


def log_likelihood(X, params: MVGMMParams) -> float:
    """``Σ_i log Σ_c π_c N(x^{[i]}; μ_c, Σ_c)``."""
    _, log_dens = _normalize_log_dn(_log_joint_dn(check_data_nd(X), params))
    return float(log_dens.sum())


def floored_covariance(cov: np.ndarray, floor) -> np.ndarray:
    """The covariance closest in likelihood to ``cov`` with ``Σ - diag(floor)`` positive semidefinite.

    For a class's part of Q, ``-γ/2 log|Σ| - 1/2 tr(Σ^{-1} S)``, the maximizer over
    ``{Σ : Σ ⪰ F}`` with ``F = diag(floor) > 0`` is ``F^{1/2} V max(Λ, 1) V^T F^{1/2}``, where
    ``V Λ V^T`` is the eigendecomposition of ``F^{-1/2} (S/γ) F^{-1/2}`` (the constrained
    maximum-likelihood covariance: eigenvalues clipped, in coordinates scaled by the floor).
    A ``cov`` already inside is returned as it is.
    """
    floor = np.broadcast_to(np.asarray(floor, dtype=float), cov.shape[:1])
    if not (floor > 0).all():
        return cov
    f = np.sqrt(floor)
    scaled = cov / np.outer(f, f)
    w, v = np.linalg.eigh(scaled)
    if w.min() >= 1.0:
        return cov
    clipped = (v * np.maximum(w, 1.0)) @ v.T
    clipped = 0.5 * (clipped + clipped.T)
    return clipped * np.outer(f, f)


def m_step(X, resp, *, cov_floor=0.0) -> MVGMMParams:
    """π_c = γ_c/N, μ_c = Σ_i ρ x / γ_c, Σ_c = Σ_i ρ (x - μ_c)(x - μ_c)^T / γ_c (floored).

    Parameters
    ----------
    X : array_like, shape (N, p)
    resp : array_like, shape (N, D)
    cov_floor : float or array_like of shape (p,), default 0
        Lower bound on every Σ_c: ``Σ_c - diag(cov_floor)`` stays positive semidefinite. The
        M-step then returns the maximizer of Q under that bound (:func:`floored_covariance`),
        so EM stays monotone while a collapsing component stays positive definite.
    """
    X = check_data_nd(X)
    r = np.asarray(resp, dtype=float)
    if r.ndim != 2 or r.shape[0] != X.shape[0]:
        raise ValueError(f"responsibilities must have shape ({X.shape[0]}, D), got {r.shape}")
    gamma = r.sum(axis=0)
    if (gamma <= 0).any():
        raise ValueError(f"class {int(np.argmin(gamma))} has no responsibility mass")
    means = (r.T @ X) / gamma[:, None]
    covs = np.empty((r.shape[1], X.shape[1], X.shape[1]))
    for c in range(r.shape[1]):
        dev = X - means[c]  # two-pass: deviations from the mean just updated
        covs[c] = (dev * r[:, c, None]).T @ dev / gamma[c]
        covs[c] = floored_covariance(0.5 * (covs[c] + covs[c].T), cov_floor)
    return MVGMMParams(gamma / X.shape[0], means, covs)


@dataclass(frozen=True, eq=False)
class MVFitResult:
    """The outcome of :func:`fit`: ``params`` (sorted by the first coordinate of the means),
    ``log_likelihood``, ``history``, ``n_iter``, ``converged``, ``responsibilities``."""

    params: MVGMMParams
    log_likelihood: float
    history: np.ndarray
    n_iter: int
    converged: bool
    responsibilities: np.ndarray


def initial_params(X, n_components: int, seed=None) -> MVGMMParams:
    """k-means++ seeds on the standardized data, each point to its nearest seed."""
    X = check_data_nd(X)
    d = check_positive_int(n_components, "n_components")
    if np.unique(X, axis=0).shape[0] < d:
        raise ValueError(f"n_components = {d} is greater than the number of distinct rows of X")
    rng = check_seed(seed)
    scale = X.std(axis=0)
    scale[scale == 0] = 1.0
    Z = (X - X.mean(axis=0)) / scale
    centers = [Z[rng.integers(Z.shape[0])]]
    dist2 = ((Z - centers[0]) ** 2).sum(axis=1)
    for _ in range(1, d):
        centers.append(Z[rng.choice(Z.shape[0], p=dist2 / dist2.sum())])
        dist2 = np.minimum(dist2, ((Z - centers[-1]) ** 2).sum(axis=1))
    labels = np.argmin(((Z[:, None, :] - np.array(centers)[None]) ** 2).sum(axis=2), axis=1)
    onehot = np.eye(d)[labels]
    return m_step(X, onehot, cov_floor=1e-3 * np.var(X, axis=0))


def fit(X, n_components: int, *, init=None, max_iter: int = DEFAULT_MAX_ITER, tol: float = DEFAULT_TOL,
        seed=None, cov_floor: float = 1e-6) -> MVFitResult:
    """Fit a p-dimensional Gaussian mixture by EM (same stopping rule as :func:`gmmderive.fit`).

    ``cov_floor`` is relative to the variance of each column of the data: every Σ_c stays at
    least ``cov_floor`` times those variances (``Σ_c - diag(floor)`` positive semidefinite; the
    start too), and each M-step is the maximizer of Q under that bound, so the log-likelihood
    never decreases. 0 switches it off (plain EM, which can run into singular covariances).
    """
    X = check_data_nd(X)
    variances = np.var(X, axis=0)
    if (variances == 0).any():
        j = int(np.flatnonzero(variances == 0)[0])
        raise ValueError(f"column {j} of X is constant: a Gaussian needs a spread in every coordinate; drop it")
    max_iter = check_positive_int(max_iter, "max_iter")
    tol = check_nonnegative_float(tol, "tol")
    n_components = check_positive_int(n_components, "n_components")
    if isinstance(init, MVGMMParams):
        if init.n_components != n_components:
            raise ValueError(f"init has {init.n_components} components but n_components = {n_components}")
        if init.n_dims != X.shape[1]:
            raise ValueError(f"init has dimension {init.n_dims} but X has {X.shape[1]} columns")
        params = init
    elif init is None:
        params = initial_params(X, n_components, seed)
    else:
        raise ValueError(f"init must be None or an MVGMMParams, got {init!r}")
    floor = check_nonnegative_float(cov_floor, "cov_floor") * variances
    # The start inside the bound the M-step keeps, so that no iteration can lower the likelihood.
    params = MVGMMParams(params.weights, params.means,
                         np.array([floored_covariance(s, floor) for s in params.covariances]))
    resp, ll = _normalize_log_dn(_log_joint_dn(X, params))
    history = [float(ll.sum())]
    converged = False
    n_iter = 0
    for n_iter in range(1, max_iter + 1):  # noqa: B007 (the count after the loop is returned)
        params = m_step(X, resp.T, cov_floor=floor)
        resp, ll = _normalize_log_dn(_log_joint_dn(X, params))
        history.append(float(ll.sum()))
        if tol > 0 and history[-1] - history[-2] < tol:
            converged = True
            break
    if tol > 0 and not converged:
        warnings.warn(f"EM did not converge in {max_iter} iterations", ConvergenceWarning, stacklevel=2)
    order = np.lexsort(params.means.T[::-1])
    params = MVGMMParams(params.weights[order], params.means[order], params.covariances[order])
    return MVFitResult(params, history[-1], np.array(history), n_iter, converged, resp[order].T)


def em_path(X, init: MVGMMParams, n_iter: int, *, cov_floor: float = 1e-6):
    """The parameters after each of ``n_iter`` EM iterations, for watching EM work.

    The same iteration as :func:`fit` (E-step, then the M-step with the covariances held at
    least ``cov_floor`` times the variance of each column), without a stopping rule and
    without sorting the components: ``path[k]`` is θ^{[k]} in the order of ``init``.

    Parameters
    ----------
    X : array_like, shape (N, p)
    init : MVGMMParams
        θ^{[0]} (moved inside the floor first, as :func:`fit` does).
    n_iter : int
        Number of iterations.
    cov_floor : float, default 1e-6

    Returns
    -------
    params : list of MVGMMParams, length n_iter + 1
    log_likelihoods : ndarray, shape (n_iter + 1,)
        Never decreasing (up to rounding).
    """
    X = check_data_nd(X)
    if not isinstance(init, MVGMMParams):
        raise ValueError(f"init must be an MVGMMParams, got {init!r}")
    if init.n_dims != X.shape[1]:
        raise ValueError(f"init has dimension {init.n_dims} but X has {X.shape[1]} columns")
    n_iter = check_positive_int(n_iter, "n_iter", minimum=0)
    floor = check_nonnegative_float(cov_floor, "cov_floor") * np.var(X, axis=0)
    params = MVGMMParams(init.weights, init.means,
                         np.array([floored_covariance(s, floor) for s in init.covariances]))
    path = [params]
    resp, ll = _normalize_log_dn(_log_joint_dn(X, params))
    lls = [float(ll.sum())]
    for _ in range(n_iter):
        params = m_step(X, resp.T, cov_floor=floor)
        resp, ll = _normalize_log_dn(_log_joint_dn(X, params))
        path.append(params)
        lls.append(float(ll.sum()))
    return path, np.array(lls)
