use std::fmt;

use crate::model::{Finding, Position};

/// What went wrong, for callers that react differently (the server answers
/// 422 for `Malformed`, 413 for `Limit`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The file could not be opened or read.
    Io,
    /// No known export format matches the content.
    UnknownFormat,
    /// The content does not follow its format where it cannot be recovered.
    Malformed,
    /// An archive exceeds an entry-count or size bound.
    Limit,
    /// An archive member tries to leave the archive (`..`, absolute path).
    UnsafePath,
    /// `--strict` turned a recoverable problem into an error.
    Strict,
}

/// A parse error with its position. Its message says what was found and what
/// was expected, and never contains a secret value: parsers quote column
/// names and line numbers, not cell contents.
#[derive(Debug)]
pub struct SourceError {
    kind: ErrorKind,
    position: Position,
    message: String,
    source: Option<std::io::Error>,
}

impl SourceError {
    pub fn new(kind: ErrorKind, position: Position, message: impl Into<String>) -> SourceError {
        SourceError {
            kind,
            position,
            message: message.into(),
            source: None,
        }
    }

    pub fn malformed(position: Position, message: impl Into<String>) -> SourceError {
        SourceError::new(ErrorKind::Malformed, position, message)
    }

    pub fn io(file: &str, err: std::io::Error) -> SourceError {
        SourceError {
            kind: ErrorKind::Io,
            position: Position::file(file),
            message: format!("cannot read the file: {err}"),
            source: Some(err),
        }
    }

    pub fn strict(finding: Finding) -> SourceError {
        let message = format!(
            "{} [{}] (--strict stops at the first such problem; drop it to recover or skip and report instead)",
            finding.message, finding.code
        );
        SourceError::new(ErrorKind::Strict, finding.position, message)
    }

    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    pub fn position(&self) -> &Position {
        &self.position
    }

    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for SourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pos = self.position.to_string();
        if pos.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{pos}: {}", self.message)
        }
    }
}

impl std::error::Error for SourceError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_ref().map(|e| e as _)
    }
}
