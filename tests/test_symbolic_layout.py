"""Issue #25, the symbolic package by chapter: the kernel apart from the step lists, one module
per part of the lecture, no import cycle, and every name importable as before."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from gmmderive import symbolic as gs
from gmmderive.symbolic import derivation as dv

PACKAGE = Path(gs.__file__).resolve().parent
KERNEL = {"_step", "_tactics", "_symbols", "_printing", "crosscheck"}

#: Every name ``gmmderive.symbolic.derivation`` offered before the split (its ``dir()``).
NAMES_BEFORE = """
    B1 CHAPTERS CLASS_NOT_EMPTY D E1 E2 E3 ELBO F1 F2 G1 G2 G3 GAMMA H1 H2 H3 Hypothesis I J1 J2 KL
    LAGRANGIAN LAGRANGIAN_EQUAL LAMBDA_IS_N M1 M2 M3 MEAN_UPDATE MV1 MV2 N P1 P2 POSTERIOR Q Q_S10
    Q_S10_WITH_CONSTANT Q_S8 Q_S9 Q_SIMPLEX Q_hat R1 RHO_TILDE ROWS S1 S10 S11 S12 S13 S14 S15 S16
    S16b S17 S18 S19 S2 S20 S21 S22 S23 S24 S25 S26 S27 S28 S29 S3 S4 S5 S6 S7 S8 S9 SCATTER SIMPLEX
    STATIONARY_PI STEPS Step U1 USES_LHS V1 V2 V3 V4 W1 W2 W3 W4 X _AT_UPDATES _D1 _D2 _EVIDENCE
    _MU2 _MV_SAMPLES _MV_SIZES_TEXT _MV_SPEC _OLD_MEAN_DEVIATION _POSTERIOR_Z _Q_EQUAL _SIGMA2 _SLIP
    _add _at_samples _at_stationary_point _concave_method _eliminated_weights _hessian_method
    _integrate _k _kl_method _lp _lq _ls _m1 _m2 _m3_method _mu_old _mv_covariances _mv_means
    _mv_objective _s0 _s11_method _s5_method _sigma_global_method _stats_normal _u _updates_method
    _vanishes by_chain by_differentiation by_procedure by_rewriting by_solving c canonical
    categorical class_sum constant_sums d e expand_logs g_constraint gamma i instantiate is_zero
    joint lam mixture mu normal_pdf p_joint pdf pi q q_summand reduce rho rho_tilde s_shared
    sample_sum sift sigma sp split_sums swap_sums x x1 x2 z
""".split()

#: The derivation's steps, in the lecture's order, before the split.
STEP_IDS = """
    G1 G2 G3 S1 S2 S3 J1 J2 S4 E1 S5 S6 S7 E2 E3 S8 S9 S10 M1 S11 S12 S13 S14 S15 S16 S16b S17 S18 S19
     S20 M2 M3 H2 S21 S22 S23 S24 S25 S26 S27 S28 S29 H1 H3 U1 R1 F1 F2 W1 W2 W3 W4 P1 P2 B1 V1 V2 V3 V4 MV1 MV2
""".split()


def test_every_name_of_derivation_still_imports():
    missing = [n for n in NAMES_BEFORE if not hasattr(dv, n)]
    assert not missing, missing
    assert [s.id for s in dv.STEPS] == STEP_IDS


@pytest.mark.parametrize("name", gs.__all__)
def test_the_package_api_imports(name):
    assert getattr(gs, name) is not None


def test_a_re_exported_step_is_the_same_object():
    from gmmderive.symbolic.ch11_means import S24
    from gmmderive.symbolic.model import GAMMA

    assert dv.S24 is S24 is gs.step("S24") and dv.GAMMA is GAMMA


def _imports(path):
    """The modules of the package a file imports, anywhere in it (function bodies too)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            found |= {node.module.split(".")[0]} if node.module else {"__init__"}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("gmmderive.symbolic"):
            found.add(node.module.split(".")[2] if node.module.count(".") >= 2 else "__init__")
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "import_module":
            found.add("<dynamic>")
    return found


def test_no_import_cycle_inside_the_package():
    graph = {p.stem: _imports(p) for p in PACKAGE.glob("*.py")}
    graph.pop("__main__")  # nothing imports it: it runs the package
    assert not any("<dynamic>" in v for v in graph.values()), "an import the graph cannot see"

    def reach(start):
        seen, todo = set(), [start]
        while todo:
            for m in graph.get(todo.pop(), ()):
                if m not in seen:
                    seen.add(m)
                    todo.append(m)
        return seen

    cyclic = [m for m in graph if m in reach(m)]
    assert not cyclic, cyclic


def test_the_kernel_imports_no_step_list():
    for name in KERNEL:
        assert _imports(PACKAGE / f"{name}.py") <= KERNEL, name


@pytest.mark.parametrize("path", sorted(PACKAGE.glob("ch*_*.py")), ids=lambda p: p.stem)
def test_a_chapter_module_holds_its_part_of_the_lecture(path):
    first = int(re.match(r"ch(\d+)_", path.stem).group(1))
    starts = sorted(int(re.match(r"ch(\d+)_", p.stem).group(1)) for p in PACKAGE.glob("ch*_*.py"))
    last = next((k for k in starts if k > first), 21) - 1  # chapter 21 on: weighted.py, rate.py
    defined = re.findall(r'Step\(\s*"([^"]+)"', path.read_text())
    assert defined, path.stem
    assert all(first <= gs.step(sid).chapter <= last for sid in defined), [(s, gs.step(s).chapter) for s in defined]
    assert all(gs.step(sid) in dv.STEPS for sid in defined)
