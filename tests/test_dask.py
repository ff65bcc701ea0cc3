"""fit on a Dask array: EM as a map-reduce over chunks equals the in-memory fit (#16).

Every test compares ``fit(dask_array, ...)`` with ``fit(numpy_array, ...)`` on the same data
and options: the same iteration on the same numbers, only summed in another order, so the
parameters and the log-likelihood agree to rounding (RTOL below says how closely), whatever
the chunking and whatever the processor's vector width. Dask's
threaded scheduler runs most tests; one starts a ``distributed.LocalCluster`` of two worker
processes. Without Dask installed the module skips, saying why (``make test-without-numba`` runs
it so); ``make test-floors`` runs it at Dask's declared floor, where distributed is absent.
"""

import dataclasses
import subprocess
import sys
import warnings

import numpy as np
import pytest

da = pytest.importorskip("dask.array", reason="Dask is not installed (pip install 'gmmderive[dask]')")
import dask  # noqa: E402

import gmmderive as g  # noqa: E402
from gmmderive import _dask  # noqa: E402
from gmmderive.data import checked_data  # noqa: E402
from gmmderive.datasets import exam_grades, old_faithful  # noqa: E402
from gmmderive.options import FitOptions  # noqa: E402
from gmmderive.result import fit_result  # noqa: E402
from gmmderive.runs import runs_of  # noqa: E402
from gmmderive.selection import best_run  # noqa: E402
from gmmderive.starts import starting_points  # noqa: E402

# Two summation orders of N = 2000 terms differ by at most N·ε ≈ 2.2e-13 relative per sum
# (typically √N·ε); a converged fit carries that through the EM map as δ / (1 − r), r its rate
# of convergence: r ≈ 0.97 for the slowest fit here ("quantile", D = 3), so ≈ 35x. Measured:
# 6.7e-13 for that fit with numba's native target (AVX-512) and the generic one; 1e-10 allows
# for it with room, and a wrong sum (a missed chunk, a sample counted twice) is off by 1e-4.
RTOL = 1e-10
# With tol = 0 the fit runs on past the maximum, where SQUAREM's step length is a ratio of two
# differences that are themselves rounding: its end point wanders within rounding times that
# ratio. Measured after 25 evaluations: 1.2e-10 (AVX-512 sums), 4.8e-14 (generic target).
RTOL_PAST_THE_MAXIMUM = 1e-8
GRADES = exam_grades(2000, seed=3)  # grades 1 to 5: relative differences of the means mean something
INIT = g.GMMParams([0.5, 0.5], [2.0, 4.0], [0.5, 0.5])
WEIGHTS = np.random.default_rng(5).integers(0, 4, GRADES.size).astype(float)  # zeros remove samples
CHUNKINGS = [2000, 700, (1, 999, 1000), (1024, 976), (1500, 1, 499)]


@pytest.fixture(autouse=True)
def threads():
    with dask.config.set(scheduler="threads"):
        yield


def assert_same_fit(chunked, memory, rtol=RTOL):
    """The Dask fit equals the in-memory fit: parameters, log-likelihood, history, iterations."""
    assert chunked.n_iter == memory.n_iter and chunked.converged == memory.converged
    for name in ("weights", "means", "stds"):
        np.testing.assert_allclose(getattr(chunked.params, name), getattr(memory.params, name), rtol=rtol,
                                   err_msg=name)
    assert chunked.log_likelihood == pytest.approx(memory.log_likelihood, rel=rtol)
    # On the way, SQUAREM's extrapolation divides differences of nearly equal points, which
    # magnifies rounding: the paths agree less closely than where they end.
    np.testing.assert_allclose(chunked.history, memory.history, rtol=1e-9)
    np.testing.assert_allclose(chunked.init_params.means, memory.init_params.means, rtol=rtol)


def both(x, chunks, **kw):
    """``(fit of a Dask array of x in these chunks, fit of x)``; Dask weights in other chunks."""
    dkw = dict(kw)
    if kw.get("sample_weight") is not None:
        dkw["sample_weight"] = da.from_array(kw["sample_weight"], chunks=333)
    return g.fit(da.from_array(x, chunks=chunks), **dkw), g.fit(x, **kw)


OPTIONS = {
    "init": dict(init=INIT),
    "plain EM": dict(init=INIT, accelerate=False),
    "weights": dict(init=INIT, sample_weight=WEIGHTS),
    "weights, plain EM": dict(init=INIT, sample_weight=WEIGHTS, accelerate=False),
    "equal_variance": dict(init=INIT, equal_variance=True),
    "quantile": dict(n_components=3, init="quantile"),
    "k-means++ starts": dict(n_components=2, init="kmeans++", n_init=3, seed=1),
    "default search": dict(n_components=2),
    "default search, weights": dict(n_components=2, sample_weight=WEIGHTS),
    "compress": dict(n_components=2, compress=True),
    "fixed iterations": dict(init=INIT, tol=0.0, max_iter=25),
}


@pytest.mark.parametrize("chunks", CHUNKINGS, ids=str)
@pytest.mark.parametrize("options", list(OPTIONS.values()), ids=list(OPTIONS))
def test_the_dask_fit_equals_the_in_memory_fit(options, chunks):
    chunked, memory = both(GRADES, chunks, **options)
    rtol = RTOL_PAST_THE_MAXIMUM if options.get("tol") == 0 else RTOL
    assert_same_fit(chunked, memory, rtol=rtol)
    assert isinstance(chunked.responsibilities, da.Array)
    # log ρ moves by about (1 + z²) times the parameters' relative change, z ≤ 10 here: 100x.
    np.testing.assert_allclose(chunked.responsibilities.compute(), memory.responsibilities, rtol=100 * rtol,
                               atol=1e-12)


def test_tied_data_and_the_default_search():
    # Old Faithful's waiting times are whole minutes: ties everywhere, many chunks.
    waiting = old_faithful()["waiting"]
    for chunks in (50, (100, 172)):
        assert_same_fit(*both(waiting, chunks, n_components=2))


def test_a_column_and_integer_data():
    x = np.round(GRADES).astype(np.int64)
    chunked = g.fit(da.from_array(x[:, None], chunks=(300, 1)), init=INIT)
    assert_same_fit(chunked, g.fit(x, init=INIT))
    assert chunked.responsibilities.shape == (x.size, 2)


def test_numpy_weights_with_a_dask_array():
    chunked = g.fit(da.from_array(GRADES, chunks=600), init=INIT, sample_weight=WEIGHTS)
    assert_same_fit(chunked, g.fit(GRADES, init=INIT, sample_weight=WEIGHTS))


def test_degenerate_runs_warn_as_in_memory():
    # A class started on one repeated value collapses in both, with the same warning.
    x = np.concatenate([GRADES[:500], np.full(20, 3.3)])
    start = g.GMMParams([0.5, 0.46, 0.04], [2.0, 4.0, 3.3], [0.5, 0.5, 1e-4])
    with pytest.warns(g.DegenerateComponentWarning) as memory_warnings:
        memory = g.fit(x, init=start)
    with pytest.warns(g.DegenerateComponentWarning) as dask_warnings:
        chunked = g.fit(da.from_array(x, chunks=128), init=start)
    assert [str(w.message) for w in dask_warnings] == [str(w.message) for w in memory_warnings]
    assert_same_fit(chunked, memory, rtol=1e-9)


def _record_calls(monkeypatch, name, record):
    """Replace the task ``_dask.<name>`` by one that appends ``record(*args)`` to the list returned."""
    calls = []
    original = getattr(_dask, name)

    def recording(*args):
        calls.append(record(*args))
        return original(*args)

    monkeypatch.setattr(_dask, name, recording)
    return calls


def test_each_evaluation_is_one_pass_over_the_chunks(monkeypatch):
    calls = _record_calls(monkeypatch, "_sums_chunk", lambda xc, *args: len(xc))
    res = g.fit(da.from_array(GRADES, chunks=500), init=INIT, tol=0.0, max_iter=10, accelerate=False)
    # 10 evaluations of M and the final log-likelihood, each one task per chunk of 500 samples
    assert res.n_iter == 10 and len(calls) == 11 * 4 and set(calls) == {500}


def test_responsibilities_stay_lazy(monkeypatch):
    calls = _record_calls(monkeypatch, "_responsibilities_chunk", lambda xc, *args: len(xc))
    x = da.from_array(GRADES, chunks=500)
    res = g.fit(x, init=INIT)
    assert calls == []  # the fit computed no responsibilities
    resp = res.responsibilities
    assert isinstance(resp, da.Array) and resp.shape == (GRADES.size, 2) and resp.chunks[0] == x.chunks[0]
    first = resp[:10].compute()  # only the first chunk is computed
    assert calls == [500]
    np.testing.assert_allclose(first.sum(axis=1), 1.0, rtol=1e-14)
    assert "responsibilities=<array of shape (2000, 2)>" in repr(res)


# --------------------------------------------------------------------------
# Bad input: the messages of the in-memory fit
# --------------------------------------------------------------------------


def _message(call):
    with pytest.raises(ValueError) as err:
        call()
    return str(err.value)


BAD = {
    "NaN": (np.r_[GRADES[:700], np.nan, GRADES[700:]], None, 2),
    "inf": (np.r_[GRADES[:1500], -np.inf], None, 2),
    "NaN weight": (GRADES, np.r_[WEIGHTS[:900], np.nan, WEIGHTS[901:]], 2),
    "negative weight": (GRADES, np.r_[WEIGHTS[:1234], -1.0, WEIGHTS[1235:]], 2),
    "zero weights": (GRADES, np.zeros(GRADES.size), 2),
    "too many components": (np.repeat([1.0, 2.0, 3.0], 400), None, 4),
    "all equal": (np.full(900, 7.0), None, 2),
    "two columns": (np.ones((50, 2)), None, 2),
    "weights of another length": (GRADES, np.ones(5), 2),
}


@pytest.mark.parametrize(("x", "w", "d"), list(BAD.values()), ids=list(BAD))
def test_bad_input_gets_the_in_memory_message(x, w, d):
    memory = _message(lambda: g.fit(x, d, sample_weight=w))
    chunked = _message(lambda: g.fit(da.from_array(x, chunks=256), d,
                                     sample_weight=None if w is None else da.from_array(w, chunks=256)))
    assert chunked == memory


def test_bad_dask_input_is_named():
    assert "unknown size" in _message(lambda: g.fit(da.from_array(GRADES, chunks=500)[da.from_array(GRADES) > 60], 2))
    assert "dtype" in _message(lambda: g.fit(da.from_array(np.array(["a", "b"])), 2))
    assert "not a dask.array" in _message(lambda: g.fit(dask.delayed(GRADES), 2))


def test_numpy_input_does_not_import_dask():
    code = ("import sys, numpy as np, gmmderive as g; g.fit(np.random.default_rng(0).normal(size=300), 2); "
            "assert 'dask' not in sys.modules, 'dask imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


# --------------------------------------------------------------------------
# A cluster of two worker processes
# --------------------------------------------------------------------------


def test_a_local_cluster_of_two_processes_gives_the_same_fit():
    distributed = pytest.importorskip("distributed", reason="distributed is not installed")
    x = da.from_array(GRADES, chunks=400)
    expected = {name: g.fit(GRADES, **OPTIONS[name]) for name in ("init", "plain EM", "weights")}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)  # the cluster's sockets, closed by its shutdown
        with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                      silence_logs=40) as cluster, distributed.Client(cluster) as client:
            assert len(client.scheduler_info()["workers"]) == 2
            for name, memory in expected.items():
                kw = dict(OPTIONS[name])
                if "sample_weight" in kw:
                    kw["sample_weight"] = da.from_array(kw["sample_weight"], chunks=400)
                with distributed.get_task_stream(client) as tasks:
                    chunked = g.fit(x, **kw)  # dask.compute finds the client: the workers do the passes
                assert_same_fit(chunked, memory)
                np.testing.assert_allclose(chunked.responsibilities.compute(), memory.responsibilities,
                                           rtol=1e-9, atol=1e-12)
                # the fused passes ran in both worker processes
                assert len({t["worker"] for t in tasks.data if "_sums_chunk" in str(t["key"])}) == 2


def test_the_search_on_large_data_shares_each_pass(monkeypatch):
    # Above fit's batch size the in-memory pre-runs go one by one; over chunks every pass serves
    # all the starts. The same plain iterations either way: the same fit.
    # fit's stages (gmmderive/fit.py), with in-memory samples that pre-run one start at a time
    options = FitOptions.of(2, init=None, max_iter=10_000, tol=1e-8, n_init=5, seed=0, std_floor=1e-6,
                            equal_variance=False, pre_iter=None, n_best=1, reject_degenerate=False, compress=False,
                            accelerate=True)
    samples = dataclasses.replace(checked_data(GRADES, None).samples(options), batch_size=0)
    runs = runs_of(samples, starting_points(samples, options), options)
    memory = fit_result(best_run(runs, False, 5), samples, options)
    calls = _record_calls(monkeypatch, "_sums_chunk", lambda xc, wc, frame, params_list, centers: len(params_list))
    chunked = g.fit(da.from_array(GRADES, chunks=500), 2, n_init=5)
    assert_same_fit(chunked, memory)
    # 31 passes (30 pre-iterations and the last log-likelihood) with the 5 starts each, 4 chunks
    assert calls[:31 * 4] == [5] * (31 * 4) and set(calls[31 * 4:]) == {1}


def test_one_component():
    # The first pass keeps two distinct values at least: one cannot tell equal data from varied.
    x = da.from_array(GRADES, chunks=300)
    one = g.GMMParams([1.0], [3.0], [1.0])
    for kw in ({"n_components": 1}, {"init": one}, {"n_components": 1, "init": "quantile"}):
        assert_same_fit(g.fit(x, **kw), g.fit(GRADES, **kw))


def test_masked_arrays_are_refused_as_in_memory():
    x = da.ma.masked_equal(da.from_array(np.r_[GRADES, np.full(50, -999.0)], chunks=300), -999.0)
    with pytest.raises(ValueError, match="masked"):
        g.fit(x, 2)  # not a fit of the masked values


def test_huge_weights_give_the_same_fit_as_in_memory():
    w = np.full(GRADES.size, 1e200)
    chunked = g.fit(da.from_array(GRADES, chunks=500), 2, sample_weight=w)
    assert_same_fit(chunked, g.fit(GRADES, 2, sample_weight=w))
    np.testing.assert_allclose(chunked.params.stds, g.fit(GRADES, 2).params.stds, rtol=1e-9)  # not collapsed


def test_every_start_failing_is_the_in_memory_error():
    x = np.repeat([1.0, 2.0], 100)  # two values, no σ floor: every start collapses
    assert _message(lambda: g.fit(da.from_array(x, chunks=50), 2, std_floor=0)) == \
        _message(lambda: g.fit(x, 2, std_floor=0))


def test_starts_are_drawn_from_the_samples_that_count(monkeypatch):
    # Above START_SAMPLE the starts come from every k-th sample of weight > 0: weights that
    # alternate 0 and 1 must not alias the sample to the zeros. A GMMParams start needs no sample.
    monkeypatch.setattr(_dask, "START_SAMPLE", 1000)
    rng = np.random.default_rng(2)
    x = np.r_[rng.normal(-2, 1, 3000), rng.normal(2, 1, 3000)]
    rng.shuffle(x)
    w = np.zeros(6000)
    w[1::2] = 1.0
    start = g.GMMParams([0.5, 0.5], [-1.0, 1.0], [1.0, 1.0])
    chunked = g.fit(da.from_array(x, chunks=1000), init=start, sample_weight=w)
    assert_same_fit(chunked, g.fit(x, init=start, sample_weight=w), rtol=1e-10)
    res = g.fit(da.from_array(x, chunks=1000), 2, sample_weight=w)
    assert res.converged and np.isfinite(res.log_likelihood)


BAD_DTYPES = {
    "booleans": np.array([True, False] * 10),
    "complex": np.ones(10, complex),
    "strings": np.array(["1", "2"]),
    "dates": np.arange(5).astype("datetime64[D]"),
    "no column": np.ones((10, 0)),
}


@pytest.mark.parametrize("x", list(BAD_DTYPES.values()), ids=list(BAD_DTYPES))
def test_bad_dtypes_get_the_in_memory_message(x):
    assert _message(lambda: g.fit(da.from_array(x), 2)) == _message(lambda: g.fit(x, 2))


def test_bad_weights_are_named():
    x = da.from_array(GRADES, chunks=300)
    objects = [1.0] * (GRADES.size - 1) + [None]
    memory = _message(lambda: g.fit(GRADES, 2, sample_weight=objects))
    assert _message(lambda: g.fit(x, 2, sample_weight=objects)) == memory
    w = da.from_array(np.ones(GRADES.size), chunks=300)
    assert "unknown size" in _message(lambda: g.fit(x, 2, sample_weight=w[w > 0]))


def test_slow_fits_agree_to_the_stopping_rule():
    # Where EM crawls (three components on two groups), rounding differences of the sums grow
    # along SQUAREM's path: the two fits stop within tol of the same fixed point, though not
    # always after the same number of evaluations.
    rng = np.random.default_rng(0)
    x = np.r_[rng.normal(0, 1, 600), rng.normal(5, 1, 400)]
    rng.shuffle(x)
    kw = dict(init="kmeans++", n_init=4, seed=7)
    chunked, memory = g.fit(da.from_array(x, chunks=300), 3, **kw), g.fit(x, 3, **kw)
    assert chunked.converged and memory.converged
    scale = x.std()
    for name in ("weights", "means", "stds"):
        np.testing.assert_allclose(getattr(chunked.params, name), getattr(memory.params, name),
                                   atol=1e-6 * (1 if name == "weights" else scale))
    assert chunked.log_likelihood == pytest.approx(memory.log_likelihood, rel=1e-12)
