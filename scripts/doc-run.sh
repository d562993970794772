# Runs a page's shell blocks literally, as a reader pasting them into one terminal would; sourced by
# scripts/quickstart.sh (docs/quickstart.md) and scripts/walkthrough.sh (the README's walkthrough).
#
# doc_blocks DOC DIR [SECTION] splits DOC's ```sh blocks (only those under the heading `## SECTION`,
# when given) into DIR/block-NN.sh, in order. A block right after <!-- quickstart: background --> also
# gets a block-NN.sh.bg marker; every whole-line `# ` comment in a block, which the pages use to show
# what the commands print, goes to block-NN.sh.expected.
#
# doc_script WORK BLOCK... prints one bash script that runs the given block files in order, in one
# shell (so the variables one block sets are there for the next), from the repository root. A block
# with a .bg marker runs in the background in a process group of its own, and is stopped at the end.
# With DOC_CHECK_OUTPUT=1, the output of each block that has an .expected file must match it line for
# line, `…` standing for any text (ids, keys and times differ on every run).
#
# doc_run WORK SCRIPT LABEL runs that script, its output also in WORK/output.log, and on failure shows
# the background process's output (WORK/server.log).

doc_blocks() {
  local doc=$1 dir=$2 section=${3:-}
  awk -v dir="$dir" -v section="$section" '
    /^## / { if (section != "") chosen = ($0 == "## " section) }
    section != "" && !chosen && !inside { next }
    /^<!-- quickstart: background -->$/ { background = 1; next }
    !inside && /^```(sh|bash)[[:space:]]*$/ { inside = 1; n++; file = sprintf("%s/block-%02d.sh", dir, n)
      printf "" > file; printf "" > (file ".expected"); if (background) { printf "" > (file ".bg") }
      background = 0; next }
    inside && /^```[[:space:]]*$/ { inside = 0; close(file); close(file ".expected"); next }
    inside && /^# / { print substr($0, 3) >> (file ".expected") }
    inside { print >> file; next }
    /[^[:space:]]/ { background = 0 }
  ' "$doc"
}

# True when every line of ACTUAL matches the same line of EXPECTED, `…` matching any text.
doc_expect() {
  local expected=$1 actual=$2 i pattern
  local -a want got
  mapfile -t want <"$expected"
  mapfile -t got <"$actual"
  if [ "${#want[@]}" -ne "${#got[@]}" ]; then
    echo "expected ${#want[@]} lines of output, got ${#got[@]}:" >&2
    diff <(printf '%s\n' "${want[@]}") <(printf '%s\n' "${got[@]}") >&2 || true
    return 1
  fi
  for i in "${!want[@]}"; do
    pattern=$(printf '%s' "${want[$i]}" | sed -e 's/[][\.*^$(){}+?|]/\\&/g' -e 's/…/.*/g')
    if ! [[ ${got[$i]} =~ ^${pattern}$ ]]; then
      printf 'output line %d:\n  expected: %s\n  got:      %s\n' "$((i + 1))" "${want[$i]}" "${got[$i]}" >&2
      return 1
    fi
  done
}

doc_script() {
  local work=$1 block name step=0
  shift
  echo 'set -euo pipefail'
  echo 'SERVER_PGID='
  echo 'stop_server() { if [ -n "$SERVER_PGID" ]; then kill -TERM -- "-$SERVER_PGID" 2>/dev/null || true; wait "$SERVER_PGID" 2>/dev/null || true; fi; }'
  echo 'trap stop_server EXIT'
  declare -f doc_expect
  for block in "$@"; do
    name=$(basename "$block" .sh)
    step=$((step + 1))
    if [ -e "$block.bg" ]; then
      echo "echo; echo \"step $step, $name (in the background): $(head -1 "$block")\""
      echo "set -m; ( $(cat "$block") ) > \"$work/server.log\" 2>&1 & SERVER_PGID=\$!; set +m"
    elif [ "${DOC_CHECK_OUTPUT:-0}" = 1 ] && [ -e "$block.expected" ]; then
      # In the same shell, so that its variables stay; its output is shown once the block is done.
      echo "echo; echo \"step $step, $name\""
      echo "set -x"
      echo "{"
      cat "$block"
      echo "} > \"$work/step-$step.out\""
      echo "{ set +x; } 2>/dev/null"
      echo "cat \"$work/step-$step.out\"; [ -z \"\$(tail -c 1 \"$work/step-$step.out\")\" ] || echo"
      echo "doc_expect \"$block.expected\" \"$work/step-$step.out\""
    else
      echo "echo; echo \"step $step, $name\""
      echo "set -x"
      cat "$block"
      echo "{ set +x; } 2>/dev/null"
    fi
  done
}

doc_run() {
  local work=$1 script=$2 label=$3 status
  set +e
  bash "$script" 2>&1 | tee "$work/output.log"
  status=${PIPESTATUS[0]}
  set -e
  if [ "$status" -ne 0 ]; then
    local last
    last=$(ls -t "$work"/step-*.out 2>/dev/null | head -1)
    if [ -n "$last" ]; then
      echo "$label: the last checked block printed:" >&2
      sed 's/^/  /' "$last" >&2
    fi
    echo "$label: FAILED (exit $status); the background process's output:" >&2
    sed 's/^/  /' "$work/server.log" >&2 || true
  fi
  return "$status"
}
