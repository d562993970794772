#!/usr/bin/env bash
# Follows docs/quickstart.md literally: every ```sh block, in order, in one shell (so the variables
# one block sets are there for the next), from the repository root. The one block marked
# <!-- quickstart: background --> (npm start, which never returns) runs in the background, as the doc
# tells a reader to run it, and is stopped at the end. Fails if any command fails, if the final ACK
# did not print "acked", if the message's status is not "acked", or if it all took over 5 minutes.
#
# The relay's data goes to a fresh temporary ADMP_DATA_DIR instead of ./.admp/data, so that a
# checkout that already ran the quickstart (and so holds agents alice and bob) can run it again;
# on a clean checkout that is the only difference from a reader's terminal.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DOC="$ROOT/docs/quickstart.md"
LIMIT_SEC=300
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

if curl -s -o /dev/null --max-time 2 http://localhost:3030/health; then
  echo "quickstart: something already listens on port 3030; stop it first" >&2
  exit 1
fi

# Split the doc into numbered blocks: block-N.sh, and block-N.bg when it carries the marker.
awk -v dir="$WORK" '
  /^<!-- quickstart: background -->$/ { background = 1; next }
  !inside && /^```(sh|bash)[[:space:]]*$/ { inside = 1; n++; file = sprintf("%s/block-%02d.sh", dir, n)
    printf "" > file; if (background) { printf "" > (file ".bg") }; background = 0; next }
  inside && /^```[[:space:]]*$/ { inside = 0; close(file); next }
  inside { print >> file; next }
  /[^[:space:]]/ { background = 0 }
' "$DOC"

BLOCKS=("$WORK"/block-*.sh)
BACKGROUND=$(find "$WORK" -name "*.bg" | wc -l)
if [ "${#BLOCKS[@]}" -lt 5 ] || [ "$BACKGROUND" -ne 1 ]; then
  echo "quickstart: expected at least 5 shell blocks, one marked background; found ${#BLOCKS[@]} and $BACKGROUND" >&2
  exit 1
fi

# One script for the whole page. The server runs in a process group of its own (set -m), so that
# stopping it stops npm and the node process under it.
SCRIPT="$WORK/quickstart-run.sh"
{
  echo 'set -euo pipefail'
  echo 'SERVER_PGID='
  echo 'stop_server() { if [ -n "$SERVER_PGID" ]; then kill -TERM -- "-$SERVER_PGID" 2>/dev/null || true; wait "$SERVER_PGID" 2>/dev/null || true; fi; }'
  echo 'trap stop_server EXIT'
  for block in "${BLOCKS[@]}"; do
    name=$(basename "$block" .sh)
    if [ -e "$block.bg" ]; then
      echo "echo; echo \"quickstart: $name (in the background): $(head -1 "$block")\""
      echo "set -m; ( $(cat "$block") ) > \"$WORK/server.log\" 2>&1 & SERVER_PGID=\$!; set +m"
    else
      echo "echo; echo \"quickstart: $name\""
      echo "set -x"
      cat "$block"
      echo "{ set +x; } 2>/dev/null"
    fi
  done
  # The page's last steps must have worked: the ACK printed "acked" and the status says so.
  echo 'test "$(curl -s "http://localhost:3030/v1/messages/$MSG_ID/status" -H "Authorization: Bearer $ALICE_KEY" | jq -r .status)" = acked'
  echo 'echo "quickstart: message $MSG_ID is acked"'
} > "$SCRIPT"

export ADMP_DATA_DIR="$WORK/data"
START=$(date +%s)
cd "$ROOT"
set +e
bash "$SCRIPT" 2>&1 | tee "$WORK/output.log"
STATUS=${PIPESTATUS[0]}
set -e
ELAPSED=$(( $(date +%s) - START ))

if [ "$STATUS" -ne 0 ]; then
  echo "quickstart: FAILED (exit $STATUS) after ${ELAPSED} s; the relay's output:" >&2
  sed 's/^/  /' "$WORK/server.log" >&2 || true
  exit 1
fi
if ! grep -qx 'acked' "$WORK/output.log"; then
  echo "quickstart: FAILED: the ACK never printed \"acked\"" >&2
  exit 1
fi
if [ "$ELAPSED" -gt "$LIMIT_SEC" ]; then
  echo "quickstart: FAILED: took ${ELAPSED} s, over the ${LIMIT_SEC} s a newcomer is promised" >&2
  exit 1
fi
echo "quickstart: passed in ${ELAPSED} s"
