//! The embedded workspace: one SQLite file (bundled SQLite, WAL, foreign keys).

use std::path::Path;

use super::{Snapshot, Workspace, WorkspaceError};

/// A workspace stored in a SQLite file.
pub struct SqliteWorkspace {
    path: String,
}

impl SqliteWorkspace {
    /// Opens an existing workspace database created by `workspace init`.
    pub fn open(path: &Path) -> Result<SqliteWorkspace, WorkspaceError> {
        Err(WorkspaceError::Store {
            path: path.display().to_string(),
            message: "the SQLite workspace is not available yet".into(),
        })
    }
}

impl Workspace for SqliteWorkspace {
    fn snapshot(&self) -> Result<Snapshot, WorkspaceError> {
        Err(WorkspaceError::Store {
            path: self.path.clone(),
            message: "the SQLite workspace is not available yet".into(),
        })
    }
}
