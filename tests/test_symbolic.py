"""gmmderive.symbolic: every step proves, wrong steps are rejected, the bridge to numbers."""

import json
import re
import subprocess
import sys

import numpy as np
import pytest
import sympy as sp

import gmmderive as g
from gmmderive import symbolic as gs
from gmmderive import variants
from gmmderive.symbolic import bridge, exercises  # noqa: F401  (gs.exercises)
from gmmderive.symbolic import weighted as wt
from gmmderive.symbolic._tactics import sift, split_sums

e, i, N, D = gs.e, gs.i, gs.N, gs.D
rho, x, mu, sigma, gamma, pi = gs.rho, gs.x, gs.mu, gs.sigma, gs.gamma, gs.pi


def S(expr):
    return sp.Sum(expr, (i, 0, N - 1))


@pytest.mark.parametrize("step", gs.ALL_STEPS, ids=[s.id for s in gs.ALL_STEPS])
def test_every_step_is_proven(step):
    proof = step.check()
    assert proof.passed, proof.message
    assert proof.kind == step.kind in gs.KINDS
    # checked twice: the independent numeric check evaluated the claim and agrees
    assert proof.numeric.startswith("agrees numerically"), proof.numeric


def test_lecture_steps_are_all_there():
    ids = {s.id for s in gs.ALL_STEPS}
    assert {f"S{k}" for k in range(1, 30)} <= ids
    assert len(ids) == len(gs.ALL_STEPS)  # unique ids
    lecture = {k for k, (stamp, _) in gs.CHAPTERS.items() if stamp is not None}
    assert lecture == set(range(1, 15))
    assert lecture <= {s.chapter for s in gs.STEPS} <= set(gs.CHAPTERS)  # every lecture chapter has a step


def test_required_steps_are_general():
    for sid in ("S14", "S20", "S21", "S24", "S25", "S29", "S19"):
        assert gs.step(sid).kind == "general"


def test_every_derivation_chapter_has_two_exercises():
    for chapter in [*range(4, 13), 16, 19]:
        assert sum(s.id.startswith("X") for s in gs.steps(chapter)) >= 2, chapter


def test_exact_steps_use_several_sizes():
    exact = [s for s in gs.ALL_STEPS if s.kind == "exact"]
    assert exact
    for s in exact:
        message = s.check().message
        assert ("D=2" in message and "D=3" in message) or ("N = 2 and N = 3" in message and "every D" in message)


def test_derivatives_are_taken_by_sympy_not_typed():
    # The work shown for S14 is SymPy's derivative of the full Lagrangian.
    proof = gs.step("S14").prove()
    label, derivative = proof.work[0]
    assert "derivative" in label
    expected = sp.diff(gs.LAGRANGIAN, pi[e])
    assert split_sums(sift(derivative - expected)) == 0


WRONG = {
    # a sign
    "S14": lambda s: -s.rhs,
    "S21": lambda s: -s.rhs,
    # a missing factor
    "S20": lambda s: gamma[e],
    "S22": lambda s: 2 * s.rhs,
    "S16": lambda s: gamma[e] - gs.lam,
    # σ² instead of σ
    "S29": lambda s: s.rhs**2,
    # N instead of γ_e
    "S24": lambda s: S(rho[i, e] * x[i]) / N,
    "M3": lambda s: gamma[e] / D,
    # D instead of N
    "S19": lambda s: D,
    "M1": lambda s: -D * sp.log(2 * sp.pi) / 2,
    "G1": lambda s: sp.Integer(2),
    "S25": lambda s: S(rho[i, e] * (-1 / sigma[e] + (x[i] - mu[e]) ** 2 / sigma[e] ** 2)),
    "H1": lambda s: -s.rhs,
    "H2": lambda s: -s.rhs,
    "U1": lambda s: sp.Matrix([0, 1, 0]),
    "S2": lambda s: pi[gs.z] * gs.normal_pdf(gs.X, mu[gs.z], sigma[gs.z]) * 2,
    # beyond the lecture: the bound without its KL term, N instead of ... in the shared σ
    "W1": lambda s: s.rhs.args[0] if s.rhs.is_Add else s.rhs * 2,
    "V3": lambda s: s.rhs * sp.sqrt(N) / sp.sqrt(D),
    # fit's one-pass updates: N instead of γ_e, the correction added instead of subtracted
    "F1": lambda s: s.rhs.subs(gamma[e], N),
    "F2": lambda s: s.rhs + 2 * gs.derivation._OLD_MEAN_DEVIATION**2 / gamma[e],
    "V2": lambda s: s.rhs + N * sp.Symbol("sigma", positive=True) ** 2 - D * sp.Symbol("sigma", positive=True) ** 2,
    # exercises
    "X4.1": lambda s: s.rhs * 2,
    "X4.2": lambda s: sp.Sum(pi[gs.d] * sigma[gs.d] ** 2, (gs.d, 0, D - 1)),
    "X6.1": lambda s: s.rhs + 1,
    "X6.2": lambda s: D,
    "X9.1": lambda s: sp.Matrix([s.rhs[0], s.rhs[1], 1]),
    "X10.1": lambda s: (gamma[e] + gs.exercises.alpha[e]) / (N + sp.Sum(gs.exercises.alpha[gs.d], (gs.d, 0, D - 1))),
    "X10.2": lambda s: S(gs.exercises.w[i] * rho[i, e]) / N,
    "X12.1": lambda s: S(rho[i, e] * (x[i] - mu[e]) ** 2) / N,
    "X12.2": lambda s: S(x[i] ** 2) / N - S(x[i]) ** 2 / N,
    "X16.2": lambda s: gs.exercises.p_joint[e],
    "X19.1": lambda s: s.rhs * N / D,
    # chapter 21, weighted data: N for the total weight, weights dropped, w² for w, a copy lost
    "WT3": lambda s: S(rho[i, e]) / pi[e] - gs.lam,
    "WT5": lambda s: N,
    "WT6": lambda s: S(wt.w[i] * rho[i, e]) / N,
    "WT8": lambda s: S(wt.w[i] * rho[i, e] * x[i]) / S(rho[i, e]),
    "WT10": lambda s: sp.sqrt(S(wt.w[i] ** 2 * rho[i, e] * (x[i] - mu[e]) ** 2) / S(wt.w[i] ** 2 * rho[i, e])),
    "WT11": lambda s: s.rhs.xreplace({wt._REPEATED: wt._REPEATED - 1}),
    "WT12": lambda s: gs.step("WT12").lhs.xreplace({wt.w[i]: 1}),
}


@pytest.mark.parametrize("sid", sorted(WRONG))
def test_checker_rejects_a_wrong_rhs(sid):
    step = gs.step(sid)
    wrong = step.with_rhs(WRONG[sid](step))
    proof = wrong.check()
    assert not proof.passed
    assert proof.message
    with pytest.raises(gs.ProofError, match=sid):
        wrong.prove()


def test_wrong_gaussian_normalizer_is_caught():
    # 1/(σ√π) instead of 1/(σ√(2π)): the book's density would not match SymPy's.
    s = gs.step("S2")
    bad = pi[gs.z] / (sigma[gs.z] * sp.sqrt(sp.pi)) * sp.exp(-((gs.X - mu[gs.z]) ** 2) / (2 * sigma[gs.z] ** 2))
    assert not s.with_rhs(bad).check().passed


def test_steps_display_in_lecture_notation():
    md = gs.step("S24")._repr_markdown_()
    assert r"x^{[i]}" in md and r"\rho_{e}^{[i]}" in md and r"\gamma_{e}" in md
    assert "S24" in md and "chapter 11" in md
    proof_md = gs.step("S14").prove()._repr_markdown_()
    assert "✔" in proof_md and r"\mathbb{I}" not in gs.latex(gs.step("S16").rhs)
    assert r"\hat{Q}" in gs.latex(gs.step("S14").equation)
    # indexed names in the lecture's letters, and λ·1 of the S19 chain not printed as "λ1"
    assert r"\alpha_{e}" in gs.latex(gs.step("X10.1").rhs)
    assert re.search(r"(?<!\\)alpha_", gs.latex(gs.step("X10.1").rhs)) is None  # not the letters a-l-p-h-a
    assert "p'_{d}" in gs.latex(gs.step("X16.1").lhs)
    assert r"\lambda \cdot 1" in gs.latex(sp.Mul(gs.lam, 1, evaluate=False))


def test_the_printer_keeps_the_lecture_term_order():
    # The reader compares SymPy's statement with the lecture's: same order, same notation.
    q = gs.latex(gs.step("S10").rhs)
    assert r"{x^{[i]}} - \mu_{c}" in q and r"- \mu_{c} + {x^{[i]}}" not in q  # x − μ, not −μ + x
    assert r"\mathbb{I}(d=c) \log \pi_{d}" in q  # the summed index first, the indicator before the log
    assert r"- \log \sigma_{c} - \tfrac{1}{2} \log{\left(2 \pi \right)}" in q  # −log σ_c − ½ log 2π
    assert q.index(r"\sum_{d=0}") < q.index(r"\log \sigma_{c}") < q.index(r"\frac{\left({x^{[i]}}")
    assert q.startswith(r"\sum_{i=0}^{N - 1} \sum_{c=0}^{D - 1} {\rho_{c}^{[i]}} \left(")  # ρ leads
    assert r"\frac{{\rho_{c}^{[i]}} \mathbb{I}(c=e)}{\pi_{e}}" in gs.latex(gs.step("S14").rhs)
    assert r"\exp\left(- \frac{" in gs.latex(gs.step("S6").rhs)  # exp(·), not a tiny e^{…}
    assert gs.latex(-gs.lam + gs.gamma[gs.e] / pi[gs.e]).startswith(r"\frac{\gamma_{e}}")  # positive first
    # a printed proof folds SymPy's work away, open for the key steps
    assert "<details class=\"proof-work\">" in gs.step("S9").prove()._repr_markdown_()
    assert "<details class=\"proof-work\" open>" in gs.step("S24").prove()._repr_markdown_()


def test_step_lookup():
    assert gs.step("S20").chapter == 10
    assert all(s.chapter == 11 for s in gs.steps(11))
    with pytest.raises(KeyError, match="no step"):
        gs.step("S99")
    with pytest.raises(ValueError, match="no chapter"):
        gs.steps(99)


def test_a_crashing_proof_fails_cleanly():
    s = gs.step("S19").with_rhs(sp.Symbol("y"))
    proof = s.check()
    assert not proof.passed and "fails" in proof.message


# -- the bridge from symbols to numbers ---------------------------------------

RNG = np.random.default_rng(42)
X8 = RNG.normal(0.0, 2.0, 8)
P3 = g.GMMParams([0.2, 0.5, 0.3], [-1.0, 0.0, 2.0], [0.5, 1.0, 1.5])


@pytest.mark.parametrize("params", [P3, g.GMMParams([0.7, 0.3], [1.0, 4.0], [1.0, 0.3])])
def test_numeric_e_step_agrees_with_the_proven_one(params):
    assert bridge.check_e_step(g.e_step, X8, params)
    np.testing.assert_allclose(g.e_step(X8, params), bridge.symbolic_e_step(X8, params), rtol=1e-12)


def test_numeric_m_step_agrees_with_the_proven_updates():
    resp = g.e_step(X8, P3)
    assert bridge.check_m_step(g.m_step, X8, resp)
    hard = np.eye(2)[[0, 0, 1, 1, 0, 1, 1, 0]]
    assert bridge.check_m_step(g.m_step, X8, hard)


def test_bridge_catches_the_e_step_without_pi():
    """The slip of the lecture's first companion code: N(x; μ_c, σ_c) without π_c."""
    assert not bridge.check_e_step(variants.e_step_without_weights, X8, P3)
    # with equal weights the slip is harmless, and the bridge agrees
    equal = g.GMMParams([1 / 3] * 3, P3.means, P3.stds)
    assert bridge.check_e_step(variants.e_step_without_weights, X8, equal)


def test_bridge_catches_sigma_with_the_old_mean():
    def m_old(xv, resp):
        return variants.m_step_with_old_mean(xv, resp, previous=P3)

    assert not bridge.check_m_step(m_old, X8, g.e_step(X8, P3))


# -- the command line ---------------------------------------------------------


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "gmmderive", *args], capture_output=True, text=True, timeout=120)


def test_verify_command(capsys):
    # In process: every step is proved by the tests above already; the command is run as a
    # subprocess once, on one chapter (test_verify_json_and_chapter).
    from gmmderive import __main__ as cli

    assert cli.main(["verify", "--chapter", "10"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-1] == f"{len(gs.steps(10))} passed, 0 failed"
    assert any(line.startswith("S20") and "general" in line for line in lines)
    # the kernel's verdict beside the numeric second checker's (#23)
    assert all("kernel: " in line and "numeric: agrees" in line for line in lines[:-1])


def test_verify_json_and_chapter():
    out = run_cli("verify", "--json", "--chapter", "11")
    assert out.returncode == 0
    rows = json.loads(out.stdout)
    assert {r["id"] for r in rows} == {s.id for s in gs.steps(11)}
    for r in rows:
        keys = {"id", "chapter", "name", "kind", "case", "method", "tactics", "hypotheses", "passed", "seconds"}
        assert keys <= set(r)
        assert r["kind"] in gs.KINDS and r["passed"] is True and r["chapter"] == 11
        assert r["method"] in ("rewriting", "differentiation", "solving", "chain", "procedure")
    # a skeptic sees what was assumed: S23 uses the definition of γ, S24 is solved for μ_e
    by_id = {r["id"]: r for r in rows}
    assert [h["source"] for h in by_id["S23"]["hypotheses"]] == ["definition"]
    assert "gamma[c]" in by_id["S23"]["hypotheses"][0]["statement"]
    assert by_id["S24"]["method"] == "solving" and "solve" in by_id["S24"]["tactics"]


def test_verify_json_lists_conditions(capsys):
    from gmmderive import __main__ as cli

    assert cli.main(["verify", "--json", "--chapter", "12"]) == 0
    rows = {r["id"]: r for r in json.loads(capsys.readouterr().out)}
    assert "condition" in [h["source"] for h in rows["S29"]["hypotheses"]]
    assert {h["source"] for h in rows["H3"]["hypotheses"]} == {"definition", "condition"}


def test_verify_bad_chapter_and_help(capsys):
    from gmmderive import __main__ as cli

    assert cli.main(["verify", "--chapter", "99"]) == 2
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    assert "verify" in capsys.readouterr().out


def test_verify_exit_status_on_failure(monkeypatch, capsys):
    from gmmderive import __main__ as cli

    broken = gs.step("S20").with_rhs(gamma[e])
    monkeypatch.setattr(gs, "audit", lambda chapter=None, jobs=1: [broken.check().audit()])
    assert cli.main(["verify"]) == 1
    assert capsys.readouterr().out.strip().endswith("0 passed, 1 failed")


def test_every_step_is_shown_in_its_chapter():
    # One place defines a step, the book shows it: each step is proved in its chapter's notebook.
    import json
    from pathlib import Path

    book = Path(__file__).resolve().parents[1] / "book"
    if not book.is_dir():  # the sdist ships the tests, not the book
        pytest.skip("the book's notebooks are not here (tests run outside the repository)")
    missing = []
    for st in gs.steps():
        chapter = int(st.id[1:].split(".")[0]) if st.id.startswith("X") else st.chapter
        (nb_path,) = book.glob(f"{chapter:02d}_*.ipynb")
        cells = json.loads(nb_path.read_text())["cells"]
        code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
        if f'step("{st.id}")' not in code:
            missing.append(f"{st.id} in {nb_path.name}")
    assert not missing, f"steps not shown in their chapter: {missing}"


def test_audit_in_parallel_equals_in_order():
    one = gs.audit(11, jobs=1)
    two = gs.audit(11, jobs=2)
    strip = lambda rows: [{k: v for k, v in r.items() if k != "seconds"} for r in rows]  # noqa: E731
    assert strip(one) == strip(two)
    assert [r["id"] for r in two] == [s.id for s in gs.steps(11)]


# -- chapter 21: weighted data ------------------------------------------------------


def test_weighted_chapter_steps():
    assert gs.CHAPTERS[21] == (None, "Weighted data")
    chapter = gs.steps(21)
    assert [st.id for st in chapter] == [f"WT{k}" for k in range(1, 13)]
    assert {st.id for st in chapter if st.key} == {"WT6", "WT8", "WT10"}
    assert {st.id for st in chapter if st.kind == "exact"} == {"WT11", "WT12"}
    assert all(st.kind == "general" for st in chapter if st.id not in ("WT11", "WT12"))
    # one expression for each claim: the updates are the answers of the exercises X10.2 and X11.2
    assert gs.step("WT6").rhs is gs.step("X10.2").rhs and gs.step("WT8").rhs is gs.step("X11.2").rhs
    # every sum over the samples in the chain carries w_i
    for st in chapter[:10]:
        for sm in st.rhs.atoms(sp.Sum):
            if sm.limits[-1][2] == N - 1:
                assert sm.function.has(wt.w), (st.id, sm)


def test_weighted_derivatives_are_taken_by_sympy():
    label, derivative = gs.step("WT3").prove().work[0]
    assert "derivative" in label
    assert split_sums(sift(derivative - sp.diff(wt.LAGRANGIAN_W, pi[e]))) == 0


def test_weighted_updates_with_unit_weights_are_the_lecture_updates():
    unit = {wt.w[i]: 1}
    assert gs.claim(gs.step("WT6").rhs.xreplace(unit), gs.step("S20").rhs, using=[gs.derivation.GAMMA]).check().passed
    assert gs.claim(gs.step("WT8").rhs.xreplace(unit), gs.step("S24").rhs, using=[gs.derivation.GAMMA]).check().passed
    assert gs.claim(gs.step("WT10").rhs.xreplace(unit), gs.step("S29").rhs, using=[gs.derivation.GAMMA]).check().passed
    assert gs.claim(gs.step("WT5").rhs.xreplace(unit), N).check().passed


def _weighted_updates_at(xv, resp, wv):
    """WT6, WT8 and WT10 evaluated at numbers (WT10 about the mean of WT8)."""
    n, dd = resp.shape
    out = np.zeros((3, dd))
    for k in range(dd):
        values = {x[j]: xv[j] for j in range(n)} | {wt.w[j]: wv[j] for j in range(n)}
        values |= {rho[j, k]: resp[j, k] for j in range(n)}

        def at(expr, k=k, values=values):
            return float(expr.subs({N: n, e: k}).doit().xreplace(values))

        mean = at(gs.step("WT8").rhs)
        out[:, k] = at(gs.step("WT6").rhs), mean, at(gs.step("WT10").rhs.subs(mu[e], mean))
    return out


def test_weighted_updates_agree_with_the_repeated_data_and_m_step():
    xv = np.array([-1.2, 0.3, 2.5, 4.1])
    wv = np.array([2, 1, 3, 1])
    resp = g.e_step(xv, P3)
    proven = _weighted_updates_at(xv, resp, wv)
    repeated = g.m_step(np.repeat(xv, wv), np.repeat(resp, wv, axis=0))
    np.testing.assert_allclose(proven, [repeated.weights, repeated.means, repeated.stds], rtol=1e-12)
    fractional = np.array([0.5, 2.25, 1.0, 0.125])
    weighted = g.m_step(xv, resp, sample_weight=fractional)
    np.testing.assert_allclose(_weighted_updates_at(xv, resp, fractional),
                               [weighted.weights, weighted.means, weighted.stds], rtol=1e-12)
