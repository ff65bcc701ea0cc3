"""LaTeX in the lecture's notation: x^{[i]}, ρ_c^{[i]}, γ_c, I(d=c), Q̂."""

from __future__ import annotations

import sympy as sp
from sympy.printing.latex import LatexPrinter
from sympy.printing.precedence import PRECEDENCE
from sympy.printing.str import StrPrinter

_GREEK = {"rho": r"\rho", "rhotilde": r"\tilde{\rho}", "gamma": r"\gamma", "pi": r"\pi",
          "mu": r"\mu", "sigma": r"\sigma", "alpha": r"\alpha", "pnew": r"p'"}


_INV_SQRT_2PI = (sp.S.Half, sp.sqrt(2), 1 / sp.sqrt(sp.pi))  # SymPy's form of 1/√(2π)
_INV_SQRT_2PI_TEX = sp.Symbol(r"\frac{1}{\sqrt{2\pi}}")


def _leads(factor) -> bool:
    """Factors the lecture writes first in a product: the weights ρ_c^{[i]}, q_z, w_i and I(d=c)."""
    if isinstance(factor, sp.KroneckerDelta):
        return True
    return isinstance(factor, sp.Indexed) and factor.base.label.name in ("rho", "rhotilde", "q", "w")


def _lead_order(factor) -> int:
    if isinstance(factor, sp.KroneckerDelta):
        return 2
    return 0 if factor.base.label.name == "w" else 1


class LectureLatexPrinter(LatexPrinter):
    """SymPy's LaTeX printer, in the lecture's notation and term order.

    Indexed symbols as the lecture writes them (x^{[i]}, ρ_c^{[i]}, γ_c, I(d=c)); a sum
    starts with a positive term (x^{[i]} − μ_c, not −μ_c + x^{[i]}); ρ and the indicator
    lead a product; the indicator names the summed index first (Σ_d I(d=c)); log σ_c and
    ½ log(2π) without extra parentheses; exp(·) for a long exponent.
    """

    def __init__(self, settings=None):
        super().__init__(settings)
        self._bound = []  # the summation indices around what is being printed, innermost last

    def _as_ordered_terms(self, expr, order=None):
        terms = list(super()._as_ordered_terms(expr, order=order))
        if expr.is_Add:  # as the lecture: the sums, then the logarithms, then the rest
            terms.sort(key=lambda t: 0 if t.has(sp.Sum) else 1 if t.has(sp.log) else 2)
        if terms and terms[0].could_extract_minus_sign():
            positive = [t for t in terms if not t.could_extract_minus_sign()]
            if positive:
                terms.remove(positive[0])
                terms.insert(0, positive[0])
        return terms

    def _print_log(self, expr, exp=None):
        arg = expr.args[0]
        if isinstance(arg, (sp.Symbol, sp.Indexed)):
            tex = rf"\log {self._print(arg)}"
        else:
            tex = rf"\log{{\left({self._print(arg)} \right)}}"
        return rf"{tex}^{{{exp}}}" if exp else tex

    def _print_exp(self, expr, exp=None):
        arg = expr.args[0]
        if isinstance(arg, (sp.Symbol, sp.Indexed, sp.Number)):
            if hasattr(super(), "_print_exp"):
                return super()._print_exp(expr, exp)
            return super()._print_ExpBase(expr, exp)
        tex = rf"\exp\left({self._print(arg)}\right)"
        return rf"{tex}^{{{exp}}}" if exp else tex

    def _print_Mul(self, expr):
        # SymPy writes 1/(σ√(2π)) as √2/(2√π σ); show the Gaussian's normalizer as written.
        args = list(expr.args)
        if len(args) == 2 and args[1] == 1:  # λ·1 of the S19 chain, kept unevaluated: not "λ1"
            return rf"{self._print(args[0])} \cdot 1"
        if all(a in args for a in _INV_SQRT_2PI):
            for a in _INV_SQRT_2PI:
                args.remove(a)
            inv_std = [a for a in args if a.is_Pow and a.exp == -1 and isinstance(a.base, sp.Indexed)
                       and a.base.base.label.name == "sigma"]
            if inv_std:
                args.remove(inv_std[0])
                norm = sp.Symbol(rf"\frac{{1}}{{{self._print(inv_std[0].base)} \sqrt{{2\pi}}}}")
            else:
                norm = _INV_SQRT_2PI_TEX
            rest = self._print(sp.Mul(*args)) if args else ""
            return f"{self._print(norm)} {rest}".strip()
        coeff, rest = expr.as_coeff_Mul()
        if coeff.is_negative:
            return "- " + self.parenthesize(-expr, PRECEDENCE["Mul"], strict=True)
        factors = sp.Mul.make_args(expr)
        lead = [f for f in factors if _leads(f)]
        if lead:
            num, den = sp.fraction(expr)
            if den != 1:
                return rf"\frac{{{self._print(num)}}}{{{self._print(den)}}}"
            lead.sort(key=_lead_order)  # w_i ρ_c^{[i]} I(d=c), as the book writes them
            heads = " ".join(self._print(f) for f in lead)
            others = sp.Mul(*[f for f in factors if f not in lead])
            if others == 1:
                return heads
            return f"{heads} {self.parenthesize(others, PRECEDENCE['Mul'], strict=True)}"
        if coeff.is_Rational and not coeff.is_Integer and isinstance(rest, sp.log):
            return rf"\tfrac{{{coeff.p}}}{{{coeff.q}}} {self._print(rest)}"  # ½ log(2π)
        return super()._print_Mul(expr)

    def _print_Indexed(self, expr):
        name = expr.base.label.name
        idx = [self._print(a) for a in expr.indices]
        # Braced, so that a power of it is no double superscript: {x^{[i]}}^{2}
        if name == "x" and len(idx) == 1:
            return rf"{{x^{{[{idx[0]}]}}}}"
        if name in ("x1", "x2") and len(idx) == 1:  # coordinates of a sample in two dimensions
            return rf"{{x^{{[{idx[0]}]}}_{name[1]}}}"
        if name in ("rho", "rhotilde") and len(idx) == 2:
            return rf"{{{_GREEK[name]}_{{{idx[1]}}}^{{[{idx[0]}]}}}}"
        base = _GREEK.get(name, name)
        return rf"{base}_{{{','.join(idx)}}}"

    def _print_KroneckerDelta(self, expr, exp=None):
        a, b = expr.args
        if b in self._bound and (a not in self._bound or self._bound.index(b) > self._bound.index(a)):
            a, b = b, a  # the summed index first: Σ_d I(d=c)
        tex = rf"\mathbb{{I}}({self._print(a)}={self._print(b)})"
        return rf"{tex}^{{{exp}}}" if exp else tex

    def _print_Sum(self, expr):
        # Σ_i Σ_c as the lecture writes it, not one Σ under a stacked range.
        if len(expr.limits) == 1:
            self._bound.append(expr.limits[0][0])
            try:
                return super()._print_Sum(expr)
            finally:
                self._bound.pop()
        heads = [
            rf"\sum_{{{self._print(v)}={self._print(lo)}}}^{{{self._print(hi)}}}"
            for v, lo, hi in reversed(expr.limits[1:])
        ]
        return " ".join(heads) + " " + self._print_Sum(sp.Sum(expr.function, expr.limits[0]))

    def _print_Derivative(self, expr):
        # Always ∂: the objectives depend on many parameters.
        variables = "".join(rf"\partial {self._print(v)}" for v, n in expr.variable_count for _ in range(n))
        order = sum(n for _, n in expr.variable_count)
        top = r"\partial" if order == 1 else rf"\partial^{{{order}}}"
        body = self._print(expr.expr)
        if isinstance(expr.expr, sp.Symbol):
            return rf"\frac{{{top} {body}}}{{{variables}}}"
        return rf"\frac{{{top}}}{{{variables}}} \left({body}\right)"

    def _print_Symbol(self, expr, style="plain"):
        if expr.name == "Qhat":
            return r"\hat{Q}"
        return super()._print_Symbol(expr, style=style)


#: Letters for a bound index the kernel renamed privately, by what it runs over: the lecture's
#: class letters for a range up to D, its sample letters for a range up to N.
_CLASS_LETTERS = ("d", "c", "e", "k", "l", "m")
_SAMPLE_LETTERS = ("i", "j", "s", "t")


def _letters_for(hi):
    from ._symbols import D, N

    free = sp.sympify(hi).free_symbols
    if D in free:
        return _CLASS_LETTERS
    if N in free:
        return _SAMPLE_LETTERS
    return ()


def readable(expr, _taken=None):
    """``expr`` with every privately renamed bound index (a Dummy of the kernel) named in the
    lecture's notation: d, c, e for a class, i, j for a sample, never a letter free in
    ``expr`` or bound around it. For display only: the reader never sees the kernel's
    private names (k, l, u, ...)."""
    if isinstance(expr, sp.MatrixBase):
        return expr.applyfunc(lambda a: readable(a, _taken))
    if not isinstance(expr, sp.Basic) or expr.is_Atom or not expr.args or not expr.atoms(sp.Dummy):
        return expr  # nothing renamed here: the expression as built (an unevaluated display form too)
    if _taken is None:
        _taken = frozenset(s.name for s in expr.free_symbols)
    if isinstance(expr, (sp.Sum, sp.Product)) and all(len(lim) == 3 for lim in expr.limits):
        taken, mapping, limits = set(_taken), {}, []
        for v, lo, hi in reversed(expr.limits):  # outermost first
            lo, hi = sp.sympify(lo).xreplace(mapping), sp.sympify(hi).xreplace(mapping)
            new = v
            if isinstance(v, sp.Dummy):
                name = next((n for n in _letters_for(hi) if n not in taken), None)
                if name is not None:
                    new = sp.Symbol(name, integer=True, nonnegative=True)
            mapping[v] = new
            taken.add(new.name)
            limits.append((new, lo, hi))
        function = readable(expr.function.xreplace(mapping), frozenset(taken))
        return expr.func(function, *reversed(limits))
    return expr.func(*[readable(a, _taken) for a in expr.args])


def latex(expr, **settings) -> str:
    """LaTeX of a SymPy expression in the lecture's notation (private bound indices renamed)."""
    try:
        expr = readable(expr)
    except (TypeError, ValueError, AttributeError):  # something that does not rebuild: as it is
        pass
    return LectureLatexPrinter(settings).doprint(expr)


def init_printing() -> None:
    """Make notebooks show SymPy results as MathJax in the lecture's notation.

    ``use_latex="mathjax"`` keeps formulas as text (no PNG images of math).
    """
    sp.init_printing(use_latex="mathjax", latex_printer=latex)


_GREEK_TEXT = {"rho": "ρ", "rhotilde": "ρ̃", "gamma": "γ", "pi": "π", "mu": "μ", "sigma": "σ", "alpha": "α",
               "lambda": "λ", "pnew": "p'"}


class _LectureTextPrinter(StrPrinter):
    """Plain text in the lecture's notation: ρ_e^[i], x^[i], γ_e, Σ_{i=0}^{N-1} ..."""

    printmethod = "_lecture_text"  # not the objects' own _sympystr (Indexed prints rho[i, e] there)

    def _print_Indexed(self, expr):
        name = expr.base.label.name
        idx = [self._print(a) for a in expr.indices]
        if name == "x" and len(idx) == 1:
            return f"x^[{idx[0]}]"
        if name in ("rho", "rhotilde") and len(idx) == 2:
            return f"{_GREEK_TEXT[name]}_{idx[1]}^[{idx[0]}]"
        return f"{_GREEK_TEXT.get(name, name)}_{','.join(idx)}"

    def _print_Symbol(self, expr):
        return _GREEK_TEXT.get(expr.name, expr.name)

    _print_Dummy = _print_Symbol

    def _print_Sum(self, expr):
        heads = "".join(f"Σ_{{{self._print(v)}={self._print(lo)}}}^{{{self._print(hi)}}} "
                        for v, lo, hi in reversed(expr.limits))
        return heads + self.parenthesize(expr.function, PRECEDENCE["Mul"])


def text(expr) -> str:
    """One line of plain text in the lecture's notation (for verdicts and messages)."""
    return _LectureTextPrinter().doprint(readable(expr))
