"""Issue #23, what the verdicts say: conventions that hide a condition, steps without content,
one claim per step, the reader's notation in messages, both checkers in ``verify``, and the
forms a student writes (each accepted form beside a false sibling that stays rejected).

Every false claim here comes with a numeric witness computed by plain Python (ordinary sums,
no kernel code); every accepted form is confirmed by the independent numeric checker.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
import sympy as sp

from gmmderive import symbolic as gs
from gmmderive.symbolic import derivation as dv
from gmmderive.symbolic.crosscheck import cross_examine

N, D, c, d, e, i = gs.N, gs.D, gs.c, gs.d, gs.e, gs.i
I, pi, gamma, rho, mu, sigma, x = gs.I, gs.pi, gs.gamma, gs.rho, gs.mu, gs.sigma, gs.x  # noqa: E741
RNG = np.random.default_rng(2325)


def S(f):  # noqa: N802  (the lecture's Σ_i)
    return sp.Sum(f, (i, 0, N - 1))


def C(f, v=d):  # noqa: N802  (the lecture's Σ_d)
    return sp.Sum(f, (v, 0, D - 1))


def _witness_differs(a, b):
    assert abs(complex(a) - complex(b)) > 1e-9, "the witness shows no difference: the claim may be true"


def _rejected(step):
    proof = step.check()
    assert not proof.passed, f"a false claim was proven: {proof.summary()}"
    assert proof.message
    return proof


def _accepted(step):
    """Proven by the kernel, and the numeric checker, asked on its own, agrees."""
    proof = step.check()
    assert proof.passed, proof.message
    agree, report = cross_examine(step)
    assert agree and report.startswith("agrees numerically"), report
    return proof


# -- 1. conventions that hide a condition -------------------------------------------------


def test_a_claim_that_needs_a_declared_sign_says_so():
    # 0^γ_e = 0 only because γ_e > 0 is declared on the symbol: at γ_e = 0, 0^0 = 1
    _witness_differs(0.0**0, 0)
    proof = gs.claim(sp.Pow(0, gamma[e], evaluate=False), 0).check()
    assert proof.passed and "assuming γ_c > 0" in proof.summary()
    assert proof.audit()["relies_on"] == ["γ_c > 0"]
    assert "assuming γ_c > 0" in proof._repr_markdown_()
    # the same claim about a value of no declared sign is rejected
    _rejected(gs.claim(sp.Pow(0, sp.Symbol("g", real=True), evaluate=False), 0))
    # log(π_e σ_e) = log π_e + log σ_e needs both signs, and says so
    summary = gs.claim(sp.log(pi[e] * sigma[e]), sp.log(pi[e]) + sp.log(sigma[e])).check().summary()
    assert "assuming π_c > 0; σ_c > 0" in summary
    a, b = sp.symbols("a b", real=True)
    _witness_differs(np.log(complex(-1 * -2)), np.log(complex(-1)) + np.log(complex(-2)))
    _rejected(gs.claim(sp.log(a * b), sp.log(a) + sp.log(b)))


def test_a_claim_that_needs_no_sign_is_plainly_proven():
    proof = gs.claim(S(x[i] - S(x[i]) / N), 0).check()
    assert proof.passed and proof.relies == () and "assuming" not in proof.summary()


def test_a_division_names_its_condition():
    # SymPy cancels (ρ μ + ρ x)/ρ to μ + x whatever ρ is; ρ_e^{[0]} may be 0 (ρ ≥ 0 only)
    proof = gs.claim((rho[0, e] * mu[e] + rho[0, e] * x[0]) / rho[0, e], mu[e] + x[0]).check()
    assert proof.passed and "assuming ρ_e^[0] ≠ 0" in proof.summary()
    # by γ_e it is the declared sign that is relied on
    proof = gs.claim((gamma[e] * mu[e] + gamma[e] * x[0]) / gamma[e], mu[e] + x[0]).check()
    assert "assuming γ_c > 0" in proof.summary()


@pytest.mark.parametrize("make,count", [
    (lambda: gs.claim(sp.Sum(1, (d, 2, D - 1)), D - 2), lambda dd: sum(1 for _ in range(2, dd))),
    (lambda: gs.claim(sp.Product(2, (d, 2, D - 1)), 2 ** (D - 2)), lambda dd: np.prod([2 for _ in range(2, dd)])),
    (lambda: gs.claim(sp.Sum(pi[d], (d, 2, D - 1)), C(pi[d]) - pi[0] - pi[1]),
     lambda dd: 0.0),
], ids=["Karr sum", "Karr product", "Karr sum of weights"])
def test_karr_conventions_are_refused_without_their_range(make, count):
    # at D = 1 every sum from 2 to D - 1 is empty: 0 (a product: 1), not SymPy's Karr value
    assert count(1) in (0, 1.0)
    proof = _rejected(make())
    assert "backwards" in proof.message and "least=" in proof.message


def test_karr_claims_with_their_range_stated_are_proven_and_say_so():
    for lhs, rhs in [(sp.Sum(1, (d, 2, D - 1)), D - 2), (sp.Product(2, (d, 2, D - 1)), 2 ** (D - 2))]:
        proof = _accepted(gs.claim(lhs, rhs, least=((D, 2),)))
        assert "D ≥ 2" in proof.summary()
    # a range that is never backwards needs no statement: Σ_{i=1}^{N-1} 1 = N - 1 from N = 1
    _accepted(gs.claim(sp.Sum(1, (i, 1, N - 1)), N - 1))


def test_the_signs_are_the_books_assumptions():
    given = gs.axioms()
    signs = [h for h in given if h.is_condition and h.source == "assumption"]
    assert {str(h.statement) for h in signs} >= {"gamma[c] > 0", "pi[c] > 0", "sigma[c] > 0"}
    assert list(given[:3]) == signs[:3]  # listed first
    assert any("γ_c > 0" in a for a in gs.step("S24").check().audit()["assumptions"])


# -- 2. steps without content say what they are ----------------------------------------------

WITHOUT_CONTENT = {
    "S13": "by definition", "WT2": "by definition",
    "S2": "identical after evaluation", "S26": "identical after evaluation", "B1": "identical after evaluation",
    "X19.2": "identical after evaluation",
    "S12": "restates the weights sum to one", "X9.2": "restates the weights sum to one", "S18": "restates S16b",
}


@pytest.mark.parametrize("sid", sorted(WITHOUT_CONTENT))
def test_a_step_without_content_is_not_shown_as_proven(sid):
    proof = gs.step(sid).prove()  # the API is unchanged: it passes, prove() does not raise
    assert proof.passed and proof.verdict == WITHOUT_CONTENT[sid]
    head = proof._repr_markdown_().splitlines()[0]
    assert "✔" not in head and "proven" not in head and WITHOUT_CONTENT[sid] in head
    assert f": {WITHOUT_CONTENT[sid]} (" in proof.summary()
    assert proof.audit()["verdict"] == WITHOUT_CONTENT[sid]


def test_every_other_step_is_proven():
    shown = {s.id for s in gs.ALL_STEPS if s.check().shows}
    assert shown == set(WITHOUT_CONTENT)
    assert gs.step("S20").check()._repr_markdown_().startswith("✔ **S20 proven**")


def test_a_definition_flag_proves_nothing():
    # a step marked as a definition is still checked: a false one fails
    wrong = gs.step("S13").with_rhs(gs.step("S13").rhs + gs.lam)
    proof = _rejected(wrong)
    assert proof.verdict == "FAILED"


def test_a_readers_empty_claim_says_so():
    proof = gs.claim(sp.Add(D - 1, D, evaluate=False), 2 * D - 1).check()
    assert proof.passed and proof.verdict == "identical after evaluation"


# -- 3. one claim per step ---------------------------------------------------------------


def test_no_left_side_has_two_right_sides():
    # S21 and V4 both claimed ∂Q̂/∂μ_e, with σ_e and with σ: V4 is now the root, S24's update
    assert gs.step("V4").lhs == mu[e] and gs.step("V4").rhs == gs.step("S24").rhs
    assert gs.step("V4").method.name == "solving"
    seen = {}
    for s in gs.ALL_STEPS:
        left = s.equation.lhs
        if isinstance(left, sp.Derivative):
            assert left not in seen, f"{s.id} and {seen.get(left)} share the left side {left}"
            seen[left] = s.id


def test_v4_rejects_the_shared_sigma_in_the_mean():
    # the root of Σ_i ρ_e (x_i - μ_e)/σ² = 0 does not depend on σ: a σ in the claim is false
    s_ = dv.s_shared
    r, xs = RNG.uniform(0.1, 1, 4), RNG.normal(0, 2, 4)
    _witness_differs((r * xs).sum() / r.sum(), 1.7**2 * (r * xs).sum() / r.sum())
    _rejected(gs.step("V4").with_rhs(s_**2 * gs.step("S24").rhs))


# -- 4. the reader's notation in messages ---------------------------------------------------


def _bound_letters(message):
    return set(re.findall(r"\\sum_\{(\w+)=", message)) | set(re.findall(r"\\prod_\{(\w+)=", message))


@pytest.mark.parametrize("make", [
    lambda: gs.claim(C(pi[d]), pi[1] + sp.Sum(pi[d], (d, 1, D - 1))),
    lambda: gs.claim(S(x[i]), x[1] + sp.Sum(x[i], (i, 1, N - 1))),
    lambda: gs.claim(sp.Sum(pi[d] * gamma[c], (d, 0, D - 1), (c, 0, D - 1)), N),
    lambda: gs.claim(S(C(rho[i, d] * sp.Sum(x[i] * rho[i, c], (i, 0, N - 1)))), 1),
    lambda: gs.step("S24").with_rhs(S(rho[i, e] * x[i]) / (S(rho[i, e]) + 1)),
], ids=["class sum from 1", "sample sum from 1", "two class sums", "nested sample sums", "S24 off by one"])
def test_messages_use_the_lectures_letters(make):
    proof = _rejected(make())
    letters = _bound_letters(proof.message)
    assert letters <= {"i", "j", "c", "d", "e"}, proof.message
    assert not re.search(r"_[a-z]\b|Dummy", proof.message)


@pytest.mark.parametrize("sid,wrong", [
    ("H3", lambda s: 2 * s.rhs), ("U1", lambda s: sp.Matrix([1, 0, 0])), ("M3", lambda s: gamma[e] / D),
    ("X9.1", lambda s: 2 * s.rhs),
])
def test_a_procedures_message_is_in_the_lectures_notation(sid, wrong):
    step = gs.step(sid)
    message = _rejected(step.with_rhs(wrong(step))).message
    assert "$" in message and not re.search(r"rho\[|gamma\[|\bpi\[|Sum\(|_[a-z]\b", message), message


# -- 5. verify prints both checkers' verdicts ---------------------------------------------------


def test_verify_text_shows_both_verdicts(capsys):
    from gmmderive.symbolic.__main__ import main

    assert main(["--chapter", "9", "--jobs", "1"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-1] == f"{len(gs.steps(9))} passed, 0 failed"
    s13 = next(line for line in lines if line.startswith("S13"))
    assert "kernel: by definition" in s13 and "numeric: agrees at N=1, D=1" in s13
    rows = gs.report([gs.step("S20").with_rhs(gamma[e]).check().audit()])
    assert "kernel: FAILED" in rows[0] and rows[-1] == "0 passed, 1 failed"


# -- 6. the forms a student writes ----------------------------------------------------------

R0, R1 = rho[i, 0], rho[i, 1]

#: Correct forms a student writes, each with a false sibling (and a witness it is false).
STUDENT_FORMS = {
    "S24 with Σρ": (lambda: gs.step("S24").with_rhs(S(rho[i, e] * x[i]) / S(rho[i, e])),
                    lambda: gs.step("S24").with_rhs(S(x[i]) / S(rho[i, e]))),
    "S20 with Σρ": (lambda: gs.step("S20").with_rhs(S(rho[i, e]) / N),
                    lambda: gs.step("S20").with_rhs(S(rho[i, e]) / D)),
    "S29 with Σρ": (lambda: gs.step("S29").with_rhs(sp.sqrt(S(rho[i, e] * (x[i] - mu[e]) ** 2) / S(rho[i, e]))),
                    lambda: gs.step("S29").with_rhs(sp.sqrt(S(rho[i, e] * (x[i] - mu[e]) ** 2) / N))),
    "Σ(x - x̄) = 0": (lambda: gs.claim(S(x[i] - S(x[i]) / N), 0),
                     lambda: gs.claim(S(x[i] - S(x[i]) / (2 * N)), 0)),
    "first class split off": (lambda: gs.claim(C(pi[d]), pi[0] + sp.Sum(pi[d], (d, 1, D - 1))),
                              lambda: gs.claim(C(pi[d]), pi[1] + sp.Sum(pi[d], (d, 1, D - 1)), least=((D, 2),))),
    "first sample split off": (lambda: gs.claim(S(x[i]), x[0] + sp.Sum(x[i], (i, 1, N - 1))),
                               lambda: gs.claim(S(x[i]), x[0] + sp.Sum(x[i], (i, 2, N - 1)), least=((N, 2),))),
    "EM3 with ρ_1": (lambda: gs.step("EM3").with_rhs(R0 * R1 / (pi[0] * (1 - pi[0]))),
                     lambda: gs.step("EM3").with_rhs(R0 * R1 / pi[0])),
    "EM3 with ρ_1 and π_1": (lambda: gs.step("EM3").with_rhs(R0 * R1 / (pi[0] * pi[1])),
                             lambda: gs.step("EM3").with_rhs(R0 * R0 / (pi[0] * pi[1]))),
}


@pytest.mark.parametrize("form", sorted(STUDENT_FORMS))
def test_a_students_correct_form_is_proven(form):
    _accepted(STUDENT_FORMS[form][0]())


@pytest.mark.parametrize("form", sorted(STUDENT_FORMS))
def test_its_false_sibling_is_rejected_by_both_checkers(form):
    sibling = STUDENT_FORMS[form][1]()
    _rejected(sibling)
    agree, report = cross_examine(sibling)
    assert not agree, report


def test_the_false_siblings_are_false():
    # plain-Python witnesses for the siblings above, one per kind
    r = RNG.uniform(0.1, 1, (5, 3))
    r /= r.sum(axis=1, keepdims=True)
    xs, ps = RNG.normal(0, 2, 5), RNG.dirichlet(np.ones(3))
    _witness_differs((r[:, 0] * xs).sum() / r[:, 0].sum(), xs.sum() / r[:, 0].sum())  # S24 without ρ above
    _witness_differs(r[:, 0].sum() / 5, r[:, 0].sum() / 3)  # S20: N for D
    _witness_differs((r[:, 0] * xs**2).sum() / r[:, 0].sum(), (r[:, 0] * xs**2).sum() / 5)  # S29
    _witness_differs((xs - xs.mean() / 2).sum(), 0)  # Σ(x - x̄/2)
    _witness_differs(ps.sum(), ps[1] + ps[1:].sum())  # π_1 for π_0
    _witness_differs(xs.sum(), xs[0] + xs[2:].sum())  # a sample lost
    p0, r0 = 0.3, 0.6
    _witness_differs(r0 * (1 - r0) / (p0 * (1 - p0)), r0 * (1 - r0) / p0)  # EM3 without π_1
    _witness_differs(r0 * (1 - r0) / (p0 * (1 - p0)), r0 * r0 / (p0 * (1 - p0)))  # ρ_0 for ρ_1


def test_a_scaled_weight_cancels_by_its_sign():
    # chapter 21: every w_i times k > 0 leaves the weights' update unchanged; k and w_i may not be 0
    from gmmderive.symbolic.weighted import w

    k = sp.Symbol("k", positive=True)
    update = gs.step("WT6").rhs
    proof = gs.claim(update.xreplace({w[i]: k * w[i]}), update).prove()
    assert "proven, assuming k > 0; w_i > 0" in proof.summary()
