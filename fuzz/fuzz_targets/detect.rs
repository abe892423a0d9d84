//! Format detection from a file's first bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = vaultferry::sources::detect(data);
    let _ = vaultferry::sources::detect::header_fields(&String::from_utf8_lossy(data));
});
