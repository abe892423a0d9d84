#!/usr/bin/env bash
# Fills fuzz/corpus/<target>/ (git-ignored) with the project's samples and
# test fixtures, so each fuzzer starts from real exports instead of nothing.
# Targets whose first input byte selects parse options (see
# fuzz_targets/common.rs) get each file twice: with flags 0 and with
# --strict and --decode-html-entities on (3).
set -euo pipefail
cd "$(dirname "$0")"
root=..

seed() { # seed TARGET FLAGGED(yes|no) FILE...
  local target=$1 flagged=$2
  shift 2
  mkdir -p "corpus/$target"
  for f in "$@"; do
    [ -f "$f" ] || continue
    local name
    name=$(basename "$f")
    if [ "$flagged" = yes ]; then
      { printf '\000'; cat "$f"; } >"corpus/$target/f0-$name"
      { printf '\003'; cat "$f"; } >"corpus/$target/f3-$name"
    else
      cp "$f" "corpus/$target/$name"
    fi
  done
}

shopt -s nullglob
lp_csv=("$root"/samples/lastpass/*.csv "$root"/tests/fixtures/lastpass/*.csv "$root"/tests/fixtures/bad/*.csv)
op_csv=("$root"/samples/onepassword/*.csv)
lp_sharing=("$root"/samples/lastpass/sharing-*)
pux=("$root"/samples/onepassword/*.1pux "$root"/tests/fixtures/bad/*.1pux)
pif=("$root"/samples/onepassword/*.1pif "$root"/tests/fixtures/bad/*.1pif)

seed lastpass_csv yes "${lp_csv[@]}"
seed onepassword_csv yes "${op_csv[@]}"
seed lastpass_sharing yes "${lp_sharing[@]}"
seed onepassword_sharing yes "$root"/samples/onepassword/permissions.json
seed onepassword_1pux yes "${pux[@]}"
seed onepassword_1pif yes "${pif[@]}"
seed cxf yes "$root"/samples/cxf/*.json "$root"/tests/fixtures/cxf/*.json
seed policy no "$root"/samples/vaultferry.toml
seed workspace_seed no "$root"/samples/workspace.toml
seed scim no "$root"/samples/scim-users.json
seed detect no "${lp_csv[@]}" "${op_csv[@]}" "${pif[@]}" "${pux[@]}" "$root"/samples/cxf/*.json

# Secure notes: each `extra` cell of an http://sn row of the LastPass sample
# (python3 only splits the CSV; without it the notes target starts empty).
mkdir -p corpus/lastpass_notes
if command -v python3 >/dev/null; then
  python3 - "$root/samples/lastpass/company.csv" corpus/lastpass_notes <<'PY'
import csv, sys, os
with open(sys.argv[1], newline="", encoding="utf-8") as f:
    for i, row in enumerate(csv.DictReader(f)):
        if row.get("url") == "http://sn" and row.get("extra"):
            with open(os.path.join(sys.argv[2], f"note-{i}"), "wb") as out:
                out.write(b"\0" + row["extra"].encode("utf-8"))
PY
fi
printf '\000NoteType:Server\nHostname:db1\nUsername:root\nPassword:x\nNotes:multi\nline' >corpus/lastpass_notes/server
