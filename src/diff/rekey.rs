//! The content hashes of items whose collection a key move re-keys.
//!
//! A stored `imported_hash` covers the collection's import key, so after a
//! move it must be the hash under the new key, or the next run would read
//! every item of the moved collection as edited in the workspace (a
//! conflict) instead of unchanged. Kept beside the hashing it repeats.

use rustc_hash::FxHashMap as HashMap;

use crate::workspace::{KeyMove, RehashedItems, Snapshot};

use super::{account_canon, secret_canon};

/// For each account and secret in a collection that `moves` re-keys and
/// that is still as the importer wrote it (its hash under the old keys is
/// its `imported_hash`): its hash under the new keys.
pub fn rehash_moved(snapshot: &Snapshot, moves: &[KeyMove]) -> RehashedItems {
    let to: HashMap<&str, &str> = moves.iter().map(|m| (m.from.as_str(), m.to.as_str())).collect();
    let mut before: HashMap<i64, String> = HashMap::default();
    let mut after: HashMap<i64, String> = HashMap::default();
    let mut moved: rustc_hash::FxHashSet<i64> = Default::default();
    for c in &snapshot.collections {
        let Some(key) = &c.import_key else { continue };
        before.insert(c.id, key.as_str().to_owned());
        match to.get(key.as_str()) {
            Some(new) => {
                moved.insert(c.id);
                after.insert(c.id, (*new).to_owned());
            }
            None => {
                after.insert(c.id, key.as_str().to_owned());
            }
        }
    }
    let in_moved = |collection: Option<i64>| collection.is_some_and(|id| moved.contains(&id));
    let mut out = RehashedItems::default();
    for a in snapshot.accounts.iter().filter(|a| in_moved(a.collection)) {
        if a.import.imported_hash.as_deref() == Some(account_canon(a, &before).hash().as_str()) {
            out.accounts.push((a.id, account_canon(a, &after).hash()));
        }
    }
    for s in snapshot.secrets.iter().filter(|s| in_moved(s.collection)) {
        if s.import.imported_hash.as_deref() == Some(secret_canon(s, &before).hash().as_str()) {
            out.secrets.push((s.id, secret_canon(s, &after).hash()));
        }
    }
    out
}
