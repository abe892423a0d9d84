//! The 1PUX zip, opened as hostile until proven otherwise: member names are
//! checked before anything is read, members are counted, and every byte
//! unpacked is counted as it is read, because the sizes a zip header
//! declares can lie.

use std::cell::Cell;
use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};

use zeroize::Zeroizing;

use super::Files;
use crate::model::{measure, ContentOrigin, ContentSource, Position};
use crate::sources::{ErrorKind, Limits, ParseOptions, SourceError};

pub(super) type Zip = zip::ZipArchive<File>;

/// Opens the archive and refuses it whole if it holds too many members or
/// a member whose name leaves it.
pub(super) fn open(handle: File, file: &str, options: &ParseOptions) -> Result<Zip, SourceError> {
    let archive = zip::ZipArchive::new(handle).map_err(|e| {
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
        if !super::is_safe_member(name) {
            return Err(SourceError::new(
                ErrorKind::UnsafePath,
                Position::file(file).field(name),
                format!("archive member '{name}' points outside the archive (absolute path or '..'); refusing the whole archive"),
            ));
        }
    }
    Ok(archive)
}

/// Bytes unpacked so far against `--max-unpacked-bytes`, shared by every
/// member read from one archive.
pub(super) struct Budget {
    used: Cell<u64>,
    limit: u64,
    /// The member that went over, once one has.
    exceeded: Cell<bool>,
    /// Bytes since the last [`Budget::item_done`]: what the reader may be
    /// holding in memory as one piece.
    item_used: Cell<u64>,
    item_limit: u64,
    item_exceeded: Cell<bool>,
}

impl Budget {
    pub(super) fn new(limits: Limits) -> Budget {
        Budget {
            used: Cell::new(0),
            limit: limits.max_unpacked_bytes,
            exceeded: Cell::new(false),
            item_used: Cell::new(0),
            item_limit: limits.max_item_bytes,
            item_exceeded: Cell::new(false),
        }
    }

    /// One piece the reader held (a 1PUX item) is done: the next starts
    /// from nothing.
    pub(super) fn item_done(&self) {
        self.item_used.set(0);
    }

    pub(super) fn exceeded(&self) -> bool {
        self.exceeded.get() || self.item_exceeded.get()
    }

    pub(super) fn error(&self, file: &str, member: &str) -> SourceError {
        if self.item_exceeded.get() {
            return SourceError::new(
                ErrorKind::Limit,
                Position::file(file).field(member),
                format!(
                    "one item of '{member}' unpacks to more than {} bytes, more than is held in memory at once; stopped there (raise --max-item-bytes if this export is genuine)",
                    self.item_limit
                ),
            );
        }
        SourceError::new(
            ErrorKind::Limit,
            Position::file(file).field(member),
            format!(
                "the archive unpacks to more than {} bytes (stopped at '{member}'); raise --max-unpacked-bytes if this export is genuine",
                self.limit
            ),
        )
    }
}

/// A member's bytes as they unpack, counted against the budget: reading
/// past it is an I/O error (and [`Budget::exceeded`] says why), so a zip
/// bomb stops at the limit instead of filling memory or disk.
pub(super) struct Bounded<'b, R> {
    pub(super) inner: R,
    pub(super) budget: &'b Budget,
}

impl<R: Read> Read for Bounded<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let used = self.budget.used.get().saturating_add(n as u64);
        self.budget.used.set(used);
        if used > self.budget.limit {
            self.budget.exceeded.set(true);
            return Err(io::Error::other("the archive's unpacked-size limit was reached"));
        }
        let item = self.budget.item_used.get().saturating_add(n as u64);
        self.budget.item_used.set(item);
        if item > self.budget.item_limit {
            self.budget.item_exceeded.set(true);
            return Err(io::Error::other("the archive's item-size limit was reached"));
        }
        Ok(n)
    }
}

fn member_error(file: &str, name: &str, e: impl std::fmt::Display) -> SourceError {
    SourceError::malformed(
        Position::file(file).field(name),
        format!("archive member '{name}' cannot be unpacked ({e})"),
    )
}

/// Reads a small member whole (`export.attributes`), or `None` if absent.
pub(super) fn read_small(
    archive: &mut Zip,
    name: &str,
    budget: &Budget,
    file: &str,
) -> Result<Option<Zeroizing<Vec<u8>>>, SourceError> {
    let Some(index) = archive.index_for_name(name) else {
        return Ok(None);
    };
    let member = archive.by_index(index).map_err(|e| member_error(file, name, e))?;
    let mut buf = Zeroizing::new(Vec::new());
    Bounded { inner: member, budget }.read_to_end(&mut buf).map_err(|e| {
        if budget.exceeded() {
            budget.error(file, name)
        } else {
            member_error(file, name, e)
        }
    })?;
    Ok(Some(buf))
}

/// An attachment in the archive: measured once as it was indexed, copied
/// again from the archive when it is written.
pub(super) struct StoredFile {
    pub size: u64,
    pub digest: [u8; 32],
    pub origin: ContentOrigin,
}

/// One member of an archive, read again through a shared handle (a new
/// handle per attachment would parse the zip directory each time).
struct ZipMember {
    zip: Arc<Mutex<Zip>>,
    index: usize,
    name: String,
    file: Arc<str>,
}

impl ContentSource for ZipMember {
    fn write_to(&self, out: &mut dyn Write) -> io::Result<u64> {
        let mut zip = self
            .zip
            .lock()
            .map_err(|_| io::Error::other("the archive handle was poisoned"))?;
        let mut member = zip.by_index(self.index).map_err(io::Error::other)?;
        io::copy(&mut member, out)
    }
    fn describe(&self) -> String {
        format!("'{}' in {}", self.name, self.file)
    }
}

/// The attachments under `files/` (`<documentId>__<file name>`), keyed by
/// document id: each is read once through SHA-256, never kept, and counts
/// against the unpacked-size budget, which thereby bounds what the store
/// will hold rather than the memory.
pub(super) fn files(archive: &mut Zip, path: &Path, budget: &Budget, file: &str) -> Result<Files, SourceError> {
    let mut files: Files = HashMap::new();
    let mut shared: Option<Arc<Mutex<Zip>>> = None;
    let display: Arc<str> = Arc::from(file);
    for index in 0..archive.len() {
        let mut member = archive.by_index(index).map_err(|e| {
            SourceError::malformed(
                Position::file(file),
                format!("archive member {} cannot be read ({e})", index + 1),
            )
        })?;
        let name = member.name().to_owned();
        if member.is_dir() || !name.starts_with("files/") {
            continue;
        }
        let (size, digest) = measure(&mut Bounded {
            inner: &mut member,
            budget,
        })
        .map_err(|e| {
            if budget.exceeded() {
                budget.error(file, &name)
            } else {
                member_error(file, &name, e)
            }
        })?;
        let zip = match &shared {
            Some(zip) => Arc::clone(zip),
            None => {
                let handle = File::open(path).map_err(|e| SourceError::io(file, e))?;
                let zip = Arc::new(Mutex::new(
                    zip::ZipArchive::new(handle).map_err(|e| member_error(file, &name, e))?,
                ));
                shared = Some(Arc::clone(&zip));
                zip
            }
        };
        let origin = ContentOrigin::new(ZipMember {
            zip,
            index,
            name: name.clone(),
            file: Arc::clone(&display),
        });
        let base = name.trim_start_matches("files/");
        let (doc_id, file_name) = match base.split_once("__") {
            Some((id, rest)) => (id.to_owned(), rest.to_owned()),
            None => (base.to_owned(), base.to_owned()),
        };
        files.insert(doc_id, (file_name, StoredFile { size, digest, origin }));
    }
    Ok(files)
}
