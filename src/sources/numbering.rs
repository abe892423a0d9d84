//! Duplicate numbering for a read taken a chunk at a time.
//!
//! Every entry without a source id is looked up by its digest among all
//! the digests seen before it. On a million-entry export those are tens
//! of megabytes, and each lookup lands on a random place in them: a miss
//! to memory. In a hash map that was two dependent misses per entry
//! (control bytes, then the bucket), ~0.6 s of the mapping thread's 3 s
//! on the 1M benchmark, and the part of `plan` that grew faster than the
//! export (a tenth of the entries, a fifteenth of the time). Here the
//! digest, already a uniform hash, is the slot's position, and the slots
//! of the entries a few places ahead are prefetched, so that their misses
//! overlap instead of following one another.

use super::{fingerprint_digest, fingerprint_text, Digest, Entry};

/// [`super::assign_fingerprints`] a chunk at a time: each digest's
/// occurrences so far are remembered, so the `#2` of a duplicate is the
/// same whichever chunk its first occurrence was in.
#[derive(Default)]
pub struct Numbering {
    counts: DigestCounts,
    /// Room made at the first entry without an id (exports with ids need
    /// none): growing a table of a million digests as it doubles rehashes
    /// every digest each time.
    expected: usize,
}

/// How many entries ahead a lookup's slot is prefetched: enough to cover
/// a miss to memory (~100 ns) with the few tens of nanoseconds each entry
/// takes once its slot is in the cache.
const AHEAD: usize = 8;

impl Numbering {
    /// For the chunks of the export at `path`.
    pub fn for_export(path: &std::path::Path) -> Numbering {
        Numbering {
            expected: super::entries_expected(path),
            ..Numbering::default()
        }
    }

    /// Ids for the next chunk's entries without one.
    pub fn assign(&mut self, entries: &mut [Entry]) {
        // On the caller's thread: a pipelined read calls this from its
        // mapping thread, which waited longer for the shared pool than
        // the digests take.
        let digests: Vec<Option<Digest>> = entries
            .iter()
            .map(|e| e.source_id.is_empty().then(|| fingerprint_digest(e)))
            .collect();
        let new = digests.iter().flatten().count();
        if new == 0 {
            return;
        }
        self.counts.make_room(new, std::mem::take(&mut self.expected));
        for digest in digests.iter().take(AHEAD).flatten() {
            self.counts.prefetch(digest);
        }
        for (i, (entry, digest)) in entries.iter_mut().zip(&digests).enumerate() {
            if let Some(Some(ahead)) = digests.get(i + AHEAD) {
                self.counts.prefetch(ahead);
            }
            if let Some(digest) = digest {
                let n = self.counts.bump(digest);
                entry.source_id = fingerprint_text(digest, n);
            }
        }
    }
}

/// Occurrences so far of each digest: an open-addressing table with
/// linear probing, at most three quarters full. A slot is the digest's
/// three words and its count; a count of 0 marks a free slot. Four slots
/// fill a cache line, so a probe past the first slot rarely costs another
/// miss.
#[derive(Default)]
struct DigestCounts {
    slots: Vec<[u32; 4]>,
    len: usize,
}

fn words(digest: &Digest) -> [u32; 3] {
    let mut out = [0u32; 3];
    for (word, bytes) in out.iter_mut().zip(digest.chunks_exact(4)) {
        let mut b = [0u8; 4];
        b.copy_from_slice(bytes);
        *word = u32::from_le_bytes(b);
    }
    out
}

impl DigestCounts {
    /// The first slot to probe: the digest's low bits (it is a SHA-256
    /// prefix, spread evenly already).
    fn home(&self, digest: &Digest) -> usize {
        let [a, b, _] = words(digest);
        let wide = u64::from(a) | (u64::from(b) << 32);
        // The table's length is a power of two; truncating to usize keeps
        // the low bits the mask needs.
        (wide as usize) & self.slots.len().wrapping_sub(1)
    }

    /// Room for `more` digests without growing mid-chunk (prefetched
    /// positions stay valid): at least `hint` the first time.
    fn make_room(&mut self, more: usize, hint: usize) {
        let needed = self.len.saturating_add(more);
        if needed.saturating_mul(4) <= self.slots.len().saturating_mul(3) {
            return;
        }
        let slots_for = |n: usize| n.saturating_mul(4).div_ceil(3).max(16).next_power_of_two();
        let mut size = slots_for(needed.max(hint));
        let mut slots: Vec<[u32; 4]> = Vec::new();
        // A hint too large to allocate (strict overcommit) only means
        // growing later, as a hint too small does.
        if slots.try_reserve_exact(size).is_err() {
            size = slots_for(needed);
            slots.reserve_exact(size);
        }
        slots.resize(size, [0; 4]);
        let old = std::mem::replace(&mut self.slots, slots);
        self.len = 0;
        for slot in old.into_iter().filter(|s| s[3] != 0) {
            self.place(slot);
        }
    }

    /// Puts a slot taken from a smaller table in its place in this one.
    fn place(&mut self, slot: [u32; 4]) {
        let mut digest = Digest::default();
        for (bytes, word) in digest.chunks_exact_mut(4).zip(&slot) {
            bytes.copy_from_slice(&word.to_le_bytes());
        }
        let mask = self.slots.len().wrapping_sub(1);
        let mut i = self.home(&digest);
        while let Some(free) = self.slots.get_mut(i) {
            if free[3] == 0 {
                *free = slot;
                self.len += 1;
                return;
            }
            i = (i + 1) & mask;
        }
    }

    /// The digest's occurrence number, counting this one (1 the first
    /// time). `make_room` has left a free slot.
    fn bump(&mut self, digest: &Digest) -> u32 {
        let [a, b, c] = words(digest);
        let mask = self.slots.len().wrapping_sub(1);
        let mut i = self.home(digest);
        while let Some(slot) = self.slots.get_mut(i) {
            if slot[3] == 0 {
                *slot = [a, b, c, 1];
                self.len += 1;
                return 1;
            }
            if slot[..3] == [a, b, c] {
                slot[3] = slot[3].saturating_add(1);
                return slot[3];
            }
            i = (i + 1) & mask;
        }
        // Only with no table at all, which `make_room` prevents.
        1
    }

    /// Asks the processor to start loading the digest's first slot.
    fn prefetch(&self, digest: &Digest) {
        #[cfg(target_arch = "x86_64")]
        if let Some(slot) = self.slots.get(self.home(digest)) {
            use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
            // SAFETY: a prefetch is a hint to the cache: it reads and
            // writes no memory and never faults, whatever the address
            // (here a slot of the table). x86-64 always has SSE.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(std::ptr::from_ref(slot).cast()) }
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = digest;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn digest(n: u64, tail: u32) -> Digest {
        let mut d = Digest::default();
        d[..8].copy_from_slice(&n.to_le_bytes());
        d[8..].copy_from_slice(&tail.to_le_bytes());
        d
    }

    /// Feeds the digests a chunk at a time, as `assign` does, and checks
    /// each occurrence number against a plain map's count.
    fn check(digests: &[Digest], chunk: usize, hint: usize) {
        let mut counts = DigestCounts::default();
        let mut expected: HashMap<Digest, u32> = HashMap::new();
        for (k, part) in digests.chunks(chunk).enumerate() {
            counts.make_room(part.len(), if k == 0 { hint } else { 0 });
            for d in part {
                counts.prefetch(d);
                let want = expected.entry(*d).or_insert(0);
                *want += 1;
                assert_eq!(counts.bump(d), *want, "digest {d:?}");
            }
        }
        assert_eq!(counts.len, expected.len());
        assert!(
            counts.len * 4 <= counts.slots.len() * 3,
            "the table stays at most 3/4 full"
        );
    }

    #[test]
    fn occurrence_numbers_survive_the_table_growing_between_chunks() {
        // Every fifth digest repeats an earlier one, some many times.
        let digests: Vec<Digest> = (0..20_000u64)
            .map(|i| {
                if i % 5 == 4 {
                    digest((i * 7919) % (i / 2 + 1), 0)
                } else {
                    digest(i.wrapping_mul(0x9e37_79b9_7f4a_7c15), 1)
                }
            })
            .collect();
        for chunk in [1, 7, 2048, 20_000] {
            check(&digests, chunk, 0);
        }
        check(&digests, 2048, 50_000);
    }

    #[test]
    fn digests_that_share_a_first_slot_are_told_apart_and_probing_wraps_around() {
        // A 16-slot table: the home is the low four bits. All of these
        // start at the last slot, so probing wraps to the first; they
        // differ only past the bits that pick the slot, or only in the
        // last word.
        let digests: Vec<Digest> = [(15, 0), (31, 0), (15, 1), (47, 0), (15, 0), (31, 0), (15, 2), (15, 1)]
            .into_iter()
            .map(|(n, tail)| digest(n, tail))
            .collect();
        let mut counts = DigestCounts::default();
        counts.make_room(digests.len(), 0);
        assert_eq!(counts.slots.len(), 16);
        let numbers: Vec<u32> = digests.iter().map(|d| counts.bump(d)).collect();
        assert_eq!(numbers, [1, 1, 1, 1, 2, 2, 1, 2]);
        // The second digest found slot 15 taken and wrapped to slot 0.
        assert_eq!(counts.slots.first(), Some(&[31, 0, 0, 2]), "probing wrapped to slot 0");
    }
}
