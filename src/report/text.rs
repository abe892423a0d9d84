//! The terminal summary: counts per kind and action, the collection tree
//! with what happens to each item, invitations, lowered roles, unmatched
//! users, skipped items, findings and the reconciliation line.

use std::io;

use super::json::{CollectionNode, Item, Report};
use crate::diff::Action;

/// Most findings listed one by one; the rest are counted (all are in JSON).
const FINDINGS_SHOWN: usize = 50;

fn counts(row: Option<&std::collections::BTreeMap<&'static str, usize>>) -> String {
    let Some(row) = row else { return "none".into() };
    let parts: Vec<String> = ["create", "update", "unchanged", "conflict", "skip"]
        .iter()
        .filter_map(|a| row.get(a).filter(|n| **n > 0).map(|n| format!("{n} {a}")))
        .collect();
    if parts.is_empty() {
        "none".into()
    } else {
        parts.join(", ")
    }
}

pub(crate) fn item_line(i: &Item) -> String {
    let mut line = format!("{} {} '{}'", i.action.name(), i.item_type, i.name);
    if !i.changes.is_empty() {
        line.push_str(&format!(" ({})", i.changes.join(", ")));
    }
    if let Some(r) = &i.reason {
        line.push_str(&format!(" — {r}"));
    }
    line
}

fn tree(out: &mut dyn io::Write, node: &CollectionNode, depth: usize) -> io::Result<()> {
    let pad = "  ".repeat(depth);
    let shared = if node.shared { ", shared" } else { "" };
    writeln!(out, "{pad}{} [{}{shared}]", node.name, node.action.name())?;
    for i in &node.items {
        // Unchanged items are counted, not listed: a re-run stays short.
        if i.action != Action::Unchanged {
            writeln!(out, "{pad}  - {}", item_line(i))?;
        }
    }
    if node.unchanged_items > 0 {
        writeln!(out, "{pad}  - {} unchanged items", node.unchanged_items)?;
    }
    for c in &node.children {
        tree(out, c, depth + 1)?;
    }
    Ok(())
}

pub fn write(r: &Report, out: &mut dyn io::Write) -> io::Result<()> {
    let title = if r.kind == "migrate" { "Migrated" } else { "Plan" };
    writeln!(
        out,
        "{title}: {} ({}) → {}, as {}",
        r.source.file, r.source.format, r.workspace.name, r.importer
    )?;
    if let Some(run) = &r.run_id {
        writeln!(out, "run: {run}")?;
    }
    for kind in ["teams", "invitations", "collections", "accounts", "secrets", "grants"] {
        writeln!(out, "{kind}: {}", counts(r.summary.get(kind)))?;
    }
    match r.written {
        Some(n) => writeln!(out, "written: {n} objects")?,
        None => writeln!(
            out,
            "to write: {} objects{}",
            r.to_write,
            if r.overwrite { " (conflicts overwritten)" } else { "" }
        )?,
    }
    if !r.collections.is_empty() || !r.root_items.is_empty() || r.root_unchanged > 0 {
        writeln!(out, "collection tree:")?;
        for c in &r.collections {
            tree(out, c, 1)?;
        }
        if !r.root_items.is_empty() || r.root_unchanged > 0 {
            writeln!(out, "  (no collection)")?;
            for i in r.root_items.iter().filter(|i| i.action != Action::Unchanged) {
                writeln!(out, "    - {}", item_line(i))?;
            }
            if r.root_unchanged > 0 {
                writeln!(out, "    - {} unchanged items", r.root_unchanged)?;
            }
        }
    }
    if !r.teams.is_empty() {
        writeln!(out, "teams:")?;
        for t in &r.teams {
            let changes = if t.changes.is_empty() {
                String::new()
            } else {
                format!(" ({})", t.changes.join("; "))
            };
            writeln!(out, "  {} [{}]{changes}", t.name, t.action.name())?;
        }
    }
    writeln!(out, "guest invitations: {}", r.invitations.len())?;
    for i in &r.invitations {
        let partner = i.partner.as_deref().map(|p| format!(", joins {p}")).unwrap_or_default();
        let reason = i.reason.as_deref().map(|p| format!(" — {p}")).unwrap_or_default();
        let via = i.delivered_via.map(|v| format!(", sent via {v}")).unwrap_or_default();
        writeln!(
            out,
            "  {} [{}]{partner}{via}: {}{reason}",
            i.email,
            i.action.name(),
            i.folders.join(", ")
        )?;
    }
    if !r.lowered_roles.is_empty() {
        writeln!(out, "lowered roles: {}", r.lowered_roles.len())?;
        for l in &r.lowered_roles {
            writeln!(
                out,
                "  {} on {}: {} ({}) → {}",
                l.grantee, l.target, l.source_access, l.from, l.to
            )?;
        }
    }
    let conflicts: Vec<_> = r.grants.iter().filter(|g| g.action == Action::Conflict).collect();
    for g in conflicts {
        writeln!(
            out,
            "  grant conflict: {} on {}: {}",
            g.grantee,
            g.target,
            g.changes.join(", ")
        )?;
    }
    writeln!(out, "unmatched users: {}", r.unmatched.len())?;
    for u in &r.unmatched {
        let access: Vec<String> = u
            .access
            .iter()
            .map(|a| format!("{} ({})", a.folder, a.access))
            .collect();
        writeln!(
            out,
            "  {} ({}): {}, {} items",
            u.email,
            u.reason,
            access.join(", "),
            u.item_count
        )?;
    }
    writeln!(out, "skipped: {}", r.skipped.len())?;
    for s in &r.skipped {
        let folder = if s.folder.is_empty() { "(root)" } else { &s.folder };
        writeln!(out, "  '{}' in {folder}: {}", s.title, s.reason)?;
    }
    if !r.gone.is_empty() {
        writeln!(out, "gone from the source (kept in the workspace): {}", r.gone.len())?;
        for g in &r.gone {
            writeln!(out, "  {} '{}' (#{})", g.kind, g.name, g.id)?;
        }
    }
    for w in &r.warnings {
        writeln!(out, "warning: {w}")?;
    }
    writeln!(out, "reconciliation: {}", reconciliation_line(r))?;
    for m in &r.reconciliation_mismatches {
        writeln!(out, "  not in the workspace as decided: {m}")?;
    }
    let by = |s: &str| r.findings.iter().filter(|f| f.severity == s).count();
    writeln!(
        out,
        "findings: {} errors, {} warnings, {} info",
        by("error"),
        by("warning"),
        by("info")
    )?;
    let mut sorted: Vec<_> = r.findings.iter().collect();
    let rank = |s: &str| match s {
        "error" => 0,
        "warning" => 1,
        _ => 2,
    };
    sorted.sort_by_key(|f| rank(&f.severity));
    for f in sorted.iter().take(FINDINGS_SHOWN) {
        let at = match (&f.file, f.line) {
            (Some(file), Some(line)) => format!(" ({file}:{line})"),
            (Some(file), None) => format!(" ({file})"),
            _ => String::new(),
        };
        writeln!(out, "  {}[{}]: {}{at}", f.severity, f.code, f.message)?;
    }
    if sorted.len() > FINDINGS_SHOWN {
        writeln!(
            out,
            "  … and {} more (all are in the JSON report)",
            sorted.len() - FINDINGS_SHOWN
        )?;
    }
    Ok(())
}

/// `N source entries = … (holds)` or `… MISMATCH`: every renderer prints it.
pub fn reconciliation_line(r: &Report) -> String {
    let c = &r.reconciliation;
    format!(
        "{} source entries = {} created + {} updated + {} unchanged + {} conflicts + {} skipped{}",
        c.source_entries,
        c.created,
        c.updated,
        c.unchanged,
        c.conflicts,
        c.skipped,
        if c.holds { " (holds)" } else { "  MISMATCH" }
    )
}
