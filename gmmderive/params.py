"""The parameter set θ = [π^T, μ^T, σ^T]^T of a univariate Gaussian mixture."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Tolerance on ``|Σ_d π_d - 1|``: the M-step's π = γ/N sums to 1 only up to rounding.
WEIGHT_SUM_TOL = 1e-8

#: The smallest standard deviation: the smallest normal float64 (1/σ then stays finite).
MIN_STD = float(np.finfo(np.float64).tiny)


def _as_vector(values, name: str) -> np.ndarray:
    try:
        arr = np.array(values, dtype=np.float64, copy=True)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must contain only numbers: {exc}") from None
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} is empty: a mixture needs at least one component")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or ±inf: {arr.tolist()}")
    arr.setflags(write=False)
    return arr


def check_weights(w: np.ndarray) -> None:
    """Raise unless ``w`` is a probability vector (non-negative, summing to 1 within the tolerance)."""
    if (w < 0).any():
        raise ValueError(f"weights must be non-negative, got {w.tolist()}")
    if abs(w.sum() - 1.0) > WEIGHT_SUM_TOL:
        raise ValueError(f"weights must sum to 1, they sum to {w.sum()!r}")


@dataclass(frozen=True, eq=False)
class GMMParams:
    """Immutable, validated parameters of a D-component univariate GMM.

    Parameters
    ----------
    weights : array_like, shape (D,)
        Class probabilities π_c: non-negative, summing to 1 (within 1e-8).
    means : array_like, shape (D,)
        Component means μ_c.
    stds : array_like, shape (D,)
        Component standard deviations σ_c, all at least 2.2e-308 (the smallest normal float).

    Raises
    ------
    ValueError
        If the lengths differ, a value is not finite, a weight is negative,
        the weights do not sum to 1, or a standard deviation is not > 0.

    Notes
    -----
    The arrays are copies marked read-only, so a ``GMMParams`` never changes
    after it is made and never aliases the caller's arrays.
    """

    weights: np.ndarray
    means: np.ndarray
    stds: np.ndarray

    def __post_init__(self):
        w = _as_vector(self.weights, "weights")
        m = _as_vector(self.means, "means")
        s = _as_vector(self.stds, "stds")
        if not (w.size == m.size == s.size):
            raise ValueError(
                "weights, means and stds must have equal lengths, got "
                f"{w.size}, {m.size} and {s.size}"
            )
        check_weights(w)
        if (s <= 0).any():
            raise ValueError(f"stds must be > 0, got {s.tolist()}")
        if (s < MIN_STD).any():
            # 1/σ of a subnormal σ overflows: the density could not be computed.
            raise ValueError(f"stds must be at least {MIN_STD:.3g} (the smallest normal float), got {s.tolist()}")
        object.__setattr__(self, "weights", w)
        object.__setattr__(self, "means", m)
        object.__setattr__(self, "stds", s)

    @classmethod
    def _trusted(cls, weights: np.ndarray, means: np.ndarray, stds: np.ndarray) -> GMMParams:
        """Fresh float64 arrays from the M-step: the full checks only if a cheap one fails.

        EM makes one GMMParams per iteration; validating each costs as much as an iteration on
        small data. The arrays must be new (they are made read-only, not copied).
        """
        ok = (np.isfinite(means).all() and np.isfinite(stds).all() and stds.min() >= MIN_STD
              and weights.min() >= 0 and abs(weights.sum() - 1.0) <= WEIGHT_SUM_TOL)
        if not ok:
            return cls(weights, means, stds)  # raises with the full message
        obj = object.__new__(cls)
        for name, arr in (("weights", weights), ("means", means), ("stds", stds)):
            arr.setflags(write=False)
            object.__setattr__(obj, name, arr)
        return obj

    @property
    def n_components(self) -> int:
        """The number of classes D."""
        return int(self.weights.size)

    def canonical_order(self) -> np.ndarray:
        """Permutation that sorts the components by mean (then std, then weight)."""
        return np.lexsort((self.weights, self.stds, self.means))

    def permuted(self, order) -> GMMParams:
        """The same mixture with its components in the given order."""
        order = np.asarray(order)
        return GMMParams(self.weights[order], self.means[order], self.stds[order])

    def sorted(self) -> GMMParams:
        """The same mixture in canonical order (ascending means)."""
        return self.permuted(self.canonical_order())

    def __eq__(self, other):
        if not isinstance(other, GMMParams):
            return NotImplemented
        return (
            np.array_equal(self.weights, other.weights)
            and np.array_equal(self.means, other.means)
            and np.array_equal(self.stds, other.stds)
        )

    def __hash__(self):
        return hash((self.weights.tobytes(), self.means.tobytes(), self.stds.tobytes()))

    def __repr__(self):
        return self._repr(indent="")

    def _repr(self, indent: str, width: int = 79) -> str:
        # One line where it fits in `width` columns, else one parameter per line (wrapped),
        # so that printed parameters stay inside a notebook's column.
        fields = [(name, [f"{v:.6g}" for v in a])
                  for name, a in (("weights", self.weights), ("means", self.means), ("stds", self.stds))]
        line = "GMMParams(" + ", ".join(f"{n}=[{', '.join(v)}]" for n, v in fields) + ")"
        if len(indent) + len(line) <= width:
            return line
        inner = indent + "    "
        out = ["GMMParams("]
        for name, values in fields:
            out.append(_wrapped(f"{inner}{name}=[", values, "],", width))
        out.append(indent + ")")
        return "\n".join(out)


def _wrapped(head: str, values: list, tail: str, width: int) -> str:
    """``head`` + comma-separated ``values`` + ``tail``, wrapped under the first value."""
    pad = " " * len(head)
    lines, line = [], head
    for k, v in enumerate(values):
        piece = v + (", " if k < len(values) - 1 else tail)
        if line not in (head, pad) and len(line) + len(piece.rstrip()) > width:
            lines.append(line.rstrip())
            line = pad
        line += piece
    lines.append(line)
    return "\n".join(lines)
