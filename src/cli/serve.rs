//! `vaultferry serve`: the import service over the embedded workspace.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;

use crate::server::{self, AppState, Config};
use crate::workspace::sqlite::SqliteWorkspace;
use crate::Error;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The workspace database (created by `workspace init`).
    #[arg(long, value_name = "PATH")]
    pub db: PathBuf,
    #[command(flatten)]
    pub key: super::key_file::KeyFileArg,
    /// Address to listen on; port 0 picks a free port (the bound address
    /// is printed on stdout).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Largest upload accepted (all files of one import), in bytes; larger
    /// ones are answered 413.
    #[arg(long, value_name = "BYTES", default_value_t = 64 * 1024 * 1024)]
    pub max_upload_bytes: usize,
    /// Imports queued, parsing or applying at once; more are answered 429.
    #[arg(long, value_name = "N", default_value_t = 64)]
    pub max_jobs: usize,
    /// Imports doing work at the same time (the others wait, queued).
    #[arg(long, value_name = "N", default_value_t = 2)]
    pub workers: usize,
    /// Longest a request may take, in seconds (answered 408 after).
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    pub request_timeout: u64,
    /// How long a planned import waits to be applied before it expires
    /// and its uploads (the export, in plaintext) are deleted: seconds, or
    /// with a unit (`90m`, `24h`, `7d`).
    #[arg(long, value_name = "DURATION", default_value = "24h", value_parser = parse_ttl)]
    pub planned_job_ttl: Duration,
    /// Longest a connection may take to send a request's headers, in
    /// seconds; it is closed after.
    #[arg(long, value_name = "SECS", default_value_t = 10)]
    pub header_timeout: u64,
    /// Folder for the guest invitation emails. Default: `<db>.outbox/`.
    #[arg(long, value_name = "DIR")]
    pub outbox: Option<PathBuf>,
    /// The address browsers and guests reach this service on
    /// (`https://vault.example.com`, no path): forms must come from this
    /// origin, and invitation emails link to its `/join` page. Default:
    /// the `Host` each request was sent to.
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
    /// Mark the session cookie `Secure` (serve behind TLS). Also set per
    /// request when a proxy sends `X-Forwarded-Proto: https`.
    #[arg(long)]
    pub secure_cookies: bool,
    /// Minutes without a request after which a session ends.
    #[arg(long, value_name = "MINUTES", default_value_t = 30)]
    pub session_idle_minutes: u64,
    /// Hours after sign-in at which a session ends whatever happens.
    #[arg(long, value_name = "HOURS", default_value_t = 12)]
    pub session_max_hours: u64,
    /// Test hook: objects per apply transaction.
    #[arg(long, hide = true, default_value_t = 500)]
    pub batch_size: usize,
    /// Test hook: milliseconds to pause before each apply batch.
    #[arg(long, hide = true, default_value_t = 0)]
    pub write_delay_ms: u64,
}

pub fn run(args: &ServeArgs) -> Result<ExitCode, Error> {
    if args.max_upload_bytes == 0
        || args.workers == 0
        || args.request_timeout == 0
        || args.header_timeout == 0
        || args.session_idle_minutes == 0
        || args.session_max_hours == 0
    {
        return Err(Error::Usage(
            "--max-upload-bytes, --workers, --request-timeout, --header-timeout, --session-idle-minutes and \
             --session-max-hours must be greater than 0"
                .into(),
        ));
    }
    if let Some(base) = &args.base_url {
        let rest = base
            .strip_prefix("https://")
            .or_else(|| base.strip_prefix("http://"))
            .unwrap_or("");
        if rest.is_empty() || rest.trim_end_matches('/').contains('/') {
            return Err(Error::Usage(format!(
                "--base-url {base:?}: expected http(s)://HOST[:PORT] without a path"
            )));
        }
    }
    let mut config = Config::new(&args.db);
    config.max_upload_bytes = args.max_upload_bytes;
    config.max_jobs = args.max_jobs;
    config.workers = args.workers;
    config.request_timeout = Duration::from_secs(args.request_timeout);
    if let Some(outbox) = &args.outbox {
        config.outbox = outbox.clone();
    }
    config.base_url = args.base_url.as_ref().map(|b| b.trim_end_matches('/').to_owned());
    config.secure_cookies = args.secure_cookies;
    config.session_idle = Duration::from_secs(args.session_idle_minutes.saturating_mul(60));
    config.session_absolute = Duration::from_secs(args.session_max_hours.saturating_mul(3600));
    config.batch_size = args.batch_size.max(1);
    config.write_delay = Duration::from_millis(args.write_delay_ms);
    config.planned_job_ttl = args.planned_job_ttl;
    config.header_read_timeout = Duration::from_secs(args.header_timeout);
    let ws = SqliteWorkspace::open_keyed(&args.db, &args.key.location())?;
    let state = AppState::sqlite(ws, config)?;
    server::serve(state, args.listen).map_err(|source| Error::Io {
        path: args.listen.to_string(),
        source,
    })?;
    Ok(ExitCode::SUCCESS)
}

/// `3600`, `3600s`, `90m`, `24h`, `7d`: more than zero.
fn parse_ttl(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = match text.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => text.split_at(i),
        None => (text, "s"),
    };
    let scale = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => {
            return Err(format!(
                "unknown unit {unit:?}: expected seconds, or a number with s, m, h or d"
            ))
        }
    };
    match number.parse::<u64>() {
        Ok(n) if n > 0 => Ok(Duration::from_secs(n.saturating_mul(scale))),
        _ => Err("expected a duration greater than 0, such as 3600, 90m, 24h or 7d".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::parse_ttl;
    use std::time::Duration;

    #[test]
    fn a_ttl_takes_seconds_or_a_unit_and_nothing_else() {
        assert_eq!(parse_ttl("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_ttl("90m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_ttl("24h"), Ok(Duration::from_secs(86_400)));
        assert_eq!(parse_ttl("7d"), Ok(Duration::from_secs(604_800)));
        for bad in ["", "0", "0h", "h", "1w", "-5", "1.5h"] {
            assert!(parse_ttl(bad).is_err(), "{bad}");
        }
    }
}
