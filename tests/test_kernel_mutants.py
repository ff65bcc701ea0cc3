"""Mutation testing of the proof kernel: every side condition of every rule is needed.

Each mutant below removes or weakens one side condition of a rewrite rule or of the claim
checks in ``gmmderive/symbolic/_tactics.py`` and ``_step.py``. For each, a claim whose
*symbolic* verdict (the kernel alone, without the numeric second checker, which would catch
most of these on its own) flips under the mutant: a false claim accepted (it has a numeric
witness in ``tests/test_adversarial.py``) or a true claim rejected. A mutant that no claim
can tell apart from the kernel is listed in :data:`EQUIVALENT`, with the reason.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import shutil
import sys
import types
from pathlib import Path

import pytest
import sympy as sp

from gmmderive.symbolic import _step as kernel

PACKAGE = Path(kernel.__file__).resolve().parent


def _relation_claim(k, p):
    """A book procedure that proves '>=' shown as '=' (``dataclasses.replace(step("W4"), relation="=")``).

    A procedure decides only the book's own steps: the mutant kernel gets a stand-in for W4.
    """
    if k is kernel:
        from gmmderive import symbolic as gs

        return dataclasses.replace(gs.step("W4"), relation="=")
    stand_in = k.Step("W4", 16, "KL", p, p - 1, "", k.by_procedure(lambda st: (True, (), ""), lhs=p, relation=">="),
                      relation=">=")
    k.register([stand_in])
    return dataclasses.replace(stand_in, relation="=")


def _swapped_method(k, unknown, value):
    """A step proven by a kernel method whose ``run`` was swapped afterwards (object.__setattr__)."""
    method = k.by_solving(unknown - value - 5, unknown)
    object.__setattr__(method, "run", lambda st: (True, (), ""))
    return k.Step("r", 0, "root", unknown, value + 6, "", method)


def _claims(k):
    """The claims of the mutants, built with the (possibly mutant) kernel ``k``."""
    from gmmderive.symbolic import _symbols as s

    N, D, c, d, e, i = s.N, s.D, s.c, s.d, s.e, s.i  # noqa: N806
    I, pi, gamma, rho, mu, sigma, lam, x = s.I, s.pi, s.gamma, s.rho, s.mu, s.sigma, s.lam, s.x  # noqa: E741, N806
    w = sp.IndexedBase("w", positive=True)
    kk, mm = sp.symbols("k m", integer=True, nonnegative=True)
    uu = sp.Symbol("u", integer=True)  # an index that may be negative (d ≥ 0 is declared)
    C = lambda f, v=d: sp.Sum(f, (v, 0, D - 1))  # noqa: E731, N806
    simplex = k.Hypothesis("the weights sum to one", sp.Eq(C(pi[d]), 1))
    gamma_def = k.Hypothesis("γ", sp.Eq(gamma[c], sp.Sum(rho[i, c], (i, 0, N - 1))), over=(c,))
    gammas_sum_to_n = k.Hypothesis("Σγ = N", sp.Eq(C(gamma[d]), N))
    return {
        # with the sum rule's own guard removed too, the freed index c is captured by m's renaming
        # Σ_m Σ_c Σ_{k≤c} γ_c π_m = (Σ_m π_m)(Σ_c (c+1) γ_c), not N Σ_m (m+1) π_m (D = 2: the
        # first is (π_0 + π_1)(γ_0 + 2γ_1), the second (γ_0 + γ_1)(π_0 + 2π_1))
        "renaming: a free private symbol is never chosen": (
            k.claim(sp.Sum(gamma[c] * pi[mm], (kk, 0, c), (c, 0, D - 1), (mm, 0, D - 1)),
                    N * sp.Sum((mm + 1) * pi[mm], (mm, 0, D - 1)), using=[gammas_sum_to_n]), False),
        "sum rule: same bounds": (k.claim(sp.Sum(pi[d], (d, 0, D)), 1, using=[simplex]), False),
        "wildcard rewrite: index kind": (k.claim(gamma[N], sp.Sum(rho[i, N], (i, 0, N - 1)), using=[gamma_def]), False),
        "sifting: index kind": (k.claim(C(I(d, i) * pi[d]), pi[i]), False),
        "sifting of a product: positive base": (k.claim(sp.Product(mu[d] ** I(d, e), (d, 0, D - 1)), mu[e]), False),
        "swap: constant bounds": (k.claim(sp.Sum(1, (kk, 0, c), (c, 0, D - 1)), D * (D + 1) / 2), True),
        "solving: one admissible root": (
            k.Step("r", 0, "the root", s.X, sp.S.NegativeOne, "", k.by_solving(s.X**2 - 1, s.X)), False),
        "solving: all roots": (
            k.Step("r", 0, "σ", sigma[e], sp.pi, "", k.by_solving(sp.sin(sigma[e]), sigma[e])), False),
        "claim: a name bound twice": (k.claim(sp.Sum(I(d, e) * pi[d], (d, 0, N - 1), (d, 0, D - 1)), N * pi[e]), False),
        # a Subs is carried out on the renamed expression; without that it is refused whole
        "claim: Subs binds": (k.claim(sp.Subs(C(I(d, c) * pi[d]), c, e), pi[e]), True),
        "claim: backwards sums": (k.claim(sp.Sum(1, (d, 2, D - 1)), D - 2), False),
        "claim: the relation proven": (_relation_claim(k, pi[e]), False),
        "hypothesis: forged source": (
            k.claim(lam, D, using=[k.Hypothesis("λ = N (S19)", sp.Eq(lam, D), source="S19")]), False),
        "hypothesis: contradiction": (
            k.claim(pi[c] + 1, 0, using=[k.Hypothesis("π", sp.Eq(pi[c], -1, evaluate=False), over=(c,))]), False),
        # the skeptic's second round: Σ_{d=0}^{D/2} 1 = 1 at D = 1, not 1.5
        "claim: integer bounds": (k.claim(sp.Sum(1, (d, 0, D / 2)), D / 2 + 1), False),
        # |−1| = 1: SymPy used γ_e > 0 before the substitution
        "claim: a substitution against the declared sign": (
            k.claim(sp.Subs(sp.Abs(gamma[e]), gamma[e], -1), -1), False),
        # the a = 0 term is 0^0 = 1: SymPy used a > 0 although the sum starts at 0
        "claim: a bound variable's declaration": (
            k.claim(sp.Sum(0 ** sp.Symbol("a", positive=True), (sp.Symbol("a", positive=True), 0, D - 1)), 0), False),
        "method: made by the kernel": (_swapped_method(k, mu[e], gamma[e]), False),
        "method: a procedure decides the book's steps alone": (
            k.Step("r", 0, "KL", pi[e], pi[e] + 1, "", k.by_procedure(lambda st: (True, (), ""), lhs=k.USES_LHS)),
            False),
        # Σ_{d=-1}^{D-1} π_d holds π_{-1} too: it is not the sum over the classes
        "whole ranges: a late start is positive": (
            k.claim(sp.Sum(pi[uu], (uu, -1, D - 1)), C(pi[d])), False),
        # Σ_{d=1}^{c} π_d stops at c, not at N - 1
        "whole ranges: the end is the whole range's": (
            k.claim(sp.Sum(pi[d], (d, 1, c)), sp.Sum(pi[d], (d, 0, N - 1)) - pi[0]), False),
        # Σ_{c=1}^{D-1} Σ_{k=0}^{c} 1 = D(D+1)/2 - 1: written out without its c, the term c = 0
        # would keep k from 0 to c, a private c freed (so the mutant rejects a true claim)
        "whole ranges: no other limit names the index": (
            k.claim(sp.Sum(1, (kk, 0, c), (c, 1, D - 1)), D * (D + 1) / 2 - 1), True),
        # λ = Σ_i w_i is real, not positive: folded in, the root Σwρ/λ is not shown positive
        "fold: only into a positive name": (
            k.Step("r", 0, "π", pi[e], sp.Sum(w[i] * rho[i, e], (i, 0, N - 1)) / sp.Sum(w[i], (i, 0, N - 1)), "",
                   k.by_solving(sp.Sum(w[i] * rho[i, e], (i, 0, N - 1)) / pi[e] - lam, pi[e]),
                   hypotheses=(k.Hypothesis("λ = Σw", sp.Eq(lam, sp.Sum(w[i], (i, 0, N - 1)))),
                               k.Hypothesis("Σw > 0", sp.StrictGreaterThan(sp.Sum(w[i], (i, 0, N - 1)), 0,
                                                                           evaluate=False), source="condition"),
                               k.Hypothesis("Σwρ > 0", sp.StrictGreaterThan(sp.Sum(w[i] * rho[i, e], (i, 0, N - 1)),
                                                                            0, evaluate=False), source="condition"))),
            True),
        # γ_c = Σ_i ρ_c^{[i]} for a class c: Σ_i ρ_N^{[i]} (N is no class) is no γ
        "fold: the index kind": (
            k.Step("r", 0, "μ", mu[e], sp.Sum(rho[i, e] * x[i], (i, 0, N - 1)) / gamma[N], "",
                   k.by_solving(sp.Sum(rho[i, e] * x[i], (i, 0, N - 1)) - mu[e] * sp.Sum(rho[i, N], (i, 0, N - 1)),
                                mu[e]),
                   hypotheses=(gamma_def,)), False),
    }


#: (name, file, old, new[, (file, old, new) ...]): one side condition removed or weakened
#: (with a second one where the first alone is covered by another).
MUTANTS = [
    ("sum rule: same bounds", "_step.py", "if tuple(lim[1:]) != (lo, hi):", "if False:"),
    ("renaming: a free private symbol is never chosen", "_tactics.py",
     "        _used = frozenset(s for s in expr.free_symbols if s in _PRIVATE)", "        _used = frozenset()",
     # and the sum rule's guard, which keeps a limit that another limit's bounds name
     ("_step.py", "if _depends_on(s.limits, k):  # another", "if False:  # another")),
    ("wildcard rewrite: index kind", "_step.py", "properties=[lambda a, kind=kind: index_kind(a) == kind]",
     "properties=[]"),
    ("sifting: index kind", "_tactics.py", "return other is not None and other != var and index_kind(other) == kind",
     "return other is not None and other != var"),
    ("sifting of a product: positive base", "_tactics.py",
     "    if base.is_positive is not True:\n        return p\n", ""),
    ("swap: constant bounds", "_tactics.py",
     "    if len(s.limits) < 2 or not all(_constant_bounds(lim) for lim in s.limits):\n        return s\n    order",
     "    if len(s.limits) < 2:\n        return s\n    order"),
    ("solving: one admissible root", "_step.py", "if len(admissible) != 1:", "if len(admissible) == 0:"),
    ("solving: all roots", "_step.py", "if not numerator.is_polynomial(unknown) or sp.degree(numerator, unknown) > 4:",
     "if False:"),
    ("claim: a name bound twice", "_tactics.py", "        if len(set(names)) != len(names):", "        if False:"),
    ("claim: Subs binds", "_tactics.py", "    if isinstance(expr, sp.Subs):", "    if False:"),
    ("claim: backwards sums", "_step.py", "                if backwards and not count.is_nonnegative:",
     "                if False:"),
    ("claim: the relation proven", "_step.py", "        if self.relation != self.method.relation:",
     "        if False:"),
    ("hypothesis: forged source", "_step.py", "    if h.source not in _GIVEN:\n        step = _THEOREMS",
     "    if False:\n        step = _THEOREMS"),
    ("hypothesis: contradiction", "_step.py", "        if difference.is_zero is False:", "        if False:"),
    ("whole ranges: a late start is positive", "_tactics.py", "if lo.is_Integer and 0 < lo <= _MOST_TERMS",
     "if lo.is_Integer and lo <= _MOST_TERMS"),
    ("claim: integer bounds", "_step.py", "                if integers and (len(lim) != 3 or not all(",
     "                if False and (len(lim) != 3 or not all("),
    ("claim: a substitution against the declared sign", "_step.py",
     '                if getattr(var, f"is_{fact}") and getattr(point, f"is_{fact}") is not True:',
     "                if False:"),
    ("claim: a bound variable's declaration", "_step.py",
     '                if getattr(var, f"is_{fact}") and getattr(lowest, f"is_{fact}") is not True:',
     "                if False:"),
    ("method: made by the kernel", "_step.py",
     "        if not isinstance(self.method, Method) or not self.method.is_kernels:", "        if False:"),
    ("method: a procedure decides the book's steps alone", "_step.py",
     '        if self.method.name == "procedure" and not any(', '        if False and not any('),
    ("whole ranges: the end is the whole range's", "_tactics.py",
     "0 < lo <= _MOST_TERMS and hi == size - 1:", "0 < lo <= _MOST_TERMS:"),
    ("whole ranges: no other limit names the index", "_tactics.py",
     "        if _depends_on(s.limits, k):\n            continue\n        others", "        others"),
    ("fold: only into a positive name", "_step.py",
     "isinstance(lhs, (sp.Symbol, sp.Indexed)) and lhs.is_positive and isinstance(rhs, sp.Sum)",
     "isinstance(lhs, (sp.Symbol, sp.Indexed)) and isinstance(rhs, sp.Sum)"),
    ("fold: the index kind", "_step.py",
     "        wilds = {o: _wild_for(o) for o in self.over}\n\n        def apply(s):\n            if len(s.limits) != 1",
     "        wilds = {o: sp.Wild(o.name + '_') for o in self.over}\n\n        def apply(s):\n"
     "            if len(s.limits) != 1"),
]

#: Side conditions no claim can tell apart, and why (the mutants were tried and survive).
EQUIVALENT = {
    "sifting: constant bounds (_sift_sum)": "range_kind already asks for the bounds (0, D-1) or (0, N-1)",
    "sifting: dependent limits (_sift_sum)": "the freed index is a private symbol: the leftover names it, no claim can",
    "sum rule: dependent limits": "likewise: the renaming never captures the freed private index (the mutant of "
    "that guard is tried below together with this one)",
    "sum rule: the matched index stays bound (m.values())": "no hypothesis's pattern matches an index of another kind",
    "sum rule: the rest is free of the index": "the leftover would name a private symbol, which no claim can",
    "split: the inner sum has constant bounds (_split_one)": "the inner sum's limits stay inside the outer ones",
    "separate: constant bounds (_separate)":
        "both sides of a claim separate alike; the leftover names a private symbol",
    "constant sums: constant bounds": "a sum that could run backwards is refused before (claim: backwards sums)",
    "claim: private names (a free Dummy refused)": "the renaming never chooses a private symbol free in "
    "the claim, so a free one is an index like any other; refusing it keeps the messages readable",
    "solving: the root is positive (admissible)": "SymPy's solve already drops roots that contradict the "
    "unknown's declared sign, and a root of unknown sign fails the 'undecided' check before",
}


def _mutant_kernel(tmp_path, name, edits):
    """The kernel modules (_symbols, _tactics, _printing, _step) with the mutation, as a fresh package."""
    pkg_name = f"kernel_mutant_{abs(hash(name)) % 10**8}"
    pkg_dir = tmp_path / pkg_name
    pkg_dir.mkdir()
    for f in ("_symbols.py", "_tactics.py", "_printing.py", "_step.py", "crosscheck.py"):
        shutil.copy(PACKAGE / f, pkg_dir / f)
    for filename, old, new in edits:
        target = pkg_dir / filename
        text = target.read_text()
        assert text.count(old) == 1, f"mutation {name!r} does not apply"
        target.write_text(text.replace(old, new))
    package = types.ModuleType(pkg_name)
    package.__path__ = [str(pkg_dir)]
    sys.modules[pkg_name] = package
    spec = importlib.util.spec_from_file_location(f"{pkg_name}._step", pkg_dir / "_step.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module, pkg_name


def _symbolic_verdict(step) -> bool:
    """The kernel's verdict alone: the claim checks, then the proof method (no numeric check)."""
    try:
        return not step._malformed() and bool(step.method(step)[0])
    except Exception:  # a crash is a rejection
        return False


@pytest.mark.parametrize("mutant", MUTANTS, ids=[m[0] for m in MUTANTS])
def test_kernel_mutant_is_killed(tmp_path, mutant):
    name, edits = mutant[0], [mutant[1:4], *mutant[4:]]
    # the claim is judged as expected by the kernel itself ...
    claim, expected = _claims(kernel)[name]
    assert _symbolic_verdict(claim) is expected, f"{name}: the kernel itself misjudges the claim"
    # ... and the other way by the mutant
    module, pkg_name = _mutant_kernel(tmp_path, name, edits)
    try:
        mutant_claim, _ = _claims(module)[name]
        assert _symbolic_verdict(mutant_claim) is not expected, f"the mutant '{name}' survives"
    finally:
        for k in [k for k in sys.modules if k.startswith(pkg_name)]:
            del sys.modules[k]


def test_every_mutant_has_a_claim():
    assert {m[0] for m in MUTANTS} == set(_claims(kernel))
