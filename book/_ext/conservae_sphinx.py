"""Sphinx tweaks for the conservae book, so that every page works offline and without errors.

* Thebe (live code in the page) is not used by this book — its launch button is off — yet
  ``sphinx_thebe``, which Jupyter Book always loads, adds its configuration script twice per page
  (the second ``const THEBE_JS_URL`` is a console error) and a reference to unpkg.com. When
  ``launch_buttons.thebe`` is not on, its scripts and stylesheet are dropped from every page.
* pydata-sphinx-theme writes ``dataset.mode = localStorage.getItem("mode") || "{{ default_mode }}"``
  with an empty default under sphinx-book-theme, which logs "Got invalid theme mode" on a reader's
  first visit; the page's ``default_mode`` is set to ``auto`` when it is empty.
* The Colab entry of the launch (rocket) menu is labelled "Open in Colab", and the rocket's tooltip
  says that it opens the page's notebook.
"""
from __future__ import annotations


def _thebe_enabled(app) -> bool:
    launch = (app.config.html_theme_options or {}).get("launch_buttons", {}) or {}
    return bool(launch.get("thebe"))


def _label_colab(context):
    for group in context.get("header_buttons") or []:
        if not isinstance(group, dict) or group.get("label") != "launch-buttons":
            continue
        for button in group.get("buttons", []):
            if "colab.research.google.com" in str(button.get("url", "")):
                button["text"] = "Open in Colab"
                button["tooltip"] = "Open this page's notebook in Google Colab"
                group["tooltip"] = "Run this page: open its notebook in Colab"


def _page_context(app, pagename, templatename, context, doctree):
    if not context.get("default_mode"):
        context["default_mode"] = "auto"
    _label_colab(context)
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
