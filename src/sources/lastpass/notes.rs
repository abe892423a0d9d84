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
        let kind =
            EntryKind::from_name(&t.kind).ok_or_else(|| format!("type {:?}: unknown kind {:?}", t.name, t.kind))?;
        let mut fields = Vec::with_capacity(t.fields.len());
        for f in t.fields {
            let kind = match f.kind.as_deref() {
                None => ValueKind::Plain(FieldKind::Text),
                Some("date") => ValueKind::Date,
                Some(k) => ValueKind::Plain(
                    field_kind(k)
                        .ok_or_else(|| format!("type {:?} field {:?}: unknown kind {k:?}", t.name, f.label))?,
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

/// A note's type line: its name as written, the table's entry for it, the
/// entry kind and the problem an unknown name is.
struct Head<'t> {
    type_name: &'t str,
    ty: Option<&'static NoteType>,
    kind: EntryKind,
    problems: Vec<NoteProblem>,
}

/// Splits off the `NoteType:` line; `None` when the text does not start with it.
fn head(text: &str) -> Option<(Head<'_>, impl Iterator<Item = &str>)> {
    let rest = text.strip_prefix(NOTE_TYPE_PREFIX)?;
    let table = table();
    let mut lines = rest.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
    let type_name = lines.next().unwrap_or("").trim();
    let ty = table
        .types
        .iter()
        .find(|t| t.name == type_name)
        .or_else(|| table.types.iter().find(|t| t.name.eq_ignore_ascii_case(type_name)));
    let mut problems = Vec::new();
    let kind = match ty {
        Some(t) => t.kind,
        None if is_custom(type_name) => EntryKind::Custom,
        None => {
            problems.push(NoteProblem::UnknownType);
            EntryKind::Unknown
        }
    };
    Some((
        Head {
            type_name,
            ty,
            kind,
            problems,
        },
        lines,
    ))
}

/// The table's field for `label` in a note of type `ty`.
fn spec<'a>(ty: Option<&'a NoteType>, label: &str) -> Option<&'a FieldSpec> {
    ty.and_then(|t| {
        t.fields
            .iter()
            .find(|f| f.label == label)
            .or_else(|| t.fields.iter().find(|f| f.label.eq_ignore_ascii_case(label)))
    })
}

/// A note's lines as `(label, value)` pairs, in order, and the text of its
/// `Notes:` label (with `notes`). Only the pairs whose label `keep` accepts
/// are built, so a caller that needs a few labels does not copy the whole
/// note; which line belongs to which label is decided the same way either way.
fn walk<'t>(
    mut lines: impl Iterator<Item = &'t str>,
    keep: impl Fn(&str) -> bool,
    notes: bool,
) -> (Vec<(&'t str, String)>, Option<String>) {
    // Values may grow by continuation lines.
    let mut raw: Vec<(&'t str, String)> = Vec::new();
    // Whether the last label was kept (its pair is `raw`'s last); `None`
    // before the first label.
    let mut last_kept = None;
    let mut text = None;
    let mut in_private_key = false;
    while let Some(line) = lines.next() {
        if in_private_key {
            if line.trim_start().starts_with("Public Key:") {
                in_private_key = false;
            } else {
                if last_kept == Some(true) {
                    if let Some((_, value)) = raw.last_mut() {
                        value.push('\n');
                        value.push_str(line);
                    }
                }
                continue;
            }
        }
        match line.split_once(':') {
            Some((label, value)) => {
                let label = label.trim();
                if label == "Notes" {
                    if notes {
                        let mut all = value.to_owned();
                        for later in lines.by_ref() {
                            all.push('\n');
                            all.push_str(later);
                        }
                        let all = all.trim();
                        if !all.is_empty() {
                            text = Some(all.to_owned());
                        }
                    }
                    break;
                }
                in_private_key = label == "Private Key";
                let kept = keep(label);
                if kept {
                    raw.push((label, value.trim().to_owned()));
                }
                last_kept = Some(kept);
            }
            None if line.trim().is_empty() => {}
            None => match last_kept {
                Some(true) => {
                    if let Some((_, value)) = raw.last_mut() {
                        value.push('\n');
                        value.push_str(line.trim_end());
                    }
                }
                Some(false) => {}
                None => {
                    let kept = keep("");
                    if kept {
                        raw.push(("", line.trim().to_owned()));
                    }
                    last_kept = Some(kept);
                }
            },
        }
    }
    (raw, text)
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
    let table = table();
    let (head, lines) = head(text)?;
    let Head {
        type_name,
        ty,
        kind,
        mut problems,
    } = head;
    let (raw, notes) = walk(lines, |_| true, true);

    let mut fields = Vec::with_capacity(raw.len());
    let mut username = None;
    let mut password = None;
    for (label, value) in raw {
        let value = value.trim().to_owned();
        let spec = spec(ty, label);
        let concealed = match spec {
            Some(s) => s.concealed,
            None => looks_sensitive(label, &table.concealed_words),
        };
        let (value, kind) = match spec.map(|s| s.kind) {
            Some(ValueKind::Date) => match parse_date(&value) {
                Ok(None) => continue,
                Ok(Some((iso, kind))) => (iso, kind),
                Err(()) => {
                    problems.push(NoteProblem::UnparsedDate {
                        label: label.to_owned(),
                    });
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
            if t.username.as_deref() == Some(label) && username.is_none() {
                username = Some(value.clone());
            }
            if t.password.as_deref() == Some(label) && password.is_none() {
                password = Some(Secret::text(value.clone()));
            }
        }
        let value = if concealed {
            FieldValue::Concealed(Secret::text(value))
        } else {
            FieldValue::Plain(value)
        };
        fields.push(Field {
            label: label.to_owned(),
            value,
            kind,
            group: None,
        });
    }
    Some(ParsedNote {
        kind,
        source_type: type_name.to_owned(),
        fields,
        notes,
        username,
        password,
        problems,
    })
}

/// What [`parse`] says about a note's type and problems, without building
/// its fields: for a summary that only counts entries by kind. Only date
/// values are read (they are the only ones that can be a problem); the
/// unit test `scan_agrees_with_parse` keeps the two in step.
pub(crate) struct NoteSummary<'t> {
    pub kind: EntryKind,
    pub source_type: &'t str,
    pub problems: Vec<NoteProblem>,
}

/// [`parse`] reduced to a [`NoteSummary`]; `None` when it is not a structured note.
pub(crate) fn scan(text: &str) -> Option<NoteSummary<'_>> {
    let (head, lines) = head(text)?;
    let Head {
        type_name,
        ty,
        kind,
        mut problems,
    } = head;
    let dates = |t: &'static NoteType| t.fields.iter().filter(|f| f.kind == ValueKind::Date);
    // The field a label names has a label equal to it but for case: a
    // label no date field's matches that way is not a date, which settles
    // most labels without looking through the type's other fields.
    let is_date = |label: &str| {
        ty.is_some_and(|t| dates(t).any(|f| f.label.eq_ignore_ascii_case(label)))
            && spec(ty, label).is_some_and(|s| s.kind == ValueKind::Date)
    };
    if ty.is_some_and(|t| dates(t).next().is_some()) {
        let (raw, _) = walk(lines, is_date, false);
        for (label, value) in raw {
            if read_date(&value).is_err() {
                problems.push(NoteProblem::UnparsedDate {
                    label: label.to_owned(),
                });
            }
        }
    }
    Some(NoteSummary {
        kind,
        source_type: type_name,
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
    let t = text.trim();
    if let Ok(n) = t.parse::<u32>() {
        return (1..=12).contains(&n).then_some(n);
    }
    if t.len() < 3 {
        return None;
    }
    MONTHS
        .iter()
        .position(|m| m.get(..t.len()).is_some_and(|p| p.eq_ignore_ascii_case(t)))
        .and_then(|i| u32::try_from(i + 1).ok())
}

/// A date as [`read_date`] found it, before it is written out as ISO.
enum DateValue<'a> {
    MonthYear(i64, u32),
    Date(i64, u32, u32),
    /// Already ISO, of this kind.
    Iso(&'a str, FieldKind),
}

/// LastPass writes dates as `March,14,2024` and month-years as
/// `March,2029`; a blank date is `,` or `,,`. `Ok(None)` is blank, `Err` is
/// not a date at all (the caller keeps the text). ISO dates pass through.
pub(crate) fn parse_date(value: &str) -> Result<Option<(String, FieldKind)>, ()> {
    Ok(read_date(value)?.map(|date| match date {
        DateValue::MonthYear(y, m) => (format!("{y:04}-{m:02}"), FieldKind::MonthYear),
        DateValue::Date(y, m, d) => (format!("{y:04}-{m:02}-{d:02}"), FieldKind::Date),
        DateValue::Iso(iso, kind) => (iso.to_owned(), kind),
    }))
}

/// [`parse_date`] without writing anything: whether a note's date reads
/// is all a summary needs to know, for every date of a million notes.
fn read_date(value: &str) -> Result<Option<DateValue<'_>>, ()> {
    let v = value.trim();
    if v.chars().all(|c| c == ',' || c.is_whitespace()) {
        return Ok(None);
    }
    let mut parts = v.split(',').map(str::trim);
    let parts = [parts.next(), parts.next(), parts.next(), parts.next()];
    let year = |s: &str| s.parse::<i64>().ok().filter(|y| (1000..=9999).contains(y));
    match parts {
        [Some(m), Some(y), None, None] => {
            let (m, y) = (month(m).ok_or(())?, year(y).ok_or(())?);
            Ok(Some(DateValue::MonthYear(y, m)))
        }
        [Some(m), Some(d), Some(y), None] => {
            let (m, y) = (month(m).ok_or(())?, year(y).ok_or(())?);
            let d: u32 = d.parse().map_err(|_| ())?;
            Timestamp::from_civil(y, m, d, 0, 0, 0).ok_or(())?;
            Ok(Some(DateValue::Date(y, m, d)))
        }
        [Some(iso), None, None, None] => {
            // Already ISO (`2024-03-14`, `2029-03`): some tools re-export that way.
            let mut nums = iso.split('-');
            match [nums.next(), nums.next(), nums.next(), nums.next()] {
                [Some(y), Some(m), None, None] if y.len() == 4 && m.len() == 2 => {
                    let (y, m) = (year(y).ok_or(())?, m.parse::<u32>().map_err(|_| ())?);
                    Timestamp::from_civil(y, m, 1, 0, 0, 0).ok_or(())?;
                    Ok(Some(DateValue::Iso(iso, FieldKind::MonthYear)))
                }
                [Some(y), Some(m), Some(d), None] if y.len() == 4 && m.len() == 2 && d.len() == 2 => {
                    let y = year(y).ok_or(())?;
                    let m = m.parse::<u32>().map_err(|_| ())?;
                    let d = d.parse::<u32>().map_err(|_| ())?;
                    Timestamp::from_civil(y, m, d, 0, 0, 0).ok_or(())?;
                    Ok(Some(DateValue::Iso(iso, FieldKind::Date)))
                }
                _ => Err(()),
            }
        }
        _ => Err(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note(text: &str) -> ParsedNote {
        match parse(text) {
            Some(n) => n,
            None => panic!("not a structured note: {text:?}"),
        }
    }

    fn value<'a>(n: &'a ParsedNote, label: &str) -> Option<&'a Field> {
        n.fields.iter().find(|f| f.label == label)
    }

    /// Asserts a field's value, whether it is concealed, and its kind.
    fn check(n: &ParsedNote, label: &str, expected: &str, concealed: bool, kind: FieldKind) {
        let Some(f) = value(n, label) else {
            panic!(
                "no field {label:?} in {:?}",
                n.fields.iter().map(|f| &f.label).collect::<Vec<_>>()
            )
        };
        assert_eq!(f.value.expose(), expected, "{label}");
        assert_eq!(f.is_concealed(), concealed, "{label} concealed");
        assert_eq!(f.kind, kind, "{label} kind");
    }

    #[test]
    fn note_type_table_loads_and_covers_every_lastpass_type() {
        let names = known_note_types();
        for t in [
            "Address",
            "Bank Account",
            "Credit Card",
            "Database",
            "Driver's License",
            "Email Account",
            "Health Insurance",
            "Instant Messenger",
            "Insurance",
            "Membership",
            "Passport",
            "Server",
            "Social Security",
            "Software License",
            "SSH Key",
            "Wi-Fi Password",
        ] {
            assert!(names.contains(&t), "{t} missing from the table");
        }
    }

    #[test]
    fn address() {
        let n = note("NoteType:Address\nLanguage:en-US\nFirst Name:Olivia\nMiddle Name:\nBirthday:August,9,1986\nAddress 1:12 Harbour St\nEmail Address:olivia@northwind.example\nPhone:+1 416 555 0142\nNotes:Home");
        assert_eq!(n.kind, EntryKind::Address);
        check(&n, "First Name", "Olivia", false, FieldKind::Text);
        check(&n, "Birthday", "1986-08-09", false, FieldKind::Date);
        check(&n, "Address 1", "12 Harbour St", false, FieldKind::Address);
        check(&n, "Email Address", "olivia@northwind.example", false, FieldKind::Email);
        check(&n, "Phone", "+1 416 555 0142", false, FieldKind::Phone);
        assert!(value(&n, "Middle Name").is_none(), "empty values are left out");
        assert_eq!(n.notes.as_deref(), Some("Home"));
    }

    #[test]
    fn bank_account() {
        let n = note("NoteType:Bank Account\nBank Name:Maple\nRouting Number:RT-1\nAccount Number:ACCT-2\nIBAN Number:IBAN-3\nPin:PIN-4\nSWIFT Code:MAPLCATT\nNotes:");
        assert_eq!(n.kind, EntryKind::BankAccount);
        check(&n, "Bank Name", "Maple", false, FieldKind::Text);
        check(&n, "Routing Number", "RT-1", true, FieldKind::Concealed);
        check(&n, "Account Number", "ACCT-2", true, FieldKind::Concealed);
        check(&n, "IBAN Number", "IBAN-3", true, FieldKind::Concealed);
        check(&n, "Pin", "PIN-4", true, FieldKind::Concealed);
        check(&n, "SWIFT Code", "MAPLCATT", false, FieldKind::Text);
        assert_eq!(n.notes, None);
    }

    #[test]
    fn credit_card() {
        let n = note("NoteType:Credit Card\nName on Card:Olivia Chen\nType:Visa\nNumber:4111-2222-3333-4444\nSecurity Code:831\nStart Date:,\nExpiration Date:March,2029\nNotes:Card: personal\nsecond line");
        assert_eq!(n.kind, EntryKind::CreditCard);
        assert_eq!(n.source_type, "Credit Card");
        check(&n, "Type", "Visa", false, FieldKind::CardType);
        check(&n, "Number", "4111-2222-3333-4444", true, FieldKind::CardNumber);
        check(&n, "Security Code", "831", true, FieldKind::Concealed);
        check(&n, "Expiration Date", "2029-03", false, FieldKind::MonthYear);
        assert!(value(&n, "Start Date").is_none(), "a blank date (`,`) is absent");
        assert_eq!(n.notes.as_deref(), Some("Card: personal\nsecond line"));
    }

    #[test]
    fn database_fills_username_and_password() {
        let n = note("NoteType:Database\nType:PostgreSQL\nHostname:db.nwr.example\nPort:5432\nDatabase:robots\nUsername:app_rw\nPassword:Db-Pw-1\nSID:\nAlias:prod\nNotes:");
        assert_eq!(n.kind, EntryKind::Database);
        assert_eq!(n.username.as_deref(), Some("app_rw"));
        assert_eq!(n.password.as_ref().map(Secret::expose), Some("Db-Pw-1"));
        check(&n, "Hostname", "db.nwr.example", false, FieldKind::Text);
        check(&n, "Password", "Db-Pw-1", true, FieldKind::Concealed);
    }

    #[test]
    fn drivers_license() {
        let n =
            note("NoteType:Driver's License\nNumber:DL-1\nExpiration Date:March,14,2027\nDate of Birth:,,\nState:ON");
        assert_eq!(n.kind, EntryKind::DriversLicense);
        check(&n, "Number", "DL-1", true, FieldKind::Concealed);
        check(&n, "Expiration Date", "2027-03-14", false, FieldKind::Date);
        assert!(value(&n, "Date of Birth").is_none(), "a blank date (`,,`) is absent");
    }

    #[test]
    fn email_account() {
        let n = note("NoteType:Email Account\nUsername:vendors@nwr.example\nPassword:Mail-Pw-2\nServer:imap.nwr.example\nPort:993\nSMTP Server:smtp.nwr.example");
        assert_eq!(n.kind, EntryKind::EmailAccount);
        assert_eq!(n.username.as_deref(), Some("vendors@nwr.example"));
        assert_eq!(n.password.as_ref().map(Secret::expose), Some("Mail-Pw-2"));
        check(&n, "Server", "imap.nwr.example", false, FieldKind::Text);
    }

    #[test]
    fn health_insurance() {
        let n = note("NoteType:Health Insurance\nCompany:Maple Health\nPolicy Number:HI-1\nGroup ID:HI-2\nMember ID:HI-3\nPhysician Phone:+1 555");
        assert_eq!(n.kind, EntryKind::HealthInsurance);
        check(&n, "Company", "Maple Health", false, FieldKind::Text);
        check(&n, "Policy Number", "HI-1", true, FieldKind::Concealed);
        check(&n, "Group ID", "HI-2", true, FieldKind::Concealed);
        check(&n, "Member ID", "HI-3", true, FieldKind::Concealed);
        check(&n, "Physician Phone", "+1 555", false, FieldKind::Phone);
    }

    #[test]
    fn instant_messenger() {
        let n = note("NoteType:Instant Messenger\nType:Slack\nUsername:release-bot\nPassword:IM-Pw-3\nServer:slack.example\nPort:");
        assert_eq!(n.kind, EntryKind::InstantMessenger);
        assert_eq!(n.username.as_deref(), Some("release-bot"));
        check(&n, "Password", "IM-Pw-3", true, FieldKind::Concealed);
    }

    #[test]
    fn insurance() {
        let n = note("NoteType:Insurance\nCompany:Lakeshore\nPolicy Number:INS-1\nExpiration:November,30,2025\nURL:https://lakeshore.example");
        assert_eq!(n.kind, EntryKind::Insurance);
        check(&n, "Policy Number", "INS-1", true, FieldKind::Concealed);
        check(&n, "Expiration", "2025-11-30", false, FieldKind::Date);
        check(&n, "URL", "https://lakeshore.example", false, FieldKind::Url);
    }

    #[test]
    fn membership() {
        let n = note("NoteType:Membership\nOrganization:Club\nMembership Number:MEM-1\nStart Date:January,15,2022\nExpiration Date:,,\nPassword:Club-Pw-4");
        assert_eq!(n.kind, EntryKind::Membership);
        check(&n, "Membership Number", "MEM-1", true, FieldKind::Concealed);
        check(&n, "Start Date", "2022-01-15", false, FieldKind::Date);
        check(&n, "Password", "Club-Pw-4", true, FieldKind::Concealed);
        assert!(n.password.is_none(), "a membership has no login password");
    }

    #[test]
    fn passport() {
        let n = note("NoteType:Passport\nType:P\nName:Olivia Chen\nNumber:PP-1\nDate of Birth:August,9,1986\nIssued Date:May,2,2021\nExpiration Date:May,2,2031");
        assert_eq!(n.kind, EntryKind::Passport);
        check(&n, "Number", "PP-1", true, FieldKind::Concealed);
        check(&n, "Issued Date", "2021-05-02", false, FieldKind::Date);
        check(&n, "Expiration Date", "2031-05-02", false, FieldKind::Date);
    }

    #[test]
    fn server_keeps_the_hostname_as_a_field() {
        let n =
            note("NoteType:Server\nHostname:bastion.nwr.example\nUsername:deploy\nPassword:Srv-Pw-5\nNotes:Port 2222");
        assert_eq!(n.kind, EntryKind::Server);
        assert_eq!(n.username.as_deref(), Some("deploy"));
        assert_eq!(n.password.as_ref().map(Secret::expose), Some("Srv-Pw-5"));
        check(&n, "Hostname", "bastion.nwr.example", false, FieldKind::Text);
        assert_eq!(n.notes.as_deref(), Some("Port 2222"));
    }

    #[test]
    fn social_security() {
        let n = note("NoteType:Social Security\nName:Olivia Chen\nNumber:046-45-8812");
        assert_eq!(n.kind, EntryKind::SocialSecurity);
        check(&n, "Name", "Olivia Chen", false, FieldKind::Text);
        check(&n, "Number", "046-45-8812", true, FieldKind::Concealed);
    }

    #[test]
    fn software_license() {
        let n = note("NoteType:Software License\nLicense Key:LIC-1\nLicensee:Northwind\nPurchase Date:February,29,2024\nOrder Number:R-1\nNumber of Licenses:12\nSupport Email:s@x.example");
        assert_eq!(n.kind, EntryKind::SoftwareLicense);
        check(&n, "License Key", "LIC-1", true, FieldKind::Concealed);
        check(&n, "Purchase Date", "2024-02-29", false, FieldKind::Date);
        check(&n, "Order Number", "R-1", false, FieldKind::Text);
        check(&n, "Number of Licenses", "12", false, FieldKind::Text);
        check(&n, "Support Email", "s@x.example", false, FieldKind::Email);
    }

    #[test]
    fn ssh_key_private_key_runs_until_public_key() {
        let n = note("NoteType:SSH Key\nBit Strength:4096\nFormat:RSA\nPassphrase:SSH-Pw-6\nPrivate Key:-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,5A1F\n\nMIIEbody\n-----END RSA PRIVATE KEY-----\nPublic Key:ssh-rsa AAAA deploy@nwr\nHostname:bastion\nDate:June,1,2023\nNotes:CI");
        assert_eq!(n.kind, EntryKind::SshKey);
        check(&n, "Passphrase", "SSH-Pw-6", true, FieldKind::Concealed);
        check(
            &n,
            "Private Key",
            "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,5A1F\n\nMIIEbody\n-----END RSA PRIVATE KEY-----",
            true,
            FieldKind::PrivateKey,
        );
        check(&n, "Public Key", "ssh-rsa AAAA deploy@nwr", false, FieldKind::PublicKey);
        check(&n, "Date", "2023-06-01", false, FieldKind::Date);
        assert!(value(&n, "Proc-Type").is_none(), "PEM headers stay inside the key");
    }

    #[test]
    fn wifi_fills_the_password() {
        let n = note("NoteType:Wi-Fi Password\nSSID:Northwind-Office\nPassword:Wifi-Pw-7\nAuthentication:WPA2-PSK\nKey Type:\nNotes:Guest net");
        assert_eq!(n.kind, EntryKind::Wifi);
        assert_eq!(n.password.as_ref().map(Secret::expose), Some("Wifi-Pw-7"));
        assert_eq!(n.username, None);
        check(&n, "SSID", "Northwind-Office", false, FieldKind::Text);
        check(&n, "Password", "Wifi-Pw-7", true, FieldKind::Concealed);
    }

    #[test]
    fn custom_types_keep_every_line_and_conceal_sensitive_labels() {
        let n = note("NoteType:Custom_3417589\nLanguage:en-US\nClient ID:initech\nClient Secret:CS-8\nAPI Key:AK-9\nEndpoint:https://api.example/v2\nNotes:Rotate");
        assert_eq!(n.kind, EntryKind::Custom);
        assert_eq!(n.source_type, "Custom_3417589");
        assert!(n.problems.is_empty());
        check(&n, "Client ID", "initech", false, FieldKind::Text);
        check(&n, "Client Secret", "CS-8", true, FieldKind::Concealed);
        check(&n, "API Key", "AK-9", true, FieldKind::Concealed);
        check(&n, "Endpoint", "https://api.example/v2", false, FieldKind::Text);
    }

    #[test]
    fn unknown_types_and_labels_are_kept_not_dropped() {
        let n = note("NoteType:Pet Passport\nName:Rex\nChip Number:CHIP-1");
        assert_eq!(n.kind, EntryKind::Unknown);
        assert_eq!(n.problems, vec![NoteProblem::UnknownType]);
        check(&n, "Name", "Rex", false, FieldKind::Text);
        check(&n, "Chip Number", "CHIP-1", true, FieldKind::Concealed);

        let n = note("NoteType:Server\nHostname:h\nRack:B4\nextra line without colon\nNotes:");
        check(&n, "Rack", "B4\nextra line without colon", false, FieldKind::Multiline);
        assert!(!is_custom("Custom_") && !is_custom("Custom_12a") && is_custom("Custom_12"));
    }

    #[test]
    fn lines_split_on_the_first_colon_and_notes_take_the_rest() {
        let n =
            note("NoteType:Insurance\r\nURL:https://x.example:8443/a\r\nNotes:first: line\r\nCompany:not a field\r\n");
        check(&n, "URL", "https://x.example:8443/a", false, FieldKind::Url);
        assert_eq!(
            n.notes.as_deref(),
            Some("first: line\nCompany:not a field"),
            "CRLF becomes LF"
        );
        assert!(value(&n, "Company").is_none());
    }

    #[test]
    fn only_notes_that_start_with_notetype_are_structured() {
        assert!(parse("Door codes\nNoteType:Server\nHostname:x").is_none());
        assert!(parse(" NoteType:Server").is_none());
    }

    #[test]
    fn bad_dates_are_kept_as_text_with_a_problem() {
        let n = note("NoteType:Passport\nExpiration Date:sometime in 2030");
        check(&n, "Expiration Date", "sometime in 2030", false, FieldKind::Text);
        assert_eq!(
            n.problems,
            vec![NoteProblem::UnparsedDate {
                label: "Expiration Date".into()
            }]
        );
    }

    #[test]
    fn scan_agrees_with_parse() {
        let texts = [
            "NoteType:Passport\nExpiration Date:sometime in 2030",
            "NoteType:passport\nexpiration date:March,14,2030\nIssued Date:,,\nDate of Birth:14 Mar",
            "NoteType:Credit Card\nStart Date:March,2029\nnot a date\nExpiration Date:\nNotes:Expiration Date:x",
            "NoteType:Credit Card\r\nExpiration Date:March\r\n2029\r\n",
            "NoteType:SSH Key\nPrivate Key:-----BEGIN\nDate:soon\nPublic Key:ssh-ed25519 A\nDate:March,27,1996",
            "NoteType:SSH Key\nDate:Smarch,1,2020",
            "NoteType:Address\nloose line\nBirthday:2024-02-30\nBirthday:2024-03",
            "NoteType:Custom_12\nBirthday:whenever",
            "NoteType:Recipe\nBirthday:whenever",
            "NoteType:\n",
            "NoteType:Server\nHostname:x",
        ];
        for text in texts {
            let (parsed, scanned) = (note(text), scan(text));
            let scanned = scanned.map(|s| (s.kind, s.source_type.to_owned(), s.problems));
            assert_eq!(
                scanned,
                Some((parsed.kind, parsed.source_type, parsed.problems)),
                "{text:?}"
            );
        }
        assert!(scan("Door codes\nNoteType:Server").is_none());
    }

    #[test]
    fn dates_parse_lastpass_forms() {
        assert_eq!(
            parse_date("March,2029"),
            Ok(Some(("2029-03".into(), FieldKind::MonthYear)))
        );
        assert_eq!(
            parse_date("March,14,2024"),
            Ok(Some(("2024-03-14".into(), FieldKind::Date)))
        );
        assert_eq!(
            parse_date("Sep,1,2024"),
            Ok(Some(("2024-09-01".into(), FieldKind::Date)))
        );
        assert_eq!(
            parse_date("2024-03-14"),
            Ok(Some(("2024-03-14".into(), FieldKind::Date)))
        );
        assert_eq!(parse_date(","), Ok(None));
        assert_eq!(parse_date(",,"), Ok(None));
        assert_eq!(parse_date(""), Ok(None));
        assert_eq!(parse_date("February,30,2024"), Err(()));
        assert_eq!(parse_date("Smarch,2029"), Err(()));
        assert_eq!(parse_date(",2029"), Err(()));
    }
}
