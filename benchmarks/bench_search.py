"""Which default search (#26): today's against candidates built from the fit's stages.

Each strategy is composed from the stages of ``gmmderive.fit`` (ARCHITECTURE.md): the samples
(``gmmderive.samples.in_memory_samples``), the starts (``gmmderive.starts.starting_points``),
the runs (``gmmderive.em.run_em`` / ``gmmderive.runs.runs_of``), the selection and the result;
nothing in ``gmmderive/`` is changed. The strategies:

- ``today``: ``fit(x, D)`` as it is (50 starts: quantile + 49 k-means++, 30 plain-EM
  iterations each, the most likely goes on), composed from the stages so that its passes can be
  counted (the same result bit for bit: checked on the first case).
- ``sub-all``: a subsample of m = min(N, ``--m``) values (without replacement, seeded); the
  same 50 starts drawn from it; every start run to convergence on it (SQUAREM, ``tol`` 1e-6);
  the distinct maxima (log-likelihoods apart by more than 1e-7 relative) ranked, and the best
  ``--refine`` of them refined on all the data by ``fit(x, init=params)``; the most likely wins.
- ``sub-race``: as ``sub-all``, but the starts race on the subsample in rounds of SQUAREM
  evaluations, and a run is stopped early only when it cannot win: when its log-likelihood
  plus a bound on what it can still gain is below the leader's, or when it has come within
  1e-3 (the units of the stopping rule) of another run's parameters, so that it would end at
  the same maximum. The bound is the stopping rule's geometric series applied to the
  log-likelihood: a run whose gain per round shrinks by the factor r has at most
  gain·r/(1 − r) left; ``SAFETY`` times that is used, and a run whose gain is not yet
  shrinking (r ≥ 1, a slow start still climbing, the narrow-in-wide case) is never stopped.
  This ranks by the height a run is heading for, not by the height it has reached after a fixed
  number of iterations, which is the cause of today's misses.
- ``today-100``: today's search with 100 starts when N ≤ m (the cheap regime), else today's.
- ``race-100``: ``sub-race`` with 100 starts when N ≤ m, else 50.
- ``merge-100`` (not in the default table; ``--strategies ... merge-100``): every start to
  convergence on the subsample as ``sub-all`` (no run is stopped for being behind: ranked only
  after convergence), but a run that comes within 1e-3 of another run's parameters is merged
  into it (``sub-race`` with ``SAFETY`` = ∞; a run that gained nothing in a whole round and is
  behind stops too), and 100 starts when N ≤ m, else 50.

Per case and strategy: the fraction of seeds whose fit reaches the best known maximum (gap at
most 1e-9 relative, as tests/test_search_misses.py; the best known is the best over every
strategy's fits and a long ``fit(x, D, pre_iter=0, n_init=R)`` run, every start to
convergence), the median wall time, and the passes over the full data: every evaluation of the
EM map, sum, final pass, Hessian pass and responsibilities counted through a proxy of the samples
object, each weighted by (samples in it) / N, so a pass over a subsample of m counts m / N, and
a batched pre-run iteration of K starts counts K.

Run: ``.venv/bin/python benchmarks/bench_search.py --cases narrow galaxies faithful lecture``
(about 5-7 minutes on 2 loaded cores) and ``--cases hard --quick`` (about 8 minutes: ``sub-all``
runs 50 crawling starts to convergence); ``--quick`` for fewer seeds.
"""

from __future__ import annotations

import argparse
import time
import warnings
from dataclasses import dataclass, field

import numpy as np

import gmmderive as g
from gmmderive.data import checked_data
from gmmderive.datasets import exam_grades, galaxies, old_faithful
from gmmderive.em import run_em, step_size
from gmmderive.options import DEFAULT_STD_FLOOR, FitOptions
from gmmderive.result import fit_result
from gmmderive.runs import runs_of
from gmmderive.samples import in_memory_samples
from gmmderive.selection import best_run
from gmmderive.starts import starting_points

#: A fit reaches the best known maximum when it is at most this far below it (relative).
HIT = 1e-9
#: The subsample's runs stop within this of their fixed point (the refinement goes to 1e-8).
SUB_TOL = 1e-6
#: At most this many evaluations of M per start on the subsample.
SUB_MAX_ITER = 5000
#: Maxima on the subsample whose log-likelihoods differ by less than this (relative) are one.
DISTINCT = 1e-7
#: sub-race: the bound on a run's remaining gain is multiplied by this.
SAFETY = 3.0
#: sub-race: a run this close to another (in the stopping rule's units) ends where it ends.
SAME_BASIN = 1e-3


# --------------------------------------------------------------------------
# Counting passes: a proxy of the samples protocol
# --------------------------------------------------------------------------


class Counting:
    """The samples, with every pass over them counted in full-data passes (size / N each)."""

    def __init__(self, inner, n_full: int):
        self._inner = inner
        self._unit = inner.size / n_full
        self.passes = 0.0

    def __getattr__(self, name):
        return getattr(self._inner, name)

    def _count(self, k=1):
        self.passes += k * self._unit

    def sums(self, params_list, centers_list=None):
        self._count(len(params_list))
        return self._inner.sums(params_list, centers_list)

    def em_iteration(self, params, **kw):
        self._count()
        return self._inner.em_iteration(params, **kw)

    def pre_runs(self, starts, n_iter, **kw):
        self._count(len(starts) * (n_iter + 1))
        return self._inner.pre_runs(starts, n_iter, **kw)

    def final_pass(self, params, keep_resp):
        self._count()
        return self._inner.final_pass(params, keep_resp)

    def hessian_sums(self, params, equal_variance):
        self._count()
        return self._inner.hessian_sums(params, equal_variance)

    def responsibilities(self, params, order, resp=None):
        if resp is None or not self._inner.keeps_resp:
            self._count()
        return self._inner.responsibilities(params, order, resp)


def options(d, *, init=None, n_init=None, seed=0, pre_iter=None, tol=1e-8):
    return FitOptions.of(d, init=init, max_iter=10_000, tol=tol, n_init=n_init, seed=seed,
                         std_floor=DEFAULT_STD_FLOOR, equal_variance=False, pre_iter=pre_iter, n_best=1,
                         reject_degenerate=False, compress=False, accelerate=True)


def staged_fit(x, opts):
    """``fit`` as ``gmmderive.fit.fit`` composes it, its passes counted: ``(FitResult, passes)``."""
    samples = Counting(checked_data(x, None).samples(opts), x.size)
    starts = starting_points(samples, opts)
    best = best_run(runs_of(samples, starts, opts), opts.reject_degenerate, opts.n_init)
    return fit_result(best, samples, opts), samples.passes


# --------------------------------------------------------------------------
# The strategies: each returns (log-likelihood, passes over the full data)
# --------------------------------------------------------------------------


def today(x, d, seed, n_init=None):
    res, passes = staged_fit(x, options(d, seed=seed, n_init=n_init))
    return res.log_likelihood, passes


def today_100(x, d, seed, m):
    return today(x, d, seed, n_init=100 if x.size <= m else None)


def subsample(x, d, seed, m):
    """The samples of a subsample of m values (all of x when N ≤ m), counted."""
    xs = x if x.size <= m else np.random.default_rng([seed, 26]).choice(x, m, replace=False)
    return Counting(in_memory_samples(xs, None, False, d, DEFAULT_STD_FLOOR), x.size)


def sub_run(sub, start, max_iter, before=None):
    return run_em(sub, start, max_iter=max_iter, tol=SUB_TOL, std_floor=sub.floor, accelerate=True,
                  before=before, keep_resp=False)


def refined(x, d, sub, runs, k):
    """The best ``k`` distinct maxima of the subsample refined on all of x: ``(ll, passes)``."""
    ranked = sorted((r for r in runs if not r.degenerate), key=lambda r: -r.log_likelihood) or list(runs)
    distinct = []
    for r in ranked:
        if all(abs(r.log_likelihood - q.log_likelihood) > DISTINCT * abs(q.log_likelihood) for q in distinct):
            distinct.append(r)
    best, passes = None, sub.passes
    for r in distinct[:k]:
        res, p = staged_fit(x, options(d, init=sub.frame.params_from_z(r.params)))
        passes += p
        if best is None or res.log_likelihood > best.log_likelihood:
            best = res
    return best.log_likelihood, passes


def sub_all(x, d, seed, m, k, n_init=50):
    sub = subsample(x, d, seed, m)
    starts = starting_points(sub, options(d, seed=seed, n_init=n_init))
    return refined(x, d, sub, [sub_run(sub, s, SUB_MAX_ITER) for s in starts], k)


def cannot_win(history_at_rounds, leader, safety):
    """sub-race's rule: ll plus ``safety`` times the geometric bound on the gain left is below the
    leader (``safety`` = inf: never, while the run still climbs)."""
    if len(history_at_rounds) < 3:
        return False
    ll, gain, before = history_at_rounds[-1], np.diff(history_at_rounds[-3:])[1], np.diff(history_at_rounds[-3:])[0]
    if before <= 0 or gain >= before:
        return gain <= 0 and ll < leader  # no longer climbing at all, and behind
    if safety == np.inf:
        return False
    r = gain / before
    return ll + safety * gain * r / (1 - r) < leader - HIT * abs(leader)


def sub_race(x, d, seed, m, k, n_init=50, safety=SAFETY):
    sub = subsample(x, d, seed, m)
    starts = starting_points(sub, options(d, seed=seed, n_init=n_init))
    budget = max(20, 2 * (3 * d + 1))  # a round leaves room for the stopping rule's check
    live = {i: sub_run(sub, s, budget) for i, s in enumerate(starts)}
    heights = {i: [r.history[0], r.log_likelihood] for i, r in live.items()}
    done = []
    while live:
        for i in [i for i, r in live.items() if r.converged or r.n_iter >= SUB_MAX_ITER]:
            done.append(live.pop(i))
        clean = [r.log_likelihood for r in done + list(live.values()) if not r.degenerate]
        leader = max(clean) if clean else -np.inf
        for i in sorted(live):
            r = live[i]
            others = [q for j, q in live.items() if j < i] + done
            if (r.degenerate and clean) or cannot_win(heights[i], leader, safety) or any(
                    step_size(r.params, q.params) < SAME_BASIN for q in others):
                del live[i]
        for i, r in live.items():
            live[i] = sub_run(sub, r.params, budget, before=r)
            heights[i].append(live[i].log_likelihood)
    return refined(x, d, sub, done, k)


def merge_100(x, d, seed, m, k):
    """Every start to convergence on the subsample (ranked only then), duplicates merged on the way."""
    return sub_race(x, d, seed, m, k, n_init=100 if x.size <= m else 50, safety=np.inf)


def race_100(x, d, seed, m, k):
    return sub_race(x, d, seed, m, k, n_init=100 if x.size <= m else 50)


STRATEGIES = ("today", "sub-all", "sub-race", "today-100", "race-100")  # the table's
MORE = ("merge-100",)  # with --strategies


def run_strategy(name, x, d, seed, m, k):
    fn = {"today": lambda: today(x, d, seed), "sub-all": lambda: sub_all(x, d, seed, m, k),
          "sub-race": lambda: sub_race(x, d, seed, m, k), "today-100": lambda: today_100(x, d, seed, m),
          "race-100": lambda: race_100(x, d, seed, m, k), "merge-100": lambda: merge_100(x, d, seed, m, k)}[name]
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ll, passes = fn()
    return time.perf_counter() - t0, ll, passes


# --------------------------------------------------------------------------
# Cases
# --------------------------------------------------------------------------


@dataclass
class Case:
    name: str
    x: np.ndarray
    d: int
    seeds: list[int]
    ref_starts: int  # starts of the long reference run (pre_iter=0)
    results: dict = field(default_factory=dict)  # strategy -> list of (seconds, ll, passes)
    best: float = np.nan


def narrow_inside_wide(n):
    # tests/test_search_misses.py's data: 90 % N(0, 3²) and 10 % N(0.5, 0.1²), the first n of 200,000
    rng = np.random.default_rng(1)
    z = rng.choice(2, size=200_000, p=[0.9, 0.1])
    return rng.normal(np.array([0.0, 0.5])[z], np.array([3.0, 0.1])[z])[:n]


def five_components(n: int, spacing: float, seed: int = 2) -> np.ndarray:
    """bench_time_to_solution's draw: five equally weighted N(k·spacing, 1), k = 0..4."""
    rng = np.random.default_rng(seed)
    return rng.normal(spacing * rng.integers(5, size=n), 1.0)


def make_cases(which, quick):
    def s(full, few):
        return list(range(few if quick else full))

    cases = []
    if "narrow" in which:
        cases += [Case("narrow in wide, N = 5,000", narrow_inside_wide(5000), 2, s(10, 5), 200),
                  Case("narrow in wide, N = 100,000", narrow_inside_wide(100_000), 2, s(3, 2), 50)]
    if "galaxies" in which:
        cases += [Case(f"galaxies, D = {d}", galaxies(), d, s(20, 10), 200) for d in (2, 3, 4)]
    if "faithful" in which:
        wait = old_faithful()["waiting"]
        cases += [Case(f"Old Faithful waiting, D = {d}", wait, d, s(20, 10), 200) for d in (2, 3)]
    if "lecture" in which:
        cases += [Case("lecture model, N = 10⁴", exam_grades(10_000), 2, s(5, 3), 100),
                  Case("lecture model, N = 10⁵", exam_grades(100_000), 2, s(3, 2), 20),
                  Case("lecture model, N = 10⁶", exam_grades(1_000_000), 2, s(2, 1), 10)]
    if "hard" in which:
        cases.append(Case("5 components 1.5σ apart, N = 10⁴", five_components(10_000, 1.5), 5, s(3, 2), 20))
    return cases


def best_known(case: Case) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = g.fit(case.x, case.d, pre_iter=0, n_init=case.ref_starts, seed=12345)
    lls = [ref.log_likelihood] + [ll for runs in case.results.values() for _, ll, _ in runs]
    return max(lls)


def cell(runs, best):
    lls = np.array([ll for _, ll, _ in runs])
    hits = int(np.sum(lls >= best - HIT * abs(best)))
    t = float(np.median([s for s, _, _ in runs]))
    passes = float(np.median([p for _, _, p in runs]))
    worst = best - lls.min()
    miss = f" (worst {worst:.3g} short)" if hits < len(runs) else ""
    return f"{hits}/{len(runs)}{miss}, {t:.3g} s, {passes:,.0f} passes" if passes >= 10 else \
        f"{hits}/{len(runs)}{miss}, {t:.3g} s, {passes:.2g} passes"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cases", nargs="+", default=["narrow", "galaxies", "faithful", "lecture", "hard"])
    ap.add_argument("--strategies", nargs="+", default=list(STRATEGIES), choices=STRATEGIES + MORE)
    ap.add_argument("--m", type=int, default=8192, help="subsample size of the candidates")
    ap.add_argument("--refine", type=int, default=2, help="distinct maxima refined on all the data")
    ap.add_argument("--quick", action="store_true", help="fewer seeds")
    args = ap.parse_args()

    # warm-up (numba compiles or loads its kernels), and today's staged fit is fit(x, D) itself
    x0 = narrow_inside_wide(1000)
    assert staged_fit(x0, options(2))[0].log_likelihood == g.fit(x0, 2).log_likelihood
    print(f"m = {args.m}, refine the best {args.refine}; hit = within {HIT:g} (relative) of the best known")
    t_start = time.perf_counter()
    cases = make_cases(set(args.cases), args.quick)
    for case in cases:
        t0 = time.perf_counter()
        for seed in case.seeds:  # interleaved: every strategy once per seed
            for name in args.strategies:
                case.results.setdefault(name, []).append(run_strategy(name, case.x, case.d, seed, args.m,
                                                                      args.refine))
        case.best = best_known(case)
        print(f"  {case.name}: {len(case.seeds)} seeds, best known {case.best:.4f}, "
              f"{time.perf_counter() - t0:.0f} s", flush=True)
    print(f"\ntotal {time.perf_counter() - t_start:.0f} s\n")
    print("| case | " + " | ".join(args.strategies) + " |")
    print("|---" * (len(args.strategies) + 1) + "|")
    for case in cases:
        print(f"| {case.name} | " + " | ".join(cell(case.results[s], case.best) for s in args.strategies) + " |")
    print("\ncell: seeds reaching the best known maximum, median wall time, median passes over the full data")


if __name__ == "__main__":
    main()
