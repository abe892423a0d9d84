//! "Gone from the source": a workspace object a run of this same source
//! created earlier that the export no longer holds. Reported, never
//! deleted.
//!
//! The same source means the same vendor and the same owner's vault: a
//! three-entry upload into a workspace another export filled has nothing
//! gone, whatever that export created. The diff finds the candidates (the
//! workspace's keyed objects the plan does not have, which the store
//! reads whole anyway); the store then says which of them a run of this
//! source created, by key, so nothing of the rest of the workspace is
//! gathered for it.

use super::{Gone, HashMap, ObjectKind};
use crate::mapper::Plan;
use crate::model::SourceKind;
use crate::workspace::{ImportKey, Snapshot, Workspace, WorkspaceError};

/// The source a plan reads: the vendor and whose vault it is. A run
/// records it (`NewRun::scope`), and what that run creates can be "gone
/// from the source" only to a later run of the same source: an export of
/// another vendor or of another person's vault says nothing about it.
pub fn source_scope(plan: &Plan) -> String {
    format!("{}:{}", plan.source.vendor(), plan.vault_owner.trim().to_lowercase())
}

/// Workspace collections, accounts and secrets under `source`'s key
/// prefixes that are not `planned`.
pub(super) fn gone(
    snapshot: &Snapshot,
    source: SourceKind,
    planned: &dyn Fn(ObjectKind, &ImportKey) -> bool,
) -> Vec<Gone> {
    let vendor = source.vendor();
    let prefixes: HashMap<ObjectKind, String> = [ObjectKind::Collection, ObjectKind::Account, ObjectKind::Secret]
        .into_iter()
        .map(|k| (k, format!("{}:{vendor}:", k.name())))
        .collect();
    let mut out = Vec::new();
    let mut check = |kind: ObjectKind, key: Option<&ImportKey>, id: i64, label: &str| {
        if let (Some(key), Some(prefix)) = (key, prefixes.get(&kind)) {
            if key.0.starts_with(prefix.as_str()) && !planned(kind, key) {
                out.push(Gone {
                    kind,
                    key: key.clone(),
                    id,
                    label: label.to_owned(),
                });
            }
        }
    };
    for c in &snapshot.collections {
        check(ObjectKind::Collection, c.import_key.as_ref(), c.id, &c.name);
    }
    for a in &snapshot.accounts {
        check(ObjectKind::Account, a.import.import_key.as_ref(), a.id, &a.name);
    }
    for s in &snapshot.secrets {
        check(ObjectKind::Secret, s.import.import_key.as_ref(), s.id, &s.title);
    }
    out
}

/// Keeps of `gone` what a run of `plan`'s source created
/// ([`Workspace::created_by_source`]).
pub fn from_this_source(workspace: &dyn Workspace, plan: &Plan, gone: Vec<Gone>) -> Result<Vec<Gone>, WorkspaceError> {
    if gone.is_empty() {
        return Ok(gone);
    }
    let keys: Vec<&ImportKey> = gone.iter().map(|g| &g.key).collect();
    let ours = workspace.created_by_source(&source_scope(plan), &keys)?;
    Ok(gone
        .into_iter()
        .zip(ours)
        .filter_map(|(g, ours)| ours.then_some(g))
        .collect())
}
