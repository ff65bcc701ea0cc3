"""In JupyterLab with the Binder environment, every chapter reads as in the HTML book.

`make binder-check` builds that environment (.binder-check/venv: requirements.txt, i.e. the
notebooks extra with JupyterLab and jupyterlab-myst). This test runs the repository's
``postBuild`` on a Jupyter configuration of its own, as Binder does on ~/.jupyter, starts
JupyterLab on a copy of the chapters and opens each one in Chromium, without running anything
(as a reader first sees it on Binder, untrusted):

* every Markdown cell rendered by MyST, no MyST markup left as raw text;
* every number of the prose shown, not its name (``{eval}`name``` results are stored in the
  cells' metadata by tools/execute_notebooks.py; myst-nb's ``{glue:text}`` showed its key);
* no unresolved reference (a notebook opened alone cannot resolve a label of another one:
  those are Markdown links, tests/test_binder.py);
* every "How SymPy checked it" fold of the outputs opened: its math typeset, no raw TeX;
* chapter 11's theorem, proof and exercise boxes, its solutions folded.

Screenshots land in _build/screenshots/jupyterlab_<chapter>.png (and _fold.png: a fold opened).
``test_the_jupyterlab_check_catches_raw_tex_and_keys`` shows the check failing on the layout
before #27 (jupyterlab-myst's output renderer, a glue key, an unresolved reference).

Skips with the reason without that environment or Chromium, unless GMMDERIVE_REQUIRE_BROWSER=1
(``.ci/run``: ``make test`` runs binder-check before the browser tests), where it fails.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
import urllib.request

import pytest

# the Chromium of the book's browser tests (this directory is on sys.path: pytest's rootdir-less import)
from test_book_in_browser import ROOT, SHOTS, _unavailable, browser  # noqa: F401

BINDER_BIN = ROOT / ".binder-check" / "venv" / "bin"
BINDER_JUPYTER_LAB = BINDER_BIN / "jupyter-lab"
CHAPTERS = sorted(p.name for p in (ROOT / "book").glob("[0-9][0-9]_*.ipynb"))
def _glue_names(chapter: str) -> list[str]:
    nb = json.loads((ROOT / "book" / chapter).read_text())
    return [o["metadata"]["scrapbook"]["name"] for c in nb["cells"] for o in c.get("outputs", [])
            if o.get("metadata", {}).get("scrapbook")]


# What a reader would call broken in a notebook (JupyterLab's DOM): a dict of findings.
_LOOK = r"""(keys) => {
  const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)') || document;
  const cells = Array.from(panel.querySelectorAll('.jp-MarkdownCell'));
  // the rendered part only (each cell also holds its source, in a hidden editor); textContent,
  // as innerText is empty off screen; math removed
  const rendered = c => Array.from(c.querySelectorAll('.myst')).map(m => {
    const copy = m.cloneNode(true);
    copy.querySelectorAll('.katex, mjx-container').forEach(k => k.remove());
    return copy.textContent;
  }).join(' ');
  const text = cells.map(rendered).join('\n');
  const keyRe = keys.length ? new RegExp('(?<![\\w])(' + keys.join('|') + ')(?![\\w])', 'g') : null;
  const outputs = Array.from(panel.querySelectorAll('.jp-OutputArea-output'));
  const outText = outputs.map(o => {
    const copy = o.cloneNode(true);
    copy.querySelectorAll('mjx-container, .katex, script, style').forEach(k => k.remove());
    return copy.textContent;
  }).join('\n');
  const tex = /\$\$|\\(frac|sum|log|mathcal|mathbb|left|right|begin|end|sigma|mu|rho|gamma|hat|partial)\b/g;
  return {
    cells: cells.length,
    myst: panel.querySelectorAll('.jp-MarkdownCell .myst').length,
    math: panel.querySelectorAll('.jp-MarkdownCell .katex, .jp-MarkdownCell mjx-container').length,
    raw: text.match(/\{eq\}|\{eval\}|\{glue|\{prf:|\{exercise\}|\{solution-start\}|```|\$\$/g) || [],
    keys: (keyRe && text.match(keyRe)) || [],
    unresolved: Array.from(panel.querySelectorAll('.jp-MarkdownCell [title="Cross Reference Not Found"]'))
                     .map(e => e.textContent.trim()),
    folds: panel.querySelectorAll('.jp-OutputArea-output details').length,
    outputTex: outText.match(tex) || [],
    foldsWithoutMath: Array.from(panel.querySelectorAll('.jp-OutputArea-output details'))
                           .filter(d => d.querySelector('.math-display, .math-inline, p, div')
                                        && !d.querySelector('mjx-container, .katex')).length,
    folded: panel.querySelectorAll('.jp-MarkdownCell details:not([open])').length,
    theorem: /Theorem\s*1\s*\(The update of the means\)/.test(text),
    proof: /Proof\s*1/.test(text),
    exercise: /Exercise\s*1/.test(text) && /Exercise\s*2/.test(text),
    eqref: /\(3\)/.test(text),
  };
}"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_lab(root, env):
    port = _free_port()
    server = subprocess.Popen(
        [str(BINDER_JUPYTER_LAB), "--no-browser", "--allow-root", f"--port={port}", "--ServerApp.ip=127.0.0.1",
         "--ServerApp.token=", "--ServerApp.password=", f"--ServerApp.root_dir={root}",
         "--LabApp.news_url=", "--ServerApp.open_browser=False"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
    )
    url = f"http://127.0.0.1:{port}/"
    for _ in range(120):
        try:
            urllib.request.urlopen(url + "lab", timeout=2)
            return server, url
        except OSError:
            if server.poll() is not None:
                pytest.fail(f"JupyterLab exited with {server.returncode}")
            time.sleep(1)
    server.terminate()
    pytest.fail("JupyterLab did not start within 2 minutes")


def _stop(server):
    server.terminate()
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()


def _lab_env(tmp_path_factory, post_build: bool):
    """The Binder environment's PATH, with a Jupyter configuration of its own, postBuild run on it."""
    env = dict(os.environ, PATH=f"{BINDER_BIN}{os.pathsep}{os.environ['PATH']}")
    env["JUPYTER_CONFIG_DIR"] = str(tmp_path_factory.mktemp("jupyter-config"))
    if post_build:
        # as repo2docker runs it; it writes to the user's configuration: JUPYTER_CONFIG_DIR
        subprocess.run([str(ROOT / "postBuild")], check=True, env=env, cwd=ROOT, capture_output=True)
    return env


@pytest.fixture(scope="module")
def jupyterlab(tmp_path_factory):
    if not BINDER_JUPYTER_LAB.exists():
        _unavailable(f"no JupyterLab of the Binder environment ({BINDER_JUPYTER_LAB}): run `make binder-check` first")
    root = tmp_path_factory.mktemp("lab")
    for chapter in CHAPTERS:
        shutil.copy(ROOT / "book" / chapter, root / chapter)
    server, url = _start_lab(root, _lab_env(tmp_path_factory, post_build=True))
    try:
        yield url
    finally:
        _stop(server)


def _open(browser, url, chapter):  # noqa: F811 (the fixture)
    tab = browser.new_page(viewport={"width": 1300, "height": 1000})
    tab.goto(f"{url}lab/tree/{chapter}?reset", wait_until="load")
    tab.wait_for_selector(".jp-Notebook .jp-MarkdownCell", timeout=120000)
    try:
        tab.wait_for_selector(".jp-MarkdownCell .myst", timeout=60000)
    except Exception:  # playwright's TimeoutError
        pytest.fail(f"{chapter}: JupyterLab shows the notebook, but jupyterlab-myst does not render its Markdown")
    # JupyterLab renders a cell when it first comes into view: scroll through the notebook once
    tab.evaluate("""async () => {
        const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-WindowedPanel-outer');
        for (let top = 0; top < panel.scrollHeight; top += 600) {
            panel.scrollTop = top;
            await new Promise(r => setTimeout(r, 300));
        }
    }""")
    tab.wait_for_function("document.querySelectorAll('.jp-MarkdownCell .katex').length > 3", timeout=60000)
    return tab


def _open_folds(tab):
    """Open every fold of the outputs and wait for MathJax; the first opened one in view."""
    n = tab.evaluate("""() => {
        const folds = Array.from(document.querySelectorAll('.jp-OutputArea-output details'));
        folds.forEach(d => { d.open = true; });
        return folds.length;
    }""")
    if n:
        tab.wait_for_timeout(1500)
        tab.evaluate("() => document.querySelector('.jp-OutputArea-output details').scrollIntoView({block: 'start'})")
        tab.wait_for_timeout(1000)
    return n


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_a_chapter_reads_right_in_jupyterlab(chapter, jupyterlab, browser):  # noqa: F811 (the fixture)
    tab = _open(browser, jupyterlab, chapter)
    SHOTS.mkdir(parents=True, exist_ok=True)
    stem = chapter.removesuffix(".ipynb")
    if chapter == "11_means.ipynb":  # the exercises with their folded solutions
        tab.evaluate("""() => Array.from(document.querySelectorAll('.jp-MarkdownCell'))
                            .find(c => c.textContent.includes('Exercises')).scrollIntoView({block: 'start'})""")
        tab.wait_for_timeout(1500)
    tab.screenshot(path=str(SHOTS / f"jupyterlab_{stem}.png"))
    if _open_folds(tab):
        tab.screenshot(path=str(SHOTS / f"jupyterlab_{stem}_fold.png"))
    seen = tab.evaluate(_LOOK, _glue_names(chapter))
    tab.close()
    assert seen["cells"] and seen["myst"] == seen["cells"], seen  # every Markdown cell through MyST
    assert seen["math"] > 3, seen
    assert not seen["raw"], f"{chapter}: raw MyST in JupyterLab: {seen['raw']}"
    assert not seen["keys"], f"{chapter}: names instead of numbers: {sorted(set(seen['keys']))}"
    assert not seen["unresolved"], f"{chapter}: unresolved references: {seen['unresolved']}"
    assert not seen["outputTex"], f"{chapter}: raw TeX in the outputs: {seen['outputTex'][:5]}"
    assert not seen["foldsWithoutMath"], f"{chapter}: {seen['foldsWithoutMath']} folds opened without typeset math"
    if chapter == "11_means.ipynb":
        assert seen["eqref"] and seen["theorem"] and seen["proof"] and seen["exercise"], seen
        assert seen["folded"] >= 2, seen  # the two solutions start folded


def test_the_jupyterlab_check_catches_raw_tex_and_keys(tmp_path_factory, browser):  # noqa: F811
    # Before #27: jupyterlab-myst rendered the outputs (no postBuild), the prose used
    # {glue:text} (the key shows) and chapter 12 referred to chapter 11's theorem by label.
    if not BINDER_JUPYTER_LAB.exists():
        _unavailable(f"no JupyterLab of the Binder environment ({BINDER_JUPYTER_LAB}): run `make binder-check` first")
    root = tmp_path_factory.mktemp("lab-before")
    nb = json.loads((ROOT / "book" / "12_stds.ipynb").read_text())
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown":
            src = "".join(cell["source"]).replace("{eval}", "{glue:text}")
            cell["source"] = src.replace("the theorem of chapter 11", "{prf:ref}`thm-means`")
            cell["metadata"].pop("user_expressions", None)
    (root / "12_stds.ipynb").write_text(json.dumps(nb))
    server, url = _start_lab(root, _lab_env(tmp_path_factory, post_build=False))
    try:
        tab = _open(browser, url, "12_stds.ipynb")
        _open_folds(tab)
        seen = tab.evaluate(_LOOK, _glue_names("12_stds.ipynb"))
        tab.close()
    finally:
        _stop(server)
    assert seen["keys"] and "ch12_old0" in seen["keys"], seen
    assert "thm-means" in seen["unresolved"], seen
    assert seen["outputTex"] and seen["foldsWithoutMath"], seen
