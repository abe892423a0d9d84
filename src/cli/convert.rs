//! `vaultferry convert`: an export (with its sharing) read by the source
//! readers and written as CXF, without a workspace.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use super::export::{confirm, now, summary, ExportFormat};
use super::SourceArgs;
use crate::export::{self, CxfExport};
use crate::Error;

#[derive(Debug, Args)]
pub struct ConvertArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    /// The format to write.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub to: ExportFormat,
    /// The file to write (created owner-only; it holds every secret value).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Write without asking. Required when there is no terminal to ask on.
    #[arg(short, long)]
    pub yes: bool,
}

pub fn run(args: &ConvertArgs) -> Result<ExitCode, Error> {
    let ExportFormat::Cxf = args.to;
    let vault = args.source.read()?;
    let findings = vault.findings.len();
    let doc = CxfExport::from_vault(vault, args.source.owner.as_deref());
    confirm(
        args.yes,
        &format!(
            "Write {} items with their real passwords to {}?",
            doc.vault.entries.len(),
            args.out.display()
        ),
    )?;
    let written = export::write_file(&doc, &args.out, now()).map_err(|source| Error::Io {
        path: args.out.display().to_string(),
        source,
    })?;
    summary(&args.out, &written, &doc.grants_left_out);
    if findings > 0 && super::verbosity() != super::Verbosity::Quiet {
        eprintln!("  {findings} findings while reading the export (`vaultferry inspect` lists them)");
    }
    Ok(ExitCode::SUCCESS)
}
