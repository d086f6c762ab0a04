"""Tools for building the book (not used by the chapters): vendoring MathJax for offline reading.

The book renders its math with MathJax 3 served from the site itself, so that a reader with no
network (and the browser test, which forbids requests leaving the site) sees rendered math.
``python -m conservae_lib.tooling.booktools mathjax`` installs ``mathjax@3`` from npm into a temporary
folder and copies only what the CHTML output needs — ``tex-mml-chtml.js``, the woff-v2 fonts and
the TeX extensions (about 2 MB) — to :data:`MATHJAX_DIR`. That folder lies under a directory listed
in ``html_extra_path`` (not ``html_static_path``: Jupyter Book adds a ``<script>`` tag for every
``.js`` file under the static path, about 70 per page), and ``mathjax_path`` in ``_config.yml``
points at the copied script. MathJax 4 is refused: it fetches its fonts from a CDN.
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from .notebook_files import REPO_ROOT, read_config, repository
#: ``html_extra_path`` entry (relative to ``book/``); its contents land at the site's root.
EXTRA_DIR = REPO_ROOT / "book" / "_vendor"
#: Where MathJax goes: served as ``_static/mathjax/`` (``mathjax_path: mathjax/tex-mml-chtml.js``).
MATHJAX_DIR = EXTRA_DIR / "_static" / "mathjax"
#: The parts of the npm package (under ``es5/``) that the CHTML output needs.
MATHJAX_PARTS = ("tex-mml-chtml.js", "output/chtml/fonts/woff-v2", "input/tex/extensions")
MATHJAX_SPEC = "mathjax@3"

__all__ = ["EXTRA_DIR", "MATHJAX_DIR", "MATHJAX_PARTS", "vendor_mathjax", "copy_mathjax", "mathjax_ready",
           "BuildError", "build_book", "toc_docnames", "colab_url"]


def mathjax_ready(dest: Path = MATHJAX_DIR) -> bool:
    """True when every part MathJax needs is in ``dest`` (and it is version 3)."""
    version = dest / "VERSION"
    return (all((dest / p).exists() for p in MATHJAX_PARTS)
            and version.exists() and version.read_text().strip().startswith("3."))


def copy_mathjax(package: Path, dest: Path = MATHJAX_DIR) -> Path:
    """Copy the needed parts of an unpacked ``mathjax`` npm package to ``dest`` (replaced)."""
    meta = json.loads((package / "package.json").read_text())
    version = str(meta.get("version", ""))
    if not version.startswith("3."):
        raise RuntimeError(f"MathJax {version or '?'} found in {package}, but the book needs MathJax 3 "
                           "(MathJax 4 loads its fonts from a CDN, which breaks offline reading).")
    es5 = package / "es5"
    missing = [p for p in MATHJAX_PARTS if not (es5 / p).exists()]
    if missing:
        raise RuntimeError(f"the MathJax package in {package} lacks {', '.join(missing)}.")
    tmp = dest.with_name(dest.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    for part in MATHJAX_PARTS:
        src, out = es5 / part, tmp / part
        out.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, out)
        else:
            shutil.copy2(src, out)
    (tmp / "VERSION").write_text(version + "\n")
    shutil.copy2(package / "LICENSE", tmp / "LICENSE") if (package / "LICENSE").exists() else None
    shutil.rmtree(dest, ignore_errors=True)
    tmp.rename(dest)
    return dest


def vendor_mathjax(dest: Path = MATHJAX_DIR, npm: str = "npm", force: bool = False) -> Path:
    """Install ``mathjax@3`` with npm into a temporary folder and copy what the book needs."""
    if mathjax_ready(dest) and not force:
        return dest
    if shutil.which(npm) is None:
        raise RuntimeError(f"'{npm}' was not found: install Node.js/npm (e.g. `apt-get install -y npm`) "
                           "to vendor MathJax for the book, or copy mathjax@3 by hand (see conservae_lib/tooling/booktools.py).")
    with tempfile.TemporaryDirectory(prefix="conservae-mathjax-") as tmp:
        cmd = [npm, "install", "--silent", "--no-audit", "--no-fund", "--no-save", "--prefix", tmp, MATHJAX_SPEC]
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"`{' '.join(cmd)}` failed ({done.returncode}): {done.stderr.strip()[-500:]}")
        return copy_mathjax(Path(tmp) / "node_modules" / "mathjax", dest)


class BuildError(RuntimeError):
    """``jupyter-book build`` failed or warned (the message ends with its output)."""


def toc_docnames(root: Path = REPO_ROOT) -> list[str]:
    """Every ``file:`` of ``_toc.yml`` (root first), through parts and sections, in order."""
    import yaml

    toc = yaml.safe_load((root / "_toc.yml").read_text())
    names = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                names.append(entry["file"])
            walk(entry.get("sections"))
            walk(entry.get("chapters"))

    walk(toc.get("parts"))
    walk(toc.get("chapters"))
    walk(toc.get("sections"))
    return names


def colab_url(docname: str, root: Path = REPO_ROOT) -> str:
    """The Colab address of a notebook page, from ``repository`` in ``_config.yml``
    (:func:`conservae_lib.tooling.notebook_files.repository`, the one place the URL is written).

    ``https://colab.research.google.com/github/<org>/<repo>/blob/<branch>/<path_to_book>/<docname>.ipynb``
    """
    config = read_config(root)
    url, branch = repository(root)
    slug = url.split("github.com/", 1)[-1]
    base = config.get("launch_buttons", {}).get("colab_url", "https://colab.research.google.com").rstrip("/")
    book = config["repository"].get("path_to_book", "book").strip("/")
    return f"{base}/github/{slug}/blob/{branch}/{book}/{docname}.ipynb"


def build_book(dest: Path, root: Path = REPO_ROOT, jupyter_book: str | None = None) -> Path:
    """Build the book from a copy of ``root``'s book sources in ``dest``; return its ``_build/html``.

    Runs ``jupyter-book build book -W -n --keep-going`` (what CI and the README run) on the copy,
    so a build for the tests never touches the working tree's ``_build``. Raises
    :class:`BuildError` with the build's output if it fails or warns.
    """
    if not mathjax_ready(root / MATHJAX_DIR.relative_to(REPO_ROOT)):
        raise BuildError("MathJax is not vendored (book/_vendor/_static/mathjax is missing): run `make mathjax`.")
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copytree(root / "book", dest / "book", symlinks=True, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("_build", ".ipynb_checkpoints", "__pycache__"))
    for name in ("_config.yml", "_toc.yml"):
        shutil.copy2(root / name, dest / name)
    exe = jupyter_book or str(Path(sys.executable).with_name("jupyter-book"))
    if not Path(exe).exists():
        exe = shutil.which("jupyter-book") or exe
    cmd = [exe, "build", "book", "-W", "-n", "--keep-going"]
    done = subprocess.run(cmd, cwd=dest, capture_output=True, text=True)
    html = dest / "_build" / "html"
    if done.returncode != 0 or not (html / "index.html").exists():
        out = (done.stdout + done.stderr)[-6000:]
        raise BuildError(f"`{' '.join(cmd[1:])}` failed (exit {done.returncode}) in a copy of the book:\n{out}")
    return html


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m conservae_lib.tooling.booktools", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("mathjax", help=f"vendor MathJax 3 into {MATHJAX_DIR.relative_to(REPO_ROOT)}")
    p.add_argument("--force", action="store_true", help="reinstall even if present")
    args = parser.parse_args(argv)
    try:
        dest = vendor_mathjax(force=args.force)
    except RuntimeError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    size = sum(f.stat().st_size for f in dest.rglob("*") if f.is_file())
    print(f"MathJax {(dest / 'VERSION').read_text().strip()} in {dest.relative_to(REPO_ROOT)} ({size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
