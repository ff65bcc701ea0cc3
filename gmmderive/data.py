"""The data as given, checked: the one place where the type of x decides which samples EM runs on."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validation import check_data, check_sample_weight
from .samples import InMemorySamples, in_memory_samples


def is_dask(x) -> bool:
    """A Dask collection (checked by its type's module, so that Dask is not imported for NumPy input)."""
    return type(x).__module__.split(".")[0] == "dask"


@dataclass(frozen=True, eq=False)
class InMemoryData:
    """x and its weights in memory, checked (:func:`gmmderive._validation.check_data`)."""

    x: np.ndarray
    sample_weight: np.ndarray | None

    def samples(self, options) -> InMemorySamples:
        """The samples EM runs on, for the options of the fit (:class:`gmmderive.options.FitOptions`)."""
        return in_memory_samples(self.x, self.sample_weight, options.compress, options.n_components,
                                 options.std_floor)


def checked_data(x, sample_weight):
    """The data as given, checked: :class:`InMemoryData`, or for a Dask array
    :class:`gmmderive._dask.DaskData` (checked lazily: nothing is computed yet). Both make the
    samples with ``.samples(options)``."""
    if is_dask(x):
        from . import _dask  # Dask is imported only when a Dask array comes in

        return _dask.as_dask_data(x, sample_weight)
    xs = check_data(x)
    return InMemoryData(xs, check_sample_weight(sample_weight, xs.size))
