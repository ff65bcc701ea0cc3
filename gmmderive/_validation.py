"""Input checks shared by the numeric functions.

Every public entry point validates its input here, so that bad input fails
early with a ``ValueError`` that names the problem, instead of a NaN or a
traceback from deep inside NumPy.
"""

from __future__ import annotations

import numbers

import numpy as np


def _real_array(x, name: str) -> np.ndarray:
    """``x`` as a new float64 array of any shape, refusing what is not real numbers (shared by
    ``check_data`` and :func:`check_data_nd`, so that both refuse the same inputs alike)."""
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
        return np.array(raw, dtype=np.float64, copy=True)
    except OverflowError:  # a Python int (or Fraction) beyond 1.8e308: float() cannot hold it
        raise ValueError(_beyond_float_range(raw, name)) from None
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must contain only numbers: {exc}") from None


def _beyond_float_range(raw: np.ndarray, name: str) -> str:
    """The message for an object array holding a number that float() cannot hold, naming it."""
    values = raw.ravel().tolist()
    flat = next((i for i, v in enumerate(values) if _overflows(v)), None)
    if flat is None:  # not found element by element: say what NumPy said
        return f"{name} holds a number beyond the range of a float (±1.8e308)"
    v = values[flat]
    index = np.unravel_index(flat, raw.shape)
    if raw.ndim == 1 or (raw.ndim == 2 and raw.shape[1] == 1):
        where = f"index {index[0]}"
    else:
        where = "index " + ", ".join(str(int(i)) for i in index)
    what = f"an integer of {len(str(abs(v)))} digits" if isinstance(v, int) else repr(v)[:40]
    return f"{name} holds a number beyond the range of a float (±1.8e308), {what}, at {where}"


def _overflows(v) -> bool:
    try:
        float(v)
    except OverflowError:
        return True
    return False


def check_data(x, *, name: str = "x") -> np.ndarray:
    """Return ``x`` as a new 1-D float64 array of shape (N,), or raise.

    Accepts a 1-D sequence or an (N, 1) column. The input is never modified:
    the result is always a fresh copy.
    """
    arr = _real_array(x, name)
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


def check_data_nd(X, *, name: str = "X") -> np.ndarray:
    """Return ``X`` as a new float64 array of shape (N, p), or raise.

    The checks of ``check_data`` (complex, masked, sparse, strings, numbers beyond a float,
    non-finite values) for data with a row per sample and a column per dimension.
    """
    arr = _real_array(X, name)
    if arr.ndim != 2:
        raise ValueError(f"{name} must have shape (N, p), got {arr.ndim}-D")
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"{name} is empty: shape {arr.shape}")
    bad = ~np.isfinite(arr)
    if bad.any():
        i, j = (int(k) for k in np.argwhere(bad)[0])
        raise ValueError(f"{name} contains {int(bad.sum())} NaN or ±inf value(s); the first is "
                         f"{float(arr[i, j])!r} at row {i}, column {j}")
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
    bad = first_bad_weight(w)
    if bad is not None:
        raise weight_error(*bad)
    if not (w > 0).any():
        raise ValueError(NOTHING_TO_FIT)
    with np.errstate(over="ignore"):  # an overflow is the error below, not a RuntimeWarning
        check_total_weight(float(w.sum()))
    return w


#: Every weight is 0 (in memory, or in every chunk of a Dask array).
NOTHING_TO_FIT = "sample_weight is 0 for every sample: nothing to fit"


def first_bad_weight(w: np.ndarray):
    """``(kind, index, value)`` of the first weight that is not finite (kind ``"nan"``), else of the
    first negative one (``"negative"``); None if every weight is finite and >= 0. The one rule
    for weights, in memory (:func:`check_sample_weight`) and chunk by chunk (:mod:`gmmderive._dask`)."""
    bad = ~np.isfinite(w)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        return "nan", i, float(w[i])
    if (w < 0).any():
        i = int(np.flatnonzero(w < 0)[0])
        return "negative", i, float(w[i])
    return None


def weight_error(kind: str, index: int, value: float) -> ValueError:
    """The error for a bad weight found by :func:`first_bad_weight` (``index`` in all of the data)."""
    if kind == "nan":
        return ValueError(f"sample_weight contains NaN or ±inf (the first at index {index}: {value!r})")
    return ValueError(f"sample_weight must be >= 0; weight {index} is {value!r}")


def check_total_weight(total: float) -> None:
    """Refuse weights whose sum Σ_i w_i is beyond the range of a float (``total`` is inf).

    Then N_eff and every log-likelihood Σ_i w_i log p are not floats either; the fitted
    parameters depend only on the ratios of the weights, so dividing them costs nothing.
    """
    if not np.isfinite(total):
        raise ValueError("sample_weight sums to more than the largest float (1.8e308): divide the weights "
                         "by a constant (the fitted parameters depend only on their ratios)")


def check_log_likelihood(value: float, weighted: bool) -> float:
    """Return the log-likelihood ``value`` if it is a float, else raise (it overflowed to -inf).

    Σ_i w_i log p(x^{[i]}; θ) can exceed 1.8e308 in magnitude with weights near the largest float,
    or with samples so far from every component that each log p is about -1e300.
    """
    if not np.isfinite(value):
        hint = ("divide the weights by a constant (the fitted parameters depend only on their ratios)"
                if weighted else "the samples are too far from the components for their log-densities to add up")
        raise ValueError(f"the log-likelihood Σ_i w_i log p(x^{{[i]}}; θ) is beyond the range of a float "
                         f"(its magnitude exceeds 1.8e308): {hint}")
    return value


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


def check_bool(value, name: str) -> bool:
    """Return ``value`` as a bool if it is one (Python's or NumPy's), else raise.

    Every object has a truth value, so ``equal_variance="no"`` would count as True: an option
    that is a boolean takes True or False only.
    """
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise ValueError(f"{name} must be True or False, got {value!r}")


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


def check_random_state(random_state, name: str = "random_state") -> np.random.Generator:
    """A NumPy Generator from what scikit-learn's ``random_state`` takes, and NumPy's newer kinds.

    Parameters
    ----------
    random_state : None, int, numpy.random.RandomState, Generator, SeedSequence or BitGenerator
        - an int >= 0 or a SeedSequence: a new Generator seeded with it (the same draws every time);
        - a Generator or a BitGenerator: drawn from, so it moves on (as scikit-learn's RandomState);
        - a RandomState: a seed is drawn from it, so the same state gives the same draws and it moves on;
        - None (or the ``np.random`` module): as a RandomState, NumPy's global one, which
          ``np.random.seed`` sets (scikit-learn's meaning of None).
    name : str
        The parameter's name in the error message.

    Returns
    -------
    numpy.random.Generator
    """
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, (np.random.SeedSequence, np.random.BitGenerator)):
        return np.random.default_rng(random_state)
    if random_state is None or random_state is np.random or isinstance(random_state, np.random.RandomState):
        # The fit draws from a Generator: 128 bits of its seed come from the RandomState
        # (np.random.randint is the global one's).
        draw = np.random.randint if random_state is None or random_state is np.random else random_state.randint
        return np.random.default_rng(draw(2**32, size=4, dtype=np.uint32))
    if isinstance(random_state, bool) or not isinstance(random_state, numbers.Integral):
        raise ValueError(f"{name} must be None, an int >= 0, or a numpy RandomState, Generator, SeedSequence "
                         f"or BitGenerator; got {random_state!r}")
    if random_state < 0:
        raise ValueError(f"{name} must be >= 0, got {random_state}")
    return np.random.default_rng(int(random_state))  # as seed=int: the same starts as gmmderive.fit(seed=int)


def check_distinct(xs: np.ndarray, n_components: int) -> None:
    """Refuse data whose values are all equal, or fewer distinct than ``n_components``."""
    if xs.min() == xs.max():
        raise ValueError(
            f"all {xs.size} values of x are equal ({float(xs[0])!r}): a Gaussian needs a spread (σ > 0)"
        )
    if n_components <= 2:
        return  # two distinct values exist
    # Cheap first look at a prefix; sort all of x only when it is inconclusive.
    if np.unique(xs[: 64 * n_components]).size >= n_components:
        return
    n_distinct = np.unique(xs).size
    if n_components > n_distinct:
        raise ValueError(
            f"n_components = {n_components} is greater than the number of distinct values "
            f"of x ({n_distinct})"
        )
