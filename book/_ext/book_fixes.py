"""Small Sphinx fixes for the book, so that pages load without JavaScript errors.

* sphinx-thebe 0.3.1 registers its inline configuration script once per read pass; with
  Jupyter Book that can happen twice, and the second ``const THEBE_JS_URL`` is a
  SyntaxError in the browser. Keep each script once.
* pydata-sphinx-theme logs an error when the page has no default colour mode; give it one.
* sphinx-exercise gives every exercise and solution the same HTML id: numbered apart.
* The lecture one click away: "chapter N" in the prose links to chapter N, every step id
  (S24, H1, X10.2, ...) to its row in the index of steps (``{step-index}``, book/steps.md),
  and every lecture timestamp (mm:ss) into the video when ``lecture_url`` is set.
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


def setup(app):
    _setup_links(app)
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


class StepIndex(Directive):
    """``{step-index}``: every checked step, with an anchor per step that the prose links to."""

    has_content = False

    def run(self):
        env = self.state.document.settings.env
        table = nodes.table(classes=["step-index"])
        group = nodes.tgroup(cols=4)
        table += group
        for width in (8, 30, 52, 14):
            group += nodes.colspec(colwidth=width)
        head = nodes.thead()
        group += head
        head += self._row(["step", "chapter", "what it proves", "kind"])
        body = nodes.tbody()
        group += body
        for s in _steps():
            row = self._row([s.id, f"{s.chapter}", s.name, s.kind_label])
            row["ids"].append(step_anchor(s.id))
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
