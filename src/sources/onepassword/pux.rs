//! 1PUX: the 1Password 8 export, a zip of `export.attributes`,
//! `export.data` (JSON: accounts → vaults → items) and `files/`
//! (`<documentId>__<file name>`).
//!
//! The archive's bounds live in [`archive`]; the streamed reading of
//! `export.data` in [`document`]; the items' conversion here.

mod archive;
mod document;

use std::collections::HashMap;
use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

use super::categories;
use super::json_problem;
use super::values;
use super::{add_totp, flag, label_or, month_year, non_empty, plain_field, positive, secret_field, timestamp};
use crate::model::{
    Attachment, Entry, EntryKind, FieldKind, Finding, PasswordChange, Position, SourceKind, Timestamp, Vault,
};
use crate::secret::Secret;
use crate::sources::{recover_or_fail, ParseOptions, Sink, SourceError};

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Attributes {
    version: Option<i64>,
    /// 1PUX version 3.
    created_at: Option<i64>,
    /// 1PUX version 2 names the same thing `timestamp`.
    timestamp: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct VaultAttrs {
    uuid: String,
    name: String,
    desc: String,
    /// `P` personal, `E` everyone, `U` user-created (shared).
    #[serde(rename = "type")]
    kind: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Item {
    #[serde(deserialize_with = "values::lenient_string")]
    uuid: String,
    fav_index: Value,
    created_at: Value,
    updated_at: Value,
    /// `active` or `archived` (1PUX 3); older exports have `trashed`.
    state: Option<String>,
    trashed: Value,
    #[serde(deserialize_with = "values::lenient_string")]
    category_uuid: String,
    details: Details,
    overview: Overview,
    /// Some exports wrap the item once more: `{"item": {...}}`.
    item: Option<Box<Item>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Details {
    login_fields: Vec<LoginField>,
    #[serde(deserialize_with = "values::lenient_string")]
    notes_plain: String,
    /// Category 005 (Password) keeps its value here, not in a field.
    password: Value,
    password_history: Vec<HistoryEntry>,
    document_attributes: Option<FileRef>,
    sections: Vec<Section>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct LoginField {
    /// Text, or an object: a masked-email alias is
    /// `{"email_address": …, "provider": {…}}`.
    value: Value,
    #[serde(deserialize_with = "values::lenient_string")]
    id: String,
    #[serde(deserialize_with = "values::lenient_string")]
    name: String,
    #[serde(deserialize_with = "values::lenient_string")]
    field_type: String,
    #[serde(deserialize_with = "values::lenient_string")]
    designation: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct HistoryEntry {
    #[serde(deserialize_with = "values::lenient_string")]
    value: String,
    time: Value,
}

#[derive(Debug, Default, Deserialize, Clone)]
#[serde(default, rename_all = "camelCase")]
struct FileRef {
    file_name: String,
    document_id: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Section {
    #[serde(deserialize_with = "values::lenient_string")]
    title: String,
    #[serde(deserialize_with = "values::lenient_string")]
    name: String,
    fields: Vec<SectionField>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SectionField {
    #[serde(deserialize_with = "values::lenient_string")]
    title: String,
    #[serde(deserialize_with = "values::lenient_string")]
    id: String,
    value: SectionValue,
    multiline: Value,
}

/// A section field's value: an object of one key naming its kind
/// (`{"concealed": "…"}`), read without building a map for it (one per
/// field was a visible share of decoding).
#[derive(Debug, Default)]
enum SectionValue {
    /// `null`, `{}` or no value.
    #[default]
    Missing,
    /// The kind and its value. Of several keys the first in sorted order
    /// counts, as when the object was read into a map.
    Kind(String, Value),
    /// Not an object.
    Other(Value),
}

impl<'de> Deserialize<'de> for SectionValue {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<SectionValue, D::Error> {
        d.deserialize_any(SectionValueVisitor)
    }
}

struct SectionValueVisitor;

impl<'de> serde::de::Visitor<'de> for SectionValueVisitor {
    type Value = SectionValue;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a field value {\"kind\": value}")
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<SectionValue, A::Error> {
        let mut first: Option<(String, Value)> = None;
        while let Some((key, value)) = map.next_entry::<String, Value>()? {
            match &first {
                Some((k, _)) if *k <= key => {}
                _ => first = Some((key, value)),
            }
        }
        Ok(first.map_or(SectionValue::Missing, |(k, v)| SectionValue::Kind(k, v)))
    }
    fn visit_unit<E>(self) -> Result<SectionValue, E> {
        Ok(SectionValue::Missing)
    }
    fn visit_none<E>(self) -> Result<SectionValue, E> {
        Ok(SectionValue::Missing)
    }
    fn visit_str<E>(self, v: &str) -> Result<SectionValue, E> {
        Ok(SectionValue::Other(Value::String(v.to_owned())))
    }
    fn visit_bool<E>(self, v: bool) -> Result<SectionValue, E> {
        Ok(SectionValue::Other(Value::Bool(v)))
    }
    fn visit_i64<E>(self, v: i64) -> Result<SectionValue, E> {
        Ok(SectionValue::Other(Value::from(v)))
    }
    fn visit_u64<E>(self, v: u64) -> Result<SectionValue, E> {
        Ok(SectionValue::Other(Value::from(v)))
    }
    fn visit_f64<E>(self, v: f64) -> Result<SectionValue, E> {
        Ok(SectionValue::Other(Value::from(v)))
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, seq: A) -> Result<SectionValue, A::Error> {
        Value::deserialize(serde::de::value::SeqAccessDeserializer::new(seq)).map(SectionValue::Other)
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Overview {
    #[serde(deserialize_with = "values::lenient_string")]
    title: String,
    #[serde(deserialize_with = "values::lenient_string")]
    subtitle: String,
    #[serde(deserialize_with = "values::lenient_string")]
    url: String,
    urls: Vec<OverviewUrl>,
    tags: values::Tags,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct OverviewUrl {
    #[serde(deserialize_with = "values::lenient_string")]
    label: String,
    #[serde(deserialize_with = "values::lenient_string")]
    url: String,
}

/// The attachments under `files/`, by document id: the file name the
/// archive gives and where the bytes are.
type Files = HashMap<String, (String, archive::StoredFile)>;

pub(super) fn read(path: &Path, file: &str, options: &ParseOptions, sink: Sink<'_>) -> Result<Vault, SourceError> {
    let handle = File::open(path).map_err(|e| SourceError::io(file, e))?;
    let mut zip = archive::open(handle, file, options)?;
    let budget = archive::Budget::new(options.limits);
    let mut vault = Vault::new(SourceKind::Onepassword1pux, file);

    match archive::read_small(&mut zip, "export.attributes", &budget, file)? {
        Some(bytes) => match serde_json::from_slice::<Attributes>(&bytes) {
            Ok(attrs) => {
                if !matches!(attrs.version, Some(2) | Some(3)) {
                    let version = attrs.version.map_or("none".to_owned(), |v| v.to_string());
                    vault.findings.push(
                        Finding::info(
                            "onepassword.pux-version",
                            format!("export.attributes says version {version}; this reader knows versions 2 and 3 and reads it as version 3"),
                        )
                        .at(Position::file(file).field("export.attributes")),
                    );
                }
            }
            Err(e) => recover_or_fail(
                &mut vault,
                Finding::warning(
                    "onepassword.pux-attributes",
                    format!(
                        "export.attributes is not valid JSON ({}); the items are read anyway",
                        json_problem(&e)
                    ),
                )
                .at(Position::file(file).field("export.attributes")),
                options,
            )?,
        },
        None => recover_or_fail(
            &mut vault,
            Finding::warning(
                "onepassword.pux-attributes",
                "the archive has no export.attributes; expected one beside export.data in a 1PUX export",
            )
            .at(Position::file(file)),
            options,
        )?,
    }

    let files = archive::files(&mut zip, path, &budget, file)?;
    let Some(data_index) = zip.index_for_name("export.data") else {
        return Err(SourceError::malformed(
            Position::file(file),
            "the archive has no export.data; expected a 1PUX export (export.attributes, export.data, files/)",
        ));
    };
    let mut reading = document::Reading::new(vault, &files, file, options, sink);
    let (events, received) = document::channel();
    // The archive is unpacked and scanned on a thread of its own while
    // this one decodes (see `document`).
    std::thread::scope(|scope| {
        let progress = options.progress.as_deref();
        let scanning = scope.spawn(move || scan_data(zip, data_index, budget, file, events, progress));
        let read = reading.run(received);
        // An error here (`--strict`) drops the channel, which stops the scan.
        let scanned = scanning.join().unwrap_or_else(|_| {
            Err(SourceError::malformed(
                Position::file(file),
                "the reader of export.data failed",
            ))
        });
        read.and(scanned)
    })?;
    Ok(reading.vault)
}

/// Unpacks `export.data` and scans it ([`document::scan`]), with the
/// unpacked bytes counted against the archive's budget.
fn scan_data(
    mut zip: archive::Zip,
    index: usize,
    budget: archive::Budget,
    file: &str,
    events: std::sync::mpsc::SyncSender<document::Event>,
    progress: Option<&crate::sources::ReadProgress>,
) -> Result<(), SourceError> {
    let member = zip.by_index(index).map_err(|e| {
        SourceError::malformed(
            Position::file(file).field("export.data"),
            format!("archive member 'export.data' cannot be unpacked ({e})"),
        )
    })?;
    if let Some(p) = progress {
        p.set_total(member.size());
    }
    let bounded = archive::Bounded {
        inner: crate::sources::Counted {
            inner: member,
            progress,
        },
        budget: &budget,
    };
    let mut json = serde_json::Deserializer::from_reader(BufReader::with_capacity(1 << 16, bounded));
    let read =
        document::scan(&mut json, events, &|| budget.item_done())
            .and_then(|whole| if whole { json.end() } else { Ok(()) });
    match read {
        Ok(()) => Ok(()),
        Err(_) if budget.exceeded() => Err(budget.error(file, "export.data")),
        Err(e) => Err(SourceError::malformed(
            Position::file(file).field("export.data").line(e.line() as u64),
            format!(
                "{} at line {} column {} of export.data; expected the 1PUX JSON document {{\"accounts\": [{{\"vaults\": [...]}}]}}",
                json_problem(&e),
                e.line(),
                e.column()
            ),
        )),
    }
}

/// Whose export this is (the first account's email), read from the start
/// of `export.data` before the export itself is read: a streamed plan keys
/// personal vaults from its first entry on. `None` when the archive cannot
/// be opened or names nobody (the full read then says why).
pub(super) fn account_email(path: &Path, file: &str, options: &ParseOptions) -> Option<String> {
    let handle = File::open(path).ok()?;
    let mut zip = archive::open(handle, file, options).ok()?;
    let budget = archive::Budget::new(options.limits);
    let member = zip.by_name("export.data").ok()?;
    let bounded = archive::Bounded {
        inner: member,
        budget: &budget,
    };
    document::first_account_email(BufReader::with_capacity(1 << 12, bounded))
}

fn item_position(file: &str, vault: &str, uuid: &str) -> Position {
    Position::file(file).field(format!("vault '{vault}' item '{uuid}'"))
}

/// One item from its raw JSON, straight into the typed [`Item`] (no
/// `serde_json::Value` tree first: building one per item was most of the
/// decoding time).
fn decode_item(raw: &str, index: usize, vault_name: &str, files: &Files, file: &str) -> (Option<Entry>, Vec<Finding>) {
    let item = match serde_json::from_str::<Item>(raw) {
        Ok(item) => match item.item {
            Some(inner) => *inner,
            None => item,
        },
        Err(e) => {
            /// Only the id, to name an item that does not read.
            #[derive(Deserialize)]
            struct Id {
                uuid: Option<String>,
            }
            let hint = serde_json::from_str::<Id>(raw).ok().and_then(|i| i.uuid);
            let id = hint
                .filter(|u| !u.is_empty())
                .unwrap_or_else(|| format!("#{}", index + 1));
            let finding = Finding::error(
                "onepassword.item-malformed",
                format!(
                    "item {} of vault '{vault_name}' was skipped: {}; expected a 1PUX item object",
                    index + 1,
                    json_problem(&e)
                ),
            )
            .at(item_position(file, vault_name, &id));
            return (None, vec![finding]);
        }
    };
    let mut findings = Vec::new();
    let entry = convert(item, vault_name, files, file, &mut findings);
    (Some(entry), findings)
}

fn convert(item: Item, vault_name: &str, files: &Files, file: &str, findings: &mut Vec<Finding>) -> Entry {
    let pos = item_position(file, vault_name, &item.uuid);
    let kind = match categories::table().by_code(&item.category_uuid) {
        Some((kind, _)) => kind,
        None => {
            findings.push(
                Finding::warning(
                    "onepassword.unknown-category",
                    format!(
                        "category '{}' is not one this version knows; the item is kept as a generic secret with all its fields",
                        item.category_uuid
                    ),
                )
                .at(pos.clone())
                .help("`vaultferry explain 1password-categories` lists the codes that are mapped"),
            );
            EntryKind::Unknown
        }
    };
    let Item {
        uuid,
        fav_index,
        created_at,
        updated_at,
        state,
        trashed,
        category_uuid,
        details,
        overview,
        item: _,
    } = item;
    let mut entry = Entry::new(kind, overview.title);
    entry.source_id = uuid;
    entry.source_type = Some(category_uuid);
    entry.subtitle = non_empty(&overview.subtitle);
    entry.folder = vec![vault_name.to_owned()].into();
    entry.tags = overview
        .tags
        .list
        .into_iter()
        .filter(|t| !t.trim().is_empty())
        .collect();
    for odd in &overview.tags.odd {
        values::odd_value(&mut entry, "tags", odd, None, &pos, findings);
    }
    entry.favorite = positive(&fav_index);
    entry.archived = match state.as_deref() {
        Some("active") | None => flag(&trashed),
        Some(_) => true,
    };
    entry.created = timestamp(&created_at);
    entry.updated = timestamp(&updated_at);

    // URLs: the primary `url` first, then `urls[]` in order, each once.
    if let Some(url) = non_empty(&overview.url) {
        entry.urls.push(url);
    }
    for u in overview.urls {
        if u.url.trim().is_empty() {
            continue;
        }
        let label = u.label.trim();
        if !label.is_empty() && !label.eq_ignore_ascii_case("website") {
            entry
                .fields
                .push(plain_field(label, u.url.clone(), FieldKind::Url, None));
        }
        if !entry.urls.contains(&u.url) {
            entry.urls.push(u.url);
        }
    }

    let Details {
        login_fields,
        notes_plain,
        password,
        password_history,
        document_attributes,
        sections,
    } = details;

    for lf in login_fields {
        let LoginField {
            value,
            id,
            name,
            field_type,
            designation,
        } = lf;
        let label = label_or(&name, &id, "login field").to_owned();
        let value = match value {
            Value::String(s) => s,
            Value::Null => continue,
            Value::Object(_) => {
                login_object(&mut entry, &label, &designation, value, &pos, findings);
                continue;
            }
            other => match values::scalar_text(&other) {
                Some(s) => s,
                None => {
                    values::odd_value(&mut entry, &label, &other, None, &pos, findings);
                    continue;
                }
            },
        };
        match designation.as_str() {
            "username" if entry.username.is_none() => entry.username = non_empty(&value),
            "password" if entry.password.is_none() => {
                if !value.is_empty() {
                    entry.password = Some(Secret::text(value));
                }
            }
            _ => {
                if value.is_empty() {
                    continue;
                }
                let field = match field_type.as_str() {
                    "P" => secret_field(&label, value, FieldKind::Concealed, None),
                    "E" => plain_field(&label, value, FieldKind::Email, None),
                    "U" => plain_field(&label, value, FieldKind::Url, None),
                    "TEL" => plain_field(&label, value, FieldKind::Phone, None),
                    _ => plain_field(&label, value, FieldKind::Text, None),
                };
                entry.fields.push(field);
            }
        }
    }
    entry.notes = non_empty(&notes_plain);
    if let Some(pw) = values::kept_text(&password) {
        if entry.password.is_none() {
            entry.password = Some(Secret::text(pw));
        } else {
            entry
                .fields
                .push(secret_field("password", pw, FieldKind::Concealed, None));
        }
    }
    entry.password_history = password_history
        .into_iter()
        .filter(|h| !h.value.is_empty())
        .map(|h| PasswordChange {
            value: Secret::text(h.value),
            changed: timestamp(&h.time),
        })
        .collect();
    if let Some(doc) = document_attributes {
        let attachment = attach(&doc, files, &pos, findings);
        entry.attachments.push(attachment);
    }
    for section in sections {
        let group = non_empty(&section.title).or_else(|| non_empty(&section.name));
        for field in section.fields {
            section_field(&mut entry, field, group.as_deref(), files, &pos, findings);
        }
    }
    entry
}

/// Turns one section field into fields (an address or SSH key gives several),
/// the entry's TOTP, or an attachment. The value is an object with one key
/// naming its kind (`{"concealed": "…"}`).
fn section_field(
    entry: &mut Entry,
    field: SectionField,
    group: Option<&str>,
    files: &Files,
    pos: &Position,
    findings: &mut Vec<Finding>,
) {
    let SectionField {
        title,
        id,
        value,
        multiline,
    } = field;
    let multiline = flag(&multiline);
    let label = label_or(&title, &id, "field").to_owned();
    let (kind_name, value) = match value {
        SectionValue::Missing => return,
        SectionValue::Other(value) => {
            unknown_kind(entry, &label, "(not an object)", value, group, pos, findings);
            return;
        }
        SectionValue::Kind(kind, value) => (kind, value),
    };
    let text = |v: &Value| -> Option<String> {
        match v {
            Value::String(s) if !s.is_empty() => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    };
    // A value that is neither text nor a number (`{"string": {…}}`) is
    // kept concealed and named rather than dropped.
    let push_plain = |entry: &mut Entry, findings: &mut Vec<Finding>, kind: FieldKind, v: &Value| match text(v) {
        Some(s) => entry.fields.push(plain_field(&label, s, kind, group)),
        None if matches!(v, Value::Object(_) | Value::Array(_)) => {
            values::odd_value(entry, &label, v, group, pos, findings);
        }
        None => {}
    };
    let push_secret = |entry: &mut Entry, findings: &mut Vec<Finding>, kind: FieldKind, v: &Value| match text(v) {
        Some(s) => entry.fields.push(secret_field(&label, s, kind, group)),
        None => values::odd_value(entry, &label, v, group, pos, findings),
    };
    match kind_name.as_str() {
        "string" => {
            let kind = match value.as_str() {
                Some(s) if multiline || s.contains('\n') => FieldKind::Multiline,
                _ => FieldKind::Text,
            };
            push_plain(entry, findings, kind, &value);
        }
        "concealed" => push_secret(entry, findings, FieldKind::Concealed, &value),
        "creditCardNumber" => push_secret(entry, findings, FieldKind::CardNumber, &value),
        "totp" => match text(&value) {
            Some(s) => add_totp(entry, &label, s, group),
            None => values::odd_value(entry, &label, &value, group, pos, findings),
        },
        "email" => {
            // 1PUX 3 writes `{"email_address": …, "provider": …}`; older
            // exports a bare string. The provider (a masked-email service)
            // is kept beside the address.
            let email = values::email(value);
            if let Some(a) = email.address {
                entry.fields.push(plain_field(&label, a, FieldKind::Email, group));
            }
            if let Some(p) = email.provider {
                entry
                    .fields
                    .push(plain_field(&format!("{label} provider"), p, FieldKind::Text, group));
            }
            for (key, v) in email.rest {
                values::odd_value(entry, &format!("{label} ({key})"), &v, group, pos, findings);
            }
        }
        "phone" => push_plain(entry, findings, FieldKind::Phone, &value),
        "url" => push_plain(entry, findings, FieldKind::Url, &value),
        "menu" | "gender" => push_plain(entry, findings, FieldKind::Menu, &value),
        "creditCardType" => push_plain(entry, findings, FieldKind::CardType, &value),
        "reference" => push_plain(entry, findings, FieldKind::Reference, &value),
        "date" => match value.as_i64() {
            Some(secs) => entry
                .fields
                .push(plain_field(&label, Timestamp(secs).to_date(), FieldKind::Date, group)),
            None => push_plain(entry, findings, FieldKind::Text, &value),
        },
        "monthYear" => match value.as_i64().and_then(month_year) {
            Some(my) => entry.fields.push(plain_field(&label, my, FieldKind::MonthYear, group)),
            None => push_plain(entry, findings, FieldKind::Text, &value),
        },
        "address" => {
            if let Value::Object(parts) = value {
                for part in ["street", "city", "state", "zip", "country"] {
                    if let Some(s) = parts.get(part).and_then(text) {
                        entry
                            .fields
                            .push(plain_field(&format!("{label} ({part})"), s, FieldKind::Address, group));
                    }
                }
            }
        }
        "sshKey" => {
            if let Value::Object(key) = value {
                let meta = key.get("metadata").and_then(Value::as_object);
                let private = key
                    .get("privateKey")
                    .and_then(text)
                    .or_else(|| meta.and_then(|m| m.get("privateKey")).and_then(text));
                if let Some(k) = private {
                    entry.fields.push(secret_field(&label, k, FieldKind::PrivateKey, group));
                }
                if let Some(meta) = meta {
                    for (json_key, field_label, kind) in [
                        ("publicKey", "public key", FieldKind::PublicKey),
                        ("fingerprint", "fingerprint", FieldKind::Fingerprint),
                        ("keyType", "key type", FieldKind::KeyType),
                    ] {
                        if let Some(s) = meta.get(json_key).and_then(text) {
                            entry.fields.push(plain_field(field_label, s, kind, group));
                        }
                    }
                }
            }
        }
        "file" => match serde_json::from_value::<FileRef>(value) {
            Ok(doc) => {
                let attachment = attach(&doc, files, pos, findings);
                entry
                    .fields
                    .push(plain_field(&label, attachment.name.clone(), FieldKind::File, group));
                entry.attachments.push(attachment);
            }
            Err(_) => findings.push(
                Finding::warning(
                    "onepassword.attachment-missing",
                    format!("file field '{label}' does not name a file (expected fileName and documentId)"),
                )
                .at(pos.clone()),
            ),
        },
        other => {
            let other = other.to_owned();
            unknown_kind(entry, &label, &other, value, group, pos, findings)
        }
    }
}

/// A login field whose value is an object. The one shape seen is a
/// masked-email alias (`{"email_address": …, "provider": {…}}`): its address
/// is the username (or an e-mail field) and its provider a field. Keys
/// beyond those are kept concealed, with a finding, so the item is never
/// skipped for them.
fn login_object(
    entry: &mut Entry,
    label: &str,
    designation: &str,
    value: Value,
    pos: &Position,
    findings: &mut Vec<Finding>,
) {
    let email = values::email(value);
    if let Some(address) = email.address {
        match designation {
            "username" if entry.username.is_none() => entry.username = Some(address),
            "password" if entry.password.is_none() => entry.password = Some(Secret::text(address)),
            "password" => entry
                .fields
                .push(secret_field(label, address, FieldKind::Concealed, None)),
            _ => entry.fields.push(plain_field(label, address, FieldKind::Email, None)),
        }
    }
    if let Some(p) = email.provider {
        entry
            .fields
            .push(plain_field(&format!("{label} provider"), p, FieldKind::Text, None));
    }
    for (key, v) in email.rest {
        values::odd_value(entry, &format!("{label} ({key})"), &v, None, pos, findings);
    }
}

/// Never drop a value: a kind this version does not know is kept, and
/// concealed — a new kind may well be a secret one, and printing an unknown
/// value without `--reveal` is the worse mistake.
fn unknown_kind(
    entry: &mut Entry,
    label: &str,
    kind_name: &str,
    value: Value,
    group: Option<&str>,
    pos: &Position,
    findings: &mut Vec<Finding>,
) {
    let text = match value {
        Value::String(s) => s,
        Value::Null => return,
        other => other.to_string(),
    };
    if text.is_empty() {
        return;
    }
    entry
        .fields
        .push(secret_field(label, text, FieldKind::Concealed, group));
    findings.push(
        Finding::info(
            "onepassword.unknown-field-kind",
            format!("field '{label}' has value kind '{kind_name}', which this version does not know; it is kept as a concealed field"),
        )
        .at(pos.clone()),
    );
}

/// An attachment from `files/<documentId>__<name>`, by size, digest and
/// place in the archive (its bytes are copied from there when written); a
/// file the export names but does not contain is kept without content,
/// with a finding.
fn attach(doc: &FileRef, files: &Files, pos: &Position, findings: &mut Vec<Finding>) -> Attachment {
    match files.get(&doc.document_id) {
        Some((archived_name, stored)) => Attachment {
            name: non_empty(&doc.file_name).unwrap_or_else(|| archived_name.clone()),
            size: stored.size,
            content: None,
            source_id: non_empty(&doc.document_id),
            digest: Some(stored.digest),
            origin: Some(stored.origin.clone()),
        },
        None => {
            findings.push(
                Finding::warning(
                    "onepassword.attachment-missing",
                    format!(
                        "attachment '{}' (document {}) is not in the archive; expected files/{}__{}",
                        doc.file_name, doc.document_id, doc.document_id, doc.file_name
                    ),
                )
                .at(pos.clone())
                .help("export again with attachments, or attach the file by hand after the import"),
            );
            Attachment {
                name: doc.file_name.clone(),
                size: 0,
                content: None,
                source_id: non_empty(&doc.document_id),
                digest: None,
                origin: None,
            }
        }
    }
}

/// Whether an archive member name stays inside the archive: no absolute
/// path (`/x`, `\x`, `C:\x`), no `..` component, either separator.
pub(super) fn is_safe_member(name: &str) -> bool {
    if name.starts_with('/') || name.starts_with('\\') {
        return false;
    }
    let bytes = name.as_bytes();
    if bytes.len() >= 2 && bytes[1] == b':' && bytes[0].is_ascii_alphabetic() {
        return false;
    }
    !name.split(['/', '\\']).any(|part| part == "..") && !name.contains('\0')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_names_that_leave_the_archive_are_unsafe() {
        for bad in ["../evil", "files/../../x", "/etc/passwd", "\\evil", "C:\\x", "a\\..\\b"] {
            assert!(!is_safe_member(bad), "{bad}");
        }
        for good in ["export.data", "files/abc__report..pdf", "files/x"] {
            assert!(is_safe_member(good), "{good}");
        }
    }

    #[test]
    fn field_kinds_map_to_model_fields() {
        let raw = serde_json::json!({
            "uuid": "u1", "categoryUuid": "001", "favIndex": 1, "state": "archived",
            "overview": {"title": "t", "url": "https://a.example", "urls": [
                {"label": "", "url": "https://a.example"}, {"label": "admin", "url": "https://b.example"}]},
            "details": {
                "loginFields": [
                    {"value": "ann", "designation": "username", "name": "u", "fieldType": "T"},
                    {"value": "Pw-1", "designation": "password", "name": "p", "fieldType": "P"},
                    {"value": "x", "designation": "", "name": "remember", "fieldType": "C"}],
                "sections": [{"title": "More", "fields": [
                    {"title": "seed", "value": {"totp": "JBSWY3DPEHPK3PXP"}},
                    {"title": "seed2", "value": {"totp": "otpauth://totp/x?secret=ABC"}},
                    {"title": "born", "value": {"date": 86400}},
                    {"title": "exp", "value": {"monthYear": 202712}},
                    {"title": "mail", "value": {"email": {"email_address": "a@b.example", "provider": null}}},
                    {"title": "home", "value": {"address": {"street": "1 Road", "city": "Town", "zip": "", "state": "", "country": "nz"}}},
                    {"title": "weird", "value": {"hologram": "xyz"}}
                ]}]
            }
        });
        let (entry, findings) = decode_item(&raw.to_string(), 0, "V", &HashMap::new(), "f.1pux");
        let entry = entry.unwrap();
        assert!(entry.archived && entry.favorite);
        assert_eq!(entry.urls, ["https://a.example", "https://b.example"]);
        assert_eq!(entry.field("admin").unwrap().kind, FieldKind::Url);
        assert_eq!(entry.username.as_deref(), Some("ann"));
        assert_eq!(entry.totp.as_ref().unwrap().expose(), "JBSWY3DPEHPK3PXP");
        assert!(entry.field("seed2").unwrap().is_concealed());
        assert_eq!(entry.field("born").unwrap().value.expose(), "1970-01-02");
        assert_eq!(entry.field("exp").unwrap().value.expose(), "2027-12");
        assert_eq!(entry.field("mail").unwrap().value.expose(), "a@b.example");
        assert_eq!(entry.field("home (city)").unwrap().group.as_deref(), Some("More"));
        assert!(entry.field("home (zip)").is_none());
        assert_eq!(entry.field("weird").unwrap().value.expose(), "xyz");
        assert!(
            entry.field("weird").unwrap().is_concealed(),
            "unknown kinds stay concealed"
        );
        assert_eq!(entry.field("remember").unwrap().value.expose(), "x");
        assert!(findings.iter().any(|f| f.code == "onepassword.unknown-field-kind"));
    }
}
