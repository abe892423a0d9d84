//! The way out: a workspace (or part of one), or an export read by
//! `sources/`, written as one CXF document (`formats/cxf.md`, "Out").
//!
//! Both paths meet in the normalized model: the workspace's collections,
//! accounts, secrets and grants become a [`Vault`] (folders, entries,
//! folder shares) plus what the model has no place for (grants on single
//! items, team members), and one writer ([`cxf::write`]) turns that into
//! CXF. So `convert` (an export to CXF) and `export` (a workspace to CXF)
//! cannot drift apart.

pub mod cxf;
mod workspace;

use std::collections::BTreeMap;

use crate::model::{Share, Vault};

pub use workspace::{from_snapshot, from_store, ExportError, Selection};

/// What one CXF document is written from.
pub struct CxfExport {
    /// Folders, entries and folder shares.
    pub vault: Vault,
    /// Grants on single items, by entry source id: written as each item's
    /// own `shared` extension.
    pub item_shares: BTreeMap<String, Vec<Share>>,
    /// Team (group) name → member emails, for the `vaultferry-groups` extension.
    pub groups: BTreeMap<String, Vec<String>>,
    /// The one CXF account the document holds.
    pub account: AccountInfo,
    /// Grants the document cannot carry (to partners, partnerships), each
    /// named for the command's summary.
    pub grants_left_out: Vec<LeftOut>,
}

/// A workspace grant left out of a CXF document. CXF's accessors are the
/// exporting provider's own user accounts and groups of them (`user`,
/// `group`; the spec tells importers to ignore any other type). A local
/// partner or a host-guest partnership is neither: written as a `group`,
/// another importer would make (or reuse) a group of that name with none
/// of the partner's people in it, or with people of its own who would gain
/// the access. So such a grant is named instead, for an admin to make again
/// by hand.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeftOut {
    /// `partner 'Acme Partners'`, `partnership 'Globex'`, `member #7`.
    pub grantee: String,
    pub role: crate::workspace::ItemRole,
    /// `collection 'Ops/DB'`, `item 'Prod login'`.
    pub on: String,
    /// Why it cannot be written.
    pub why: &'static str,
}

impl std::fmt::Display for LeftOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} as {} on {}: {}",
            self.grantee,
            self.role.name(),
            self.on,
            self.why
        )
    }
}

/// Who the document's one account is.
#[derive(Clone, Debug, Default)]
pub struct AccountInfo {
    /// Becomes the account id (base64url of it).
    pub id: String,
    pub username: String,
    pub email: String,
}

impl CxfExport {
    /// An export read by `sources/`, with its sharing, as it is: the
    /// exporting person (the vault's owner, else `owner`) is the account.
    pub fn from_vault(mut vault: Vault, owner: Option<&str>) -> CxfExport {
        let email = vault
            .owner
            .clone()
            .or_else(|| owner.map(str::to_owned))
            .unwrap_or_default();
        let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for share in &vault.shares {
            if let crate::model::Principal::Group { group, members } = &share.principal {
                let known = groups.entry(group.clone()).or_default();
                for m in members {
                    if !known.contains(m) {
                        known.push(m.clone());
                    }
                }
            }
        }
        // Item shares go on their items; the vault keeps the folder shares.
        let mut item_shares: BTreeMap<String, Vec<Share>> = BTreeMap::new();
        let (on_items, on_folders) = std::mem::take(&mut vault.shares)
            .into_iter()
            .partition(|s| s.item.is_some());
        vault.shares = on_folders;
        for share in on_items {
            if let Some(item) = &share.item {
                item_shares.entry(item.source_id.clone()).or_default().push(share);
            }
        }
        CxfExport {
            account: AccountInfo {
                id: format!("{}:{}", vault.source.vendor(), email),
                username: email.split('@').next().unwrap_or_default().to_owned(),
                email,
            },
            vault,
            item_shares,
            groups,
            grants_left_out: Vec::new(),
        }
    }
}

/// Writes `export` as a CXF document at `out`, created owner-only (it holds
/// every secret value), and the attachments' bytes under `documents/` beside
/// it (owner-only too), where the CXF reader looks for them.
pub fn write_file(export: &CxfExport, out: &std::path::Path, timestamp: i64) -> std::io::Result<cxf::Written> {
    let has_bytes = export
        .vault
        .entries
        .iter()
        .any(|e| e.attachments.iter().any(crate::model::Attachment::has_bytes));
    let documents = out.parent().map(|d| d.join("documents")).filter(|_| has_bytes);
    if let Some(dir) = &documents {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            builder.mode(0o700);
        }
        builder.create(dir)?;
    }
    let mut buffer = zeroize::Zeroizing::new(Vec::new());
    let written = cxf::write(export, timestamp, &mut *buffer, documents.as_deref())?;
    let partial = out.with_extension("partial");
    cxf::write_owner_only(&partial, &buffer)?;
    std::fs::rename(&partial, out)?;
    Ok(written)
}
