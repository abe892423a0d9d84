//! `vaultferry export`: flags into a selection, the workspace written as
//! CXF by the library, a summary on stderr.

use std::io::{self, BufRead as _, IsTerminal as _, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};

use crate::export::{self, Selection};
use crate::Error;

/// The formats `export` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// FIDO Credential Exchange Format 1.0 (`vaultferry explain cxf`).
    Cxf,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The format to write.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: ExportFormat,
    /// The workspace database.
    #[arg(long, value_name = "PATH")]
    pub db: PathBuf,
    #[command(flatten)]
    pub key: super::key_file::KeyFileArg,
    /// The file to write (created owner-only; it holds every secret value).
    /// Attachments go to `documents/` beside it.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Only this collection and everything in it (repeatable); without it,
    /// the whole workspace.
    #[arg(long = "collection", value_name = "NAME")]
    pub collections: Vec<String>,
    /// Write without asking. Required when there is no terminal to ask on.
    #[arg(short, long)]
    pub yes: bool,
}

pub fn run(args: &ExportArgs) -> Result<ExitCode, Error> {
    let ExportFormat::Cxf = args.format;
    let store = crate::workspace::open_sqlite_keyed(&args.db, &args.key.location())?;
    let snapshot = store.snapshot()?;
    let selection = Selection {
        collections: args.collections.clone(),
    };
    let doc =
        export::from_store(&snapshot, Some(store.as_ref()), &selection).map_err(|e| Error::Usage(e.to_string()))?;
    let items = doc.vault.entries.len();
    confirm(
        args.yes,
        &format!(
            "Write {items} items of {} with their real passwords to {}?",
            snapshot.workspace.name,
            args.out.display()
        ),
    )?;
    let written = export::write_file(&doc, &args.out, now()).map_err(|source| Error::Io {
        path: args.out.display().to_string(),
        source,
    })?;
    summary(&args.out, &written, &doc.grants_left_out);
    Ok(ExitCode::SUCCESS)
}

/// Asks on a terminal, as `migrate` does; refuses without one unless `--yes`.
pub(super) fn confirm(yes: bool, question: &str) -> Result<(), Error> {
    if yes {
        return Ok(());
    }
    if !io::stdin().is_terminal() || !io::stderr().is_terminal() {
        return Err(Error::Usage(
            "refusing to write real secret values without confirmation: there is no terminal to ask on; pass --yes"
                .into(),
        ));
    }
    eprint!("{question} [y/N] ");
    let _ = io::stderr().flush();
    let mut answer = String::new();
    io::stdin().lock().read_line(&mut answer).map_err(|source| Error::Io {
        path: "<stdin>".into(),
        source,
    })?;
    if matches!(answer.trim(), "y" | "Y" | "yes" | "YES" | "Yes") {
        Ok(())
    } else {
        Err(Error::Usage("nothing written".into()))
    }
}

pub(super) fn summary(out: &std::path::Path, w: &export::cxf::Written, left_out: &[export::LeftOut]) {
    if super::verbosity() == super::Verbosity::Quiet {
        return;
    }
    eprintln!(
        "wrote {} (owner-only): {} collections, {} items, {} files",
        out.display(),
        w.collections,
        w.items,
        w.files
    );
    if w.files_without_bytes > 0 {
        eprintln!("  {} attachments named without their bytes", w.files_without_bytes);
    }
    if !left_out.is_empty() {
        eprintln!("  {} grants left out:", left_out.len());
        for grant in left_out {
            eprintln!("    {grant}");
        }
    }
}

pub(super) fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0))
}
