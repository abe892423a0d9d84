//! Export files in, one normalized [`Vault`] out.
//!
//! Every vendor quirk lives below this module; nothing past it knows which
//! format an entry came from except through `Vault::source`. Each format has
//! its own module; they share [`SourceError`] so every failure carries a
//! [`Position`] (file, line, field) and says what was expected.

pub mod cxf;
pub mod detect;
mod error;
pub mod lastpass;
mod numbering;
pub mod onepassword;

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

pub use detect::detect;
pub use error::{ErrorKind, SourceError};
pub use numbering::Numbering;

use crate::model::{Entry, EntryKind, Finding, Position, SourceKind, Vault};

/// Bounds on archive inputs (1PUX, the 1Password 7 folder). Defaults are
/// generous for real exports; `--max-entries` and `--max-unpacked-bytes`
/// raise them for the rare company that needs more.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Files inside an archive.
    pub max_entries: usize,
    /// Bytes all members of an archive may unpack to, counted as they are
    /// read (declared sizes are never trusted).
    pub max_unpacked_bytes: u64,
    /// Bytes one piece of an archive that is held in memory whole may
    /// unpack to: a 1PUX item (kept as its raw JSON until decoded), or a
    /// small member such as `export.attributes`. Without it a 4 MB zip
    /// bomb of one huge item held up to `max_unpacked_bytes` in memory.
    pub max_item_bytes: u64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_entries: 200_000,
            max_unpacked_bytes: 1 << 30,
            max_item_bytes: 64 << 20,
        }
    }
}

/// How to read an export: checked configuration built by the CLI (or the
/// server) before any file is opened.
#[derive(Clone, Debug, Default)]
pub struct ParseOptions {
    /// `--from`: skip detection.
    pub format: Option<SourceKind>,
    /// `--strict`: a row that would be recovered or skipped is an error.
    pub strict: bool,
    /// `--decode-html-entities`: turn `&amp;` and friends back into text.
    pub decode_html_entities: bool,
    pub limits: Limits,
    /// For a progress bar, set by whoever shows one: how far a reader with
    /// no lines to count (a 1PUX's `export.data`) has unpacked.
    pub progress: Option<std::sync::Arc<ReadProgress>>,
}

/// Bytes unpacked of a total, shared between the reader's thread and the
/// one drawing the bar.
#[derive(Debug, Default)]
pub struct ReadProgress {
    done: std::sync::atomic::AtomicU64,
    total: std::sync::atomic::AtomicU64,
}

impl ReadProgress {
    pub fn set_total(&self, total: u64) {
        self.total.store(total, std::sync::atomic::Ordering::Relaxed);
    }

    pub fn add(&self, n: u64) {
        self.done.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
    }

    /// (done, total); the total a zip declares can lie, so done is capped.
    pub fn get(&self) -> (u64, u64) {
        let total = self.total.load(std::sync::atomic::Ordering::Relaxed);
        (self.done.load(std::sync::atomic::Ordering::Relaxed).min(total), total)
    }
}

/// A reader that tells a [`ReadProgress`] what passes through it.
pub(crate) struct Counted<'p, R> {
    pub(crate) inner: R,
    pub(crate) progress: Option<&'p ReadProgress>,
}

impl<R: std::io::Read> std::io::Read for Counted<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(p) = self.progress {
            p.add(n as u64);
        }
        Ok(n)
    }
}

/// Reads an export file (or a 1Password 7 export folder) into a `Vault`.
pub fn read_export(path: &Path, options: &ParseOptions) -> Result<Vault, SourceError> {
    let mut vault = read(path, options, Sink::Keep)?;
    assign_fingerprints(&mut vault);
    Ok(vault)
}

/// Reads an export and hands each entry to `each` in file order instead of
/// keeping it: the returned vault has the folders, findings and skipped
/// count, no entries. For a summary of an export (`inspect`): a
/// million-entry LastPass CSV is then read in the memory of a few batches
/// instead of a gigabyte. Entries the source gives no id have none here
/// (fingerprints are numbered across the whole file by [`read_export`]).
pub fn read_export_each<'a>(
    path: &Path,
    options: &'a ParseOptions,
    each: &'a mut dyn FnMut(Entry),
) -> Result<Vault, SourceError> {
    read(path, options, Sink::Each(each))
}

/// Reads an export and hands its entries to `each` in file order, a chunk
/// of up to `chunk` at a time. For a plan that keeps a summary of each
/// entry instead of the entry: a million-entry export is then held a
/// chunk at a time. The returned vault has the folders and findings, no
/// entries.
///
/// Entries the source gives no id have none yet: pass every chunk, in
/// order, through one [`Numbering`] to give them the ids [`read_export`]
/// gives. That is left to the caller so it runs off the reading thread,
/// the one a pipelined read waits on.
pub fn read_export_chunks(
    path: &Path,
    options: &ParseOptions,
    chunk: usize,
    each: &mut dyn FnMut(Vec<Entry>),
) -> Result<Vault, SourceError> {
    let chunk = chunk.max(1);
    let mut buffer: Vec<Entry> = Vec::with_capacity(chunk);
    let mut give = |entry: Entry| {
        buffer.push(entry);
        if buffer.len() >= chunk {
            each(std::mem::replace(&mut buffer, Vec::with_capacity(chunk)));
        }
    };
    let vault = read(path, options, Sink::Each(&mut give))?;
    if !buffer.is_empty() {
        each(buffer);
    }
    Ok(vault)
}

/// How many lines the export has, for a progress bar (an entry knows the
/// line it starts on, and the reader's own byte count runs far ahead of
/// the entries it hands out): `None` for a folder or a zip (1PUX), which
/// have no lines to count.
pub fn lines_in(path: &Path) -> Option<u64> {
    use std::io::Read;
    let mut file = File::open(path).ok()?;
    if !file.metadata().ok()?.is_file() {
        return None;
    }
    let mut buf = vec![0u8; 1 << 16];
    let (mut lines, mut first, mut last) = (0u64, None, 0u8);
    loop {
        let n = file.read(&mut buf).ok()?;
        if n == 0 {
            break;
        }
        first.get_or_insert(buf[..n.min(2)].to_vec());
        lines += buf[..n].iter().filter(|&&b| b == b'\n').count() as u64;
        last = buf[n - 1];
    }
    if first.as_deref().is_some_and(|f| f.starts_with(b"PK")) {
        return None;
    }
    // A last line without its newline is a line too.
    Some(lines + u64::from(last != b'\n' && first.is_some()))
}

/// About how many entries an export holds, from its size: a LastPass row
/// is rarely under 100 bytes. For making room ahead: a guess too small
/// only means growing as before; a guess too large is room never used
/// (asked for with `try_reserve`, and capped). The duplicate-numbering
/// table zeroes its room, so that much of it is memory, not only address
/// space: 32 MB for a 1M-entry export, which a million inserts would have
/// touched anyway.
pub fn entries_expected(path: &Path) -> usize {
    const MOST: usize = 2_000_000;
    let bytes = pux_items_bytes(path).unwrap_or_else(|| std::fs::metadata(path).map_or(0, |m| m.len()));
    usize::try_from(bytes / 100).map_or(MOST, |n| n.min(MOST))
}

/// A 1PUX's size says little about its items: it is compressed, and its
/// attachments may be gigabytes. Its `export.data` as the zip directory
/// declares it (a guess only: nothing is read on its word), over 4, since
/// a 1PUX item is rarely under 400 bytes of JSON.
fn pux_items_bytes(path: &Path) -> Option<u64> {
    let file = File::open(path).ok()?;
    let mut zip = zip::ZipArchive::new(file).ok()?;
    let data = zip.by_name("export.data").ok()?;
    Some(data.size() / 4)
}

/// What a summary of an export says about one entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EntrySummary {
    pub kind: EntryKind,
    pub archived: bool,
    pub attachments: usize,
}

impl From<&Entry> for EntrySummary {
    fn from(e: &Entry) -> EntrySummary {
        EntrySummary {
            kind: e.kind,
            archived: e.archived,
            attachments: e.attachments.len(),
        }
    }
}

/// [`read_export_each`] for a caller that only counts entries (`inspect`'s
/// summary): each entry is handed over as its [`EntrySummary`], and a
/// LastPass CSV row is summarized without building its entry at all, which
/// made up most of the time of reading one. The vault (folders, findings,
/// skipped count) is the same as [`read_export_each`]'s.
pub fn read_export_summary<'a>(
    path: &Path,
    options: &'a ParseOptions,
    each: &'a mut dyn FnMut(EntrySummary),
) -> Result<Vault, SourceError> {
    read(path, options, Sink::Summary(each))
}

/// Whose export this is, when the file says so before its entries: a
/// 1PUX or a CXF document names its account's email (the reader sets
/// [`Vault::owner`] from it too). LastPass CSV, 1PIF and 1Password CSV
/// name nobody.
pub fn export_owner(path: &Path, options: &ParseOptions) -> Option<String> {
    let kind = match options.format {
        Some(kind) => kind,
        None => detect::detect_path(path).ok()?,
    };
    let file = path.display().to_string();
    match kind {
        SourceKind::Onepassword1pux => onepassword::pux_owner(path, &file, options),
        SourceKind::Cxf => cxf::owner(path, &file, options),
        _ => None,
    }
}

/// Where the entries of an export go.
pub(crate) enum Sink<'a> {
    /// Into `Vault::entries`.
    Keep,
    /// To a callback, in file order.
    Each(&'a mut dyn FnMut(Entry)),
    /// Summarized, to a callback, in file order.
    Summary(&'a mut dyn FnMut(EntrySummary)),
}

impl Sink<'_> {
    /// Hands over one entry (`Keep` is the reader's own business).
    pub(crate) fn give(&mut self, entry: Entry) -> Option<Entry> {
        match self {
            Sink::Keep => Some(entry),
            Sink::Each(each) => {
                each(entry);
                None
            }
            Sink::Summary(each) => {
                each(EntrySummary::from(&entry));
                None
            }
        }
    }
}

fn read<'a>(path: &Path, options: &'a ParseOptions, mut sink: Sink<'a>) -> Result<Vault, SourceError> {
    let display = path.display().to_string();
    let kind = match options.format {
        Some(kind) => kind,
        None => detect::detect_path(path)?,
    };
    let mut vault = match kind {
        SourceKind::LastpassCsv => {
            let file = open(path)?;
            let size = file.metadata().map(|m| m.len()).unwrap_or(0);
            let sink = std::mem::replace(&mut sink, Sink::Keep);
            lastpass::read_csv_sized(BufReader::with_capacity(1 << 16, file), &display, options, size, sink)?
        }
        SourceKind::OnepasswordCsv => {
            let file = open(path)?;
            onepassword::read_csv(BufReader::with_capacity(1 << 16, file), &display, options)?
        }
        SourceKind::Onepassword1pux => {
            let sink = std::mem::replace(&mut sink, Sink::Keep);
            onepassword::read_1pux_into(path, &display, options, sink)?
        }
        SourceKind::Onepassword1pif => {
            let sink = std::mem::replace(&mut sink, Sink::Keep);
            onepassword::read_1pif_into(path, &display, options, sink)?
        }
        SourceKind::Cxf => {
            let sink = std::mem::replace(&mut sink, Sink::Keep);
            cxf::read_into(path, &display, options, sink)?
        }
    };
    // The other formats are read whole.
    if !matches!(sink, Sink::Keep) {
        for entry in std::mem::take(&mut vault.entries) {
            sink.give(entry);
        }
    }
    Ok(vault)
}

/// Reads a sharing file and attaches its shares to the vault's folders.
/// Which sharing shapes are accepted depends on the vault's vendor.
pub fn read_sharing(vault: &mut Vault, path: &Path, options: &ParseOptions) -> Result<(), SourceError> {
    let display = path.display().to_string();
    if vault.source == SourceKind::Cxf {
        return Err(SourceError::malformed(
            Position::file(&display),
            format!(
                "{} is a CXF document, which carries its sharing itself (the 'shared' extension); expected no --sharing file",
                vault.file
            ),
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| SourceError::io(&display, e))?;
    if let Some(found) = other_vendors_sharing(vault.source, &bytes) {
        let (export, expected) = match vault.source {
            SourceKind::LastpassCsv => (
                "a LastPass export",
                "a LastPass shared-folder file (`vaultferry explain lastpass-sharing`)",
            ),
            _ => (
                "a 1Password export",
                "a 1Password vault-permissions bundle (`vaultferry explain 1password-sharing`)",
            ),
        };
        return Err(SourceError::malformed(
            Position::file(&display),
            format!("this is {found}, but {} is {export}; expected {expected}", vault.file),
        ));
    }
    match vault.source {
        SourceKind::LastpassCsv => lastpass::read_sharing(vault, &bytes, &display, options)?,
        _ => onepassword::read_sharing(vault, &bytes, &display, options)?,
    }
    vault.sharing_file = Some(display);
    Ok(())
}

/// `--sharing` given the other vendor's file (both are JSON, and each
/// reader would otherwise read the other's document as an odd but valid one
/// of its own: every LastPass folder id became an unknown 1Password vault).
/// Decided by the one key each format always has.
fn other_vendors_sharing(source: SourceKind, bytes: &[u8]) -> Option<&'static str> {
    let has = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
    match source {
        SourceKind::LastpassCsv => (has(b"\"permissions\"") && !has(b"sharedfoldername"))
            .then_some("a 1Password vault-permissions bundle (users with \"permissions\")"),
        _ => has(b"sharedfoldername").then_some("a LastPass shared-folder file (it names a \"sharedfoldername\")"),
    }
}

pub(crate) fn open(path: &Path) -> Result<File, SourceError> {
    File::open(path).map_err(|e| SourceError::io(&path.display().to_string(), e))
}

/// Gives every entry without a source id a fingerprint; entries that share
/// one get `#2`, `#3`… in file order, so two identical rows stay two items
/// and a re-run of the same file gives the same keys.
///
/// The SHA-256 of each entry is independent of the others and is most of the
/// cost on a million-row export, so it runs in parallel; only the numbering
/// of duplicates, which depends on file order, is sequential. The ids are
/// [`Entry::fingerprint`]'s, computed from the digest without building a
/// string per entry twice.
pub fn assign_fingerprints(vault: &mut Vault) {
    use rayon::prelude::*;
    let digests: Vec<Option<Digest>> = vault
        .entries
        .par_iter()
        .map(|e| e.source_id.is_empty().then(|| fingerprint_digest(e)))
        .collect();
    let numbers = duplicate_numbers(&digests);
    vault
        .entries
        .par_iter_mut()
        .zip(digests.par_iter().zip(numbers.par_iter()))
        .for_each(|(entry, (digest, &n))| {
            if let Some(digest) = digest {
                entry.source_id = fingerprint_text(digest, n);
            }
        });
}

/// The part of an entry's SHA-256 that its fingerprint keeps.
type Digest = [u8; 12];

/// What [`Entry::fingerprint`] hashes, hashed the same way (the folder's
/// segments fed one by one instead of joined first); the unit test
/// `fingerprints_match_entry_fingerprint` keeps the two equal.
fn fingerprint_digest(e: &Entry) -> Digest {
    use sha2::{Digest as _, Sha256};
    let mut h = Sha256::new();
    h.update(e.kind.name().as_bytes());
    h.update([0u8]);
    for (k, segment) in e.folder.iter().enumerate() {
        if k > 0 {
            h.update("\u{1f}".as_bytes());
        }
        h.update(segment.as_bytes());
    }
    h.update([0u8]);
    for part in [
        e.title.as_str(),
        e.username.as_deref().unwrap_or(""),
        e.urls.first().map(String::as_str).unwrap_or(""),
    ] {
        h.update(part.as_bytes());
        h.update([0u8]);
    }
    let mut out = Digest::default();
    out.copy_from_slice(h.finalize().get(..12).unwrap_or_default());
    out
}

/// `fp:` + the digest in lower-case hex, and `#n` for the n-th duplicate.
fn fingerprint_text(digest: &Digest, n: u32) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(40);
    text.push_str("fp:");
    for b in digest {
        text.push(char::from(HEX[usize::from(b >> 4)]));
        text.push(char::from(HEX[usize::from(b & 15)]));
    }
    if n != 1 {
        text.push('#');
        text.push_str(&n.to_string());
    }
    text
}

/// For each digest, its occurrence number in file order (1 for the first).
/// Digests are compared as 96-bit numbers: sorting (number, position) pairs
/// keeps a million entries in a few cache-friendly passes, where a hash map
/// would chase a pointer per lookup.
fn duplicate_numbers(digests: &[Option<Digest>]) -> Vec<u32> {
    use rayon::prelude::*;
    let mut keys: Vec<(u128, usize)> = digests
        .par_iter()
        .enumerate()
        .filter_map(|(j, d)| {
            let mut wide = [0u8; 16];
            wide.get_mut(..12)?.copy_from_slice(d.as_ref()?);
            Some((u128::from_be_bytes(wide), j))
        })
        .collect();
    keys.par_sort_unstable();
    let mut numbers = vec![1u32; digests.len()];
    for run in keys.chunk_by(|a, b| a.0 == b.0).filter(|r| r.len() > 1) {
        for (n, (_, j)) in (1u32..).zip(run) {
            if let Some(slot) = numbers.get_mut(*j) {
                *slot = n;
            }
        }
    }
    numbers
}

/// Turns a finding into an error under `--strict`, or records it.
///
/// Parsers call this for every recovered or skipped row so the rule
/// "`--strict` makes any of them an error" holds in one place.
pub(crate) fn recover_or_fail(vault: &mut Vault, finding: Finding, options: &ParseOptions) -> Result<(), SourceError> {
    if options.strict {
        return Err(SourceError::strict(finding));
    }
    vault.findings.push(finding);
    Ok(())
}

/// Shorthand for a position in a file.
pub(crate) fn at(file: &str, line: u64) -> Position {
    Position::file(file).line(line)
}

#[cfg(test)]
mod fingerprint_tests {
    use super::*;
    use crate::model::EntryKind;

    #[test]
    fn identical_entries_are_numbered_in_file_order_and_ids_are_kept() {
        let mut vault = Vault::new(SourceKind::LastpassCsv, "t.csv");
        let same = Entry::new(EntryKind::Login, "mail");
        let mut other = Entry::new(EntryKind::Login, "bank");
        other.source_id = "42".into();
        vault.entries = vec![
            same.clone(),
            other,
            same.clone(),
            Entry::new(EntryKind::Login, "wiki"),
            same,
        ];
        assign_fingerprints(&mut vault);
        let ids: Vec<&str> = vault.entries.iter().map(|e| e.source_id.as_str()).collect();
        let fp = Entry::new(EntryKind::Login, "mail").fingerprint();
        assert_eq!(ids[0], fp);
        assert_eq!(ids[1], "42");
        assert_eq!(ids[2], format!("{fp}#2"));
        assert_eq!(ids[3], Entry::new(EntryKind::Login, "wiki").fingerprint());
        assert_eq!(ids[4], format!("{fp}#3"));
    }

    /// A LastPass export has no ids: read a chunk at a time and numbered
    /// by one `Numbering`, wherever the chunk boundaries fall between
    /// identical rows, every entry gets the id the whole read gives it
    /// (its import key on the next run depends on it).
    #[test]
    fn chunks_numbered_in_order_get_the_ids_of_the_whole_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("export.csv");
        let row = |name: &str| format!("https://{name}.example,ann,Pw-{name},,,{name},Ops,0\n");
        let mut text = String::from("url,username,password,totp,extra,name,grouping,fav\n");
        for name in ["mail", "bank", "mail", "wiki", "mail", "bank", "mail"] {
            text.push_str(&row(name));
        }
        std::fs::write(&path, text).unwrap();
        let options = ParseOptions::default();
        let whole: Vec<String> = read_export(&path, &options)
            .unwrap()
            .entries
            .into_iter()
            .map(|e| e.source_id)
            .collect();
        assert_eq!(whole.iter().filter(|id| id.ends_with("#3")).count(), 1, "{whole:?}");
        for chunk in 1..=4 {
            let mut numbering = Numbering::for_export(&path);
            let mut ids = Vec::new();
            read_export_chunks(&path, &options, chunk, &mut |mut entries| {
                numbering.assign(&mut entries);
                ids.extend(entries.into_iter().map(|e| e.source_id));
            })
            .unwrap();
            assert_eq!(ids, whole, "chunks of {chunk}");
        }
    }

    #[test]
    fn fingerprints_match_entry_fingerprint() {
        let mut e = Entry::new(EntryKind::SecureNote, "Bank — Zürich");
        let mut entries = vec![e.clone()];
        e.folder = vec!["Shared".into(), "Ops\u{1f}x".into(), "🔑".into()].into();
        entries.push(e.clone());
        e.username = Some("ann@example.com".into());
        e.urls = vec!["https://a.example".into(), "https://b.example".into()];
        entries.push(e.clone());
        e.folder = vec!["Solo".into()].into();
        e.kind = EntryKind::Login;
        entries.push(e);
        for e in &entries {
            assert_eq!(fingerprint_text(&fingerprint_digest(e), 1), e.fingerprint());
        }
    }
}

#[cfg(test)]
mod lines_tests {
    use super::lines_in;

    #[test]
    fn lines_are_counted_with_or_without_a_last_newline_and_a_zip_has_none() {
        let dir = tempfile::tempdir().unwrap();
        let file = |name: &str, bytes: &[u8]| {
            let p = dir.path().join(name);
            std::fs::write(&p, bytes).unwrap();
            p
        };
        assert_eq!(lines_in(&file("a.csv", b"h\nr1\nr2\n")), Some(3));
        assert_eq!(lines_in(&file("b.csv", b"h\nr1\nr2")), Some(3));
        assert_eq!(lines_in(&file("e.csv", b"")), Some(0));
        assert_eq!(lines_in(&file("x.1pux", b"PK\x03\x04\n\n")), None);
        assert_eq!(lines_in(dir.path()), None);
    }
}
