"""The standardized frame: EM runs on z = (x / 2^k - m) / s, of mean 0 and standard deviation 1."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .params import MIN_STD, GMMParams


def times_power_of_two(xs: np.ndarray, e: int) -> np.ndarray:
    """x · 2^e, exactly as ``np.ldexp(x, e)`` (both correctly rounded), twice as fast.

    Multiplying by the float 2^e (exact down to 2^-1074, a subnormal) is one correctly
    rounded operation, hence equal to ldexp; for e > 1023 (data all subnormal) 2^e is not a
    float, and ldexp does it.
    """
    if e <= 1023:
        return xs * (2.0**e)
    return np.ldexp(xs, e)


def power_of_two_below(largest_abs: float) -> int:
    """k with |x| / 2^k < 2 for every |x| <= ``largest_abs``, and 2^k finite."""
    return int(np.frexp(largest_abs)[1]) - 1


@dataclass(frozen=True)
class Frame:
    """x = 2^k (m + s z): fit works on z, of mean 0 and standard deviation 1.

    The model is affine-equivariant (a mixture of x is a mixture of z with means and
    standard deviations mapped, and log p(x) = log p(z) - log(2^k s)), so EM on z reaches
    the same fit; but z neither overflows when squared nor underflows for data of any
    magnitude. The power of two 2^k scales exactly, so data of any size fits in [-2, 2]
    before the mean and standard deviation are taken.
    """

    k: int
    m: float
    s: float

    @classmethod
    def of(cls, xs: np.ndarray, w=None) -> Frame:
        k = power_of_two_below(np.max(np.abs(xs)))  # |x| / 2^k < 2, and 2^k is finite
        u = times_power_of_two(xs, -k)
        if w is None:
            return cls(k, float(u.mean()), float(u.std()))
        m = float(w @ u) / float(w.sum())  # the weighted data's mean and spread
        return cls(k, m, float(np.sqrt(w @ (u - m) ** 2 / w.sum())))

    @property
    def log_scale(self) -> float:
        """log(2^k s): what the log-density of one sample loses from z to x."""
        return float(np.log(self.s) + self.k * np.log(2.0))

    @property
    def std_x(self) -> float:
        return float(np.ldexp(self.s, self.k))

    def to_z(self, xs: np.ndarray) -> np.ndarray:
        z = times_power_of_two(xs, -self.k)  # a new array: the arithmetic below runs in place (one N-array)
        z -= self.m
        z /= self.s
        return z

    def params_to_z(self, p: GMMParams, std_floor: float) -> GMMParams:
        means = (np.ldexp(p.means, -self.k) - self.m) / self.s
        stds = np.maximum(np.ldexp(p.stds, -self.k) / self.s, std_floor)
        if not (stds > 0).all():
            raise ValueError(f"init's stds {p.stds.tolist()} are too small for the spread of x "
                             f"({self.std_x:.3g}) to be represented: raise them or std_floor")
        return GMMParams(p.weights, means, stds)

    def params_u_to_z(self, p: GMMParams) -> GMMParams:
        """Parameters of u = x / 2^k in the frame z = (u - m) / s."""
        return GMMParams(p.weights, (p.means - self.m) / self.s, p.stds / self.s)

    def params_from_z(self, p: GMMParams) -> GMMParams:
        return GMMParams(p.weights, np.ldexp(self.m + self.s * p.means, self.k), np.ldexp(self.s * p.stds, self.k))

    def check_spread(self, std_floor: float) -> None:
        """Refuse data whose spread, or σ floor (``std_floor`` of it), is below the smallest normal float."""
        if self.std_x < MIN_STD or 0 < self.std_x * std_floor < MIN_STD:
            raise ValueError(f"the spread of x ({self.std_x:.3g}) is too small: the σ floor (std_floor "
                             f"= {std_floor:g} of it) is below the smallest normal float; rescale x")
