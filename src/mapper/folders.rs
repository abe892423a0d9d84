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

use crate::workspace::ImportKey;

/// The planned items directly in one folder (by position in the
/// mapper's key list), and its collection's key.
pub(super) struct FolderItems {
    pub collection: Option<ImportKey>,
    pub items: Vec<u32>,
    pub accounts: Vec<u32>,
}

#[derive(Default)]
pub(super) struct FolderSlots {
    /// Path hash → position. A path whose hash another path has already
    /// (not seen in practice, but the lookup must stay exact) goes to
    /// `spill`.
    by_hash: FxHashMap<u64, usize>,
    spill: FxHashMap<Vec<String>, usize>,
    /// Each path as (length, bytes) per part, back to back; path i ends
    /// at `ends[i]`.
    encoded: Vec<u8>,
    ends: Vec<usize>,
    paths: Vec<Vec<String>>,
    slots: Vec<FolderItems>,
}

fn path_hash(path: &[String]) -> u64 {
    FxBuildHasher.hash_one(path)
}

impl FolderSlots {
    /// The folder's items, if any entry was planned in it.
    pub fn get(&self, path: &[String]) -> Option<&FolderItems> {
        self.position(path).and_then(|i| self.slots.get(i))
    }

    /// The folder's items; `new` makes them the first time the folder is
    /// named.
    pub fn get_or_insert_with(
        &mut self,
        path: Vec<String>,
        new: impl FnOnce(&[String]) -> FolderItems,
    ) -> &mut FolderItems {
        let at = match self.position(&path) {
            Some(at) => at,
            None => self.insert(path, new),
        };
        // `at` is a position in `slots`: `position` only finds, and
        // `insert` only returns, positions of slots already pushed.
        &mut self.slots[at]
    }

    /// Every folder with planned items, in the order first named.
    pub fn iter(&self) -> impl Iterator<Item = (&Vec<String>, &FolderItems)> {
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

    fn insert(&mut self, path: Vec<String>, new: impl FnOnce(&[String]) -> FolderItems) -> usize {
        let at = self.slots.len();
        let slot = new(&path);
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
        self.slots.push(slot);
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

    fn empty(_: &[String]) -> FolderItems {
        FolderItems {
            collection: None,
            items: Vec::new(),
            accounts: Vec::new(),
        }
    }

    /// Paths that join to the same text, the root, and a path and its
    /// prefix are all told apart; each keeps its own items.
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
            slots.get_or_insert_with(p.clone(), empty).items.push(i as u32);
        }
        for (i, p) in paths.iter().enumerate() {
            slots.get_or_insert_with(p.clone(), empty).items.push(i as u32 + 100);
        }
        for (i, p) in paths.iter().enumerate() {
            let got = slots.get(p).map(|s| s.items.clone());
            assert_eq!(got, Some(vec![i as u32, i as u32 + 100]), "{p:?}");
        }
        assert!(slots.get(&path(&["Ops", "Missing"])).is_none());
        let order: Vec<&Vec<String>> = slots.iter().map(|(p, _)| p).collect();
        assert_eq!(order, paths.iter().collect::<Vec<_>>(), "in the order first named");
    }

    /// A path whose hash is taken is still found, and only by itself.
    #[test]
    fn a_path_whose_hash_is_taken_is_found_exactly() {
        let mut slots = FolderSlots::default();
        slots.get_or_insert_with(path(&["Finance"]), empty).items.push(1);
        // Stand in for a colliding path: its hash points at "Finance".
        let other = path(&["Legal"]);
        let finance_at = slots.position(&path(&["Finance"])).unwrap();
        slots.by_hash.insert(path_hash(&other), finance_at);
        assert!(slots.get(&other).is_none(), "the probe checks the stored path");
        slots.get_or_insert_with(other.clone(), empty).items.push(2);
        assert_eq!(slots.get(&other).map(|s| s.items.clone()), Some(vec![2]));
        assert_eq!(slots.get(&path(&["Finance"])).map(|s| s.items.clone()), Some(vec![1]));
    }
}
