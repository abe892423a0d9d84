//! 1PIF files (the reader takes a path: a 1Password 7 export is a folder).
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (options, bytes) = common::options(data);
    if let Some((_dir, path)) = common::temp_file("fuzz.1pif", bytes) {
        let _ = vaultferry::sources::onepassword::read_1pif(&path, "fuzz.1pif", &options);
    }
});
