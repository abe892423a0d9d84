//! CXF, the FIDO Alliance's Credential Exchange Format 1.0
//! (`formats/cxf.md`): a header with accounts, or one bare account, each
//! with collections (folders) and items (entries).
//!
//! Read "streamed enough": the document is held once, as text that is
//! zeroed when dropped, and the collections are decoded first (an item's
//! folder is named by the collection that links it, which may come after
//! the item); each item stays raw JSON until it is turned into its entry and
//! handed to the sink, so at most one decoded item is alive at a time. Its
//! secrets are moved (never copied) out of the decoded JSON into
//! [`Secret`](crate::secret::Secret).

mod account;
mod credentials;
mod ids;
mod lines;
mod sharing;

use std::io::Read as _;
use std::path::Path;

use serde_json::value::RawValue;
use serde_json::Value;
use zeroize::Zeroizing;

use super::{recover_or_fail, ErrorKind, ParseOptions, Sink, SourceError};
use crate::model::{Finding, Position, Severity, SourceKind, Vault};

pub use ids::{decode_b64url, encode_b64url};
pub use sharing::{GROUPS_EXTENSION, SHARED_EXTENSION};

/// Ours, on an item our export wrote: the entry kind and source type, which
/// CXF's credential types cannot tell apart (a Wi-Fi secret written as
/// fields).
pub const ITEM_EXTENSION: &str = "vaultferry-item";
/// Ours, on an EditableField our export wrote: the field kind exactly (CXF
/// has no URL, phone or card-number field type).
pub const FIELD_EXTENSION: &str = "vaultferry-field";
pub(crate) use lines::Lines;

/// The major version this reader follows.
const MAJOR: u64 = 1;

/// Whether the first bytes of a file look like a CXF document: a JSON
/// object naming `exporterRpId` (a header), or `collections`/`items` with
/// `email`/`credentials` (a bare account).
pub fn looks_like_cxf(text: &str) -> bool {
    let opens = text
        .trim_start()
        .strip_prefix('{')
        .is_some_and(|rest| rest.trim_start().starts_with('"'));
    if !opens {
        return false;
    }
    text.contains("\"exporterRpId\"")
        || (text.contains("\"collections\"") || text.contains("\"items\""))
            && (text.contains("\"email\"") || text.contains("\"credentials\""))
}

/// Reads a CXF document into a vault.
pub fn read(path: &Path, file: &str, options: &ParseOptions) -> Result<Vault, SourceError> {
    read_into(path, file, options, Sink::Keep)
}

/// [`read`], handing each entry to `sink` as it is decoded.
pub(crate) fn read_into(path: &Path, file: &str, options: &ParseOptions, sink: Sink<'_>) -> Result<Vault, SourceError> {
    let text = load(path, file, options)?;
    let documents = path.parent().map(|dir| dir.join("documents"));
    read_text(&text, file, documents.as_deref(), options, sink)
}

/// Whose export the document is, as [`read`] would say (`Vault::owner`:
/// the first account with an email), without reading its items: a
/// streamed run must key personal folders before the first entry arrives,
/// and a bare account may name its email after its items.
pub fn owner(path: &Path, file: &str, options: &ParseOptions) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Account {
        email: Option<String>,
    }
    #[derive(serde::Deserialize)]
    struct Top {
        accounts: Option<Vec<Account>>,
        email: Option<String>,
    }
    let text = load(path, file, options).ok()?;
    let body = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let top: Top = serde_json::from_str(body).ok()?;
    let emails = match top.accounts {
        Some(accounts) => accounts.into_iter().map(|a| a.email).collect(),
        None => vec![top.email],
    };
    emails
        .into_iter()
        .flatten()
        .map(|e| e.trim().to_owned())
        .find(|e| !e.is_empty())
}

/// Reads the document whole into text that is zeroed when dropped
/// (it holds every secret of the export), refusing one larger than the
/// unpacked-size bound.
fn load(path: &Path, file: &str, options: &ParseOptions) -> Result<Zeroizing<String>, SourceError> {
    let handle = super::open(path)?;
    let limit = options.limits.max_unpacked_bytes;
    let mut bytes = Zeroizing::new(Vec::new());
    handle
        .take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| SourceError::io(file, e))?;
    if bytes.len() as u64 > limit {
        return Err(SourceError::new(
            ErrorKind::Limit,
            Position::file(file),
            format!(
                "the CXF document is larger than {limit} bytes; expected at most that (raise --max-unpacked-bytes)"
            ),
        ));
    }
    match String::from_utf8(std::mem::take(&mut *bytes)) {
        Ok(text) => Ok(Zeroizing::new(text)),
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            let mut raw = Zeroizing::new(e.into_bytes());
            let line = raw.get(..at).map_or(0, |b| b.iter().filter(|&&c| c == b'\n').count()) as u64 + 1;
            raw.iter_mut().for_each(|b| *b = 0);
            Err(SourceError::malformed(
                Position::file(file).line(line),
                "the file is not UTF-8; expected a CXF JSON document in UTF-8",
            ))
        }
    }
}

/// Reads a CXF document from its text. `documents` is the folder that may
/// hold the bytes of its files (`documents/<file id>`).
pub(crate) fn read_text(
    text: &str,
    file: &str,
    documents: Option<&Path>,
    options: &ParseOptions,
    mut sink: Sink<'_>,
) -> Result<Vault, SourceError> {
    let body = text.strip_prefix('\u{feff}').unwrap_or(text);
    let lines = Lines::new(text);
    let mut vault = Vault::new(SourceKind::Cxf, file);
    let mut top: Keys<'_> =
        serde_json::from_str(body).map_err(|e| json_error(file, &e, "a CXF header or account object"))?;
    let is_header = top.accounts.is_some();
    let accounts = top.accounts.take().unwrap_or_default();
    if is_header {
        header(&top, &lines, &mut vault, options)?;
    }
    let reader = account::Reader {
        file,
        lines: &lines,
        options,
        documents,
    };
    if is_header {
        let several = accounts.len() > 1;
        if several {
            vault.findings.push(
                Finding::info(
                    "cxf.several-accounts",
                    format!(
                        "the document holds {} accounts; each one's collections and items are put under a top folder named by its email",
                        accounts.len()
                    ),
                )
                .at(Position::file(file).field("accounts")),
            );
        }
        let parsed: Vec<account::Account<'_>> =
            accounts.iter().map(|raw| reader.parse(raw)).collect::<Result<_, _>>()?;
        let directory = account::Directory::of(&parsed);
        for acc in &parsed {
            reader.read(acc, several, &directory, &mut vault, &mut sink)?;
        }
    } else {
        let acc = reader.parse_map(top, lines.line_of(body))?;
        let directory = account::Directory::of(std::slice::from_ref(&acc));
        reader.read(&acc, false, &directory, &mut vault, &mut sink)?;
    }
    Ok(vault)
}

/// The keys of a header or an account, read in one pass: scalars kept raw
/// (their line is known, an odd type is a finding, not a failed document),
/// lists cut into raw elements to be decoded one at a time.
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Keys<'a> {
    #[serde(borrow)]
    accounts: Option<Vec<&'a RawValue>>,
    #[serde(borrow)]
    version: Option<&'a RawValue>,
    #[serde(borrow)]
    exporter_rp_id: Option<&'a RawValue>,
    #[serde(borrow)]
    exporter_display_name: Option<&'a RawValue>,
    #[serde(borrow)]
    timestamp: Option<&'a RawValue>,
    #[serde(borrow)]
    id: Option<&'a RawValue>,
    #[serde(borrow)]
    username: Option<&'a RawValue>,
    #[serde(borrow)]
    email: Option<&'a RawValue>,
    #[serde(borrow)]
    extensions: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub(crate) collections: Vec<&'a RawValue>,
    #[serde(borrow, default)]
    pub(crate) items: Vec<&'a RawValue>,
}

impl<'a> Keys<'a> {
    /// A scalar key's raw value, by its CXF name.
    pub(crate) fn get(&self, key: &str) -> Option<&'a RawValue> {
        match key {
            "version" => self.version,
            "exporterRpId" => self.exporter_rp_id,
            "exporterDisplayName" => self.exporter_display_name,
            "timestamp" => self.timestamp,
            "id" => self.id,
            "username" => self.username,
            "email" => self.email,
            "extensions" => self.extensions,
            _ => None,
        }
    }
}

/// The header's own keys: a version this reader follows, and who exported.
fn header(top: &Keys<'_>, lines: &Lines<'_>, vault: &mut Vault, options: &ParseOptions) -> Result<(), SourceError> {
    let file = vault.file.clone();
    let value = |key: &str| {
        top.get(key)
            .and_then(|raw| serde_json::from_str::<Value>(raw.get()).ok())
    };
    let at = |key: &str| {
        let line = top.get(key).map_or(1, |raw| lines.line_of(raw.get()));
        Position::file(&file).line(line).field(key)
    };
    match value("version") {
        Some(v) => {
            let major = v.get("major").and_then(Value::as_u64);
            let minor = v.get("minor").and_then(Value::as_u64).unwrap_or(0);
            if major != Some(MAJOR) {
                return Err(SourceError::malformed(
                    at("version"),
                    format!(
                        "'version.major' is {}; expected {MAJOR} (CXF 1.x)",
                        major.map_or_else(|| "missing".to_owned(), |m| m.to_string())
                    ),
                ));
            }
            if minor > 0 {
                vault.findings.push(
                    Finding::info(
                        "cxf.newer-minor-version",
                        format!("the document is CXF 1.{minor}; it is read as 1.0 and keys 1.0 does not know are kept as fields"),
                    )
                    .at(at("version")),
                );
            }
        }
        None => {
            return Err(SourceError::malformed(
                at("version"),
                "the header has no readable 'version'; expected {\"major\": 1, \"minor\": 0}",
            ))
        }
    }
    let name = |key: &str| value(key).and_then(|v| v.as_str().map(str::to_owned));
    if let Some(rp) = name("exporterRpId") {
        let display = name("exporterDisplayName").unwrap_or_default();
        vault
            .findings
            .push(Finding::info("cxf.exporter", format!("exported by {display} ({rp})")).at(at("exporterRpId")));
    }
    if let Some(v) = value("timestamp") {
        if ids::timestamp(&v).is_err() {
            recover_or_fail(vault, bad_timestamp(at("timestamp")), options)?;
        }
    }
    Ok(())
}

pub(crate) fn bad_timestamp(position: Position) -> Finding {
    Finding::warning(
        "cxf.bad-timestamp",
        "a timestamp is not whole seconds between the years 0 and 9999; it is left out",
    )
    .at(position)
}

/// A serde_json error as a positioned error, without its `Display` (which
/// can quote a piece of the input, a password in a mistyped field).
fn json_error(file: &str, e: &serde_json::Error, expected: &str) -> SourceError {
    let position = Position::file(file).line(e.line() as u64);
    SourceError::malformed(
        position,
        format!("{} (column {}); expected {expected}", problem(e), e.column()),
    )
}

fn problem(e: &serde_json::Error) -> &'static str {
    super::onepassword::json_problem(e)
}

/// Info findings change nothing, so `--strict` lets them pass; warnings and
/// errors mean something was recovered or skipped.
pub(crate) fn record(vault: &mut Vault, finding: Finding, options: &ParseOptions) -> Result<(), SourceError> {
    if finding.severity == Severity::Info {
        vault.findings.push(finding);
        Ok(())
    } else {
        recover_or_fail(vault, finding, options)
    }
}

#[cfg(test)]
mod tests;
