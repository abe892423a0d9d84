use std::path::PathBuf;

use clap::Args;

use super::SourceArgs;
use crate::import::Import;
use crate::policy::Policy;
use crate::Error;

/// What `plan` and `migrate` both take: the export, the policy, who runs
/// the import and the report files.
#[derive(Debug, Args)]
pub struct ImportArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    /// The import policy (vaultferry.toml; `vaultferry explain policy`
    /// lists its keys); without it, the defaults.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// The member running the import: an active owner, super admin or admin
    /// (default: the workspace owner). Guests and login-only members are refused.
    #[arg(long = "as", value_name = "EMAIL")]
    pub importer: Option<String>,
    /// Also write the report to FILE; the format follows the extension:
    /// .json (`vaultferry explain report`), .md, .html (one page to open or mail) or
    /// .csv (the unmatched users). Repeatable. No secret values.
    #[arg(long, value_name = "FILE")]
    pub report: Vec<PathBuf>,
}

impl ImportArgs {
    /// The configured import; a bad policy stops here, before any file
    /// of the export is read.
    pub fn import(&self, overwrite: bool) -> Result<Import, Error> {
        Ok(Import {
            export: self.source.export.clone(),
            sharing: self.source.sharing.clone(),
            options: self.source.options(),
            policy: self.policy()?,
            importer: self.importer.clone(),
            overwrite,
            owner: self.source.owner.clone(),
            keep_source: false,
        })
    }

    pub fn policy(&self) -> Result<Policy, Error> {
        Ok(match &self.policy {
            Some(path) => Policy::load(path)?,
            None => Policy::default(),
        })
    }
}
