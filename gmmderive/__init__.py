"""gmmderive: EM for the univariate Gaussian mixture, derived and checked.

The numeric part follows the lecture's E-step and M-step one function per
quantity; :mod:`gmmderive.symbolic` proves every step of the derivation with
SymPy.
"""

from importlib.metadata import PackageNotFoundError, version

from ._engine import EngineWarning
from .core import (
    DegenerateComponentWarning,
    class_responsibilities,
    e_step,
    log_density,
    log_joint,
    log_likelihood,
    lower_bound,
    m_step,
    q_function,
    responsibilities,
    unnormalized_responsibilities,
)
from .fit import ConvergenceWarning, FitResult, em_path, fit, initial_params
from .params import GMMParams

try:  # pyproject.toml is the one place of the version
    __version__ = version("gmmderive")
except PackageNotFoundError:  # imported from a source tree that was never installed
    __version__ = "0+unknown"

__all__ = [
    "ConvergenceWarning",
    "DegenerateComponentWarning",
    "EngineWarning",
    "FitResult",
    "GMMParams",
    "GaussianMixture1D",
    "class_responsibilities",
    "e_step",
    "em_path",
    "fit",
    "initial_params",
    "log_density",
    "log_joint",
    "log_likelihood",
    "lower_bound",
    "m_step",
    "q_function",
    "responsibilities",
    "unnormalized_responsibilities",
]


def __getattr__(name: str):
    # The estimator is imported on first use: with scikit-learn installed it derives from
    # scikit-learn's base classes, whose import (0.7 s) `import gmmderive` should not pay.
    if name == "GaussianMixture1D":
        from .estimator import GaussianMixture1D

        globals()["GaussianMixture1D"] = GaussianMixture1D  # found directly from now on
        return GaussianMixture1D
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | {"GaussianMixture1D"})
