//! The accounts and secrets a store can read before the plan exists.
//!
//! A re-run of a million unchanged items spends seconds just walking the
//! stored rows and matching each against the plan's hashes. Most of that
//! needs no plan: which rows the store vouches for (`imported_intact`),
//! their import keys and stored hashes. A store reads that here, on another
//! thread while the export is parsed and mapped; once the plan's hashes are
//! known, [`IndexedRows::settle`] decides which rows are intact exactly as
//! [`Workspace::load_items`](super::Workspace::load_items) would, and only
//! the rest are read in full, by id.
//!
//! Kept compact (a million rows are held while the plan is built): keys in
//! one string, hashes as 32 bytes, found through a map of key hashes.

use std::hash::BuildHasher;

use rustc_hash::{FxBuildHasher, FxHashMap};

use super::{ImportKey, IntactItem};

/// The stored hash form the importer writes: `sha256:` and 64 lowercase
/// hex digits.
const PREFIX: &str = "sha256:";

/// One table's rows (accounts or secrets), in the store's order.
#[derive(Debug, Default)]
pub struct IndexedRows {
    /// Rows the store vouches hold what the importer wrote, with a hash
    /// in the importer's form.
    rows: Vec<IndexedRow>,
    /// Their import keys, one after the other.
    keys: String,
    /// Key hash → position in `rows`. 32 bits keep the map small; a key
    /// whose hash is taken already (a collision, a hundred or so in a
    /// million keys) is not indexed: its row goes to `others`.
    by_key: FxHashMap<u32, u32>,
    /// Rows read in full whatever the plan holds.
    others: Vec<i64>,
}

/// Everything a lookup needs of one row but its key's text, together: a
/// million lookups in plan order land at random rows, and each list
/// apart (ids, key ends, hashes) was another cache miss.
#[derive(Debug)]
struct IndexedRow {
    id: i64,
    /// Where the key is in `keys`.
    key_start: u32,
    key_len: u32,
    hash: [u8; 32],
}

/// A store's accounts and secrets as read ahead.
#[derive(Debug, Default)]
pub struct ReadAhead {
    pub accounts: IndexedRows,
    pub secrets: IndexedRows,
}

/// What [`IndexedRows::settle`] decided for one table: the intact items
/// (in plan order) and the ids of the rows to read in full (ascending).
#[derive(Debug, Default)]
pub struct Settled {
    pub intact: Vec<IntactItem>,
    pub read_in_full: Vec<i64>,
}

fn key_hash(key: &str) -> u32 {
    let h = FxBuildHasher.hash_one(key);
    // The high bits are the well-mixed ones of an Fx hash.
    (h >> 32) as u32
}

/// `sha256:` + 64 lowercase hex digits as bytes; anything else `None`
/// (such a stored hash can never equal a planned one, which is always in
/// this form, so its row is compared in full).
fn digest(hash: &str) -> Option<[u8; 32]> {
    let hex = hash.strip_prefix(PREFIX)?.as_bytes();
    if hex.len() != 64 {
        return None;
    }
    let nibble = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    let mut out = [0u8; 32];
    for (byte, pair) in out.iter_mut().zip(hex.chunks_exact(2)) {
        if let [hi, lo] = pair {
            *byte = (nibble(*hi)? << 4) | nibble(*lo)?;
        }
    }
    Some(out)
}

impl IndexedRows {
    /// Room for `rows` rows (most of them intact), so a million are not
    /// copied over and over as the lists grow.
    pub fn with_capacity(rows: usize) -> IndexedRows {
        IndexedRows {
            rows: Vec::with_capacity(rows),
            by_key: FxHashMap::with_capacity_and_hasher(rows, FxBuildHasher),
            ..IndexedRows::default()
        }
    }

    /// Adds a stored row, in the store's order.
    pub fn push(&mut self, id: i64, key: Option<&str>, hash: Option<&str>, intact: bool) {
        let (true, Some(key), Some(hash)) = (intact, key, hash.and_then(digest)) else {
            self.others.push(id);
            return;
        };
        let (Ok(key_start), Ok(key_len), Ok(at)) = (
            u32::try_from(self.keys.len()),
            u32::try_from(key.len()),
            u32::try_from(self.rows.len()),
        ) else {
            self.others.push(id);
            return;
        };
        if key_start.checked_add(key_len).is_none() {
            self.others.push(id);
            return;
        }
        match self.by_key.entry(key_hash(key)) {
            std::collections::hash_map::Entry::Occupied(_) => {
                self.others.push(id);
                return;
            }
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(at);
            }
        }
        self.keys.push_str(key);
        self.rows.push(IndexedRow {
            id,
            key_start,
            key_len,
            hash,
        });
    }

    /// Whether the store vouches that the row under `key` holds what the
    /// importer wrote and that its hash is `hash`: how the diff pairs
    /// entries the source tells apart only by content
    /// ([`crate::diff::fingerprints`]).
    pub fn holds(&self, key: &str, hash: &str) -> bool {
        self.find(key, hash).is_some_and(|(_, _, same)| same)
    }

    /// The intact row stored under `key`: its position, its id, and
    /// whether its hash is `hash`.
    fn find(&self, key: &str, hash: &str) -> Option<(u32, i64, bool)> {
        let at = *self.by_key.get(&key_hash(key))?;
        let row = self.rows.get(at as usize)?;
        let start = row.key_start as usize;
        let stored = self.keys.get(start..start + row.key_len as usize)?;
        (stored == key).then(|| (at, row.id, digest(hash).as_ref() == Some(&row.hash)))
    }

    /// Decides which rows are intact given the planned items' keys and
    /// hashes (in plan order), as `load_items` decides it: a row is intact
    /// when the store vouches for it and the hash planned for its key (the
    /// last planned one, should a key be planned twice) is its stored hash.
    /// The intact items come in plan order: each is made while its planned
    /// key is at hand (a million keys looked up again in the store's order
    /// would be a million cache misses).
    pub fn settle(self, planned: &[(&ImportKey, &str)]) -> Settled {
        use rayon::prelude::*;
        let found: Vec<Option<(u32, i64, bool)>> = planned
            .par_iter()
            .with_min_len(1024)
            .map(|(key, hash)| self.find(key.as_str(), hash))
            .collect();
        // Per row, the planned item that decides it and whether it is intact.
        let mut decider = vec![u32::MAX; self.rows.len()];
        let mut intact = vec![false; self.rows.len()];
        for (i, found) in found.iter().enumerate() {
            if let (Some((at, _, same)), Ok(i)) = (found, u32::try_from(i)) {
                if let (Some(d), Some(t)) = (decider.get_mut(*at as usize), intact.get_mut(*at as usize)) {
                    *d = i;
                    *t = *same;
                }
            }
        }
        let items: Vec<IntactItem> = planned
            .par_iter()
            .zip(found)
            .enumerate()
            .with_min_len(1024)
            .filter_map(|(i, ((key, _), found))| {
                let (at, id, same) = found?;
                let decides = decider
                    .get(at as usize)
                    .is_some_and(|d| u32::try_from(i).is_ok_and(|i| i == *d));
                (same && decides).then(|| IntactItem {
                    id,
                    import_key: (*key).clone(),
                })
            })
            .collect();
        let mut read_in_full = self.others;
        read_in_full.extend(self.rows.iter().zip(intact).filter(|(_, t)| !t).map(|(row, _)| row.id));
        read_in_full.sort_unstable();
        Settled {
            intact: items,
            read_in_full,
        }
    }

    /// Rows read ahead, intact or not.
    pub fn len(&self) -> usize {
        self.rows.len() + self.others.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash(n: u8) -> String {
        format!("{PREFIX}{}", hex::encode([n; 32]))
    }

    #[test]
    fn only_vouched_rows_whose_stored_hash_is_planned_for_their_key_are_intact() {
        let mut rows = IndexedRows::default();
        rows.push(1, Some("account:lp:1"), Some(&hash(1)), true);
        rows.push(2, Some("account:lp:2"), Some(&hash(2)), true);
        rows.push(3, Some("account:lp:3"), Some(&hash(3)), false);
        rows.push(4, Some("account:lp:4"), Some("sha256:not-hex"), true);
        rows.push(5, Some("account:lp:5"), Some(&hash(5).to_uppercase()), true);
        rows.push(6, None, None, true);
        rows.push(7, Some("account:lp:gone"), Some(&hash(7)), true);
        rows.push(8, Some("account:lp:8"), Some(&hash(8)), true);
        let keys: Vec<ImportKey> = (1..=8).map(|n| ImportKey::new(format!("account:lp:{n}"))).collect();
        let (h1, h2, h3, h4, h5, h8) = (hash(1), hash(9), hash(3), hash(4), hash(5), hash(8));
        let planned: Vec<(&ImportKey, &str)> = vec![
            (&keys[0], &h1),
            // Planned with another hash: the source changed.
            (&keys[1], &h2),
            (&keys[2], &h3),
            (&keys[3], &h4),
            (&keys[4], &h5),
            // Planned twice: the last one decides, as a map of planned
            // hashes by key would.
            (&keys[7], &h1),
            (&keys[7], &h8),
        ];
        let settled = rows.settle(&planned);
        let mut intact: Vec<(i64, &str)> = settled.intact.iter().map(|i| (i.id, i.import_key.as_str())).collect();
        intact.sort_unstable();
        assert_eq!(intact, [(1, "account:lp:1"), (8, "account:lp:8")]);
        assert_eq!(settled.read_in_full, [2, 3, 4, 5, 6, 7]);
    }

    #[test]
    fn a_key_hash_taken_already_sends_the_row_to_a_full_read() {
        let mut rows = IndexedRows::default();
        rows.push(1, Some("k"), Some(&hash(1)), true);
        // The same key again stands in for a colliding one.
        rows.push(2, Some("k"), Some(&hash(1)), true);
        let key = ImportKey::new("k");
        let h = hash(1);
        let settled = rows.settle(&[(&key, h.as_str())]);
        assert_eq!(settled.intact.len(), 1);
        assert_eq!(settled.read_in_full, [2]);
    }
}
