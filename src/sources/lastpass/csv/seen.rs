//! The `grouping` values whose folders the builder has added, each with
//! its folder path, which every entry of the folder shares.
//!
//! Looked up once per row. A set of `String`s compared each probe with a
//! string somewhere on the heap; with a few thousand folders in a
//! million-row export those misses cost the reading thread a fifth of a
//! second, more than ten times what a tenth of the export cost. Here a
//! probe reads a small table of hashes and one copy of the values, back
//! to back.

use std::hash::BuildHasher;

use rustc_hash::{FxBuildHasher, FxHashMap};

use crate::model::FolderPath;

#[derive(Debug, Default)]
pub(super) struct Seen {
    /// Value hash → index into `ends`. A value whose hash another value
    /// has already (not seen in practice; the set must stay exact) goes
    /// to `spill`.
    by_hash: FxHashMap<u64, usize>,
    spill: FxHashMap<String, FolderPath>,
    /// The values back to back; value i ends at `ends[i]`.
    text: String,
    ends: Vec<usize>,
    paths: Vec<FolderPath>,
}

impl Seen {
    pub fn contains(&self, value: &str) -> bool {
        self.get(value).is_some()
    }

    /// The folder path of a value seen before.
    pub fn get(&self, value: &str) -> Option<&FolderPath> {
        if let Some(&at) = self.by_hash.get(&FxBuildHasher.hash_one(value)) {
            if self.value(at) == Some(value) {
                return self.paths.get(at);
            }
        }
        if self.spill.is_empty() {
            return None;
        }
        self.spill.get(value)
    }

    /// Notes a value and its folder path; a value seen before keeps its
    /// first path.
    pub fn insert(&mut self, value: String, path: FolderPath) {
        if self.contains(&value) {
            return;
        }
        match self.by_hash.entry(FxBuildHasher.hash_one(value.as_str())) {
            std::collections::hash_map::Entry::Vacant(free) => {
                free.insert(self.ends.len());
                self.text.push_str(&value);
                self.ends.push(self.text.len());
                self.paths.push(path);
            }
            std::collections::hash_map::Entry::Occupied(_) => {
                self.spill.insert(value, path);
            }
        }
    }

    fn value(&self, at: usize) -> Option<&str> {
        let start = match at.checked_sub(1) {
            Some(before) => *self.ends.get(before)?,
            None => 0,
        };
        self.text.get(start..*self.ends.get(at)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(v: &str) -> FolderPath {
        v.split('\\').map(str::to_owned).collect()
    }

    #[test]
    fn holds_exactly_what_was_inserted() {
        let mut seen = Seen::default();
        for v in ["Ops", "Ops\\DB", "", "Büro Köln\\開発", "OpsDB"] {
            assert!(!seen.contains(v), "{v:?} before");
            seen.insert(v.to_owned(), path(v));
            seen.insert(v.to_owned(), path("another"));
            assert!(seen.contains(v), "{v:?} after");
            assert_eq!(seen.get(v), Some(&path(v)), "the first path is kept");
        }
        for v in ["Op", "Ops\\", "DB", "ops"] {
            assert!(!seen.contains(v), "{v:?} was never inserted");
        }
        assert_eq!(seen.ends.len(), 5, "each value once");
    }

    /// A value whose hash is taken is still held, and only by itself.
    #[test]
    fn a_value_whose_hash_is_taken_is_held_exactly() {
        let mut seen = Seen::default();
        seen.insert("Finance".to_owned(), path("Finance"));
        // Stand in for a colliding value: its hash points at "Finance".
        seen.by_hash.insert(FxBuildHasher.hash_one("Legal"), 0);
        assert!(!seen.contains("Legal"), "the probe checks the stored value");
        seen.insert("Legal".to_owned(), path("Legal"));
        assert_eq!(seen.get("Legal"), Some(&path("Legal")));
        assert_eq!(seen.get("Finance"), Some(&path("Finance")));
    }
}
