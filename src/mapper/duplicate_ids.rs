//! Source ids met more than once in one export.
//!
//! A LastPass `id` in two different rows, or a 1Password uuid in two
//! records or two vaults, would give two entries one import key: one of
//! them would never be written and nothing would say so. The mapper asks
//! here how many times an id has been planned so far; from the second time
//! the item's key gets `#n`, so every entry lands under a key of its own,
//! and the same file planned again gives the same keys (entries are planned
//! in file order).
//!
//! Every id is remembered, so the set must be cheap at a million entries:
//! the ids' text back to back in one string, found through a map from the
//! id's hash to its first index and a chain of indices sharing a hash (no
//! allocation per entry; a hash shared by two different ids is told apart
//! by the text).

use std::hash::BuildHasher;

use rustc_hash::{FxBuildHasher, FxHashMap};

/// No further id shares this hash.
const END: u32 = u32::MAX;

#[derive(Default)]
pub(crate) struct SourceIds {
    text: String,
    ends: Vec<usize>,
    /// Index of the next id with the same hash, or [`END`].
    next: Vec<u32>,
    /// Line of each id's first entry (0: none known).
    first_line: Vec<u32>,
    by_hash: FxHashMap<u64, u32>,
    /// Occurrences so far of the ids met more than once, by index.
    repeats: FxHashMap<u32, u32>,
}

/// The answer for one entry's id.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Seen {
    First,
    /// The `n`th entry (2 and up) with this id; `first_line` is the first
    /// one's line when it has one.
    Again {
        n: u32,
        first_line: Option<u64>,
    },
}

impl SourceIds {
    fn get(&self, i: u32) -> Option<&str> {
        let i = usize::try_from(i).ok()?;
        let start = match i.checked_sub(1) {
            Some(before) => *self.ends.get(before)?,
            None => 0,
        };
        self.text.get(start..*self.ends.get(i)?)
    }

    /// Notes one planned entry's id (with its line) and says whether it
    /// was met before.
    pub fn see(&mut self, id: &str, line: Option<u64>) -> Seen {
        let hash = FxBuildHasher.hash_one(id);
        let mut at = self.by_hash.get(&hash).copied().unwrap_or(END);
        let mut last = END;
        while at != END {
            if self.get(at) == Some(id) {
                let n = self.repeats.entry(at).or_insert(1);
                *n += 1;
                let first_line = self
                    .first_line
                    .get(at as usize)
                    .copied()
                    .filter(|&l| l > 0)
                    .map(u64::from);
                return Seen::Again { n: *n, first_line };
            }
            last = at;
            at = self.next.get(at as usize).copied().unwrap_or(END);
        }
        let Ok(index) = u32::try_from(self.ends.len()) else {
            // Four billion ids: past any export the readers accept.
            return Seen::First;
        };
        self.text.push_str(id);
        self.ends.push(self.text.len());
        self.next.push(END);
        self.first_line
            .push(line.and_then(|l| u32::try_from(l).ok()).unwrap_or(0));
        match self.next.get_mut(last as usize) {
            Some(slot) if last != END => *slot = index,
            _ => {
                self.by_hash.insert(hash, index);
            }
        }
        Seen::First
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeats_are_counted_per_id_with_the_first_line() {
        let mut ids = SourceIds::default();
        assert_eq!(ids.see("100", Some(2)), Seen::First);
        assert_eq!(ids.see("200", Some(3)), Seen::First);
        assert_eq!(
            ids.see("100", Some(4)),
            Seen::Again {
                n: 2,
                first_line: Some(2)
            }
        );
        assert_eq!(
            ids.see("100", None),
            Seen::Again {
                n: 3,
                first_line: Some(2)
            }
        );
        assert_eq!(
            ids.see("200", None),
            Seen::Again {
                n: 2,
                first_line: Some(3)
            }
        );
        assert_eq!(ids.see("", None), Seen::First);
        assert_eq!(ids.see("", None), Seen::Again { n: 2, first_line: None });
    }

    #[test]
    fn ids_sharing_a_hash_are_told_apart_by_their_text() {
        let mut ids = SourceIds::default();
        // Put two ids in one chain by hand, as a hash collision would.
        assert_eq!(ids.see("a", None), Seen::First);
        ids.text.push('b');
        ids.ends.push(ids.text.len());
        ids.next.push(END);
        ids.first_line.push(7);
        ids.next[0] = 1;
        ids.by_hash.insert(FxBuildHasher.hash_one("b"), 0);
        assert_eq!(ids.by_hash.len(), 2);
        assert_eq!(
            ids.see("b", None),
            Seen::Again {
                n: 2,
                first_line: Some(7)
            }
        );
        assert_eq!(ids.see("a", None), Seen::Again { n: 2, first_line: None });
    }
}
