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

/// `collection:<vendor>:<path>` for a shared folder, and
/// `collection:<vendor>:personal:<owner>:<path>` for a personal one
/// (`owner` is the normalized email of whose it is): two people's exports
/// both holding `Personal` are two collections, while a shared folder is
/// one whoever exported it. The path is the source's, each segment
/// escaped ([`escape_segment`]), so renaming the collection in the
/// workspace keeps the key; no name can read as `personal:` or as nesting.
pub fn collection_key(source: SourceKind, owner: Option<&str>, path: &[String]) -> ImportKey {
    let mut key = String::with_capacity(32 + path.iter().map(|s| s.len() + 1).sum::<usize>());
    key.push_str("collection:");
    key.push_str(source.vendor());
    key.push(':');
    if let Some(owner) = owner {
        key.push_str(PERSONAL);
        escape_segment(owner, &mut key);
        key.push(':');
    }
    for (i, segment) in path.iter().enumerate() {
        if i > 0 {
            key.push('/');
        }
        escape_segment(segment, &mut key);
    }
    ImportKey::new(key)
}

/// What follows the vendor in a personal folder's key.
const PERSONAL: &str = "personal:";

/// A folder name as one key segment: `%` is written `%25`, `/` `%2F` and
/// `:` `%3A`, so LastPass `Tools/Build` (one folder whose name holds a
/// slash) and `Tools\Build` (`Build` inside `Tools`) are two keys, as are
/// a 1Password vault `R/D` and folder `D` in vault `R`, and a shared vault
/// named `personal:x` cannot pass for someone's personal folder. Names
/// without these characters (nearly all) are written as they are.
fn escape_segment(segment: &str, out: &mut String) {
    for c in segment.chars() {
        match c {
            '%' => out.push_str("%25"),
            '/' => out.push_str("%2F"),
            ':' => out.push_str("%3A"),
            c => out.push(c),
        }
    }
}

/// Whether the export itself says the folder is its person's own: a
/// LastPass folder whose top segment is not `Shared-X`, a 1Password entry
/// not in a vault others share (1PIF and CSV exports name no vault, so
/// theirs are all personal). Sharing data read later gives a folder
/// grants but never changes its key: every entry's key is made as it is
/// read.
pub fn is_personal_folder(source: SourceKind, path: &[String], in_shared_vault: bool) -> bool {
    match source {
        SourceKind::LastpassCsv => path.first().is_some_and(|top| strip_shared_prefix(top).is_none()),
        _ => !path.is_empty() && !in_shared_vault,
    }
}

/// Whether a collection key is a personal folder's ([`collection_key`]).
pub fn is_personal_key(source: SourceKind, key: &ImportKey) -> bool {
    key.as_str()
        .strip_prefix("collection:")
        .and_then(|k| k.strip_prefix(source.vendor()))
        .and_then(|k| k.strip_prefix(':'))
        .is_some_and(|k| k.starts_with(PERSONAL))
}

/// The key the build before owner keys gave this folder: no owner, `:`
/// not escaped. Kept only to move workspaces that build filled
/// ([`key_moves`]).
pub fn previous_collection_key(source: SourceKind, path: &[String]) -> ImportKey {
    let mut key = format!("collection:{}:", source.vendor());
    for (i, segment) in path.iter().enumerate() {
        if i > 0 {
            key.push('/');
        }
        for c in segment.chars() {
            match c {
                '%' => key.push_str("%25"),
                '/' => key.push_str("%2F"),
                c => key.push(c),
            }
        }
    }
    ImportKey::new(key)
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
/// Two earlier schemes are known: the previous build's
/// ([`previous_collection_key`]: no owner) and the one before it
/// ([`legacy_collection_key`]). A planned collection not yet under its
/// key claims its previous key, or, when the workspace has none, its
/// legacy key too. An old key present in the workspace moves to its one
/// claimant. Where two claim it, the old build merged them: a personal
/// `Legal` and the shared `Shared-Legal` were one `collection:lastpass:Legal`
/// carrying the shared folder's members. When exactly one claimant is
/// shared, the merged collection goes with it (its members keep exactly
/// what they had) and the personal folder is created apart, its items
/// moving to it, so no member of the shared folder keeps reaching personal
/// items. Between two personal or two shared folders (`Tools/Build` and
/// `Tools\Build` both had `…:Tools/Build`) nothing is moved: which one the
/// old collection was cannot be told.
///
/// A move to a personal key is only right when the old collection was
/// that person's: the caller keeps those a run of the same owner's
/// source created (`Workspace::created_by_source`).
pub fn key_moves(source: SourceKind, collections: &[PlannedCollection], exists: impl Fn(&str) -> bool) -> Vec<KeyMove> {
    use std::collections::HashMap;
    let mut claims: HashMap<ImportKey, Vec<&PlannedCollection>> = HashMap::new();
    for c in collections {
        if exists(c.key.as_str()) {
            continue;
        }
        let previous = previous_collection_key(source, &c.path);
        let mut old = vec![previous.clone()];
        if !exists(previous.as_str()) {
            old.push(legacy_collection_key(source, &c.path));
        }
        old.dedup();
        for key in old.into_iter().filter(|k| *k != c.key) {
            claims.entry(key).or_default().push(c);
        }
    }
    let planned: std::collections::HashSet<&str> = collections.iter().map(|c| c.key.as_str()).collect();
    let mut moves: Vec<KeyMove> = claims
        .into_iter()
        .filter(|(from, _)| exists(from.as_str()) && !planned.contains(from.as_str()))
        .filter_map(|(from, claimants)| {
            let to = match claimants.as_slice() {
                [one] => *one,
                many => {
                    let mut shared = many.iter().filter(|c| !is_personal_key(source, &c.key));
                    match (shared.next(), shared.next()) {
                        (Some(one), None) => *one,
                        _ => return None,
                    }
                }
            };
            Some(KeyMove {
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

    const OLIVIA: Option<&str> = Some("olivia@northwind.example");

    #[test]
    fn a_slash_colon_or_percent_in_a_name_cannot_forge_nesting_or_an_owner() {
        let lp = SourceKind::LastpassCsv;
        let one = collection_key(lp, OLIVIA, &p(&["Tools/Build"]));
        let two = collection_key(lp, OLIVIA, &p(&["Tools", "Build"]));
        assert_ne!(one, two);
        assert_eq!(
            one.as_str(),
            "collection:lastpass:personal:olivia@northwind.example:Tools%2FBuild"
        );
        assert_eq!(
            two.as_str(),
            "collection:lastpass:personal:olivia@northwind.example:Tools/Build"
        );
        assert_ne!(
            collection_key(lp, OLIVIA, &p(&["100%2F"])),
            collection_key(lp, OLIVIA, &p(&["100/"])),
            "an escape written literally is escaped again"
        );
        let op = SourceKind::Onepassword1pux;
        assert_ne!(
            collection_key(op, None, &p(&["personal:olivia@northwind.example:Work"])),
            collection_key(op, OLIVIA, &p(&["Work"])),
            "a shared vault's name cannot pass for a personal folder"
        );
        assert!(is_personal_key(op, &collection_key(op, OLIVIA, &p(&["Work"]))));
        assert!(!is_personal_key(
            op,
            &collection_key(op, None, &p(&["personal:x:Work"]))
        ));
    }

    #[test]
    fn two_owners_personal_folders_are_two_keys_and_a_shared_folder_one() {
        let lp = SourceKind::LastpassCsv;
        assert_ne!(
            collection_key(lp, Some("dana@northwind.example"), &p(&["Personal"])),
            collection_key(lp, Some("lee@northwind.example"), &p(&["Personal"]))
        );
        assert_eq!(
            collection_key(lp, None, &p(&["Shared-Ops"])).as_str(),
            "collection:lastpass:Shared-Ops"
        );
        assert!(is_personal_folder(lp, &p(&["Legal"]), false));
        assert!(is_personal_folder(lp, &p(&["Legal", "Shared-X"]), false));
        assert!(!is_personal_folder(lp, &p(&["shared-Legal", "Sub"]), false));
        assert!(
            is_personal_folder(lp, &p(&["Shared- "]), false),
            "no name after the prefix"
        );
        let op = SourceKind::Onepassword1pux;
        assert!(is_personal_folder(op, &p(&["Private"]), false));
        assert!(!is_personal_folder(op, &p(&["Ops"]), true));
        assert!(!is_personal_folder(op, &[], false), "the root is no folder");
    }

    #[test]
    fn personal_and_shared_and_case_are_apart() {
        let lp = SourceKind::LastpassCsv;
        let keys = [
            collection_key(lp, OLIVIA, &p(&["Legal"])),
            collection_key(lp, None, &p(&["Shared-Legal"])),
            collection_key(lp, None, &p(&["Shared-WEB"])),
            collection_key(lp, None, &p(&["Shared-Web"])),
        ];
        let distinct: std::collections::HashSet<_> = keys.iter().collect();
        assert_eq!(distinct.len(), keys.len());
        assert_eq!(collection_name(lp, &p(&["Shared-Legal"])), "Legal");
        assert_eq!(collection_name(lp, &p(&["Shared-Legal", "Shared-X"])), "Shared-X");
    }

    #[test]
    fn earlier_keys_are_the_earlier_builds() {
        let lp = SourceKind::LastpassCsv;
        assert_eq!(
            legacy_collection_key(lp, &p(&["shared- Eng ", "DB"])).as_str(),
            "collection:lastpass:Eng/DB"
        );
        assert_eq!(
            legacy_collection_key(SourceKind::Onepassword1pif, &p(&["R/D"])).as_str(),
            "collection:1password:R/D"
        );
        assert_eq!(
            previous_collection_key(lp, &p(&["Tools/Build", "a:b"])).as_str(),
            "collection:lastpass:Tools%2FBuild/a:b"
        );
    }

    fn planned(path: &[&str], shared: bool) -> PlannedCollection {
        let lp = SourceKind::LastpassCsv;
        let path = p(path);
        let owner = is_personal_folder(lp, &path, false).then_some("olivia@northwind.example");
        PlannedCollection {
            key: collection_key(lp, owner, &path),
            parent: (path.len() > 1).then(|| collection_key(lp, owner, &path[..path.len() - 1])),
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
        let mine = "personal:olivia@northwind.example:";
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
        // A personal folder of the previous build (no owner) moves to
        // its owner's key.
        let personal = [planned(&["Legal"], false), planned(&["Legal", "Old"], false)];
        assert_eq!(
            moves(
                &personal,
                &["collection:lastpass:Legal", "collection:lastpass:Legal/Old"]
            ),
            [
                mv("Legal", &format!("{mine}Legal")),
                mv("Legal/Old", &format!("{mine}Legal/Old"))
            ]
        );
        // Merged personal and shared folder: the old collection goes with
        // the shared one, whose members it carries.
        let merged = [planned(&["Legal"], false), planned(&["Shared-Legal"], true)];
        assert_eq!(
            moves(&merged, &["collection:lastpass:Legal"]),
            [mv("Legal", "Shared-Legal")]
        );
        // The previous build kept them apart: each goes its own way.
        assert_eq!(
            moves(
                &merged,
                &["collection:lastpass:Legal", "collection:lastpass:Shared-Legal"]
            ),
            [mv("Legal", &format!("{mine}Legal"))]
        );
        // Two personal folders the oldest key could have been: left
        // alone; the previous build's own keys still move.
        let slash = [
            planned(&["Tools/Build"], false),
            planned(&["Tools"], false),
            planned(&["Tools", "Build"], false),
        ];
        assert_eq!(
            moves(
                &slash,
                &["collection:lastpass:Tools", "collection:lastpass:Tools/Build"]
            ),
            [mv("Tools", &format!("{mine}Tools"))]
        );
        assert_eq!(
            moves(
                &slash,
                &[
                    "collection:lastpass:Tools",
                    "collection:lastpass:Tools/Build",
                    "collection:lastpass:Tools%2FBuild"
                ]
            ),
            [
                mv("Tools", &format!("{mine}Tools")),
                mv("Tools%2FBuild", &format!("{mine}Tools%2FBuild")),
                mv("Tools/Build", &format!("{mine}Tools/Build")),
            ]
        );
    }
}
