//! LastPass secure notes: the input becomes the `extra` cell of an
//! `http://sn` row, so the note-type parser (`NoteType:…` lines, multi-line
//! values, unknown types) sees arbitrary text without the CSV layer
//! rejecting it first.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (options, bytes) = common::options(data);
    let extra = String::from_utf8_lossy(bytes).replace('"', "\"\"");
    let csv = format!("url,username,password,totp,extra,name,grouping,fav\nhttp://sn,,,,\"{extra}\",Note,Notes,0\n");
    let _ = vaultferry::sources::lastpass::read_csv(csv.as_bytes(), "fuzz.csv", &options);
});
