//! The LastPass CSV reader over arbitrary bytes.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (options, bytes) = common::options(data);
    let _ = vaultferry::sources::lastpass::read_csv(bytes, "fuzz.csv", &options);
});
