//! A plan's accounts and secrets decided a chunk at a time, keeping a
//! summary of each (its key, name and decision counted) instead of the
//! item: how `plan` shows what a million-entry export would do in the
//! memory of a few chunks. The collections, grants, invitations and teams
//! are few and are diffed whole at the end, as [`super::diff`] does.
//!
//! The result is what the whole-plan path prints, decided by the same
//! code; one case cannot be decided item by item — a planned item marked
//! a duplicate of a workspace item that carries a key of this same plan
//! (the whole-plan rule would not take that item for an original) — and
//! [`ItemStream::finish`] then asks for the whole plan instead.

use std::collections::BTreeMap;

use super::{
    gone, notable, planned_account_canon, planned_secret_canon, Action, Change, ChangeSummary, Differ, HashMap,
    HashSet, ObjectKind, PlanIndex,
};
use crate::mapper::{
    ItemCounts, KeyList, Originals, Plan, PlannedAccount, PlannedGrantee, PlannedItem, PlannedSecret, RootGrants,
};

/// Grants decided at a time.
const GRANTS_CHUNK: usize = 4096;
use crate::model::Finding;
use crate::workspace::{ImportKey, Snapshot};

/// The decisions so far, and each item's name (for grant labels).
pub struct ItemStream<'a> {
    snapshot: &'a Snapshot,
    differ: Differ<'a>,
    originals: Originals<'a>,
    file: String,
    /// Every item's name, back to back; `ends[i]` is where item i's ends.
    names: String,
    ends: Vec<usize>,
    is_account: Vec<bool>,
    duplicate_of: HashMap<usize, i64>,
    counts: ItemCounts,
    tally: BTreeMap<(ObjectKind, Action), usize>,
    notable_accounts: Vec<Change>,
    notable_secrets: Vec<Change>,
    account_findings: Vec<Finding>,
    secret_findings: Vec<Finding>,
}

/// The changes of a plan whose items were not kept.
pub struct Streamed {
    /// The plan without its items, but for those a grant targets (by key
    /// and name only, see [`PlannedAccount::named`]); the findings include
    /// the duplicates'.
    pub plan: Plan,
    pub items: ItemCounts,
    pub changes: ChangeSummary,
}

/// A planned item duplicates a workspace item that this same plan also
/// holds: decide the plan whole ([`super::against_workspace`]).
#[derive(Debug)]
pub struct NeedsWholePlan;

impl<'a> ItemStream<'a> {
    /// `snapshot` must be complete ([`crate::workspace::Workspace::snapshot`]).
    pub fn new(snapshot: &'a Snapshot, file: &str) -> ItemStream<'a> {
        ItemStream {
            snapshot,
            differ: Differ::new(snapshot, None),
            originals: Originals::all(snapshot),
            file: file.to_owned(),
            names: String::new(),
            ends: Vec::new(),
            is_account: Vec::new(),
            duplicate_of: HashMap::default(),
            counts: ItemCounts::default(),
            tally: BTreeMap::new(),
            notable_accounts: Vec::new(),
            notable_secrets: Vec::new(),
            account_findings: Vec::new(),
            secret_findings: Vec::new(),
        }
    }

    /// The next items, in the order the mapper planned them (the order of
    /// the keys [`crate::mapper::MapStream::finish`] returns). They are decided and dropped.
    pub fn push(&mut self, items: Vec<PlannedItem>) {
        use rayon::prelude::*;
        let mut accounts = Vec::new();
        let mut secrets = Vec::new();
        // Position of each account and secret among all items.
        let mut account_at = Vec::new();
        let mut secret_at = Vec::new();
        for item in items {
            let at = self.ends.len();
            match item {
                PlannedItem::Account(a) => {
                    self.names.push_str(&a.name);
                    self.is_account.push(true);
                    account_at.push(at);
                    accounts.push(a);
                }
                PlannedItem::Secret(s) => {
                    self.names.push_str(&s.title);
                    self.is_account.push(false);
                    secret_at.push(at);
                    secrets.push(s);
                }
            }
            self.ends.push(self.names.len());
        }
        let found = self.originals.mark_accounts(&mut accounts, &self.file);
        self.account_findings.extend(found);
        let found = self.originals.mark_secrets(&mut secrets, &self.file);
        self.secret_findings.extend(found);
        for (a, at) in accounts.iter().zip(&account_at) {
            self.counts.account(a);
            if let Some(id) = a.duplicate_of {
                self.duplicate_of.insert(*at, id);
            }
        }
        for (s, at) in secrets.iter().zip(&secret_at) {
            self.counts.secret(s);
            if let Some(id) = s.duplicate_of {
                self.duplicate_of.insert(*at, id);
            }
        }
        // An item the workspace does not hold under its key is created, or
        // skipped as a duplicate: no hash to compare, no change to describe
        // (the whole-plan path decides the same in `Differ::item`).
        // (A fresh workspace holds none: nothing to sort out.)
        // An item the importer created and someone deleted since is a
        // conflict: decided by `Differ::item` too.
        let d = &self.differ;
        let removed = &self.snapshot.removed;
        let (accounts, new_accounts) =
            if d.accounts.is_empty() && d.intact_accounts.is_empty() && removed.keys.is_empty() {
                (Vec::new(), accounts)
            } else {
                accounts.into_iter().partition(|a| {
                    d.intact_accounts.contains_key(&a.key) || d.accounts.contains_key(&a.key) || removed.has(&a.key)
                })
            };
        let (secrets, new_secrets) = if d.secrets.is_empty() && d.intact_secrets.is_empty() && removed.keys.is_empty() {
            (Vec::new(), secrets)
        } else {
            secrets.into_iter().partition(|s| {
                d.intact_secrets.contains_key(&s.key) || d.secrets.contains_key(&s.key) || removed.has(&s.key)
            })
        };
        let mut new_item = |kind, duplicate_of: Option<i64>| {
            let action = if duplicate_of.is_some() {
                Action::Skip
            } else {
                Action::Create
            };
            *self.tally.entry((kind, action)).or_insert(0) += 1;
        };
        new_accounts
            .iter()
            .for_each(|a| new_item(ObjectKind::Account, a.duplicate_of));
        new_secrets
            .iter()
            .for_each(|s| new_item(ObjectKind::Secret, s.duplicate_of));
        let hashes: Vec<String> = accounts
            .par_iter()
            .with_min_len(256)
            .map(|a| planned_account_canon(a).hash())
            .collect();
        let mut decided = Vec::new();
        self.differ.accounts(&accounts, hashes, &mut decided);
        let hashes: Vec<String> = secrets
            .par_iter()
            .with_min_len(256)
            .map(|s| planned_secret_canon(s).hash())
            .collect();
        self.differ.secrets(&secrets, hashes, &mut decided);
        for c in decided {
            *self.tally.entry((c.kind, c.action)).or_insert(0) += 1;
            if notable(&c) {
                match c.kind {
                    ObjectKind::Account => self.notable_accounts.push(c),
                    _ => self.notable_secrets.push(c),
                }
            }
        }
    }

    fn name(&self, at: usize) -> &str {
        let start = at.checked_sub(1).and_then(|i| self.ends.get(i)).copied().unwrap_or(0);
        let end = self.ends.get(at).copied().unwrap_or(start);
        self.names.get(start..end).unwrap_or_default()
    }

    /// The rest of the diff, once the mapper has finished `plan` (no items)
    /// and `keys` holds every planned item's key, in push order.
    pub fn finish(
        self,
        mut plan: Plan,
        keys: &KeyList,
        root_grants: Option<RootGrants>,
        overwrite: bool,
    ) -> Result<Streamed, NeedsWholePlan> {
        let used: HashSet<&str> = self.originals.keys_used().iter().map(|k| k.as_str()).collect();
        if !used.is_empty() && keys.iter().any(|k| used.contains(k)) {
            return Err(NeedsWholePlan);
        }
        // Grant targets that are items, by key and name: for the workspace
        // items they already point at (only a workspace with grants can
        // hold one of them), the labels of grants that change, and the
        // summary's lowered roles and guests.
        let all_targets = !self.snapshot.grants.is_empty();
        let mut targets: HashSet<&str> = plan
            .grants
            .iter()
            .filter(|g| all_targets || g.lowered_from.is_some() || matches!(g.grantee, PlannedGrantee::Guest { .. }))
            .map(|g| g.target.as_str())
            .collect();
        if all_targets {
            targets.extend(root_grants.iter().flat_map(|r| r.targets(keys)));
        }
        let ws_items: HashSet<&str> = self
            .snapshot
            .accounts
            .iter()
            .filter_map(|a| a.import.import_key.as_ref())
            .chain(
                self.snapshot
                    .secrets
                    .iter()
                    .filter_map(|s| s.import.import_key.as_ref()),
            )
            .map(ImportKey::as_str)
            .collect();
        let mut still_planned: HashSet<&str> = HashSet::default();
        let (mut accounts, mut secrets) = (Vec::new(), Vec::new());
        for (at, key) in keys.iter().enumerate() {
            if ws_items.contains(key) {
                still_planned.insert(key);
            }
            if !targets.contains(key) {
                continue;
            }
            let key = ImportKey::new(key);
            let name = self.name(at).to_owned();
            let duplicate_of = self.duplicate_of.get(&at).copied();
            if self.is_account.get(at).copied().unwrap_or(true) {
                accounts.push(PlannedAccount::named(key, name, duplicate_of));
            } else {
                secrets.push(PlannedSecret::named(key, name, duplicate_of));
            }
        }
        plan.accounts = accounts;
        plan.secrets = secrets;
        plan.findings.extend(self.account_findings);
        plan.findings.extend(self.secret_findings);

        let index = PlanIndex::new(&plan);
        let differ = Differ::new(self.snapshot, Some(&index));
        let mut head = Vec::new();
        differ.teams(&plan, &mut head);
        differ.invitations(&plan, &mut head);
        differ.collections(&plan, &mut head);
        // A grant per item at the root: decided a chunk at a time too,
        // and made so (`RootGrants`).
        let mut grants = Vec::new();
        let mut tally = self.tally;
        let mut take = |decided: Vec<Change>| {
            for c in decided {
                *tally.entry((c.kind, c.action)).or_insert(0) += 1;
                if notable(&c) {
                    grants.push(c);
                }
            }
        };
        for chunk in plan.grants.chunks(GRANTS_CHUNK) {
            let mut decided = Vec::new();
            differ.grants(chunk, false, &mut decided);
            take(decided);
        }
        let mut counts = self.counts;
        if let Some(root) = &root_grants {
            // Made and decided on the pool, a chunk per task: by now the
            // reading threads are done, and this is the plan's largest
            // step left (a grant per item at the root, each with its key).
            // A few chunks per thread at a time, so as not to hold them all.
            use rayon::prelude::*;
            let starts: Vec<usize> = (0..root.len()).step_by(GRANTS_CHUNK).collect();
            for group in starts.chunks(2 * rayon::current_num_threads().max(1)) {
                let decided: Vec<Vec<Change>> = group
                    .par_iter()
                    .map(|&start| {
                        let mut decided = Vec::new();
                        differ.grants(&root.grants(keys, start, GRANTS_CHUNK), false, &mut decided);
                        decided
                    })
                    .collect();
                for chunk in decided {
                    take(chunk);
                }
            }
            counts.root_item_grants = root.len();
        }
        // The whole plan's grants are in key order, so are its changes.
        grants.sort_by(|a, b| a.key.cmp(&b.key));
        let gone = gone(self.snapshot, plan.source, &|kind, key| match kind {
            ObjectKind::Collection => index.collections.contains_key(key),
            _ => still_planned.contains(key.as_str()),
        });
        for c in &head {
            *tally.entry((c.kind, c.action)).or_insert(0) += 1;
        }
        let notable_changes: Vec<Change> = head
            .into_iter()
            .filter(notable)
            .chain(self.notable_accounts)
            .chain(self.notable_secrets)
            .chain(grants)
            .collect();
        let changes = ChangeSummary::new(tally, notable_changes, gone, &plan, overwrite);
        drop(index);
        Ok(Streamed {
            plan,
            items: counts,
            changes,
        })
    }
}
