//! The organisation's import policy (`vaultferry.toml`).

/// The policy file is invalid.
#[derive(Debug, thiserror::Error)]
#[error("{position}: {message}")]
pub struct PolicyError {
    pub position: crate::model::Position,
    pub message: String,
}
