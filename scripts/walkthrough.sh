#!/usr/bin/env bash
# Follows the README's "Walkthrough with curl" literally, twice in a row against one relay: every
# ```sh block of that section, in order, in one shell, then all of them again, the way a reader who
# pastes the walkthrough a second time would. Every `# ` line in a block is what the block must print,
# line for line (`…` matches any text), so a failing request fails the run even though curl does not.
# The relay is started the way the README's "Two commands" start it (`npm start`), on port 3030, and
# stopped at the end. The machinery is scripts/doc-run.sh, shared with scripts/quickstart.sh.
#
# As in scripts/quickstart.sh, the relay's data goes to a fresh temporary ADMP_DATA_DIR, so the run
# neither needs nor touches ./.admp/data.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/doc-run.sh
source "$ROOT/scripts/doc-run.sh"
DOC="$ROOT/README.md"
SECTION="Walkthrough with curl"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

if curl -s -o /dev/null --max-time 2 http://localhost:3030/health; then
  echo "walkthrough: something already listens on port 3030; stop it first" >&2
  exit 1
fi

doc_blocks "$DOC" "$WORK" "$SECTION"
BLOCKS=("$WORK"/block-*.sh)
CHECKED=$(find "$WORK" -name "block-*.expected" -size +0 | wc -l)
if [ "${#BLOCKS[@]}" -lt 5 ] || [ "$CHECKED" -lt 5 ] || [ -n "$(find "$WORK" -name '*.bg')" ]; then
  echo "walkthrough: expected at least 5 shell blocks showing their output, none in the background, in" \
    "\"## $SECTION\"; found ${#BLOCKS[@]} blocks, $CHECKED showing output" >&2
  exit 1
fi

# The relay, and a wait until it answers; then the section twice.
echo 'npm start' > "$WORK/relay.sh"
touch "$WORK/relay.sh.bg"
echo 'curl -s -o /dev/null --retry 180 --retry-connrefused --retry-delay 1 http://localhost:3030/health' > "$WORK/ready.sh"
echo 'echo "walkthrough: the same blocks again, against the same relay"' > "$WORK/again.sh"

SCRIPT="$WORK/walkthrough-run.sh"
DOC_CHECK_OUTPUT=1 doc_script "$WORK" "$WORK/relay.sh" "$WORK/ready.sh" "${BLOCKS[@]}" \
  "$WORK/again.sh" "${BLOCKS[@]}" > "$SCRIPT"

export ADMP_DATA_DIR="$WORK/data"
START=$(date +%s)
cd "$ROOT"
doc_run "$WORK" "$SCRIPT" walkthrough || exit 1
echo "walkthrough: passed, ${#BLOCKS[@]} blocks twice, in $(( $(date +%s) - START )) s"
