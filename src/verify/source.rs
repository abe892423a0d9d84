//! The source side: what the export holds, read by `sources/` (the
//! readers, not the mapper), each entry kept as its identity, its folder
//! and the digests of its values.

use std::path::Path;

use rayon::prelude::*;

use crate::model::{Entry, EntryKind, FieldValue, Folder, FolderPath, Share, SourceKind, Vault};
use crate::sources::{self, Numbering, ParseOptions, SourceError};

use super::digest::{self, Digest};

/// One value an entry holds, named the way the source names it.
#[derive(Clone, Debug)]
pub struct SourceValue {
    /// `password`, `username`, a field's label…: what a difference names.
    pub label: String,
    pub digest: Digest,
}

/// An entry as the checker keeps it: no value, only digests.
#[derive(Clone, Debug)]
pub struct SourceItem {
    pub id: String,
    pub kind: EntryKind,
    pub title: String,
    pub folder: FolderPath,
    pub archived: bool,
    pub line: Option<u64>,
    /// Whether the source itself says the entry is in a shared folder
    /// (LastPass: its `grouping` is `Shared-…`); `None`: the folders say.
    pub shared: Option<bool>,
    pub values: Vec<SourceValue>,
}

/// The export, its folders and who it was shared with.
#[derive(Debug)]
pub struct Source {
    pub kind: SourceKind,
    pub file: String,
    pub folders: Vec<Folder>,
    pub shares: Vec<Share>,
    pub items: Vec<SourceItem>,
}

/// Entries per chunk: digested on the pool while the next chunk is read.
const CHUNK: usize = 4096;

/// Reads the export (and its sharing file), numbering entries without an
/// id the way every run numbers them, so their ids are the runs' ids.
pub fn read(export: &Path, sharing: Option<&Path>, options: &ParseOptions) -> Result<Source, SourceError> {
    let mut numbering = Numbering::for_export(export);
    let mut items = Vec::new();
    let mut vault = sources::read_export_chunks(export, options, CHUNK, &mut |mut entries| {
        numbering.assign(&mut entries);
        let chunk: Vec<SourceItem> = entries.into_par_iter().map(item).collect();
        items.extend(chunk);
    })?;
    if let Some(sharing) = sharing {
        sources::read_sharing(&mut vault, sharing, options)?;
    }
    Ok(Source::of(&vault, items, export))
}

impl Source {
    /// The source side from entries someone else read with the same
    /// readers and numbering: the import pipeline digests each entry
    /// ([`digest`]) before its mapper sees it, so `migrate`'s own check
    /// does not read the export a second time. `vault` is what the reader
    /// returned, its sharing file read into it; `export` is the file.
    pub fn of(vault: &Vault, mut items: Vec<SourceItem>, export: &Path) -> Source {
        if vault.source == SourceKind::LastpassCsv {
            let shared = super::lastpass::shared_rows(export);
            for item in &mut items {
                item.shared = item.line.and_then(|l| shared.get(&l).copied());
            }
        }
        Source {
            kind: vault.source,
            file: vault.file.clone(),
            folders: vault.folders.clone(),
            shares: vault.shares.clone(),
            items,
        }
    }
}

/// Keeps the entry's identity and digests its values; the entry (and every
/// secret in it) is dropped, and zeroed, here.
pub fn item(entry: Entry) -> SourceItem {
    digest(&entry)
}

/// The entry's identity and the digests of its values, the entry left as
/// it was (for a caller that hands it on: the import pipeline's mapper).
pub fn digest(entry: &Entry) -> SourceItem {
    let mut values = Vec::new();
    let mut push = |label: &str, bytes: &[u8]| {
        if !bytes.is_empty() {
            values.push(SourceValue {
                label: label.to_owned(),
                digest: digest::of(bytes),
            });
        }
    };
    push("title", entry.title.as_bytes());
    if let Some(u) = &entry.username {
        push("username", u.as_bytes());
    }
    if let Some(p) = &entry.password {
        push("password", p.expose_bytes());
    }
    if let Some(t) = &entry.totp {
        push("one-time password", t.expose_bytes());
    }
    if let Some(n) = &entry.notes {
        push("notes", n.as_bytes());
    }
    for url in &entry.urls {
        // Blanks around a URL are no part of it.
        push("url", url.trim().as_bytes());
    }
    for f in &entry.fields {
        let bytes = match &f.value {
            FieldValue::Plain(s) => s.as_bytes(),
            FieldValue::Concealed(s) => s.expose_bytes(),
        };
        push(&f.label, bytes);
    }
    for h in &entry.password_history {
        push("password history", h.value.expose_bytes());
    }
    for a in &entry.attachments {
        values.push(SourceValue {
            label: format!("attachment '{}'", a.name),
            digest: digest::attachment(&a.name, a.sha256().as_ref()),
        });
    }
    SourceItem {
        id: entry.source_id.clone(),
        kind: entry.kind,
        title: entry.title.clone(),
        folder: entry.folder.clone(),
        archived: entry.archived,
        line: entry.line,
        shared: None,
        values,
    }
}
