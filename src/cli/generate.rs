//! `vaultferry generate`: a deterministic synthetic export and its sharing
//! file, for benchmarks and load tests.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};

use super::Output;
use crate::generate::{self, Format};
use crate::Error;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum GenerateFormat {
    #[value(name = "lastpass-csv")]
    LastpassCsv,
    #[value(name = "1pux")]
    Pux,
    #[value(name = "1pif")]
    Pif,
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// The export format to write.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: GenerateFormat,
    /// How many entries (items) to write.
    #[arg(long, value_name = "N")]
    pub entries: usize,
    /// The seed: the same seed, size and format give byte-identical files.
    #[arg(long, value_name = "S", default_value_t = 1)]
    pub seed: u64,
    /// The export file to write.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// The sharing file to write (LastPass `getdetailedsfdata` JSON or a
    /// 1Password permissions bundle); default: the export's name + `.sharing.json`.
    #[arg(long, value_name = "FILE")]
    pub sharing_out: Option<PathBuf>,
    /// Makes every Document's file N bytes (one item in twenty is a
    /// Document), for measuring exports with large attachments. 1PUX keeps
    /// them in the archive; with 1PIF, `--out` becomes a 1Password 7 export
    /// folder (`data.1pif` and `attachments/<item uuid>/<file>`).
    #[arg(long, value_name = "N")]
    pub attachment_bytes: Option<u64>,
    /// Shapes that break mappers, each on its own: `all`, or some of
    /// same-name, separators, duplicate-ids, group-outsiders,
    /// existing-teams, nested-sharing (comma-separated).
    #[arg(long, value_name = "KNOBS")]
    pub adversarial: Option<String>,
}

pub fn run(args: &GenerateArgs, out: &mut Output) -> Result<ExitCode, Error> {
    if args.attachment_bytes.is_some() && args.format == GenerateFormat::LastpassCsv {
        return Err(Error::Usage(
            "--attachment-bytes needs --format 1pux or 1pif: a LastPass CSV export carries no attachments".into(),
        ));
    }
    let format = match args.format {
        GenerateFormat::LastpassCsv => Format::LastpassCsv,
        GenerateFormat::Pux => Format::Pux,
        GenerateFormat::Pif => Format::Pif,
    };
    let sharing = args.sharing_out.clone().unwrap_or_else(|| {
        let mut name = args.out.clone().into_os_string();
        name.push(".sharing.json");
        PathBuf::from(name)
    });
    let adversarial = match &args.adversarial {
        Some(list) => generate::Adversarial::parse(list).map_err(Error::Usage)?,
        None => generate::Adversarial::default(),
    };
    let summary = generate::generate_with(
        format,
        args.entries,
        args.seed,
        args.attachment_bytes,
        adversarial,
        &args.out,
        &sharing,
    )
    .map_err(|source| Error::Io {
        path: format!("{} / {}", args.out.display(), sharing.display()),
        source,
    })?;
    out.line(format!(
        "{}: {} entries, {} folders, {} bytes",
        args.out.display(),
        summary.entries,
        summary.folders,
        summary.bytes
    ))?;
    out.line(format!("{}: {} shares", sharing.display(), summary.shares))?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
