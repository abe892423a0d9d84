//! Plan + workspace snapshot → [`Changeset`]: what a run would create,
//! update, leave alone, or must not touch, object by object.
//!
//! Objects are matched by import key only. Accounts and secrets are compared
//! through a canonical content hash (see [`hash`]): the store remembers the
//! hash of what the importer last wrote, so three hashes tell apart "the
//! source changed" (update), "someone edited it in the workspace" (conflict,
//! left alone unless `--overwrite`) and "nothing happened" (unchanged).
//! Changes are described by field *names* only, never values.

mod gone;
pub(crate) mod hash;

use gone::gone;
pub use gone::{from_this_source, source_scope};

// Fx hashing for maps keyed by import keys: a million-entry run looks keys
// up several million times, and SipHash's protection against chosen keys
// costs more than the rest of the lookup (the keys come from the admin's own
// export, hashed or numbered by the source).
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use serde::Serialize;

use std::borrow::Cow;

use crate::mapper::{
    Plan, PlannedAccount, PlannedCollection, PlannedGrant, PlannedGrantee, PlannedInvitation, PlannedSecret,
    PlannedTeam,
};
use crate::workspace::read_ahead::{ReadAhead, Settled};
use crate::workspace::{
    Account, GrantTarget, Grantee, ImportKey, ItemImport, ItemRole, SecretItem, Snapshot, Workspace, WorkspaceError,
};

use hash::Canon;

pub mod fingerprints;
pub mod rekey;
pub mod stream;

/// What happens to one object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Create,
    Update,
    Unchanged,
    /// Edited in the workspace since the last import: left alone unless
    /// the run overwrites.
    Conflict,
    /// Not written at all (a duplicate of a workspace item).
    Skip,
}

impl Action {
    pub const ALL: [Action; 5] = [
        Action::Create,
        Action::Update,
        Action::Unchanged,
        Action::Conflict,
        Action::Skip,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Unchanged => "unchanged",
            Action::Conflict => "conflict",
            Action::Skip => "skip",
        }
    }
}

/// The kinds of objects a run writes, in the order reports list them
/// (`apply` writes invitations after the items: see `apply`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectKind {
    Team,
    Invitation,
    Collection,
    Account,
    Secret,
    Grant,
}

impl ObjectKind {
    /// In report order.
    pub const ALL: [ObjectKind; 6] = [
        ObjectKind::Team,
        ObjectKind::Invitation,
        ObjectKind::Collection,
        ObjectKind::Account,
        ObjectKind::Secret,
        ObjectKind::Grant,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ObjectKind::Team => "team",
            ObjectKind::Invitation => "invitation",
            ObjectKind::Collection => "collection",
            ObjectKind::Account => "account",
            ObjectKind::Secret => "secret",
            ObjectKind::Grant => "grant",
        }
    }

    pub fn plural(self) -> &'static str {
        match self {
            ObjectKind::Team => "teams",
            ObjectKind::Invitation => "invitations",
            ObjectKind::Collection => "collections",
            ObjectKind::Account => "accounts",
            ObjectKind::Secret => "secrets",
            ObjectKind::Grant => "grants",
        }
    }
}

/// One planned object and what happens to it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Change {
    pub kind: ObjectKind,
    pub key: ImportKey,
    /// What a reviewer knows it by: name, title, email, "grantee on target".
    pub label: String,
    pub action: Action,
    /// The workspace object it matched, if any.
    pub existing: Option<i64>,
    /// For updates and conflicts: what differs, by name only ("password
    /// changed", "field 'PIN' changed", "adds members …").
    pub changes: Vec<String>,
    /// For skips: why.
    pub reason: Option<String>,
    /// Canonical content hash of the planned item (accounts and secrets):
    /// stored as `imported_hash` when written.
    #[serde(skip)]
    pub hash: Option<String>,
}

/// What a conflict over an object the importer created, and someone then
/// deleted in the workspace, says (a revoked grant, a removed account, a
/// member taken off a team).
pub const REMOVED_SINCE_IMPORT: &str = "removed in the workspace since the import";

impl Change {
    /// A conflict over an object the importer created that the workspace
    /// no longer holds: left deleted unless the run overwrites. The only
    /// conflicts without an existing object.
    pub fn removed_since_import(&self) -> bool {
        self.action == Action::Conflict && self.existing.is_none()
    }

    /// That conflict for a planned object.
    fn removed(kind: ObjectKind, key: &ImportKey, label: String, hash: Option<String>) -> Change {
        Change {
            kind,
            key: key.clone(),
            label,
            action: Action::Conflict,
            existing: None,
            changes: vec![REMOVED_SINCE_IMPORT.to_owned()],
            reason: None,
            hash,
        }
    }
}

/// A workspace object this source created earlier that the export no
/// longer holds. Reported, never deleted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Gone {
    pub kind: ObjectKind,
    pub key: ImportKey,
    pub id: i64,
    pub label: String,
}

/// Everything the diff decided, plus the plan it was decided from (the
/// reports need its tree, invitations, unmatched users and findings).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Changeset {
    pub plan: Plan,
    pub workspace_id: String,
    /// Conflicts are written over (`--overwrite`).
    pub overwrite: bool,
    /// In apply order: teams, invitations, collections (parents first),
    /// accounts, secrets, grants.
    pub changes: Vec<Change>,
    pub gone: Vec<Gone>,
}

impl crate::secret::Wipe for Changeset {
    fn wipe(&mut self) {
        self.plan.wipe();
    }
}

/// Every source entry accounted for:
/// `source_entries = created + updated + unchanged + conflicts + skipped`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ChangeCounts {
    pub source_entries: usize,
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub conflicts: usize,
    /// The plan's skipped entries (archived, skipped folders) plus
    /// duplicates of workspace items.
    pub skipped: usize,
}

impl ChangeCounts {
    pub fn holds(&self) -> bool {
        self.source_entries == self.created + self.updated + self.unchanged + self.conflicts + self.skipped
    }

    /// `12 source entries = 8 created + …`, with `MISMATCH` when it fails.
    pub fn describe(&self) -> String {
        format!(
            "{} source entries = {} created + {} updated + {} unchanged + {} conflicts + {} skipped{}",
            self.source_entries,
            self.created,
            self.updated,
            self.unchanged,
            self.conflicts,
            self.skipped,
            if self.holds() { " (holds)" } else { "  MISMATCH" }
        )
    }
}

/// What a run would do, without the objects: the counts and the changes a
/// reviewer reads one by one (updates, conflicts, items gone from the
/// source). What `plan` and `migrate` print, from a [`Changeset`] or from a
/// plan decided a chunk at a time ([`stream`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChangeSummary {
    pub tally: std::collections::BTreeMap<(ObjectKind, Action), usize>,
    /// Updates and conflicts, in apply order.
    pub notable: Vec<Change>,
    pub gone: Vec<Gone>,
    pub overwrite: bool,
    pub counts: ChangeCounts,
}

impl ChangeSummary {
    fn new(
        tally: std::collections::BTreeMap<(ObjectKind, Action), usize>,
        notable: Vec<Change>,
        gone: Vec<Gone>,
        plan: &Plan,
        overwrite: bool,
    ) -> ChangeSummary {
        let mut counts = ChangeCounts {
            source_entries: plan.source_entries,
            skipped: plan.skipped.len(),
            ..ChangeCounts::default()
        };
        for ((kind, action), n) in &tally {
            if !matches!(kind, ObjectKind::Account | ObjectKind::Secret) {
                continue;
            }
            match action {
                Action::Create => counts.created += n,
                Action::Update => counts.updated += n,
                Action::Unchanged => counts.unchanged += n,
                Action::Conflict => counts.conflicts += n,
                Action::Skip => counts.skipped += n,
            }
        }
        ChangeSummary {
            tally,
            notable,
            gone,
            overwrite,
            counts,
        }
    }

    /// Objects a run would write (creates, updates, and conflicts when
    /// overwriting).
    pub fn to_write(&self) -> usize {
        self.tally
            .iter()
            .filter(|((_, action), _)| match action {
                Action::Create | Action::Update => true,
                Action::Conflict => self.overwrite,
                Action::Unchanged | Action::Skip => false,
            })
            .map(|(_, n)| n)
            .sum()
    }
}

fn notable(c: &Change) -> bool {
    notable_action(c.action)
}

fn notable_action(action: Action) -> bool {
    matches!(action, Action::Update | Action::Conflict)
}

/// A skipped entry with its reason, plan skips and duplicates alike.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Skipped {
    pub title: String,
    pub folder: String,
    pub reason: String,
    pub line: Option<u64>,
}

impl Changeset {
    pub fn of(&self, kind: ObjectKind) -> impl Iterator<Item = &Change> {
        self.changes.iter().filter(move |c| c.kind == kind)
    }

    /// How many objects of `kind` get `action`.
    pub fn count(&self, kind: ObjectKind, action: Action) -> usize {
        self.of(kind).filter(|c| c.action == action).count()
    }

    /// Every (kind, action) count in one pass over the changes: summaries
    /// ask for all thirty, and a million-entry changeset is long.
    pub fn tally(&self) -> std::collections::BTreeMap<(ObjectKind, Action), usize> {
        let mut out = std::collections::BTreeMap::new();
        for c in &self.changes {
            *out.entry((c.kind, c.action)).or_insert(0) += 1;
        }
        out
    }

    /// Objects a run would write (creates, updates, and conflicts when
    /// overwriting).
    pub fn to_write(&self) -> usize {
        self.changes.iter().filter(|c| self.writes(c)).count()
    }

    pub fn writes(&self, c: &Change) -> bool {
        match c.action {
            Action::Create | Action::Update => true,
            Action::Conflict => self.overwrite,
            Action::Unchanged | Action::Skip => false,
        }
    }

    /// The entry counts for the reconciliation line every report ends with.
    pub fn reconcile(&self) -> ChangeCounts {
        let items = self
            .changes
            .iter()
            .filter(|c| matches!(c.kind, ObjectKind::Account | ObjectKind::Secret));
        let mut counts = ChangeCounts {
            source_entries: self.plan.source_entries,
            skipped: self.plan.skipped.len(),
            ..ChangeCounts::default()
        };
        for c in items {
            match c.action {
                Action::Create => counts.created += 1,
                Action::Update => counts.updated += 1,
                Action::Unchanged => counts.unchanged += 1,
                Action::Conflict => counts.conflicts += 1,
                Action::Skip => counts.skipped += 1,
            }
        }
        counts
    }

    /// Plan skips and duplicate items, each with its reason.
    pub fn skipped(&self) -> Vec<Skipped> {
        self.skipped_in(&PlanIndex::new(&self.plan))
    }

    /// [`skipped`](Changeset::skipped) with this changeset's plan indexed
    /// already (a million-item plan takes a while to index).
    pub fn skipped_in(&self, index: &PlanIndex<'_>) -> Vec<Skipped> {
        let mut out: Vec<Skipped> = self
            .plan
            .skipped
            .iter()
            .map(|s| Skipped {
                title: s.title.clone(),
                folder: s.folder.clone(),
                reason: s.reason.name().to_owned(),
                line: s.position.line,
            })
            .collect();
        let folder_of = |key: Option<&ImportKey>| {
            key.and_then(|k| index.collections.get(k))
                .map(|c| path_of(&index.collections, c))
                .unwrap_or_default()
        };
        for c in self.changes.iter().filter(|c| c.action == Action::Skip) {
            let (folder, line) = match c.kind {
                ObjectKind::Account => index
                    .accounts
                    .get(&c.key)
                    .map(|a| (folder_of(a.collection.as_ref()), a.source_line))
                    .unwrap_or_default(),
                _ => index
                    .secrets
                    .get(&c.key)
                    .map(|s| (folder_of(s.collection.as_ref()), s.source_line))
                    .unwrap_or_default(),
            };
            out.push(Skipped {
                title: c.label.clone(),
                folder,
                reason: c.reason.clone().unwrap_or_default(),
                line,
            });
        }
        out
    }

    /// The counts and the changes a reviewer reads one by one.
    pub fn summary(&self) -> ChangeSummary {
        ChangeSummary::new(
            self.tally(),
            self.changes.iter().filter(|c| notable(c)).cloned().collect(),
            self.gone.clone(),
            &self.plan,
            self.overwrite,
        )
    }

    /// Whether a run has anything to do.
    pub fn has_changes(&self) -> bool {
        self.to_write() > 0
    }
}

/// Compares a plan with the workspace. `overwrite` makes a run write over
/// conflicts (they are still reported as conflicts).
///
/// Takes the plan by value: the changeset keeps it (the reports and `apply`
/// need its content), and a million-entry plan is too big to copy.
pub fn diff(plan: Plan, snapshot: &Snapshot, overwrite: bool) -> Changeset {
    let hashes = ItemHashes::of(&plan);
    diff_hashed(plan, snapshot, overwrite, hashes)
}

/// Compares a plan with a workspace whose snapshot was read with
/// [`Workspace::snapshot_base`] (the plan mapped with
/// [`crate::mapper::map_entries`]): hashes the planned items, reads the
/// workspace's items (the store leaves out the content of those it vouches
/// are unchanged, so a re-run reads keys, not a million items), marks
/// duplicates and diffs. `snapshot` ends complete, for `apply`.
pub fn against_workspace(
    workspace: &dyn Workspace,
    plan: Plan,
    snapshot: &mut Snapshot,
    overwrite: bool,
) -> Result<Changeset, WorkspaceError> {
    let hashes = ItemHashes::of(&plan);
    against_workspace_settled(workspace, plan, hashes, snapshot, overwrite, None)
}

/// The rows a store read ahead ([`Workspace::read_ahead`], while the
/// export was mapped), settled against the planned items' keys and hashes
/// (`hashes` is [`ItemHashes::of`] these items, in the same order).
pub struct SettledRows {
    accounts: Settled,
    secrets: Settled,
}

pub fn settle_read_ahead(
    rows: ReadAhead,
    accounts: &[PlannedAccount],
    secrets: &[PlannedSecret],
    hashes: &ItemHashes,
) -> SettledRows {
    let (accounts, secrets) = rayon::join(
        || {
            rows.accounts
                .settle(&keyed(accounts.iter().map(|a| &a.key), &hashes.accounts))
        },
        || {
            rows.secrets
                .settle(&keyed(secrets.iter().map(|s| &s.key), &hashes.secrets))
        },
    );
    SettledRows { accounts, secrets }
}

/// [`against_workspace`] with the rows the store read ahead, settled
/// ([`settle_read_ahead`]) against this plan's items: only the rest are
/// read, whole. Decides what `against_workspace` decides. `hashes` must
/// be [`ItemHashes::of`] the plan (a run that maps a chunk at a time
/// hashes each chunk as it is mapped: [`ItemHashes::extend`]).
pub fn against_workspace_settled(
    workspace: &dyn Workspace,
    mut plan: Plan,
    hashes: ItemHashes,
    snapshot: &mut Snapshot,
    overwrite: bool,
    settled: Option<SettledRows>,
) -> Result<Changeset, WorkspaceError> {
    match settled {
        None => workspace.load_items(snapshot, &hashes.by_key(&plan))?,
        Some(SettledRows { accounts, secrets }) => {
            workspace.read_items_by_id(snapshot, &accounts.read_in_full, &secrets.read_in_full)?;
            snapshot.intact_accounts = accounts.intact;
            snapshot.intact_secrets = secrets.intact;
        }
    }
    crate::mapper::mark_duplicates(&mut plan, snapshot);
    let mut changeset = diff_hashed(plan, snapshot, overwrite, hashes);
    changeset.gone = from_this_source(workspace, &changeset.plan, std::mem::take(&mut changeset.gone))?;
    Ok(changeset)
}

/// Planned keys beside their hashes, in plan order.
fn keyed<'a>(keys: impl Iterator<Item = &'a ImportKey>, hashes: &'a [String]) -> Vec<(&'a ImportKey, &'a str)> {
    keys.zip(hashes.iter().map(String::as_str)).collect()
}

/// The planned accounts' and secrets' content hashes, in plan order:
/// computed once (in parallel) for both [`crate::workspace::Workspace::load_items`]
/// and [`diff_hashed`].
#[derive(Clone, Debug, Default)]
pub struct ItemHashes {
    pub accounts: Vec<String>,
    pub secrets: Vec<String>,
}

impl ItemHashes {
    pub fn of(plan: &Plan) -> ItemHashes {
        let mut hashes = ItemHashes::default();
        hashes.extend(&plan.accounts, &plan.secrets);
        hashes
    }

    /// Appends the hashes of the next planned items, in parallel.
    pub fn extend(&mut self, accounts: &[PlannedAccount], secrets: &[PlannedSecret]) {
        use rayon::prelude::*;
        self.accounts.par_extend(
            accounts
                .par_iter()
                .with_min_len(256)
                .map(|a| planned_account_canon(a).hash()),
        );
        self.secrets.par_extend(
            secrets
                .par_iter()
                .with_min_len(256)
                .map(|s| planned_secret_canon(s).hash()),
        );
    }

    /// By import key, for the store.
    pub fn by_key<'a>(&'a self, plan: &'a Plan) -> crate::workspace::PlannedHashes<'a> {
        let mut out = crate::workspace::PlannedHashes::default();
        out.reserve(plan.accounts.len() + plan.secrets.len());
        for (a, h) in plan.accounts.iter().zip(&self.accounts) {
            out.insert(a.key.as_str(), (&a.key, h.as_str()));
        }
        for (s, h) in plan.secrets.iter().zip(&self.secrets) {
            out.insert(s.key.as_str(), (&s.key, h.as_str()));
        }
        out
    }
}

/// [`diff`] with the plan's hashes computed already. `hashes` must be
/// [`ItemHashes::of`] this plan (items the store read as intact were
/// matched against them).
pub fn diff_hashed(plan: Plan, snapshot: &Snapshot, overwrite: bool, hashes: ItemHashes) -> Changeset {
    let (changes, gone) = {
        // Both index a million items by key: built side by side.
        let (index, mut d) = rayon::join(|| PlanIndex::new(&plan), || Differ::new(snapshot, None));
        d.index = Some(&index);
        let mut changes = Vec::with_capacity(
            plan.teams.len()
                + plan.invitations.len()
                + plan.collections.len()
                + plan.accounts.len()
                + plan.secrets.len()
                + plan.grants.len(),
        );
        d.teams(&plan, &mut changes);
        d.invitations(&plan, &mut changes);
        d.collections(&plan, &mut changes);
        d.accounts(&plan.accounts, hashes.accounts, &mut changes);
        d.secrets(&plan.secrets, hashes.secrets, &mut changes);
        d.grants(&plan.grants, true, &mut changes);
        (changes, d.gone(&plan))
    };
    Changeset {
        plan,
        workspace_id: snapshot.workspace.id.clone(),
        overwrite,
        changes,
        gone,
    }
}

/// The snapshot indexed by import key.
struct Differ<'a> {
    snapshot: &'a Snapshot,
    index: Option<&'a PlanIndex<'a>>,
    collection_key_of: HashMap<i64, String>,
    collections: HashMap<&'a ImportKey, i64>,
    accounts: HashMap<&'a ImportKey, &'a Account>,
    secrets: HashMap<&'a ImportKey, &'a SecretItem>,
    /// Ids of the items the store read as intact (unchanged, no content).
    intact_accounts: HashMap<&'a ImportKey, i64>,
    intact_secrets: HashMap<&'a ImportKey, i64>,
    grant_maps: std::sync::OnceLock<GrantMaps<'a>>,
}

type GrantMaps<'a> = (
    HashMap<&'a ImportKey, (i64, ItemRole)>,
    HashMap<(GrantTarget, Grantee), (i64, ItemRole)>,
);

/// The collection an item sits in, as hashed: its import key, or `id:N`.
fn collection_ref(id: Option<i64>, keys: &HashMap<i64, String>) -> Option<Cow<'_, str>> {
    id.map(|id| match keys.get(&id) {
        Some(key) => Cow::Borrowed(key.as_str()),
        None => Cow::Owned(format!("id:{id}")),
    })
}

pub(crate) fn planned_account_canon(a: &PlannedAccount) -> Canon<'_> {
    Canon {
        kind: "account",
        collection: a.collection.as_ref().map(|k| Cow::Borrowed(k.as_str())),
        name: &a.name,
        url: a.url.as_deref(),
        urls: &a.urls,
        username: a.username.as_deref(),
        password: hash::secret_str(a.password.as_ref()),
        totp: hash::secret_str(a.totp.as_ref()),
        notes: a.notes.as_deref(),
        fields: hash::fields(&a.fields),
        tags: &a.tags,
        attachments: hash::attachments(&a.attachments),
    }
}

fn account_canon<'a>(a: &'a Account, keys: &'a HashMap<i64, String>) -> Canon<'a> {
    Canon {
        kind: "account",
        collection: collection_ref(a.collection, keys),
        name: &a.name,
        url: a.url.as_deref(),
        urls: &a.urls,
        username: a.username.as_deref(),
        password: hash::secret_str(a.password.as_ref()),
        totp: hash::secret_str(a.totp.as_ref()),
        notes: a.notes.as_deref(),
        fields: hash::fields(&a.fields),
        tags: &a.tags,
        attachments: hash::attachments(&a.attachments),
    }
}

pub(crate) fn planned_secret_canon(s: &PlannedSecret) -> Canon<'_> {
    Canon {
        kind: s.secret_type.name(),
        collection: s.collection.as_ref().map(|k| Cow::Borrowed(k.as_str())),
        name: &s.title,
        url: None,
        urls: &[],
        username: None,
        password: None,
        totp: None,
        notes: s.notes.as_deref(),
        fields: hash::fields(&s.fields),
        tags: &s.tags,
        attachments: hash::attachments(&s.attachments),
    }
}

fn secret_canon<'a>(s: &'a SecretItem, keys: &'a HashMap<i64, String>) -> Canon<'a> {
    Canon {
        kind: s.secret_type.name(),
        collection: collection_ref(s.collection, keys),
        name: &s.title,
        url: None,
        urls: &[],
        username: None,
        password: None,
        totp: None,
        notes: s.notes.as_deref(),
        fields: hash::fields(&s.fields),
        tags: &s.tags,
        attachments: hash::attachments(&s.attachments),
    }
}

/// An item the store read as intact: it holds the planned content.
fn unchanged(kind: ObjectKind, key: &ImportKey, label: &str, id: i64, hash: String) -> Change {
    Change {
        kind,
        key: key.clone(),
        label: label.to_owned(),
        action: Action::Unchanged,
        existing: Some(id),
        changes: Vec::new(),
        reason: None,
        hash: Some(hash),
    }
}

/// What differs between two canonical items, by name only.
fn describe_changes(planned: &Canon<'_>, current: &Canon<'_>) -> Vec<String> {
    let mut out = Vec::new();
    let mut check = |differs: bool, what: &str| {
        if differs {
            out.push(format!("{what} changed"));
        }
    };
    check(planned.kind != current.kind, "type");
    check(planned.name != current.name, "name");
    check(planned.collection != current.collection, "collection");
    check(planned.url != current.url || planned.urls != current.urls, "URL");
    check(planned.username != current.username, "username");
    check(planned.password != current.password, "password");
    check(planned.totp != current.totp, "one-time password");
    check(planned.notes != current.notes, "notes");
    check(planned.tags != current.tags, "tags");
    check(planned.attachments != current.attachments, "attachments");
    out.extend(field_changes(&planned.fields, &current.fields));
    out
}

/// What differs when the current item came without its secret values:
/// everything else by name, and, when nothing else differs, that a secret
/// value did (the hashes differ, the values are not here to say which).
fn describe_withheld(planned: &Canon<'_>, current: &Canon<'_>) -> Vec<String> {
    let mut out = describe_changes(&planned.without_secrets(), &current.without_secrets());
    if out.is_empty() {
        out.push("a secret value changed (password, one-time password, notes or a concealed field)".into());
    }
    out
}

/// Field changes by label: changed, added, removed (in that field order).
fn field_changes(planned: &[hash::CanonField<'_>], current: &[hash::CanonField<'_>]) -> Vec<String> {
    let mut out = Vec::new();
    let by_label = |fields: &[hash::CanonField<'_>]| -> Vec<(String, usize)> {
        let mut seen: HashMap<&str, usize> = HashMap::default();
        fields
            .iter()
            .map(|f| {
                let n = seen.entry(f.label).or_default();
                *n += 1;
                (f.label.to_owned(), *n)
            })
            .collect()
    };
    let p_ids = by_label(planned);
    let c_ids = by_label(current);
    let c_index: HashMap<&(String, usize), usize> = c_ids.iter().enumerate().map(|(i, k)| (k, i)).collect();
    let p_set: HashSet<&(String, usize)> = p_ids.iter().collect();
    for (i, id) in p_ids.iter().enumerate() {
        match c_index.get(id) {
            Some(&j) => {
                if planned.get(i) != current.get(j) {
                    out.push(format!("field '{}' changed", id.0));
                }
            }
            None => out.push(format!("field '{}' added", id.0)),
        }
    }
    for id in &c_ids {
        if !p_set.contains(id) {
            out.push(format!("field '{}' removed", id.0));
        }
    }
    if out.is_empty() && planned != current {
        out.push("field order changed".into());
    }
    out
}

impl<'a> Differ<'a> {
    fn new(snapshot: &'a Snapshot, index: Option<&'a PlanIndex<'a>>) -> Differ<'a> {
        let mut collection_key_of = HashMap::default();
        let mut collections = HashMap::default();
        for c in &snapshot.collections {
            if let Some(k) = &c.import_key {
                collection_key_of.insert(c.id, k.0.to_string());
                collections.insert(k, c.id);
            }
        }
        let (intact_accounts, intact_secrets) = rayon::join(
            || snapshot.intact_accounts.iter().map(|i| (&i.import_key, i.id)).collect(),
            || snapshot.intact_secrets.iter().map(|i| (&i.import_key, i.id)).collect(),
        );
        Differ {
            snapshot,
            index,
            collection_key_of,
            collections,
            accounts: snapshot
                .accounts
                .iter()
                .filter_map(|a| Some((a.import.import_key.as_ref()?, a)))
                .collect(),
            secrets: snapshot
                .secrets
                .iter()
                .filter_map(|s| Some((s.import.import_key.as_ref()?, s)))
                .collect(),
            intact_accounts,
            intact_secrets,
            grant_maps: std::sync::OnceLock::new(),
        }
    }

    fn teams(&self, plan: &Plan, out: &mut Vec<Change>) {
        for t in &plan.teams {
            let existing = self
                .snapshot
                .teams
                .iter()
                .find(|w| w.import_key.as_ref() == Some(&t.key))
                .or_else(|| {
                    self.snapshot
                        .teams
                        .iter()
                        .find(|w| w.name.eq_ignore_ascii_case(&t.name))
                });
            let mut change = Change {
                kind: ObjectKind::Team,
                key: t.key.clone(),
                label: t.name.clone(),
                action: Action::Create,
                existing: existing.map(|w| w.id),
                changes: Vec::new(),
                reason: None,
                hash: None,
            };
            if existing.is_none() && self.snapshot.removed.has(&t.key) {
                out.push(Change::removed(ObjectKind::Team, &t.key, t.name.clone(), None));
                continue;
            }
            let missing: Vec<&str> = t
                .members
                .iter()
                .filter(|email| match (existing, self.snapshot.member_by_email(email)) {
                    (Some(team), Some(m)) => !team.members.contains(&m.id),
                    _ => true,
                })
                .map(String::as_str)
                .collect();
            // Members the importer put in this team and someone took out.
            let taken_out: Vec<&str> = match existing {
                Some(team) if !self.snapshot.removed.team_members.is_empty() => missing
                    .iter()
                    .copied()
                    .filter(|email| {
                        self.snapshot
                            .member_by_email(email)
                            .is_some_and(|m| self.snapshot.removed.team_members.contains(&(team.id, m.id)))
                    })
                    .collect(),
                _ => Vec::new(),
            };
            if !taken_out.is_empty() {
                change.action = Action::Conflict;
                change.changes.push(format!(
                    "{} {REMOVED_SINCE_IMPORT}",
                    taken_out
                        .iter()
                        .map(|e| format!("member {e}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
                let added: Vec<&str> = missing.iter().copied().filter(|e| !taken_out.contains(e)).collect();
                if !added.is_empty() {
                    change.changes.push(format!("adds members {}", added.join(", ")));
                }
            } else if existing.is_some() {
                if missing.is_empty() {
                    change.action = Action::Unchanged;
                } else {
                    change.action = Action::Update;
                    change.changes.push(format!("adds members {}", missing.join(", ")));
                }
            } else if !missing.is_empty() {
                change.changes.push(format!("members {}", missing.join(", ")));
            }
            out.push(change);
        }
    }

    fn invitations(&self, plan: &Plan, out: &mut Vec<Change>) {
        for i in &plan.invitations {
            let invited = self
                .snapshot
                .invitations
                .iter()
                .find(|w| w.import_key.as_ref() == Some(&i.key) || w.email.eq_ignore_ascii_case(&i.email));
            let member = self.snapshot.member_by_email(&i.email);
            let (action, existing, reason) = match (invited, member) {
                (Some(w), _) => (Action::Unchanged, Some(w.id), Some("already invited".to_owned())),
                (None, Some(m)) => (
                    Action::Unchanged,
                    Some(m.id),
                    Some(format!("already a {} member", m.role.name())),
                ),
                (None, None) if self.snapshot.removed.has(&i.key) => {
                    (Action::Conflict, None, Some(REMOVED_SINCE_IMPORT.to_owned()))
                }
                (None, None) => (Action::Create, None, None),
            };
            let partner = i.partner.as_deref().map(|p| format!(" ({p})")).unwrap_or_default();
            out.push(Change {
                kind: ObjectKind::Invitation,
                key: i.key.clone(),
                label: format!("{}{partner}", i.email),
                action,
                existing,
                changes: Vec::new(),
                reason,
                hash: None,
            });
        }
    }

    fn collections(&self, plan: &Plan, out: &mut Vec<Change>) {
        for c in &plan.collections {
            let existing = self.collections.get(&c.key).copied();
            let label = || self.index.map_or_else(|| c.name.clone(), |i| i.collection_path(c));
            if existing.is_none() && self.snapshot.removed.has(&c.key) {
                out.push(Change::removed(ObjectKind::Collection, &c.key, label(), None));
                continue;
            }
            out.push(Change {
                kind: ObjectKind::Collection,
                key: c.key.clone(),
                label: label(),
                action: if existing.is_some() {
                    Action::Unchanged
                } else {
                    Action::Create
                },
                existing,
                changes: Vec::new(),
                reason: None,
                hash: None,
            });
        }
    }

    /// The three-hash decision shared by accounts and secrets.
    #[allow(clippy::too_many_arguments)]
    fn item(
        &self,
        kind: ObjectKind,
        key: &ImportKey,
        label: &str,
        duplicate_of: Option<i64>,
        planned: Canon<'_>,
        planned_hash: String,
        current: Option<(i64, &ItemImport, Canon<'_>)>,
    ) -> Change {
        let mut change = Change {
            kind,
            key: key.clone(),
            label: label.to_owned(),
            action: Action::Create,
            existing: None,
            changes: Vec::new(),
            reason: None,
            hash: Some(planned_hash.clone()),
        };
        match current {
            None if self.snapshot.removed.has(key) => {
                return Change::removed(kind, key, label.to_owned(), Some(planned_hash));
            }
            None => {
                if let Some(id) = duplicate_of {
                    change.action = Action::Skip;
                    change.existing = Some(id);
                    change.reason = Some(format!("duplicate of workspace {} #{id}", kind.name()));
                }
            }
            Some((id, import, current)) => {
                change.existing = Some(id);
                // A store that withheld the values (the HTTP target) sent
                // the hash of what it holds instead.
                let current_hash = match &import.withheld {
                    Some(w) => w.content_hash.clone(),
                    None => current.hash(),
                };
                let describe = || match &import.withheld {
                    Some(_) => describe_withheld(&planned, &current),
                    None => describe_changes(&planned, &current),
                };
                // No recorded hash: written under our key by something else.
                let edited = import.imported_hash.as_ref().map_or(true, |h| *h != current_hash);
                if edited {
                    change.action = Action::Conflict;
                    change.changes = describe();
                    change.reason = Some("edited in the workspace since the last import".into());
                } else if planned_hash != current_hash {
                    change.action = Action::Update;
                    change.changes = describe();
                } else {
                    change.action = Action::Unchanged;
                }
            }
        }
        change
    }

    /// Items are independent of each other and hashing each (twice on a
    /// re-run: the planned item and the workspace copy) is the cost, so
    /// they are decided in parallel; `collect` keeps plan order.
    fn accounts(&self, accounts: &[PlannedAccount], hashes: Vec<String>, out: &mut Vec<Change>) {
        use rayon::prelude::*;
        // Written in place into `out` (its room is reserved): a million
        // changes are not collected and then copied over.
        out.par_extend(accounts.par_iter().zip(hashes).with_min_len(256).map(|(a, hash)| {
            if let Some(id) = self.intact_accounts.get(&a.key) {
                return unchanged(ObjectKind::Account, &a.key, &a.name, *id, hash);
            }
            let current = self
                .accounts
                .get(&a.key)
                .map(|w| (w.id, &w.import, account_canon(w, &self.collection_key_of)));
            self.item(
                ObjectKind::Account,
                &a.key,
                &a.name,
                a.duplicate_of,
                planned_account_canon(a),
                hash,
                current,
            )
        }));
    }

    fn secrets(&self, secrets: &[PlannedSecret], hashes: Vec<String>, out: &mut Vec<Change>) {
        use rayon::prelude::*;
        // Written in place into `out` (its room is reserved): a million
        // changes are not collected and then copied over.
        out.par_extend(secrets.par_iter().zip(hashes).with_min_len(256).map(|(s, hash)| {
            if let Some(id) = self.intact_secrets.get(&s.key) {
                return unchanged(ObjectKind::Secret, &s.key, &s.title, *id, hash);
            }
            let current = self
                .secrets
                .get(&s.key)
                .map(|w| (w.id, &w.import, secret_canon(w, &self.collection_key_of)));
            self.item(
                ObjectKind::Secret,
                &s.key,
                &s.title,
                s.duplicate_of,
                planned_secret_canon(s),
                hash,
                current,
            )
        }));
    }

    /// The workspace id of a planned grant's target, where it exists now.
    fn target_id(&self, key: &ImportKey) -> Option<GrantTarget> {
        if let Some(id) = self.collections.get(key) {
            return Some(GrantTarget::Collection(*id));
        }
        let index = self.index?;
        if let Some(a) = index.accounts.get(key) {
            return self
                .accounts
                .get(key)
                .map(|w| w.id)
                .or_else(|| self.intact_accounts.get(key).copied())
                .or(a.duplicate_of)
                .map(GrantTarget::Account);
        }
        if let Some(s) = index.secrets.get(key) {
            return self
                .secrets
                .get(key)
                .map(|w| w.id)
                .or_else(|| self.intact_secrets.get(key).copied())
                .or(s.duplicate_of)
                .map(GrantTarget::Secret);
        }
        None
    }

    fn grantee_id(&self, grantee: &PlannedGrantee) -> Option<Grantee> {
        let s = self.snapshot;
        match grantee {
            PlannedGrantee::Member { email } | PlannedGrantee::Guest { email } => {
                s.member_by_email(email).map(|m| Grantee::Member(m.id))
            }
            PlannedGrantee::Team { name } => s
                .teams
                .iter()
                .find(|t| t.name.eq_ignore_ascii_case(name))
                .map(|t| Grantee::Team(t.id)),
            PlannedGrantee::Partner { name } => s
                .partners
                .iter()
                .find(|p| p.name.eq_ignore_ascii_case(name))
                .map(|p| Grantee::Partner(p.id)),
            PlannedGrantee::Partnership { name } => s
                .partnerships
                .iter()
                .find(|p| p.name.eq_ignore_ascii_case(name))
                .map(|p| Grantee::Partnership(p.id)),
        }
    }

    /// Grants: create, or unchanged when the grantee holds that role on the
    /// target already (under our key or granted by hand). A different role
    /// is a conflict: someone changed it in the workspace, or the policy
    /// changed; the workspace's role is kept unless `--overwrite`.
    /// `every_label`: label unchanged grants and creations too (a plan
    /// that keeps only what changes labels only those).
    fn grants(&self, grants: &[PlannedGrant], every_label: bool, out: &mut Vec<Change>) {
        let (by_key, by_pair) = self.grant_maps();
        // Independent of each other, and each label is looked up and
        // formatted: decided in parallel, in plan order.
        use rayon::prelude::*;
        let decided: Vec<Change> = grants
            .par_iter()
            .with_min_len(256)
            .map(|g| {
                let existing = by_key.get(&g.key).copied().or_else(|| {
                    let target = self.target_id(&g.target)?;
                    let grantee = self.grantee_id(&g.grantee)?;
                    by_pair.get(&(target, grantee)).copied()
                });
                let (action, existing, changes) = match existing {
                    None if self.snapshot.removed.has(&g.key) => {
                        (Action::Conflict, None, vec![REMOVED_SINCE_IMPORT.to_owned()])
                    }
                    None => (Action::Create, None, Vec::new()),
                    Some((id, role)) if role == g.role => (Action::Unchanged, Some(id), Vec::new()),
                    Some((id, role)) => (
                        Action::Conflict,
                        Some(id),
                        vec![format!(
                            "role is {} in the workspace, {} planned",
                            role.name(),
                            g.role.name()
                        )],
                    ),
                };
                Change {
                    kind: ObjectKind::Grant,
                    key: g.key.clone(),
                    label: if every_label || notable_action(action) {
                        format!("{} on {}: {}", g.grantee.label(), self.label(&g.target), g.role.name())
                    } else {
                        String::new()
                    },
                    action,
                    existing,
                    changes,
                    reason: None,
                    hash: None,
                }
            })
            .collect();
        out.extend(decided);
    }

    /// The workspace's grants by key and by (target, grantee), made once
    /// per differ: a plan decided a chunk at a time decides its grants in
    /// chunks too.
    fn grant_maps(&self) -> &GrantMaps<'a> {
        self.grant_maps.get_or_init(|| {
            (
                self.snapshot
                    .grants
                    .iter()
                    .filter_map(|g| Some((g.import_key.as_ref()?, (g.id, g.role))))
                    .collect(),
                self.snapshot
                    .grants
                    .iter()
                    .map(|g| ((g.target, g.grantee), (g.id, g.role)))
                    .collect(),
            )
        })
    }

    fn label(&self, key: &ImportKey) -> String {
        self.index.map_or_else(|| key.to_string(), |i| i.target_label(key))
    }

    /// Workspace objects under this source's key prefixes that the plan no
    /// longer has.
    fn gone(&self, plan: &Plan) -> Vec<Gone> {
        // The plan's keys are in the index already; without one (never from
        // `diff`), nothing can be told gone.
        let Some(index) = self.index else {
            return Vec::new();
        };
        gone(self.snapshot, plan.source, &|kind, key| match kind {
            ObjectKind::Collection => index.collections.contains_key(key),
            ObjectKind::Account => index.accounts.contains_key(key),
            _ => index.secrets.contains_key(key),
        })
    }
}

/// The content hash of a workspace account as the diff computes it (what
/// `imported_hash` must hold for the account to count as unedited).
pub fn workspace_account_hash(a: &Account, snapshot: &Snapshot) -> String {
    WorkspaceHasher::new(snapshot).account(a)
}

/// The same for a workspace secret.
pub fn workspace_secret_hash(s: &SecretItem, snapshot: &Snapshot) -> String {
    WorkspaceHasher::new(snapshot).secret(s)
}

/// The content hashes of many items of one snapshot (a list route hashes
/// every account): the collections' keys are indexed once.
pub struct WorkspaceHasher {
    collection_key_of: HashMap<i64, String>,
}

impl WorkspaceHasher {
    pub fn new(snapshot: &Snapshot) -> WorkspaceHasher {
        WorkspaceHasher {
            collection_key_of: snapshot
                .collections
                .iter()
                .filter_map(|c| Some((c.id, c.import_key.as_ref()?.0.to_string())))
                .collect(),
        }
    }

    /// The account's content hash; for one that came without its values,
    /// the hash the store sent for them.
    pub fn account(&self, a: &Account) -> String {
        match &a.import.withheld {
            Some(w) => w.content_hash.clone(),
            None => account_canon(a, &self.collection_key_of).hash(),
        }
    }

    pub fn secret(&self, s: &SecretItem) -> String {
        match &s.import.withheld {
            Some(w) => w.content_hash.clone(),
            None => secret_canon(s, &self.collection_key_of).hash(),
        }
    }
}

/// The plan's objects by import key, so a 20 000-entry export is diffed,
/// applied and reported in linear time (the plan's lists are in source
/// order; looking keys up in them would be quadratic).
pub struct PlanIndex<'a> {
    pub plan: &'a Plan,
    pub collections: HashMap<&'a ImportKey, &'a PlannedCollection>,
    pub accounts: HashMap<&'a ImportKey, &'a PlannedAccount>,
    pub secrets: HashMap<&'a ImportKey, &'a PlannedSecret>,
    pub grants: HashMap<&'a ImportKey, &'a PlannedGrant>,
    pub teams: HashMap<&'a ImportKey, &'a PlannedTeam>,
    pub invitations: HashMap<&'a ImportKey, &'a PlannedInvitation>,
    /// Each collection's path, worked out once: a grant's label names its
    /// collection, and a large export has a hundred thousand grants on a
    /// few thousand collections.
    paths: HashMap<&'a ImportKey, String>,
}

impl<'a> PlanIndex<'a> {
    pub fn new(plan: &'a Plan) -> PlanIndex<'a> {
        let collections: HashMap<&'a ImportKey, &'a PlannedCollection> =
            plan.collections.iter().map(|c| (&c.key, c)).collect();
        let paths = plan
            .collections
            .iter()
            .map(|c| (&c.key, path_of(&collections, c)))
            .collect();
        let (accounts, secrets) = rayon::join(
            || plan.accounts.iter().map(|a| (&a.key, a)).collect(),
            || plan.secrets.iter().map(|s| (&s.key, s)).collect(),
        );
        PlanIndex {
            plan,
            paths,
            collections,
            accounts,
            secrets,
            grants: plan.grants.iter().map(|g| (&g.key, g)).collect(),
            teams: plan.teams.iter().map(|t| (&t.key, t)).collect(),
            invitations: plan.invitations.iter().map(|i| (&i.key, i)).collect(),
        }
    }

    /// An index whose accounts and secrets are only those `keep` names
    /// (everything else complete): for a reader that walks the items in
    /// plan order and looks up only a few by key (a map of a million
    /// items costs more than the walk).
    pub fn with_items(plan: &'a Plan, keep: impl Fn(&ImportKey) -> bool) -> PlanIndex<'a> {
        let mut index = PlanIndex::empty(plan);
        index.collections = plan.collections.iter().map(|c| (&c.key, c)).collect();
        index.paths = plan
            .collections
            .iter()
            .map(|c| (&c.key, path_of(&index.collections, c)))
            .collect();
        index.accounts = plan
            .accounts
            .iter()
            .filter(|a| keep(&a.key))
            .map(|a| (&a.key, a))
            .collect();
        index.secrets = plan
            .secrets
            .iter()
            .filter(|s| keep(&s.key))
            .map(|s| (&s.key, s))
            .collect();
        index.grants = plan.grants.iter().map(|g| (&g.key, g)).collect();
        index.teams = plan.teams.iter().map(|t| (&t.key, t)).collect();
        index.invitations = plan.invitations.iter().map(|i| (&i.key, i)).collect();
        index
    }

    /// An index that finds nothing, for a run with nothing to look up.
    pub fn empty(plan: &'a Plan) -> PlanIndex<'a> {
        PlanIndex {
            plan,
            collections: HashMap::default(),
            accounts: HashMap::default(),
            secrets: HashMap::default(),
            grants: HashMap::default(),
            teams: HashMap::default(),
            invitations: HashMap::default(),
            paths: HashMap::default(),
        }
    }

    /// A grant target as a reviewer knows it: the collection path or item name.
    pub fn target_label(&self, key: &ImportKey) -> String {
        if let Some(c) = self.collections.get(key) {
            return self.collection_path(c);
        }
        if let Some(a) = self.accounts.get(key) {
            return format!("account '{}'", a.name);
        }
        if let Some(s) = self.secrets.get(key) {
            return format!("secret '{}'", s.title);
        }
        key.to_string()
    }

    /// A collection's path as the workspace shows it (`Engineering/Databases`).
    pub fn collection_path(&self, c: &PlannedCollection) -> String {
        match self.paths.get(&c.key) {
            Some(path) => path.clone(),
            None => path_of(&self.collections, c),
        }
    }
}

fn path_of(collections: &HashMap<&ImportKey, &PlannedCollection>, c: &PlannedCollection) -> String {
    let mut names = vec![c.name.clone()];
    let mut parent = c.parent.as_ref();
    while let Some(p) = parent.and_then(|k| collections.get(k)) {
        names.push(p.name.clone());
        parent = p.parent.as_ref();
        // A cycle cannot come from the mapper; stop rather than loop.
        if names.len() > collections.len() {
            break;
        }
    }
    names.reverse();
    names.join("/")
}

#[cfg(test)]
mod tests;
