//! Vault permissions: 1Password exports carry no sharing, so admins gather
//! it with the `op` CLI into one JSON bundle (see
//! `formats/onepassword-sharing.md`):
//!
//! ```json
//! { "<vault name or uuid>": { "users": [ …op vault user list… ],
//!                             "groups": [ …op vault group list… ] } }
//! ```
//!
//! Each group may also carry `"members"` (what `op group user list` prints,
//! or plain emails) so the workspace team gets its people.

use serde::Deserialize;
use serde_json::{Map, Value};

use super::json_problem;
use crate::model::{Access, Finding, Position, Principal, Share, ShareStatus, Vault};
use crate::sources::{recover_or_fail, ParseOptions, SourceError};

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct VaultAccess {
    users: Vec<Value>,
    groups: Vec<Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct User {
    name: String,
    email: String,
    /// `MEMBER` or `GUEST` (a guest of the 1Password account).
    #[serde(rename = "type")]
    kind: String,
    state: String,
    permissions: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Group {
    name: String,
    state: String,
    permissions: Vec<String>,
    members: Vec<Value>,
}

/// Permissions that let a member change items (granular and broad).
const EDIT: &[&str] = &[
    "create_items",
    "edit_items",
    "archive_items",
    "delete_items",
    "allow_editing",
];
const ADMIN: &[&str] = &["manage_vault", "allow_managing"];
/// The granular permission set (Business accounts). Broad permissions
/// (`allow_viewing`…, Teams accounts) have no "hide passwords" notion, so
/// only a granular list without `view_and_copy_passwords` hides passwords.
const GRANULAR: &[&str] = &[
    "view_items",
    "create_items",
    "edit_items",
    "archive_items",
    "delete_items",
    "view_and_copy_passwords",
    "view_item_history",
    "import_items",
    "export_items",
    "copy_and_share_items",
    "print_items",
    "manage_vault",
];

/// The model's access for an `op` permission list.
pub(super) fn access(permissions: &[String]) -> Access {
    let has = |set: &[&str]| {
        permissions
            .iter()
            .any(|p| set.contains(&p.trim().to_lowercase().as_str()))
    };
    let granular = has(GRANULAR);
    Access {
        admin: has(ADMIN),
        edit: has(EDIT),
        hide_passwords: granular && !has(&["view_and_copy_passwords"]),
    }
}

/// `op` states: ACTIVE; INVITED / PENDING before the person accepted;
/// SUSPENDED, RECOVERY… otherwise; DELETED for removed people.
fn status(state: &str) -> ShareStatus {
    match state.trim().to_uppercase().as_str() {
        "" | "ACTIVE" => ShareStatus::Active,
        "INVITED" | "PENDING" | "TRANSFER_PENDING" | "RECOVERY_STARTED" => ShareStatus::Pending,
        "DELETED" => ShareStatus::Deleted,
        _ => ShareStatus::Suspended,
    }
}

pub(super) fn read(vault: &mut Vault, bytes: &[u8], file: &str, options: &ParseOptions) -> Result<(), SourceError> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let bundle: Map<String, Value> = serde_json::from_slice(bytes).map_err(|e| {
        // A well-formed document of the wrong shape (an array) is a Data error.
        SourceError::malformed(
            Position::file(file).line(e.line() as u64),
            format!(
                "{} at line {} column {}; expected a JSON object {{\"<vault name or uuid>\": {{\"users\": [...], \"groups\": [...]}}}} (`vaultferry explain 1password-sharing`)",
                if e.is_data() {
                    "the document is not a JSON object"
                } else {
                    json_problem(&e)
                },
                e.line(),
                e.column()
            ),
        )
    })?;
    let mut matched: Vec<Vec<String>> = Vec::new();
    for (key, value) in bundle {
        let pos = Position::file(file).field(format!("vault '{key}'"));
        let Some(folder_index) = vault
            .folders
            .iter()
            .position(|f| f.source_id.as_deref() == Some(key.as_str()))
            .or_else(|| {
                vault
                    .folders
                    .iter()
                    .position(|f| f.path.join("/").eq_ignore_ascii_case(key.trim()))
            })
        else {
            recover_or_fail(
                vault,
                Finding::warning(
                    "onepassword.sharing-unknown-vault",
                    format!("the permissions bundle names vault '{key}', which is not in the export; its members were not imported"),
                )
                .at(pos)
                .help("export that vault too, or remove it from the bundle if it no longer matters"),
                options,
            )?;
            continue;
        };
        let access_list: VaultAccess = match serde_json::from_value(value) {
            Ok(a) => a,
            Err(e) => {
                recover_or_fail(
                    vault,
                    Finding::error(
                        "onepassword.sharing-malformed",
                        format!(
                            "vault '{key}' was skipped: {}; expected {{\"users\": [...], \"groups\": [...]}}",
                            json_problem(&e)
                        ),
                    )
                    .at(pos),
                    options,
                )?;
                continue;
            }
        };
        let path = match vault.folders.get_mut(folder_index) {
            Some(folder) => {
                folder.shared = true;
                folder.path.clone()
            }
            None => continue,
        };
        matched.push(path.clone());
        // Messages name the vault, even when the bundle keyed it by uuid.
        let shown = path.join("/");
        for (i, raw) in access_list.users.into_iter().enumerate() {
            let user: User = serde_json::from_value(raw).unwrap_or_default();
            let email = user.email.trim().to_owned();
            if email.is_empty() {
                recover_or_fail(
                    vault,
                    Finding::warning(
                        "onepassword.sharing-malformed",
                        format!("user {} of vault '{shown}' has no email and was skipped; expected the objects `op vault user list --format json` prints", i + 1),
                    )
                    .at(pos.clone()),
                    options,
                )?;
                continue;
            }
            if email.contains('@') && !crate::model::address::is_mailbox(&email) {
                vault.findings.push(
                    Finding::warning(
                        "mapper.sharer-address-invalid",
                        format!(
                            "the sharer {email:?} of vault '{shown}' is not a valid email address (expected name@domain.example); no grant, no invitation"
                        ),
                    )
                    .at(line_of(bytes, file, &email).field(format!("vault '{shown}' user {}", i + 1)))
                    .help("correct the address in the bundle and run again, or grant access by hand in the workspace"),
                );
                continue;
            }
            let mut share = Share::new(
                path.clone(),
                Principal::User {
                    email: email.clone(),
                    name: super::non_empty(&user.name),
                },
                access(&user.permissions),
            );
            share.status = status(&user.state);
            share.source_access = Some(user.permissions.join(", "));
            share.outside_enterprise = match user.kind.trim().to_uppercase().as_str() {
                "GUEST" => Some(true),
                "MEMBER" => Some(false),
                _ => None,
            };
            if share.status != ShareStatus::Active {
                vault.findings.push(
                    Finding::warning(
                        "onepassword.share-inactive",
                        format!(
                            "{email} has state {} in 1Password; their access to vault '{shown}' is not carried over",
                            user.state.trim()
                        ),
                    )
                    .at(Position::file(file).field(format!("vault '{shown}' user '{email}'"))),
                );
            }
            if !vault.shares.contains(&share) {
                vault.shares.push(share);
            }
        }
        for (i, raw) in access_list.groups.into_iter().enumerate() {
            let group: Group = serde_json::from_value(raw).unwrap_or_default();
            let name = group.name.trim().to_owned();
            if name.is_empty() {
                recover_or_fail(
                    vault,
                    Finding::warning(
                        "onepassword.sharing-malformed",
                        format!("group {} of vault '{shown}' has no name and was skipped; expected the objects `op vault group list --format json` prints", i + 1),
                    )
                    .at(pos.clone()),
                    options,
                )?;
                continue;
            }
            let members: Vec<String> = group
                .members
                .iter()
                .filter_map(|m| match m {
                    Value::String(s) => Some(s.trim().to_owned()),
                    Value::Object(o) => o.get("email").and_then(Value::as_str).map(|s| s.trim().to_owned()),
                    _ => None,
                })
                .filter(|s| !s.is_empty())
                .collect();
            let mut share = Share::new(
                path.clone(),
                Principal::Group {
                    group: name.clone(),
                    members,
                },
                access(&group.permissions),
            );
            share.status = status(&group.state);
            share.source_access = Some(group.permissions.join(", "));
            if share.status != ShareStatus::Active {
                vault.findings.push(
                    Finding::warning(
                        "onepassword.share-inactive",
                        format!(
                            "group '{name}' has state {} in 1Password; its access to vault '{shown}' is not carried over",
                            group.state.trim()
                        ),
                    )
                    .at(Position::file(file).field(format!("vault '{shown}' group '{name}'"))),
                );
            }
            if !vault.shares.contains(&share) {
                vault.shares.push(share);
            }
        }
    }
    let unlisted: Vec<String> = vault
        .folders
        .iter()
        .filter(|f| f.shared && f.path.len() == 1 && !matched.contains(&f.path))
        .map(|f| f.path.join("/"))
        .collect();
    for name in unlisted {
        vault.findings.push(
            Finding::warning(
                "onepassword.sharing-missing-vault",
                format!("vault '{name}' is shared in 1Password but the permissions bundle does not list it; nobody but the importer will get access"),
            )
            .at(Position::file(file).field(format!("vault '{name}'")))
            .help(format!("add it with `op vault user list \"{name}\" --format json` and `op vault group list \"{name}\" --format json`")),
        );
    }
    Ok(())
}

/// The line where `text` first appears in the bundle: serde_json values
/// carry no positions, and the line is what an admin opens the file at.
/// Without a match (the text is escaped differently there) only the file.
fn line_of(bytes: &[u8], file: &str, text: &str) -> Position {
    let at = Position::file(file);
    match memchr::memmem::find(bytes, text.as_bytes()) {
        Some(offset) => at.line(memchr::memchr_iter(b'\n', &bytes[..offset]).count() as u64 + 1),
        None => at,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn perms(p: &[&str]) -> Vec<String> {
        p.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn permissions_become_access() {
        let a = access(&perms(&["view_items", "view_and_copy_passwords", "manage_vault"]));
        assert!(a.admin && !a.edit && !a.hide_passwords);
        let e = access(&perms(&["view_items", "edit_items", "view_and_copy_passwords"]));
        assert!(!e.admin && e.edit && !e.hide_passwords);
        let h = access(&perms(&["view_items"]));
        assert!(!h.admin && !h.edit && h.hide_passwords);
        let broad = access(&perms(&["allow_viewing"]));
        assert!(!broad.hide_passwords && !broad.edit);
        assert!(access(&perms(&["allow_viewing", "allow_editing", "allow_managing"])).admin);
    }

    #[test]
    fn states_map_to_statuses() {
        assert_eq!(status("ACTIVE"), ShareStatus::Active);
        assert_eq!(status("INVITED"), ShareStatus::Pending);
        assert_eq!(status("SUSPENDED"), ShareStatus::Suspended);
        assert_eq!(status("DELETED"), ShareStatus::Deleted);
    }
}
