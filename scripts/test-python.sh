#!/usr/bin/env bash
# The Python SDK's checks: ruff, mypy --strict and pytest (against a relay the suite starts on
# PGlite), then a wheel and an sdist, and the wheel installed into a fresh virtual environment.
#
# Needs Python 3.9+ and nothing else: where `python3 -m venv` cannot put pip into a virtual
# environment (Debian and Ubuntu without python3-venv have no ensurepip), the environment is made
# with --without-pip and pip is installed into it from its wheel on PyPI, checked against the
# sha256 PyPI publishes. ADMP_VENV_PIP=pypi takes that way even where ensurepip works (CI proves it).
set -euo pipefail
cd "$(dirname "$0")/.."
SDK=sdk-py
PYTHON=${PYTHON:-python3}
case "${ADMP_VENV_PIP:=auto}" in
  auto | pypi) ;;
  *) echo "python: ADMP_VENV_PIP must be auto or pypi, not '$ADMP_VENV_PIP'" >&2; exit 2 ;;
esac

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# make_venv (pip from ensurepip or from PyPI, as ADMP_VENV_PIP says), working in $WORK.
source scripts/python-venv.sh

if ! "$SDK/.venv/bin/python" -m pip --version >/dev/null 2>&1; then
  echo "python: creating $SDK/.venv (pip from: $([ "$ADMP_VENV_PIP" = pypi ] && echo PyPI || echo "ensurepip, else PyPI"))"
  make_venv "$SDK/.venv"
fi
VENV_PY="$SDK/.venv/bin/python"
echo "python: installing the SDK and its dev dependencies"
"$VENV_PY" -m pip install -q --disable-pip-version-check -e "$SDK[dev,signing,realtime]"

echo "python: ruff"
(cd "$SDK" && .venv/bin/ruff check . && .venv/bin/ruff format --check .)
echo "python: mypy --strict"
(cd "$SDK" && .venv/bin/mypy --strict)
echo "python: pytest (starts the relay on PGlite)"
(cd "$SDK" && .venv/bin/pytest -q)

echo "python: building the wheel and the sdist"
DIST="$WORK/dist"
CHECK_VENV="$WORK/check-venv"
"$VENV_PY" -m build --outdir "$DIST" "$SDK" >/dev/null
ls "$DIST"
echo "python: installing the wheel into a fresh virtual environment"
make_venv "$CHECK_VENV"
"$CHECK_VENV/bin/python" -m pip install -q --disable-pip-version-check "$DIST"/*.whl
"$CHECK_VENV/bin/python" -c '
import agent_dispatch as a
client = a.ADMPClientSync(relay_url="http://localhost:3030", agent_id="smoke", api_key="k")
client.close()
print("python: imported agent_dispatch", a.__version__, "from", a.__file__)
'
