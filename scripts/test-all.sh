#!/usr/bin/env bash
# `npm test`: both halves of the suite, the Node one (`npm run test:node`, every vitest project) and
# the Python one (`npm run test:python`), each run whatever the other did, so one red half never
# hides the other. Ends with one line per half and exits non-zero when either failed.
set -uo pipefail
cd "$(dirname "$0")/.."
# Ctrl-C stops the whole run, not just the half in progress.
trap 'exit 130' INT

# With ADMP_COVERAGE=1 (CI), the Node half is `npm run coverage` (every Node project but workerd,
# measured and printed) and then workerd on its own, which cannot be
# measured: the same tests, run once, with coverage printed.
node_half() {
  if [ "${ADMP_COVERAGE:-}" = 1 ]; then
    npm run -s coverage
    local measured=$?
    npm run -s test:node -- --project workerd
    local workerd=$?
    return $((measured || workerd))
  fi
  npm run -s test:node
}

declare -A status
for half in node python; do
  echo "== test:$half"
  SECONDS=0
  if [ "$half" = node ]; then node_half; else npm run -s test:python; fi
  code=$?
  if [ "$code" -eq 0 ]; then
    status[$half]="passed (${SECONDS} s)"
  else
    status[$half]="FAILED, exit $code (${SECONDS} s)"
  fi
done

echo
echo "== npm test summary"
echo "node   (vitest: unit, pglite, postgres, browser, sdk-js, workerd): ${status[node]}"
echo "python (ruff, mypy, pytest, wheel and sdist):                      ${status[python]}"
[[ ${status[node]} == passed* && ${status[python]} == passed* ]]
