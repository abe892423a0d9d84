//! `vaultferry apikey create|list|revoke`: API keys for `serve`. A key is
//! shown once, when created; afterwards it is named by its id and prefix
//! (what the audit log says), never shown again.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};

use super::Output;
use crate::server::session::now;
use crate::workspace::identity::{IdentityStore, KeyRecord};
use crate::workspace::sqlite::SqliteWorkspace;
use crate::Error;

#[derive(Debug, Args)]
pub struct ApikeyArgs {
    #[command(subcommand)]
    command: ApikeyCommand,
}

/// The longest a key may be made to last with `--expires`, in days.
const MAX_DAYS: u32 = 3650;

#[derive(Debug, Subcommand)]
enum ApikeyCommand {
    /// Create a key for a member and print it (only its hash is stored:
    /// it cannot be shown again).
    #[command(after_help = super::help::APIKEY_CREATE)]
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
        /// Days until the key stops working (answered 401 after). Without
        /// it the key works until revoked.
        #[arg(long, value_name = "DAYS")]
        expires: Option<u32>,
    },
    /// List the keys: id, prefix, member, created, expires, state. Never
    /// the keys themselves.
    #[command(after_help = super::help::APIKEY_LIST)]
    List {
        /// The workspace database.
        #[arg(long, value_name = "PATH")]
        db: PathBuf,
        /// Only this member's keys.
        #[arg(long = "as", alias = "member", value_name = "EMAIL")]
        member: Option<String>,
    },
    /// Revoke a key: it is refused (401) from the next request on.
    #[command(after_help = super::help::APIKEY_REVOKE)]
    Revoke {
        /// The workspace database.
        #[arg(long, value_name = "PATH")]
        db: PathBuf,
        /// The key's id or prefix, as `apikey list` shows them.
        #[arg(value_name = "ID|PREFIX")]
        key: String,
    },
}

fn when(t: Option<i64>) -> String {
    t.map(|t| crate::model::Timestamp(t).to_rfc3339())
        .unwrap_or_else(|| "-".into())
}

pub fn run(args: &ApikeyArgs, out: &mut Output) -> Result<ExitCode, Error> {
    match &args.command {
        ApikeyCommand::Create {
            db,
            key,
            member,
            expires,
        } => {
            if let Some(days) = expires {
                if !(1..=MAX_DAYS).contains(days) {
                    return Err(Error::Usage(format!(
                        "--expires {days}: expected a number of days from 1 to {MAX_DAYS}"
                    )));
                }
            }
            let ws = SqliteWorkspace::open_keyed(db, &key.location())?;
            let until = expires.map(|d| now() + i64::from(d) * 86_400);
            let (key, record) = ws.create_api_key_expiring(member, until)?;
            let m = &record.member;
            if !m.role.may_import() {
                eprintln!(
                    "note: {} has the role {}: the server will refuse this key for the importer (403)",
                    m.email,
                    m.role.name()
                );
            }
            match until {
                Some(t) => eprintln!("{} for {}, expires {}", record.label(), m.email, when(Some(t))),
                None => eprintln!(
                    "{} for {}, no expiry (revoke with `vaultferry apikey revoke`)",
                    record.label(),
                    m.email
                ),
            }
            out.line(key)?;
            out.flush()?;
            Ok(ExitCode::SUCCESS)
        }
        ApikeyCommand::List { db, member } => {
            let ws = SqliteWorkspace::open(db)?;
            let only = match member {
                Some(email) => {
                    let wanted = email.trim().to_lowercase();
                    let m = ws
                        .credential(&wanted)?
                        .map(|(m, _)| m)
                        .filter(|m| m.email == wanted)
                        .ok_or_else(|| {
                            Error::Usage(format!("--as {email}: no member with that email in this workspace"))
                        })?;
                    Some(m.id)
                }
                None => None,
            };
            let now = now();
            out.line("id\tprefix\tmember\tcreated\texpires\tstate")?;
            for k in ws.api_keys(only)? {
                out.line(format!(
                    "{}\t{}\t{}\t{}\t{}\t{}",
                    k.id,
                    k.prefix.as_deref().unwrap_or("-"),
                    k.member.email,
                    k.created,
                    when(k.expires),
                    k.state(now)
                ))?;
            }
            out.flush()?;
            Ok(ExitCode::SUCCESS)
        }
        ApikeyCommand::Revoke { db, key } => {
            let ws = SqliteWorkspace::open(db)?;
            let wanted = key.trim();
            let keys = ws.api_keys(None)?;
            let found: Vec<&KeyRecord> = keys
                .iter()
                .filter(|k| {
                    k.id.to_string() == wanted
                        || (wanted.len() >= 8 && k.prefix.as_deref().is_some_and(|p| p.starts_with(wanted)))
                })
                .collect();
            let k = match found.as_slice() {
                [k] => *k,
                [] => {
                    return Err(Error::Usage(format!(
                        "no API key with the id or prefix {wanted:?}: expected one `vaultferry apikey list` shows"
                    )))
                }
                _ => {
                    return Err(Error::Usage(format!(
                        "{wanted:?} names more than one API key: give its id"
                    )))
                }
            };
            if ws.revoke_api_key(k.id, None, now())? {
                eprintln!("revoked {} of {}", k.label(), k.member.email);
            } else {
                eprintln!("{} of {} was revoked already", k.label(), k.member.email);
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
