//! `vaultferry serve`: import jobs over HTTP, the workspace API the HTTP
//! target uses, and the upload page, on axum.
//!
//! Conventions follow the product's public API: everything under
//! `/api/v1/`, the key in `X-API-Key`, JSON:API-like documents
//! (`{data: {id, type, attributes}, links, meta}`), `page[number]` and
//! `page[size]`. The routes are listed once, in [`ROUTES`]; the OpenAPI file
//! (`formats/openapi.yaml`) is checked against that list by a test.

mod admission;
mod api;
mod auth;
pub mod blobs;
mod csrf;
pub mod error;
mod guests;
mod guests_page;
mod headers;
mod html;
mod job_reports;
mod jobs;
mod join;
mod json_limit;
mod keys;
mod listen;
mod me;
mod member_views;
mod page;
pub mod session;
mod shell;
mod throttle;
pub mod uploads;
mod value_page;
mod views_page;
mod withheld;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post, put};
use axum::Router;
use tokio::sync::Semaphore;

use crate::workspace::identity::IdentityStore;
use crate::workspace::service::ServiceStore;
use crate::workspace::sqlite::SqliteWorkspace;
use crate::workspace::views::MemberViews;
use crate::workspace::Workspace;

pub use error::AppError;
pub use join::describe as describe_policy;

/// Every route: (method, path). The router below and `formats/openapi.yaml`
/// must both match it (tests check both).
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/"),
    ("GET", "/static/app.js"),
    ("GET", "/static/app.css"),
    ("GET", "/login"),
    ("POST", "/login"),
    ("POST", "/logout"),
    ("GET", "/join"),
    ("POST", "/join"),
    ("GET", "/join/password"),
    ("POST", "/join/password"),
    ("GET", "/join/terms"),
    ("POST", "/join/terms"),
    ("GET", "/api/v1/me"),
    ("GET", "/api/v1/api-keys"),
    ("DELETE", "/api/v1/api-keys/{id}"),
    ("GET", "/api/v1/me/collections"),
    ("GET", "/api/v1/me/accounts"),
    ("GET", "/api/v1/me/accounts/{id}"),
    ("GET", "/api/v1/me/accounts/{id}/password"),
    ("GET", "/api/v1/me/accounts/{id}/attachments/{attachment}"),
    ("GET", "/api/v1/me/secrets"),
    ("GET", "/api/v1/me/secrets/{id}"),
    ("GET", "/api/v1/me/secrets/{id}/value"),
    ("GET", "/api/v1/me/secrets/{id}/attachments/{attachment}"),
    ("GET", "/api/v1/me/teams"),
    ("GET", "/api/v1/me/activity"),
    ("GET", "/api/v1/people"),
    ("POST", "/api/v1/guests"),
    ("DELETE", "/api/v1/guests/{id}"),
    ("DELETE", "/api/v1/guests/{id}/grants/{grant}"),
    ("GET", "/app/items"),
    ("GET", "/app/teams"),
    ("GET", "/app/members"),
    ("GET", "/app/guests"),
    ("POST", "/app/guests/invite"),
    ("POST", "/app/guests/{id}/remove"),
    ("GET", "/app/accounts/{id}/password"),
    ("GET", "/app/secrets/{id}/value"),
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
    /// The address browsers and guests reach the service on
    /// (`--base-url`): the origin state-changing requests must come from,
    /// and the base of the join link in invitation emails. Without it the
    /// `Host` a request was sent to is the origin.
    pub base_url: Option<String>,
    /// `Secure` on the session cookie (`--secure-cookies`; also set per
    /// request behind a proxy that sends `X-Forwarded-Proto: https`).
    pub secure_cookies: bool,
    /// A session ends after this long without a request…
    pub session_idle: Duration,
    /// …and this long after sign-in whatever happens.
    pub session_absolute: Duration,
    /// The pause before answering a failed sign-in, times the failures so
    /// far (see `server::throttle`).
    pub failure_delay: Duration,
    /// How long a planned job (or one a restart left resumable) waits to
    /// be applied before it expires with its uploads: they hold the export
    /// in plaintext.
    pub planned_job_ttl: Duration,
    /// Bounds on an uploaded archive as it is unpacked: in all, and per
    /// piece held in memory (a zip bomb of one huge 1PUX item stops there).
    pub limits: crate::sources::Limits,
    /// Longest a connection may take to send a request's headers before
    /// it is closed (see `listen`).
    pub header_read_timeout: Duration,
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
            base_url: None,
            secure_cookies: false,
            session_idle: Duration::from_secs(30 * 60),
            session_absolute: Duration::from_secs(12 * 60 * 60),
            failure_delay: Duration::from_millis(250),
            planned_job_ttl: Duration::from_secs(24 * 60 * 60),
            limits: crate::sources::Limits::default(),
            header_read_timeout: Duration::from_secs(10),
        }
    }
}

/// What every handler shares: the stores as trait objects, the
/// configuration, and the permits that bound concurrent job work.
#[derive(Clone)]
pub struct AppState {
    pub workspace: Arc<dyn Workspace>,
    pub store: Arc<dyn ServiceStore>,
    pub identity: Arc<dyn IdentityStore>,
    /// What each member may see, read a page at a time.
    pub views: Arc<dyn MemberViews>,
    pub config: Arc<Config>,
    pub workers: Arc<Semaphore>,
    /// Places for uploads still arriving, beside the jobs in the store.
    pub admission: Arc<admission::Admission>,
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
        sweep(ws.as_ref(), &config)?;
        Ok(AppState {
            workspace: ws.clone(),
            store: ws.clone(),
            identity: ws.clone(),
            views: ws,
            workers: Arc::new(Semaphore::new(config.workers.max(1))),
            config: Arc::new(config),
            admission: Arc::new(admission::Admission::default()),
        })
    }
}

/// Expires the jobs that waited too long: at start-up and then every
/// [`sweep_every`] while serving.
pub fn expire_waiting(store: &dyn ServiceStore, config: &Config) -> Result<(), crate::workspace::WorkspaceError> {
    for id in uploads::expire(store, config.planned_job_ttl, uploads::now())? {
        eprintln!(
            "vaultferry serve: job {id} expired unapplied after {} s (--planned-job-ttl); its uploads were deleted",
            config.planned_job_ttl.as_secs()
        );
    }
    Ok(())
}

/// At start-up, before anything listens: expired jobs end, and upload
/// folders no job owns (a server stopped mid-upload left them) are
/// deleted. Only then: while serving, an upload arriving has a folder and
/// no job yet.
pub fn sweep(store: &dyn ServiceStore, config: &Config) -> Result<(), crate::workspace::WorkspaceError> {
    expire_waiting(store, config)?;
    let removed = uploads::sweep_orphans(store, &config.upload_root)?;
    if removed > 0 {
        eprintln!("vaultferry serve: deleted {removed} upload folder(s) no job owns");
    }
    Ok(())
}

/// How often [`sweep`] runs while serving: often enough that a job
/// outlives its TTL by little, never more than every few seconds.
fn sweep_every(ttl: Duration) -> Duration {
    (ttl / 4).clamp(Duration::from_secs(5), Duration::from_secs(600))
}

/// The whole service. Layers, outermost first: security headers, audit
/// (every request, with its final status), request timeout, CSRF (cookie
/// requests that change state), authentication for `/api/` (any active
/// member on the member routes, an importer on the rest).
pub fn app(state: AppState) -> Router {
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
        .layer(DefaultBodyLimit::max(json_limit::BATCH_BYTES))
        .layer(axum::middleware::from_fn(|req, next| {
            json_limit::check(json_limit::BATCH_BYTES, req, next)
        }))
        .route(
            "/api/v1/key-moves",
            post(api::move_collection_keys)
                .layer(DefaultBodyLimit::max(json_limit::KEY_MOVES_BYTES))
                .layer(axum::middleware::from_fn(|req, next| {
                    json_limit::check(json_limit::KEY_MOVES_BYTES, req, next)
                })),
        )
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
        .route("/api/v1/api-keys", get(keys::list))
        .route("/api/v1/api-keys/{id}", axum::routing::delete(keys::revoke))
        .route("/api/v1/me/collections", get(member_views::collections))
        .route("/api/v1/me/accounts", get(member_views::accounts))
        .route("/api/v1/me/accounts/{id}", get(member_views::account))
        .route("/api/v1/me/accounts/{id}/password", get(member_views::account_password))
        .route(
            "/api/v1/me/accounts/{id}/attachments/{attachment}",
            get(member_views::account_attachment),
        )
        .route(
            "/api/v1/me/secrets/{id}/attachments/{attachment}",
            get(member_views::secret_attachment),
        )
        .route("/api/v1/me/secrets", get(member_views::secrets))
        .route("/api/v1/me/secrets/{id}", get(member_views::secret))
        .route("/api/v1/me/secrets/{id}/value", get(member_views::secret_value))
        .route("/api/v1/me/teams", get(member_views::teams))
        .route("/api/v1/me/activity", get(member_views::activity))
        // Admin routes decide in the handler (a Guest Admin may invite).
        .route("/api/v1/people", get(guests::people))
        .route("/api/v1/guests", post(guests::invite))
        .route("/api/v1/guests/{id}", axum::routing::delete(guests::remove))
        .route(
            "/api/v1/guests/{id}/grants/{grant}",
            axum::routing::delete(guests::remove_grant),
        )
        .route("/app/items", get(views_page::items))
        .route("/app/teams", get(views_page::teams))
        .route("/app/members", get(views_page::members))
        .route("/app/guests", get(views_page::guests))
        .route("/app/guests/invite", post(guests_page::invite))
        .route("/app/guests/{id}/remove", post(guests_page::remove))
        .route("/app/accounts/{id}/password", get(value_page::account_password))
        .route("/app/secrets/{id}/value", get(value_page::secret_value))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::require_member,
        ));
    Router::new()
        .route("/", get(page::index))
        .route("/static/app.js", get(page::app_js))
        .route("/static/app.css", get(page::app_css))
        .route("/login", get(session::login_page).post(session::login))
        .route("/logout", post(session::logout))
        .route("/join", get(join::page).post(join::start))
        .route("/join/password", get(join::password_page).post(join::set_password))
        .route("/join/terms", get(join::terms_page).post(join::accept_terms))
        .merge(members)
        .merge(api)
        .fallback(|| async { AppError::new(axum::http::StatusCode::NOT_FOUND, "no such route") })
        .layer(axum::middleware::from_fn_with_state(state.clone(), csrf::protect))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            state.config.request_timeout,
        ))
        .layer(axum::middleware::from_fn_with_state(state.clone(), auth::audit))
        .layer(axum::middleware::from_fn(headers::secure))
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
        let sweeper = state.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(sweep_every(sweeper.config.planned_job_ttl));
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            every.tick().await;
            loop {
                every.tick().await;
                let st = sweeper.clone();
                let swept = tokio::task::spawn_blocking(move || expire_waiting(st.store.as_ref(), &st.config)).await;
                if let Ok(Err(e)) = swept {
                    eprintln!("vaultferry serve: the expiry sweep failed: {e}");
                }
            }
        });
        let header_read_timeout = state.config.header_read_timeout;
        listen::serve(listener, app(state), header_read_timeout, shutdown_signal()).await;
        Ok(())
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
#[cfg(test)]
mod tests_hostile;
#[cfg(test)]
mod tests_session;
