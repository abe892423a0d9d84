//! The target: a workspace of members, teams, partners, collections,
//! accounts, secrets and grants.
//!
//! Later stages see it only through the [`Workspace`] trait and the plain
//! [`Snapshot`] it returns, so the embedded SQLite store and the web app's
//! HTTP API are interchangeable. No SQL lives outside `sqlite*`.

pub mod http;
pub mod identity;
pub mod key;
pub mod read_ahead;
pub mod scim;
pub mod seed;
pub mod service;
mod shared;
pub mod sqlite;
mod types;
mod upload;
pub mod views;
pub mod wire;

use serde::Serialize;
pub use types::*;

/// Opens the embedded SQLite workspace at `path` (created by `workspace init`).
pub fn open_sqlite(path: &std::path::Path) -> Result<Box<dyn Workspace>, WorkspaceError> {
    open_sqlite_keyed(path, &key::KeyLocation::default())
}

/// [`open_sqlite`] with its workspace key looked for at `key` (`--key-file`).
pub fn open_sqlite_keyed(path: &std::path::Path, key: &key::KeyLocation) -> Result<Box<dyn Workspace>, WorkspaceError> {
    Ok(Box::new(sqlite::SqliteWorkspace::open_keyed(path, key)?))
}

/// Each planned account's and secret's import key and content hash, by
/// import key.
pub type PlannedHashes<'a> = rustc_hash::FxHashMap<&'a str, (&'a ImportKey, &'a str)>;

/// A workspace store. Object-safe so the CLI and the server can hold a
/// `Box<dyn Workspace>` / `Arc<dyn Workspace>` whatever the backend.
pub trait Workspace: Send + Sync {
    /// Everything the mapper and the diff need, read in one consistent view.
    fn snapshot(&self) -> Result<Snapshot, WorkspaceError>;

    /// The snapshot a run starts from: everything but accounts and
    /// secrets when the store can read those later with
    /// [`load_items`](Workspace::load_items), once the plan's content
    /// hashes are known. The default reads everything.
    fn snapshot_base(&self) -> Result<Snapshot, WorkspaceError> {
        self.snapshot()
    }

    /// How many accounts and secrets the workspace holds, without reading
    /// them: whether a plan can afford the whole snapshot.
    fn item_count(&self) -> Result<usize, WorkspaceError> {
        let s = self.snapshot()?;
        Ok(s.accounts.len() + s.secrets.len() + s.intact_accounts.len() + s.intact_secrets.len())
    }

    /// Completes a [`snapshot_base`](Workspace::snapshot_base) with the
    /// accounts and secrets. An item the store knows is untouched since the
    /// importer wrote it, and whose stored hash is the one `planned` gives
    /// for its key, comes as an [`IntactItem`]; every other item comes
    /// whole. The default has nothing to add (its base was complete).
    fn load_items(&self, snapshot: &mut Snapshot, planned: &PlannedHashes<'_>) -> Result<(), WorkspaceError> {
        let _ = (snapshot, planned);
        Ok(())
    }

    /// What [`load_items`](Workspace::load_items) reads that needs no
    /// plan, for a run to read on another thread while it parses and maps
    /// the export: then [`settle`](read_ahead::IndexedRows::settle)
    /// decides the intact items and
    /// [`read_items_by_id`](Workspace::read_items_by_id) reads the rest.
    /// `None` (the default) when the store has nothing to read ahead:
    /// `load_items` then does it all.
    fn read_ahead(&self) -> Result<Option<read_ahead::ReadAhead>, WorkspaceError> {
        Ok(None)
    }

    /// Completes a [`snapshot_base`](Workspace::snapshot_base) with these
    /// accounts and secrets, read whole (ids from a
    /// [`read_ahead`](Workspace::read_ahead), ascending; an id gone since
    /// is left out). Only a store that reads ahead is asked.
    fn read_items_by_id(
        &self,
        snapshot: &mut Snapshot,
        accounts: &[i64],
        secrets: &[i64],
    ) -> Result<(), WorkspaceError> {
        let _ = (snapshot, accounts, secrets);
        Err(unsupported("read items by id"))
    }

    // The writes `apply` needs. Each is keyed by the object's import key
    // (required) and idempotent: called again with the same key it writes
    // nothing and returns the id the first call created, so a resumed run
    // never duplicates. The `id` of the argument is ignored. Defaults refuse,
    // so a read-only backend need only implement `snapshot`.

    /// Creates a collection (`parent` nests it); returns its id.
    fn create_collection(&self, collection: &Collection) -> Result<i64, WorkspaceError> {
        let _ = collection;
        Err(unsupported("create collections"))
    }

    /// Creates an account with its fields and attachments; returns its id.
    fn create_account(&self, account: &Account) -> Result<i64, WorkspaceError> {
        let _ = account;
        Err(unsupported("create accounts"))
    }

    /// Creates a secret with its fields and attachments; returns its id.
    fn create_secret(&self, secret: &SecretItem) -> Result<i64, WorkspaceError> {
        let _ = secret;
        Err(unsupported("create secrets"))
    }

    /// Grants a role. A grantee that already holds a role on the target
    /// keeps it (the id returned is that grant's).
    ///
    /// Guests and login-only members only ever hold Collaborator, by every
    /// path a role reaches a person, so the store refuses with
    /// [`WorkspaceError::Rule`]: Owner or Manager for such a member (but
    /// Manager on an account for a local partner's Guest Admin, who may
    /// share onward only accounts they manage), for a team with such a
    /// member, or for a local partner; Owner for a partnership; Manager on
    /// anything but an account. A role on a collection reaches its
    /// subcollections and items unchanged, so these rules also cap what is
    /// inherited. The same rules hold when a role is changed later.
    fn create_grant(&self, grant: &Grant) -> Result<i64, WorkspaceError> {
        let _ = grant;
        Err(unsupported("create grants"))
    }

    /// The team for a sharing group: an existing team of that name
    /// (case-insensitively) is reused; otherwise it is created.
    fn create_team(&self, name: &str, import_key: &ImportKey) -> Result<i64, WorkspaceError> {
        let _ = (name, import_key);
        Err(unsupported("create teams"))
    }

    /// Adds a member to a team (nothing if they are in it already). A guest
    /// or login-only member cannot join a team that holds Owner or Manager
    /// anywhere ([`WorkspaceError::Rule`]): they would hold it through the
    /// team.
    fn add_team_member(&self, team: i64, member: i64) -> Result<(), WorkspaceError> {
        let _ = (team, member);
        Err(unsupported("change teams"))
    }

    /// Invites a guest: creates the guest member (role guest, state
    /// invited) unless they are a guest already, joins them to the partner
    /// if any, and records the invitation. Returns the invitation id.
    fn create_guest_invitation(&self, invitation: &NewGuestInvitation) -> Result<i64, WorkspaceError> {
        let _ = invitation;
        Err(unsupported("invite guests"))
    }

    // The batch API `apply` uses: a run is opened, its objects are written
    // in batches (each batch one transaction holding the objects, their
    // import keys and one journal row each), and the run is closed. A crash
    // loses at most the batch in flight, and the next run's diff finds the
    // committed objects unchanged.

    /// Opens an import run. Runs an earlier process left `running` (it
    /// crashed or was killed) are marked `interrupted` and returned.
    fn begin_run(&self, run: &NewRun) -> Result<Vec<String>, WorkspaceError> {
        let _ = run;
        Err(unsupported("record import runs"))
    }

    /// Writes `writes` in ONE transaction, each insert-or-update keyed by
    /// its import key, with one `run_journal` row per object. Returns, per
    /// write, the id of the object it keys (for an invitation: the guest's
    /// member id). On error nothing of the batch is kept.
    fn apply_batch(&self, run: &str, writes: &[Write]) -> Result<Vec<i64>, WorkspaceError> {
        let _ = (run, writes);
        Err(unsupported("apply batches"))
    }

    // The invitation outbox: an invitation is written `pending` in its
    // batch and marked delivered once its email is (the defaults keep no
    // outbox: nothing is ever pending, and marking does nothing).

    /// Invitations whose email was never delivered, oldest first.
    fn pending_invitations(&self) -> Result<Vec<PendingInvitation>, WorkspaceError> {
        Ok(Vec::new())
    }

    /// Replaces a pending invitation's password hash, in its own commit,
    /// before the email carrying the new password goes out. `false` (and
    /// nothing changed) when it is not pending.
    fn replace_invitation_password(&self, key: &ImportKey, hash: &str, salt: &str) -> Result<bool, WorkspaceError> {
        let _ = (key, hash, salt);
        Ok(true)
    }

    /// Marks an invitation's email delivered (`via`: how).
    fn invitation_delivered(&self, key: &ImportKey, via: &str) -> Result<(), WorkspaceError> {
        let _ = (key, via);
        Ok(())
    }

    /// Per key of `keys`, whether a run of source `scope` created the
    /// object ([`crate::diff::source_scope`]): only then can a later run
    /// of that source call it gone. Asked about the few keyed objects a
    /// plan no longer has, never the whole workspace. The default, for a
    /// store that keeps no such record, says yes to every key.
    fn created_by_source(&self, scope: &str, keys: &[&ImportKey]) -> Result<Vec<bool>, WorkspaceError> {
        let _ = scope;
        Ok(vec![true; keys.len()])
    }

    /// Closes a run with its final state and a summary (JSON counts).
    fn finish_run(&self, run: &str, state: RunState, summary: &str) -> Result<(), WorkspaceError> {
        let _ = (run, state, summary);
        Err(unsupported("record import runs"))
    }

    /// The import runs, newest first.
    fn runs(&self) -> Result<Vec<RunInfo>, WorkspaceError> {
        Err(unsupported("list import runs"))
    }

    /// Re-keys collections an earlier build keyed differently
    /// ([`KeyMove`]), their grants with them, and stores the items'
    /// `rehashed` content hashes, in one transaction that also records each
    /// move. A move whose `from` is gone or whose `to` is taken is left
    /// out. Returns how many collections moved. A store that cannot re-key
    /// moves nothing: the run then creates under the new keys.
    fn move_collection_keys(&self, moves: &[KeyMove], rehashed: &RehashedItems) -> Result<usize, WorkspaceError> {
        let _ = (moves, rehashed);
        Ok(0)
    }

    /// A private copy of the workspace that no one else sees and that
    /// goes away when dropped: where `plan` makes the writes a run would
    /// make before its comparison (the key moves), so that it shows what
    /// the run would do after them while the store stays untouched.
    /// `None` from a store that cannot be copied.
    fn scratch_copy(&self) -> Result<Option<Box<dyn Workspace>>, WorkspaceError> {
        Ok(None)
    }

    /// The bytes of one account's or secret's attachments, in the order
    /// the snapshot lists them, for `export`: a snapshot leaves the bytes
    /// of imported attachments in the store (they are compared by digest).
    /// Empty from a store that cannot say; `None` where it holds none.
    fn attachment_bytes(&self, item: GrantTarget) -> Result<Vec<Option<crate::secret::Secret>>, WorkspaceError> {
        let _ = item;
        Ok(Vec::new())
    }
}

/// A workspace collection to re-key from the import key an earlier build
/// gave its source folder to the key this build gives it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct KeyMove {
    pub from: ImportKey,
    pub to: ImportKey,
}

/// The content hashes that accounts and secrets inside moved collections
/// hold once the collections carry their new keys (a content hash covers
/// the collection's key), by item id. Only items that were as the importer
/// wrote them are listed: an edited item keeps its old hash, so the next
/// run still reports the edit as a conflict.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct RehashedItems {
    pub accounts: Vec<(i64, String)>,
    pub secrets: Vec<(i64, String)>,
}

/// An import run to open.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct NewRun {
    pub id: String,
    pub source_file: String,
    pub actor: String,
    /// The source the run reads ([`crate::diff::source_scope`]): what it
    /// creates is "gone from the source" only to a later run of the same.
    #[serde(default)]
    pub scope: String,
}

/// How an import run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunState {
    Running,
    Completed,
    Failed,
    Aborted,
    /// Left `running` by a process that died; found by the next run.
    Interrupted,
}

impl RunState {
    pub fn name(self) -> &'static str {
        match self {
            RunState::Running => "running",
            RunState::Completed => "completed",
            RunState::Failed => "failed",
            RunState::Aborted => "aborted",
            RunState::Interrupted => "interrupted",
        }
    }

    pub fn from_name(name: &str) -> Option<RunState> {
        [
            RunState::Running,
            RunState::Completed,
            RunState::Failed,
            RunState::Aborted,
            RunState::Interrupted,
        ]
        .into_iter()
        .find(|s| s.name() == name)
    }
}

/// One recorded import run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct RunInfo {
    pub id: String,
    pub started: String,
    pub finished: Option<String>,
    pub source_file: String,
    pub actor: Option<String>,
    pub state: RunState,
    /// Journal rows (objects written).
    pub writes: usize,
}

/// One object write of a batch. Every variant carries its import key; ids
/// it refers to were returned by earlier batches or read from the snapshot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Write {
    /// A team for a sharing group (found by key, else by name, else
    /// created) and the members to add to it.
    Team {
        key: ImportKey,
        name: String,
        members: Vec<i64>,
    },
    Invitation(NewGuestInvitation),
    /// Created, or renamed/moved when it exists under the key.
    Collection {
        key: ImportKey,
        name: String,
        parent: Option<i64>,
    },
    /// Inserted or replaced whole under `import.import_key`, with
    /// `imported_hash` set from `import.imported_hash`.
    Account(Account),
    Secret(SecretItem),
    /// Created, or its role set when a grant exists under the key or for
    /// the same target and grantee.
    Grant(Grant),
    /// Test hook: fails the batch at this point, as a crash mid-batch
    /// would, so everything before it in the batch rolls back.
    #[doc(hidden)]
    Interrupt,
}

impl Write {
    pub fn key(&self) -> Option<&ImportKey> {
        match self {
            Write::Team { key, .. } | Write::Collection { key, .. } => Some(key),
            Write::Invitation(i) => Some(&i.import_key),
            Write::Account(a) => a.import.import_key.as_ref(),
            Write::Secret(s) => s.import.import_key.as_ref(),
            Write::Grant(g) => g.import_key.as_ref(),
            Write::Interrupt => None,
        }
    }
}

fn unsupported(what: &str) -> WorkspaceError {
    WorkspaceError::Rule(format!("this workspace store cannot {what}"))
}

/// A guest invitation to write. The temporary password itself is sent to
/// the guest and never stored: only its salted hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct NewGuestInvitation {
    pub email: String,
    pub name: Option<String>,
    pub username: String,
    pub password_hash: String,
    pub salt: String,
    /// The local partner the guest joins, if their domain is a partner's.
    pub partner: Option<i64>,
    /// Joins the partner as Guest Admin rather than Guest User.
    pub partner_admin: bool,
    pub import_key: ImportKey,
}

/// An invitation whose email was never delivered: what a new email needs
/// (its password is made anew; the first one was only in memory).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct PendingInvitation {
    pub import_key: ImportKey,
    pub email: String,
    pub name: Option<String>,
    pub username: String,
}

/// A workspace store failed or refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WorkspaceError {
    /// The database file or its schema cannot be used.
    #[error("{path}: {message}")]
    Store { path: String, message: String },
    /// A seed, SCIM or other input file is invalid; names file, line, field.
    #[error("{position}: {message}")]
    Input {
        position: crate::model::Position,
        message: String,
    },
    /// The request breaks a workspace rule (a second partnership, a guest
    /// given Owner…).
    #[error("{0}")]
    Rule(String),
}
