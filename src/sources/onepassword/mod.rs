//! 1Password: 1PUX (1Password 8), 1PIF (1Password 4–7, also as the
//! 1Password 7 export folder), the CSV layouts, and vault permissions
//! gathered from the `op` CLI.
//!
//! The three export families describe the same items three ways; what they
//! share (the category table, field builders) lives here and in
//! [`categories`], each format's quirks in its own module.

mod categories;
mod csv;
mod pif;
mod pif_shapes;
mod pux;
mod sharing;
mod values;

use std::io::Read;
use std::path::Path;

use super::{recover_or_fail, ParseOptions, Sink, SourceError};
use serde_json::Value;

use crate::model::{Entry, Field, FieldKind, FieldValue, Finding, Severity, Timestamp, Vault};
use crate::secret::Secret;

/// Whether a CSV header (lowercased, cleaned by `detect::header_fields`)
/// is one of 1Password's CSV layouts.
pub fn is_csv_header(header: &[String]) -> bool {
    csv::Layout::detect(header).is_some()
}

/// Reads a 1Password CSV export (1Password 4, 6, 7 for Mac, 7 for Windows, 8).
pub fn read_csv<R: Read>(reader: R, file: &str, options: &ParseOptions) -> Result<Vault, SourceError> {
    csv::read(reader, file, options)
}

/// Reads a 1PUX archive (1Password 8).
pub fn read_1pux(path: &Path, file: &str, options: &ParseOptions) -> Result<Vault, SourceError> {
    pux::read(path, file, options, Sink::Keep)
}

/// [`read_1pux`], handing the entries to `sink` as they stream.
/// The 1PUX's first account email, read ahead ([`pux::account_email`]).
pub(crate) fn pux_owner(path: &Path, file: &str, options: &ParseOptions) -> Option<String> {
    pux::account_email(path, file, options)
}

pub(crate) fn read_1pux_into(
    path: &Path,
    file: &str,
    options: &ParseOptions,
    sink: Sink<'_>,
) -> Result<Vault, SourceError> {
    pux::read(path, file, options, sink)
}

/// Reads a 1PIF file, or a 1Password 7 export folder (`data.1pif` beside
/// `attachments/<item uuid>/…`).
pub fn read_1pif(path: &Path, file: &str, options: &ParseOptions) -> Result<Vault, SourceError> {
    pif::read(path, file, options, Sink::Keep)
}

/// [`read_1pif`], handing the entries to `sink` as they stream.
pub(crate) fn read_1pif_into(
    path: &Path,
    file: &str,
    options: &ParseOptions,
    sink: Sink<'_>,
) -> Result<Vault, SourceError> {
    pif::read(path, file, options, sink)
}

/// Attaches a vault-permissions bundle (`op vault user list` / `op vault
/// group list` per vault) to the vault folders of `vault`.
pub fn read_sharing(vault: &mut Vault, bytes: &[u8], file: &str, options: &ParseOptions) -> Result<(), SourceError> {
    sharing::read(vault, bytes, file, options)
}

/// Info findings (an unknown field kind kept as text) change nothing, so
/// `--strict` lets them pass; warnings and errors mean a value was recovered
/// or an item skipped, which `--strict` refuses.
fn record(vault: &mut Vault, finding: Finding, options: &ParseOptions) -> Result<(), SourceError> {
    if finding.severity == Severity::Info {
        vault.findings.push(finding);
        Ok(())
    } else {
        recover_or_fail(vault, finding, options)
    }
}

/// Describes a serde_json error without its `Display`, which can quote a
/// piece of the input (a password in a mistyped field).
pub(crate) fn json_problem(e: &serde_json::Error) -> &'static str {
    match e.classify() {
        serde_json::error::Category::Io => "could not be read",
        serde_json::error::Category::Syntax => "invalid JSON syntax",
        serde_json::error::Category::Data => "a value has the wrong type",
        serde_json::error::Category::Eof => "the JSON ends early (is the file truncated?)",
    }
}

/// Dates and flags are integers and booleans in every export seen, but a
/// float, a numeric string or a 0/1 must not cost the user an item, so these
/// fields are read from raw JSON.
fn timestamp(v: &Value) -> Option<Timestamp> {
    let secs = match v {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.is_finite() && f.abs() < 1e15).map(|f| f as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }?;
    (secs > 0).then_some(Timestamp(secs))
}

/// `true`, a non-zero number or `"true"`/`"1"`.
fn flag(v: &Value) -> bool {
    match v {
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => matches!(s.trim(), "true" | "1"),
        _ => false,
    }
}

/// A positive number (1Password's `favIndex`/`faveIndex`).
fn positive(v: &Value) -> bool {
    match v {
        Value::Number(n) => n.as_f64().is_some_and(|f| f > 0.0),
        Value::String(s) => s.trim().parse::<f64>().is_ok_and(|f| f > 0.0),
        _ => false,
    }
}

/// A plain field with a kind and an optional section title.
fn plain_field(label: &str, value: String, kind: FieldKind, group: Option<&str>) -> Field {
    Field {
        label: label.to_owned(),
        value: FieldValue::Plain(value),
        kind,
        group: group.filter(|g| !g.is_empty()).map(str::to_owned),
    }
}

/// A concealed field: the value goes straight into a `Secret`.
fn secret_field(label: &str, value: String, kind: FieldKind, group: Option<&str>) -> Field {
    Field {
        label: label.to_owned(),
        value: FieldValue::Concealed(Secret::text(value)),
        kind,
        group: group.filter(|g| !g.is_empty()).map(str::to_owned),
    }
}

/// 1Password items may carry several one-time passwords; the model has one
/// `totp`, so the first goes there and later ones stay as concealed fields.
fn add_totp(entry: &mut Entry, label: &str, value: String, group: Option<&str>) {
    if value.is_empty() {
        return;
    }
    if entry.totp.is_none() {
        entry.totp = Some(Secret::text(value));
    } else {
        entry.fields.push(secret_field(label, value, FieldKind::Totp, group));
    }
}

/// `Some(s)` unless `s` is empty or only whitespace.
fn non_empty(s: &str) -> Option<String> {
    if s.trim().is_empty() {
        None
    } else {
        Some(s.to_owned())
    }
}

/// 1Password `monthYear` values are integers `YYYYMM` (1PUX) or `YYYYMM`
/// strings (1PIF); the model wants `YYYY-MM`. `None` when it is not one.
fn month_year(n: i64) -> Option<String> {
    let (y, m) = (n / 100, n % 100);
    if (1..=9999).contains(&y) && (1..=12).contains(&m) {
        Some(format!("{y:04}-{m:02}"))
    } else {
        None
    }
}

/// A label for a field that has no title: 1Password templates leave the
/// title empty for built-in fields and name them only by id.
fn label_or<'a>(title: &'a str, id: &'a str, fallback: &'a str) -> &'a str {
    if !title.trim().is_empty() {
        title
    } else if !id.trim().is_empty() {
        id
    } else {
        fallback
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn month_year_accepts_only_real_months() {
        assert_eq!(month_year(202_604).as_deref(), Some("2026-04"));
        assert_eq!(month_year(202_613), None);
        assert_eq!(month_year(0), None);
    }
}
