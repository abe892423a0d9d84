//! What `vaultferry serve` stores beside the workspace: API keys, import
//! jobs, idempotency records and the audit trail. A trait of its own so the
//! server holds it as `Arc<dyn ServiceStore>` like the workspace.

use serde::Serialize;

use super::{Member, WorkspaceError};

/// An import job's life: `queued` → `parsing` → `planned` → `applying` →
/// `done`; or `failed` / `cancelled` from any of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    Queued,
    Parsing,
    Planned,
    Applying,
    Done,
    Failed,
    Cancelled,
}

impl JobState {
    pub const ALL: [JobState; 7] = [
        JobState::Queued,
        JobState::Parsing,
        JobState::Planned,
        JobState::Applying,
        JobState::Done,
        JobState::Failed,
        JobState::Cancelled,
    ];

    pub fn name(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Parsing => "parsing",
            JobState::Planned => "planned",
            JobState::Applying => "applying",
            JobState::Done => "done",
            JobState::Failed => "failed",
            JobState::Cancelled => "cancelled",
        }
    }

    pub fn from_name(name: &str) -> Option<JobState> {
        JobState::ALL.into_iter().find(|s| s.name() == name)
    }

    /// Work is under way or waiting for a worker: counts against the cap.
    pub fn is_active(self) -> bool {
        matches!(self, JobState::Queued | JobState::Parsing | JobState::Applying)
    }
}

/// A stored import job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Job {
    pub id: String,
    pub member_id: i64,
    /// The importer's email (the API key's member).
    pub actor: String,
    pub state: JobState,
    /// JSON: `{"phase": …, "done": n, "total": n}`.
    pub progress: String,
    /// JSON counts of the plan, then of the applied run.
    pub summary: Option<String>,
    /// For a failed job: the positioned parser error or what went wrong.
    pub error: Option<String>,
    /// Failed because the server stopped mid-work: POST apply finishes it.
    pub resumable: bool,
    /// The job's own owner-only upload folder; `None` once removed.
    pub upload_dir: Option<String>,
    pub export_name: String,
    pub sharing_name: Option<String>,
    pub policy_name: Option<String>,
    pub run_id: Option<String>,
    pub created: String,
    pub updated: String,
}

/// The largest piece of a stored report: a report of any size is written
/// and served this much at a time.
pub const REPORT_PIECE_BYTES: usize = 256 * 1024;

/// A job's finished report in one format: which version, in how many
/// pieces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StoredReport {
    pub generation: i64,
    pub pieces: i64,
    pub bytes: i64,
}

/// A write's recorded answer, replayed when the same idempotency key comes
/// again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdempotencyRecord {
    /// SHA-256 of method, path and body: the same key with another request
    /// is a client bug, answered 422 rather than replayed.
    pub request_hash: String,
    pub status: u16,
    pub response: String,
}

pub trait ServiceStore: Send + Sync {
    /// Creates an API key for the member with this email; returns the key
    /// (shown once, only its hash is kept) and the member.
    fn create_api_key(&self, email: &str) -> Result<(String, Member), WorkspaceError>;
    /// The member a working API key belongs to: `None` for an unknown,
    /// revoked or expired one. (The server's auth uses
    /// `IdentityStore::api_key`, which says which of those it is.)
    fn member_for_key(&self, key: &str) -> Result<Option<Member>, WorkspaceError>;
    /// One audit row: who, what (method and path), outcome (status).
    fn audit(&self, actor: &str, action: &str, object: &str) -> Result<(), WorkspaceError>;
    fn idempotency_record(&self, member: i64, key: &str) -> Result<Option<IdempotencyRecord>, WorkspaceError>;
    /// Records a write's answer; a record under the same key stays as it was.
    fn save_idempotency_record(&self, member: i64, key: &str, record: &IdempotencyRecord)
        -> Result<(), WorkspaceError>;

    fn insert_job(&self, job: &Job) -> Result<(), WorkspaceError>;
    fn job(&self, id: &str) -> Result<Option<Job>, WorkspaceError>;
    /// Saves everything but the state (which only [`Self::transition`] changes).
    fn save_job(&self, job: &Job) -> Result<(), WorkspaceError>;
    /// Moves a job from one of `from` to `to`; false when it was in none of
    /// them (cancelled meanwhile…). `error` and `resumable` are set with it.
    fn transition(
        &self,
        id: &str,
        from: &[JobState],
        to: JobState,
        error: Option<&str>,
        resumable: bool,
    ) -> Result<bool, WorkspaceError>;
    /// Starts a new version of a job's report in `format` (`json`, `html`,
    /// `csv`): returns its generation, for [`Self::save_report_piece`].
    /// Versions a stopped writer left unfinished are dropped.
    fn begin_report(&self, job: &str, format: &str) -> Result<i64, WorkspaceError>;
    /// One piece, at most [`REPORT_PIECE_BYTES`], numbered from 0.
    fn save_report_piece(
        &self,
        job: &str,
        format: &str,
        generation: i64,
        seq: i64,
        bytes: &[u8],
    ) -> Result<(), WorkspaceError>;
    /// Makes the version the one served, and drops the one before.
    fn finish_report(&self, job: &str, format: &str, report: StoredReport) -> Result<(), WorkspaceError>;
    /// The finished report in `format`, if any.
    fn report(&self, job: &str, format: &str) -> Result<Option<StoredReport>, WorkspaceError>;
    /// One piece of a version; `None` once that version was replaced.
    fn report_piece(
        &self,
        job: &str,
        format: &str,
        generation: i64,
        seq: i64,
    ) -> Result<Option<Vec<u8>>, WorkspaceError>;
    fn active_jobs(&self) -> Result<usize, WorkspaceError>;
    /// On startup: jobs a stopped server left queued, parsing or applying
    /// become failed and resumable. Returns their ids.
    fn recover_jobs(&self) -> Result<Vec<String>, WorkspaceError>;
}

/// A new random API key: 256 bits from the OS generator, hex, with a prefix
/// that makes a leaked key easy to recognise in a scan.
pub fn new_api_key() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("vfk_{}", hex::encode(bytes))
}

/// The stored form of an API key. A plain SHA-256 is enough here, unlike
/// for passwords: the key is 256 random bits, so there is no dictionary to
/// try and a slow KDF would only cost every request; a copy of the
/// database still cannot be turned back into working keys.
pub fn api_key_hash(key: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(key.trim().as_bytes()))
}
