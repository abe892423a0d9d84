//! `Vault` + `Policy` + workspace `Snapshot` → `Plan`.
//!
//! Implements ARCHITECTURE.md "Mapping rules": folders become collections,
//! entries accounts or secrets, shares grants, outside sharers guest
//! invitations. Nothing here writes or reads files; the result is plain data
//! the diff compares with the workspace by import key.

mod entries;
mod plan;
mod sharing;
#[cfg(test)]
mod tests;

// See diff/mod.rs: Fx hashing for maps filled once per entry.
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

pub use entries::{login_domain, secret_type};
pub use plan::*;

use crate::model::{Entry, Finding, Position, SourceKind, Vault};
use crate::policy::{PersonalOwner, Policy};
use crate::workspace::{ImportKey, ItemRole, Member, MemberState, Role, Snapshot};

/// The mapping cannot start: the importing member or the policy's owner of
/// personal items is not allowed. The message says who and what is expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct MapError(pub String);

/// The member running the import: `requested` (`--as`), or the workspace's
/// owner. Guests and login-only members cannot use the importer (product
/// rule), nor can regular users or members who are not active.
pub fn resolve_importer<'a>(snapshot: &'a Snapshot, requested: Option<&str>) -> Result<&'a Member, MapError> {
    let Some(email) = requested else {
        return snapshot
            .members
            .iter()
            .find(|m| m.role == Role::Owner && m.state == MemberState::Active)
            .ok_or_else(|| {
                MapError(format!(
                    "workspace '{}' has no active owner; name the importing admin with --as EMAIL",
                    snapshot.workspace.name
                ))
            });
    };
    let shown = email.trim();
    let Some(member) = snapshot.member_by_email(email) else {
        return Err(MapError(format!(
            "{shown} is not a member of workspace '{}'; expected the email of an active owner, super admin or admin",
            snapshot.workspace.name
        )));
    };
    match member.role {
        Role::Guest => Err(MapError(format!(
            "{shown} is a guest; guests and login-only members cannot use the importer (ask a workspace admin)"
        ))),
        Role::LoginOnly => Err(MapError(format!(
            "{shown} is a login-only member; guests and login-only members cannot use the importer (ask a workspace admin)"
        ))),
        role if !role.may_import() => Err(MapError(format!(
            "{shown} is a {}; only owners, super admins and admins can use the importer (ask a workspace admin)",
            role.name()
        ))),
        _ if member.state != MemberState::Active => Err(MapError(format!(
            "{shown} is not active in the workspace ({}); expected an active owner, super admin or admin",
            state_name(member.state)
        ))),
        _ => Ok(member),
    }
}

fn state_name(state: MemberState) -> &'static str {
    match state {
        MemberState::Invited => "invited",
        MemberState::Active => "active",
        MemberState::Suspended => "suspended",
        MemberState::Removed => "removed",
    }
}

/// Maps one export onto the workspace. `importer` is the email of the
/// member running the import, checked by [`resolve_importer`].
///
/// Takes the vault by value: each entry's content moves into its planned
/// account or secret instead of being copied, so a million-entry export is
/// held once, not twice.
pub fn map(vault: Vault, policy: &Policy, snapshot: &Snapshot, importer: &str) -> Result<Plan, MapError> {
    let mut plan = map_entries(vault, policy, snapshot, importer)?;
    mark_duplicates(&mut plan, snapshot);
    Ok(plan)
}

/// [`map`] but for the duplicate check, which needs the workspace's
/// accounts and secrets: for a run that reads those only once the plan's
/// hashes are known ([`crate::workspace::Workspace::load_items`]), then
/// calls [`mark_duplicates`].
pub fn map_entries(mut vault: Vault, policy: &Policy, snapshot: &Snapshot, importer: &str) -> Result<Plan, MapError> {
    let importer = resolve_importer(snapshot, Some(importer))?.email.to_lowercase();
    let personal_owner = match &policy.personal_items_owner {
        PersonalOwner::Importer => importer.clone(),
        PersonalOwner::Member(email) => match snapshot.member_by_email(email) {
            Some(m) if m.state == MemberState::Active && !matches!(m.role, Role::Guest | Role::LoginOnly) => {
                m.email.to_lowercase()
            }
            _ => {
                return Err(MapError(format!(
                    "policy personal_items_owner = \"{email}\" is not an active member who may own items (guests and login-only members cannot); expected \"importer\" or such a member's email"
                )))
            }
        },
    };
    let entries = std::mem::take(&mut vault.entries);
    let mut m = Mapper::new(&vault, &entries, policy, snapshot, importer);
    m.entries(entries);
    m.collections();
    sharing::shares(&mut m);
    m.personal_grants(&personal_owner);
    Ok(m.finish())
}

/// Marks planned accounts and secrets that duplicate a workspace item
/// created some other way (they are skipped, with a finding each).
pub fn mark_duplicates(plan: &mut Plan, snapshot: &Snapshot) {
    let file = plan.file.clone();
    let f = entries::mark_duplicate_accounts(&mut plan.accounts, snapshot, &file);
    plan.findings.extend(f);
    let f = entries::mark_duplicate_secrets(&mut plan.secrets, snapshot, &file);
    plan.findings.extend(f);
}

/// The mapper's working state: the plan being built plus lookups.
pub(crate) struct Mapper<'a> {
    pub vault: &'a Vault,
    pub policy: &'a Policy,
    pub snapshot: &'a Snapshot,
    pub company_domains: Vec<String>,
    pub plan: Plan,
    /// Every folder path, parents first: the vault's folders and those the
    /// entries name.
    pub folders: Vec<Vec<String>>,
    /// The same paths, for membership tests (one per share).
    pub folder_set: HashSet<Vec<String>>,
    /// Folders the source marks shared or the sharing data names.
    shared_folders: HashSet<Vec<String>>,
    /// Import keys of planned items by folder path (direct members only).
    pub items_by_folder: HashMap<Vec<String>, Vec<ImportKey>>,
    /// Account keys by folder path (direct members only).
    pub accounts_by_folder: HashMap<Vec<String>, Vec<ImportKey>>,
    /// Planned collections by folder path.
    pub collection_keys: HashMap<Vec<String>, ImportKey>,
    /// Position of each grant in `plan.grants`, by key.
    grant_index: HashMap<ImportKey, usize>,
    pub findings: Vec<Finding>,
}

/// `collection:<vendor>:<path>`: from the source folder path, so renaming
/// the collection in the workspace keeps the key.
pub fn collection_key(source: SourceKind, path: &[String]) -> ImportKey {
    ImportKey::new(format!("collection:{}:{}", source.vendor(), path.join("/")))
}

pub fn account_key(source: SourceKind, source_id: &str) -> ImportKey {
    ImportKey::new(format!("account:{}:{source_id}", source.vendor()))
}

pub fn secret_key(source: SourceKind, source_id: &str) -> ImportKey {
    ImportKey::new(format!("secret:{}:{source_id}", source.vendor()))
}

pub fn team_key(name: &str) -> ImportKey {
    ImportKey::new(format!("team:{}", name.trim().to_lowercase()))
}

/// One invitation per person, whatever the folder, source or spelling
/// (`Jules@Studio-Jules.example ` and `jules@studio-jules.example`).
pub fn invitation_key(email: &str) -> ImportKey {
    ImportKey::new(format!("invitation:{}", normalize_email(email)))
}

pub fn grant_key(target: &ImportKey, grantee: &PlannedGrantee) -> ImportKey {
    ImportKey::new(format!("grant:{target}->{}", grantee.key_part()))
}

/// Emails are compared trimmed and case-insensitively everywhere.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

impl<'a> Mapper<'a> {
    fn new(
        vault: &'a Vault,
        entries: &[Entry],
        policy: &'a Policy,
        snapshot: &'a Snapshot,
        importer: String,
    ) -> Mapper<'a> {
        let mut folders: Vec<Vec<String>> = Vec::new();
        let mut seen: HashSet<Vec<String>> = HashSet::default();
        let mut add = |path: &[String]| {
            for depth in 1..=path.len() {
                let prefix = path.get(..depth).unwrap_or_default();
                if !seen.contains(prefix) {
                    seen.insert(prefix.to_vec());
                    folders.push(prefix.to_vec());
                }
            }
        };
        for f in &vault.folders {
            add(&f.path);
        }
        for e in entries {
            add(&e.folder);
        }
        Mapper {
            vault,
            policy,
            snapshot,
            company_domains: policy.company_domains(snapshot),
            plan: Plan {
                source: vault.source,
                file: vault.file.clone(),
                workspace: snapshot.workspace.name.clone(),
                importer,
                collections: Vec::new(),
                accounts: Vec::new(),
                secrets: Vec::new(),
                teams: Vec::new(),
                invitations: Vec::new(),
                grants: Vec::new(),
                unmatched: Vec::new(),
                skipped: Vec::new(),
                findings: Vec::new(),
                source_entries: entries.len(),
            },
            folders,
            folder_set: seen,
            shared_folders: vault
                .folders
                .iter()
                .filter(|f| f.shared)
                .map(|f| f.path.clone())
                .chain(vault.shares.iter().map(|s| s.folder.clone()))
                .collect(),
            items_by_folder: HashMap::default(),
            accounts_by_folder: HashMap::default(),
            collection_keys: HashMap::default(),
            grant_index: HashMap::default(),
            findings: Vec::new(),
        }
    }

    fn entries(&mut self, entries: Vec<Entry>) {
        let source = self.vault.source;
        self.plan.accounts.reserve(entries.len());
        for mut entry in entries {
            let reason = if self.policy.skips_folder(&entry.folder) {
                Some(SkipReason::SkippedFolder)
            } else if entry.archived && !self.policy.import_archived {
                Some(SkipReason::Archived)
            } else {
                None
            };
            if let Some(reason) = reason {
                let mut position = Position::file(&self.vault.file);
                position.line = entry.line;
                self.plan.skipped.push(SkippedEntry {
                    source_id: entry.source_id.clone(),
                    title: entry.title.clone(),
                    folder: entry.folder.join("/"),
                    reason,
                    position,
                });
                continue;
            }
            let collection = if entry.folder.is_empty() {
                None
            } else {
                Some(collection_key(source, &entry.folder))
            };
            if self.policy.is_account_kind(entry.kind) {
                let key = account_key(source, &entry.source_id);
                let folder = std::mem::take(&mut entry.folder);
                self.plan
                    .accounts
                    .push(entries::account(entry, key.clone(), collection));
                push_keyed(&mut self.accounts_by_folder, &folder, key.clone());
                push_keyed(&mut self.items_by_folder, &folder, key);
            } else {
                let key = secret_key(source, &entry.source_id);
                let folder = std::mem::take(&mut entry.folder);
                self.plan.secrets.push(entries::secret(entry, key.clone(), collection));
                push_keyed(&mut self.items_by_folder, &folder, key);
            }
        }
        let archived = self
            .plan
            .skipped
            .iter()
            .filter(|s| s.reason == SkipReason::Archived)
            .count();
        if archived > 0 {
            self.findings.push(
                Finding::info(
                    "mapper.archived-skipped",
                    format!("{archived} archived or trashed entries are not imported"),
                )
                .at(Position::file(&self.vault.file))
                .help("set import_archived = true in the policy to import them"),
            );
        }
    }

    /// Items in the folder and all its subfolders.
    pub fn items_under(&self, path: &[String]) -> Vec<ImportKey> {
        self.folders
            .iter()
            .filter(|f| f.starts_with(path))
            .flat_map(|f| self.items_by_folder.get(f).into_iter().flatten().cloned())
            .collect()
    }

    pub fn accounts_under(&self, path: &[String]) -> Vec<ImportKey> {
        self.folders
            .iter()
            .filter(|f| f.starts_with(path))
            .flat_map(|f| self.accounts_by_folder.get(f).into_iter().flatten().cloned())
            .collect()
    }

    /// Whether the source marks the folder shared or sharing data names it.
    pub fn folder_shared(&self, path: &[String]) -> bool {
        self.shared_folders.contains(path)
    }

    fn collections(&mut self) {
        let source = self.vault.source;
        let folders = self.folders.clone();
        // Items under each folder, subfolders included, in one pass: each
        // folder's direct items are added to it and to its ancestors
        // (asking each folder for its subtree was quadratic in folders).
        let mut under: HashMap<&[String], usize> = HashMap::default();
        for (path, keys) in &self.items_by_folder {
            for depth in 1..=path.len() {
                if let Some(prefix) = path.get(..depth) {
                    *under.entry(prefix).or_default() += keys.len();
                }
            }
        }
        for path in &folders {
            if self.policy.skips_folder(path) {
                continue;
            }
            let items = under.get(path.as_slice()).copied().unwrap_or(0);
            if items == 0 && !self.policy.create_empty_folders {
                self.findings.push(
                    Finding::info(
                        "mapper.empty-folder",
                        format!(
                            "folder '{}' holds no items to import; no collection is created for it",
                            path.join("/")
                        ),
                    )
                    .at(Position::file(&self.vault.file))
                    .help("set create_empty_folders = true in the policy to create it anyway"),
                );
                continue;
            }
            let key = collection_key(source, path);
            let parent = path
                .len()
                .checked_sub(1)
                .filter(|&n| n > 0)
                .and_then(|n| path.get(..n))
                .map(|p| collection_key(source, p));
            self.plan.collections.push(PlannedCollection {
                key: key.clone(),
                path: path.clone(),
                name: collection_name(source, path),
                parent,
                shared: self.folder_shared(path),
                items: self.items_by_folder.get(path).map_or(0, Vec::len),
            });
            self.collection_keys.insert(path.clone(), key);
        }
    }

    /// The collection path as the workspace will show it (`Engineering/Databases`).
    pub fn display_path(&self, path: &[String]) -> String {
        let source = self.vault.source;
        (1..=path.len())
            .filter_map(|d| path.get(..d))
            .map(|p| collection_name(source, p))
            .collect::<Vec<_>>()
            .join("/")
    }

    /// Unshared top-level collections (subcollections inherit) and items at
    /// the root get an Owner grant for the owner of personal items, so
    /// someone can still see them after the import. So does a shared
    /// top-level collection that no share made anyone Owner of (no sharing
    /// file was given, or its admins left): otherwise nobody could manage it.
    fn personal_grants(&mut self, owner: &str) {
        let grantee = PlannedGrantee::Member {
            email: owner.to_owned(),
        };
        let targets: Vec<ImportKey> = self
            .plan
            .collections
            .iter()
            .filter(|c| c.parent.is_none() && !c.shared)
            .map(|c| c.key.clone())
            .chain(self.items_by_folder.get(&Vec::new()).into_iter().flatten().cloned())
            .collect();
        for target in targets {
            self.grant(target, grantee.clone(), ItemRole::Owner, "personal".into(), None);
        }
        let owned: HashSet<&ImportKey> = self
            .plan
            .grants
            .iter()
            .filter(|g| g.role == ItemRole::Owner)
            .map(|g| &g.target)
            .collect();
        let ownerless: Vec<(ImportKey, String)> = self
            .plan
            .collections
            .iter()
            .filter(|c| c.parent.is_none() && c.shared && !owned.contains(&c.key))
            .map(|c| (c.key.clone(), c.name.clone()))
            .collect();
        for (target, name) in ownerless {
            self.findings.push(
                Finding::info(
                    "mapper.shared-without-owner",
                    format!("no sharer of '{name}' becomes its Owner; {owner} gets Owner so someone can manage it"),
                )
                .help("give the sharing file (--sharing) if it was left out, or change the Owner after the import"),
            );
            self.grant(
                target,
                grantee.clone(),
                ItemRole::Owner,
                "no owner in the source".into(),
                None,
            );
        }
    }

    /// Adds a grant; the same target and grantee twice keeps the stronger role.
    pub fn grant(
        &mut self,
        target: ImportKey,
        grantee: PlannedGrantee,
        role: ItemRole,
        source_access: String,
        lowered_from: Option<ItemRole>,
    ) {
        let key = grant_key(&target, &grantee);
        if let Some(existing) = self.grant_index.get(&key).and_then(|&i| self.plan.grants.get_mut(i)) {
            // ItemRole orders Owner < Manager < Collaborator.
            if role < existing.role {
                existing.role = role;
                existing.source_access = source_access;
                existing.lowered_from = lowered_from;
            }
            return;
        }
        self.grant_index.insert(key.clone(), self.plan.grants.len());
        self.plan.grants.push(PlannedGrant {
            key,
            target,
            grantee,
            role,
            source_access,
            lowered_from,
        });
    }

    fn finish(mut self) -> Plan {
        let mut findings = self.vault.findings.clone();
        findings.append(&mut self.findings);
        self.plan.findings = findings;
        self.plan.grants.sort_by(|a, b| a.key.cmp(&b.key));
        self.plan.teams.sort_by(|a, b| a.key.cmp(&b.key));
        self.plan.invitations.sort_by(|a, b| a.key.cmp(&b.key));
        for inv in &mut self.plan.invitations {
            inv.folders.sort();
        }
        for u in &mut self.plan.unmatched {
            u.access.sort_by(|a, b| a.folder.cmp(&b.folder));
        }
        self.plan
            .unmatched
            .sort_by(|a, b| (&a.email, a.reason).cmp(&(&b.email, b.reason)));
        self.plan
    }
}

/// Appends `key` to the list of `folder`, cloning the path only the first
/// time a folder is seen (a million entries share a few thousand folders).
fn push_keyed(map: &mut HashMap<Vec<String>, Vec<ImportKey>>, folder: &[String], key: ImportKey) {
    match map.get_mut(folder) {
        Some(keys) => keys.push(key),
        None => {
            map.insert(folder.to_vec(), vec![key]);
        }
    }
}

/// A collection's name: the folder's, except that LastPass names its shared
/// folders `Shared-X` at the top level; the collection is `X`.
pub fn collection_name(source: SourceKind, path: &[String]) -> String {
    let last = path.last().map(String::as_str).unwrap_or_default();
    if source == SourceKind::LastpassCsv && path.len() == 1 {
        if let Some(stripped) = last.strip_prefix("Shared-").filter(|s| !s.trim().is_empty()) {
            return stripped.to_owned();
        }
    }
    last.to_owned()
}
