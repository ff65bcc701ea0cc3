"""The second checker: every step evaluated in numbers, independently of the kernel.

The de Bruijn criterion asks that a proof be checkable by a small program that shares nothing
with the prover. This module is that program for the book's steps: it never rewrites, sifts,
splits, solves or simplifies. It draws random instances (N and D from 1 to 6 where the claim
is general, the special case's sizes where it is one, free indices in their range, every
symbol's value by its declared assumptions), makes the step's hypotheses hold (a definition
assigns, a normalization rescales, a multiplier is found by root-finding), checks that they
hold, and evaluates the claim with ordinary arithmetic at 30 significant digits:

* a sum runs over ``lo..hi`` and is 0 when ``hi < lo`` (never Karr's convention), a product
  likewise; an integral over the real line by quadrature; a derivative by ``mpmath.diff``
  (numerical, with extra precision); a limit by evaluation ever closer to its point;
* an equality compares both sides; an inequality asks ``lhs >= rhs``; a solving step asks that
  the equation vanish at the claimed root (and nowhere else among random values); a
  differentiation step differentiates the objective numerically; a procedure states in its
  ``spec`` what it claims (a maximizer on the simplex, a stationary point, a Hessian, ...).

:func:`cross_examine` returns ``(agree, report)``; :meth:`gmmderive.symbolic.Step.check` calls it after the
symbolic proof, and a step is proven only when both agree.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable

import mpmath
import numpy as np
import sympy as sp

#: Digits of the arithmetic; comparisons allow 1e-12 relative (1e-9 where a derivative,
#: an integral or a limit is approximated).
DIGITS = 30
INSTANCES = 3
#: A step is first examined at the smallest sizes of its range, then at random sizes up to this.
LARGEST = 6


class NoModel(Exception):
    """No values were found that satisfy the hypotheses and the symbols' declared assumptions."""


class NotEvaluable(Exception):
    """The expression holds something this evaluator does not evaluate."""


# --------------------------------------------------------------------------
# Random values, drawn by each symbol's declared assumptions
# --------------------------------------------------------------------------


#: Positive symbols that are probabilities (π_c, q_c): drawn in (0, 1), so that 1 - π_0 (the
#: other class's weight for D = 2) is a weight too.
_PROBABILITIES = {"pi", "q", "pi_0", "pi_1"}


def _free(expr) -> set:
    if isinstance(expr, sp.MatrixBase):
        return set().union(*[v.free_symbols for v in expr])
    return expr.free_symbols if isinstance(expr, sp.Basic) else set()


class Model:
    """One random instance: the sizes, the free indices, and a value for every symbol."""

    def __init__(self, n, dd, rng):
        from ._symbols import D, N

        self.n, self.dd, self.rng = n, dd, rng
        self.scalars = {N: mpmath.mpf(n), D: mpmath.mpf(dd)}
        self.entries = {}  # (IndexedBase, index tuple) -> value
        self.integer_bases = {}  # IndexedBase -> callable(index) for integer-valued bases

    def draw(self, symbol):
        """A value for a symbol (or an indexed entry's base) by its assumptions."""
        a = symbol.assumptions0 if hasattr(symbol, "assumptions0") else {}
        rng = self.rng
        if a.get("integer"):
            return mpmath.mpf(int(rng.integers(0, 3)))
        if a.get("positive") and symbol.name in _PROBABILITIES:
            return mpmath.mpf(float(rng.uniform(0.05, 0.95)))
        if a.get("positive"):
            return mpmath.mpf(float(rng.uniform(0.3, 2.0)))
        if a.get("nonnegative"):
            return mpmath.mpf(float(rng.uniform(0.05, 1.0)))
        return mpmath.mpf(float(rng.normal(0.0, 1.5)))

    def scalar(self, s):
        if s not in self.scalars:
            self.scalars[s] = self.draw(s)
        return self.scalars[s]

    def entry(self, base, index):
        key = (base, index)
        if key not in self.entries:
            if base in self.integer_bases:
                self.entries[key] = mpmath.mpf(self.integer_bases[base](index))
            else:
                self.entries[key] = self.draw(base.label)
        return self.entries[key]


# --------------------------------------------------------------------------
# The evaluator: ordinary arithmetic on the expression tree
# --------------------------------------------------------------------------

_FUNCTIONS = {sp.exp: mpmath.exp, sp.log: mpmath.log, sp.Abs: abs, sp.sin: mpmath.sin, sp.cos: mpmath.cos}


def _integer(v) -> int:
    r = int(mpmath.nint(mpmath.re(v)))
    if abs(v - r) > 1e-9:
        raise NotEvaluable(f"an index took the value {v}, not an integer")
    return r


class Evaluator:
    """Values of SymPy expressions at a :class:`Model`, with overrides for chosen atoms."""

    def __init__(self, model, overrides=None):
        self.model = model
        self.overrides = dict(overrides or {})  # Symbol or (IndexedBase, index) -> value
        self.bound = {}  # bound variables of sums, integrals, limits
        # a sum's value for the values of the bound variables it reads: an inner sum that
        # does not depend on the outer index is added up once, not once per outer term
        self._memo = {}
        self._reads = {}

    def with_overrides(self, more):
        ev = Evaluator(self.model, {**self.overrides, **more})
        ev.bound = dict(self.bound)
        return ev

    def key_of(self, atom):
        """The override key of a Symbol or an Indexed entry (its indices evaluated)."""
        if isinstance(atom, sp.Indexed):
            return (atom.base, tuple(_integer(self(k)) for k in atom.indices))
        return atom

    def __call__(self, expr):
        if isinstance(expr, sp.MatrixBase):
            return [self(v) for v in expr]
        return self.value(sp.sympify(expr))

    def value(self, a):  # noqa: C901  (one case per kind of node)
        if a.is_Integer or a.is_Rational:
            return mpmath.mpf(a.p) / a.q
        if a.is_Float:
            return mpmath.mpf(str(a))
        if a is sp.pi:
            return mpmath.pi
        if a is sp.E:
            return mpmath.e
        if a is sp.oo:
            return mpmath.inf
        if a is sp.S.NegativeInfinity:
            return -mpmath.inf
        if a is sp.I:
            return mpmath.mpc(0, 1)
        if isinstance(a, sp.Symbol):
            if a in self.bound:
                return self.bound[a]
            if a in self.overrides:
                return self.overrides[a]
            return self.model.scalar(a)
        if isinstance(a, sp.Indexed):
            key = self.key_of(a)
            if key in self.overrides:
                return self.overrides[key]
            return self.model.entry(*key)
        if isinstance(a, sp.Add):
            return mpmath.fsum(self.value(t) for t in a.args)
        if isinstance(a, sp.Mul):
            out = mpmath.mpf(1)
            for t in a.args:
                out *= self.value(t)
            return out
        if isinstance(a, sp.Pow):
            base, expo = self.value(a.base), self.value(a.exp)
            if mpmath.im(base) == 0 and mpmath.re(base) < 0 and mpmath.im(expo) == 0 and expo != int(expo):
                base = mpmath.mpc(base)
            if base == 0 and mpmath.re(expo) < 0:
                raise ZeroDivisionError("0 to a negative power")
            return mpmath.power(base, expo)
        if isinstance(a, sp.KroneckerDelta):
            return mpmath.mpf(1 if _integer(self.value(a.args[0])) == _integer(self.value(a.args[1])) else 0)
        if a.func in _FUNCTIONS:
            v = self.value(a.args[0])
            if a.func is sp.log and mpmath.im(v) == 0 and mpmath.re(v) < 0:
                v = mpmath.mpc(v)
            return _FUNCTIONS[a.func](v)
        if isinstance(a, (sp.Sum, sp.Product)):
            if a not in self._reads:
                self._reads[a] = tuple(sorted(a.free_symbols, key=str))
            key = (a, tuple(self.bound.get(s) for s in self._reads[a]))
            if key not in self._memo:
                self._memo[key] = self._finite(a, list(a.limits))
            return self._memo[key]
        if isinstance(a, sp.Integral):
            return self._integral(a)
        if isinstance(a, sp.Derivative):
            return self._derivative(a.expr, [v for v, k in a.variable_count for _ in range(k)])
        if isinstance(a, sp.Limit):
            return self._limit(a)
        if isinstance(a, sp.Piecewise):
            for piece, cond in a.args:
                if cond is sp.true or bool(self._truth(cond)):
                    return self.value(piece)
            raise NotEvaluable("no piece of a Piecewise applies")
        if isinstance(a, sp.Subs):
            at = {self.key_of(v): self.value(p) for v, p in zip(a.variables, a.point, strict=True)}
            return self.with_overrides(at).value(a.expr)
        raise NotEvaluable(f"no numeric value for {type(a).__name__}")

    def _truth(self, cond):
        if isinstance(cond, sp.And):
            return all(self._truth(c) for c in cond.args)
        if isinstance(cond, sp.Or):
            return any(self._truth(c) for c in cond.args)
        if isinstance(cond, sp.Relational):
            lhs, rhs = mpmath.re(self.value(cond.lhs)), mpmath.re(self.value(cond.rhs))
            return {"<=": lhs <= rhs, "<": lhs < rhs, ">=": lhs >= rhs, ">": lhs > rhs,
                    "==": lhs == rhs, "!=": lhs != rhs}[cond.rel_op]
        raise NotEvaluable(f"a condition {cond}")

    def _finite(self, a, limits):
        """Σ (or Π) over ``limits``, innermost first, by the ordinary convention (empty if hi < lo)."""
        if not limits:
            return self.value(a.function)
        var, lo, hi = limits[-1]
        lo, hi = _integer(self.value(lo)), _integer(self.value(hi))
        product = isinstance(a, sp.Product)
        out = mpmath.mpf(1 if product else 0)
        saved = self.bound.get(var)
        try:
            for k in range(lo, hi + 1):
                self.bound[var] = mpmath.mpf(k)
                v = self._finite(a, limits[:-1])
                out = out * v if product else out + v
        finally:
            if saved is None:
                self.bound.pop(var, None)
            else:
                self.bound[var] = saved
        return out

    def _integral(self, a):
        if len(a.limits) != 1 or len(a.limits[0]) != 3:
            raise NotEvaluable("an integral without bounds")
        var, lo, hi = a.limits[0]
        lo, hi = self.value(lo), self.value(hi)

        def f(t):
            ev = Evaluator(self.model, self.overrides)
            ev.bound = {**self.bound, var: t}
            return ev.value(a.function)

        # split the real line at the means that occur, where the mass is
        points = sorted({float(mpmath.re(self.value(m))) for m in a.function.atoms(sp.Indexed)
                         if m.base.label.name == "mu" and not (m.free_symbols & set(self.bound) - {var})
                         and var not in m.free_symbols and not m.free_symbols & _bound_in(a.function)})
        # Gauss-Legendre on each piece (the real line split at the means, where the mass
        # is): the integrands are smooth, and 15 digits suffice for a comparison to 1e-9
        with mpmath.workdps(15):
            return mpmath.quad(f, [lo, *points, hi], method="gauss-legendre")

    def _derivative(self, expr, variables):
        keys = [self.key_of(v) for v in variables]
        distinct = list(dict.fromkeys(keys))
        at = [self.overrides[k] if k in self.overrides else self._current(k) for k in distinct]
        orders = [keys.count(k) for k in distinct]

        def f(*values):
            return self.with_overrides(dict(zip(distinct, values, strict=True))).value(expr)

        return mpmath.diff(f, at, orders) if len(at) > 1 else mpmath.diff(f, at[0], orders[0])

    def _current(self, key):
        if isinstance(key, tuple):
            return self.model.entry(*key)
        return self.bound.get(key, self.model.scalar(key))

    def _limit(self, a):
        expr, var, point = a.args[0], a.args[1], self.value(a.args[2])
        sign = 1 if str(a.args[3]) == "+" else -1
        values = []
        for k in (10, 20, 40):
            t = point + sign * mpmath.mpf(10) ** (-k) if point not in (mpmath.inf, -mpmath.inf) else point * 0 + 10**k
            values.append(mpmath.re(self.with_overrides({var: t}).value(expr)))
        if values[2] - values[1] > 5 and values[1] - values[0] > 5:
            return mpmath.inf
        if values[1] - values[2] > 5 and values[0] - values[1] > 5:
            return -mpmath.inf
        return values[2]


def _bound_in(expr):
    return {lim[0] for a in sp.preorder_traversal(expr) if isinstance(a, (sp.Sum, sp.Product, sp.Integral))
            for lim in a.limits}


# --------------------------------------------------------------------------
# Making the hypotheses hold
# --------------------------------------------------------------------------


def _free_index_values(over, model):
    """Every assignment of the indices in ``over`` within their ranges."""
    from ._tactics import index_kind

    ranges = []
    for o in over:
        size = model.dd if index_kind(o) == "class" else model.n
        ranges.append([(o, k) for k in range(size)])
    out = [{}]
    for r in ranges:
        out = [{**a, o: mpmath.mpf(k)} for a in out for o, k in r]
    return out


def _imposers(hypotheses):
    """For each equation hypothesis, the ways to make it hold: ('normalize' | 'define', ...).

    Returns one list of alternatives per hypothesis; :func:`build` tries their combinations.
    """
    choices = []
    for h in hypotheses:
        if h.is_condition:
            continue
        lhs, rhs, over = h.statement.lhs, h.statement.rhs, tuple(h.over)
        if isinstance(lhs, sp.Sum) and len(lhs.limits) == 1 and isinstance(lhs.function, sp.Indexed) \
                and lhs.limits[0][0] in lhs.function.indices:
            choices.append([("normalize", h, lhs, rhs, over)])
        elif isinstance(lhs, (sp.Symbol, sp.Indexed)) and set(over) <= lhs.free_symbols:
            choices.append([("define", h, lhs, rhs, over)])
        elif isinstance(lhs, (sp.Symbol, sp.Indexed)):
            # λ = γ_e/π_e for every e: solved for an entry that carries e (π_e = γ_e/λ)
            free = h.statement.free_symbols
            alternatives = []
            for target in sorted(rhs.atoms(sp.Indexed), key=sp.default_sort_key):
                if set(over) <= target.free_symbols and target.free_symbols <= free:
                    solved = sp.solve(sp.Eq(lhs, rhs), target)
                    if len(solved) == 1:
                        alternatives.append(("define", h, target, solved[0], over))
            if not alternatives:
                raise NoModel(f"no way to make '{h.name}' hold")
            choices.append(alternatives[::-1])
        else:
            raise NoModel(f"no way to make '{h.name}' hold")
    return choices


def _impose(plans, ev):
    model = ev.model
    for kind, _h, lhs, rhs, over in plans:
        for values in _free_index_values(over, model):
            local = ev.with_overrides({})
            local.bound = {**ev.bound, **values}
            if kind == "define":
                key = local.key_of(lhs)
                value = local.value(rhs)
                if isinstance(key, tuple):
                    model.entries[key] = value
                else:
                    model.scalars[key] = value
            else:
                var, lo, hi = lhs.limits[0]
                lo, hi = _integer(local.value(lo)), _integer(local.value(hi))
                keys = []
                for k in range(lo, hi + 1):
                    local.bound[var] = mpmath.mpf(k)
                    keys.append(local.key_of(lhs.function))
                total = mpmath.fsum(model.entry(*key) for key in keys)
                target = local.value(rhs)
                for key in keys:
                    model.entries[key] = model.entry(*key) * target / total


def _residuals(hypotheses, ev):
    """Whether every hypothesis holds at the model: equations to 1e-15, conditions > 0."""
    for h in hypotheses:
        for values in _free_index_values(tuple(h.over), ev.model):
            local = ev.with_overrides({})
            local.bound = {**ev.bound, **values}
            lhs = local.value(h.statement.lhs)
            if h.is_condition:
                if not mpmath.re(lhs) > 0:
                    return f"'{h.name}' does not hold"
                continue
            rhs = local.value(h.statement.rhs)
            if abs(lhs - rhs) > 1e-15 * (1 + abs(lhs)):
                return f"'{h.name}' does not hold"
    return ""


def _declared(model) -> str:
    """Whether every value respects its symbol's declared sign (π > 0 ...)."""
    for (base, index), v in model.entries.items():
        a = base.label.assumptions0
        if (a.get("positive") and not (mpmath.im(v) == 0 and v > 0)) or \
                (a.get("nonnegative") and not (mpmath.im(v) == 0 and v >= 0)):
            return f"{base}{list(index)} = {mpmath.nstr(v, 5)} breaks its declared sign"
    for s, v in model.scalars.items():
        a = s.assumptions0
        if (a.get("positive") and not (mpmath.im(v) == 0 and v > 0)) or \
                (a.get("nonnegative") and not (mpmath.im(v) == 0 and v >= 0)):
            return f"{s} = {mpmath.nstr(v, 5)} breaks its declared sign"
    return ""


def _free_scalars(plans):
    """Scalars that a definition uses but none defines (λ in π_e = γ_e/λ): free to adjust."""
    defined = {lhs for kind, _h, lhs, _r, _o in plans if kind == "define" and isinstance(lhs, sp.Symbol)}
    used = set()
    for kind, _h, _l, rhs, _o in plans:
        if kind == "define":
            used |= {s for s in rhs.free_symbols if not s.is_integer}
    return sorted(used - defined, key=sp.default_sort_key)


def build(step, n, dd, seed, extra=None) -> Evaluator:
    """A model of the step's hypotheses at N = n, D = dd, with free indices in range.

    Tries a few seeds and every way of making the hypotheses hold; raises :class:`NoModel`
    when none gives values that satisfy them all and the symbols' declared signs.
    """
    choices = _imposers(step.hypotheses)
    combos = [[]]
    for alternatives in choices:
        combos = [c + [a] for c in combos for a in alternatives]
    problem = ""
    for attempt in range(10):
        for plans in combos[:8]:
            try:
                return _build(step, n, dd, 7919 * seed + attempt, plans, extra)
            except NoModel as exc:
                problem = str(exc)
    raise NoModel(problem)


def _build(step, n, dd, seed, plans, extra):
    from ._tactics import index_kind

    rng = np.random.default_rng(seed)
    model = Model(n, dd, rng)
    for key, setup in (extra or {}).items():
        setup(model, key)
    ev = Evaluator(model)
    for s in set().union(_free(step.lhs), _free(step.rhs), *[h.statement.free_symbols for h in step.hypotheses]):
        kind = index_kind(s)
        if kind == "class":
            model.scalars[s] = mpmath.mpf(int(rng.integers(0, dd)))
        elif kind == "sample":
            model.scalars[s] = mpmath.mpf(int(rng.integers(0, n)))
    for _ in range(4):
        _impose(plans, ev)
    problem = _residuals(step.hypotheses, ev)
    if problem:  # a normalization fights a definition: move a free multiplier until both hold
        for s in _free_scalars(plans):
            def miss(t, s=s):
                model.scalars[s] = t
                _impose(plans, ev)
                return _first_normalization_gap(plans, ev)
            try:
                model.scalars[s] = mpmath.findroot(miss, model.scalar(s))
            except (ValueError, ZeroDivisionError, TypeError):
                continue
            _impose(plans, ev)
            problem = _residuals(step.hypotheses, ev)
            if not problem:
                break
    problem = problem or _declared(model)
    if problem:
        raise NoModel(problem)
    return ev


def _first_normalization_gap(plans, ev):
    for kind, _h, lhs, rhs, over in plans:
        if kind == "normalize":
            for values in _free_index_values(over, ev.model):
                local = ev.with_overrides({})
                local.bound = {**ev.bound, **values}
                return local.value(lhs) - local.value(rhs)
    return mpmath.mpf(0)


# --------------------------------------------------------------------------
# What each kind of step claims, in numbers
# --------------------------------------------------------------------------


def _close(a, b, tol):
    if a in (mpmath.inf, -mpmath.inf) or b in (mpmath.inf, -mpmath.inf):
        return a == b
    return abs(a - b) <= tol * (1 + max(abs(a), abs(b)))


def _compare_sides(step, ev, tol):
    lhs, rhs = ev(step.lhs), ev(step.rhs)
    if isinstance(lhs, list) != isinstance(rhs, list) or (isinstance(lhs, list) and len(lhs) != len(rhs)):
        return "the sides have different shapes"
    pairs = zip(lhs, rhs, strict=True) if isinstance(lhs, list) else [(lhs, rhs)]
    for a, b in pairs:
        if step.relation == ">=":
            if not (mpmath.im(a) == 0 and mpmath.im(b) == 0 and a >= b - tol * (1 + abs(b))):
                return f"lhs = {mpmath.nstr(a, 8)} < rhs = {mpmath.nstr(b, 8)}"
        elif not _close(a, b, tol):
            return f"lhs = {mpmath.nstr(a, 12)}, rhs = {mpmath.nstr(b, 12)}"
    return ""


def _solving(step, ev, tol):
    unknown, equation = step.method.part("unknown"), step.method.part("equation")
    root = ev(step.rhs)
    if unknown.is_positive and not (mpmath.im(root) == 0 and root > 0):
        return f"the claimed root {mpmath.nstr(root, 8)} is not positive"
    key = ev.key_of(unknown)
    at_root = ev.with_overrides({key: root})(equation)
    scale = max(abs(ev.with_overrides({key: root * k + k})(equation)) for k in (0.5, 2))
    if not abs(at_root) <= tol * (1 + scale):
        return f"the equation is {mpmath.nstr(at_root, 8)} at the claimed root, not 0"
    rng = ev.model.rng
    for _ in range(3):  # another admissible value is no root (the root is unique)
        other = root + mpmath.mpf(float(rng.uniform(0.2, 1.0))) * (1 + abs(root))
        if abs(ev.with_overrides({key: other})(equation)) <= tol * (1 + scale):
            return f"{mpmath.nstr(other, 8)} is a root too"
    return ""


def _differentiation(step, ev, tol):
    objective, variable = step.method.part("objective"), step.method.part("variable")
    derivative = ev._derivative(objective, [variable])
    claimed = ev(step.rhs)
    if not _close(derivative, claimed, tol):
        return f"the numeric derivative is {mpmath.nstr(derivative, 12)}, the claim {mpmath.nstr(claimed, 12)}"
    if step.method.part("positive") and not claimed > 0:
        return "the derivative is not positive"
    return ""


def _on_simplex(step, ev, tol):
    """The claimed π_e, for every class e, maximizes the objective on the simplex (Lagrange: equal slopes)."""
    family, objective, index = step.method.part("simplex")
    model = ev.model
    claimed = {}
    for k in range(model.dd):
        local = ev.with_overrides({index: mpmath.mpf(k)})
        claimed[(family, (k,))] = local(step.rhs)
    total = mpmath.fsum(claimed.values())
    if not _close(total, 1, tol):
        return f"the claimed weights sum to {mpmath.nstr(total, 12)}, not 1"
    at = ev.with_overrides(claimed)
    slopes = [at._derivative(objective, [family[k]]) for k in range(model.dd)]
    if not all(_close(s, slopes[0], tol) for s in slopes):
        return f"the slopes {[mpmath.nstr(s, 8) for s in slopes]} differ: not stationary on the simplex"
    return ""


def _stationary(step, ev, tol):
    objective, variables = step.method.part("stationary")
    values = ev(step.rhs)
    at = ev.with_overrides({ev.key_of(v): val for v, val in zip(variables, values, strict=True)})
    for v in variables:
        g = at._derivative(objective, [v])
        if abs(g) > tol * 1e3:
            return f"∂/∂{v} = {mpmath.nstr(g, 8)} at the claim, not 0"
    return ""


def _hessian(step, ev, tol):
    objective, variables, point = step.method.part("hessian")
    at = ev.with_overrides({})
    for v, p in zip(variables, point, strict=True):  # the stationary point, in order
        at = at.with_overrides({at.key_of(v): at(p)})
    claimed = at(step.rhs)
    for r, a in enumerate(variables):
        for s_, b in enumerate(variables):
            h = at._derivative(objective, [a, b])
            entry = claimed[r * len(variables) + s_]
            if not _close(h, entry, tol):
                return f"entry ({r}, {s_}): numeric {mpmath.nstr(h, 10)}, claimed {mpmath.nstr(entry, 10)}"
    return ""


def _argmax(step, ev, tol):
    objective, variable = step.method.part("argmax")
    best = ev(step.rhs)
    key = ev.key_of(variable)
    top = ev.with_overrides({key: best})(objective)
    for factor in (0.01, 0.3, 0.9, 0.999, 1.001, 1.1, 3, 100):
        if mpmath.re(ev.with_overrides({key: best * factor})(objective)) > mpmath.re(top):
            return f"the objective is larger at {factor} times the claimed maximizer"
    return ""


def _no_root(step, ev, tol):
    function, variable = step.method.part("no_root")
    if step.rhs != sp.EmptySet:
        return "the claimed set is not empty; this check knows only an empty one"
    key = ev.key_of(variable)
    for t in (0.01, 0.5, 1, 7, 1e6):
        if abs(ev.with_overrides({key: mpmath.mpf(t)})(function)) <= tol:
            return f"{t} is a root"
    return ""


def _two_dimensional(step, ev, tol):
    """MV1/MV2: the class objective in two dimensions is stationary at the claimed update."""
    objective, means, precision, mean_at = step.method.part("two_dimensional")
    claimed = ev(step.rhs)
    if len(claimed) == 2:  # the means: stationary in μ for any precision
        at = ev.with_overrides({ev.key_of(m): v for m, v in zip(means, claimed, strict=True)})
        variables = means
    else:
        a, b, b2, c = claimed
        if not _close(b, b2, tol):
            return "the claimed covariance is not symmetric"
        det = a * c - b * b
        values = (c / det, -b / det, a / det)  # Λ = Σ^{-1}
        mean = ev(mean_at)
        at = ev.with_overrides({**{ev.key_of(m): v for m, v in zip(means, mean, strict=True)},
                                **{ev.key_of(p): v for p, v in zip(precision, values, strict=True)}})
        variables = precision
    for v in variables:
        g = at._derivative(objective, [v])
        if abs(g) > tol * 1e3:
            return f"∂/∂{v} = {mpmath.nstr(g, 8)} at the claim, not 0"
    return ""


_PROCEDURES: dict[str, Callable] = {
    "simplex": _on_simplex, "stationary": _stationary, "hessian": _hessian, "argmax": _argmax,
    "no_root": _no_root, "two_dimensional": _two_dimensional,
}


def _what(step) -> Callable:
    if step.method.name == "solving":
        return _solving
    if step.method.name == "differentiation" or step.method.part("objective") is not None:
        return _differentiation
    for key, fn in _PROCEDURES.items():
        if step.method.part(key) is not None:
            return fn
    return _compare_sides


def _sizes(step, rng):
    """(N, D) pairs: the least of the range first, then random ones (the case's D if it names one)."""
    from ._symbols import D, N

    fixed = {}
    if step.kind == "case":
        for name, value in re.findall(r"\b([ND]) = (\d+)", step.case):
            fixed[name] = int(value)
    # a 2 x 2 covariance of fewer than 3 samples is singular: no precision to differentiate in
    least_n, least_d = max(step.minimum(N), step.method.part("least_samples", 1)), step.minimum(D)
    pairs = [(fixed.get("N", least_n), fixed.get("D", least_d))]
    # a quadrature costs a hundred evaluations of the integrand: two instances suffice there
    count = 2 if _approximated(step) and any(s.has(sp.Integral) for s in (step.lhs, step.rhs)
                                             if isinstance(s, sp.Basic)) else INSTANCES
    # Above the least sizes, the sizes vary with the claim (never one fixed list a claim could
    # be fitted to): odd and even D (3, 5 from D ≥ 1), N = 2, 3, 5, and up to 5 above the least.
    above = [(1, 2), (4, 4), (2, 1), (1, 4), (4, 2), (2, 3), (3, 2), (1, 1), (2, 2)]
    start = int(rng.integers(0, len(above)))
    for k in range(count - 1):
        if k == 0:
            dn, dd = above[start]
        else:
            dn, dd = int(rng.integers(1, LARGEST)), int(rng.integers(1, LARGEST))
        pairs.append((fixed.get("N", least_n + dn), fixed.get("D", least_d + dd)))
    return pairs


def _setups(step):
    """Extra model set-ups a step names in its spec: integer weights and their copies (WT11, WT12)."""
    repeated = step.method.part("repeated")
    if repeated is None:
        return {}
    weights, copies = repeated

    def setup(model, _key):
        counts = [int(model.rng.integers(1, 4)) for _ in range(model.n)]
        index = [k for k, wk in enumerate(counts) for _ in range(wk)]
        for k, wk in enumerate(counts):
            model.entries[(weights, (k,))] = mpmath.mpf(wk)
        model.integer_bases[copies] = lambda idx: index[idx[0]] if 0 <= idx[0] < len(index) else 0

    return {"repeated": setup}


def _content(step, seed):
    """Everything the numeric check reads of a step: equal content, equal verdict."""
    hyps = tuple((h.statement, tuple(h.over)) for h in step.hypotheses)
    return (seed, step.id, step.kind, step.case, step.least, step.relation, step.method.name,
            sp.srepr(step.lhs), sp.srepr(step.rhs), sp.srepr(hyps), sp.srepr(step.method.spec))


_VERDICTS: dict = {}


def _fingerprint(step) -> int:
    """A number fixed by the step's content, the same in every session (no Dummy's index)."""
    hyps = [(sp.sstr(h.statement), tuple(map(str, h.over))) for h in step.hypotheses]
    text = "|".join(map(str, (step.kind, step.case, step.least, step.relation, sp.sstr(step.lhs),
                              sp.sstr(step.rhs), hyps)))
    return zlib.crc32(text.encode())


def cross_examine(step, seed: int = 0) -> tuple[bool, str]:
    """``(agree, report)``: the step's claim evaluated at random instances of its hypotheses.

    ``agree`` is False when the numbers contradict the claim, or when no values satisfy the
    hypotheses and the declared assumptions (a hypothesis π_c = -1 with π > 0). The report
    names the sizes examined, or the first disagreement. The verdict is remembered for the
    step's content (a copy of the package's modules, as the mutation tests load, reuses it).
    """
    key = _content(step, seed)
    if key not in _VERDICTS:
        _VERDICTS[key] = _cross_examine(step, seed)
    return _VERDICTS[key]


def _cross_examine(step, seed):
    examine = _what(step)
    tol = 1e-9 if examine is not _compare_sides or _approximated(step) else 1e-12
    # the sizes depend on the claim's content: a claim cannot be fitted to a fixed list
    rng = np.random.default_rng([seed, _fingerprint(step)])
    seen = []
    with mpmath.workdps(DIGITS):
        for k, (n, dd) in enumerate(_sizes(step, rng)):
            try:
                ev = build(step, n, dd, seed=1000 * seed + k, extra=_setups(step))
            except NoModel as exc:
                return False, f"N={n}, D={dd}: no values satisfy the hypotheses ({exc})"
            try:
                problem = examine(step, ev, tol)
            except NotEvaluable as exc:
                return True, f"not evaluated in numbers ({exc})"
            except (ZeroDivisionError, ValueError) as exc:
                problem = f"the claim has no value ({exc})"
            if problem:
                return False, f"N={n}, D={dd}: {problem}"
            seen.append(f"N={n}, D={dd}")
    return True, "agrees numerically at " + "; ".join(seen)


def _approximated(step) -> bool:
    sides = [s for s in (step.lhs, step.rhs) if isinstance(s, sp.Basic)]
    return any(s.has(sp.Integral, sp.Derivative, sp.Limit) for s in sides)
