"""Known misses of the default search (#26, #30): each is a strict xfail, so the fix of the
search turns it into a failure that asks for the mark to go.

Both were found by sweeps over the seed and over data built against a ranking by short runs
(the session notes of #26 give the sweeps). The default search ranks its 50 starts by the
log-likelihood after ``pre_iter`` = 30 plain-EM iterations and continues only the best; a start
whose basin needs more iterations to show its height loses the ranking, and the fit ends at a
lower maximum with ``converged=True`` and no warning.
"""

import warnings

import numpy as np
import pytest

import gmmderive as g
from gmmderive.datasets import galaxies

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def _narrow_inside_wide(n):
    # 90 % N(0, 3²) and 10 % N(0.5, 0.1²): the narrow component is plain to see in a histogram.
    # The first n of 200,000 draws (the sizes in the xfail's reason were measured on these).
    rng = np.random.default_rng(1)
    z = rng.choice(2, size=200_000, p=[0.9, 0.1])
    return rng.normal(np.array([0.0, 0.5])[z], np.array([3.0, 0.1])[z])[:n]


def test_every_start_run_to_convergence_finds_the_narrow_component():
    # the reference the xfail below is held to: pre_iter=0 runs all 50 starts to convergence
    x = _narrow_inside_wide(5000)
    res = g.fit(x, 2, pre_iter=0)
    assert res.converged
    assert res.params.stds.min() == pytest.approx(0.1, rel=0.1)


@pytest.mark.xfail(strict=True, reason="#26: the search ranks starts by 30 plain-EM iterations; "
                   "the narrow component's start is not yet ahead then (45 nats short at N = 1000, "
                   "285 at 5000, 1,192 at 20,000)")
def test_the_default_fit_finds_the_narrow_component():
    x = _narrow_inside_wide(5000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        best = g.fit(x, 2, pre_iter=0).log_likelihood
    res = g.fit(x, 2)
    # a relative gap of 1e-9 is far above rounding (1e-13) and far below a different maximum
    assert res.log_likelihood >= best - 1e-9 * abs(best)


@pytest.mark.xfail(strict=True, reason="#30: with seeds 6 and 32 none of the 50 starts reaches the "
                   "galaxies' best D = 4 maximum (100 starts do)")
@pytest.mark.parametrize("seed", [6, 32])
def test_the_galaxies_optimum_for_every_seed(seed):
    x = galaxies() / 1000
    res = g.fit(x, 4, seed=seed)
    assert res.log_likelihood == pytest.approx(-197.454, abs=1e-3)
