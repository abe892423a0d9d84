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

fn is_separator(line: &str) -> bool {
    line == PIF_SEPARATOR || (line.len() > 6 && line.starts_with("***") && line.ends_with("***"))
}
