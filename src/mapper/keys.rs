//! Import keys: how a planned object is found again in the workspace on the
//! next run (`formats/plan.md`, "Import keys").
//!
//! A key must tell apart whatever the source tells apart, or two source
//! objects land in one workspace object and its people reach both. So a
//! collection key holds the folder path as the source spells it (a LastPass
//! shared folder keeps its `Shared-` prefix, case kept), each segment
//! escaped so that a `/` inside a name never reads as nesting.

use crate::model::SourceKind;
use crate::workspace::{ImportKey, KeyMove};

use super::{PlannedCollection, PlannedGrantee};

/// `collection:<vendor>:<segment>/<segment>…`, each segment escaped
/// ([`escape_segment`]): from the source folder path, so renaming the
/// collection in the workspace keeps the key.
pub fn collection_key(source: SourceKind, path: &[String]) -> ImportKey {
    let mut key = String::with_capacity(16 + path.iter().map(|s| s.len() + 1).sum::<usize>());
    key.push_str("collection:");
    key.push_str(source.vendor());
    key.push(':');
    for (i, segment) in path.iter().enumerate() {
        if i > 0 {
            key.push('/');
        }
        escape_segment(segment, &mut key);
    }
    ImportKey::new(key)
}

/// A folder name as one key segment: `%` is written `%25` and `/` `%2F`, so
/// LastPass `Tools/Build` (one folder whose name holds a slash) and
/// `Tools\Build` (`Build` inside `Tools`) are two keys, as are a 1Password
/// vault `R/D` and folder `D` in vault `R`. Names without either character
/// (nearly all) are written as they are, so their keys did not change.
fn escape_segment(segment: &str, out: &mut String) {
    for c in segment.chars() {
        match c {
            '%' => out.push_str("%25"),
            '/' => out.push_str("%2F"),
            c => out.push(c),
        }
    }
}

/// The key the builds before the keys were made exact gave this folder:
/// LastPass's `Shared-` prefix dropped from the top segment, segments
/// joined by `/` unescaped. Kept only to move workspaces those builds
/// filled ([`key_moves`]).
pub fn legacy_collection_key(source: SourceKind, path: &[String]) -> ImportKey {
    let mut segments: Vec<&str> = path.iter().map(String::as_str).collect();
    if source == SourceKind::LastpassCsv {
        if let Some(first) = segments.first_mut() {
            if let Some(name) = strip_shared_prefix(first) {
                *first = name;
            }
        }
    }
    ImportKey::new(format!("collection:{}:{}", source.vendor(), segments.join("/")))
}

/// A LastPass top-level `Shared-X` (prefix in any case): `X`, trimmed, when
/// not empty.
fn strip_shared_prefix(segment: &str) -> Option<&str> {
    segment
        .get(..7)
        .filter(|p| p.eq_ignore_ascii_case("Shared-"))
        .and(segment.get(7..))
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// The moves that bring a workspace keyed by an earlier build to this
/// build's keys, for the collections this plan has. `exists` says whether
/// the workspace holds a collection under a key.
///
/// A planned collection moves from its legacy key when the workspace has
/// the legacy key, lacks the new one, and no other planned collection has
/// the same legacy key (`Tools/Build` and `Tools\Build` both had
/// `…:Tools/Build`: which one the old collection was cannot be told, so it
/// stays). Where another planned collection has the legacy key as its own
/// new key, the old build merged the two: a personal `Legal` and the shared
/// `Shared-Legal` were one `collection:lastpass:Legal`, holding the shared
/// folder's members. The merged collection then goes with the shared
/// folder (its members keep exactly what they had) and the personal folder
/// is created apart, its items moving to it, so no member of the shared
/// folder keeps reaching personal items. Between two personal or two
/// shared folders nothing is moved.
pub fn key_moves(source: SourceKind, collections: &[PlannedCollection], exists: impl Fn(&str) -> bool) -> Vec<KeyMove> {
    use std::collections::{HashMap, HashSet};
    let by_key: HashMap<&str, &PlannedCollection> = collections.iter().map(|c| (c.key.as_str(), c)).collect();
    let shared_tops: HashSet<&str> = collections
        .iter()
        .filter(|c| c.parent.is_none() && c.shared)
        .filter_map(|c| c.path.first().map(String::as_str))
        .collect();
    let in_shared = |c: &PlannedCollection| c.path.first().is_some_and(|t| shared_tops.contains(t.as_str()));
    let mut claims: HashMap<ImportKey, Vec<&PlannedCollection>> = HashMap::new();
    for c in collections {
        let legacy = legacy_collection_key(source, &c.path);
        if legacy != c.key {
            claims.entry(legacy).or_default().push(c);
        }
    }
    let mut moves: Vec<KeyMove> = claims
        .into_iter()
        .filter_map(|(from, claimants)| {
            let [to] = claimants.as_slice() else { return None };
            if !exists(from.as_str()) || exists(to.key.as_str()) {
                return None;
            }
            let free = match by_key.get(from.as_str()) {
                None => true,
                Some(own) => in_shared(to) && !in_shared(own),
            };
            free.then(|| KeyMove {
                from,
                to: to.key.clone(),
            })
        })
        .collect();
    moves.sort_by(|a, b| a.from.cmp(&b.from));
    moves
}

/// Made once per entry: joined, not formatted (`format!` cost a million
/// entries a quarter of a second).
pub fn account_key(source: SourceKind, source_id: &str) -> ImportKey {
    ImportKey::new(["account:", source.vendor(), ":", source_id].concat())
}

pub fn secret_key(source: SourceKind, source_id: &str) -> ImportKey {
    ImportKey::new(["secret:", source.vendor(), ":", source_id].concat())
}

pub fn team_key(name: &str) -> ImportKey {
    ImportKey::new(format!("team:{}", name.trim().to_lowercase()))
}

/// One invitation per person, whatever the folder, source or spelling
/// (`Jules@Studio-Jules.example ` and `jules@studio-jules.example`).
pub fn invitation_key(email: &str) -> ImportKey {
    ImportKey::new(format!("invitation:{}", normalize_email(email)))
}

pub fn grant_key(target: &ImportKey, grantee: &PlannedGrantee) -> ImportKey {
    ImportKey::new(format!("grant:{target}->{}", grantee.key_part()))
}

/// Emails are compared trimmed and case-insensitively everywhere.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// A collection's name: the folder's, except that LastPass names its shared
/// folders `Shared-X` at the top level; the collection is `X`. Only the
/// name: the key keeps the prefix, which is what tells the shared folder
/// from a personal folder `X`.
pub fn collection_name(source: SourceKind, path: &[String]) -> String {
    let last = path.last().map(String::as_str).unwrap_or_default();
    if source == SourceKind::LastpassCsv && path.len() == 1 {
        if let Some(stripped) = strip_shared_prefix(last) {
            return stripped.to_owned();
        }
    }
    last.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(parts: &[&str]) -> Vec<String> {
        parts.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn a_slash_or_percent_in_a_name_cannot_forge_nesting() {
        let lp = SourceKind::LastpassCsv;
        let one = collection_key(lp, &p(&["Tools/Build"]));
        let two = collection_key(lp, &p(&["Tools", "Build"]));
        assert_ne!(one, two);
        assert_eq!(one.as_str(), "collection:lastpass:Tools%2FBuild");
        assert_eq!(two.as_str(), "collection:lastpass:Tools/Build");
        assert_ne!(
            collection_key(lp, &p(&["100%2F"])),
            collection_key(lp, &p(&["100/"])),
            "an escape written literally is escaped again"
        );
    }

    #[test]
    fn personal_and_shared_and_case_are_apart() {
        let lp = SourceKind::LastpassCsv;
        let keys = [
            collection_key(lp, &p(&["Legal"])),
            collection_key(lp, &p(&["Shared-Legal"])),
            collection_key(lp, &p(&["Shared-WEB"])),
            collection_key(lp, &p(&["Shared-Web"])),
        ];
        let distinct: std::collections::HashSet<_> = keys.iter().collect();
        assert_eq!(distinct.len(), keys.len());
        assert_eq!(collection_name(lp, &p(&["Shared-Legal"])), "Legal");
        assert_eq!(collection_name(lp, &p(&["Shared-Legal", "Shared-X"])), "Shared-X");
    }

    #[test]
    fn legacy_keys_are_the_old_builds() {
        let lp = SourceKind::LastpassCsv;
        assert_eq!(
            legacy_collection_key(lp, &p(&["shared- Eng ", "DB"])).as_str(),
            "collection:lastpass:Eng/DB"
        );
        assert_eq!(
            legacy_collection_key(SourceKind::Onepassword1pif, &p(&["R/D"])).as_str(),
            "collection:1password:R/D"
        );
    }

    fn planned(path: &[&str], shared: bool) -> PlannedCollection {
        let lp = SourceKind::LastpassCsv;
        let path = p(path);
        PlannedCollection {
            key: collection_key(lp, &path),
            parent: (path.len() > 1).then(|| collection_key(lp, &path[..path.len() - 1])),
            name: collection_name(lp, &path),
            path,
            shared,
            items: 1,
        }
    }

    #[test]
    fn old_keys_move_only_where_the_folder_they_held_is_known() {
        let lp = SourceKind::LastpassCsv;
        let moves = |planned: &[PlannedCollection], existing: &[&str]| {
            key_moves(lp, planned, |k| existing.contains(&k))
                .into_iter()
                .map(|m| (m.from.to_string(), m.to.to_string()))
                .collect::<Vec<_>>()
        };
        let mv = |from: &str, to: &str| {
            (
                format!("collection:lastpass:{from}"),
                format!("collection:lastpass:{to}"),
            )
        };
        // A shared folder and its subfolder move off the prefix-less keys.
        let shared = [planned(&["Shared-Eng"], true), planned(&["Shared-Eng", "DB"], false)];
        assert_eq!(
            moves(&shared, &["collection:lastpass:Eng", "collection:lastpass:Eng/DB"]),
            [mv("Eng", "Shared-Eng"), mv("Eng/DB", "Shared-Eng/DB")]
        );
        // The new key is taken (made by this build already): the old
        // collection stays where it is.
        assert!(moves(&shared, &["collection:lastpass:Eng", "collection:lastpass:Shared-Eng"]).is_empty());
        assert!(moves(&shared, &[]).is_empty());
        // Merged personal and shared folder: the old collection goes with
        // the shared one, whose members it carries.
        let merged = [planned(&["Legal"], false), planned(&["Shared-Legal"], true)];
        assert_eq!(
            moves(&merged, &["collection:lastpass:Legal"]),
            [mv("Legal", "Shared-Legal")]
        );
        // Two personal folders the old key could have been: left alone.
        let slash = [planned(&["Tools/Build"], false), planned(&["Tools", "Build"], false)];
        assert!(moves(
            &slash,
            &["collection:lastpass:Tools", "collection:lastpass:Tools/Build"]
        )
        .is_empty());
    }
}
