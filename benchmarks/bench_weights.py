"""Weighted data: the compressed fit against the raw fit, and the cost of weights.

1. N = 10,000,000 exam grades (the book's two-group model) rounded to 0.1: the raw fit
   ``fit(x, 2)`` against the fit of the tabulated grades, ``fit(values, 2,
   sample_weight=counts)`` (the distinct grades with their counts, as a table or a histogram
   arrives), and against ``fit(x, 2, compress=True)``, which tabulates x itself (one sort of
   x, and the responsibilities of all N samples at the end). All with their defaults. Prints
   the median time of each over the repeats, the ratios, the number of distinct values and
   the relative difference of the log-likelihoods.
2. The fused pass with and without weights: ``fit(x, init=..., max_iter=10, tol=0)`` on
   N = 1,000,000 samples with no weights, and with ``sample_weight`` of ones, per iteration.

Run: ``.venv/bin/python benchmarks/bench_weights.py [-n N] [--repeats R]``.
"""

from __future__ import annotations

import argparse
import os
import warnings

import numpy as np

import gmmderive as g
from gmmderive.datasets import exam_grades

from bench_em import make_data, median_time


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=10_000_000, help="grades N for the compressed fit")
    ap.add_argument("--repeats", type=int, default=5, help="timed repeats (median reported)")
    args = ap.parse_args(argv)
    threads = os.environ.get("GMMDERIVE_NUM_THREADS") or len(os.sched_getaffinity(0))

    x = np.round(exam_grades(args.n), 1)  # the book's exam model, rounded to 0.1 as grades are
    n_distinct = np.unique(x).size
    values, counts = np.unique(x, return_counts=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        raw = g.fit(x, 2)  # also compiles the fused loop or loads it from numba's cache
        table = g.fit(values, 2, sample_weight=counts)
        packed = g.fit(x, 2, compress=True)
        t_raw = median_time(lambda: g.fit(x, 2), args.repeats)
        t_table = median_time(lambda: g.fit(values, 2, sample_weight=counts), 10 * args.repeats)
        t_packed = median_time(lambda: g.fit(x, 2, compress=True), args.repeats)
    print(f"N = {args.n:,} grades rounded to 0.1 ({n_distinct} distinct values), D = 2, "
          f"median of {args.repeats} repeats ({10 * args.repeats} for the table), {threads} threads")
    print(f"fit(x, 2), raw:                              {1e3 * t_raw:9.2f} ms  ({raw.n_iter} iterations)")
    print(f"fit(values, 2, sample_weight=counts):        {1e3 * t_table:9.2f} ms  ({table.n_iter} iterations)"
          f"  {t_raw / t_table:7.1f}x faster")
    print(f"fit(x, 2, compress=True), tabulating x too:  {1e3 * t_packed:9.2f} ms  ({packed.n_iter} iterations)"
          f"  {t_raw / t_packed:7.1f}x faster")
    for name, r in (("table", table), ("compress=True", packed)):
        rel = abs(raw.log_likelihood - r.log_likelihood) / abs(raw.log_likelihood)
        print(f"log-likelihood of the {name} fit against the raw fit: relative difference {rel:.2e}")

    n = 1_000_000
    y = make_data(n)
    start = g.GMMParams([0.3, 0.5, 0.2], [-1.5, 0.5, 3.5], [1.2, 0.8, 1.2])
    ones = np.ones(n)
    g.fit(y, init=start, max_iter=10, tol=0.0, sample_weight=ones)  # compile the weighted path
    t_plain = median_time(lambda: g.fit(y, init=start, max_iter=10, tol=0.0), 3 * args.repeats) / 10
    t_weighted = median_time(lambda: g.fit(y, init=start, max_iter=10, tol=0.0, sample_weight=ones),
                             3 * args.repeats) / 10
    print(f"N = {n:,}, D = 3, per EM iteration (median of {3 * args.repeats} fits of 10 iterations):")
    print(f"  no weights:                     {1e3 * t_plain:9.2f} ms")
    print(f"  sample_weight (all ones):       {1e3 * t_weighted:9.2f} ms  ({t_weighted / t_plain:.2f}x)")


if __name__ == "__main__":
    main()
