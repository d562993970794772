#!/usr/bin/env bash
# The Python SDK's checks: ruff, mypy --strict and pytest (against a relay the suite starts on
# PGlite), then a wheel and an sdist, and the wheel installed into a fresh virtual environment.
set -euo pipefail
cd "$(dirname "$0")/.."
SDK=sdk-py
PYTHON=${PYTHON:-python3}

if [ ! -x "$SDK/.venv/bin/python" ]; then
  echo "python: creating $SDK/.venv"
  "$PYTHON" -m venv "$SDK/.venv"
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
DIST=$(mktemp -d)
CHECK_VENV=$(mktemp -d)
trap 'rm -rf "$DIST" "$CHECK_VENV"' EXIT
"$VENV_PY" -m build --outdir "$DIST" "$SDK" >/dev/null
ls "$DIST"
echo "python: installing the wheel into a fresh virtual environment"
"$PYTHON" -m venv "$CHECK_VENV"
"$CHECK_VENV/bin/python" -m pip install -q --disable-pip-version-check "$DIST"/*.whl
"$CHECK_VENV/bin/python" -c '
import agent_dispatch as a
client = a.ADMPClientSync(relay_url="http://localhost:3030", agent_id="smoke", api_key="k")
client.close()
print("python: imported agent_dispatch", a.__version__, "from", a.__file__)
'
