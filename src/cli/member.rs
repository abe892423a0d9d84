//! `vaultferry member set-password`: a member's password for signing in
//! to `serve` at `/login`.
//!
//! The password is read from the terminal without echo (asked twice), or
//! from the first line of stdin when it is not a terminal; never from
//! argv, which `ps` and shell history would show. It must meet the
//! workspace's password policy; only its Argon2id hash is stored. An
//! identity provider (OIDC, SAML) would replace this and `/login` alike:
//! see the README's "Signing in".

use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};

use super::Output;
use crate::apply::invitations::{hash_password, meets_policy};
use crate::secret::Secret;
use crate::workspace::identity::IdentityStore;
use crate::workspace::sqlite::SqliteWorkspace;
use crate::Error;

#[derive(Debug, Args)]
pub struct MemberArgs {
    #[command(subcommand)]
    command: MemberCommand,
}

#[derive(Debug, Subcommand)]
enum MemberCommand {
    /// Set a member's sign-in password (read from the terminal or stdin,
    /// never the command line). Their open sessions end.
    #[command(after_help = super::help::MEMBER_SET_PASSWORD)]
    SetPassword {
        /// The workspace database.
        #[arg(long, value_name = "PATH")]
        db: PathBuf,
        /// The member's email.
        #[arg(long, value_name = "EMAIL")]
        email: String,
    },
}

fn stdin_error(source: std::io::Error) -> Error {
    Error::Io {
        path: "<stdin>".into(),
        source,
    }
}

/// The new password: asked twice on a terminal, else stdin's first line.
fn read_password() -> Result<Secret, Error> {
    if std::io::stdin().is_terminal() {
        let first = Secret::text(rpassword::prompt_password("New password: ").map_err(stdin_error)?);
        let again = Secret::text(rpassword::prompt_password("Again: ").map_err(stdin_error)?);
        if first.expose() != again.expose() {
            return Err(Error::Usage("the two passwords differ: nothing was changed".into()));
        }
        return Ok(first);
    }
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).map_err(stdin_error)?;
    let trimmed = line.trim_end_matches(['\r', '\n']).to_owned();
    zeroize::Zeroize::zeroize(&mut line);
    Ok(Secret::text(trimmed))
}

pub fn run(args: &MemberArgs, _out: &mut Output) -> Result<ExitCode, Error> {
    match &args.command {
        MemberCommand::SetPassword { db, email } => {
            let ws = SqliteWorkspace::open(db)?;
            let policy = ws.workspace_info()?.password_policy;
            let password = read_password()?;
            if password.is_empty() {
                return Err(Error::Usage(
                    "no password was given (on the terminal, or as the first line of stdin)".into(),
                ));
            }
            if !meets_policy(password.expose(), &policy) {
                return Err(Error::Usage(format!(
                    "the password does not meet the workspace's policy: it needs {}",
                    crate::server::describe_policy(&policy).join(", ")
                )));
            }
            let (phc, _) = hash_password(&password).map_err(Error::Usage)?;
            let m = ws.set_password(email, &phc, crate::server::session::now())?;
            eprintln!(
                "password set for {} (role {}); their open sessions ended",
                m.email,
                m.role.name()
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}
