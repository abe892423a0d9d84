//! 1PUX writer (1Password 8 export): a zip of `export.attributes`,
//! `export.data` (`accounts → vaults → items`) and `files/<id>__<name>`.
//!
//! What 1PUX cannot carry: folders below a vault (1Password 8 has none; an
//! entry is filed in its top-level folder's vault) and entries at the root
//! (they go to a vault named `Private`); field kinds the item schema has no
//! value for (`address`, keys) are written as strings. An attachment that
//! no `file` field names is written as a `file` field of a section
//! `Attachments`, so reading it back adds that field.

use std::collections::HashMap;
use std::io::{self, Seek, Write};

use rayon::prelude::*;
use serde_json::{json, Map, Value};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipWriter};

use super::{Synth, CHUNK};
use crate::model::{Entry, EntryKind, Field, FieldKind, Folder, Timestamp, Vault};

/// Fixed in the archive and `export.attributes`: no wall clock, so the same
/// seed gives the same bytes.
const CREATED_AT: i64 = 1_740_873_600;

/// Where root entries go: 1PUX has no items outside a vault.
const ROOT_VAULT: &str = "Private";

fn options() -> SimpleFileOptions {
    let stamp = DateTime::from_date_and_time(2025, 3, 2, 9, 30, 0).unwrap_or_default();
    SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .last_modified_time(stamp)
        .unix_permissions(0o644)
}

/// An attachment to store after `export.data`: its bytes, or where they
/// are made (`--attachment-bytes`), so large ones are written as they are
/// generated and stored, not deflated (noise does not compress).
struct FileOut {
    member: String,
    bytes: FileBytes,
}

enum FileBytes {
    Held(Vec<u8>),
    Made(crate::model::ContentOrigin),
}

/// Writes `vault` as a 1PUX archive.
pub fn write<W: Write + Seek>(vault: &Vault, w: W) -> io::Result<()> {
    let mut vaults: Vec<(Folder, Vec<&Entry>)> = vault
        .folders
        .iter()
        .filter(|f| f.path.len() == 1)
        .map(|f| (f.clone(), Vec::new()))
        .collect();
    for entry in &vault.entries {
        let top = entry.folder.first().map(String::as_str).unwrap_or(ROOT_VAULT);
        let at = match vaults
            .iter()
            .position(|(f, _)| f.path.first().map(String::as_str) == Some(top))
        {
            Some(at) => at,
            None => {
                vaults.push((
                    Folder {
                        path: vec![top.to_owned()],
                        shared: false,
                        source_id: None,
                        description: None,
                    },
                    Vec::new(),
                ));
                vaults.len() - 1
            }
        };
        if let Some((_, list)) = vaults.get_mut(at) {
            list.push(entry);
        }
    }
    let mut out = Archive::begin(w)?;
    for (k, (folder, entries)) in vaults.iter().enumerate() {
        out.vault(folder, k)?;
        for (n, entry) in entries.iter().enumerate() {
            let (item, files) = item_json(entry);
            out.item(n, &item, files)?;
        }
        out.end_vault()?;
    }
    out.finish()
}

/// Writes the synthesizer's export vault by vault, each vault's entries
/// built in parallel batches.
pub fn write_synth<W: Write + Seek>(synth: &Synth, w: W) -> io::Result<()> {
    let mut by_vault: Vec<Vec<usize>> = vec![Vec::new(); synth.folders.len()];
    for i in 0..synth.entries {
        if let Some(list) = synth.folder_of(i).and_then(|f| by_vault.get_mut(f)) {
            list.push(i);
        }
    }
    let mut out = Archive::begin(w)?;
    for (k, (folder, indices)) in synth.folders.iter().zip(&by_vault).enumerate() {
        out.vault(folder, k)?;
        let mut n = 0;
        for batch in indices.chunks(CHUNK) {
            let items: Vec<(Vec<u8>, Vec<FileOut>)> = batch
                .par_iter()
                .map(|&i| {
                    let (item, files) = item_json(&synth.entry(i));
                    (serde_json::to_vec(&item).unwrap_or_default(), files)
                })
                .collect();
            for (bytes, files) in items {
                out.item_bytes(n, &bytes, files)?;
                n += 1;
            }
        }
        out.end_vault()?;
    }
    out.finish()
}

/// `export.data` written as a stream inside the zip, attachments after it.
struct Archive<W: Write + Seek> {
    zip: ZipWriter<W>,
    files: Vec<FileOut>,
    vaults: usize,
}

impl<W: Write + Seek> Archive<W> {
    fn begin(w: W) -> io::Result<Archive<W>> {
        let mut zip = ZipWriter::new(w);
        zip.start_file("export.attributes", options())
            .map_err(io::Error::other)?;
        let attributes = json!({
            "version": 3,
            "description": "1Password Unencrypted Export",
            "createdAt": CREATED_AT,
        });
        serde_json::to_writer_pretty(&mut zip, &attributes).map_err(io::Error::other)?;
        zip.start_file("export.data", options()).map_err(io::Error::other)?;
        let account = json!({
            "accountName": "Northwind Robotics",
            "name": "Sam Patel",
            "avatar": "",
            "email": format!("sam@{}", super::COMPANY_DOMAIN),
            "uuid": "NWRACCOUNTGENERATED0000001",
            "domain": "https://northwind.1password.com/",
        });
        write!(zip, "{{\"accounts\":[{{\"attrs\":{account},\"vaults\":[")?;
        Ok(Archive {
            zip,
            files: Vec::new(),
            vaults: 0,
        })
    }

    fn vault(&mut self, folder: &Folder, k: usize) -> io::Result<()> {
        let name = folder.path.join("/");
        let kind = if folder.shared { "U" } else { "P" };
        let attrs = json!({
            "uuid": folder.source_id.clone().unwrap_or_else(|| format!("vault{k:021}")),
            "desc": folder.description.clone().unwrap_or_default(),
            "avatar": "",
            "name": name,
            "type": kind,
        });
        if self.vaults > 0 {
            self.zip.write_all(b",")?;
        }
        self.vaults += 1;
        write!(self.zip, "{{\"attrs\":{attrs},\"items\":[")
    }

    fn item(&mut self, n: usize, item: &Value, files: Vec<FileOut>) -> io::Result<()> {
        let bytes = serde_json::to_vec(item).map_err(io::Error::other)?;
        self.item_bytes(n, &bytes, files)
    }

    fn item_bytes(&mut self, n: usize, bytes: &[u8], files: Vec<FileOut>) -> io::Result<()> {
        if n > 0 {
            self.zip.write_all(b",\n")?;
        }
        self.zip.write_all(bytes)?;
        self.files.extend(files);
        Ok(())
    }

    fn end_vault(&mut self) -> io::Result<()> {
        self.zip.write_all(b"]}")
    }

    fn finish(mut self) -> io::Result<()> {
        self.zip.write_all(b"]}]}\n")?;
        for file in std::mem::take(&mut self.files) {
            match file.bytes {
                FileBytes::Held(bytes) => {
                    self.zip.start_file(file.member, options()).map_err(io::Error::other)?;
                    self.zip.write_all(&bytes)?;
                }
                FileBytes::Made(origin) => {
                    let stored = options().compression_method(CompressionMethod::Stored).large_file(true);
                    self.zip.start_file(file.member, stored).map_err(io::Error::other)?;
                    origin.write_to(&mut self.zip)?;
                }
            }
        }
        self.zip.finish().map_err(io::Error::other)?;
        Ok(())
    }
}

/// A field's `value` object: `{<kind>: <value>}` as 1Password 8 writes it.
fn field_value(f: &Field, doc_ids: &HashMap<&str, &str>) -> Value {
    let v = f.value.expose();
    if f.is_concealed() {
        return match f.kind {
            FieldKind::CardNumber => json!({ "creditCardNumber": v }),
            FieldKind::Totp => json!({ "totp": v }),
            _ => json!({ "concealed": v }),
        };
    }
    match f.kind {
        FieldKind::Email => json!({ "email": { "email_address": v, "provider": null } }),
        FieldKind::Phone => json!({ "phone": v }),
        FieldKind::Url => json!({ "url": v }),
        FieldKind::Date => match iso_to_unix(v) {
            Some(t) => json!({ "date": t }),
            None => json!({ "string": v }),
        },
        FieldKind::MonthYear => match v
            .split_once('-')
            .and_then(|(y, m)| format!("{y}{m}").parse::<i64>().ok())
        {
            Some(n) => json!({ "monthYear": n }),
            None => json!({ "string": v }),
        },
        FieldKind::CardType => json!({ "creditCardType": v }),
        FieldKind::Menu => json!({ "menu": v }),
        FieldKind::Reference => json!({ "reference": v }),
        FieldKind::File => json!({ "file": {
            "fileName": v,
            "documentId": doc_ids.get(v).copied().unwrap_or(""),
        }}),
        _ => json!({ "string": v }),
    }
}

fn iso_to_unix(v: &str) -> Option<i64> {
    let mut p = v.split('-');
    let (y, m, d) = (
        p.next()?.parse().ok()?,
        p.next()?.parse().ok()?,
        p.next()?.parse().ok()?,
    );
    Timestamp::from_civil(y, m, d, 0, 0, 0).map(|t| t.0)
}

fn category_code(e: &Entry) -> &'static str {
    match e.kind {
        EntryKind::Login => "001",
        EntryKind::SecureNote => "003",
        EntryKind::Document => "006",
        kind => super::synth::op_category(kind).map(|c| c.code).unwrap_or("003"),
    }
}

fn section_json(title: &str, fields: Vec<Value>) -> Value {
    json!({ "title": title, "name": if title.is_empty() { "" } else { "section" }, "fields": fields })
}

/// One item as `export.data` holds it, and the attachment members it needs.
fn item_json(e: &Entry) -> (Value, Vec<FileOut>) {
    let mut files = Vec::new();
    let mut doc_ids: HashMap<&str, &str> = HashMap::new();
    for a in &e.attachments {
        let id = a.source_id.as_deref().unwrap_or("");
        doc_ids.insert(a.name.as_str(), id);
        let bytes = match (&a.content, &a.origin) {
            (Some(content), _) => FileBytes::Held(content.expose_bytes().to_vec()),
            (None, Some(origin)) => FileBytes::Made(origin.clone()),
            (None, None) => continue,
        };
        files.push(FileOut {
            member: format!("files/{id}__{}", a.name),
            bytes,
        });
    }
    let mut login_fields = Vec::new();
    if let Some(u) = &e.username {
        login_fields
            .push(json!({"value": u, "id": "", "name": "username", "fieldType": "T", "designation": "username"}));
    }
    let mut details = Map::new();
    match (&e.password, e.kind) {
        (Some(p), EntryKind::Password) => {
            details.insert("password".into(), json!(p.expose()));
        }
        (Some(p), _) => login_fields.push(
            json!({"value": p.expose(), "id": "", "name": "password", "fieldType": "P", "designation": "password"}),
        ),
        (None, _) => {}
    }
    // Consecutive fields of one group form one section, keeping field order.
    let mut sections: Vec<Value> = Vec::new();
    let mut current: Option<(String, Vec<Value>)> = None;
    if let Some(totp) = &e.totp {
        current = Some((
            String::new(),
            vec![json!({"title": "one-time password", "id": "TOTP_gen", "value": {"totp": totp.expose()}})],
        ));
    }
    let mut is_document_file = e.kind == EntryKind::Document;
    for (j, f) in e.fields.iter().enumerate() {
        let group = f.group.clone().unwrap_or_default();
        let field = json!({
            "title": f.label,
            "id": format!("f{j}"),
            "value": field_value(f, &doc_ids),
            "multiline": f.kind == FieldKind::Multiline,
        });
        match &mut current {
            Some((g, list)) if *g == group => list.push(field),
            _ => {
                if let Some((g, list)) = current.take() {
                    sections.push(section_json(&g, list));
                }
                current = Some((group, vec![field]));
            }
        }
    }
    if let Some((g, list)) = current.take() {
        sections.push(section_json(&g, list));
    }
    let mut unnamed = Vec::new();
    for a in &e.attachments {
        if is_document_file {
            details.insert(
                "documentAttributes".into(),
                json!({"fileName": a.name, "documentId": a.source_id, "decryptedSize": a.size}),
            );
            is_document_file = false;
            continue;
        }
        let named = e
            .fields
            .iter()
            .any(|f| f.kind == FieldKind::File && f.value.expose() == a.name);
        if !named {
            unnamed.push(json!({"title": "attachment", "id": "file", "value": {"file": {
                "fileName": a.name, "documentId": a.source_id }}}));
        }
    }
    if !unnamed.is_empty() {
        sections.push(section_json("Attachments", unnamed));
    }
    details.insert("loginFields".into(), Value::Array(login_fields));
    details.insert("notesPlain".into(), json!(e.notes.clone().unwrap_or_default()));
    details.insert("sections".into(), Value::Array(sections));
    let history: Vec<Value> = e
        .password_history
        .iter()
        .map(|h| json!({"value": h.value.expose(), "time": h.changed.map_or(0, |t| t.0)}))
        .collect();
    details.insert("passwordHistory".into(), Value::Array(history));
    let urls: Vec<Value> = e.urls.iter().map(|u| json!({"label": "", "url": u})).collect();
    let mut overview = Map::new();
    overview.insert("title".into(), json!(e.title));
    if let Some(s) = &e.subtitle {
        overview.insert("subtitle".into(), json!(s));
    }
    overview.insert("url".into(), json!(e.urls.first().cloned().unwrap_or_default()));
    overview.insert("urls".into(), Value::Array(urls));
    overview.insert("tags".into(), json!(e.tags));
    let item = json!({
        "uuid": e.source_id,
        "favIndex": if e.favorite { 1 } else { 0 },
        "createdAt": e.created.map_or(0, |t| t.0),
        "updatedAt": e.updated.map_or(0, |t| t.0),
        "state": if e.archived { "archived" } else { "active" },
        "categoryUuid": category_code(e),
        "details": Value::Object(details),
        "overview": Value::Object(overview),
    });
    (item, files)
}
