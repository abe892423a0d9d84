use crate::policy::PolicyError;
use crate::sources::SourceError;
use crate::workspace::WorkspaceError;

/// Any failure a command can end with. Each stage keeps its own error type;
/// this only gathers them so `main` can print one line and pick an exit code.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error(transparent)]
    Workspace(#[from] WorkspaceError),
    #[error(transparent)]
    Policy(#[from] PolicyError),
    /// Flags that cannot work together, a refused user, a missing file.
    #[error("{0}")]
    Usage(String),
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    /// Exit status for this error: 2, "unusable input or setup".
    pub fn exit_code(&self) -> u8 {
        2
    }
}
