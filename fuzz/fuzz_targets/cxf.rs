//! CXF documents (header or bare account), with and without `--strict`.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (options, bytes) = common::options(data);
    if let Some((_dir, path)) = common::temp_file("fuzz.cxf.json", bytes) {
        let _ = vaultferry::sources::cxf::read(&path, "fuzz.cxf.json", &options);
    }
});
