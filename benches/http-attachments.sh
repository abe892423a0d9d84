#!/usr/bin/env bash
# Attachments through the HTTP target: peak memory of `migrate --target`
# (the client) and of `serve` (the server) for a generated 1PUX whose ~26
# Documents each hold EACH bytes, and the attachments' bytes in the store
# afterwards (count, declared size, stored length: the last two must match).
#
#   benches/http-attachments.sh              # Documents of 20 MB
#   EACH=60000000 benches/http-attachments.sh
#
# Everything it makes (export, workspace, outbox) is deleted at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${BIN:-target/release/vaultferry}"
EACH="${EACH:-20000000}"
D=target/bench-data/http-attachments
[ -x /usr/bin/time ] || { echo "needs /usr/bin/time (apt-get install time)" >&2; exit 2; }
[ "$BIN" != target/release/vaultferry ] || cargo build --release --quiet
rm -rf "$D"
mkdir -p "$D"
SPID=
cleanup() { [ -z "$SPID" ] || kill "$SPID" 2>/dev/null || true; rm -rf "$D"; }
trap cleanup EXIT
"$BIN" generate --format 1pux --entries 2000 --seed 1 --attachment-bytes "$EACH" --out "$D/a.1pux" >/dev/null
"$BIN" workspace init --db "$D/remote.db" --seed samples/workspace.toml --force >/dev/null
KEY=$("$BIN" apikey create --db "$D/remote.db" --as olivia@northwind.example)
"$BIN" serve --db "$D/remote.db" --listen 127.0.0.1:0 >"$D/serve.out" 2>/dev/null &
SPID=$!
for _ in $(seq 1 150); do grep -q "listening on" "$D/serve.out" && break; sleep 0.2; done
URL=$(sed -n 's/^listening on //p' "$D/serve.out")
[ -n "$URL" ] || { echo "serve did not start" >&2; exit 1; }
/usr/bin/time -f "client (migrate --target): %e s, peak RSS %M KB" \
  "$BIN" migrate "$D/a.1pux" --target "$URL" --api-key "$KEY" --yes \
  --max-unpacked-bytes 100000000000 --outbox "$D/outbox" >/dev/null 2>"$D/migrate.err" || { cat "$D/migrate.err" >&2; exit 1; }
grep "client" "$D/migrate.err"
echo "server (serve): peak RSS $(awk '/VmHWM/ {print $2, $3}' "/proc/$SPID/status")"
echo "archive: $(stat -c %s "$D/a.1pux") bytes"
if command -v sqlite3 >/dev/null; then
  echo "attachments in the store (count|sum of sizes|sum of stored lengths, sealed: 41 bytes more per 64 KiB piece): $(sqlite3 "$D/remote.db" 'SELECT count(*), sum(size), sum(length(content)) FROM attachments')"
fi
