use std::fmt;

use serde::Serialize;

/// How much a finding matters to the admin reviewing the run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}

/// Where in an input a finding or error points. Lines start at 1, records at
/// 0 (as in the `csv` crate); every part is optional because not every
/// format has lines (a 1PUX item has a vault and an item id instead).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Position {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl Position {
    pub fn file(file: impl Into<String>) -> Position {
        Position {
            file: Some(file.into()),
            ..Position::default()
        }
    }

    pub fn line(mut self, line: u64) -> Position {
        self.line = Some(line);
        self
    }

    pub fn record(mut self, record: u64) -> Position {
        self.record = Some(record);
        self
    }

    pub fn field(mut self, field: impl Into<String>) -> Position {
        self.field = Some(field.into());
        self
    }
}

impl fmt::Display for Position {
    /// `file:line: field 'x'` — the shape compilers use, so editors jump to it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut wrote = false;
        if let Some(file) = &self.file {
            f.write_str(file)?;
            wrote = true;
        }
        if let Some(line) = self.line {
            write!(f, "{}line {line}", if wrote { ":" } else { "" })?;
            wrote = true;
        }
        if let Some(field) = &self.field {
            write!(f, "{}field '{field}'", if wrote { ": " } else { "" })?;
        }
        Ok(())
    }
}

/// Something the admin should know about: a recovered row, a decoded entity,
/// a lowered role. Never contains a secret value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub severity: Severity,
    /// Stable id, `stage-or-format.what`, e.g. `lastpass.html-entities`.
    /// Reports group by it; tests and the web app match on it.
    pub code: String,
    pub message: String,
    #[serde(flatten)]
    pub position: Position,
    /// What the admin can do about it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
}

impl Finding {
    pub fn new(severity: Severity, code: impl Into<String>, message: impl Into<String>) -> Finding {
        Finding {
            severity,
            code: code.into(),
            message: message.into(),
            position: Position::default(),
            help: None,
        }
    }

    pub fn info(code: impl Into<String>, message: impl Into<String>) -> Finding {
        Finding::new(Severity::Info, code, message)
    }

    pub fn warning(code: impl Into<String>, message: impl Into<String>) -> Finding {
        Finding::new(Severity::Warning, code, message)
    }

    pub fn error(code: impl Into<String>, message: impl Into<String>) -> Finding {
        Finding::new(Severity::Error, code, message)
    }

    pub fn at(mut self, position: Position) -> Finding {
        self.position = position;
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Finding {
        self.help = Some(help.into());
        self
    }
}

impl fmt::Display for Finding {
    /// `warning[code]: file:line N: field 'x': message`: the location
    /// first, in the one shape errors and the plan's findings use, so every
    /// command points at a row the same way.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}[{}]: ", self.severity, self.code)?;
        let pos = self.position.to_string();
        if !pos.is_empty() {
            write!(f, "{pos}: ")?;
        }
        f.write_str(&self.message)
    }
}
