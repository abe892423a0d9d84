//! 1PIF: the 1Password 4–7 interchange format. One JSON record per line,
//! records separated by `***5642bee8-a5ff-11dc-8314-0800200c9a66***` lines;
//! files often start with a BOM and use CRLF (1Password for Windows).
//! Folders are records too (`system.folder.Regular`), nested through
//! `folderUuid`, and may come after the items that live in them, so the
//! folders are read in a first pass over the file and the items streamed in
//! a second ([`segments`] splits the records).
//!
//! 1Password 7 can also export a folder: `data.1pif` beside
//! `attachments/<item uuid>/<file>`.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::Deserialize;
use serde_json::{Map, Value};

use secure::{FormField, Json, SectionField, SecureContents};
use segments::{Segment, Segments};

use super::categories::{self, PifType};
use super::{add_totp, flag, label_or, month_year, non_empty, plain_field, positive, secret_field, timestamp};
use super::{json_problem, pif_shapes, record, values};
use crate::model::{
    measure, Attachment, ContentOrigin, Entry, EntryKind, FieldKind, FileContent, Finding, PasswordChange, Position,
    SourceKind, Timestamp, Vault,
};
use crate::secret::Secret;
use crate::sources::{at, EntrySummary, ErrorKind, ParseOptions, Sink, SourceError};

pub(super) mod secure;
mod segments;

/// A record in the classic shape; OPVault-shaped ones are moved into it as
/// they are read (see [`pif_shapes`]).
#[derive(Debug, Default, Deserialize)]
#[serde(from = "RawRecord")]
struct Record {
    uuid: String,
    type_name: String,
    title: String,
    folder_uuid: Option<String>,
    /// The primary URL in records that have no `URLs` list.
    location: String,
    created_at: Value,
    updated_at: Value,
    trashed: Value,
    secure_contents: SecureContents,
    open_contents: OpenContents,
    /// Some exporters put tags at the top level instead of `openContents`.
    tags: values::Tags,
}

/// Every key of either shape, as written.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct RawRecord {
    #[serde(deserialize_with = "values::lenient_string")]
    uuid: String,
    #[serde(deserialize_with = "values::lenient_string")]
    type_name: String,
    #[serde(deserialize_with = "values::lenient_string")]
    title: String,
    folder_uuid: Option<String>,
    #[serde(deserialize_with = "values::lenient_string")]
    location: String,
    created_at: Value,
    updated_at: Value,
    trashed: Value,
    secure_contents: SecureContents,
    open_contents: OpenContents,
    tags: values::Tags,
    #[serde(deserialize_with = "values::lenient_string")]
    category: String,
    overview: Map<String, Value>,
    details: SecureContents,
    created: Value,
    updated: Value,
    folder: Option<String>,
    fave: Value,
}

impl From<RawRecord> for Record {
    fn from(raw: RawRecord) -> Record {
        let RawRecord {
            uuid,
            mut type_name,
            mut title,
            mut folder_uuid,
            mut location,
            mut created_at,
            mut updated_at,
            trashed,
            mut secure_contents,
            mut open_contents,
            mut tags,
            category,
            overview,
            details,
            created,
            updated,
            folder,
            fave,
        } = raw;
        pif_shapes::normalize(
            pif_shapes::Shape {
                type_name: &mut type_name,
                title: &mut title,
                location: &mut location,
                folder_uuid: &mut folder_uuid,
                created_at: &mut created_at,
                updated_at: &mut updated_at,
                fave_index: &mut open_contents.fave_index,
                tags: &mut tags.list,
                secure_contents: &mut secure_contents,
            },
            pif_shapes::OpVault {
                category,
                overview,
                details,
                created,
                updated,
                folder,
                fave,
            },
        );
        Record {
            uuid,
            type_name,
            title,
            folder_uuid,
            location,
            created_at,
            updated_at,
            trashed,
            secure_contents,
            open_contents,
            tags,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct OpenContents {
    tags: values::Tags,
    /// Written `faveIndex` by 1Password; >0 means favourite.
    fave_index: Value,
}

/// `secureContents` keys that are bookkeeping of the web form, not values.
const FORM_KEYS: &[&str] = &["htmlForm", "htmlMethod", "htmlAction", "htmlID", "htmlName"];

/// Top-level `secureContents` keys (older wallet items keep their values
/// there rather than in sections) whose values are secrets.
const CONCEALED_KEYS: &[&str] = &[
    "password",
    "ccnum",
    "cvv",
    "pin",
    "telephonePin",
    "wireless_password",
    "disk_password",
    "network_password",
    "airport_password",
    "admin_console_password",
    "smtp_password",
    "pop_password",
    "reg_code",
    "accountNo",
    "iban",
];

pub(super) fn read(path: &Path, file: &str, options: &ParseOptions, sink: Sink<'_>) -> Result<Vault, SourceError> {
    let (data_path, attachments_dir) = if path.is_dir() {
        (path.join("data.1pif"), Some(path.join("attachments")))
    } else if path.file_name().is_some_and(|n| n == "data.1pif") {
        (path.to_path_buf(), path.parent().map(|p| p.join("attachments")))
    } else {
        (path.to_path_buf(), None)
    };
    let mut findings = Vec::new();
    let attachments = match attachments_dir.filter(|d| d.is_dir()) {
        Some(dir) => read_attachments(&dir, file, options, &mut findings)?,
        None => Attachments::new(),
    };
    let open = || {
        fs::File::open(&data_path)
            .map(|f| BufReader::with_capacity(1 << 16, f))
            .map_err(|e| SourceError::io(file, e))
    };
    let mut vault = read_records(&open, file, options, attachments, sink)?;
    vault.findings.extend(findings);
    Ok(vault)
}

/// Attachments of a 1Password 7 export folder by item uuid, with the path
/// each came from (for the finding when no item claims it).
type Attachments = HashMap<String, Vec<(String, Attachment)>>;

/// Parses 1PIF text (BOM, CRLF and blank lines allowed).
#[cfg(test)]
fn parse(text: &str, file: &str, options: &ParseOptions) -> Result<Vault, SourceError> {
    read_records(&|| Ok(text.as_bytes()), file, options, Attachments::new(), Sink::Keep)
}

/// Segments decoded together on the pool.
const CHUNK: usize = 512;

/// Chunks read ahead of the decoding.
const CHUNKS_AHEAD: usize = 2;

/// What one record of the file comes to.
enum Outcome {
    Malformed {
        line: u64,
        column: usize,
        problem: &'static str,
    },
    /// A folder, a saved search, a tombstone: nothing to import.
    Ignored,
    Foreign {
        line: u64,
        type_name: String,
    },
    /// Boxed: an entry is many times the size of the other outcomes.
    Item {
        entry: Box<Entry>,
        findings: Vec<Finding>,
    },
    /// An item only counted (`inspect`): summarized, and its entry freed,
    /// on the pool. The export folder's attachments of the item are
    /// counted when it is handed on.
    Summary {
        summary: EntrySummary,
        source_id: String,
        findings: Vec<Finding>,
    },
}

/// Reads the records twice, a line at a time: first only the folders
/// (which may come after the items filed in them), then the items, a
/// chunk of records decoded in parallel and handed to `sink` in file
/// order. The file is never held whole.
fn read_records<R: BufRead + Send>(
    open: &dyn Fn() -> Result<R, SourceError>,
    file: &str,
    options: &ParseOptions,
    mut attachments: Attachments,
    mut sink: Sink<'_>,
) -> Result<Vault, SourceError> {
    let mut vault = Vault::new(SourceKind::Onepassword1pif, file);
    let mut folder_records: Vec<(u64, Record)> = Vec::new();
    let mut segments = Segments::new(open()?, file);
    while let Some(segment) = segments.next_segment_containing(b"system.folder.Regular")? {
        for (line, record) in records_of(&segment) {
            if let Ok(r) = record {
                if r.type_name == "system.folder.Regular" {
                    folder_records.push((line, r));
                }
            }
        }
    }
    let folders = resolve_folders(&folder_records, &mut vault, file);
    drop(folder_records);

    let mut seen = 0usize;
    let summarize = matches!(sink, Sink::Summary(_));
    let second = open()?;
    // The file is read and cut into records on a thread of its own while
    // the pool decodes the chunk before (one thread doing both in turn
    // left the pool idle while it read).
    std::thread::scope(|scope| -> Result<(), SourceError> {
        let (chunks, received) = std::sync::mpsc::sync_channel::<Vec<Segment>>(CHUNKS_AHEAD);
        let reading = scope.spawn(move || -> Result<(), SourceError> {
            let mut segments = Segments::new(second, file);
            let mut chunk = Vec::with_capacity(CHUNK);
            while let Some(segment) = segments.next_segment()? {
                chunk.push(segment);
                if chunk.len() >= CHUNK
                    && chunks
                        .send(std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK)))
                        .is_err()
                {
                    // The decoding side stopped (`--strict`): its error is the one.
                    return Ok(());
                }
            }
            if !chunk.is_empty() {
                let _ = chunks.send(chunk);
            }
            Ok(())
        });
        let decoded = (|| -> Result<(), SourceError> {
            for chunk in received {
                let outcomes: Vec<Vec<Outcome>> = chunk
                    .into_par_iter()
                    .map(|segment| decode_segment(&segment, &folders, file, summarize))
                    .collect();
                for outcome in outcomes.into_iter().flatten() {
                    seen += 1;
                    handle(outcome, &mut vault, &mut attachments, &mut sink, file, options)?;
                }
            }
            Ok(())
        })();
        let read = reading.join().unwrap_or_else(|_| {
            Err(SourceError::malformed(
                at(file, 1),
                "the reader of the 1PIF file failed",
            ))
        });
        decoded.and(read)
    })?;
    if seen == 0 {
        return Err(SourceError::malformed(
            at(file, 1),
            "no records found; expected JSON records separated by ***5642bee8-a5ff-11dc-8314-0800200c9a66*** lines",
        ));
    }
    let mut orphans: Vec<String> = attachments.into_values().flatten().map(|(rel, _)| rel).collect();
    orphans.sort();
    for rel in orphans {
        vault.findings.push(
            Finding::warning(
                "onepassword.attachment-orphan",
                format!("'{rel}' belongs to no item in data.1pif; it was not imported"),
            )
            .at(Position::file(file).field(rel.as_str())),
        );
    }
    Ok(vault)
}

/// What the file order asks of one record's outcome: findings recorded
/// (an error under `--strict`), the entry handed on with the export
/// folder's attachments of its item.
fn handle(
    outcome: Outcome,
    vault: &mut Vault,
    attachments: &mut Attachments,
    sink: &mut Sink<'_>,
    file: &str,
    options: &ParseOptions,
) -> Result<(), SourceError> {
    match outcome {
        Outcome::Ignored => {}
        Outcome::Malformed { line, column, problem } => {
            vault.skipped_records += 1;
            record(
                vault,
                Finding::error(
                    "onepassword.pif-record-malformed",
                    format!(
                        "record skipped: {problem} at column {column}; expected one JSON object per line between ***…*** separators"
                    ),
                )
                .at(at(file, line)),
                options,
            )?;
        }
        Outcome::Foreign { line, type_name } => {
            vault.skipped_records += 1;
            record(
                vault,
                Finding::warning(
                    "onepassword.pif-unknown-record",
                    format!(
                        "record of typeName '{type_name}' skipped; expected an item (webforms.WebForm, wallet.*, …) or a folder"
                    ),
                )
                .at(at(file, line)),
                options,
            )?;
        }
        Outcome::Item { mut entry, findings } => {
            for f in findings {
                record(vault, f, options)?;
            }
            if let Some(files) = attachments.remove(&entry.source_id) {
                entry.attachments.extend(files.into_iter().map(|(_, a)| a));
            }
            if let Some(entry) = sink.give(*entry) {
                vault.entries.push(entry);
            }
        }
        Outcome::Summary {
            mut summary,
            source_id,
            findings,
        } => {
            for f in findings {
                record(vault, f, options)?;
            }
            if let Some(files) = attachments.remove(&source_id) {
                summary.attachments += files.len();
            }
            if let Sink::Summary(each) = sink {
                each(summary);
            }
        }
    }
    Ok(())
}

/// A record, or the line of its fault and the fault.
type ParsedRecord = Result<Record, (u64, serde_json::Error)>;

/// The JSON values of a segment with the line each starts on (usually
/// one; a file without separators may hold several).
fn records_of(segment: &Segment) -> Vec<(u64, ParsedRecord)> {
    let text = segment.text.trim_end();
    let mut out = Vec::new();
    let mut values = serde_json::Deserializer::from_str(text).into_iter::<Record>();
    loop {
        let start = values.byte_offset();
        // Counted only for a value found: counting the lines of the whole
        // record again, after the last value, was a visible share of the
        // decoding.
        let line_at = || {
            let skipped_ws = text.get(start..).map_or(0, |t| t.len() - t.trim_start().len());
            segment.line
                + text
                    .get(..start + skipped_ws)
                    .map_or(0, |t| memchr::memchr_iter(b'\n', t.as_bytes()).count() as u64)
        };
        match values.next() {
            None => return out,
            Some(Ok(r)) => out.push((line_at(), Ok(r))),
            Some(Err(e)) => {
                let at_line = segment.line + e.line() as u64 - 1;
                out.push((line_at(), Err((at_line, e))));
                return out;
            }
        }
    }
}

fn decode_segment(
    segment: &Segment,
    folders: &HashMap<String, Vec<String>>,
    file: &str,
    summarize: bool,
) -> Vec<Outcome> {
    let table = categories::table();
    records_of(segment)
        .into_iter()
        .map(|(line, rec)| {
            let rec = match rec {
                Ok(rec) => rec,
                Err((at_line, e)) => {
                    return Outcome::Malformed {
                        line: at_line,
                        column: e.column(),
                        problem: json_problem(&e),
                    }
                }
            };
            let mut findings = Vec::new();
            let kind = match table.pif_type(&rec.type_name) {
                PifType::Folder | PifType::Ignored => return Outcome::Ignored,
                PifType::Item(kind) => kind,
                PifType::UnknownItem => {
                    findings.push(
                        Finding::warning(
                            "onepassword.unknown-category",
                            format!(
                                "typeName '{}' is not one this version knows; the item is kept as a generic secret with all its fields",
                                rec.type_name
                            ),
                        )
                        .at(at(file, line)),
                    );
                    EntryKind::Unknown
                }
                PifType::Foreign => {
                    return Outcome::Foreign {
                        line,
                        type_name: rec.type_name,
                    }
                }
            };
            let entry = convert(rec, kind, line, folders, file, &mut findings);
            if summarize {
                Outcome::Summary {
                    summary: EntrySummary::from(&entry),
                    source_id: entry.source_id.clone(),
                    findings,
                }
            } else {
                Outcome::Item {
                    entry: Box::new(entry),
                    findings,
                }
            }
        })
        .collect()
}

/// Full paths of every `system.folder.Regular`, parents first. A parent
/// that is missing or part of a cycle ends the path there (with a finding).
fn resolve_folders(records: &[(u64, Record)], vault: &mut Vault, file: &str) -> HashMap<String, Vec<String>> {
    let mut by_uuid: HashMap<&str, (&Record, u64)> = HashMap::new();
    for (line, r) in records {
        if r.type_name == "system.folder.Regular" && !r.uuid.is_empty() {
            by_uuid.insert(r.uuid.as_str(), (r, *line));
        }
    }
    let titles = sibling_titles(&by_uuid, vault, file);
    let title = |r: &Record| titles.get(r.uuid.as_str()).cloned().unwrap_or_else(|| folder_title(r));
    let mut paths: HashMap<String, Vec<String>> = HashMap::new();
    for (line, r) in records {
        if r.type_name != "system.folder.Regular" || r.uuid.is_empty() {
            continue;
        }
        let mut path = vec![title(r)];
        let mut seen: HashSet<&str> = HashSet::from([r.uuid.as_str()]);
        let mut parent = r.folder_uuid.as_deref().filter(|p| !p.is_empty());
        while let Some(p) = parent {
            if !seen.insert(p) {
                vault.findings.push(
                    Finding::warning(
                        "onepassword.folder-cycle",
                        format!(
                            "folder '{}' is nested inside itself through folderUuid; the loop is cut",
                            r.title
                        ),
                    )
                    .at(at(file, *line)),
                );
                break;
            }
            match by_uuid.get(p) {
                Some((folder, _)) => {
                    path.insert(0, title(folder));
                    parent = folder.folder_uuid.as_deref().filter(|p| !p.is_empty());
                }
                None => {
                    vault.findings.push(
                        Finding::warning(
                            "onepassword.folder-missing",
                            format!("folder '{}' names a parent folder that is not in the export; it is kept at the top level", r.title),
                        )
                        .at(at(file, *line)),
                    );
                    break;
                }
            }
        }
        vault.ensure_folder(&path, false);
        if let Some(f) = vault.folders.iter_mut().find(|f| f.path == path) {
            f.source_id = Some(r.uuid.clone());
        }
        paths.insert(r.uuid.clone(), path);
    }
    paths
}

/// Two folders (distinct uuids) of one name under one parent are two
/// folders: merged by name, a member of one would reach the other's items
/// (issue 19, bug 2). The one whose uuid sorts first keeps the name, the
/// others get ` (2)`, ` (3)` in uuid order — stable however the export
/// orders its records — and a finding names each.
fn sibling_titles(by_uuid: &HashMap<&str, (&Record, u64)>, vault: &mut Vault, file: &str) -> HashMap<String, String> {
    let mut siblings: HashMap<(&str, String), Vec<(&str, u64)>> = HashMap::new();
    for (uuid, (r, line)) in by_uuid {
        let parent = r.folder_uuid.as_deref().unwrap_or_default();
        siblings
            .entry((parent, folder_title(r)))
            .or_default()
            .push((uuid, *line));
    }
    let mut titles = HashMap::new();
    let mut repeated: Vec<_> = siblings.into_iter().filter(|(_, v)| v.len() > 1).collect();
    repeated.sort();
    for ((_, name), mut folders) in repeated {
        folders.sort();
        for (k, (uuid, line)) in folders.into_iter().enumerate().skip(1) {
            let renamed = format!("{name} ({})", k + 1);
            vault.findings.push(
                Finding::warning(
                    "onepassword.folder-name-repeated",
                    format!(
                        "another folder beside this one is also named '{name}'; this one (uuid {uuid}) is kept apart as '{renamed}'"
                    ),
                )
                .at(at(file, line)),
            );
            titles.insert(uuid.to_owned(), renamed);
        }
    }
    titles
}

fn folder_title(r: &Record) -> String {
    non_empty(&r.title).unwrap_or_else(|| format!("Folder {}", r.uuid))
}

fn convert(
    rec: Record,
    kind: EntryKind,
    line: u64,
    folders: &HashMap<String, Vec<String>>,
    file: &str,
    findings: &mut Vec<Finding>,
) -> Entry {
    let Record {
        uuid,
        type_name,
        title,
        folder_uuid,
        location,
        created_at,
        updated_at,
        trashed,
        mut secure_contents,
        open_contents,
        tags,
    } = rec;
    let mut entry = Entry::new(kind, title);
    entry.line = Some(line);
    entry.source_id = uuid;
    entry.source_type = Some(match type_name.strip_prefix(pif_shapes::CATEGORY_PREFIX) {
        Some(code) => code.to_owned(),
        None => type_name,
    });
    if let Some(fu) = folder_uuid.filter(|f| !f.is_empty()) {
        match folders.get(&fu) {
            Some(path) => entry.folder = path.as_slice().into(),
            None => findings.push(
                Finding::warning(
                    "onepassword.folder-missing",
                    "the item's folderUuid names a folder that is not in the export; the item is kept at the top level",
                )
                .at(at(file, line).field("folderUuid")),
            ),
        }
    }
    entry.archived = flag(&trashed);
    entry.favorite = positive(&open_contents.fave_index);
    entry.created = timestamp(&created_at);
    entry.updated = timestamp(&updated_at);
    let mut all_tags = open_contents.tags.list;
    for t in tags.list {
        if !all_tags.contains(&t) {
            all_tags.push(t);
        }
    }
    entry.tags = all_tags.into_iter().filter(|t| !t.trim().is_empty()).collect();
    for odd in open_contents.tags.odd.iter().chain(&tags.odd) {
        values::odd_value(&mut entry, "tags", odd, None, &at(file, line), findings);
    }

    for u in secure_contents.urls.take().unwrap_or_default() {
        let url = u.url.unwrap_or_default();
        if url.trim().is_empty() {
            continue;
        }
        let label = u.label.as_deref().unwrap_or("").trim();
        if !label.is_empty() && !label.eq_ignore_ascii_case("website") {
            entry.fields.push(plain_field(label, url.clone(), FieldKind::Url, None));
        }
        if !entry.urls.contains(&url) {
            entry.urls.push(url);
        }
    }
    if let Some(loc) = non_empty(&location) {
        if !entry.urls.contains(&loc) {
            entry.urls.insert(0, loc);
        }
    }
    if let Some(notes) = secure_contents.notes.take() {
        // 1Password for Windows writes CRLF inside notes.
        entry.notes = non_empty(&notes.replace("\r\n", "\n"));
    }
    for f in secure_contents.fields.take().unwrap_or_default() {
        form_field(&mut entry, f, &at(file, line), findings);
    }
    for h in secure_contents.password_history.take().unwrap_or_default() {
        if let Some(v) = h.value.filter(|v| !v.is_empty()) {
            entry.password_history.push(PasswordChange {
                value: Secret::text(v),
                changed: h.time.as_ref().and_then(timestamp),
            });
        }
    }
    let sections = secure_contents.sections.take().unwrap_or_default();
    let mut secure_contents = secure_contents.rest;
    // Older records repeat section values as flat keys (`firstname` beside
    // the `name` section's `firstname` field): those are not kept twice.
    // Most records have no flat keys left by now, and then nothing to compare.
    let flat_keys = secure_contents.keys().any(|k| !FORM_KEYS.contains(&k.as_str()));
    let mut in_sections: rustc_hash::FxHashSet<(String, String)> = Default::default();
    if flat_keys {
        for f in sections.iter().filter_map(|s| s.fields.as_ref()).flatten() {
            if let (Some(n), Some(v)) = (f.n.as_deref(), f.v.as_ref()) {
                in_sections.insert((n.to_owned(), v.text()));
                in_sections.insert((n.to_owned(), String::new()));
            }
        }
    }
    for s in &sections {
        let group = s
            .title
            .as_deref()
            .and_then(non_empty)
            .or_else(|| s.name.as_deref().and_then(non_empty));
        for f in s.fields.iter().flatten() {
            section_field(&mut entry, f, group.as_deref(), &at(file, line), findings);
        }
    }
    for date in pif_shapes::split_dates(&mut secure_contents) {
        if in_sections.contains(&(date.stem.clone(), String::new())) {
            continue;
        }
        let kind = if date.has_day {
            FieldKind::Date
        } else {
            FieldKind::MonthYear
        };
        entry
            .fields
            .push(plain_field(pif_shapes::flat_label(&date.stem), date.value, kind, None));
    }
    // What is left are category values older exports keep at the top level
    // (`password` of passwords.Password, `ccnum`, `bankName`…).
    for (key, value) in secure_contents {
        if FORM_KEYS.contains(&key.as_str()) {
            continue;
        }
        let text = match value {
            Value::String(s) => s,
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Null => continue,
            other => other.to_string(),
        };
        if text.is_empty() || in_sections.contains(&(key.clone(), text.clone())) {
            continue;
        }
        if key == "password" && entry.password.is_none() {
            entry.password = Some(Secret::text(text));
        } else if CONCEALED_KEYS.contains(&key.as_str()) {
            let k = if key == "ccnum" {
                FieldKind::CardNumber
            } else {
                FieldKind::Concealed
            };
            entry.fields.push(secret_field(&key, text, k, None));
        } else {
            entry.fields.push(plain_field(&key, text, FieldKind::Text, None));
        }
    }
    entry
}

/// A web-form field (`secureContents.fields[]`): username and password by
/// `designation`, the rest kept as fields.
fn form_field(entry: &mut Entry, f: FormField, pos: &Position, findings: &mut Vec<Finding>) {
    let get = |k: &Option<String>| k.as_deref().unwrap_or("").to_owned();
    let value = match f.value {
        Some(Json::Str(s)) => s,
        Some(Json::Num(n)) => n.to_string(),
        Some(Json::Bool(b)) => b.to_string(),
        Some(Json::Other(odd)) => {
            let (name, id) = (get(&f.name), get(&f.id));
            values::odd_value(entry, label_or(&name, &id, "form field"), &odd, None, pos, findings);
            return;
        }
        _ => String::new(),
    };
    match get(&f.designation).as_str() {
        "username" if entry.username.is_none() => entry.username = non_empty(&value),
        "password" if entry.password.is_none() => {
            if !value.is_empty() {
                entry.password = Some(Secret::text(value));
            }
        }
        _ => {
            if value.is_empty() {
                return;
            }
            let (name, id) = (get(&f.name), get(&f.id));
            let label = label_or(&name, &id, "form field").to_owned();
            let field = match get(&f.kind).as_str() {
                "P" => secret_field(&label, value, FieldKind::Concealed, None),
                "E" => plain_field(&label, value, FieldKind::Email, None),
                "U" => plain_field(&label, value, FieldKind::Url, None),
                _ => plain_field(&label, value, FieldKind::Text, None),
            };
            entry.fields.push(field);
        }
    }
}

/// A section field `{k: kind, n: id, t: title, v: value}`.
fn section_field(
    entry: &mut Entry,
    f: &SectionField,
    group: Option<&str>,
    pos: &Position,
    findings: &mut Vec<Finding>,
) {
    fn s(k: &Option<String>) -> &str {
        k.as_deref().unwrap_or("")
    }
    let (kind, id, title) = (s(&f.k), s(&f.n), s(&f.t));
    let label = label_or(title, id, "field").to_owned();
    let Some(v) = &f.v else {
        return;
    };
    let text = match v {
        Json::Str(s) => s.clone(),
        Json::Num(n) => n.to_string(),
        Json::Bool(b) => b.to_string(),
        // Only an address is an object; anything else of that shape is kept
        // concealed and named rather than dropped.
        Json::Other(odd) if kind != "address" => {
            values::odd_value(entry, &label, odd, group, pos, findings);
            return;
        }
        _ => String::new(),
    };
    // Older records store card numbers and PINs as `string` fields; their
    // ids (`ccnum`, `pin`…) say they are secrets.
    if kind == "string" && !text.is_empty() && CONCEALED_KEYS.contains(&id) {
        let k = if id == "ccnum" {
            FieldKind::CardNumber
        } else {
            FieldKind::Concealed
        };
        entry.fields.push(secret_field(&label, text, k, group));
        return;
    }
    match kind {
        "concealed" if id.starts_with("TOTP_") => add_totp(entry, &label, text, group),
        "concealed" if !text.is_empty() => entry
            .fields
            .push(secret_field(&label, text, FieldKind::Concealed, group)),
        "address" => {
            if let Json::Other(Value::Object(parts)) = v {
                for part in ["street", "city", "state", "zip", "country"] {
                    if let Some(p) = parts.get(part).and_then(Value::as_str).and_then(non_empty) {
                        entry
                            .fields
                            .push(plain_field(&format!("{label} ({part})"), p, FieldKind::Address, group));
                    }
                }
            }
        }
        "date" => match v.as_i64() {
            Some(secs) => entry
                .fields
                .push(plain_field(&label, Timestamp(secs).to_date(), FieldKind::Date, group)),
            None if !text.is_empty() => entry.fields.push(plain_field(&label, text, FieldKind::Text, group)),
            None => {}
        },
        "monthYear" => {
            let parsed = v.as_i64().or_else(|| text.parse().ok()).and_then(month_year);
            match parsed {
                Some(my) => entry.fields.push(plain_field(&label, my, FieldKind::MonthYear, group)),
                None if !text.is_empty() => entry.fields.push(plain_field(&label, text, FieldKind::Text, group)),
                None => {}
            }
        }
        _ if text.is_empty() => {}
        "string" => {
            let k = if text.contains('\n') {
                FieldKind::Multiline
            } else {
                FieldKind::Text
            };
            entry.fields.push(plain_field(&label, text, k, group));
        }
        "email" => entry.fields.push(plain_field(&label, text, FieldKind::Email, group)),
        "phone" => entry.fields.push(plain_field(&label, text, FieldKind::Phone, group)),
        "URL" | "url" => entry.fields.push(plain_field(&label, text, FieldKind::Url, group)),
        "menu" | "gender" => entry.fields.push(plain_field(&label, text, FieldKind::Menu, group)),
        "cctype" => entry.fields.push(plain_field(&label, text, FieldKind::CardType, group)),
        "reference" => entry
            .fields
            .push(plain_field(&label, text, FieldKind::Reference, group)),
        other => {
            // Concealed: an unknown kind may be a secret one (see pux.rs).
            entry
                .fields
                .push(secret_field(&label, text, FieldKind::Concealed, group));
            findings.push(
                Finding::info(
                    "onepassword.unknown-field-kind",
                    format!("field '{label}' has kind '{other}', which this version does not know; it is kept as a concealed field"),
                )
                .at(pos.clone()),
            );
        }
    }
}

/// Reads `attachments/<item uuid>/<file>` of a 1Password 7 export folder,
/// under the same bounds as an archive (file count, bytes actually read).
/// Symbolic links are not followed: the folder may come from anyone.
fn read_attachments(
    dir: &Path,
    file: &str,
    options: &ParseOptions,
    findings: &mut Vec<Finding>,
) -> Result<Attachments, SourceError> {
    let limits = options.limits;
    let mut count = 0usize;
    let mut total = 0u64;
    let mut out = Attachments::new();
    let mut item_dirs: Vec<PathBuf> = read_dir_sorted(dir, file)?;
    item_dirs.retain(|p| fs::symlink_metadata(p).is_ok_and(|m| m.is_dir()));
    for item_dir in item_dirs {
        let item_uuid = item_dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        for path in read_dir_sorted(&item_dir, file)? {
            let rel = format!(
                "attachments/{item_uuid}/{}",
                path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default()
            );
            let meta = fs::symlink_metadata(&path).map_err(|e| SourceError::io(file, e))?;
            if !meta.is_file() {
                findings.push(
                    Finding::warning(
                        "onepassword.attachment-skipped",
                        format!("'{rel}' is not a regular file (a link or folder); it was not read"),
                    )
                    .at(Position::file(file).field(rel.as_str())),
                );
                continue;
            }
            count += 1;
            if count > limits.max_entries {
                return Err(SourceError::new(
                    ErrorKind::Limit,
                    Position::file(file).field(rel.as_str()),
                    format!(
                        "the export folder holds more than {} attachments; raise --max-entries if this export is genuine",
                        limits.max_entries
                    ),
                ));
            }
            let remaining = limits.max_unpacked_bytes.saturating_sub(total);
            // Measured, not kept: the store copies the file when it writes.
            let (size, digest) = fs::File::open(&path)
                .and_then(|f| measure(&mut f.take(remaining.saturating_add(1))))
                .map_err(|e| SourceError::io(&format!("{file}/{rel}"), e))?;
            total = total.saturating_add(size);
            if total > limits.max_unpacked_bytes {
                return Err(SourceError::new(
                    ErrorKind::Limit,
                    Position::file(file).field(rel.as_str()),
                    format!(
                        "the attachments add up to more than {} bytes; raise --max-unpacked-bytes if this export is genuine",
                        limits.max_unpacked_bytes
                    ),
                ));
            }
            let raw_name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            // Files may be stored as `<attachment id>__<name>`, like 1PUX.
            let (source_id, name) = match raw_name.split_once("__") {
                Some((id, name)) if !name.is_empty() => (Some(id.to_owned()), name.to_owned()),
                _ => (None, raw_name.clone()),
            };
            let attachment = Attachment {
                name,
                size,
                content: None,
                source_id,
                digest: Some(digest),
                origin: Some(ContentOrigin::new(FileContent {
                    path: path.clone(),
                    shown: format!("{file}/{rel}"),
                })),
            };
            out.entry(item_uuid.clone()).or_default().push((rel, attachment));
        }
    }
    Ok(out)
}

fn read_dir_sorted(dir: &Path, file: &str) -> Result<Vec<PathBuf>, SourceError> {
    let mut out: Vec<PathBuf> = fs::read_dir(dir)
        .map_err(|e| SourceError::io(file, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEP: &str = "***5642bee8-a5ff-11dc-8314-0800200c9a66***";

    fn pif(records: &[&str]) -> String {
        let mut s = String::from("\u{feff}");
        for r in records {
            s.push_str(r);
            s.push_str("\r\n");
            s.push_str(SEP);
            s.push_str("\r\n");
        }
        s
    }

    #[test]
    fn folders_nest_and_cycles_are_cut() {
        let text = pif(&[
            r#"{"typeName":"system.folder.Regular","uuid":"A","title":"A","folderUuid":"B"}"#,
            r#"{"typeName":"system.folder.Regular","uuid":"B","title":"B","folderUuid":"A"}"#,
            r#"{"typeName":"system.folder.Regular","uuid":"C","title":"C","folderUuid":"D"}"#,
            r#"{"typeName":"system.folder.Regular","uuid":"D","title":"D"}"#,
            r#"{"typeName":"webforms.WebForm","uuid":"I","title":"i","folderUuid":"C"}"#,
            r#"{"typeName":"system.Tombstone","uuid":"T"}"#,
            r#"{"typeName":"system.folder.SavedSearch","uuid":"S"}"#,
        ]);
        let v = parse(&text, "x.1pif", &ParseOptions::default()).unwrap();
        assert_eq!(v.entries.len(), 1);
        assert_eq!(v.entries[0].folder, ["D", "C"]);
        assert_eq!(v.entries[0].line, Some(9));
        assert!(v.findings.iter().any(|f| f.code == "onepassword.folder-cycle"));
        assert_eq!(v.skipped_records, 0);
    }

    #[test]
    fn a_broken_record_is_skipped_with_its_line_or_stops_strict() {
        let text = pif(&[
            r#"{"typeName":"webforms.WebForm","title":"#,
            r#"{"typeName":"securenotes.SecureNote","title":"n"}"#,
        ]);
        let v = parse(&text, "x.1pif", &ParseOptions::default()).unwrap();
        assert_eq!(v.entries.len(), 1);
        assert_eq!(v.skipped_records, 1);
        assert_eq!(v.findings[0].position.line, Some(1));
        let strict = ParseOptions {
            strict: true,
            ..ParseOptions::default()
        };
        let err = parse(&text, "x.1pif", &strict).unwrap_err();
        assert_eq!(err.position().line, Some(1));
    }
}
