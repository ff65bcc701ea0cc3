"""Derivation steps as named, checkable objects, and their proofs.

A :class:`Step` is one equality of the lecture, ``lhs = rhs``: its id, chapter
and name, the two sides as SymPy expressions, the hypotheses it may use, a
one-line justification, and a proof method. :meth:`Step.check` runs the proof
and returns a :class:`Proof`; :meth:`Step.prove` does the same but raises
:class:`ProofError` when it fails (the book's notebooks use it, so that a
wrong step fails the notebook).

Before any method runs, :meth:`Step.check` refuses a step that is malformed:
its two displayed sides one expression (it shows nothing), a left side other
than the one its proof computes (a derivative, an unknown), sides of different
shapes, or a hypothesis whose rewrite does not establish its own statement.

Proof kinds, strongest first:

* ``"general"``: proven for symbolic N and D (and symbolic indices);
* ``"case"``: proven symbolically for a named special case (``Step.case``, for
  example ``"D = 2"``), not for general D;
* ``"exact"``: proven for several concrete sizes (N, D), D >= 2, by expanding
  every sum, with exact symbolic values.

A floating-point comparison never counts as a proof.

What a passed step's verdict says (:attr:`Proof.verdict`): "proven" for a proof with
content; "by definition" for a step that names an expression (``Step.definition``);
"identical after evaluation" when SymPy's own evaluation makes the two sides one expression;
"restates ..." when the step's hypotheses alone, without a tactic, close it. A reader's claim
also names the declared facts (signs, nonzero, integer, on symbols, indexed bases and
functions) and the divisions it relies on ("proven, assuming γ_c > 0"), every hypothesis it
uses that is not a universal axiom (the simplex, a stationarity condition, a D = 2 fact, which
makes it a claim of case D = 2), and "not checked in numbers" when the numeric checker could
not evaluate it.

What the kernel trusts: only the steps the package registered (by identity) are theorems; a
reader's step, or a book step changed by ``with_rhs``/``with_lhs`` (a new claim, with the id
"S23 (modified)"), passed in ``using=`` is an assumption the verdict names. Only the kernel's
factories (``by_rewriting``, ``by_solving``, ...) make a :class:`Method`, and a proof
procedure decides only the book's own steps.

Known limit: SymPy evaluates an expression when it is built, so ``Σ_i ρ_e^{[i]}/ρ_e^{[i]}`` is
already ``Σ_i 1`` before the kernel sees it; the division by ρ_e^{[i]} cannot be named.
"""

from __future__ import annotations

import contextlib
import functools
import signal
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import sympy as sp

from ._printing import latex, text
from ._symbols import D, N
from ._symbols import c as _c
from ._symbols import gamma as _gamma
from ._symbols import pi as _pi
from ._symbols import sigma as _sigma
from ._tactics import (
    BinderError,
    _depends_on,
    canonical,
    constant_sums,
    expand_logs,
    index_kind,
    private_names_in,
    range_kind,
    reduce,
    sift,
    split_sums,
    swap_sums,
)

KINDS = ("general", "case", "exact")

#: How the numeric checker's report begins when it could not evaluate the claim.
NOT_CHECKED = "not evaluated in numbers"


class ProofError(AssertionError):
    """A derivation step failed its proof."""


#: Seconds a reader's claim may take (the book's own steps have no limit): past it the verdict
#: is "GAVE UP", never "proven" and never a disproof.
TIME_LIMIT = 60.0


class _GaveUp(BaseException):  # not an Exception: SymPy's own ``except Exception`` cannot swallow it
    pass


@contextlib.contextmanager
def _time_limit(seconds):
    """Raise :class:`_GaveUp` after ``seconds`` (main thread only; an outer timer is restored)."""
    if not seconds or threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    def expired(signum, frame):
        raise _GaveUp()

    old_handler = signal.signal(signal.SIGALRM, expired)
    old_delay, old_interval = signal.getitimer(signal.ITIMER_REAL)
    start = time.monotonic()
    signal.setitimer(signal.ITIMER_REAL, min(seconds, old_delay) if old_delay else seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old_handler)
        if old_delay:
            left = old_delay - (time.monotonic() - start)
            signal.setitimer(signal.ITIMER_REAL, max(left, 1e-3), old_interval)


# --------------------------------------------------------------------------
# Hypotheses: a statement, and a rewrite derived from it
# --------------------------------------------------------------------------


def _wild_for(index):
    kind = index_kind(index)
    return sp.Wild(f"{index.name}_", properties=[lambda a, kind=kind: index_kind(a) == kind])


@dataclass(frozen=True)
class Hypothesis:
    """A fact a proof may use.

    ``statement`` is an equation ``lhs = rhs`` (or, for a condition, ``expr > 0``) that
    holds for every value of the indices in ``over``. Its rewrite is *derived* from the
    statement, never written apart from it:

    * ``Σ_v g(v) = r`` (a sum on the left): a sum whose summand is a factor free of the
      index times ``g`` (indices of ``over`` matched to indices of the same kind) becomes
      that factor times ``r``;
    * any other left side: each occurrence, with the indices of ``over`` matched to indices
      of the same kind, becomes the right side. An index of ``over`` that the left side
      lacks (``λ = γ_d/π_d`` for every d) takes, inside a sum over the classes, the sum's
      own index, and elsewhere a free index of its kind.

    A condition (``expr > 0``) rewrites nothing; a proof by solving uses it to know a sum
    is positive.

    Provenance: ``source`` is ``"definition"``, ``"assumption"`` or ``"condition"`` for a
    fact taken as given (the audit lists it so), or a step's id for a *theorem*, which only
    :meth:`from_step` makes (the kernel refuses a hand-made hypothesis that names a step as
    its source). ``assumed`` says what a hypothesis takes for granted beyond its source: a
    solving step's root used for every class, for instance.
    """

    name: str
    statement: sp.Basic
    over: tuple = ()
    source: str = "assumption"
    assumed: str = ""

    @property
    def is_theorem(self) -> bool:
        """Made by :meth:`from_step` from a step the kernel proved, and unchanged since."""
        return _THEOREMS.get(self._key()) is not None

    def _key(self):
        return (self.name, self.statement, tuple(self.over), self.source, self.assumed)

    @property
    def is_condition(self) -> bool:
        return isinstance(self.statement, sp.StrictGreaterThan)

    def rewrite(self, expr):
        """``expr`` with the statement applied wherever it matches."""
        if self.is_condition:
            return expr
        lhs, rhs = canonical(self.statement.lhs), canonical(self.statement.rhs)
        expr = canonical(expr)
        if isinstance(lhs, sp.Sum) and len(lhs.limits) == 1:
            return canonical(self._sum_rule(expr, lhs, rhs))
        return canonical(self._substitution_rule(expr, lhs, rhs))

    def _sum_rule(self, expr, lhs, rhs):
        (v, lo, hi), g = lhs.limits[0], lhs.function
        wilds = {o: _wild_for(o) for o in self.over}

        def apply(s):
            for k, lim in enumerate(s.limits):
                if tuple(lim[1:]) != (lo, hi):
                    continue
                u = lim[0]
                if _depends_on(s.limits, k):  # another limit's bounds name u: it cannot go
                    continue
                pattern = g.xreplace({v: u, **wilds})
                for factor in sp.Mul.make_args(s.function):
                    m = factor.match(pattern)
                    if m is None or any(u in sp.sympify(val).free_symbols for val in m.values()):
                        continue
                    rest = s.function / factor
                    if u in rest.free_symbols:
                        continue
                    value = rest * rhs.xreplace({o: m.get(w, o) for o, w in wilds.items()})
                    others = s.limits[:k] + s.limits[k + 1:]
                    return sp.Sum(value, *others) if others else value
            return s

        return expr.replace(lambda a: isinstance(a, sp.Sum), apply)

    def _substitution_rule(self, expr, lhs, rhs):
        missing = [o for o in self.over if o not in lhs.free_symbols]
        if not missing:
            wilds = {o: _wild_for(o) for o in self.over}
            if not wilds:
                return expr.xreplace({lhs: rhs}) if lhs.is_Atom else expr.replace(lhs, rhs)
            return expr.replace(lhs.xreplace(wilds), rhs.xreplace(wilds))
        if len(missing) != 1 or not lhs.is_Atom:
            raise ValueError(f"hypothesis {self.name!r}: cannot derive a rewrite from its statement")
        o = missing[0]
        kind = index_kind(o)

        def in_sum(s):
            for lim in s.limits:
                if range_kind(lim) == kind and s.function.has(lhs):
                    return sp.Sum(s.function.xreplace({lhs: rhs.xreplace({o: lim[0]})}), *s.limits)
            return s

        expr = expr.replace(lambda a: isinstance(a, sp.Sum), in_sum)
        free = sorted((s for s in expr.free_symbols if index_kind(s) == kind), key=sp.default_sort_key)
        return expr.xreplace({lhs: rhs.xreplace({o: free[0]})}) if free and expr.has(lhs) else expr

    def fold(self, expr):
        """``expr`` with the statement applied right to left: a definition ``γ_c = Σ_i ρ_c^{[i]}``
        turns each ``Σ_i ρ_e^{[i]}`` (e of the kind of c) back into ``γ_e``.

        Only for a statement whose left side is a positive symbol or entry carrying every index
        of ``over``, and whose right side is a sum over one index; anything else is unchanged.
        A proof by solving folds its equation, so that the sign the left side's symbol
        carries (γ_e > 0) is known where the sum would only be nonnegative.
        """
        if self.is_condition:
            return expr
        lhs, rhs = self.statement.lhs, canonical(self.statement.rhs)
        if not (isinstance(lhs, (sp.Symbol, sp.Indexed)) and lhs.is_positive and isinstance(rhs, sp.Sum)
                and len(rhs.limits) == 1 and set(self.over) <= lhs.free_symbols):
            return expr
        (v, lo, hi), g = rhs.limits[0], rhs.function
        wilds = {o: _wild_for(o) for o in self.over}

        def apply(s):
            if len(s.limits) != 1 or tuple(s.limits[0][1:]) != (lo, hi):
                return s
            u = s.limits[0][0]
            m = s.function.match(g.xreplace({v: u, **wilds}))
            if m is None or set(m) != set(wilds.values()) or any(u in sp.sympify(val).free_symbols
                                                                  for val in m.values()):
                return s
            return lhs.xreplace({o: m[w] for o, w in wilds.items()})

        return canonical(canonical(expr).replace(lambda a: isinstance(a, sp.Sum), apply))

    def check(self) -> bool:
        """Whether the rewrite turns the statement's own ``lhs - rhs`` into 0."""
        return _hypothesis_holds(self)

    def _repr_latex_(self):
        return f"$\\displaystyle {latex(self.statement)}$"

    @classmethod
    def from_step(cls, step: Step, name: str | None = None, over: tuple | None = None,
                  assumed: str = "") -> Hypothesis:
        """A proven general step as a fact for other proofs: the kernel's theorem.

        An equality proven by rewriting holds for every value of its free indices. A solving
        step proves less: its left side is *the root of one equation*, so the fact holds for
        the indices its unknown carries (μ_e of S24, for every e) and no others: X11.1's m is
        the root for class e, not every class's mean. Quantifying over more (``over``) is an
        assumption, and ``assumed`` must say why it holds (the stationarity conditions hold
        at once for every class); the audit shows it. The step's proof is checked when the
        hypothesis is used.
        """
        if step.kind != "general" or step.relation != "=":
            raise ValueError(f"step {step.id} is not a general equality; it cannot serve as a hypothesis")
        indices = lambda ex: {s for s in ex.free_symbols if index_kind(s)}  # noqa: E731
        allowed = indices(step.lhs) if step.method.name == "solving" else indices(step.lhs) | indices(step.rhs)
        if over is None:
            over = tuple(sorted(allowed, key=sp.default_sort_key))
        beyond = [o for o in over if o not in allowed]
        if beyond and not assumed:
            raise ValueError(f"step {step.id} proves a root for one value of {', '.join(map(str, beyond))}; "
                             "for every value it is an assumption: say why in assumed=")
        h = cls(name or f"{step.name} ({step.id})", sp.Eq(step.lhs, step.rhs, evaluate=False), tuple(over), step.id,
                assumed if beyond else "")
        _THEOREMS[h._key()] = step
        return h


#: Hypotheses the kernel made from steps (key -> the step): a theorem is one of these, and
#: its step must still pass when the hypothesis is used.
_THEOREMS: dict = {}


@functools.cache
def _step_proven(step) -> bool:
    return step.check().passed


@functools.cache
def _hypothesis_holds(h: Hypothesis) -> bool:
    if h.is_condition:
        return True
    return reduce(h.rewrite(h.statement.lhs - h.statement.rhs)) == 0


# --------------------------------------------------------------------------
# Proofs
# --------------------------------------------------------------------------


#: Set while :meth:`Step.check` makes a Proof: no other code can make one.
_MINTING = threading.local()
#: The proofs the kernel issued (by identity): a copy made otherwise is not proven.
_ISSUED = weakref.WeakValueDictionary()


@dataclass(frozen=True)
class Proof:
    """The outcome of checking one step.

    Only :meth:`Step.check` makes one (the LCF discipline: a theorem comes from the kernel
    alone). Calling ``Proof(...)`` or ``dataclasses.replace(proof, ...)`` elsewhere raises
    ``TypeError``; a proof obtained otherwise (a copy) reports ``passed`` False.
    """

    step: Step
    passed: bool
    kind: str
    seconds: float
    work: tuple = ()  # (label, SymPy expression) pairs: what SymPy computed
    message: str = ""
    numeric: str = field(default="", compare=False)  # what the independent numeric check found
    #: What the step shows when it has no content of its own: "by definition", "identical
    #: after evaluation", "restates ..." ("" for a proof with content).
    shows: str = field(default="", compare=False)
    #: Signs declared on the claim's symbols that a reader's claim relies on (γ_e > 0 ...).
    relies: tuple = field(default=(), compare=False)

    def __post_init__(self):
        if not getattr(_MINTING, "active", False):
            raise TypeError("a Proof is made by Step.check alone")
        _ISSUED[id(self)] = self

    def __getattribute__(self, name):
        value = object.__getattribute__(self, name)
        if name == "passed" and value:
            return _ISSUED.get(id(self)) is self
        return value

    def __bool__(self):
        return self.passed

    def summary(self) -> str:
        """One line: id, chapter, name, kind, result, and the reader's own assumptions if any.

        A hypothesis of the book is listed by :func:`~gmmderive.symbolic.axioms`; any other
        one taken as given (a reader's ``Hypothesis``) is named here: "proven, assuming h".
        """
        step = self.step
        return f"{step.id} (chapter {step.chapter}) {step.name}: {self._status()} ({step.kind_label})"

    def _status(self, book_hypotheses: bool = True) -> str:
        status = self.verdict
        if not self.passed:
            return status
        if _is_book_step(self.step):
            own = [h.name for h in self.step.hypotheses if h.source in _GIVEN and h not in book_axioms()]
            own = own if book_hypotheses else []
        else:  # a reader's step names every hypothesis it used that is not a universal axiom
            own = [h.name for h in self.step.hypotheses if not _universal(h)]
        own += list(self.relies)
        if self.numeric.startswith(NOT_CHECKED):
            status += ", not checked in numbers"
        if own:
            status += ", assuming " + "; ".join(own)
        return status

    @property
    def verdict(self) -> str:
        """"proven", or what a step without content shows ("by definition", "identical after
        evaluation", "restates ..."), or "FAILED"."""
        if not self.passed:
            return "GAVE UP (not decided in time)" if self.shows == "gave up" else "FAILED"
        return self.shows or "proven"

    def audit(self) -> dict:
        """What the proof assumed and used: for ``verify --json``."""
        return {
            "id": self.step.id, "chapter": self.step.chapter, "name": self.step.name,
            "kind": self.kind, "case": self.step.case, "kind_label": self.step.kind_label,
            "relation": self.step.relation,
            "method": self.step.method.name, "tactics": list(self.step.method.tactics),
            "hypotheses": [{"name": h.name, "statement": sp.sstr(h.statement), "over": [str(o) for o in h.over],
                            "source": h.source} for h in self.step.hypotheses],
            "passed": self.passed, "verdict": self.verdict, "seconds": round(self.seconds, 4),
            "message": self.message, "numeric": self.numeric,
            "assumptions": [a for h in self.step.hypotheses for a in _assumptions_of(h)]
            + list(symbol_assumptions(self.step)),
            "relies_on": list(self.relies),
        }

    def _repr_markdown_(self):
        # One line with the verdict; the text beside it already shows the equation in the
        # lecture's form. What SymPy checked and computed folds away (open for key steps and
        # for a failure), so a reader who wants every detail still gets it.
        mark = ("≡" if self.shows else "✔") if self.passed else "✘"  # no ✔ for a step without content
        status = self._status(book_hypotheses=False)
        head = f"{mark} **{self.step.id} {status}** ({self.step.kind_label}) · {self.step.name}"
        body = [self.step._claim_markdown()]
        for label, expr in self.work:
            body += [f"{label}:", f"$$ {latex(expr)} $$"]
        if self.message:
            body.append(self.message)
        opened = " open" if (self.step.key or not self.passed) else ""
        return "\n\n".join([head, f"<details class=\"proof-work\"{opened}>",
                             "<summary>How SymPy checked it</summary>", *body, "</details>"])

    def __repr__(self):
        return f"<Proof {self.summary()}>"


#: Set while a factory of this module makes a Method; the methods it made, by identity.
_MAKING_METHOD = threading.local()
_METHODS: dict = {}


def _method(*args, **kwargs):
    _MAKING_METHOD.active = True
    try:
        return Method(*args, **kwargs)
    finally:
        _MAKING_METHOD.active = False


@dataclass(frozen=True)
class Method:
    """A proof method: ``run(step) -> (passed, work, message)``, with what it uses.

    ``expects`` lists the left sides this method proves something about (the unknown it
    solves for, the derivative it takes); None when it works on ``lhs - rhs`` itself.
    """

    name: str
    run: Callable = field(repr=False)
    tactics: tuple = ()
    expects: tuple | None = None
    relation: str = "="  # what it proves: "=" or ">=" (a procedure for an inequality)
    spec: tuple = field(default=(), repr=False, compare=False)  # (key, value) pairs for the numeric check

    def __post_init__(self):
        # Only the kernel's factories (by_rewriting, by_solving, ...) make a Method: a proof
        # method written elsewhere (run = lambda s: (True, (), "")) is never run by Step.check.
        if not getattr(_MAKING_METHOD, "active", False):
            raise TypeError("a Method is made by the kernel's by_rewriting, by_solving, by_differentiation, "
                            "by_chain or by_procedure alone")
        _METHODS[id(self)] = (self, (self.name, self.run, self.tactics, self.expects, self.relation, self.spec))

    def __call__(self, step):
        return self.run(step)

    @property
    def is_kernels(self) -> bool:
        """Made by one of the kernel's factories, and unchanged since."""
        entry = _METHODS.get(id(self))
        return entry is not None and entry[0] is self and entry[1] == (
            self.name, self.run, self.tactics, self.expects, self.relation, self.spec)

    def part(self, key, default=None):
        """One item of ``spec``: the equation a solving proof solves, the objective it differentiates."""
        return dict(self.spec).get(key, default)


def _tactic_name(t) -> str:
    owner = getattr(t, "__self__", None)
    if isinstance(owner, Hypothesis):
        return f"hypothesis: {owner.name}"
    return getattr(t, "__name__", repr(t)).lstrip("_")


def _is_matrix(expr) -> bool:
    return isinstance(expr, (sp.MatrixBase, sp.MatrixExpr))


@dataclass(frozen=True)
class Step:
    """One equality of the derivation, with its proof.

    Attributes
    ----------
    id : str
        ``"S14"`` for the lecture's steps (as in ``derivation.md``); other
        letters for the checks beyond the lecture.
    chapter : int
        Chapter of the book the step belongs to (0 for a reader's own claim).
    name : str
    lhs, rhs : sympy.Expr
        The two sides. ``lhs_display`` (if given) is what the reader sees on
        the left, for example ``∂Q̂/∂π_e`` while ``lhs`` is the derivative
        SymPy takes of the full Lagrangian.
    justification : str
        One line in words.
    method : Method
    kind : {"general", "case", "exact"}
    hypotheses : tuple of Hypothesis
    case : str
        For kind ``"case"``: the special case proven, e.g. ``"D = 2"``.
    relation : {"=", ">="}
        ``lhs = rhs``, or ``lhs >= rhs`` for an inequality (proved by a procedure).
    key : bool
        A result the lecture builds on (an update, λ = N, the Hessian): the book shows how
        SymPy checked it unfolded; other steps fold that away.
    definition : bool
        The step names an expression (Q̂ = its unfolding): its verdict says "by definition",
        never "proven".
    least : tuple of (symbol, int)
        The range of a general claim: N ≥ 1 and D ≥ 1 unless raised here (``((D, 3),)`` for
        a claim that holds from D = 3 on). The kernel refuses a sum that runs backwards
        somewhere in the range, where SymPy's (Karr's) convention would count it negative.
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
    case: str = ""
    relation: str = "="
    key: bool = field(default=False, compare=False)
    least: tuple = ()
    definition: bool = False

    def __init_subclass__(cls, **kwargs):
        # A subclass could override how a step is decided and mint its own "proven" (#23).
        raise TypeError("Step cannot be subclassed: only the kernel decides a step")

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {self.kind!r}")
        if (self.kind == "case") != bool(self.case):
            raise ValueError("a step of kind 'case' names its case (and only such a step)")
        if self.relation not in ("=", ">="):
            raise ValueError(f"relation must be '=' or '>=', got {self.relation!r}")

    @property
    def kind_label(self) -> str:
        label = f"case {self.case}" if self.kind == "case" else self.kind
        if self.least:
            label += ", " + ", ".join(f"{s} ≥ {k}" for s, k in self.least)
        return label

    def minimum(self, size) -> int:
        """The least value of N or D for which the step claims to hold (1 unless raised)."""
        return max([k for s, k in self.least if s == size] + [1])

    @property
    def equation(self):
        """``lhs = rhs`` (or ``lhs >= rhs``) as the reader sees it."""
        left = self.lhs if self.lhs_display is None else self.lhs_display
        if self.relation == ">=":
            return sp.GreaterThan(left, self.rhs, evaluate=False)
        return sp.Eq(left, self.rhs, evaluate=False)

    def _malformed(self) -> str:
        if not isinstance(self.method, Method) or not self.method.is_kernels:
            return "its proof method is not one the kernel made (by_rewriting, by_solving, ...): it is not run"
        if self.method.name == "procedure" and not any(b.method is self.method for b in _BOOK_STEPS.values()):
            return ("a proof procedure is Python code the kernel cannot inspect: it decides only the book's own "
                    "steps (a reader's step is proven by rewriting, solving or differentiation)")
        left = self.lhs if self.lhs_display is None else self.lhs_display
        if left == self.rhs:
            return "the two sides are one expression: the step shows nothing"
        lm, rm = _is_matrix(self.lhs), _is_matrix(self.rhs)
        if lm != rm:
            return "one side is a matrix and the other is not"
        if lm and self.lhs.shape != self.rhs.shape:
            return f"the sides have different shapes: {self.lhs.shape} and {self.rhs.shape}"
        if self.relation != "=" and self.method.name != "procedure":
            return "an inequality needs a proof procedure, not rewriting"
        if self.relation != self.method.relation:
            return f"the proof shows lhs {self.method.relation} rhs, not lhs {self.relation} rhs"
        for side in (self.lhs, self.rhs):
            problem = _unsound_names(side) or _backward_sums(side, self, backwards=self.kind != "exact",
                                                             integers=not self._book_exact)
            if problem:
                return problem
        expects = self.method.expects
        if expects is not None and not any(self.lhs == a for a in expects):
            return (f"the left side ${latex(self.lhs)}$ is not what this proof computes "
                    f"(${', '.join(latex(a) for a in expects)}$)")
        if not _is_book_step(self):
            for h in self.hypotheses:
                case = _case_of(h)
                if case and not (self.kind == "case" and self.case == case):
                    return (f"hypothesis '{h.name}' holds for {case} only: the claim is of case {case}, "
                            f"not {self.kind_label}")
        listed = {h.name for h in self.hypotheses}
        for t in self.method.tactics:
            if t.startswith("hypothesis: ") and t[len("hypothesis: "):] not in listed:
                return f"the proof uses '{t[len('hypothesis: '):]}', which is not among its hypotheses"
        for h in self.hypotheses:
            problem = _hypothesis_problem(h)
            if problem:
                return f"hypothesis '{h.name}': {problem}"
            if not h.check():
                return f"hypothesis '{h.name}': its rewrite does not establish its own statement"
        return ""

    @property
    def _book_exact(self) -> bool:
        # an exact proof of the book's (WT11's repeated samples) instantiates every size and
        # weight with integers before it sums: its bounds (Σ_i w_i - 1) are integers there
        return self.kind == "exact" and any(b.method is self.method for b in _BOOK_STEPS.values())

    def check(self) -> Proof:
        """Run the proof, then the independent numeric check; never raises on a wrong step.

        The step is proven only when both agree: the symbolic proof passes and the two sides
        (or the procedure's claim) agree numerically at random instances (see
        :mod:`~gmmderive.symbolic.crosscheck`). A disagreement there is a kernel bug.
        """
        t0 = time.perf_counter()
        numeric, relies = "", ()
        try:
            with _time_limit(None if _is_book_step(self) else TIME_LIMIT):
                passed, work, message, numeric, shows, relies = self._decide()
        except _GaveUp:
            passed, work, message, shows = False, (), (
                f"gave up after {TIME_LIMIT:g} s: the kernel could not decide the claim in time "
                "(this is no disproof)"), "gave up"
        _MINTING.active = True
        try:
            return Proof(self, bool(passed), self.kind, time.perf_counter() - t0, tuple(work), message, numeric,
                         shows=shows, relies=tuple(relies))
        finally:
            _MINTING.active = False

    def _decide(self):
        from .crosscheck import cross_examine

        numeric, shows, relies = "", "", ()
        try:
            problem = self._malformed()
            if problem:
                passed, work, message = False, (), problem
            else:
                passed, work, message = self.method(self)
                if passed:
                    agree, numeric = cross_examine(self)
                    if not agree:
                        passed = False
                        message = f"the symbolic proof passed, but the numeric check disagrees: {numeric}"
                if passed:
                    shows = _without_content(self)
                    relies = _relied_on(self) if not _is_book_step(self) else ()
        except Exception as exc:  # a proof that crashes is a proof that failed
            passed, work, message = False, (), f"the proof raised {type(exc).__name__}: {exc}"
        return passed, work, message, numeric, shows, relies

    def prove(self) -> Proof:
        """Run the proof and raise :class:`ProofError` if it fails."""
        proof = self.check()
        if not proof.passed:
            raise ProofError(f"{proof.summary()}: {proof.message}")
        return proof

    def with_rhs(self, rhs) -> Step:
        """The same step claiming another right-hand side (to test an answer, or show a wrong one rejected)."""
        return replace(self, id=self._modified_id, rhs=sp.sympify(rhs))

    def with_lhs(self, lhs) -> Step:
        """The same step claiming another left-hand side (its display follows)."""
        return replace(self, id=self._modified_id, lhs=sp.sympify(lhs), lhs_display=None)

    @property
    def _modified_id(self) -> str:
        # a changed step is a new claim, never shown under the book's own id
        return self.id if self.id.endswith(" (modified)") else f"{self.id} (modified)"

    def _equation_latex(self) -> str:
        left = self.lhs if self.lhs_display is None else self.lhs_display
        if _is_matrix(self.rhs) and self.relation == "=" and max(len(latex(v)) for v in self.rhs) > 60:
            # a matrix of long entries, one entry per line: (Σ_e)_{12} = ...
            rows, cols = self.rhs.shape
            lines = [rf"\left({latex(left)}\right)_{{{r + 1}{c + 1}}} &= {latex(self.rhs[r, c])}"
                     for r in range(rows) for c in range(cols)]
            return r"\begin{aligned} " + r" \\ ".join(lines) + r" \end{aligned}"
        return latex(self.equation)

    def _claim_markdown(self) -> str:
        text = f"$$ {self._equation_latex()} $$\n\n*Why:* {self.justification}"
        if self.hypotheses:
            text += "\n\n*Using:* " + "; ".join(f"{h.name}, ${latex(h.statement)}$" for h in self.hypotheses)
        return text

    def _repr_markdown_(self):
        return f"**{self.id}** (chapter {self.chapter}, {self.kind_label}) · {self.name}\n\n{self._claim_markdown()}"

    def __repr__(self):
        return f"<Step {self.id} (chapter {self.chapter}): {self.name}>"


# --------------------------------------------------------------------------
# The claim checked before it is believed
# --------------------------------------------------------------------------

#: Functions that only a proof procedure uses inside itself (WT12's ℓ): never in a claim.
PRIVATE_FUNCTIONS: set = set()


def _unsound_names(expr) -> str:
    """Why ``expr`` cannot be a claim: a private name of the kernel, or a binder it cannot rename."""
    if not isinstance(expr, sp.Basic):
        return ""
    entries = list(expr) if isinstance(expr, sp.MatrixBase) else [expr]
    for a in entries:
        private = private_names_in(a)
        if private:
            return (f"the claim names the kernel's private symbol {sorted(map(str, private))[0]} "
                    "(from a proof's work, where it was bound): it could be captured")
        funcs = {f.func for f in a.atoms(sp.core.function.AppliedUndef)} & PRIVATE_FUNCTIONS
        if funcs:
            return f"the claim names {sorted(map(str, funcs))[0]}, a function private to a proof procedure"
        for der in a.atoms(sp.Derivative):
            if any(v.is_integer for v in der.variables):
                return f"a derivative in the index {der.variables[0]}: an index takes integer values only"
        problem = _declared_conflicts(a)
        if problem:
            return problem
        try:
            canonical(a)
        except BinderError as exc:
            return f"the claim is refused: {exc}"
    return ""


#: Facts a symbol may be declared to have that SymPy uses silently (|γ_e| = γ_e, 0^a = 0).
_FACTS = ("positive", "nonnegative", "negative", "nonpositive", "nonzero", "zero", "integer", "even", "odd",
          "prime", "composite", "rational", "irrational", "noninteger", "real")
#: Of these, what an index running over integers from its lower bound up may carry.
_RANGE_FACTS = ("positive", "nonnegative", "negative", "nonpositive", "nonzero", "zero", "even", "odd", "prime",
                "composite", "irrational", "noninteger")


def _declared_conflicts(expr) -> str:
    """A substitution or a bound variable whose declared assumptions the values it takes break.

    SymPy applies a symbol's declared sign when the expression is built: ``Subs(|γ_e|, γ_e, -1)``
    is ``-1`` because γ_e > 0, and ``Σ_{a=0}^{D-1} 0^a`` is 0 because a > 0 was declared although
    the sum starts at a = 0. Such a claim is refused.
    """
    for sub in expr.atoms(sp.Subs):
        for var, point in zip(sub.variables, sub.point, strict=True):
            for fact in _FACTS:
                if getattr(var, f"is_{fact}") and getattr(point, f"is_{fact}") is not True:
                    return (f"the substitution of ${latex(point)}$ for ${latex(var)}$: ${latex(var)}$ is declared "
                            f"{fact}, which ${latex(point)}$ is not shown to be (SymPy used the declaration)")
    for binder in expr.atoms(sp.Sum, sp.Product, sp.Integral):
        for lim in binder.limits:
            var = lim[0]
            if len(lim) != 3:
                continue
            facts = _RANGE_FACTS + (("integer", "rational") if isinstance(binder, sp.Integral) else ())
            step = sp.Dummy("t", nonnegative=True, integer=not isinstance(binder, sp.Integral))
            lowest = sp.sympify(lim[1]) + step
            for fact in facts:
                if getattr(var, f"is_{fact}") and getattr(lowest, f"is_{fact}") is not True:
                    return (f"the bound variable {var} is declared {fact}, which its range from "
                            f"${latex(lim[1])}$ does not give: rename it to a symbol without assumptions")
    return ""


def _backward_sums(expr, step, backwards: bool = True, integers: bool = True) -> str:
    """A sum or product whose upper bound may fall below its lower bound minus one in the range.

    SymPy evaluates such a sum by Karr's convention (Σ_{d=2}^{0} = −Σ_{d=1}^{1}), which no
    reader means: the claim must state a range where every sum runs forwards. Inside a sum,
    its index is at least its lower bound (a triangular sum Σ_{k=0}^{c} is never backwards).
    """
    if isinstance(expr, sp.MatrixBase):
        return next((p for p in (_backward_sums(v, step, backwards, integers) for v in expr) if p), "")
    if not isinstance(expr, sp.Basic):
        return ""
    at_least = {N: step.minimum(N) + sp.Dummy("n", integer=True, nonnegative=True),
                D: step.minimum(D) + sp.Dummy("d", integer=True, nonnegative=True)}

    def walk(a, env):
        if isinstance(a, sp.Subs):  # carried out first: its sums are read as the claim means them
            try:
                return walk(canonical(a), env)
            except BinderError:
                return "a substitution the kernel cannot carry out"
        if isinstance(a, (sp.Sum, sp.Product)):
            inner = dict(env)
            for lim in reversed(a.limits):  # outermost first: its index is known in the inner bounds
                if integers and (len(lim) != 3 or not all(sp.sympify(b).xreplace(inner).is_integer
                                                          for b in lim[1:])):
                    bounds = " to ".join(f"${latex(b)}$" for b in lim[1:])
                    return (f"the {type(a).__name__.lower()} over {text(lim[0])} from {bounds}: its bounds must be "
                            "integers (for every N, D and index in range), or SymPy counts terms no reader means")
                count = (lim[2] - lim[1] + 1).xreplace(inner)
                if backwards and not count.is_nonnegative:
                    return (f"the {type(a).__name__.lower()} over {text(lim[0])} from ${latex(lim[1])}$ to "
                            f"${latex(lim[2])}$ may run backwards (for N ≥ {step.minimum(N)}, D ≥ {step.minimum(D)}), "
                            "where SymPy's convention counts it negative: state the range (least=...)")
                inner[lim[0]] = lim[1].xreplace(inner) + sp.Dummy("t", integer=True, nonnegative=True)
            return walk(a.function, inner)
        for arg in a.args:
            problem = walk(arg, env)
            if problem:
                return problem
        return ""

    return walk(expr, at_least)


_GIVEN = ("definition", "assumption", "condition")


def _hypothesis_problem(h) -> str:
    """Why a hypothesis cannot be used: a forged provenance, a bad range, or a contradiction."""
    if h.source not in _GIVEN:
        step = _THEOREMS.get(h._key())
        if step is None:
            return (f"it names {h.source} as its source but is not that step's theorem "
                    "(only Hypothesis.from_step makes one)")
        if not _step_proven(step):
            return f"its source {h.source} is not proven"
    elif h.assumed:
        return "'assumed' belongs to a theorem used beyond its range (Hypothesis.from_step)"
    if any(not index_kind(o) for o in h.over):
        return "it ranges over something that is not an index (over=...)"
    for side in (h.statement.lhs, h.statement.rhs):
        problem = _unsound_names(side)
        if problem:
            return problem
    if not h.is_condition:
        difference = canonical(h.statement.lhs) - canonical(h.statement.rhs)
        if difference.is_zero is False:
            return "it contradicts what its symbols are declared to be (π > 0, σ > 0, ...)"
    elif h.statement.lhs.is_positive is False:
        return "it contradicts what its symbols are declared to be"
    return ""


#: The signs the book's symbols carry, as the assumptions they are: SymPy uses them silently
#: (0^γ_e = 0, log(π_e σ_e) = log π_e + log σ_e), so :func:`book_axioms` lists them first.
SIGNS = tuple(
    Hypothesis(text, sp.StrictGreaterThan(base[c_], 0, evaluate=False), over=(c_,), source="assumption")
    for base, c_, text in [
        (_gamma, _c, "every class has positive responsibility γ_c > 0 (no class is empty)"),
        (_pi, _c, "every weight is positive, π_c > 0"),
        (_sigma, _c, "every standard deviation is positive, σ_c > 0"),
    ]
)


#: The book's steps by id, registered by the package (``gmmderive.symbolic``) once it has
#: gathered them: the kernel never imports the step lists (no import cycle).
_BOOK_STEPS: dict = {}


def _is_book_step(step) -> bool:
    """One of the book's steps as the package registered it (by identity): not a copy, not a
    modified step (``with_rhs``), not a reader's own."""
    return _BOOK_STEPS.get(step.id) is step


def _universal(h) -> bool:
    """A hypothesis a reader's verdict need not name: a declared sign of the book's symbols, a
    definition that a general step of the book uses, or a theorem of a book step within its range."""
    if h in SIGNS:
        return True
    if h.source == "definition":
        return any(h in b.hypotheses for b in _BOOK_STEPS.values() if b.kind == "general")
    if h.source not in _GIVEN and not h.assumed:
        step = _THEOREMS.get(h._key())
        return step is not None and _is_book_step(step)
    return False


def _case_of(h) -> str:
    """The case (``"D = 2"``) of a book hypothesis that only steps of that case use, else ""."""
    users = [b for b in _BOOK_STEPS.values() if h in b.hypotheses]
    cases = {b.case for b in users}
    if users and len(cases) == 1 and all(b.kind == "case" for b in users):
        return cases.pop()
    return ""


def register(steps) -> None:
    """Make the book's steps known to :func:`claim` (by id) and :func:`book_axioms`."""
    _BOOK_STEPS.update({s.id: s for s in steps})


def book_axioms() -> tuple:
    """Every hypothesis the book takes as given (the symbols' signs, definitions, assumptions,
    conditions, and theorems used beyond their range), from the book's steps: HOL's ``axioms()``."""
    found = list(SIGNS)
    for step in _BOOK_STEPS.values():
        for h in step.hypotheses:
            if (h.source in _GIVEN or h.assumed) and h not in found:
                found.append(h)
    return tuple(found)


def _assumptions_of(h) -> list:
    """What a hypothesis asks the reader to accept, for the audit (a theorem: nothing)."""
    if h.source not in _GIVEN:
        return [f"{h.name}: {h.assumed}"] if h.assumed else []
    return [f"{h.name} ({h.source}): {sp.sstr(h.statement)}"]


#: What each declared symbol's assumption means, in the reader's words.
_SYMBOL_MEANING = {
    "gamma": "γ_c > 0: every class has positive responsibility (is not empty)",
    "pi": "π_c > 0: every weight is positive",
    "sigma": "σ_c > 0: a standard deviation",
    "rho": "ρ_c^{[i]} ≥ 0",
    "rhotilde": "ρ̃_c^{[i]} ≥ 0",
    "N": "N ≥ 1 samples",
    "D": "D ≥ 1 classes",
}


def symbol_assumptions(step) -> list:
    """The positivity the step's symbols carry (γ_c > 0 ...): assumptions, listed in the audit."""
    names = set()
    for side in (step.lhs, step.rhs, *[h.statement for h in step.hypotheses]):
        if isinstance(side, sp.Basic):
            names |= {a.base.label.name for a in side.atoms(sp.Indexed)}
            names |= {s.name for s in side.free_symbols}
    found = [text for key, text in _SYMBOL_MEANING.items() if key in names]
    if step.least:
        found.append("range: " + ", ".join(f"{s} ≥ {k}" for s, k in step.least))
    return found


def _without_content(step) -> str:
    """What a passed step shows when its equality has no content of its own, else "".

    A definition says so. A step proven by rewriting whose sides are one expression once
    SymPy evaluates them (B1's D - 1 + D + D = 3D - 1) shows an evaluation; one whose
    difference vanishes by its hypotheses alone, with no tactic (S12: g(π) = 0 *is* the
    simplex), restates them.
    """
    if step.definition:
        return "by definition"
    if step.method.name != "rewriting" or step.relation != "=" or _is_matrix(step.lhs) or _is_matrix(step.rhs):
        return ""
    if canonical(step.lhs) == canonical(step.rhs):
        return "identical after evaluation"
    if step.hypotheses:
        diff = canonical(step.lhs - step.rhs)
        for h in step.hypotheses:
            diff = canonical(h.rewrite(diff))
        if diff == 0:
            return "restates " + ", ".join(h.source if h.source not in _GIVEN else h.name for h in step.hypotheses)
    return ""


def _declared_facts(obj) -> tuple:
    """The facts (positive, nonzero, integer, ...) a symbol, an indexed base or a function declares."""
    s = obj.label if isinstance(obj, sp.IndexedBase) else obj
    if isinstance(s, sp.core.function.UndefinedFunction):
        return tuple(f for f in _FACTS if f != "real" and getattr(s(sp.Dummy()), f"is_{f}"))
    return tuple(f for f in _FACTS if f != "real" and getattr(s, f"is_{f}"))


def _weak_copy(obj):
    """``obj`` without its declared facts: real if it was real, else with no assumption."""
    if isinstance(obj, sp.IndexedBase):
        return sp.IndexedBase(obj.label.name, **({"real": True} if obj.label.is_real else {}))
    if isinstance(obj, sp.core.function.UndefinedFunction):
        return sp.Function(obj.__name__, **({"real": True} if obj(sp.Dummy()).is_real else {}))
    return sp.Symbol(obj.name, **({"real": True} if obj.is_real else {}))


def _signed_families(step) -> dict:
    """The symbols, indexed bases and functions of a step that declare a fact SymPy may use
    silently (γ > 0, ρ ≥ 0, K an integer, b ≠ 0, f > 0 ...), by name, each with its copy that
    declares nothing but being real. Sizes and indices keep theirs."""
    from ._tactics import index_kind

    found = {}
    sides = [step.lhs, step.rhs, *[h.statement for h in step.hypotheses]]
    for side in sides:
        if not isinstance(side, sp.Basic):
            continue
        for a in side.atoms(sp.IndexedBase):
            if _declared_facts(a):
                found[a] = _weak_copy(a)
        for s in side.free_symbols:
            if isinstance(s, sp.Symbol) and not isinstance(s, sp.Dummy) and s not in (N, D) \
                    and not index_kind(s) and _declared_facts(s):
                found[s] = _weak_copy(s)
        for f in side.atoms(sp.core.function.AppliedUndef):
            if _declared_facts(f.func):
                found[f.func] = _weak_copy(f.func)
    return found


def _weaken(expr, swap):
    """``expr`` with the chosen symbols, bases and functions replaced by their weak copies."""
    if not isinstance(expr, sp.Basic):
        return expr
    atoms = {k: v for k, v in swap.items() if not isinstance(k, sp.core.function.UndefinedFunction)}
    funcs = {k: v for k, v in swap.items() if isinstance(k, sp.core.function.UndefinedFunction)}
    expr = expr.xreplace(atoms)
    if funcs:
        expr = expr.replace(lambda a: isinstance(a, sp.core.function.AppliedUndef) and a.func in funcs,
                            lambda a: funcs[a.func](*a.args))
    return expr


#: How a verdict names the sign of an indexed symbol the audit does not describe.
_SIGN_NAMES = {"w": "w_i", "q": "q_z", "p": "p_z", "alpha": "α_c", "pnew": "p'_d"}
_FACT_TEXT = {"positive": "> 0", "nonnegative": "≥ 0", "negative": "< 0", "nonpositive": "≤ 0",
              "zero": "= 0", "nonzero": "≠ 0"}


def _sign_text(obj) -> str:
    s = obj.label if isinstance(obj, sp.IndexedBase) else obj
    name = s.__name__ if isinstance(s, sp.core.function.UndefinedFunction) else s.name
    meaning = _SYMBOL_MEANING.get(name)
    if meaning:
        return meaning.split(":")[0]
    facts = _declared_facts(obj)
    shown = _SIGN_NAMES.get(name, name)
    sign = next((_FACT_TEXT[f] for f in _FACT_TEXT if f in facts), "")
    rest = [f for f in facts if f in ("integer", "even", "odd", "prime", "composite", "rational", "irrational",
                                       "noninteger")]
    if "integer" in rest:
        rest = [f for f in rest if f not in ("rational",)]
    text_ = f"{shown} {sign}" if sign else shown
    if rest:
        text_ += (", " if sign else " ") + " ".join(rest)
    if isinstance(s, sp.core.function.UndefinedFunction):
        text_ = text_.replace(shown, f"{shown}(·)", 1)
    return text_


def _relied_on(step) -> list:
    """The declared facts a passed claim needs: its proof run again with each removed.

    A symbol's declared fact is a convention SymPy applies silently (0^γ_e = 0 because γ_e > 0
    is declared; (KX + K)/K = X + 1 because K > 0); the verdict names every one the proof could
    not do without: "proven, assuming γ_c > 0".
    """
    families = _signed_families(step)
    found = set()
    # A division is a condition too: SymPy cancels a/a = 1 whatever a is. A denominator the
    # declarations make nonzero relies on them; one that may be 0 is named: "assuming
    # Σ_i ρ_e^{[i]} ≠ 0". A power whose exponent may be negative (x^{-e}, a^{1-D}) divides too.
    for side in (step.lhs, step.rhs):
        if not isinstance(side, sp.Expr):
            continue
        for b in {a.base for a in canonical(side).atoms(sp.Pow) if a.exp.is_nonnegative is not True}:
            if b.is_zero is False:
                weak = _weaken(b, families)
                if weak.is_zero is not False:
                    found |= {_sign_text(k) for k in families if b.has(k) or _uses_function(b, k)}
            else:
                found.add(f"{text(b)} ≠ 0")
    if not families:
        return sorted(found)

    def passes_without(chosen):
        swap = {k: families[k] for k in chosen}
        weak = replace(step, lhs=_weaken(step.lhs, swap), rhs=_weaken(step.rhs, swap),
                       hypotheses=tuple(replace(h, statement=_weaken(h.statement, swap)) for h in step.hypotheses))
        try:
            return bool(step.method(weak)[0])
        except Exception:
            return False

    if not passes_without(list(families)):
        needed = [k for k in families if not passes_without([k])] or list(families)
        found |= {_sign_text(k) for k in needed}
    return sorted(found)


def _uses_function(expr, f) -> bool:
    return isinstance(f, sp.core.function.UndefinedFunction) and any(
        a.func == f for a in expr.atoms(sp.core.function.AppliedUndef))


# --------------------------------------------------------------------------
# Proof methods
# --------------------------------------------------------------------------


def _apply(expr, transforms):
    for t in transforms:
        expr = t(canonical(expr))
    return expr


def _leftover(expr) -> str:
    return f"${latex(expr)}$"


def by_rewriting(*tactics) -> Method:
    """``lhs - rhs`` reaches 0 through the tactics, then the step's hypotheses."""

    def run(step: Step):
        diff = _apply(step.lhs - step.rhs, tactics)
        for h in step.hypotheses:
            diff = _apply(h.rewrite(diff), tactics)
        left = reduce(diff)
        ok = left == 0
        return ok, (), "" if ok else f"lhs − rhs does not vanish; it reduces to {_leftover(left)}"

    return _method("rewriting", run, tuple(_tactic_name(t) for t in tactics))


def by_differentiation(objective: sp.Expr, variable: sp.Expr, *tactics, named: sp.Expr | None = None) -> Method:
    """SymPy differentiates ``objective`` by ``variable``; the result must equal rhs.

    The step's lhs must be that derivative: ``Derivative(named, variable)``, with ``named``
    the symbol the reader sees for the objective (``Q̂``), or the derivative of the
    objective itself, unevaluated.
    """

    def run(step: Step):
        derivative = _apply(sp.diff(objective, variable), tactics)
        diff = derivative - _apply(step.rhs, tactics)
        for h in step.hypotheses:
            diff = _apply(h.rewrite(diff), tactics)
        left = reduce(diff)
        ok = left == 0
        work = [(f"SymPy's derivative by ${latex(variable)}$", derivative)]
        return ok, work, "" if ok else f"derivative − rhs does not vanish; it reduces to {_leftover(left)}"

    expects = (sp.Derivative(objective, variable, evaluate=False),)
    if named is not None:
        expects += (sp.Derivative(named, variable, evaluate=False),)
    return _method("differentiation", run, ("diff",) + tuple(_tactic_name(t) for t in tactics), expects,
                  spec=(("objective", objective), ("variable", variable)))


def _positive_sums(step):
    return {canonical(h.statement.lhs) for h in step.hypotheses if h.is_condition and h.statement.rhs == 0}


def by_solving(equation: sp.Expr, unknown: sp.Expr, *tactics) -> Method:
    """``equation = 0`` solved for ``unknown`` (the step's lhs) has exactly one admissible root: rhs.

    While solving, each sum stands in for a symbol: nonnegative if its summand is, positive
    only if a condition among the step's hypotheses says so.
    """

    def run(step: Step):
        eq = canonical(_apply(equation, tactics))
        for h in step.hypotheses:
            eq = canonical(_apply(h.rewrite(eq), tactics))
        for h in step.hypotheses:  # a definition's name back where its sum stands (γ_e, known > 0)
            eq = h.fold(eq)
        positive = _positive_sums(step)
        sums = sorted(eq.atoms(sp.Sum), key=sp.default_sort_key)
        stand_in = {}
        for k, s in enumerate(sums):
            if s in positive:
                stand_in[s] = sp.Dummy(f"S{k}", positive=True)
            else:
                stand_in[s] = sp.Dummy(f"S{k}", nonnegative=True) if s.function.is_nonnegative else sp.Dummy(f"S{k}")
        standing = eq.xreplace(stand_in)
        numerator, _ = sp.fraction(sp.together(standing))
        # SymPy's roots are all the roots only for a polynomial of degree at most 4 (sin σ = 0
        # has roots π, 2π, ... of which solve returns one): anything else is refused.
        if not numerator.is_polynomial(unknown) or sp.degree(numerator, unknown) > 4:
            return False, (), (f"the equation is not a rational function of ${latex(unknown)}$ of degree at most 4: "
                               "SymPy's solve may miss roots, so 'the one admissible root' is not shown")
        found = [sp.sympify(r) for r in sp.solve(standing, unknown, dict=False)]
        back = {v: k for k, v in stand_in.items()}
        # For a positive unknown (σ, π), a root counts only if SymPy shows it positive
        # (with the sums as their stand-ins, which carry what is known of their sign).
        admissible = [r.xreplace(back) for r in found if not unknown.is_positive or r.is_positive]
        undecided = [r.xreplace(back) for r in found if unknown.is_positive and r.is_positive is None]
        shown = admissible[0] if len(admissible) == 1 else sp.FiniteSet(*admissible)
        work = [(f"SymPy's solution for ${latex(unknown)}$", shown)]
        if undecided:
            return False, work, (f"the root ${latex(undecided[0])}$ is not shown positive, "
                                 f"as ${latex(unknown)}$ must be: a condition is missing")
        if len(admissible) != 1:
            return False, work, (f"expected one admissible root, SymPy found {len(admissible)}: "
                                 f"${latex(sp.FiniteSet(*admissible))}$")
        left = _apply(step.rhs - admissible[0], tactics)
        for h in step.hypotheses:  # the claim may write a defined name out (Σ_i ρ_e^{[i]} for γ_e)
            left = _apply(h.rewrite(left), tactics)
        left = reduce(left)
        ok = left == 0
        return ok, work, "" if ok else (f"the root is ${latex(admissible[0])}$; the claimed right-hand side "
                                        f"minus the root reduces to {_leftover(left)}")

    return _method("solving", run, ("solve",) + tuple(_tactic_name(t) for t in tactics), (unknown,),
                  spec=(("equation", equation), ("unknown", unknown)))


def by_chain(links: Sequence[tuple], *tactics) -> Method:
    """A chain ``lhs = a_1 = a_2 = ... = rhs``; every link proven on its own.

    ``links`` are ``(expression, justification, extra_transforms)``; the chain
    starts at ``step.lhs`` and its last link is compared with ``step.rhs``.
    """

    def run(step: Step):
        exprs = [step.lhs] + [lk[0] for lk in links] + [step.rhs]
        extras = [lk[2] for lk in links] + [()]
        work = []
        for k in range(len(exprs) - 1):
            a, b = exprs[k], exprs[k + 1]
            left = reduce(_apply(_apply(a - b, extras[k]), tactics))
            if left != 0:
                why = links[k][1] if k < len(links) else "the last link"
                return False, work, (f"link {k + 1} ({why}) fails: ${latex(a)} \\ne {latex(b)}$; "
                                     f"the difference reduces to {_leftover(left)}")
            work.append((links[k][1] if k < len(links) else "hence", b))
        return True, work, ""

    names = {_tactic_name(t) for t in tactics} | {_tactic_name(t) for lk in links for t in lk[2]}
    return _method("chain", run, tuple(sorted(names)))


#: For :func:`by_procedure`: the procedure computes with ``step.lhs`` itself.
USES_LHS = object()


def by_procedure(fn: Callable[[Step], tuple], *, lhs, tactics: Sequence[str] = (), relation: str = "=",
                 spec: tuple = ()) -> Method:
    """A hand-written proof procedure ``fn(step) -> (passed, work, message)``.

    ``lhs`` is the left side the procedure proves something about; the kernel refuses a
    step whose lhs differs. Pass :data:`USES_LHS` when the procedure evaluates ``step.lhs``.
    ``relation`` is what it proves (``">="`` for an inequality): a step claiming another
    relation with it is refused.
    """
    expects = None if lhs is USES_LHS else (lhs,)
    return _method("procedure", fn, tuple(tactics), expects, relation, tuple(spec))


#: Rewrites a reader's own claim may use: the kernel's tactics.
READER_TACTICS = (sift, split_sums, swap_sums, expand_logs, constant_sums)


def claim(lhs, rhs, using: Sequence = (), name: str = "a reader's claim", justification: str = "",
          least: tuple = ()) -> Step:
    """A step of the reader's own, judged by the same kernel as the book's.

    ``using`` lists facts the proof may use: :class:`Hypothesis` objects, or the book's proven
    general steps (by id or as :class:`Step`), which hold for every value of their free
    indices (a solving step: for the indices its unknown carries). A step that is not one the
    package registered (a reader's own, or a book step changed by ``with_rhs``) is an
    assumption for its indices as written, and the verdict names it ("proven, assuming Z3: ...");
    so is every hypothesis that is not a universal axiom (the simplex, a stationarity condition).
    A hypothesis of the book that holds for D = 2 only makes the claim one of case D = 2. ``claim(lhs, rhs).check()``
    says "proven" or what ``lhs - rhs`` reduces to. ``least`` raises the claim's range
    (``((D, 3),)``: from D = 3 on) where a sum would otherwise run backwards.

    >>> from gmmderive import symbolic as gs
    >>> lhs, rhs = gs.step("S22").lhs, gs.step("S23").rhs
    >>> gs.claim(lhs, rhs, using=["S22", "S23"]).check().passed
    True
    """
    hyps = []
    for u in using:
        if isinstance(u, Hypothesis):
            hyps.append(u)
            continue
        if isinstance(u, str):
            if u not in _BOOK_STEPS:
                raise KeyError(f"no step {u!r} among the book's steps")
            u = _BOOK_STEPS[u]
        s = u
        if not _is_book_step(s):
            # A reader's own step (or a modified copy of the book's) is no theorem of the book:
            # it is an assumption, for its indices as written, and the verdict names it.
            statement = sp.Eq(s.lhs, s.rhs, evaluate=False)
            hyps.append(Hypothesis(f"{s.id}: {text(s.lhs)} = {text(s.rhs)}", statement, source="assumption"))
            continue
        if not s.check().passed:
            raise ValueError(f"step {s.id} is not proven; it cannot be used")
        hyps.append(Hypothesis.from_step(s))
    cases = sorted({case for case in map(_case_of, hyps) if case})
    if len(cases) > 1:
        raise ValueError(f"the hypotheses hold in different cases ({', '.join(cases)}): no claim can use them all")
    return Step("claim", 0, name, sp.sympify(lhs), sp.sympify(rhs),
                justification or "The reader's claim, checked by the book's kernel.",
                by_rewriting(*READER_TACTICS), hypotheses=tuple(hyps), least=tuple(least),
                kind="case" if cases else "general", case=cases[0] if cases else "")
