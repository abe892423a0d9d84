//! The target: a workspace of members, teams, partners, collections,
//! accounts, secrets and grants.
//!
//! Later stages see it only through the [`Workspace`] trait and the plain
//! [`Snapshot`] it returns, so the embedded SQLite store and the web app's
//! HTTP API are interchangeable. No SQL lives outside `sqlite*`.

pub mod scim;
pub mod seed;
pub mod sqlite;
mod types;

pub use types::*;

/// Opens the embedded SQLite workspace at `path` (created by `workspace init`).
pub fn open_sqlite(path: &std::path::Path) -> Result<Box<dyn Workspace>, WorkspaceError> {
    Ok(Box::new(sqlite::SqliteWorkspace::open(path)?))
}

/// A workspace store. Object-safe so the CLI and the server can hold a
/// `Box<dyn Workspace>` / `Arc<dyn Workspace>` whatever the backend.
pub trait Workspace: Send + Sync {
    /// Everything the mapper and the diff need, read in one consistent view.
    fn snapshot(&self) -> Result<Snapshot, WorkspaceError>;

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
    /// keeps it (the id returned is that grant's). Guests and login-only
    /// members only ever get Collaborator; Manager exists only on accounts:
    /// both refused with [`WorkspaceError::Rule`].
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

    /// Adds a member to a team (nothing if they are in it already).
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
}

fn unsupported(what: &str) -> WorkspaceError {
    WorkspaceError::Rule(format!("this workspace store cannot {what}"))
}

/// A guest invitation to write. The temporary password itself is sent to
/// the guest and never stored: only its salted hash.
#[derive(Clone, Debug, PartialEq, Eq)]
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
