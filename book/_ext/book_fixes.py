"""Small Sphinx fixes for the book, so that pages load without JavaScript errors.

* sphinx-thebe 0.3.1 registers its inline configuration script once per read pass; with
  Jupyter Book that can happen twice, and the second ``const THEBE_JS_URL`` is a
  SyntaxError in the browser. Keep each script once.
* pydata-sphinx-theme logs an error when the page has no default colour mode; give it one.
* sphinx-exercise gives every exercise and solution the same HTML id: numbered apart.
* The lecture one click away: "chapter N" in the prose links to chapter N, every step id
  (S24, H1, X10.2, ...) to its row in the index of steps (``{step-index}``, book/steps.md),
  and every lecture timestamp (mm:ss) into the video when ``lecture_url`` is set.
* The prose's numbers: ``{eval}`name``` shows the glue record ``name`` of the notebook (its
  stored text, ``gmmderive.book.glue``), so that one source reads right in the HTML book (the
  stored outputs, no kernel) and in JupyterLab with jupyterlab-myst (which evaluates ``name``).
  myst-nb's own ``eval`` role needs a kernel at build time (``execution_mode: inline``).
* A reference to another chapter's equation is a Markdown link, ``[(11.3)](11_means.ipynb#eq-mu-update)``:
  jupyterlab-myst, which sees one notebook, cannot resolve ``{eq}`` across notebooks, while a
  link reads right (and opens the chapter) there and in Colab. Here it becomes ``{eq}`` again
  (Sphinx's number and anchor); a link to a section label of another page, ``{ref}``.
* The Colab button opens the chapter's plain-Markdown copy (colab/, tools/colab_notebooks.py):
  Colab renders no MyST.
* Accessibility (axe-core, tests/browser): the animation's image gets the alt text of its
  cell and its slider a label; the bibliography, the hidden-cell toggles and the theme's
  search and colour-mode buttons, sidebar title and index tables get valid ARIA (see
  ``_setup_a11y``).
"""

from __future__ import annotations


def _dedupe_scripts(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, unique = set(), []
    for js in scripts:
        # the same inline script comes once with filename None and once with ""
        key = (getattr(js, "filename", None) or "", repr(sorted(getattr(js, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            unique.append(js)
    scripts[:] = unique


def _default_mode(app, config):
    config.html_context.setdefault("default_mode", "light")


def _static(app, config):
    # the book's own CSS (book/_ext/static/book.css): MathJax line breaks, no clipped displays
    from pathlib import Path

    config.html_static_path.append(str(Path(__file__).parent / "static"))
    app.add_css_file("book.css")


def _eval_role():
    """``{eval}`name```: the text of the notebook's glue record ``name`` (myst-nb's store)."""
    from ast import literal_eval

    from myst_nb.core.variables import RetrievalError
    from myst_nb.ext.glue.utils import glue_warning, retrieve_glue_data
    from myst_nb.ext.utils import RoleBase

    class EvalFromGlue(RoleBase):
        def run(self):
            try:
                data = retrieve_glue_data(self.document, self.text)
                text = literal_eval(data.data["text/plain"])
            except (RetrievalError, KeyError, ValueError, SyntaxError) as exc:
                return [], [glue_warning(f"{{eval}}`{self.text}`: no glue record ({exc})", self.document, self.line)]
            return [nodes.inline(text, str(text), classes=["pasted-text"])], []

    return EvalFromGlue()


def _links_to_labels(app, doctree):
    """``[text](NN_x.ipynb#eq-label)`` -> ``{eq}`eq-label```; ``[text](page.md#label)`` -> ``{ref}``."""
    for node in list(doctree.findall(addnodes.pending_xref)):
        target = node.get("reftargetid")
        if node.get("reftype") != "myst" or node.get("refdomain") != "doc" or not target:
            continue
        if target.startswith("eq-"):
            new = addnodes.pending_xref(node.rawsource, refdomain="math", reftype="eq", reftarget=target,
                                        refdoc=node.get("refdoc"), refexplicit=False, refwarn=True)
            new += nodes.literal(target, target)
        else:
            new = addnodes.pending_xref(node.rawsource, *node.children, refdomain="std", reftype="ref",
                                        reftarget=target, refdoc=node.get("refdoc"), refexplicit=True,
                                        refwarn=True)
        new.source, new.line = node.source, node.line
        node.replace_self(new)


def _colab_button(app, pagename, templatename, context, doctree):
    """The Colab launch button opens colab/<chapter>.ipynb, MyST lowered to Markdown + LaTeX."""
    def walk(items):
        for item in items or []:
            if isinstance(item, dict):
                if item.get("text") == "Colab" and item.get("url"):
                    item["url"] = re.sub(r"/book/(\d\d_\w+\.ipynb)$", r"/colab/\1", item["url"])
                walk(item.get("buttons"))

    walk(context.get("header_buttons"))


def setup(app):
    app.add_role("eval", _eval_role(), override=True)
    # after sphinx-book-theme's launch buttons (priority 501)
    app.connect("html-page-context", _colab_button, priority=502)
    app.connect("doctree-read", _links_to_labels)
    _setup_links(app)
    _setup_a11y(app)
    app.connect("config-inited", _default_mode)
    app.connect("config-inited", _static)
    # early: 'html-page-context' stops at the first handler that returns a template
    app.connect("html-page-context", _dedupe_scripts, priority=100)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


# --------------------------------------------------------------------------------------
# The lecture one click away: "chapter N", step ids and lecture timestamps become links.
# The notebooks stay plain Markdown (they read the same in JupyterLab and Colab); the HTML
# gets the links. The steps come from gmmderive.symbolic, the one place that defines them.
# --------------------------------------------------------------------------------------

import re  # noqa: E402

from docutils import nodes  # noqa: E402
from docutils.parsers.rst import Directive  # noqa: E402
from sphinx import addnodes  # noqa: E402

STEPS_DOC = "book/steps"
_SKIP = (nodes.literal, nodes.literal_block, nodes.math, nodes.math_block, nodes.reference, nodes.raw,
         nodes.title, nodes.target, nodes.FixedTextElement)
_CHAPTER = re.compile(r"\b([Cc]hapters?)(\s+)(\d{1,2}(?:(?:,\s*|\s+and\s+|\s*[–-]\s*|\s+to\s+|\s+or\s+)\d{1,2})*)\b")
_NUMBER = re.compile(r"\d{1,2}")
_TIME = re.compile(r"\b(\d{2}):(\d{2})\b")


def step_anchor(step_id: str) -> str:
    return "step-" + step_id.lower().replace(".", "-")


def _steps():
    from gmmderive.symbolic import ALL_STEPS

    return ALL_STEPS


def _chapter_docs(env) -> dict[int, str]:
    found = {}
    for doc in env.found_docs:
        m = re.fullmatch(r"book/(\d{2})_\w+", doc)
        if m:
            found[int(m.group(1))] = doc
    return found


def _step_pattern():
    ids = sorted((s.id for s in _steps()), key=len, reverse=True)
    return re.compile(r"(?<![\w.])(" + "|".join(re.escape(i) for i in ids) + r")(?![\w]|\.\d)")


def _link(app, fromdoc, todoc, anchor, text):
    uri = app.builder.get_relative_uri(fromdoc, todoc) + (f"#{anchor}" if anchor else "")
    return nodes.reference(text, text, internal=True, refuri=uri)


def _replace(text_node, pieces):
    parent = text_node.parent
    parent.replace(text_node, pieces)


def _linkify(app, doctree, docname):
    if app.builder.format != "html":
        return
    chapters = _chapter_docs(app.env)
    steps = _step_pattern()
    lecture_url = app.config.lecture_url
    for text in list(doctree.findall(nodes.Text)):
        if any(isinstance(a, _SKIP) for a in _ancestors(text)):
            continue
        s = str(text)
        spans = []  # (start, end, node)
        for m in _CHAPTER.finditer(s):
            base = m.start(3)
            for n in _NUMBER.finditer(m.group(3)):
                doc = chapters.get(int(n.group()))
                if doc:
                    spans.append((base + n.start(), base + n.end(), _link(app, docname, doc, "", n.group())))
        for m in steps.finditer(s):
            spans.append((m.start(), m.end(), _link(app, docname, STEPS_DOC, step_anchor(m.group()), m.group())))
        if lecture_url:
            for m in _TIME.finditer(s):
                seconds = 60 * int(m.group(1)) + int(m.group(2))
                sep = "&" if "?" in lecture_url else "?"
                ref = nodes.reference(m.group(), m.group(), refuri=f"{lecture_url}{sep}t={seconds}s",
                                      classes=["lecture-time"])
                spans.append((m.start(), m.end(), ref))
        if not spans:
            continue
        spans.sort(key=lambda t: t[0])
        pieces, at = [], 0
        for start, end, node in spans:
            if start < at:
                continue  # overlapping matches: keep the first
            if start > at:
                pieces.append(nodes.Text(s[at:start]))
            pieces.append(node)
            at = end
        if at < len(s):
            pieces.append(nodes.Text(s[at:]))
        _replace(text, pieces)


def _ancestors(node):
    node = node.parent
    while node is not None:
        yield node
        node = node.parent


def _step_latex(step) -> str:
    """The step's equation in LaTeX, as its proof prints it ("" if the kernel has no printer)."""
    printer = getattr(step, "_equation_latex", None)
    try:
        return printer() if printer else ""
    except Exception:  # noqa: BLE001 - an index row without its formula, never a failed build
        return ""


class StepIndex(Directive):
    """``{step-index}``: every checked step, with an anchor per step that the prose links to."""

    has_content = False

    def run(self):
        env = self.state.document.settings.env
        table = nodes.table(classes=["step-index"])
        group = nodes.tgroup(cols=4)
        table += group
        for width in (8, 12, 64, 16):
            group += nodes.colspec(colwidth=width)
        head = nodes.thead()
        group += head
        head += self._row(["step", "chapter", "what it proves", "kind"])
        body = nodes.tbody()
        group += body
        for s in _steps():
            row = self._row([s.id, f"{s.chapter}", s.name, s.kind_label])
            row["ids"].append(step_anchor(s.id))
            # what it proves: its name, and the equation itself (as the proofs show it)
            formula = _step_latex(s)
            if formula:
                row.children[2] += nodes.paragraph("", "", nodes.math(formula, formula))
            # the chapter cell: a cross-reference to the chapter's document
            doc = _chapter_docs(env).get(s.chapter)
            if doc:
                cell_para = row.children[1].children[0]
                cell_para.children = []
                ref = addnodes.pending_xref("", refdomain="std", reftype="doc", reftarget="/" + doc,
                                            refexplicit=True, refdoc=env.docname)
                ref += nodes.inline("", f"chapter {s.chapter}")
                cell_para += ref
            body += row
        env.note_dependency(__file__)
        return [table]

    @staticmethod
    def _row(cells):
        row = nodes.row()
        for c in cells:
            entry = nodes.entry()
            entry += nodes.paragraph(text=c)
            row += entry
        return row


def _dedupe_ids(app, doctree, docname):
    # sphinx-exercise gives every exercise and solution the same section id: make them unique.
    seen = {}
    for node in doctree.findall(nodes.section):
        for k, ident in enumerate(node["ids"]):
            if ident in ("exercise-content", "solution-content"):
                seen[ident] = seen.get(ident, 0) + 1
                node["ids"][k] = f"{ident}-{seen[ident]}"


def _setup_links(app):
    app.add_config_value("lecture_url", "", "html")
    app.add_directive("step-index", StepIndex)
    app.connect("doctree-resolved", _dedupe_ids)
    app.connect("doctree-resolved", _linkify)


# --------------------------------------------------------------------------------------
# Accessibility: what axe-core (tests/browser) finds in the pages that is not the
# notebooks' own markup. Figures take their alt text from their cell's metadata
# (``mystnb: image: alt``, read by myst-nb); the rest is fixed here.
# --------------------------------------------------------------------------------------

import html as _html  # noqa: E402

ANIMATION_SLIDER_LABEL = "Animation frame"


def _cell_alt(node) -> str | None:
    for a in _ancestors(node):
        meta = a.get("cell_metadata") if isinstance(a, nodes.Element) else None
        if meta is not None:
            alt = meta.get("mystnb", {}).get("image", {}).get("alt")
            return str(alt) if alt else None
    return None


def _label_animations(app, doctree, docname):
    # matplotlib's JavaScript animation (HTML output): an <img> without alt and a range
    # <input> without a label. The alt is the cell's (as for its PNG figures).
    for raw in list(doctree.findall(nodes.raw)):
        text = raw.astext()
        if "<img id=\"_anim_img" not in text:
            continue
        alt = _cell_alt(raw)
        if alt:
            attr = 'alt="' + _html.escape(alt) + '"'
            text = re.sub(r'<img id="(_anim_img\w+)"', lambda m, attr=attr: f'<img id="{m.group(1)}" {attr}', text)
        text = re.sub(r'<input id="(_anim_slider\w+)"', rf'<input id="\1" aria-label="{ANIMATION_SLIDER_LABEL}"', text)
        raw.parent.replace(raw, nodes.raw(text, text, format=raw.get("format", "html"), classes=raw["classes"]))


def _fix_body(app, pagename, templatename, context, doctree):
    body = context.get("body")
    if not body:
        return
    # docutils 0.21 marks citations role="doc-biblioentry" (deprecated in DPUB-ARIA 1.1) inside
    # role="list", which then has no list items: make them list items.
    body = body.replace('role="doc-biblioentry"', 'role="listitem"')
    # myst-nb's hidden-cell toggle is named "Toggle hidden content" while it shows "Show code
    # cell source": let the visible text name it.
    body = body.replace('<summary aria-label="Toggle hidden content">', "<summary>")
    context["body"] = body


# In the browser, for the theme's own markup (pydata-sphinx-theme 0.17 templates).
_A11Y_JS = """
function gmmderiveA11y() {
  const set = (el, name, value) => { if (el.getAttribute(name) !== value) el.setAttribute(name, value); };
  const unset = (el, ...names) => names.forEach((n) => { if (el.hasAttribute(n)) el.removeAttribute(n); });
  // search fields show "Search Ctrl+K": that text names them, not aria-label="Search"
  document.querySelectorAll("button.search-button-field").forEach((b) => unset(b, "aria-label"));
  // icons are decoration inside buttons that have a name (Color mode, Search, ...); Font Awesome
  // turns <i title="Light"> into <svg role="img"><title>Light</title>, before or after this runs
  document.querySelectorAll(".pst-navbar-icon :is(i, svg, .fa-solid), .search-button-field :is(i, svg)")
    .forEach((i) => {
      set(i, "aria-hidden", "true");
      unset(i, "title", "role", "aria-labelledby");
      i.querySelectorAll("title").forEach((t) => t.remove());
    });
  // the book's title above the sidebar's table of contents lies outside every landmark
  document.querySelectorAll(".sidebar-primary-item:has(> .navbar-brand)").forEach((d) => {
    set(d, "role", "navigation");
    set(d, "aria-label", "Home");
  });
  // the domain index pages lay out entries in a table without header cells
  document.querySelectorAll("table.indextable").forEach((t) => set(t, "role", "presentation"));
}
document.addEventListener("DOMContentLoaded", () => {
  gmmderiveA11y();
  // Font Awesome and the theme rewrite these elements later (when exactly varies): again after
  // each change (the fix changes nothing the second time, so this settles)
  let queued = false;
  new MutationObserver(() => {
    if (!queued) {
      queued = true;
      requestAnimationFrame(() => { queued = false; gmmderiveA11y(); });
    }
  }).observe(document.body, {childList: true, subtree: true, attributes: true,
                             attributeFilter: ["aria-label", "aria-hidden", "aria-labelledby", "role", "title"]});
});
"""


def _a11y_js(app, config):
    app.add_js_file(None, body=_A11Y_JS)


def _setup_a11y(app):
    app.connect("doctree-resolved", _label_animations)
    app.connect("html-page-context", _fix_body)
    app.connect("config-inited", _a11y_js)
