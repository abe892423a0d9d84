//! The planned items of each folder, found by the folder's path.
//!
//! Every entry looks its folder up here. In a map keyed by the path's
//! strings, each probe compared the stored key's strings, scattered over
//! the heap: on a million-entry export with a few thousand folders that
//! cost more than the rest of mapping an entry, and grew faster than the
//! export (a tenth of the entries, a fiftieth of the time). Here a probe
//! reads a small table of path hashes and one contiguous copy of the path.

use std::hash::BuildHasher;

use rustc_hash::{FxBuildHasher, FxHashMap};

use crate::model::FolderPath;
use crate::workspace::ImportKey;

/// The planned items directly in one folder, by position in the mapper's
/// key list.
#[derive(Default)]
pub(super) struct FolderItems {
    pub items: Vec<u32>,
    pub accounts: Vec<u32>,
}

/// Marks an account among the positions in `placed`.
const ACCOUNT: u32 = 1 << 31;

#[derive(Default)]
pub(super) struct FolderSlots {
    /// Path hash → position. A path whose hash another path has already
    /// (not seen in practice, but the lookup must stay exact) goes to
    /// `spill`.
    by_hash: FxHashMap<u64, usize>,
    spill: FxHashMap<Vec<String>, usize>,
    /// Position by the address of a path that entries share (one per
    /// folder from the LastPass reader): the common case is one small
    /// lookup, without reading the path. Each address's path is kept in
    /// `held`, so the address cannot be freed and reused for another.
    by_address: FxHashMap<usize, usize>,
    held: Vec<FolderPath>,
    /// Each path as (length, bytes) per part, back to back; path i ends
    /// at `ends[i]`.
    encoded: Vec<u8>,
    ends: Vec<usize>,
    paths: Vec<Vec<String>>,
    /// Each folder's collection key, by position: read for every entry,
    /// so kept apart, a few bytes per folder that stay in the cache.
    collections: Vec<Option<ImportKey>>,
    /// Each planned item's folder and its own position (with `ACCOUNT`),
    /// in the order planned. Appending here and handing the positions to
    /// the folders' lists once, in [`FolderSlots::settle`], replaced a
    /// push per entry onto one of thousands of lists, each a cache miss
    /// (with the lookup's, most of the mapper's time per entry on a
    /// million-entry export).
    placed: Vec<(u32, u32)>,
    /// Filled by `settle`.
    slots: Vec<FolderItems>,
}

fn path_hash(path: &[String]) -> u64 {
    FxBuildHasher.hash_one(path)
}

impl FolderSlots {
    /// Notes the planned item at position `at` (an account or not) in the
    /// folder at `path`, and gives the folder's collection key; `new` makes
    /// it the first time the folder is named.
    pub fn place(
        &mut self,
        path: FolderPath,
        at: u32,
        account: bool,
        new: impl FnOnce(&[String]) -> Option<ImportKey>,
    ) -> Option<ImportKey> {
        // A remembered address is that path's: `held` keeps it alive.
        let address = path.address();
        let known = address.and_then(|a| self.by_address.get(&a).copied());
        let slot = match known {
            Some(slot) => slot,
            None => {
                let slot = match self.position(&path) {
                    Some(slot) => slot,
                    None => self.insert(path.to_vec(), new),
                };
                // Only a path someone else holds may come again; a reader
                // that makes a path per entry would fill the map otherwise.
                if let Some(a) = address.filter(|_| path.is_shared()) {
                    self.by_address.insert(a, slot);
                    self.held.push(path);
                }
                slot
            }
        };
        // Positions past 2^31 items cannot be marked; the mapper's key
        // list stops far below that (u32 positions, memory).
        let marked = if account { at | ACCOUNT } else { at & !ACCOUNT };
        self.placed.push((u32::try_from(slot).unwrap_or(u32::MAX), marked));
        self.collections.get(slot).cloned().flatten()
    }

    /// Hands every placed item to its folder's lists, in the order placed.
    /// Call once every entry is in, before `get` and `iter`.
    pub fn settle(&mut self) {
        self.slots.resize_with(self.paths.len(), FolderItems::default);
        let mut counts = vec![(0usize, 0usize); self.slots.len()];
        for &(slot, marked) in &self.placed {
            if let Some(n) = usize::try_from(slot).ok().and_then(|i| counts.get_mut(i)) {
                n.0 += 1;
                n.1 += usize::from(marked & ACCOUNT != 0);
            }
        }
        for (folder, (items, accounts)) in self.slots.iter_mut().zip(counts) {
            folder.items.reserve_exact(items);
            folder.accounts.reserve_exact(accounts);
        }
        for (slot, marked) in std::mem::take(&mut self.placed) {
            let Some(folder) = usize::try_from(slot).ok().and_then(|i| self.slots.get_mut(i)) else {
                continue;
            };
            folder.items.push(marked & !ACCOUNT);
            if marked & ACCOUNT != 0 {
                folder.accounts.push(marked & !ACCOUNT);
            }
        }
    }

    /// The folder's items, if any entry was planned in it (once settled).
    pub fn get(&self, path: &[String]) -> Option<&FolderItems> {
        debug_assert!(self.placed.is_empty(), "FolderSlots::settle first");
        self.position(path).and_then(|i| self.slots.get(i))
    }

    /// Every folder with planned items, in the order first named (once
    /// settled).
    pub fn iter(&self) -> impl Iterator<Item = (&Vec<String>, &FolderItems)> {
        debug_assert!(self.placed.is_empty(), "FolderSlots::settle first");
        self.paths.iter().zip(&self.slots)
    }

    fn position(&self, path: &[String]) -> Option<usize> {
        if let Some(&at) = self.by_hash.get(&path_hash(path)) {
            if self.holds(at, path) {
                return Some(at);
            }
        }
        if self.spill.is_empty() {
            return None;
        }
        self.spill.get(path).copied()
    }

    fn insert(&mut self, path: Vec<String>, new: impl FnOnce(&[String]) -> Option<ImportKey>) -> usize {
        let at = self.paths.len();
        let collection = new(&path);
        match self.by_hash.entry(path_hash(&path)) {
            std::collections::hash_map::Entry::Vacant(free) => {
                free.insert(at);
            }
            std::collections::hash_map::Entry::Occupied(_) => {
                self.spill.insert(path.clone(), at);
            }
        }
        for part in &path {
            self.encoded.extend_from_slice(&part.len().to_le_bytes());
            self.encoded.extend_from_slice(part.as_bytes());
        }
        self.ends.push(self.encoded.len());
        self.paths.push(path);
        self.collections.push(collection);
        at
    }

    /// Whether the path stored at `at` is `path`.
    fn holds(&self, at: usize, path: &[String]) -> bool {
        let start = match at.checked_sub(1) {
            Some(before) => self.ends.get(before).copied().unwrap_or(usize::MAX),
            None => 0,
        };
        let Some(mut rest) = self.ends.get(at).and_then(|&end| self.encoded.get(start..end)) else {
            return false;
        };
        for part in path {
            let Some((len, tail)) = rest.split_at_checked(std::mem::size_of::<usize>()) else {
                return false;
            };
            if len != part.len().to_le_bytes() {
                return false;
            }
            let Some((bytes, tail)) = tail.split_at_checked(part.len()) else {
                return false;
            };
            if bytes != part.as_bytes() {
                return false;
            }
            rest = tail;
        }
        rest.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(parts: &[&str]) -> Vec<String> {
        parts.iter().map(|p| p.to_string()).collect()
    }

    fn no_collection(_: &[String]) -> Option<ImportKey> {
        None
    }

    /// Paths that join to the same text, the root, and a path and its
    /// prefix are all told apart; each keeps its own items, in the order
    /// placed, accounts listed apart too, and its own collection key.
    #[test]
    fn each_path_finds_its_own_items() {
        let paths = [
            path(&[]),
            path(&["Ops"]),
            path(&["Ops", "DB"]),
            path(&["Ops/DB"]),
            path(&["OpsDB"]),
            path(&["Ops", "DB", ""]),
            path(&["Büro Köln", "開発"]),
        ];
        let mut slots = FolderSlots::default();
        for (i, p) in paths.iter().enumerate() {
            let key = slots.place(p.clone().into(), i as u32, false, |p| Some(ImportKey::new(p.join("|"))));
            assert_eq!(key.as_ref().map(|k| k.as_str().to_owned()), Some(p.join("|")));
        }
        for (i, p) in paths.iter().enumerate() {
            let key = slots.place(p.clone().into(), i as u32 + 100, i % 2 == 0, |_| panic!("made once"));
            assert_eq!(key.as_ref().map(|k| k.as_str().to_owned()), Some(p.join("|")), "{p:?}");
        }
        slots.settle();
        for (i, p) in paths.iter().enumerate() {
            let got = slots.get(p).map(|s| (s.items.clone(), s.accounts.clone()));
            let accounts = if i % 2 == 0 { vec![i as u32 + 100] } else { vec![] };
            assert_eq!(got, Some((vec![i as u32, i as u32 + 100], accounts)), "{p:?}");
        }
        assert!(slots.get(&path(&["Ops", "Missing"])).is_none());
        let order: Vec<&Vec<String>> = slots.iter().map(|(p, _)| p).collect();
        assert_eq!(order, paths.iter().collect::<Vec<_>>(), "in the order first named");
    }

    /// A path whose hash is taken is still found, and only by itself.
    #[test]
    fn a_path_whose_hash_is_taken_is_found_exactly() {
        let mut slots = FolderSlots::default();
        slots.place(path(&["Finance"]).into(), 1, true, no_collection);
        // Stand in for a colliding path: its hash points at "Finance".
        let other = path(&["Legal"]);
        let finance_at = slots.position(&path(&["Finance"])).unwrap();
        slots.by_hash.insert(path_hash(&other), finance_at);
        assert!(slots.position(&other).is_none(), "the probe checks the stored path");
        slots.place(other.clone().into(), 2, false, no_collection);
        slots.settle();
        assert_eq!(slots.get(&other).map(|s| s.items.clone()), Some(vec![2]));
        assert_eq!(
            slots.get(&path(&["Finance"])).map(|s| s.accounts.clone()),
            Some(vec![1])
        );
    }

    /// Entries handing the same shared path are found by its address;
    /// an equal path made apart finds the same folder, another path its own.
    #[test]
    fn shared_paths_find_their_folder_by_address_or_by_content() {
        let mut slots = FolderSlots::default();
        let ops = FolderPath::from(path(&["Ops"]));
        let ops_again = FolderPath::from(path(&["Ops"]));
        let db = FolderPath::from(path(&["Ops", "DB"]));
        let (keep_ops, keep_again, keep_db) = (ops.clone(), ops_again.clone(), db.clone());
        let key = |p: &[String]| Some(ImportKey::new(p.join("/")));
        let first = slots.place(ops.clone(), 0, false, key);
        slots.place(ops.clone(), 1, true, |_| panic!("found by address"));
        slots.place(ops_again.clone(), 2, false, |_| panic!("found by content"));
        slots.place(ops_again, 3, false, |_| panic!("found by address"));
        let other = slots.place(db, 4, false, key);
        slots.place(FolderPath::from(path(&["Ops"])), 5, false, |_| {
            panic!("an unshared path, by content")
        });
        assert_eq!(first.map(|k| k.as_str().to_owned()).as_deref(), Some("Ops"));
        assert_eq!(other.map(|k| k.as_str().to_owned()).as_deref(), Some("Ops/DB"));
        slots.settle();
        assert_eq!(slots.get(&ops).map(|s| s.items.clone()), Some(vec![0, 1, 2, 3, 5]));
        assert_eq!(slots.get(&ops).map(|s| s.accounts.clone()), Some(vec![1]));
        assert_eq!(slots.get(&path(&["Ops", "DB"])).map(|s| s.items.clone()), Some(vec![4]));
        drop((keep_ops, keep_again, keep_db));
    }
}
