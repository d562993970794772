#!/usr/bin/env bash
# Follows docs/quickstart.md literally: every ```sh block, in order, in one shell (so the variables
# one block sets are there for the next), from the repository root. The one block marked
# <!-- quickstart: background --> (npm start, which never returns) runs in the background, as the doc
# tells a reader to run it, and is stopped at the end. Fails if any command fails, if the final ACK
# did not print "acked", if the message's status is not "acked", or if it all took over 5 minutes.
# The machinery is scripts/doc-run.sh, shared with scripts/walkthrough.sh.
#
# The relay's data goes to a fresh temporary ADMP_DATA_DIR instead of ./.admp/data, so that a
# checkout that already ran the quickstart (and so holds agents alice and bob) can run it again;
# on a clean checkout that is the only difference from a reader's terminal.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/doc-run.sh
source "$ROOT/scripts/doc-run.sh"
DOC="$ROOT/docs/quickstart.md"
LIMIT_SEC=300
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

if curl -s -o /dev/null --max-time 2 http://localhost:3030/health; then
  echo "quickstart: something already listens on port 3030; stop it first" >&2
  exit 1
fi

doc_blocks "$DOC" "$WORK"
BLOCKS=("$WORK"/block-*.sh)
BACKGROUND=$(find "$WORK" -name "*.bg" | wc -l)
if [ "${#BLOCKS[@]}" -lt 5 ] || [ "$BACKGROUND" -ne 1 ]; then
  echo "quickstart: expected at least 5 shell blocks, one marked background; found ${#BLOCKS[@]} and $BACKGROUND" >&2
  exit 1
fi

SCRIPT="$WORK/quickstart-run.sh"
{
  doc_script "$WORK" "${BLOCKS[@]}"
  # The page's last steps must have worked: the ACK printed "acked" and the status says so.
  echo 'test "$(curl -s "http://localhost:3030/v1/messages/$MSG_ID/status" -H "Authorization: Bearer $ALICE_KEY" | jq -r .status)" = acked'
  echo 'echo "quickstart: message $MSG_ID is acked"'
} > "$SCRIPT"

export ADMP_DATA_DIR="$WORK/data"
START=$(date +%s)
cd "$ROOT"
doc_run "$WORK" "$SCRIPT" quickstart || exit 1
ELAPSED=$(( $(date +%s) - START ))

if ! grep -qx 'acked' "$WORK/output.log"; then
  echo "quickstart: FAILED: the ACK never printed \"acked\"" >&2
  exit 1
fi
if [ "$ELAPSED" -gt "$LIMIT_SEC" ]; then
  echo "quickstart: FAILED: took ${ELAPSED} s, over the ${LIMIT_SEC} s a newcomer is promised" >&2
  exit 1
fi
echo "quickstart: passed in ${ELAPSED} s"
