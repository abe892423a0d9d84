//! 1PIF writer (1Password 4–7): one JSON record per line, records separated
//! by `***5642bee8-a5ff-11dc-8314-0800200c9a66***` lines, folders as
//! `system.folder.Regular` records linked by `folderUuid`.
//!
//! What a single `.1pif` file cannot carry: attachments (the 1Password 7
//! export folder holds them beside `data.1pif`, which
//! [`write_synth_with_files`] writes), sharing (1PIF has none: the
//! permissions bundle supplies it) and field kinds without a 1PIF `k`
//! (`address`, keys, files), written as strings.

use std::collections::HashMap;
use std::io::{self, Write};
use std::path::Path;

use rayon::prelude::*;
use serde_json::{json, Map, Value};

use super::{Synth, CHUNK};
use crate::model::{Attachment, Entry, EntryKind, FieldKind, Folder, Timestamp, Vault};

const SEPARATOR: &str = "***5642bee8-a5ff-11dc-8314-0800200c9a66***";

/// Folder path → uuid, for `folderUuid` links.
struct FolderIds(HashMap<Vec<String>, String>);

impl FolderIds {
    fn new(folders: &[Folder]) -> FolderIds {
        FolderIds(
            folders
                .iter()
                .enumerate()
                .map(|(k, f)| {
                    let id = f.source_id.clone().unwrap_or_else(|| format!("F{k:031X}"));
                    (f.path.clone(), id)
                })
                .collect(),
        )
    }
}

/// Writes `vault` as a 1PIF file.
pub fn write<W: Write>(vault: &Vault, mut w: W) -> io::Result<()> {
    let ids = FolderIds::new(&vault.folders);
    write_folders(&vault.folders, &ids, &mut w)?;
    for e in &vault.entries {
        record(&mut w, &item_json(e, &ids))?;
    }
    Ok(())
}

/// Writes the synthesizer's export in parallel batches.
pub fn write_synth<W: Write>(synth: &Synth, w: W) -> io::Result<()> {
    write_synth_with_files(synth, w, None).map(|_| ())
}

/// [`write_synth`], and each entry's attachments as the 1Password 7 export
/// folder holds them: `<attachments>/<item uuid>/<file name>`, written as
/// they are made (a large one is never held). Returns the bytes of the
/// attachments written.
pub fn write_synth_with_files<W: Write>(synth: &Synth, mut w: W, attachments: Option<&Path>) -> io::Result<u64> {
    let ids = FolderIds::new(&synth.folders);
    write_folders(&synth.folders, &ids, &mut w)?;
    let mut written = 0;
    let mut start = 0;
    while start < synth.entries {
        let end = (start + CHUNK).min(synth.entries);
        let parts: Vec<(Vec<u8>, ItemFiles)> = (start..end)
            .into_par_iter()
            .map(|i| {
                let mut entry = synth.entry(i);
                let mut buf = Vec::with_capacity(512);
                // Writing into a Vec cannot fail.
                let _ = record(&mut buf, &item_json(&entry, &ids));
                let files = std::mem::take(&mut entry.attachments);
                (buf, files.into_iter().map(|a| (entry.source_id.clone(), a)).collect())
            })
            .collect();
        for (part, files) in parts {
            w.write_all(&part)?;
            if let Some(dir) = attachments {
                for (uuid, a) in files {
                    written += write_attachment(dir, &uuid, &a)?;
                }
            }
        }
        start = end;
    }
    Ok(written)
}

/// An item's attachments, each with the item's uuid.
type ItemFiles = Vec<(String, Attachment)>;

/// One attachment file of the export folder, created owner-only.
fn write_attachment(dir: &Path, uuid: &str, a: &Attachment) -> io::Result<u64> {
    let folder = dir.join(uuid);
    std::fs::create_dir_all(&folder)?;
    let mut out = io::BufWriter::with_capacity(1 << 20, super::create_private(&folder.join(&a.name))?);
    let n = match (&a.content, &a.origin) {
        (Some(content), _) => {
            out.write_all(content.expose_bytes())?;
            content.expose_bytes().len() as u64
        }
        (None, Some(origin)) => origin.write_to(&mut out)?,
        (None, None) => 0,
    };
    out.flush()?;
    Ok(n)
}

fn record<W: Write>(w: &mut W, value: &Value) -> io::Result<()> {
    serde_json::to_writer(&mut *w, value).map_err(io::Error::other)?;
    writeln!(w)?;
    writeln!(w, "{SEPARATOR}")
}

fn write_folders<W: Write>(folders: &[Folder], ids: &FolderIds, w: &mut W) -> io::Result<()> {
    for f in folders {
        let Some((title, parent)) = f.path.split_last() else {
            continue;
        };
        let mut rec = Map::new();
        rec.insert("uuid".into(), json!(ids.0.get(&f.path)));
        rec.insert("typeName".into(), json!("system.folder.Regular"));
        rec.insert("title".into(), json!(title));
        rec.insert("createdAt".into(), json!(1_700_000_000));
        rec.insert("updatedAt".into(), json!(1_700_000_000));
        rec.insert("secureContents".into(), json!({}));
        if let Some(p) = ids.0.get(parent).filter(|_| !parent.is_empty()) {
            rec.insert("folderUuid".into(), json!(p));
        }
        record(w, &Value::Object(rec))?;
    }
    Ok(())
}

fn type_name(e: &Entry) -> &'static str {
    match e.kind {
        EntryKind::Login => "webforms.WebForm",
        EntryKind::SecureNote | EntryKind::Document => "securenotes.SecureNote",
        kind => super::synth::op_category(kind)
            .map(|c| c.type_name)
            .unwrap_or("securenotes.SecureNote"),
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

fn item_json(e: &Entry, ids: &FolderIds) -> Value {
    let mut secure = Map::new();
    if !e.urls.is_empty() {
        let urls: Vec<Value> = e.urls.iter().map(|u| json!({"label": "", "url": u})).collect();
        secure.insert("URLs".into(), Value::Array(urls));
    }
    let mut form = Vec::new();
    if let Some(u) = &e.username {
        form.push(json!({"designation": "username", "name": "username", "type": "T", "value": u}));
    }
    if let Some(p) = &e.password {
        if e.kind == EntryKind::Password {
            secure.insert("password".into(), json!(p.expose()));
        } else {
            form.push(json!({"designation": "password", "name": "password", "type": "P", "value": p.expose()}));
        }
    }
    if !form.is_empty() {
        secure.insert("fields".into(), Value::Array(form));
    }
    if let Some(n) = &e.notes {
        secure.insert("notesPlain".into(), json!(n));
    }
    let mut sections: Vec<Value> = Vec::new();
    let mut current: Option<(String, Vec<Value>)> = None;
    if let Some(totp) = &e.totp {
        current = Some((
            String::new(),
            vec![json!({"k": "concealed", "n": "TOTP_gen", "t": "one-time password", "v": totp.expose()})],
        ));
    }
    for (j, f) in e.fields.iter().enumerate() {
        let v = f.value.expose();
        let id = format!("f{j}");
        let (k, n, v): (&str, String, Value) = if f.is_concealed() {
            match f.kind {
                // 1PIF marks a card number by its id, not its kind.
                FieldKind::CardNumber => ("string", "ccnum".into(), json!(v)),
                _ => ("concealed", id, json!(v)),
            }
        } else {
            match f.kind {
                FieldKind::Email => ("email", id, json!(v)),
                FieldKind::Phone => ("phone", id, json!(v)),
                FieldKind::Url => ("URL", id, json!(v)),
                FieldKind::Menu => ("menu", id, json!(v)),
                FieldKind::CardType => ("cctype", id, json!(v)),
                FieldKind::Reference => ("reference", id, json!(v)),
                FieldKind::Date => match iso_to_unix(v) {
                    Some(t) => ("date", id, json!(t)),
                    None => ("string", id, json!(v)),
                },
                FieldKind::MonthYear => match v
                    .split_once('-')
                    .and_then(|(y, m)| format!("{y}{m}").parse::<i64>().ok())
                {
                    Some(t) => ("monthYear", id, json!(t)),
                    None => ("string", id, json!(v)),
                },
                _ => ("string", id, json!(v)),
            }
        };
        let field = json!({"k": k, "n": n, "t": f.label, "v": v});
        let group = f.group.clone().unwrap_or_default();
        match &mut current {
            Some((g, list)) if *g == group => list.push(field),
            _ => {
                if let Some((g, list)) = current.take() {
                    sections.push(section(&g, list, sections.len()));
                }
                current = Some((group, vec![field]));
            }
        }
    }
    if let Some((g, list)) = current.take() {
        sections.push(section(&g, list, sections.len()));
    }
    if !sections.is_empty() {
        secure.insert("sections".into(), Value::Array(sections));
    }
    if !e.password_history.is_empty() {
        let h: Vec<Value> = e
            .password_history
            .iter()
            .map(|h| json!({"value": h.value.expose(), "time": h.changed.map_or(0, |t| t.0)}))
            .collect();
        secure.insert("passwordHistory".into(), Value::Array(h));
    }
    let mut rec = Map::new();
    rec.insert("uuid".into(), json!(e.source_id));
    rec.insert("typeName".into(), json!(type_name(e)));
    rec.insert("title".into(), json!(e.title));
    if let Some(u) = e.urls.first() {
        rec.insert("location".into(), json!(u));
    }
    if let Some(id) = ids.0.get(&e.folder[..]).filter(|_| !e.folder.is_empty()) {
        rec.insert("folderUuid".into(), json!(id));
    }
    rec.insert("createdAt".into(), json!(e.created.map_or(0, |t| t.0)));
    rec.insert("updatedAt".into(), json!(e.updated.map_or(0, |t| t.0)));
    if e.archived {
        rec.insert("trashed".into(), json!(true));
    }
    rec.insert("secureContents".into(), Value::Object(secure));
    rec.insert(
        "openContents".into(),
        json!({"tags": e.tags, "faveIndex": if e.favorite { 1 } else { 0 }}),
    );
    Value::Object(rec)
}

/// An untitled section keeps no name either, so its fields read back
/// without a group.
fn section(title: &str, fields: Vec<Value>, k: usize) -> Value {
    let name = if title.is_empty() {
        String::new()
    } else {
        format!("section{k}")
    };
    json!({"name": name, "title": title, "fields": fields})
}
