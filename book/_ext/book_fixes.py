"""Small Sphinx fixes for the book, so that pages load without JavaScript errors.

* sphinx-thebe 0.3.1 registers its inline configuration script once per read pass; with
  Jupyter Book that can happen twice, and the second ``const THEBE_JS_URL`` is a
  SyntaxError in the browser. Keep each script once.
* pydata-sphinx-theme logs an error when the page has no default colour mode; give it one.
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


def setup(app):
    app.connect("config-inited", _default_mode)
    # early: 'html-page-context' stops at the first handler that returns a template
    app.connect("html-page-context", _dedupe_scripts, priority=100)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
