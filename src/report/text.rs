//! The terminal summary: counts per kind and action, the collection tree
//! with what happens to each item, invitations, lowered roles, unmatched
//! users, skipped items, findings and the reconciliation line.

use std::io;

use super::json::{CollectionNode, Item, Report};
use super::people::{self, People};
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
    people(out, &People::of(r))?;
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

/// Who gains access to what, before anything else.
fn people(out: &mut dyn io::Write, p: &People<'_>) -> io::Result<()> {
    writeln!(out, "who gains access:")?;
    if p.collections.is_empty() && p.personal_collections.is_empty() && p.item_grants.is_empty() {
        writeln!(out, "  nobody")?;
    }
    for c in &p.collections {
        writeln!(out, "  {}:", c.path)?;
        for g in &c.grants {
            writeln!(out, "    {}", people::grant_line(g))?;
        }
    }
    if !p.personal_collections.is_empty() {
        writeln!(out, "  personal folders:")?;
        for g in &p.personal_collections {
            writeln!(out, "    {}", people::personal_line(g))?;
        }
    }
    if !p.item_grants.is_empty() {
        writeln!(out, "  single accounts and secrets:")?;
        for g in &p.item_grants {
            writeln!(out, "    {}", people::item_grants_line(g))?;
        }
    }
    if p.unchanged_grants > 0 {
        writeln!(
            out,
            "  ({} grants already in the workspace, unchanged)",
            p.unchanged_grants
        )?;
    }
    for g in &p.conflicts {
        writeln!(out, "  {}", people::conflict_line(g))?;
    }
    writeln!(out, "guest invitations: {}", p.guests.len())?;
    for g in &p.guests {
        let i = g.invitation;
        let partner = i.partner.as_deref().map(|p| format!(", joins {p}")).unwrap_or_default();
        let admin = if i.guest_admin { " as Guest Admin" } else { "" };
        let reason = i.reason.as_deref().map(|p| format!(" — {p}")).unwrap_or_default();
        let via = i.delivered_via.map(|v| format!(", sent via {v}")).unwrap_or_default();
        let grants: Vec<String> = g.grants.iter().map(|g| people::guest_grant_line(g)).collect();
        let what = if grants.is_empty() {
            i.folders.join(", ")
        } else {
            grants.join(", ")
        };
        writeln!(
            out,
            "  {} [{}]{partner}{admin}{via}: {what}{reason}",
            i.email,
            i.action.name()
        )?;
    }
    if !p.lowered.is_empty() {
        writeln!(out, "lowered roles: {}", p.lowered.len())?;
        for l in p.lowered {
            writeln!(
                out,
                "  {} on {}: {} ({}) → {}",
                l.grantee, l.target, l.source_access, l.from, l.to
            )?;
        }
    }
    if !p.see_passwords.is_empty() {
        writeln!(
            out,
            "can now see passwords the source hid from them: {}",
            p.see_passwords.len()
        )?;
        for g in &p.see_passwords {
            writeln!(
                out,
                "  {} {} on {} ({} → {})",
                g.grantee_kind, g.grantee, g.target, g.source_access, g.role
            )?;
        }
    }
    writeln!(
        out,
        "unmatched users (lose their access, not invited): {}",
        p.unmatched.len()
    )?;
    for u in p.unmatched {
        writeln!(
            out,
            "  {} ({}): {}; {} items",
            u.email,
            u.reason,
            people::unmatched_access(u),
            u.item_count
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
