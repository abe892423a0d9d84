//! Entries the source tells apart only by content, paired with the
//! workspace by content (bug 11d of issue 19).
//!
//! An entry without a source id is keyed by a fingerprint of its kind,
//! folder, title, username and first URL; entries identical in all of
//! those are numbered `fp:<hex>`, `fp:<hex>#2`… in file order. A re-export
//! that lists them in another order would give each the other's key, and
//! the run would report them all updated (and, had someone edited one,
//! a conflict on the wrong item). So before the comparison, within each
//! such group, an item whose content is what the workspace holds under one
//! of the group's keys takes that key; the rest keep the group's remaining
//! keys in file order. Members of a group share kind and folder, so
//! exchanging their keys changes nothing else the plan says: the same
//! keys sit in the same folder with the same grants.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use crate::mapper::{PlannedAccount, PlannedSecret};
use crate::workspace::read_ahead::{IndexedRows, ReadAhead};
use crate::workspace::ImportKey;

use super::ItemHashes;

/// Pairs the fingerprint groups of both lists with the rows read ahead.
/// Returns how many items took another key of their group.
pub fn pair_with_workspace(
    accounts: &mut [PlannedAccount],
    secrets: &mut [PlannedSecret],
    hashes: &ItemHashes,
    rows: &ReadAhead,
) -> usize {
    let moved_accounts = pair(accounts, &hashes.accounts, &rows.accounts, |a| {
        (&mut a.key, &mut a.source_id)
    });
    let moved_secrets = pair(secrets, &hashes.secrets, &rows.secrets, |s| {
        (&mut s.key, &mut s.source_id)
    });
    moved_accounts + moved_secrets
}

/// `fp:<hex>` of a numbered fingerprint id, or the id itself.
fn group_of(source_id: &str) -> &str {
    source_id.split_once('#').map_or(source_id, |(base, _)| base)
}

fn pair<T>(
    items: &mut [T],
    hashes: &[String],
    rows: &IndexedRows,
    parts: impl Fn(&mut T) -> (&mut ImportKey, &mut String),
) -> usize {
    // Groups are rare: found by their numbered members first, so an export
    // without any costs one look at each id.
    let mut numbered: HashSet<String> = HashSet::default();
    for item in items.iter_mut() {
        let (_, id) = parts(item);
        if id.starts_with("fp:") && id.contains('#') {
            numbered.insert(group_of(id).to_owned());
        }
    }
    if numbered.is_empty() || rows.is_empty() {
        return 0;
    }
    let mut groups: HashMap<String, Vec<usize>> = HashMap::default();
    for (i, item) in items.iter_mut().enumerate() {
        let (_, id) = parts(item);
        let group = group_of(id);
        if id.starts_with("fp:") && numbered.contains(group) {
            groups.entry(group.to_owned()).or_default().push(i);
        }
    }
    let mut moved = 0;
    for members in groups.into_values() {
        let keys: Vec<(ImportKey, String)> = members
            .iter()
            .filter_map(|&i| {
                items.get_mut(i).map(|item| {
                    let (key, id) = parts(item);
                    (key.clone(), id.clone())
                })
            })
            .collect();
        // Item (by place in the group) → the key (by place) it takes.
        let mut taken = vec![false; keys.len()];
        let mut given: Vec<Option<usize>> = vec![None; members.len()];
        for (m, &i) in members.iter().enumerate() {
            let Some(hash) = hashes.get(i) else { continue };
            // Its own key first: an unchanged order moves nothing.
            let own = keys.get(m).is_some_and(|(k, _)| rows.holds(k.as_str(), hash));
            let found = if own {
                Some(m)
            } else {
                (0..keys.len()).find(|&k| {
                    !taken[k]
                        && keys.get(k).is_some_and(|(key, _)| rows.holds(key.as_str(), hash))
                        && !members.get(k).and_then(|&j| hashes.get(j)).is_some_and(|h| {
                            // The key's own item holds it already.
                            keys.get(k).is_some_and(|(key, _)| rows.holds(key.as_str(), h))
                        })
                })
            };
            if let Some(k) = found.filter(|&k| !taken[k]) {
                taken[k] = true;
                given[m] = Some(k);
            }
        }
        let mut free = (0..keys.len()).filter(|&k| !taken[k]);
        for slot in given.iter_mut().filter(|g| g.is_none()) {
            *slot = free.next();
        }
        for (m, &i) in members.iter().enumerate() {
            let (Some(Some(k)), Some(item)) = (given.get(m), items.get_mut(i)) else {
                continue;
            };
            if *k == m {
                continue;
            }
            if let Some((new_key, new_id)) = keys.get(*k) {
                let (key, id) = parts(item);
                *key = new_key.clone();
                *id = new_id.clone();
                moved += 1;
            }
        }
    }
    moved
}
