//! The report as data: the structs every renderer reads, serialized as the
//! JSON document of `formats/report.md` (`schema_version` 1).
//!
//! These are the report's own structs, not the plan's or the workspace's,
//! so internal refactors do not silently change what the web app parses.

use std::collections::BTreeMap;

// See diff/mod.rs: Fx hashing for the maps of a million import keys.
use rustc_hash::FxHashMap as HashMap;
use std::io;

use serde::Serialize;

use crate::apply::{ApplyOutcome, Delivery};
use crate::diff::{Action, Change, Changeset, ObjectKind, PlanIndex};
use crate::mapper::PlannedGrantee;
use crate::workspace::ImportKey;

pub const SCHEMA_VERSION: u32 = 1;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Report {
    pub schema_version: u32,
    /// `plan` (dry run) or `migrate` (applied).
    pub kind: &'static str,
    pub run_id: Option<String>,
    pub source: SourceInfo,
    pub workspace: WorkspaceRef,
    pub importer: String,
    /// When, by which build and from which files: a report mailed or
    /// attached to a ticket must say what it is the report of.
    pub generated: Generated,
    pub overwrite: bool,
    /// Objects a run writes (plan) or wrote (migrate).
    pub to_write: usize,
    pub written: Option<usize>,
    /// Per object kind (`teams`, `invitations`, …): count per action.
    pub summary: BTreeMap<&'static str, BTreeMap<&'static str, usize>>,
    pub reconciliation: Reconciliation,
    /// After `migrate`: the items the store does not hold as the run
    /// decided (named, with their keys and what is wrong), read back from
    /// the store. Empty for a plan.
    pub reconciliation_mismatches: Vec<String>,
    pub collections: Vec<CollectionNode>,
    /// Accounts and secrets outside any collection.
    pub root_items: Vec<Item>,
    /// How many of those are unchanged (see [`CollectionNode::unchanged_items`]).
    #[serde(skip)]
    pub root_unchanged: usize,
    pub teams: Vec<TeamRow>,
    pub invitations: Vec<InvitationRow>,
    pub grants: Vec<GrantRow>,
    pub lowered_roles: Vec<LoweredRole>,
    pub unmatched: Vec<UnmatchedRow>,
    pub skipped: Vec<SkippedRow>,
    pub gone: Vec<GoneRow>,
    pub findings: Vec<FindingRow>,
    /// Objects the run could not write, and why (migrate only).
    pub warnings: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Generated {
    /// UTC, `YYYY-MM-DDTHH:MM:SSZ`.
    pub at: String,
    /// `vaultferry 0.1.0`.
    pub by: String,
    /// The export, then the sharing file, as the user named them.
    pub inputs: Vec<String>,
    /// The workspace database or server the plan was made against.
    pub store: Option<String>,
}

impl Generated {
    fn now(export: &str) -> Generated {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0));
        Generated {
            at: crate::model::Timestamp(secs).to_rfc3339(),
            by: format!("vaultferry {}", env!("CARGO_PKG_VERSION")),
            inputs: vec![export.to_owned()],
            store: None,
        }
    }

    /// "2026-12-03T16:40:00Z by vaultferry 0.1.0 from e.csv, e.csv.sharing.json against w.db"
    pub fn describe(&self) -> String {
        let mut s = format!("{} by {} from {}", self.at, self.by, self.inputs.join(", "));
        if let Some(store) = &self.store {
            s.push_str(&format!(" against {store}"));
        }
        s
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SourceInfo {
    pub file: String,
    pub format: &'static str,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct WorkspaceRef {
    pub id: String,
    pub name: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Reconciliation {
    pub source_entries: usize,
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub conflicts: usize,
    pub skipped: usize,
    pub holds: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CollectionNode {
    pub key: ImportKey,
    pub name: String,
    /// As the workspace shows it: `Engineering/Databases`.
    pub path: String,
    pub action: Action,
    pub shared: bool,
    /// Every item, or (in a [`Detail::Terminal`] report) those that change.
    pub items: Vec<Item>,
    /// How many of its items are unchanged: the terminal counts them
    /// rather than listing them. Not in the JSON, whose `items` list all.
    #[serde(skip)]
    pub unchanged_items: usize,
    pub children: Vec<CollectionNode>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Item {
    pub key: ImportKey,
    /// `account` or `secret`.
    pub kind: &'static str,
    /// `login` for accounts, the secret type otherwise.
    pub item_type: &'static str,
    pub name: String,
    pub action: Action,
    /// Field names that change ("password changed"), never values.
    pub changes: Vec<String>,
    pub reason: Option<String>,
    pub existing_id: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TeamRow {
    pub name: String,
    pub action: Action,
    pub changes: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct InvitationRow {
    pub email: String,
    pub name: Option<String>,
    pub partner: Option<String>,
    pub guest_admin: bool,
    pub folders: Vec<String>,
    pub action: Action,
    pub reason: Option<String>,
    /// After migrate: `outbox` or `smtp`.
    pub delivered_via: Option<&'static str>,
    pub username: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GrantRow {
    pub key: ImportKey,
    /// `member`, `guest`, `team`, `partner`, `partnership`.
    pub grantee_kind: &'static str,
    pub grantee: String,
    /// `collection`, `account` or `secret`: the people section lists
    /// grantees per collection and counts the grants on single items.
    pub target_kind: &'static str,
    pub target: String,
    pub role: &'static str,
    pub source_access: String,
    pub action: Action,
    pub changes: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LoweredRole {
    pub grantee: String,
    pub target: String,
    pub source_access: String,
    pub from: &'static str,
    pub to: &'static str,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct UnmatchedRow {
    pub email: String,
    pub name: Option<String>,
    pub reason: String,
    pub access: Vec<AccessRow>,
    /// Names of the accounts and secrets they had access to (none in a
    /// [`Detail::Terminal`] report, which gives only their number).
    pub items: Vec<String>,
    #[serde(skip)]
    pub item_count: usize,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AccessRow {
    pub folder: String,
    pub access: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SkippedRow {
    pub title: String,
    pub folder: String,
    pub reason: String,
    pub line: Option<u64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GoneRow {
    pub kind: &'static str,
    pub key: ImportKey,
    pub id: i64,
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FindingRow {
    pub severity: String,
    pub code: String,
    pub message: String,
    pub file: Option<String>,
    pub line: Option<u64>,
    pub field: Option<String>,
    pub help: Option<String>,
}

/// How much of the changeset a report lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Detail {
    /// Every item, and every item each unmatched user had: what report
    /// files and `--json` carry.
    Full,
    /// What the terminal summary prints: the items and grants that change,
    /// and only counts of the unchanged items and of unmatched users'
    /// items. A re-run of a million unchanged items builds no million rows
    /// for it.
    Terminal,
}

impl Report {
    /// The dry-run report of a changeset.
    pub fn plan(cs: &Changeset) -> Report {
        build(cs, Detail::Full)
    }

    /// [`Report::plan`] with only what [`Detail`] asks for.
    pub fn plan_with(cs: &Changeset, detail: Detail) -> Report {
        build(cs, detail)
    }

    /// The report of an applied run.
    pub fn migrate(cs: &Changeset, outcome: &ApplyOutcome) -> Report {
        Report::plan(cs).applied(outcome)
    }

    /// The plan's report of a changeset (from [`Report::plan`]) as the
    /// report of its run: all the run adds is its id, what it wrote, its
    /// warnings and how each invitation went out. So `migrate` can build
    /// the bulk of the report (a million item rows) while the run writes.
    pub fn applied(mut self, outcome: &ApplyOutcome) -> Report {
        self.kind = "migrate";
        self.run_id = Some(outcome.run_id.clone());
        self.written = Some(outcome.written);
        self.warnings = outcome.warnings.clone();
        // The plan's counts say what the run meant; the report of a run
        // says what the store holds.
        let c = &outcome.stored.counts;
        self.reconciliation = Reconciliation {
            source_entries: c.source_entries,
            created: c.created,
            updated: c.updated,
            unchanged: c.unchanged,
            conflicts: c.conflicts,
            skipped: c.skipped,
            holds: outcome.stored.holds(),
        };
        self.reconciliation_mismatches = outcome.stored.mismatches.clone();
        let sent: HashMap<&str, _> = outcome.invitations.iter().map(|s| (s.email.as_str(), s)).collect();
        for row in &mut self.invitations {
            if let Some(sent) = sent.get(row.email.as_str()) {
                row.delivered_via = Some(match sent.delivery {
                    Delivery::Outbox { .. } => "outbox",
                    Delivery::Smtp { .. } => "smtp",
                });
                row.username = Some(sent.username.clone());
            }
        }
        self
    }

    /// Counts for one kind and action.
    pub fn count(&self, kind: ObjectKind, action: Action) -> usize {
        self.summary
            .get(kind.plural())
            .and_then(|m| m.get(action.name()))
            .copied()
            .unwrap_or(0)
    }
}

/// An item's row, from its change and its planned collection and type.
fn item_row(c: &Change, item_type: &'static str) -> Item {
    Item {
        key: c.key.clone(),
        kind: c.kind.name(),
        item_type,
        name: c.label.clone(),
        action: c.action,
        changes: c.changes.clone(),
        reason: c.reason.clone(),
        existing_id: c.existing,
    }
}

/// Whether `items` (the changeset's account and secret changes) are the
/// plan's accounts then secrets, one for one, in order, as the diff
/// lists them: then each item's planned collection and type are found by
/// position, with no map of a million keys.
fn in_plan_order(plan: &crate::mapper::Plan, items: &[&Change]) -> bool {
    let same = |c: &Change, kind: ObjectKind, key: &ImportKey| {
        c.kind == kind && (std::sync::Arc::ptr_eq(&c.key.0, &key.0) || c.key == *key)
    };
    items.len() == plan.accounts.len() + plan.secrets.len()
        && items
            .iter()
            .zip(&plan.accounts)
            .all(|(c, a)| same(c, ObjectKind::Account, &a.key))
        && items
            .iter()
            .skip(plan.accounts.len())
            .zip(&plan.secrets)
            .all(|(c, s)| same(c, ObjectKind::Secret, &s.key))
}

fn build(cs: &Changeset, detail: Detail) -> Report {
    use rayon::prelude::*;
    let plan = &cs.plan;
    let is_item = |c: &&Change| matches!(c.kind, ObjectKind::Account | ObjectKind::Secret);
    let items: Vec<&Change> = cs.changes.iter().filter(is_item).collect();
    let in_order = in_plan_order(plan, &items);
    // In plan order, the items are looked up by key only where a grant
    // targets one, an unmatched user had one, or one is skipped.
    // The terminal lists only the grants that change (their counts come
    // from the tally): a re-run's hundred thousand unchanged grants need
    // no row, nor their targets' names.
    let changed_grants: rustc_hash::FxHashSet<&ImportKey> = cs
        .changes
        .iter()
        .filter(|c| c.kind == ObjectKind::Grant && c.action != Action::Unchanged)
        .map(|c| &c.key)
        .collect();
    let grant_listed = |g: &crate::mapper::PlannedGrant| detail == Detail::Full || changed_grants.contains(&g.key);
    let index = if in_order {
        let mut wanted: rustc_hash::FxHashSet<&ImportKey> = plan
            .grants
            .iter()
            .filter(|g| grant_listed(g))
            .map(|g| &g.target)
            .collect();
        if detail == Detail::Full {
            wanted.extend(plan.unmatched.iter().flat_map(|u| &u.items));
        }
        wanted.extend(items.iter().filter(|c| c.action == Action::Skip).map(|c| &c.key));
        PlanIndex::with_items(plan, |k| wanted.contains(k))
    } else {
        PlanIndex::new(plan)
    };
    let mut summary: BTreeMap<&'static str, BTreeMap<&'static str, usize>> = BTreeMap::new();
    let tally = cs.tally();
    for kind in ObjectKind::ALL {
        let row = summary.entry(kind.plural()).or_default();
        for action in Action::ALL {
            row.insert(action.name(), tally.get(&(kind, action)).copied().unwrap_or(0));
        }
    }
    let counts = cs.reconcile();
    // Everything but the items, which are found by position or through
    // the plan index (a million of them need no second map), and but the
    // grants no row lists: the terminal's re-run has a hundred thousand
    // unchanged ones, and mapping them was most of this report's time.
    let by_key: HashMap<&ImportKey, &Change> = cs
        .changes
        .iter()
        .filter(|c| !is_item(c))
        .filter(|c| detail == Detail::Full || c.kind != ObjectKind::Grant || changed_grants.contains(&c.key))
        .map(|c| (&c.key, c))
        .collect();

    // Items by collection, in plan order (the changeset keeps it): rows
    // built in parallel, each with its collection's slot (the plan's
    // collections, then the root), then moved into lists sized first.
    let slot_of: HashMap<&ImportKey, usize> = plan.collections.iter().enumerate().map(|(i, c)| (&c.key, i)).collect();
    let root = plan.collections.len();
    let slot = |collection: Option<&ImportKey>| match collection {
        None => Some(root),
        Some(k) => slot_of.get(k).copied(),
    };
    let accounts = plan.accounts.len();
    let listed = |c: &Change| detail == Detail::Full || c.action != Action::Unchanged;
    let rows: Vec<(usize, bool, Option<Item>)> = items
        .par_iter()
        .enumerate()
        .with_min_len(1024)
        .filter_map(|(i, c)| {
            let (collection, item_type) = if in_order {
                match i.checked_sub(accounts) {
                    None => (plan.accounts.get(i)?.collection.as_ref(), "login"),
                    Some(j) => {
                        let s = plan.secrets.get(j)?;
                        (s.collection.as_ref(), s.secret_type.name())
                    }
                }
            } else {
                match c.kind {
                    ObjectKind::Account => (index.accounts.get(&c.key)?.collection.as_ref(), "login"),
                    _ => {
                        let s = index.secrets.get(&c.key)?;
                        (s.collection.as_ref(), s.secret_type.name())
                    }
                }
            };
            // An item in a collection the plan does not have is in no list.
            let unchanged = c.action == Action::Unchanged;
            Some((slot(collection)?, unchanged, listed(c).then(|| item_row(c, item_type))))
        })
        .collect();
    let mut sizes = vec![0usize; root + 1];
    let mut unchanged = vec![0usize; root + 1];
    for (slot, same, item) in &rows {
        if let (Some(n), Some(_)) = (sizes.get_mut(*slot), item) {
            *n += 1;
        }
        if let (Some(n), true) = (unchanged.get_mut(*slot), same) {
            *n += 1;
        }
    }
    let mut lists: Vec<Vec<Item>> = sizes.into_iter().map(Vec::with_capacity).collect();
    for (slot, _, item) in rows {
        if let (Some(list), Some(item)) = (lists.get_mut(slot), item) {
            list.push(item);
        }
    }
    // Each collection's listed items and its count of unchanged ones.
    let mut items_in: HashMap<Option<&ImportKey>, (Vec<Item>, usize)> = HashMap::default();
    let mut lists = lists.into_iter().zip(unchanged);
    for c in &plan.collections {
        if let Some((list, same)) = lists.next() {
            if !list.is_empty() || same > 0 {
                items_in.insert(Some(&c.key), (list, same));
            }
        }
    }
    if let Some(root) = lists.next() {
        items_in.insert(None, root);
    }
    let mut children: HashMap<Option<&ImportKey>, Vec<&crate::mapper::PlannedCollection>> = HashMap::default();
    for c in &plan.collections {
        children.entry(c.parent.as_ref()).or_default().push(c);
    }
    fn node<'p>(
        cs: &Changeset,
        index: &PlanIndex<'_>,
        c: &'p crate::mapper::PlannedCollection,
        by_key: &HashMap<&ImportKey, &Change>,
        items_in: &mut HashMap<Option<&'p ImportKey>, (Vec<Item>, usize)>,
        children: &HashMap<Option<&'p ImportKey>, Vec<&'p crate::mapper::PlannedCollection>>,
        depth: usize,
    ) -> CollectionNode {
        let kids = if depth > cs.plan.collections.len() {
            Vec::new()
        } else {
            children
                .get(&Some(&c.key))
                .into_iter()
                .flatten()
                .map(|k| node(cs, index, k, by_key, items_in, children, depth + 1))
                .collect()
        };
        let (items, unchanged_items) = items_in.remove(&Some(&c.key)).unwrap_or_default();
        CollectionNode {
            key: c.key.clone(),
            name: c.name.clone(),
            path: index.collection_path(c),
            action: by_key.get(&c.key).map_or(Action::Create, |ch| ch.action),
            shared: c.shared,
            items,
            unchanged_items,
            children: kids,
        }
    }
    let collections: Vec<CollectionNode> = children
        .get(&None)
        .into_iter()
        .flatten()
        .map(|c| node(cs, &index, c, &by_key, &mut items_in, &children, 0))
        .collect();
    let (root_items, root_unchanged) = items_in.remove(&None).unwrap_or_default();

    let name_of = |key: &ImportKey| index.target_label(key);
    let kind_of = |key: &ImportKey| -> &'static str {
        if index.collections.contains_key(key) {
            "collection"
        } else if index.accounts.contains_key(key) || key.as_str().starts_with("account:") {
            "account"
        } else {
            "secret"
        }
    };
    let grants: Vec<GrantRow> = plan
        .grants
        .par_iter()
        .with_min_len(256)
        .filter(|g| grant_listed(g))
        .filter_map(|g| {
            let c = by_key.get(&g.key)?;
            Some(GrantRow {
                key: g.key.clone(),
                grantee_kind: match g.grantee {
                    PlannedGrantee::Member { .. } => "member",
                    PlannedGrantee::Guest { .. } => "guest",
                    PlannedGrantee::Team { .. } => "team",
                    PlannedGrantee::Partner { .. } => "partner",
                    PlannedGrantee::Partnership { .. } => "partnership",
                },
                grantee: g.grantee.label().to_owned(),
                target_kind: kind_of(&g.target),
                target: name_of(&g.target),
                role: g.role.name(),
                source_access: g.source_access.clone(),
                action: c.action,
                changes: c.changes.clone(),
            })
        })
        .collect();

    let item_name = |key: &ImportKey| -> Option<&str> {
        index
            .accounts
            .get(key)
            .map(|a| a.name.as_str())
            .or_else(|| index.secrets.get(key).map(|s| s.title.as_str()))
    };

    Report {
        schema_version: SCHEMA_VERSION,
        kind: "plan",
        run_id: None,
        source: SourceInfo {
            file: plan.file.clone(),
            format: plan.source.display_name(),
        },
        workspace: WorkspaceRef {
            id: cs.workspace_id.clone(),
            name: plan.workspace.clone(),
        },
        importer: plan.importer.clone(),
        generated: Generated::now(&plan.file),
        overwrite: cs.overwrite,
        to_write: cs.to_write(),
        written: None,
        summary,
        reconciliation: Reconciliation {
            source_entries: counts.source_entries,
            created: counts.created,
            updated: counts.updated,
            unchanged: counts.unchanged,
            conflicts: counts.conflicts,
            skipped: counts.skipped,
            holds: counts.holds(),
        },
        reconciliation_mismatches: Vec::new(),
        collections,
        root_items,
        root_unchanged,
        teams: cs
            .of(ObjectKind::Team)
            .map(|c| TeamRow {
                name: c.label.clone(),
                action: c.action,
                changes: c.changes.clone(),
            })
            .collect(),
        invitations: plan
            .invitations
            .iter()
            .filter_map(|i| {
                let c = by_key.get(&i.key)?;
                Some(InvitationRow {
                    email: i.email.clone(),
                    name: i.name.clone(),
                    partner: i.partner.clone(),
                    guest_admin: i.guest_admin,
                    folders: i.folders.clone(),
                    action: c.action,
                    reason: c.reason.clone(),
                    delivered_via: None,
                    username: None,
                })
            })
            .collect(),
        lowered_roles: plan
            .grants
            .iter()
            .filter_map(|g| {
                let from = g.lowered_from?;
                Some(LoweredRole {
                    grantee: g.grantee.label().to_owned(),
                    target: name_of(&g.target),
                    source_access: g.source_access.clone(),
                    from: from.name(),
                    to: g.role.name(),
                })
            })
            .collect(),
        grants,
        unmatched: plan
            .unmatched
            .iter()
            .map(|u| UnmatchedRow {
                email: u.email.clone(),
                name: u.name.clone(),
                reason: u.reason.describe().to_owned(),
                access: u
                    .access
                    .iter()
                    .map(|a| AccessRow {
                        folder: a.folder.clone(),
                        access: a.access.clone(),
                    })
                    .collect(),
                items: match detail {
                    Detail::Full => u
                        .items
                        .iter()
                        .map(|k| item_name(k).map_or_else(|| k.to_string(), str::to_owned))
                        .collect(),
                    Detail::Terminal => Vec::new(),
                },
                item_count: u.items.len(),
            })
            .collect(),
        skipped: cs
            .skipped_in(&index)
            .into_iter()
            .map(|s| SkippedRow {
                title: s.title,
                folder: s.folder,
                reason: s.reason,
                line: s.line,
            })
            .collect(),
        gone: cs
            .gone
            .iter()
            .map(|g| GoneRow {
                kind: g.kind.name(),
                key: g.key.clone(),
                id: g.id,
                name: g.label.clone(),
            })
            .collect(),
        findings: plan
            .findings
            .iter()
            .map(|f| FindingRow {
                severity: f.severity.to_string(),
                code: f.code.clone(),
                message: f.message.clone(),
                file: f.position.file.clone(),
                line: f.position.line,
                field: f.position.field.clone(),
                help: f.help.clone(),
            })
            .collect(),
        warnings: Vec::new(),
    }
}

/// The report as pretty JSON.
pub fn write(report: &Report, out: &mut dyn io::Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, report).map_err(io::Error::from)?;
    writeln!(out)
}
