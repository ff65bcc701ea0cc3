"""GaussianMixture1D as a scikit-learn citizen: clone, Pipeline, GridSearchCV, and sklearn's own checks.

The estimator needs no scikit-learn; these tests run where it is installed.
"""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest

import gmmderive as g

sklearn = pytest.importorskip("sklearn", reason="scikit-learn is not installed")
from sklearn.base import clone  # noqa: E402
from sklearn.model_selection import GridSearchCV, KFold  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

RNG = np.random.default_rng(4)
X = np.concatenate([RNG.normal(0, 1, 200), RNG.normal(6, 1, 200)])[:, None]

# The estimator takes one feature, 1-D or as a column, and says so with the one_d_array tag: the
# checks then pass it x[:, 0]. The checks below fail for reasons of the checks, not of the estimator.
MULTI = "scikit-learn's check fits data with several features (it does not apply the one_d_array tag to them)"
SLICES = ("the check makes x 1-D for the one_d_array tag, then indexes it as 2-D itself (y = X[:, 0]), "
          "before it calls the estimator")
N_FEATURES = "the check compares n_features_in_ (1) with X.shape[1] of the 1-D x it made for the one_d_array tag"
EXPECTED_FAILURES = {
    "check_fit1d": "a univariate estimator takes 1-D x by design (scikit-learn estimators refuse it)",
    "check_estimator_sparse_array": ("sparse x is refused by design (a ValueError naming it); the check fails "
                                     "converting a 1-D sparse array to LIL"),
    "check_all_zero_sample_weights_error": ("the message says 'sample_weight is 0 for every sample'; the check "
                                            "looks for the word 'zero' (gmmderive._validation's wording)"),
    "check_estimators_nan_inf": MULTI,
    "check_sample_weights_shape": MULTI,
    "check_sample_weights_not_overwritten": MULTI,
    "check_sample_weight_equivalence_on_dense_data": MULTI,
    "check_dont_overwrite_parameters": SLICES,
    "check_dtype_object": SLICES,
    "check_f_contiguous_array_estimator": SLICES,
    "check_methods_sample_order_invariance": SLICES,
    "check_methods_subset_invariance": SLICES,
    "check_fit2d_1sample": SLICES,
    "check_fit2d_1feature": SLICES,
    "check_dict_unchanged": SLICES,
    "check_fit2d_predict1d": SLICES,
    "check_n_features_in": N_FEATURES,
    "check_n_features_in_after_fitting": N_FEATURES,
}


@parametrize_with_checks([g.GaussianMixture1D(2)], expected_failed_checks=lambda est: EXPECTED_FAILURES)
def test_sklearn_estimator_checks(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", g.ConvergenceWarning)
        check(estimator)


# The properties the multi-feature checks above would have shown, on one feature.

def test_get_params_set_params_and_clone():
    est = g.GaussianMixture1D(3, n_init=2, random_state=5, equal_variance=True)
    params = est.get_params()
    assert params["n_components"] == 3 and params["random_state"] == 5 and params["equal_variance"] is True
    copy = clone(est)
    assert copy is not est and copy.get_params() == params
    assert est.set_params(n_components=2) is est and est.n_components == 2
    with pytest.raises(ValueError, match="Invalid parameter 'k'"):  # scikit-learn's own message
        est.set_params(k=2)


def test_scikit_learn_s_base_classes_and_tags():
    from sklearn.base import BaseEstimator, DensityMixin
    from sklearn.utils import get_tags

    est = g.GaussianMixture1D(2)
    assert isinstance(est, BaseEstimator) and isinstance(est, DensityMixin)
    tags = get_tags(est)
    assert tags.estimator_type == "density_estimator" and not tags.target_tags.required
    assert tags.requires_fit and not tags.non_deterministic


def test_feature_names_in_of_a_table_and_scikit_learn_s_warning():
    # A column named by a string, read as scikit-learn reads a DataFrame's (pandas is optional here).
    class Table:
        columns = np.array(["waiting"], dtype=object)

        def __array__(self, dtype=None, copy=None):
            return X if dtype is None else X.astype(dtype)

    est = g.GaussianMixture1D(2).fit(Table())
    assert est.feature_names_in_.tolist() == ["waiting"] and est.n_features_in_ == 1
    with pytest.warns(UserWarning, match="does not have valid feature names"):
        est.predict(X)


def test_fit_returns_self_is_idempotent_and_pickles():
    est = g.GaussianMixture1D(2)
    assert est.fit(X) is est
    first = est.params_
    assert est.fit(X).params_ == first
    again = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(again.predict_proba(X), est.predict_proba(X))


def test_sample_order_and_subset_invariance():
    est = g.GaussianMixture1D(2).fit(X)
    perm = np.random.default_rng(0).permutation(len(X))
    np.testing.assert_allclose(est.score_samples(X[perm]), est.score_samples(X)[perm])
    np.testing.assert_allclose(est.predict_proba(X[:10]), est.predict_proba(X)[:10])


def test_unfitted_estimator_raises_not_fitted():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        g.GaussianMixture1D(2).predict(X)
    with pytest.raises(ValueError):  # and it is a ValueError, as everywhere in gmmderive
        g.GaussianMixture1D(2).score(X)


def test_pipeline_with_a_scaler():
    pipe = Pipeline([("scale", StandardScaler()), ("gmm", g.GaussianMixture1D(2))]).fit(X)
    assert pipe.named_steps["gmm"].converged_
    assert pipe.predict(X).shape == (len(X),)


def test_grid_search_selects_the_number_of_components():
    # Held-out mean log-likelihood (score) per candidate D: two well-separated clusters.
    search = GridSearchCV(g.GaussianMixture1D(), {"n_components": [1, 2, 3, 4]},
                          cv=KFold(5, shuffle=True, random_state=0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        search.fit(X)
    scores = search.cv_results_["mean_test_score"]
    assert search.best_params_["n_components"] in (2, 3)
    assert scores[1] > scores[0] + 0.3  # two components beat one by far on held-out data
    assert isinstance(search.best_estimator_, g.GaussianMixture1D)
