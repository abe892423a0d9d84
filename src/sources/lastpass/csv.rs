//! The LastPass CSV export (web vault, browser extension, `lpass export`).
//!
//! Read as a stream of records (a 1M-row export is ~150 MB): one
//! `csv::Reader` over the input, on its own thread so splitting records
//! overlaps with building entries ([`records`]); runs of well-formed rows
//! are turned into entries in parallel ([`row`]) and taken in file order;
//! a small look-ahead handles rows LastPass wrote broken, and the raw bytes
//! of a record of the wrong width are kept so a row a stray quote ran away
//! with can be re-read line by line.

mod records;
mod row;
mod seen;
mod summary;

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::Read;
use std::ops::Range;

use rayon::prelude::*;

use self::records::{Batch, Feed, Rec};
use self::row::{Converted, RowReader};
use crate::model::{Entry, Finding, Folder, FolderPath, SourceKind, Timestamp, Vault};
use crate::sources::{at, recover_or_fail, EntrySummary, ParseOptions, Sink, SourceError};

/// `url` of a secure-note row.
const SECURE_NOTE_URL: &str = "http://sn";
/// `url` of a row that only records a (possibly empty) folder.
const GROUP_URL: &str = "http://group";
/// Continuation lines joined into one broken row at most; beyond that the
/// rows are reported, not guessed at.
const MAX_CONTINUATION_LINES: usize = 1000;
/// Findings listed one per row up to this many; past it, one finding lists lines.
const ROWS_PER_FINDING_LIMIT: usize = 20;
/// Lines quoted in a summary finding.
const LINES_QUOTED: usize = 50;

/// Where each known column is. LastPass has shipped several headers (with
/// and without `totp`, `totp` last, the extra `lpass export --fields`
/// columns), so columns are found by name, never by position.
struct Columns {
    width: usize,
    url: usize,
    username: usize,
    password: usize,
    extra: usize,
    name: usize,
    grouping: usize,
    totp: Option<usize>,
    fav: Option<usize>,
    id: Option<usize>,
    fullname: Option<usize>,
    last_modified: Option<usize>,
    last_touch: Option<usize>,
    attachpresent: Option<usize>,
    /// Columns vaultferry does not know: kept as fields, never dropped.
    other: Vec<(usize, String)>,
    /// Known columns the header names twice (a hand-merged export): the
    /// first is read, the others are kept as fields and reported.
    repeated: Vec<String>,
}

const REQUIRED: [&str; 6] = ["url", "username", "password", "extra", "name", "grouping"];

impl Columns {
    fn from_header(header: &[String], file: &str) -> Result<Columns, SourceError> {
        let names: Vec<String> = header
            .iter()
            .map(|h| h.replace(['\u{feff}', '\u{200b}'], "").trim().to_ascii_lowercase())
            .collect();
        let find = |name: &str| names.iter().position(|n| n == name);
        let missing: Vec<&str> = REQUIRED.iter().copied().filter(|n| find(n).is_none()).collect();
        if !missing.is_empty() {
            return Err(SourceError::malformed(
                at(file, 1),
                format!(
                    "the header has no {} column{}; expected a LastPass header such as url,username,password,totp,extra,name,grouping,fav",
                    missing.join(", "),
                    if missing.len() == 1 { "" } else { "s" }
                ),
            ));
        }
        let known = [
            "url",
            "username",
            "password",
            "extra",
            "name",
            "grouping",
            "totp",
            "fav",
            "id",
            "fullname",
            "last_modified_gmt",
            "last_touch",
            "attachpresent",
        ];
        let mut other = Vec::new();
        let mut repeated = Vec::new();
        for (i, n) in names.iter().enumerate() {
            // The first column of a name wins; a repeated one is kept as a field.
            if !known.contains(&n.as_str()) || find(n) != Some(i) {
                other.push((i, header.get(i).cloned().unwrap_or_default().trim().to_owned()));
                if known.contains(&n.as_str()) && !repeated.contains(n) {
                    repeated.push(n.clone());
                }
            }
        }
        let req = |n: &str| find(n).unwrap_or(0);
        Ok(Columns {
            width: names.len(),
            url: req("url"),
            username: req("username"),
            password: req("password"),
            extra: req("extra"),
            name: req("name"),
            grouping: req("grouping"),
            totp: find("totp"),
            fav: find("fav"),
            id: find("id"),
            fullname: find("fullname"),
            last_modified: find("last_modified_gmt"),
            last_touch: find("last_touch"),
            attachpresent: find("attachpresent"),
            other,
            repeated,
        })
    }

    fn describe(&self) -> String {
        format!("{} fields, as many as the header", self.width)
    }
}

/// Bytes per row below which an export is not expected to go on average
/// (the benchmark exports average ~155): sizes the entry list from the
/// file's size. Reserved but untouched memory costs nothing.
const MIN_ROW_BYTES: u64 = 128;

/// Reads a LastPass CSV export of `size` bytes (0 when not known) into a vault.
///
/// Unless `sink` keeps them, entries are handed to it in file order instead
/// of being kept in the vault (which then holds folders and findings only).
pub(crate) fn read<'a, R: Read + Send>(
    reader: R,
    file: &str,
    options: &'a ParseOptions,
    size: u64,
    sink: Sink<'a>,
) -> Result<Vault, SourceError> {
    std::thread::scope(|scope| {
        let mut records = Feed::spawn(scope, reader, file);
        let Some(header) = records.next()? else {
            return Err(SourceError::malformed(
                at(file, 1),
                "the file is empty; expected a LastPass header such as url,username,password,totp,extra,name,grouping,fav",
            ));
        };
        let columns = Columns::from_header(&header.fields, file)?;
        let mut builder = Builder {
            vault: Vault::new(SourceKind::LastpassCsv, file),
            columns,
            options,
            file: file.to_owned(),
            seen_groupings: seen::Seen::default(),
            entity_rows: Vec::new(),
            folder_at: HashMap::new(),
            converted: Vec::new(),
            summaries: Vec::new(),
            sink,
        };
        if matches!(builder.sink, Sink::Keep) {
            builder
                .vault
                .entries
                .reserve(usize::try_from(size / MIN_ROW_BYTES).unwrap_or(0));
        }
        for name in std::mem::take(&mut builder.columns.repeated) {
            let finding = Finding::warning(
                "lastpass.duplicate-column",
                format!(
                    "the header names column '{name}' more than once; the first is read, later ones are kept as fields of each entry; expected each column once"
                ),
            )
            .at(at(file, 1).field(name));
            recover_or_fail(&mut builder.vault, finding, options)?;
        }
        let width = builder.columns.width;
        while let Some((batch, run)) = records.run(width)? {
            if !run.is_empty() {
                builder.rows(batch, run)?;
                continue;
            }
            // The next record has another width.
            if let Some(rec) = records.next()? {
                builder.broken(rec, &mut records)?;
            }
        }
        builder.finish()
    })
}

struct Builder<'a> {
    vault: Vault,
    /// Where entries go.
    sink: Sink<'a>,
    columns: Columns,
    options: &'a ParseOptions,
    file: String,
    /// `grouping` values already turned into folders (a big export repeats
    /// a few hundred values a million times).
    seen_groupings: seen::Seen,
    /// Rows holding HTML entities: line and the columns that hold them.
    entity_rows: Vec<(u64, Vec<&'static str>)>,
    /// Folder path → index in `vault.folders`.
    folder_at: HashMap<Vec<String>, usize>,
    /// The converted rows of a batch; kept to reuse its allocation.
    converted: Vec<Converted>,
    /// The same for summarized rows.
    summaries: Vec<Converted<EntrySummary>>,
}

impl Builder<'_> {
    /// A record whose field count differs from the header's.
    fn broken(&mut self, rec: Rec, records: &mut Feed) -> Result<(), SourceError> {
        let width = self.columns.width;
        let extra = self.columns.extra;
        // LastPass sometimes writes line breaks inside `extra` without quoting
        // the field: the row arrives as its start (up to the first line of
        // `extra`), lines of one field, and its end (the last line of `extra`
        // and the columns after it). Only that exact shape is joined.
        let single_line = rec.end_line == rec.line;
        if single_line && rec.fields.len() == extra + 1 && extra + 1 < width {
            let mut parts = vec![rec];
            let mut joined = None;
            while parts.len() <= MAX_CONTINUATION_LINES {
                let Some(next) = records.peek()? else { break };
                let len = next.width();
                let next_single = next.end_line == next.line;
                if !next_single || (len != 1 && len != width - extra) {
                    break;
                }
                if let Some(next) = records.next()? {
                    parts.push(next);
                }
                if len == width - extra {
                    joined = Some(join(&mut parts, extra));
                    break;
                }
            }
            let first = parts.first().map(|r| r.line).unwrap_or(0);
            let last = parts.last().map(|r| r.end_line).unwrap_or(first);
            return match joined {
                Some(fields) => {
                    let finding = Finding::warning(
                        "lastpass.row-recovered",
                        format!(
                            "lines {first}-{last}: LastPass wrote line breaks in 'extra' without quoting it; the {} lines were joined into one row",
                            parts.len()
                        ),
                    )
                    .at(at(&self.file, first).field("extra"))
                    .help("check the entry's notes; re-export from the LastPass web vault to avoid this");
                    recover_or_fail(&mut self.vault, finding, self.options)?;
                    self.row(Rec {
                        fields,
                        line: first,
                        end_line: last,
                        raw: None,
                        bad_utf8: parts.iter().any(|p| p.bad_utf8),
                    })
                }
                None => {
                    for part in &parts {
                        self.skip(part.line, part.end_line, part.fields.len())?;
                    }
                    Ok(())
                }
            };
        }
        let has_quote = rec.raw.as_ref().is_some_and(|r| r.contains(&b'"'));
        if has_quote {
            return self.reread_lines(rec);
        }
        self.skip(rec.line, rec.end_line, rec.fields.len())
    }

    /// A quote at the start of an unquoted value (`,"abc,`) makes the CSV
    /// reader run on to the next quote, swallowing the rows in between. Re-read
    /// the swallowed text one line at a time: lines that parse with the
    /// header's width are rows again; a line that only does with quotes taken
    /// literally is the one with the stray quote; the rest are reported.
    fn reread_lines(&mut self, rec: Rec) -> Result<(), SourceError> {
        let raw = rec.raw.unwrap_or_default();
        let width = self.columns.width;
        for (this, line) in (rec.line..).zip(raw.split(|&b| b == b'\n')) {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if line.is_empty() {
                continue;
            }
            if let Some(fields) = parse_line(line, true).filter(|f| f.len() == width) {
                self.row(Rec {
                    fields,
                    line: this,
                    end_line: this,
                    raw: None,
                    bad_utf8: false,
                })?;
                continue;
            }
            match parse_line(line, false).filter(|f| f.len() == width) {
                Some(fields) => {
                    let finding = Finding::warning(
                        "lastpass.row-recovered",
                        format!(
                            "a stray quote broke the CSV quoting (lines {}-{} were read as one record); the row was re-read with its quotes kept as characters",
                            rec.line, rec.end_line
                        ),
                    )
                    .at(at(&self.file, this))
                    .help("check this entry's values for a leading '\"'");
                    recover_or_fail(&mut self.vault, finding, self.options)?;
                    self.row(Rec {
                        fields,
                        line: this,
                        end_line: this,
                        raw: None,
                        bad_utf8: false,
                    })?;
                }
                None => {
                    let found = parse_line(line, true).map(|f| f.len()).unwrap_or(0);
                    self.skip(this, this, found)?;
                }
            }
        }
        Ok(())
    }

    fn skip(&mut self, line: u64, end_line: u64, found: usize) -> Result<(), SourceError> {
        // The position names the first line; the message only the span.
        let lines = if end_line > line {
            format!("the record spans lines {line}-{end_line}: ")
        } else {
            String::new()
        };
        let finding = Finding::error(
            "lastpass.row-skipped",
            format!(
                "{lines}found {found} field{}, expected {}; the row cannot be read unambiguously and was skipped",
                if found == 1 { "" } else { "s" },
                self.columns.describe()
            ),
        )
        .at(at(&self.file, line))
        .help("fix the row in the CSV (quote values holding commas, quotes or line breaks) and run again");
        recover_or_fail(&mut self.vault, finding, self.options)?;
        self.vault.skipped_records += 1;
        Ok(())
    }

    /// Converts a run of well-formed rows of a batch in parallel, then takes
    /// the results in file order.
    fn rows(&mut self, batch: &Batch, run: Range<usize>) -> Result<(), SourceError> {
        if matches!(self.sink, Sink::Summary(_)) {
            return self.summary_rows(batch, run);
        }
        let reader = RowReader {
            columns: &self.columns,
            options: self.options,
            file: &self.file,
        };
        let mut converted = std::mem::take(&mut self.converted);
        batch
            .recs
            .get(run.clone())
            .unwrap_or_default()
            .par_iter()
            .zip(run.clone())
            .map(|(info, i)| {
                let (fields, bad_utf8) = row::fields_of(batch.fields(i));
                reader.convert(fields, info.line, bad_utf8)
            })
            .collect_into_vec(&mut converted);
        let grouping = self.columns.grouping;
        for (c, i) in converted.drain(..).zip(run) {
            let key = match c.folder_key {
                Some(_) => None,
                None => batch.fields(i).nth(grouping),
            };
            let key = key.and_then(|k| std::str::from_utf8(k).ok()).unwrap_or_default();
            if let Some(entry) = self.take_row(c, key)? {
                self.give(entry);
            }
        }
        self.converted = converted;
        Ok(())
    }

    /// [`Builder::rows`] for a summary: rows are summarized, not converted.
    fn summary_rows(&mut self, batch: &Batch, run: Range<usize>) -> Result<(), SourceError> {
        let reader = RowReader {
            columns: &self.columns,
            options: self.options,
            file: &self.file,
        };
        let mut summaries = std::mem::take(&mut self.summaries);
        let recs = batch.recs.get(run.clone()).unwrap_or_default();
        recs.par_iter()
            .zip(run.clone())
            .map(|(info, i)| reader.summarize(batch, i, info.line, &self.seen_groupings))
            .collect_into_vec(&mut summaries);
        let grouping = self.columns.grouping;
        for (c, i) in summaries.drain(..).zip(run) {
            // Only a row whose folder may be new needs its key.
            let key = match c.folder_key {
                None if c.path_from_key || !c.path.is_empty() => batch.fields(i).nth(grouping),
                _ => None,
            };
            let key = key.and_then(|k| std::str::from_utf8(k).ok()).unwrap_or_default();
            if let Some(summary) = self.take_row(c, key)? {
                if let Sink::Summary(each) = &mut self.sink {
                    each(summary);
                }
            }
        }
        self.summaries = summaries;
        Ok(())
    }

    /// Hands a finished entry to the sink, or keeps it.
    fn give(&mut self, entry: Entry) {
        if let Some(entry) = self.sink.give(entry) {
            self.vault.entries.push(entry);
        }
    }

    /// One row recovered from a broken record.
    fn row(&mut self, rec: Rec) -> Result<(), SourceError> {
        let reader = RowReader {
            columns: &self.columns,
            options: self.options,
            file: &self.file,
        };
        let fields = rec.fields.into_iter().map(Cow::Owned).collect();
        let converted = reader.convert(fields, rec.line, rec.bad_utf8);
        if let Some(entry) = self.take_row(converted, "")? {
            self.give(entry);
        }
        Ok(())
    }

    /// Adds a converted row to the vault: its folders and findings; returns
    /// its entry (with the folder path set on an [`Entry`]), for the caller
    /// to hand on. `grouping` is the folder's key when the row does not
    /// carry its own.
    fn take_row<E: WithFolder>(&mut self, mut c: Converted<E>, grouping: &str) -> Result<Option<E>, SourceError> {
        let line = c.line;
        if c.bad_utf8 {
            // A recovery like any other: `--strict` must stop here too, as a
            // U+FFFD may now stand in a password.
            let finding = Finding::warning(
                "lastpass.invalid-utf8",
                "bytes that are not UTF-8 were replaced with U+FFFD",
            )
            .at(at(&self.file, line))
            .help("export again from LastPass; its exports are UTF-8");
            recover_or_fail(&mut self.vault, finding, self.options)?;
        }
        if !c.entities.is_empty() {
            self.entity_rows.push((line, c.entities));
        }
        let key = c.folder_key.as_deref().unwrap_or(grouping);
        // Every entry of a folder shares the one path noted with its key
        // (one lookup for most rows); a key with none is the root.
        if let Some(path) = self.seen_groupings.get(key) {
            if let Some(entry) = c.entry.as_mut() {
                entry.set_folder(path);
            }
        } else {
            let (path, shared_prefix) = if c.path_from_key {
                folder_path(key)
            } else {
                (c.path, c.shared_prefix)
            };
            self.ensure_folder(key, path, shared_prefix);
            if let (Some(path), Some(entry)) = (self.seen_groupings.get(key), c.entry.as_mut()) {
                entry.set_folder(path);
            }
        }
        let entry = c.entry;
        if entry.is_some() {
            self.vault.findings.extend(c.findings);
        }
        Ok(entry)
    }

    /// Adds the folder of a row once per distinct `key` (its `grouping`).
    fn ensure_folder(&mut self, key: &str, path: Vec<String>, shared_prefix: Option<String>) {
        if path.is_empty() || self.seen_groupings.contains(key) {
            return;
        }
        let path = FolderPath::from(path);
        self.seen_groupings.insert(key.to_owned(), path.clone());
        if let (Some(prefix), Some(top)) = (shared_prefix, path.first()) {
            let top = std::slice::from_ref(top);
            self.add_folder(top, true);
            if let Some(folder) = self.folder_at.get(top).and_then(|&i| self.vault.folders.get_mut(i)) {
                folder.source_id.get_or_insert(prefix);
            }
        }
        self.add_folder(&path, false);
    }

    /// `Vault::ensure_folder` through an index: an export with thousands of
    /// folders would otherwise scan them all for every new `grouping`.
    fn add_folder(&mut self, path: &[String], shared: bool) {
        for depth in 1..=path.len() {
            let Some(prefix) = path.get(..depth) else { break };
            match self.folder_at.get(prefix) {
                Some(&i) => {
                    if depth == path.len() && shared {
                        if let Some(f) = self.vault.folders.get_mut(i) {
                            f.shared = true;
                        }
                    }
                }
                None => {
                    self.folder_at.insert(prefix.to_vec(), self.vault.folders.len());
                    self.vault.folders.push(Folder {
                        path: prefix.to_vec(),
                        shared: shared && depth == path.len(),
                        source_id: None,
                        description: None,
                    });
                }
            }
        }
    }

    fn finish(mut self) -> Result<Vault, SourceError> {
        let rows = std::mem::take(&mut self.entity_rows);
        if rows.is_empty() {
            return Ok(self.vault);
        }
        let decoded = self.options.decode_html_entities;
        if decoded {
            self.vault.findings.push(
                Finding::info(
                    "lastpass.html-entities",
                    format!(
                        "decoded HTML entities (&amp; &lt; &gt; &quot; &#39;) in {} row{} ({})",
                        rows.len(),
                        if rows.len() == 1 { "" } else { "s" },
                        line_list(&rows)
                    ),
                )
                .at(crate::model::Position::file(&self.file)),
            );
        } else if rows.len() <= ROWS_PER_FINDING_LIMIT {
            for (line, columns) in &rows {
                self.vault.findings.push(
                    Finding::warning(
                        "lastpass.html-entities",
                        format!(
                            "{} hold{} HTML entities (&amp; &lt; &gt; &quot; &#39;) as the browser-extension export writes them; kept as they are",
                            columns.join(", "),
                            if columns.len() == 1 { "s" } else { "" }
                        ),
                    )
                    .at(at(&self.file, *line).field(columns.join(", ")))
                    .help("if these values were typed with & < > \" ', run again with --decode-html-entities"),
                );
            }
        } else {
            let first = rows.first().map(|r| r.0).unwrap_or(0);
            self.vault.findings.push(
                Finding::warning(
                    "lastpass.html-entities",
                    format!(
                        "{} rows hold HTML entities (&amp; &lt; &gt; &quot; &#39;) as the browser-extension export writes them; kept as they are ({})",
                        rows.len(),
                        line_list(&rows)
                    ),
                )
                .at(at(&self.file, first))
                .help("if these values were typed with & < > \" ', run again with --decode-html-entities"),
            );
        }
        Ok(self.vault)
    }
}

/// What a row's entry does with its folder path.
trait WithFolder {
    fn set_folder(&mut self, path: &FolderPath);
}

impl WithFolder for Entry {
    fn set_folder(&mut self, path: &FolderPath) {
        self.folder = path.clone();
    }
}

/// A summary has no folder (the vault's folders are counted instead).
impl WithFolder for EntrySummary {
    fn set_folder(&mut self, _: &FolderPath) {}
}

fn line_list(rows: &[(u64, Vec<&'static str>)]) -> String {
    let mut text = rows
        .iter()
        .take(LINES_QUOTED)
        .map(|(l, _)| l.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    text.insert_str(0, if rows.len() == 1 { "line " } else { "lines " });
    if rows.len() > LINES_QUOTED {
        text.push_str(&format!(" and {} more", rows.len() - LINES_QUOTED));
    }
    text
}

/// Joins the parts of a row broken inside `extra`: the first part's fields up
/// to `extra`, every part's piece of `extra` joined by line breaks, then the
/// last part's remaining columns.
fn join(parts: &mut [Rec], extra: usize) -> Vec<String> {
    let mut fields: Vec<String> = Vec::new();
    let mut note = String::new();
    let count = parts.len();
    for (i, part) in parts.iter_mut().enumerate() {
        let mut own = std::mem::take(&mut part.fields);
        if i == 0 {
            let tail = own.split_off(extra.min(own.len()));
            fields = own;
            note = tail.into_iter().next().unwrap_or_default();
        } else if i + 1 < count {
            note.push('\n');
            note.push_str(own.first().map(String::as_str).unwrap_or(""));
        } else {
            let mut rest = own.into_iter();
            note.push('\n');
            note.push_str(&rest.next().unwrap_or_default());
            fields.push(std::mem::take(&mut note));
            fields.extend(rest);
        }
    }
    fields
}

/// One physical line as CSV, with quotes as syntax or as plain characters.
fn parse_line(line: &[u8], quoting: bool) -> Option<Vec<String>> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .quoting(quoting)
        .from_reader(line);
    let mut record = csv::ByteRecord::new();
    match rdr.read_byte_record(&mut record) {
        Ok(true) => {
            let mut bad = false;
            Some(record.iter().map(|f| records::to_string(f, &mut bad)).collect())
        }
        _ => None,
    }
}

/// `grouping` → folder path. LastPass nests with `\`; `(none)` and empty are
/// the root; a first segment `Shared-X` is a shared folder (returned again as
/// the second value, as written, to keep as the folder's source id).
pub(crate) fn folder_path(grouping: &str) -> (Vec<String>, Option<String>) {
    let g = grouping.trim();
    if g.is_empty() || g == "(none)" {
        return (Vec::new(), None);
    }
    let mut path: Vec<String> = g
        .split('\\')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    let mut shared = None;
    if let Some(first) = path.first_mut() {
        // The prefix stays in the path: it is what tells the shared folder
        // `Shared-Legal` from a personal folder `Legal` (the collection's
        // name drops it, see `mapper::collection_name`).
        if first.len() > 7
            && first.get(..7).is_some_and(|p| p.eq_ignore_ascii_case("Shared-"))
            && !first.get(7..).unwrap_or("").trim().is_empty()
        {
            shared = Some(first.clone());
        }
    }
    (path, shared)
}

/// `lpass export` writes `last_modified_gmt`/`last_touch` as unix seconds;
/// other tools write `YYYY-MM-DD HH:MM:SS` (UTC).
pub(crate) fn parse_time(value: &str) -> Option<Timestamp> {
    let v = value.trim();
    if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
        let n: i64 = v.parse().ok()?;
        // Milliseconds, from tools that re-export.
        return Some(Timestamp(if n > 100_000_000_000 { n / 1000 } else { n }));
    }
    let (date, time) = match v.split_once([' ', 'T']) {
        Some((d, t)) => (d, t.trim_end_matches('Z')),
        None => (v, "00:00:00"),
    };
    let d: Vec<&str> = date.split('-').collect();
    let t: Vec<&str> = time.split(':').collect();
    let num = |s: Option<&&str>| s.and_then(|s| s.parse::<u32>().ok());
    let (y, m, day) = (d.first()?.parse::<i64>().ok()?, num(d.get(1))?, num(d.get(2))?);
    if d.len() != 3 || t.len() < 2 || t.len() > 3 {
        return None;
    }
    let (hh, mm) = (num(t.first())?, num(t.get(1))?);
    let ss = if t.len() == 3 { num(t.get(2))? } else { 0 };
    Timestamp::from_civil(y, m, day, hh, mm, ss)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::EntryKind;
    use crate::secret::Secret;
    use crate::sources::ErrorKind;

    const HEADER: &str = "url,username,password,totp,extra,name,grouping,fav\n";

    fn parse_with(text: &str, options: &ParseOptions) -> Result<Vault, SourceError> {
        read(text.as_bytes(), "t.csv", options, 0, Sink::Keep)
    }

    fn parse(text: &str) -> Vault {
        match parse_with(text, &ParseOptions::default()) {
            Ok(v) => v,
            Err(e) => panic!("{e}"),
        }
    }

    fn codes(v: &Vault) -> Vec<&str> {
        v.findings.iter().map(|f| f.code.as_str()).collect()
    }

    #[test]
    fn groupings_become_folder_paths() {
        assert_eq!(folder_path(""), (vec![], None));
        assert_eq!(folder_path("(none)"), (vec![], None));
        assert_eq!(
            folder_path("Personal\\Travel"),
            (vec!["Personal".into(), "Travel".into()], None)
        );
        assert_eq!(
            folder_path("Shared-Engineering\\Databases"),
            (
                vec!["Shared-Engineering".into(), "Databases".into()],
                Some("Shared-Engineering".into())
            )
        );
        assert_eq!(folder_path("Shared-"), (vec!["Shared-".into()], None));
    }

    #[test]
    fn timestamps_from_lpass_and_other_tools() {
        assert_eq!(parse_time("1710408600"), Some(Timestamp(1_710_408_600)));
        assert_eq!(parse_time("1710408600000"), Some(Timestamp(1_710_408_600)));
        assert_eq!(parse_time("2024-03-14 09:30:00"), Some(Timestamp(1_710_408_600)));
        assert_eq!(parse_time("2024-03-14T09:30:00Z"), Some(Timestamp(1_710_408_600)));
        assert_eq!(parse_time("yesterday"), None);
        assert_eq!(parse_time("2024-13-01 00:00:00"), None);
    }

    #[test]
    fn group_rows_are_folders_not_entries() {
        let v = parse(&format!(
            "{HEADER}http://group,,,,,,Personal\\Archive,0\nhttp://group,,,,,Old,,0\nhttp://group,,,,,Older,,0\n"
        ));
        assert!(v.entries.is_empty());
        assert_eq!(v.folders.len(), 4, "{:?}", v.folders);
        assert!(v.folder(&["Personal".into(), "Archive".into()]).is_some());
    }

    #[test]
    fn shared_folder_is_the_top_segment_with_its_prefix_kept() {
        let v = parse(&format!("{HEADER}https://a.example,u,p,,,A,Shared-Eng\\DB,0\n"));
        let top = v
            .folder(&["Shared-Eng".into()])
            .map(|f| (f.shared, f.source_id.clone()));
        assert_eq!(top, Some((true, Some("Shared-Eng".into()))));
        assert_eq!(
            v.folder(&["Shared-Eng".into(), "DB".into()]).map(|f| f.shared),
            Some(false)
        );
        assert_eq!(
            v.entries.first().map(|e| e.folder.to_vec()),
            Some(vec!["Shared-Eng".to_owned(), "DB".to_owned()])
        );
    }

    #[test]
    fn missing_columns_are_named_in_the_error() {
        let err = parse_with("url,username,password\nx,y,z\n", &ParseOptions::default()).err();
        let msg = err.map(|e| e.to_string()).unwrap_or_default();
        assert!(msg.contains("t.csv:line 1"), "{msg}");
        assert!(msg.contains("extra, name, grouping"), "{msg}");
    }

    #[test]
    fn html_entities_are_kept_by_default_and_decoded_on_request() {
        let text = format!("{HEADER}https://a.example?x=1&amp;y=2,u,Pw&amp;Q&lt;1,,,R&amp;D,(none),0\n");
        let v = parse(&text);
        let e = &v.entries[0];
        assert_eq!(e.password.as_ref().map(Secret::expose), Some("Pw&amp;Q&lt;1"));
        assert_eq!(codes(&v), ["lastpass.html-entities"]);
        let f = &v.findings[0];
        assert_eq!(f.position.line, Some(2));
        assert!(f.message.contains("url, password, name"), "{}", f.message);
        assert!(!f.message.contains("Pw&amp;"), "no values in findings");

        let options = ParseOptions {
            decode_html_entities: true,
            ..ParseOptions::default()
        };
        let v = parse_with(&text, &options).unwrap_or_else(|e| panic!("{e}"));
        let e = &v.entries[0];
        assert_eq!(e.password.as_ref().map(Secret::expose), Some("Pw&Q<1"));
        assert_eq!(e.title, "R&D");
        assert_eq!(e.urls, ["https://a.example?x=1&y=2"]);
    }

    #[test]
    fn many_entity_rows_give_one_finding_listing_lines() {
        let mut text = HEADER.to_owned();
        for i in 0..30 {
            text.push_str(&format!("https://a.example,u{i},Pw&amp;{i},,,n{i},(none),0\n"));
        }
        let v = parse(&text);
        assert_eq!(codes(&v), ["lastpass.html-entities"]);
        assert!(
            v.findings[0].message.starts_with("30 rows"),
            "{}",
            v.findings[0].message
        );
        assert!(
            v.findings[0].message.contains("lines 2, 3, 4"),
            "{}",
            v.findings[0].message
        );
    }

    #[test]
    fn unquoted_line_breaks_in_extra_are_joined() {
        let text = format!("{HEADER}https://w.example,lee,Pw-W,,one\ntwo\nthree,Wiki,Personal,1\nhttps://n.example,lee,Pw-N,,,Next,Personal,0\n");
        let v = parse(&text);
        assert_eq!(v.entries.len(), 2);
        assert_eq!(v.entries[0].notes.as_deref(), Some("one\ntwo\nthree"));
        assert!(v.entries[0].favorite);
        assert_eq!(v.entries[1].line, Some(5));
        assert_eq!(codes(&v), ["lastpass.row-recovered"]);
        assert_eq!(v.findings[0].position.line, Some(2));
        let strict = ParseOptions {
            strict: true,
            ..ParseOptions::default()
        };
        let err = parse_with(&text, &strict).err().map(|e| (e.kind(), e.to_string()));
        let (kind, msg) = err.unwrap_or((ErrorKind::Io, String::new()));
        assert_eq!(kind, ErrorKind::Strict);
        assert!(
            msg.contains("t.csv:line 2") && msg.contains("lastpass.row-recovered"),
            "{msg}"
        );
        assert!(!msg.contains("Pw-W"), "{msg}");
    }

    #[test]
    fn rows_that_cannot_be_joined_are_skipped_and_counted() {
        let text = format!(
            "{HEADER}https://a.example,u,Pw-Skip-1,,,A,B,C,D,0\nstray line\nhttps://b.example,u,Pw-B,,,B,(none),0\n"
        );
        let v = parse(&text);
        assert_eq!(v.entries.len(), 1);
        assert_eq!(v.skipped_records, 2);
        assert_eq!(codes(&v), ["lastpass.row-skipped", "lastpass.row-skipped"]);
        let lines: Vec<_> = v.findings.iter().map(|f| f.position.line).collect();
        assert_eq!(lines, [Some(2), Some(3)]);
        assert!(v.findings.iter().all(|f| !f.message.contains("Pw-Skip-1")));
    }

    #[test]
    fn a_stray_quote_does_not_swallow_the_rows_after_it() {
        let text = format!(
            "{HEADER}https://s.example,u,\"Pw-Stray,,,Stray,(none),0\nhttps://n.example,u,Pw-Next,,,Next,(none),0\nhttps://q.example,u,\"Pw,comma\",,,Quoted,(none),0\n"
        );
        let v = parse(&text);
        let titles: Vec<_> = v.entries.iter().map(|e| e.title.as_str()).collect();
        assert_eq!(titles, ["Stray", "Next", "Quoted"]);
        assert_eq!(v.entries[0].password.as_ref().map(Secret::expose), Some("\"Pw-Stray"));
        assert_eq!(v.entries[2].password.as_ref().map(Secret::expose), Some("Pw,comma"));
        assert_eq!(v.entries[1].line, Some(3));
        assert_eq!(codes(&v), ["lastpass.row-recovered"]);
    }

    #[test]
    fn empty_url_with_extra_is_a_login_with_notes_and_sn_is_a_note() {
        let v = parse(&format!(
            "{HEADER},dpbx,pw1,,For finance only,Bank,(none),0\nhttp://sn,,,,Just text,Memo,(none),0\n"
        ));
        assert_eq!(v.entries[0].kind, EntryKind::Login);
        assert!(v.entries[0].urls.is_empty());
        assert_eq!(v.entries[0].notes.as_deref(), Some("For finance only"));
        assert_eq!(v.entries[1].kind, EntryKind::SecureNote);
        assert_eq!(v.entries[1].notes.as_deref(), Some("Just text"));
    }

    #[test]
    fn an_empty_file_is_an_error_not_a_panic() {
        let err = parse_with("", &ParseOptions::default()).err().map(|e| e.kind());
        assert_eq!(err, Some(ErrorKind::Malformed));
    }

    #[test]
    fn hostile_input_never_panics() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let alphabet: &[u8] = b",\"\r\n\\&;:abN\xef\xbb\xbf\xff http://sn NoteType:Custom_1\nPrivate Key:";
        for _ in 0..500 {
            let len = rng.gen_range(0..200);
            let mut text = HEADER.as_bytes().to_vec();
            text.extend((0..len).map(|_| alphabet[rng.gen_range(0..alphabet.len())]));
            for options in [
                ParseOptions::default(),
                ParseOptions {
                    decode_html_entities: true,
                    ..ParseOptions::default()
                },
            ] {
                let _ = read(&text[..], "fuzz.csv", &options, 0, Sink::Keep);
            }
        }
    }
}
