//! The 1Password vault permissions bundle (`formats/onepassword-sharing.md`):
//! per vault, what `op vault user list` and `op vault group list` print.

use std::io::{self, Write};

use serde_json::{json, Map, Value};

use crate::model::{Access, Folder, Principal, Share, ShareStatus};

/// Granular (Business) permissions for an access: these are the only lists
/// that can say "hide passwords" (by leaving out `view_and_copy_passwords`).
fn permissions(access: &Access) -> Vec<&'static str> {
    let mut p = vec!["view_items", "view_item_history"];
    if !access.hide_passwords {
        p.push("view_and_copy_passwords");
    }
    if access.edit || access.admin {
        p.extend(["create_items", "edit_items", "archive_items", "delete_items"]);
    }
    if access.admin {
        p.push("manage_vault");
    }
    p
}

fn state(status: ShareStatus) -> &'static str {
    match status {
        ShareStatus::Active => "ACTIVE",
        ShareStatus::Pending => "INVITED",
        ShareStatus::Deleted => "DELETED",
        ShareStatus::Suspended => "SUSPENDED",
    }
}

/// Writes the bundle for `folders`, keyed by vault name (the folder path
/// joined with `/`). Ids are derived from the email or group name so the
/// file is deterministic.
pub fn write<W: Write>(folders: &[&Folder], shares: &[Share], w: W) -> io::Result<()> {
    let mut root = Map::new();
    for folder in folders {
        let mut users = Vec::new();
        let mut groups = Vec::new();
        for share in shares.iter().filter(|s| s.folder == folder.path) {
            let perms = permissions(&share.access);
            match &share.principal {
                Principal::User { email, name } => {
                    let kind = match share.outside_enterprise {
                        Some(true) => "GUEST",
                        _ => "MEMBER",
                    };
                    users.push(json!({
                        "id": id_for(email),
                        "name": name.clone().unwrap_or_default(),
                        "email": email,
                        "type": kind,
                        "state": state(share.status),
                        "permissions": perms,
                    }));
                }
                Principal::Group { group, members } => groups.push(json!({
                    "id": id_for(group),
                    "name": group,
                    "description": format!("{group} (generated)"),
                    "state": state(share.status),
                    "permissions": perms,
                    "members": members,
                })),
            }
        }
        root.insert(folder.path.join("/"), json!({ "users": users, "groups": groups }));
    }
    serde_json::to_writer_pretty(w, &Value::Object(root)).map_err(io::Error::other)
}

/// A 26-character upper-case id like `op` prints, from a name.
fn id_for(name: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(name.as_bytes());
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    digest
        .iter()
        .take(26)
        .map(|b| char::from(CHARS[usize::from(*b) % CHARS.len()]))
        .collect()
}
