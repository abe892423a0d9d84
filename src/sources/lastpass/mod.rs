//! LastPass: the CSV export (web vault, browser extension, `lpass export`)
//! and the shared-folder permission files of the Enterprise API and web API.

use std::io::Read;

use super::{ErrorKind, ParseOptions, SourceError};
use crate::model::{Position, Vault};

/// Reads a LastPass CSV export.
pub fn read_csv<R: Read>(_reader: R, file: &str, _options: &ParseOptions) -> Result<Vault, SourceError> {
    Err(SourceError::new(
        ErrorKind::UnknownFormat,
        Position::file(file),
        "LastPass CSV is not supported yet",
    ))
}

/// Attaches shared-folder members from a sharing file to `vault`.
pub fn read_sharing(_vault: &mut Vault, _bytes: &[u8], file: &str, _options: &ParseOptions) -> Result<(), SourceError> {
    Err(SourceError::new(
        ErrorKind::UnknownFormat,
        Position::file(file),
        "LastPass sharing files are not supported yet",
    ))
}
