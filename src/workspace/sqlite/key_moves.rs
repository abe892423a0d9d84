//! Re-keying collections an earlier build keyed differently, in place.
//!
//! The collection keeps its id, items, grants and any admin edits; only its
//! import key changes, with the keys of the grants on it (a grant key holds
//! its target's key) and the content hashes of its items (which cover the
//! collection's key), so the next run finds everything under the new keys
//! and decides it unchanged instead of creating it again.

use rusqlite::{params, OptionalExtension, Transaction};

use crate::workspace::{KeyMove, RehashedItems};

/// Applies the moves whose `from` is present and `to` free; records each in
/// `key_moves`. Returns how many collections moved.
pub(super) fn move_collection_keys(
    tx: &Transaction<'_>,
    moves: &[KeyMove],
    rehashed: &RehashedItems,
) -> rusqlite::Result<usize> {
    let mut moved = 0;
    for m in moves {
        let (from, to) = (m.from.as_str(), m.to.as_str());
        let id: Option<i64> = tx
            .query_row("SELECT id FROM collections WHERE import_key = ?1", [from], |r| r.get(0))
            .optional()?;
        let Some(id) = id else { continue };
        let taken: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM collections WHERE import_key = ?1)",
            [to],
            |r| r.get(0),
        )?;
        if taken {
            continue;
        }
        tx.execute("UPDATE collections SET import_key = ?1 WHERE id = ?2", params![to, id])?;
        // `grant:<target key>-><grantee>`: the target part is replaced,
        // compared as text (a LIKE pattern would read `%` and `_` in
        // folder names as wildcards).
        let (old_prefix, new_prefix) = (format!("grant:{from}->"), format!("grant:{to}->"));
        let grants = tx.execute(
            "UPDATE grants SET import_key = ?2 || substr(import_key, length(?1) + 1)
             WHERE target_kind = 'collection' AND target_id = ?3
               AND substr(import_key, 1, length(?1)) = ?1",
            params![old_prefix, new_prefix, id],
        )?;
        tx.execute(
            "INSERT INTO key_moves (collection_id, from_key, to_key, grants) VALUES (?1, ?2, ?3, ?4)",
            params![id, from, to, grants],
        )?;
        moved += 1;
    }
    if moved > 0 {
        let mut account = tx.prepare("UPDATE accounts SET imported_hash = ?2 WHERE id = ?1")?;
        for (id, hash) in &rehashed.accounts {
            account.execute(params![id, hash])?;
        }
        let mut secret = tx.prepare("UPDATE secrets SET imported_hash = ?2 WHERE id = ?1")?;
        for (id, hash) in &rehashed.secrets {
            secret.execute(params![id, hash])?;
        }
    }
    Ok(moved)
}
