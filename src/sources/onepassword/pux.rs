//! 1PUX: the 1Password 8 export, a zip of `export.attributes`,
//! `export.data` (JSON: accounts → vaults → items) and `files/`
//! (`<documentId>__<file name>`).
//!
//! The archive is hostile until proven otherwise: member names are checked
//! before anything is read, members are counted, and every byte unpacked is
//! counted as it is read, because the sizes a zip header declares can lie.

use std::collections::HashMap;
use std::fs::File;
use std::io::Read;
use std::path::Path;

use rayon::prelude::*;
use serde::Deserialize;
use serde_json::Value;
use zeroize::Zeroizing;

use super::categories;
use super::{add_totp, flag, label_or, month_year, non_empty, plain_field, positive, secret_field, timestamp};
use super::{json_problem, record, values};
use crate::model::{
    Attachment, Entry, EntryKind, FieldKind, Finding, Folder, PasswordChange, Position, SourceKind, Timestamp, Vault,
};
use crate::secret::Secret;
use crate::sources::{recover_or_fail, ErrorKind, ParseOptions, SourceError};

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
struct ExportData {
    accounts: Vec<Account>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Account {
    vaults: Vec<PuxVault>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct PuxVault {
    attrs: VaultAttrs,
    /// Kept as raw JSON so that one malformed item is skipped with a finding
    /// instead of failing the whole export.
    items: Vec<Value>,
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
    value: Value,
    multiline: Value,
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

/// The unpacked members we use, keyed for lookup.
struct Members {
    attributes: Option<Zeroizing<Vec<u8>>>,
    data: Option<Zeroizing<Vec<u8>>>,
    /// `documentId` → (file name from the archive, bytes).
    files: HashMap<String, (String, Secret)>,
}

pub(super) fn read(path: &Path, file: &str, options: &ParseOptions) -> Result<Vault, SourceError> {
    let handle = File::open(path).map_err(|e| SourceError::io(file, e))?;
    let members = unpack(handle, file, options)?;
    let mut vault = Vault::new(SourceKind::Onepassword1pux, file);

    match &members.attributes {
        Some(bytes) => match serde_json::from_slice::<Attributes>(bytes) {
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

    let Some(data) = &members.data else {
        return Err(SourceError::malformed(
            Position::file(file),
            "the archive has no export.data; expected a 1PUX export (export.attributes, export.data, files/)",
        ));
    };
    let export: ExportData = serde_json::from_slice(data).map_err(|e| {
        SourceError::malformed(
            Position::file(file).field("export.data"),
            format!(
                "{} at line {} column {} of export.data; expected the 1PUX JSON document {{\"accounts\": [{{\"vaults\": [...]}}]}}",
                json_problem(&e),
                e.line(),
                e.column()
            ),
        )
    })?;
    drop(members.data);

    for account in export.accounts {
        for pux_vault in account.vaults {
            read_vault(&mut vault, pux_vault, &members.files, file, options)?;
        }
    }
    Ok(vault)
}

fn read_vault(
    vault: &mut Vault,
    pux_vault: PuxVault,
    files: &HashMap<String, (String, Secret)>,
    file: &str,
    options: &ParseOptions,
) -> Result<(), SourceError> {
    let attrs = pux_vault.attrs;
    let name = non_empty(&attrs.name).unwrap_or_else(|| format!("Vault {}", attrs.uuid));
    let path = vec![name.clone()];
    if !vault.folders.iter().any(|f| f.path == path) {
        vault.folders.push(Folder {
            path: path.clone(),
            shared: attrs.kind != "P",
            source_id: non_empty(&attrs.uuid),
            description: non_empty(&attrs.desc),
        });
    }
    // Items are independent; decoding them (and copying attachment bytes)
    // in parallel keeps large exports quick. `collect` keeps file order.
    let decoded: Vec<(Option<Entry>, Vec<Finding>)> = pux_vault
        .items
        .into_par_iter()
        .enumerate()
        .map(|(index, raw)| decode_item(raw, index, &name, files, file))
        .collect();
    for (entry, findings) in decoded {
        for finding in findings {
            record(vault, finding, options)?;
        }
        match entry {
            Some(entry) => vault.entries.push(entry),
            None => vault.skipped_records += 1,
        }
    }
    Ok(())
}

fn item_position(file: &str, vault: &str, uuid: &str) -> Position {
    Position::file(file).field(format!("vault '{vault}' item '{uuid}'"))
}

fn decode_item(
    raw: Value,
    index: usize,
    vault_name: &str,
    files: &HashMap<String, (String, Secret)>,
    file: &str,
) -> (Option<Entry>, Vec<Finding>) {
    let uuid_hint = raw.get("uuid").and_then(Value::as_str).unwrap_or("").to_owned();
    let item = match serde_json::from_value::<Item>(raw) {
        Ok(item) => match item.item {
            Some(inner) => *inner,
            None => item,
        },
        Err(e) => {
            let id = if uuid_hint.is_empty() {
                format!("#{}", index + 1)
            } else {
                uuid_hint
            };
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

fn convert(
    item: Item,
    vault_name: &str,
    files: &HashMap<String, (String, Secret)>,
    file: &str,
    findings: &mut Vec<Finding>,
) -> Entry {
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
                .help("check formats/onepassword-categories.toml for the codes that are mapped"),
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
    files: &HashMap<String, (String, Secret)>,
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
    let Value::Object(map) = value else {
        if !value.is_null() {
            unknown_kind(entry, &label, "(not an object)", value, group, pos, findings);
        }
        return;
    };
    let Some((kind_name, value)) = map.into_iter().next() else {
        return;
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

/// An attachment from `files/<documentId>__<name>`; a file the export names
/// but does not contain is kept without content, with a finding.
fn attach(
    doc: &FileRef,
    files: &HashMap<String, (String, Secret)>,
    pos: &Position,
    findings: &mut Vec<Finding>,
) -> Attachment {
    match files.get(&doc.document_id) {
        Some((archived_name, bytes)) => Attachment {
            name: non_empty(&doc.file_name).unwrap_or_else(|| archived_name.clone()),
            size: bytes.len() as u64,
            content: Some(bytes.clone()),
            source_id: non_empty(&doc.document_id),
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

/// Reads the members we use, with every archive bound enforced.
fn unpack(handle: File, file: &str, options: &ParseOptions) -> Result<Members, SourceError> {
    let mut archive = zip::ZipArchive::new(handle).map_err(|e| {
        SourceError::malformed(
            Position::file(file),
            format!("not a readable zip archive ({e}); expected a 1PUX export"),
        )
    })?;
    let limits = options.limits;
    if archive.len() > limits.max_entries {
        return Err(SourceError::new(
            ErrorKind::Limit,
            Position::file(file),
            format!(
                "the archive holds {} files; the limit is {} (raise it with --max-entries if this export is genuine)",
                archive.len(),
                limits.max_entries
            ),
        ));
    }
    for name in archive.file_names() {
        if !is_safe_member(name) {
            return Err(SourceError::new(
                ErrorKind::UnsafePath,
                Position::file(file).field(name),
                format!("archive member '{name}' points outside the archive (absolute path or '..'); refusing the whole archive"),
            ));
        }
    }
    let mut members = Members {
        attributes: None,
        data: None,
        files: HashMap::new(),
    };
    let mut total: u64 = 0;
    for index in 0..archive.len() {
        let mut member = archive.by_index(index).map_err(|e| {
            SourceError::malformed(
                Position::file(file),
                format!("archive member {} cannot be read ({e})", index + 1),
            )
        })?;
        if member.is_dir() {
            continue;
        }
        let name = member.name().to_owned();
        let wanted = name == "export.attributes" || name == "export.data" || name.starts_with("files/");
        if !wanted {
            continue;
        }
        let remaining = limits.max_unpacked_bytes.saturating_sub(total);
        let mut buf = Zeroizing::new(Vec::new());
        (&mut member)
            .take(remaining.saturating_add(1))
            .read_to_end(&mut buf)
            .map_err(|e| {
                SourceError::malformed(
                    Position::file(file).field(name.as_str()),
                    format!("archive member '{name}' cannot be unpacked ({e})"),
                )
            })?;
        total = total.saturating_add(buf.len() as u64);
        if total > limits.max_unpacked_bytes {
            return Err(SourceError::new(
                ErrorKind::Limit,
                Position::file(file).field(name.as_str()),
                format!(
                    "the archive unpacks to more than {} bytes (stopped at '{name}'); raise --max-unpacked-bytes if this export is genuine",
                    limits.max_unpacked_bytes
                ),
            ));
        }
        match name.as_str() {
            "export.attributes" => members.attributes = Some(buf),
            "export.data" => members.data = Some(buf),
            _ => {
                let base = name.trim_start_matches("files/");
                let (doc_id, file_name) = match base.split_once("__") {
                    Some((id, rest)) => (id.to_owned(), rest.to_owned()),
                    None => (base.to_owned(), base.to_owned()),
                };
                let bytes = std::mem::take(&mut *buf);
                members.files.insert(doc_id, (file_name, Secret::bytes(bytes)));
            }
        }
    }
    Ok(members)
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
        let (entry, findings) = decode_item(raw, 0, "V", &HashMap::new(), "f.1pux");
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
