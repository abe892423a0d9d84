//! The report as Markdown, for a ticket or a pull request.

use std::io;

use super::json::{CollectionNode, Report};
use super::people::{self, People};
use super::text::{item_line, reconciliation_line};

/// Escapes what Markdown would interpret in table cells and text.
fn md(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '|' | '*' | '_' | '`' | '[' | ']' | '<' | '>' | '#' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            _ => out.push(c),
        }
    }
    out
}

fn tree(out: &mut dyn io::Write, node: &CollectionNode, depth: usize) -> io::Result<()> {
    let pad = "  ".repeat(depth);
    let shared = if node.shared { ", shared" } else { "" };
    writeln!(out, "{pad}- **{}** ({}{shared})", md(&node.name), node.action.name())?;
    for i in &node.items {
        writeln!(out, "{pad}  - {}", md(&item_line(i)))?;
    }
    for c in &node.children {
        tree(out, c, depth + 1)?;
    }
    Ok(())
}

/// Who gains access to what, before the tree.
fn people(out: &mut dyn io::Write, p: &People<'_>) -> io::Result<()> {
    writeln!(out, "## Who gains access\n")?;
    if p.collections.is_empty() && p.personal_collections.is_empty() && p.item_grants.is_empty() {
        writeln!(out, "Nobody.")?;
    }
    for c in &p.collections {
        writeln!(out, "- **{}**", md(c.path))?;
        for g in &c.grants {
            writeln!(out, "  - {}", md(&people::grant_line(g)))?;
        }
    }
    if !p.personal_collections.is_empty() {
        writeln!(out, "- *personal folders*")?;
        for g in &p.personal_collections {
            writeln!(out, "  - {}", md(&people::personal_line(g)))?;
        }
    }
    if !p.item_grants.is_empty() {
        writeln!(out, "- *single accounts and secrets*")?;
        for g in &p.item_grants {
            writeln!(out, "  - {}", md(&people::item_grants_line(g)))?;
        }
    }
    if p.unchanged_grants > 0 {
        writeln!(
            out,
            "\n{} grants are already in the workspace, unchanged.",
            p.unchanged_grants
        )?;
    }
    if !p.conflicts.is_empty() {
        writeln!(out)?;
    }
    for g in &p.conflicts {
        writeln!(out, "- {}", md(&people::conflict_line(g)))?;
    }

    writeln!(out, "\n## Guest invitations\n")?;
    if p.guests.is_empty() {
        writeln!(out, "None.")?;
    } else {
        writeln!(out, "| email | partner | source access → role | action |")?;
        writeln!(out, "|---|---|---|---|")?;
        for g in &p.guests {
            let i = g.invitation;
            let action = match &i.reason {
                Some(reason) => format!("{} ({})", i.action.name(), md(reason)),
                None => i.action.name().to_owned(),
            };
            let partner = match (&i.partner, i.guest_admin) {
                (Some(p), true) => format!("{} (Guest Admin)", md(p)),
                (Some(p), false) => md(p),
                (None, _) => "—".to_owned(),
            };
            let grants: Vec<String> = g.grants.iter().map(|g| people::guest_grant_line(g)).collect();
            let what = if grants.is_empty() {
                i.folders.join(", ")
            } else {
                grants.join("; ")
            };
            writeln!(out, "| {} | {partner} | {} | {action} |", md(&i.email), md(&what))?;
        }
    }

    writeln!(out, "\n## Lowered roles\n")?;
    if p.lowered.is_empty() {
        writeln!(out, "None.")?;
    }
    for l in p.lowered {
        writeln!(
            out,
            "- {} on {}: {} ({}) → {}",
            md(&l.grantee),
            md(&l.target),
            md(&l.source_access),
            l.from,
            l.to
        )?;
    }

    writeln!(out, "\n## Can now see passwords the source hid from them\n")?;
    if p.see_passwords.is_empty() {
        writeln!(out, "None.")?;
    }
    for g in &p.see_passwords {
        writeln!(
            out,
            "- {} {} on {} ({} → {})",
            g.grantee_kind,
            md(&g.grantee),
            md(&g.target),
            md(&g.source_access),
            g.role
        )?;
    }

    writeln!(out, "\n## Unmatched users\n")?;
    if p.unmatched.is_empty() {
        writeln!(out, "None.")?;
    } else {
        writeln!(out, "| email | reason | access they had | items |")?;
        writeln!(out, "|---|---|---|---|")?;
        for u in p.unmatched {
            writeln!(
                out,
                "| {} | {} | {} | {} |",
                md(&u.email),
                md(&u.reason),
                md(&people::unmatched_access(u)),
                md(&people::unmatched_items(u))
            )?;
        }
        writeln!(out, "\nEvery item each of them had is in the CSV and JSON reports.")?;
    }
    writeln!(out)
}

pub fn write(r: &Report, out: &mut dyn io::Write) -> io::Result<()> {
    let title = if r.kind == "migrate" {
        "Migration report"
    } else {
        "Migration plan"
    };
    writeln!(out, "# {title}: {}\n", md(&r.workspace.name))?;
    writeln!(
        out,
        "- Source: `{}` ({})",
        r.source.file.replace('`', "'"),
        r.source.format
    )?;
    writeln!(out, "- Importer: {}", md(&r.importer))?;
    writeln!(out, "- Generated: {}", md(&r.generated.describe()))?;
    if let Some(run) = &r.run_id {
        writeln!(out, "- Run: `{run}`")?;
    }
    match r.written {
        Some(n) => writeln!(out, "- Written: {n} objects")?,
        None => writeln!(out, "- To write: {} objects", r.to_write)?,
    }
    writeln!(out, "- Reconciliation: {}\n", reconciliation_line(r))?;
    people(out, &People::of(r))?;

    writeln!(out, "## Summary\n")?;
    writeln!(out, "| | create | update | unchanged | conflict | skip |")?;
    writeln!(out, "|---|---:|---:|---:|---:|---:|")?;
    for (kind, row) in &r.summary {
        let n = |a: &str| row.get(a).copied().unwrap_or(0);
        writeln!(
            out,
            "| {kind} | {} | {} | {} | {} | {} |",
            n("create"),
            n("update"),
            n("unchanged"),
            n("conflict"),
            n("skip")
        )?;
    }

    writeln!(out, "\n## Collections\n")?;
    for c in &r.collections {
        tree(out, c, 0)?;
    }
    if !r.root_items.is_empty() {
        writeln!(out, "- *(no collection)*")?;
        for i in &r.root_items {
            writeln!(out, "  - {}", md(&item_line(i)))?;
        }
    }

    writeln!(out, "\n## Skipped items\n")?;
    if r.skipped.is_empty() {
        writeln!(out, "None.")?;
    }
    for s in &r.skipped {
        let folder = if s.folder.is_empty() { "(root)" } else { &s.folder };
        writeln!(out, "- {} in {}: {}", md(&s.title), md(folder), md(&s.reason))?;
    }

    if !r.gone.is_empty() {
        writeln!(out, "\n## Gone from the source (kept)\n")?;
        for g in &r.gone {
            writeln!(out, "- {} {} (#{})", g.kind, md(&g.name), g.id)?;
        }
    }
    if !r.warnings.is_empty() {
        writeln!(out, "\n## Not written\n")?;
        for w in &r.warnings {
            writeln!(out, "- {}", md(w))?;
        }
    }

    writeln!(out, "\n## Findings\n")?;
    if r.findings.is_empty() {
        writeln!(out, "None.")?;
    }
    for f in &r.findings {
        let at = match (&f.file, f.line) {
            (Some(file), Some(line)) => format!(" ({}:{line})", md(file)),
            _ => String::new(),
        };
        writeln!(out, "- **{}** `{}`: {}{at}", f.severity, f.code, md(&f.message))?;
    }
    writeln!(out, "\n## Reconciliation\n\n{}", reconciliation_line(r))?;
    if !r.reconciliation_mismatches.is_empty() {
        writeln!(out)?;
    }
    for m in &r.reconciliation_mismatches {
        writeln!(out, "- not in the workspace as decided: {}", md(m))?;
    }
    Ok(())
}
