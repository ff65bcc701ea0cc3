"""The cost of the second-order certificate (#30) per fit.

``fit(x, 2)`` (the default search, SQUAREM) and ``fit(x, 2, init=...)`` (one run) on the book's
two-group exam grades at N = 1e3 and 1e5, with the certificate (the default: the Hessian of the
log-likelihood in one NumPy pass at the end of every converged run) and without it (the check
replaced by a no-op). Prints the median time of each over the repeats and the difference.

Run: ``.venv/bin/python benchmarks/bench_certificate.py [--repeats R]``.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np

import gmmderive as g
from gmmderive import em
from gmmderive.datasets import exam_grades


def _no_certificate(m, samples, params, history, state, steps, max_iter, tol, std_floor):
    return params, history, state[0], state[1], None, np.nan, False


def median_time(f, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        f()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    certify = em.certify
    init = g.GMMParams([0.5, 0.5], [2.0, 4.0], [0.5, 0.5])
    print(f"{'fit':28s} {'N':>8s} {'with (ms)':>10s} {'without (ms)':>13s} {'cost (ms)':>10s}")
    for n in (1_000, 100_000):
        x = exam_grades(n, seed=1)
        calls = [("fit(x, 2)", lambda x=x: g.fit(x, 2)), ("fit(x, init=GMMParams)", lambda x=x: g.fit(x, init=init))]
        for label, call in calls:
            call()  # compile numba's kernels, warm the caches
            with_ = median_time(call, args.repeats)
            em.certify = _no_certificate
            try:
                call()
                without = median_time(call, args.repeats)
            finally:
                em.certify = certify
            print(f"{label:28s} {n:8d} {1e3 * with_:10.2f} {1e3 * without:13.2f} {1e3 * (with_ - without):10.2f}")


if __name__ == "__main__":
    main()
