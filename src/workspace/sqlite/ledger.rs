//! Reads of the import ledger (schema V7): which source created an object.

use rusqlite::{Connection, Result};

use crate::workspace::ImportKey;

/// Per key, whether a run of `scope` created it. An object written before
/// V7 (no run recorded) or by a run of another source is not this
/// source's: a run never calls another export's objects gone.
pub(super) fn created_by_source(conn: &Connection, scope: &str, keys: &[&ImportKey]) -> Result<Vec<bool>> {
    let mut stmt = conn.prepare_cached(
        "SELECT EXISTS (SELECT 1 FROM import_ledger l JOIN import_run_scopes s ON s.run_id = l.run_id
                        WHERE l.import_key = ?1 AND s.scope = ?2)",
    )?;
    keys.iter()
        .map(|k| stmt.query_row(rusqlite::params![k.as_str(), scope], |r| r.get(0)))
        .collect()
}
