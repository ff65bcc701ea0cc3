"""The prose's numbers are stored as the reader sees them (#22).

A glued number stored with all its digits makes nbval compare digits nobody reads, and those
last digits follow the processor's order of summation: a fresh clone then fails on a machine
with another vector width. ``gmmderive.book.glue`` stores the text shown; these tests hold
every notebook to it.

The prose shows a number with the inline expression ``{eval}`name``` (#27: myst-nb's
``{glue:text}`` shows its key in JupyterLab); each Markdown cell keeps the results in its
metadata as jupyterlab-myst does (``tools/execute_notebooks.py``), equal to the glue records.
"""

import ast
import json
import re
from pathlib import Path

import numpy as np
import pytest

from gmmderive.book import shown

BOOK = Path(__file__).resolve().parents[1] / "book"
NOTEBOOKS = sorted(BOOK.glob("*.ipynb"))
ROLE = re.compile(r"\{glue(:[a-z]*)?\}`([^`]*)`")
EVAL = re.compile(r"\{eval\}`([^`]*)`")


def test_shown_is_the_text_the_reader_sees():
    assert shown(0.35047388557815085, ".4f") == "0.3505"
    assert shown(np.float64(2.3731246301395004e-08), ".1e") == "2.4e-08"
    assert shown(0.9851, ".1%") == "98.5%"
    assert shown(np.int64(1500), ",") == "1,500"
    assert shown(30) == "30" and shown("four") == "four" and shown(True) == "True"


@pytest.mark.parametrize("value", [0.5, np.float64(3.0), 1e-8])
def test_a_real_number_needs_its_precision(value):
    with pytest.raises(ValueError, match="precision"):
        shown(value)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), np.float64("-inf")])
def test_a_non_finite_number_is_refused(value):
    with pytest.raises(ValueError, match="non-finite"):
        shown(value, ".3f")


def test_rounding_is_shown_as_its_bound():
    assert shown(1.1e-16, bound=1e-12) == "1e-12" and shown(-5.7e-14, bound=1e-9) == "1e-9"
    assert shown(0.0, bound=1e-12) == "1e-12" and shown(1e-7, bound=2.5e-6) == "2.5e-06"
    for value in (1e-12, 3e-12, -1.0, float("nan")):
        with pytest.raises(ValueError, match="not below the bound"):
            shown(value, bound=1e-12)


def test_other_objects_are_refused():
    with pytest.raises(ValueError, match="ndarray"):
        shown(np.zeros(2), ".3f")


def glue_records(nb):
    for cell in nb["cells"]:
        for out in cell.get("outputs", []):
            meta = out.get("metadata", {}).get("scrapbook")
            if meta:
                yield meta["name"], out["data"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_glued_numbers_are_stored_as_shown(path):
    nb = json.loads(path.read_text())
    records = dict(glue_records(nb))
    for name, data in records.items():
        # A string literal: the text itself, rounded to what the prose shows (gmmderive.book.glue).
        value = ast.literal_eval(data["application/papermill.record/text/plain"])
        assert isinstance(value, str), f"{path.name}: {name} is stored as {value!r}, not as the text shown"
        assert set(data) == {"application/papermill.record/text/plain"}, f"{path.name}: {name}: {set(data)}"
    prose = "".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    used = ROLE.findall(prose)
    assert not used, f"{path.name}: {used[:3]}: myst-nb's glue roles show their key in JupyterLab; use {{eval}}"
    for target in EVAL.findall(prose):
        assert ":" not in target, f"{path.name}: {target}: the precision belongs to the glue call"
        assert target in records, f"{path.name}: {target} is shown but never glued"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_each_cell_keeps_its_numbers_for_jupyterlab(path):
    # jupyterlab-myst shows a stored result on opening, trusted or not (text/plain): the same
    # text as the glue record, for every {eval} of the cell and nothing else.
    nb = json.loads(path.read_text())
    records = {name: data["application/papermill.record/text/plain"] for name, data in glue_records(nb)}
    for cell in nb["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        names = list(dict.fromkeys(EVAL.findall("".join(cell["source"]))))
        stored = cell["metadata"].get("user_expressions", [])
        assert [e["expression"] for e in stored] == names, f"{path.name}: run tools/execute_notebooks.py --refresh"
        for e in stored:
            assert e["result"] == {"status": "ok", "data": {"text/plain": records[e["expression"]]}, "metadata": {}}, \
                f"{path.name}: {e['expression']}: stored {e['result']}, glued {records[e['expression']]}"


def test_glue_binds_the_name_in_the_kernel():
    # jupyterlab-myst evaluates {eval}`name` in the kernel when the reader runs the cell
    pytest.importorskip("myst_nb")
    from IPython.testing.globalipapp import get_ipython

    from gmmderive.book import glue

    shell = get_ipython()
    glue("test_glue_value", 0.35047388557815085, ".4f")
    assert shell.user_ns["test_glue_value"] == "0.3505"
    shell.user_ns.pop("test_glue_value")
