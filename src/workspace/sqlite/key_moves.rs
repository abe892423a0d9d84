//! Re-keying collections an earlier build keyed differently, in place.
//!
//! The collection keeps its id, items, grants and any admin edits; only its
//! import key changes, with the keys of the grants on it (a grant key holds
//! its target's key) and the content hashes of its items (which cover the
//! collection's key), so the next run finds everything under the new keys
//! and decides it unchanged instead of creating it again.

use rusqlite::{params, OptionalExtension, Transaction};
use rustc_hash::FxHashMap;

use crate::workspace::{KeyMove, RehashedItems};

/// Applies the moves whose `from` is present and `to` free; records each in
/// `key_moves`. Returns how many collections moved.
pub(super) fn move_collection_keys(
    tx: &Transaction<'_>,
    moves: &[KeyMove],
    rehashed: &RehashedItems,
) -> rusqlite::Result<usize> {
    let mut moved = 0;
    let mut applied: FxHashMap<&str, &str> = FxHashMap::default();
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
        applied.insert(from, to);
    }
    if moved > 0 {
        follow_in_records(tx, &applied)?;
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

/// The journal and the record of admin deletions name objects by key: the
/// gone check asks the journal which source created a key, and a revoked
/// grant is known by its key in `import_removed`. Left on the old keys, a
/// moved collection would belong to no source and a revoked grant on it
/// would be re-created. One pass over each, since the journal has no index
/// on keys (it would cost every run's writes for a move made once).
fn follow_in_records(tx: &Transaction<'_>, applied: &FxHashMap<&str, &str>) -> rusqlite::Result<()> {
    for (table, id) in [("run_journal", "id"), ("import_removed", "import_key")] {
        let renamed: Vec<(rusqlite::types::Value, String)> = {
            let mut stmt = tx.prepare(&format!(
                "SELECT {id}, import_key FROM {table}
                 WHERE substr(import_key, 1, 11) = 'collection:' OR substr(import_key, 1, 6) = 'grant:'"
            ))?;
            let mut rows = stmt.query([])?;
            let mut renamed = Vec::new();
            while let Some(row) = rows.next()? {
                let key = row.get_ref(1)?.as_str()?;
                if let Some(new) = moved_key(key, applied) {
                    renamed.push((row.get(0)?, new));
                }
            }
            renamed
        };
        let mut update = tx.prepare(&format!(
            "UPDATE OR REPLACE {table} SET import_key = ?2 WHERE {id} = ?1"
        ))?;
        for (row, key) in renamed {
            update.execute(params![row, key])?;
        }
    }
    Ok(())
}

/// A collection's key, or a grant's on it: `grant:<target key>-><grantee>`.
/// A folder name may itself hold `->`, so every split point is tried and
/// only a target that was moved counts.
fn moved_key(key: &str, applied: &FxHashMap<&str, &str>) -> Option<String> {
    if let Some(to) = applied.get(key) {
        return Some((*to).to_owned());
    }
    let target_and_grantee = key.strip_prefix("grant:")?;
    target_and_grantee.match_indices("->").find_map(|(at, _)| {
        let to = applied.get(&target_and_grantee[..at])?;
        Some(format!("grant:{to}{}", &target_and_grantee[at..]))
    })
}

#[cfg(test)]
mod follow_tests {
    use super::*;

    #[test]
    fn a_grant_key_follows_its_collection_even_when_a_name_holds_an_arrow() {
        let mut applied = FxHashMap::default();
        applied.insert("collection:lastpass:a->b", "collection:lastpass:Shared-a->b");
        assert_eq!(
            moved_key("grant:collection:lastpass:a->b->member:x@example.com", &applied).as_deref(),
            Some("grant:collection:lastpass:Shared-a->b->member:x@example.com")
        );
        assert_eq!(
            moved_key("collection:lastpass:a->b", &applied).as_deref(),
            Some("collection:lastpass:Shared-a->b")
        );
        assert_eq!(
            moved_key("grant:collection:lastpass:a->member:x@example.com", &applied),
            None
        );
        assert_eq!(moved_key("account:lastpass:1", &applied), None);
    }
}
