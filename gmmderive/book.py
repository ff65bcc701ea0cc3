"""What the book's chapters need beside the mathematics: numbers handed to the prose.

Every number in the book's text comes from a computation: a cell computes it and calls
:func:`glue`, the text shows it with the MyST inline expression ``{eval}`name```, which reads
the same on every surface (book/README.md): the HTML book takes the number from the stored glue
record (myst-nb's ``glue``; ``book/_ext/book_fixes.py``), JupyterLab with jupyterlab-myst
evaluates ``name`` in the kernel (:func:`glue` binds it there) or shows the result stored in
the cell's metadata (``tools/execute_notebooks.py``), and the notebooks for Colab have the
number written in. :func:`glue` stores the number as
the text the reader sees (``0.3505``), not with all its digits (``0.35047388557815085``):
the stored outputs of the committed notebooks are then compared (by nbval) at the precision
the reader sees, not in the last bits, which depend on the processor's order of summation
(AVX-512 or AVX2; numba's target; NumPy's dispatch).
"""

from __future__ import annotations

import math
import numbers
import sys

__all__ = ["glue", "shown"]


def shown(value, fmt: str | None = None, *, bound: float | None = None) -> str:
    """``value`` as the text shows it: ``format(value, fmt)``; an integer or a string as it is.

    Parameters
    ----------
    value : int, float, str or bool
        The number (or word) for the prose. NumPy scalars are taken as Python's.
    fmt : str, optional
        A format specification (``".4f"``, ``".1e"``, ``".0%"``, ``","``). Required for a
        real number that is not an integer: its precision is the reader's, not the machine's.
    bound : float, optional
        For a quantity that is rounding, or a stopping rule's slack (two sums in another order,
        a gradient where EM stopped): its digits are the processor's, so the text shows the
        bound instead (``"1e-12"``), after checking that ``|value| < bound``.

    Returns
    -------
    str

    Raises
    ------
    ValueError
        A non-integer real number without ``fmt`` or ``bound``, a value that is not finite,
        or one that is not below its ``bound``.
    """
    if bound is not None:
        v = float(value)
        if not abs(v) < bound:  # also catches NaN
            raise ValueError(f"{v!r} is not below the bound {bound:g} that the text states")
        exponent = math.log10(bound)
        return f"1e{round(exponent)}" if exponent == round(exponent) else format(bound, "g")
    if isinstance(value, str):
        return format(value, fmt) if fmt else value
    if isinstance(value, bool):  # before Integral: a bool is an int
        return format(value, fmt) if fmt else str(value)
    if isinstance(value, numbers.Integral):
        return format(int(value), fmt) if fmt else str(int(value))
    if isinstance(value, numbers.Real):
        v = float(value)
        if v != v or v in (float("inf"), float("-inf")):
            raise ValueError(f"cannot show a non-finite number in the text: {v}")
        if not fmt:
            raise ValueError(
                f"a real number for the text needs the precision it is shown at (fmt, such as '.4f'): got {v!r}"
            )
        return format(v, fmt)
    raise ValueError(f"cannot show a {type(value).__name__} in the text; pass a number or a string")


def glue(name: str, value, fmt: str | None = None, *, bound: float | None = None) -> None:
    """Keep ``value`` for the text under ``name``, as the text shows it (:func:`shown`).

    The chapter's text shows it with ``{eval}`name```; nothing is displayed in the cell. The
    text is kept twice: as myst-nb's glue record (an output, which the HTML book renders and
    nbval compares) and as the variable ``name`` of the running IPython kernel (a string), which
    jupyterlab-myst shows when a reader runs the Markdown cell. Needs myst-nb (the
    ``notebooks`` extra).
    """
    from myst_nb import glue as myst_glue

    text = shown(value, fmt, bound=bound)
    myst_glue(name, text, display=False)
    ipython = sys.modules.get("IPython")  # loaded in a kernel; not a dependency of its own
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is not None:
        shell.user_ns[name] = text
