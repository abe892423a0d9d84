//! A workspace snapshot as the normalized model, for the CXF writer.

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::model::Attachment;
use crate::model::{Access, Entry, EntryKind, FolderPath, Principal, Share, SourceKind, Vault};
use crate::workspace::{GrantTarget, Grantee, ItemRole, Role, SecretType, Snapshot, Workspace};

use super::{AccountInfo, CxfExport, LeftOut};

/// Why a grant to a partner or partnership is not written ([`LeftOut`]).
const NO_ACCESSOR: &str =
    "CXF shares with the exporting provider's users and groups only; grant it again by hand after the import";

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
    #[error("the store could not give an attachment's bytes: {0}")]
    Store(String),
}

/// The source kind an exported vault says it is: read back, it is a CXF
/// document.
const KIND: SourceKind = SourceKind::Cxf;

/// The workspace (or the selected collections) as a vault, its item
/// grants and team members alongside.
pub fn from_snapshot(s: &Snapshot, selection: &Selection) -> Result<CxfExport, ExportError> {
    from_store(s, None, selection)
}

/// [`from_snapshot`], with the attachments' bytes read from `store` where
/// the snapshot left them there (imported attachments are compared by
/// digest, their bytes stay in the store).
pub fn from_store(
    s: &Snapshot,
    store: Option<&dyn Workspace>,
    selection: &Selection,
) -> Result<CxfExport, ExportError> {
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
        e.attachments = with_bytes(&a.attachments, store, GrantTarget::Account(a.id))?;
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
        e.attachments = with_bytes(&x.attachments, store, GrantTarget::Secret(x.id))?;
        entries_by_target.insert((1, x.id), e.source_id.clone());
        vault.entries.push(e);
    }

    let members: HashMap<i64, &str> = s.members.iter().map(|m| (m.id, m.email.as_str())).collect();
    let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut item_shares: BTreeMap<String, Vec<Share>> = BTreeMap::new();
    let mut left_out = Vec::new();
    let mut grants: Vec<&crate::workspace::Grant> = s.grants.iter().collect();
    grants.sort_by_key(|g| g.id);
    let titles: HashMap<(u8, i64), &str> = s
        .accounts
        .iter()
        .map(|a| ((0, a.id), a.name.as_str()))
        .chain(s.secrets.iter().map(|x| ((1, x.id), x.title.as_str())))
        .collect();
    for g in grants {
        // What the grant is on, as the summary names it; `None`: outside
        // the selection, so not a grant of this document at all.
        let on = match g.target {
            GrantTarget::Collection(id) => paths.get(&id).map(|p| format!("collection '{}'", p.join("/"))),
            GrantTarget::Account(id) | GrantTarget::Secret(id) => {
                let which = u8::from(matches!(g.target, GrantTarget::Secret(_)));
                entries_by_target
                    .contains_key(&(which, id))
                    .then(|| format!("item '{}'", titles.get(&(which, id)).copied().unwrap_or_default()))
            }
        };
        let Some(on) = on else { continue };
        let mut leave = |grantee: String, why: &'static str| {
            left_out.push(LeftOut {
                grantee,
                role: g.role,
                on: on.clone(),
                why,
            });
        };
        let principal = match g.grantee {
            Grantee::Member(id) => match members.get(&id) {
                Some(email) => Principal::user(*email),
                None => {
                    leave(format!("member #{id}"), "the workspace lists no such member");
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
                    leave(format!("team #{id}"), "the workspace lists no such team");
                    continue;
                }
            },
            Grantee::Partner(id) => {
                let name = s.partners.iter().find(|p| p.id == id).map(|p| p.name.as_str());
                leave(
                    name.map_or_else(|| format!("partner #{id}"), |n| format!("partner '{n}'")),
                    NO_ACCESSOR,
                );
                continue;
            }
            Grantee::Partnership(id) => {
                let name = s.partnerships.iter().find(|p| p.id == id).map(|p| p.name.as_str());
                leave(
                    name.map_or_else(|| format!("partnership #{id}"), |n| format!("partnership '{n}'")),
                    NO_ACCESSOR,
                );
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

/// The attachments with their bytes: as the snapshot holds them, else
/// read from the store.
fn with_bytes(
    files: &[Attachment],
    store: Option<&dyn Workspace>,
    item: GrantTarget,
) -> Result<Vec<Attachment>, ExportError> {
    let mut out = files.to_vec();
    let Some(store) = store.filter(|_| files.iter().any(|a| a.content.is_none())) else {
        return Ok(out);
    };
    let bytes = store
        .attachment_bytes(item)
        .map_err(|e| ExportError::Store(e.to_string()))?;
    if bytes.len() == out.len() {
        for (a, b) in out.iter_mut().zip(bytes) {
            if a.content.is_none() {
                a.content = b;
            }
        }
    }
    Ok(out)
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
