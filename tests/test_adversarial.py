"""The checker against a skeptic: false claims of every kind, each rejected.

Every false claim here comes with a *numeric witness*: at concrete sizes and random values
that satisfy the step's hypotheses, its two sides differ. So each case is known to be false
(a true claim that slipped into this list would fail the witness), and the test asks the
kernel to reject it. Mutations of the definitions themselves (the density, the Q summand,
the Lagrangian, each hypothesis) must make the derivation's own step list fail.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

from gmmderive import symbolic as gs
from gmmderive.symbolic import crosscheck
from gmmderive.symbolic import derivation as dv
from gmmderive.symbolic import exercises as ex
from gmmderive.symbolic import weighted as wt
from gmmderive.symbolic._tactics import canonical, is_zero, sift

c, d, e, i, z, N, D = gs.c, gs.d, gs.e, gs.i, gs.z, gs.N, gs.D
rho, x, mu, sigma, gamma, pi, lam = gs.rho, gs.x, gs.mu, gs.sigma, gs.gamma, gs.pi, gs.lam
I = gs.I  # noqa: E741
MU_OLD = dv._mu_old

# -- the numeric witness ------------------------------------------------------------

#: Two models of the sizes: N < D, and N > D (so that, for instance, I(d=N) can fall out of range).
#: Free indices take values in their range.
MODELS = [({"N": 3, "D": 4}, {"c": 3, "d": 0, "e": 1, "z": 2, "i": 1}),
          ({"N": 5, "D": 2}, {"c": 1, "d": 0, "e": 1, "z": 0, "i": 3})]
BIG = 8  # arrays are longer than N and D, so that an out-of-range index still has a value


def _model(hypotheses, seed):
    """Random values of every symbol that satisfy the given hypotheses."""
    rng = np.random.default_rng(seed)
    n, dd = MODELS[seed % 2][0]["N"], MODELS[seed % 2][0]["D"]
    names = {h.name for h in hypotheses}
    v = {
        "x": np.array([-1.3, -0.7, 2.1, 0.4, 1.7, -2.2, 0.9, 3.1]) * rng.uniform(0.8, 1.2),
        "rho": rng.uniform(0.1, 1.0, (BIG, BIG)),
        "gamma": rng.uniform(0.5, 2.0, BIG),
        "pi": rng.uniform(0.1, 1.0, BIG),
        "mu": rng.normal(0, 2, BIG),
        "sigma": rng.uniform(0.5, 2.0, BIG),
        "q": rng.uniform(0.1, 1.0, BIG),
        "p": rng.uniform(0.1, 1.0, BIG),
        "pnew": rng.uniform(0.1, 1.0, BIG),
        "w": rng.uniform(0.5, 2.0, BIG),
        "alpha": rng.uniform(1.0, 3.0, BIG),
        "rhotilde": rng.uniform(0.1, 1.0, (BIG, BIG)),
        "lambda": rng.uniform(1.0, 5.0),
    }
    if "every row of ρ sums to one" in names:
        v["rho"][:n, :dd] /= v["rho"][:n, :dd].sum(axis=1, keepdims=True)
    if "definition of the class responsibilities" in names:
        v["gamma"][:dd] = v["rho"][:n, :dd].sum(axis=0)
    if "the weights sum to one" in names:
        v["pi"][:dd] /= v["pi"][:dd].sum()
    if "q is a distribution over the classes" in names:
        v["q"][:dd] /= v["q"][:dd].sum()
    if "λ = N (S19)" in names:
        v["lambda"] = float(n)
    if any(name.startswith("stationarity") and "weighted" not in name for name in names):
        v["pi"][:dd] = v["gamma"][:dd] / v["lambda"]
    if "λ = Σ_i w_i (WT5)" in names:
        v["lambda"] = float(v["w"][:n].sum())
    if any(name.startswith("stationarity") and "weighted" in name for name in names):
        v["pi"][:dd] = (v["w"][:n, None] * v["rho"][:n, :dd]).sum(axis=0) / v["lambda"]
    if "μ_e is the updated mean (S24)" in names:
        v["mu"][:dd] = (v["rho"][:n, :dd] * v["x"][:n, None]).sum(axis=0) / v["gamma"][:dd]
    return v, rng


def numeric(expr, hypotheses=(), seed=0):
    """The value of ``expr`` at concrete sizes and random values satisfying the hypotheses."""
    v, rng = _model(hypotheses, seed)
    size, index = MODELS[seed % 2]
    sizes = {N: sp.Integer(size["N"]), D: sp.Integer(size["D"])}
    indices = {sp.Symbol(k, integer=True, nonnegative=True): sp.Integer(val) for k, val in index.items()}
    expr = canonical(sp.sympify(expr)).xreplace(sizes).xreplace(indices).doit()  # bound indices renamed first
    values = {}
    for a in expr.atoms(sp.Indexed):
        arr = v[a.base.label.name]
        values[a] = float(arr[tuple(int(k) for k in a.indices)])
    expr = sp.sympify(expr.xreplace(values))
    rest = {s: float(rng.uniform(0.5, 1.5)) if s != lam else v["lambda"] for s in expr.free_symbols}
    try:
        return complex(sp.N(expr.xreplace(rest)))
    except TypeError:  # zoo, nan: no number
        return complex("nan")


def witnessed(lhs, rhs, hypotheses=()) -> bool:
    """The two sides differ numerically at one of four random models of the hypotheses."""
    for seed in range(4):
        a, b = numeric(lhs, hypotheses, seed), numeric(rhs, hypotheses, seed)
        if not np.isfinite(a) or not np.isfinite(b) or abs(a - b) > 1e-9 * (1 + abs(a)):
            return True
    return False


# -- mutations of a right-hand side ------------------------------------------------


def _drop_first_sample_sum(ex_):
    sums = [s for s in sp.preorder_traversal(ex_) if isinstance(s, sp.Sum) and s.limits[-1][2] == N - 1]
    if not sums:
        return None
    s = sums[0]
    if len(s.limits) == 1:
        body = s.function.xreplace({s.limits[0][0]: i})
    else:
        body = sp.Sum(s.function, *s.limits[:-1]).xreplace({s.limits[-1][0]: i})
    return ex_.xreplace({s: body})


def _replace_indexed(base, new):
    def mut(ex_):
        hits = {a: new(a) for a in ex_.atoms(sp.Indexed) if a.base == base}
        return ex_.xreplace(hits) if hits else None
    return mut


def _outside_sums(fn):
    """Apply ``fn`` to an expression with its sums held aside (their bounds keep N and D)."""
    def mut(ex_):
        hold = {s: sp.Dummy() for s in ex_.atoms(sp.Sum)}
        new = fn(ex_.xreplace(hold))
        return None if new is None else new.xreplace({v: k for k, v in hold.items()})
    return mut


MUTATIONS = {
    "sign flipped": lambda r: -r,
    "doubled": lambda r: 2 * r,
    "σ squared": _replace_indexed(sigma, lambda a: a**2),
    "γ for N": _outside_sums(lambda r: r.xreplace({N: gamma[e]}) if r.has(N) else None),
    "N for γ": _replace_indexed(gamma, lambda a: N),
    "forgotten sum": _drop_first_sample_sum,
    "class c for e": lambda r: r.xreplace({e: c}) if r.has(e) else None,
    "π missing": _replace_indexed(pi, lambda a: sp.S.One),
    "Bessel N - 1": _outside_sums(lambda r: r.xreplace({N: N - 1}) if r.has(N) else None),
    "old mean for new": _replace_indexed(mu, lambda a: MU_OLD),
    "x and μ swapped": lambda r: r.xreplace({**{a: mu[a.indices[0]] for a in r.atoms(sp.Indexed) if a.base == x},
                                             **{a: x[i] for a in r.atoms(sp.Indexed) if a.base == mu}})
    if r.has(x) and r.has(mu) else None,
}

#: Steps whose right side is an ordinary expression the witness can evaluate.
MUTATED_STEPS = [
    "G1", "G2", "S3", "S4", "S6", "S7", "S8", "S10", "M1", "S11", "S14", "S15", "S16", "S16b", "S18", "S19",
    "S20", "S21", "S22", "S23", "S24", "S25", "S26", "S27", "S28", "S29", "R1", "F1", "F2", "V2", "V3", "V4",
    "X5.1", "X6.2", "X7.1", "X10.2", "X11.2", "X12.1", "X19.1", "M2", "E1", "E2", "W2", "X16.2",
]


#: Mutants that are true claims, with the reason (the witness test below confirms each is not false).
TRUE_MUTANTS = {
    ("R1", "old mean for new"): "μ_old for μ_e turns R1 into Σρ(x − μ_old)² = Σρ(x − μ_old)² + 0",
}


w = wt.w
_TOTAL_WEIGHT = sp.Sum(w[i], (i, 0, N - 1))


def _drop_weights_from_one_sum(ex_):
    """The first sum that carries w_i loses it (w_i = 1 in that sum only)."""
    sums = [s for s in sp.preorder_traversal(ex_) if isinstance(s, sp.Sum) and s.function.has(w)]
    if not sums:
        return None
    s = sums[0]
    ones = {a: sp.S.One for a in s.function.atoms(sp.Indexed) if a.base == w}
    return ex_.xreplace({s: sp.Sum(s.function.xreplace(ones), *s.limits)})


def _classes_for_samples(ex_):
    """The first sum over the samples runs over the classes instead (0..D-1)."""
    sums = [s for s in sp.preorder_traversal(ex_) if isinstance(s, sp.Sum) and s.limits[-1][2] == N - 1]
    if not sums:
        return None
    s = sums[0]
    return ex_.xreplace({s: sp.Sum(s.function, *s.limits[:-1], (s.limits[-1][0], 0, D - 1))})


def _n_for_class_weight(ex_):
    """N for the class's weight Σ_i w_i ρ_e^{[i]} (the denominator of the μ and σ updates)."""
    hits = {s: N for s in ex_.atoms(sp.Sum) if s.function == w[s.limits[0][0]] * rho[s.limits[0][0], e]}
    return ex_.xreplace(hits) if hits else None


#: Slips of the weighted derivation (chapter 21), on top of MUTATIONS.
WEIGHTED_MUTATIONS = {
    "weights dropped from one sum": _drop_weights_from_one_sum,
    "N for Σw": lambda r: r.xreplace({_TOTAL_WEIGHT: N}) if r.has(_TOTAL_WEIGHT) else None,
    "N for Σwρ_e": _n_for_class_weight,
    "w² for w": _replace_indexed(w, lambda a: a**2),
    "classes for samples": _classes_for_samples,
}

#: The weighted steps (and the exercises they take their claims from) get both lists.
WEIGHTED_MUTATED_STEPS = ["WT3", "WT4", "WT5", "WT6", "WT7", "WT8", "WT9", "WT10", "X10.2", "X11.2"]


def _rhs_cases():
    cases = []
    for sid in MUTATED_STEPS + [s for s in WEIGHTED_MUTATED_STEPS if s not in MUTATED_STEPS]:
        step = gs.step(sid)
        mutations = {**MUTATIONS, **WEIGHTED_MUTATIONS} if sid in WEIGHTED_MUTATED_STEPS else MUTATIONS
        for label, mutate in mutations.items():
            if (step.rhs == 0 and label in ("sign flipped", "doubled")) or (sid, label) in TRUE_MUTANTS:
                continue
            new = mutate(step.rhs)
            if new is None or new == step.rhs:
                continue
            cases.append(pytest.param(sid, label, new, id=f"{sid}-{label}"))
    return cases


def _mutant(sid, label):
    return {**MUTATIONS, **WEIGHTED_MUTATIONS}[label](gs.step(sid).rhs)


RHS_CASES = _rhs_cases()


def test_at_least_a_hundred_false_right_sides():
    assert len(RHS_CASES) >= 100


@pytest.mark.parametrize("sid,label,new_rhs", RHS_CASES)
def test_false_right_side_is_rejected(sid, label, new_rhs):
    step = gs.step(sid)
    # The original right side is proven; the mutant differs from it on a model of the hypotheses.
    assert witnessed(step.rhs, new_rhs, step.hypotheses), f"{label} leaves {sid} true: list it in TRUE_MUTANTS"
    proof = step.with_rhs(new_rhs).check()
    assert not proof.passed, f"{sid} with {label} was accepted"
    assert proof.message


@pytest.mark.parametrize("sid,label", sorted(TRUE_MUTANTS))
def test_true_mutants_are_true(sid, label):
    step = gs.step(sid)
    new = _mutant(sid, label)
    assert not witnessed(step.rhs, new, step.hypotheses)
    proof = step.with_rhs(new).check()  # proven, or refused as showing nothing (both sides one expression)
    assert proof.passed or "one expression" in proof.message


#: The slips issue #13 names, for each weighted update: each must be among the rejected cases.
WEIGHTED_SLIPS = {
    "WT6": ["weights dropped from one sum", "N for Σw", "w² for w", "classes for samples"],
    "WT8": ["weights dropped from one sum", "N for Σwρ_e", "w² for w", "classes for samples"],
    "WT10": ["weights dropped from one sum", "N for Σwρ_e", "w² for w", "classes for samples", "old mean for new"],
}


def test_weighted_updates_meet_the_named_slips():
    ids = {p.id for p in RHS_CASES}
    missing = [f"{sid}-{label}" for sid, labels in WEIGHTED_SLIPS.items() for label in labels
               if f"{sid}-{label}" not in ids]
    assert not missing


def test_weighted_updates_need_their_conditions():
    for sid in ("WT6", "WT10"):
        step = gs.step(sid)
        assert step.check().passed
        for h in step.hypotheses:
            if h.is_condition:
                rest = tuple(k for k in step.hypotheses if k is not h)
                proof = dataclasses.replace(step, hypotheses=rest).check()
                assert not proof.passed, f"{sid} without '{h.name}'"


# -- integer weights are repeated samples (exact steps): false repetitions rejected ----------


def _exact_value(expr, seed=0):
    """``expr`` at N = 3, D = 2, w = (2, 1, 3), the repeated set's r_j, and random values."""
    rng = np.random.default_rng(seed)
    expr = wt._expand(expr, 3, 2, (2, 1, 3))
    values = {}
    for a in expr.atoms(sp.Indexed):
        name = a.base.label.name
        values[a] = (rng.normal(0, 2) if name in ("x", "mu") else rng.uniform(0.2, 1.5))
    return complex(sp.N(expr.xreplace(values).xreplace({lam: 1.3})))


_ONE_COPY_LOST = {wt._REPEATED: wt._REPEATED - 1}
EXACT_CASES = [
    ("WT11", "one copy lost", lambda r: r.xreplace(_ONE_COPY_LOST)),
    ("WT11", "the unweighted Q of the N samples", lambda r: gs.step("WT1").rhs.xreplace({w[i]: 1})),
    ("WT11", "copies of the first sample only", lambda r: r.xreplace({wt.r[wt.j]: 0})),
    ("WT11", "doubled", lambda r: 2 * r),
    ("WT12", "one copy lost", lambda r: r.xreplace(_ONE_COPY_LOST)),
    ("WT12", "the unweighted log-likelihood", lambda r: gs.step("WT12").lhs.xreplace({w[i]: 1})),
    ("WT12", "w² copies", lambda r: r.xreplace({wt._REPEATED: sp.Sum(w[i] ** 2, (i, 0, N - 1)) - 1})),
]


@pytest.mark.parametrize("sid,label,mutate", EXACT_CASES, ids=[f"{c[0]}-{c[1]}" for c in EXACT_CASES])
def test_false_repetition_is_rejected(sid, label, mutate):
    step = gs.step(sid)
    new = mutate(step.rhs)
    assert abs(_exact_value(step.lhs) - _exact_value(new)) > 1e-9, f"{label} leaves {sid} true"
    assert abs(_exact_value(step.lhs) - _exact_value(step.rhs)) < 1e-9
    proof = step.with_rhs(new).check()
    assert not proof.passed and proof.message


# -- the issue's own examples, and claims of other kinds ------------------------------

S = lambda f, v=i: sp.Sum(f, (v, 0, N - 1))  # noqa: E731
C = lambda f, v=d: sp.Sum(f, (v, 0, D - 1))  # noqa: E731


def test_forgotten_sum_in_s28_is_rejected():
    # SymPy 1.14's simplify would pull the free x^{[i]} into the sum over the bound i.
    wrong = gs.step("S28").with_rhs(gamma[e] * (x[i] - mu[e]) ** 2 - gamma[e] * sigma[e] ** 2)
    assert not wrong.check().passed


@pytest.mark.parametrize("lhs,rhs", [
    # a free x^{[i]} outside a sum over i is not the sum's x^{[i]}
    (x[i] * S(rho[i, e]), S(rho[i, e] * x[i])),
    (x[i] ** 2 * S(rho[i, e]) - S(rho[i, e] * x[i] ** 2), 0),
    (S(rho[i, e]) * mu[e] - S(rho[i, e] * x[i]), gamma[e] * (mu[e] - x[i])),
    (S(x[i] * S(rho[i, e])), S(rho[i, e] * x[i])),  # the inner sum rebinds i
], ids=["pull-in", "square", "mean", "nested-rebind"])
def test_no_capture_of_a_free_index(lhs, rhs):
    assert witnessed(lhs, rhs)
    assert not gs.claim(lhs, rhs).check().passed


@pytest.mark.parametrize("lhs,rhs", [
    (C(I(d, D) * pi[d]), pi[D]),                       # D is out of the range 0..D-1
    (C(I(d, N) * pi[d]), pi[N]),                       # N is no class
    (S(I(i, c) * x[i]), x[c]),                         # a class index against the samples
    (C(I(d, i) * pi[d]), pi[i]),                       # a sample index against the classes
    (C(I(d, e + 1) * pi[d]), pi[e + 1]),               # e + 1 may be D
    (sp.Product(pi[d] ** I(d, D), (d, 0, D - 1)), pi[D]),
    (sp.Product(mu[d] ** I(d, e), (d, 0, D - 1)), mu[e]),  # μ may be negative: no log
], ids=["I(d=D)", "I(d=N)", "I(i=c)", "I(d=i)", "I(d=e+1)", "prod-D", "prod-mu"])
def test_sifting_needs_an_index_in_range(lhs, rhs):
    assert not gs.claim(lhs, rhs).check().passed
    if rhs.has(pi[D]) or rhs.has(pi[N]) or rhs.has(x[c]) or rhs.has(pi[i]):
        assert witnessed(lhs, rhs)


def test_sifting_still_works_in_range():
    assert gs.claim(C(I(d, e) * pi[d]), pi[e]).check().passed
    j = sp.Symbol("j", integer=True, nonnegative=True)  # an index of no known kind: no sifting
    assert not gs.claim(C(I(d, j) * pi[d]), pi[j]).check().passed
    assert gs.claim(sp.Product(pi[d] ** I(d, e), (d, 0, D - 1)), pi[e]).check().passed


@pytest.mark.parametrize("lhs,rhs", [
    (sp.log(x[i] ** 2), 2 * sp.log(x[i])),
    (sp.log(x[i] * x[1]), sp.log(x[i]) + sp.log(x[1])),
    (sp.log(1 / x[i]), -sp.log(x[i])),
    (sp.sqrt(x[i] ** 2), x[i]),
    (sp.log(mu[e] ** 2) / 2, sp.log(mu[e])),
    (sp.log(-sigma[e]), sp.log(sigma[e])),
], ids=["log-square", "log-product", "log-inverse", "sqrt-square", "log-mu", "log-negative"])
def test_logs_of_possibly_negative_values(lhs, rhs):
    assert witnessed(lhs, rhs)
    assert not gs.claim(lhs, rhs).check().passed


def test_logs_of_positive_values_still_split():
    assert gs.claim(sp.log(pi[e] * sigma[e]), sp.log(pi[e]) + sp.log(sigma[e])).check().passed
    assert gs.claim(sp.log(sigma[e] ** 2), 2 * sp.log(sigma[e])).check().passed


@pytest.mark.parametrize("sid,lhs", [
    ("S24", sigma[e]), ("S20", mu[e]), ("S29", mu[e]), ("S16b", pi[e]), ("V3", mu[e]),
    ("S14", sp.Derivative(gs.Q_hat, mu[e])), ("S21", sp.Derivative(gs.Q_hat, sigma[e])),
    ("S25", sp.Derivative(gs.Q_hat, pi[e])), ("S17", sp.Derivative(gs.Q, lam)),
    ("M3", mu[e]), ("X10.1", mu[e]), ("X16.2", pi[e]), ("H3", sigma[e]), ("X11.1", mu[e]),
    ("WT6", mu[e]), ("WT8", sigma[e]), ("WT10", mu[e]), ("WT4", pi[e]),
    ("WT3", sp.Derivative(wt.Q_hat_w, mu[e])), ("WT7", sp.Derivative(gs.Q_hat, mu[e])),
    ("WT9", sp.Derivative(wt.Q_hat_w, pi[e])), ("WT11", wt.Q_W), ("WT12", wt.Q_W_WITH_CONSTANT),
], ids=lambda v: str(v) if isinstance(v, str) else None)
def test_wrong_left_side_is_rejected(sid, lhs):
    proof = gs.step(sid).with_lhs(lhs).check()
    assert not proof.passed
    assert "left side" in proof.message


@pytest.mark.parametrize("sid,rhs", [
    ("U1", sp.zeros(2, 1)), ("U1", sp.zeros(4, 1)), ("U1", sp.zeros(1, 3)), ("U1", sp.S.Zero),
    ("X9.1", sp.Matrix([gs.step("X9.1").rhs[0], gs.step("X9.1").rhs[1]])),
    ("X9.1", sp.Matrix([*gs.step("X9.1").rhs, 0])),
    ("H1", sp.zeros(3, 3)), ("MV1", sp.zeros(3, 1)), ("MV2", sp.zeros(2, 3)),
], ids=["U1-2", "U1-4", "U1-row", "U1-scalar", "X9.1-short", "X9.1-extra", "H1-3x3", "MV1-3", "MV2-2x3"])
def test_wrong_shape_is_rejected(sid, rhs):
    proof = gs.step(sid).with_rhs(rhs).check()
    assert not proof.passed
    assert "shape" in proof.message or "matrix" in proof.message


def test_empty_step_is_refused():
    s = gs.step("B1")
    assert not dataclasses.replace(s, lhs=s.rhs).check().passed
    assert "one expression" in dataclasses.replace(s, lhs=s.rhs).check().message


def test_no_step_displays_a_tautology():
    for s in gs.ALL_STEPS:
        eq = s.equation
        assert eq.lhs != eq.rhs, s.id
        assert gs.latex(eq.lhs) != gs.latex(eq.rhs), s.id


def test_inequality_needs_a_procedure():
    s = gs.claim(sp.log(pi[e]), sp.log(pi[e]) - 1)
    assert not dataclasses.replace(s, relation=">=").check().passed


# -- hypotheses: derived from their statements and checked ------------------------------

HYPOTHESES = [dv.SIMPLEX, dv.ROWS, dv.GAMMA, dv.SCATTER, dv.STATIONARY_PI, dv.LAMBDA_IS_N, dv.MEAN_UPDATE,
              dv.Q_SIMPLEX, wt.TOTAL_WEIGHT, wt.CLASS_WEIGHT, wt.WEIGHTED_SCATTER, wt.STATIONARY_PI_W,
              wt.LAMBDA_IS_TOTAL_WEIGHT]


@pytest.mark.parametrize("h", HYPOTHESES, ids=lambda h: h.name)
def test_every_hypothesis_establishes_its_statement(h):
    assert h.check()
    assert h.source in ("definition", "assumption", "condition") or gs.step(h.source)


@pytest.mark.parametrize("h", [h for h in HYPOTHESES
                               if h.source not in ("definition", "assumption", "condition", "E2")],
                         ids=lambda h: h.name)
def test_hypotheses_from_steps_restate_them(h):
    step = gs.step(h.source)
    assert step.check().passed
    assert h.statement.lhs == step.lhs and h.statement.rhs == step.rhs


def test_a_hypothesis_rewrite_cannot_drift_from_its_statement():
    # The old λ = N hypothesis carried a separate rewrite; now the rewrite is the statement.
    h = gs.Hypothesis("λ = N", sp.Eq(lam, N))
    assert h.rewrite(lam + 1) == N + 1
    bad = gs.Hypothesis("λ = D, mistyped", sp.Eq(lam, D))
    assert bad.rewrite(lam) == D
    s20 = gs.step("S20")
    # with the mistyped statement, the weights' update does not follow
    assert not dataclasses.replace(s20, hypotheses=(bad,),
                                   method=dv.by_solving(gamma[e] / pi[e] - lam, pi[e], bad.rewrite)).check().passed
    # and a method may not use a hypothesis that the step does not list (the audit would hide it)
    proof = dataclasses.replace(s20, hypotheses=(bad,)).check()
    assert not proof.passed and "not among its hypotheses" in proof.message


def test_a_hypothesis_holds_only_for_indices_of_its_kind():
    # γ_c = Σ_i ρ_c^{[i]} for every class c; γ_N (N is no class) is not rewritten
    assert dv.GAMMA.rewrite(gamma[N]) == gamma[N]
    assert dv.GAMMA.rewrite(gamma[d]) != gamma[d]
    # rows sum to one for a sample index, not for a class index
    assert dv.ROWS.rewrite(C(rho[i, d])) == 1
    assert dv.ROWS.rewrite(C(rho[c, d])) != 1


def test_s29_needs_its_condition():
    s = gs.step("S29")
    assert s.check().passed
    assert not dataclasses.replace(s, hypotheses=()).check().passed


def test_s18_is_derived_not_assumed():
    s = gs.step("S18")
    assert all(h.statement != s.equation for h in s.hypotheses)
    assert [h.source for h in s.hypotheses] == ["S16b"]


def test_special_cases_are_labelled():
    for sid, case in [("X5.2", "D = 2"), ("X6.1", "D = 2"), ("X7.2", "D = 1"), ("X8.2", "D = 2"),
                      ("X9.1", "D = 2"), ("X12.2", "D = 1")]:
        s = gs.step(sid)
        assert s.kind == "case" and s.case.startswith(case), sid
        assert f"case {s.case}" in s.check().summary()


# -- the reader's own claims ------------------------------------------------------------


def test_reader_claim_proven_and_refuted_with_leftover():
    right = gs.claim(S(rho[i, e] * (x[i] - mu[e])), S(rho[i, e] * x[i]) - gamma[e] * mu[e], using=[dv.GAMMA])
    assert right.check().passed
    wrong = gs.claim(S(rho[i, e] * (x[i] - mu[e])), S(rho[i, e] * x[i]) - N * mu[e], using=[dv.GAMMA])
    proof = wrong.check()
    assert not proof.passed
    assert "reduces to" in proof.message and "N" in proof.message


def test_reader_claim_may_use_proven_steps_only():
    assert gs.claim(lam * pi[e], gamma[e], using=["S16b"]).check().passed
    with pytest.raises(ValueError, match="not a general equality"):
        gs.claim(pi[e], gamma[e] / N, using=["M3"])  # M3 is proven for concrete sizes only


@pytest.mark.parametrize("sid,answer,ok", [
    ("S24", S(rho[i, e] * x[i]) / gamma[e], True),
    ("S24", S(rho[i, e] * x[i]) / N, False),
    ("S29", sp.sqrt(S(rho[i, e] * (x[i] - mu[e]) ** 2) / gamma[e]), True),
    ("S29", sp.sqrt(S(rho[i, e] * (x[i] - mu[e]) ** 2) / (gamma[e] - 1)), False),
    ("S29", S(rho[i, e] * (x[i] - mu[e]) ** 2) / gamma[e], False),
    ("S20", gamma[e] / N, True),
    ("S20", gamma[e] / D, False),
    ("X10.1", (gamma[e] + ex.alpha[e] - 1) / (N + C(ex.alpha[d]) - D), True),
    ("X10.1", (gamma[e] + ex.alpha[e]) / (N + C(ex.alpha[d])), False),
])
def test_an_exercise_answer_gets_proven_or_its_leftover(sid, answer, ok):
    proof = gs.step(sid).with_rhs(answer).check()
    assert proof.passed is ok
    if not ok:
        assert proof.message


# -- mutations of the definitions: caught by the derivation's own steps -------------------

PACKAGE = Path(dv.__file__).resolve().parent

DEFINITION_MUTATIONS = [
    ("density normalizer", "_symbols.py", "sp.sqrt(2 * sp.pi)) * sp.exp", "sp.sqrt(sp.pi)) * sp.exp"),
    ("density exponent", "_symbols.py", "/ (2 * std**2))", "/ (std**2))"),
    ("categorical", "_symbols.py", "pi[k] ** I(k, value)", "pi[k] ** I(k, 0)"),
    ("Q summand: log σ dropped", "model.py", "        - sp.log(sigma[cls])\n", ""),
    ("Q summand: indicator", "model.py", "class_sum(I(d, cls) * sp.log(pi[d]))\n        - sp.log(sigma[cls])",
     "class_sum(I(d, e) * sp.log(pi[d]))\n        - sp.log(sigma[cls])"),
    ("Lagrangian sign", "model.py", "LAGRANGIAN = Q_S10 + lam * g_constraint",
     "LAGRANGIAN = Q_S10 - lam * g_constraint"),
    ("constraint", "model.py", "g_constraint = 1 - class_sum(pi[d])", "g_constraint = 2 - class_sum(pi[d])"),
    ("hypothesis GAMMA", "model.py", "sp.Eq(gamma[c], sample_sum(rho[i, c]))",
     "sp.Eq(gamma[c], sample_sum(rho[i, c] * x[i]))"),
    ("hypothesis ROWS", "model.py", "sp.Eq(class_sum(rho[i, d]), 1)", "sp.Eq(class_sum(rho[i, d]), 2)"),
    ("hypothesis SIMPLEX", "model.py", "sp.Eq(class_sum(pi[d]), 1)", "sp.Eq(class_sum(pi[d]), 2)"),
    ("hypothesis Q_SIMPLEX", "ch16_why_em.py", "sp.Eq(class_sum(q[d]), 1)", "sp.Eq(class_sum(q[d]), 2)"),
    ("condition SCATTER dropped", "ch12_stds.py", "    hypotheses=(SCATTER, GAMMA),\n", "    hypotheses=(GAMMA,),\n"),
    ("S19 (λ = N) claims D", "ch09_weights.py", "    lhs=lam,\n    rhs=N,",
     "    lhs=lam,\n    rhs=class_sum(1),"),  # Σ_d 1 = D
    ("S16b (stationarity) mistyped", "ch09_weights.py", "    rhs=gamma[e] / pi[e],\n    justification=r\"Solve",
     "    rhs=gamma[e] / pi[e] ** 2,\n    justification=r\"Solve"),
    ("S24 (mean) mistyped", "ch11_means.py", "rhs=(1 / gamma[e]) * sample_sum(rho[i, e] * x[i]),",
     "rhs=(1 / sample_sum(1)) * sample_sum(rho[i, e] * x[i]),"),  # Σ_i 1 = N
    # chapter 21: the weighted derivation's definitions
    ("weighted Q: w dropped", "weighted.py", "Q_W = sample_sum(w[i] * class_sum(weighted_q_summand(c, i), c))",
     "Q_W = sample_sum(class_sum(weighted_q_summand(c, i), c))"),
    ("weighted Q: w squared", "weighted.py", "Q_W = sample_sum(w[i] * class_sum(weighted_q_summand(c, i), c))",
     "Q_W = sample_sum(w[i] ** 2 * class_sum(weighted_q_summand(c, i), c))"),
    ("E-step for D = 2: π_1 = π_0", "rate.py", "(1 - pi[0]) * _phi1)", "pi[0] * _phi1)"),
    ("E-step for D = 2: ρ_0 unnormalized", "rate.py",
     "RHO_0 = pi[0] * _phi0 / (pi[0] * _phi0 + (1 - pi[0]) * _phi1)", "RHO_0 = pi[0] * _phi0"),
    ("WT5 (λ = Σw) claims N", "weighted.py", "    lhs=lam,\n    rhs=sample_sum(w[i]),", "    lhs=lam,\n    rhs=N,"),
    ("weighted scatter condition dropped", "weighted.py", "    hypotheses=(WEIGHTED_SCATTER, CLASS_WEIGHT),\n",
     "    hypotheses=(CLASS_WEIGHT,),\n"),
    ("repetition: a copy lost", "weighted.py", "_REPEATED = sample_sum(w[i]) - 1", "_REPEATED = sample_sum(w[i]) - 2"),
    ("repetition: weights off by one", "weighted.py", "for _ in range(wk)]", "for _ in range(wk + 1)]"),
]


def _load_mutant(tmp_path, name, filename, old, new):
    root = tmp_path / "mutant"
    pkg = root / f"mutant_{abs(hash(name)) % 10**8}"
    shutil.copytree(PACKAGE, pkg, ignore=shutil.ignore_patterns("__pycache__"))
    target = pkg / filename
    text = target.read_text()
    assert text.count(old) == 1, f"mutation {name!r} does not apply"
    target.write_text(text.replace(old, new))
    spec = importlib.util.spec_from_file_location(pkg.name, pkg / "__init__.py", submodule_search_locations=[str(pkg)])
    module = importlib.util.module_from_spec(spec)
    sys.modules[pkg.name] = module
    # the numeric second checker is the package's own, unmutated: it is independent of the
    # definitions, and its verdicts on the steps a mutation leaves unchanged are reused
    sys.modules[f"{pkg.name}.crosscheck"] = crosscheck
    try:
        spec.loader.exec_module(module)
    except Exception:
        _forget(pkg.name)
        raise
    return module, pkg.name


def _forget(pkg_name):
    """Drop a mutant package and its modules from the import system."""
    for k in [k for k in sys.modules if k.startswith(pkg_name)]:
        del sys.modules[k]


@pytest.mark.parametrize("name,filename,old,new", DEFINITION_MUTATIONS, ids=[m[0] for m in DEFINITION_MUTATIONS])
def test_definition_mutation_fails_verify(tmp_path, name, filename, old, new):
    try:
        module, pkg_name = _load_mutant(tmp_path, name, filename, old, new)
    except Exception as exc:  # a mutant that cannot even be built is caught too
        pytest.fail(f"{name}: the mutant did not import ({exc}); mutate something that imports")
    try:
        # a mutation of the weighted derivation can only break its own steps (chapter 21)
        # (and one of chapter 22's only its own)
        own = {"weighted.py": "WEIGHTED_STEPS", "rate.py": "RATE_STEPS"}
        chosen = getattr(getattr(module, filename[:-3]), own[filename]) if filename in own else module.ALL_STEPS
        failed = next((s.id for s in chosen if not s.check().passed), None)
    finally:
        _forget(pkg_name)
    assert failed is not None, f"verify passes with the mutation {name!r}"


def test_sift_helper_is_sound_on_nested_class_sums():
    # Σ_c Σ_d I(d=c) f(c, d) = Σ_c f(c, c): both indices are classes
    lhs = sp.Sum(I(d, c) * mu[d] * pi[c], (d, 0, D - 1), (c, 0, D - 1))
    assert is_zero(sift(lhs) - sp.Sum(mu[c] * pi[c], (c, 0, D - 1)))


# -- issue #23: where the kernel trusted instead of checking ---------------------------------
#
# Each false claim below was accepted before; each comes with a numeric witness computed
# here by plain Python loops (ordinary sums, no kernel code), and must now be rejected.

_k, _m = sp.symbols("k m", integer=True, nonnegative=True)
_RNG = np.random.default_rng(23)
_PI = _RNG.uniform(0.1, 1.0, BIG)


def _witness_differs(a, b):
    assert abs(complex(a) - complex(b)) > 1e-9, "the witness shows no difference: the claim may be true"


def _rejected(step_or_claim):
    proof = step_or_claim.check()
    assert not proof.passed, "a false claim was proven"
    assert proof.message
    return proof


def test_subs_binds_its_variable():
    # Subs(Σ_d I(d=c) π_d, c, D) = Σ_{d<D} I(d=D) π_d = 0, never π_D
    dd = 4
    _witness_differs(sum(_PI[k] * (k == dd) for k in range(dd)), _PI[dd])
    proof = _rejected(gs.claim(sp.Subs(C(I(d, c) * pi[d]), c, D), pi[D]))
    assert "does not vanish" in proof.message
    # a Subs that means what the sifting says is still proven
    assert gs.claim(sp.Subs(C(I(d, c) * pi[d]), c, e), pi[e]).check().passed


def test_a_name_bound_twice_is_refused():
    # SymPy reads Σ_{d<D} Σ_{d<N} as: the outer d is unused, so D Σ_{d<N} I(d=e) π_d
    n, dd, ev = 3, 4, 1
    value = sum(sum(_PI[k] * (k == ev) for k in range(n)) for _ in range(dd))
    _witness_differs(value, n * _PI[ev])
    proof = _rejected(gs.claim(sp.Sum(I(d, e) * pi[d], (d, 0, N - 1), (d, 0, D - 1)), N * pi[e]))
    assert "twice" in proof.message


def test_sum_limits_that_depend_on_another_index_are_kept():
    # Σ_m Σ_c Σ_{k=0}^{c} γ_c = D Σ_c (c + 1) γ_c, with γ_c = Σ_i ρ_c^{[i]} and rows summing to one
    n, dd = 3, 4
    r = _RNG.uniform(0.1, 1, (n, dd))
    r /= r.sum(axis=1, keepdims=True)
    g = r.sum(axis=0)
    _witness_differs(dd * sum((cc + 1) * g[cc] for cc in range(dd)), n * dd * (dd + 1) / 2)
    _rejected(gs.claim(sp.Sum(gamma[c], (_k, 0, c), (c, 0, D - 1), (_m, 0, D - 1)), N * D * (D + 1) / 2,
                       using=["X6.2"]))
    # sifting may not take an index that a triangular sum's bound still names
    _rejected(gs.claim(sp.Sum(I(d, e) * pi[d], (_k, 0, d), (d, 0, D - 1)), D * pi[e]))


def test_triangular_sums_stay_in_their_order():
    # Σ_{c<D} Σ_{k≤c} 1 = D (D + 1)/2; moving the class sum inside would free the bound c
    assert gs.claim(sp.Sum(1, (_k, 0, c), (c, 0, D - 1)), D * (D + 1) / 2).check().passed
    dd, cv = 3, 0  # the free c of the claim is any class: take c = 0
    _witness_differs(sum(k + 1 for k in range(dd)), dd * (cv + 1))
    _rejected(gs.claim(sp.Sum(1, (_k, 0, c), (c, 0, D - 1)), D * (c + 1)))


def test_a_private_index_from_a_proof_cannot_be_captured():
    from gmmderive.symbolic._tactics import _BOUND

    private = _BOUND["class"][0]  # prints as d; free here, it is some class, say 0
    _witness_differs(_PI[0] / _PI[:3].sum(), 1)  # π_0 of three normalized weights is not 1
    proof = _rejected(gs.claim(C(I(d, private) * pi[d]), 1, using=[dv.SIMPLEX]))
    assert "private" in proof.message
    # one taken from a proof's work, as a reader would
    work = gs.step("S14").check().work[0][1]
    taken = sorted(work.atoms(sp.Dummy), key=str)[0]
    _rejected(gs.claim(pi[taken], pi[taken] + 0 * pi[e] + 1))


def test_sums_that_run_backwards_are_refused():
    # Σ_{d=2}^{D-1} 1 is 0 at D = 1 (an empty sum), but SymPy's Karr convention gives -1 = D - 2
    _witness_differs(sum(1 for _ in range(2, 1)), 1 - 2)
    proof = _rejected(gs.claim(sp.Sum(1, (d, 2, D - 1)), D - 2))
    assert "backwards" in proof.message and "_" not in proof.message.split("over")[1].split()[0]
    _rejected(gs.claim(sp.Matrix([sp.Sum(1, (d, 2, D - 1))]), sp.Matrix([D - 2])))  # in a matrix too
    # with its range stated, the claim is true and proven
    stated = gs.claim(sp.Sum(1, (d, 2, D - 1)), D - 2, least=((D, 2),))
    assert stated.check().passed and "D ≥ 2" in stated.kind_label


def test_positivity_carried_by_a_symbol_is_listed():
    # γ_e > 0 is declared on the symbol: 0^γ_e = 0 follows, and the audit says what was assumed
    proof = gs.claim(sp.Pow(0, gamma[e], evaluate=False), 0).check()
    assert proof.passed
    assert any("γ_c > 0" in a for a in proof.audit()["assumptions"])


def test_a_solving_step_is_a_root_for_its_class_only():
    # X11.1: m is the root for class e. It is not every class's mean.
    m_ = ex._m
    r = _RNG.uniform(0.1, 1, (5, 2))
    xs = _RNG.normal(0, 2, 5)
    _witness_differs((r[:, 0] * xs).sum() / r[:, 0].sum(), (r[:, 1] * xs).sum() / r[:, 1].sum())
    _rejected(gs.claim(m_, S(rho[i, c] * x[i]) / S(rho[i, c]), using=["X11.1"]))
    assert gs.claim(m_, S(rho[i, e] * x[i]) / S(rho[i, e]), using=["X11.1"]).check().passed
    # S16b likewise: λ = γ_e/π_e for its class; every class needs the stated assumption
    _rejected(gs.claim(lam * pi[d], gamma[d], using=["S16b"]))
    assert gs.claim(lam * pi[d], gamma[d], using=[dv.STATIONARY_PI]).check().passed
    with pytest.raises(ValueError, match="assumed="):
        gs.Hypothesis.from_step(gs.step("S16b"), over=(e,))
    assert dv.STATIONARY_PI.assumed and gs.step("S18").check().audit()["assumptions"]


@pytest.mark.parametrize("label", ["last class", "one class only"])
def test_m3_checks_every_class(label):
    # γ_e/N (1 + I(e = D-1)) is 2γ_{D-1}/N for the last class
    rhs = gamma[e] / N * (1 + I(e, D - 1)) if label == "last class" else gamma[e] / N * (1 + I(e, 0))
    g, n = 1.3, 5
    _witness_differs(2 * g / n, g / n)
    _rejected(gs.step("M3").with_rhs(rhs))


def test_two_dimensional_updates_hold_for_every_d():
    mv1, mv2 = gs.step("MV1"), gs.step("MV2")
    _witness_differs(2 * 1.7, 1.7)  # at D = 3, (D - 1) times an entry is twice it
    _rejected(mv1.with_rhs(mv1.rhs * (D - 1)))
    _rejected(mv2.with_rhs(mv2.rhs * (D - 1)))
    # MV2 never looked at entry (1, 0): a claim with 0 there was accepted
    lopsided = mv2.rhs.copy()
    lopsided[1, 0] = 0
    xs1, xs2, r = _RNG.normal(0, 1, 3), _RNG.normal(0, 1, 3), _RNG.uniform(0.1, 1, 3)
    m1, m2 = (r * xs1).sum() / r.sum(), (r * xs2).sum() / r.sum()
    _witness_differs((r * (xs1 - m1) * (xs2 - m2)).sum() / r.sum(), 0)
    assert "symmetric" in _rejected(mv2.with_rhs(lopsided)).message


def test_procedures_private_names_are_refused():
    # WT12 compared ℓ(x), its own stand-in for log p(x), with a claim that named ℓ
    wt12 = gs.step("WT12")
    ell_claim = sp.Sum(wt._ell(x[wt.r[wt.j]]), (wt.j, 0, wt._REPEATED))
    _witness_differs(_exact_value(wt12.lhs), 0)  # with ℓ = 0 the claim is 0, the log-likelihood is not
    assert "private" in _rejected(wt12.with_rhs(ell_claim)).message
    # EM1 wrote each exponential as a symbol named after it: a claim could name that symbol
    em1 = gs.step("EM1")
    b = sorted(sp.diff(gs.rate.RHO_0, mu[0]).atoms(sp.exp), key=sp.default_sort_key)[0].args[0].as_coeff_Mul()[1]
    named = sp.Symbol("E" + sp.srepr(b), positive=True)
    _witness_differs(1.0, 0.5)  # E_b = 1 while exp(b) = 1/2: E_b − exp(b) ≠ 0
    _rejected(em1.with_rhs(em1.rhs + named - sp.exp(b)))


def test_a_hypothesis_that_names_a_step_must_be_its_theorem():
    fake = gs.Hypothesis("λ = N (S19)", sp.Eq(lam, D), source="S19")
    _witness_differs(5, 2)  # λ = N = 5 samples, D = 2 classes
    proof = _rejected(gs.claim(lam, D, using=[fake]))
    assert "not that step's theorem" in proof.message
    # a theorem altered after the kernel made it is no longer one
    altered = dataclasses.replace(dv.LAMBDA_IS_N, statement=sp.Eq(lam, D))
    _rejected(gs.claim(lam, D, using=[altered]))
    # the same fact as an assumption is used, and the audit says it was assumed
    assumed = gs.Hypothesis("λ = D, assumed", sp.Eq(lam, D))
    proof = gs.claim(lam, D, using=[assumed]).check()
    assert proof.passed and any("λ = D, assumed" in a for a in proof.audit()["assumptions"])
    # the verdict shows it (and that the claim only restates it)
    assert "restates λ = D, assumed, assuming λ = D, assumed" in proof.summary()


def test_the_books_assumptions_are_listed():
    # HOL's axioms(): every hypothesis the book takes as given, none of them hidden
    given = gs.axioms()
    assert {dv.SIMPLEX, dv.ROWS, dv.GAMMA, dv.SCATTER, dv.STATIONARY_PI, dv.Q_SIMPLEX} <= set(given)
    assert all(h.source in ("definition", "assumption", "condition") or h.assumed for h in given)
    # no step of the book is "proven, assuming" something the book does not list
    assert not [p.summary() for p in gs.verify(10) if "assuming" in p.summary()]


def test_a_hypothesis_that_contradicts_the_symbols_is_refused():
    minus_one = gs.Hypothesis("π_c = -1", sp.Eq(pi[c], -1, evaluate=False), over=(c,))
    assert _PI.min() > 0  # π > 0 is declared: no value satisfies π_c = -1
    assert "contradicts" in _rejected(gs.claim(pi[c] + 1, 0, using=[minus_one])).message
    negative_gamma = gs.Hypothesis("π_c = -γ_c", sp.Eq(pi[c], -gamma[c], evaluate=False), over=(c,))
    _rejected(gs.claim(pi[c] + gamma[c], 0, using=[negative_gamma]))
    not_an_index = gs.Hypothesis("λ = N over N", sp.Eq(lam, N), over=(N,))
    assert "not an index" in _rejected(gs.claim(lam, N, using=[not_an_index])).message


def test_an_inequality_step_cannot_become_an_equality():
    w4 = gs.step("W4")
    qv = np.array([0.2, 0.8])
    post = np.array([0.6, 0.4])
    _witness_differs((qv * np.log(qv / post)).sum(), 0)  # KL > 0 when q is not the posterior
    assert "not lhs = rhs" in _rejected(dataclasses.replace(w4, relation="=")).message


def test_solving_needs_every_root():
    s = sigma[e]
    # sin σ = 0 has the positive roots π, 2π, ...: "the unique positive root" is false
    assert abs(np.sin(2 * np.pi)) < 1e-12 and abs(np.sin(np.pi)) < 1e-12
    step = gs.Step("root", 0, "the unique positive root", s, sp.pi, "", dv.by_solving(sp.sin(s), s))
    assert "may miss roots" in _rejected(step).message
    # two admissible roots of a polynomial: neither is "the" root
    assert (-1.0) ** 2 - 1 == 0 and 1.0**2 - 1 == 0
    two = gs.Step("root", 0, "the root", gs.X, sp.S.One, "", dv.by_solving(gs.X**2 - 1, gs.X))
    assert "one admissible root" in _rejected(two).message


def test_sum_rule_needs_the_same_bounds():
    # Σ_{d=0}^{D} π_d = 1 + π_D with the weights on the simplex
    _witness_differs(1 + _PI[4], 1)
    _rejected(gs.claim(sp.Sum(pi[d], (d, 0, D)), 1, using=[dv.SIMPLEX]))


def test_rewrite_keeps_the_index_kind():
    # γ_c = Σ_i ρ_c^{[i]} for classes c only: N is no class, so γ_N is a free value
    _witness_differs(1.7, _RNG.uniform(0.1, 1, 3).sum() + 5)
    _rejected(gs.claim(gamma[N], S(rho[i, N]), using=[dv.GAMMA]))


def test_proofs_are_made_by_the_kernel_only():
    failed = gs.step("S20").with_rhs(gamma[e]).check()
    assert not failed.passed
    with pytest.raises(TypeError, match="Step.check"):
        gs.Proof(failed.step, True, "general", 0.0)
    with pytest.raises(TypeError, match="Step.check"):
        dataclasses.replace(failed, passed=True)
    import copy

    forged = copy.copy(failed)
    object.__setattr__(forged, "passed", True)
    assert not forged.passed  # a proof the kernel did not issue is not proven
    assert gs.step("S20").check().passed


def test_binders_the_kernel_cannot_rename_are_refused():
    from gmmderive.symbolic._tactics import canonical, index_kind

    _rejected(gs.claim(sp.Lambda(c, C(I(d, c) * pi[d])), sp.Lambda(c, pi[c])))
    # a limit's variable becomes a private symbol of no kind: no index rule applies to it
    renamed = canonical(sp.Limit(C(I(d, c) * pi[d]), c, D))
    assert c not in renamed.free_symbols and index_kind(renamed.args[1]) is None
    # a derivative in an index is refused (an index takes integer values)
    _rejected(gs.claim(sp.Derivative(C(I(d, c) * pi[d]), c), 0))


# -- the second checker: numbers, independently of the kernel --------------------------------


@pytest.mark.parametrize("make", [
    lambda: gs.claim(sp.Sum(1, (d, 2, D - 1)), D - 2, least=((D, 1),)),
    lambda: gs.step("M3").with_rhs(gamma[e] / N * (1 + I(e, D - 1))),
    lambda: gs.step("MV1").with_rhs(gs.step("MV1").rhs * (D - 1)),
    lambda: gs.claim(ex._m, S(rho[i, c] * x[i]) / S(rho[i, c]), using=["X11.1"]),
    lambda: dataclasses.replace(gs.step("W4"), relation="=", method=dv.by_procedure(
        lambda s: (True, (), ""), lhs=dv.KL)),
    lambda: gs.step("S29").with_rhs(gs.step("S29").rhs ** 2),
    lambda: gs.step("G1").with_rhs(sp.Rational(101, 100)),
    lambda: gs.step("S14").with_rhs(-gs.step("S14").rhs),
    lambda: gs.step("H1").with_rhs(-gs.step("H1").rhs),
    lambda: gs.step("X10.1").with_rhs((gamma[e] + ex.alpha[e]) / (N + C(ex.alpha[d]))),
    lambda: gs.step("WT12").with_rhs(gs.step("WT12").lhs.xreplace({w[i]: 1})),
    lambda: gs.claim(pi[c] + 1, 0, using=[gs.Hypothesis("π_c = -1", sp.Eq(pi[c], -1, evaluate=False), over=(c,))]),
], ids=["Karr", "M3-last", "MV1-(D-1)", "X11.1-every-class", "W4-equality", "S29-squared", "G1-1.01",
        "S14-sign", "H1-sign", "X10.1-no-D", "WT12-unweighted", "contradiction"])
def test_numeric_check_alone_rejects_false_claims(make):
    """The second checker, asked directly, disagrees with each false claim (whatever the kernel says)."""
    from gmmderive.symbolic.crosscheck import cross_examine

    agree, report = cross_examine(make())
    assert not agree, report
    assert report


def test_deviations_from_the_mean_sum_to_zero():
    # completeness: Σ_i (x_i - x̄) = 0, whose double sum Σ_i Σ_j x_j / N counts the unused i
    xs = _RNG.normal(0, 2, 5)
    assert abs((xs - xs.mean()).sum()) < 1e-12
    assert gs.claim(S(x[i] - S(x[i]) / N), 0).check().passed
    _witness_differs((xs - xs.mean() / 2).sum(), 0)
    _rejected(gs.claim(S(x[i] - S(x[i]) / (2 * N)), 0))
