//! `vaultferry serve`: import jobs over HTTP, the workspace API the HTTP
//! target uses, and the upload page, on axum.
//!
//! Conventions follow the product's public API: everything under
//! `/api/v1/`, the key in `X-API-Key`, JSON:API-like documents
//! (`{data: {id, type, attributes}, links, meta}`), `page[number]` and
//! `page[size]`. The routes are listed once, in [`ROUTES`]; the OpenAPI file
//! (`formats/openapi.yaml`) is checked against that list by a test.

mod api;
mod auth;
pub mod blobs;
pub mod error;
mod job_reports;
mod jobs;
mod me;
mod page;
mod withheld;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post, put};
use axum::Router;
use tokio::sync::Semaphore;

use crate::workspace::service::ServiceStore;
use crate::workspace::sqlite::SqliteWorkspace;
use crate::workspace::Workspace;

pub use error::AppError;

/// Every route: (method, path). The router below and `formats/openapi.yaml`
/// must both match it (tests check both).
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/"),
    ("GET", "/api/v1/me"),
    ("GET", "/api/v1/workspace"),
    ("GET", "/api/v1/members"),
    ("GET", "/api/v1/teams"),
    ("GET", "/api/v1/partners"),
    ("GET", "/api/v1/partnerships"),
    ("GET", "/api/v1/collections"),
    ("GET", "/api/v1/accounts"),
    ("GET", "/api/v1/secrets"),
    ("GET", "/api/v1/grants"),
    ("GET", "/api/v1/invitations"),
    ("GET", "/api/v1/runs"),
    ("POST", "/api/v1/runs"),
    ("PATCH", "/api/v1/runs/{id}"),
    ("POST", "/api/v1/runs/{id}/batches"),
    ("POST", "/api/v1/key-moves"),
    ("PUT", "/api/v1/blobs/{sha256}"),
    ("POST", "/api/v1/imports"),
    ("GET", "/api/v1/imports/{id}"),
    ("DELETE", "/api/v1/imports/{id}"),
    ("GET", "/api/v1/imports/{id}/report"),
    ("POST", "/api/v1/imports/{id}/apply"),
];

/// How the service runs; flags of `serve` become this before anything
/// listens.
#[derive(Clone, Debug)]
pub struct Config {
    /// Where each job's owner-only upload folder is made.
    pub upload_root: PathBuf,
    /// Largest upload (all files of one import together), in bytes.
    pub max_upload_bytes: usize,
    /// Where attachment bytes uploaded to `PUT /api/v1/blobs/{sha256}`
    /// wait, owner-only, for the batch that names them.
    pub blob_root: PathBuf,
    /// Largest blob: SQLite holds at most 1 GB in one value.
    pub max_blob_bytes: u64,
    /// Jobs queued, parsing or applying at once before 429.
    pub max_jobs: usize,
    /// Jobs doing work at the same time (the rest wait, queued).
    pub workers: usize,
    /// Longest time a request may take (uploads included).
    pub request_timeout: Duration,
    /// How long `POST /imports` waits for the parse, so a bad upload is
    /// answered 422 with the parser's error rather than discovered later.
    pub parse_wait: Duration,
    /// Where guest invitation emails go.
    pub outbox: PathBuf,
    /// Objects per apply transaction.
    pub batch_size: usize,
    /// Test hook: a pause before each apply batch, so a test can kill the
    /// server mid-apply.
    pub write_delay: Duration,
}

impl Config {
    pub fn new(db: &std::path::Path) -> Config {
        let sibling = |suffix: &str| {
            let mut p = db.as_os_str().to_owned();
            p.push(suffix);
            PathBuf::from(p)
        };
        Config {
            upload_root: sibling(".uploads"),
            max_upload_bytes: 64 * 1024 * 1024,
            blob_root: sibling(".blobs"),
            max_blob_bytes: 1_000_000_000,
            max_jobs: 64,
            workers: 2,
            request_timeout: Duration::from_secs(60),
            parse_wait: Duration::from_secs(10),
            outbox: sibling(".outbox"),
            batch_size: 500,
            write_delay: Duration::ZERO,
        }
    }
}

/// What every handler shares: the stores as trait objects, the
/// configuration, and the permits that bound concurrent job work.
#[derive(Clone)]
pub struct AppState {
    pub workspace: Arc<dyn Workspace>,
    pub store: Arc<dyn ServiceStore>,
    pub config: Arc<Config>,
    pub workers: Arc<Semaphore>,
    /// Serializes the "is there room for another job" check with the insert.
    pub admission: Arc<tokio::sync::Mutex<()>>,
}

impl AppState {
    /// State over one SQLite store. Jobs a previous server left running are
    /// marked failed and resumable first.
    pub fn sqlite(ws: SqliteWorkspace, config: Config) -> Result<AppState, crate::workspace::WorkspaceError> {
        let ws = Arc::new(ws);
        let recovered = ws.recover_jobs()?;
        for id in &recovered {
            eprintln!("vaultferry serve: job {id} was cut off by a restart: marked failed, resumable (POST /api/v1/imports/{id}/apply)");
        }
        Ok(AppState {
            workspace: ws.clone(),
            store: ws,
            workers: Arc::new(Semaphore::new(config.workers.max(1))),
            config: Arc::new(config),
            admission: Arc::new(tokio::sync::Mutex::new(())),
        })
    }
}

/// The whole service. Layers, outermost first: audit (every request, with
/// its final status), request timeout, authentication for `/api/` (any
/// active member on the member routes, an importer on the rest).
pub fn app(state: AppState) -> Router {
    let api_bodies = DefaultBodyLimit::max(512 * 1024 * 1024);
    // Room to read (and drop) the rest of an upload over the cap, so the
    // client gets its 413; beyond this the connection is simply closed.
    let upload_limit = state
        .config
        .max_upload_bytes
        .saturating_mul(2)
        .saturating_add(1024 * 1024);
    let api = Router::new()
        .route("/api/v1/workspace", get(api::workspace_info))
        .route("/api/v1/{resource}", get(api::list))
        .route("/api/v1/runs", get(api::runs).post(api::begin_run))
        .route("/api/v1/runs/{id}", axum::routing::patch(api::finish_run))
        .route("/api/v1/runs/{id}/batches", post(api::apply_batch))
        .route("/api/v1/key-moves", post(api::move_collection_keys))
        .layer(api_bodies)
        // Streamed a piece at a time under its own bound (`max_blob_bytes`).
        .route("/api/v1/blobs/{sha256}", put(blobs::put))
        .route(
            "/api/v1/imports",
            post(jobs::create).layer(DefaultBodyLimit::max(upload_limit)),
        )
        .route("/api/v1/imports/{id}", get(jobs::show).delete(jobs::cancel))
        .route("/api/v1/imports/{id}/report", get(jobs::report))
        .route("/api/v1/imports/{id}/apply", post(jobs::apply))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::require_importer,
        ));
    // Routes every active member may call, guests included: each decides
    // from the caller what it shows.
    let members = Router::new()
        .route("/api/v1/me", get(me::show))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::require_member,
        ));
    Router::new()
        .route("/", get(page::index))
        .merge(members)
        .merge(api)
        .fallback(|| async { AppError::new(axum::http::StatusCode::NOT_FOUND, "no such route") })
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            state.config.request_timeout,
        ))
        .layer(axum::middleware::from_fn_with_state(state.clone(), auth::audit))
        .with_state(state)
}

/// Binds `listen`, prints the bound address (port 0 picks a free one), and
/// serves until SIGTERM or Ctrl-C, letting requests in flight finish.
pub fn serve(state: AppState, listen: SocketAddr) -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen).await?;
        let addr = listener.local_addr()?;
        println!("listening on http://{addr}");
        eprintln!("vaultferry serve: listening on http://{addr} (upload page at /)");
        axum::serve(listener, app(state))
            .with_graceful_shutdown(shutdown_signal())
            .await
    })
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    eprintln!("vaultferry serve: shutting down");
}

/// Runs a blocking store call off the async workers.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, AppError> + Send + 'static,
) -> Result<T, AppError> {
    tokio::task::spawn_blocking(f).await.map_err(AppError::internal)?
}

#[cfg(test)]
mod tests;
