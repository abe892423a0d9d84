//! Which export is this? Decided from content, not the file name, because
//! admins rename exports ("lastpass_export (1).csv.txt").

use std::io::Read;
use std::path::Path;

use super::{ErrorKind, SourceError};
use crate::model::{Position, SourceKind};

/// The 1PIF record separator; its first occurrence identifies the format.
pub const PIF_SEPARATOR: &str = "***5642bee8-a5ff-11dc-8314-0800200c9a66***";

/// Detects the format of a file, or of a 1Password 7 export folder
/// (a directory holding `data.1pif`).
pub fn detect_path(path: &Path) -> Result<SourceKind, SourceError> {
    let display = path.display().to_string();
    if path.is_dir() {
        if path.join("data.1pif").is_file() {
            return Ok(SourceKind::Onepassword1pif);
        }
        return Err(SourceError::new(
            ErrorKind::UnknownFormat,
            Position::file(&display),
            "this is a folder without data.1pif; expected an export file (LastPass CSV, 1PUX, 1PIF, 1Password CSV) or a 1Password 7 export folder",
        ));
    }
    let mut head = Vec::with_capacity(8192);
    super::open(path)?
        .take(8192)
        .read_to_end(&mut head)
        .map_err(|e| SourceError::io(&display, e))?;
    detect(&head).ok_or_else(|| unknown(&display, &head))
}

/// Detects the format from the first bytes of a file.
pub fn detect(head: &[u8]) -> Option<SourceKind> {
    if head.starts_with(b"PK\x03\x04") {
        return Some(SourceKind::Onepassword1pux);
    }
    let text = String::from_utf8_lossy(head);
    let text = text.trim_start_matches('\u{feff}');
    if super::cxf::looks_like_cxf(text) {
        return Some(SourceKind::Cxf);
    }
    // A first record longer than the head hides the separator; 1Password 4
    // writes `typeName` last, so `secureContents` (written early) counts too.
    // 1Password for Windows writes OPVault-shaped records (`category`,
    // `overview`, `details`, no `typeName`), possibly one alone.
    let pif_keys = ["\"typeName\"", "\"secureContents\""];
    let opvault = text.contains("\"category\"") && (text.contains("\"overview\"") || text.contains("\"details\""));
    if text.contains(PIF_SEPARATOR) || opens_an_object(text) && (pif_keys.iter().any(|k| text.contains(k)) || opvault) {
        return Some(SourceKind::Onepassword1pif);
    }
    let header = header_fields(text);
    let has = |name: &str| header.iter().any(|h| h == name);
    if has("url") && has("extra") && has("grouping") {
        return Some(SourceKind::LastpassCsv);
    }
    if super::onepassword::is_csv_header(&header) {
        return Some(SourceKind::OnepasswordCsv);
    }
    None
}

/// A JSON object's start, however it is spaced: 1Password writes
/// `{"uuid":…` on one line, but a record pretty-printed by hand or by a
/// tool opens with `{` and a newline.
fn opens_an_object(text: &str) -> bool {
    text.trim_start()
        .strip_prefix('{')
        .is_some_and(|rest| rest.trim_start().starts_with('"'))
}

/// The first CSV record's fields, lowercased, with quotes, BOM and
/// zero-width spaces removed. Good enough to recognise a header; the real
/// parse uses the `csv` crate.
pub fn header_fields(text: &str) -> Vec<String> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut record = csv::StringRecord::new();
    match rdr.read_record(&mut record) {
        Ok(true) => record
            .iter()
            .map(|f| f.replace(['\u{200b}', '\u{feff}'], "").trim().to_lowercase())
            .collect(),
        _ => Vec::new(),
    }
}

fn unknown(file: &str, head: &[u8]) -> SourceError {
    let what = if head.is_empty() {
        "the file is empty".to_owned()
    } else if head.starts_with(&[0xff, 0xfe]) || head.starts_with(&[0xfe, 0xff]) || utf16_without_bom(head) {
        "the file is UTF-16; save it as UTF-8".to_owned()
    } else {
        "the content matches no known export".to_owned()
    };
    SourceError::new(
        ErrorKind::UnknownFormat,
        Position::file(file).line(1),
        format!("{what}; expected a LastPass CSV (header with url, extra, grouping), a 1Password 1PUX (zip), 1PIF or CSV export, or a CXF document (use --from to force a format)"),
    )
}

/// UTF-16 text with no byte-order mark (some Windows tools write UTF-16BE or
/// LE without one): ASCII text then has a NUL in every other byte.
fn utf16_without_bom(head: &[u8]) -> bool {
    let pairs: Vec<&[u8]> = head.chunks_exact(2).take(64).collect();
    if pairs.len() < 4 {
        return false;
    }
    let all = |nul_first: bool| {
        pairs.iter().all(|p| match p {
            [a, b] if nul_first => *a == 0 && *b != 0,
            [a, b] => *a != 0 && *b == 0,
            _ => false,
        })
    };
    all(true) || all(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each real-world 1Password layout, as its first bytes, without `--from`.
    #[test]
    fn every_1password_layout_is_detected_from_its_head() {
        let cases: [(&str, &[u8], SourceKind); 6] = [
            (
                "1Password 7 for Mac, app shape",
                "\u{feff}\"account number(accountNo)\",\"address(address)\",\"Created Date\",\"Notes\",\"Password\",\"\u{200b}password(password)\",\"Tags\",\"Title\",\"Type\",\"type(type)\",\n,\"{(\n    \\\"Starter Kit\\\"\n)}\"".as_bytes(),
                SourceKind::OnepasswordCsv,
            ),
            (
                "1Password 7 for Mac, localised labels and no Type",
                "\"Kontonummer(accountNo)\",\"Benutzername(username)\",\"Kennwort(password)\",\"Notizen(notesPlain)\"\n".as_bytes(),
                SourceKind::OnepasswordCsv,
            ),
            (
                "1Password 7 for Windows, cards only",
                b"\"UUID\",\"TITLE\",\"SCOPE\",\"AUTOSUBMIT\",\"1: CARDHOLDER NAME\",\"2: NUMBER\"\r\n",
                SourceKind::OnepasswordCsv,
            ),
            (
                "1Password 7 for Windows, all items",
                b"\"UUID\",\"TITLE\",\"USERNAME\",\"PASSWORD\",\"URL\",\"URLS\",\"EMAIL\",\"SECTION 1: NAME\",\"NAME 1: FIRST NAME\"\r\n",
                SourceKind::OnepasswordCsv,
            ),
            (
                "1PIF, OPVault records",
                b"{\"uuid\":\"A\",\"category\":\"001\",\"overview\":{\"title\":\"x\"},\"details\":{}}\r\n***5642bee8-a5ff-11dc-8314-0800200c9a66***\r\n",
                SourceKind::Onepassword1pif,
            ),
            (
                "1PIF, one OPVault record, no separator",
                b"{\"uuid\":\"A\",\"category\":\"001\",\"overview\":{\"title\":\"x\"},\"details\":{\"fields\":[]}}",
                SourceKind::Onepassword1pif,
            ),
        ];
        for (what, head, want) in cases {
            assert_eq!(detect(head), Some(want), "{what}");
        }
        assert_eq!(
            detect(b"{\r\n  \"uuid\": \"A\",\r\n  \"typeName\": \"webforms.WebForm\"\r\n}"),
            Some(SourceKind::Onepassword1pif),
            "pretty-printed, CRLF"
        );
        // JSON that is not 1Password stays unknown.
        assert_eq!(detect(b"{\"category\":\"books\",\"title\":\"x\"}"), None);
    }
}
