//! The end of `migrate`: what was written, the reconciliation, where the
//! invitations went and the run id, in a dozen lines at any size; every
//! item, grant and finding is in the report files and `--json`.

use std::collections::BTreeSet;

use super::some_of;
use crate::apply::{ApplyOutcome, Delivery};
use crate::report::json::Report;
use crate::report::text::reconciliation_line;

pub fn end(r: &Report, outcome: &ApplyOutcome) -> Vec<String> {
    let mut lines = vec![format!(
        "Migrated: {} ({}) → {}, as {}",
        r.source.file, r.source.format, r.workspace.name, r.importer
    )];
    let mut parts = Vec::new();
    for kind in ["teams", "invitations", "collections", "accounts", "secrets", "grants"] {
        let Some(row) = r.summary.get(kind) else { continue };
        let actions: Vec<String> = ["create", "update", "unchanged", "conflict", "skip"]
            .iter()
            .filter_map(|a| row.get(a).filter(|n| **n > 0).map(|n| format!("{n} {a}")))
            .collect();
        if !actions.is_empty() {
            parts.push(format!("{kind} {}", actions.join(", ")));
        }
    }
    lines.push(format!("written: {} objects", r.written.unwrap_or(0)));
    if !parts.is_empty() {
        lines.push(format!("  {}", parts.join("; ")));
    }
    lines.push(format!("reconciliation: {}", reconciliation_line(r)));
    if !r.reconciliation_mismatches.is_empty() {
        lines.push(format!(
            "  not in the workspace as decided: {}",
            some_of(&r.reconciliation_mismatches, r.reconciliation_mismatches.len())
        ));
    }
    if !r.warnings.is_empty() {
        lines.push(format!(
            "not written: {}: {}",
            r.warnings.len(),
            some_of(&r.warnings, r.warnings.len())
        ));
    }
    let conflicts: usize = r.summary.values().filter_map(|row| row.get("conflict")).sum();
    if conflicts > 0 {
        lines.push(format!(
            "conflicts: {conflicts} objects edited in the workspace since the last import were left as edited (--overwrite writes over them)"
        ));
    }
    if !r.gone.is_empty() {
        lines.push(format!(
            "gone from the source (kept in the workspace): {}",
            r.gone.len()
        ));
    }
    lines.push(invitations(outcome));
    lines.push(super::findings::totals(
        &r.findings.iter().map(super::findings::Line::of_row).collect::<Vec<_>>(),
    ));
    lines.push(format!("run id: {}", outcome.run_id));
    lines
}

/// "invitations: 4 written to demo.db.outbox (…)" or "sent through smtp://…".
fn invitations(outcome: &ApplyOutcome) -> String {
    if outcome.invitations.is_empty() {
        return "invitations: none sent".to_owned();
    }
    let mut folders = BTreeSet::new();
    let mut servers = BTreeSet::new();
    for sent in &outcome.invitations {
        match &sent.delivery {
            Delivery::Outbox { file } => {
                let dir = std::path::Path::new(file)
                    .parent()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default();
                folders.insert(dir);
            }
            Delivery::Smtp { server } => {
                servers.insert(server.clone());
            }
        }
    }
    let mut to = Vec::new();
    if !folders.is_empty() {
        let folders: Vec<String> = folders.into_iter().collect();
        to.push(format!(
            "written to {} (owner-only; each email holds a temporary password)",
            some_of(&folders, folders.len())
        ));
    }
    if !servers.is_empty() {
        let servers: Vec<String> = servers.into_iter().collect();
        to.push(format!("sent through {}", some_of(&servers, servers.len())));
    }
    format!("invitations: {} {}", outcome.invitations.len(), to.join(", "))
}
