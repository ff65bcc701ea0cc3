"""Time EM iterations of gmmderive against scikit-learn, and measure peak memory.

Same data (N = 1,000,000, D = 3), the same initial parameters and the same
fixed number of plain EM iterations for both (``fit(x, init=params, max_iter=M,
tol=0.0, accelerate=False)`` in gmmderive, ``tol=0, reg_covar=0`` in scikit-learn; SQUAREM
would make M evaluations of the EM map, not M iterations). Prints the
median time per iteration of each over several repeats measured in this one
run, their ratio, and the time of one ``np.exp`` over an N x D float64 array
for scale; then the largest difference of the final parameters and the peak
memory that one gmmderive fit allocates beyond the input, in units of N x D
float64 arrays.

Run: ``make bench`` (or ``.venv/bin/python benchmarks/bench_em.py``).
"""

from __future__ import annotations

import argparse
import os
import time
import tracemalloc
import warnings

import numpy as np

import gmmderive as g


def make_data(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    labels = rng.choice(3, size=n, p=[0.3, 0.5, 0.2])
    return rng.normal(np.array([-2.0, 1.0, 4.0])[labels], np.array([1.0, 0.5, 1.5])[labels])


def median_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def time_exp(shape, repeats: int) -> float:
    """Median time of one np.exp over a float64 array of this shape (arguments typical of EM)."""
    a = np.random.default_rng(1).uniform(-30.0, 0.0, size=shape)
    out = np.empty_like(a)
    return median_time(lambda: np.exp(a, out=out), repeats)


def numpy_em(x, start, n_iter):
    """The lecture's iteration with the public NumPy functions, one quantity at a time."""
    params = start
    for _ in range(n_iter):
        params = g.m_step(x, g.e_step(x, params), previous=params)
    return params


def sklearn_em(x, start, n_iter):
    from sklearn.mixture import GaussianMixture

    gm = GaussianMixture(
        start.n_components,
        tol=0.0,
        reg_covar=0.0,
        max_iter=n_iter,
        weights_init=start.weights,
        means_init=start.means[:, None],
        precisions_init=(1.0 / start.stds**2)[:, None, None],
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gm.fit(x[:, None])
    return g.GMMParams(gm.weights_, gm.means_[:, 0], np.sqrt(gm.covariances_[:, 0, 0])).sorted()


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=1_000_000, help="samples N")
    ap.add_argument("--iters", type=int, default=10, help="EM iterations per timed fit")
    ap.add_argument("--repeats", type=int, default=7, help="timed repeats (median reported)")
    args = ap.parse_args(argv)

    n, d, m = args.n, 3, args.iters
    x = make_data(n)
    start = g.GMMParams([0.4, 0.3, 0.3], [-1.0, 0.5, 3.0], [2.0, 2.0, 2.0])

    t_exp = time_exp((d, n), 3 * args.repeats)

    t0 = time.perf_counter()
    g.fit(x[:50_000], init=start, max_iter=1, tol=0.0)  # compiles the fused loop, or loads it from the cache
    t_first = time.perf_counter() - t0

    def per_iteration(threads=None, iters=m):
        if threads is not None:
            os.environ["GMMDERIVE_NUM_THREADS"] = str(threads)
        try:
            def run():
                return ours.setdefault(iters, g.fit(x, init=start, max_iter=iters, tol=0.0, accelerate=False))
            return median_time(run, args.repeats) / iters
        finally:
            os.environ.pop("GMMDERIVE_NUM_THREADS", None)

    ours = {}
    t_ours = per_iteration()
    # Marginal cost: the fixed part of a fit (checks, the final responsibilities) cancels.
    t_marginal = (per_iteration(iters=2 * m) * 2 * m - t_ours * m) / m
    t_one = per_iteration(threads=1)
    t_numpy = median_time(lambda: numpy_em(x, start, m), args.repeats) / m
    try:
        theirs = {}
        t_sk = median_time(lambda: theirs.setdefault("p", sklearn_em(x, start, m)), args.repeats) / m
    except ImportError:
        t_sk = None

    tracemalloc.start()
    g.fit(x, init=start, max_iter=3, tol=0.0)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    nd_bytes = n * d * 8

    def line(label, t):
        return f"{label:<44}{t * 1e3:8.2f} ms  ({t / t_exp:.2f}x that np.exp)"

    print(f"N = {n:,}, D = {d}, {m} EM iterations per fit, median of {args.repeats} repeats, "
          f"{g._fused._n_threads(n // g._fused.BLOCK)} threads")
    print(f"{'one np.exp over an N x D float64 array:':<44}{t_exp * 1e3:8.2f} ms")
    print(line("gmmderive.fit, per EM iteration:", t_ours))
    print(line("  marginal (2M minus M iterations):", t_marginal))
    print(line("  on one thread (GMMDERIVE_NUM_THREADS=1):", t_one))
    print(line("e_step + m_step (NumPy), per iteration:", t_numpy))
    if t_sk is not None:
        print(line("scikit-learn, per EM iteration:", t_sk))
        print(f"speed-up of gmmderive over scikit-learn: {t_sk / t_ours:.1f}x "
              f"(one thread: {t_sk / t_one:.1f}x)")
        p, q = ours[m].params, theirs["p"]
        diff = max(
            float(np.max(np.abs(p.weights - q.weights))),
            float(np.max(np.abs(p.means - q.means) / np.abs(q.means))),
            float(np.max(np.abs(p.stds - q.stds) / q.stds)),
        )
        print(f"largest difference of final parameters (relative; weights absolute): {diff:.2e}")
    else:
        print("scikit-learn is not installed: pip install -e '.[bench]'")
    print(f"first fit in this process (compiles the fused loop or loads it from numba's cache): {t_first:.2f} s")
    print(f"peak memory of one fit beyond the input: {peak / 2**20:.1f} MiB = "
          f"{peak / nd_bytes:.2f} arrays of N x D float64")


if __name__ == "__main__":
    main()
