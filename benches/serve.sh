#!/usr/bin/env bash
# serve vs migrate on one generated LastPass export (issue 21): the peak RSS
# of `vaultferry serve` while it plans and applies an upload, against
# `/usr/bin/time -v vaultferry migrate` of the same file into a fresh
# workspace, and both wall times. Release build; the machine may be
# shared, so note its load with the figures (benches/README.md).
#   ENTRIES=300000 benches/serve.sh
set -euo pipefail
ENTRIES="${ENTRIES:-300000}"
SEED="${SEED:-1}"
BIN="${BIN:-target/release/vaultferry}"
DIR="$(mktemp -d /tmp/pipeline-serve-bench.XXXXXX)"
trap 'kill "${SERVER:-0}" 2>/dev/null || true; rm -rf "$DIR"' EXIT
[ -x "$BIN" ] || cargo build --locked --release
export_file="$DIR/export.csv"
"$BIN" generate --format lastpass-csv --entries "$ENTRIES" --seed "$SEED" --out "$export_file" >/dev/null
sharing="$export_file.sharing.json"
sharing_args=()
[ -f "$sharing" ] && sharing_args=(--sharing "$sharing")

# The CLI.
"$BIN" workspace init --db "$DIR/cli.db" --seed samples/workspace.toml >/dev/null
/usr/bin/time -v "$BIN" migrate "$export_file" "${sharing_args[@]}" --db "$DIR/cli.db" --yes --no-verify \
  --outbox "$DIR/cli-outbox" >/dev/null 2>"$DIR/cli.time"
cli_kb=$(awk -F': ' '/Maximum resident/ {print $2}' "$DIR/cli.time")
cli_s=$(awk -F': ' '/Elapsed \(wall/ {print $2}' "$DIR/cli.time")

# The server: one upload, planned then applied; RSS polled every 0.2 s.
"$BIN" workspace init --db "$DIR/serve.db" --seed samples/workspace.toml >/dev/null
key=$("$BIN" apikey create --db "$DIR/serve.db" --member olivia@northwind.example)
"$BIN" serve --db "$DIR/serve.db" --listen 127.0.0.1:0 --max-upload-bytes 4000000000 \
  --outbox "$DIR/serve-outbox" >"$DIR/serve.out" 2>"$DIR/serve.err" &
SERVER=$!
for _ in $(seq 100); do grep -qo 'http://[0-9.:]*' "$DIR/serve.out" && break; sleep 0.1; done
url=$(grep -o 'http://[0-9.:]*' "$DIR/serve.out" | head -1)
peak=0
poll() { local r; r=$(awk '/VmHWM/ {print $2}' "/proc/$SERVER/status"); [ "$r" -gt "$peak" ] && peak=$r; true; }
state() { curl -s -H "X-API-Key: $key" "$url/api/v1/imports/$1" | sed -n 's/.*"state":"\([a-z]*\)".*/\1/p'; }
start=$(date +%s.%N)
form=(-F "export=@$export_file")
[ -f "$sharing" ] && form+=(-F "sharing=@$sharing")
id=$(curl -s -H "X-API-Key: $key" "${form[@]}" "$url/api/v1/imports" | sed -n 's/.*"id":"\(job-[0-9a-f]*\)".*/\1/p')
until [ "$(state "$id")" = planned ]; do poll; sleep 0.2; done
planned=$(date +%s.%N)
curl -s -X POST -H "X-API-Key: $key" "$url/api/v1/imports/$id/apply" >/dev/null
until [ "$(state "$id")" = done ]; do poll; sleep 0.2; done
poll
end=$(date +%s.%N)
serve_s=$(echo "$end - $start" | bc)
plan_s=$(echo "$planned - $start" | bc)
apply_s=$(echo "$end - $planned" | bc)
echo "entries=$ENTRIES load=$(cut -d' ' -f1-3 /proc/loadavg)"
echo "migrate: peak RSS $((cli_kb / 1024)) MB, wall $cli_s"
echo "serve (upload, plan, apply): peak RSS $((peak / 1024)) MB, wall ${serve_s} s (upload and plan ${plan_s} s, apply ${apply_s} s)"
echo "ratios serve/migrate: peak RSS $(echo "scale=2; $peak / $cli_kb" | bc), wall $(echo "scale=2; $serve_s / $(echo "$cli_s" | awk -F: '{ if (NF == 3) print $1 * 3600 + $2 * 60 + $3; else print $1 * 60 + $2 }')" | bc)"
