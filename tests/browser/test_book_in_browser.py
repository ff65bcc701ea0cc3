"""The built book as a reader sees it, in headless Chromium.

Every page, at 1280 px: loads without JavaScript errors; math renders (no MathJax error, no
raw TeX outside math); no display equation and no code block wider than its column; no
duplicate HTML id; every image loads; a chapter's title carries its number; every "chapter
N" and every step id in the prose is a link. At 400 px (a phone) no display equation is cut
off (what MathJax cannot break scrolls in its own box). Every internal link resolves.
Screenshots of every page at 1280 and 400 px land in ``_build/screenshots`` for people to
look at. ``test_the_reader_check_catches_an_overlong_equation`` shows the layout check
failing on a page with a deliberately overlong equation.

Accessibility: axe-core (WCAG 2.0/2.1 A and AA) runs on every page, and a serious or critical
violation fails (``test_page_is_accessible``); ``test_the_axe_check_catches_a_missing_alt``
shows it failing on a figure without alt text. axe-core comes from the npm registry:
``npm install --prefix .venv/axe axe-core@4.14.1`` (``.ci/run`` does it), or GMMDERIVE_AXE
names its ``axe.min.js``.

Needs a built book (``make book``) and Debian's Chromium (``apt-get install chromium``), and
axe-core for the accessibility tests; without them the tests skip with the reason, unless
GMMDERIVE_REQUIRE_BROWSER=1 (set by ``.ci/run``), where they fail.
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import shutil
import threading
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlparse

import pytest

ROOT = Path(__file__).resolve().parents[2]
HTML = ROOT / "_build" / "html"
SHOTS = ROOT / "_build" / "screenshots"
REQUIRED = os.environ.get("GMMDERIVE_REQUIRE_BROWSER") == "1"
WIDE, NARROW = 1280, 400


def _unavailable(reason: str):
    if REQUIRED:
        pytest.fail(reason)
    pytest.skip(reason)


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return "/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None


def pages() -> list[str]:
    if not HTML.is_dir():
        return []
    skip = {"genindex.html", "search.html"}
    return sorted(
        str(p.relative_to(HTML)) for p in HTML.rglob("*.html")
        if p.name not in skip and "_static" not in p.parts and "_sources" not in p.parts
        and p.relative_to(HTML) != Path("index.html")  # a redirect to book/index.html
    )


@pytest.fixture(scope="module")
def server():
    if not (HTML / "book" / "index.html").exists():
        _unavailable(f"no built book in {HTML}: run `make book` first")
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=str(HTML))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()


@pytest.fixture(scope="module")
def browser():
    exe = _chromium()
    if exe is None:
        _unavailable("no Chromium found (Debian: apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(
            executable_path=exe,
            args=["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"],
        )
        yield b
        b.close()


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs, self.ids = [], set()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(a["id"])
        if tag == "a" and a.get("href"):
            self.hrefs.append(a["href"])


@functools.cache
def _parse(path: Path) -> _Links:
    parser = _Links()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


# What a reader would call broken, measured in the page (a list of problems, empty if none).
_READER_CHECK = r"""(stepIds) => {
  const problems = [];
  const main = document.querySelector('main') || document.body;
  const wider = (e, box) => e.getBoundingClientRect().width > box.getBoundingClientRect().width + 1;
  for (const m of main.querySelectorAll('mjx-container[display="true"]')) {
    const box = m.parentElement;
    const inner = m.firstElementChild;
    if (inner && m.offsetParent !== null && (wider(inner, box) || m.scrollWidth > m.clientWidth + 1))
      problems.push('display equation wider than its column: ' + m.textContent.slice(0, 50));
  }
  for (const pre of main.querySelectorAll('div.highlight pre, .cell_output pre, .output pre')) {
    if (pre.offsetParent !== null && pre.scrollWidth > pre.clientWidth + 1)
      problems.push('code wider than its box: ' + pre.textContent.slice(0, 50));
  }
  // bookkeeping out of sight (#27): no glue call in visible code, no empty output box, one
  // printed result in one box
  const glued = Array.from(main.querySelectorAll('.cell_input pre')).filter(p => /\bglue\(/.test(p.textContent));
  if (glued.length) problems.push(glued.length + ' visible cells call glue');
  const empty = Array.from(main.querySelectorAll('.cell_output')).filter(o => !o.textContent.trim()
                                                                        && !o.querySelector('img, svg, mjx-container'));
  if (empty.length) problems.push(empty.length + ' empty output boxes');
  const split = Array.from(main.querySelectorAll('.cell_output'))
                     .filter(o => o.querySelectorAll(':scope > .output.stream').length > 1);
  if (split.length) problems.push(split.length + ' printed results split into several boxes');
  const errors = main.querySelectorAll('mjx-merror, [data-mjx-error]').length;
  if (errors) problems.push(errors + ' MathJax errors (bad TeX)');
  const copy = main.cloneNode(true);
  copy.querySelectorAll('mjx-container, pre, code, script, style, .highlight').forEach(e => e.remove());
  const raw = copy.textContent.match(
    /\$\$|\$\\[a-zA-Z]|\\(frac|sum|log|mathcal|mathbb|left|right|begin|end)\b|\\\[|\\\(/g);
  if (raw) problems.push('raw TeX outside math: ' + raw.slice(0, 5).join(' '));
  const seen = {};
  for (const e of document.querySelectorAll('[id]')) seen[e.id] = (seen[e.id] || 0) + 1;
  const dup = Object.keys(seen).filter(k => seen[k] > 1);
  if (dup.length) problems.push('duplicate ids: ' + dup.slice(0, 5).join(', '));
  // "chapter N" and step ids in the prose are links (not in code, math or headings)
  const walker = document.createTreeWalker(main, NodeFilter.SHOW_TEXT);
  const unlinked = [];
  const stepRe = new RegExp('(?<![\\w.])(' + stepIds.map(s => s.replace('.', '\\.')).join('|') + ')(?![\\w]|\\.\\d)');
  for (let t = walker.nextNode(); t; t = walker.nextNode()) {
    const el = t.parentElement;
    const skip = 'a, pre, code, mjx-container, h1, h2, h3, h4, script, style, .highlight, table.step-index';
    if (el.closest(skip)) continue;
    const m = t.textContent.match(/\b[Cc]hapters? \d+/) || t.textContent.match(stepRe);
    if (m) unlinked.push(m[0]);
  }
  if (unlinked.length) problems.push('not linked: ' + unlinked.slice(0, 5).join(', '));
  return problems;
}"""

_NARROW_CHECK = r"""() => {
  // at phone width a display may be wider than the column only inside a scrolling box
  const cut = [];
  for (const m of document.querySelectorAll('main mjx-container[display="true"]')) {
    const inner = m.firstElementChild;
    if (!inner || m.offsetParent === null) continue;
    const style = getComputedStyle(m);
    if (inner.getBoundingClientRect().width > m.getBoundingClientRect().width + 1
        && !['auto', 'scroll'].includes(style.overflowX))
      cut.push(m.textContent.slice(0, 50));
  }
  // no equation number drawn over its equation: the number's box against the visible part
  // of every row of the display
  const meets = (a, b) => Math.min(a.right, b.right) - Math.max(a.left, b.left) > 1 &&
                          Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top) > 1;
  const numbers = [];
  for (const n of document.querySelectorAll('main div.math > span.eqno')) {
    const m = n.parentElement.querySelector('mjx-container');
    if (!m || m.offsetParent === null) continue;
    const box = m.getBoundingClientRect();
    for (const part of m.querySelectorAll('mjx-math, mjx-mtd, mjx-mrow')) {
      const r = part.getBoundingClientRect();
      const seen = {left: Math.max(r.left, box.left), right: Math.min(r.right, box.right),
                    top: r.top, bottom: r.bottom};
      if (seen.right > seen.left && meets(n.getBoundingClientRect(), seen)) {
        numbers.push(n.textContent.replace('#', '').trim());
        break;
      }
    }
  }
  // no page wider than the screen
  const wide = document.documentElement.scrollWidth > window.innerWidth + 1;
  // no inline formula cut off: with every fold open (SymPy's work, solutions, hidden cells),
  // a formula that reaches past the column must be inside a box that scrolls
  document.querySelectorAll('main details:not([open])').forEach(d => { d.open = true; });
  document.querySelectorAll('main .toggle-hidden').forEach(e => e.classList.remove('toggle-hidden'));
  document.querySelectorAll('main .toggle-details__container, main [hidden]').forEach(e => {
    e.hidden = false; e.style.display = 'block'; });
  const column = (document.querySelector('main article') || document.querySelector('main')).getBoundingClientRect();
  const scrolls = (e) => {
    for (let p = e.parentElement; p && p !== document.body; p = p.parentElement) {
      if (['auto', 'scroll'].includes(getComputedStyle(p).overflowX)) return true;
    }
    return false;
  };
  const inline = [];
  for (const m of document.querySelectorAll('main mjx-container:not([display="true"])')) {
    if (m.offsetParent === null) continue;
    const r = m.getBoundingClientRect();
    if ((r.right > column.right + 1 || r.left < column.left - 1) && !scrolls(m))
      inline.push(m.textContent.slice(0, 40));
  }
  // figures at least at half their size (ticks legible), or scrolling in their box
  const shrunk = [];
  for (const img of document.querySelectorAll('main .cell_output img')) {
    if (img.offsetParent !== null && img.naturalWidth > 0
        && img.getBoundingClientRect().width < 0.5 * img.naturalWidth) {
      const share = Math.round(100 * img.getBoundingClientRect().width / img.naturalWidth);
      shrunk.push(`${img.src.split('/').pop()} at ${share}%`);
    }
  }
  // every column of a table in view (the notation's MML column was hidden)
  const tables = Array.from(document.querySelectorAll('main article table'))
                      .filter(t => t.offsetParent !== null && t.scrollWidth > t.clientWidth + 1)
                      .map(t => (t.querySelector('th, td') || t).textContent.trim().slice(0, 30));
  return {cut, numbers, wide: wide ? document.documentElement.scrollWidth : 0, inline, shrunk, tables};
}"""


def _step_ids() -> list[str]:
    from gmmderive.symbolic import ALL_STEPS

    return [s.id for s in ALL_STEPS]


def _open(browser, server, page, width, errors=None, failed=None):
    tab = browser.new_page(viewport={"width": width, "height": 900})
    if errors is not None:
        tab.on("pageerror", lambda exc: errors.append(str(exc)))
        tab.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    if failed is not None:
        ours = lambda url: url.startswith(server) and not url.endswith("/favicon.ico")  # noqa: E731
        tab.on("requestfailed", lambda req: failed.append(req.url) if ours(req.url) else None)
        tab.on("response", lambda r: failed.append(f"{r.status} {r.url}") if ours(r.url) and r.status >= 400 else None)
    tab.goto(server + page, wait_until="load")
    if tab.evaluate("document.querySelectorAll('.math, div.math, span.math').length") > 0:
        tab.wait_for_function("window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=20000)
        tab.evaluate("MathJax.startup.promise")
        assert tab.evaluate("document.querySelectorAll('mjx-container').length") > 0, \
            f"{page}: math present but MathJax rendered nothing"
    tab.evaluate("document.fonts.ready")
    return tab


def _shot(tab, page, width):
    SHOTS.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=str(SHOTS / f"{page.replace('/', '_').replace('.html', '')}_{width}.png"), full_page=True)


@pytest.mark.parametrize("page", pages() or ["(no built book)"])
def test_page_as_a_reader_sees_it(page, server, browser):
    if page == "(no built book)":
        _unavailable("no built book: run `make book` first")
    errors, failed = [], []
    tab = _open(browser, server, page, WIDE, errors, failed)
    problems = tab.evaluate(_READER_CHECK, _step_ids())
    broken_images = tab.evaluate(
        "Array.from(document.images).filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src)"
    )
    title = tab.evaluate("(document.querySelector('main h1:has(a.headerlink)') || {}).textContent || ''")
    _shot(tab, page, WIDE)
    tab.close()
    narrow = _open(browser, server, page, NARROW)
    phone = narrow.evaluate(_NARROW_CHECK)
    _shot(narrow, page, NARROW)
    narrow.close()
    assert not problems, f"{page} at {WIDE} px: {problems}"
    assert not broken_images, f"{page}: images that did not load: {broken_images}"
    if re.fullmatch(r"book/\d\d_\w+\.html", page):
        assert re.match(r"\d+\. \S", title.strip()), f"{page}: the chapter title has no number: {title!r}"
    assert not phone["cut"], f"{page} at {NARROW} px: display equations cut off: {phone['cut']}"
    assert not phone["numbers"], f"{page} at {NARROW} px: equation numbers over their equations: {phone['numbers']}"
    assert not phone["wide"], f"{page} at {NARROW} px: the page is {phone['wide']} px wide"
    assert not phone["inline"], f"{page} at {NARROW} px: inline formulas cut off: {phone['inline']}"
    assert not phone["shrunk"], f"{page} at {NARROW} px: figures shrunk below half their size: {phone['shrunk']}"
    assert not phone["tables"], f"{page} at {NARROW} px: tables with columns out of view: {phone['tables']}"
    assert not errors, f"{page}: JavaScript errors: {errors}"
    assert not failed, f"{page}: requests that failed: {failed}"


def test_the_reader_check_catches_an_overlong_equation(server, browser):
    # The check must fail on what it is there to catch: an equation MathJax cannot break
    # (one long fraction), a code line of 150 characters, raw TeX, a duplicate id, a bare step id.
    page = "book/07_qfunction.html"
    if not (HTML / page).exists():
        _unavailable(f"no {page} in the built book")
    tab = _open(browser, server, page, WIDE)
    assert tab.evaluate(_READER_CHECK, _step_ids()) == []
    long_fraction = "\\frac{" + " + ".join(f"x_{{{k}}}^2" for k in range(60)) + "}{N}"
    tab.evaluate(r"""(tex) => {
        const main = document.querySelector('main');
        const div = document.createElement('div');
        div.className = 'math notranslate nohighlight';
        div.textContent = '\\[' + tex + '\\]';
        main.querySelector('p').after(div);
        return MathJax.typesetPromise([div]);
    }""", long_fraction)
    problems = tab.evaluate(_READER_CHECK, _step_ids())
    assert any(p.startswith("display equation wider than its column") for p in problems), problems
    tab.evaluate(r"""() => {
        const main = document.querySelector('main');
        const p = document.createElement('p');
        p.innerHTML = 'As $\\frac{a}{b}$ shows, see S24 and chapter 9.';
        p.id = main.querySelector('[id]').id;
        main.appendChild(p);
        const pre = document.createElement('div');
        pre.className = 'highlight';
        pre.innerHTML = '<pre>' + 'x'.repeat(150) + '</pre>';
        main.appendChild(pre);
        // before #27: a visible glue call, an empty output box, a print split in two boxes
        const cell = document.createElement('div');
        cell.innerHTML = '<div class="cell_input"><pre>glue("ch7_n", n)</pre></div>'
            + '<div class="cell_output"></div>'
            + '<div class="cell_output"><div class="output stream">a</div><div class="output stream">b</div></div>';
        main.appendChild(cell);
    }""")
    problems = " | ".join(tab.evaluate(_READER_CHECK, _step_ids()))
    for expected in ("raw TeX outside math", "duplicate ids", "not linked: chapter 9", "code wider than its box",
                     "1 visible cells call glue", "1 empty output boxes", "1 printed results split"):
        assert expected in problems, problems
    tab.close()


def test_the_phone_check_catches_a_number_over_its_equation(server, browser):
    # With the number put back beside the display (the layout before the phone rule of
    # book.css) and a page made wider than the screen, the 400 px check must report both.
    page = "book/21_weighted.html"
    if not (HTML / page).exists():
        _unavailable(f"no {page} in the built book")
    tab = _open(browser, server, page, NARROW)
    clean = {"cut": [], "numbers": [], "wide": 0, "inline": [], "shrunk": [], "tables": []}
    assert tab.evaluate(_NARROW_CHECK) == clean
    tab.add_style_tag(content="""
        div.math:has(> span.eqno) { display: block !important; padding-right: 0 !important; }
        div.math > span.eqno { position: absolute !important; right: 0; top: 50%; margin: 0 !important; }
        main p:first-of-type { width: 600px; }
    """)
    phone = tab.evaluate(_NARROW_CHECK)
    assert phone["numbers"] and phone["wide"] >= 600, phone
    tab.close()
    # Figures shrunk to the column (the layout before #27's phone rule) and an inline formula
    # MathJax cannot break (one long fraction) in a paragraph that does not scroll.
    page = "book/12_stds.html"
    tab = _open(browser, server, page, NARROW)
    assert tab.evaluate(_NARROW_CHECK)["shrunk"] == []
    tab.add_style_tag(content="div.cell_output > img { max-width: 100% !important; }")
    long_fraction = "\\frac{" + " + ".join(f"x_{{{k}}}" for k in range(30)) + "}{N}"
    tab.evaluate(r"""(tex) => {
        const p = document.createElement('p');
        p.textContent = 'A long one: \\(' + tex + '\\).';
        document.querySelector('main article p').after(p);
        const table = document.createElement('table');  // a column out of view
        table.innerHTML = '<tr><td>wide</td><td>' + 'x'.repeat(120) + '</td></tr>';
        p.after(table);
        return MathJax.typesetPromise([p]);
    }""", long_fraction)
    phone = tab.evaluate(_NARROW_CHECK)
    tab.close()
    assert phone["shrunk"] and phone["inline"] and phone["tables"], phone


@pytest.mark.parametrize("page", pages() or ["(no built book)"])
def test_internal_links_resolve(page):
    if page == "(no built book)":
        _unavailable("no built book: run `make book` first")
    base = "http://book/" + page
    broken = []
    for href in _parse(HTML / page).hrefs:
        url = urlparse(urljoin(base, href))
        if url.scheme != "http" or url.netloc != "book":
            continue  # external (or mailto:)
        target = HTML / unquote(url.path.lstrip("/"))
        if target.is_dir():
            target = target / "index.html"
        if not target.exists():
            broken.append(href)
        elif url.fragment and target.suffix == ".html" and url.fragment not in _parse(target).ids:
            broken.append(href)
    assert not broken, f"{page}: links to nowhere: {broken}"


# --------------------------------------------------------------------------------------
# Accessibility: axe-core on every page. The book's figures carry alt text from their cells
# (mystnb.image.alt); book/_ext/book_fixes.py fixes what the theme and the generators emit.
# --------------------------------------------------------------------------------------

AXE = Path(os.environ.get("GMMDERIVE_AXE") or ROOT / ".venv" / "axe" / "node_modules" / "axe-core" / "axe.min.js")
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
    # WCAG 2.5.3 (label in name), still marked experimental in axe-core 4.14
    "rules": {"label-content-name-mismatch": {"enabled": True}},
}
FAILING_IMPACTS = ("serious", "critical")
# Violations of the theme's own markup that book_fixes cannot fix: rule id -> upstream issue.
# (None at present: the search buttons, colour-mode icons and sidebar landmark are fixed there.)
UPSTREAM: dict[str, str] = {}


@pytest.fixture(scope="module")
def axe_script() -> Path:
    if not AXE.is_file():
        _unavailable(f"axe-core is not installed ({AXE}): npm install --prefix .venv/axe axe-core@4.14.1")
    return AXE


def _axe(tab, axe_script: Path) -> list[dict]:
    tab.add_script_tag(path=str(axe_script))
    return tab.evaluate(
        """(options) => axe.run(document, options).then(r => r.violations.map(v => ({
            id: v.id, impact: v.impact, help: v.help,
            targets: v.nodes.map(n => n.target.join(' ')),
            inArticle: v.nodes.some(n => n.target.some(t => {
                const e = document.querySelector(t); return e && e.closest('article, main .bd-content');
            })),
        })))""",
        AXE_OPTIONS,
    )


def _failing(violations: list[dict]) -> list[str]:
    return [
        f"{v['id']} ({v['impact']}, {len(v['targets'])}x: {v['help']}): {v['targets'][:3]}"
        for v in violations
        if v["impact"] in FAILING_IMPACTS and (v["inArticle"] or v["id"] not in UPSTREAM)
    ]


@pytest.mark.parametrize("page", pages() or ["(no built book)"])
def test_page_is_accessible(page, server, browser, axe_script):
    if page == "(no built book)":
        _unavailable("no built book: run `make book` first")
    tab = _open(browser, server, page, WIDE)
    violations = _axe(tab, axe_script)
    tab.close()
    failing = _failing(violations)
    assert not failing, f"{page}: axe-core finds {failing}"


def test_the_axe_check_catches_a_missing_alt(server, browser, axe_script):
    # A figure without alt text (as myst-nb writes a PNG output without mystnb.image.alt)
    # and an unlabelled slider (matplotlib's animation before book_fixes) must fail.
    page = "book/13_summary.html"
    if not (HTML / page).exists():
        _unavailable(f"no {page} in the built book")
    tab = _open(browser, server, page, WIDE)
    assert _failing(_axe(tab, axe_script)) == []
    figures = "Array.from(document.querySelectorAll('.cell_output img')).map(i => i.getAttribute('alt') || '')"
    alts = tab.evaluate(figures)
    assert len(alts) >= 4 and all(len(a) > 40 and not a.endswith(".png") for a in alts), alts  # described
    tab.evaluate("""() => {
        const img = document.querySelector('.cell_output img');
        img.removeAttribute('alt');
        document.querySelector('input.anim-slider').removeAttribute('aria-label');
    }""")
    failing = " | ".join(_failing(_axe(tab, axe_script)))
    tab.close()
    assert "image-alt (critical" in failing and "label (critical" in failing, failing
