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
    gm = g.GaussianMixture1D(2, n_init=3, init="kmeans++", random_state=1).fit(x)
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


# -- reading files: never a silent wrong answer (#14) ---------------------------------

def write_bytes(tmp_path, data: bytes, name="data.csv"):
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


@pytest.mark.parametrize("text, args, message", [
    # decimal commas in a comma file: two fields where the header has one
    ("x\n0,346\n0,822\n1,5\n", ["-k", "1"], "has 2 field(s), the first line has 1 (decimal commas? pass --decimal ,)"),
    # decimal commas in a semicolon file, read with the default decimal point
    ("x;y\n0,5;1\n1,5;2\n", ["--column", "x", "-k", "1"], "non-numeric value '0,5'"),
    # extra fields in a row are refused, not dropped
    ("x,y\n1,2,3\n2,3\n3,4\n", ["--column", "x", "-k", "1"], "line 2 of"),
    ("x,y\n1,2\n2,3,9\n3,4\n", ["--column", "x", "-k", "1"], "line 3 of"),
    # a first line with two separators is ambiguous
    ("x;y,z\n1;2,3\n", ["-k", "1"], "choose the separator with --sep"),
    # Python's float would take 1_000 as 1000
    ("x\n1\n1_000\n3\n", ["-k", "1"], "non-numeric value '1_000'"),
    ("x\n1\n2\n3\n", ["-k", "1", "--decimal", ";"], "invalid choice"),
    ("x,x\n1,2\n3,4\n", ["--column", "x", "-k", "1"], "names a column twice"),
])
def test_files_that_would_be_misread_are_refused(tmp_path, text, args, message):
    out = run("fit", write(tmp_path, text), *args)
    assert out.returncode == 2, out.stdout
    assert out.stdout == ""
    assert message in out.stderr.strip().splitlines()[-1]
    if "invalid choice" not in message:
        assert len(out.stderr.strip().splitlines()) == 1


def test_decimal_commas_with_the_option(tmp_path):
    path = write(tmp_path, "x;y\n0,5;1\n1,5;2\n2,5;3\n7,5;4\n")
    out = run("fit", path, "--column", "x", "-k", "1", "--decimal", ",", "--json")
    assert out.returncode == 0, out.stderr
    res = json.loads(out.stdout)
    assert res["separator"] == ";" and res["decimal"] == "," and res["n_samples"] == 4
    assert res["components"][0]["mean"] == pytest.approx(3.0)


@pytest.mark.parametrize("sep, name", [(",", "comma"), (";", "semicolon"), ("\t", "tab")])
def test_separators_are_recognized_and_reported(tmp_path, sep, name):
    path = write(tmp_path, f"a{sep}b\n1{sep}10\n2{sep}20\n3{sep}30\n9{sep}90\n")
    out = run("fit", path, "--column", "b", "-k", "1")
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[0].startswith("read 4 values from column 'b'")
    assert f"separator: {name}" in out.stdout.splitlines()[0]
    res = json.loads(run("fit", path, "--column", "b", "-k", "1", "--json").stdout)
    assert res["components"][0]["mean"] == pytest.approx(37.5)


def test_byte_order_mark_is_dropped(tmp_path):
    headless = write_bytes(tmp_path, b"\xef\xbb\xbf1.5\n2.5\n3.5\n7.5\n8.5\n", "a.csv")
    res = json.loads(run("fit", headless, "-k", "1", "--json").stdout)
    assert res["n_samples"] == 5 and res["column"] is None  # the first value is kept
    assert res["components"][0]["mean"] == pytest.approx(4.7)
    headed = write_bytes(tmp_path, b"\xef\xbb\xbfx,y\n1.5,1\n2.5,2\n3.5,3\n", "b.csv")
    out = run("fit", headed, "--column", "x", "-k", "1", "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["components"][0]["mean"] == pytest.approx(2.5)


def test_numeric_header_is_said_not_guessed(tmp_path):
    path = write(tmp_path, "1990\n1.2\n3.4\n5.6\n7.7\n")
    auto = run("fit", path, "-k", "1")
    assert "read 5 values from a file without a header row" in auto.stdout  # reported, not silent
    named = run("fit", path, "-k", "1", "--header", "yes", "--column", "1990", "--json")
    assert named.returncode == 0, named.stderr
    res = json.loads(named.stdout)
    assert res["n_samples"] == 4 and res["column"] == "1990"
    text_header = write(tmp_path, "x\n1\n2\n3\n", "t.csv")
    out = run("fit", text_header, "-k", "1", "--header", "no")
    assert out.returncode == 2 and "non-numeric value 'x'" in out.stderr


def test_blank_lines_and_spaces_are_skipped(tmp_path):
    path = write(tmp_path, "x,y\n1,2\n\n   \n3,4\n 5 , 6 \n")
    res = json.loads(run("fit", path, "--column", "x", "-k", "1", "--json").stdout)
    assert res["n_samples"] == 3 and res["components"][0]["mean"] == pytest.approx(3.0)


def test_fast_and_row_by_row_readers_agree(tmp_path):
    from gmmderive.__main__ import read_column

    rng = np.random.default_rng(2)
    v = rng.normal(size=1000).tolist()
    clean = write(tmp_path, "a,b\n" + "".join(f"{k},{x!r}\n" for k, x in enumerate(v)), "c.csv")
    spaced = write(tmp_path, "a,b\n" + "".join(f"{k},{x!r}\n" for k, x in enumerate(v)) + "  \n", "s.csv")
    fast, slow = read_column(clean, "b"), read_column(spaced, "b")  # a line of spaces: row by row
    np.testing.assert_array_equal(fast.values, v)
    np.testing.assert_array_equal(slow.values, v)


# -- issue 24: the plot file, files that are not regular files, huge data -----------------

PNG = b"\x89PNG\r\n\x1a\n"


def _one_line_error(out, message):
    assert out.returncode == 2, out.stdout
    assert out.stdout == ""
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], out.stderr


def test_plot_is_written_to_the_name_given(tmp_path):
    # Without a suffix matplotlib added ".png" while the CLI said "plot written to out".
    out = run("fit", FAITHFUL, "--column", "waiting", "-k", "2", "--plot", "out", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "out").read_bytes()[:8] == PNG and not (tmp_path / "out.png").exists()
    assert "plot written to out (PNG)" in out.stdout
    pdf = run("fit", FAITHFUL, "--column", "waiting", "-k", "2", "--plot", "fit.pdf", cwd=tmp_path)
    assert pdf.returncode == 0 and (tmp_path / "fit.pdf").read_bytes()[:5] == b"%PDF-"


def test_plot_format_unknown_to_matplotlib_is_refused_before_fitting(tmp_path):
    out = run("fit", FAITHFUL, "--column", "waiting", "-k", "2", "--plot", "fit.xyz", cwd=tmp_path)
    _one_line_error(out, "cannot write the plot to fit.xyz: unknown format 'xyz'")


def test_plot_does_not_overwrite_a_file_without_force(tmp_path):
    (tmp_path / "fit.png").write_bytes(b"precious")
    out = run("fit", FAITHFUL, "--column", "waiting", "-k", "2", "--plot", "fit.png", cwd=tmp_path)
    _one_line_error(out, "fit.png exists: pass --force to overwrite it")
    assert (tmp_path / "fit.png").read_bytes() == b"precious"
    forced = run("fit", FAITHFUL, "--column", "waiting", "-k", "2", "--plot", "fit.png", "--force", cwd=tmp_path)
    assert forced.returncode == 0, forced.stderr
    assert (tmp_path / "fit.png").read_bytes()[:8] == PNG
    assert "plot written to fit.png (replacing the file that was there)" in forced.stdout
    # never onto the data, not even with --force
    data = write(tmp_path, "x\n1\n2\n3\n10\n11\n12\n")
    same = run("fit", data, "-k", "2", "--plot", data, "--force")
    _one_line_error(same, "is the data file")
    assert (tmp_path / "data.csv").read_text().startswith("x\n1\n")


def test_a_header_only_file_is_one_line(tmp_path):
    # NumPy's loadtxt warned "input contained no data" (two more lines on stderr)
    out = run("fit", write(tmp_path, "x\n"), "-k", "2")
    _one_line_error(out, "column 'x' of")
    assert "has no values" in out.stderr


@pytest.mark.parametrize("path, message", [("/dev/null", "/dev/null is not a regular file"),
                                           ("DIR", "is a directory")])
def test_files_that_exist_but_are_not_data_files(tmp_path, path, message):
    # both were "no such file"
    if path == "DIR":
        path = str(tmp_path)
    if not os.path.exists(path):
        pytest.skip(f"{path} does not exist here")
    _one_line_error(run("fit", path, "-k", "2"), message)


@pytest.mark.parametrize("scale", [1e200, 1.5e307])
def test_plot_of_data_near_the_largest_float(tmp_path, scale):
    # At 1.5e307 the data span 2e308: the grid (and the histogram's bins) overflowed, and the
    # CLI said the data contained 500 non-finite values. The figure is drawn in the
    # standardized frame now, its axis in x's units.
    rng = np.random.default_rng(0)
    x = np.r_[rng.normal(-4, 1, 300), rng.normal(4, 1, 300)] * scale
    path = write(tmp_path, "x\n" + "".join(f"{v!r}\n" for v in x.tolist()))
    png = tmp_path / "big.png"
    out = run("fit", path, "-k", "2", "--plot", str(png), "--json")
    assert out.returncode == 0, out.stderr
    assert png.read_bytes()[:8] == PNG
    # the fitted mean of 300 draws of N(-4, 1): within 0.2 (3.5 standard errors) of -4
    assert json.loads(out.stdout)["components"][0]["mean"] == pytest.approx(-4 * scale, rel=0.05)


def test_a_closed_pipe_ends_quietly_as_other_unix_tools_do():
    # gmmderive fit ... --json | head -1: the reader may be gone before the output is written. The
    # read end is closed before the command starts, so that the write fails every time.
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        out = subprocess.run([sys.executable, "-m", "gmmderive", "fit", FAITHFUL, "--column", "waiting", "-k", "2",
                              "--json"], stdout=write_end, stderr=subprocess.PIPE, text=True, timeout=120)
    finally:
        os.close(write_end)
    assert out.stderr == ""  # no BrokenPipeError traceback, no "Exception ignored"
    assert out.returncode == 128 + 13  # a shell's status for a command ended by SIGPIPE (yes | head)


def test_a_closed_pipe_through_head(tmp_path):
    script = f"'{sys.executable}' -m gmmderive fit '{FAITHFUL}' --column waiting -k 2 --json | head -c 1 >/dev/null"
    out = subprocess.run(["sh", "-c", script], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stderr == ""


def test_usage_names_the_command_as_invoked():
    out = run()  # python -m gmmderive, with this Python's name as Python 3.14's argparse says it
    assert out.returncode == 2 and out.stdout.startswith(f"usage: {os.path.basename(sys.executable)} -m gmmderive ")
    script = os.path.join(os.path.dirname(sys.executable), "gmmderive")
    if not os.path.exists(script):
        pytest.skip("the gmmderive console script is not installed next to this Python")
    out = subprocess.run([script, "fit"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 2 and out.stderr.startswith("usage: gmmderive fit "), out.stderr
