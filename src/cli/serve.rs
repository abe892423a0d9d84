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
    /// Folder for the guest invitation emails. Default: `<db>.outbox/`.
    #[arg(long, value_name = "DIR")]
    pub outbox: Option<PathBuf>,
    /// Test hook: objects per apply transaction.
    #[arg(long, hide = true, default_value_t = 500)]
    pub batch_size: usize,
    /// Test hook: milliseconds to pause before each apply batch.
    #[arg(long, hide = true, default_value_t = 0)]
    pub write_delay_ms: u64,
}

pub fn run(args: &ServeArgs) -> Result<ExitCode, Error> {
    if args.max_upload_bytes == 0 || args.workers == 0 || args.request_timeout == 0 {
        return Err(Error::Usage(
            "--max-upload-bytes, --workers and --request-timeout must be greater than 0".into(),
        ));
    }
    let mut config = Config::new(&args.db);
    config.max_upload_bytes = args.max_upload_bytes;
    config.max_jobs = args.max_jobs;
    config.workers = args.workers;
    config.request_timeout = Duration::from_secs(args.request_timeout);
    if let Some(outbox) = &args.outbox {
        config.outbox = outbox.clone();
    }
    config.batch_size = args.batch_size.max(1);
    config.write_delay = Duration::from_millis(args.write_delay_ms);
    let ws = SqliteWorkspace::open_keyed(&args.db, &args.key.location())?;
    let state = AppState::sqlite(ws, config)?;
    server::serve(state, args.listen).map_err(|source| Error::Io {
        path: args.listen.to_string(),
        source,
    })?;
    Ok(ExitCode::SUCCESS)
}
