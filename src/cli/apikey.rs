//! `vaultferry apikey create`: an API key for `serve`, shown once.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};

use super::Output;
use crate::workspace::service::ServiceStore;
use crate::workspace::sqlite::SqliteWorkspace;
use crate::Error;

#[derive(Debug, Args)]
pub struct ApikeyArgs {
    #[command(subcommand)]
    command: ApikeyCommand,
}

#[derive(Debug, Subcommand)]
enum ApikeyCommand {
    /// Create a key for a member and print it (only its hash is stored:
    /// it cannot be shown again).
    #[command(after_help = super::help::APIKEY)]
    Create {
        /// The workspace database.
        #[arg(long, value_name = "PATH")]
        db: PathBuf,
        #[command(flatten)]
        key: super::key_file::KeyFileArg,
        /// The member's email. Only the owner, super admins and admins
        /// may use the importer with it.
        #[arg(long = "as", alias = "member", value_name = "EMAIL")]
        member: String,
    },
}

pub fn run(args: &ApikeyArgs, out: &mut Output) -> Result<ExitCode, Error> {
    match &args.command {
        ApikeyCommand::Create { db, key, member } => {
            let ws = SqliteWorkspace::open_keyed(db, &key.location())?;
            let (key, m) = ws.create_api_key(member)?;
            if !m.role.may_import() {
                eprintln!(
                    "note: {} has the role {}: the server will refuse this key for the importer (403)",
                    m.email,
                    m.role.name()
                );
            }
            out.line(key)?;
            out.flush()?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
