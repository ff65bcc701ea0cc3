"""Derivation steps as named, checkable objects, and their proofs.

A :class:`Step` is one equality of the lecture, ``lhs = rhs``: its id, chapter
and name, the two sides as SymPy expressions, the hypotheses it may use, a
one-line justification, and a proof method. :meth:`Step.check` runs the proof
and returns a :class:`Proof`; :meth:`Step.prove` does the same but raises
:class:`ProofError` when it fails (the book's notebooks use it, so that a
wrong step fails the notebook).

Proof kinds, strongest first:

* ``"general"``: proven for symbolic N and D;
* ``"exact"``: proven for several concrete sizes (N, D), D >= 2, by expanding
  every sum, with exact symbolic values.

A floating-point comparison never counts as a proof.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Callable, Sequence

import sympy as sp

from ._printing import latex
from ._tactics import is_zero

KINDS = ("general", "exact")


class ProofError(AssertionError):
    """A derivation step failed its proof."""


@dataclass(frozen=True)
class Hypothesis:
    """A fact a proof may use: a statement for the reader and a rewrite for SymPy."""

    name: str
    statement: sp.Basic
    rewrite: Callable[[sp.Expr], sp.Expr] = field(compare=False, repr=False)

    def _repr_latex_(self):
        return f"$\\displaystyle {latex(self.statement)}$"


@dataclass(frozen=True)
class Proof:
    """The outcome of checking one step."""

    step: "Step"
    passed: bool
    kind: str
    seconds: float
    work: tuple = ()  # (label, SymPy expression) pairs: what SymPy computed
    message: str = ""

    def __bool__(self):
        return self.passed

    def summary(self) -> str:
        """One line: id, chapter, name, kind, result."""
        status = "proven" if self.passed else "FAILED"
        return f"{self.step.id} (chapter {self.step.chapter}) {self.step.name}: {status} ({self.kind})"

    def _repr_markdown_(self):
        mark = "✔" if self.passed else "✘"
        status = "proven" if self.passed else "FAILED"
        lines = [f"{mark} **{self.step.id} {status}** ({self.kind}) · {self.step.name}", "",
                 self.step._claim_markdown()]
        for label, expr in self.work:
            lines += ["", f"{label}:", "", f"$$ {latex(expr)} $$"]
        if self.message:
            lines += ["", self.message]
        return "\n".join(lines)

    def __repr__(self):
        return f"<Proof {self.summary()}>"


Method = Callable[["Step"], tuple]


@dataclass(frozen=True)
class Step:
    """One equality of the derivation, with its proof.

    Attributes
    ----------
    id : str
        ``"S14"`` for the lecture's steps (as in ``derivation.md``); other
        letters for the checks beyond the lecture.
    chapter : int
        Chapter of the lecture (1-14) the step belongs to.
    name : str
    lhs, rhs : sympy.Expr
        The two sides. ``lhs_display`` (if given) is what the reader sees on
        the left, for example ``∂Q̂/∂π_e`` while ``lhs`` is the derivative
        SymPy takes of the full Lagrangian.
    justification : str
        One line in words.
    method : callable
        ``method(step) -> (passed, work, message)``.
    kind : {"general", "exact"}
    hypotheses : tuple of Hypothesis
    """

    id: str
    chapter: int
    name: str
    lhs: sp.Expr
    rhs: sp.Expr
    justification: str
    method: Method = field(repr=False, compare=False)
    kind: str = "general"
    hypotheses: tuple = ()
    lhs_display: sp.Expr | None = None

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {self.kind!r}")

    @property
    def equation(self) -> sp.Eq:
        """``lhs = rhs`` as the reader sees it."""
        left = self.lhs if self.lhs_display is None else self.lhs_display
        return sp.Eq(left, self.rhs, evaluate=False)

    def check(self) -> Proof:
        """Run the proof; never raises on a wrong step (returns a failed Proof)."""
        t0 = time.perf_counter()
        try:
            passed, work, message = self.method(self)
        except Exception as exc:  # a proof that crashes is a proof that failed
            passed, work, message = False, (), f"the proof raised {type(exc).__name__}: {exc}"
        return Proof(self, bool(passed), self.kind, time.perf_counter() - t0, tuple(work), message)

    def prove(self) -> Proof:
        """Run the proof and raise :class:`ProofError` if it fails."""
        proof = self.check()
        if not proof.passed:
            raise ProofError(f"{proof.summary()}: {proof.message}")
        return proof

    def with_rhs(self, rhs) -> "Step":
        """The same step claiming another right-hand side (to show the checker rejects it)."""
        return replace(self, rhs=sp.sympify(rhs))

    def _claim_markdown(self) -> str:
        text = f"$$ {latex(self.equation)} $$\n\n*Why:* {self.justification}"
        if self.hypotheses:
            text += "\n\n*Using:* " + "; ".join(f"{h.name}, ${latex(h.statement)}$" for h in self.hypotheses)
        return text

    def _repr_markdown_(self):
        return f"**{self.id}** (chapter {self.chapter}, {self.kind}) · {self.name}\n\n{self._claim_markdown()}"

    def __repr__(self):
        return f"<Step {self.id} (chapter {self.chapter}): {self.name}>"


# --------------------------------------------------------------------------
# Proof methods
# --------------------------------------------------------------------------


def _apply(expr, transforms):
    for t in transforms:
        expr = t(expr)
    return expr


def by_rewriting(*tactics) -> Method:
    """``lhs - rhs`` reaches 0 through the tactics, then the step's hypotheses."""

    def method(step: Step):
        diff = _apply(step.lhs - step.rhs, tactics)
        for h in step.hypotheses:
            diff = _apply(h.rewrite(diff), tactics)
        ok = is_zero(diff)
        return ok, (), "" if ok else f"lhs - rhs does not vanish; left with {diff}"

    return method


def by_differentiation(objective: sp.Expr, variable: sp.Expr, *tactics) -> Method:
    """SymPy differentiates ``objective`` by ``variable``; the result must equal rhs."""

    def method(step: Step):
        derivative = _apply(sp.diff(objective, variable), tactics)
        shown = derivative
        diff = derivative - _apply(step.rhs, tactics)
        for h in step.hypotheses:
            diff = _apply(h.rewrite(diff), tactics)
        ok = is_zero(diff)
        work = [(f"SymPy's derivative by ${latex(variable)}$", shown)]
        return ok, work, "" if ok else f"derivative - rhs does not vanish; left with {diff}"

    return method


def by_solving(equation: sp.Expr, unknown: sp.Expr, *tactics) -> Method:
    """``equation = 0`` solved for ``unknown`` has exactly one admissible root: rhs."""

    def method(step: Step):
        eq = _apply(equation, tactics)
        for h in step.hypotheses:
            eq = _apply(h.rewrite(eq), tactics)
        # Sums are opaque to solve(): stand each in for a symbol while solving.
        sums = sorted(eq.atoms(sp.Sum), key=sp.default_sort_key)
        stand_in = {s: sp.Dummy(f"S{k}", positive=s.function.is_nonnegative) for k, s in enumerate(sums)}
        roots = sp.solve(eq.xreplace(stand_in), unknown, dict=False)
        back = {v: k for k, v in stand_in.items()}
        roots = [sp.sympify(r).xreplace(back) for r in roots]
        admissible = [r for r in roots if not (unknown.is_positive and r.is_negative)]
        work = [(f"SymPy's solution for ${latex(unknown)}$", admissible[0] if len(admissible) == 1 else sp.FiniteSet(*admissible))]
        if len(admissible) != 1:
            return False, work, f"expected one admissible root, SymPy found {admissible}"
        ok = is_zero(_apply(admissible[0] - step.rhs, tactics))
        return ok, work, "" if ok else "the root differs from the claimed right-hand side"

    return method


def by_chain(links: Sequence[tuple], *tactics) -> Method:
    """A chain ``lhs = a_1 = a_2 = ... = rhs``; every link proven on its own.

    ``links`` are ``(expression, justification, extra_transforms)``; the chain
    starts at ``step.lhs`` and its last link is compared with ``step.rhs``.
    """

    def method(step: Step):
        exprs = [step.lhs] + [lk[0] for lk in links] + [step.rhs]
        extras = [lk[2] for lk in links] + [()]
        work = []
        for k in range(len(exprs) - 1):
            a, b = exprs[k], exprs[k + 1]
            diff = _apply(_apply(a - b, extras[k]), tactics)
            if not is_zero(diff):
                why = links[k][1] if k < len(links) else "the last link"
                return False, work, f"link {k + 1} ({why}) fails: {latex(a)} ≠ {latex(b)}"
            work.append((links[k][1] if k < len(links) else "hence", b))
        return True, work, ""

    return method


def by_function(fn: Callable[["Step"], tuple]) -> Method:
    """A hand-written proof procedure (returns ``(passed, work, message)``)."""
    return fn
