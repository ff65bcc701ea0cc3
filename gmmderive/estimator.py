"""A scikit-learn-style estimator around :func:`gmmderive.fit`.

It follows scikit-learn's conventions (fit/predict/score, trailing-underscore
attributes, ``score`` as the mean log-likelihood per sample) without
depending on scikit-learn. Components are in canonical order: sorted by mean.
"""

from __future__ import annotations

import numpy as np

from ._validation import check_data, check_positive_int, check_sample_weight, check_seed
from .core import log_density, responsibilities, total_log_likelihood
from .fit import DEFAULT_MAX_ITER, DEFAULT_SEED, DEFAULT_STD_FLOOR, DEFAULT_TOL, fit
from .params import GMMParams


class NotFittedError(ValueError, AttributeError):
    """A method that needs a fitted estimator was called before ``fit`` (a ``ValueError``)."""


def _not_fitted_error():
    # scikit-learn's own class where it is installed (its tools catch that one), else ours;
    # both are ValueErrors and AttributeErrors.
    try:
        from sklearn.exceptions import NotFittedError as sklearn_error
    except ImportError:
        return NotFittedError
    return sklearn_error


class GaussianMixture1D:
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
    seed : int, numpy.random.Generator or None, default 0
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
    """

    def __init__(
        self,
        n_components: int = 1,
        *,
        init=None,
        max_iter: int = DEFAULT_MAX_ITER,
        tol: float = DEFAULT_TOL,
        n_init: int | None = None,
        seed=DEFAULT_SEED,
        std_floor: float = DEFAULT_STD_FLOOR,
        equal_variance: bool = False,
        reject_degenerate: bool = False,
        accelerate: bool = True,
    ):
        self.n_components = n_components
        self.init = init
        self.max_iter = max_iter
        self.tol = tol
        self.n_init = n_init
        self.seed = seed
        self.std_floor = std_floor
        self.equal_variance = equal_variance
        self.reject_degenerate = reject_degenerate
        self.accelerate = accelerate

    def __repr__(self):
        return f"GaussianMixture1D(n_components={self.n_components!r})"

    # -- the estimator protocol (scikit-learn's clone, Pipeline, GridSearchCV) ------------

    @classmethod
    def _param_names(cls) -> list:
        import inspect

        return [p.name for p in inspect.signature(cls.__init__).parameters.values() if p.name != "self"]

    def get_params(self, deep: bool = True) -> dict:
        """The constructor's parameters, by name (scikit-learn's estimator protocol)."""
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params) -> GaussianMixture1D:
        """Set constructor parameters by name; an unknown name is a ``ValueError``."""
        valid = self._param_names()
        for name, value in params.items():
            if name not in valid:
                raise ValueError(f"invalid parameter {name!r} for GaussianMixture1D; valid: {', '.join(valid)}")
            setattr(self, name, value)
        return self

    def __sklearn_tags__(self):
        # Only scikit-learn calls this, so it is imported only then (no hard dependency).
        from sklearn.utils import InputTags, Tags, TargetTags

        return Tags(estimator_type="density_estimator", target_tags=TargetTags(required=False),
                    input_tags=InputTags())

    # -- fitting -------------------------------------------------------------

    def fit(self, x, y=None, sample_weight=None) -> GaussianMixture1D:
        """Fit the mixture to ``x`` (shape (N,) or (N, 1)); ``y`` is ignored.

        ``sample_weight`` (shape (N,), w_i >= 0): how much each sample counts, as in
        :func:`gmmderive.fit`.
        """
        result = fit(
            x,
            self.n_components,
            init=self.init,
            max_iter=self.max_iter,
            tol=self.tol,
            n_init=self.n_init,
            seed=self.seed,
            std_floor=self.std_floor,
            equal_variance=self.equal_variance,
            reject_degenerate=self.reject_degenerate,
            sample_weight=sample_weight,
            accelerate=self.accelerate,
        )
        self.result_ = result
        self.params_ = result.params
        self.weights_ = result.params.weights
        self.means_ = result.params.means
        self.stds_ = result.params.stds
        self.converged_ = result.converged
        self.n_iter_ = result.n_iter
        self.log_likelihood_ = result.log_likelihood
        self.history_ = result.history
        self.n_features_in_ = 1
        self._n_train = check_data(x).size
        return self

    def fit_predict(self, x, y=None, sample_weight=None) -> np.ndarray:
        """Fit, then return the most responsible class of each sample."""
        return self.fit(x, sample_weight=sample_weight).predict(x)

    def _fitted(self) -> GMMParams:
        if not hasattr(self, "params_"):
            raise _not_fitted_error()("this GaussianMixture1D is not fitted yet: call fit(x) first")
        return self.params_

    # -- using the fit -------------------------------------------------------

    def predict_proba(self, x) -> np.ndarray:
        """Responsibilities ρ_c^{[i]}, shape (N, D)."""
        return responsibilities(x, self._fitted())

    def predict(self, x) -> np.ndarray:
        """Index of the most responsible class per sample, shape (N,)."""
        return np.argmax(self.predict_proba(x), axis=1)

    def score_samples(self, x) -> np.ndarray:
        """Log of the mixture density at each sample, shape (N,)."""
        return log_density(x, self._fitted())

    def _weighted_log_likelihood(self, x, sample_weight):
        """(Σ_i w_i log p(x^{[i]}), Σ_i w_i): the log-likelihood and the effective sample size."""
        dens = self.score_samples(x)
        w = check_sample_weight(sample_weight, dens.size)
        return total_log_likelihood(dens, w), float(dens.size if w is None else w.sum())

    def score(self, x, y=None, sample_weight=None) -> float:
        """Mean log-likelihood per sample (scikit-learn's convention); with weights,
        ``Σ_i w_i log p(x^{[i]}) / Σ_i w_i``."""
        ll, n_eff = self._weighted_log_likelihood(x, sample_weight)
        return ll / n_eff

    def sample(self, n_samples: int = 1, seed=None):
        """Draw samples from the fitted mixture.

        Returns
        -------
        x : ndarray, shape (n_samples,)
        labels : ndarray of int, shape (n_samples,)
            The class each sample was drawn from.
        """
        params = self._fitted()
        n = check_positive_int(n_samples, "n_samples")
        rng = check_seed(seed)
        labels = rng.choice(params.n_components, size=n, p=params.weights)
        x = rng.normal(params.means[labels], params.stds[labels])
        return x, labels

    def n_parameters(self) -> int:
        """Free parameters: D - 1 weights (they sum to 1), D means, and D stds (1 if shared)."""
        d = self._fitted().n_components
        return 2 * d if self.equal_variance else 3 * d - 1

    def bic(self, x, sample_weight=None) -> float:
        """Bayesian information criterion ``-2 log p(x; θ) + n_θ log N`` (lower is better).

        ``n_θ`` is :meth:`n_parameters`, the number of free parameters. With weights the
        log-likelihood is ``Σ_i w_i log p(x^{[i]})`` and N is the effective sample size
        ``N_eff = Σ_i w_i``: for counts, the BIC of the data with each sample repeated w_i
        times. (For survey weights that do not count observations, rescale them to sum to
        the number of observations first: BIC depends on their scale through N_eff.)
        """
        ll, n_eff = self._weighted_log_likelihood(x, sample_weight)
        return _criterion(-2.0 * ll + self.n_parameters() * np.log(n_eff), "BIC")

    def aic(self, x, sample_weight=None) -> float:
        """Akaike information criterion ``-2 log p(x; θ) + 2 n_θ`` (lower is better);
        with weights, ``log p`` is ``Σ_i w_i log p(x^{[i]})``."""
        ll, _ = self._weighted_log_likelihood(x, sample_weight)
        return _criterion(-2.0 * ll + 2.0 * self.n_parameters(), "AIC")


def _criterion(value: float, name: str) -> float:
    """An information criterion, or a ValueError if -2 log p overflowed (|log p| above 9e307)."""
    if not np.isfinite(value):
        raise ValueError(f"the {name} (-2 times the log-likelihood) is beyond the range of a float: "
                         "divide the weights by a constant")
    return float(value)
