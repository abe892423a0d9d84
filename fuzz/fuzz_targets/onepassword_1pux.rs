//! 1PUX archives. The reader takes a path (it seeks in the zip), so each
//! input is written to a temporary file first.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (options, bytes) = common::options(data);
    if let Some((_dir, path)) = common::temp_file("fuzz.1pux", bytes) {
        let _ = vaultferry::sources::onepassword::read_1pux(&path, "fuzz.1pux", &options);
    }
});
