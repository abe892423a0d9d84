//! What a reviewer sees of a [`Changeset`]: the terminal summary, JSON
//! (a versioned schema the web app reads, `formats/report.md`), Markdown,
//! one self-contained HTML page, and the CSV of unmatched users.
//!
//! Every renderer works from the same [`Report`], built once from the
//! changeset (and, after `migrate`, the run's outcome). The report holds
//! names, keys, counts and field *names*; no secret value ever enters it, so
//! no renderer can print one.

pub mod csv;
pub mod html;
pub mod json;
pub mod markdown;
pub mod people;
pub mod text;

use std::io;
use std::path::Path;

pub use json::Report;

/// The report formats `--report FILE` chooses from by extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Json,
    Markdown,
    Html,
    Csv,
}

impl Format {
    pub const EXTENSIONS: &'static str = ".json, .md, .html, .csv";

    /// The format for a file name, by its extension.
    pub fn from_path(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        Some(match ext.as_str() {
            "json" => Format::Json,
            "md" | "markdown" => Format::Markdown,
            "html" | "htm" => Format::Html,
            "csv" => Format::Csv,
            _ => return None,
        })
    }
}

/// Writes `report` in `format`.
pub fn write(report: &Report, format: Format, out: &mut dyn io::Write) -> io::Result<()> {
    match format {
        Format::Json => json::write(report, out),
        Format::Markdown => markdown::write(report, out),
        Format::Html => html::write(report, out),
        Format::Csv => csv::write(report, out),
    }
}
