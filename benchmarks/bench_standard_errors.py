"""Standard errors beside the peers' (#30): observed information against bootstraps.

``FitResult.standard_errors`` comes from the observed information: the square roots of the
diagonal of (-H)⁻¹, H the Hessian of the log-likelihood at the maximum (``gmmderive/_hessian.py``),
mapped to (π, μ, σ) by the delta method. Beside it, at the same maximum (every method starts
there):

- gmmderive's parametric bootstrap: ``--boot`` samples of N drawn from the fitted mixture, each
  fitted by ``fit(xb, init=fitted params)``; the standard deviation of the estimates, and their
  interquartile range / 1.349 (the same for normal estimates, not moved by a few replicates
  that land on another maximum);
- mixtools' ``boot.se`` (parametric bootstrap, ``B = --boot``) of ``normalmixEM(x, lambda, mu,
  sigma)`` started at gmmderive's estimates;
- mclust's ``MclustBootstrap`` with ``type = "pb"`` (parametric) and ``"bs"`` (its default, the
  nonparametric bootstrap: resampled data), ``nboot = --boot``, of the ``Mclust(x, G, "V")``
  object with its parameters replaced by one ``me()`` from gmmderive's responsibilities (so
  the same maximum; the table says whether ``Mclust``'s own default fit reached it). mclust
  stops ``me()`` at its default tolerance (1e-5, relative change of the log-likelihood); the
  column "mclust pb, tol 1e-10" runs its parametric bootstrap again with ``emControl(tol = 1e-10)``
  passed on to ``me()``, to show what stopping early does to the spread. mclust
  resamples the variances: the standard error of σ here is the standard deviation of the square
  roots of its bootstrap variances (what ``summary(..., what = "se")`` reports is for σ²).

Cases: Old Faithful's waiting times (N = 272, D = 2) and the galaxies (N = 82, km/s) with D = 3
and D = 4 (``gmmderive.datasets``). A bootstrap's standard deviation from B replicates carries a
relative error of about 1/√(2(B-1)) (2.2 % at B = 1,000, if the estimates were normal): the
script prints each method's ratio to the observed information's standard error, and calls two
standard errors in agreement when their ratio is within 3 such errors of 1.

R runs in one ``Rscript`` subprocess per case (``apt-get install r-cran-mclust r-cran-mixtools``);
without it the R columns are skipped with the reason.

Run: ``.venv/bin/python benchmarks/bench_standard_errors.py [--boot B]`` (about a minute at
B = 1,000 on two cores).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

import gmmderive as g
from gmmderive.datasets import galaxies, old_faithful

R_SCRIPT = r"""
args <- commandArgs(trailingOnly = TRUE)
n <- as.integer(args[2]); D <- as.integer(args[3]); B <- as.integer(args[5])
x <- readBin(args[1], what = "double", n = n, size = 8, endian = "little")
z <- matrix(readBin(args[4], what = "double", n = n * D, size = 8, endian = "little"), nrow = n, byrow = TRUE)
start <- as.numeric(strsplit(args[6], ",")[[1]])
lambda <- start[1:D]; mu <- start[D + 1:D]; sigma <- start[2 * D + 1:D]
out <- function(name, v) cat(name, sprintf("%.17g", v), "\n")
if (requireNamespace("mixtools", quietly = TRUE)) {
  suppressPackageStartupMessages(library(mixtools))
  set.seed(1)
  sink(nullfile())
  em <- normalmixEM(x, lambda = lambda, mu = mu, sigma = sigma, k = D)
  t0 <- proc.time()[["elapsed"]]
  bs <- boot.se(em, B = B)
  secs <- proc.time()[["elapsed"]] - t0
  sink()
  out("mixtools_loglik", em$loglik)
  out("mixtools_seconds", secs)
  out("mixtools_weights", bs$lambda.se); out("mixtools_means", bs$mu.se); out("mixtools_stds", bs$sigma.se)
  out("mixtools_n", ncol(bs$mu))
}
if (requireNamespace("mclust", quietly = TRUE)) {
  suppressPackageStartupMessages(library(mclust))
  m <- Mclust(x, G = D, modelNames = "V", verbose = FALSE)
  out("mclust_default_loglik", m$loglik)
  fit <- me(data = x, modelName = "V", z = z, warn = FALSE)
  m$parameters <- fit$parameters; m$z <- fit$z; m$loglik <- fit$loglik
  out("mclust_loglik", m$loglik)
  tight <- emControl(tol = c(1e-10, sqrt(.Machine$double.eps)), itmax = c(1e5, 1e5))
  for (type in c("pb", "pbtight", "bs")) {
    set.seed(1)
    m$control <- if (type == "pbtight") tight else NULL  # MclustBootstrap passes it on to me()
    t0 <- proc.time()[["elapsed"]]
    bs <- MclustBootstrap(m, nboot = B, type = substr(type, 1, 2), verbose = FALSE)
    secs <- proc.time()[["elapsed"]] - t0
    sds <- sqrt(bs$variance[, 1, 1, , drop = TRUE])
    out(paste0("mclust_", type, "_seconds"), secs)
    out(paste0("mclust_", type, "_weights"), apply(bs$pro, 2, sd, na.rm = TRUE))
    out(paste0("mclust_", type, "_means"), apply(bs$mean[, 1, , drop = TRUE], 2, sd, na.rm = TRUE))
    out(paste0("mclust_", type, "_stds"), apply(sds, 2, sd, na.rm = TRUE))
    out(paste0("mclust_", type, "_n"), sum(!is.na(bs$pro[, 1])))
  }
}
"""

KINDS = ("weights", "means", "stds")
SYMBOL = {"weights": "π", "means": "μ", "stds": "σ"}
#: The interquartile range of a normal distribution in units of its standard deviation.
IQR_NORMAL = 1.3489795003921634


def parametric_bootstrap(x: np.ndarray, p: g.GMMParams, boot: int, seed: int = 0):
    """(SD of the estimates, IQR / 1.349 of them, fits kept, seconds): refits of samples drawn from ``p``."""
    rng = np.random.default_rng(seed)
    est, t0, dropped = {k: [] for k in KINDS}, time.perf_counter(), 0
    for _ in range(boot):
        labels = rng.choice(p.n_components, size=x.size, p=p.weights)
        xb = rng.normal(p.means[labels], p.stds[labels])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = g.fit(xb, init=p)
        if not r.converged:
            dropped += 1
            continue
        for k in KINDS:
            est[k].append(getattr(r.params, k))
    seconds = time.perf_counter() - t0
    sd = {k: np.std(np.array(v), axis=0, ddof=1) for k, v in est.items()}
    q1, q3 = ({k: np.quantile(np.array(v), q, axis=0) for k, v in est.items()} for q in (0.25, 0.75))
    robust = {k: (q3[k] - q1[k]) / IQR_NORMAL for k in KINDS}
    return sd, robust, boot - dropped, seconds


def run_r(x: np.ndarray, r: g.FitResult, boot: int, workdir: Path) -> dict[str, np.ndarray]:
    data, zfile, script = workdir / "x.bin", workdir / "z.bin", workdir / "se.R"
    x.astype("<f8").tofile(data)
    np.ascontiguousarray(r.responsibilities, dtype="<f8").tofile(zfile)
    script.write_text(R_SCRIPT)
    p = r.params
    start = ",".join(f"{v:.17g}" for v in np.concatenate([p.weights, p.means, p.stds]))
    out = subprocess.run(["Rscript", str(script), str(data), str(x.size), str(p.n_components), str(zfile), str(boot),
                          start], capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(out.stderr.strip()[-300:])
    rows = [line.split() for line in out.stdout.splitlines() if line.strip()]
    return {row[0]: np.array(row[1:], dtype=float) for row in rows}


def r_packages() -> tuple[list[str], str]:
    """(installed R packages among mclust and mixtools with versions, why the others are skipped)."""
    if shutil.which("Rscript") is None:
        return [], "Rscript is not on PATH (apt-get install r-cran-mclust r-cran-mixtools)"
    have, missing = [], []
    for name in ("mixtools", "mclust"):
        q = subprocess.run(["Rscript", "-e", f'cat(as.character(packageVersion("{name}")))'],
                           capture_output=True, text=True)
        (have if q.returncode == 0 else missing).append(f"{name} {q.stdout.strip()}" if q.returncode == 0 else name)
    return have, (f"not installed: {', '.join(missing)} (apt-get install r-cran-<name>)" if missing else "")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--boot", type=int, default=1000, help="bootstrap replicates of every method")
    args = ap.parse_args(argv)
    noise = 1.0 / np.sqrt(2 * (args.boot - 1))
    have, why = r_packages()
    print(f"gmmderive {g.__version__}; R packages: {', '.join(have) or 'none'}{'; ' + why if why else ''}; "
          f"B = {args.boot:,} (relative noise of a bootstrap SE about {100 * noise:.1f} %); "
          f"load average {os.getloadavg()[0]:.2f}")

    cases = [("Old Faithful waiting", old_faithful()["waiting"], 2), ("galaxies", galaxies(), 3),
             ("galaxies", galaxies(), 4)]
    summary = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, x, d in cases:
            r = g.fit(x, d)
            se = r.standard_errors
            columns = {"observed information": {k: getattr(se, k) for k in KINDS}}
            pb, robust, kept, secs = parametric_bootstrap(x, r.params, args.boot)
            columns["gmmderive parametric bootstrap"] = pb
            columns["same, IQR/1.349"] = robust
            notes = [f"gmmderive bootstrap: {kept}/{args.boot} refits converged, {secs:.1f} s"]
            if have:
                out = run_r(x, r, args.boot, Path(tmp))
                if "mixtools_weights" in out:
                    columns["mixtools boot.se"] = {k: out[f"mixtools_{k}"] for k in KINDS}
                    notes.append(f"mixtools: log-likelihood at the start {out['mixtools_loglik'][0]:.6f} "
                                 f"(gmmderive {r.log_likelihood:.6f}), {int(out['mixtools_n'][0])} replicates, "
                                 f"{out['mixtools_seconds'][0]:.1f} s")
                for t, label in (("pb", "mclust parametric (pb)"), ("pbtight", "mclust pb, tol 1e-10"),
                                 ("bs", "mclust nonparametric (bs)")):
                    if f"mclust_{t}_weights" in out:
                        columns[label] = {k: out[f"mclust_{t}_{k}"] for k in KINDS}
                        notes.append(f"mclust {t}: {int(out[f'mclust_{t}_n'][0])} replicates, "
                                     f"{out[f'mclust_{t}_seconds'][0]:.1f} s")
                if "mclust_loglik" in out:
                    dflt = out["mclust_default_loglik"][0]
                    notes.append(f"mclust: Mclust's own default fit {dflt:.6f} ({r.log_likelihood - dflt:.2g} nats "
                                 f"below gmmderive's); me() from gmmderive's responsibilities "
                                 f"{out['mclust_loglik'][0]:.6f}")
            print(f"\n### {name}, N = {x.size}, D = {d}: log-likelihood {r.log_likelihood:.6f}, "
                  f"max eigenvalue {r.max_eigenvalue:.3g}\n")
            heads = list(columns)
            print("| parameter | estimate | " + " | ".join(heads) + " |")
            print("|---|---|" + "---|" * len(heads))
            obs = columns["observed information"]
            for k in KINDS:
                for c in range(d):
                    est = getattr(r.params, k)[c]
                    cells = []
                    for h in heads:
                        v = columns[h][k][c]
                        cells.append(f"{v:.4g}" if h == "observed information" else f"{v:.4g} ({v / obs[k][c]:.2f})")
                        if h != "observed information":
                            summary.append((name, d, h, abs(v / obs[k][c] - 1.0)))
                    print(f"| {SYMBOL[k]}{c + 1} | {est:.4g} | " + " | ".join(cells) + " |")
            for note in notes:
                print(f"- {note}")

    print(f"\nRatio to the observed information's SE (in parentheses above); agreement: within 3 x {100 * noise:.1f} % "
          "of 1")
    for name, d, method in dict.fromkeys((n, d, m) for n, d, m, _ in summary):
        devs = [dev for n, dd, m, dev in summary if (n, dd, m) == (name, d, method)]
        ok = sum(dev <= 3 * noise for dev in devs)
        print(f"  {name} D = {d}, {method}: {ok}/{len(devs)} within; largest deviation {100 * max(devs):.0f} %")


if __name__ == "__main__":
    main()
