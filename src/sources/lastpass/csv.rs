//! The LastPass CSV export (web vault, browser extension, `lpass export`).
//!
//! Read as a stream of records (a 1M-row export is ~120 MB): one
//! `csv::Reader` over the input, on its own thread so splitting records
//! overlaps with building entries, a small look-ahead for rows LastPass
//! wrote broken, and a tap on the raw bytes of the current record so a row a
//! stray quote ran away with can be re-read line by line. `NoteType:` notes
//! are parsed after the last row, in parallel.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::BuildHasherDefault;
use std::io::{self, Read};
use std::rc::Rc;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

use zeroize::Zeroizing;

use super::{entities, notes};
use crate::model::{Attachment, Entry, EntryKind, Field, Finding, Folder, SourceKind, Timestamp, Vault};
use crate::secret::Secret;
use crate::sources::{at, recover_or_fail, FxHasher, ParseOptions, SourceError};

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

/// The bytes the CSV reader has pulled in, from the start of the record being
/// read. Zeroed when dropped: they hold every password of the file.
#[derive(Default)]
struct TapBuf {
    /// Byte offset in the file of `data[0]`.
    base: u64,
    data: Zeroizing<Vec<u8>>,
}

impl TapBuf {
    fn slice(&self, from: u64, to: u64) -> Vec<u8> {
        let a = usize::try_from(from.saturating_sub(self.base)).unwrap_or(usize::MAX);
        let b = usize::try_from(to.saturating_sub(self.base)).unwrap_or(usize::MAX);
        self.data
            .get(a..b.min(self.data.len()))
            .map(<[u8]>::to_vec)
            .unwrap_or_default()
    }

    /// Forgets bytes before `upto`, in large steps so the cost stays amortized.
    fn release(&mut self, upto: u64) {
        let k = usize::try_from(upto.saturating_sub(self.base)).unwrap_or(usize::MAX);
        if k >= 1 << 20 && k <= self.data.len() {
            self.data.drain(..k);
            self.base = upto;
        }
    }
}

struct Tap<R> {
    inner: R,
    buf: Rc<RefCell<TapBuf>>,
}

impl<R: Read> Read for Tap<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(out)?;
        if let Some(read) = out.get(..n) {
            self.buf.borrow_mut().data.extend_from_slice(read);
        }
        Ok(n)
    }
}

/// One CSV record with where it came from.
struct Rec {
    fields: Vec<String>,
    /// First line of the record (1-based).
    line: u64,
    /// Last line of the record.
    end_line: u64,
    /// The record's bytes as written, kept only when its field count is wrong.
    raw: Option<Zeroizing<Vec<u8>>>,
    bad_utf8: bool,
}

fn to_string(bytes: &[u8], bad: &mut bool) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_owned(),
        Err(_) => {
            *bad = true;
            String::from_utf8_lossy(bytes).into_owned()
        }
    }
}

struct Records<R: Read> {
    rdr: csv::Reader<Tap<R>>,
    tap: Rc<RefCell<TapBuf>>,
    record: csv::ByteRecord,
    /// The header's field count; records of another width keep their raw bytes.
    width: Option<usize>,
    file: String,
}

impl<R: Read> Records<R> {
    fn new(reader: R, file: &str) -> Records<R> {
        let tap = Rc::new(RefCell::new(TapBuf::default()));
        let rdr = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(Tap {
                inner: reader,
                buf: Rc::clone(&tap),
            });
        Records {
            rdr,
            tap,
            record: csv::ByteRecord::new(),
            width: None,
            file: file.to_owned(),
        }
    }

    fn read_one(&mut self) -> Result<Option<Rec>, SourceError> {
        let more = self.rdr.read_byte_record(&mut self.record).map_err(|e| {
            let line = e.position().map(csv::Position::line).unwrap_or(0);
            match e.into_kind() {
                csv::ErrorKind::Io(err) => SourceError::io(&self.file, err),
                other => SourceError::malformed(at(&self.file, line), format!("the CSV reader failed: {other:?}")),
            }
        })?;
        if !more {
            return Ok(None);
        }
        let (line, start) = self.record.position().map(|p| (p.line(), p.byte())).unwrap_or((0, 0));
        let end = self.rdr.position().byte();
        let mut bad_utf8 = false;
        let fields: Vec<String> = self.record.iter().map(|f| to_string(f, &mut bad_utf8)).collect();
        let bytes = self.record.as_slice();
        let mut newlines = bytes.iter().filter(|&&b| b == b'\n').count() as u64;
        // A quote that never closes swallows the file's last line break too.
        if bytes.ends_with(b"\n") {
            newlines = newlines.saturating_sub(1);
        }
        let raw = match self.width {
            Some(w) if w != fields.len() => Some(Zeroizing::new(self.tap.borrow().slice(start, end))),
            _ => None,
        };
        self.tap.borrow_mut().release(end);
        Ok(Some(Rec {
            fields,
            line,
            end_line: line + newlines,
            raw,
            bad_utf8,
        }))
    }
}

/// Records per message from the reading thread.
const BATCH: usize = 256;

/// Splits the file into records on its own thread, ahead of the rows being
/// built: the CSV scan and the UTF-8 checks overlap with building entries.
/// Stops when the reader ends, fails, or `read` stops listening.
fn produce<R: Read>(reader: R, file: &str, tx: SyncSender<Result<Vec<Rec>, SourceError>>) {
    let mut records = Records::new(reader, file);
    let mut batch = Vec::with_capacity(BATCH);
    loop {
        match records.read_one() {
            Ok(Some(rec)) => {
                // The header: every later record of another width keeps its bytes.
                let header = records.width.is_none();
                if header {
                    records.width = Some(rec.fields.len());
                }
                batch.push(rec);
                if header || batch.len() == BATCH {
                    if tx.send(Ok(std::mem::take(&mut batch))).is_err() {
                        return;
                    }
                    batch.reserve(BATCH);
                }
            }
            Ok(None) => {
                if !batch.is_empty() {
                    let _ = tx.send(Ok(batch));
                }
                return;
            }
            Err(e) => {
                if !batch.is_empty() && tx.send(Ok(std::mem::take(&mut batch))).is_err() {
                    return;
                }
                let _ = tx.send(Err(e));
                return;
            }
        }
    }
}

/// The records `produce` sends, in file order, with one record of look-ahead.
struct Feed {
    rx: Receiver<Result<Vec<Rec>, SourceError>>,
    batch: VecDeque<Rec>,
}

impl Feed {
    fn fill(&mut self) -> Result<(), SourceError> {
        while self.batch.is_empty() {
            match self.rx.recv() {
                Ok(Ok(recs)) => self.batch.extend(recs),
                Ok(Err(e)) => return Err(e),
                // The reading thread has finished: no more records.
                Err(_) => return Ok(()),
            }
        }
        Ok(())
    }

    fn next(&mut self) -> Result<Option<Rec>, SourceError> {
        self.fill()?;
        Ok(self.batch.pop_front())
    }

    fn peek(&mut self) -> Result<Option<&Rec>, SourceError> {
        self.fill()?;
        Ok(self.batch.front())
    }
}

/// Reads a LastPass CSV export into a vault.
pub(crate) fn read<R: Read + Send>(reader: R, file: &str, options: &ParseOptions) -> Result<Vault, SourceError> {
    std::thread::scope(|scope| {
        let (tx, rx) = sync_channel(16);
        let name = file.to_owned();
        scope.spawn(move || produce(reader, &name, tx));
        let mut records = Feed {
            rx,
            batch: VecDeque::new(),
        };
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
            seen_groupings: HashSet::default(),
            paths: HashMap::default(),
            entity_rows: Vec::new(),
            deferred_notes: Vec::new(),
            folder_at: HashMap::new(),
        };
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
        while let Some(rec) = records.next()? {
            if rec.fields.len() == builder.columns.width {
                builder.row(rec)?;
                continue;
            }
            builder.broken(rec, &mut records)?;
        }
        builder.finish()
    })
}

struct Builder<'a> {
    vault: Vault,
    columns: Columns,
    options: &'a ParseOptions,
    file: String,
    /// `grouping` values already turned into folders (a big export repeats
    /// a few hundred values a million times).
    seen_groupings: HashSet<String, BuildHasherDefault<FxHasher>>,
    /// `grouping` → `folder_path(grouping)`, parsed once per distinct value.
    paths: HashMap<String, (Vec<String>, Option<String>), BuildHasherDefault<FxHasher>>,
    /// Rows holding HTML entities: line and the columns that hold them.
    entity_rows: Vec<(u64, Vec<&'static str>)>,
    /// `NoteType:` notes whose text is parsed after the last row, in parallel.
    deferred_notes: Vec<DeferredNote>,
    /// Folder path → index in `vault.folders`.
    folder_at: HashMap<Vec<String>, usize>,
}

/// A structured note waiting to be parsed: its entry is already in place
/// (so entries keep file order) and its findings go where the row put them.
struct DeferredNote {
    /// Index of the entry in `vault.entries`.
    entry: usize,
    text: Zeroizing<String>,
    line: u64,
    /// `vault.findings.len()` when the row was read.
    findings_at: usize,
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
                let len = next.fields.len();
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
                            "line {this}: a stray quote broke the CSV quoting (lines {}-{} were read as one record); the row was re-read with its quotes kept as characters",
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
        let lines = if end_line > line {
            format!("lines {line}-{end_line}")
        } else {
            format!("line {line}")
        };
        let finding = Finding::error(
            "lastpass.row-skipped",
            format!(
                "{lines}: found {found} field{}, expected {}; the row cannot be read unambiguously and was skipped",
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

    fn take(fields: &mut [String], i: Option<usize>) -> String {
        i.and_then(|i| fields.get_mut(i))
            .map(std::mem::take)
            .unwrap_or_default()
    }

    fn row(&mut self, rec: Rec) -> Result<(), SourceError> {
        let Rec {
            mut fields,
            line,
            bad_utf8,
            ..
        } = rec;
        if bad_utf8 {
            // A recovery like any other: `--strict` must stop here too, as a
            // U+FFFD may now stand in a password.
            let finding = Finding::warning(
                "lastpass.invalid-utf8",
                format!("line {line}: bytes that are not UTF-8 were replaced with U+FFFD"),
            )
            .at(at(&self.file, line))
            .help("export again from LastPass; its exports are UTF-8");
            recover_or_fail(&mut self.vault, finding, self.options)?;
        }
        let c = &self.columns;
        let mut url = Self::take(&mut fields, Some(c.url));
        let mut username = Self::take(&mut fields, Some(c.username));
        let mut password = Secret::text(Self::take(&mut fields, Some(c.password)));
        let mut extra = Zeroizing::new(Self::take(&mut fields, Some(c.extra)));
        let mut name = Self::take(&mut fields, Some(c.name));
        let mut grouping = Self::take(&mut fields, Some(c.grouping));
        let totp = Self::take(&mut fields, c.totp);
        let fav = Self::take(&mut fields, c.fav);
        let id = Self::take(&mut fields, c.id);
        let fullname = Self::take(&mut fields, c.fullname);
        let last_modified = Self::take(&mut fields, c.last_modified);
        let last_touch = Self::take(&mut fields, c.last_touch);
        let attachpresent = Self::take(&mut fields, c.attachpresent);

        let mut with_entities = Vec::new();
        for (column, value) in [
            ("url", url.as_str()),
            ("username", username.as_str()),
            ("password", password.expose()),
            ("extra", extra.as_str()),
            ("name", name.as_str()),
            ("grouping", grouping.as_str()),
        ] {
            if entities::contains(value) {
                with_entities.push(column);
            }
        }
        if !with_entities.is_empty() {
            if self.options.decode_html_entities {
                for column in &with_entities {
                    match *column {
                        "url" => url = entities::decode(&url),
                        "username" => username = entities::decode(&username),
                        "password" => password.map_text(entities::decode),
                        "extra" => extra = Zeroizing::new(entities::decode(&extra)),
                        "name" => name = entities::decode(&name),
                        _ => grouping = entities::decode(&grouping),
                    }
                }
            }
            self.entity_rows.push((line, with_entities));
        }

        let (path, shared_prefix) = self.folder_path(&grouping);
        if url == GROUP_URL {
            // An empty folder LastPass keeps as a pseudo-row; older exports
            // put its name in `name` with no `grouping`.
            if path.is_empty() {
                let (path, shared_prefix) = folder_path(&name);
                self.ensure_folder(&format!("\u{1f}{name}"), &path, shared_prefix);
            } else {
                self.ensure_folder(&grouping, &path, shared_prefix);
            }
            return Ok(());
        }
        self.ensure_folder(&grouping, &path, shared_prefix);

        let title = if !name.trim().is_empty() {
            name
        } else if let Some(tail) = fullname.rsplit(['/', '\\']).next().filter(|t| !t.trim().is_empty()) {
            tail.to_owned()
        } else if !url.is_empty() && url != SECURE_NOTE_URL {
            url.clone()
        } else {
            "(untitled)".to_owned()
        };

        let mut deferred = None;
        let mut entry = if url == SECURE_NOTE_URL && extra.starts_with(notes::NOTE_TYPE_PREFIX) {
            // Parsed later with the others, in parallel: note parsing is the
            // costliest part of a row. The kind is set then.
            deferred = Some(std::mem::take(&mut extra));
            Entry::new(EntryKind::SecureNote, title)
        } else if url == SECURE_NOTE_URL {
            let mut e = Entry::new(EntryKind::SecureNote, title);
            if !extra.is_empty() {
                e.notes = Some(extra.to_string());
            }
            e
        } else {
            let mut e = Entry::new(EntryKind::Login, title);
            if !url.is_empty() {
                e.urls.push(url);
            }
            if !extra.is_empty() {
                e.notes = Some(extra.to_string());
            }
            e
        };
        if !username.is_empty() {
            entry.username = Some(username);
        }
        if !password.is_empty() {
            entry.password = Some(password);
        }
        if !totp.trim().is_empty() {
            entry.totp = Some(Secret::text(totp));
        }
        entry.favorite = fav.trim() == "1";
        entry.folder = path;
        entry.source_id = id.trim().to_owned();
        entry.line = Some(line);
        for (column, value) in [("last_modified_gmt", &last_modified), ("last_touch", &last_touch)] {
            if entry.updated.is_some() || value.trim().is_empty() {
                continue;
            }
            match parse_time(value) {
                Some(t) => entry.updated = Some(t),
                None => self.vault.findings.push(
                    Finding::info(
                        "lastpass.bad-timestamp",
                        format!("line {line}: '{column}' is neither unix seconds nor YYYY-MM-DD HH:MM:SS; ignored"),
                    )
                    .at(at(&self.file, line).field(column)),
                ),
            }
        }
        if attachpresent.trim() == "1" {
            entry.attachments.push(Attachment {
                name: "(not in export)".to_owned(),
                size: 0,
                content: None,
                source_id: None,
            });
            self.vault.findings.push(
                Finding::warning(
                    "lastpass.attachment-not-exported",
                    format!(
                        "line {line}: the entry has attachments, which LastPass CSV exports never contain; they are not migrated"
                    ),
                )
                .at(at(&self.file, line).field("attachpresent"))
                .help("download the attachments from LastPass (lpass show --attach) and add them by hand"),
            );
        }
        let words = notes::concealed_words();
        for (i, column) in &self.columns.other {
            let value = fields.get_mut(*i).map(std::mem::take).unwrap_or_default();
            if value.is_empty() {
                continue;
            }
            let field = if notes::looks_sensitive(column, words) {
                Field::concealed(column.clone(), value)
            } else {
                Field::plain(column.clone(), value)
            };
            entry.fields.push(field);
        }
        if let Some(text) = deferred {
            self.deferred_notes.push(DeferredNote {
                entry: self.vault.entries.len(),
                text,
                line,
                findings_at: self.vault.findings.len(),
            });
        }
        self.vault.entries.push(entry);
        Ok(())
    }

    /// Parses the deferred `NoteType:` notes in parallel and completes their
    /// entries exactly as if each had been parsed with its row: the note's
    /// fields come before fields from extra columns, a `username`/`password`
    /// column wins over the note's, and findings keep file order.
    fn parse_deferred_notes(&mut self) {
        use rayon::prelude::*;
        let deferred = std::mem::take(&mut self.deferred_notes);
        if deferred.is_empty() {
            return;
        }
        let parsed: Vec<Option<notes::ParsedNote>> = deferred.par_iter().map(|d| notes::parse(&d.text)).collect();
        let mut inserts: Vec<(usize, Vec<Finding>)> = Vec::new();
        for (d, parsed) in deferred.iter().zip(parsed) {
            let Some(parsed) = parsed else { continue };
            let findings = self.note_findings(&parsed, d.line);
            if !findings.is_empty() {
                inserts.push((d.findings_at, findings));
            }
            let Some(e) = self.vault.entries.get_mut(d.entry) else {
                continue;
            };
            e.kind = parsed.kind;
            e.source_type = Some(parsed.source_type);
            let mut fields = parsed.fields;
            fields.append(&mut e.fields);
            e.fields = fields;
            e.notes = parsed.notes;
            if e.username.is_none() {
                e.username = parsed.username;
            }
            if e.password.is_none() {
                e.password = parsed.password;
            }
        }
        if inserts.is_empty() {
            return;
        }
        let old = std::mem::take(&mut self.vault.findings);
        let mut merged = Vec::with_capacity(old.len() + inserts.iter().map(|(_, f)| f.len()).sum::<usize>());
        let mut old = old.into_iter().enumerate().peekable();
        for (at, findings) in inserts {
            while let Some((_, f)) = old.next_if(|(i, _)| *i < at) {
                merged.push(f);
            }
            merged.extend(findings);
        }
        merged.extend(old.map(|(_, f)| f));
        self.vault.findings = merged;
    }

    fn note_findings(&self, parsed: &notes::ParsedNote, line: u64) -> Vec<Finding> {
        parsed
            .problems
            .iter()
            .map(|problem| match problem {
                notes::NoteProblem::UnknownType => Finding::info(
                    "lastpass.unknown-note-type",
                    format!(
                        "line {line}: NoteType '{}' is not a LastPass type vaultferry knows; its lines are kept as fields of a generic secret",
                        parsed.source_type
                    ),
                )
                .at(at(&self.file, line).field("extra")),
                notes::NoteProblem::UnparsedDate { label } => Finding::warning(
                    "lastpass.note-date-unparsed",
                    format!("line {line}: '{label}' is not a LastPass date (Month,Day,Year or Month,Year); kept as text"),
                )
                .at(at(&self.file, line).field(format!("extra: {label}"))),
            })
            .collect()
    }

    /// Adds the folder of a row once per distinct `key` (its `grouping`).
    fn folder_path(&mut self, grouping: &str) -> (Vec<String>, Option<String>) {
        if let Some(cached) = self.paths.get(grouping) {
            return cached.clone();
        }
        let parsed = folder_path(grouping);
        self.paths.insert(grouping.to_owned(), parsed.clone());
        parsed
    }

    fn ensure_folder(&mut self, key: &str, path: &[String], shared_prefix: Option<String>) {
        if path.is_empty() || self.seen_groupings.contains(key) {
            return;
        }
        self.seen_groupings.insert(key.to_owned());
        if let (Some(prefix), Some(top)) = (shared_prefix, path.first()) {
            let top = std::slice::from_ref(top);
            self.add_folder(top, true);
            if let Some(folder) = self.folder_at.get(top).and_then(|&i| self.vault.folders.get_mut(i)) {
                folder.source_id.get_or_insert(prefix);
            }
        }
        self.add_folder(path, false);
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
        self.parse_deferred_notes();
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
                            "line {line}: {} hold{} HTML entities (&amp; &lt; &gt; &quot; &#39;) as the browser-extension export writes them; kept as they are",
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
            Some(record.iter().map(|f| to_string(f, &mut bad)).collect())
        }
        _ => None,
    }
}

/// `grouping` → folder path. LastPass nests with `\`; `(none)` and empty are
/// the root; a first segment `Shared-X` is the shared folder `X` (returned as
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
        if first.len() > 7 && first.get(..7).is_some_and(|p| p.eq_ignore_ascii_case("Shared-")) {
            let name = first.get(7..).unwrap_or("").trim().to_owned();
            if !name.is_empty() {
                shared = Some(std::mem::replace(first, name));
            }
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
    use crate::sources::ErrorKind;

    const HEADER: &str = "url,username,password,totp,extra,name,grouping,fav\n";

    fn parse_with(text: &str, options: &ParseOptions) -> Result<Vault, SourceError> {
        read(text.as_bytes(), "t.csv", options)
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
                vec!["Engineering".into(), "Databases".into()],
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
        let top = v.folder(&["Eng".into()]).map(|f| (f.shared, f.source_id.clone()));
        assert_eq!(top, Some((true, Some("Shared-Eng".into()))));
        assert_eq!(v.folder(&["Eng".into(), "DB".into()]).map(|f| f.shared), Some(false));
        assert_eq!(
            v.entries.first().map(|e| e.folder.clone()),
            Some(vec!["Eng".into(), "DB".into()])
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
                let _ = read(&text[..], "fuzz.csv", &options);
            }
        }
    }
}
