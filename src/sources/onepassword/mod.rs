//! 1Password: 1PUX (1Password 8), 1PIF (1Password 4–7, also as the
//! 1Password 7 export folder), the CSV layouts, and vault permissions
//! gathered from the `op` CLI.

use std::io::Read;
use std::path::Path;

use super::{ErrorKind, ParseOptions, SourceError};
use crate::model::{Position, Vault};

/// Whether a CSV header (lowercased, cleaned by `detect::header_fields`)
/// is one of 1Password's CSV layouts.
pub fn is_csv_header(_header: &[String]) -> bool {
    false
}

pub fn read_csv<R: Read>(_reader: R, file: &str, _options: &ParseOptions) -> Result<Vault, SourceError> {
    Err(unsupported(file))
}

pub fn read_1pux(_path: &Path, file: &str, _options: &ParseOptions) -> Result<Vault, SourceError> {
    Err(unsupported(file))
}

pub fn read_1pif(_path: &Path, file: &str, _options: &ParseOptions) -> Result<Vault, SourceError> {
    Err(unsupported(file))
}

pub fn read_sharing(_vault: &mut Vault, _bytes: &[u8], file: &str, _options: &ParseOptions) -> Result<(), SourceError> {
    Err(unsupported(file))
}

fn unsupported(file: &str) -> SourceError {
    SourceError::new(
        ErrorKind::UnknownFormat,
        Position::file(file),
        "1Password exports are not supported yet",
    )
}
