//! The report as Markdown, for a ticket or a pull request.

use std::io;

use super::json::{CollectionNode, Report};
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

    writeln!(out, "\n## Guest invitations\n")?;
    if r.invitations.is_empty() {
        writeln!(out, "None.")?;
    } else {
        writeln!(out, "| email | partner | folders | action |")?;
        writeln!(out, "|---|---|---|---|")?;
        for i in &r.invitations {
            let action = match &i.reason {
                Some(reason) => format!("{} ({})", i.action.name(), md(reason)),
                None => i.action.name().to_owned(),
            };
            writeln!(
                out,
                "| {} | {} | {} | {action} |",
                md(&i.email),
                md(i.partner.as_deref().unwrap_or("—")),
                md(&i.folders.join(", "))
            )?;
        }
    }

    writeln!(out, "\n## Lowered roles\n")?;
    if r.lowered_roles.is_empty() {
        writeln!(out, "None.")?;
    }
    for l in &r.lowered_roles {
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

    writeln!(out, "\n## Unmatched users\n")?;
    if r.unmatched.is_empty() {
        writeln!(out, "None.")?;
    } else {
        writeln!(out, "| email | reason | access | items |")?;
        writeln!(out, "|---|---|---|---|")?;
        for u in &r.unmatched {
            let access: Vec<String> = u
                .access
                .iter()
                .map(|a| format!("{} ({})", a.folder, a.access))
                .collect();
            writeln!(
                out,
                "| {} | {} | {} | {} |",
                md(&u.email),
                md(&u.reason),
                md(&access.join(", ")),
                md(&u.items.join(", "))
            )?;
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
