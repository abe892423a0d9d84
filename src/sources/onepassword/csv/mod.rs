//! 1Password CSV exports. Five layouts, each recognised by its header:
//!
//! - 1Password 8: `Title,Url,Username,Password,OTPAuth,Favorite,Archived,Tags,Notes`.
//! - 1Password 7 for Mac: about 140 `label(id)` columns beside `Title`,
//!   `Type` (each row's category, by English name), `Tags` as a `{( … )}`
//!   set, `Created Date`/`Modified Date`; some headers carry a U+200B
//!   zero-width space, the header ends with a comma, and quotes inside
//!   values are backslash-escaped ([`mac`]).
//! - 1Password 7 for Windows: `UUID,TITLE,…,SCOPE,AUTOSUBMIT` plus
//!   `SECTION <n>: <NAME>` / `<NAME> <k>: <LABEL>` / `<k>: <LABEL>` section
//!   columns and no type column: each row's kind is inferred ([`windows`]).
//! - 1Password 6: the Mac export has a leading column with an empty header
//!   and `section:<id>` columns; its `Type` column may hold the folder path
//!   (`Emails/WS`) instead of a category.
//! - 1Password 4: `title,notes,username,password,url`.
//!
//! No layout but Windows' has an item id, so entries are left without one
//! and fingerprinted after parsing.

mod mac;
mod windows;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};

use super::categories;
use super::record;
use super::{add_totp, non_empty, plain_field, secret_field};
use crate::model::{Entry, EntryKind, FieldKind, Finding, SourceKind, Timestamp, Vault};
use crate::secret::Secret;
use crate::sources::{at, ParseOptions, SourceError};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Layout {
    V8,
    V7Mac,
    V7Windows,
    V6,
    V4,
}

impl Layout {
    /// Recognises a layout from a header cleaned by `detect::header_fields`
    /// (lowercase, no BOM or zero-width spaces).
    pub(super) fn detect(header: &[String]) -> Option<Layout> {
        let has = |name: &str| header.iter().any(|h| h == name);
        if has("title") && has("username") && has("password") && has("otpauth") && has("archived") {
            return Some(Layout::V8);
        }
        // A Windows export of cards alone has no USERNAME column, only
        // `SCOPE`, `AUTOSUBMIT` and the numbered `1: CARDHOLDER NAME` ones.
        if header.first().is_some_and(|h| h == "uuid")
            && has("title")
            && (has("username")
                || has("scope")
                || has("autosubmit")
                || header
                    .iter()
                    .any(|h| h.starts_with("section") || windows::column(h).is_some()))
        {
            return Some(Layout::V7Windows);
        }
        let parens = header.iter().filter(|h| paren_id(h).is_some()).count();
        if (has("type") && parens > 0) || parens >= 3 {
            return Some(Layout::V7Mac);
        }
        if has("type") && has("title") && has("password") && has("username") {
            return Some(Layout::V6);
        }
        // Exactly these five: KeePassXC writes the same names plus `Group`,
        // `TOTP`… and must not be taken for 1Password.
        const V4: [&str; 5] = ["title", "notes", "username", "password", "url"];
        // A trailing comma (an empty last name) does not make it another tool.
        let named = header.iter().filter(|h| !h.is_empty());
        if V4.iter().all(|c| has(c)) && named.into_iter().all(|h| V4.contains(&h.as_str())) {
            return Some(Layout::V4);
        }
        None
    }

    fn name(self) -> &'static str {
        match self {
            Layout::V8 => "1Password 8",
            Layout::V7Mac => "1Password 7 for Mac",
            Layout::V7Windows => "1Password 7 for Windows",
            Layout::V6 => "1Password 6",
            Layout::V4 => "1Password 4",
        }
    }
}

/// `label(id)` → `id` (1Password 7 for Mac column names).
fn paren_id(h: &str) -> Option<&str> {
    let h = h.trim();
    let open = h.rfind('(')?;
    let inner = h.strip_suffix(')')?.get(open + 1..)?;
    if open == 0 || inner.is_empty() {
        None
    } else {
        Some(inner)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Role {
    Title,
    Url,
    Urls,
    Username,
    Password,
    Otp,
    Favorite,
    Archived,
    Tags,
    Notes,
    Type,
    Uuid,
    Subtitle,
    /// Unix seconds (1Password 7 for Mac `Created Date`/`Modified Date`).
    Created,
    Updated,
    /// A Windows `SECTION <n>: <NAME>` column: the row's title of section NAME.
    SectionTitle(String),
    /// Autofill settings (`scope`, `autosubmit`): no value to migrate.
    Ignore,
    Field {
        label: String,
        group: Option<String>,
        kind: FieldKind,
        concealed: bool,
        totp: bool,
    },
}

/// Words in a column name that make its values secrets. Matched as whole
/// words ("pin", not "shipping"), in the label and in a Mac column's id.
const SECRET_WORDS: &[&str] = &[
    "password",
    "pin",
    "cvv",
    "ccnum",
    "secret",
    "private",
    "answer",
    "recovery",
    "iban",
    "passphrase",
    "passcode",
    "reg_code",
];

fn names_a_secret(text: &str) -> bool {
    let words: Vec<&str> = text.split(|c: char| !c.is_alphanumeric()).collect();
    SECRET_WORDS.iter().any(|w| words.contains(w))
        || ["license key", "reg_code", "account-key", "secret key"]
            .iter()
            .any(|p| text.contains(p))
}

/// 1Password 7 for Mac: the plain columns are the item's own (`Title`,
/// `Type`, `Password`…); a `label(id)` column is a template field, except
/// the designations 1Password itself fills from (`username`, `password`,
/// `url`, `notesPlain`, `title`). So `type(type)`, a card's type, is a field
/// and never the row's category.
fn mac_role(key: &str, designation: Option<&str>) -> Option<Role> {
    let role = match designation {
        Some("username") => Role::Username,
        Some("password") => Role::Password,
        Some("url") => Role::Url,
        Some("notesplain") => Role::Notes,
        Some("title") => Role::Title,
        Some(_) => return None,
        None => match key {
            "title" => Role::Title,
            "type" => Role::Type,
            "url" | "website" => Role::Url,
            "username" => Role::Username,
            "password" => Role::Password,
            "notes" | "notesplain" => Role::Notes,
            "tags" => Role::Tags,
            "scope" | "autosubmit" => Role::Ignore,
            "created date" => Role::Created,
            "modified date" => Role::Updated,
            "uuid" => Role::Uuid,
            "favorite" => Role::Favorite,
            _ => return None,
        },
    };
    Some(role)
}

fn role_for(raw: &str, index: usize, layout: Layout) -> Role {
    let clean = raw.replace(['\u{200b}', '\u{feff}'], "");
    let clean = clean.trim();
    let lower = clean.to_lowercase();
    let key = match layout {
        Layout::V7Mac => paren_id(&lower).unwrap_or(&lower).to_owned(),
        _ => lower.clone(),
    };
    if layout == Layout::V7Mac {
        if let Some(role) = mac_role(&key, paren_id(&lower)) {
            return role;
        }
    } else {
        match key.as_str() {
            "title" => return Role::Title,
            "url" | "website" | "location" => return Role::Url,
            "urls" => return Role::Urls,
            "username" => return Role::Username,
            "password" => return Role::Password,
            "otpauth" => return Role::Otp,
            "favorite" => return Role::Favorite,
            "archived" => return Role::Archived,
            "tags" => return Role::Tags,
            "notes" | "notesplain" => return Role::Notes,
            "type" => return Role::Type,
            "uuid" => return Role::Uuid,
            "ainfo" => return Role::Subtitle,
            "scope" | "autosubmit" => return Role::Ignore,
            _ => {}
        }
    }
    let windows = if layout == Layout::V7Windows {
        windows::column(clean)
    } else {
        None
    };
    // `section:<id>` (1Password 6).
    let (label, group) = if let Some(column) = windows {
        match column {
            windows::Column::SectionTitle(name) => return Role::SectionTitle(name),
            windows::Column::Field { label, section } => (label, section),
        }
    } else if let Some(rest) = lower.strip_prefix("section") {
        match clean.split_once(": ") {
            Some((head, label)) => {
                let id = head.get(7..).unwrap_or("").trim_start_matches('_');
                let id = id.split_whitespace().next().unwrap_or("");
                (label.trim().to_owned(), non_empty(id))
            }
            None => (rest.trim_start_matches(':').trim().to_owned(), None),
        }
    } else if layout == Layout::V7Mac {
        match clean.rfind('(') {
            Some(open) if paren_id(&lower).is_some() => (clean[..open].trim().to_owned(), None),
            _ => (clean.to_owned(), None),
        }
    } else {
        (clean.to_owned(), None)
    };
    let label = if label.is_empty() {
        format!("column {}", index + 1)
    } else {
        label
    };
    let l = label.to_lowercase();
    let totp = l.contains("one-time password") || l == "totp" || l.starts_with("totp ");
    let concealed = totp || names_a_secret(&l) || names_a_secret(&key);
    let kind = if totp {
        FieldKind::Totp
    } else if concealed {
        FieldKind::Concealed
    } else if l.contains("email") {
        FieldKind::Email
    } else {
        FieldKind::Text
    };
    Role::Field {
        label,
        group,
        kind,
        concealed,
        totp,
    }
}

/// A header naming a one-value column twice (a hand-merged export): each
/// row would otherwise keep only the last cell, and a first password would
/// vanish. The first column keeps its role; the others become fields
/// (concealed for a password) and the header gets a warning.
fn repeated_columns(
    roles: &mut [Role],
    header: &[String],
    file: &str,
    vault: &mut Vault,
    options: &ParseOptions,
) -> Result<(), SourceError> {
    let single = |r: &Role| {
        !matches!(
            r,
            Role::Url | Role::Urls | Role::Otp | Role::Tags | Role::Ignore | Role::Field { .. }
        )
    };
    for i in 0..roles.len() {
        let Some(role) = roles.get(i).cloned() else { continue };
        if !single(&role) || !roles.iter().take(i).any(|r| *r == role) {
            continue;
        }
        let name = header
            .get(i)
            .map_or("", |h| h.trim())
            .replace(['\u{200b}', '\u{feff}'], "");
        let concealed = role == Role::Password || names_a_secret(&name.to_lowercase());
        if let Some(slot) = roles.get_mut(i) {
            *slot = Role::Field {
                label: name.clone(),
                group: None,
                kind: if concealed {
                    FieldKind::Concealed
                } else {
                    FieldKind::Text
                },
                concealed,
                totp: false,
            };
        }
        let finding = Finding::warning(
            "onepassword.csv-duplicate-column",
            format!(
                "the header names column '{name}' more than once; the first is read, later ones are kept as fields of each entry; expected each column once"
            ),
        )
        .at(at(file, 1).field(name));
        record(vault, finding, options)?;
    }
    Ok(())
}

fn truthy(s: &str) -> bool {
    matches!(
        s.trim().to_lowercase().as_str(),
        "true" | "1" | "yes" | "y" | "fav" | "favorite"
    )
}

/// The header line, read ahead so the layout is known before the rows are
/// parsed: 1Password 7 for Mac rows need their backslash escapes undone
/// first. A header never holds a newline in any layout seen; one inside
/// quotes is still read whole (lines are taken until the quotes balance).
/// Far above the ~5 KB of the widest real header (Mac, ~140 columns).
const MAX_HEADER_BYTES: usize = 1 << 20;

fn header_line<R: Read>(reader: &mut BufReader<R>, file: &str) -> Result<Vec<u8>, SourceError> {
    let mut line = Vec::new();
    loop {
        let n = reader
            .read_until(b'\n', &mut line)
            .map_err(|e| SourceError::io(file, e))?;
        let quotes = line.iter().filter(|b| **b == b'"').count();
        // A quote that never closes must not pull the whole file in as a
        // header; the header parse then reports it.
        if n == 0 || quotes % 2 == 0 || line.len() > MAX_HEADER_BYTES {
            return Ok(line);
        }
    }
}

fn parse_header(line: &[u8], file: &str) -> Result<Vec<String>, SourceError> {
    let mut rdr = ::csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(line);
    let mut record = ::csv::StringRecord::new();
    match rdr.read_record(&mut record) {
        Ok(true) => Ok(record.iter().map(str::to_owned).collect()),
        Ok(false) => Err(SourceError::malformed(
            at(file, 1),
            "the file is empty; expected a 1Password CSV header",
        )),
        Err(e) => Err(csv_error(file, &e)),
    }
}

pub(super) fn read<R: Read>(reader: R, file: &str, options: &ParseOptions) -> Result<Vault, SourceError> {
    let mut vault = Vault::new(SourceKind::OnepasswordCsv, file);
    let mut reader = BufReader::new(reader);
    let first = header_line(&mut reader, file)?;
    let header = parse_header(&first, file)?;
    let cleaned: Vec<String> = header
        .iter()
        .map(|h| h.replace(['\u{200b}', '\u{feff}'], "").trim().to_lowercase())
        .collect();
    let Some(layout) = Layout::detect(&cleaned) else {
        return Err(SourceError::malformed(
            at(file, 1),
            "the header matches no 1Password CSV layout; expected 1Password 8 (Title,Url,Username,Password,OTPAuth,Favorite,Archived,Tags,Notes), 7 for Mac (label(id) columns and Type), 7 for Windows (UUID,TITLE,…,SCOPE,AUTOSUBMIT), 6 (Type, Title, Password, Username…) or 4 (title,notes,username,password,url)",
        ));
    };
    // The header line is read again by the row reader, so record line
    // numbers stay those of the file.
    let body = std::io::Cursor::new(first).chain(reader);
    let body: Box<dyn Read> = if layout == Layout::V7Mac {
        Box::new(mac::BackslashQuotes::new(body))
    } else {
        Box::new(body)
    };
    let mut rdr = ::csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(QuoteTracker::new(body));
    let mut record_buf = ::csv::StringRecord::new();
    let mut last_line = 1;
    if let Err(e) = rdr.read_record(&mut record_buf) {
        return Err(csv_error(file, &e));
    }
    let mut roles: Vec<Role> = header
        .iter()
        .enumerate()
        .map(|(i, h)| role_for(h.trim_start_matches('\u{feff}'), i, layout))
        .collect();
    // Mac exports name the login's own columns twice on purpose (`Password`
    // beside `password(password)` for other templates): rows decide which
    // one is the entry's, below.
    if layout != Layout::V7Mac {
        repeated_columns(&mut roles, &header, file, &mut vault, options)?;
    }
    let labels: Vec<String> = header.iter().map(|h| column_label(h)).collect();
    // A trailing comma on the Mac header gives an empty last column that
    // rows may or may not repeat.
    let trailing_empty = header.len() > 1 && header.last().is_some_and(|h| h.trim().is_empty());
    let table = categories::table();
    // Windows never writes a type column; a Mac export cut down by hand (or
    // localised) may lack `Type` too.
    let infer = layout == Layout::V7Windows || (layout == Layout::V7Mac && !roles.contains(&Role::Type));
    if infer {
        vault.findings.push(
            Finding::info(
                "onepassword.csv-kind-inferred",
                format!(
                    "this {} CSV has no type column; each row's kind is inferred from the columns it fills (a card's, an identity's…)",
                    layout.name()
                ),
            )
            .at(at(file, 1)),
        );
    }

    loop {
        match rdr.read_record(&mut record_buf) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                // A broken row (invalid UTF-8, unbalanced quote) stops the
                // csv reader's sync; it cannot be skipped reliably.
                return Err(csv_error(file, &e));
            }
        }
        let line = record_buf.position().map_or(0, |p| p.line());
        last_line = line;
        if record_buf.iter().all(|c| c.trim().is_empty()) {
            vault.skipped_records += 1;
            record(
                &mut vault,
                Finding::warning("onepassword.csv-empty-row", "a row with no values was skipped").at(at(file, line)),
                options,
            )?;
            continue;
        }
        if record_buf.len() != roles.len() && !(trailing_empty && record_buf.len() + 1 == roles.len()) {
            record(
                &mut vault,
                Finding::warning(
                    "onepassword.csv-column-count",
                    format!(
                        "the row has {} columns, the header {}; values were read by position and extra ones kept as fields",
                        record_buf.len(),
                        roles.len()
                    ),
                )
                .at(at(file, line)),
                options,
            )?;
        }
        let mut entry = Entry::new(EntryKind::Login, "");
        entry.line = Some(line);
        let mut type_cell: Option<String> = None;
        let mut section_titles: HashMap<String, String> = HashMap::new();
        for (i, cell) in record_buf.iter().enumerate() {
            if cell.is_empty() {
                continue;
            }
            // A cell past the header usually means an unquoted comma split a
            // value, often a password, so it is kept concealed.
            let extra;
            let role = match roles.get(i) {
                Some(r) => r,
                None => {
                    extra = Role::Field {
                        label: format!("column {}", i + 1),
                        group: None,
                        kind: FieldKind::Concealed,
                        concealed: true,
                        totp: false,
                    };
                    &extra
                }
            };
            let value = cell.to_owned();
            // A second column for a one-value role (Mac's `Password` and
            // `password(password)` both filled) is kept as a field.
            let taken = match role {
                Role::Title => !entry.title.is_empty(),
                Role::Username => entry.username.is_some(),
                Role::Password => entry.password.is_some(),
                Role::Notes => entry.notes.is_some(),
                _ => false,
            };
            if taken && !value.trim().is_empty() {
                let label = labels.get(i).map_or("", String::as_str);
                if *role == Role::Password {
                    entry
                        .fields
                        .push(secret_field(label, value, FieldKind::Concealed, None));
                } else {
                    entry.fields.push(plain_field(label, value, FieldKind::Text, None));
                }
                continue;
            }
            match role {
                Role::Title => entry.title = value,
                Role::Url => {
                    if !value.trim().is_empty() && !entry.urls.contains(&value) {
                        entry.urls.insert(0, value);
                    }
                }
                Role::Urls => {
                    for u in value.split(['\n', ' ']).map(str::trim).filter(|u| !u.is_empty()) {
                        if !entry.urls.iter().any(|x| x == u) {
                            entry.urls.push(u.to_owned());
                        }
                    }
                }
                Role::Username => entry.username = Some(value),
                Role::Password => entry.password = Some(Secret::text(value)),
                Role::Otp => add_totp(&mut entry, "one-time password", value, None),
                Role::Favorite => entry.favorite = truthy(&value),
                Role::Archived => entry.archived = truthy(&value),
                Role::Tags => {
                    entry.tags = mac::set_tags(&value).unwrap_or_else(|| {
                        value
                            .split([';', ','])
                            .map(str::trim)
                            .filter(|t| !t.is_empty())
                            .map(str::to_owned)
                            .collect()
                    });
                }
                Role::Created => entry.created = unix_seconds(&value),
                Role::Updated => entry.updated = unix_seconds(&value),
                Role::SectionTitle(name) => {
                    if !cell.trim().is_empty() {
                        section_titles.insert(name.clone(), cell.trim().to_owned());
                    }
                }
                Role::Notes => entry.notes = non_empty(&value),
                Role::Type => type_cell = Some(value),
                Role::Uuid => entry.source_id = value.trim().to_owned(),
                Role::Subtitle => entry.subtitle = non_empty(&value),
                Role::Ignore => {}
                Role::Field {
                    label,
                    group,
                    kind,
                    concealed,
                    totp,
                } => {
                    let group = match (layout, group) {
                        (Layout::V7Windows, Some(name)) => Some(
                            section_titles
                                .get(name.as_str())
                                .map_or_else(|| windows::untitled_section(name), Clone::clone),
                        ),
                        _ => group.clone(),
                    };
                    if *totp {
                        add_totp(&mut entry, label, value, group.as_deref());
                    } else if *concealed {
                        entry.fields.push(secret_field(label, value, *kind, group.as_deref()));
                    } else if let Some(date) = windows::date(&value).filter(|_| layout == Layout::V7Windows) {
                        entry
                            .fields
                            .push(plain_field(label, date, FieldKind::Date, group.as_deref()));
                    } else if let Some(ym) = slash_month_year(&value).filter(|_| layout != Layout::V8) {
                        entry
                            .fields
                            .push(plain_field(label, ym, FieldKind::MonthYear, group.as_deref()));
                    } else {
                        entry.fields.push(plain_field(label, value, *kind, group.as_deref()));
                    }
                }
            }
        }
        // `Type` names the category in 1Password 7 for Mac; 1Password 6
        // exports have been seen with the folder path there instead.
        let mut kind = None;
        if let Some(t) = type_cell.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            entry.source_type = Some(t.to_owned());
            match table.by_name(t) {
                Some(k) => kind = Some(k),
                None if layout == Layout::V6 => {
                    entry.folder = t
                        .split('/')
                        .map(str::trim)
                        .filter(|p| !p.is_empty())
                        .map(str::to_owned)
                        .collect();
                    entry.source_type = None;
                }
                None => {
                    kind = Some(EntryKind::Unknown);
                    record(
                        &mut vault,
                        Finding::warning(
                            "onepassword.unknown-category",
                            format!("Type '{t}' is not a category this version knows; the item is kept as a generic secret with all its fields"),
                        )
                        .at(at(file, line).field("Type")),
                        options,
                    )?;
                }
            }
        }
        if infer && kind.is_none() {
            let inferred = windows::infer_kind(&entry);
            entry.kind = inferred;
            windows::conceal_template_secrets(&mut entry);
            // The Windows app writes Windows line ends inside values.
            if let Some(notes) = entry.notes.as_mut() {
                *notes = notes.replace("\r\n", "\n");
            }
            kind = Some(inferred);
        }
        entry.kind = kind.unwrap_or_else(|| {
            let is_note = entry.username.is_none()
                && entry.password.is_none()
                && entry.urls.is_empty()
                && entry.totp.is_none()
                && entry.notes.is_some();
            if is_note {
                EntryKind::SecureNote
            } else {
                EntryKind::Login
            }
        });
        if !entry.folder.is_empty() {
            vault.ensure_folder(&entry.folder.clone(), false);
        }
        vault.entries.push(entry);
    }
    if rdr.get_ref().ends_inside_quotes() {
        record(
            &mut vault,
            Finding::warning(
                "onepassword.csv-truncated",
                "the file ends inside a quoted value, without a closing quote or a final newline; the last value of this row is probably cut short (is the file truncated?)",
            )
            .at(at(file, last_line)),
            options,
        )?;
    }
    if vault.entries.is_empty() && vault.skipped_records == 0 {
        vault.findings.push(
            Finding::info(
                "onepassword.csv-no-rows",
                format!("the {} CSV has a header but no rows", layout.name()),
            )
            .at(at(file, 1)),
        );
    }
    Ok(vault)
}

/// A column's name as a field label: Mac's `label(id)` without the id,
/// Windows' `<NAME> <k>: <LABEL>` without the section.
fn column_label(raw: &str) -> String {
    let clean = raw.replace(['\u{200b}', '\u{feff}'], "");
    let clean = clean.trim();
    if let Some(windows::Column::Field { label, .. }) = windows::column(clean) {
        return label;
    }
    match clean.rfind('(') {
        Some(open) if open > 0 && paren_id(clean).is_some() => clean.get(..open).unwrap_or(clean).trim().to_owned(),
        _ => clean.to_owned(),
    }
}

/// `MM/YYYY`, as 1Password 7 writes a card's expiry → `YYYY-MM`.
fn slash_month_year(value: &str) -> Option<String> {
    let (m, y) = value.trim().split_once('/')?;
    if m.len() > 2 || y.len() != 4 {
        return None;
    }
    super::month_year(y.parse::<i64>().ok()? * 100 + m.parse::<i64>().ok()?)
}

/// `Created Date` / `Modified Date` of a Mac export: Unix seconds.
fn unix_seconds(value: &str) -> Option<Timestamp> {
    value.trim().parse::<i64>().ok().filter(|s| *s > 0).map(Timestamp)
}

/// Watches the bytes the csv reader consumes, because the `csv` crate ends
/// a quoted value silently at end of file: a download cut inside the last
/// `Notes` would otherwise be read as a whole, shorter note. Quotes toggle
/// (a doubled `""` toggles twice); only an odd count with no final newline
/// is taken as a cut, so a stray quote inside an unquoted cell of a whole
/// file raises nothing.
struct QuoteTracker<R> {
    inner: R,
    in_quotes: bool,
    last: Option<u8>,
}

impl<R: Read> QuoteTracker<R> {
    fn new(inner: R) -> Self {
        QuoteTracker {
            inner,
            in_quotes: false,
            last: None,
        }
    }

    fn ends_inside_quotes(&self) -> bool {
        self.in_quotes && !matches!(self.last, Some(b'\n' | b'\r') | None)
    }
}

impl<R: Read> Read for QuoteTracker<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let read = buf.get(..n).unwrap_or_default();
        let quotes = read.iter().filter(|b| **b == b'"').count();
        self.in_quotes ^= quotes % 2 == 1;
        if let Some(b) = read.last() {
            self.last = Some(*b);
        }
        Ok(n)
    }
}

/// A csv error with its line; the `csv` crate's messages name positions and
/// UTF-8 problems, never field contents.
fn csv_error(file: &str, e: &::csv::Error) -> SourceError {
    let line = e.position().map_or(1, |p| p.line());
    let what = match e.kind() {
        ::csv::ErrorKind::Utf8 { .. } => "a value is not valid UTF-8; save the export as UTF-8".to_owned(),
        ::csv::ErrorKind::Io(err) => format!("cannot read the file: {err}"),
        _ => "the row cannot be read as CSV; expected comma-separated, double-quoted values".to_owned(),
    };
    SourceError::malformed(at(file, line), what)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lower(h: &str) -> Vec<String> {
        crate::sources::detect::header_fields(h)
    }

    #[test]
    fn layouts_are_recognised_by_their_headers() {
        let cases = [
            (
                "Title,Url,Username,Password,OTPAuth,Favorite,Archived,Tags,Notes",
                Some(Layout::V8),
            ),
            (
                "\"UUID\",\"TITLE\",\"USERNAME\",\"PASSWORD\",\"URL\",\"URLS\",\"NOTES\"",
                Some(Layout::V7Windows),
            ),
            (
                "\"title(title)\",\"\u{200b}username(username)\",\"password(password)\",Type",
                Some(Layout::V7Mac),
            ),
            (",ainfo,Notes,Password,Type,Title,URL,Username,uuid", Some(Layout::V6)),
            ("title,notes,username,password,url", Some(Layout::V4)),
            ("title,notes,username,password,url,", Some(Layout::V4)),
            ("title,notes,username,password,url,group", None),
            (
                "\"UUID\",\"TITLE\",\"SCOPE\",\"AUTOSUBMIT\",\"1: CARDHOLDER NAME\",\"2: NUMBER\"",
                Some(Layout::V7Windows),
            ),
            (
                "\"Kontonummer(accountNo)\",\"Benutzername(username)\",\"Kennwort(password)\"",
                Some(Layout::V7Mac),
            ),
            ("url,username,password,extra,name,grouping,fav", None),
            (
                "\"Group\",\"Title\",\"Username\",\"Password\",\"URL\",\"Notes\",\"TOTP\"",
                None,
            ),
            ("name,value", None),
        ];
        for (h, want) in cases {
            assert_eq!(Layout::detect(&lower(h)), want, "{h}");
        }
    }

    #[test]
    fn windows_section_columns_keep_label_and_section() {
        match role_for("SECTION_HMDIBYQY 2: TOTP EMEA", 9, Layout::V7Windows) {
            Role::Field { label, group, totp, .. } => {
                assert_eq!(label, "TOTP EMEA");
                // The section's name; each row shows its title in its place
                // (or `HMDIBYQY` when the row leaves the title empty).
                assert_eq!(group.as_deref(), Some("SECTION_HMDIBYQY"));
                assert!(totp);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            role_for("\u{200b}notesPlain(notesPlain)", 0, Layout::V7Mac),
            Role::Notes
        );
    }
}
