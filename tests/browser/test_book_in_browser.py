"""The built book as a reader sees it, in headless Chromium.

Every page loads without JavaScript errors; math renders (MathJax output on every page
with math, no raw ``$$`` or ``\\[`` left); every image loads; every internal link resolves;
screenshots of a few pages land in ``_build/screenshots`` for people to look at.

Needs a built book (``make book``) and Debian's Chromium (``apt-get install chromium``);
without them the tests skip with the reason, unless GMMDERIVE_REQUIRE_BROWSER=1 (set by
``.ci/run``), where they fail.
"""

from __future__ import annotations

import functools
import http.server
import os
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
SCREENSHOT_PAGES = ["book/04_joint.html", "book/10_weights.html", "book/13_summary.html", "book/notation.html"]


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


@functools.lru_cache(maxsize=None)
def _parse(path: Path) -> _Links:
    parser = _Links()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


@pytest.mark.parametrize("page", pages() or ["(no built book)"])
def test_page_as_a_reader_sees_it(page, server, browser):
    if page == "(no built book)":
        _unavailable("no built book: run `make book` first")
    errors, failed = [], []
    tab = browser.new_page(viewport={"width": 1200, "height": 900})
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    ours = lambda url: url.startswith(server) and not url.endswith("/favicon.ico")  # noqa: E731 (the browser asks by itself)
    tab.on("requestfailed", lambda req: failed.append(req.url) if ours(req.url) else None)
    tab.on("response", lambda r: failed.append(f"{r.status} {r.url}") if ours(r.url) and r.status >= 400 else None)
    tab.goto(server + page, wait_until="load")
    has_math = tab.evaluate("document.querySelectorAll('.math, div.math, span.math').length") > 0
    if has_math:
        tab.wait_for_function("window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=20000)
        tab.evaluate("MathJax.startup.promise")
        rendered = tab.evaluate("document.querySelectorAll('mjx-container').length")
        assert rendered > 0, f"{page}: math present but MathJax rendered nothing"
        text = tab.evaluate("document.querySelector('main, article, body').innerText")
        for raw in ("$$", "\\[", "\\begin{"):
            assert raw not in text, f"{page}: raw {raw!r} left in the rendered text"
        merrors = tab.evaluate("document.querySelectorAll('mjx-merror').length")
        assert merrors == 0, f"{page}: {merrors} MathJax errors (bad TeX)"
    broken_images = tab.evaluate(
        "Array.from(document.images).filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src)"
    )
    assert not broken_images, f"{page}: images that did not load: {broken_images}"
    if page in SCREENSHOT_PAGES:
        SHOTS.mkdir(parents=True, exist_ok=True)
        tab.screenshot(path=str(SHOTS / (page.replace("/", "_").replace(".html", ".png"))), full_page=True)
    tab.close()
    assert not errors, f"{page}: JavaScript errors: {errors}"
    assert not failed, f"{page}: requests that failed: {failed}"


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
