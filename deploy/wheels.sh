#!/usr/bin/env bash
# The connector as wheels, and an install from them that needs no package index.
#
#   deploy/wheels.sh build DIR [BUILD_OPTION]...
#       builds the sdist and wheel of the core, every built-in plugin and the
#       meta-distribution billing-connector-all into DIR (each wheel from its sdist,
#       which proves the sdist complete), then adds the wheels of everything they
#       depend on, from the package index pip is set up with. BUILD_OPTIONs go to
#       `python -m build` (e.g. --no-isolation: use this Python's setuptools).
#   deploy/wheels.sh install DIR VENV
#       makes the venv VENV (if it is not one yet) and installs billing-connector-all
#       into it from DIR alone: pip install --no-index --find-links DIR.
#
# The Dockerfile's stages run these two, and so does tests/deploy/test_distributions.py.
# PYTHON names the Python to build with and to make the venv with [python3].
set -euo pipefail

python="${PYTHON:-python3}"
src="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

usage() {
  echo "usage: wheels.sh build DIR [BUILD_OPTION]... | wheels.sh install DIR VENV" >&2
  exit 2
}

[[ $# -ge 2 ]] || usage
command="$1"
dir="$(mkdir -p "$2" && cd "$2" && pwd)"
shift 2

case "$command" in
  build)
    for project in "$src" "$src"/plugins/*/*/ "$src/deploy/billing-connector-all"; do
      "$python" -m build --outdir "$dir" "$@" "$project"
    done
    # The built wheels by path, so that their own names can only mean these files, at
    # the versions the tests passed with. pip wheel rather than pip download: a
    # dependency published only as an sdist is built here once, and the install needs
    # no compiler.
    "$python" -m pip wheel --wheel-dir "$dir" --constraint "$src/constraints.txt" "$dir"/*.whl
    ;;
  install)
    [[ $# -eq 1 ]] || usage
    venv="$1"
    [[ -x "$venv/bin/python" ]] || "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install --no-cache-dir --no-index --find-links "$dir" \
      billing-connector-all
    ;;
  *) usage ;;
esac
