"""Input checks shared by the numeric functions.

Every public entry point validates its input here, so that bad input fails
early with a ``ValueError`` that names the problem, instead of a NaN or a
traceback from deep inside NumPy.
"""

from __future__ import annotations

import numbers

import numpy as np


def check_data(x, *, name: str = "x") -> np.ndarray:
    """Return ``x`` as a new 1-D float64 array of shape (N,), or raise.

    Accepts a 1-D sequence or an (N, 1) column. The input is never modified:
    the result is always a fresh copy.
    """
    if isinstance(x, (str, bytes)):
        raise ValueError(f"{name} must be numeric, got a string")
    if hasattr(x, "toarray") or type(x).__module__.startswith("scipy.sparse"):
        raise ValueError(f"{name} is a sparse matrix: sparse data is not supported; pass {name}.toarray()")
    if isinstance(x, np.ma.MaskedArray):
        # The mask would be dropped silently: the masked values would be fitted.
        raise ValueError(f"{name} is a masked array: drop the masked values first (x.compressed())")
    raw = np.asarray(x)
    check_dtype(raw.dtype, name, raw if raw.size else None)
    try:
        arr = np.array(raw, dtype=np.float64, copy=True)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must contain only numbers: {exc}") from None
    if arr.ndim == 2:
        if arr.shape[1] == 0:  # scikit-learn's wording, which its estimator checks look for
            raise ValueError(f"{name} has 0 feature(s) (shape={arr.shape}) while a minimum of 1 is required.")
        if arr.shape[1] != 1:
            raise ValueError(
                f"{name} must be 1-D or a single column of shape (N, 1), got shape {arr.shape}"
            )
        arr = arr[:, 0].copy()
    elif arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D or a single column of shape (N, 1), got {arr.ndim}-D")
    if arr.size == 0:
        raise ValueError(f"{name} is empty: at least one sample is needed")
    bad = ~np.isfinite(arr)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"{name} contains {int(bad.sum())} non-finite value(s) (NaN or ±inf); "
            f"the first is {float(arr[i])!r} at index {i}"
        )
    return arr


def check_dtype(dtype: np.dtype, name: str = "x", values=None) -> None:
    """Refuse a dtype that is not real numbers, naming what it holds.

    ``values`` (an array of that dtype, in memory) lets strings and objects through when every
    element is a real number; without them (a Dask array) such dtypes are refused.
    """
    kind = dtype.kind
    if kind == "c":
        raise ValueError(f"{name} is complex: Complex data not supported (a Gaussian mixture of real numbers)")
    if kind in "USO" and (values is None or not all(
        isinstance(v, numbers.Real) and not isinstance(v, bool) for v in values.ravel().tolist()
    )):
        # "1.5" would be parsed silently; objects other than real numbers are refused.
        raise ValueError(f"{name} must contain numbers, not strings or other objects "
                         f"(got dtype {dtype}); convert it first")
    if kind in "mMb":
        what = {"m": "time deltas", "M": "dates (datetime64)", "b": "booleans"}[kind]
        raise ValueError(f"{name} holds {what}, not numbers; convert it to floats first")


def check_sample_weight(sample_weight, n_samples: int) -> np.ndarray | None:
    """Return the weights as a new float64 array of shape (N,), or None for None; else raise.

    A weight is how much a sample counts (a count of repeated values, a survey weight):
    finite and >= 0, not all 0. A zero weight removes its sample.
    """
    if sample_weight is None:
        return None
    if isinstance(sample_weight, (str, bytes)):
        raise ValueError("sample_weight must be numeric, got a string")
    raw = np.asarray(sample_weight)
    if raw.dtype.kind == "b":
        raise ValueError("sample_weight holds booleans, not numbers; to select samples, index x with the mask")
    if raw.dtype.kind not in "iuf":
        raise ValueError(f"sample_weight must be real numbers, got dtype {raw.dtype}")
    w = np.array(raw, dtype=np.float64, copy=True)
    if w.ndim == 2 and w.shape[1] == 1:
        w = w[:, 0].copy()
    if w.ndim != 1:
        raise ValueError(f"sample_weight must be 1-D (one weight per sample), got shape {w.shape}")
    if w.size != n_samples:
        raise ValueError(f"sample_weight has {w.size} weights for {n_samples} samples")
    bad = ~np.isfinite(w)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"sample_weight contains NaN or ±inf (the first at index {i}: {float(w[i])!r})")
    if (w < 0).any():
        i = int(np.flatnonzero(w < 0)[0])
        raise ValueError(f"sample_weight must be >= 0; weight {i} is {float(w[i])!r}")
    if not (w > 0).any():
        raise ValueError("sample_weight is 0 for every sample: nothing to fit")
    return w


def check_responsibilities(resp, n_samples: int) -> np.ndarray:
    """Return ``resp`` as a float64 array of shape (N, D), or raise."""
    try:
        r = np.asarray(resp, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"responsibilities must be numeric: {exc}") from None
    if r.ndim != 2:
        raise ValueError(f"responsibilities must have shape (N, D), got {r.ndim}-D")
    if r.shape[0] != n_samples:
        raise ValueError(
            f"responsibilities have {r.shape[0]} rows but x has {n_samples} samples"
        )
    if r.shape[1] < 1:
        raise ValueError("responsibilities need at least one column (class)")
    if not np.isfinite(r).all():
        raise ValueError("responsibilities contain NaN or ±inf")
    if (r < 0).any():
        raise ValueError("responsibilities must be non-negative")
    return r


def check_positive_int(value, name: str, minimum: int = 1) -> int:
    """Return ``value`` as an int >= ``minimum``, or raise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def check_nonnegative_float(value, name: str) -> float:
    """Return ``value`` as a finite float >= 0, or raise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a number, got {value!r}")
    value = float(value)
    if not np.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value}")
    return value


def check_seed(seed) -> np.random.Generator:
    """A random generator from ``seed``: a non-negative int, a Generator, or None."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None:
        return np.random.default_rng()
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise ValueError(f"seed must be a non-negative int, a numpy Generator or None, got {seed!r}")
    if seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed}")
    return np.random.default_rng(int(seed))
