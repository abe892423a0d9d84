#!/usr/bin/env bash
# A member's page at scale (issue 22): after a generated LastPass import of
# ENTRIES entries, the time of one page of /api/v1/me/accounts, /secrets and
# /collections (first page and the fifth, following `next`) for the owner
# (thousands of grants), an admin (sees all), a user, a guest with one grant
# and a guest with none (the worst case: the walk by id finds nothing to
# stop at), best of REPEAT through curl; and `GET /api/v1/members`, which
# reads the whole snapshot, beside them. Target: under 50 ms a page at 1M.
# Release build; note the machine's load with the figures (benches/README.md).
#   ENTRIES=1000000 SNAPSHOT=0 benches/guestview.sh
# Needs sqlite3 (the invited guests are marked joined, as if they had).
set -euo pipefail
ENTRIES="${ENTRIES:-1000000}"
SEED="${SEED:-1}"
REPEAT="${REPEAT:-5}"
BIN="${BIN:-target/release/vaultferry}"
DIR="$(mktemp -d /tmp/guestview-bench.XXXXXX)"
trap 'kill "${SERVER:-0}" 2>/dev/null || true; rm -rf "$DIR"' EXIT
[ -x "$BIN" ] || cargo build --locked --release
export_file="$DIR/export.csv"
"$BIN" generate --format lastpass-csv --entries "$ENTRIES" --seed "$SEED" --out "$export_file" -q
db="$DIR/ws.db"
"$BIN" workspace init --db "$db" --seed samples/workspace.toml >/dev/null
"$BIN" migrate "$export_file" --sharing "$export_file.sharing.json" --db "$db" --yes --no-verify -q \
  --outbox "$DIR/outbox" >/dev/null
sqlite3 "$db" "UPDATE members SET state = 'active' WHERE role = 'guest' AND state = 'invited';"
one_grant=$(sqlite3 "$db" "SELECT m.email FROM members m JOIN grants g ON g.grantee_kind = 'member'
  AND g.grantee_id = m.id WHERE m.role = 'guest' LIMIT 1;")
"$BIN" serve --db "$db" --listen 127.0.0.1:0 --outbox "$DIR/outbox" >"$DIR/serve.out" 2>"$DIR/serve.err" &
SERVER=$!
for _ in $(seq 100); do grep -qo 'http://[0-9.:]*' "$DIR/serve.out" && break; sleep 0.1; done
url=$(grep -o 'http://[0-9.:]*' "$DIR/serve.out" | head -1)
best() { # best of REPEAT, in ms, of GET $2 with key $1
  local t b=999999
  for _ in $(seq "$REPEAT"); do
    t=$(curl -gs -o /dev/null -w '%{time_total}' -H "X-API-Key: $1" "$url$2")
    b=$(echo "if ($t * 1000 < $b) $t * 1000 else $b" | bc)
  done
  printf '%.1f' "$b"
}
next_of() { curl -gs -H "X-API-Key: $1" "$url$2" | sed -n 's/.*"next":"\([^"]*\)".*/\1/p'; }
echo "entries=$ENTRIES items=$(sqlite3 "$db" 'SELECT (SELECT count(*) FROM accounts) + (SELECT count(*) FROM secrets);') load=$(cut -d' ' -f1-3 /proc/loadavg)"
for who in olivia@northwind.example sam@northwind.example lee@northwind.example "$one_grant" mo@freelance.example; do
  key=$("$BIN" apikey create --db "$db" --member "$who" 2>/dev/null)
  for path in /api/v1/me/accounts /api/v1/me/secrets /api/v1/me/collections; do
    first="$path?page[size]=100"
    deep="$first"
    for _ in 1 2 3 4; do
      n=$(next_of "$key" "$deep")
      [ -n "$n" ] && deep="$n"
    done
    echo "$who $path: first page $(best "$key" "$first") ms, fifth page $(best "$key" "$deep") ms"
  done
done
# SNAPSHOT=0 leaves the comparison out (at 1M it reads gigabytes per request).
[ "${SNAPSHOT:-1}" = 0 ] && exit 0
key=$("$BIN" apikey create --db "$db" --member olivia@northwind.example 2>/dev/null)
echo "owner GET /api/v1/members (whole snapshot per page, for comparison): $(best "$key" '/api/v1/members?page[size]=100') ms"
