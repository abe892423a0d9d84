//! LastPass structured secure notes: a note whose text starts with
//! `NoteType:` is a typed item (card, bank account, SSH key…) written as
//! `Label:value` lines. The field tables live in
//! `formats/lastpass-note-types.toml`, documented in `formats/lastpass-csv.md`.

use std::sync::OnceLock;

use serde::Deserialize;

use crate::model::{EntryKind, Field, FieldKind, FieldValue, Timestamp};
use crate::secret::Secret;

const TABLE_TOML: &str = include_str!("../../../formats/lastpass-note-types.toml");

/// The marker LastPass puts on the first line of every structured note.
pub(crate) const NOTE_TYPE_PREFIX: &str = "NoteType:";

#[derive(Deserialize)]
struct TableFile {
    concealed_words: Vec<String>,
    types: Vec<TypeFile>,
}

#[derive(Deserialize)]
struct TypeFile {
    name: String,
    kind: String,
    username: Option<String>,
    password: Option<String>,
    fields: Vec<FieldFile>,
}

#[derive(Deserialize)]
struct FieldFile {
    label: String,
    kind: Option<String>,
    #[serde(default)]
    concealed: bool,
}

/// How a listed label's value is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ValueKind {
    /// LastPass's `Month,Day,Year` / `Month,Year` date, turned into ISO.
    Date,
    Plain(FieldKind),
}

struct FieldSpec {
    label: String,
    kind: ValueKind,
    concealed: bool,
}

struct NoteType {
    name: String,
    kind: EntryKind,
    username: Option<String>,
    password: Option<String>,
    fields: Vec<FieldSpec>,
}

struct Table {
    concealed_words: Vec<String>,
    types: Vec<NoteType>,
}

fn field_kind(name: &str) -> Option<FieldKind> {
    Some(match name {
        "text" => FieldKind::Text,
        "multiline" => FieldKind::Multiline,
        "concealed" => FieldKind::Concealed,
        "email" => FieldKind::Email,
        "phone" => FieldKind::Phone,
        "url" => FieldKind::Url,
        "month_year" => FieldKind::MonthYear,
        "card_number" => FieldKind::CardNumber,
        "card_type" => FieldKind::CardType,
        "address" => FieldKind::Address,
        "private_key" => FieldKind::PrivateKey,
        "public_key" => FieldKind::PublicKey,
        "fingerprint" => FieldKind::Fingerprint,
        "key_type" => FieldKind::KeyType,
        _ => return None,
    })
}

fn load(text: &str) -> Result<Table, String> {
    let file: TableFile = toml::from_str(text).map_err(|e| e.to_string())?;
    let mut types = Vec::with_capacity(file.types.len());
    for t in file.types {
        let kind = EntryKind::from_name(&t.kind).ok_or_else(|| format!("type {:?}: unknown kind {:?}", t.name, t.kind))?;
        let mut fields = Vec::with_capacity(t.fields.len());
        for f in t.fields {
            let kind = match f.kind.as_deref() {
                None => ValueKind::Plain(FieldKind::Text),
                Some("date") => ValueKind::Date,
                Some(k) => ValueKind::Plain(
                    field_kind(k).ok_or_else(|| format!("type {:?} field {:?}: unknown kind {k:?}", t.name, f.label))?,
                ),
            };
            fields.push(FieldSpec {
                label: f.label,
                kind,
                concealed: f.concealed,
            });
        }
        types.push(NoteType {
            name: t.name,
            kind,
            username: t.username,
            password: t.password,
            fields,
        });
    }
    Ok(Table {
        concealed_words: file.concealed_words,
        types,
    })
}

fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| match load(TABLE_TOML) {
        Ok(table) => table,
        // The table is compiled in, not input; `note_type_table_loads` keeps it valid.
        Err(e) => panic!("formats/lastpass-note-types.toml is invalid: {e}"),
    })
}

/// Words that make an unlisted label concealed.
pub(crate) fn concealed_words() -> &'static [String] {
    &table().concealed_words
}

/// The NoteType names vaultferry knows, in table order (for docs and tests).
pub fn known_note_types() -> Vec<&'static str> {
    table().types.iter().map(|t| t.name.as_str()).collect()
}

/// Something in a note worth a finding. Never carries a value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum NoteProblem {
    /// `NoteType:` names a type that is neither in the table nor `Custom_<digits>`.
    UnknownType,
    /// A date field whose value is not a LastPass date; kept as text.
    UnparsedDate { label: String },
}

/// A structured note, split into fields.
pub(crate) struct ParsedNote {
    pub kind: EntryKind,
    pub source_type: String,
    pub fields: Vec<Field>,
    pub notes: Option<String>,
    pub username: Option<String>,
    pub password: Option<Secret>,
    pub problems: Vec<NoteProblem>,
}

/// Whether `Custom_<digits>` (a user-defined type; its id is all LastPass
/// writes, the labels come with each note).
fn is_custom(name: &str) -> bool {
    name.strip_prefix("Custom_")
        .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
}

/// Whether a label LastPass's tables do not list (a `Custom_` type's, an
/// unknown CSV column) names a secret: any of its words is in `concealed_words`.
pub(crate) fn looks_sensitive(label: &str, words: &[String]) -> bool {
    label
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .any(|w| words.iter().any(|s| s.eq_ignore_ascii_case(w)))
}

/// Parses a note, or `None` when it does not start with `NoteType:`: such a
/// note is plain text, whatever it holds further down.
///
/// Rules forced by how LastPass writes these notes:
/// - each line splits on its first colon only (URLs and times hold colons);
/// - `Notes:` takes the rest of the text, later lines included;
/// - `Private Key:` runs until the `Public Key:` line, because PEM headers
///   (`Proc-Type: 4,ENCRYPTED`) look like labels;
/// - a line without a colon continues the field before it;
/// - empty values are left out (blank dates are `,` or `,,`).
pub(crate) fn parse(text: &str) -> Option<ParsedNote> {
    let rest = text.strip_prefix(NOTE_TYPE_PREFIX)?;
    let table = table();
    let mut lines = rest.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
    let type_name = lines.next().unwrap_or("").trim().to_owned();
    let ty = table
        .types
        .iter()
        .find(|t| t.name == type_name)
        .or_else(|| table.types.iter().find(|t| t.name.eq_ignore_ascii_case(&type_name)));
    let mut problems = Vec::new();
    let kind = match ty {
        Some(t) => t.kind,
        None if is_custom(&type_name) => EntryKind::Custom,
        None => {
            problems.push(NoteProblem::UnknownType);
            EntryKind::Unknown
        }
    };

    // (label, value) pairs in order; values may grow by continuation lines.
    let mut raw: Vec<(String, String)> = Vec::new();
    let mut notes: Option<String> = None;
    let mut in_private_key = false;
    while let Some(line) = lines.next() {
        if in_private_key {
            if line.trim_start().starts_with("Public Key:") {
                in_private_key = false;
            } else {
                if let Some((_, value)) = raw.last_mut() {
                    value.push('\n');
                    value.push_str(line);
                }
                continue;
            }
        }
        match line.split_once(':') {
            Some((label, value)) => {
                let label = label.trim();
                if label == "Notes" {
                    let mut all = value.to_owned();
                    for later in lines.by_ref() {
                        all.push('\n');
                        all.push_str(later);
                    }
                    let all = all.trim();
                    if !all.is_empty() {
                        notes = Some(all.to_owned());
                    }
                    break;
                }
                in_private_key = label == "Private Key";
                raw.push((label.to_owned(), value.trim().to_owned()));
            }
            None if line.trim().is_empty() => {}
            None => match raw.last_mut() {
                Some((_, value)) => {
                    value.push('\n');
                    value.push_str(line.trim_end());
                }
                None => raw.push((String::new(), line.trim().to_owned())),
            },
        }
    }

    let mut fields = Vec::with_capacity(raw.len());
    let mut username = None;
    let mut password = None;
    for (label, value) in raw {
        let value = value.trim().to_owned();
        let spec = ty.and_then(|t| {
            t.fields
                .iter()
                .find(|f| f.label == label)
                .or_else(|| t.fields.iter().find(|f| f.label.eq_ignore_ascii_case(&label)))
        });
        let concealed = match spec {
            Some(s) => s.concealed,
            None => looks_sensitive(&label, &table.concealed_words),
        };
        let (value, kind) = match spec.map(|s| s.kind) {
            Some(ValueKind::Date) => match parse_date(&value) {
                Ok(None) => continue,
                Ok(Some((iso, kind))) => (iso, kind),
                Err(()) => {
                    problems.push(NoteProblem::UnparsedDate { label: label.clone() });
                    (value, FieldKind::Text)
                }
            },
            Some(ValueKind::Plain(kind)) if kind != FieldKind::Text => (value, kind),
            _ if value.contains('\n') => (value, FieldKind::Multiline),
            _ if concealed => (value, FieldKind::Concealed),
            _ => (value, FieldKind::Text),
        };
        if value.is_empty() {
            continue;
        }
        if let Some(t) = ty {
            if t.username.as_deref() == Some(label.as_str()) && username.is_none() {
                username = Some(value.clone());
            }
            if t.password.as_deref() == Some(label.as_str()) && password.is_none() {
                password = Some(Secret::text(value.clone()));
            }
        }
        let value = if concealed {
            FieldValue::Concealed(Secret::text(value))
        } else {
            FieldValue::Plain(value)
        };
        fields.push(Field {
            label,
            value,
            kind,
            group: None,
        });
    }
    Some(ParsedNote {
        kind,
        source_type: type_name,
        fields,
        notes,
        username,
        password,
        problems,
    })
}

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

fn month(text: &str) -> Option<u32> {
    let t = text.trim().to_ascii_lowercase();
    if let Ok(n) = t.parse::<u32>() {
        return (1..=12).contains(&n).then_some(n);
    }
    if t.len() < 3 {
        return None;
    }
    MONTHS
        .iter()
        .position(|m| m.starts_with(&t))
        .and_then(|i| u32::try_from(i + 1).ok())
}

/// LastPass writes dates as `March,14,2024` and month-years as
/// `March,2029`; a blank date is `,` or `,,`. `Ok(None)` is blank, `Err` is
/// not a date at all (the caller keeps the text). ISO dates pass through.
pub(crate) fn parse_date(value: &str) -> Result<Option<(String, FieldKind)>, ()> {
    let v = value.trim();
    if v.chars().all(|c| c == ',' || c.is_whitespace()) {
        return Ok(None);
    }
    let parts: Vec<&str> = v.split(',').map(str::trim).collect();
    let year = |s: &str| s.parse::<i64>().ok().filter(|y| (1000..=9999).contains(y));
    match parts.as_slice() {
        [m, y] => {
            let (m, y) = (month(m).ok_or(())?, year(y).ok_or(())?);
            Ok(Some((format!("{y:04}-{m:02}"), FieldKind::MonthYear)))
        }
        [m, d, y] => {
            let (m, y) = (month(m).ok_or(())?, year(y).ok_or(())?);
            let d: u32 = d.parse().map_err(|_| ())?;
            Timestamp::from_civil(y, m, d, 0, 0, 0).ok_or(())?;
            Ok(Some((format!("{y:04}-{m:02}-{d:02}"), FieldKind::Date)))
        }
        [iso] => {
            // Already ISO (`2024-03-14`, `2029-03`): some tools re-export that way.
            let nums: Vec<&str> = iso.split('-').collect();
            match nums.as_slice() {
                [y, m] if y.len() == 4 && m.len() == 2 => {
                    let (y, m) = (year(y).ok_or(())?, m.parse::<u32>().map_err(|_| ())?);
                    Timestamp::from_civil(y, m, 1, 0, 0, 0).ok_or(())?;
                    Ok(Some(((*iso).to_owned(), FieldKind::MonthYear)))
                }
                [y, m, d] if y.len() == 4 && m.len() == 2 && d.len() == 2 => {
                    let y = year(y).ok_or(())?;
                    let m = m.parse::<u32>().map_err(|_| ())?;
                    let d = d.parse::<u32>().map_err(|_| ())?;
                    Timestamp::from_civil(y, m, d, 0, 0, 0).ok_or(())?;
                    Ok(Some(((*iso).to_owned(), FieldKind::Date)))
                }
                _ => Err(()),
            }
        }
        _ => Err(()),
    }
}
