//! One self-contained HTML page an admin can open or mail: inline CSS, no
//! script, no external resource, everything escaped.

use std::io;

use super::json::{CollectionNode, Item, Report};
use super::text::reconciliation_line;
use crate::diff::Action;

/// Escapes text for HTML element content and quoted attributes.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

const CSS: &str = "
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:2em auto;max-width:70em;color:#1d232a;padding:0 1em}
h1{font-size:1.5em}h2{font-size:1.15em;margin-top:2em;border-bottom:1px solid #dde}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #dde;padding:.25em .6em;text-align:left;vertical-align:top}
th{background:#f3f5f8}td.n{text-align:right}
ul.tree,ul.tree ul{list-style:none;padding-left:1.2em}ul.tree li{margin:.15em 0}
.a{display:inline-block;min-width:5.5em;font-size:.8em;padding:0 .4em;border-radius:3px;text-align:center;margin-right:.4em}
.create{background:#dcf5e3}.update{background:#dde9ff}.unchanged{background:#eee;color:#555}
.conflict{background:#ffe3d6}.skip{background:#f5f0c8}
.ok{color:#17692f}.bad{color:#b00020;font-weight:bold}.muted{color:#666}
";

fn badge(action: Action) -> String {
    format!("<span class=\"a {0}\">{0}</span>", action.name())
}

fn item(out: &mut dyn io::Write, i: &Item) -> io::Result<()> {
    write!(
        out,
        "<li>{}{} <b>{}</b>",
        badge(i.action),
        esc(i.item_type),
        esc(&i.name)
    )?;
    if !i.changes.is_empty() {
        write!(out, " <span class=\"muted\">({})</span>", esc(&i.changes.join(", ")))?;
    }
    if let Some(r) = &i.reason {
        write!(out, " <span class=\"muted\">— {}</span>", esc(r))?;
    }
    writeln!(out, "</li>")
}

fn tree(out: &mut dyn io::Write, node: &CollectionNode) -> io::Result<()> {
    let shared = if node.shared {
        " <span class=\"muted\">shared</span>"
    } else {
        ""
    };
    writeln!(out, "<li>{}<b>{}</b>{shared}<ul>", badge(node.action), esc(&node.name))?;
    for i in &node.items {
        item(out, i)?;
    }
    for c in &node.children {
        tree(out, c)?;
    }
    writeln!(out, "</ul></li>")
}

fn table(out: &mut dyn io::Write, headers: &[&str], rows: Vec<Vec<String>>) -> io::Result<()> {
    if rows.is_empty() {
        return writeln!(out, "<p class=\"muted\">None.</p>");
    }
    write!(out, "<table><tr>")?;
    for h in headers {
        write!(out, "<th>{}</th>", esc(h))?;
    }
    writeln!(out, "</tr>")?;
    for row in rows {
        write!(out, "<tr>")?;
        for cell in row {
            // Cells are escaped by the caller (some hold a badge).
            write!(out, "<td>{cell}</td>")?;
        }
        writeln!(out, "</tr>")?;
    }
    writeln!(out, "</table>")
}

pub fn write(r: &Report, out: &mut dyn io::Write) -> io::Result<()> {
    let title = format!(
        "{} — {}",
        if r.kind == "migrate" {
            "Migration report"
        } else {
            "Migration plan"
        },
        r.workspace.name
    );
    writeln!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{}</title><style>{CSS}</style></head><body>",
        esc(&title)
    )?;
    writeln!(out, "<h1>{}</h1>", esc(&title))?;
    writeln!(
        out,
        "<p>Source <b>{}</b> ({}), imported as {}.{}</p>",
        esc(&r.source.file),
        esc(r.source.format),
        esc(&r.importer),
        r.run_id
            .as_deref()
            .map(|id| format!(" Run <code>{}</code>.", esc(id)))
            .unwrap_or_default()
    )?;

    writeln!(out, "<p class=\"muted\">Generated {}</p>", esc(&r.generated.describe()))?;
    writeln!(out, "<h2>Summary</h2>")?;
    let rows = r
        .summary
        .iter()
        .map(|(kind, row)| {
            let n = |a: &str| row.get(a).copied().unwrap_or(0).to_string();
            vec![
                esc(kind),
                n("create"),
                n("update"),
                n("unchanged"),
                n("conflict"),
                n("skip"),
            ]
        })
        .collect();
    table(out, &["", "create", "update", "unchanged", "conflict", "skip"], rows)?;
    match r.written {
        Some(n) => writeln!(out, "<p>{n} objects written.</p>")?,
        None => writeln!(out, "<p>{} objects to write.</p>", r.to_write)?,
    }
    let class = if r.reconciliation.holds { "ok" } else { "bad" };
    writeln!(
        out,
        "<p class=\"{class}\">Reconciliation: {}</p>",
        esc(&reconciliation_line(r))
    )?;
    if !r.reconciliation_mismatches.is_empty() {
        writeln!(out, "<ul class=\"bad\">")?;
        for m in &r.reconciliation_mismatches {
            writeln!(out, "<li>not in the workspace as decided: {}</li>", esc(m))?;
        }
        writeln!(out, "</ul>")?;
    }

    writeln!(out, "<h2>Collections</h2><ul class=\"tree\">")?;
    for c in &r.collections {
        tree(out, c)?;
    }
    if !r.root_items.is_empty() {
        writeln!(out, "<li><i>(no collection)</i><ul>")?;
        for i in &r.root_items {
            item(out, i)?;
        }
        writeln!(out, "</ul></li>")?;
    }
    writeln!(out, "</ul>")?;

    writeln!(out, "<h2>Teams</h2>")?;
    let rows = r
        .teams
        .iter()
        .map(|t| vec![badge(t.action), esc(&t.name), esc(&t.changes.join("; "))])
        .collect();
    table(out, &["action", "team", "changes"], rows)?;

    writeln!(out, "<h2>Guest invitations</h2>")?;
    let rows = r
        .invitations
        .iter()
        .map(|i| {
            vec![
                badge(i.action),
                esc(&i.email),
                esc(i.partner.as_deref().unwrap_or("—")),
                esc(&i.folders.join(", ")),
                esc(&[i.reason.clone(), i.delivered_via.map(|v| format!("sent via {v}"))]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join("; ")),
            ]
        })
        .collect();
    table(out, &["action", "guest", "partner", "folders", "note"], rows)?;

    writeln!(out, "<h2>Lowered roles</h2>")?;
    let rows = r
        .lowered_roles
        .iter()
        .map(|l| {
            vec![
                esc(&l.grantee),
                esc(&l.target),
                esc(&l.source_access),
                esc(&format!("{} → {}", l.from, l.to)),
            ]
        })
        .collect();
    table(out, &["who", "on", "source access", "role"], rows)?;

    writeln!(out, "<h2>Unmatched users</h2>")?;
    let rows = r
        .unmatched
        .iter()
        .map(|u| {
            let access: Vec<String> = u
                .access
                .iter()
                .map(|a| format!("{} ({})", a.folder, a.access))
                .collect();
            vec![
                esc(&u.email),
                esc(&u.reason),
                esc(&access.join(", ")),
                esc(&u.items.join(", ")),
            ]
        })
        .collect();
    table(out, &["email", "why", "access they had", "items"], rows)?;

    writeln!(out, "<h2>Skipped items</h2>")?;
    let rows = r
        .skipped
        .iter()
        .map(|s| {
            vec![
                esc(&s.title),
                esc(if s.folder.is_empty() { "(root)" } else { &s.folder }),
                esc(&s.reason),
            ]
        })
        .collect();
    table(out, &["item", "folder", "reason"], rows)?;

    if !r.gone.is_empty() {
        writeln!(out, "<h2>Gone from the source (kept in the workspace)</h2>")?;
        let rows = r
            .gone
            .iter()
            .map(|g| vec![esc(g.kind), esc(&g.name), g.id.to_string()])
            .collect();
        table(out, &["kind", "name", "id"], rows)?;
    }
    if !r.warnings.is_empty() {
        writeln!(out, "<h2>Not written</h2><ul>")?;
        for w in &r.warnings {
            writeln!(out, "<li>{}</li>", esc(w))?;
        }
        writeln!(out, "</ul>")?;
    }

    writeln!(out, "<h2>Findings</h2>")?;
    let rows = r
        .findings
        .iter()
        .map(|f| {
            let at = match (&f.file, f.line) {
                (Some(file), Some(line)) => format!("{file}:{line}"),
                (Some(file), None) => file.clone(),
                _ => String::new(),
            };
            vec![esc(&f.severity), esc(&f.code), esc(&f.message), esc(&at)]
        })
        .collect();
    table(out, &["severity", "code", "message", "where"], rows)?;
    writeln!(out, "</body></html>")
}
