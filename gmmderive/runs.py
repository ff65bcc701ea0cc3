"""The runs: EM from every start (the stage after the starts), as :func:`gmmderive.fit` runs them.

With ``options.screens`` (the default search), every start is first run for ``pre_iter``
evaluations of plain EM (:meth:`pre_runs` of the samples: together in one array, or sharing each
pass over a Dask array's chunks), and the most likely go on (:func:`gmmderive.selection.continued`).
Otherwise every start runs to the end. Each run is :func:`gmmderive.em.run_em`: plain EM or
SQUAREM, one stopping rule (:func:`gmmderive.em.converged`), the certificate at the end.
The runs are made lazily, as the selection asks for them.
"""

from __future__ import annotations

from .em import Run, run_em
from .selection import continued, ranked


def run_to_the_end(samples, start, options, *, max_iter=None, before: Run | None = None, keep_resp=False) -> Run:
    """One run of the fit from ``start`` (in the frame z): ``max_iter`` evaluations at most
    (default the option), continuing ``before`` if given."""
    return run_em(samples, start, max_iter=options.max_iter if max_iter is None else max_iter, tol=options.tol,
                  std_floor=samples.floor, equal_variance=options.equal_variance, accelerate=options.accelerate,
                  before=before, keep_resp=keep_resp)


def pre_runs(samples, starts, options) -> list[Run]:
    """Short runs of plain EM, ``options.pre_iter`` evaluations from every start."""
    return samples.pre_runs(starts, options.pre_iter, std_floor=samples.floor, equal_variance=options.equal_variance)


def went_on(samples, short: list[Run], options):
    """The pre-runs that go on, each continued to the end (lazily): the ``n_best`` most likely
    non-degenerate ones (with ``reject_degenerate``, more while every one degenerated)."""
    limit = options.n_best if not options.reject_degenerate else None
    return continued(ranked(short), limit,
                     lambda r: run_to_the_end(samples, r.params, options, max_iter=options.max_iter - r.n_iter,
                                              before=r),
                     options.n_best)


def runs_of(samples, starts, options):
    """The runs the selection chooses from, lazily: the pre-runs that went on, or one per start."""
    if options.screens:
        return went_on(samples, pre_runs(samples, starts, options), options)
    # One run: its last pass writes ρ. Several: only the best one's ρ is computed, at the end.
    keep = options.n_init == 1 and samples.keeps_resp
    return (run_to_the_end(samples, p, options, keep_resp=keep) for p in starts)
