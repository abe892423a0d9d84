//! Synthetic exports for benchmarks and round-trip tests.
//!
//! Two halves: [`Synth`] invents a company's vault (folders, shares, entries
//! of every kind) from a seed, and one writer per format turns model data
//! back into the bytes that vendor writes. The writers are the inverse of
//! `sources/` — a `Vault` they write parses back to the same entries — so
//! they are held to each format as our parsers read it (`formats/*.md`),
//! and a format's limits (LastPass CSV has no tags, 1PIF no attachments)
//! are documented on each writer.
//!
//! No wall clock, no global RNG: the same seed gives byte-identical files.

mod adversarial;
pub mod lastpass;
pub mod permissions;
pub mod pif;
pub mod pux;
mod synth;

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

pub use adversarial::{Adversarial, KNOBS};
pub use synth::{Synth, COMPANY_DOMAIN};

use crate::model::SourceKind;

/// The formats `vaultferry generate` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    LastpassCsv,
    Pux,
    Pif,
}

impl Format {
    pub fn source(self) -> SourceKind {
        match self {
            Format::LastpassCsv => SourceKind::LastpassCsv,
            Format::Pux => SourceKind::Onepassword1pux,
            Format::Pif => SourceKind::Onepassword1pif,
        }
    }
}

/// Entries generated (and formatted) per parallel batch: big enough to keep
/// both cores busy, small enough that a batch is a few MB.
pub(crate) const CHUNK: usize = 8192;

/// Creates (or truncates) a file only its owner may read: generated exports
/// hold passwords, made up or not, and are treated like real ones.
fn create_private(path: &Path) -> io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

/// What was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Summary {
    pub entries: usize,
    pub folders: usize,
    pub shares: usize,
    pub bytes: u64,
}

/// Writes a synthetic export and its sharing file. Entries are generated and
/// written in batches, so a million of them never sit in memory together.
pub fn generate(format: Format, entries: usize, seed: u64, out: &Path, sharing_out: &Path) -> io::Result<Summary> {
    generate_with(format, entries, seed, None, Adversarial::default(), out, sharing_out)
}

/// [`generate`] with every Document's file `attachment_bytes` long
/// (`--attachment-bytes`; 1PUX, whose Documents carry their file) and
/// adversarial shapes switched on.
pub fn generate_with(
    format: Format,
    entries: usize,
    seed: u64,
    attachment_bytes: Option<u64>,
    adversarial: Adversarial,
    out: &Path,
    sharing_out: &Path,
) -> io::Result<Summary> {
    let mut synth = Synth::with(format, entries, seed, adversarial);
    synth.attachment_bytes = attachment_bytes;
    if format == Format::Pif && attachment_bytes.is_some() {
        // A 1PIF carries attachments only as the 1Password 7 export folder:
        // `out/data.1pif` and `out/attachments/<item uuid>/<file>`.
        std::fs::create_dir_all(out)?;
        let data = out.join("data.1pif");
        let mut w = BufWriter::with_capacity(1 << 20, create_private(&data)?);
        let files = pif::write_synth_with_files(&synth, &mut w, Some(&out.join("attachments")))?;
        w.flush()?;
        drop(w);
        let bytes = std::fs::metadata(&data)?.len() + files;
        return finish_sharing(&synth, format, entries, bytes, sharing_out);
    }
    let file = create_private(out)?;
    match format {
        Format::LastpassCsv => {
            let mut w = BufWriter::with_capacity(1 << 20, file);
            lastpass::write_synth(&synth, &mut w)?;
            w.flush()?;
        }
        Format::Pux => pux::write_synth(&synth, file)?,
        Format::Pif => {
            let mut w = BufWriter::with_capacity(1 << 20, file);
            pif::write_synth(&synth, &mut w)?;
            w.flush()?;
        }
    }
    let bytes = std::fs::metadata(out)?.len();
    finish_sharing(&synth, format, entries, bytes, sharing_out)
}

/// Writes the sharing file of a written export, and sums both up.
fn finish_sharing(
    synth: &Synth,
    format: Format,
    entries: usize,
    bytes: u64,
    sharing_out: &Path,
) -> io::Result<Summary> {
    let shares = synth.sharing();
    let folders = synth.sharing_folders();
    let mut s = BufWriter::new(create_private(sharing_out)?);
    match format {
        Format::LastpassCsv => lastpass::write_sharing(&folders, &shares, &mut s)?,
        Format::Pux | Format::Pif => permissions::write(&folders, &shares, &mut s)?,
    }
    s.flush()?;
    Ok(Summary {
        entries,
        folders: synth.folders.len(),
        shares: shares.len(),
        bytes,
    })
}
