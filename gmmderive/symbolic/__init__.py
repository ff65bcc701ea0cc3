"""Checked derivations: every step of the lecture proven with SymPy.

>>> from gmmderive import symbolic as gs
>>> gs.step("S20").prove()          # doctest: +SKIP
<Proof S20 (chapter 10) the update of the weights: π_e = γ_e / N: proven (general)>

Each :class:`Step` has an id, chapter, name, both sides as SymPy
expressions, its hypotheses, a justification, and ``check()``/``prove()``.
:func:`verify` proves them all (``python -m gmmderive verify``); ``python -m
gmmderive.symbolic`` prints each step's verdict beside the numeric second checker's
(:func:`report`). The steps are defined one module per part of the lecture (``model``,
``ch04_joint``, ... ``ch20_two_dimensions``, ``exercises``, ``weighted``, ``rate``);
:mod:`~gmmderive.symbolic.derivation` is their catalogue.
"""

from __future__ import annotations

import multiprocessing

from ._printing import LectureLatexPrinter, init_printing, latex
from ._step import KINDS, Hypothesis, Proof, ProofError, Step, claim
from ._step import book_axioms as axioms
from ._step import register as _register  # the kernel's, not the reader's: a registered step is a theorem
from ._symbols import D, I, N, Q, Q_hat, X, c, d, e, gamma, i, lam, mu, normal_pdf, pi, rho, rho_tilde, sigma, x, z
from .derivation import CHAPTERS, LAGRANGIAN, STEPS
from .exercises import EXERCISES
from .rate import RATE_STEPS
from .weighted import WEIGHTED_STEPS

#: The derivation's steps and the exercises' solutions, chapter by chapter.
ALL_STEPS = tuple(sorted(STEPS + EXERCISES + WEIGHTED_STEPS + RATE_STEPS, key=lambda s: s.chapter))
_register(ALL_STEPS)  # claim(..., using=["S24"]) and axioms() know the book's steps


def step(step_id: str) -> Step:
    """The step with this id (``"S14"``, ``"J1"``, ``"X10.1"``, ...)."""
    for s in ALL_STEPS:
        if s.id == step_id:
            return s
    raise KeyError(f"no step {step_id!r}; the ids are {', '.join(s.id for s in ALL_STEPS)}")


def steps(chapter: int | None = None) -> tuple:
    """All steps (the derivation's and the exercises'), or those of one chapter, in order."""
    if chapter is None:
        return ALL_STEPS
    if chapter not in CHAPTERS:
        raise ValueError(f"no chapter {chapter!r}; the chapters are {min(CHAPTERS)}-{max(CHAPTERS)}")
    return tuple(s for s in ALL_STEPS if s.chapter == chapter)


def verify(chapter: int | None = None) -> list:
    """Check every step (or one chapter's); returns the list of :class:`Proof`."""
    return [s.check() for s in steps(chapter)]


def _audit_of(step_id: str) -> dict:
    return step(step_id).check().audit()


def audit(chapter: int | None = None, jobs: int = 1) -> list:
    """Check every step (or one chapter's) and return each proof's :meth:`Proof.audit`, in order.

    ``jobs > 1`` checks the steps in that many forked processes (where the platform forks);
    the proofs are independent, so the result is the same.
    """
    chosen = steps(chapter)
    if jobs > 1 and len(chosen) > 1 and "fork" in multiprocessing.get_all_start_methods():
        with multiprocessing.get_context("fork").Pool(min(jobs, len(chosen))) as pool:
            return pool.map(_audit_of, [s.id for s in chosen], chunksize=1)
    return [s.check().audit() for s in chosen]


def _numeric_verdict(row: dict) -> str:
    numeric = row.get("numeric", "")
    if not numeric:
        return "not run (the kernel refused the step first)" if not row["passed"] else "not run"
    return numeric.replace("agrees numerically at", "agrees at")


def report(audits: list) -> list:
    """The text lines of ``verify``: each step with the kernel's verdict beside the numeric
    second checker's (:mod:`~gmmderive.symbolic.crosscheck`), a failure's message, and the
    count. ``audits`` is what :func:`audit` returns."""
    lines = []
    for a in audits:
        kernel = a.get("verdict", "proven" if a["passed"] else "FAILED")
        lines.append(f"{a['id']:<5} ch{a['chapter']:<3} {a['name']:<66} {a['kind_label']:<14} "
                     f"{a['seconds']:6.2f} s  kernel: {kernel}; numeric: {_numeric_verdict(a)}")
        if not a["passed"]:
            lines.append(f"      {a['message']}")
    failed = sum(not a["passed"] for a in audits)
    lines.append(f"{len(audits) - failed} passed, {failed} failed")
    return lines


__all__ = [
    "ALL_STEPS", "EXERCISES", "audit", "axioms", "claim", "CHAPTERS", "D", "Hypothesis", "I", "KINDS", "LAGRANGIAN",
    "LectureLatexPrinter", "N", "Proof",
    "ProofError", "Q", "Q_hat", "STEPS", "Step", "X", "c", "d", "e", "gamma", "i", "init_printing",
    "lam", "latex", "mu", "normal_pdf", "pi", "report", "rho", "rho_tilde", "sigma", "step", "steps", "verify",
    "x", "z",
]
