//! What every target shares: options drawn from the input, so `--strict`
//! and `--decode-html-entities` paths are fuzzed too, and limits small
//! enough that a zip bomb in the corpus cannot exhaust the fuzzer's memory.
#![allow(dead_code)]

use vaultferry::sources::{Limits, ParseOptions};

/// Splits off the first byte as option flags; the rest is the file.
pub fn options(data: &[u8]) -> (ParseOptions, &[u8]) {
    let (flags, rest) = match data.split_first() {
        Some((f, rest)) => (*f, rest),
        None => (0, data),
    };
    let options = ParseOptions {
        format: None,
        strict: flags & 1 != 0,
        decode_html_entities: flags & 2 != 0,
        limits: Limits {
            max_entries: 1_000,
            // Well under libFuzzer's -rss_limit_mb: a bomb must be refused by
            // the reader's own count, not by the fuzzer killing the process.
            max_unpacked_bytes: 64 << 20,
            max_item_bytes: 16 << 20,
        },
        progress: None,
    };
    (options, rest)
}

/// Writes `bytes` to a fresh temporary file named `name` (the 1PUX and
/// 1PIF readers take a path: 1PUX needs to seek, 1PIF may be a folder).
pub fn temp_file(name: &str, bytes: &[u8]) -> Option<(tempfile::TempDir, std::path::PathBuf)> {
    let dir = tempfile::tempdir().ok()?;
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).ok()?;
    Some((dir, path))
}
