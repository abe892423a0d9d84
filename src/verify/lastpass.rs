//! Whether each LastPass row sits in a shared folder, read from the
//! `grouping` column itself.
//!
//! The normalized model names LastPass's shared folder `Shared-X` as `X`
//! (the collection's name), so an entry of a personal folder `X` and one of
//! `Shared-X` carry the same folder path there (issue 19, bug 1). The
//! checker must not inherit that: for each record it reads whether its
//! `grouping` starts with `Shared-`, by the record's first line, which is
//! the line the reader gives its entry.

use std::path::Path;

use rustc_hash::FxHashMap;

/// First line of each record (1-based) → whether the record's grouping is
/// a shared folder. Empty when the file cannot be read as CSV with a
/// `grouping` column: then the model's folders decide.
pub fn shared_rows(export: &Path) -> FxHashMap<u64, bool> {
    let mut out = FxHashMap::default();
    let Ok(mut rdr) = csv::ReaderBuilder::new().flexible(true).from_path(export) else {
        return out;
    };
    let Ok(headers) = rdr.byte_headers() else { return out };
    let Some(col) = headers.iter().position(|h| {
        let h = h.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(h);
        h.trim_ascii().eq_ignore_ascii_case(b"grouping")
    }) else {
        return out;
    };
    let mut record = csv::ByteRecord::new();
    loop {
        match rdr.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            // A broken record: the reader recovers or skips it; the
            // model's folders decide for it.
            Err(_) => continue,
        }
        let Some(line) = record.position().map(|p| p.line()) else {
            continue;
        };
        let grouping = record.get(col).unwrap_or_default();
        out.insert(line, is_shared(grouping));
    }
    out
}

/// `Shared-X…` with a non-blank `X`, case-insensitively, as LastPass names
/// its shared folders.
fn is_shared(grouping: &[u8]) -> bool {
    let g = grouping.trim_ascii();
    let first = g.split(|&b| b == b'\\').next().unwrap_or_default();
    first.len() > 7 && first[..7].eq_ignore_ascii_case(b"Shared-") && !first[7..].trim_ascii().is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_folders_are_told_from_personal_folders_of_the_same_name() {
        assert!(is_shared(b"Shared-Legal"));
        assert!(is_shared(b"shared-Legal\\Contracts"));
        assert!(!is_shared(b"Legal"));
        assert!(!is_shared(b"Legal\\Shared-X"));
        assert!(!is_shared(b"Shared-"));
        assert!(!is_shared(b"Shared-  "));
        assert!(!is_shared(b""));
    }
}
