"""Default against default: every library's fit as a user types it (#26).

Each method is called with its defaults and nothing else:

- gmmderive: ``gmmderive.fit(x, D)``;
- scikit-learn: ``GaussianMixture(D).fit(x[:, None])`` (k-means start, ``tol=1e-3``,
  ``max_iter=100``, ``reg_covar=1e-6``, ``n_init=1``);
- R's mclust: ``Mclust(x, G = D, modelNames = "V")`` (hierarchical-clustering start, Fortran EM);
- R's mixtools: ``normalmixEM(x, k = D)`` (random start, ``epsilon = 1e-8``, ``maxit = 1000``).

The peers' random starts are made reproducible without changing their settings: NumPy's global
generator (which scikit-learn's ``random_state=None`` draws from) and R's ``set.seed`` get the
repeat's number before the call, outside the timed region. R runs in a subprocess per call
(``Rscript``), the data passed through a temporary binary file; the time is R's
``system.time(...)["elapsed"]`` around the fitting call alone, so R's start-up, loading the
package and reading the data are excluded. gmmderive and scikit-learn are timed with
``time.perf_counter`` around the call, input checks and all, after one untimed warm-up fit (numba
compiles or loads its kernels then). A peer that is not installed is skipped with the reason.

Cases: the lecture's model (the book's exam grades, ``gmmderive.datasets.exam_grades``: 70 %
N(2.4, 0.55²), 30 % N(4.4, 0.3²), D = 2) at each ``--sizes`` N; the hard overlap (five equally
weighted unit-σ components 1.5 σ apart, seed 2, as ``bench_time_to_solution.py --spacing 1.5``
draws them; N = ``--hard-n``); the galaxies (N = 82, D = 4) and Old Faithful's waiting times
(N = 272, D = 2) of ``gmmderive.datasets``.

For each case and method: the median wall time over ``--repeats`` runs, interleaved (repeat r
runs every method once before repeat r + 1), and the gap of the log-likelihood to the best
known, in nats: the best over every method's runs and a long multi-start run of gmmderive
(``fit(x, D, n_init=R, seed=1, n_best=5, tol=1e-10)``, R = 4·10⁷ / (N·D) between 20 and
1,000). Every log-likelihood is ``gmmderive.log_likelihood(x, params)`` of the method's final
parameters. A fit with a σ below 1e-6 of the data's standard deviation (a component collapsed
on a point: an unbounded likelihood) is marked degenerate and not counted as best known.

Run: ``.venv/bin/python benchmarks/bench_defaults.py --quick`` (N up to 10⁵, a few
minutes), or ``--sizes 1e3 1e4 1e5 1e6 1e7 --repeats 3`` for the issue's table.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

import gmmderive as g
from gmmderive.datasets import exam_grades, galaxies, old_faithful

QUICK_SIZES = (1_000, 10_000, 100_000)
FULL_SIZES = (1_000, 10_000, 100_000, 1_000_000, 10_000_000)
#: A σ below this fraction of std(x) is a component collapsed on a point.
DEGENERATE = 1e-6

METHODS = ("gmmderive", "scikit-learn", "mclust", "mixtools")

# One fit of one peer: reads the data, seeds R's generator, times the call alone and prints the
# parameters. Errors (mixtools gives up after too many degenerate restarts) are printed, not raised.
R_SCRIPT = r"""
args <- commandArgs(trailingOnly = TRUE)
method <- args[1]; D <- as.integer(args[4])
x <- readBin(args[2], what = "double", n = as.integer(args[3]), size = 8, endian = "little")
suppressPackageStartupMessages(library(method, character.only = TRUE))
set.seed(as.integer(args[5]))
fit <- NULL
sink(nullfile())  # normalmixEM prints its iteration count
secs <- tryCatch(system.time(fit <- if (method == "mclust") {
  Mclust(x, G = D, modelNames = "V", verbose = FALSE)
} else {
  normalmixEM(x, k = D)
})[["elapsed"]], error = function(e) { sink(); cat("error", gsub("\\s+", " ", conditionMessage(e)), "\n"); NA })
if (sink.number() > 0) sink()
if (is.null(fit)) {
  if (!is.na(secs)) cat("error", method, "returned NULL\n")
  quit(status = 0)
}
cat("seconds", sprintf("%.6f", secs), "\n")
if (method == "mclust") {
  cat("weights", sprintf("%.17g", fit$parameters$pro), "\n")
  cat("means", sprintf("%.17g", fit$parameters$mean), "\n")
  cat("stds", sprintf("%.17g", sqrt(fit$parameters$variance$sigmasq)), "\n")
  cat("converged 1\n")
} else {
  cat("weights", sprintf("%.17g", fit$lambda), "\n")
  cat("means", sprintf("%.17g", fit$mu), "\n")
  cat("stds", sprintf("%.17g", fit$sigma), "\n")
  cat("converged", as.integer(length(fit$all.loglik) - 1 < 1000), "\n")
}
"""


@dataclass
class Case:
    name: str
    x: np.ndarray
    d: int


@dataclass
class Runs:
    """The runs of one method on one case."""

    seconds: list[float] = field(default_factory=list)
    log_likelihoods: list[float] = field(default_factory=list)
    converged: list[bool] = field(default_factory=list)
    degenerate: list[bool] = field(default_factory=list)
    skipped: str = ""  # why there is no run


# --------------------------------------------------------------------------
# Cases
# --------------------------------------------------------------------------


def five_components(n: int, spacing: float, seed: int = 2) -> np.ndarray:
    """N samples from five equally weighted N(k·spacing, 1), k = 0..4 (bench_time_to_solution's draw)."""
    rng = np.random.default_rng(seed)
    return rng.normal(spacing * rng.integers(5, size=n), 1.0)


def make_cases(sizes, hard_n: int, which: set[str]) -> list[Case]:
    cases = []
    if "lecture" in which:
        cases += [Case(f"lecture model, N = {n:.0e}".replace("e+0", "e"), exam_grades(n), 2) for n in sizes]
    if "hard" in which:
        cases.append(Case(f"5 components 1.5σ apart, N = {hard_n:,}", five_components(hard_n, 1.5), 5))
    if "galaxies" in which:
        cases.append(Case("galaxies (N = 82)", galaxies(), 4))
    if "faithful" in which:
        cases.append(Case("Old Faithful waiting (N = 272)", old_faithful()["waiting"], 2))
    return cases


# --------------------------------------------------------------------------
# Methods: each returns (seconds, params, converged)
# --------------------------------------------------------------------------


def run_gmmderive(case: Case, repeat: int, workdir: Path):
    t0 = time.perf_counter()
    r = g.fit(case.x, case.d)
    return time.perf_counter() - t0, r.params, bool(r.converged)


def run_sklearn(case: Case, repeat: int, workdir: Path):
    from sklearn.mixture import GaussianMixture

    column = case.x[:, None]
    np.random.seed(repeat)  # random_state=None draws from NumPy's global generator
    t0 = time.perf_counter()
    gm = GaussianMixture(case.d).fit(column)
    seconds = time.perf_counter() - t0
    return seconds, g.GMMParams(gm.weights_, gm.means_[:, 0], np.sqrt(gm.covariances_[:, 0, 0])), bool(gm.converged_)


def run_r(method: str, case: Case, repeat: int, workdir: Path):
    data, script = workdir / f"{id(case)}.bin", workdir / "fit.R"
    if not data.exists():
        case.x.astype("<f8").tofile(data)
    if not script.exists():
        script.write_text(R_SCRIPT)
    out = subprocess.run(["Rscript", str(script), method, str(data), str(case.x.size), str(case.d), str(repeat + 1)],
                         capture_output=True, text=True)
    fields = {line.split()[0]: line.split()[1:] for line in out.stdout.splitlines() if line.strip()}
    if "error" in fields or out.returncode != 0:
        raise RuntimeError(" ".join(fields.get("error", [])) or out.stderr.strip().splitlines()[-1])
    w, m, s = (np.array(fields[k], dtype=float) for k in ("weights", "means", "stds"))
    return float(fields["seconds"][0]), g.GMMParams(w / w.sum(), m, s), fields["converged"][0] == "1"


def r_package(name: str) -> tuple[str | None, str]:
    """``(version, "")`` when Rscript and the R package are installed, else ``(None, why not)``."""
    if shutil.which("Rscript") is None:
        return None, f"Rscript is not on PATH (apt-get install r-cran-{name})"
    query = f'cat(R.version$major, R.version$minor, as.character(packageVersion("{name}")))'
    out = subprocess.run(["Rscript", "-e", query], capture_output=True, text=True)
    if out.returncode != 0:
        return None, f"R's {name} package is not installed (apt-get install r-cran-{name})"
    major, minor, version = out.stdout.split()
    return f"{name} {version} (R {major}.{minor})", ""


def available_methods(no_r: bool) -> tuple[dict, dict[str, str], list[str]]:
    """``(runners, why each absent one is skipped, versions)``."""
    runners = {"gmmderive": run_gmmderive}
    skipped, versions = {}, [f"gmmderive {g.__version__}", f"numpy {np.__version__}"]
    try:
        import numba

        versions.append(f"numba {numba.__version__}")
    except ImportError:
        versions.append("numba not installed (NumPy engine)")
    try:
        import sklearn

        runners["scikit-learn"] = run_sklearn
        versions.append(f"scikit-learn {sklearn.__version__}")
    except ImportError:
        skipped["scikit-learn"] = "scikit-learn is not installed (pip install -e '.[bench]')"
    for name in ("mclust", "mixtools"):
        version, why = (None, "--no-r") if no_r else r_package(name)
        if version is None:
            skipped[name] = why
        else:
            runners[name] = lambda case, repeat, workdir, name=name: run_r(name, case, repeat, workdir)
            versions.append(version)
    return runners, skipped, versions


# --------------------------------------------------------------------------
# Best known
# --------------------------------------------------------------------------


def reference_starts(n: int, d: int) -> int:
    """Starts of the long multi-start run: 1,000 at small N, fewer as N·D grows (at least 20)."""
    return int(np.clip(4e7 // (n * d), 20, 1000))


def best_known(case: Case, runs: dict[str, Runs]) -> tuple[float, str]:
    starts = reference_starts(case.x.size, case.d)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = g.fit(case.x, case.d, n_init=starts, seed=1, n_best=5, tol=1e-10)
    candidates = [(g.log_likelihood(case.x, ref.params), f"gmmderive, {starts} starts")]
    for method, r in runs.items():
        candidates += [(ll, method) for ll, bad in zip(r.log_likelihoods, r.degenerate) if not bad]
    return max(candidates)


# --------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------


def cell(r: Runs | None, best: float, why: str) -> str:
    if r is None or not r.seconds:
        return "skipped" if r is None else f"failed: {r.skipped}"
    gaps = np.array([best - ll for ll in r.log_likelihoods])
    t = float(np.median(r.seconds))
    text = f"{t:.3g} s" if t >= 0.01 else f"{1e3 * t:.2g} ms"
    worst, med = gaps.max(), float(np.median(gaps))
    if worst <= 1e-9 * max(1.0, abs(best)):
        text += ", best"
    elif worst <= 1e-6 * max(1.0, abs(best)):
        text += f", best to 1e-6 relative ({worst:.1g} short)"
    else:
        text += f", {med:.2g} short" if np.isclose(med, worst) else f", {med:.2g} short (worst {worst:.2g})"
    extras = []
    if not all(r.converged):
        extras.append(f"{sum(not c for c in r.converged)}/{len(r.converged)} not converged")
    if any(r.degenerate):
        extras.append(f"{sum(r.degenerate)}/{len(r.degenerate)} degenerate")
    if r.skipped:
        extras.append(f"{r.skipped}")
    return text + (f" [{'; '.join(extras)}]" if extras else "")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=float, nargs="+", help="N of the lecture-model cases (default 1e3 .. 1e7)")
    ap.add_argument("--quick", action="store_true", help="N = 1e3, 1e4, 1e5 (unless --sizes is given)")
    ap.add_argument("--repeats", type=int, default=3, help="interleaved runs of every method (median reported)")
    ap.add_argument("--hard-n", type=int, default=10_000, help="N of the 5-component hard overlap")
    ap.add_argument("--cases", nargs="+", default=["lecture", "hard", "galaxies", "faithful"],
                    choices=["lecture", "hard", "galaxies", "faithful"])
    ap.add_argument("--no-r", action="store_true", help="skip mclust and mixtools")
    args = ap.parse_args(argv)
    sizes = [int(s) for s in args.sizes] if args.sizes else list(QUICK_SIZES if args.quick else FULL_SIZES)

    runners, skipped, versions = available_methods(args.no_r)
    cases = make_cases(sizes, args.hard_n, set(args.cases))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g.fit(exam_grades(500), 2)  # compile or load numba's kernels: not timed
        if "scikit-learn" in runners:
            run_sklearn(Case("warm-up", exam_grades(500), 2), 0, Path())
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"{os.cpu_count()} CPUs ({cores} available); {', '.join(versions)}; load average {os.getloadavg()[0]:.2f}")
    for name, why in skipped.items():
        print(f"{name} skipped: {why}")
    print(f"median of {args.repeats} interleaved runs; R timed inside R (system.time around the call), "
          "Python around the call")

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for case in cases:
            runs = {m: Runs() for m in runners}
            floor = DEGENERATE * float(np.std(case.x))
            for repeat in range(args.repeats):
                for method, run in runners.items():
                    if runs[method].skipped:
                        continue
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        try:
                            seconds, params, converged = run(case, repeat, Path(tmp))
                        except RuntimeError as e:
                            runs[method].skipped = str(e)[:80]
                            continue
                    r = runs[method]
                    r.seconds.append(seconds)
                    r.converged.append(converged)
                    r.degenerate.append(bool((params.stds < floor).any()))
                    r.log_likelihoods.append(g.log_likelihood(case.x, params))
            best, by = best_known(case, runs)
            rows.append((case, best, by, runs))
            print(f"  {case.name}: done, load {os.getloadavg()[0]:.2f}", flush=True)

    print()
    head = [m for m in METHODS]
    print("| case | D | best known log-likelihood | " + " | ".join(f"{m} default" for m in head) + " |")
    print("|---|---|---|" + "---|" * len(head))
    for case, best, by, runs in rows:
        cells = [cell(runs.get(m), best, skipped.get(m, "")) for m in head]
        print(f"| {case.name} | {case.d} | {best:.6f} ({by}) | " + " | ".join(cells) + " |")
    print("\nEach cell: median wall time; the log-likelihood's gap to the best known in nats ('best': within 1e-9 "
          "relative on every run; 'best to 1e-6 relative' with the largest gap; otherwise the median gap and, if "
          "larger, the worst); [n/k not converged] by the method's own flag (mclust has none).")
    print(f"load average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
