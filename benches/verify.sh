#!/usr/bin/env bash
# `verify` against the `migrate` re-run on the same export (issue 19: verify
# must cost less than the re-run), printed as a ratio in the same run.
#
#   benches/verify.sh                  # 100k entries
#   ENTRIES=10000 RUNS=1 benches/verify.sh
#
# Generates an adversarial LastPass export (every knob by default, $KNOBS)
# and its sharing file under /tmp/verify-bench.*, creates
# a workspace from samples/workspace.toml, migrates once (not timed), then
# times $RUNS rounds of the re-run (`migrate --yes --no-verify`: nothing to
# write, and without the check migrate ends with, which is verify itself)
# and of `verify`, interleaved so both see
# the same spells of a shared machine, and prints each command's median
# wall time and verify / re-run. Both must report 0 unexpected differences.
set -euo pipefail
cd "$(dirname "$0")/.."

ENTRIES="${ENTRIES:-100000}"
RUNS="${RUNS:-3}"
SEED="${SEED:-1}"
KNOBS="${KNOBS:-all}"
BIN="${BIN:-target/release/vaultferry}"
DIR="$(mktemp -d /tmp/verify-bench.XXXXXX)"
trap 'rm -rf "$DIR"' EXIT

if [ "$BIN" = target/release/vaultferry ]; then cargo build --release --locked --quiet; fi
export_file="$DIR/export.csv"
"$BIN" generate --format lastpass-csv --entries "$ENTRIES" --seed "$SEED" --adversarial "$KNOBS" \
    --out "$export_file" >/dev/null
sharing="$export_file.sharing.json"
db="$DIR/ws.db"
"$BIN" workspace init --db "$db" --seed samples/workspace.toml --force >/dev/null
"$BIN" migrate "$export_file" --sharing "$sharing" --db "$db" --yes --outbox "$DIR/outbox" >"$DIR/first.out" 2>&1
grep '^verified:' "$DIR/first.out"

now() { date +%s.%N; }
rerun=() verify=()
for _ in $(seq "$RUNS"); do
    t0=$(now)
    "$BIN" migrate "$export_file" --sharing "$sharing" --db "$db" --yes --no-verify --outbox "$DIR/outbox" \
        >"$DIR/rerun.out" 2>&1
    t1=$(now)
    "$BIN" verify "$export_file" --sharing "$sharing" --db "$db" >"$DIR/verify.out" 2>&1
    t2=$(now)
    rerun+=("$(echo "$t1 - $t0" | bc)")
    verify+=("$(echo "$t2 - $t1" | bc)")
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
r=$(median "${rerun[@]}")
v=$(median "${verify[@]}")
tail -n 1 "$DIR/verify.out"
printf 'entries %s: migrate re-run %.2f s, verify %.2f s, verify / re-run = %.2f (median of %s)\n' \
    "$ENTRIES" "$r" "$v" "$(echo "$v / $r" | bc -l)" "$RUNS"
