"""Command line.

``gmmderive verify`` (or ``python -m gmmderive verify``) proves every step of the
derivation; ``gmmderive fit FILE.csv --column NAME -k D`` fits a mixture to a column of
one's own data. Bad input gets a one-line message and exit status 2; output to a reader
that is gone (``| head -1``) ends quietly with the status of a command ended by SIGPIPE.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import signal
import stat
import sys
import warnings
from array import array
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from . import __version__

if TYPE_CHECKING:
    from _csv import Reader as CSVReader  # what csv.reader returns (a type only in the stubs' name)

    from .estimator import GaussianMixture1D
    from .frame import Frame
    from .params import GMMParams


class InputError(Exception):
    """Bad input for the command line: reported in one line, exit status 2."""


#: Separators the reader recognizes in the first line when --sep is not given.
SEPARATORS = {",": "comma", ";": "semicolon", "\t": "tab"}


@dataclass
class Column:
    """One column read from a file, and how it was read (reported to the user)."""

    values: np.ndarray
    name: str | None  # None: a file without a header row
    separator: str
    decimal: str


def _parse_number(cell: str, decimal: str) -> float | None:
    """The number in ``cell``, or None. Strict: no thousands separators, no underscores."""
    if "_" in cell:
        return None
    if decimal == ",":
        if "." in cell:
            return None
        cell = cell.replace(",", ".")
    try:
        return float(cell)
    except ValueError:
        return None


def _marks_hint(cell: str, decimal: str) -> str:
    """What may fix a cell that is not a number because of its commas or points."""
    if "," in cell and "." in cell:  # "1,234.5" or "1.234,5": --decimal cannot read either
        return (" (thousands separators? remove them from the file: numbers are read without them, "
                "with --decimal choosing the decimal mark)")
    if decimal == "." and "," in cell:
        return " (decimal commas? pass --decimal ,)"
    return ""


def _choose_separator(first_line: str, decimal: str) -> str:
    candidates = [sep for sep in SEPARATORS if sep in first_line and not (sep == "," and decimal == ",")]
    if len(candidates) > 1:
        names = " and ".join(SEPARATORS[c] for c in candidates)
        raise InputError(f"the first line has both {names}: choose the separator with --sep")
    if candidates:
        return candidates[0]
    return ";" if decimal == "," else ","  # one column; a row with this separator has an extra field


def read_column(path: str, column: str | None, *, sep: str | None = None, decimal: str = ".",
                header: str = "auto") -> Column:
    """One column of a delimited text file, read strictly; bad input raises :class:`InputError`.

    The file is UTF-8 (a byte-order mark is dropped). The separator is ``sep`` or, if None,
    the one of comma, semicolon and tab that the first line contains (two of them: an error).
    ``header`` is ``"yes"``, ``"no"`` or ``"auto"``: a first row with a non-number is a
    header row. Every row must have as many fields as the first; every value of the column
    must be a finite number written with ``decimal`` as its decimal mark.
    """
    if decimal not in (".", ","):
        raise InputError(f"--decimal must be '.' or ',', got {decimal!r}")
    if sep is not None and (len(sep) != 1 or sep == decimal or sep in "\"'\n\r"):
        raise InputError(f"--sep must be one character other than the decimal mark and quotes, got {sep!r}")
    _check_data_file(path)
    values = array("d")
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            first = ""
            for first in fh:
                if first.strip():
                    break
            if not first.strip():
                raise InputError(f"{path} is empty")
            sep = _choose_separator(first, decimal) if sep is None else sep
            fh.seek(0)
            if fh.read(1) != "\ufeff":  # utf-8-sig drops the mark only at the start of a read
                fh.seek(0)
            rows = csv.reader(fh, delimiter=sep, strict=True)
            j, width, name = _header(rows, path, column, decimal, header, values)
            fast = _read_fast(path, sep, decimal, skip=rows.line_num, width=width, j=j)
            if fast is not None:
                return Column(np.concatenate([np.frombuffer(values, dtype=float), fast]), name, sep, decimal)
            block, lines = [], []
            for row in rows:
                block.append(row)
                lines.append(rows.line_num)
                if len(block) == _BLOCK:
                    _read_block(block, lines, j, width, name, path, decimal, values)
                    block, lines = [], []
            _read_block(block, lines, j, width, name, path, decimal, values)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"cannot read {path}: {exc}") from None
    if not values:
        raise InputError(f"column {name!r} of {path} has no values" if name else f"{path} has no values")
    return Column(np.frombuffer(values, dtype=float), name, sep, decimal)


#: What a path that exists but is not a regular file is (os.stat's file types).
_FILE_KINDS = {stat.S_ISCHR: "a character device", stat.S_ISBLK: "a block device", stat.S_ISFIFO: "a pipe",
               stat.S_ISSOCK: "a socket"}


def _check_data_file(path: str) -> None:
    """A regular file, or an :class:`InputError` saying what ``path`` is instead.

    The reader goes over the file twice (the first line, then the rows; the weights column
    once more), which a pipe or a device cannot do; /dev/null and directories exist, so they
    are not "no such file".
    """
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise InputError(f"no such file: {path}") from None
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from None
    if stat.S_ISDIR(mode):
        raise InputError(f"{path} is a directory, not a data file")
    if not stat.S_ISREG(mode):
        kind = next((name for test, name in _FILE_KINDS.items() if test(mode)), "not a file")
        raise InputError(f"{path} is not a regular file ({kind}): save the data to a file first")


def _read_fast(path: str, sep: str, decimal: str, *, skip: int, width: int, j: int) -> NDArray[np.float64] | None:
    """The column by NumPy's C parser when every row is a clean row of numbers, else None.

    None sends the file to the row-by-row reader, which names the first bad line. The C
    parser rejects what the strict reader rejects (underscores, text, a change of width);
    non-finite values and blank lines with spaces fall back too.
    """
    if decimal != ".":
        return None
    try:
        with warnings.catch_warnings():
            # "input contained no data" (a header-only file): the row-by-row reader says so, in one line
            warnings.simplefilter("ignore", UserWarning)
            table = np.loadtxt(path, delimiter=sep, skiprows=skip, comments=None, encoding="utf-8-sig",
                               ndmin=2, dtype=float)
    except ValueError:
        return None
    if table.size == 0 or table.shape[1] != width or not np.isfinite(table[:, j]).all():
        return None
    return np.ascontiguousarray(table[:, j])


_BLOCK = 65536  # rows converted at once


def _read_block(block: list[list[str]], lines: list[int], j: int, width: int, name: str | None, path: str,
                decimal: str, values: array[float]) -> None:
    """Append the column's values of a block of rows; NumPy converts a clean block at once."""
    if not block:
        return
    if all(len(r) == width for r in block):
        cells = np.array([r[j] for r in block])
        clean = not (np.char.find(cells, "_") >= 0).any()
        if decimal == ",":
            clean = clean and not (np.char.find(cells, ".") >= 0).any()
            cells = np.char.replace(cells, ",", ".")
        try:
            converted = cells.astype(float) if clean else None
        except ValueError:
            converted = None
        if converted is not None and np.isfinite(converted).all():
            values.extend(converted)
            return
    # Something is wrong (or a blank line): row by row, to name the line.
    for row, line in zip(block, lines):
        if not any(cell.strip() for cell in row):
            continue  # blank line
        if len(row) != width:
            hint = " (decimal commas? pass --decimal ,)" if width == 1 and len(row) == 2 and decimal == "." else ""
            raise InputError(f"line {line} of {path} has {len(row)} field(s), the first line has {width}{hint}")
        values.append(_value(row[j].strip(), name, line, path, decimal))


def _value(cell: str, name: str | None, line: int, path: str, decimal: str) -> float:
    where = f"in column {name!r} " if name else ""
    if cell == "":
        raise InputError(f"missing value {where}at line {line} of {path}")
    v = _parse_number(cell, decimal)
    if v is None:
        hint = _marks_hint(cell, decimal)
        raise InputError(f"non-numeric value {cell!r} {where}at line {line} of {path}{hint}")
    if not math.isfinite(v):
        raise InputError(f"non-finite value {cell!r} {where}at line {line} of {path}")
    return v


def _header(rows: CSVReader, path: str, column: str | None, decimal: str, header: str,
            values: array[float]) -> tuple[int, int, str | None]:
    """Read the first row: (column index, row width, column name or None)."""
    for first in rows:
        if any(cell.strip() for cell in first):
            break
    cells = [c.strip() for c in first]
    numeric = all(_parse_number(c, decimal) is not None for c in cells)
    has_header = {"yes": True, "no": False, "auto": not numeric}[header]
    if not has_header:
        if len(cells) != 1:
            raise InputError(f"{path} has {len(cells)} columns and no header row: "
                             "add a first row naming the columns, then choose one with --column")
        if column is not None:
            raise InputError(f"{path} has no header row, so there is no column {column!r}: "
                             "drop --column, or add a header row")
        values.append(_value(cells[0], None, rows.line_num, path, decimal))
        return 0, 1, None
    if len(set(cells)) != len(cells):
        raise InputError(f"the header row of {path} names a column twice: {', '.join(cells)}")
    if column is None:
        if len(cells) != 1:
            raise InputError(f"{path} has {len(cells)} columns ({', '.join(cells)}): choose one with --column")
        column = cells[0]
    if column not in cells:
        raise InputError(f"no column {column!r} in {path}; the columns are: {', '.join(cells)}")
    return cells.index(column), len(cells), column


@dataclass
class PlotFile:
    """Where the plot goes: the path, the format written, and whether a file is replaced."""

    path: str
    format: str  # a format matplotlib writes, from the suffix (PNG without one)
    suffixed: bool
    replaces: bool

    def note(self) -> str:
        """What the CLI says after writing it."""
        notes = ([] if self.suffixed else [self.format.upper()]) + (
            ["replacing the file that was there"] if self.replaces else [])
        return f"plot written to {self.path}" + (f" ({', '.join(notes)})" if notes else "")


def _check_plot_path(path: str, data_file: str, force: bool) -> PlotFile:
    """Check, before fitting, that the plot can be written to ``path`` in the format its suffix
    names (PNG without a suffix: matplotlib would write ``path.png``), and that no file there is
    overwritten without ``--force`` (nor the data file, even with it)."""
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise InputError(f"cannot write the plot to {path}: it is a directory")
    if not os.path.isdir(folder):
        raise InputError(f"cannot write the plot to {path}: no folder {folder}")
    exists = os.path.exists(path)
    if exists and os.path.samefile(path, data_file):
        raise InputError(f"cannot write the plot to {path}: it is the data file")
    if not os.access(folder, os.W_OK) or (exists and not os.access(path, os.W_OK)):
        raise InputError(f"cannot write the plot to {path}: permission denied")
    from matplotlib.backend_bases import FigureCanvasBase

    suffix = os.path.splitext(path)[1][1:]
    known = FigureCanvasBase.get_supported_filetypes()
    if suffix and suffix.lower() not in known:
        raise InputError(f"cannot write the plot to {path}: unknown format {suffix!r} "
                         f"(the suffix names it: {', '.join(sorted(known))})")
    if exists and not force:
        raise InputError(f"{path} exists: pass --force to overwrite it")
    return PlotFile(path, suffix.lower() or "png", bool(suffix), exists)


def _plot(x: NDArray[np.float64], params: GMMParams, out: PlotFile, title: str) -> None:
    """A histogram of x with the fitted densities, computed in the standardized frame of x.

    Where x spans nearly the largest float (data near ±1e308), its range, the padded grid and
    the histogram's bin widths overflow in x's units, and so does matplotlib's axis arithmetic;
    in the frame z = (x/2^k - m)/s nothing does. The axis is then in units of a power of ten,
    and the densities are per such unit (that of z divided by the standard deviation in it).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .core import unnormalized_responsibilities
    from .frame import Frame

    frame = Frame.of(x)
    z = frame.to_z(x)
    lo, hi = float(z.min()), float(z.max())
    pad = 0.1 * (hi - lo)
    z_grid = np.linspace(lo - pad, hi + pad, 500)
    axis = _Axis.of(frame, hi - lo + 2 * pad)
    comps = unnormalized_responsibilities(z_grid, frame.params_to_z(params, 0.0)) / axis.std
    counts, z_edges = np.histogram(z, bins="auto")
    density = counts / (z.size * np.diff(z_edges)) / axis.std
    grid, edges = axis.of_z(z_grid), axis.of_z(z_edges)
    fig, ax = plt.subplots(figsize=(7, 3.5))
    ax.bar(edges[:-1], density, width=np.diff(edges), align="edge", color="0.85", edgecolor="0.6", label="data")
    ax.plot(grid, comps.sum(axis=1), "k", lw=2, label="mixture density")
    for c in range(params.n_components):
        ax.plot(grid, comps[:, c], "--", lw=1.2, label=f"component {c}")
    ax.set_xlim(grid[0], grid[-1])
    if axis.exponent:
        ax.set_xlabel(f"x / 1e{axis.exponent}")
    ax.set_title(title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    try:
        fig.savefig(out.path, format=out.format)
    except OSError as exc:
        raise InputError(f"cannot write the plot to {out.path}: {exc}") from None
    finally:
        plt.close(fig)


@dataclass(frozen=True)
class _Axis:
    """The plot's horizontal axis: x, or x / 10^exponent where x's span nears the largest float."""

    frame: Frame  # x = 2^k (m + s z)
    exponent: int

    @classmethod
    def of(cls, frame: Frame, z_span: float) -> _Axis:
        with np.errstate(over="ignore"):
            span = z_span * frame.std_x  # inf when it overflows
        # beyond 1e300 matplotlib's margins and ticks (differences of the limits) overflow
        return cls(frame, 0 if span < 1e300 else int(np.floor(np.log10(frame.std_x))))

    @property
    def std(self) -> float:
        """The standard deviation of x in the axis' units (2^k s / 10^exponent)."""
        return self.frame.std_x if self.exponent == 0 else float(self.frame.s * self._factor())

    def _factor(self) -> float:
        return float(np.exp(self.frame.k * np.log(2.0) - self.exponent * np.log(10.0)))

    def of_z(self, z: np.ndarray) -> np.ndarray:
        """The axis values of the points z of the frame."""
        if self.exponent == 0:
            return np.ldexp(self.frame.m + self.frame.s * z, self.frame.k)  # x itself, as the fit maps it back
        return (self.frame.m + self.frame.s * z) * self._factor()


def _fit(args: argparse.Namespace) -> int:

    from .estimator import GaussianMixture1D

    try:
        data = read_column(args.file, args.column, sep=args.sep, decimal=args.decimal, header=args.header)
        x = data.values
        w = None
        if args.weights is not None:
            if args.weights == data.name:
                raise InputError(f"--weights names the fitted column {args.weights!r}: choose another column")
            w = read_column(args.file, args.weights, sep=args.sep, decimal=args.decimal, header=args.header).values
            if w.size != x.size:
                raise InputError(f"column {args.weights!r} has {w.size} values, column {data.name!r} {x.size}")
            if (w < 0).any():
                i = int(np.flatnonzero(w < 0)[0])
                raise InputError(f"weights must be >= 0: value {w[i]:g} in column {args.weights!r} (row {i + 1})")
            if not (w > 0).any():
                raise InputError(f"every weight in column {args.weights!r} is 0: nothing to fit")
        if args.k < 1:
            raise InputError(f"-k must be at least 1, got {args.k}")
        if args.n_init is not None and args.n_init < 1:
            raise InputError(f"--n-init must be at least 1, got {args.n_init}")
        n_distinct = np.unique(x if w is None else x[w > 0]).size
        if n_distinct < max(args.k, 2):
            raise InputError(
                f"{n_distinct} distinct value(s) in the data: too few for a mixture of {args.k} component(s)"
            )
        plot = None
        if args.plot:
            try:
                import matplotlib  # noqa: F401
            except ImportError:
                raise InputError("--plot needs matplotlib: pip install matplotlib") from None
            plot = _check_plot_path(args.plot, args.file, args.force)
        model = GaussianMixture1D(
            args.k,
            n_init=args.n_init,
            random_state=args.seed,
            equal_variance=args.equal_variance,
            accelerate=not args.plain_em,
        )
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model.fit(x, sample_weight=w)
        notes = sorted({str(m.message) for m in caught})
        if plot is not None:
            _plot(x, model.params_, plot, f"{os.path.basename(args.file)}: {args.k} components")
        result = _result(args, data, x, w, model, notes)
    except (InputError, ValueError) as exc:
        print(f"gmmderive fit: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result, indent=1, allow_nan=False))  # Infinity and NaN are not JSON: never print them
        return 0
    source = f"column {data.name!r}" if data.name else "a file without a header row"
    sep_name = SEPARATORS.get(data.separator, repr(data.separator))
    print(f"read {x.size} values from {source} of {args.file} "
          f"(separator: {sep_name}, decimal mark {data.decimal!r})")
    if w is not None:
        print(f"weighted by column {args.weights!r}: total weight {result['total_weight']:g}")
    print(f"{x.size} samples, {args.k} component(s){' with one shared σ' if args.equal_variance else ''}, "
          "sorted by mean:")
    print("   c    weight          mean           std")
    for c, comp in enumerate(result["components"]):
        print(f"{c:4d}  {comp['weight']:8.5f}  {comp['mean']:12.6g}  {comp['std']:12.6g}")
    print(f"log-likelihood {result['log_likelihood']:.6f}   BIC {result['bic']:.4f}   AIC {result['aic']:.4f}")
    print(f"{result['n_iter']} iterations, converged: {'yes' if result['converged'] else 'no'}")
    for note in notes:
        print(f"warning: {note}")
    if plot is not None:
        print(plot.note())
    return 0


def _result(args: argparse.Namespace, data: Column, x: NDArray[np.float64], w: NDArray[np.float64] | None,
            model: GaussianMixture1D, notes: list[str]) -> dict[str, Any]:
    """The fit as a JSON-ready dict (BIC and AIC may raise a ValueError: inside the one-line errors)."""
    p = model.params_
    result = {
        "file": args.file,
        "column": data.name,
        "separator": data.separator,
        "decimal": data.decimal,
        "n_samples": int(x.size),
        "weights": args.weights,
        "total_weight": float(x.size if w is None else w.sum()),
        "n_components": args.k,
        "equal_variance": bool(args.equal_variance),
        "components": [
            {"weight": float(p.weights[c]), "mean": float(p.means[c]), "std": float(p.stds[c])}
            for c in range(p.n_components)
        ],
        "log_likelihood": float(model.log_likelihood_),
        "bic": float(model.bic(x, sample_weight=w)),
        "aic": float(model.aic(x, sample_weight=w)),
        "n_iter": int(model.n_iter_),
        "converged": bool(model.converged_),
        "warnings": notes,
    }
    return result


def _verify(args: argparse.Namespace) -> int:
    from . import symbolic

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    try:
        audits = symbolic.audit(args.chapter, jobs=min(2, cores))  # the proofs are independent
    except ValueError as exc:
        print(f"gmmderive verify: {exc}", file=sys.stderr)
        return 2
    if args.json:
        # What each proof assumed and used, so that a skeptic can audit it.
        print(json.dumps(audits, ensure_ascii=False, indent=1))
    else:  # each step with the kernel's verdict beside the numeric second checker's, then the count
        print("\n".join(symbolic.report(audits)))
    return 1 if any(not a["passed"] for a in audits) else 0


def main(argv: list[str] | None = None, *, prog: str = "gmmderive") -> int:
    """Run the command line; ``prog`` is the command as invoked, for the usage line.

    Returns
    -------
    int
        The exit status: 0, 1 (a proof failed), 2 (bad input), or 128 + SIGPIPE (141) when
        the reader of the output is gone.
    """
    try:
        try:
            return _main(argv, prog)
        finally:
            sys.stdout.flush()  # the output is written here, where a closed pipe is caught, not at exit
    except BrokenPipeError:
        return _closed_pipe()


def _closed_pipe() -> int:
    """The reader of stdout is gone (``gmmderive fit ... --json | head -1``): end quietly.

    Python ignores SIGPIPE, so the write raised instead of ending the process as it ends a C
    tool (``yes | head``). The rest of the output goes to /dev/null, so that the flush at exit
    does not raise again, and the status is the one a shell gives a command ended by SIGPIPE.
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # stdout replaced in-process (no file descriptor): nothing to flush at exit
        pass
    return 128 + signal.SIGPIPE if hasattr(signal, "SIGPIPE") else 1  # Windows has no SIGPIPE


def _main(argv: list[str] | None, prog: str) -> int:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="EM for the univariate Gaussian mixture, derived and checked.",
    )
    parser.add_argument("--version", action="version", version=f"gmmderive {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="{fit,verify}")
    f = sub.add_parser("fit", help="fit a Gaussian mixture to a column of a CSV file")
    f.add_argument("file", help="CSV file with a header row, or one number per line")
    f.add_argument("--column", help="column to fit (optional if the file has one column)")
    f.add_argument("-k", type=int, required=True, help="number of components D")
    f.add_argument("--weights", metavar="W", default=None,
                   help="column of sample weights (counts of each value, >= 0): each row counts W times")
    f.add_argument("--sep", default=None,
                   help="field separator (default: the comma, semicolon or tab of the first line)")
    f.add_argument("--decimal", default=".", choices=[".", ","], help="decimal mark (default '.')")
    f.add_argument("--header", default="auto", choices=["auto", "yes", "no"],
                   help="is the first row a header? auto: yes if it holds a non-number")
    f.add_argument("--equal-variance", action="store_true", help="one standard deviation shared by all components")
    f.add_argument("--n-init", type=int, default=None,
                   help="number of starts of the search (default 50: the quantile start and k-means++ starts)")
    f.add_argument("--seed", type=int, default=0, help="seed of the random starts (default 0)")
    f.add_argument("--plain-em", action="store_true", help="plain EM instead of SQUAREM-accelerated EM")
    f.add_argument("--plot", metavar="OUT.png",
                   help="write a histogram with the fitted density, in the format the suffix names (PNG without one)")
    f.add_argument("--force", action="store_true", help="let --plot replace an existing file")
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
    status: int = args.func(args)
    return status


if __name__ == "__main__":
    # python -m gmmderive: named as Python 3.14's argparse names a module run with -m
    sys.exit(main(prog=f"{os.path.basename(sys.executable)} -m gmmderive"))
