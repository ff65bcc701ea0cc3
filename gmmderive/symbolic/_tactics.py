"""Rewriting tactics the proofs use, each one a rule a reader can follow.

A proof of ``lhs = rhs`` applies tactics to ``lhs - rhs`` until SymPy's
simplification reaches 0. The tactics are sound rewrites:

* :func:`sift`: the sifting property of the indicator, ``Σ_d I(d=e) f(d) = f(e)``
  for a class index e in 0..D-1 (and ``Π_d f(d)^{I(d=e)} = f(e)``, through
  its logarithm);
* :func:`split_sums`: linearity of a sum, and factors that do not depend on
  the summation index move out of it;
* :func:`swap_sums`: the order of two finite sums may be exchanged;
* :func:`instantiate`: fix N, D (and free indices) to numbers and expand every
  sum into its terms, for proofs of the *exact* kind.
"""

from __future__ import annotations

import sympy as sp
from sympy.concrete.delta import deltasummation
from sympy.simplify.simplify import factor_sum

from ._symbols import D, N


def _constant_bounds(limit) -> bool:
    return all(not (b.free_symbols - {N, D}) for b in limit[1:])


def _sum_of(function, limits):
    return sp.Sum(function, *limits) if limits else function


def _sift_sum(s: sp.Sum) -> sp.Expr:
    # SymPy flattens nested sums into one Sum with several limits (innermost
    # first). Finite sums with constant bounds commute, so any limit whose
    # index meets an indicator may be summed first.
    for k, limit in enumerate(s.limits):
        var = limit[0]
        if not _constant_bounds(limit):
            continue
        if any(var in delta.free_symbols for delta in s.function.atoms(sp.KroneckerDelta)):
            # no_piecewise: the other index is a class index, so it lies in 0..D-1
            inner = deltasummation(sp.expand(s.function), limit, no_piecewise=True)
            return _sum_of(inner, s.limits[:k] + s.limits[k + 1:])
    return s


def _sift_product(p: sp.Product) -> sp.Expr:
    var = p.limits[0][0]
    if len(p.limits) != 1 or not any(var in k.free_symbols for k in p.function.atoms(sp.KroneckerDelta)):
        return p
    # Π_d f_d^{I(d=e)} = exp(Σ_d I(d=e) log f_d), then sift the sum (f_d > 0).
    log_sum = sp.Sum(sp.expand_log(sp.log(p.function), force=True), *p.limits)
    return sp.exp(_sift_sum(log_sum))


def sift(expr: sp.Expr) -> sp.Expr:
    """Apply the sifting property of I(d=e) everywhere, to a fixed point."""
    prev = None
    while prev != expr:
        prev = expr
        expr = expr.replace(lambda a: isinstance(a, sp.Product), _sift_product)
        expr = expr.replace(lambda a: isinstance(a, sp.Sum), _sift_sum)
    return expr


def _canonical_index(limit, others):
    """The index a sum over this range is renamed to: i for samples, d for classes."""
    from ._symbols import d, i

    hi = limit[2]
    target = i if hi == N - 1 else d if hi == D - 1 else None
    if target is None or target == limit[0] or target in others:
        return limit[0]
    return target


def rename_indices(expr: sp.Expr) -> sp.Expr:
    """Rename bound indices canonically (Σ_z f(z) = Σ_d f(d)) so that equal sums compare equal."""

    def rule(s):
        limits = list(s.limits)
        fn = s.function
        for k, limit in enumerate(limits):
            others = (fn.free_symbols | {lim[0] for lim in limits}) - {limit[0]}
            new = _canonical_index(limit, others)
            if new != limit[0]:
                fn = fn.xreplace({limit[0]: new})
                limits[k] = (new,) + tuple(limit[1:])
        return sp.Sum(fn, *limits)

    return expr.replace(lambda a: isinstance(a, sp.Sum), rule)


def _split_one(s: sp.Sum) -> sp.Expr:
    # Σ_d k_d Σ_i f = Σ_d Σ_i k_d f when k_d is free of i: one Sum with two limits
    inner = [f for f in sp.Mul.make_args(s.function) if isinstance(f, sp.Sum)]
    if len(inner) == 1 and all(_constant_bounds(lim) for lim in inner[0].limits):
        rest = s.function / inner[0]
        if not (rest.free_symbols & {lim[0] for lim in inner[0].limits}):
            s = sp.Sum(rest * inner[0].function, *inner[0].limits, *s.limits)
    body = sp.expand(s.function)
    terms = sp.Add.make_args(body)
    return sp.Add(*[factor_sum(sp.Sum(t, *s.limits)) for t in terms])


def split_sums(expr: sp.Expr) -> sp.Expr:
    """Linearity: ``Σ(a + b) = Σa + Σb`` and ``Σ k·a = k Σa`` for k free of the index."""
    prev = None
    while prev != expr:
        prev = expr
        expr = sp.expand(expr).replace(lambda a: isinstance(a, sp.Sum), _split_one)
        expr = swap_sums(rename_indices(expr))
    return expr


def _class_sums_inside(s: sp.Sum) -> sp.Expr:
    if len(s.limits) < 2 or not all(_constant_bounds(lim) for lim in s.limits):
        return s
    order = sorted(s.limits, key=lambda lim: (0 if lim[2] == D - 1 else 1, str(lim[0])))
    return s if list(order) == list(s.limits) else sp.Sum(s.function, *order)


def swap_sums(expr: sp.Expr) -> sp.Expr:
    """Exchange the order of finite sums so that sums over the classes are innermost.

    Sums with constant bounds commute; one fixed order also lets equal sums compare equal.
    """
    return expr.replace(lambda a: isinstance(a, sp.Sum), _class_sums_inside)


def rewrite_innermost(expr: sp.Expr, rule) -> sp.Expr:
    """Apply ``rule(function, limit) -> replacement or None`` to the innermost sum of every Sum."""

    def apply(s):
        new = rule(s.function, s.limits[0])
        return s if new is None else _sum_of(new, s.limits[1:])

    return expr.replace(lambda a: isinstance(a, sp.Sum), apply)


def is_zero(expr: sp.Expr) -> bool:
    """Whether ``expr`` simplifies to exactly 0 (after splitting sums)."""
    prev = None
    while prev != expr:  # sift and split to a joint fixed point
        prev = expr
        expr = split_sums(sift(expr))
    if expr == 0:
        return True
    expr = sp.expand(sp.expand_log(expr, force=True))
    if expr == 0:
        return True
    return sp.simplify(expr) == 0


def instantiate(expr: sp.Expr, n: int, d: int, **indices: int) -> sp.Expr:
    """Fix N = n, D = d (and named free indices) and expand every sum and product."""
    subs = {N: n, D: d}
    for name, value in indices.items():
        subs[sp.Symbol(name, integer=True, nonnegative=True)] = value
    return expr.subs(subs).doit()
