//! One self-contained HTML page an admin can open or mail: inline CSS and
//! one small inline script, no external resource, everything escaped.
//!
//! People come first (who gains access to what), then the collection tree.
//! A million items written as list rows made a 100 MB page no browser
//! could open, so the tree is collapsed with counts and each collection's
//! items travel as compact JSON, deflated and base64-encoded in blocks of
//! about [`BLOCK_ITEMS`] items (about 7 bytes an item), which the script
//! inflates with the browser's own `DecompressionStream` when a collection
//! is opened or the filter box is used, and lists [`PAGE`] at a time.
//! Item names reach the page only through `textContent`, never as markup.
//! The full item list stays in the JSON report.

use std::io::{self, Write as _};

use base64::Engine as _;

use super::json::{CollectionNode, Item, Report};
use super::people::{self, People};
use super::text::reconciliation_line;
use crate::diff::Action;

/// Items per compressed block: large enough that deflate finds the
/// repeats across small collections, small enough that opening one
/// collection inflates little.
const BLOCK_ITEMS: usize = 32_768;

/// Items the script lists at a time when a collection is opened.
const PAGE: usize = 500;

/// Rows of the long tables (skipped items, findings per code, …) shown
/// before the rest are counted; the JSON report holds them all.
const ROWS: usize = 200;

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
details{margin:.1em 0 .1em 1.2em}summary{cursor:pointer}ul.items{list-style:none;margin:.2em 0;padding-left:1.4em}
.a{display:inline-block;min-width:5.5em;font-size:.8em;padding:0 .4em;border-radius:3px;text-align:center;margin-right:.4em}
.create{background:#dcf5e3}.update{background:#dde9ff}.unchanged{background:#eee;color:#555}
.conflict{background:#ffe3d6}.skip{background:#f5f0c8}
.ok{color:#17692f}.bad{color:#b00020;font-weight:bold}.muted{color:#666}.k{color:#666;font-size:.85em}
#filter{width:24em;padding:.3em;margin:.5em 0}
";

/// Opens collections on demand: inflates the block that holds a
/// collection's items, lists a page of them, and filters the tree.
/// Kept free of network calls and of anything that loads a resource.
const SCRIPT: &str = r#"
(function () {
  "use strict";
  const PAGE = __PAGE__;
  const legend = JSON.parse(document.getElementById("legend").textContent);
  const cache = {};
  function block(n) {
    if (!cache[n]) {
      cache[n] = (async function () {
        const text = document.getElementById("b" + n).textContent.trim();
        const bin = atob(text);
        const bytes = new Uint8Array(bin.length);
        for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
        const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate"));
        return JSON.parse(await new Response(stream).text());
      })();
    }
    return cache[n];
  }
  async function itemsOf(d) {
    if (d.dataset.b === undefined) return [];
    const all = await block(d.dataset.b);
    const c = all[Number(d.dataset.i)];
    const names = c.t.length ? c.n.split("\n") : [];
    const out = [];
    for (let j = 0; j < names.length; j++) {
      out.push({
        action: legend.actions[Number(c.a[j])] || "?",
        type: legend.types[parseInt(c.t[j], 36)] || "?",
        name: names[j],
        note: c.x ? c.x[j] : undefined,
      });
    }
    return out;
  }
  function row(it) {
    const li = document.createElement("li");
    const badge = document.createElement("span");
    badge.className = "a " + it.action;
    badge.textContent = it.action;
    li.append(badge, it.type + " ");
    const b = document.createElement("b");
    b.textContent = it.name;
    li.append(b);
    if (it.note) {
      const m = document.createElement("span");
      m.className = "muted";
      m.textContent = " (" + it.note + ")";
      li.append(m);
    }
    return li;
  }
  function list(d, items) {
    const ul = d.querySelector(":scope > ul.items");
    ul.textContent = "";
    let shown = 0;
    function more() {
      const next = items.slice(shown, shown + PAGE);
      for (const it of next) ul.append(row(it));
      shown += next.length;
      if (shown < items.length) {
        const li = document.createElement("li");
        const btn = document.createElement("button");
        btn.type = "button";
        btn.textContent = "show " + Math.min(PAGE, items.length - shown) + " more of " + (items.length - shown);
        btn.onclick = () => { li.remove(); more(); };
        li.append(btn);
        ul.append(li);
      }
    }
    more();
  }
  const tree = document.getElementById("tree");
  function pathOf(d) {
    const names = [];
    for (let n = d; n && n !== tree; n = n.parentElement) {
      const b = n.tagName === "DETAILS" && n.querySelector(":scope > summary > b");
      if (b) names.unshift(b.textContent);
    }
    return names.join("/");
  }
  tree.addEventListener("toggle", async (e) => {
    const d = e.target;
    if (d.tagName !== "DETAILS" || !d.open || d.dataset.listed) return;
    d.dataset.listed = "1";
    list(d, await itemsOf(d));
  }, true);
  const filter = document.getElementById("filter");
  let timer = null;
  filter.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(apply, 250);
  });
  async function apply() {
    const q = filter.value.trim().toLowerCase();
    const nodes = Array.from(tree.querySelectorAll("details"));
    if (!q) {
      for (const d of nodes) {
        d.hidden = false;
        delete d.dataset.listed;
        d.open = false;
        d.querySelector(":scope > ul.items").textContent = "";
      }
      return;
    }
    const hits = new Map();
    for (const d of nodes) {
      const items = await itemsOf(d);
      hits.set(d, items.filter((it) => it.name.toLowerCase().includes(q)));
    }
    if (filter.value.trim().toLowerCase() !== q) return;
    for (const d of nodes.reverse()) {
      const found = hits.get(d);
      const named = pathOf(d).toLowerCase().includes(q);
      const kids = Array.from(d.querySelectorAll(":scope > details")).some((k) => !k.hidden);
      d.hidden = !(named || found.length > 0 || kids);
      if (found.length > 0) {
        d.dataset.listed = "1";
        list(d, found);
      } else {
        d.querySelector(":scope > ul.items").textContent = "";
        // Opened here only to show what matched below it: none of its
        // own items. Left closed, opening it later lists them all.
        if (kids) d.dataset.listed = "1";
        else delete d.dataset.listed;
      }
      d.open = found.length > 0 || kids;
    }
  }
})();
"#;

fn badge(action: Action) -> String {
    format!("<span class=\"a {0}\">{0}</span>", action.name())
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

/// A line saying how many rows a bounded table left out.
fn more(out: &mut dyn io::Write, total: usize, what: &str) -> io::Result<()> {
    if total > ROWS {
        writeln!(
            out,
            "<p class=\"muted\">… and {} more {what} (all are in the JSON report).</p>",
            total - ROWS
        )?;
    }
    Ok(())
}

fn people_section(out: &mut dyn io::Write, p: &People<'_>) -> io::Result<()> {
    writeln!(out, "<h2>Who gains access</h2>")?;
    if p.collections.is_empty() && p.personal_collections.is_empty() && p.item_grants.is_empty() {
        writeln!(out, "<p class=\"muted\">Nobody.</p>")?;
    }
    if !p.collections.is_empty() {
        writeln!(
            out,
            "<table><tr><th>collection</th><th>who</th><th>role</th><th>source access</th><th>action</th></tr>"
        )?;
        for c in &p.collections {
            for (n, g) in c.grants.iter().enumerate() {
                write!(out, "<tr>")?;
                if n == 0 {
                    write!(out, "<td rowspan=\"{}\"><b>{}</b></td>", c.grants.len(), esc(c.path))?;
                }
                let changes = if g.changes.is_empty() {
                    String::new()
                } else {
                    format!(" <span class=\"muted\">{}</span>", esc(&g.changes.join(", ")))
                };
                writeln!(
                    out,
                    "<td><span class=\"k\">{}</span> {}</td><td>{}</td><td>{}</td><td>{}{changes}</td></tr>",
                    esc(g.grantee_kind),
                    esc(&g.grantee),
                    esc(g.role),
                    esc(&g.source_access),
                    badge(g.action)
                )?;
            }
        }
        writeln!(out, "</table>")?;
    }
    if !p.personal_collections.is_empty() {
        writeln!(out, "<p>On the export owner's personal folders:</p>")?;
        let rows = p
            .personal_collections
            .iter()
            .map(|g| {
                vec![
                    format!("<span class=\"k\">{}</span> {}", esc(g.grantee_kind), esc(g.grantee)),
                    esc(g.role),
                    format!("{}", g.count),
                    badge(g.action),
                    esc(g.example),
                ]
            })
            .collect();
        table(out, &["who", "role", "collections", "action", "for example"], rows)?;
    }
    if !p.item_grants.is_empty() {
        writeln!(out, "<p>On single accounts and secrets:</p>")?;
        let rows = p
            .item_grants
            .iter()
            .map(|g| {
                vec![
                    format!("<span class=\"k\">{}</span> {}", esc(g.grantee_kind), esc(g.grantee)),
                    esc(g.role),
                    format!("{}", g.count),
                    esc(g.source_access),
                    badge(g.action),
                    esc(g.example),
                ]
            })
            .collect();
        table(
            out,
            &["who", "role", "items", "source access", "action", "for example"],
            rows,
        )?;
    }
    if p.unchanged_grants > 0 {
        writeln!(
            out,
            "<p class=\"muted\">{} grants are already in the workspace, unchanged.</p>",
            p.unchanged_grants
        )?;
    }
    if !p.conflicts.is_empty() {
        writeln!(out, "<ul>")?;
        for g in &p.conflicts {
            writeln!(out, "<li>{}{}</li>", badge(g.action), esc(&people::conflict_line(g)))?;
        }
        writeln!(out, "</ul>")?;
    }

    writeln!(out, "<h2>Guest invitations</h2>")?;
    let rows = p
        .guests
        .iter()
        .map(|g| {
            let i = g.invitation;
            let partner = match (&i.partner, i.guest_admin) {
                (Some(p), true) => format!("{} (Guest Admin)", esc(p)),
                (Some(p), false) => esc(p),
                (None, _) => "—".to_owned(),
            };
            let access = if g.grants.is_empty() {
                esc(&i.folders.join(", "))
            } else {
                g.grants
                    .iter()
                    .map(|g| esc(&people::guest_grant_line(g)))
                    .collect::<Vec<_>>()
                    .join("<br>")
            };
            vec![
                badge(i.action),
                esc(&i.email),
                partner,
                access,
                esc(&[i.reason.clone(), i.delivered_via.map(|v| format!("sent via {v}"))]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join("; ")),
            ]
        })
        .collect();
    table(
        out,
        &["action", "guest", "partner", "source access → role", "note"],
        rows,
    )?;

    writeln!(out, "<h2>Lowered roles</h2>")?;
    let rows = p
        .lowered
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

    writeln!(out, "<h2>Can now see passwords the source hid from them</h2>")?;
    let rows = p
        .see_passwords
        .iter()
        .map(|g| {
            vec![
                format!("<span class=\"k\">{}</span> {}", esc(g.grantee_kind), esc(&g.grantee)),
                esc(&g.target),
                esc(&g.source_access),
                esc(g.role),
            ]
        })
        .collect();
    table(out, &["who", "on", "source access", "role"], rows)?;

    writeln!(out, "<h2>Unmatched users</h2>")?;
    let rows = p
        .unmatched
        .iter()
        .map(|u| {
            vec![
                esc(&u.email),
                esc(&u.reason),
                esc(&people::unmatched_access(u)),
                esc(&people::unmatched_items(u)),
            ]
        })
        .collect();
    table(out, &["email", "why", "access they had", "items"], rows)?;
    if !p.unmatched.is_empty() {
        writeln!(
            out,
            "<p class=\"muted\">Every item each of them had is in the CSV and JSON reports.</p>"
        )?;
    }
    Ok(())
}

/// The blocks of item data, written after the tree.
struct Blocks {
    /// Item types by first appearance; an item names its type by index.
    types: Vec<&'static str>,
    /// The open block: a JSON array of collections.
    open: Vec<u8>,
    open_nodes: usize,
    open_items: usize,
    /// Finished blocks, deflated and base64-encoded.
    done: Vec<String>,
}

impl Blocks {
    fn new() -> Blocks {
        Blocks {
            types: Vec::new(),
            open: vec![b'['],
            open_nodes: 0,
            open_items: 0,
            done: Vec::new(),
        }
    }

    fn type_code(&mut self, t: &'static str) -> char {
        let i = match self.types.iter().position(|x| *x == t) {
            Some(i) => i,
            None => {
                self.types.push(t);
                self.types.len() - 1
            }
        };
        char::from_digit(u32::try_from(i).unwrap_or(35).min(35), 36).unwrap_or('z')
    }

    /// Adds one collection's items; returns (block, index in block).
    fn add(&mut self, items: &[Item]) -> io::Result<(usize, usize)> {
        let mut t = String::with_capacity(items.len());
        let mut a = String::with_capacity(items.len());
        let mut names = Vec::with_capacity(items.len());
        let mut notes: Vec<Option<String>> = Vec::new();
        for (n, i) in items.iter().enumerate() {
            t.push(self.type_code(i.item_type));
            let code = Action::ALL.iter().position(|x| *x == i.action).unwrap_or(0);
            a.push(char::from_digit(code as u32, 10).unwrap_or('0'));
            names.push(i.name.as_str());
            let mut note = i.changes.join(", ");
            if let Some(r) = &i.reason {
                if !note.is_empty() {
                    note.push_str(" — ");
                }
                note.push_str(r);
            }
            if !note.is_empty() {
                notes.resize(n, None);
                notes.push(Some(note));
            }
        }
        if !notes.is_empty() {
            notes.resize(items.len(), None);
        }
        if self.open_nodes > 0 {
            self.open.push(b',');
        }
        // One string of names a line each: a JSON string per name cost a
        // byte an item more, deflated. A line break in a name (the page
        // lists names on one line anyway) becomes a space.
        let names: String = names
            .iter()
            .map(|n| n.replace(['\n', '\r'], " "))
            .collect::<Vec<_>>()
            .join("\n");
        let node = serde_json::json!({ "t": t, "a": a, "n": names });
        let mut node = node;
        if !notes.is_empty() {
            node["x"] = serde_json::json!(notes);
        }
        serde_json::to_writer(&mut self.open, &node).map_err(io::Error::from)?;
        let at = (self.done.len(), self.open_nodes);
        self.open_nodes += 1;
        self.open_items += items.len();
        if self.open_items >= BLOCK_ITEMS {
            self.close()?;
        }
        Ok(at)
    }

    fn close(&mut self) -> io::Result<()> {
        if self.open_nodes == 0 {
            return Ok(());
        }
        self.open.push(b']');
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        z.write_all(&self.open)?;
        let bytes = z.finish()?;
        self.done.push(base64::engine::general_purpose::STANDARD.encode(bytes));
        self.open.clear();
        self.open.push(b'[');
        self.open_nodes = 0;
        self.open_items = 0;
        Ok(())
    }
}

/// Counts per action, `201 items: 200 create, 1 conflict`.
fn counts(items: &[Item], unchanged_not_listed: usize) -> String {
    let total = items.len() + unchanged_not_listed;
    let mut parts = Vec::new();
    for action in Action::ALL {
        let mut n = items.iter().filter(|i| i.action == action).count();
        if action == Action::Unchanged {
            n += unchanged_not_listed;
        }
        if n > 0 {
            parts.push(format!("{n} {}", action.name()));
        }
    }
    let noun = if total == 1 { "item" } else { "items" };
    if parts.is_empty() {
        format!("0 {noun}")
    } else {
        format!("{total} {noun}: {}", parts.join(", "))
    }
}

fn total_items(node: &CollectionNode) -> usize {
    node.items.len() + node.children.iter().map(total_items).sum::<usize>()
}

/// Items a node lists beyond its `items`: in a terminal-detail report the
/// unchanged ones are only counted.
fn unlisted(node_items: &[Item], unchanged: usize) -> usize {
    unchanged.saturating_sub(node_items.iter().filter(|i| i.action == Action::Unchanged).count())
}

fn tree_node(out: &mut dyn io::Write, blocks: &mut Blocks, node: &CollectionNode, depth: usize) -> io::Result<()> {
    let (b, i) = blocks.add(&node.items)?;
    let shared = if node.shared { " · shared" } else { "" };
    let subs = if node.children.is_empty() {
        String::new()
    } else {
        format!(
            " · {} subcollections, {} items with them",
            node.children.len(),
            total_items(node)
        )
    };
    writeln!(
        out,
        "<details data-b=\"{b}\" data-i=\"{i}\"><summary>{}<b>{}</b> <span class=\"muted\">{}{shared}{subs}</span></summary><ul class=\"items\"></ul>",
        badge(node.action),
        esc(&node.name),
        esc(&counts(&node.items, unlisted(&node.items, node.unchanged_items)))
    )?;
    // The mapper makes no cycle; a depth far past any real tree is cut.
    if depth < 256 {
        for c in &node.children {
            tree_node(out, blocks, c, depth + 1)?;
        }
    }
    writeln!(out, "</details>")
}

fn tree(out: &mut dyn io::Write, r: &Report) -> io::Result<()> {
    writeln!(out, "<h2>Collections</h2>")?;
    writeln!(
        out,
        "<p class=\"muted\">Open a collection to list its items; the filter looks through collection paths and item names.</p>\
         <input id=\"filter\" type=\"search\" placeholder=\"Filter collections and items\" aria-label=\"Filter collections and items\">\
         <noscript><p>Listing items needs JavaScript; every item is in the JSON report.</p></noscript>"
    )?;
    writeln!(out, "<div id=\"tree\">")?;
    let mut blocks = Blocks::new();
    for c in &r.collections {
        tree_node(out, &mut blocks, c, 0)?;
    }
    if !r.root_items.is_empty() || r.root_unchanged > 0 {
        let (b, i) = blocks.add(&r.root_items)?;
        writeln!(
            out,
            "<details data-b=\"{b}\" data-i=\"{i}\"><summary><i>(no collection)</i> <span class=\"muted\">{}</span></summary><ul class=\"items\"></ul></details>",
            esc(&counts(&r.root_items, unlisted(&r.root_items, r.root_unchanged)))
        )?;
    }
    blocks.close()?;
    writeln!(out, "</div>")?;
    // Data, not markup: base64 holds no `<`, and the legend is JSON with
    // `<` escaped.
    let legend = serde_json::json!({
        "actions": Action::ALL.iter().map(|a| a.name()).collect::<Vec<_>>(),
        "types": blocks.types,
    })
    .to_string()
    .replace('<', "\\u003c");
    writeln!(out, "<script type=\"application/json\" id=\"legend\">{legend}</script>")?;
    for (n, b) in blocks.done.iter().enumerate() {
        writeln!(
            out,
            "<script type=\"application/x-vaultferry-items\" id=\"b{n}\">{b}</script>"
        )?;
    }
    writeln!(
        out,
        "<script>{}</script>",
        SCRIPT.replace("__PAGE__", &PAGE.to_string())
    )
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
        for m in r.reconciliation_mismatches.iter().take(ROWS) {
            writeln!(out, "<li>not in the workspace as decided: {}</li>", esc(m))?;
        }
        writeln!(out, "</ul>")?;
        more(out, r.reconciliation_mismatches.len(), "mismatches")?;
    }

    people_section(out, &People::of(r))?;

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

    tree(out, r)?;

    writeln!(out, "<h2>Teams</h2>")?;
    let rows = r
        .teams
        .iter()
        .map(|t| vec![badge(t.action), esc(&t.name), esc(&t.changes.join("; "))])
        .collect();
    table(out, &["action", "team", "changes"], rows)?;

    writeln!(out, "<h2>Skipped items</h2>")?;
    let rows = r
        .skipped
        .iter()
        .take(ROWS)
        .map(|s| {
            vec![
                esc(&s.title),
                esc(if s.folder.is_empty() { "(root)" } else { &s.folder }),
                esc(&s.reason),
            ]
        })
        .collect();
    table(out, &["item", "folder", "reason"], rows)?;
    more(out, r.skipped.len(), "skipped items")?;

    if !r.gone.is_empty() {
        writeln!(out, "<h2>Gone from the source (kept in the workspace)</h2>")?;
        let rows = r
            .gone
            .iter()
            .take(ROWS)
            .map(|g| vec![esc(g.kind), esc(&g.name), g.id.to_string()])
            .collect();
        table(out, &["kind", "name", "id"], rows)?;
        more(out, r.gone.len(), "objects gone from the source")?;
    }
    if !r.warnings.is_empty() {
        writeln!(out, "<h2>Not written</h2><ul>")?;
        for w in r.warnings.iter().take(ROWS) {
            writeln!(out, "<li>{}</li>", esc(w))?;
        }
        writeln!(out, "</ul>")?;
        more(out, r.warnings.len(), "objects not written")?;
    }

    writeln!(out, "<h2>Findings</h2>")?;
    // Errors first: a long list is cut, and they must not be what is cut.
    let mut findings: Vec<_> = r.findings.iter().collect();
    findings.sort_by_key(|f| match f.severity.as_str() {
        "error" => 0,
        "warning" => 1,
        _ => 2,
    });
    let rows = findings
        .into_iter()
        .take(ROWS)
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
    more(out, r.findings.len(), "findings")?;
    writeln!(out, "</body></html>")
}
