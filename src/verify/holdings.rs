//! The workspace side's input: who is in the workspace, which grants it
//! holds, and what each imported item holds (as digests). Read straight
//! from the SQLite store by [`super::store`], or from a served workspace's
//! API through its snapshot ([`Holdings::from_snapshot`]).

use rustc_hash::{FxHashMap, FxHashSet};

use crate::workspace::{
    Account, GrantTarget, Grantee, ItemImport, ItemRole, Member, Partnership, SecretItem, Snapshot,
};

use super::digest::{self, Digest, Held};

/// An imported account or secret, found by its import key.
#[derive(Clone, Debug)]
pub struct StoredItem {
    pub target: GrantTarget,
    pub collection: Option<i64>,
    pub name: String,
    pub held: Held,
}

#[derive(Clone, Debug)]
pub struct HeldGrant {
    pub target: GrantTarget,
    pub grantee: Grantee,
    pub role: ItemRole,
}

#[derive(Debug, Default)]
pub struct Holdings {
    pub workspace: String,
    /// Verified domains, lowercase.
    pub domains: Vec<String>,
    pub members: Vec<Member>,
    /// Team id → its members' ids.
    pub teams: FxHashMap<i64, Vec<i64>>,
    /// Local partner id → its Guest Admins' and Guest Users' ids.
    pub partners: FxHashMap<i64, Vec<i64>>,
    pub guest_admins: FxHashSet<i64>,
    pub partnerships: Vec<Partnership>,
    /// Collection id → its parent.
    pub collections: FxHashMap<i64, Option<i64>>,
    pub grants: Vec<HeldGrant>,
    /// Import key → item.
    pub items: FxHashMap<String, StoredItem>,
    /// People (emails) whose grant or team membership an admin removed
    /// after the import: the importer leaves a revocation alone (issue 19,
    /// bug 7), so what they lost is explained.
    pub revoked_people: FxHashSet<String>,
    /// Import keys of accounts and secrets an admin deleted after the import.
    pub removed_items: FxHashSet<String>,
}

/// Accumulates an item's digests as its columns are read.
#[derive(Default)]
pub struct Digests(Vec<Digest>);

impl Digests {
    pub fn text(&mut self, value: Option<&[u8]>) {
        if let Some(v) = value.filter(|v| !v.is_empty()) {
            self.0.push(digest::of(v));
        }
    }

    pub fn attachment(&mut self, name: &str, content: Option<&[u8; 32]>) {
        self.0.push(digest::attachment(name, content));
    }

    pub fn held(self) -> Held {
        Held::new(self.0)
    }
}

impl Holdings {
    /// From a snapshot: what a served workspace's API lists (the HTTP
    /// client reads every resource, with the values the API carries).
    pub fn from_snapshot(s: &Snapshot) -> Holdings {
        let mut h = Holdings {
            workspace: s.workspace.name.clone(),
            domains: s.workspace.domains.iter().map(|d| d.to_lowercase()).collect(),
            members: s.members.clone(),
            partnerships: s.partnerships.clone(),
            ..Holdings::default()
        };
        for t in &s.teams {
            h.teams.insert(t.id, t.members.clone());
        }
        for p in &s.partners {
            let all = p.guest_admins.iter().chain(&p.guest_users).copied().collect();
            h.partners.insert(p.id, all);
            h.guest_admins.extend(p.guest_admins.iter().copied());
        }
        for c in &s.collections {
            h.collections.insert(c.id, c.parent);
        }
        for g in &s.grants {
            h.grants.push(HeldGrant {
                target: g.target,
                grantee: g.grantee,
                role: g.role,
            });
        }
        for a in &s.accounts {
            let Some(key) = &a.import.import_key else { continue };
            h.items.insert(
                key.as_str().to_owned(),
                StoredItem {
                    target: GrantTarget::Account(a.id),
                    collection: a.collection,
                    name: a.name.clone(),
                    held: held(&a.import, || account_digests(a)),
                },
            );
        }
        for s in &s.secrets {
            let Some(key) = &s.import.import_key else { continue };
            h.items.insert(
                key.as_str().to_owned(),
                StoredItem {
                    target: GrantTarget::Secret(s.id),
                    collection: s.collection,
                    name: s.title.clone(),
                    held: held(&s.import, || secret_digests(s)),
                },
            );
        }
        h
    }

    pub fn member_by_email(&self, email: &str) -> Option<&Member> {
        self.members.iter().find(|m| m.email.eq_ignore_ascii_case(email.trim()))
    }
}

/// What an item holds: the digests the store sent when it withheld the
/// values (a list route), else those of the values themselves.
fn held(import: &ItemImport, digests: impl FnOnce() -> Vec<Digest>) -> Held {
    let Some(w) = &import.withheld else {
        return Held::new(digests());
    };
    Held::new(
        w.value_digests
            .iter()
            .filter_map(|h| {
                let mut d = Digest::default();
                hex::decode_to_slice(h, &mut d).ok().map(|()| d)
            })
            .collect(),
    )
}

/// The digest of each value an account holds, as the check counts them.
pub fn account_digests(a: &Account) -> Vec<Digest> {
    let mut d = Digests::default();
    d.text(Some(a.name.as_bytes()));
    d.text(a.url.as_deref().map(str::as_bytes));
    for u in &a.urls {
        d.text(Some(u.as_bytes()));
    }
    d.text(a.username.as_deref().map(str::as_bytes));
    d.text(a.password.as_ref().map(|p| p.expose_bytes()));
    d.text(a.totp.as_ref().map(|p| p.expose_bytes()));
    d.text(a.notes.as_deref().map(str::as_bytes));
    for f in &a.fields {
        d.text(Some(f.value.expose().as_bytes()));
    }
    for f in &a.attachments {
        d.attachment(&f.name, f.sha256().as_ref());
    }
    d.0
}

/// The same for a secret.
pub fn secret_digests(s: &SecretItem) -> Vec<Digest> {
    let mut d = Digests::default();
    d.text(Some(s.title.as_bytes()));
    d.text(s.notes.as_deref().map(str::as_bytes));
    for f in &s.fields {
        d.text(Some(f.value.expose().as_bytes()));
    }
    for f in &s.attachments {
        d.attachment(&f.name, f.sha256().as_ref());
    }
    d.0
}

impl Digests {
    pub fn extend(&mut self, more: Vec<Digest>) {
        self.0.extend(more);
    }
}
