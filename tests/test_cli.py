"""python -m gmmderive fit: results, JSON, plot, and one-line errors with exit status 2."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import gmmderive as g
from gmmderive.datasets import old_faithful

DATA = os.path.join(os.path.dirname(g.__file__), "data")
FAITHFUL = os.path.join(DATA, "old_faithful.csv")


def run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "gmmderive", *args], capture_output=True, text=True,
                          timeout=120, cwd=cwd)


def test_fit_prints_sorted_parameters():
    out = run("fit", FAITHFUL, "--column", "waiting", "-k", "2")
    assert out.returncode == 0, out.stderr
    ref = g.fit(old_faithful()["waiting"], 2)
    text = out.stdout
    assert "sorted by mean" in text and "BIC" in text and "converged: yes" in text
    assert f"{ref.params.means[0]:12.6g}".strip() in text
    assert f"{ref.log_likelihood:.6f}" in text


def test_fit_json(tmp_path):
    out = run("fit", FAITHFUL, "--column", "eruptions", "-k", "2", "--json", "--n-init", "3", "--seed", "1")
    assert out.returncode == 0, out.stderr
    res = json.loads(out.stdout)
    means = [c["mean"] for c in res["components"]]
    assert means == sorted(means) and res["n_components"] == 2 and res["n_samples"] == 272
    assert set(res) >= {"log_likelihood", "bic", "aic", "n_iter", "converged", "components"}
    x = old_faithful()["eruptions"]
    gm = g.GaussianMixture1D(2, n_init=3, init="kmeans++", seed=1).fit(x)
    assert res["bic"] == pytest.approx(gm.bic(x), rel=1e-10)


def test_fit_equal_variance_and_plot(tmp_path):
    png = tmp_path / "fit.png"
    out = run("fit", FAITHFUL, "--column", "waiting", "-k", "2", "--equal-variance", "--plot", str(png), "--json")
    assert out.returncode == 0, out.stderr
    res = json.loads(out.stdout)
    assert res["equal_variance"] and res["components"][0]["std"] == res["components"][1]["std"]
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def write(tmp_path, text, name="data.csv"):
    p = tmp_path / name
    p.write_text(text)
    return str(p)


@pytest.mark.parametrize(
    "text, args, message",
    [
        (None, ["--column", "x", "-k", "2"], "no such file"),
        ("a,b\n1,2\n", ["--column", "x", "-k", "1"], "no column 'x'"),
        ("x\n1\n2\nabc\n4\n", ["--column", "x", "-k", "1"], "non-numeric value 'abc' in column 'x' at line 4"),
        ("x,y\n1,1\n,2\n3,3\n", ["--column", "x", "-k", "1"], "missing value in column 'x' at line 3"),
        ("x\n1\nnan\n", ["--column", "x", "-k", "1"], "non-finite value 'nan'"),
        ("x\n1\n1\n2\n2\n", ["--column", "x", "-k", "3"], "2 distinct value(s)"),
        ("x\n5\n5\n", ["--column", "x", "-k", "1"], "1 distinct value(s)"),
        ("x\n1\n2\n3\n", ["--column", "x", "-k", "0"], "-k must be at least 1"),
        ("a,b\n1,2\n", ["-k", "1"], "choose one with --column"),
        ("1,2\n3,4\n5,6\n", ["-k", "1"], "2 columns and no header row"),
        ("1\n2\n3\n", ["--column", "x", "-k", "1"], "has no header row, so there is no column 'x'"),
        ("x\n1\n2\n3\n", ["--column", "x", "-k", "1", "--plot", "/nonexistent/dir/out.png"], "cannot write the plot"),
    ],
)
def test_bad_input_is_one_line_and_status_2(tmp_path, text, args, message):
    path = str(tmp_path / "missing.csv") if text is None else write(tmp_path, text)
    out = run("fit", path, *args)
    assert out.returncode == 2
    assert out.stdout == ""
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert message in lines[0] and "Traceback" not in out.stderr


def test_single_column_needs_no_column_flag(tmp_path):
    rng = np.random.default_rng(0)
    values = np.concatenate([rng.normal(0, 1, 50), rng.normal(6, 1, 50)])
    path = write(tmp_path, "v\n" + "\n".join(f"{v:.6f}" for v in values) + "\n")
    out = run("fit", path, "-k", "2", "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["n_samples"] == 100


def test_a_file_of_numbers_keeps_its_first_value(tmp_path):
    # No header row: the first line is data, not a column name (it used to be dropped).
    path = write(tmp_path, "1\n2\n3\n10\n11\n12\n")
    out = run("fit", path, "-k", "2", "--json")
    assert out.returncode == 0, out.stderr
    res = json.loads(out.stdout)
    assert res["n_samples"] == 6
    assert [c["mean"] for c in res["components"]] == pytest.approx([2.0, 11.0])


def test_help_lists_fit_and_verify():
    out = run("--help")
    assert out.returncode == 0 and "fit" in out.stdout and "verify" in out.stdout
