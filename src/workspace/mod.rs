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
