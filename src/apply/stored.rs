//! The reconciliation of a run as the store holds it afterwards.
//!
//! The changeset says what the run meant to write; a store that loses a
//! batch, a trigger that drops or rewrites a row, or a backend that
//! answers "ok" for what it did not keep would all leave that count
//! "holding". So after the writes every planned account and secret is
//! read back by import key and its stored content hashed again: an item
//! counts as created, updated, unchanged or conflict only when the store
//! holds it with what that decision implies. Anything else is named.

use rustc_hash::FxHashMap as HashMap;
use serde::Serialize;

use crate::diff::{workspace_account_hash, workspace_secret_hash, Action, ChangeCounts, Changeset, ObjectKind};
use crate::workspace::{ImportKey, PlannedHashes, Workspace, WorkspaceError};

/// What the store holds of the run's accounts and secrets.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct StoredCounts {
    /// Counted from the store: an item is counted under its decision only
    /// when the store holds what that decision implies.
    pub counts: ChangeCounts,
    /// The items that are not as the run decided, each named with its key
    /// and what is wrong ("missing from the workspace", "holds other
    /// content"). Names and keys only: never a value.
    pub mismatches: Vec<String>,
}

impl StoredCounts {
    /// Whether every source entry is accounted for by what the store holds.
    pub fn holds(&self) -> bool {
        self.mismatches.is_empty() && self.counts.holds()
    }
}

/// What one item should be in the store after the run.
enum Expect {
    /// Present with the planned content.
    Planned,
    /// Present, whatever its content (a conflict left as edited).
    Present,
    /// Absent: the importer created it, someone deleted it, and the run
    /// left it deleted (not overwritten).
    Absent,
}

/// Reads the run's accounts and secrets back from `workspace` and counts
/// them against `cs` (the changeset the run applied).
pub fn read_back(cs: &Changeset, workspace: &dyn Workspace) -> Result<StoredCounts, WorkspaceError> {
    let items: Vec<_> = cs
        .changes
        .iter()
        .filter(|c| matches!(c.kind, ObjectKind::Account | ObjectKind::Secret))
        .collect();
    // The planned hashes let the store vouch for untouched items without
    // handing their content over (a re-run of a million items reads keys).
    let mut planned = PlannedHashes::default();
    for c in &items {
        if let Some(h) = &c.hash {
            planned.insert(c.key.as_str(), (&c.key, h.as_str()));
        }
    }
    let mut snapshot = workspace.snapshot_base()?;
    workspace.load_items(&mut snapshot, &planned)?;
    // Per stored key: the content hash the store holds (an intact item
    // holds its planned hash: the store vouched for it against it).
    let mut stored: HashMap<&ImportKey, Option<String>> = HashMap::default();
    for i in snapshot.intact_accounts.iter().chain(&snapshot.intact_secrets) {
        stored.insert(&i.import_key, None);
    }
    for a in &snapshot.accounts {
        if let Some(k) = &a.import.import_key {
            stored.insert(k, Some(workspace_account_hash(a, &snapshot)));
        }
    }
    for s in &snapshot.secrets {
        if let Some(k) = &s.import.import_key {
            stored.insert(k, Some(workspace_secret_hash(s, &snapshot)));
        }
    }
    let mut out = StoredCounts {
        counts: ChangeCounts {
            source_entries: cs.plan.source_entries,
            skipped: cs.plan.skipped.len(),
            ..ChangeCounts::default()
        },
        mismatches: Vec::new(),
    };
    for c in items {
        let expect = match c.action {
            Action::Skip => {
                // A duplicate of a workspace item: nothing of it is written.
                out.counts.skipped += 1;
                continue;
            }
            Action::Conflict if !cs.overwrite && c.removed_since_import() => Expect::Absent,
            Action::Conflict if !cs.overwrite => Expect::Present,
            _ => Expect::Planned,
        };
        // Named only when wrong: a re-run of a million items must not
        // format a million names it never prints.
        let what = || format!("{} '{}' ({})", c.kind.name(), c.label, c.key);
        let ok = match (stored.get(&c.key), expect) {
            (None, Expect::Absent) => true,
            (Some(_), Expect::Absent) => {
                out.mismatches.push(format!(
                    "{}: {} but the workspace holds it again",
                    what(),
                    crate::diff::REMOVED_SINCE_IMPORT
                ));
                false
            }
            (None, _) => {
                out.mismatches.push(format!(
                    "{}: {} but missing from the workspace",
                    what(),
                    c.action.name()
                ));
                false
            }
            (Some(_), Expect::Present) | (Some(None), Expect::Planned) => true,
            (Some(Some(hash)), Expect::Planned) => {
                let same = c.hash.as_deref() == Some(hash.as_str());
                if !same {
                    out.mismatches.push(format!(
                        "{}: {} but the workspace holds other content",
                        what(),
                        c.action.name()
                    ));
                }
                same
            }
        };
        if ok {
            match c.action {
                Action::Create => out.counts.created += 1,
                Action::Update => out.counts.updated += 1,
                Action::Unchanged => out.counts.unchanged += 1,
                Action::Conflict => out.counts.conflicts += 1,
                Action::Skip => {}
            }
        }
    }
    Ok(out)
}
