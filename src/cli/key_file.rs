//! `--key-file`, on every command that opens the workspace database.

use std::path::PathBuf;

use clap::Args;

use crate::workspace::key::KeyLocation;

/// Where the workspace key is, when not in `VAULTFERRY_WORKSPACE_KEY` or
/// beside the database.
#[derive(Clone, Debug, Default, Args)]
pub struct KeyFileArg {
    /// The workspace key file (owner-only). Wins over the
    /// VAULTFERRY_WORKSPACE_KEY environment variable (base64), which wins
    /// over DB.key beside the database, where `workspace init` makes it.
    #[arg(long = "key-file", value_name = "PATH")]
    pub key_file: Option<PathBuf>,
}

impl KeyFileArg {
    pub fn location(&self) -> KeyLocation {
        KeyLocation {
            file: self.key_file.clone(),
        }
    }
}
