//! 1PIF split into records as it is read, a line at a time.
//!
//! A record is the JSON between two separator lines
//! (`***5642bee8-…***`). Real files vary: a separator line may come before
//! the first record, the last record may have none after it, a file may be
//! one record with no separator at all, and a record may be pretty-printed
//! over several lines. So a record is whatever non-blank lines lie between
//! separators (or the ends of the file), and one such stretch may hold more
//! than one JSON value.

use std::io::BufRead;

use zeroize::Zeroizing;

use crate::sources::detect::PIF_SEPARATOR;
use crate::sources::{at, SourceError};

/// The text between two separators and the line (from 1) it starts on.
pub(super) struct Segment {
    pub line: u64,
    pub text: Zeroizing<String>,
}

pub(super) struct Segments<R> {
    reader: R,
    file: String,
    line: u64,
    buf: Zeroizing<Vec<u8>>,
}

impl<R: BufRead> Segments<R> {
    pub(super) fn new(reader: R, file: &str) -> Segments<R> {
        Segments {
            reader,
            file: file.to_owned(),
            line: 0,
            buf: Zeroizing::new(Vec::new()),
        }
    }

    /// The next record's text, or `None` at the end of the file.
    pub(super) fn next_segment(&mut self) -> Result<Option<Segment>, SourceError> {
        let mut segment: Option<Segment> = None;
        loop {
            self.buf.clear();
            let n = self
                .reader
                .read_until(b'\n', &mut self.buf)
                .map_err(|e| SourceError::io(&self.file, e))?;
            if n == 0 {
                return Ok(segment);
            }
            self.line += 1;
            let text = std::str::from_utf8(&self.buf).map_err(|_| {
                // Name the line of the bad byte: a hand-edited record,
                // re-saved as Latin-1, is usually one line among thousands.
                SourceError::malformed(
                    at(&self.file, self.line),
                    "the file is not UTF-8; expected a 1PIF export (UTF-8 JSON records separated by ***…*** lines)",
                )
            })?;
            let text = if self.line == 1 {
                text.strip_prefix('\u{feff}').unwrap_or(text)
            } else {
                text
            };
            let trimmed = text.trim();
            if is_separator(trimmed) {
                if segment.is_some() {
                    return Ok(segment);
                }
                continue;
            }
            match &mut segment {
                None if trimmed.is_empty() => {}
                None => {
                    let mut first = Zeroizing::new(String::with_capacity(text.len()));
                    first.push_str(text);
                    segment = Some(Segment {
                        line: self.line,
                        text: first,
                    });
                }
                Some(s) => s.text.push_str(text),
            }
        }
    }
}

impl<R: BufRead> Segments<R> {
    /// The next record whose text holds `marker`, skipping the others
    /// without decoding them: the first pass over a file wants only its
    /// folders, a few records among a million, and checking every line as
    /// UTF-8 and copying every record to find them cost a third of
    /// reading the file. A record that is not UTF-8 is skipped here too;
    /// the second pass names its line.
    pub(super) fn next_segment_containing(&mut self, marker: &[u8]) -> Result<Option<Segment>, SourceError> {
        let finder = memchr::memmem::Finder::new(marker);
        let mut raw: Zeroizing<Vec<u8>> = Zeroizing::new(Vec::new());
        let mut start: Option<u64> = None;
        let mut wanted = false;
        loop {
            self.buf.clear();
            let n = self
                .reader
                .read_until(b'\n', &mut self.buf)
                .map_err(|e| SourceError::io(&self.file, e))?;
            let ended = n == 0;
            let line: &[u8] = if ended {
                &[]
            } else {
                self.line += 1;
                if self.line == 1 {
                    self.buf.strip_prefix("\u{feff}".as_bytes()).unwrap_or(&self.buf)
                } else {
                    &self.buf
                }
            };
            let trimmed = line.trim_ascii();
            let boundary = ended || is_separator_bytes(trimmed);
            if boundary {
                if let (Some(line), true) = (start, wanted) {
                    if let Ok(text) = std::str::from_utf8(&raw) {
                        let mut owned = Zeroizing::new(String::with_capacity(text.len()));
                        owned.push_str(text);
                        return Ok(Some(Segment { line, text: owned }));
                    }
                }
                if ended {
                    return Ok(None);
                }
                raw.clear();
                start = None;
                wanted = false;
                continue;
            }
            if start.is_none() {
                if trimmed.is_empty() {
                    continue;
                }
                start = Some(self.line);
            }
            wanted = wanted || finder.find(line).is_some();
            raw.extend_from_slice(line);
        }
    }
}

fn is_separator_bytes(line: &[u8]) -> bool {
    line == PIF_SEPARATOR.as_bytes() || (line.len() > 6 && line.starts_with(b"***") && line.ends_with(b"***"))
}

fn is_separator(line: &str) -> bool {
    line == PIF_SEPARATOR || (line.len() > 6 && line.starts_with("***") && line.ends_with("***"))
}
