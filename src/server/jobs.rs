//! Import jobs: an upload becomes a job whose state lives in the store.
//!
//! `POST /imports` saves the files in the job's own folder (0700, files
//! 0600) and starts the work in the background; it waits a little for the
//! parse so a bad upload is answered 422 with the parser's positioned error.
//! Planning renders the dry-run reports into the store in pieces
//! (`job_reports`), served as a stream; `POST apply`
//! parses again against the workspace as it is then and applies. The folder
//! is deleted when the job ends (done, cancelled, or failed for good); a job
//! cut off by a restart keeps it, so POST apply can finish it.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{Multipart, Path as UrlPath, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::{json, Value};

use super::auth::Importer;
use super::{blocking, AppError, AppState};
use crate::apply::{self, ApplyOptions, Reporter};
use crate::policy::Policy;
use crate::report::Report;
use crate::sources::ParseOptions;
use crate::workspace::service::{Job, JobState, ServiceStore};
use crate::workspace::{
    Account, Collection, Grant, ImportKey, KeyMove, NewGuestInvitation, PendingInvitation, PlannedHashes,
    RehashedItems, SecretItem, Snapshot, Workspace, WorkspaceError, Write,
};

/// The upload parts a job accepts.
const PARTS: [&str; 3] = ["export", "sharing", "policy"];

fn job_document(job: &Job) -> Value {
    let progress: Value = serde_json::from_str(&job.progress).unwrap_or_else(|_| json!({}));
    let summary: Value = job
        .summary
        .as_deref()
        .and_then(|s| serde_json::from_str(s).ok())
        .unwrap_or(Value::Null);
    let base = format!("/api/v1/imports/{}", job.id);
    json!({
        "data": {
            "id": job.id,
            "type": "import",
            "attributes": {
                "state": job.state,
                "progress": progress,
                "summary": summary,
                "error": job.error,
                "resumable": job.resumable,
                "export": job.export_name,
                "sharing": job.sharing_name,
                "policy": job.policy_name,
                "run_id": job.run_id,
                "created": job.created,
                "updated": job.updated,
            }
        },
        "links": {
            "self": base,
            "report": format!("{base}/report"),
            "apply": format!("{base}/apply"),
        },
        "meta": {},
    })
}

fn new_job_id() -> String {
    use rand::Rng;
    let bytes: [u8; 12] = rand::thread_rng().gen();
    format!("job-{}", hex::encode(bytes))
}

/// A file name safe to use inside the job folder, keeping the extension
/// (1PUX archives and CSVs are told apart by it as well as by content).
fn safe_name(name: Option<&str>, part: &str) -> String {
    let base = name
        .and_then(|n| n.rsplit(['/', '\\']).next())
        .unwrap_or("")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect::<String>();
    let base = base.trim_start_matches('.');
    if base.is_empty() {
        part.to_owned()
    } else {
        format!("{part}-{base}")
    }
}

fn create_private_dir(path: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(path)
}

fn create_private_file(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

fn remove_uploads(dir: Option<&str>) {
    if let Some(dir) = dir {
        if let Err(e) = std::fs::remove_dir_all(dir) {
            if e.kind() != std::io::ErrorKind::NotFound {
                eprintln!("vaultferry serve: cannot remove an upload folder: {e}");
            }
        }
    }
}

/// Deletes a job's uploads and forgets the folder.
fn discard_uploads(store: &dyn ServiceStore, id: &str) {
    if let Ok(Some(mut job)) = store.job(id) {
        remove_uploads(job.upload_dir.as_deref());
        job.upload_dir = None;
        if let Err(e) = store.save_job(&job) {
            eprintln!("vaultferry serve: job {id}: {e}");
        }
    }
}

/// Saved upload parts: (part, file name, path).
struct Saved {
    dir: PathBuf,
    files: Vec<(String, String, PathBuf)>,
}

/// Reads what is left of a refused upload (as far as the route's body
/// limit lets it) without keeping it: a client still sending when the
/// answer comes would otherwise see a reset connection instead of the 413.
async fn drain(multipart: &mut Multipart) {
    while let Ok(Some(mut next)) = multipart.next_field().await {
        while let Ok(Some(_)) = next.chunk().await {}
    }
}

async fn save_upload(state: &AppState, id: &str, mut multipart: Multipart) -> Result<Saved, AppError> {
    let dir = state.config.upload_root.join(id);
    {
        let root = state.config.upload_root.clone();
        let dir = dir.clone();
        blocking(move || {
            create_private_dir(&root).map_err(AppError::internal)?;
            create_private_dir(&dir).map_err(AppError::internal)
        })
        .await?;
    }
    let mut saved = Saved { dir, files: vec![] };
    let mut total = 0usize;
    let limit = state.config.max_upload_bytes;
    let too_large = || {
        AppError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the upload is larger than this server accepts ({limit} bytes in all)"),
        )
    };
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return Err(too_large()),
            Err(e) => {
                return Err(AppError::new(
                    e.status(),
                    format!("cannot read the upload: {}", e.body_text()),
                ))
            }
        };
        let part = field.name().unwrap_or("").to_owned();
        if !PARTS.contains(&part.as_str()) {
            return Err(AppError::unprocessable(format!(
                "unknown upload part {part:?}: expected export, and optionally sharing and policy"
            )));
        }
        if saved.files.iter().any(|(p, _, _)| *p == part) {
            return Err(AppError::unprocessable(format!("the part {part:?} was sent twice")));
        }
        let original = field.file_name().map(str::to_owned);
        let name = safe_name(original.as_deref(), &part);
        let path = saved.dir.join(&name);
        let mut file = create_private_file(&path).map_err(AppError::internal)?;
        let mut field = field;
        loop {
            match field.chunk().await {
                Ok(Some(bytes)) => {
                    total = total.saturating_add(bytes.len());
                    if total > limit {
                        while let Ok(Some(_)) = field.chunk().await {}
                        drop(field);
                        drain(&mut multipart).await;
                        return Err(too_large());
                    }
                    file.write_all(&bytes).map_err(AppError::internal)?;
                }
                Ok(None) => break,
                Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return Err(too_large()),
                Err(e) => {
                    return Err(AppError::new(
                        e.status(),
                        format!("cannot read the upload: {}", e.body_text()),
                    ))
                }
            }
        }
        file.sync_all().map_err(AppError::internal)?;
        let shown = original.unwrap_or_else(|| part.clone());
        saved.files.push((part, shown, path));
    }
    if !saved.files.iter().any(|(p, _, _)| p == "export") {
        return Err(AppError::unprocessable(
            "the upload has no export: send the export file in a part named \"export\"",
        ));
    }
    Ok(saved)
}

pub async fn create(
    State(state): State<AppState>,
    Extension(importer): Extension<Importer>,
    multipart: Multipart,
) -> Result<Response, AppError> {
    let id = new_job_id();
    // Room for another job? Checked and claimed under one lock.
    let admission = state.admission.clone().lock_owned().await;
    let store = state.store.clone();
    let active = blocking(move || Ok(store.active_jobs()?)).await?;
    if active >= state.config.max_jobs {
        let mut r = AppError::new(
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "{active} imports are running already (the limit is {}); try again when one has finished",
                state.config.max_jobs
            ),
        )
        .into_response();
        r.headers_mut()
            .insert(header::RETRY_AFTER, header::HeaderValue::from_static("2"));
        return Ok(r);
    }
    let saved = match save_upload(&state, &id, multipart).await {
        Ok(s) => s,
        Err(e) => {
            let dir = state.config.upload_root.join(&id);
            let _ = tokio::task::spawn_blocking(move || remove_uploads(dir.to_str())).await;
            return Err(e);
        }
    };
    let file = |part: &str| saved.files.iter().find(|(p, _, _)| p == part);
    let job = Job {
        id: id.clone(),
        member_id: importer.0.id,
        actor: importer.0.email.clone(),
        state: JobState::Queued,
        progress: json!({"phase": "queued", "done": 0, "total": 0}).to_string(),
        summary: None,
        error: None,
        resumable: false,
        upload_dir: saved.dir.to_str().map(str::to_owned),
        export_name: file("export").map(|f| f.1.clone()).unwrap_or_default(),
        sharing_name: file("sharing").map(|f| f.1.clone()),
        policy_name: file("policy").map(|f| f.1.clone()),
        run_id: None,
        created: String::new(),
        updated: String::new(),
    };
    let store = state.store.clone();
    let inserted = job.clone();
    blocking(move || Ok(store.insert_job(&inserted)?)).await?;
    drop(admission);

    // The work, in the background; the parse outcome is sent back so a bad
    // upload can be answered now.
    let (parsed_tx, parsed_rx) = tokio::sync::oneshot::channel::<Result<(), String>>();
    let worker = state.clone();
    let job_id = id.clone();
    tokio::spawn(async move {
        let Ok(permit) = worker.workers.clone().acquire_owned().await else {
            return;
        };
        let st = worker.clone();
        let result = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            plan_job(&st, &job_id, parsed_tx)
        })
        .await;
        if let Err(e) = result {
            eprintln!("vaultferry serve: a planning task stopped: {e}");
        }
    });

    match tokio::time::timeout(state.config.parse_wait, parsed_rx).await {
        Ok(Ok(Err(error))) => Err(AppError::unprocessable(error)),
        _ => {
            let store = state.store.clone();
            let shown = id.clone();
            let job = blocking(move || Ok(store.job(&shown)?)).await?.unwrap_or(job);
            let mut r = (StatusCode::ACCEPTED, Json(job_document(&job))).into_response();
            if let Ok(v) = header::HeaderValue::from_str(&format!("/api/v1/imports/{id}")) {
                r.headers_mut().insert(header::LOCATION, v);
            }
            Ok(r)
        }
    }
}

/// What a job reads, from its folder.
struct Inputs {
    export: PathBuf,
    sharing: Option<PathBuf>,
    policy: Option<PathBuf>,
}

fn inputs(job: &Job) -> Result<Inputs, String> {
    let dir = job
        .upload_dir
        .as_deref()
        .ok_or("the job's uploads were removed when it ended; upload the export again")?;
    let mut found = Inputs {
        export: PathBuf::new(),
        sharing: None,
        policy: None,
    };
    let entries = std::fs::read_dir(dir).map_err(|_| "the job's uploads are gone; upload the export again")?;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let part = name.split('-').next().unwrap_or("");
        match part {
            "export" => found.export = entry.path(),
            "sharing" => found.sharing = Some(entry.path()),
            "policy" => found.policy = Some(entry.path()),
            _ => {}
        }
    }
    if found.export.as_os_str().is_empty() {
        return Err("the job's export is missing from its uploads; upload it again".into());
    }
    Ok(found)
}

/// Replaces the server's upload path in a message with the file's name as
/// uploaded.
fn shown(message: String, job: &Job, inputs: &Inputs) -> String {
    let mut m = message;
    let pairs = [
        (Some(&inputs.export), Some(job.export_name.as_str())),
        (inputs.sharing.as_ref(), job.sharing_name.as_deref()),
        (inputs.policy.as_ref(), job.policy_name.as_deref()),
    ];
    for (path, name) in pairs {
        if let (Some(path), Some(name)) = (path, name) {
            m = m.replace(&path.display().to_string(), name);
        }
    }
    m
}

/// Tells `POST /imports`, which waits for it, how the parse went.
type Parsed = tokio::sync::oneshot::Sender<Result<(), String>>;

/// Policy, workspace, export, sharing → changeset, through the import
/// pipeline `migrate` uses (key moves and content pairing included);
/// errors are the messages the user sees (positioned, with the uploaded
/// file names).
fn prepare(
    state: &AppState,
    job: &Job,
    inputs: &Inputs,
    parsed: &mut Option<Parsed>,
) -> Result<crate::import::Prepared, String> {
    let fail = |message: String| shown(message, job, inputs);
    let policy = match &inputs.policy {
        Some(p) => Policy::load(p).map_err(|e| fail(e.to_string()))?,
        None => Policy::default(),
    };
    let import = crate::import::Import {
        export: inputs.export.clone(),
        sharing: inputs.sharing.clone(),
        options: ParseOptions::default(),
        policy,
        importer: Some(job.actor.clone()),
        overwrite: false,
        owner: None,
        keep_source: false,
    };
    let mut stages = ParseReported { parsed };
    let workspace = state.workspace.clone();
    let prepared = crate::import::prepare(
        &import,
        || Ok(Box::new(workspace)),
        &mut stages,
        crate::import::KeyMoves::Write,
    );
    prepared.map_err(|e| match e {
        crate::Error::Workspace(e) => {
            // The store's message names server paths: logged, not shown.
            eprintln!("vaultferry serve: job {}: {e}", job.id);
            "the workspace could not be read; the cause is in the server's log".to_owned()
        }
        other => fail(other.to_string()),
    })
}

/// Tells `POST /imports` the parse went well once the pipeline is past
/// reading the files: the stage after them is the comparison.
struct ParseReported<'a> {
    parsed: &'a mut Option<Parsed>,
}

impl crate::import::Stages for ParseReported<'_> {
    fn start(&mut self, name: &'static str) {
        if name == crate::import::COMPARING {
            if let Some(tx) = self.parsed.take() {
                let _ = tx.send(Ok(()));
            }
        }
    }
}

/// Stores the job's reports (in pieces, as they render) and its summary.
/// The report names the files as uploaded and the workspace, never the
/// server's paths.
fn store_reports(store: &dyn ServiceStore, job: &mut Job, inputs: &Inputs, mut r: Report, summary: Value) {
    for f in &mut r.findings {
        f.message = shown(std::mem::take(&mut f.message), job, inputs);
        f.file = f.file.take().map(|file| shown(file, job, inputs));
    }
    r.source.file = job.export_name.clone();
    r.generated.inputs = std::iter::once(job.export_name.clone())
        .chain(job.sharing_name.clone())
        .collect();
    r.generated.store = Some(format!("workspace {} ({})", r.workspace.name, r.workspace.id));
    super::job_reports::store_all(store, &job.id, &r);
    drop(r);
    job.summary = Some(summary.to_string());
}

fn fail_job(store: &dyn ServiceStore, id: &str, from: &[JobState], error: &str, resumable: bool) {
    match store.transition(id, from, JobState::Failed, Some(error), resumable) {
        Ok(_) => {}
        Err(e) => eprintln!("vaultferry serve: job {id}: {e}"),
    }
    if !resumable {
        discard_uploads(store, id);
    }
}

/// Background: queued → parsing → planned (or failed).
fn plan_job(state: &AppState, id: &str, parsed: Parsed) {
    let mut parsed = Some(parsed);
    let store = state.store.as_ref();
    match store.transition(id, &[JobState::Queued], JobState::Parsing, None, false) {
        Ok(true) => {}
        // Cancelled while queued: its uploads went with the cancel.
        Ok(false) => return,
        Err(e) => {
            eprintln!("vaultferry serve: job {id}: {e}");
            return;
        }
    }
    let Ok(Some(mut job)) = store.job(id) else {
        return;
    };
    set_progress(store, &mut job, "parsing", 0, 0);
    let inputs = match inputs(&job) {
        Ok(i) => i,
        Err(e) => return fail_job(store, id, &[JobState::Parsing], &e, false),
    };
    match prepare(state, &job, &inputs, &mut parsed) {
        Ok(prepared) => {
            let cs = &prepared.changeset;
            let summary = json!({ "to_write": cs.to_write(), "counts": cs.reconcile() });
            store_reports(store, &mut job, &inputs, Report::plan(cs), summary);
            set_progress(store, &mut job, "planned", 0, cs.to_write());
            match store.transition(id, &[JobState::Parsing], JobState::Planned, None, false) {
                Ok(true) => {}
                // Cancelled while parsing.
                Ok(false) => discard_uploads(store, id),
                Err(e) => eprintln!("vaultferry serve: job {id}: {e}"),
            }
        }
        Err(message) => {
            // Uploads are gone before the 422 goes out.
            fail_job(store, id, &[JobState::Parsing], &message, false);
            if let Some(tx) = parsed.take() {
                let _ = tx.send(Err(message));
            }
        }
    }
}

fn set_progress(store: &dyn ServiceStore, job: &mut Job, phase: &str, done: usize, total: usize) {
    job.progress = json!({ "phase": phase, "done": done, "total": total }).to_string();
    if let Err(e) = store.save_job(job) {
        eprintln!("vaultferry serve: job {}: {e}", job.id);
    }
}

/// Writes progress to the job row, at most a few times a second.
struct JobProgress<'a> {
    store: &'a dyn ServiceStore,
    job: Job,
    phase: String,
    total: usize,
    last: Instant,
}

impl Reporter for JobProgress<'_> {
    fn phase_started(&mut self, phase: &str, total: usize) {
        self.phase = phase.to_owned();
        self.total = total;
        set_progress(self.store, &mut self.job, phase, 0, total);
        self.last = Instant::now();
    }

    fn item_done(&mut self, phase: &str, done: usize) {
        if self.last.elapsed() >= Duration::from_millis(200) {
            set_progress(self.store, &mut self.job, phase, done, self.total);
            self.last = Instant::now();
        }
    }

    fn phase_finished(&mut self, phase: &str) {
        let total = self.total;
        set_progress(self.store, &mut self.job, phase, total, total);
    }
}

/// The test hook of [`super::Config::write_delay`]: a pause before every
/// batch so a test can stop the server mid-apply.
///
/// Every other method goes to the store itself. This wrapper once
/// forwarded only five, so the trait's defaults answered the rest: the
/// run's read-back took the whole snapshot instead of the store's intact
/// items (a 300k-entry apply spent minutes re-hashing it), and the
/// invitation outbox looked empty to the server.
struct Slow<'a> {
    inner: &'a dyn Workspace,
    delay: Duration,
}

impl Workspace for Slow<'_> {
    fn snapshot(&self) -> Result<Snapshot, WorkspaceError> {
        self.inner.snapshot()
    }
    fn snapshot_base(&self) -> Result<Snapshot, WorkspaceError> {
        self.inner.snapshot_base()
    }
    fn item_count(&self) -> Result<usize, WorkspaceError> {
        self.inner.item_count()
    }
    fn load_items(&self, snapshot: &mut Snapshot, planned: &PlannedHashes<'_>) -> Result<(), WorkspaceError> {
        self.inner.load_items(snapshot, planned)
    }
    fn read_ahead(&self) -> Result<Option<crate::workspace::read_ahead::ReadAhead>, WorkspaceError> {
        self.inner.read_ahead()
    }
    fn read_items_by_id(
        &self,
        snapshot: &mut Snapshot,
        accounts: &[i64],
        secrets: &[i64],
    ) -> Result<(), WorkspaceError> {
        self.inner.read_items_by_id(snapshot, accounts, secrets)
    }
    fn create_collection(&self, collection: &Collection) -> Result<i64, WorkspaceError> {
        self.inner.create_collection(collection)
    }
    fn create_account(&self, account: &Account) -> Result<i64, WorkspaceError> {
        self.inner.create_account(account)
    }
    fn create_secret(&self, secret: &SecretItem) -> Result<i64, WorkspaceError> {
        self.inner.create_secret(secret)
    }
    fn create_grant(&self, grant: &Grant) -> Result<i64, WorkspaceError> {
        self.inner.create_grant(grant)
    }
    fn create_team(&self, name: &str, import_key: &ImportKey) -> Result<i64, WorkspaceError> {
        self.inner.create_team(name, import_key)
    }
    fn add_team_member(&self, team: i64, member: i64) -> Result<(), WorkspaceError> {
        self.inner.add_team_member(team, member)
    }
    fn create_guest_invitation(&self, invitation: &NewGuestInvitation) -> Result<i64, WorkspaceError> {
        self.inner.create_guest_invitation(invitation)
    }
    fn begin_run(&self, run: &crate::workspace::NewRun) -> Result<Vec<String>, WorkspaceError> {
        self.inner.begin_run(run)
    }
    fn apply_batch(&self, run: &str, writes: &[Write]) -> Result<Vec<i64>, WorkspaceError> {
        if !self.delay.is_zero() {
            std::thread::sleep(self.delay);
        }
        self.inner.apply_batch(run, writes)
    }
    fn pending_invitations(&self) -> Result<Vec<PendingInvitation>, WorkspaceError> {
        self.inner.pending_invitations()
    }
    fn replace_invitation_password(&self, key: &ImportKey, hash: &str, salt: &str) -> Result<bool, WorkspaceError> {
        self.inner.replace_invitation_password(key, hash, salt)
    }
    fn invitation_delivered(&self, key: &ImportKey, via: &str) -> Result<(), WorkspaceError> {
        self.inner.invitation_delivered(key, via)
    }
    fn created_by_source(&self, scope: &str, keys: &[&ImportKey]) -> Result<Vec<bool>, WorkspaceError> {
        self.inner.created_by_source(scope, keys)
    }
    fn finish_run(&self, run: &str, state: crate::workspace::RunState, summary: &str) -> Result<(), WorkspaceError> {
        self.inner.finish_run(run, state, summary)
    }
    fn runs(&self) -> Result<Vec<crate::workspace::RunInfo>, WorkspaceError> {
        self.inner.runs()
    }
    fn move_collection_keys(&self, moves: &[KeyMove], rehashed: &RehashedItems) -> Result<usize, WorkspaceError> {
        self.inner.move_collection_keys(moves, rehashed)
    }
    fn scratch_copy(&self) -> Result<Option<Box<dyn Workspace>>, WorkspaceError> {
        self.inner.scratch_copy()
    }
}

/// Background: applying → done (or failed).
fn apply_job(state: &AppState, id: &str) {
    let store = state.store.as_ref();
    let Ok(Some(job)) = store.job(id) else {
        return;
    };
    let inputs = match inputs(&job) {
        Ok(i) => i,
        Err(e) => return fail_job(store, id, &[JobState::Applying], &e, false),
    };
    let prepared = match prepare(state, &job, &inputs, &mut None) {
        Ok(p) => p,
        Err(message) => return fail_job(store, id, &[JobState::Applying], &message, false),
    };
    let cs = &prepared.changeset;
    let mut options = ApplyOptions::new(job.actor.clone(), state.config.outbox.clone());
    options.batch_size = state.config.batch_size.max(1);
    options.base_url = state.config.base_url.clone();
    let slow = Slow {
        inner: prepared.workspace.as_ref(),
        delay: state.config.write_delay,
    };
    let mut progress = JobProgress {
        store,
        job: job.clone(),
        phase: String::new(),
        total: 0,
        last: Instant::now(),
    };
    match apply::apply(cs, &prepared.snapshot, &slow, &options, &mut progress) {
        Ok(outcome) => {
            let mut job = progress.job;
            let summary = json!({ "written": outcome.written, "counts": outcome.stored.counts, "holds": outcome.stored.holds(), "mismatches": outcome.stored.mismatches, "warnings": outcome.warnings });
            store_reports(store, &mut job, &inputs, Report::migrate(cs, &outcome), summary);
            job.run_id = Some(outcome.run_id.clone());
            if let Err(e) = store.save_job(&job) {
                eprintln!("vaultferry serve: job {id}: {e}");
            }
            // The uploads go first: a client that sees `done` must find them
            // gone (the secrets in them are no longer needed).
            discard_uploads(store, id);
            if let Err(e) = store.transition(id, &[JobState::Applying], JobState::Done, None, false) {
                eprintln!("vaultferry serve: job {id}: {e}");
            }
        }
        Err(e) => {
            // A store that failed may work again: keep the uploads so POST
            // apply can finish (writes are idempotent by import key). A
            // workspace rule will refuse again: the job ends.
            let resumable = matches!(e, apply::ApplyError::Workspace(WorkspaceError::Store { .. }));
            let message = match &e {
                apply::ApplyError::Workspace(WorkspaceError::Store { .. }) => {
                    eprintln!("vaultferry serve: job {id}: {e}");
                    "the workspace store failed while applying; POST apply again to finish".to_owned()
                }
                other => other.to_string(),
            };
            fail_job(store, id, &[JobState::Applying], &message, resumable);
        }
    }
}

async fn load(state: &AppState, id: &str) -> Result<Job, AppError> {
    let store = state.store.clone();
    let id = id.to_owned();
    blocking(move || store.job(&id)?.ok_or_else(|| AppError::not_found("import"))).await
}

pub async fn show(State(state): State<AppState>, UrlPath(id): UrlPath<String>) -> Result<Json<Value>, AppError> {
    Ok(Json(job_document(&load(&state, &id).await?)))
}

#[derive(Debug, Default, Deserialize)]
pub struct ReportQuery {
    format: Option<String>,
}

/// The report: JSON by default, HTML for `Accept: text/html`, the CSV of
/// unmatched users for `Accept: text/csv`; `?format=json|html|csv` for
/// download links, which cannot set headers.
pub async fn report(
    State(state): State<AppState>,
    UrlPath(id): UrlPath<String>,
    Query(q): Query<ReportQuery>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let job = load(&state, &id).await?;
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let format = match q.format.as_deref() {
        Some("json") => "json",
        Some("html") => "html",
        Some("csv") => "csv",
        Some(other) => {
            return Err(AppError::bad_request(format!(
                "unknown report format {other:?}: expected json, html or csv"
            )))
        }
        None if accept.contains("text/html") => "html",
        None if accept.contains("text/csv") => "csv",
        None => "json",
    };
    let (content_type, ext) = match format {
        "html" => ("text/html; charset=utf-8", "html"),
        "csv" => ("text/csv; charset=utf-8", "csv"),
        _ => ("application/json", "json"),
    };
    let store = state.store.clone();
    let (tid, name) = (id.clone(), ext);
    let Some(stored) = blocking(move || Ok(store.report(&tid, name)?)).await? else {
        return Err(AppError::new(
            StatusCode::CONFLICT,
            format!(
                "the import is {}: its report exists once it is planned",
                job.state.name()
            ),
        ));
    };
    let body = super::job_reports::body(state.store.clone(), id.clone(), ext, stored);
    let mut r = (StatusCode::OK, body).into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, header::HeaderValue::from_static(content_type));
    r.headers_mut()
        .insert(header::CONTENT_LENGTH, header::HeaderValue::from(stored.bytes.max(0)));
    if q.format.is_some() {
        if let Ok(v) = header::HeaderValue::from_str(&format!("attachment; filename=\"{id}-report.{ext}\"")) {
            r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
        }
    }
    Ok(r)
}

pub async fn apply(State(state): State<AppState>, UrlPath(id): UrlPath<String>) -> Result<Response, AppError> {
    let job = load(&state, &id).await?;
    let from: &[JobState] = match job.state {
        JobState::Planned => &[JobState::Planned],
        JobState::Failed if job.resumable => &[JobState::Failed],
        other => {
            return Err(AppError::new(
                StatusCode::CONFLICT,
                format!(
                    "the import is {}: it can be applied once planned (or after a restart cut it off)",
                    other.name()
                ),
            ))
        }
    };
    let store = state.store.clone();
    let (tid, from) = (id.clone(), from.to_vec());
    let moved = blocking(move || Ok(store.transition(&tid, &from, JobState::Applying, None, false)?)).await?;
    if !moved {
        return Err(AppError::new(
            StatusCode::CONFLICT,
            "the import changed state meanwhile; read it again",
        ));
    }
    let worker = state.clone();
    let job_id = id.clone();
    tokio::spawn(async move {
        let Ok(permit) = worker.workers.clone().acquire_owned().await else {
            return;
        };
        let st = worker.clone();
        let result = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            apply_job(&st, &job_id)
        })
        .await;
        if let Err(e) = result {
            eprintln!("vaultferry serve: an apply task stopped: {e}");
            let store: Arc<dyn ServiceStore> = worker.store.clone();
            let _ = tokio::task::spawn_blocking(move || {
                fail_job(
                    store.as_ref(),
                    &id,
                    &[JobState::Applying],
                    "the apply stopped unexpectedly; POST apply again to finish",
                    true,
                )
            })
            .await;
        }
    });
    let job = load(&state, &job.id).await?;
    Ok((StatusCode::ACCEPTED, Json(job_document(&job))).into_response())
}

/// Cancels and discards. A job that is applying is not stopped half-way:
/// refused with 409 (let it finish, or stop the server, which leaves it
/// failed and resumable).
pub async fn cancel(State(state): State<AppState>, UrlPath(id): UrlPath<String>) -> Result<Json<Value>, AppError> {
    let job = load(&state, &id).await?;
    if job.state == JobState::Applying {
        return Err(AppError::new(
            StatusCode::CONFLICT,
            "the import is being applied and cannot be cancelled half-way; wait for it to finish",
        ));
    }
    let store = state.store.clone();
    let tid = id.clone();
    let cancelled = blocking(move || {
        let from = [JobState::Queued, JobState::Parsing, JobState::Planned, JobState::Failed];
        let moved = store.transition(&tid, &from, JobState::Cancelled, None, false)?;
        if moved {
            discard_uploads(store.as_ref(), &tid);
        }
        Ok(moved)
    })
    .await?;
    if !cancelled {
        let job = load(&state, &id).await?;
        return Err(AppError::new(
            StatusCode::CONFLICT,
            format!("the import is {} and can no longer be cancelled", job.state.name()),
        ));
    }
    Ok(Json(job_document(&load(&state, &id).await?)))
}
