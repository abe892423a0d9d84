//! The order items and grants are written in: import-key order within each
//! kind, so a batch's inserts into a table's import-key index land next to
//! each other and dirty a run of adjacent pages instead of one random page
//! per object (on a million items, most of what a commit would write).

use rayon::prelude::*;

use crate::diff::{Change, ObjectKind};

/// Sorts `changes` by kind, then import key.
///
/// A phase's keys share a long prefix ("account:lastpass:fp:"), and
/// comparing whole keys went to memory for both strings at every step: the
/// million-item sort held the writes back by a second. Each change is
/// sorted with the 16 bytes after its kind's shared prefix beside it, so
/// comparisons stay in cache; equal bytes fall back to the whole key, so
/// the order is exactly the keys' order.
pub fn by_kind_and_key(changes: &mut [&Change]) {
    let mut shared: Vec<(ObjectKind, &str, usize)> = Vec::new();
    for c in changes.iter() {
        let key = c.key.as_str();
        match shared.iter_mut().find(|(kind, _, _)| *kind == c.kind) {
            Some((_, first, len)) => *len = common_prefix(&first.as_bytes()[..*len], key.as_bytes()),
            None => shared.push((c.kind, key, key.len())),
        }
    }
    let skip = |kind: ObjectKind| shared.iter().find(|(k, _, _)| *k == kind).map_or(0, |(_, _, n)| *n);
    let mut keyed: Vec<(ObjectKind, u128, &Change)> = changes
        .par_iter()
        .map(|c| (c.kind, leading(&c.key.as_str().as_bytes()[skip(c.kind)..]), *c))
        .collect();
    keyed.par_sort_unstable_by(|a, b| {
        (a.0, a.1)
            .cmp(&(b.0, b.1))
            .then_with(|| a.2.key.as_str().cmp(b.2.key.as_str()))
    });
    for (slot, (_, _, c)) in changes.iter_mut().zip(keyed) {
        *slot = c;
    }
}

fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

/// The first 16 bytes, big-endian, zero-padded: ordered as the bytes are
/// (keys hold no NUL, so a shorter key still sorts before its extensions).
fn leading(bytes: &[u8]) -> u128 {
    let mut buf = [0u8; 16];
    let n = bytes.len().min(16);
    buf[..n].copy_from_slice(&bytes[..n]);
    u128::from_be_bytes(buf)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::Action;
    use crate::workspace::ImportKey;

    fn change(kind: ObjectKind, key: &str) -> Change {
        Change {
            kind,
            key: ImportKey::new(key),
            label: key.to_owned(),
            action: Action::Create,
            changes: Vec::new(),
            reason: None,
            existing: None,
            hash: None,
        }
    }

    #[test]
    fn orders_by_kind_then_exactly_by_key() {
        let keys = [
            (ObjectKind::Secret, "secret:lastpass:fp:ab"),
            (ObjectKind::Account, "account:lastpass:fp:00003b851ab676d04a98ebe7zz"),
            (ObjectKind::Account, "account:lastpass:fp:00003b851ab676d04a98ebe7"),
            (ObjectKind::Account, "account:lastpass:fp:00003b851ab676d04a98ebe7a"),
            (ObjectKind::Account, "account:lastpass:fp:f0"),
            (ObjectKind::Account, "account:lastpass:fp:00003b851ab676d04a98ebe6ff"),
            (ObjectKind::Secret, "secret:lastpass:fp:aa"),
            (ObjectKind::Account, "account:1password:v1:zz"),
            (ObjectKind::Account, "account:lastpass:fp:0"),
        ];
        let owned: Vec<Change> = keys.iter().map(|(k, key)| change(*k, key)).collect();
        let mut changes: Vec<&Change> = owned.iter().collect();
        by_kind_and_key(&mut changes);
        let got: Vec<(ObjectKind, &str)> = changes.iter().map(|c| (c.kind, c.key.as_str())).collect();
        let mut want: Vec<(ObjectKind, &str)> = keys.to_vec();
        want.sort();
        assert_eq!(got, want);
    }

    #[test]
    fn keys_equal_after_the_shared_prefix_for_16_bytes_still_sort_exactly() {
        // The shared prefix is "grant:", and the 16 bytes after it are the
        // same for all but one key: the order comes from the whole keys.
        let owned: Vec<Change> = (0..200)
            .rev()
            .map(|i| {
                change(
                    ObjectKind::Grant,
                    &format!("grant:account:lastpass:fp:0123456789abcdef{i:03}"),
                )
            })
            .chain([change(ObjectKind::Grant, "grant:secret:lastpass:fp:01")])
            .collect();
        let mut changes: Vec<&Change> = owned.iter().collect();
        by_kind_and_key(&mut changes);
        assert!(changes.windows(2).all(|w| w[0].key.as_str() < w[1].key.as_str()));
    }
}
