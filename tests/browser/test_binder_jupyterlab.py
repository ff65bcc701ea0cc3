"""In JupyterLab with the Binder environment, a chapter's MyST renders as in the HTML book.

`make binder-check` builds that environment (.binder-check/venv: requirements.txt, i.e. the
notebooks extra with JupyterLab and jupyterlab-myst). This test starts JupyterLab from it on a
copy of chapter 11 and looks at the page in Chromium: equations typeset, {eq} references
resolved, the theorem, proof and exercise boxes drawn, the solutions folded, no MyST markup
left as raw text. The screenshot lands in _build/screenshots/jupyterlab_11_means.png.

Skips with the reason without that environment or Chromium, unless GMMDERIVE_REQUIRE_BROWSER=1
(``.ci/run``: ``make test`` runs binder-check before the browser tests), where it fails.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
import urllib.request

import pytest

# the Chromium of the book's browser tests (this directory is on sys.path: pytest's rootdir-less import)
from test_book_in_browser import ROOT, SHOTS, _unavailable, browser  # noqa: F401

BINDER_JUPYTER_LAB = ROOT / ".binder-check" / "venv" / "bin" / "jupyter-lab"
CHAPTER = "11_means.ipynb"

_LOOK = r"""() => {
  const cells = Array.from(document.querySelectorAll('.jp-MarkdownCell'));
  // the rendered part only (each cell also holds its source, in a hidden editor); textContent,
  // as innerText is empty off screen
  const text = cells.map(c => Array.from(c.querySelectorAll('.myst')).map(m => m.textContent).join(' ')).join('\n');
  return {
    cells: cells.length,
    myst: document.querySelectorAll('.jp-MarkdownCell .myst').length,
    math: document.querySelectorAll('.jp-MarkdownCell .katex, .jp-MarkdownCell mjx-container').length,
    raw: text.match(/\{eq\}|\{prf:|\{exercise\}|\{solution-start\}|```|\$\$/g) || [],
    folded: document.querySelectorAll('.jp-MarkdownCell details:not([open])').length,
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


@pytest.fixture(scope="module")
def jupyterlab(tmp_path_factory):
    if not BINDER_JUPYTER_LAB.exists():
        _unavailable(f"no JupyterLab of the Binder environment ({BINDER_JUPYTER_LAB}): run `make binder-check` first")
    root = tmp_path_factory.mktemp("lab")
    shutil.copy(ROOT / "book" / CHAPTER, root / CHAPTER)
    port = _free_port()
    server = subprocess.Popen(
        [str(BINDER_JUPYTER_LAB), "--no-browser", "--allow-root", f"--port={port}", "--ServerApp.ip=127.0.0.1",
         "--ServerApp.token=", "--ServerApp.password=", f"--ServerApp.root_dir={root}",
         "--LabApp.news_url=", "--ServerApp.open_browser=False"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(url + "lab", timeout=2)
                break
            except OSError:
                if server.poll() is not None:
                    pytest.fail(f"JupyterLab exited with {server.returncode}")
                time.sleep(1)
        else:
            pytest.fail("JupyterLab did not start within 2 minutes")
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


def test_a_chapter_renders_its_myst_in_jupyterlab(jupyterlab, browser):  # noqa: F811 (the fixture)
    tab = browser.new_page(viewport={"width": 1300, "height": 1000})
    tab.goto(f"{jupyterlab}lab/tree/{CHAPTER}", wait_until="load")
    tab.wait_for_selector(".jp-Notebook .jp-MarkdownCell", timeout=120000)
    try:
        tab.wait_for_selector(".jp-MarkdownCell .myst", timeout=60000)
    except Exception:  # playwright's TimeoutError
        pytest.fail("JupyterLab shows the notebook, but jupyterlab-myst does not render its Markdown")
    # JupyterLab renders a cell when it first comes into view: scroll through the notebook once
    tab.evaluate("""async () => {
        const panel = document.querySelector('.jp-NotebookPanel .jp-WindowedPanel-outer');
        for (let top = 0; top < panel.scrollHeight; top += 600) {
            panel.scrollTop = top;
            await new Promise(r => setTimeout(r, 400));
        }
    }""")
    tab.wait_for_function("document.querySelectorAll('.jp-MarkdownCell .katex').length > 10", timeout=60000)
    seen = tab.evaluate(_LOOK)
    # for the screenshot: the exercises with their folded solutions
    tab.evaluate("""() => Array.from(document.querySelectorAll('.jp-MarkdownCell'))
                        .find(c => c.textContent.includes('Exercises')).scrollIntoView({block: 'start'})""")
    tab.wait_for_timeout(2000)
    SHOTS.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=str(SHOTS / "jupyterlab_11_means.png"))
    tab.close()
    assert seen["cells"] and seen["myst"] == seen["cells"], seen  # every Markdown cell through MyST
    assert seen["math"] > 10 and seen["eqref"], seen
    assert seen["theorem"] and seen["proof"] and seen["exercise"], seen
    assert seen["folded"] >= 2, seen  # the two solutions start folded
    assert not seen["raw"], f"raw MyST in JupyterLab: {seen['raw']}"
