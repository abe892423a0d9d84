//! A SCIM 2.0 ListResponse of Users, merged into the sample seed the way
//! `workspace init --scim` does.
#![no_main]

use libfuzzer_sys::fuzz_target;

const SEED: &str = include_str!("../../samples/workspace.toml");

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(users) = vaultferry::workspace::scim::parse_scim("fuzz.json", text) {
            if let Ok(mut seed) = vaultferry::workspace::seed::parse_seed("workspace.toml", SEED) {
                seed.merge_directory(users);
                let _ = seed.validate();
            }
        }
    }
});
