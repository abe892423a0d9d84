#!/usr/bin/env bash
# What `migrate` prints on a terminal (issue 21: under 100 lines at 300k
# entries, a no-op re-run too), counted on a real pseudo-terminal so the
# progress bars, the spinner and the question behave as they do for a user.
#
#   benches/terminal.sh                        # 300k entries, release build
#   ENTRIES=20000 BIN=target/debug/vaultferry benches/terminal.sh
#
# Generates a LastPass export with its sharing file under
# /tmp/terminal-bench.*, creates a workspace from samples/workspace.toml,
# then runs `migrate --yes` twice under `script` (util-linux), each with a
# 100-column terminal, and prints per run the lines written (newlines: what
# scrolls; progress redraws in place are not lines) and its closing lines. Each run's output is kept in the folder only while the script runs.
set -euo pipefail
cd "$(dirname "$0")/.."

ENTRIES="${ENTRIES:-300000}"
SEED="${SEED:-1}"
BIN="${BIN:-target/release/vaultferry}"
DIR="$(mktemp -d /tmp/terminal-bench.XXXXXX)"
trap 'rm -rf "$DIR"' EXIT
command -v script >/dev/null || { echo "benches/terminal.sh needs script (util-linux)" >&2; exit 2; }

if [ "$BIN" = target/release/vaultferry ]; then cargo build --release --locked --quiet; fi
BIN="$(realpath "$BIN")"
"$BIN" generate --format lastpass-csv --entries "$ENTRIES" --seed "$SEED" --out "$DIR/export.csv" >/dev/null
"$BIN" workspace init --db "$DIR/ws.db" --seed samples/workspace.toml --force >/dev/null

for run in first re-run; do
    cmd="stty cols 100 rows 50; '$BIN' migrate '$DIR/export.csv' --sharing '$DIR/export.csv.sharing.json' --db '$DIR/ws.db' --yes"
    script -qec "$cmd" /dev/null >"$DIR/$run.out" </dev/null
    lines=$(tr -cd '\n' <"$DIR/$run.out" | wc -c)
    echo "migrate $ENTRIES entries, $run: $lines lines on the terminal"
    grep -a -E '^(written|reconciliation|invitations|verified):' "$DIR/$run.out" | tr -d '\r' | sed 's/^/    /'
done
