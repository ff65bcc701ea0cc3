"""A scikit-learn estimator around :func:`gmmderive.fit`.

It follows scikit-learn's conventions (fit/predict/score, ``random_state``, trailing-underscore
attributes, ``feature_names_in_``, ``score`` as the mean log-likelihood per sample). Where
scikit-learn is installed the estimator derives from its ``BaseEstimator`` and ``DensityMixin``
(imported only then); without it, :class:`_Parameters` gives the same ``get_params``,
``set_params`` and repr. Components are in canonical order: sorted by mean.
"""

from __future__ import annotations

import importlib
import inspect
import warnings
from typing import TYPE_CHECKING, Any, TypeAlias

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._engine import user_stacklevel
from ._validation import check_positive_int, check_random_state, check_sample_weight, check_seed
from .core import log_density, responsibilities, total_log_likelihood
from .fit import fit
from .options import DEFAULT_MAX_ITER, DEFAULT_SEED, DEFAULT_STD_FLOOR, DEFAULT_TOL
from .params import GMMParams

#: What ``random_state`` takes: scikit-learn's kinds, and NumPy's newer ones.
RandomStateLike: TypeAlias = ("int | np.integer[Any] | np.random.RandomState | np.random.Generator | "
                              "np.random.SeedSequence | np.random.BitGenerator | None")

#: The default of the deprecated ``seed``: not given (None is a seed: fresh entropy).
_NOT_GIVEN = "deprecated"


class NotFittedError(ValueError, AttributeError):
    """A method that needs a fitted estimator was called before ``fit`` (a ``ValueError``)."""


def _not_fitted_error() -> type[Exception]:
    # scikit-learn's own class where it is installed (its tools catch that one), else ours;
    # both are ValueErrors and AttributeErrors.
    try:
        exceptions = importlib.import_module("sklearn.exceptions")
    except ImportError:
        return NotFittedError
    sklearn_error: type[Exception] = exceptions.NotFittedError
    return sklearn_error


class _Parameters:
    """``get_params``, ``set_params`` and the repr from the constructor's signature, as scikit-learn's
    ``BaseEstimator`` gives them (its messages and its repr of the parameters set), for use without it."""

    @classmethod
    def _get_param_names(cls) -> list[str]:
        signature = inspect.signature(cls.__init__)
        return sorted(p.name for p in signature.parameters.values() if p.name != "self")

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor's parameters, by name.

        Parameters
        ----------
        deep : bool, default True
            Unused: no parameter is an estimator.

        Returns
        -------
        dict
        """
        return {name: getattr(self, name) for name in self._get_param_names()}

    def set_params(self, **params: Any) -> _Parameters:
        """Set constructor parameters by name; an unknown name is a ``ValueError``.

        Returns
        -------
        self
        """
        valid = self._get_param_names()
        for name, value in params.items():
            if name not in valid:
                raise ValueError(f"Invalid parameter {name!r} for estimator {self!r}. "
                                 f"Valid parameters are: {valid!r}.")
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        # The parameters that differ from their defaults, by name (scikit-learn's print_changed_only).
        defaults = {p.name: p.default for p in inspect.signature(type(self).__init__).parameters.values()}
        changed = [f"{name}={value!r}" for name, value in self.get_params().items()
                   if repr(value) != repr(defaults[name])]
        return f"{type(self).__name__}({', '.join(changed)})"


class _NoMixin:
    """In place of scikit-learn's DensityMixin where it is not installed (it adds only a tag)."""


if TYPE_CHECKING:  # a type checker sees the protocol that both give (scikit-learn has no type hints)
    _Base = _Parameters
    _Density = _NoMixin
else:
    try:
        from sklearn.base import BaseEstimator as _Base
        from sklearn.base import DensityMixin as _Density
    except ImportError:  # scikit-learn is optional
        _Base, _Density = _Parameters, _NoMixin


class GaussianMixture1D(_Density, _Base):
    """Univariate Gaussian mixture fitted by EM.

    Parameters
    ----------
    n_components : int, default 1
        Number of classes D.
    init : {"quantile", "kmeans++", "random"} or GMMParams, optional
        Initialization, as in :func:`gmmderive.fit`.
    max_iter : int, default 10000
        Evaluations of the EM map per run.
    tol : float, default 1e-8
        Stop when the parameters are within ``tol`` of EM's fixed point (see
        :func:`gmmderive.fit`).
    n_init : int, optional
        Number of starts; default 50 for the default search (``init=None``), else 1.
    random_state : None, int, numpy.random.RandomState, Generator, SeedSequence or BitGenerator, default 0
        Randomness of the starts. An int or a SeedSequence gives the same fit every time (the
        default 0 gives that of :func:`gmmderive.fit`); a RandomState, Generator or
        BitGenerator is drawn from, so that it moves on; None draws from NumPy's global
        RandomState, which ``np.random.seed`` sets (scikit-learn's meaning).
    seed : int, numpy.random.Generator or None, optional
        Deprecated alias of ``random_state`` (a ``FutureWarning`` in ``fit``), with the
        meaning it has in :func:`gmmderive.fit` (None: fresh entropy). Given, it is used
        instead of ``random_state``.
    std_floor : float, default 1e-6
        Lower bound on σ relative to the data's standard deviation.
    equal_variance : bool, default False
        One σ shared by all classes.
    reject_degenerate : bool, default False
        Among the ``n_init`` runs, discard those in which a component
        collapsed or emptied (see :func:`gmmderive.fit`).
    accelerate : bool, default True
        SQUAREM-accelerated EM; ``False`` runs plain EM.

    Attributes
    ----------
    weights_, means_, stds_ : ndarray, shape (D,)
        Fitted π, μ, σ, sorted by mean.
    params_ : GMMParams
    converged_ : bool
    n_iter_ : int
    log_likelihood_ : float
        Total log-likelihood of the training data.
    history_ : ndarray
        Log-likelihood after each evaluation of the EM map.
    n_features_in_ : int
        Always 1.
    feature_names_in_ : ndarray of str, shape (1,)
        The column's name, where ``x`` in ``fit`` was a table (a DataFrame) whose column
        is named by a string; absent otherwise.

    Notes
    -----
    The responsibilities of the training data are not kept (N × D numbers): ``predict_proba(x)``
    computes them.
    """

    def __init__(
        self,
        n_components: int = 1,
        *,
        init: str | GMMParams | None = None,
        max_iter: int = DEFAULT_MAX_ITER,
        tol: float = DEFAULT_TOL,
        n_init: int | None = None,
        random_state: RandomStateLike = DEFAULT_SEED,
        seed: int | np.random.Generator | str | None = _NOT_GIVEN,
        std_floor: float = DEFAULT_STD_FLOOR,
        equal_variance: bool = False,
        reject_degenerate: bool = False,
        accelerate: bool = True,
    ) -> None:
        self.n_components = n_components
        self.init = init
        self.max_iter = max_iter
        self.tol = tol
        self.n_init = n_init
        self.random_state = random_state
        self.seed = seed
        self.std_floor = std_floor
        self.equal_variance = equal_variance
        self.reject_degenerate = reject_degenerate
        self.accelerate = accelerate

    def __sklearn_tags__(self) -> Any:
        # Only scikit-learn calls this (the estimator then derives from its classes). One
        # feature, as a column (N, 1) or 1-D: its checks then pass one column.
        tags = super().__sklearn_tags__()  # type: ignore[misc]  # scikit-learn's BaseEstimator has it
        tags.input_tags.one_d_array = True
        return tags

    # -- fitting -------------------------------------------------------------

    def fit(self, x: ArrayLike, y: Any = None, sample_weight: ArrayLike | None = None) -> GaussianMixture1D:
        """Fit the mixture to ``x``.

        Parameters
        ----------
        x : array_like, shape (N,) or (N, 1)
            The observations; a DataFrame's column name is kept in ``feature_names_in_``.
        y : ignored
        sample_weight : array_like, shape (N,), optional
            How much each sample counts (w_i >= 0), as in :func:`gmmderive.fit`.

        Returns
        -------
        self
        """
        result = fit(
            x,
            self.n_components,
            init=self.init,
            max_iter=self.max_iter,
            tol=self.tol,
            n_init=self.n_init,
            seed=self._seed(),
            std_floor=self.std_floor,
            equal_variance=self.equal_variance,
            reject_degenerate=self.reject_degenerate,
            sample_weight=sample_weight,
            accelerate=self.accelerate,
        )
        # Only what describes the fit: the (N, D) responsibilities are computed on demand
        # (predict_proba), so that the fitted estimator and its pickle do not grow with N.
        self.params_ = result.params
        self.weights_ = result.params.weights
        self.means_ = result.params.means
        self.stds_ = result.params.stds
        self.converged_ = result.converged
        self.n_iter_ = result.n_iter
        self.log_likelihood_ = result.log_likelihood
        self.history_ = result.history
        self.n_features_in_ = 1
        names = _feature_names(x)
        if names is not None:
            self.feature_names_in_ = names
        elif hasattr(self, "feature_names_in_"):  # a refit on data without names forgets the old ones
            del self.feature_names_in_
        return self

    def _seed(self) -> int | np.random.Generator | str | None:  # fit refuses a str other than the default
        """The ``seed`` of :func:`gmmderive.fit`: a Generator from ``random_state``, or the deprecated ``seed``."""
        if isinstance(self.seed, str) and self.seed == _NOT_GIVEN:
            return check_random_state(self.random_state)
        warnings.warn("seed is deprecated: use random_state (scikit-learn's name), which also takes a "
                      "RandomState or a SeedSequence; seed will be removed in gmmderive 0.3",
                      FutureWarning, stacklevel=user_stacklevel())
        return self.seed

    def fit_predict(self, x: ArrayLike, y: Any = None, sample_weight: ArrayLike | None = None) -> NDArray[np.intp]:
        """Fit, then return the most responsible class of each sample, shape (N,)."""
        return self.fit(x, sample_weight=sample_weight).predict(x)

    def _fitted(self, x: ArrayLike | None = None) -> GMMParams:
        """The fitted parameters, after checking that ``x``'s column (if given) is the one fitted, by name."""
        if not hasattr(self, "params_"):
            raise _not_fitted_error()("this GaussianMixture1D is not fitted yet: call fit(x) first")
        if x is not None:
            self._check_feature_names(x)
        return self.params_

    def _check_feature_names(self, x: ArrayLike) -> None:
        # scikit-learn's rule and messages (its tools filter them by their text): a name that differs
        # from the fitted one is an error; a name on one side only, a warning.
        fitted, names = getattr(self, "feature_names_in_", None), _feature_names(x)
        name = type(self).__name__
        if fitted is None and names is not None:
            warnings.warn(f"X has feature names, but {name} was fitted without feature names", UserWarning,
                          stacklevel=user_stacklevel())
        elif fitted is not None and names is None:
            warnings.warn(f"X does not have valid feature names, but {name} was fitted with feature names",
                          UserWarning, stacklevel=user_stacklevel())
        elif fitted is not None and names is not None and names.tolist() != fitted.tolist():
            raise ValueError("The feature names should match those that were passed during fit.\n"
                             f"Feature names unseen at fit time:\n- {names[0]}\n"
                             f"Feature names seen at fit time, yet now missing:\n- {fitted[0]}\n")

    # -- using the fit -------------------------------------------------------

    def predict_proba(self, x: ArrayLike) -> NDArray[np.float64]:
        """Responsibilities ρ_c^{[i]}, shape (N, D)."""
        return responsibilities(x, self._fitted(x))

    def predict(self, x: ArrayLike) -> NDArray[np.intp]:
        """Index of the most responsible class per sample, shape (N,)."""
        labels: NDArray[np.intp] = np.argmax(self.predict_proba(x), axis=1)
        return labels

    def score_samples(self, x: ArrayLike) -> NDArray[np.float64]:
        """Log of the mixture density at each sample, shape (N,)."""
        return log_density(x, self._fitted(x))

    def _weighted_log_likelihood(self, x: ArrayLike, sample_weight: ArrayLike | None) -> tuple[float, float]:
        """(Σ_i w_i log p(x^{[i]}), Σ_i w_i): the log-likelihood and the effective sample size."""
        dens = self.score_samples(x)
        w = check_sample_weight(sample_weight, dens.size)
        return total_log_likelihood(dens, w), float(dens.size if w is None else w.sum())

    def score(self, x: ArrayLike, y: Any = None, sample_weight: ArrayLike | None = None) -> float:
        """Mean log-likelihood per sample (scikit-learn's convention); with weights,
        ``Σ_i w_i log p(x^{[i]}) / Σ_i w_i``."""
        ll, n_eff = self._weighted_log_likelihood(x, sample_weight)
        return ll / n_eff

    def sample(self, n_samples: int = 1, random_state: RandomStateLike = None, *,
               seed: int | np.random.Generator | str | None = _NOT_GIVEN
               ) -> tuple[NDArray[np.float64], NDArray[np.intp]]:
        """Draw samples from the fitted mixture.

        Parameters
        ----------
        n_samples : int, default 1
        random_state : None, int, numpy.random.RandomState, Generator, SeedSequence or BitGenerator
            Randomness of the draws, as the constructor's ``random_state`` (an int gives the
            same draws every time; None draws from NumPy's global RandomState).
        seed : int, numpy.random.Generator or None, optional
            Deprecated alias of ``random_state`` (a ``FutureWarning``), with the meaning it has in
            :func:`gmmderive.fit` (None: fresh entropy). Given, it is used instead of ``random_state``.

        Returns
        -------
        x : ndarray, shape (n_samples,)
        labels : ndarray of int, shape (n_samples,)
            The class each sample was drawn from.
        """
        params = self._fitted()
        n = check_positive_int(n_samples, "n_samples")
        if isinstance(seed, str) and seed == _NOT_GIVEN:
            rng = check_random_state(random_state)
        else:
            warnings.warn("sample's seed is deprecated: use random_state (scikit-learn's name); seed will be "
                          "removed in gmmderive 0.3", FutureWarning, stacklevel=user_stacklevel())
            rng = check_seed(seed)
        labels = rng.choice(params.n_components, size=n, p=params.weights)
        x = rng.normal(params.means[labels], params.stds[labels])
        return x, labels

    def n_parameters(self) -> int:
        """Free parameters: D - 1 weights (they sum to 1), D means, and D stds (1 if shared)."""
        d = self._fitted().n_components
        return 2 * d if self.equal_variance else 3 * d - 1

    def bic(self, x: ArrayLike, sample_weight: ArrayLike | None = None) -> float:
        """Bayesian information criterion ``-2 log p(x; θ) + n_θ log N`` (lower is better).

        ``n_θ`` is :meth:`n_parameters`, the number of free parameters. With weights the
        log-likelihood is ``Σ_i w_i log p(x^{[i]})`` and N is the effective sample size
        ``N_eff = Σ_i w_i``: for counts, the BIC of the data with each sample repeated w_i
        times. (For survey weights that do not count observations, rescale them to sum to
        the number of observations first: BIC depends on their scale through N_eff.)
        """
        ll, n_eff = self._weighted_log_likelihood(x, sample_weight)
        return _criterion(-2.0 * ll + self.n_parameters() * np.log(n_eff), "BIC")

    def aic(self, x: ArrayLike, sample_weight: ArrayLike | None = None) -> float:
        """Akaike information criterion ``-2 log p(x; θ) + 2 n_θ`` (lower is better);
        with weights, ``log p`` is ``Σ_i w_i log p(x^{[i]})``."""
        ll, _ = self._weighted_log_likelihood(x, sample_weight)
        return _criterion(-2.0 * ll + 2.0 * self.n_parameters(), "AIC")


def _feature_names(x: Any) -> np.ndarray | None:
    """The name of ``x``'s column where ``x`` is a table whose columns are named by strings (a
    DataFrame, as scikit-learn reads one: its ``columns``), else None."""
    columns = getattr(x, "columns", None)
    if columns is None:
        return None
    names = np.asarray(columns, dtype=object)
    if names.ndim != 1 or names.size == 0 or not all(isinstance(n, str) for n in names):
        return None
    return names


def _criterion(value: float, name: str) -> float:
    """An information criterion, or a ValueError if -2 log p overflowed (|log p| above 9e307)."""
    if not np.isfinite(value):
        raise ValueError(f"the {name} (-2 times the log-likelihood) is beyond the range of a float: "
                         "divide the weights by a constant")
    return float(value)
