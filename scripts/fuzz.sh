#!/usr/bin/env bash
# `npm run fuzz`: schemathesis against a live relay's /openapi.json (on in-memory PGlite), with
# scripts/fuzz/hooks.py turning every other case into one that should succeed (real credentials,
# fresh envelopes, fresh leases), so SEND, PULL, ACK, NACK, REPLY and broadcast are fuzzed past
# their validation too. Fails on any 5xx and on any response the document does not describe.
# ADMP_FUZZ_EXAMPLES (default 5) bounds the cases per operation, and so the run's length.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
: "${ADMP_VENV_PIP:=auto}"
WORK=$(mktemp -d)
RELAY_PID=
cleanup() {
  [ -n "$RELAY_PID" ] && kill "$RELAY_PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
source scripts/python-venv.sh

# Kept between runs; made again when the pinned version changes.
VENV=.fuzz/venv
if ! cmp -s scripts/fuzz/requirements.txt "$VENV/requirements.txt" 2>/dev/null; then
  echo "fuzz: installing $(cat scripts/fuzz/requirements.txt) into $VENV"
  rm -rf "$VENV"
  make_venv "$VENV"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r scripts/fuzz/requirements.txt
  cp scripts/fuzz/requirements.txt "$VENV/requirements.txt"
fi

PORT=$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
export ADMP_FUZZ_URL="http://127.0.0.1:$PORT" ADMP_FUZZ_ADMIN_KEY="fuzz-admin-key-0123456789"
PORT=$PORT API_KEY=$ADMP_FUZZ_ADMIN_KEY ADMP_DATA_DIR=memory:// LOG_LEVEL=error \
  node --import tsx src/entry/node.ts &
RELAY_PID=$!
for _ in $(seq 1 600); do
  curl -fs "$ADMP_FUZZ_URL/health" >/dev/null 2>&1 && break
  kill -0 "$RELAY_PID" 2>/dev/null || { echo "fuzz: the relay exited before it was healthy" >&2; exit 1; }
  sleep 0.1
done

echo "fuzz: schemathesis against $ADMP_FUZZ_URL/openapi.json"
PYTHONPATH=scripts/fuzz SCHEMATHESIS_HOOKS=hooks "$VENV/bin/schemathesis" --no-color run "$ADMP_FUZZ_URL/openapi.json" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance \
  --max-examples "${ADMP_FUZZ_EXAMPLES:-5}" \
  --phases examples,coverage,fuzzing \
  --workers 1 \
  --request-timeout 30 \
  --suppress-health-check all
