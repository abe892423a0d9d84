//! The `--report` files: owner-only like the database (they name every
//! person, folder and item of the vault), each named on stderr once
//! written, each saying what it is the report of.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::report::{self, Report};
use crate::Error;

use super::super::SourceArgs;

/// Says in the report which files and which store it was made from.
pub fn stamp(r: &mut Report, source: &SourceArgs, store: &str) {
    r.generated.inputs = std::iter::once(&source.export)
        .chain(&source.sharing)
        .map(|p| p.display().to_string())
        .collect();
    r.generated.store = Some(store.to_owned());
}

pub fn write(r: &Report, files: &[(PathBuf, report::Format)]) -> Result<(), Error> {
    for (path, format) in files {
        let io_err = |source: std::io::Error| Error::Io {
            path: path.display().to_string(),
            source,
        };
        let file = create_owner_only(path).map_err(io_err)?;
        let mut w = std::io::BufWriter::new(file);
        report::write(r, *format, &mut w).map_err(io_err)?;
        w.flush().map_err(io_err)?;
        if super::super::verbosity() != super::super::Verbosity::Quiet {
            eprintln!("wrote {}", path.display());
        }
    }
    Ok(())
}

/// Created 0600, or truncated and set to 0600 if it existed with wider
/// rights (an earlier report, a file made by hand).
fn create_owner_only(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        options.mode(0o600);
        let file = options.open(path)?;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        Ok(file)
    }
    #[cfg(not(unix))]
    options.open(path)
}
