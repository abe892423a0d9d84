#!/usr/bin/env bash
# Compares `vaultferry inspect` with pass-import and with the floor.
#
#   benches/compare-pass-import.sh
#
# 1. pass-import: on the same generated 100k-entry LastPass CSV
#    (PASS_IMPORT_SIZE), times `pimport csv lastpass FILE -o OUT -a` (csv as
#    the destination: no `pass` store or gpg needed; `-a` keeps every extra
#    field) against `vaultferry inspect FILE`, and prints the ratio.
#    pass-import is installed from PyPI into target/pass-import-venv.
# 2. The floor: on the 1M-entry file (FLOOR_SIZE), `inspect` against a bare
#    csv-crate pass that reads every record and does nothing
#    (benches/csv_floor.rs), and prints that ratio.
#
# Exports are shared with benches/whole-process.sh (target/bench-data/).
set -euo pipefail
cd "$(dirname "$0")/.."

PASS_IMPORT_SIZE="${PASS_IMPORT_SIZE:-100000}"
FLOOR_SIZE="${FLOOR_SIZE:-1000000}"
SEED="${SEED:-1}"
DATA=target/bench-data
VENV=target/pass-import-venv
BIN=target/release/vaultferry

cargo build --release --quiet
FLOOR=$(cargo bench --bench csv_floor --no-run 2>&1 | grep -o 'target/release/deps/csv_floor-[0-9a-f]*' | head -n1)
mkdir -p "$DATA"

export_for() {
  local n=$1 f="$DATA/lastpass-$1.csv"
  if [ ! -s "$f" ] || [ ! -s "$f.sharing.json" ]; then
    "$BIN" generate --format lastpass-csv --entries "$n" --seed "$SEED" --out "$f" >/dev/null
  fi
  cat "$f" >/dev/null
  echo "$f"
}

# timed CMD...: "WALL CPU" seconds of CMD from /usr/bin/time -v (CPU = user +
# system: on a shared machine wall time also counts waiting for a core).
timed() {
  local log
  log=$(mktemp)
  /usr/bin/time -v "$@" >/dev/null 2>"$log" || {
    tail -n 20 "$log" >&2
    rm -f "$log"
    return 1
  }
  awk -F': ' '
    /Elapsed \(wall clock\)/ { n = split($2, p, ":"); w = 0; for (i = 1; i <= n; i++) w = w * 60 + p[i] }
    /User time|System time/ { c += $2 }
    END { printf "%.2f %.2f", w, c }' "$log"
  rm -f "$log"
}

# report NAME-A "WALL CPU" NAME-B "WALL CPU" WHAT: both lines and the ratios A/B.
report() {
  local a_name=$1 a=$2 b_name=$3 b=$4 what=$5
  read -r aw ac <<<"$a"
  read -r bw bc <<<"$b"
  printf '%-40s %8ss wall %8ss CPU\n' "$a_name" "$aw" "$ac"
  printf '%-40s %8ss wall %8ss CPU\n' "$b_name" "$bw" "$bc"
  awk -v aw="$aw" -v ac="$ac" -v bw="$bw" -v bc="$bc" -v what="$what" 'BEGIN {
    printf "%s: %.1fx by wall time, %.1fx by CPU time (load average %s)\n", what,
      (bw > 0 ? aw / bw : 0), (bc > 0 ? ac / bc : 0), "'"$(cut -d' ' -f1 /proc/loadavg)"'" }'
}

if [ ! -x "$VENV/bin/pimport" ]; then
  echo "== installing pass-import into $VENV" >&2
  # Fail early, with pip's own message, if the package cannot be fetched.
  pip download --no-deps -d "$(mktemp -d)" pass-import >/dev/null
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet pass-import
fi

file=$(export_for "$PASS_IMPORT_SIZE")
out=$(mktemp -d)/pimport.csv
echo "== pass-import vs vaultferry inspect, $PASS_IMPORT_SIZE entries ($file)" >&2
t_pimport=$(timed "$VENV/bin/pimport" csv lastpass "$file" -o "$out" -a)
rm -f "$out"
t_inspect=$(timed "$BIN" inspect "$file")
report "pimport csv lastpass FILE -o OUT -a" "$t_pimport" "vaultferry inspect FILE" "$t_inspect" \
  "pass-import / vaultferry"

file=$(export_for "$FLOOR_SIZE")
echo "== vaultferry inspect vs the bare csv pass, $FLOOR_SIZE entries ($file)" >&2
t_inspect=$(timed "$BIN" inspect "$file")
t_floor=$(timed "$FLOOR" "$file")
report "vaultferry inspect FILE" "$t_inspect" "csv floor (benches/csv_floor.rs)" "$t_floor" \
  "inspect / csv floor"
