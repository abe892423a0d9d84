//! The command line: flags become checked options, then the library runs.
//! No migration logic lives here, only argument parsing and rendering.

mod apikey;
mod convert;
mod explain;
mod export;
mod generate;
mod help;
mod import_args;
mod inspect;
mod key_file;
mod member;
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

/// Migrate LastPass and 1Password exports, with their sharing, into a
/// workspace of collections, accounts and secrets.
#[derive(Debug, Parser)]
#[command(name = "vaultferry", version, after_help = help::TOP)]
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
    #[command(after_help = help::INSPECT)]
    Inspect(inspect::InspectArgs),
    /// Create the embedded workspace from a seed, or show what it holds.
    #[command(after_help = help::WORKSPACE)]
    Workspace(workspace::WorkspaceArgs),
    /// Show what an import would create in the workspace, writing nothing.
    #[command(after_help = help::PLAN)]
    Plan(plan::PlanArgs),
    /// Apply an export to the workspace: show the summary, ask, write
    /// (resumable), and end with the report and the run id.
    #[command(after_help = help::MIGRATE)]
    Migrate(migrate::MigrateArgs),
    /// Serve the importer over HTTP: import jobs, the workspace API and
    /// the upload page at /.
    #[command(after_help = help::SERVE)]
    Serve(serve::ServeArgs),
    /// Manage API keys for `serve`.
    #[command(after_help = help::APIKEY)]
    Apikey(apikey::ApikeyArgs),
    /// Members' sign-in passwords for `serve`.
    #[command(after_help = help::MEMBER)]
    Member(member::MemberArgs),
    /// Write a deterministic synthetic export and its sharing file (benchmarks).
    #[command(after_help = help::GENERATE)]
    Generate(generate::GenerateArgs),
    /// Prove a migration: compare, per person, what the export gave them
    /// with what the workspace gives them, and every value by digest.
    #[command(after_help = help::VERIFY)]
    Verify(verify::VerifyArgs),
    /// Print a page of the documentation (the policy file, each export
    /// and sharing format) or what a finding code means.
    #[command(after_help = help::EXPLAIN)]
    Explain(explain::ExplainArgs),
    /// Write the workspace (or some collections) out as a CXF document:
    /// every field, real values, grants as `shared`.
    #[command(after_help = help::EXPORT)]
    Export(export::ExportArgs),
    /// Turn a LastPass or 1Password export (with its sharing) into a CXF
    /// document, without a workspace.
    #[command(after_help = help::CONVERT)]
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
        Command::Member(args) => member::run(&args, &mut out),
        Command::Generate(args) => generate::run(&args, &mut out),
        Command::Verify(args) => verify::run(&args, &mut out),
        Command::Explain(args) => explain::run(&args, &mut out),
        Command::Export(args) => export::run(&args),
        Command::Convert(args) => convert::run(&args),
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::Cli;

    /// Every command and subcommand, with its path from `vaultferry`.
    fn every_command() -> Vec<(String, clap::Command)> {
        let mut root = Cli::command();
        root.build();
        let mut all = Vec::new();
        let mut stack = vec![("vaultferry".to_owned(), root)];
        while let Some((path, cmd)) = stack.pop() {
            for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
                stack.push((format!("{path} {}", sub.get_name()), sub.clone()));
            }
            all.push((path, cmd));
        }
        all
    }

    #[test]
    fn every_commands_help_ends_with_examples_of_itself() {
        let all = every_command();
        // The top, 9 commands, workspace init/show and apikey create.
        assert!(all.len() >= 13, "{:?}", all.iter().map(|(p, _)| p).collect::<Vec<_>>());
        for (path, mut cmd) in all {
            let help = cmd.render_long_help().to_string();
            let (_, examples) = help
                .rsplit_once("Examples:\n")
                .unwrap_or_else(|| panic!("`{path} --help` has no examples:\n{help}"));
            let lines: Vec<&str> = examples.lines().filter(|l| !l.trim().is_empty()).collect();
            assert!(!lines.is_empty(), "`{path} --help` has an empty Examples section");
            for l in lines {
                assert!(
                    l.starts_with("  vaultferry "),
                    "`{path} --help` ends with something other than examples: {l:?}"
                );
            }
            // A command's own examples run that command (the top's run any).
            if path != "vaultferry" && !examples.contains(&format!("  {path}")) {
                panic!("`{path} --help` gives no example of `{path}`:\n{examples}");
            }
        }
    }

    #[test]
    fn help_never_sends_a_user_to_a_file_of_the_repository() {
        for (path, mut cmd) in every_command() {
            let help = cmd.render_long_help().to_string();
            for repo_only in ["formats/", "samples/", "benches/", "ARCHITECTURE", "README"] {
                assert!(
                    !help.contains(repo_only),
                    "`{path} --help` names {repo_only:?}, which an installed binary has not got:\n{help}"
                );
            }
        }
    }
}
