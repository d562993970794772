# Sourced by the scripts that need a Python virtual environment (test-python.sh, fuzz.sh):
# `make_venv DIR` makes one with pip in it. Expects PYTHON, WORK (a scratch directory) and
# ADMP_VENV_PIP (auto: ensurepip where it works, else pip's wheel from PyPI; pypi: always PyPI).

# The pip wheel from PyPI, fetched once per run; prints its path.
pip_wheel() {
  local found
  found=$(find "$WORK/pip" -name 'pip-*.whl' 2>/dev/null | head -n 1)
  if [ -n "$found" ]; then echo "$found"; return; fi
  mkdir -p "$WORK/pip"
  "$PYTHON" - "$WORK/pip" <<'PY'
import hashlib, json, os, sys, urllib.parse, urllib.request

index = "https://pypi.org/pypi/pip/json"
with urllib.request.urlopen(index, timeout=60) as r:
    release = json.load(r)
wheel = next(f for f in release["urls"] if f["packagetype"] == "bdist_wheel")
# Mirrors answer with file URLs relative to the JSON document.
with urllib.request.urlopen(urllib.parse.urljoin(index, wheel["url"]), timeout=120) as r:
    data = r.read()
if hashlib.sha256(data).hexdigest() != wheel["digests"]["sha256"]:
    sys.exit(f"python: {wheel['filename']} does not match the sha256 PyPI publishes")
path = os.path.join(sys.argv[1], wheel["filename"])
with open(path, "wb") as f:
    f.write(data)
print(path)
PY
}

# A virtual environment with pip in it at $1.
make_venv() {
  local dir=$1 out
  if [ "$ADMP_VENV_PIP" = auto ]; then
    if out=$("$PYTHON" -m venv "$dir" 2>&1); then return; fi
    echo "python: \`$PYTHON -m venv\` failed, so pip comes from PyPI instead of ensurepip:"
    echo "$out" | sed -n '1,3s/^/  | /p'
  fi
  rm -rf "$dir"
  "$PYTHON" -m venv --without-pip "$dir"
  local wheel
  wheel=$(pip_wheel)
  echo "python: installing $(basename "$wheel") into $dir"
  # A wheel is a zip that Python can run pip from, to install that same wheel.
  "$dir/bin/python" "$wheel/pip" install -q --no-index --disable-pip-version-check "$wheel"
}
