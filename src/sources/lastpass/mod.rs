//! LastPass: the CSV export (web vault, browser extension, `lpass export`)
//! and the shared-folder permission files of the Enterprise API and web API.
//!
//! The CSV layout and every quirk handled are documented in
//! `formats/lastpass-csv.md`; the sharing shapes in
//! `formats/lastpass-sharing.md`.

mod csv;
mod entities;
mod notes;
mod sharing;

use std::io::Read;

use super::{ParseOptions, SourceError};
use crate::model::Vault;

pub use notes::known_note_types;

/// Reads a LastPass CSV export.
pub fn read_csv<R: Read + Send>(reader: R, file: &str, options: &ParseOptions) -> Result<Vault, SourceError> {
    csv::read(reader, file, options, 0, crate::sources::Sink::Keep)
}

/// [`read_csv`] for an input of `size` bytes, so the entries are allocated
/// once instead of regrown (and copied) as a million of them arrive.
/// Entries go to `sink` as they are read.
pub(crate) fn read_csv_sized<'a, R: Read + Send>(
    reader: R,
    file: &str,
    options: &'a ParseOptions,
    size: u64,
    sink: crate::sources::Sink<'a>,
) -> Result<Vault, SourceError> {
    csv::read(reader, file, options, size, sink)
}

/// Attaches shared-folder members from a sharing file to `vault`.
pub fn read_sharing(vault: &mut Vault, bytes: &[u8], file: &str, options: &ParseOptions) -> Result<(), SourceError> {
    sharing::read(vault, bytes, file, options)
}
