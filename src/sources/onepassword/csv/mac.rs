//! 1Password 7 for Mac CSV quirks: backslash-escaped quotes inside quoted
//! values, and tag lists written as a Cocoa set description (`{( … )}`).

use std::io::Read;

/// Turns the Mac writer's backslash escapes inside quoted values into
/// RFC 4180 before the `csv` crate sees them: `\"` becomes `""` and `\\`
/// becomes `\`. The tags cell `"{(\n    \"Starter Kit\"\n)}"` otherwise ends
/// at the first `\"`, the rest of the row shifts, and a 4-item file reads as
/// 7 entries. A backslash before anything else is kept as written, so a
/// `C:\tools` in a note survives (the csv crate's own `escape` would drop
/// it). Quote state follows csv-core's: a quote opens a value only at its
/// start, and `""` inside a quoted value stays a quote.
pub(super) struct BackslashQuotes<R> {
    inner: R,
    state: State,
    buf: Vec<u8>,
    out: Vec<u8>,
    pos: usize,
    done: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    FieldStart,
    Unquoted,
    Quoted,
    QuotedBackslash,
    AfterClose,
}

impl<R: Read> BackslashQuotes<R> {
    pub(super) fn new(inner: R) -> Self {
        BackslashQuotes {
            inner,
            state: State::FieldStart,
            buf: vec![0; 64 * 1024],
            out: Vec::with_capacity(64 * 1024 + 16),
            pos: 0,
            done: false,
        }
    }

    fn push(&mut self, b: u8) {
        match self.state {
            State::QuotedBackslash => {
                self.state = State::Quoted;
                match b {
                    b'"' => self.out.extend_from_slice(b"\"\""),
                    b'\\' => self.out.push(b'\\'),
                    _ => self.out.extend_from_slice(&[b'\\', b]),
                }
                return;
            }
            State::Quoted if b == b'\\' => {
                self.state = State::QuotedBackslash;
                return;
            }
            State::Quoted if b == b'"' => self.state = State::AfterClose,
            State::Quoted => {}
            State::FieldStart | State::AfterClose if b == b'"' => self.state = State::Quoted,
            _ if matches!(b, b',' | b'\n' | b'\r') => self.state = State::FieldStart,
            _ => self.state = State::Unquoted,
        }
        self.out.push(b);
    }
}

impl<R: Read> Read for BackslashQuotes<R> {
    fn read(&mut self, dst: &mut [u8]) -> std::io::Result<usize> {
        while self.pos >= self.out.len() && !self.done {
            self.out.clear();
            self.pos = 0;
            let n = self.inner.read(&mut self.buf)?;
            if n == 0 {
                self.done = true;
                if self.state == State::QuotedBackslash {
                    self.out.push(b'\\');
                }
                break;
            }
            for i in 0..n {
                let b = self.buf.get(i).copied().unwrap_or_default();
                self.push(b);
            }
        }
        let avail = self.out.get(self.pos..).unwrap_or_default();
        let n = avail.len().min(dst.len());
        if let (Some(d), Some(s)) = (dst.get_mut(..n), avail.get(..n)) {
            d.copy_from_slice(s);
        }
        self.pos += n;
        Ok(n)
    }
}

/// Tags as 1Password 7 for Mac writes them: the description of a set,
/// `{(\n    engineering,\n    "Starter Kit"\n)}` (names with spaces quoted).
/// `None` when the cell is not in that form, so the caller reads it as a
/// plain list.
pub(super) fn set_tags(cell: &str) -> Option<Vec<String>> {
    let inner = cell.trim().strip_prefix("{(")?.strip_suffix(")}")?;
    let mut tags = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => quoted = !quoted,
            '\\' if quoted => current.extend(chars.next()),
            ',' if !quoted => tags.push(std::mem::take(&mut current)),
            _ => current.push(c),
        }
    }
    tags.push(current);
    Some(
        tags.into_iter()
            .map(|t| t.trim().to_owned())
            .filter(|t| !t.is_empty())
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unescape(s: &str) -> String {
        let mut out = String::new();
        BackslashQuotes::new(s.as_bytes()).read_to_string(&mut out).unwrap();
        out
    }

    #[test]
    fn backslash_quotes_become_doubled_quotes_only_inside_quoted_values() {
        assert_eq!(unescape("\"a \\\"b\\\" c\",d\n"), "\"a \"\"b\"\" c\",d\n");
        assert_eq!(unescape("\"C:\\\\tools\\x\",x\\\"y\n"), "\"C:\\tools\\x\",x\\\"y\n");
        assert_eq!(unescape("\"a\"\"b\",\"\\"), "\"a\"\"b\",\"\\");
    }

    #[test]
    fn set_descriptions_are_tag_lists() {
        assert_eq!(
            set_tags("{(\n    engineering,\n    \"Starter Kit\"\n)}"),
            Some(vec!["engineering".to_owned(), "Starter Kit".to_owned()])
        );
        assert_eq!(set_tags("{(\n)}"), Some(vec![]));
        assert_eq!(set_tags("{(\n    \"a, b\"\n)}"), Some(vec!["a, b".to_owned()]));
        assert_eq!(set_tags("engineering; source"), None);
    }
}
