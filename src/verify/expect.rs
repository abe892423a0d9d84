//! The source side's rights, and what the workspace should give for them.
//!
//! Who could open an entry in the source: the person whose export it is
//! (every entry outside a shared folder, as its administrator), every
//! person a share of its folder or of a folder above it names, and every
//! person a share of the entry itself names (CXF item sharing), directly or
//! as a member of a group. What each of them should hold in the workspace
//! follows from the rules of ARCHITECTURE.md ("Mapping rules"), written
//! here again on purpose: this is the second, independent reading of them
//! that a mapper bug has to get past.

use std::collections::BTreeMap;
use std::rc::Rc;

use rustc_hash::FxHashMap;

use crate::model::{Access, Folder, Principal, Share, ShareStatus};
use crate::policy::Policy;
use crate::workspace::{domain_in, ItemRole, MemberState, PartnershipState, Role};

use super::holdings::Holdings;
use super::reach::rank;

/// One way a person could open a folder's entries in the source.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Right {
    pub access: Access,
    pub status: ShareStatus,
    /// The export's own person, on an entry outside any shared folder.
    pub personal: bool,
}

impl Right {
    pub fn describe(&self) -> String {
        let base = self.access.describe();
        match self.status {
            ShareStatus::Active => base,
            ShareStatus::Pending => format!("{base}, never accepted"),
            ShareStatus::Deleted => format!("{base}, deleted in the source"),
            ShareStatus::Suspended => format!("{base}, suspended in the source"),
        }
    }
}

/// Person (email, lowercase) → the rights they had on one folder.
pub type Rights = BTreeMap<String, Vec<Right>>;

/// Why a difference between source and workspace is what the rules say.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Rule {
    GuestCapped,
    LoginOnlyCapped,
    PartnershipCapped,
    EditNotAdmin,
    HidePasswordsNotKept,
    LeftCompany,
    NotJoined,
    MemberNotActive,
    NeverAccepted,
    NotActiveInSource,
    InvitationsOff,
    NotAnEmail,
    NoOwnerInSource,
    SkippedByPolicy,
    RemovedInWorkspace,
}

impl Rule {
    /// Stable ids, as findings have.
    pub fn code(self) -> &'static str {
        match self {
            Rule::GuestCapped => "guest-capped",
            Rule::LoginOnlyCapped => "login-only-capped",
            Rule::PartnershipCapped => "partnership-capped",
            Rule::EditNotAdmin => "edit-not-admin",
            Rule::HidePasswordsNotKept => "hide-passwords-not-kept",
            Rule::LeftCompany => "left-the-company",
            Rule::NotJoined => "invited-not-joined",
            Rule::MemberNotActive => "member-not-active",
            Rule::NeverAccepted => "share-never-accepted",
            Rule::NotActiveInSource => "share-not-active",
            Rule::InvitationsOff => "invitations-off",
            Rule::NotAnEmail => "not-an-email",
            Rule::NoOwnerInSource => "no-owner-in-source",
            Rule::SkippedByPolicy => "skipped-by-policy",
            Rule::RemovedInWorkspace => "removed-in-workspace",
        }
    }

    pub fn why(self) -> &'static str {
        match self {
            Rule::GuestCapped => "guests hold Collaborator only (Manager on accounts for a partner's Guest Admin)",
            Rule::LoginOnlyCapped => "login-only members hold Collaborator only",
            Rule::PartnershipCapped => "partnerships carry Collaborator or Manager only",
            Rule::EditNotAdmin => "an edit right without admin becomes the policy's [roles] edit role",
            Rule::HidePasswordsNotKept => "no workspace role hides passwords",
            Rule::LeftCompany => "inside the company's domains but not a member: never invited, listed as unmatched",
            Rule::NotJoined => "invited to the workspace but not joined yet: no grants until they join",
            Rule::MemberNotActive => "suspended or removed in the workspace: no grants",
            Rule::NeverAccepted => "never accepted the share in the source: no grant",
            Rule::NotActiveInSource => "deleted or suspended in the source: no grant",
            Rule::InvitationsOff => "outside the company and the policy invites no guests",
            Rule::NotAnEmail => "the sharing data names them without an email address",
            Rule::NoOwnerInSource => "nobody could administer the shared folder: the personal items' owner manages it",
            Rule::SkippedByPolicy => "archived or in a folder the policy skips: not imported",
            Rule::RemovedInWorkspace => {
                "an admin removed it in the workspace since the import; re-runs leave that alone (--overwrite restores it)"
            }
        }
    }
}

/// What one person should hold on one item, and the rule that says so
/// when it differs from the source.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Expected {
    pub role: Option<ItemRole>,
    pub rule: Option<Rule>,
    pub right: Right,
}

/// The source's rights per folder, worked out once per folder, and the
/// rights single entries carry of their own (a CXF item's `shared`).
pub struct SourceRights<'s> {
    shares: &'s [Share],
    folders: &'s [Folder],
    owner: String,
    memo: FxHashMap<(Vec<String>, Option<bool>), Rc<Rights>>,
    /// Entry source id → the item shares on it.
    on_items: FxHashMap<&'s str, Vec<&'s Share>>,
}

impl<'s> SourceRights<'s> {
    pub fn new(shares: &'s [Share], folders: &'s [Folder], owner: &str) -> SourceRights<'s> {
        let mut on_items: FxHashMap<&str, Vec<&Share>> = FxHashMap::default();
        for share in shares {
            if let Some(item) = &share.item {
                on_items.entry(item.source_id.as_str()).or_default().push(share);
            }
        }
        SourceRights {
            shares,
            folders,
            owner: owner.trim().to_lowercase(),
            memo: FxHashMap::default(),
            on_items,
        }
    }

    /// Who could open this one entry: its folder's people, and those its
    /// own shares name (each right kept, so the strongest decides).
    /// `None` when no share names the entry itself: its folder says all.
    pub fn entry(&mut self, id: &str, path: &[String], said: Option<bool>) -> Option<Rc<Rights>> {
        let own = self.on_items.get(id)?.clone();
        let mut rights = (*self.folder(path, said)).clone();
        for share in own {
            add(&mut rights, share);
        }
        Some(Rc::new(rights))
    }

    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// Whether the entries of this folder are in a shared folder (a LastPass
    /// shared folder, a shared 1Password vault): then only the shares say
    /// who could open them. `said`: what the source says of the entry.
    pub fn in_shared_folder(&self, path: &[String], said: Option<bool>) -> bool {
        if let Some(shared) = said {
            return shared;
        }
        let Some(top) = path.first() else { return false };
        self.folders
            .iter()
            .any(|f| f.shared && f.path.len() == 1 && f.path.first() == Some(top))
    }

    /// Who could open the entries of this folder. An entry the source
    /// says is outside any shared folder is its person's alone, whatever a
    /// share of a same-named folder says.
    pub fn folder(&mut self, path: &[String], said: Option<bool>) -> Rc<Rights> {
        let key = (path.to_vec(), said);
        if let Some(r) = self.memo.get(&key) {
            return Rc::clone(r);
        }
        let mut rights = Rights::new();
        let shared = self.in_shared_folder(path, said);
        if !shared {
            rights.entry(self.owner.clone()).or_default().push(Right {
                access: Access {
                    admin: true,
                    edit: true,
                    hide_passwords: false,
                },
                status: ShareStatus::Active,
                personal: true,
            });
        }
        for share in self.shares {
            // An item share reaches its one entry only (`entry`).
            if said == Some(false)
                || share.item.is_some()
                || share.folder.is_empty()
                || !path.starts_with(&share.folder)
            {
                continue;
            }
            add(&mut rights, share);
        }
        let rights = Rc::new(rights);
        self.memo.insert(key, Rc::clone(&rights));
        rights
    }
}

/// The right a share gives each person it names (a group: its members).
fn add(rights: &mut Rights, share: &Share) {
    let right = Right {
        access: share.access,
        status: share.status,
        personal: false,
    };
    match &share.principal {
        Principal::User { email, .. } => rights.entry(email.trim().to_lowercase()).or_default().push(right),
        Principal::Group { members, .. } => {
            for m in members {
                rights.entry(m.trim().to_lowercase()).or_default().push(right);
            }
        }
    }
}

/// The role the policy maps a source access to, before any cap.
fn mapped(policy: &Policy, access: &Access) -> ItemRole {
    let r = &policy.roles;
    if access.admin {
        r.admin
    } else if access.edit {
        r.edit
    } else if access.hide_passwords {
        r.hide_passwords
    } else {
        r.read_only
    }
}

fn looks_like_email(email: &str) -> bool {
    email
        .split_once('@')
        .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.') && !domain.contains('@'))
}

/// Where a source person is in the workspace: how their role is found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Seat {
    Member(i64),
    Partnership(i64),
    Nowhere,
}

pub fn seat(h: &Holdings, email: &str) -> Seat {
    if let Some(m) = h.member_by_email(email) {
        return Seat::Member(m.id);
    }
    match h
        .partnerships
        .iter()
        .find(|p| p.state == PartnershipState::Accepted && domain_in(email, &p.domains))
    {
        Some(p) => Seat::Partnership(p.id),
        None => Seat::Nowhere,
    }
}

/// What `email` should hold through one right.
fn one(h: &Holdings, policy: &Policy, email: &str, right: Right, is_account: bool) -> Expected {
    let none = |rule| Expected {
        role: None,
        rule: Some(rule),
        right,
    };
    match right.status {
        ShareStatus::Active => {}
        ShareStatus::Pending => return none(Rule::NeverAccepted),
        ShareStatus::Deleted | ShareStatus::Suspended => return none(Rule::NotActiveInSource),
    }
    let role = mapped(policy, &right.access);
    // The rule a lowered or lost part of the right falls under, when the
    // role itself is carried.
    let softer = |role: ItemRole| {
        if right.access.edit && !right.access.admin && role == ItemRole::Collaborator {
            Some(Rule::EditNotAdmin)
        } else if right.access.hide_passwords {
            Some(Rule::HidePasswordsNotKept)
        } else {
            None
        }
    };
    let capped = |role: ItemRole, cap: ItemRole, rule: Rule| {
        if rank(role) > rank(cap) {
            Expected {
                role: Some(cap),
                rule: Some(rule),
                right,
            }
        } else {
            Expected {
                role: Some(role),
                rule: if right.access.edit && !right.access.admin {
                    Some(rule)
                } else {
                    softer(role)
                },
                right,
            }
        }
    };
    if let Some(m) = h.member_by_email(email) {
        return match (m.state, m.role) {
            (MemberState::Suspended | MemberState::Removed, _) => none(Rule::MemberNotActive),
            (MemberState::Invited, r) if r != Role::Guest => none(Rule::NotJoined),
            (_, Role::Guest) => {
                let cap = if is_account
                    && right.access.admin
                    && h.guest_admins.contains(&m.id)
                    && policy.partner_guest_admin_role == ItemRole::Manager
                {
                    ItemRole::Manager
                } else {
                    ItemRole::Collaborator
                };
                capped(role, cap, Rule::GuestCapped)
            }
            (_, Role::LoginOnly) => capped(role, ItemRole::Collaborator, Rule::LoginOnlyCapped),
            _ => Expected {
                role: Some(role),
                rule: softer(role),
                right,
            },
        };
    }
    if right.personal {
        // The export's own person is not in the workspace: nobody is
        // their seat, which the comparison names.
        return Expected {
            role: Some(role),
            rule: None,
            right,
        };
    }
    if !looks_like_email(email) {
        return none(Rule::NotAnEmail);
    }
    let company = policy.company_domains.clone().unwrap_or_else(|| h.domains.clone());
    if domain_in(email, &company) {
        return none(Rule::LeftCompany);
    }
    if let Seat::Partnership(_) = seat(h, email) {
        return capped(role, ItemRole::Collaborator, Rule::PartnershipCapped);
    }
    if !policy.invite_guests {
        return none(Rule::InvitationsOff);
    }
    // An outside sharer should have been invited as a guest; they are not
    // in the workspace, which the comparison names as lost.
    capped(role, ItemRole::Collaborator, Rule::GuestCapped)
}

/// What `email` should hold on an item they had these rights on: the
/// strongest role any of them gives.
pub fn expected(h: &Holdings, policy: &Policy, email: &str, rights: &[Right], is_account: bool) -> Option<Expected> {
    let mut best: Option<Expected> = None;
    for &right in rights {
        let e = one(h, policy, email, right, is_account);
        best = Some(match best {
            None => e,
            Some(b) => match (b.role, e.role) {
                (None, Some(_)) => e,
                (Some(x), Some(y)) if rank(y) > rank(x) => e,
                _ => b,
            },
        });
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workspace::{Member, Partnership};

    fn member(id: i64, email: &str, role: Role, state: MemberState) -> Member {
        Member {
            id,
            email: email.into(),
            name: None,
            role,
            directory_managed: false,
            state,
        }
    }

    fn right(admin: bool, edit: bool, status: ShareStatus) -> Right {
        Right {
            access: Access {
                admin,
                edit,
                hide_passwords: false,
            },
            status,
            personal: false,
        }
    }

    #[test]
    fn an_entrys_own_share_adds_to_that_entry_only_and_never_to_its_folder() {
        let path = vec!["Private".to_owned()];
        let folders = vec![Folder {
            path: path.clone(),
            shared: false,
            source_id: None,
            description: None,
        }];
        let item = crate::model::EntryRef {
            source_id: "a".into(),
            title: "a".into(),
            folder: path.clone(),
        };
        let admin = Access {
            admin: true,
            edit: true,
            hide_passwords: false,
        };
        let shares = vec![
            Share::on_item(item.clone(), Principal::user("Dana@corp.example"), Access::default()),
            Share::on_item(
                item,
                Principal::Group {
                    group: "Ops".into(),
                    members: vec!["lee@corp.example".into(), "owner@corp.example".into()],
                },
                admin,
            ),
        ];
        let mut rights = SourceRights::new(&shares, &folders, "owner@corp.example");
        let folder = rights.folder(&path, None);
        assert_eq!(
            folder.keys().collect::<Vec<_>>(),
            ["owner@corp.example"],
            "the folder stays private"
        );
        assert!(
            rights.entry("b", &path, None).is_none(),
            "another entry: its folder says all"
        );
        let a = rights.entry("a", &path, None).unwrap();
        assert_eq!(
            a.keys().map(String::as_str).collect::<Vec<_>>(),
            ["dana@corp.example", "lee@corp.example", "owner@corp.example"]
        );
        assert_eq!(
            a["owner@corp.example"].len(),
            2,
            "personal and through the group: the strongest decides"
        );
        assert!(a["lee@corp.example"][0].access.admin);
    }

    #[test]
    fn each_person_gets_what_the_rules_give_for_their_right_and_the_rule_is_named() {
        let mut h = Holdings {
            domains: vec!["corp.example".into()],
            members: vec![
                member(1, "ann@corp.example", Role::User, MemberState::Active),
                member(2, "gus@out.example", Role::Guest, MemberState::Invited),
                member(3, "kio@corp.example", Role::LoginOnly, MemberState::Active),
                member(4, "new@corp.example", Role::User, MemberState::Invited),
                member(5, "ada@partner.example", Role::Guest, MemberState::Active),
            ],
            partnerships: vec![Partnership {
                id: 9,
                partner_workspace_id: "ws-p".into(),
                name: "P".into(),
                domains: vec!["globex.example".into()],
                state: PartnershipState::Accepted,
            }],
            ..Holdings::default()
        };
        h.guest_admins.insert(5);
        let policy = Policy::default();
        let admin = right(true, true, ShareStatus::Active);
        let edit = right(false, true, ShareStatus::Active);
        let got = |email: &str, rights: &[Right], account: bool, policy: &Policy| {
            let e = expected(&h, policy, email, rights, account).unwrap();
            (e.role, e.rule)
        };
        let owner = Some(ItemRole::Owner);
        let collab = Some(ItemRole::Collaborator);
        assert_eq!(got("ann@corp.example", &[admin], true, &policy), (owner, None));
        assert_eq!(
            got("ann@corp.example", &[edit], true, &policy),
            (collab, Some(Rule::EditNotAdmin))
        );
        assert_eq!(
            got("gus@out.example", &[admin], true, &policy),
            (collab, Some(Rule::GuestCapped))
        );
        assert_eq!(
            got("kio@corp.example", &[admin], true, &policy),
            (collab, Some(Rule::LoginOnlyCapped))
        );
        assert_eq!(
            got("new@corp.example", &[admin], true, &policy),
            (None, Some(Rule::NotJoined))
        );
        assert_eq!(
            got("gone@corp.example", &[admin], true, &policy),
            (None, Some(Rule::LeftCompany))
        );
        assert_eq!(
            got("kim@globex.example", &[admin], true, &policy),
            (collab, Some(Rule::PartnershipCapped))
        );
        let pending = right(true, true, ShareStatus::Pending);
        assert_eq!(
            got("ann@corp.example", &[pending], true, &policy),
            (None, Some(Rule::NeverAccepted))
        );
        // The strongest right wins: a pending admin right and an active read-only one.
        let read = right(false, false, ShareStatus::Active);
        assert_eq!(got("ann@corp.example", &[pending, read], true, &policy), (collab, None));
        // A partner's Guest Admin manages accounts when the policy says so.
        let managing = Policy {
            partner_guest_admin_role: ItemRole::Manager,
            ..Policy::default()
        };
        assert_eq!(
            got("ada@partner.example", &[admin], true, &managing),
            (Some(ItemRole::Manager), Some(Rule::GuestCapped))
        );
        assert_eq!(
            got("ada@partner.example", &[admin], false, &managing),
            (collab, Some(Rule::GuestCapped))
        );
        let no_guests = Policy {
            invite_guests: false,
            ..Policy::default()
        };
        assert_eq!(
            got("zed@else.example", &[admin], true, &no_guests),
            (None, Some(Rule::InvitationsOff))
        );
    }
}
