#!/usr/bin/env bash
# 1Password exports end to end: wall time and peak memory (RSS) of the
# release binary on generated 1PUX and 1PIF exports, each against its floor
# measured in the same run (benches/onepassword_floor.rs), ratios printed.
#
#   benches/onepassword.sh                    # 100k entries
#   benches/onepassword.sh 100000 1000000     # sizes; 1M/100k growth when both run
#   ATTACHMENT_TOTAL=4000000000 benches/onepassword.sh 100000
#
# Per size: `inspect` of the 1PUX vs the floor (unzip export.data, serde_json
# into IgnoredAny, read every files/ entry); `inspect` of the 1PIF vs a bare
# serde_json pass over its records; `plan` of the 1PUX, peak RSS vs the
# unpacked export.data; `migrate` of the 1PUX into a fresh workspace and its
# re-run. Then one 1PUX holding ~ATTACHMENT_TOTAL bytes of attachments
# (default 400 MB; 2000 entries, of which ~20 are Documents, every
# Document's file the same size; the archive's real size is printed),
# migrated with its peak RSS. Exports are cached in target/bench-data/;
# the large-attachment one and its workspace are deleted at the end.
# Each command runs once ($RUNS times with RUNS=n: the median is kept).
set -euo pipefail
cd "$(dirname "$0")/.."

SIZES="${*:-100000}"
SEED="${SEED:-1}"
RUNS="${RUNS:-1}"
ATTACHMENT_TOTAL="${ATTACHMENT_TOTAL:-400000000}"
DATA=target/bench-data
BIN=target/release/vaultferry

if [ ! -x /usr/bin/time ]; then
  echo "needs /usr/bin/time (apt-get install time)" >&2
  exit 2
fi
echo "== building (release)" >&2
cargo build --release --quiet
FLOOR=$(cargo bench --bench onepassword_floor --no-run 2>&1 | grep -o 'target/release/deps/onepassword_floor-[0-9a-f]*' | head -n1)
[ -n "$FLOOR" ] || { echo "could not build benches/onepassword_floor.rs" >&2; exit 2; }
mkdir -p "$DATA"

# run CMD...: the median of $RUNS runs as "wall_s rss_mb" (output discarded).
run() {
  local log start end i
  log=$(mktemp)
  for i in $(seq 1 "$RUNS"); do
    start=$EPOCHREALTIME
    if ! /usr/bin/time -v "$@" >/dev/null 2>"$log.err"; then
      echo "FAILED: $*" >&2; tail -n 20 "$log.err" >&2; exit 1
    fi
    end=$EPOCHREALTIME
    awk -v a="$start" -v b="$end" -F': ' '/Maximum resident set size/ {printf "%.3f %.1f\n", b - a, $2 / 1024}' "$log.err" >>"$log"
  done
  sort -n "$log" | awk '{l[NR] = $0} END {print l[int((NR + 1) / 2)]}'
  rm -f "$log" "$log.err"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / (b > 0 ? b : 0.001)}'; }
line() { printf '%-44s %s\n' "$1" "$2"; }

declare -A WALL
for n in $SIZES; do
  pux="$DATA/onepassword-$n.1pux"
  pif="$DATA/onepassword-$n.1pif"
  [ -s "$pux" ] || "$BIN" generate --format 1pux --entries "$n" --seed "$SEED" --out "$pux" >/dev/null
  [ -s "$pif" ] || "$BIN" generate --format 1pif --entries "$n" --seed "$SEED" --out "$pif" >/dev/null
  cat "$pux" "$pif" >/dev/null
  unpacked=$("$FLOOR" "$pux" | sed 's/.*unpacked=//')
  echo "== $n entries: 1PUX $(stat -c %s "$pux") bytes (export.data $unpacked), 1PIF $(stat -c %s "$pif") bytes"

  read -r fw _ < <(run "$FLOOR" "$pux")
  read -r iw im < <(run "$BIN" inspect "$pux")
  line "1PUX inspect / floor" "$iw s / $fw s = $(ratio "$iw" "$fw")x  (inspect RSS $im MB)"
  read -r fw _ < <(run "$FLOOR" "$pif")
  read -r pw pm < <(run "$BIN" inspect "$pif")
  line "1PIF inspect / serde_json pass" "$pw s / $fw s = $(ratio "$pw" "$fw")x  (inspect RSS $pm MB)"

  db="$DATA/op-plan-$n.db"
  "$BIN" workspace init --db "$db" --seed samples/workspace.toml --force >/dev/null
  read -r lw lm < <(run "$BIN" plan "$pux" --sharing "$pux.sharing.json" --db "$db")
  line "1PUX plan peak RSS / unpacked export.data" "$lm MB / $(awk -v b="$unpacked" 'BEGIN {printf "%.1f", b / 1048576}') MB = $(ratio "$lm" "$(awk -v b="$unpacked" 'BEGIN {print b / 1048576}')")x  ($lw s)"

  db="$DATA/op-migrate-$n.db"
  rm -f "$db" "$db-wal" "$db-shm"
  "$BIN" workspace init --db "$db" --seed samples/workspace.toml --force >/dev/null
  read -r mw mm < <(run "$BIN" migrate "$pux" --sharing "$pux.sharing.json" --db "$db" --yes --outbox "$DATA/op-outbox-$n")
  read -r rw rm_ < <(run "$BIN" migrate "$pux" --sharing "$pux.sharing.json" --db "$db" --yes --outbox "$DATA/op-outbox-$n")
  line "1PUX migrate fresh / re-run" "$mw s ($mm MB) / $rw s ($rm_ MB)"
  WALL["inspect|$n"]=$iw WALL["pif|$n"]=$pw WALL["plan|$n"]=$lw WALL["first|$n"]=$mw WALL["again|$n"]=$rw
done

if [ -n "${WALL["inspect|100000"]:-}" ] && [ -n "${WALL["inspect|1000000"]:-}" ]; then
  for k in inspect pif plan first again; do
    line "1M / 100k: $k" "$(ratio "${WALL["$k|1000000"]}" "${WALL["$k|100000"]}")x"
  done
fi

# A 1PUX whose attachments add up to ~ATTACHMENT_TOTAL bytes (2000
# generated entries hold ~20 Documents).
big="$DATA/onepassword-attachments.1pux"
each=$((ATTACHMENT_TOTAL / 20))
"$BIN" generate --format 1pux --entries 2000 --seed "$SEED" --attachment-bytes "$each" --out "$big" >/dev/null
db="$DATA/op-attachments.db"
rm -f "$db" "$db-wal" "$db-shm"
"$BIN" workspace init --db "$db" --seed samples/workspace.toml --force >/dev/null
read -r aw am < <(run "$BIN" migrate "$big" --db "$db" --yes --max-unpacked-bytes $((ATTACHMENT_TOTAL * 2)) --outbox "$DATA/op-outbox-attachments")
line "1PUX with $(stat -c %s "$big") bytes of archive: migrate" "$aw s, peak RSS $am MB"
rm -rf "$big" "$big.sharing.json" "$db" "$db-wal" "$db-shm" "$DATA/op-outbox-attachments"
