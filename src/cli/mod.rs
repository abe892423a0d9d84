//! The command line: flags become checked options, then the library runs.
//! No migration logic lives here, only argument parsing and rendering.

mod apikey;
mod convert;
mod export;
mod generate;
mod import_args;
mod inspect;
mod migrate;
mod output;
mod plan;
mod render;
mod serve;
mod source_args;
mod stages;
mod verify;
mod workspace;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub use import_args::ImportArgs;
pub use output::{verbosity, Output, Verbosity};
pub use source_args::{FormatArg, SourceArgs};

use crate::Error;

const EXIT_CODES: &str = "\
Exit status:
  0  success
  1  the dry run found something a flag asked to fail on (plan --fail-on-changes:
     the import would write something, or the export has error findings)
  2  unusable input or setup (the message names the file, line and field)

A closed pipe (`vaultferry inspect … | head`) ends quietly with 0.";

/// Migrate LastPass and 1Password exports, with their sharing, into a
/// workspace of collections, accounts and secrets.
#[derive(Debug, Parser)]
#[command(name = "vaultferry", version, after_help = EXIT_CODES)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Print nothing but errors: no summary, no progress.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    quiet: bool,
    /// List everything the summaries count: every collection, person,
    /// finding and changed item (a line each; big exports print many).
    #[arg(short, long, global = true)]
    verbose: bool,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Read an export (and its sharing file) and show what it holds.
    Inspect(inspect::InspectArgs),
    /// Create the embedded workspace from a seed, or show what it holds.
    Workspace(workspace::WorkspaceArgs),
    /// Show what an import would create in the workspace, writing nothing.
    Plan(plan::PlanArgs),
    /// Apply an export to the workspace: show the summary, ask, write
    /// (resumable), and end with the report and the run id.
    Migrate(migrate::MigrateArgs),
    /// Serve the importer over HTTP: import jobs, the workspace API and
    /// the upload page at /.
    Serve(serve::ServeArgs),
    /// Manage API keys for `serve`.
    Apikey(apikey::ApikeyArgs),
    /// Write a deterministic synthetic export and its sharing file (benchmarks).
    Generate(generate::GenerateArgs),
    /// Prove a migration: compare, per person, what the export gave them
    /// with what the workspace gives them, and every value by digest.
    #[command(after_help = verify::EXIT_CODES)]
    Verify(verify::VerifyArgs),
    /// Write the workspace (or some collections) out as a CXF document
    Export(export::ExportArgs),
    /// Turn a LastPass or 1Password export (with its sharing) into a CXF document, without a workspace
    Convert(convert::ConvertArgs),
}

/// Parses argv, runs the command and maps the outcome to an exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(Error::Io { source, .. }) if source.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("vaultferry: error: {err}");
            ExitCode::from(err.exit_code())
        }
    }
}

pub fn run(cli: Cli) -> Result<ExitCode, Error> {
    output::set_verbosity(match (cli.quiet, cli.verbose) {
        (true, _) => Verbosity::Quiet,
        (_, true) => Verbosity::Verbose,
        _ => Verbosity::Normal,
    });
    let mut out = Output::stdout();
    match cli.command {
        Command::Inspect(args) => inspect::run(&args, &mut out),
        Command::Workspace(args) => workspace::run(&args, &mut out),
        Command::Plan(args) => plan::run(&args, &mut out),
        Command::Migrate(args) => migrate::run(&args, &mut out),
        Command::Serve(args) => serve::run(&args),
        Command::Apikey(args) => apikey::run(&args, &mut out),
        Command::Generate(args) => generate::run(&args, &mut out),
        Command::Verify(args) => verify::run(&args, &mut out),
        Command::Export(args) => export::run(&args),
        Command::Convert(args) => convert::run(&args),
    }
}
