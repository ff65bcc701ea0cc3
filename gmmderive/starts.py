"""The starts: where EM begins (the stage after the samples).

:func:`initial_params` is the public function; :func:`starting_points` draws the fit's starts
from the samples' start sample, in their frame.
"""

from __future__ import annotations

import numpy as np

from ._validation import check_data, check_distinct, check_positive_int, check_seed
from .frame import times_power_of_two
from .mstep import class_means, m_step_arrays
from .options import INIT_STRATEGIES
from .params import GMMParams

# Initial σ are at least this fraction of std(x)/D, so no start is already collapsed.
_INIT_MIN_STD = 0.1


def starting_points(samples, options) -> list[GMMParams]:
    """θ^{[0]} of every run in the frame z: ``options.init`` (parameters, or a strategy drawn with
    ``options.seed``) once per start, from the samples' start sample (all of it in memory)."""
    rng = check_seed(options.seed)
    frame = samples.frame
    # Starts are drawn from x / 2^k, an exact scaling: which centre a sample is nearest to (ties
    # included) then does not depend on rounding in the frame, so integer weights give the
    # starts of the repeated data.
    us = times_power_of_two(samples.start_x, -frame.k)
    return [start_in_frame(us, samples.start_w, options.n_components, s, rng, frame, samples.floor,
                           options.equal_variance) for s in options.strategies]


def _params_from_labels(x: np.ndarray, labels: np.ndarray, n_components: int, w=None) -> GMMParams:
    """Hard-assignment M-step: the weight, mean and std of each labelled group (none empty)."""
    spread = x.std() if w is None else _weighted_std(x, w)
    count = np.bincount(labels, weights=w, minlength=n_components)
    if not (count > 0).all():
        raise AssertionError("a start's group is empty")  # every centre is a data value
    sum_x = np.bincount(labels, weights=x if w is None else w * x, minlength=n_components)
    means = class_means(count, sum_x, empty_below=0.0)  # the two passes of the M-step, ρ one-hot

    def sq_dev(means):
        dev2 = (x - means[labels]) ** 2
        return np.bincount(labels, weights=dev2 if w is None else w * dev2, minlength=n_components)

    weights, means, stds, _, _ = m_step_arrays(count.sum(), count, np.zeros(n_components), sq_dev(means), means,
                                               None, None, std_floor=_INIT_MIN_STD * spread / n_components,
                                               empty_below=0.0)
    return GMMParams(weights, means, stds)


def _weighted_std(x: np.ndarray, w: np.ndarray) -> float:
    mean = float(w @ x) / float(w.sum())
    return float(np.sqrt(w @ (x - mean) ** 2 / w.sum()))


def _nearest(x: np.ndarray, centers: np.ndarray) -> np.ndarray:
    return np.argmin(np.abs(x[np.newaxis, :] - centers[:, np.newaxis]), axis=0)


def initial_params(x, n_components: int, strategy: str = "quantile", seed=None) -> GMMParams:
    """Starting parameters for EM.

    Parameters
    ----------
    x : array_like, shape (N,) or (N, 1)
    n_components : int
        Number of classes D (at most the number of distinct values of x).
    strategy : {"quantile", "kmeans++", "random"}
        ``"quantile"`` (deterministic): sort x and cut it into D groups of
        equal size. ``"kmeans++"``: D centers by k-means++ seeding (each new
        center drawn with probability proportional to the squared distance
        to the nearest chosen one). ``"random"``: D distinct data values drawn
        uniformly as centers. For the last two, every point joins its nearest
        center. Each group gives a weight, mean and standard deviation (σ at
        least ``0.1 · std(x) / D``).
    seed : int, numpy.random.Generator or None
        Randomness for ``"kmeans++"`` and ``"random"``.

    Returns
    -------
    GMMParams
    """
    xs = check_data(x)
    d = check_positive_int(n_components, "n_components")
    check_distinct(xs, d)
    if strategy not in INIT_STRATEGIES:
        raise ValueError(f"unknown init strategy {strategy!r}; choose one of {', '.join(INIT_STRATEGIES)}")
    return _initial_params(xs, d, strategy, check_seed(seed))


def _initial_params(xs: np.ndarray, d: int, strategy: str, rng: np.random.Generator, w=None) -> GMMParams:
    """:func:`initial_params` on data already checked (fit checks once for all its starts).

    With weights ``w`` a sample counts w_i times: the same start as the data with each
    sample repeated (ranks are cumulative weights; the random strategies draw distinct values).
    """
    if strategy == "quantile":
        # Group by rank; ties take the rank of their first member, so that a
        # run of equal values is never split between two groups.
        if w is None:
            labels = np.searchsorted(np.sort(xs), xs, side="left") * d // xs.size
        else:
            order = np.argsort(xs, kind="stable")
            before = np.concatenate([[0.0], np.cumsum(w[order])])  # weight of the samples below
            first = np.searchsorted(xs[order], xs, side="left")
            labels = np.minimum(np.floor(before[first] * d / before[-1]).astype(np.intp), d - 1)
        if np.unique(labels).size < d:  # heavy ties: fall back to distinct-value quantiles
            values = np.unique(xs)
            centers = values[(np.arange(d) * values.size) // d + (values.size // d) // 2]
            labels = _nearest(xs, centers)
        return _params_from_labels(xs, labels, d, w)
    values = np.unique(xs)
    if strategy == "random":
        centers = rng.choice(values, size=d, replace=False)
    else:  # kmeans++
        centers = [values[rng.integers(values.size)]]
        dist2 = (values - centers[0]) ** 2
        for _ in range(1, d):
            nxt = values[rng.choice(values.size, p=dist2 / dist2.sum())]
            centers.append(nxt)
            np.minimum(dist2, (values - nxt) ** 2, out=dist2)
        centers = np.array(centers)
    return _params_from_labels(xs, _nearest(xs, np.sort(centers)), d, w)


def start_in_frame(us, w, n_components, init, rng, frame, floor, equal_variance) -> GMMParams:
    """One starting point θ^{[0]} in the frame z, inside the model EM maximizes over."""
    if isinstance(init, GMMParams):
        start = frame.params_to_z(init, floor)
    else:
        start = frame.params_u_to_z(_initial_params(us, n_components, init, rng, w))
    if equal_variance:
        pooled = np.sqrt(np.sum(start.weights * start.stds**2))
        start = GMMParams(start.weights, start.means, np.full(n_components, pooled))
    if start.stds.min() < floor:
        # θ^{[0]} inside the model the M-step maximizes over (σ ≥ floor): otherwise the
        # first M-step, which floors σ, could lower the log-likelihood.
        start = GMMParams(start.weights, start.means, np.maximum(start.stds, floor))
    return start
