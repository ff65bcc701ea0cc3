"""The small kernel that decides "proven": sound rewrites and the zero test.

A proof of ``lhs = rhs`` applies tactics to ``lhs - rhs`` until it reaches 0. Each
tactic is a rewrite a reader can follow, and each is sound by construction:

* :func:`canonical`: every bound index (of a sum, product or integral) is renamed to a
  private symbol of its kind, fixed by its range: a class index for ``0..D-1``, a sample
  index for ``0..N-1``. Private symbols never occur free in a claim, so a free ``x^{[i]}``
  can never be captured by a sum over ``i``, whatever later simplification does; and two
  sums that differ only in the name of their index become one expression.
* :func:`sift`: the sifting property of the indicator, ``Σ_d I(d=e) f(d) = f(e)``, only when
  ``e`` is an index of the sum's own kind (a class index against a class range, a sample
  index against a sample range), so it lies in the range; and ``Π_d f_d^{I(d=e)} = f_e``
  only for ``f_d`` shown positive.
* :func:`split_sums`: linearity of a sum; factors free of the summation index move out.
* :func:`swap_sums`: finite sums with constant bounds commute (one fixed order).
* :func:`whole_ranges`: a sum that starts (or stops, or both) a few terms off the whole range
  is the whole range less those terms.
* :func:`equal_indices`: ``I(c=e) f(c, e) = I(c=e) f(c, c)`` for two free indices of one kind;
  a derivative in a claim is carried out first, so the sums it leaves are sifted.
* :func:`instantiate`: fix N, D (and free indices) to numbers and expand every sum, for
  proofs of the *exact* kind.

:func:`reduce` applies them to a fixed point, then SymPy's ``expand_log`` (without
``force``: a log is split only where SymPy can show its arguments positive) and
``simplify``. :func:`is_zero` asks whether the result is exactly 0.
"""

from __future__ import annotations

import functools

import sympy as sp
from sympy.concrete.delta import deltasummation
from sympy.simplify.simplify import factor_sum

from ._symbols import D, N, c, d, e, i, z

#: Free symbols that are class indices (values in 0..D-1) and sample indices (0..N-1).
CLASS_INDICES = frozenset({c, d, e, z})
SAMPLE_INDICES = frozenset({i})

_INDEX = dict(integer=True, nonnegative=True)
#: Private bound indices, by kind. Their names print like the lecture's letters, but they
#: are Dummy symbols: no claim can contain them free.
_BOUND = {
    "class": tuple(sp.Dummy(n, **_INDEX) for n in ("d", "c", "k", "l", "m", "n")),
    "sample": tuple(sp.Dummy(n, **_INDEX) for n in ("i", "j", "s", "t")),
    "other": tuple(sp.Dummy(n, integer=True) for n in ("u", "v", "w")),
    "real": tuple(sp.Dummy(n, real=True) for n in ("X", "Y", "U")),
}
_KIND_OF = {s: kind for kind, syms in _BOUND.items() for s in syms}
_KIND_OF.update({s: "class" for s in CLASS_INDICES})
_KIND_OF.update({s: "sample" for s in SAMPLE_INDICES})


def index_kind(symbol) -> str | None:
    """``"class"``, ``"sample"`` (or another kind of private index), or None for a non-index."""
    return _KIND_OF.get(symbol)


def range_kind(limit) -> str:
    """The kind of index a limit ``(var, lo, hi)`` ranges over."""
    if len(limit) == 3:
        lo, hi = limit[1], limit[2]
        if lo == 0 and hi == D - 1:
            return "class"
        if lo == 0 and hi == N - 1:
            return "sample"
        if lo == -sp.oo and hi == sp.oo and limit[0].is_real:
            return "real"
    return "other"


def _constant_bounds(limit) -> bool:
    return all(not (sp.sympify(b).free_symbols - {N, D}) for b in limit[1:])


def _sum_of(function, limits):
    return sp.Sum(function, *limits) if limits else function


# --------------------------------------------------------------------------
# Bound indices: renamed to private symbols of their kind
# --------------------------------------------------------------------------

_BINDERS = (sp.Sum, sp.Product, sp.Integral)

#: Every private symbol the kernel makes (bound indices, copies, stand-ins): a claim that
#: names one free could be captured by the renaming, so :func:`private_names_in` finds them.
_PRIVATE: set = set(_KIND_OF) - CLASS_INDICES - SAMPLE_INDICES


@functools.cache
def _private_copy(symbol, k):
    """The k-th private copy of a bound symbol of no known kind (the same on every call)."""
    copy = sp.Dummy(symbol.name, **symbol.assumptions0)
    _PRIVATE.add(copy)
    return copy


def private_names_in(expr) -> set:
    """The kernel's private symbols (and any other Dummy) free in ``expr``.

    A Dummy is never the reader's: it comes out of a proof's work, where it was bound.
    """
    if not isinstance(expr, sp.Basic):
        return set()
    return {s for s in expr.free_symbols if isinstance(s, sp.Dummy) or s in _PRIVATE}


class BinderError(ValueError):
    """A claim binds a name in a way the renaming cannot make sound."""


def _limit_variables(expr) -> list:
    return [lim[0] for lim in expr.limits]


def _fresh(symbol, taken):
    """A private copy of ``symbol`` of no known kind, not in ``taken``."""
    return next(_private_copy(symbol, k) for k in range(len(taken) + 1) if _private_copy(symbol, k) not in taken)


def canonical(expr, _used=None):
    """Rename every bound index to the first free private symbol of its kind (α-renaming).

    Sound: a private symbol never occurs free in a claim (:func:`private_names_in`), and one
    already bound by an enclosing sum is skipped, so no renaming captures anything. Rebuilding
    the tree also evaluates it (an ``evaluate=False`` display form becomes SymPy's own).

    Every binder is seen: a sum, product or integral (each limit's bounds are read in the
    scope of the limits outside it, never its own variable); ``Subs`` is carried out on the
    renamed expression (so its variable cannot meet a sum's index); the variable of a
    ``Limit`` becomes a private symbol of no kind (no index rule applies to it). A binder that
    binds one name twice, and a binder of any other kind (``Lambda``, sets), raise
    :class:`BinderError`: the claim is refused rather than guessed at.
    """
    if isinstance(expr, sp.MatrixBase):
        return expr.applyfunc(lambda a: canonical(a, _used))
    if not isinstance(expr, sp.Basic) or expr.is_Atom or not expr.args or isinstance(expr, sp.IndexedBase):
        return expr
    if _used is None:
        # A private symbol free here (left by a rule that freed a bound index) is never
        # chosen for a binder: the renaming captures nothing, whatever a rule did before.
        _used = frozenset(s for s in expr.free_symbols if s in _PRIVATE)
    if isinstance(expr, sp.Subs):
        inner = canonical(expr.expr, _used)
        if any(set(der.variables) & set(expr.variables) for der in inner.atoms(sp.Derivative)):
            raise BinderError("a Subs of a derivative in its own variable: take the derivative first")
        points = [canonical(p, _used) for p in expr.point]
        return canonical(inner.xreplace(dict(zip(expr.variables, points, strict=True))), _used)
    if isinstance(expr, sp.Limit):
        var = expr.args[1]
        new = _fresh(var, _used)
        return sp.Limit(canonical(expr.args[0].xreplace({var: new}), _used | {new}), new,
                        canonical(expr.args[2], _used), str(expr.args[3]))
    if isinstance(expr, _BINDERS) and all(len(lim) == 3 for lim in expr.limits):
        names = _limit_variables(expr)
        if len(set(names)) != len(names):
            twice = next(v for v in names if names.count(v) > 1)
            raise BinderError(f"one {type(expr).__name__} binds the name {twice} twice")
        taken = set(_used)
        mapping = {}
        for lim in expr.limits:
            if isinstance(expr, sp.Integral):
                kind = "real" if lim[0].is_real else None
            else:
                kind = range_kind(lim)
            new = next((s for s in _BOUND[kind] if s not in taken), None) if kind else None
            if new is None:  # an index of no known kind, or nested too deep: a fresh one
                new = _fresh(lim[0], taken)
            mapping[lim[0]] = new
            taken.add(new)
        function = canonical(expr.function.xreplace(mapping), frozenset(taken))
        # Limit k's bounds lie inside limits k+1.. only: they may name those variables (a
        # triangular sum), never their own (Σ_{d=0}^{d} reads the d outside).
        limits = []
        for k, lim in enumerate(expr.limits):
            outer = {v: mapping[v] for v in names[k + 1:]}
            limits.append((mapping[lim[0]],) + tuple(canonical(sp.sympify(b).xreplace(outer), _used) for b in lim[1:]))
        return expr.func(function, *limits)
    if getattr(expr, "bound_symbols", None) or isinstance(expr, (sp.Lambda, _BINDERS)):
        raise BinderError(f"the kernel does not rename the variables of {type(expr).__name__}: write it without")
    return expr.func(*[canonical(a, _used) for a in expr.args])


def _depends_on(limits, k) -> bool:
    """Whether another limit's bounds name the variable of limit k (a triangular sum)."""
    var = limits[k][0]
    return any(var in sp.sympify(b).free_symbols for j, lim in enumerate(limits) if j != k for b in lim[1:])


# --------------------------------------------------------------------------
# The sifting property
# --------------------------------------------------------------------------


def _sifts_against(delta, var, kind) -> bool:
    """I(var=other) may be summed over var: other is an index of the same kind, not var."""
    a, b = delta.args
    other = b if a == var else a if b == var else None
    return other is not None and other != var and index_kind(other) == kind


def _sift_sum(s: sp.Sum) -> sp.Expr:
    for k, limit in enumerate(s.limits):
        var = limit[0]
        kind = range_kind(limit)
        if kind not in ("class", "sample") or not _constant_bounds(limit) or _depends_on(s.limits, k):
            continue
        deltas = [dl for dl in s.function.atoms(sp.KroneckerDelta) if var in dl.free_symbols]
        if not deltas or not all(_sifts_against(dl, var, kind) for dl in deltas):
            continue
        # Finite sums with constant bounds commute, so this one may be summed first; the
        # other index lies in the range, so no piecewise condition is needed.
        inner = deltasummation(sp.expand(s.function), limit, no_piecewise=True)
        return _sum_of(inner, s.limits[:k] + s.limits[k + 1:])
    return s


def _sift_product(p: sp.Product) -> sp.Expr:
    # Π_d f_d^{I(d=e)} = f_e for f_d > 0 and e of the product's own kind.
    if len(p.limits) != 1 or not isinstance(p.function, sp.Pow):
        return p
    limit = p.limits[0]
    var, kind = limit[0], range_kind(limit)
    base, expo = p.function.args
    if not (isinstance(expo, sp.KroneckerDelta) and kind in ("class", "sample") and _constant_bounds(limit)):
        return p
    if not _sifts_against(expo, var, kind) or var in {a for dl in base.atoms(sp.KroneckerDelta) for a in dl.args}:
        return p
    if base.is_positive is not True:
        return p
    other = expo.args[1] if expo.args[0] == var else expo.args[0]
    return base.xreplace({var: other})


def sift(expr: sp.Expr) -> sp.Expr:
    """Apply the sifting property of I(d=e) everywhere it is sound, to a fixed point."""
    expr = canonical(expr)
    prev = None
    while prev != expr:
        prev = expr
        expr = expr.replace(lambda a: isinstance(a, sp.Product), _sift_product)
        expr = expr.replace(lambda a: isinstance(a, sp.Sum), _sift_sum)
    return expr


# --------------------------------------------------------------------------
# Linearity and the order of sums
# --------------------------------------------------------------------------


def _split_one(s: sp.Sum, multinomial: bool = True) -> sp.Expr:
    # Σ_d k_d Σ_i f = Σ_d Σ_i k_d f when k_d is free of i: one Sum with two limits
    inner = [f for f in sp.Mul.make_args(s.function) if isinstance(f, sp.Sum)]
    if len(inner) == 1 and all(_constant_bounds(lim) for lim in inner[0].limits):
        rest = s.function / inner[0]
        if not (rest.free_symbols & {lim[0] for lim in inner[0].limits}):
            s = sp.Sum(rest * inner[0].function, *inner[0].limits, *s.limits)
    body = sp.expand(s.function, multinomial=multinomial)
    terms = sp.Add.make_args(body)
    return sp.Add(*[_separate(factor_sum(sp.Sum(t, *s.limits))) for t in terms])


def _separate(s):
    """``Σ_i Σ_j a_i b_j = (Σ_i a_i)(Σ_j b_j)``: a product of sums has one normal form."""
    if not isinstance(s, sp.Sum) or len(s.limits) < 2 or not all(_constant_bounds(lim) for lim in s.limits):
        return s
    groups = []  # (set of bound indices, factors)
    for f in sp.Mul.make_args(s.function):
        vs = {lim[0] for lim in s.limits} & f.free_symbols
        joined = [g for g in groups if g[0] & vs]
        merged = (set(vs).union(*[g[0] for g in joined]), [f] + [h for g in joined for h in g[1]])
        groups = [g for g in groups if not (g[0] & vs)] + [merged]
    if len(groups) < 2 or any(not g[0] for g in groups):
        return s
    return sp.Mul(*[sp.Sum(sp.Mul(*fs), *[lim for lim in s.limits if lim[0] in vs]) for vs, fs in groups])


def split_sums(expr: sp.Expr, multinomial: bool = True) -> sp.Expr:
    """Linearity: ``Σ(a + b) = Σa + Σb`` and ``Σ k·a = k Σa`` for k free of the index.

    ``multinomial=False`` keeps powers of sums such as (x - μ)² whole.
    """
    prev = None
    expr = canonical(expr)
    while prev != expr:
        prev = expr
        expr = sp.expand(expr, multinomial=multinomial).replace(
            lambda a: isinstance(a, sp.Sum), lambda a: _split_one(a, multinomial=multinomial))
        expr = swap_sums(expr)
    return expr


def split_sums_keep_squares(expr: sp.Expr) -> sp.Expr:
    """Linearity as :func:`split_sums`, but a square such as (x - μ)² stays whole."""
    return split_sums(expr, multinomial=False)


def _class_sums_inside(s: sp.Sum) -> sp.Expr:
    if len(s.limits) < 2 or not all(_constant_bounds(lim) for lim in s.limits):
        return s
    order = sorted(s.limits, key=lambda lim: (0 if range_kind(lim) == "class" else 1, str(lim[0])))
    return s if list(order) == list(s.limits) else sp.Sum(s.function, *order)


def swap_sums(expr: sp.Expr) -> sp.Expr:
    """Exchange the order of finite sums so that sums over the classes are innermost.

    Sums with constant bounds commute; one fixed order also lets equal sums compare equal.
    """
    return canonical(expr.replace(lambda a: isinstance(a, sp.Sum), _class_sums_inside))


def _count_unused(s: sp.Sum) -> sp.Expr:
    """``Σ_i Σ_j f(j) = N Σ_j f(j)``: a limit whose index the summand does not use is a count.

    Only a limit with constant bounds that no other limit's bounds name; the count
    ``hi - lo + 1`` is the number of terms of a forward-running sum (the kernel refuses a claim
    whose sums may run backwards).
    """
    unused = [k for k, lim in enumerate(s.limits)
              if lim[0] not in s.function.free_symbols and _constant_bounds(lim) and not _depends_on(s.limits, k)]
    if not unused:
        return s
    count = sp.Mul(*[s.limits[k][2] - s.limits[k][1] + 1 for k in unused])
    rest = [lim for k, lim in enumerate(s.limits) if k not in unused]
    return count * _sum_of(s.function, rest)


def constant_sums(expr: sp.Expr) -> sp.Expr:
    """``Σ_{i=0}^{N-1} k = N k`` for k free of the index (constant bounds), in a sum of several
    limits too (``Σ_i Σ_j x_j = N Σ_j x_j``)."""
    expr = expr.replace(
        lambda a: isinstance(a, sp.Sum) and all(_constant_bounds(lim) for lim in a.limits)
        and not (a.function.free_symbols & {lim[0] for lim in a.limits}),
        lambda a: a.doit(),
    )
    return expr.replace(lambda a: isinstance(a, sp.Sum) and len(a.limits) > 1, _count_unused)


#: The most terms :func:`whole_ranges` writes out of one sum.
_MOST_TERMS = 3


def _whole_range(s: sp.Sum) -> sp.Expr:
    for k, (v, lo, hi) in enumerate(s.limits):
        if _depends_on(s.limits, k):
            continue
        others = s.limits[:k] + s.limits[k + 1:]
        for size in (N, D):
            if lo.is_Integer and 0 < lo <= _MOST_TERMS and hi == size - 1:
                # Σ_{v=a}^{n-1} f = Σ_{v=0}^{n-1} f − f(0) − ... − f(a-1)
                terms = [s.function.xreplace({v: j}) for j in range(int(lo))]
            elif lo == 0 and (hi - (size - 1)).is_Integer and -_MOST_TERMS <= hi - (size - 1) < 0:
                # Σ_{v=0}^{n-1-m} f = Σ_{v=0}^{n-1} f − f(n-1) − ... − f(n-m)
                terms = [s.function.xreplace({v: size - j}) for j in range(1, int(size - 1 - hi) + 1)]
            elif (hi - (size - 1)).is_Integer and -_MOST_TERMS <= hi - (size - 1) < 0 \
                    and lo.is_Integer and 0 < lo <= _MOST_TERMS:
                # both ends: Σ_{v=a}^{n-1-m} f = Σ_{v=0}^{n-1} f − f(0) − ... − f(a-1) − f(n-1) − ... − f(n-m)
                terms = [s.function.xreplace({v: j}) for j in range(int(lo))]
                terms += [s.function.xreplace({v: size - j}) for j in range(1, int(size - 1 - hi) + 1)]
            else:
                continue
            whole = sp.Sum(s.function, *s.limits[:k], (v, 0, size - 1), *s.limits[k + 1:])
            return whole - sp.Add(*[_sum_of(term, others) for term in terms])
    return s


def whole_ranges(expr: sp.Expr) -> sp.Expr:
    """A sum that starts a few terms late or stops a few terms early, over the whole range
    less those terms: ``Σ_{d=1}^{D-1} π_d = Σ_{d=0}^{D-1} π_d − π_0`` (a student's "split off
    the first term").

    Sound for finite sums of any bounds (Σ_a^b = Σ_0^b − Σ_0^{a-1} holds in SymPy's
    convention too), and the kernel refuses a claim whose sums may run backwards, so every
    sum here has its ordinary meaning. Only a limit no other limit's bounds name, and at most
    three terms written out.
    """
    return expr.replace(lambda a: isinstance(a, sp.Sum), _whole_range)


def expand_logs(expr: sp.Expr) -> sp.Expr:
    """``log(ab) = log a + log b`` and ``log(a^k) = k log a``, only where SymPy shows a, b > 0."""
    return sp.expand_log(expr)


# --------------------------------------------------------------------------
# The zero test
# --------------------------------------------------------------------------


def _derivatives_taken(expr):
    """Every derivative carried out (SymPy's differentiation, as ``simplify`` would do later), so
    that the sums it leaves (Σ_d I(d=e) log π_d) are sifted like any other."""
    if not expr.has(sp.Derivative):
        return expr
    return canonical(expr.replace(lambda a: isinstance(a, sp.Derivative), lambda a: a.doit()))


def _equal_indices(term):
    """``I(c=e) f(c, e) = I(c=e) f(c, c)``: where the indicator is not 0 the two indices are one.

    Only in a product at the top (each of the sum's terms), for an indicator of two free indices
    of one kind; the later one (in SymPy's order) becomes the earlier one in the other factors.
    """
    if not isinstance(term, sp.Mul):
        return term
    for delta in term.args:
        if isinstance(delta, sp.KroneckerDelta) and len(delta.args) == 2:
            a, b = sorted(delta.args, key=sp.default_sort_key)
            if isinstance(a, sp.Symbol) and isinstance(b, sp.Symbol) and not isinstance(a, sp.Dummy) \
                    and not isinstance(b, sp.Dummy) and index_kind(a) \
                    and index_kind(a) == index_kind(b) and a != b:
                rest = sp.Mul(*[f for f in term.args if f is not delta])
                return delta * rest.xreplace({b: a})
    return term


def equal_indices(expr):
    """:func:`_equal_indices` on each term of ``expr``."""
    return sp.Add(*[_equal_indices(t) for t in sp.Add.make_args(sp.expand(expr))])


def reduce(expr):
    """Sift, split and swap to a fixed point, expand logs (soundly) and simplify."""
    if isinstance(expr, sp.MatrixBase):
        return expr.applyfunc(reduce)
    prev = None
    expr = _derivatives_taken(canonical(expr))
    while prev != expr:  # sift and split to a joint fixed point
        prev = expr
        expr = split_sums(sift(whole_ranges(expr)))
    if expr == 0:
        return expr
    expr = canonical(equal_indices(expr))
    if expr == 0:
        return expr
    expr = canonical(sp.expand(expand_logs(expr)))
    if expr == 0:
        return expr
    return canonical(sp.simplify(expr))


def is_zero(expr) -> bool:
    """Whether ``expr`` reduces to exactly 0 (a matrix: every entry)."""
    reduced = reduce(expr)
    if isinstance(reduced, sp.MatrixBase):
        return all(v == 0 for v in reduced)
    return reduced == 0


def instantiate(expr: sp.Expr, n: int, d: int, **indices: int) -> sp.Expr:
    """Fix N = n, D = d (and named free indices) and expand every sum and product."""
    subs = {N: n, D: d}
    for name, value in indices.items():
        subs[sp.Symbol(name, integer=True, nonnegative=True)] = value
    return expr.subs(subs).doit()
