"""Command line.

``python -m gmmderive verify`` proves every step of the derivation;
``python -m gmmderive fit FILE.csv --column NAME -k D`` fits a mixture to a
column of one's own data. Bad input gets a one-line message and exit status 2.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import sys
import warnings


class InputError(Exception):
    """Bad input for the command line: reported in one line, exit status 2."""


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def read_column(path: str, column: str | None) -> list[float]:
    """The values of one column of a CSV file with a header row (or of a file of numbers)."""
    if not os.path.isfile(path):
        raise InputError(f"no such file: {path}")
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            rows = list(csv.reader(fh))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"cannot read {path}: {exc}") from None
    if not rows:
        raise InputError(f"{path} is empty")
    header = [h.strip() for h in rows[0]]
    if header and all(_is_number(h) for h in header):
        # No header: a file of numbers. Fine for one column; several need names.
        if len(header) != 1:
            raise InputError(f"{path} has {len(header)} columns and no header row: "
                             "add a first row naming the columns, then choose one with --column")
        if column is not None:
            raise InputError(f"{path} has no header row, so there is no column {column!r}: "
                             "drop --column, or add a header row")
        rows = [["x"], *rows]
        header = ["x"]
    if column is None:
        if len(header) != 1:
            raise InputError(f"{path} has {len(header)} columns ({', '.join(header)}): choose one with --column")
        column = header[0]
    if column not in header:
        raise InputError(f"no column {column!r} in {path}; the columns are: {', '.join(header)}")
    j = header.index(column)
    values = []
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue  # blank line
        cell = row[j].strip() if j < len(row) else ""
        if cell == "":
            raise InputError(f"missing value in column {column!r} at line {line} of {path}")
        try:
            v = float(cell)
        except ValueError:
            raise InputError(f"non-numeric value {cell!r} in column {column!r} at line {line} of {path}") from None
        if not math.isfinite(v):
            raise InputError(f"non-finite value {cell!r} in column {column!r} at line {line} of {path}")
        values.append(v)
    if not values:
        raise InputError(f"column {column!r} of {path} has no values")
    return values


def _check_plot_path(path: str) -> None:
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise InputError(f"cannot write the plot to {path}: it is a directory")
    if not os.path.isdir(folder):
        raise InputError(f"cannot write the plot to {path}: no folder {folder}")
    if not os.access(folder, os.W_OK) or (os.path.exists(path) and not os.access(path, os.W_OK)):
        raise InputError(f"cannot write the plot to {path}: permission denied")


def _plot(x, params, path: str, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from .core import unnormalized_responsibilities

    lo, hi = float(np.min(x)), float(np.max(x))
    pad = 0.1 * (hi - lo)
    grid = np.linspace(lo - pad, hi + pad, 500)
    comps = unnormalized_responsibilities(grid, params)
    fig, ax = plt.subplots(figsize=(7, 3.5))
    ax.hist(x, bins="auto", density=True, color="0.85", edgecolor="0.6", label="data")
    ax.plot(grid, comps.sum(axis=1), "k", lw=2, label="mixture density")
    for c in range(params.n_components):
        ax.plot(grid, comps[:, c], "--", lw=1.2, label=f"component {c}")
    ax.set_title(title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    try:
        fig.savefig(path)
    except OSError as exc:
        raise InputError(f"cannot write the plot to {path}: {exc}") from None
    finally:
        plt.close(fig)


def _fit(args) -> int:
    import numpy as np

    from .estimator import GaussianMixture1D

    try:
        x = np.array(read_column(args.file, args.column))
        if args.k < 1:
            raise InputError(f"-k must be at least 1, got {args.k}")
        if args.n_init < 1:
            raise InputError(f"--n-init must be at least 1, got {args.n_init}")
        n_distinct = np.unique(x).size
        if n_distinct < max(args.k, 2):
            raise InputError(
                f"{n_distinct} distinct value(s) in the data: too few for a mixture of {args.k} component(s)"
            )
        if args.plot:
            _check_plot_path(args.plot)
            try:
                import matplotlib  # noqa: F401
            except ImportError:
                raise InputError("--plot needs matplotlib: pip install matplotlib") from None
        model = GaussianMixture1D(
            args.k,
            n_init=args.n_init,
            init="quantile" if args.n_init == 1 else "kmeans++",
            seed=args.seed,
            equal_variance=args.equal_variance,
        )
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model.fit(x)
        notes = sorted({str(w.message) for w in caught})
        if args.plot:
            _plot(x, model.params_, args.plot, f"{os.path.basename(args.file)}: {args.k} components")
    except (InputError, ValueError) as exc:
        print(f"gmmderive fit: {exc}", file=sys.stderr)
        return 2
    p = model.params_
    result = {
        "file": args.file,
        "n_samples": int(x.size),
        "n_components": args.k,
        "equal_variance": bool(args.equal_variance),
        "components": [
            {"weight": float(p.weights[c]), "mean": float(p.means[c]), "std": float(p.stds[c])}
            for c in range(p.n_components)
        ],
        "log_likelihood": float(model.log_likelihood_),
        "bic": float(model.bic(x)),
        "aic": float(model.aic(x)),
        "n_iter": int(model.n_iter_),
        "converged": bool(model.converged_),
        "warnings": notes,
    }
    if args.json:
        print(json.dumps(result, indent=1))
        return 0
    print(f"{x.size} samples, {args.k} component(s){' with one shared σ' if args.equal_variance else ''}, "
          "sorted by mean:")
    print("   c    weight          mean           std")
    for c, comp in enumerate(result["components"]):
        print(f"{c:4d}  {comp['weight']:8.5f}  {comp['mean']:12.6g}  {comp['std']:12.6g}")
    print(f"log-likelihood {result['log_likelihood']:.6f}   BIC {result['bic']:.4f}   AIC {result['aic']:.4f}")
    print(f"{result['n_iter']} iterations, converged: {'yes' if result['converged'] else 'no'}")
    for note in notes:
        print(f"warning: {note}")
    if args.plot:
        print(f"plot written to {args.plot}")
    return 0


def _verify(args) -> int:
    from . import symbolic

    try:
        proofs = symbolic.verify(args.chapter)
    except ValueError as exc:
        print(f"gmmderive verify: {exc}", file=sys.stderr)
        return 2
    if args.json:
        # What each proof assumed and used, so that a skeptic can audit it.
        print(json.dumps([p.audit() for p in proofs], ensure_ascii=False, indent=1))
    else:
        for p in proofs:
            status = "ok" if p.passed else "FAILED"
            print(f"{p.step.id:<5} ch{p.step.chapter:<3} {p.step.name:<66} {p.step.kind_label:<14} {p.seconds:6.2f} s  {status}")
            if not p.passed:
                print(f"      {p.message}")
    failed = sum(not p.passed for p in proofs)
    if not args.json:
        print(f"{len(proofs) - failed} passed, {failed} failed")
    return 1 if failed else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m gmmderive",
        description="EM for the univariate Gaussian mixture, derived and checked.",
    )
    sub = parser.add_subparsers(dest="command", metavar="{fit,verify}")
    f = sub.add_parser("fit", help="fit a Gaussian mixture to a column of a CSV file")
    f.add_argument("file", help="CSV file with a header row, or one number per line")
    f.add_argument("--column", help="column to fit (optional if the file has one column)")
    f.add_argument("-k", type=int, required=True, help="number of components D")
    f.add_argument("--equal-variance", action="store_true", help="one standard deviation shared by all components")
    f.add_argument("--n-init", type=int, default=1, help="random restarts (k-means++ starts); the best is kept")
    f.add_argument("--seed", type=int, default=None, help="seed of the random starts")
    f.add_argument("--plot", metavar="OUT.png", help="write a histogram with the fitted density")
    f.add_argument("--json", action="store_true", help="print the result as JSON")
    f.set_defaults(func=_fit)
    v = sub.add_parser("verify", help="prove every step of the derivation with SymPy")
    v.add_argument("--json", action="store_true", help="print a JSON list instead of one line per step")
    v.add_argument("--chapter", type=int, default=None, help="only the steps of this chapter")
    v.set_defaults(func=_verify)
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
