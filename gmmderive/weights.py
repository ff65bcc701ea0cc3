"""Sample weights w_i, the one place they are scaled and their zeros removed (in memory and in
each chunk of a Dask array alike). They are checked by :func:`gmmderive._validation.check_sample_weight`
(or, chunk by chunk, by :mod:`gmmderive._dask`'s first pass)."""

from __future__ import annotations

import numpy as np

from ._validation import check_total_weight


def exponent(largest: float) -> int:
    """e with largest / 2^e in [1/2, 1): weights scaled by 2^-e (exactly) keep EM's sums finite."""
    return int(np.frexp(largest)[1])


def scaled(w, e: int):
    """``w / 2^e``, exact (a weight more than 2^1074 times below the largest becomes 0)."""
    return w if e == 0 else np.ldexp(w, -e)


def scale(w):
    """``(w / 2^e, e)``: the largest weight below 1, so that no sum of weighted squares overflows.

    Scaling every weight by a power of two is exact, and EM's updates are ratios of weighted
    sums, so the fit is the same; only the log-likelihood Σ_i w_i log p is scaled back (#16's
    adversarial tests: weights of 1e200 made Σ ρ (x - c)² overflow). A weight more than 2^1074
    times below the largest becomes 0 (its share of any sum is far below rounding).
    (``compress`` then adds weights of equal values: at most N each, still far from overflow.)
    """
    if w is None:
        return None, 0
    e = exponent(float(w.max()))
    return scaled(w, e), e


def kept(x, w):
    """The samples that count, with their weights: a zero weight removes its sample."""
    if w is None:
        return x, None
    keep = w > 0
    if keep.all():
        return x, w
    return x[keep], w[keep]


def check_total(total: float, e: int) -> None:
    """Σ_i w_i = ``total`` · 2^``e`` (the weights as given) must be a float."""
    with np.errstate(over="ignore"):  # inf is the error check_total_weight raises
        check_total_weight(float(np.ldexp(total, e)))
