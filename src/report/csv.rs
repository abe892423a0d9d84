//! The unmatched users as CSV, for the admin who decides what to do with
//! the people who left or were never provisioned: one row per user with
//! their email, reason, items and the access they had.

use std::io;

use super::json::Report;

/// Spreadsheets run cells that start with `=`, `+`, `-` or `@` as
/// formulas; an item name from an export could be one.
fn cell(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_owned()
    }
}

pub fn write(r: &Report, out: &mut dyn io::Write) -> io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    let err = |e: csv::Error| io::Error::other(e.to_string());
    w.write_record(["email", "name", "reason", "items", "item_names", "access"])
        .map_err(err)?;
    for u in &r.unmatched {
        let access: Vec<String> = u
            .access
            .iter()
            .map(|a| format!("{} ({})", a.folder, a.access))
            .collect();
        w.write_record([
            cell(&u.email),
            cell(u.name.as_deref().unwrap_or("")),
            cell(&u.reason),
            u.items.len().to_string(),
            cell(&u.items.join("; ")),
            cell(&access.join("; ")),
        ])
        .map_err(err)?;
    }
    w.flush()
}
