//! The CSV records of the export, split on their own thread and handed to
//! the builder in batches.
//!
//! A batch keeps the field bytes of a few thousand records in one zeroized
//! buffer: one allocation per batch instead of one `String` per field, and
//! the rows of a batch can be turned into entries in parallel, borrowing
//! their text from it. Only the rare record of the wrong width is copied out
//! as a [`Rec`] of owned strings, with its raw bytes for re-reading.

use std::collections::VecDeque;
use std::io::{self, Read};
use std::ops::Range;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

use zeroize::Zeroizing;

use crate::sources::{at, SourceError};

/// Bytes pulled from the input at a time.
const CHUNK: usize = 1 << 16;
/// Records per batch.
const BATCH: usize = 4096;
/// Field bytes a batch is allocated for (a record of the 1M-row benchmark
/// export averages ~150 bytes). A larger record gets a batch of its own size.
const BATCH_BYTES: usize = 1 << 20;
/// Batches in flight between the reading thread and the builder.
const IN_FLIGHT: usize = 4;

/// The input as the CSV reader sees it, keeping the chunks it was read in
/// from the start of the current record on, so the raw text of a record of
/// the wrong width can be cut out again. Each byte is copied once (from the
/// chunk to the CSV reader), and no buffer is regrown: chunks are dropped
/// whole, zeroed, as the reader moves past them (they hold passwords).
struct Tap<R> {
    inner: R,
    /// Chunks from the one holding the current record's start; the last is
    /// the one being handed to the CSV reader.
    chunks: VecDeque<Chunk>,
    /// Bytes of the last chunk already handed out.
    pos: usize,
    /// Byte offset in the input of the next chunk.
    next_base: u64,
    /// Released chunks' buffers, reused for the next reads (a few chunks
    /// are held at a time, so this stays small, and no chunk is freed and
    /// zeroed, or allocated, per read).
    spare: Vec<Zeroizing<Vec<u8>>>,
}

struct Chunk {
    /// Byte offset in the input of `data[0]`.
    base: u64,
    data: Zeroizing<Vec<u8>>,
}

impl<R: Read> Tap<R> {
    fn new(inner: R) -> Tap<R> {
        Tap {
            inner,
            chunks: VecDeque::new(),
            pos: 0,
            next_base: 0,
            spare: Vec::new(),
        }
    }

    /// The input's bytes `from..to`, as far as they are still held.
    fn slice(&self, from: u64, to: u64) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(Vec::with_capacity(
            usize::try_from(to.saturating_sub(from)).unwrap_or(0),
        ));
        for chunk in &self.chunks {
            let len = chunk.data.len() as u64;
            let a = from.clamp(chunk.base, chunk.base + len) - chunk.base;
            let b = to.clamp(chunk.base, chunk.base + len) - chunk.base;
            let (Ok(a), Ok(b)) = (usize::try_from(a), usize::try_from(b)) else {
                continue;
            };
            if let Some(part) = chunk.data.get(a..b) {
                out.extend_from_slice(part);
            }
        }
        out
    }

    /// Drops the chunks that end before `upto` (except the one being handed out).
    fn release(&mut self, upto: u64) {
        while self.chunks.len() > 1 {
            match self.chunks.front() {
                Some(c) if c.base + c.data.len() as u64 <= upto => {
                    if let Some(c) = self.chunks.pop_front() {
                        // Overwritten when reused; zeroed by `Zeroizing` when dropped.
                        self.spare.push(c.data);
                    }
                }
                _ => break,
            }
        }
    }
}

impl<R: Read> Read for Tap<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if let Some(last) = self.chunks.back() {
            let pending = last.data.get(self.pos..).unwrap_or_default();
            if !pending.is_empty() {
                let n = pending.len().min(out.len());
                if let (Some(dst), Some(src)) = (out.get_mut(..n), pending.get(..n)) {
                    dst.copy_from_slice(src);
                }
                self.pos += n;
                return Ok(n);
            }
        }
        let mut data = self
            .spare
            .pop()
            .unwrap_or_else(|| Zeroizing::new(Vec::with_capacity(CHUNK)));
        // Only a new buffer, or one a short read left short, is filled.
        data.resize(CHUNK, 0);
        let n = self.inner.read(&mut data)?;
        data.truncate(n);
        if n == 0 {
            self.spare.push(data);
            return Ok(0);
        }
        let m = n.min(out.len());
        if let (Some(dst), Some(src)) = (out.get_mut(..m), data.get(..m)) {
            dst.copy_from_slice(src);
        }
        self.chunks.push_back(Chunk {
            base: self.next_base,
            data,
        });
        self.next_base += n as u64;
        self.pos = m;
        Ok(m)
    }
}

/// Where a record is in the file and what it looked like there.
pub(super) struct RecInfo {
    /// Its fields' indexes in `Batch::ends`.
    fields: Range<usize>,
    /// First line of the record (1-based).
    pub line: u64,
    /// Last line of the record.
    pub end_line: u64,
    /// The record's bytes as written, kept only when its field count is wrong.
    raw: Option<Zeroizing<Vec<u8>>>,
}

impl RecInfo {
    pub fn width(&self) -> usize {
        self.fields.len()
    }
}

/// Records in file order, their fields' bytes back to back in one buffer.
pub(super) struct Batch {
    /// Zeroed when dropped, and never regrown (a regrown `Vec` frees its
    /// old buffer unzeroed): it holds every password of its records.
    bytes: Zeroizing<Vec<u8>>,
    /// End of each field in `bytes`; a field starts where the one before ends.
    ends: Vec<usize>,
    pub recs: Vec<RecInfo>,
}

impl Batch {
    fn with_capacity(bytes: usize) -> Batch {
        Batch {
            bytes: Zeroizing::new(Vec::with_capacity(bytes)),
            ends: Vec::new(),
            recs: Vec::new(),
        }
    }

    /// An emptied batch from the builder if one is back and big enough,
    /// else a new one: reusing them saves allocating (and faulting in) and
    /// zeroing a megabyte per batch. A reused buffer is overwritten, and
    /// zeroed when finally dropped.
    fn reuse(back: &Receiver<Batch>, bytes: usize) -> Batch {
        match back.try_recv() {
            Ok(mut batch) if batch.bytes.capacity() >= bytes => {
                batch.bytes.clear();
                batch.ends.clear();
                batch.recs.clear();
                batch
            }
            _ => Batch::with_capacity(bytes.max(BATCH_BYTES)),
        }
    }

    fn fits(&self, bytes: usize) -> bool {
        self.bytes.capacity() - self.bytes.len() >= bytes
    }

    fn push(&mut self, record: &csv::ByteRecord, line: u64, end_line: u64, raw: Option<Zeroizing<Vec<u8>>>) {
        let first = self.ends.len();
        // The record holds its fields back to back already: one copy.
        let mut end = self.bytes.len();
        self.bytes.extend_from_slice(record.as_slice());
        for field in record {
            end += field.len();
            self.ends.push(end);
        }
        self.recs.push(RecInfo {
            fields: first..self.ends.len(),
            line,
            end_line,
            raw,
        });
    }

    /// The fields of record `i`, as bytes.
    pub fn fields(&self, i: usize) -> impl Iterator<Item = &[u8]> {
        let range = self.recs.get(i).map(|r| r.fields.clone()).unwrap_or_default();
        range.map(move |k| {
            let start = k.checked_sub(1).and_then(|j| self.ends.get(j)).copied().unwrap_or(0);
            let end = self.ends.get(k).copied().unwrap_or(start);
            self.bytes.get(start..end).unwrap_or_default()
        })
    }
}

/// Whether `bytes` holds `needle`. For the short texts of a record, where
/// `contains` goes byte by byte or word by word: 32 bytes at a time without
/// an early exit inside a block, which the compiler turns into vector
/// compares.
pub(super) fn has_byte(bytes: &[u8], needle: u8) -> bool {
    let mut blocks = bytes.chunks_exact(32);
    let found = blocks
        .by_ref()
        .any(|block| block.iter().fold(false, |seen, &b| seen | (b == needle)));
    found || blocks.remainder().contains(&needle)
}

/// A record's fields as text, borrowed from its batch.
pub(super) struct Text<'a> {
    /// The record's fields back to back.
    text: &'a str,
    /// Where `text` starts in the batch's bytes.
    base: usize,
    /// End of each field in the batch's bytes.
    ends: &'a [usize],
}

impl<'a> Text<'a> {
    /// Every field, back to back.
    pub fn all(&self) -> &'a str {
        self.text
    }

    /// Field `k`, or "" for a column the record does not have.
    pub fn field(&self, k: Option<usize>) -> &'a str {
        let Some(k) = k else { return "" };
        let start = k
            .checked_sub(1)
            .and_then(|j| self.ends.get(j))
            .copied()
            .unwrap_or(self.base);
        let end = self.ends.get(k).copied().unwrap_or(start);
        self.text
            .get(start.saturating_sub(self.base)..end.saturating_sub(self.base))
            .unwrap_or("")
    }
}

impl Batch {
    /// Record `i` as text, `None` when one of its fields is not UTF-8. The
    /// record is validated once, as a whole: a field is UTF-8 exactly when
    /// the whole is and the field starts on a character boundary of it.
    pub fn text(&self, i: usize) -> Option<Text<'_>> {
        let fields = self.recs.get(i)?.fields.clone();
        let base = fields
            .start
            .checked_sub(1)
            .and_then(|j| self.ends.get(j))
            .copied()
            .unwrap_or(0);
        let ends = self.ends.get(fields)?;
        let end = ends.last().copied().unwrap_or(base);
        let text = std::str::from_utf8(self.bytes.get(base..end)?).ok()?;
        if !ends.iter().all(|&e| text.is_char_boundary(e.saturating_sub(base))) {
            return None;
        }
        Some(Text { text, base, ends })
    }
}

/// One record copied out of its batch, for the rows that need owned fields
/// (the header, broken rows and their continuation lines).
pub(super) struct Rec {
    pub fields: Vec<String>,
    /// First line of the record (1-based).
    pub line: u64,
    /// Last line of the record.
    pub end_line: u64,
    /// The record's bytes as written, kept only when its field count is wrong.
    pub raw: Option<Zeroizing<Vec<u8>>>,
    pub bad_utf8: bool,
}

pub(super) fn to_string(bytes: &[u8], bad: &mut bool) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_owned(),
        Err(_) => {
            *bad = true;
            String::from_utf8_lossy(bytes).into_owned()
        }
    }
}

type Message = Result<Batch, SourceError>;

/// Splits the input into records, in batches, and sends them until the
/// input ends, the reader fails, or the receiver stops listening. The header
/// goes alone in the first batch; every later record of another width keeps
/// its raw bytes.
fn produce<R: Read>(reader: R, file: &str, tx: SyncSender<Message>, back: Receiver<Batch>) {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .buffer_capacity(CHUNK)
        .from_reader(Tap::new(reader));
    let mut record = csv::ByteRecord::new();
    let mut width = None;
    let mut batch = Batch::with_capacity(0);
    loop {
        let more = match rdr.read_byte_record(&mut record) {
            Ok(more) => more,
            Err(e) => {
                let line = e.position().map(csv::Position::line).unwrap_or(0);
                let err = match e.into_kind() {
                    csv::ErrorKind::Io(err) => SourceError::io(file, err),
                    other => SourceError::malformed(at(file, line), format!("the CSV reader failed: {other:?}")),
                };
                if !batch.recs.is_empty() && tx.send(Ok(batch)).is_err() {
                    return;
                }
                let _ = tx.send(Err(err));
                return;
            }
        };
        if !more {
            if !batch.recs.is_empty() {
                let _ = tx.send(Ok(batch));
            }
            return;
        }
        let (line, start) = record.position().map(|p| (p.line(), p.byte())).unwrap_or((0, 0));
        let end = rdr.position().byte();
        let bytes = record.as_slice();
        // Most records are one line: a search rules that out faster than counting.
        let mut newlines = if has_byte(bytes, b'\n') {
            bytes.iter().filter(|&&b| b == b'\n').count() as u64
        } else {
            0
        };
        // A quote that never closes swallows the file's last line break too.
        if bytes.ends_with(b"\n") {
            newlines = newlines.saturating_sub(1);
        }
        let raw = match width {
            Some(w) if w != record.len() => Some(rdr.get_ref().slice(start, end)),
            _ => None,
        };
        rdr.get_mut().release(end);
        let size = bytes.len();
        if !batch.fits(size) || batch.recs.len() >= BATCH {
            let full = std::mem::replace(&mut batch, Batch::reuse(&back, size));
            if !full.recs.is_empty() && tx.send(Ok(full)).is_err() {
                return;
            }
        }
        batch.push(&record, line, line + newlines, raw);
        if width.is_none() {
            width = Some(record.len());
            // The header alone: the builder needs it before any row.
            let header = std::mem::replace(&mut batch, Batch::reuse(&back, 0));
            if tx.send(Ok(header)).is_err() {
                return;
            }
        }
    }
}

/// The records `produce` sends, in file order: whole runs of well-formed
/// rows for the fast path, single records with one of look-ahead for the
/// broken ones.
pub(super) struct Feed {
    rx: Receiver<Message>,
    /// Batches taken, back to the reader for reuse.
    back: SyncSender<Batch>,
    batch: Batch,
    /// The next record of `batch`.
    at: usize,
}

impl Feed {
    /// Starts reading `reader` on a thread of `scope`.
    pub fn spawn<'scope, R: Read + Send + 'scope>(
        scope: &'scope std::thread::Scope<'scope, '_>,
        reader: R,
        file: &str,
    ) -> Feed {
        let (tx, rx) = sync_channel(IN_FLIGHT);
        let (back, back_rx) = sync_channel(IN_FLIGHT);
        let name = file.to_owned();
        scope.spawn(move || produce(reader, &name, tx, back_rx));
        Feed {
            rx,
            back,
            batch: Batch::with_capacity(0),
            at: 0,
        }
    }

    /// Makes `at` point at a record; false at the end of the input.
    fn fill(&mut self) -> Result<bool, SourceError> {
        while self.at >= self.batch.recs.len() {
            match self.rx.recv() {
                Ok(Ok(batch)) => {
                    let used = std::mem::replace(&mut self.batch, batch);
                    // Dropped here instead when the reader has enough.
                    let _ = self.back.try_send(used);
                    self.at = 0;
                }
                Ok(Err(e)) => return Err(e),
                // The reading thread has finished: no more records.
                Err(_) => return Ok(false),
            }
        }
        Ok(true)
    }

    /// The next record, copied out.
    pub fn next(&mut self) -> Result<Option<Rec>, SourceError> {
        if !self.fill()? {
            return Ok(None);
        }
        let i = self.at;
        self.at += 1;
        let mut bad_utf8 = false;
        let fields = self.batch.fields(i).map(|f| to_string(f, &mut bad_utf8)).collect();
        Ok(self.batch.recs.get_mut(i).map(|info| Rec {
            fields,
            line: info.line,
            end_line: info.end_line,
            raw: info.raw.take(),
            bad_utf8,
        }))
    }

    /// Where the next record is and how wide, without taking it.
    pub fn peek(&mut self) -> Result<Option<&RecInfo>, SourceError> {
        if !self.fill()? {
            return Ok(None);
        }
        Ok(self.batch.recs.get(self.at))
    }

    /// The records from the next one on that have `width` fields, as far as
    /// the current batch goes; they count as taken. `None` at the end of the
    /// input; an empty range when the next record has another width.
    pub fn run(&mut self, width: usize) -> Result<Option<(&Batch, Range<usize>)>, SourceError> {
        if !self.fill()? {
            return Ok(None);
        }
        let start = self.at;
        let len = self
            .batch
            .recs
            .get(start..)
            .unwrap_or_default()
            .iter()
            .take_while(|r| r.width() == width)
            .count();
        self.at += len;
        Ok(Some((&self.batch, start..start + len)))
    }
}

#[cfg(test)]
mod tests {
    use super::has_byte;

    #[test]
    fn has_byte_finds_a_byte_in_blocks_and_the_rest() {
        for len in [0usize, 1, 31, 32, 33, 64, 100] {
            let mut bytes = vec![b'a'; len];
            assert!(!has_byte(&bytes, b'&'), "{len}");
            for at in 0..len {
                bytes[at] = b'&';
                assert!(has_byte(&bytes, b'&'), "{len} {at}");
                bytes[at] = b'a';
            }
        }
    }
}
