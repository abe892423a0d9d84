//! Which source created an object: the journal's `create` rows of the
//! runs that read that source (`import_run_scopes`, schema V7).

use rusqlite::{Connection, Result};
use rustc_hash::FxHashMap;

use crate::workspace::ImportKey;

/// Per key, whether a run of `scope` created it. One pass over the
/// journal rows of that source's runs (by the journal's run index), each
/// looked up among `keys`; an object written by a run with no recorded
/// scope (before V7) or of another source is not this source's: a run
/// never calls another export's objects gone.
pub(super) fn created_by_source(conn: &Connection, scope: &str, keys: &[&ImportKey]) -> Result<Vec<bool>> {
    let at: FxHashMap<&str, usize> = keys.iter().enumerate().map(|(i, k)| (k.as_str(), i)).collect();
    let mut ours = vec![false; keys.len()];
    let mut stmt = conn.prepare(
        "SELECT j.import_key FROM run_journal j
         WHERE j.run_id IN (SELECT run_id FROM import_run_scopes WHERE scope = ?1)
           AND (j.action = 'create' OR j.action = 'invite')",
    )?;
    let mut rows = stmt.query([scope])?;
    while let Some(row) = rows.next()? {
        let key = row.get_ref(0)?.as_str()?;
        if let Some(i) = at.get(key) {
            ours[*i] = true;
        }
    }
    Ok(ours)
}
