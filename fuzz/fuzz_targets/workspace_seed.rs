//! The workspace seed (workspace.toml), parsed and then validated the way
//! `workspace init` does.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(seed) = vaultferry::workspace::seed::parse_seed("fuzz.toml", text) {
            let _ = seed.validate();
        }
    }
});
