"""The notebooks Colab gets (colab/, tools/colab_notebooks.py), as a plain renderer shows them.

Colab and a plain Jupyter render Markdown with LaTeX and no MyST. Here each notebook of
colab/ goes through nbconvert's HTML (the Binder environment's, as Jupyter renders it: Markdown
and MathJax), with the book's own MathJax (offline) in place of nbconvert's CDN copy, and is
looked at in Chromium: the math typeset without a MathJax error, no MyST directive, role or
label left as text, no raw TeX outside math. Screenshots land in
_build/screenshots/colab_<chapter>.png. ``test_the_colab_check_catches_myst`` shows the check
failing on a chapter of book/ (the MyST source itself).

Skips with the reason without the Binder environment (``make binder-check``) or Chromium,
unless GMMDERIVE_REQUIRE_BROWSER=1, where it fails.
"""

from __future__ import annotations

import re
import subprocess

import pytest

# the Chromium of the book's browser tests (this directory is on sys.path: pytest's rootdir-less import)
from test_book_in_browser import ROOT, SHOTS, _unavailable, browser  # noqa: F401

NBCONVERT = ROOT / ".binder-check" / "venv" / "bin" / "jupyter-nbconvert"
MATHJAX = ROOT / "book" / "_extra" / "mathjax" / "tex-chtml.js"
COLAB = sorted((ROOT / "colab").glob("*.ipynb"))
SHOWN = {"01", "10", "12", "16", "20", "21", "22"}  # screenshots kept (the chapters)

_MATHJAX4 = """<script>window.MathJax = {
  tex: {inlineMath: [['$', '$'], ['\\\\(', '\\\\)']], displayMath: [['$$', '$$'], ['\\\\[', '\\\\]']],
        processEscapes: true, tags: 'ams'},
  loader: {paths: {'mathjax-newcm': '[mathjax]/fonts/mathjax-newcm'}},
  output: {displayOverflow: 'linebreak'},
  options: {enableSpeech: false, enableBraille: false, enableExplorer: false,
            menuOptions: {settings: {enrich: false, speech: false, braille: false}}}};</script>
<script src="%s"></script>"""

_LOOK = r"""() => {
  // a MyST directive's fence shows as a code block whose language is "{name}"
  const fences = Array.from(document.querySelectorAll('.jp-MarkdownCell pre code, .jp-RenderedMarkdown pre code'))
                      .map(c => c.className).filter(c => /\{/.test(c));
  const copy = document.body.cloneNode(true);
  copy.querySelectorAll('mjx-container, pre, code, script, style, .jp-InputArea, .jp-InputPrompt')
      .forEach(e => e.remove());
  const text = copy.textContent;
  return {
    math: document.querySelectorAll('mjx-container').length,
    errors: document.querySelectorAll('mjx-merror, [data-mjx-error]').length,
    myst: (text.match(new RegExp(
      '\\{(eval|eq|cite|cite:t|ref|numref|prf:[a-z]+|exercise|solution-start|solution-end|math|glue[:a-z]*)\\}'
      + '|```\\{|:::\\{|:label:|^\\([\\w-]+\\)=', 'gm')) || []).concat(fences),
    tex: text.match(/\$\$|\\(frac|sum|log|mathcal|left|right|begin|end|tag|sigma|mu|rho)\b/g) || [],
  };
}"""


def _html(notebook, out_dir):
    if not NBCONVERT.exists():
        _unavailable(f"no nbconvert of the Binder environment ({NBCONVERT}): run `make binder-check` first")
    subprocess.run([str(NBCONVERT), "--to", "html", "--log-level=ERROR", "--output-dir", str(out_dir),
                    str(notebook)], check=True, capture_output=True)
    page = out_dir / notebook.with_suffix(".html").name
    html = page.read_text(encoding="utf-8")
    # nbconvert loads MathJax 2 from a CDN: the book's MathJax 4, offline, instead
    html, n = re.subn(r'<script src="https://cdn[^"]*mathjax[^"]*">\s*</script>',
                      lambda _: _MATHJAX4 % MATHJAX.as_uri(), html, flags=re.I)
    assert n == 1, "nbconvert's template no longer loads MathJax the way this test replaces"
    page.write_text(html, encoding="utf-8")
    return page


def _look(browser, page, shot=None):  # noqa: F811 (the fixture)
    tab = browser.new_page(viewport={"width": 1000, "height": 1400})
    tab.goto(page.as_uri(), wait_until="load")
    tab.wait_for_function("window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=30000)
    tab.evaluate("MathJax.startup.promise")
    seen = tab.evaluate(_LOOK)
    if shot:
        SHOTS.mkdir(parents=True, exist_ok=True)
        tab.screenshot(path=str(SHOTS / shot), full_page=True)
    tab.close()
    return seen


@pytest.mark.parametrize("notebook", COLAB or [None], ids=lambda p: p.name if p else "(no colab/)")
def test_colab_notebook_reads_without_myst(notebook, browser, tmp_path):  # noqa: F811
    assert notebook is not None, "no colab/: run tools/colab_notebooks.py"
    shot = f"colab_{notebook.stem}.png" if notebook.name[:2] in SHOWN else None
    seen = _look(browser, _html(notebook, tmp_path), shot)
    assert seen["math"] > 3 and not seen["errors"], seen
    assert not seen["myst"], f"{notebook.name}: MyST left as text: {seen['myst'][:5]}"
    assert not seen["tex"], f"{notebook.name}: raw TeX: {seen['tex'][:5]}"


def test_the_colab_check_catches_myst(browser, tmp_path):  # noqa: F811
    seen = _look(browser, _html(ROOT / "book" / "12_stds.ipynb", tmp_path))
    assert seen["myst"], seen
