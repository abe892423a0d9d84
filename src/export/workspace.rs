//! A workspace snapshot as the normalized model, for the CXF writer.

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::model::{Access, Entry, EntryKind, FolderPath, Principal, Share, SourceKind, Vault};
use crate::workspace::{GrantTarget, Grantee, ItemRole, Role, SecretType, Snapshot};

use super::{AccountInfo, CxfExport};

/// Which collections to write: all, or those named (with everything
/// below them).
#[derive(Clone, Debug, Default)]
pub struct Selection {
    pub collections: Vec<String>,
}

/// Why nothing could be exported.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("the workspace has no collection named '{0}'; expected one of: {1}")]
    NoSuchCollection(String, String),
}

/// The source kind an exported vault says it is: read back, it is a CXF
/// document.
const KIND: SourceKind = SourceKind::Cxf;

/// The workspace (or the selected collections) as a vault, its item
/// grants and team members alongside.
pub fn from_snapshot(s: &Snapshot, selection: &Selection) -> Result<CxfExport, ExportError> {
    let by_id: HashMap<i64, &crate::workspace::Collection> = s.collections.iter().map(|c| (c.id, c)).collect();
    let path_of = |mut id: i64| -> Vec<String> {
        let mut path = Vec::new();
        let mut seen = HashSet::new();
        while let Some(c) = by_id.get(&id) {
            if !seen.insert(id) {
                break;
            }
            path.push(c.name.clone());
            match c.parent {
                Some(p) => id = p,
                None => break,
            }
        }
        path.reverse();
        path
    };
    let selected: Option<HashSet<i64>> = if selection.collections.is_empty() {
        None
    } else {
        let mut roots = Vec::new();
        for name in &selection.collections {
            let found: Vec<i64> = s.collections.iter().filter(|c| &c.name == name).map(|c| c.id).collect();
            if found.is_empty() {
                let mut names: Vec<&str> = s.collections.iter().map(|c| c.name.as_str()).collect();
                names.sort_unstable();
                names.dedup();
                return Err(ExportError::NoSuchCollection(name.clone(), names.join(", ")));
            }
            roots.extend(found);
        }
        let mut set: HashSet<i64> = roots.into_iter().collect();
        loop {
            let more: Vec<i64> = s
                .collections
                .iter()
                .filter(|c| !set.contains(&c.id) && c.parent.is_some_and(|p| set.contains(&p)))
                .map(|c| c.id)
                .collect();
            if more.is_empty() {
                break;
            }
            set.extend(more);
        }
        Some(set)
    };
    let wanted = |collection: Option<i64>| match (&selected, collection) {
        (None, _) => true,
        (Some(set), Some(c)) => set.contains(&c),
        (Some(_), None) => false,
    };

    let exporter = s
        .members
        .iter()
        .find(|m| m.role == Role::Owner)
        .map(|m| m.email.clone())
        .unwrap_or_default();
    let mut vault = Vault::new(KIND, "workspace");
    vault.owner = (!exporter.is_empty()).then(|| exporter.clone());
    let mut paths: HashMap<i64, FolderPath> = HashMap::new();
    let mut collections: Vec<&crate::workspace::Collection> =
        s.collections.iter().filter(|c| wanted(Some(c.id))).collect();
    collections.sort_by_key(|c| (path_of(c.id).len(), c.id));
    for c in collections {
        let path = path_of(c.id);
        vault.ensure_folder(&path, false);
        if let Some(f) = vault.folders.iter_mut().find(|f| f.path == path) {
            f.source_id = Some(
                c.import_key
                    .as_ref()
                    .map_or_else(|| format!("collection:{}", c.id), |k| k.to_string()),
            );
        }
        paths.insert(c.id, FolderPath::from(path));
    }
    let folder = |c: Option<i64>| c.and_then(|c| paths.get(&c).cloned()).unwrap_or_default();

    let mut entries_by_target: HashMap<(u8, i64), String> = HashMap::new();
    for a in s.accounts.iter().filter(|a| wanted(a.collection)) {
        let mut e = Entry::new(EntryKind::Login, a.name.clone());
        e.source_id = a
            .import
            .import_key
            .as_ref()
            .map_or_else(|| format!("account:{}", a.id), |k| k.to_string());
        e.folder = folder(a.collection);
        e.urls = a.url.iter().chain(&a.urls).cloned().collect();
        e.username = a.username.clone();
        e.password = a.password.clone();
        e.totp = a.totp.clone();
        e.notes = a.notes.clone();
        e.fields = a.fields.clone();
        e.tags = a.tags.clone();
        e.attachments = a.attachments.clone();
        entries_by_target.insert((0, a.id), e.source_id.clone());
        vault.entries.push(e);
    }
    for x in s.secrets.iter().filter(|x| wanted(x.collection)) {
        let mut e = Entry::new(kind_of(x.secret_type), x.title.clone());
        e.source_id = x
            .import
            .import_key
            .as_ref()
            .map_or_else(|| format!("secret:{}", x.id), |k| k.to_string());
        e.folder = folder(x.collection);
        e.notes = x.notes.clone();
        e.fields = x.fields.clone();
        e.tags = x.tags.clone();
        e.attachments = x.attachments.clone();
        entries_by_target.insert((1, x.id), e.source_id.clone());
        vault.entries.push(e);
    }

    let members: HashMap<i64, &str> = s.members.iter().map(|m| (m.id, m.email.as_str())).collect();
    let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut item_shares: BTreeMap<String, Vec<Share>> = BTreeMap::new();
    let mut left_out = 0;
    let mut grants: Vec<&crate::workspace::Grant> = s.grants.iter().collect();
    grants.sort_by_key(|g| g.id);
    for g in grants {
        let principal = match g.grantee {
            Grantee::Member(id) => match members.get(&id) {
                Some(email) => Principal::user(*email),
                None => {
                    left_out += 1;
                    continue;
                }
            },
            Grantee::Team(id) => match s.teams.iter().find(|t| t.id == id) {
                Some(team) => {
                    let emails: Vec<String> = team
                        .members
                        .iter()
                        .filter_map(|m| members.get(m).map(|e| (*e).to_owned()))
                        .collect();
                    groups.insert(team.name.clone(), emails.clone());
                    Principal::Group {
                        group: team.name.clone(),
                        members: emails,
                    }
                }
                None => {
                    left_out += 1;
                    continue;
                }
            },
            Grantee::Partner(_) | Grantee::Partnership(_) => {
                left_out += 1;
                continue;
            }
        };
        let access = access_of(g.role);
        match g.target {
            GrantTarget::Collection(id) => {
                let Some(path) = paths.get(&id) else { continue };
                let mut share = Share::new(path.to_vec(), principal, access);
                share.source_access = Some(g.role.name().to_owned());
                if let Some(f) = vault.folders.iter_mut().find(|f| f.path == **path) {
                    f.shared = true;
                }
                vault.shares.push(share);
            }
            GrantTarget::Account(id) | GrantTarget::Secret(id) => {
                let which = u8::from(matches!(g.target, GrantTarget::Secret(_)));
                let Some(source_id) = entries_by_target.get(&(which, id)) else {
                    continue;
                };
                // The exporter owns what sits at the root of its own export
                // (the reader gives it so); naming it again would only
                // repeat that.
                if matches!(&principal, Principal::User { email, .. } if *email == exporter) {
                    continue;
                }
                let mut share = Share::new(Vec::new(), principal, access);
                share.source_access = Some(g.role.name().to_owned());
                item_shares.entry(source_id.clone()).or_default().push(share);
            }
        }
    }
    Ok(CxfExport {
        vault,
        item_shares,
        groups,
        account: AccountInfo {
            id: format!("workspace:{}", s.workspace.id),
            username: s.workspace.name.clone(),
            email: exporter,
        },
        grants_left_out: left_out,
    })
}

/// The entry kind a secret type reads back as.
fn kind_of(t: SecretType) -> EntryKind {
    match t {
        SecretType::Secret => EntryKind::SecureNote,
        SecretType::Wifi => EntryKind::Wifi,
        SecretType::SshKey => EntryKind::SshKey,
        SecretType::Database => EntryKind::Database,
        SecretType::Server => EntryKind::Server,
        SecretType::SoftwareLicense => EntryKind::SoftwareLicense,
        SecretType::Custom => EntryKind::Custom,
    }
}

/// A workspace role in the normalized terms the writer turns into CXF
/// permissions: Owner administers; a Manager may log in and ask for
/// others (written as edit, the nearest CXF has); a Collaborator reads.
fn access_of(role: ItemRole) -> Access {
    match role {
        ItemRole::Owner => Access {
            admin: true,
            edit: true,
            hide_passwords: false,
        },
        ItemRole::Manager => Access {
            admin: false,
            edit: true,
            hide_passwords: false,
        },
        ItemRole::Collaborator => Access::default(),
    }
}
