//! LastPass writers: the CSV export (as the web vault writes it) and the
//! Enterprise API `getdetailedsfdata` sharing JSON.
//!
//! What a LastPass CSV cannot carry, and so is not written: tags, archived
//! state, created/updated times, password history, attachments (LastPass
//! never exports their bytes), more than one URL, and fields of a login
//! (only secure notes have `Label:value` fields). Field kinds are implied by
//! the note-type table, not written.

use std::collections::HashMap;
use std::io::{self, Write};

use rayon::prelude::*;

use super::{Synth, CHUNK};
use crate::model::{Entry, EntryKind, FieldKind, Folder, Principal, Share, ShareStatus, Vault};

/// The current web vault / browser extension header.
const HEADER: [&str; 8] = [
    "url", "username", "password", "totp", "extra", "name", "grouping", "fav",
];

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// Shared top folders → the `Shared-X` prefix LastPass writes in `grouping`.
struct Prefixes(HashMap<String, String>);

impl Prefixes {
    fn new(folders: &[Folder]) -> Prefixes {
        Prefixes(
            folders
                .iter()
                .filter(|f| f.shared && f.path.len() == 1)
                .filter_map(|f| {
                    let name = f.path.first()?.clone();
                    let has_prefix =
                        |s: &String| s.len() > 7 && s.get(..7).is_some_and(|p| p.eq_ignore_ascii_case("Shared-"));
                    // The reader keeps the prefix in the path: a path that
                    // has it is written as it is.
                    let prefix = Some(name.clone())
                        .filter(has_prefix)
                        .or_else(|| f.source_id.clone().filter(has_prefix))
                        .unwrap_or_else(|| format!("Shared-{name}"));
                    Some((name, prefix))
                })
                .collect(),
        )
    }

    /// `["Ops", "db"]` → `Shared-Ops\db` when Ops is shared; LastPass nests with `\`.
    fn grouping(&self, path: &[String]) -> String {
        let mut parts: Vec<&str> = path.iter().map(String::as_str).collect();
        if let Some(first) = parts.first_mut() {
            if let Some(prefix) = self.0.get(*first) {
                *first = prefix;
            }
        }
        parts.join("\\")
    }
}

/// Folders no entry is filed in (nor under): LastPass records those as
/// `http://group` rows, or the folder would vanish from the export.
fn empty_folders<'a>(folders: &'a [Folder], used: &dyn Fn(&[String]) -> bool) -> Vec<&'a Folder> {
    folders.iter().filter(|f| !used(&f.path)).collect()
}

/// Writes `vault` as a LastPass CSV export.
pub fn write_csv<W: Write>(vault: &Vault, w: W) -> io::Result<()> {
    let prefixes = Prefixes::new(&vault.folders);
    let used = |path: &[String]| vault.entries.iter().any(|e| e.folder.starts_with(path));
    let empty = empty_folders(&vault.folders, &used);
    let mut csv = csv::WriterBuilder::new().from_writer(w);
    csv.write_record(HEADER)?;
    for folder in empty {
        group_row(&mut csv, &prefixes, folder)?;
    }
    for entry in &vault.entries {
        row(&mut csv, &prefixes, entry, &Extra::default())?;
    }
    csv.flush()
}

/// Writes the synthesizer's export, entries built and formatted in parallel
/// batches and written in order.
pub fn write_synth<W: Write>(synth: &Synth, mut w: W) -> io::Result<()> {
    let prefixes = Prefixes::new(&synth.folders);
    let ids = synth.adversarial.duplicate_ids;
    {
        let mut csv = csv::WriterBuilder::new().from_writer(&mut w);
        if ids {
            csv.write_record(std::iter::once("id").chain(HEADER))?;
        } else {
            csv.write_record(HEADER)?;
        }
        // Which folders get entries is known without building them.
        let mut filled = vec![false; synth.folders.len()];
        for i in 0..synth.entries {
            if let Some(f) = synth.folder_of(i).and_then(|f| filled.get_mut(f)) {
                *f = true;
            }
        }
        let used_paths: Vec<&[String]> = synth
            .folders
            .iter()
            .zip(&filled)
            .filter(|(_, &u)| u)
            .map(|(f, _)| f.path.as_slice())
            .collect();
        let used = |path: &[String]| used_paths.iter().any(|p| p.starts_with(path));
        for folder in empty_folders(&synth.folders, &used) {
            if ids {
                // The `id` column comes first on every row.
                let grouping = prefixes.grouping(&folder.path);
                let name = folder.path.last().map(String::as_str).unwrap_or("");
                csv.write_record(["", "http://group", "", "", "", "", name, &grouping, "0"])?;
            } else {
                group_row(&mut csv, &prefixes, folder)?;
            }
        }
        csv.flush()?;
    }
    let mut start = 0;
    while start < synth.entries {
        let end = (start + CHUNK).min(synth.entries);
        let parts: Vec<io::Result<Vec<u8>>> = (start..end)
            .into_par_iter()
            .chunks(CHUNK / 8)
            .map(|idx| {
                let mut csv = csv::WriterBuilder::new().from_writer(Vec::with_capacity(idx.len() * 160));
                for i in idx {
                    let extra = Extra {
                        id: ids.then(|| (synth.id_of(i) + 1).to_string()),
                        personal: synth.folder_of(i).is_some_and(|f| synth.personal_twins.contains(&f)),
                    };
                    row(&mut csv, &prefixes, &synth.entry(i), &extra)?;
                }
                csv.into_inner().map_err(|e| e.into_error())
            })
            .collect();
        for part in parts {
            w.write_all(&part?)?;
        }
        start = end;
    }
    Ok(())
}

fn group_row<W: Write>(csv: &mut csv::Writer<W>, prefixes: &Prefixes, folder: &Folder) -> io::Result<()> {
    let grouping = prefixes.grouping(&folder.path);
    let name = folder.path.last().map(String::as_str).unwrap_or("");
    csv.write_record(["http://group", "", "", "", "", name, &grouping, "0"])?;
    Ok(())
}

/// What a row carries beyond its entry (the generator's adversarial mode).
#[derive(Default)]
struct Extra {
    /// A value for the leading `id` column, when the file has one.
    id: Option<String>,
    /// The entry's folder is a personal one named like a shared one: no prefix.
    personal: bool,
}

fn row<W: Write>(csv: &mut csv::Writer<W>, prefixes: &Prefixes, e: &Entry, extra: &Extra) -> io::Result<()> {
    let grouping = if extra.personal {
        e.folder.join("\\")
    } else {
        prefixes.grouping(&e.folder)
    };
    let id = extra.id.as_deref();
    let password = e.password.as_ref().map(|p| p.expose()).unwrap_or("");
    let totp = e.totp.as_ref().map(|p| p.expose()).unwrap_or("");
    let fav = if e.favorite { "1" } else { "0" };
    if e.kind == EntryKind::Login {
        let url = e.urls.first().map(String::as_str).unwrap_or("");
        let username = e.username.as_deref().unwrap_or("");
        let notes = e.notes.as_deref().unwrap_or("");
        let record = [url, username, password, totp, notes, &e.title, &grouping, fav];
        csv.write_record(id.into_iter().chain(record))?;
        return Ok(());
    }
    let text = note_text(e);
    let record = ["http://sn", "", "", totp, &text, &e.title, &grouping, fav];
    csv.write_record(id.into_iter().chain(record))?;
    Ok(())
}

/// The `extra` of a secure note: plain text, or `NoteType:` and one
/// `Label:value` line per field, dates in LastPass's `Month,Day,Year`, and
/// `Notes:` last (it takes every line after it).
fn note_text(e: &Entry) -> String {
    if e.kind == EntryKind::SecureNote && e.fields.is_empty() {
        return e.notes.clone().unwrap_or_default();
    }
    let type_name = e
        .source_type
        .clone()
        .or_else(|| super::synth::lastpass_type_for(e.kind).map(str::to_owned))
        .unwrap_or_else(|| "Generic".to_owned());
    let mut text = format!("NoteType:{type_name}\n");
    for f in &e.fields {
        let value = f.value.expose();
        let value = match f.kind {
            FieldKind::Date => lastpass_date(value),
            FieldKind::MonthYear => lastpass_month_year(value),
            _ => None,
        }
        .unwrap_or_else(|| value.to_owned());
        text.push_str(&f.label);
        text.push(':');
        text.push_str(&value);
        text.push('\n');
    }
    if let Some(notes) = &e.notes {
        text.push_str("Notes:");
        text.push_str(notes);
    }
    text
}

fn month_name(m: &str) -> Option<&'static str> {
    let m: usize = m.parse().ok()?;
    MONTHS.get(m.checked_sub(1)?).copied()
}

/// `2024-03-14` → `March,14,2024`.
fn lastpass_date(iso: &str) -> Option<String> {
    let mut p = iso.split('-');
    let (y, m, d) = (p.next()?, p.next()?, p.next()?);
    let d: u32 = d.parse().ok()?;
    Some(format!("{},{d},{y}", month_name(m)?))
}

/// `2029-03` → `March,2029`.
fn lastpass_month_year(iso: &str) -> Option<String> {
    let (y, m) = iso.split_once('-')?;
    Some(format!("{},{y}", month_name(m)?))
}

/// Writes the shares of LastPass shared folders as the Enterprise API's
/// `getdetailedsfdata` answer: one object per shared folder keyed by a
/// shared-folder id, flags as strings, and a group as one line per member
/// carrying `group_name` (the API has no group objects). A group with no
/// named members cannot be written in this shape and is left out; a
/// `pending` share (only the XML answer has `accepted`) is written active.
pub fn write_sharing<W: Write>(folders: &[&Folder], shares: &[Share], w: W) -> io::Result<()> {
    use serde_json::{json, Map, Value};
    let flag = |b: bool| if b { "1" } else { "0" };
    let mut root = Map::new();
    root.insert("status".into(), json!("OK"));
    root.insert("errors".into(), json!([]));
    for (k, folder) in folders.iter().enumerate() {
        let Some(name) = folder.path.first() else { continue };
        let shared_name = folder.source_id.clone().unwrap_or_else(|| {
            if name.get(..7).is_some_and(|p| p.eq_ignore_ascii_case("Shared-")) {
                name.clone()
            } else {
                format!("Shared-{name}")
            }
        });
        let mut users = Vec::new();
        for share in shares.iter().filter(|s| s.folder == folder.path) {
            let deleted = match share.status {
                ShareStatus::Deleted => "1",
                ShareStatus::Suspended => "2",
                ShareStatus::Active | ShareStatus::Pending => "0",
            };
            let mut base = Map::new();
            base.insert("readonly".into(), json!(flag(!share.access.edit)));
            base.insert("give".into(), json!(flag(!share.access.hide_passwords)));
            base.insert("can_administer".into(), json!(flag(share.access.admin)));
            base.insert("deletedstatus".into(), json!(deleted));
            match &share.principal {
                Principal::User { email, name } => {
                    let mut u = base;
                    u.insert("username".into(), json!(email));
                    if let Some(name) = name {
                        u.insert("realname".into(), json!(name));
                    }
                    if let Some(outside) = share.outside_enterprise {
                        u.insert("outsideenterprise".into(), json!(flag(outside)));
                    }
                    users.push(Value::Object(u));
                }
                Principal::Group { group, members } => {
                    for member in members {
                        let mut u = base.clone();
                        u.insert("username".into(), json!(member));
                        u.insert("group_name".into(), json!(group));
                        users.push(Value::Object(u));
                    }
                }
            }
        }
        root.insert(
            (101 + k).to_string(),
            json!({ "sharedfoldername": shared_name, "score": 80.0, "users": users }),
        );
    }
    serde_json::to_writer_pretty(w, &Value::Object(root)).map_err(io::Error::other)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_written_as_lastpass_writes_them() {
        assert_eq!(lastpass_date("2024-03-14").as_deref(), Some("March,14,2024"));
        assert_eq!(lastpass_date("2024-03-04").as_deref(), Some("March,4,2024"));
        assert_eq!(lastpass_month_year("2029-12").as_deref(), Some("December,2029"));
        assert_eq!(lastpass_date("not a date"), None);
    }

    #[test]
    fn shared_folders_get_their_prefix_in_grouping() {
        let folders = vec![Folder {
            path: vec!["Ops".into()],
            shared: true,
            source_id: Some("Shared-Ops".into()),
            description: None,
        }];
        let p = Prefixes::new(&folders);
        assert_eq!(p.grouping(&["Ops".into(), "db".into()]), "Shared-Ops\\db");
        assert_eq!(p.grouping(&["Personal".into(), "db".into()]), "Personal\\db");
    }
}
