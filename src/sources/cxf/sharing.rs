//! The `shared` extension: who holds a collection or an item, with which permissions
//! (`formats/cxf.md`, "Sharing"). Its table of permissions is the one
//! place CXF words become normalized access.

use serde_json::Value;

use super::account::Directory;
use super::record;
use crate::model::{Access, EntryRef, Finding, Position, Principal, Share, Vault};
use crate::sources::{ParseOptions, SourceError};

pub const SHARED_EXTENSION: &str = "shared";
/// Ours: group members, which CXF does not name (`formats/cxf.md`).
pub const GROUPS_EXTENSION: &str = "vaultferry-groups";

/// The permission words CXF 1.0 defines.
pub const PERMISSIONS: [&str; 7] = ["read", "readSecret", "update", "create", "delete", "share", "manage"];

/// Permissions → access: `share`/`manage` administer (only an Owner may
/// share onward in the workspace); `update`/`create`/`delete` edit; `read`
/// without `readSecret` hides passwords. Unknown words are returned.
pub fn access(permissions: &[&str]) -> (Access, Vec<String>) {
    let has = |p: &str| permissions.contains(&p);
    let unknown = permissions
        .iter()
        .filter(|p| !PERMISSIONS.contains(p))
        .map(|p| (*p).to_owned())
        .collect();
    let admin = has("share") || has("manage");
    let access = Access {
        admin,
        edit: admin || has("update") || has("create") || has("delete"),
        hide_passwords: has("read") && !has("readSecret") && !admin,
    };
    (access, unknown)
}

/// Adds the shares a collection's `shared` extension names, and the
/// exporter's own admin right on the collection.
pub(crate) fn folder_shares(
    ext: &Value,
    folder: &[String],
    directory: &Directory,
    exporter: Option<&str>,
    at: Position,
    vault: &mut Vault,
    options: &ParseOptions,
) -> Result<(), SourceError> {
    let on = On::Folder(folder);
    let Some(accessors) = accessors(ext, &on, directory, &at, vault, options)? else {
        return Ok(());
    };
    let mut exporter_named = false;
    for (principal, access, words) in accessors {
        if let (Principal::User { email, .. }, Some(exporter)) = (&principal, exporter) {
            exporter_named |= email.eq_ignore_ascii_case(exporter);
        }
        let mut share = Share::new(folder.to_vec(), principal, access);
        share.source_access = Some(words);
        vault.shares.push(share);
    }
    if let Some(exporter) = exporter.filter(|_| !exporter_named) {
        let mut share = Share::new(
            folder.to_vec(),
            Principal::user(exporter),
            Access {
                admin: true,
                edit: true,
                hide_passwords: false,
            },
        );
        share.source_access = Some("exporter (CXF exports a shared entity only to its owners and admins)".to_owned());
        vault.shares.push(share);
    }
    Ok(())
}

/// Adds the shares an item's own `shared` extension names: each gives
/// access to that one entry, never to the rest of its collection. The
/// exporter is not added: it holds the item already, through its
/// collection's share or as the owner of its personal items.
pub(crate) fn item_shares(
    ext: &Value,
    item: &EntryRef,
    directory: &Directory,
    at: Position,
    vault: &mut Vault,
    options: &ParseOptions,
) -> Result<(), SourceError> {
    let on = On::Item(&item.title);
    let Some(accessors) = accessors(ext, &on, directory, &at, vault, options)? else {
        return Ok(());
    };
    for (principal, access, words) in accessors {
        let mut share = Share::on_item(item.clone(), principal, access);
        share.source_access = Some(words);
        vault.shares.push(share);
    }
    Ok(())
}

/// What a `shared` extension is on, for findings.
enum On<'a> {
    Folder(&'a [String]),
    Item(&'a str),
}

impl On<'_> {
    fn shown(&self) -> String {
        match self {
            On::Folder(path) => format!("'{}'", path.join("/")),
            On::Item(title) => format!("item '{title}'"),
        }
    }
}

/// One accessor read: who, their access, and the permission words as
/// written (for `Share::source_access`).
type Accessor = (Principal, Access, String);

/// The accessors of one `shared` extension, each as a principal, its
/// access and the permission words as written; `None` when it has no
/// `accessors` array (a finding says so).
fn accessors(
    ext: &Value,
    on: &On<'_>,
    directory: &Directory,
    at: &Position,
    vault: &mut Vault,
    options: &ParseOptions,
) -> Result<Option<Vec<Accessor>>, SourceError> {
    let shown = on.shown();
    let Some(accessors) = ext.get("accessors").and_then(Value::as_array) else {
        record(
            vault,
            Finding::warning(
                "cxf.bad-shared",
                format!("the 'shared' extension of {shown} has no 'accessors' array; nobody is given access from it"),
            )
            .at(at.clone()),
            options,
        )?;
        return Ok(None);
    };
    let mut out = Vec::new();
    for accessor in accessors {
        let kind = accessor.get("type").and_then(Value::as_str).unwrap_or("");
        let name = accessor.get("name").and_then(Value::as_str).unwrap_or("").trim();
        let account = accessor.get("accountId").and_then(Value::as_str).unwrap_or("");
        let words: Vec<&str> = accessor
            .get("permissions")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let principal = match kind {
            "user" => {
                let email = directory
                    .emails
                    .get(account)
                    .cloned()
                    .or_else(|| name.contains('@').then(|| name.to_owned()));
                let Some(email) = email else {
                    record(
                        vault,
                        Finding::warning(
                            "cxf.accessor-without-email",
                            format!(
                                "{shown} is shared with user '{name}' (account '{account}'), whom no email names; no share is made"
                            ),
                        )
                        .at(at.clone())
                        .help("grant them by hand after the import"),
                        options,
                    )?;
                    continue;
                };
                Principal::User {
                    email,
                    name: (!name.is_empty() && !name.contains('@')).then(|| name.to_owned()),
                }
            }
            "group" if !name.is_empty() => Principal::Group {
                group: name.to_owned(),
                members: directory.groups.get(name).cloned().unwrap_or_default(),
            },
            _ => {
                vault.findings.push(
                    Finding::info(
                        "cxf.unknown-accessor-type",
                        format!(
                            "{shown} names an accessor of type '{kind}' ('{name}'); CXF tells importers to ignore it"
                        ),
                    )
                    .at(at.clone()),
                );
                continue;
            }
        };
        let (access, unknown) = access(&words);
        for word in unknown {
            vault.findings.push(
                Finding::info(
                    "cxf.unknown-permission",
                    format!("{shown} gives '{name}' permission '{word}', which CXF 1.0 does not define; it is ignored"),
                )
                .at(at.clone()),
            );
        }
        // The spec: an accessor whose permissions are empty, as written or
        // once unknown words are ignored, is ignored. Reading it as
        // read-only would give access the source never gave.
        if words.iter().all(|w| !PERMISSIONS.contains(w)) {
            vault.findings.push(
                Finding::info(
                    "cxf.accessor-no-permissions",
                    format!(
                        "{shown} names '{name}' without any permission CXF 1.0 defines; ignored, as the spec tells importers: no share is made"
                    ),
                )
                .at(at.clone()),
            );
            continue;
        }
        let words = words.join(", ");
        out.push((principal, access, words));
    }
    Ok(Some(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_permissions_table_of_formats_cxf_md() {
        let a = |words: &[&str]| access(words).0;
        let read_only = Access::default();
        let hidden = Access {
            hide_passwords: true,
            ..Access::default()
        };
        let edit = Access {
            edit: true,
            ..Access::default()
        };
        let admin = Access {
            admin: true,
            edit: true,
            hide_passwords: false,
        };
        assert_eq!(a(&["read", "readSecret"]), read_only);
        assert_eq!(a(&["readSecret"]), read_only);
        assert_eq!(a(&["read"]), hidden, "read without readSecret hides passwords");
        assert_eq!(a(&["read", "readSecret", "update"]), edit);
        assert_eq!(
            a(&["read", "create"]),
            Access {
                edit: true,
                hide_passwords: true,
                admin: false
            }
        );
        assert!(a(&["read", "delete"]).edit);
        assert_eq!(a(&["read", "readSecret", "share"]), admin);
        assert_eq!(a(&["manage"]), admin);
        assert_eq!(a(&[]), read_only);
        assert_eq!(access(&["read", "fly"]).1, vec!["fly".to_owned()]);
    }
}
