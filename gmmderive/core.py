"""The E-step and the M-step of EM for the univariate Gaussian mixture.

One function per quantity of the lecture, with its names:

=================================  ==========================================
lecture                            function
=================================  ==========================================
``log p(Z=c, X=x^{[i]}; θ)``       :func:`log_joint`
``ρ̃_c^{[i]}`` (S6)                 :func:`unnormalized_responsibilities`
``ρ_c^{[i]}`` (S7)                 :func:`responsibilities` (= :func:`e_step`)
``γ_c = Σ_i ρ_c^{[i]}``            :func:`class_responsibilities`
``π_e, μ_e, σ_e`` (S20, S24, S29)  :func:`m_step`
``Q(𝒟; θ^{[k]}, θ)`` (S8-S10)      :func:`q_function`
``log p(𝒟; θ)``                    :func:`log_likelihood`
=================================  ==========================================

Arrays follow the lecture: ``x`` has shape (N,), responsibilities (N, D).
Internally the work is done on (D, N) arrays (a row per class), because
reductions over the short class axis of an (N, D) array are several times
slower; the public functions return (N, D) views of them.
"""

from __future__ import annotations

import warnings

import numpy as np

from ._validation import (
    check_bool,
    check_data,
    check_log_likelihood,
    check_nonnegative_float,
    check_responsibilities,
    check_sample_weight,
)
from .mstep import EMPTY_CLASS_MASS, two_pass_m_step  # noqa: F401  (EMPTY_CLASS_MASS: the lecture's name)
from .params import GMMParams
from .stacklevel import user_stacklevel

LOG_2PI = float(np.log(2.0 * np.pi))

# exp(t) is exactly 0.0 in float64 for t < -745.2; clipping there changes no
# result but keeps np.exp off its slow path for arguments far below it.
_EXP_CLIP = -746.0

#: Tolerance on the row sums of responsibilities given to :func:`m_step`.
ROW_SUM_TOL = 1e-6


class DegenerateComponentWarning(UserWarning):
    """A mixture component degenerated during EM.

    Raised (as a warning) when a component collapsed onto a point, so that its
    standard deviation was held at the floor, or when a class lost all its
    responsibility mass (γ_c = 0), so that its mean and standard deviation
    were kept from the previous iteration. The message names the component.
    """


# --------------------------------------------------------------------------
# E-step
# --------------------------------------------------------------------------


def log_joint_terms(params: GMMParams):
    """(scale, const) per class, with log π_c + log N(x; μ_c, σ_c) = const_c - ((x - μ_c) · scale_c)²."""
    # (x - μ)² / (2σ²) = ((x - μ) · 1/(√2 σ))²: one scaling instead of two.
    scale = 1.0 / (np.sqrt(2.0) * params.stds)
    # log 0 = -inf for an empty class is correct (without np.errstate, which costs as much as
    # a small iteration)
    const = np.full(params.weights.shape, -np.inf)
    np.log(params.weights, out=const, where=params.weights > 0)
    const -= np.log(params.stds) + 0.5 * LOG_2PI
    return scale, const


def log_joint_dn(x: np.ndarray, params: GMMParams) -> np.ndarray:
    """log π_c + log N(x^{[i]}; μ_c, σ_c) as a new C-contiguous (D, N) array."""
    scale, const = log_joint_terms(params)
    a = np.subtract(x[np.newaxis, :], params.means[:, np.newaxis])
    a *= scale[:, np.newaxis]
    with np.errstate(over="ignore"):  # beyond ~1e154 σ the square is inf: caught in normalize_log_dn
        np.square(a, out=a)
    np.subtract(const[:, np.newaxis], a, out=a)
    return a


def normalize_log_dn(a: np.ndarray):
    """Turn log ρ̃ (D, N) into ρ in place; return ρ and log Σ_d ρ̃_d per sample.

    Log-sum-exp: shifting every column by its maximum keeps the largest term
    at exp(0) = 1, so a point far from every component neither underflows to
    0/0 nor overflows.
    """
    shift = a.max(axis=0)
    lost = np.isneginf(shift)
    if lost.any():
        i = int(np.flatnonzero(lost)[0])
        raise ValueError(
            f"sample {i} lies so far from every component (|x - μ_c|/σ_c above about 1e154) that its "
            "log-density is below the smallest float: it cannot be represented; rescale the data "
            "or fit parameters to it (gmmderive.fit works in a standardized frame)"
        )
    a -= shift
    np.maximum(a, _EXP_CLIP, out=a)
    np.exp(a, out=a)
    total = a.sum(axis=0)  # in [1, D]: never 0, never inf
    a /= total
    np.log(total, out=total)
    total += shift
    return a, total


def e_step_dn(x: np.ndarray, params: GMMParams):
    """Responsibilities (D, N) and the log-likelihood, from one pass."""
    resp, log_dens = normalize_log_dn(log_joint_dn(x, params))
    return resp, float(log_dens.sum())


def check_params(params) -> GMMParams:
    if not isinstance(params, GMMParams):
        raise ValueError(f"params must be a GMMParams, got {type(params).__name__}")
    return params


def log_joint(x, params: GMMParams) -> np.ndarray:
    """Log of the joint ``p(Z=c, X=x^{[i]}; θ) = π_c N(x^{[i]}; μ_c, σ_c)``.

    Parameters
    ----------
    x : array_like, shape (N,) or (N, 1)
        The observations x^{[i]}.
    params : GMMParams
        The parameters θ with D components.

    Returns
    -------
    ndarray, shape (N, D)
        ``log π_c - log σ_c - ½ log 2π - (x^{[i]} - μ_c)² / (2σ_c²)``; ``-inf``
        in the column of a class with π_c = 0.
    """
    return log_joint_dn(check_data(x), check_params(params)).T


def unnormalized_responsibilities(x, params: GMMParams) -> np.ndarray:
    """The un-normalized responsibilities ρ̃_c^{[i]} = π_c N(x^{[i]}; μ_c, σ_c) (S6).

    These are the joint densities themselves; far from every component they
    underflow to 0. Use :func:`responsibilities` for the normalized values,
    which are computed in log space and never do.

    Parameters
    ----------
    x : array_like, shape (N,) or (N, 1)
    params : GMMParams

    Returns
    -------
    ndarray, shape (N, D)
    """
    return np.exp(log_joint(x, params))


def responsibilities(x, params: GMMParams) -> np.ndarray:
    """The responsibilities ρ_c^{[i]} = ρ̃_c^{[i]} / Σ_d ρ̃_d^{[i]} (S7).

    Equal to the posterior ``p(Z=c | X=x^{[i]}; θ)`` (S4). Computed in log
    space (log-sum-exp), so every row sums to 1 even for points so far from
    every component that all their ρ̃ underflow to 0.

    Parameters
    ----------
    x : array_like, shape (N,) or (N, 1)
    params : GMMParams

    Returns
    -------
    ndarray, shape (N, D)
        Non-negative, each row summing to 1.
    """
    resp, _ = normalize_log_dn(log_joint_dn(check_data(x), check_params(params)))
    return resp.T


def e_step(x, params: GMMParams) -> np.ndarray:
    """The E-step: the responsibilities of ``params`` for ``x``, shape (N, D).

    Same as :func:`responsibilities`; named for the algorithm.
    """
    return responsibilities(x, params)


def class_responsibilities(resp) -> np.ndarray:
    """The class responsibilities γ_c = Σ_i ρ_c^{[i]}, shape (D,).

    Parameters
    ----------
    resp : array_like, shape (N, D)

    Returns
    -------
    ndarray, shape (D,)
        Summing to N when every row of ``resp`` sums to 1.
    """
    r = np.asarray(resp, dtype=np.float64)
    if r.ndim != 2:
        raise ValueError(f"responsibilities must have shape (N, D), got {r.ndim}-D")
    return check_responsibilities(r, r.shape[0]).sum(axis=0)


def log_density(x, params: GMMParams) -> np.ndarray:
    """Log of the mixture density ``log Σ_d π_d N(x^{[i]}; μ_d, σ_d)``, shape (N,)."""
    _, log_dens = normalize_log_dn(log_joint_dn(check_data(x), check_params(params)))
    return log_dens


def log_likelihood(x, params: GMMParams, *, sample_weight=None) -> float:
    """The log-likelihood ``log p(𝒟; θ) = Σ_i log Σ_d π_d N(x^{[i]}; μ_d, σ_d)``.

    With ``sample_weight`` (shape (N,), each w_i >= 0), the weighted log-likelihood
    ``Σ_i w_i log p(x^{[i]}; θ)``: integer weights count repeated samples.
    """
    xs = check_data(x)
    w = check_sample_weight(sample_weight, xs.size)
    return total_log_likelihood(log_density(xs, params), w)


def total_log_likelihood(log_dens: np.ndarray, w=None) -> float:
    """``Σ_i w_i log p(x^{[i]}; θ)`` from the log-densities (w_i = 1 without weights).

    A sample of weight 0 counts 0 even where its log-density is -inf. A sum beyond the range of
    a float (weights near 1e308) is a ValueError, not -inf.
    """
    with np.errstate(over="ignore", invalid="ignore"):  # an overflow is the error raised below
        total = float(log_dens.sum() if w is None else w @ np.where(w > 0, log_dens, 0.0))
    return check_log_likelihood(total, weighted=w is not None)


def q_function(x, resp, params: GMMParams, *, include_constant: bool = True, sample_weight=None) -> float:
    """The lecture's Q-function (S8-S10).

    ``Q(𝒟; θ^{[k]}, θ) = Σ_i Σ_c ρ_c^{[i]} log p(Z=c, X=x^{[i]}; θ)``, where the
    responsibilities ``resp`` come from the old parameters θ^{[k]} and
    ``params`` is the θ being optimized.

    Parameters
    ----------
    x : array_like, shape (N,) or (N, 1)
    resp : array_like, shape (N, D)
        Responsibilities ρ_c^{[i]} of θ^{[k]}.
    params : GMMParams
        The parameters θ at which Q is evaluated.
    include_constant : bool, default True
        With False, the term ``-½ log(2π) Σ_i Σ_c ρ_c^{[i]}`` is dropped, as the
        lecture does at S10 (it does not move the argmax).
    sample_weight : array_like, shape (N,), optional
        The weighted Q, ``Σ_i w_i Σ_c ρ_c^{[i]} log p(Z=c, X=x^{[i]}; θ)`` (chapter 21).

    Returns
    -------
    float

    Notes
    -----
    A term with ρ_c^{[i]} = 0 counts 0 even where π_c = 0 (0 · log 0 = 0).
    """
    xs = check_data(x)
    params = check_params(params)
    include_constant = check_bool(include_constant, "include_constant")
    r = check_responsibilities(resp, xs.size)
    if r.shape[1] != params.n_components:
        raise ValueError(
            f"responsibilities have {r.shape[1]} columns but params have "
            f"{params.n_components} components"
        )
    w = check_sample_weight(sample_weight, xs.size)
    if w is not None:
        r = r * w[:, np.newaxis]
    lj = log_joint_dn(xs, params).T
    with np.errstate(over="ignore", invalid="ignore"):  # an overflow is the error raised below
        terms = r * np.where(r > 0, lj, 0.0)
        q = float(terms.sum())
        if not include_constant:
            q += 0.5 * LOG_2PI * float(r.sum())
    return check_log_likelihood(q, weighted=w is not None)


def lower_bound(x, resp, params: GMMParams) -> float:
    """The evidence lower bound ``L(q, θ) = Q(θ) - Σ_i Σ_c ρ_c^{[i]} log ρ_c^{[i]}``.

    With ``resp`` the responsibilities of θ^{[k]} (the distribution q of the
    latent classes), ``L`` is below ``log p(𝒟; θ)`` for every θ and touches it
    at θ = θ^{[k]} (steps W1-W3).

    Parameters
    ----------
    x : array_like, shape (N,) or (N, 1)
    resp : array_like, shape (N, D)
    params : GMMParams

    Returns
    -------
    float
    """
    r = check_responsibilities(resp, check_data(x).size)
    entropy = -float(np.sum(r * np.log(np.where(r > 0, r, 1.0))))
    return q_function(x, r, params) + entropy


# --------------------------------------------------------------------------
# M-step
# --------------------------------------------------------------------------


def m_step_dn(x, resp_dn, *, previous=None, std_floor=0.0, equal_variance=False, sample_weight=None):
    """M-step on (D, N) responsibilities; returns (params, collapsed, empty).

    The lecture's two passes (S24, then S29 about the μ_e just updated: never
    Σ ρ x² - γ μ², which cancels catastrophically for data far from 0), handed to the one
    M-step from sufficient statistics (:func:`gmmderive.mstep.two_pass_m_step`).
    ``collapsed[c]`` says σ_c was raised to ``std_floor``; ``empty[c]`` says γ_c was below
    :data:`EMPTY_CLASS_MASS` and μ_c, σ_c were kept from ``previous``. With ``sample_weight`` (N,),
    every sum over samples is weighted: γ_e = Σ_i w_i ρ_e^{[i]}, and N becomes Σ_i w_i
    (chapter 21).
    """
    if sample_weight is not None:
        resp_dn = resp_dn * sample_weight  # w_i ρ_e^{[i]}: the weighted updates are the same formulas

    def sq_dev_about(means):
        sq_dev = np.empty_like(means)
        dev = np.empty_like(x)
        for c in range(means.size):
            np.subtract(x, means[c], out=dev)
            np.square(dev, out=dev)
            sq_dev[c] = resp_dn[c] @ dev
        return sq_dev

    n = x.size if sample_weight is None else float(sample_weight.sum())
    return two_pass_m_step(n, resp_dn.sum(axis=1), resp_dn @ x, sq_dev_about, previous, std_floor=std_floor,
                           equal_variance=equal_variance)


def warn_degenerate(collapsed, empty, std_floor: float) -> None:
    """Emit one :class:`DegenerateComponentWarning` per degenerate component, pointing at the
    first line outside gmmderive (``m_step``'s caller, or ``fit``'s)."""
    stacklevel = user_stacklevel()
    for c in np.flatnonzero(collapsed):
        warnings.warn(
            f"component {c} collapsed onto a point: its standard deviation was "
            f"held at the floor {std_floor:.3g}",
            DegenerateComponentWarning,
            stacklevel=stacklevel,
        )
    for c in np.flatnonzero(empty):
        warnings.warn(
            f"component {c} lost all responsibility mass (γ_{c} ≈ 0): its weight "
            "is 0 and its mean and standard deviation were kept",
            DegenerateComponentWarning,
            stacklevel=stacklevel,
        )


def m_step(
    x, resp, *, previous: GMMParams | None = None, std_floor: float = 0.0, equal_variance: bool = False,
    sample_weight=None,
) -> GMMParams:
    """The M-step: the parameters that maximize Q for the given responsibilities.

    ``π_e = γ_e / N`` (S20), ``μ_e = Σ_i ρ_e^{[i]} x^{[i]} / γ_e`` (S24) and
    ``σ_e = √(Σ_i ρ_e^{[i]} (x^{[i]} - μ_e)² / γ_e)`` (S29) with the μ_e just
    updated.

    Parameters
    ----------
    x : array_like, shape (N,) or (N, 1)
    resp : array_like, shape (N, D)
        Responsibilities, each row summing to 1.
    previous : GMMParams, optional
        Parameters to keep μ_c and σ_c from for a class with γ_c = 0. Without
        it, such a class is an error.
    std_floor : float, default 0.0
        Lower bound on every σ_e (the constrained maximizer of Q in σ_e is
        ``max(σ_e, floor)``, so EM stays monotone). A component held at the
        floor triggers a :class:`DegenerateComponentWarning`.
    equal_variance : bool, default False
        The model with one standard deviation shared by all classes
        (mclust's "E", scikit-learn's ``tied``): ``σ² = Σ_e Σ_i ρ_e^{[i]}
        (x^{[i]} - μ_e)² / N``.
    sample_weight : array_like, shape (N,), optional
        How much each sample counts (w_i >= 0): the weighted updates of chapter 21,
        ``π_e = Σ_i w_i ρ_e^{[i]} / Σ_i w_i``, ``μ_e = Σ_i w_i ρ_e^{[i]} x^{[i]} /
        Σ_i w_i ρ_e^{[i]}`` and σ_e likewise about the new μ_e. Integer weights give
        the M-step of the data with each sample repeated w_i times.

    Returns
    -------
    GMMParams
    """
    xs = check_data(x)
    r = check_responsibilities(resp, xs.size)
    w = check_sample_weight(sample_weight, xs.size)
    std_floor = check_nonnegative_float(std_floor, "std_floor")
    equal_variance = check_bool(equal_variance, "equal_variance")
    row_err = np.abs(r.sum(axis=1) - 1.0)
    if (row_err > ROW_SUM_TOL).any():
        i = int(np.argmax(row_err))
        raise ValueError(f"every row of responsibilities must sum to 1; row {i} sums to {r[i].sum()!r}")
    if previous is not None:
        previous = check_params(previous)
        if previous.n_components != r.shape[1]:
            raise ValueError(
                f"previous has {previous.n_components} components, responsibilities have {r.shape[1]}"
            )
    new, collapsed, empty = m_step_dn(
        xs, r.T, previous=previous, std_floor=std_floor, equal_variance=equal_variance, sample_weight=w
    )
    warn_degenerate(collapsed, empty, std_floor)
    return new
