"""Time to solution: plain EM, SQUAREM-accelerated EM, scikit-learn and mclust, run to convergence.

Three problems of N = 100,000 seeded samples, every method started from the same parameters:

- easy: two components of unit σ, means 0 and 6, weights ½; start π = (½, ½), μ = (-1, 7), σ = (1, 1);
- hard: two components of unit σ, means 0 and 1.2, weights ½; start π = (½, ½), μ = (-1, 2), σ = (1, 1);
- D = 5: five components of unit σ, means 0, s, 2s, 3s, 4s (``--spacing`` s, default 2.5), equal
  weights; started from ``gmmderive.initial_params(x, 5, "quantile")``.

Methods, each run to its own stopping rule:

1. plain EM, ``fit(x, init=start, accelerate=False, tol=1e-8, max_iter=200_000)``;
2. SQUAREM-accelerated EM, ``fit(x, init=start, tol=1e-8, max_iter=200_000)``; for both, ``tol`` bounds
   the distance of the parameters to EM's fixed point and the iterations are evaluations of the EM map
   (``FitResult.n_iter``);
3. scikit-learn's ``GaussianMixture(covariance_type="full", reg_covar=0)`` from the same weights, means
   and precisions 1/σ², at its default ``tol=1e-3`` and at ``tol=1e-10`` (a bound on the change of the
   per-sample mean log-likelihood), the latter with at most ``--sklearn-max-iter`` iterations;
4. mclust's ``em(modelName = "V")`` (Fortran EM) from the same parameters, at its default ``tol`` (1e-5)
   and at ``--mclust-tol`` (a bound on the change of the log-likelihood relative to 1 + |log-likelihood|),
   when ``Rscript`` with the mclust package is installed; the data pass through a temporary binary file
   and only ``em()`` itself is timed, inside R. Otherwise the script says why it skips it.

For each problem and method it prints the iterations (evaluations of the EM map), whether the method
reported convergence, the median wall time over up to ``--repeats`` repeats (a run slower than
``--slow`` seconds is run once; the table says how many), the log-likelihood of the final parameters,
all computed by ``gmmderive.log_likelihood`` on x, and its gap to the best one found on that problem.
Then the ratios of plain to accelerated EM (evaluations and wall time), whether accelerated EM reached
an equal or higher log-likelihood (within 1e-6 nats), the targets and whether each is met, and an
estimate of what scikit-learn and mclust would need to reach plain EM's end point: the same EM map from
the same start, so plain EM's number of iterations at their measured time per iteration.

Run: ``.venv/bin/python benchmarks/bench_time_to_solution.py [--repeats R] [--spacing S]``
(several minutes: plain EM needs about 90,000 evaluations on the hard problem).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import os
import shutil
import subprocess
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import gmmderive as g

N = 100_000
TOL = 1e-8
MAX_ITER = 200_000
#: "An equal or higher log-likelihood": not below the other's by more than this (nats).
LL_SLACK = 1e-6
SKLEARN_TIGHT_TOL = 1e-10
MCLUST_DEFAULT_TOL = 1e-5
#: Runs of fewer iterations give no time per iteration (set-up would dominate it).
MIN_ITER_PER_ITERATION = 100
#: Targets of the issue: plain / accelerated on the hard problems, accelerated / plain on the easy one.
HARD_RATIO = 10.0
EASY_RATIO = 1.2

PLAIN, ACCEL = "plain EM", "accelerated EM (SQUAREM)"

# Reads the data and the start, runs em() `repeats` times (once if the first run is slower than
# `slow` seconds) and prints the iterations, the times and the fitted parameters.
MCLUST_SCRIPT = r"""
args <- commandArgs(trailingOnly = TRUE)
suppressPackageStartupMessages(library(mclust))
x <- readBin(args[1], what = "double", n = as.integer(args[2]), size = 8, endian = "little")
tol <- as.numeric(args[3]); itmax <- as.integer(args[4])
repeats <- as.integer(args[5]); slow <- as.numeric(args[6])
start <- as.numeric(strsplit(args[7], ",")[[1]]); G <- length(start) %/% 3
par <- list(pro = start[1:G], mean = start[G + 1:G],
            variance = list(modelName = "V", d = 1, G = G, sigmasq = start[2 * G + 1:G]^2))
ctrl <- emControl(tol = c(tol, sqrt(.Machine$double.eps)), itmax = c(itmax, itmax))
times <- numeric(0)
for (i in seq_len(repeats)) {
  t0 <- as.numeric(Sys.time())
  fit <- em(data = x, modelName = "V", parameters = par, control = ctrl, warn = FALSE)
  times <- c(times, as.numeric(Sys.time()) - t0)
  if (times[1] > slow) break
}
cat("iterations", attr(fit, "info")[["iterations"]], "\n")
cat("seconds", sprintf("%.6f", times), "\n")
cat("pro", sprintf("%.17g", fit$parameters$pro), "\n")
cat("mean", sprintf("%.17g", fit$parameters$mean), "\n")
cat("sigmasq", sprintf("%.17g", fit$parameters$variance$sigmasq), "\n")
"""


@dataclass(frozen=True)
class Problem:
    """Data, the start every method shares, and whether the issue counts it as hard."""

    name: str
    x: np.ndarray
    start: g.GMMParams
    hard: bool


@dataclass(frozen=True)
class Outcome:
    """One method on one problem.

    Attributes
    ----------
    method : str
    n_iter : int
        Evaluations of the EM map (gmmderive's ``n_iter``, scikit-learn's ``n_iter_``, mclust's iterations).
    converged : bool
        Whether the method's own stopping rule held before its iteration limit.
    seconds : float
        Median wall time of the runs.
    repeats : int
        Number of timed runs.
    log_likelihood : float
        ``gmmderive.log_likelihood(x, params)`` of the final parameters.
    """

    method: str
    n_iter: int
    converged: bool
    seconds: float
    repeats: int
    log_likelihood: float


# --------------------------------------------------------------------------
# Problems
# --------------------------------------------------------------------------


def two_components(n: int, gap: float, seed: int) -> np.ndarray:
    """N samples from ½ N(0, 1) + ½ N(gap, 1)."""
    rng = np.random.default_rng(seed)
    z = rng.random(n) < 0.5
    return np.where(z, rng.normal(0, 1, n), rng.normal(gap, 1, n))


def five_components(n: int, spacing: float, seed: int = 2) -> np.ndarray:
    """N samples from five equally weighted N(k·spacing, 1), k = 0..4."""
    rng = np.random.default_rng(seed)
    return rng.normal(spacing * rng.integers(5, size=n), 1.0)


def make_problems(spacing: float) -> list[Problem]:
    half = [0.5, 0.5]
    x5 = five_components(N, spacing)
    return [
        Problem("easy: means 0 and 6, σ 1", two_components(N, 6.0, seed=0), g.GMMParams(half, [-1, 7], [1, 1]),
                hard=False),
        Problem("hard: means 0 and 1.2, σ 1", two_components(N, 1.2, seed=1), g.GMMParams(half, [-1, 2], [1, 1]),
                hard=True),
        Problem(f"D = 5: means 0, {spacing:g}, ..., {4 * spacing:g}, σ 1", x5, g.initial_params(x5, 5, "quantile"),
                hard=True),
    ]


# --------------------------------------------------------------------------
# Methods
# --------------------------------------------------------------------------


def timed(fn, repeats: int, slow: float):
    """``(first result, median seconds, runs)``: ``fn()`` ``repeats`` times, once if it is slower than ``slow``."""
    times, first = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
        first = out if first is None else first
        if times[0] > slow:
            break
    return first, float(np.median(times)), len(times)


def run_gmmderive(p: Problem, accelerate: bool, repeats: int, slow: float) -> Outcome:
    """``gmmderive.fit`` from the problem's start, to ``tol = 1e-8`` on the parameters."""

    def once():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ConvergenceWarning: reported as converged = no
            return g.fit(p.x, init=p.start, accelerate=accelerate, tol=TOL, max_iter=MAX_ITER)

    r, seconds, runs = timed(once, repeats, slow)
    return Outcome(ACCEL if accelerate else PLAIN, r.n_iter, r.converged, seconds, runs,
                   g.log_likelihood(p.x, r.params))


def run_sklearn(p: Problem, tol: float, max_iter: int, repeats: int, slow: float) -> Outcome:
    """scikit-learn's EM from the problem's start (precisions 1/σ², no regularization)."""
    from sklearn.mixture import GaussianMixture

    column = p.x[:, None]

    def once():
        gm = GaussianMixture(
            n_components=p.start.n_components,
            covariance_type="full",
            tol=tol,
            max_iter=max_iter,
            reg_covar=0.0,
            weights_init=p.start.weights,
            means_init=p.start.means[:, None],
            precisions_init=(1.0 / p.start.stds**2)[:, None, None],
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ConvergenceWarning: reported as converged = no
            return gm.fit(column)

    gm, seconds, runs = timed(once, repeats, slow)
    params = g.GMMParams(gm.weights_, gm.means_[:, 0], np.sqrt(gm.covariances_[:, 0, 0]))
    label = "default" if tol == 1e-3 else f"max_iter {max_iter:,}"
    return Outcome(f"scikit-learn, tol {tol:g} ({label})", gm.n_iter_, bool(gm.converged_), seconds, runs,
                   g.log_likelihood(p.x, params))


def mclust_version() -> tuple[str | None, str]:
    """``(version, "")`` if Rscript and mclust are installed, else ``(None, why not)``."""
    if shutil.which("Rscript") is None:
        return None, "Rscript is not on PATH (apt-get install r-cran-mclust)"
    query = 'cat(R.version$major, R.version$minor, as.character(packageVersion("mclust")))'
    out = subprocess.run(["Rscript", "-e", query], capture_output=True, text=True)
    if out.returncode != 0:
        return None, "R's mclust package is not installed (apt-get install r-cran-mclust)"
    major, minor, version = out.stdout.split()
    return f"{version} (R {major}.{minor})", ""


def run_mclust(p: Problem, tol: float, itmax: int, repeats: int, slow: float, workdir: Path) -> Outcome:
    """mclust's ``em(modelName = "V")`` from the problem's start, timed inside R."""
    data, script = workdir / "x.bin", workdir / "em.R"
    p.x.astype("<f8").tofile(data)
    script.write_text(MCLUST_SCRIPT)
    start = ",".join(f"{v:.17g}" for v in np.concatenate([p.start.weights, p.start.means, p.start.stds]))
    out = subprocess.run(["Rscript", str(script), str(data), str(p.x.size), repr(tol), str(itmax), str(repeats),
                          repr(slow), start], capture_output=True, text=True, check=True)
    fields = {line.split()[0]: line.split()[1:] for line in out.stdout.splitlines() if line.strip()}
    n_iter = int(float(fields["iterations"][0]))
    seconds = [float(s) for s in fields["seconds"]]
    weights, means, variances = (np.array(fields[k], dtype=float) for k in ("pro", "mean", "sigmasq"))
    label = "default" if tol == MCLUST_DEFAULT_TOL else f"itmax {itmax:,}"
    return Outcome(f"mclust em(\"V\"), tol {tol:g} ({label})", n_iter, n_iter < itmax, float(np.median(seconds)),
                   len(seconds), g.log_likelihood(p.x, g.GMMParams(weights, means, np.sqrt(variances))))


# --------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------


def print_table(p: Problem, outcomes: list[Outcome]) -> None:
    best = max(o.log_likelihood for o in outcomes)
    print(f"\n{p.name}; N = {p.x.size:,}; start {format_params(p.start)}")
    print(f"{'method':<44}{'iterations':>11}{'converged':>11}{'time (s)':>11}{'runs':>6}"
          f"{'log-likelihood':>19}{'gap to best':>13}")
    for o in outcomes:
        print(f"{o.method:<44}{o.n_iter:>11,}{'yes' if o.converged else 'no':>11}{o.seconds:>11.3f}{o.repeats:>6}"
              f"{o.log_likelihood:>19.6f}{best - o.log_likelihood:>13.2e}")


def format_params(p: g.GMMParams) -> str:
    def vec(a):
        return "(" + ", ".join(f"{v:.3g}" for v in a) + ")"

    return f"π = {vec(p.weights)}, μ = {vec(p.means)}, σ = {vec(p.stds)}"


def per_iteration_estimates(outcomes: list[Outcome]) -> list[str]:
    """What the other EM codes would need for plain EM's iterations, at their measured time per iteration."""
    plain = next(o for o in outcomes if o.method == PLAIN)
    lines = []
    for o in outcomes:
        if o.method in (PLAIN, ACCEL) or o.n_iter < MIN_ITER_PER_ITERATION:
            continue  # a few iterations: the time is mostly set-up
        per = o.seconds / o.n_iter
        lines.append(f"  {o.method}: {1e3 * per:.3f} ms per iteration x {plain.n_iter:,} = {per * plain.n_iter:,.1f} s")
    return lines


def ratios(p: Problem, outcomes: list[Outcome]) -> tuple[str, list[tuple[str, str, bool]]]:
    """The plain / accelerated line, and the problem's targets as (target, measured, met)."""
    plain = next(o for o in outcomes if o.method == PLAIN)
    accel = next(o for o in outcomes if o.method == ACCEL)
    it, tm = plain.n_iter / accel.n_iter, plain.seconds / accel.seconds
    dll = accel.log_likelihood - plain.log_likelihood
    ll_ok = dll >= -LL_SLACK
    line = (f"plain / accelerated: evaluations {it:.2f}x, wall time {tm:.2f}x; accelerated log-likelihood "
            f"{dll:+.2e} nats from plain's ({'equal or higher' if ll_ok else 'LOWER'} within {LL_SLACK:g})")
    name = p.name.split(":")[0]
    if p.hard:
        targets = [
            (f"{name}: at least {HARD_RATIO:g}x fewer evaluations", f"{it:.1f}x", it >= HARD_RATIO),
            (f"{name}: at least {HARD_RATIO:g}x less wall time", f"{tm:.1f}x", tm >= HARD_RATIO),
            (f"{name}: equal or higher log-likelihood", f"{dll:+.1e} nats", ll_ok),
        ]
    else:
        targets = [(f"{name}: at most {EASY_RATIO:g}x plain's evaluations", f"{1 / it:.2f}x", 1 / it <= EASY_RATIO)]
    return line, targets


def installed_version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def machine(mclust: str | None, why: str) -> str:
    """CPUs, versions, gmmderive's threads at N, mclust (or why it is skipped) and the load."""
    versions = ", ".join(f"{m} {installed_version(m)}" for m in ("numpy", "numba", "scikit-learn"))
    fused = getattr(g, "_fused", None)  # imported by the first fit, if numba is installed
    threads = fused._n_threads(N // fused.BLOCK) if fused is not None else "NumPy engine, 1"
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (f"{os.cpu_count()} CPUs ({cores} available), {versions}, gmmderive {g.__version__} "
            f"({threads} thread(s) at N = {N:,}), mclust {mclust or 'skipped: ' + why}; "
            f"load average {os.getloadavg()[0]:.2f}")


def solve(p: Problem, args, mclust: bool, workdir: Path) -> list[Outcome]:
    """Every method on one problem, in a fixed order."""
    runs = dict(repeats=args.repeats, slow=args.slow)
    outcomes = [run_gmmderive(p, accelerate=False, **runs), run_gmmderive(p, accelerate=True, **runs)]
    if args.only_gmmderive:
        return outcomes
    try:
        outcomes += [run_sklearn(p, 1e-3, 100, **runs),
                     run_sklearn(p, SKLEARN_TIGHT_TOL, args.sklearn_max_iter, **runs)]
    except ImportError:
        pass  # said once, in the header
    if mclust:
        outcomes += [run_mclust(p, MCLUST_DEFAULT_TOL, MAX_ITER, workdir=workdir, **runs),
                     run_mclust(p, args.mclust_tol, MAX_ITER, workdir=workdir, **runs)]
    return outcomes


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5, help="timed runs of each fast method (median reported)")
    ap.add_argument("--slow", type=float, default=10.0, help="a run slower than this many seconds runs once")
    ap.add_argument("--spacing", type=float, default=2.5, help="distance of the means of the D = 5 problem (σ 1)")
    ap.add_argument("--sklearn-max-iter", type=int, default=1000, help="iteration limit of scikit-learn at tol 1e-10")
    ap.add_argument("--mclust-tol", type=float, default=1e-15, help="mclust's tight tol (relative log-likelihood)")
    ap.add_argument("--only-gmmderive", action="store_true",
                    help="time gmmderive's two methods only (a quick before/after comparison of a change)")
    args = ap.parse_args(argv)

    problems = make_problems(args.spacing)
    g.fit(problems[0].x[:2048], init=problems[0].start, max_iter=3, tol=0.0)  # compile or load the fused pass
    mclust, why = mclust_version()
    print(machine(mclust, why))
    if importlib.util.find_spec("sklearn") is None:
        print("scikit-learn is not installed (pip install -e '.[bench]'): skipped")
    print(f"gmmderive: tol = {TOL:g} on the parameters, max_iter = {MAX_ITER:,}; median of up to {args.repeats} runs, "
          f"one run if slower than {args.slow:g} s")

    targets = []
    with tempfile.TemporaryDirectory() as tmp:
        for p in problems:
            outcomes = solve(p, args, mclust is not None, Path(tmp))
            print_table(p, outcomes)
            line, met = ratios(p, outcomes)
            print(line)
            estimates = per_iteration_estimates(outcomes)
            if estimates:
                print("to plain EM's end point (the same EM map from the same start: plain's iterations):")
                print("\n".join(estimates))
            targets += met

    print("\ntargets")
    for target, measured, ok in targets:
        print(f"  {target:<52}{measured:>14}  {'met' if ok else 'NOT met'}")
    print(f"load average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
