//! `Vault` + `Policy` + workspace `Snapshot` → `Plan`.
//!
//! Implements ARCHITECTURE.md "Mapping rules": folders become collections,
//! entries accounts or secrets, shares grants, outside sharers guest
//! invitations. Nothing here writes or reads files; the result is plain data
//! the diff compares with the workspace by import key.

mod duplicate_ids;
mod entries;
mod folders;
mod keys;
mod plan;
mod sharing;
#[cfg(test)]
mod tests;

// See diff/mod.rs: Fx hashing for maps filled once per entry.
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

pub use entries::{login_domain, secret_type, Originals};
pub use keys::*;
pub use plan::*;

use crate::model::{Entry, Finding, Position, SourceKind, Vault};
use crate::policy::{PersonalOwner, Policy};
use crate::workspace::{ImportKey, ItemRole, Member, MemberState, Role, Snapshot};
use folders::FolderItems;

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
pub fn map_entries(vault: Vault, policy: &Policy, snapshot: &Snapshot, importer: &str) -> Result<Plan, MapError> {
    map_entries_of(vault, policy, snapshot, importer, None)
}

/// [`map_entries`] of an export whose owner the run names (`--owner`);
/// the vault's own [`Vault::owner`] is the other witness
/// ([`ExportOwner`]).
pub fn map_entries_of(
    mut vault: Vault,
    policy: &Policy,
    snapshot: &Snapshot,
    importer: &str,
    given_owner: Option<&str>,
) -> Result<Plan, MapError> {
    let entries = std::mem::take(&mut vault.entries);
    let owner = ExportOwner {
        given: given_owner.map(str::to_owned),
        in_file: vault.owner.clone(),
    };
    let mut m = MapStream::whole(vault.source, &vault.file, policy, snapshot, importer, &owner)?;
    m.m.plan.accounts.reserve(entries.len());
    for entry in entries {
        m.keep(entry);
    }
    Ok(m.finish(&vault).0)
}

/// [`map_entries`] an entry at a time, for a plan that keeps a summary of
/// each planned item instead of the item ([`crate::diff::stream`]): the
/// collections, grants, invitations and findings come out of
/// [`finish`](MapStream::finish) exactly as `map_entries` makes them; the
/// plan it returns has no accounts or secrets.
pub struct MapStream<'a> {
    m: Mapper<'a>,
}

impl<'a> MapStream<'a> {
    /// `source` and `file` as the vault will say; fails as [`map_entries`]
    /// does when the importer or the policy's owner cannot own items.
    pub fn new(
        source: SourceKind,
        file: &str,
        policy: &'a Policy,
        snapshot: &'a Snapshot,
        importer: &str,
        owner: &ExportOwner,
    ) -> Result<MapStream<'a>, MapError> {
        let mut stream = MapStream::whole(source, file, policy, snapshot, importer, owner)?;
        stream.m.defer_root_grants = true;
        Ok(stream)
    }

    /// [`map_entries`] an entry at a time ([`keep`](MapStream::keep)):
    /// the plan keeps its items, and the root items' grants are in it.
    pub fn whole(
        source: SourceKind,
        file: &str,
        policy: &'a Policy,
        snapshot: &'a Snapshot,
        importer: &str,
        owner: &ExportOwner,
    ) -> Result<MapStream<'a>, MapError> {
        let people = people(policy, snapshot, importer, owner)?;
        Ok(MapStream {
            m: Mapper::new(source, file, policy, snapshot, people),
        })
    }

    /// The next entry of the export, planned into the plan (see
    /// [`whole`](MapStream::whole)).
    pub fn keep(&mut self, entry: Entry) {
        match self.m.entry(entry) {
            Some(PlannedItem::Account(a)) => self.m.plan.accounts.push(a),
            Some(PlannedItem::Secret(s)) => self.m.plan.secrets.push(s),
            None => {}
        }
    }

    /// The next entry of the export (in file order, with its id): the
    /// account or secret it becomes, or `None` when the policy skips it.
    pub fn entry(&mut self, entry: Entry) -> Option<PlannedItem> {
        self.m.entry(entry)
    }

    /// Everything but the items, from the vault the reader returned (its
    /// folders, shares and findings), every planned item's key in the
    /// order `entry` planned them, and the Owner grants of the items at
    /// the root, left out of the plan's grants to be made a chunk at a time.
    pub fn finish(self, vault: &Vault) -> (Plan, KeyList, Option<RootGrants>) {
        let (plan, keys, mut m) = self.m.finish_keeping(vault);
        (plan, keys, m.take())
    }
}

/// The account or secret one entry becomes.
#[derive(Debug)]
pub enum PlannedItem {
    Account(PlannedAccount),
    Secret(PlannedSecret),
}

/// Whose export is mapped, as the run learns it: `--owner` (`given`) and
/// what the export says (`in_file`: a 1PUX's account email). Their
/// personal folders are keyed by it, so two people's `Personal` never
/// share a collection.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExportOwner {
    pub given: Option<String>,
    pub in_file: Option<String>,
}

/// Who the mapping is for, normalised.
struct People {
    importer: String,
    /// Owner grant on personal collections and root items.
    personal_owner: String,
    /// Whose personal folders they are, for their keys.
    vault_owner: String,
    /// Nothing named the vault's owner: the importer is assumed.
    owner_assumed: bool,
    /// The named owner cannot own items here (not an active regular
    /// member): their items go to `personal_owner`.
    owner_not_member: bool,
}

/// The importer, whose export it is, and who owns its personal items: the
/// export's named owner when they are an active member who may own items,
/// else the policy's `personal_items_owner` (the importer by default).
fn people(policy: &Policy, snapshot: &Snapshot, importer: &str, owner: &ExportOwner) -> Result<People, MapError> {
    let importer = resolve_importer(snapshot, Some(importer))?.email.to_lowercase();
    let given = owner.given.as_deref().map(normalize_email).filter(|e| !e.is_empty());
    let in_file = owner.in_file.as_deref().map(normalize_email).filter(|e| !e.is_empty());
    if let (Some(given), Some(in_file)) = (&given, &in_file) {
        if given != in_file {
            return Err(MapError(format!(
                "--owner {given} disagrees with the export, which is {in_file}'s (its account's email); expected --owner {in_file}, or no --owner"
            )));
        }
    }
    let named = given.or(in_file);
    let may_own = |email: &str| {
        snapshot
            .member_by_email(email)
            .is_some_and(|m| m.state == MemberState::Active && !matches!(m.role, Role::Guest | Role::LoginOnly))
    };
    let personal_owner = match (&named, &policy.personal_items_owner) {
        (Some(named), _) if may_own(named) => named.clone(),
        (_, PersonalOwner::Importer) => importer.clone(),
        (_, PersonalOwner::Member(email)) => match snapshot.member_by_email(email) {
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
    Ok(People {
        owner_not_member: named.as_deref().is_some_and(|n| !may_own(n)),
        owner_assumed: named.is_none(),
        vault_owner: named.unwrap_or_else(|| importer.clone()),
        importer,
        personal_owner,
    })
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
    pub source: SourceKind,
    pub file: String,
    pub policy: &'a Policy,
    pub snapshot: &'a Snapshot,
    pub company_domains: Vec<String>,
    personal_owner: String,
    /// Whose personal folders these are ([`People::vault_owner`]).
    vault_owner: String,
    owner_assumed: bool,
    owner_not_member: bool,
    /// Top-level folders of entries in a vault others share (1PUX).
    shared_vaults: HashSet<String>,
    pub plan: Plan,
    /// Every folder path, parents first: the vault's folders and those the
    /// entries name (known once every entry is in: [`Mapper::finish`]).
    pub folders: Vec<Vec<String>>,
    /// The same paths, for membership tests (one per share).
    pub folder_set: HashSet<Vec<String>>,
    /// Position of each folder in `folders`, and of each folder's direct
    /// subfolders, by path.
    folder_at: HashMap<Vec<String>, usize>,
    subfolders: HashMap<Vec<String>, Vec<usize>>,
    /// Folders the entries name, parents first, in the order first named.
    entry_folders: Vec<Vec<String>>,
    entry_folder_set: HashSet<Vec<String>>,
    /// Folders the source marks shared or the sharing data names.
    shared_folders: HashSet<Vec<String>>,
    /// Import key of every planned item, in entry order; the maps below
    /// hold positions in it (one key per item, not one per map).
    pub keys: KeyList,
    /// The keys handed out so far, by position (see `keys_at`).
    shared_keys: Vec<Option<ImportKey>>,
    /// Every planned entry's source id so far, to tell a repeated one.
    source_ids: duplicate_ids::SourceIds,
    /// Leave the root items' Owner grants out of the plan ([`RootGrants`]).
    defer_root_grants: bool,
    root_grants: Option<RootGrants>,
    /// Planned items and accounts by folder path (direct members only).
    by_folder: folders::FolderSlots,
    /// Planned collections by folder path.
    pub collection_keys: HashMap<Vec<String>, ImportKey>,
    /// Position of each grant in `plan.grants`, by key.
    grant_index: HashMap<ImportKey, usize>,
    /// The planned item of each entry an item share names, by source id
    /// (filled by [`sharing::shares`]; only those ids, not every entry's).
    pub item_targets: HashMap<String, ImportKey>,
    pub findings: Vec<Finding>,
}

/// From how many positions [`Mapper::keys_at`] works on the pool.
const KEYS_ON_THE_POOL: usize = 8192;

impl<'a> Mapper<'a> {
    fn new(source: SourceKind, file: &str, policy: &'a Policy, snapshot: &'a Snapshot, people: People) -> Mapper<'a> {
        let People {
            importer,
            personal_owner,
            vault_owner,
            owner_assumed,
            owner_not_member,
        } = people;
        Mapper {
            source,
            file: file.to_owned(),
            policy,
            snapshot,
            company_domains: policy.company_domains(snapshot),
            personal_owner,
            vault_owner: vault_owner.clone(),
            owner_assumed,
            owner_not_member,
            shared_vaults: HashSet::default(),
            plan: Plan {
                source,
                file: file.to_owned(),
                workspace: snapshot.workspace.name.clone(),
                importer,
                vault_owner,
                collections: Vec::new(),
                accounts: Vec::new(),
                secrets: Vec::new(),
                teams: Vec::new(),
                invitations: Vec::new(),
                grants: Vec::new(),
                unmatched: Vec::new(),
                skipped: Vec::new(),
                findings: Vec::new(),
                source_entries: 0,
            },
            folders: Vec::new(),
            folder_set: HashSet::default(),
            folder_at: HashMap::default(),
            subfolders: HashMap::default(),
            entry_folders: Vec::new(),
            entry_folder_set: HashSet::default(),
            shared_folders: HashSet::default(),
            keys: KeyList::default(),
            shared_keys: Vec::new(),
            source_ids: duplicate_ids::SourceIds::default(),
            defer_root_grants: false,
            root_grants: None,
            by_folder: folders::FolderSlots::default(),
            collection_keys: HashMap::default(),
            grant_index: HashMap::default(),
            item_targets: HashMap::default(),
            findings: Vec::new(),
        }
    }

    /// One source entry: its folder is noted (skipped entries' folders
    /// too, as folders), then it is skipped or planned.
    fn entry(&mut self, mut entry: Entry) -> Option<PlannedItem> {
        self.plan.source_entries += 1;
        let reason = if self.policy.skips_folder(&entry.folder) {
            Some(SkipReason::SkippedFolder)
        } else if entry.archived && !self.policy.import_archived {
            Some(SkipReason::Archived)
        } else {
            None
        };
        if let Some(reason) = reason {
            add_folder(&mut self.entry_folders, &mut self.entry_folder_set, &entry.folder);
            let mut position = Position::file(&self.file);
            position.line = entry.line;
            self.plan.skipped.push(SkippedEntry {
                source_id: entry.source_id.clone(),
                title: entry.title.clone(),
                folder: entry.folder.join("/"),
                reason,
                position,
            });
            return None;
        }
        let source = self.source;
        let at = u32::try_from(self.keys.len()).unwrap_or(u32::MAX);
        let folder = std::mem::take(&mut entry.folder);
        // One lookup per entry: a folder is noted the first time an item
        // is planned in it (skipped entries note theirs above), and its
        // collection key made then, shared by its items.
        let (entry_folders, entry_folder_set) = (&mut self.entry_folders, &mut self.entry_folder_set);
        let account = self.policy.is_account_kind(entry.kind);
        let (owner, shared_vaults) = (self.vault_owner.as_str(), &mut self.shared_vaults);
        let in_shared_vault = entry.in_shared_vault;
        let collection = self.by_folder.place(folder, at, account, |folder| {
            add_folder(entry_folders, entry_folder_set, folder);
            if in_shared_vault {
                if let Some(top) = folder.first() {
                    shared_vaults.insert(top.clone());
                }
            }
            let personal = is_personal_folder(source, folder, in_shared_vault);
            (!folder.is_empty()).then(|| collection_key(source, personal.then_some(owner), folder))
        });
        let id = self.unique_source_id(&entry);
        let item = if account {
            let key = account_key(source, &id);
            self.keys.push(&key);
            PlannedItem::Account(entries::account(entry, key, collection))
        } else {
            let key = secret_key(source, &id);
            self.keys.push(&key);
            PlannedItem::Secret(entries::secret(entry, key, collection))
        };
        Some(item)
    }

    /// The id the entry's key is made from: its source id, or for the
    /// `n`th entry with one id (bug 5 of issue 19), `<id>#n`, with a
    /// finding naming both. Fingerprints are unique already (numbered by
    /// the reader).
    fn unique_source_id<'e>(&mut self, entry: &'e Entry) -> std::borrow::Cow<'e, str> {
        let id = entry.source_id.as_str();
        if id.starts_with("fp:") {
            return id.into();
        }
        match self.source_ids.see(id, entry.line) {
            duplicate_ids::Seen::First => id.into(),
            duplicate_ids::Seen::Again { n, first_line } => {
                let field = if self.source.vendor() == "lastpass" {
                    "id"
                } else {
                    "uuid"
                };
                let first = first_line.map_or_else(String::new, |l| format!(" (line {l})"));
                let mut position = Position::file(&self.file).field(field);
                position.line = entry.line;
                self.findings.push(
                    Finding::warning(
                        "mapper.duplicate-source-id",
                        format!(
                            "'{}' has {field} '{id}', as an earlier entry{first} has; both are imported, this one under its own key ('{id}#{n}')",
                            entry.title
                        ),
                    )
                    .at(position)
                    .help("check both items after the import; the source holds two entries under one id"),
                );
                format!("{id}#{n}").into()
            }
        }
    }

    /// Every entry is in: the folders (the vault's first, then those the
    /// entries named), collections, shares and personal grants.
    fn finish_keeping(mut self, vault: &Vault) -> (Plan, KeyList, Option<RootGrants>) {
        self.by_folder.settle();
        let mut folders = Vec::new();
        let mut seen = HashSet::default();
        for f in &vault.folders {
            add_folder(&mut folders, &mut seen, &f.path);
        }
        for path in std::mem::take(&mut self.entry_folders) {
            add_folder(&mut folders, &mut seen, &path);
        }
        self.entry_folder_set = HashSet::default();
        for (i, path) in folders.iter().enumerate() {
            self.folder_at.insert(path.clone(), i);
            if let Some(parent) = path.len().checked_sub(1).and_then(|n| path.get(..n)) {
                self.subfolders.entry(parent.to_vec()).or_default().push(i);
            }
        }
        self.folders = folders;
        self.folder_set = seen;
        if self.source == SourceKind::Onepassword1pux {
            // An empty shared vault has no entry to say so.
            let tops = vault.folders.iter().filter(|f| f.shared && f.path.len() == 1);
            self.shared_vaults.extend(tops.filter_map(|f| f.path.first().cloned()));
        }
        self.shared_folders = vault
            .folders
            .iter()
            .filter(|f| f.shared)
            .map(|f| f.path.clone())
            .chain(
                vault
                    .shares
                    .iter()
                    .filter(|s| s.item.is_none())
                    .map(|s| s.folder.clone()),
            )
            .collect();
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
                .at(Position::file(&self.file))
                .help("set import_archived = true in the policy to import them"),
            );
        }
        self.collections();
        self.owner_findings();
        self.input_findings(vault);
        sharing::shares(&mut self, &vault.shares);
        let owner = std::mem::take(&mut self.personal_owner);
        self.personal_grants(&owner);
        let keys = std::mem::take(&mut self.keys);
        let root_grants = self.root_grants.take();
        (self.finish_plan(&vault.findings), keys, root_grants)
    }

    /// The keys of items by position. Each key is made once and shared
    /// after: the unmatched users of a folder and its root grants name the
    /// same items many times over.
    fn keys_at(&mut self, at: &[u32]) -> Vec<ImportKey> {
        if self.shared_keys.len() < self.keys.len() {
            self.shared_keys.resize(self.keys.len(), None);
        }
        if at.len() >= KEYS_ON_THE_POOL {
            return self.keys_at_on_the_pool(at);
        }
        let mut out = Vec::with_capacity(at.len());
        for &i in at {
            let Ok(i) = usize::try_from(i) else { continue };
            let (Some(slot), Some(text)) = (self.shared_keys.get_mut(i), self.keys.get(i)) else {
                continue;
            };
            out.push(slot.get_or_insert_with(|| ImportKey::new(text)).clone());
        }
        out
    }

    /// [`Mapper::keys_at`] for many positions: each lookup lands on a
    /// random item of the export (a cache miss on a large one), so the
    /// keys are made, and the list of them taken, on the pool.
    fn keys_at_on_the_pool(&mut self, at: &[u32]) -> Vec<ImportKey> {
        use rayon::prelude::*;
        let (shared, keys) = (&self.shared_keys, &self.keys);
        let made: Vec<(usize, ImportKey)> = at
            .par_iter()
            .filter_map(|&i| {
                let i = usize::try_from(i).ok()?;
                match shared.get(i)? {
                    Some(_) => None,
                    None => Some((i, ImportKey::new(keys.get(i)?))),
                }
            })
            .collect();
        for (i, key) in made {
            // A position named twice was made twice: the first is kept.
            if let Some(slot @ None) = self.shared_keys.get_mut(i) {
                *slot = Some(key);
            }
        }
        let shared = &self.shared_keys;
        at.par_iter()
            .filter_map(|&i| shared.get(usize::try_from(i).ok()?)?.clone())
            .collect()
    }

    /// The planned items of the entries `ids` names (source ids), each by
    /// its first key: one pass over the keys, made only when a source
    /// shares single items. An entry the policy skipped has no key.
    pub fn items_by_source_id<'s>(&self, ids: impl IntoIterator<Item = &'s str>) -> HashMap<String, ImportKey> {
        let ids: HashSet<&str> = ids.into_iter().collect();
        let mut out = HashMap::default();
        if ids.is_empty() {
            return out;
        }
        let vendor = self.source.vendor();
        for key in self.keys.iter() {
            let id = ["account:", "secret:"]
                .iter()
                .find_map(|kind| key.strip_prefix(kind)?.strip_prefix(vendor)?.strip_prefix(':'));
            if let Some(id) = id.filter(|id| ids.contains(id)) {
                out.entry(id.to_owned()).or_insert_with(|| ImportKey::new(key));
            }
        }
        out
    }

    /// Items in the folder and all its subfolders.
    pub fn items_under(&mut self, path: &[String]) -> Vec<ImportKey> {
        let at = self.positions_under(path, |f| &f.items);
        self.keys_at(&at)
    }

    pub fn accounts_under(&mut self, path: &[String]) -> Vec<ImportKey> {
        let at = self.positions_under(path, |f| &f.accounts);
        self.keys_at(&at)
    }

    fn positions_under(&self, path: &[String], which: impl Fn(&FolderItems) -> &Vec<u32>) -> Vec<u32> {
        self.subtree(path)
            .into_iter()
            .filter_map(|i| self.folders.get(i))
            .filter_map(|f| self.by_folder.get(f))
            .flat_map(|f| which(f).iter().copied())
            .collect()
    }

    /// Positions in `folders` of the folder and its subfolders, in
    /// `folders` order. Walked down from the folder: a share per folder
    /// and user on an export with thousands of folders made testing every
    /// folder's path for each share the mapper's slowest step.
    fn subtree(&self, path: &[String]) -> Vec<usize> {
        let mut out = Vec::new();
        let mut stack: Vec<&[String]> = vec![path];
        while let Some(p) = stack.pop() {
            if let Some(&i) = self.folder_at.get(p) {
                out.push(i);
            }
            if let Some(kids) = self.subfolders.get(p) {
                stack.extend(kids.iter().filter_map(|&k| self.folders.get(k)).map(Vec::as_slice));
            }
        }
        out.sort_unstable();
        out
    }

    /// Whether the source marks the folder shared or sharing data names it.
    pub fn folder_shared(&self, path: &[String]) -> bool {
        self.shared_folders.contains(path)
    }

    fn collections(&mut self) {
        let source = self.source;
        let folders = self.folders.clone();
        // Items under each folder, subfolders included, in one pass: each
        // folder's direct items are added to it and to its ancestors
        // (asking each folder for its subtree was quadratic in folders).
        let mut under: HashMap<&[String], usize> = HashMap::default();
        for (path, slot) in self.by_folder.iter() {
            let keys = &slot.items;
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
                    .at(Position::file(&self.file))
                    .help("set create_empty_folders = true in the policy to create it anyway"),
                );
                continue;
            }
            let key = self.collection_key(path);
            let parent = path
                .len()
                .checked_sub(1)
                .filter(|&n| n > 0)
                .and_then(|n| path.get(..n))
                .map(|p| self.collection_key(p));
            self.plan.collections.push(PlannedCollection {
                key: key.clone(),
                path: path.clone(),
                name: collection_name(source, path),
                parent,
                shared: self.folder_shared(path),
                items: self.by_folder.get(path).map_or(0, |s| s.items.len()),
            });
            self.collection_keys.insert(path.clone(), key);
        }
    }

    /// Says whose the personal folders were taken to be, when nothing in
    /// the run named the person, and where the named person cannot own
    /// their items here.
    /// What the inputs leave out that the admin would not see otherwise:
    /// an export with nothing in it, or shared folders with nobody to share
    /// them with because the sharing file was not given (the export itself
    /// never says who had access, so the plan would quietly give every
    /// shared folder to one person).
    fn input_findings(&mut self, vault: &Vault) {
        let file = Position::file(&self.file);
        if self.plan.source_entries == 0 {
            let why = match vault.skipped_records {
                0 => "is it the export of an empty account, or a file cut before its first entry?".to_owned(),
                n => format!("its {n} records could not be read (see the other findings)"),
            };
            self.findings.push(
                Finding::warning(
                    "mapper.no-entries",
                    format!("the export holds no entries: nothing will be imported; {why}"),
                )
                .at(file.clone())
                .help("export the vault again and check the file is the one you meant"),
            );
        }
        // A CXF export carries its shares itself; the others never do.
        if vault.sharing_file.is_some() || vault.source == SourceKind::Cxf {
            return;
        }
        let shared: HashSet<&[String]> = self
            .plan
            .collections
            .iter()
            .filter(|c| c.shared)
            .map(|c| c.path.as_slice())
            .collect();
        if shared.is_empty() {
            return;
        }
        let items: usize = self
            .plan
            .collections
            .iter()
            .filter(|c| (1..=c.path.len()).any(|n| shared.contains(&c.path[..n])))
            .map(|c| c.items)
            .sum();
        let mut names: Vec<&str> = self
            .plan
            .collections
            .iter()
            .filter(|c| c.shared)
            .map(|c| c.name.as_str())
            .collect();
        names.sort_unstable();
        let shown = names.iter().take(3).copied().collect::<Vec<_>>().join(", ");
        let more = match names.len().saturating_sub(3) {
            0 => String::new(),
            n => format!(" and {n} more"),
        };
        let (what, fetch) = match self.source {
            SourceKind::LastpassCsv => (
                "shared folders",
                "fetch who had access with the LastPass Enterprise API (getdetailedsfdata) and pass it with --sharing; `vaultferry explain lastpass-sharing` says how",
            ),
            SourceKind::Onepassword1pux | SourceKind::Onepassword1pif | SourceKind::OnepasswordCsv | SourceKind::Cxf => (
                "shared vaults",
                "gather the vault permissions with the 1Password CLI (op vault user list, op vault group list) and pass them with --sharing; `vaultferry explain 1password-sharing` says how",
            ),
        };
        self.findings.push(
            Finding::warning(
                "mapper.sharing-not-given",
                format!(
                    "nobody but {} gets access to the {} {what} ({shown}{more}; {items} items): without a sharing file (--sharing) their members, groups and outside sharers are neither granted nor invited",
                    self.personal_owner,
                    names.len(),
                ),
            )
            .at(file)
            .help(fetch),
        );
    }

    fn owner_findings(&mut self) {
        let personal = self
            .plan
            .collections
            .iter()
            .filter(|c| is_personal_key(self.source, &c.key))
            .count();
        if personal == 0 {
            return;
        }
        let owner = &self.vault_owner;
        if self.owner_assumed {
            self.findings.push(
                Finding::warning(
                    "mapper.personal-owner-assumed",
                    format!(
                        "the export does not say whose it is; its {personal} personal folder collection(s) are keyed as {owner}'s (the importer), so another export of {owner}'s personal folders updates them, and anyone else's gets its own; pass --owner EMAIL when the export is someone else's"
                    ),
                )
                .at(Position::file(&self.file))
                .help("importing another person's export: pass --owner EMAIL (their email)"),
            );
        }
        if self.owner_not_member {
            self.findings.push(
                Finding::warning(
                    "mapper.vault-owner-not-member",
                    format!(
                        "the export is {owner}'s, who is not an active member who may own items; their personal folders are keyed as theirs and owned by {}",
                        self.personal_owner
                    ),
                )
                .at(Position::file(&self.file))
                .help("set personal_items_owner in the policy to choose who owns them"),
            );
        }
    }

    /// A folder's key as its entries got it ([`is_personal_folder`]); a
    /// folder no entry named (a parent, an empty vault) is in a shared
    /// vault when its top is one.
    fn collection_key(&self, path: &[String]) -> ImportKey {
        let shared_vault = path.first().is_some_and(|top| self.shared_vaults.contains(top));
        let personal = is_personal_folder(self.source, path, shared_vault);
        collection_key(self.source, personal.then_some(self.vault_owner.as_str()), path)
    }

    /// The collection path as the workspace will show it (`Engineering/Databases`).
    pub fn display_path(&self, path: &[String]) -> String {
        let source = self.source;
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
        let root_at = self.by_folder.get(&[]).map(|s| s.items.clone()).unwrap_or_default();
        // A grant per item at the root: a streamed plan makes them a chunk
        // at a time, unless another grant targets one of those items
        // (then `grant` must merge the two, here).
        let root = if self.defer_root_grants && !self.grants_target_any(&root_at) {
            self.root_grants = Some(RootGrants {
                grantee: grantee.clone(),
                items: root_at,
            });
            Vec::new()
        } else {
            self.keys_at(&root_at)
        };
        let targets: Vec<ImportKey> = self
            .plan
            .collections
            .iter()
            .filter(|c| c.parent.is_none() && !c.shared)
            .map(|c| c.key.clone())
            .chain(root)
            .collect();
        for target in targets {
            self.grant(
                target,
                grantee.clone(),
                ItemRole::Owner,
                plan::PERSONAL_ACCESS.into(),
                None,
            );
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

    /// Whether a grant made so far targets one of these items.
    fn grants_target_any(&self, items: &[u32]) -> bool {
        let targets: HashSet<&str> = self.plan.grants.iter().map(|g| g.target.as_str()).collect();
        !targets.is_empty()
            && items
                .iter()
                .filter_map(|&i| self.keys.get(usize::try_from(i).ok()?))
                .any(|k| targets.contains(k))
    }

    fn finish_plan(mut self, vault_findings: &[Finding]) -> Plan {
        let mut findings = vault_findings.to_vec();
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

/// Import keys back to back in one string: a million keys held this way
/// take the text alone, not an allocation and a pointer each (a plan that
/// keeps no item keeps its keys).
#[derive(Default)]
pub struct KeyList {
    text: String,
    ends: Vec<usize>,
}

impl KeyList {
    fn push(&mut self, key: &ImportKey) {
        self.text.push_str(key.as_str());
        self.ends.push(self.text.len());
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    pub fn get(&self, i: usize) -> Option<&str> {
        let start = match i.checked_sub(1) {
            Some(before) => *self.ends.get(before)?,
            None => 0,
        };
        self.text.get(start..*self.ends.get(i)?)
    }

    /// The keys in the order they were planned.
    pub fn iter(&self) -> impl Iterator<Item = &str> + '_ {
        (0..self.len()).filter_map(|i| self.get(i))
    }
}

/// The Owner grants of the items at the root (one each, for the owner of
/// personal items), as positions in the [`KeyList`]: a streamed plan makes
/// and decides them a chunk at a time instead of holding one per item.
#[derive(Debug)]
pub struct RootGrants {
    grantee: PlannedGrantee,
    items: Vec<u32>,
}

impl RootGrants {
    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The target keys, in order.
    pub fn targets<'k>(&'k self, keys: &'k KeyList) -> impl Iterator<Item = &'k str> + 'k {
        self.items.iter().filter_map(|&i| keys.get(usize::try_from(i).ok()?))
    }

    /// The grants of the items from `start`, at most `n`, as the whole-plan
    /// mapper makes them.
    pub fn grants(&self, keys: &KeyList, start: usize, n: usize) -> Vec<PlannedGrant> {
        self.items
            .iter()
            .skip(start)
            .take(n)
            .filter_map(|&i| keys.get(usize::try_from(i).ok()?))
            .map(|target| {
                let target = ImportKey::new(target);
                PlannedGrant {
                    key: grant_key(&target, &self.grantee),
                    target,
                    grantee: self.grantee.clone(),
                    role: ItemRole::Owner,
                    source_access: plan::PERSONAL_ACCESS.into(),
                    lowered_from: None,
                }
            })
            .collect()
    }
}

/// Adds a folder path and its parents (parents first) to an ordered set.
fn add_folder(folders: &mut Vec<Vec<String>>, seen: &mut HashSet<Vec<String>>, path: &[String]) {
    if seen.contains(path) {
        return;
    }
    for depth in 1..=path.len() {
        let prefix = path.get(..depth).unwrap_or_default();
        if !seen.contains(prefix) {
            seen.insert(prefix.to_vec());
            folders.push(prefix.to_vec());
        }
    }
}
