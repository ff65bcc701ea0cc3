"""Selection: which pre-runs go on, and which run is the fit (the stage after the runs)."""

from __future__ import annotations

from .em import Run

#: The default search continues up to this many more pre-runs while the runs that went on
#: ended at saddles (or flat points: coincident components) that their escapes did not leave.
SADDLE_RETRIES = 5

#: Runs whose log-likelihoods differ by less than this (relative) are tied: the earlier start
#: wins, so that rounding (a sum in another order, as over Dask's chunks) never picks the winner.
TIE = 1e-9


def better(r: Run, best: Run) -> bool:
    """Whether ``r`` beats ``best``: not degenerate if ``best`` is, or clearly more likely."""
    if r.degenerate != best.degenerate:
        return best.degenerate
    return r.log_likelihood > best.log_likelihood + TIE * abs(best.log_likelihood)


def ranked(runs: list[Run]) -> list[Run]:
    """The runs best first (:func:`better`); of the runs tied with the best, the earliest first."""
    order = sorted(range(len(runs)), key=lambda i: (runs[i].degenerate, -runs[i].log_likelihood))
    first = min(i for i in order if not better(runs[order[0]], runs[i]))
    return [runs[first]] + [runs[i] for i in order if i != first]


def continued(short: list[Run], limit: int | None, go_on, n_best: int):
    """The pre-runs ``short`` (ranked best first) that the search runs to convergence, lazily.

    The ``n_best`` most likely go on. With ``limit=None`` (``reject_degenerate``), the next most
    likely go on too, one at a time, while every run that went on degenerated (#24: the one run
    that went on collapsed, and the search said that all 50 had); a degenerate pre-run is not
    continued past ``n_best``, since its flags stay. Else at most ``limit`` (= ``n_best``) go on,
    and one more for each that ended at a saddle its escapes did not leave (at most
    ``SADDLE_RETRIES`` more), while none has ended at a certified maximum.

    Parameters
    ----------
    short : list of Run
        The pre-runs, as :func:`ranked` orders them (the non-degenerate first).
    limit : int or None
        At most this many go on; None: as many as it takes to end non-degenerate.
    go_on : callable
        ``go_on(run)``: the run continued to convergence.
    n_best : int
        How many go on in any case.

    Yields
    ------
    Run
    """
    clean = False  # a run that went on ended non-degenerate and not at a saddle
    extra = 0  # runs that go on because those before ended at saddles (#30)
    for rank, r in enumerate(short):
        if limit is not None and rank >= limit + extra:
            return
        if rank >= n_best and (clean or r.degenerate):
            return
        done = r if r.converged else go_on(r)
        if done.saddle and not clean:
            extra = min(extra + 1, SADDLE_RETRIES)
        clean = clean or not (done.degenerate or done.saddle)
        yield done


def best_run(runs, reject_degenerate: bool, n_init: int) -> Run:
    """The run with the highest log-likelihood among the non-degenerate ones (ties: the earliest).

    A degenerate run's likelihood is spurious (unbounded as σ → 0), so it wins only if every
    run degenerated, and not at all with ``reject_degenerate``.
    """
    best = None  # keep only the best run: one (D, N) array in memory, whatever n_init
    for r in runs:
        if reject_degenerate and r.degenerate:
            continue
        if best is None or better(r, best):
            best = r
    if best is None:
        raise ValueError(
            f"all {n_init} run(s) degenerated (a component collapsed onto a point or emptied); "
            "try more starts (n_init) or fewer components"
        )
    return best
