"""Sphinx tweaks for the conservae book, so that every page works offline and without errors.

* Thebe (live code in the page) is not used by this book — its launch button is off — yet
  ``sphinx_thebe``, which Jupyter Book always loads, adds its configuration script twice per page
  (the second ``const THEBE_JS_URL`` is a console error) and a reference to unpkg.com. When
  ``launch_buttons.thebe`` is not on, its scripts and stylesheet are dropped from every page.
* pydata-sphinx-theme writes ``dataset.mode = localStorage.getItem("mode") || "{{ default_mode }}"``
  with an empty default under sphinx-book-theme, which logs "Got invalid theme mode" on a reader's
  first visit; the page's ``default_mode`` is set to ``auto`` when it is empty.
"""
from __future__ import annotations


def _thebe_enabled(app) -> bool:
    launch = (app.config.html_theme_options or {}).get("launch_buttons", {}) or {}
    return bool(launch.get("thebe"))


def _page_context(app, pagename, templatename, context, doctree):
    if not context.get("default_mode"):
        context["default_mode"] = "auto"
    if _thebe_enabled(app):
        return
    for key in ("script_files", "css_files"):
        files = context.get(key)
        if not files:
            continue
        kept = []
        for f in files:
            name = str(getattr(f, "filename", f) or "")
            body = str(getattr(f, "attributes", {}).get("body", "")) if hasattr(f, "attributes") else ""
            if "thebe" in name or "THEBE_JS_URL" in body:
                continue
            kept.append(f)
        context[key] = kept


def setup(app):
    app.connect("html-page-context", _page_context, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}
