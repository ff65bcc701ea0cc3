"""EM for the Gaussian mixture in several dimensions (full covariance matrices).

The same E-step and M-step as the univariate lecture, with vectors and matrices:
``ρ_c^{[i]} ∝ π_c N(x^{[i]}; μ_c, Σ_c)``, ``π_c = γ_c / N``,
``μ_c = Σ_i ρ_c^{[i]} x^{[i]} / γ_c`` and
``Σ_c = Σ_i ρ_c^{[i]} (x^{[i]} - μ_c)(x^{[i]} - μ_c)^T / γ_c`` (with the updated μ_c).
Data have shape (N, p): a row per sample, a column per dimension.

The standardized frame
----------------------
:func:`fit`, :func:`initial_params` and ``em_path`` run EM on Z, each column of X scaled
by a power of two (exactly) and standardized: X = 2^k (m + s Z) column by column, as the
univariate fit does (``gmmderive.frame.Frame``). The model is affine-equivariant, so EM on
Z is EM on X, and nothing overflows or underflows for data of any magnitude; the results are
mapped back to X's units. They must be floats there: a column whose variance is beyond the
range of a float (a standard deviation above about 1e154 or below 1e-154) is a ``ValueError``.

When EM stops
-------------
By the univariate fit's rule (:mod:`gmmderive.em`): EM stops when θ is within ``tol`` of the fixed
point θ* it converges to, in the largest error of a weight, of a mean in units of its column's
standard deviation, or of an entry of the Cholesky factor of a covariance in those units. The
cheap estimate s·r/(1 - r) (s the last step, r the ratio of the last two) is confirmed by the
first-order distance ‖(I - J)⁻¹ (M(θ) - θ)‖, with J the Jacobian of the EM map by forward
differences in (log π, μ, L with log of its diagonal). A log-likelihood change below ``tol``
says nothing of the kind where EM crawls (overlapping classes): it stopped 1e-4 standard
deviations from the maximum once (#24).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from ._validation import check_data_nd, check_nonnegative_float, check_positive_int, check_seed
from .core import LOG_2PI, normalize_log_dn
from .em import distance_to_limit
from .options import DEFAULT_MAX_ITER, DEFAULT_TOL
from .params import check_weights
from .result import ConvergenceWarning

__all__ = ["MVFitResult", "MVGMMParams", "check_data_nd", "em_path", "fit", "floored_covariance",
           "initial_params", "log_joint", "log_likelihood", "m_step", "responsibilities"]

#: No Jacobian check through a class this empty: log π would lose all precision (as in gmmderive.em).
_MIN_WEIGHT = 1e-200
#: Relative step of the forward differences of the Jacobian of M (as in gmmderive.em).
_DIFF_STEP = 1e-7
#: The largest and smallest normal floats: a column's variance must lie between them.
_HUGE, _TINY = float(np.finfo(np.float64).max), float(np.finfo(np.float64).tiny)


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


def log_joint_dn(X: np.ndarray, params: MVGMMParams) -> np.ndarray:
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
    return log_joint_dn(check_data_nd(X), params).T


def responsibilities(X, params: MVGMMParams) -> np.ndarray:
    """Responsibilities ρ_c^{[i]}, shape (N, D), rows summing to 1 (log-sum-exp)."""
    resp, _ = normalize_log_dn(log_joint_dn(check_data_nd(X), params))
    return resp.T


def log_likelihood(X, params: MVGMMParams) -> float:
    """``Σ_i log Σ_c π_c N(x^{[i]}; μ_c, Σ_c)``."""
    _, log_dens = normalize_log_dn(log_joint_dn(check_data_nd(X), params))
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

    Returns
    -------
    MVGMMParams
    """
    X = check_data_nd(X)
    r = np.asarray(resp, dtype=float)
    if r.ndim != 2 or r.shape[0] != X.shape[0]:
        raise ValueError(f"responsibilities must have shape ({X.shape[0]}, D), got {r.shape}")
    return _m_step(X, r, cov_floor)


def _m_step(X: np.ndarray, r: np.ndarray, cov_floor) -> MVGMMParams:
    """:func:`m_step` on checked arrays (fit's iteration, on the standardized data)."""
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


# --------------------------------------------------------------------------
# The standardized frame
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Frame:
    """X = 2^k (m + s Z), column by column: EM runs on Z (mean 0, standard deviation 1 per column).

    The power of two scales exactly, so data of any magnitude are standardized without
    overflow (as :class:`gmmderive.frame.Frame` in one dimension).
    """

    k: np.ndarray  # (p,) exponents
    m: np.ndarray  # (p,) means of X / 2^k
    s: np.ndarray  # (p,) standard deviations of X / 2^k

    @classmethod
    def of(cls, X: np.ndarray, name: str = "X") -> _Frame:
        """The frame of checked data X, or a ValueError for a constant column or one whose
        variance is not a float (its covariances could not be given in X's units)."""
        k = np.frexp(np.abs(X).max(axis=0))[1] - 1  # |X_j| / 2^k_j < 2
        u = np.ldexp(X, -k)
        frame = cls(k, u.mean(axis=0), u.std(axis=0))
        for j, std in enumerate(frame.std_x):
            if std == 0:
                raise ValueError(f"column {j} of {name} is constant: a Gaussian needs a spread in every "
                                 "coordinate; drop it")
            if not np.sqrt(_TINY) <= std <= np.sqrt(_HUGE):  # std², not computed: it may overflow
                raise ValueError(f"the variance of column {j} of {name} ({std:.3g}²) is beyond the range of a "
                                 f"float, and so are the covariances in its units: rescale {name} "
                                 f"(divide that column by about {std:.0e})")
        return frame

    @property
    def std_x(self) -> np.ndarray:
        """The standard deviation of each column of X."""
        return np.ldexp(self.s, self.k)

    @property
    def log_scale(self) -> float:
        """log det of the map Z -> X: what the log-density of one sample loses from Z to X."""
        return float(np.sum(np.log(self.s) + self.k * np.log(2.0)))

    def _outer_exponent(self) -> np.ndarray:
        return self.k[:, None] + self.k[None, :]

    def to_z(self, X: np.ndarray) -> np.ndarray:
        return (np.ldexp(X, -self.k) - self.m) / self.s

    def params_to_z(self, p: MVGMMParams) -> MVGMMParams:
        means = (np.ldexp(p.means, -self.k) - self.m) / self.s
        covs = np.ldexp(p.covariances, -self._outer_exponent()) / np.outer(self.s, self.s)
        return MVGMMParams(p.weights, means, covs)

    def params_from_z(self, p: MVGMMParams, name: str = "X") -> MVGMMParams:
        means = np.ldexp(self.m + self.s * p.means, self.k)
        with np.errstate(over="ignore", under="ignore"):  # out of range: the error below
            covs = np.ldexp(p.covariances * np.outer(self.s, self.s), self._outer_exponent())
        if not np.isfinite(covs).all() or (np.abs(np.diagonal(covs, axis1=1, axis2=2)) < _TINY).any():
            raise ValueError(f"the fitted covariances are beyond the range of a float in the units of {name} "
                             f"(column standard deviations {self.std_x.tolist()}): rescale {name}")
        try:
            return MVGMMParams(p.weights, means, covs)
        except ValueError as exc:  # positive definite in Z, but not once rounded in X's units
            raise ValueError(f"the fitted covariances cannot be represented in the units of {name}: {exc}; "
                             f"rescale {name}") from None


@dataclass(frozen=True, eq=False)
class MVFitResult:
    """The outcome of :func:`fit`.

    Attributes
    ----------
    params : MVGMMParams
        Fitted parameters, sorted by the means (first coordinate, then the next).
    log_likelihood : float
        ``log p(X; params)``.
    history : ndarray, shape (n_iter + 1,)
        Log-likelihood of θ^{[0]}, ..., θ^{[n_iter]}; never decreases (up to rounding).
    n_iter : int
        EM iterations: ``params`` is θ^{[n_iter]} (the stopping rule's checks are not counted).
    converged : bool
        Whether θ is within ``tol`` of EM's fixed point (the stopping rule of the module).
    responsibilities : ndarray, shape (N, D)
        Responsibilities of ``params`` (columns in its order).
    """

    params: MVGMMParams
    log_likelihood: float
    history: np.ndarray
    n_iter: int
    converged: bool
    responsibilities: np.ndarray


def initial_params(X, n_components: int, seed=None) -> MVGMMParams:
    """k-means++ seeds on the standardized data, each point to its nearest seed.

    Parameters
    ----------
    X : array_like, shape (N, p)
    n_components : int
        Number of classes D (at most the number of distinct rows of X).
    seed : int, numpy.random.Generator or None
        Randomness of the seeds.

    Returns
    -------
    MVGMMParams
        Each group's weight, mean and covariance, held at least 1e-3 times the variance of each
        column (:func:`floored_covariance`).
    """
    X = check_data_nd(X)
    d = check_positive_int(n_components, "n_components")
    _check_distinct_rows(X, d)
    frame = _Frame.of(X)
    return frame.params_from_z(_initial_params_z(frame.to_z(X), d, check_seed(seed)))


def _check_distinct_rows(X: np.ndarray, d: int) -> None:
    if np.unique(X, axis=0).shape[0] < d:
        raise ValueError(f"n_components = {d} is greater than the number of distinct rows of X")


def _initial_params_z(Z: np.ndarray, d: int, rng: np.random.Generator) -> MVGMMParams:
    """:func:`initial_params` in the frame Z (each column of mean 0 and standard deviation 1)."""
    centers = [Z[rng.integers(Z.shape[0])]]
    dist2 = ((Z - centers[0]) ** 2).sum(axis=1)
    for _ in range(1, d):
        centers.append(Z[rng.choice(Z.shape[0], p=dist2 / dist2.sum())])
        dist2 = np.minimum(dist2, ((Z - centers[-1]) ** 2).sum(axis=1))
    labels = np.argmin(((Z[:, None, :] - np.array(centers)[None]) ** 2).sum(axis=2), axis=1)
    return _m_step(Z, np.eye(d)[labels], 1e-3)  # every column's variance is 1 in Z


def fit(X, n_components: int, *, init=None, max_iter: int = DEFAULT_MAX_ITER, tol: float = DEFAULT_TOL,
        seed=None, cov_floor: float = 1e-6) -> MVFitResult:
    """Fit a p-dimensional Gaussian mixture by EM, with the stopping rule of :func:`gmmderive.fit`.

    Parameters
    ----------
    X : array_like, shape (N, p)
        The observations, a row per sample; never modified. The checks of
        :func:`gmmderive.fit` apply (complex, masked, strings, NaN and ±inf are refused).
    n_components : int
        Number of classes D.
    init : MVGMMParams, optional
        θ^{[0]}; default: :func:`initial_params` with ``seed``.
    max_iter : int, default 10000
        Maximum number of EM iterations.
    tol : float, default 1e-8
        Stop when θ is within ``tol`` of EM's fixed point (largest error of a weight, or of a
        mean or Cholesky-factor entry in units of the columns' standard deviations), as
        estimated and confirmed by the stopping rule of the module docstring; ``0`` runs
        exactly ``max_iter`` iterations.
    seed : int, numpy.random.Generator or None
        Randomness of the default start.
    cov_floor : float, default 1e-6
        Every Σ_c stays at least ``cov_floor`` times the variance of each column
        (``Σ_c - diag(floor)`` positive semidefinite; the start too), and each M-step is the
        maximizer of Q under that bound, so the log-likelihood never decreases. 0 switches it
        off (plain EM, which can run into singular covariances).

    Returns
    -------
    MVFitResult

    Warns
    -----
    ConvergenceWarning
        ``max_iter`` iterations ran (with ``tol > 0``) before θ was within ``tol`` of the fixed point.
    """
    X = check_data_nd(X)
    max_iter = check_positive_int(max_iter, "max_iter")
    tol = check_nonnegative_float(tol, "tol")
    n_components = check_positive_int(n_components, "n_components")
    cov_floor = check_nonnegative_float(cov_floor, "cov_floor")
    frame = _Frame.of(X)
    Z = frame.to_z(X)
    if isinstance(init, MVGMMParams):
        if init.n_components != n_components:
            raise ValueError(f"init has {init.n_components} components but n_components = {n_components}")
        if init.n_dims != X.shape[1]:
            raise ValueError(f"init has dimension {init.n_dims} but X has {X.shape[1]} columns")
        start = frame.params_to_z(init)
    elif init is None:
        _check_distinct_rows(X, n_components)
        start = _initial_params_z(Z, n_components, check_seed(seed))
    else:
        raise ValueError(f"init must be None or an MVGMMParams, got {init!r}")
    path = _Path(Z, start, cov_floor)  # in Z every column's variance is 1: the floor is cov_floor
    converged, distance = path.run(max_iter, tol)
    if tol > 0 and not converged:
        warnings.warn(f"EM did not converge in {max_iter} iterations (estimated distance to the maximum "
                      f"{distance:.3g} >= tol = {tol:g})", ConvergenceWarning, stacklevel=2)
    params = path.params
    order = np.lexsort(params.means.T[::-1])  # the order of the means in X: the frame keeps it (s > 0)
    params = MVGMMParams(params.weights[order], params.means[order], params.covariances[order])
    history = np.array(path.history) - X.shape[0] * frame.log_scale  # log p(x) = log p(z) - log|det|
    return MVFitResult(frame.params_from_z(params), float(history[-1]), history, path.n_iter, converged,
                       path.resp[order].T)


class _Path:
    """EM's path θ^{[0]}, θ^{[1]}, ... on the standardized data Z, with the stopping rule."""

    def __init__(self, Z: np.ndarray, start: MVGMMParams, floor: float):
        self.Z, self.floor = Z, floor
        # The start inside the bound the M-step keeps, so that no iteration can lower the likelihood.
        self.params = MVGMMParams(start.weights, start.means,
                                  np.array([floored_covariance(c, floor) for c in start.covariances]))
        self.resp, ll = normalize_log_dn(log_joint_dn(Z, self.params))
        self.history = [float(ll.sum())]
        self.n_iter = 0

    def step(self) -> MVGMMParams:
        """One EM iteration: θ^{[k+1]} = M(θ^{[k]}); returns θ^{[k]}."""
        before = self.params
        self.params = _m_step(self.Z, self.resp.T, self.floor)
        self.resp, ll = normalize_log_dn(log_joint_dn(self.Z, self.params))
        self.history.append(float(ll.sum()))
        self.n_iter += 1
        return before

    def em_map(self, p: MVGMMParams) -> MVGMMParams:
        """M(p), off the path (the Jacobian's evaluations)."""
        resp, _ = normalize_log_dn(log_joint_dn(self.Z, p))
        return _m_step(self.Z, resp.T, self.floor)

    def run(self, max_iter: int, tol: float):
        """Iterate until the stopping rule holds or ``max_iter`` iterations ran: ``(converged, distance)``."""
        previous, rate, distance = None, 0.0, np.inf
        while self.n_iter < max_iter:
            before = self.step()
            size = _step_size(before, self.params)
            distance = distance_to_limit(size, previous, rate)
            previous = size
            if tol > 0 and distance < tol:
                distance, rate = _check_fixed_point(self, self.params)
                if distance < tol:
                    return True, distance
        return False, distance


# --------------------------------------------------------------------------
# The stopping rule's coordinates and check
# --------------------------------------------------------------------------


def _step_size(a: MVGMMParams, b: MVGMMParams) -> float:
    """‖b - a‖: the largest change of a weight, a mean or an entry of a Cholesky factor (in Z)."""
    la, lb = np.linalg.cholesky(a.covariances), np.linalg.cholesky(b.covariances)
    return float(max(np.abs(b.weights - a.weights).max(), np.abs(b.means - a.means).max(), np.abs(lb - la).max()))


def _to_free(p: MVGMMParams) -> np.ndarray:
    """(log π, μ, L with log of its diagonal): coordinates in which any point is a mixture."""
    rows, cols = np.tril_indices(p.n_dims)
    chol = np.linalg.cholesky(p.covariances)[:, rows, cols]
    chol[:, rows == cols] = np.log(chol[:, rows == cols])
    return np.concatenate([np.log(p.weights), p.means.ravel(), chol.ravel()])


def _from_free(f: np.ndarray, d: int, n_dims: int) -> MVGMMParams | None:
    """θ from :func:`_to_free`'s coordinates; None if it is not a valid point."""
    if not np.isfinite(f).all():
        return None
    rows, cols = np.tril_indices(n_dims)
    a = np.exp(f[:d] - f[:d].max())
    means = f[d:d + d * n_dims].reshape(d, n_dims)
    entries = f[d + d * n_dims:].reshape(d, rows.size).copy()
    entries[:, rows == cols] = np.exp(entries[:, rows == cols])
    chol = np.zeros((d, n_dims, n_dims))
    chol[:, rows, cols] = entries
    try:
        return MVGMMParams(a / a.sum(), means, chol @ np.swapaxes(chol, 1, 2))
    except ValueError:  # a covariance not positive definite once rounded
        return None


def _check_fixed_point(path: _Path, p: MVGMMParams):
    """``(distance, rate)``: ‖(I - J)⁻¹ (M(p) - p)‖ in :func:`_step_size`'s units, and J's spectral radius.

    J is the Jacobian of M at ``p`` by forward differences (one evaluation of M per free coordinate).
    """
    mp = path.em_map(p)
    if p.weights.min() < _MIN_WEIGHT or mp.weights.min() < _MIN_WEIGHT:
        return _step_size(p, mp), 0.0  # an empty class: M moves nothing there
    f, f_mp = _to_free(p), _to_free(mp)
    jac = np.empty((f.size, f.size))
    for j in range(f.size):
        h = _DIFF_STEP * max(1.0, abs(f[j]))
        g = f.copy()
        g[j] += h
        q = _from_free(g, p.n_components, p.n_dims)
        if q is None:
            jac[:, j] = np.nan
            continue
        try:
            mq = path.em_map(q)
        except ValueError:  # a class emptied: log π has no derivative here (as in gmmderive.em)
            return _step_size(p, mp), 0.0
        if mq.weights.min() < _MIN_WEIGHT:
            return _step_size(p, mp), 0.0
        jac[:, j] = (_to_free(mq) - f_mp) / h
    try:
        delta = np.linalg.solve(np.eye(f.size) - jac, f_mp - f)
    except (np.linalg.LinAlgError, ValueError):  # singular, or NaN columns
        return np.inf, 1.0
    if not np.isfinite(delta).all():
        return np.inf, 1.0
    d, n = p.n_components, p.n_dims
    rows, cols = np.tril_indices(n)
    dlog_w = delta[:d] - p.weights @ delta[:d]
    dchol = delta[d + d * n:].reshape(d, rows.size).copy()
    chol = np.linalg.cholesky(p.covariances)[:, rows, cols]
    dchol[:, rows == cols] *= chol[:, rows == cols]  # d log L_jj -> d L_jj, to first order
    err = max(np.abs(p.weights * dlog_w).max(), np.abs(delta[d:d + d * n]).max(), np.abs(dchol).max())
    return float(err), float(np.abs(np.linalg.eigvals(jac)).max())


def em_path(X, init: MVGMMParams, n_iter: int, *, cov_floor: float = 1e-6):
    """The parameters after each of ``n_iter`` EM iterations, for watching EM work.

    The same iteration as :func:`fit` (on the standardized data, the covariances held at least
    ``cov_floor`` times the variance of each column), without a stopping rule and without
    sorting the components: ``path[k]`` is θ^{[k]} in the order of ``init``.

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
    cov_floor = check_nonnegative_float(cov_floor, "cov_floor")
    frame = _Frame.of(X)
    path = _Path(frame.to_z(X), frame.params_to_z(init), cov_floor)
    # θ^{[0]} is init itself, inside the floor (in X's units: not a round trip through Z)
    floor_x = cov_floor * frame.std_x**2
    params = [MVGMMParams(init.weights, init.means, np.array([floored_covariance(c, floor_x)
                                                               for c in init.covariances]))]
    for _ in range(n_iter):
        path.step()
        params.append(frame.params_from_z(path.params))
    return params, np.array(path.history) - X.shape[0] * frame.log_scale
