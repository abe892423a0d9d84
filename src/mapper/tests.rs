//! One test per mapping rule (ARCHITECTURE.md, "Mapping rules"), on small
//! hand-built vaults against the sample company's workspace.

use super::*;
use crate::model::{Access, Entry, EntryKind, Field, Principal, Share, ShareStatus, SourceKind, Vault};
use crate::secret::Secret;
use crate::workspace::{
    Account, Collection, ItemImport, LocalPartner, Member, MemberState, Partnership, PartnershipState, PasswordPolicy,
    Role, SecretItem, SecretType, Snapshot, Team, WorkspaceInfo,
};

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

/// Northwind Robotics, as in the samples.
fn northwind() -> Snapshot {
    Snapshot {
        workspace: WorkspaceInfo {
            id: "ws-northwind".into(),
            name: "Northwind Robotics".into(),
            domains: vec!["northwind.example".into(), "nwr.example".into()],
            password_policy: PasswordPolicy::default(),
        },
        members: vec![
            member(1, "olivia@northwind.example", Role::Owner, MemberState::Active),
            member(2, "sam@northwind.example", Role::Admin, MemberState::Active),
            member(3, "dana@northwind.example", Role::User, MemberState::Active),
            member(4, "lee@northwind.example", Role::User, MemberState::Active),
            member(5, "priya@northwind.example", Role::User, MemberState::Active),
            member(6, "kiosk@northwind.example", Role::LoginOnly, MemberState::Active),
            member(7, "felix@northwind.example", Role::User, MemberState::Suspended),
            member(8, "mo@freelance.example", Role::Guest, MemberState::Active),
        ],
        teams: vec![
            Team {
                id: 10,
                name: "Engineering".into(),
                members: vec![3, 4],
                import_key: None,
            },
            Team {
                id: 11,
                name: "Finance".into(),
                members: vec![5],
                import_key: None,
            },
        ],
        partners: vec![LocalPartner {
            id: 20,
            name: "Acme Partners".into(),
            domains: vec!["acme-partners.example".into()],
            guest_admins: vec![],
            guest_users: vec![],
        }],
        partnerships: vec![
            Partnership {
                id: 30,
                partner_workspace_id: "ws-globex".into(),
                name: "Globex".into(),
                domains: vec!["globex.example".into()],
                state: PartnershipState::Accepted,
            },
            Partnership {
                id: 31,
                partner_workspace_id: "ws-initech".into(),
                name: "Initech".into(),
                domains: vec!["initech.example".into()],
                state: PartnershipState::Requested,
            },
        ],
        collections: vec![],
        accounts: vec![],
        secrets: vec![],
        intact_accounts: vec![],
        intact_secrets: vec![],
        grants: vec![],
        invitations: vec![],
        removed: Default::default(),
    }
}

fn path(p: &str) -> Vec<String> {
    p.split('/').filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

fn login(id: &str, folder: &str, title: &str) -> Entry {
    let mut e = Entry::new(EntryKind::Login, title);
    e.source_id = id.into();
    e.folder = path(folder).into();
    e.username = Some(format!("{title}-user"));
    e.password = Some(Secret::text(format!("Pw-{id}-7fQ2!x")));
    e.urls = vec![format!("https://{title}.example/login")];
    e
}

fn entry(id: &str, kind: EntryKind, folder: &str, title: &str) -> Entry {
    let mut e = Entry::new(kind, title);
    e.source_id = id.into();
    e.folder = path(folder).into();
    e
}

fn vault(entries: Vec<Entry>) -> Vault {
    let mut v = Vault::new(SourceKind::LastpassCsv, "company.csv");
    for e in &entries {
        if !e.folder.is_empty() {
            v.ensure_folder(&e.folder, false);
        }
    }
    v.entries = entries;
    v
}

fn share_user(v: &mut Vault, folder: &str, email: &str, access: Access) -> Share {
    v.ensure_folder(&path(folder), true);
    let s = Share::new(path(folder), Principal::user(email), access);
    v.shares.push(s.clone());
    s
}

const ADMIN: Access = Access {
    admin: true,
    edit: true,
    hide_passwords: false,
};
const EDIT: Access = Access {
    admin: false,
    edit: true,
    hide_passwords: false,
};
const READ: Access = Access {
    admin: false,
    edit: false,
    hide_passwords: false,
};
const HIDE: Access = Access {
    admin: false,
    edit: false,
    hide_passwords: true,
};

fn plan(v: &Vault) -> Plan {
    plan_with(v, &Policy::default())
}

fn plan_with(v: &Vault, policy: &Policy) -> Plan {
    map(v.clone(), policy, &northwind(), "sam@northwind.example").unwrap()
}

fn grants_to<'p>(p: &'p Plan, label: &str) -> Vec<&'p PlannedGrant> {
    p.grants.iter().filter(|g| g.grantee.label() == label).collect()
}

fn codes(p: &Plan) -> Vec<&str> {
    p.findings.iter().map(|f| f.code.as_str()).collect()
}

fn key(s: &str) -> ImportKey {
    ImportKey(s.into())
}

#[test]
fn folder_tree_becomes_a_collection_tree_with_stable_keys() {
    let v = vault(vec![
        login("1", "Shared-Engineering", "git"),
        login("2", "Shared-Engineering/Databases/Prod", "pg"),
        login("3", "Personal/Travel", "airline"),
    ]);
    let p = plan(&v);
    let names: Vec<(&str, Option<&str>)> = p
        .collections
        .iter()
        .map(|c| (c.name.as_str(), c.parent.as_ref().map(ImportKey::as_str)))
        .collect();
    assert_eq!(
        names,
        vec![
            ("Engineering", None),
            ("Databases", Some("collection:lastpass:Shared-Engineering")),
            ("Prod", Some("collection:lastpass:Shared-Engineering/Databases")),
            ("Personal", None),
            (
                "Travel",
                Some("collection:lastpass:personal:sam@northwind.example:Personal")
            ),
        ]
    );
    let pg = p.accounts.iter().find(|a| a.source_id == "2").unwrap();
    assert_eq!(pg.key, key("account:lastpass:2"));
    assert_eq!(
        pg.collection,
        Some(key("collection:lastpass:Shared-Engineering/Databases/Prod"))
    );
}

#[test]
fn entry_kinds_become_accounts_or_the_right_secret_type() {
    let mut card = entry("c", EntryKind::CreditCard, "F", "Visa");
    card.fields.push(Field::concealed("number", "4111111111111111"));
    card.source_type = Some("Credit Card".into());
    let mut db = entry("d", EntryKind::Database, "F", "prod-db");
    db.username = Some("admin".into());
    db.password = Some(Secret::text("Pw-Db-9xY!"));
    let v = vault(vec![
        login("l", "F", "mail"),
        entry("n", EntryKind::SecureNote, "F", "note"),
        entry("w", EntryKind::Wifi, "F", "wifi"),
        entry("s", EntryKind::SshKey, "F", "key"),
        db,
        entry("v", EntryKind::Server, "F", "srv"),
        entry("x", EntryKind::SoftwareLicense, "F", "lic"),
        card,
        entry("e", EntryKind::EmailAccount, "F", "mailbox"),
    ]);
    let p = plan(&v);
    assert_eq!(p.accounts.len(), 1);
    let types: Vec<(&str, SecretType)> = p
        .secrets
        .iter()
        .map(|s| (s.source_id.as_str(), s.secret_type))
        .collect();
    assert_eq!(
        types,
        vec![
            ("n", SecretType::Secret),
            ("w", SecretType::Wifi),
            ("s", SecretType::SshKey),
            ("d", SecretType::Database),
            ("v", SecretType::Server),
            ("x", SecretType::SoftwareLicense),
            ("c", SecretType::Custom),
            ("e", SecretType::Custom),
        ]
    );
    let card = p.secrets.iter().find(|s| s.source_id == "c").unwrap();
    assert_eq!(card.source_kind, EntryKind::CreditCard);
    assert_eq!(card.key, key("secret:lastpass:c"));
    assert_eq!(card.fields[0].label, "number");
    assert!(card.fields[0].is_concealed());
    let db = p.secrets.iter().find(|s| s.source_id == "d").unwrap();
    let labels: Vec<&str> = db.fields.iter().map(|f| f.label.as_str()).collect();
    assert_eq!(labels, vec!["username", "password"]);
    assert!(db.fields[1].is_concealed(), "a database password stays a secret");

    let policy = Policy {
        account_kinds: vec![EntryKind::Login, EntryKind::EmailAccount, EntryKind::Server],
        ..Policy::default()
    };
    let p = plan_with(&v, &policy);
    let ids: Vec<&str> = p.accounts.iter().map(|a| a.source_id.as_str()).collect();
    assert_eq!(ids, vec!["l", "v", "e"]);
}

#[test]
fn archived_entries_are_skipped_unless_the_policy_imports_them_and_counts_reconcile() {
    let mut old = login("2", "F", "old");
    old.archived = true;
    let v = vault(vec![
        login("1", "F", "new"),
        old,
        entry("3", EntryKind::SecureNote, "F", "n"),
    ]);
    let p = plan(&v);
    assert_eq!(p.skipped.len(), 1);
    assert_eq!(p.skipped[0].reason, SkipReason::Archived);
    assert_eq!(p.skipped[0].title, "old");
    assert!(codes(&p).contains(&"mapper.archived-skipped"));
    let r = p.reconcile();
    assert_eq!((r.source_entries, r.accounts, r.secrets, r.skipped), (3, 1, 1, 1));
    assert!(r.holds());

    let p = plan_with(
        &v,
        &Policy {
            import_archived: true,
            ..Policy::default()
        },
    );
    assert_eq!(p.accounts.len(), 2);
    assert!(p.skipped.is_empty());
    assert!(p.reconcile().holds());
}

#[test]
fn empty_folders_are_created_only_if_the_policy_asks() {
    let mut v = vault(vec![login("1", "Full", "a")]);
    v.ensure_folder(&path("Empty/Sub"), false);
    let p = plan(&v);
    let names: Vec<&str> = p.collections.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, vec!["Full"]);
    assert!(codes(&p).contains(&"mapper.empty-folder"));
    let p = plan_with(
        &v,
        &Policy {
            create_empty_folders: true,
            ..Policy::default()
        },
    );
    let names: Vec<&str> = p.collections.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, vec!["Full", "Empty", "Sub"]);
}

#[test]
fn skip_folders_leaves_out_the_folder_its_subfolders_and_their_shares() {
    let mut v = vault(vec![
        login("1", "Keep", "a"),
        login("2", "Old", "b"),
        login("3", "Old/Deeper", "c"),
    ]);
    share_user(&mut v, "Old", "lee@northwind.example", READ);
    let policy = Policy {
        skip_folders: vec![path("Old")],
        ..Policy::default()
    };
    let p = plan_with(&v, &policy);
    assert_eq!(p.accounts.len(), 1);
    assert_eq!(p.skipped.len(), 2);
    assert!(p.skipped.iter().all(|s| s.reason == SkipReason::SkippedFolder));
    assert_eq!(p.collections.len(), 1);
    assert!(grants_to(&p, "lee@northwind.example").is_empty());
    assert!(p.reconcile().holds());
}

#[test]
fn access_maps_to_roles_and_edit_without_admin_is_reported() {
    let mut v = vault(vec![login("1", "Eng", "a")]);
    share_user(&mut v, "Eng", "dana@northwind.example", ADMIN);
    share_user(&mut v, "Eng", "lee@northwind.example", EDIT);
    share_user(&mut v, "Eng", "priya@northwind.example", READ);
    share_user(&mut v, "Eng", "olivia@northwind.example", HIDE);
    let p = plan(&v);
    let role = |p: &Plan, who: &str| grants_to(p, who).first().map(|g| g.role);
    assert_eq!(role(&p, "dana@northwind.example"), Some(ItemRole::Owner));
    assert_eq!(role(&p, "lee@northwind.example"), Some(ItemRole::Collaborator));
    assert_eq!(role(&p, "priya@northwind.example"), Some(ItemRole::Collaborator));
    assert_eq!(role(&p, "olivia@northwind.example"), Some(ItemRole::Collaborator));
    let edit: Vec<_> = p
        .findings
        .iter()
        .filter(|f| f.code == "mapper.edit-not-admin")
        .collect();
    assert_eq!(edit.len(), 1);
    assert!(edit[0].message.contains("lee@northwind.example"));
    let g = &grants_to(&p, "lee@northwind.example")[0];
    assert_eq!(g.target, key("collection:lastpass:personal:sam@northwind.example:Eng"));
    assert_eq!(
        g.key,
        key("grant:collection:lastpass:personal:sam@northwind.example:Eng->member:lee@northwind.example")
    );

    let mut policy = Policy::default();
    policy.roles.edit = ItemRole::Owner;
    let p = plan_with(&v, &policy);
    assert_eq!(role(&p, "lee@northwind.example"), Some(ItemRole::Owner));
    assert!(!codes(&p).contains(&"mapper.edit-not-admin"));
}

#[test]
fn guests_and_login_only_members_are_capped_to_collaborator() {
    let mut v = vault(vec![login("1", "Vendors", "a")]);
    share_user(&mut v, "Vendors", "MO@freelance.example", ADMIN);
    share_user(&mut v, "Vendors", "kiosk@northwind.example", ADMIN);
    let p = plan(&v);
    for who in ["mo@freelance.example", "kiosk@northwind.example"] {
        let g = grants_to(&p, who);
        assert_eq!(g.len(), 1, "{who}");
        assert_eq!(g[0].role, ItemRole::Collaborator);
        assert_eq!(g[0].lowered_from, Some(ItemRole::Owner));
        assert!(matches!(g[0].grantee, PlannedGrantee::Member { .. }));
    }
    assert!(codes(&p).contains(&"mapper.guest-role-lowered"));
    assert!(codes(&p).contains(&"mapper.login-only-role-lowered"));
    assert!(p.invitations.is_empty(), "an existing guest is not invited again");
}

#[test]
fn suspended_members_get_no_grant_and_are_listed() {
    let mut v = vault(vec![login("1", "Eng", "a")]);
    share_user(&mut v, "Eng", "felix@northwind.example", EDIT);
    let p = plan(&v);
    assert!(grants_to(&p, "felix@northwind.example").is_empty());
    assert_eq!(p.unmatched.len(), 1);
    assert_eq!(p.unmatched[0].reason, UnmatchedReason::Suspended);
    assert!(codes(&p).contains(&"mapper.member-not-active"));
}

#[test]
fn company_domain_non_members_are_never_invited_and_listed_with_their_items() {
    let mut v = vault(vec![
        login("1", "Eng", "a"),
        login("2", "Eng/Db", "b"),
        login("3", "Other", "c"),
    ]);
    share_user(&mut v, "Eng", " Mark@Northwind.example", EDIT);
    share_user(&mut v, "Other", "someone@sub.nwr.example", READ);
    let p = plan(&v);
    assert!(p.invitations.is_empty());
    assert!(grants_to(&p, "mark@northwind.example").is_empty());
    let mark = p
        .unmatched
        .iter()
        .find(|u| u.email == "mark@northwind.example")
        .unwrap();
    assert_eq!(mark.reason, UnmatchedReason::LeftCompany);
    assert_eq!(mark.access[0].folder, "Eng");
    assert_eq!(mark.access[0].access, "edit");
    assert_eq!(mark.items, vec![key("account:lastpass:1"), key("account:lastpass:2")]);
    assert!(p.unmatched.iter().any(|u| u.email == "someone@sub.nwr.example"));

    // The policy's company domains replace the workspace's.
    let policy = Policy {
        company_domains: Some(vec!["northwind.example".into()]),
        ..Policy::default()
    };
    let p = plan_with(&v, &policy);
    assert!(p.invitation("someone@sub.nwr.example").is_some());
}

#[test]
fn outside_sharers_are_invited_once_with_a_collaborator_grant_and_lowered_roles_reported() {
    let mut v = vault(vec![login("1", "Vendors", "a"), login("2", "Eng", "b")]);
    share_user(&mut v, "Vendors", "jules@studio-jules.example", HIDE);
    share_user(&mut v, "Eng", "Jules@Studio-Jules.example ", ADMIN);
    let mut s = Share::new(path("Vendors"), Principal::user("ravi@acme-partners.example"), ADMIN);
    s.source_access = Some("can_administer=1".into());
    v.shares.push(s);
    let p = plan(&v);
    assert_eq!(p.invitations.len(), 2);
    let jules = p.invitation("JULES@studio-jules.example").unwrap();
    assert_eq!(jules.key, key("invitation:jules@studio-jules.example"));
    assert_eq!(jules.folders, vec!["Eng".to_owned(), "Vendors".to_owned()]);
    assert_eq!(jules.partner, None);
    let g = grants_to(&p, "jules@studio-jules.example");
    assert_eq!(g.len(), 2);
    assert!(g.iter().all(|g| g.role == ItemRole::Collaborator));
    assert!(g
        .iter()
        .all(|g| matches!(&g.grantee, PlannedGrantee::Guest { email } if email == "jules@studio-jules.example")));
    let ravi = grants_to(&p, "ravi@acme-partners.example");
    assert_eq!(ravi[0].role, ItemRole::Collaborator);
    assert_eq!(ravi[0].lowered_from, Some(ItemRole::Owner));
    let lowered: Vec<_> = p
        .findings
        .iter()
        .filter(|f| f.code == "mapper.guest-role-lowered")
        .collect();
    assert_eq!(lowered.len(), 2, "jules on Eng and ravi on Vendors");
    assert!(lowered
        .iter()
        .any(|f| f.message.contains("ravi@acme-partners.example") && f.message.contains("can_administer=1")));
}

#[test]
fn local_partner_routing_by_domain() {
    let mut v = vault(vec![login("1", "Vendors", "a")]);
    share_user(&mut v, "Vendors", "ravi@acme-partners.example", ADMIN);
    share_user(&mut v, "Vendors", "tom@initech.example", READ);
    let p = plan(&v);
    let ravi = p.invitation("ravi@acme-partners.example").unwrap();
    assert_eq!(ravi.partner.as_deref(), Some("Acme Partners"));
    assert!(ravi.guest_admin);
    assert_eq!(p.invitation("tom@initech.example").unwrap().partner, None);
    // Default: a partner's guest admin is a Collaborator, with no account grants.
    assert_eq!(grants_to(&p, "ravi@acme-partners.example").len(), 1);

    let policy = Policy {
        partner_guest_admin_role: ItemRole::Manager,
        ..Policy::default()
    };
    let p = plan_with(&v, &policy);
    let g = grants_to(&p, "ravi@acme-partners.example");
    let manager: Vec<_> = g.iter().filter(|g| g.role == ItemRole::Manager).collect();
    assert_eq!(manager.len(), 1);
    assert_eq!(manager[0].target, key("account:lastpass:1"));
    assert!(g.iter().all(|g| g.role != ItemRole::Owner));
}

#[test]
fn an_accepted_partnership_shares_through_it_instead_of_inviting() {
    let mut v = vault(vec![login("1", "Vendors", "a")]);
    share_user(&mut v, "Vendors", "kim@globex.example", EDIT);
    share_user(&mut v, "Vendors", "boss@globex.example", ADMIN);
    share_user(&mut v, "Vendors", "tom@initech.example", READ);
    let p = plan(&v);
    assert!(p.invitation("kim@globex.example").is_none());
    let g = grants_to(&p, "Globex");
    assert_eq!(g.len(), 1, "one grant per partnership and collection");
    assert_eq!(g[0].grantee, PlannedGrantee::Partnership { name: "Globex".into() });
    assert_eq!(g[0].role, ItemRole::Collaborator);
    assert!(codes(&p).contains(&"mapper.partnership-role-lowered"));
    // Initech's partnership is only requested: a plain guest invitation.
    assert!(p.invitation("tom@initech.example").is_some());
    assert!(codes(&p).contains(&"mapper.partnership-not-accepted"));
}

#[test]
fn a_guest_shared_several_folders_is_reported_once() {
    let mut v = vault(vec![login("1", "Vendors", "a"), login("2", "Finance", "b")]);
    share_user(&mut v, "Vendors", "tom@initech.example", READ);
    share_user(&mut v, "Finance", "tom@initech.example", READ);
    let p = plan(&v);
    assert_eq!(p.invitations.len(), 1);
    let said = codes(&p)
        .iter()
        .filter(|c| **c == "mapper.partnership-not-accepted")
        .count();
    assert_eq!(said, 1, "one finding per person, not per folder");
}

#[test]
fn with_invitations_off_outside_sharers_are_unmatched() {
    let mut v = vault(vec![login("1", "Vendors", "a")]);
    share_user(&mut v, "Vendors", "jules@studio-jules.example", READ);
    let policy = Policy {
        invite_guests: false,
        ..Policy::default()
    };
    let p = plan_with(&v, &policy);
    assert!(p.invitations.is_empty());
    assert!(grants_to(&p, "jules@studio-jules.example").is_empty());
    assert_eq!(p.unmatched[0].reason, UnmatchedReason::InvitationsOff);
}

#[test]
fn pending_deleted_and_suspended_shares_get_no_grant() {
    let mut v = vault(vec![login("1", "Finance", "a")]);
    for (email, status) in [
        ("tom@initech.example", ShareStatus::Pending),
        ("lee@northwind.example", ShareStatus::Deleted),
        ("priya@northwind.example", ShareStatus::Suspended),
    ] {
        let mut s = Share::new(path("Finance"), Principal::user(email), READ);
        s.status = status;
        v.shares.push(s);
    }
    let p = plan(&v);
    let sharer_grants = p
        .grants
        .iter()
        .filter(|g| g.grantee.label() != "sam@northwind.example")
        .count();
    assert_eq!(sharer_grants, 0);
    assert!(p.invitations.is_empty());
    assert_eq!(codes(&p).iter().filter(|c| **c == "mapper.share-not-active").count(), 3);
    let reasons: Vec<_> = p.unmatched.iter().map(|u| (u.email.as_str(), u.reason)).collect();
    assert!(reasons.contains(&("tom@initech.example", UnmatchedReason::NeverAccepted)));
    assert!(reasons.contains(&("lee@northwind.example", UnmatchedReason::Deleted)));
    assert!(reasons.contains(&("priya@northwind.example", UnmatchedReason::SuspendedInSource)));
}

#[test]
fn groups_become_teams_with_their_active_members() {
    let mut v = vault(vec![login("1", "Eng", "a"), login("2", "Ops", "b")]);
    v.ensure_folder(&path("Eng"), true);
    v.shares
        .push(Share::new(path("Eng"), Principal::group("engineering"), EDIT));
    v.shares.push(Share::new(
        path("Ops"),
        Principal::Group {
            group: "Ops".into(),
            members: vec![
                "Lee@Northwind.example".into(),
                "priya@northwind.example".into(),
                "felix@northwind.example".into(),
                "mark@northwind.example".into(),
            ],
        },
        READ,
    ));
    let p = plan(&v);
    // The group names no members: the workspace's Engineering team (with
    // members) is not reused, or its members would gain access (bug 4).
    assert!(p.teams.iter().all(|t| t.name != "Engineering"));
    let eng = p.teams.iter().find(|t| t.name == "engineering (imported)").unwrap();
    assert_eq!(eng.existing, None);
    assert!(eng.members.is_empty());
    assert!(codes(&p).contains(&"mapper.group-team-not-reused"));
    let ops = p.teams.iter().find(|t| t.name == "Ops").unwrap();
    assert_eq!(ops.existing, None);
    assert_eq!(ops.members, vec!["lee@northwind.example", "priya@northwind.example"]);
    assert_eq!(
        codes(&p)
            .iter()
            .filter(|c| **c == "mapper.group-member-not-in-team")
            .count(),
        2
    );
    let g = grants_to(&p, "Ops");
    assert_eq!(g[0].grantee, PlannedGrantee::Team { name: "Ops".into() });
    assert_eq!(
        g[0].target,
        key("collection:lastpass:personal:sam@northwind.example:Ops")
    );
    assert_eq!(grants_to(&p, "engineering (imported)")[0].role, ItemRole::Collaborator);
    // Bug 4: the ex-employee reached only through the group is listed.
    assert!(p
        .unmatched
        .iter()
        .any(|u| u.email == "mark@northwind.example" && u.reason == UnmatchedReason::LeftCompany));
}

#[test]
fn personal_folders_and_root_items_are_owned_by_the_importer() {
    let mut v = vault(vec![
        login("1", "Personal", "a"),
        login("2", "Personal/Travel", "b"),
        login("3", "", "root"),
        login("4", "Eng", "c"),
    ]);
    share_user(&mut v, "Eng", "lee@northwind.example", ADMIN);
    let p = plan(&v);
    let mut targets: Vec<&str> = grants_to(&p, "sam@northwind.example")
        .iter()
        .map(|g| {
            assert_eq!(g.role, ItemRole::Owner);
            g.target.as_str()
        })
        .collect();
    targets.sort();
    assert_eq!(
        targets,
        vec![
            "account:lastpass:3",
            "collection:lastpass:personal:sam@northwind.example:Personal"
        ]
    );
    assert_eq!(p.importer, "sam@northwind.example");

    let policy = Policy {
        personal_items_owner: crate::policy::PersonalOwner::Member("olivia@northwind.example".into()),
        ..Policy::default()
    };
    let p = plan_with(&v, &policy);
    assert_eq!(grants_to(&p, "olivia@northwind.example").len(), 2);
    assert!(grants_to(&p, "sam@northwind.example").is_empty());

    let policy = Policy {
        personal_items_owner: crate::policy::PersonalOwner::Member("mo@freelance.example".into()),
        ..Policy::default()
    };
    assert!(map(v.clone(), &policy, &northwind(), "sam@northwind.example").is_err());
}

#[test]
fn duplicates_of_workspace_items_are_reported_but_not_same_key_items() {
    let mut mail = login("1", "F", "mail");
    mail.username = Some("Ann@Example.com".into());
    mail.urls = vec!["https://www.mail.example/inbox".into()];
    let mut note = entry("2", EntryKind::SecureNote, "F", "alarm code");
    note.notes = Some("front door 4821".into());
    let v = vault(vec![mail, note, login("3", "F", "fresh")]);
    let mut ws = northwind();
    ws.accounts.push(Account {
        id: 100,
        collection: None,
        name: "Webmail".into(),
        url: Some("mail.example".into()),
        urls: vec![],
        username: Some("ann@example.com".into()),
        password: None,
        totp: None,
        notes: None,
        fields: vec![],
        tags: vec![],
        attachments: vec![],
        import: ItemImport {
            import_key: None,
            imported_hash: None,
            withheld: None,
        },
    });
    ws.secrets.push(SecretItem {
        id: 200,
        collection: None,
        secret_type: SecretType::Secret,
        title: "alarm code".into(),
        notes: Some("front door 4821".into()),
        fields: vec![],
        tags: vec![],
        attachments: vec![],
        import: ItemImport {
            import_key: None,
            imported_hash: None,
            withheld: None,
        },
    });
    ws.collections.push(Collection {
        id: 1,
        name: "F".into(),
        parent: None,
        import_key: None,
    });
    let p = map(v.clone(), &Policy::default(), &ws, "sam@northwind.example").unwrap();
    assert_eq!(p.accounts[0].duplicate_of, Some(100));
    assert_eq!(p.accounts[1].duplicate_of, None);
    assert_eq!(p.secrets[0].duplicate_of, Some(200));
    assert!(codes(&p).contains(&"mapper.duplicate-account"));
    assert!(codes(&p).contains(&"mapper.duplicate-secret"));
    let r = p.reconcile();
    assert_eq!(r.duplicates, 2);
    assert!(r.holds());

    // The same objects imported by an earlier run are not duplicates.
    ws.accounts[0].import.import_key = Some(key("account:lastpass:1"));
    ws.secrets[0].import.import_key = Some(key("secret:lastpass:2"));
    let p = map(v.clone(), &Policy::default(), &ws, "sam@northwind.example").unwrap();
    assert_eq!(p.accounts[0].duplicate_of, None);
    assert_eq!(p.secrets[0].duplicate_of, None);

    // Nor is an item this export created under another of its keys: a
    // first run creates both entries, so a re-run must not skip one.
    ws.accounts[0].import.import_key = Some(key("account:lastpass:3"));
    let p = map(v.clone(), &Policy::default(), &ws, "sam@northwind.example").unwrap();
    assert_eq!(p.accounts[1].key, key("account:lastpass:3"));
    assert_eq!(p.accounts[0].duplicate_of, None);
    assert!(!codes(&p).contains(&"mapper.duplicate-account"));
}

#[test]
fn import_keys_do_not_depend_on_order() {
    let mut v = vault(vec![
        login("1", "Eng", "a"),
        login("2", "Eng/Db", "b"),
        entry("3", EntryKind::Wifi, "Vendors", "w"),
    ]);
    share_user(&mut v, "Eng", "lee@northwind.example", EDIT);
    share_user(&mut v, "Vendors", "jules@studio-jules.example", READ);
    share_user(&mut v, "Eng", "Jules@Studio-Jules.example", READ);
    let keys = |p: &Plan| {
        let mut k: Vec<String> = p
            .collections
            .iter()
            .map(|c| c.key.0.to_string())
            .chain(p.accounts.iter().map(|a| a.key.0.to_string()))
            .chain(p.secrets.iter().map(|s| s.key.0.to_string()))
            .chain(p.invitations.iter().map(|i| i.key.0.to_string()))
            .chain(p.grants.iter().map(|g| g.key.0.to_string()))
            .chain(p.teams.iter().map(|t| t.key.0.to_string()))
            .collect();
        k.sort();
        k
    };
    let a = plan(&v);
    v.entries.reverse();
    v.shares.reverse();
    v.folders.reverse();
    let b = plan(&v);
    assert_eq!(keys(&a), keys(&b));
    assert_eq!(a.grants, b.grants, "grants are sorted by key");
    assert!(keys(&a).contains(
        &"grant:collection:lastpass:personal:sam@northwind.example:Vendors->member:jules@studio-jules.example"
            .to_owned()
    ));
}

#[test]
fn a_share_of_a_folder_the_export_lacks_is_reported() {
    let mut v = vault(vec![login("1", "Eng", "a")]);
    v.shares.push(Share::new(
        path("Legacy"),
        Principal::user("lee@northwind.example"),
        READ,
    ));
    let p = plan(&v);
    assert!(codes(&p).contains(&"mapper.share-folder-missing"));
    assert!(grants_to(&p, "lee@northwind.example").is_empty());
    assert!(p.collections.iter().all(|c| c.name != "Legacy"));
}

#[test]
fn the_importer_must_be_an_active_admin() {
    let ws = northwind();
    assert_eq!(resolve_importer(&ws, None).unwrap().email, "olivia@northwind.example");
    assert_eq!(resolve_importer(&ws, Some(" SAM@northwind.example")).unwrap().id, 2);
    let err = resolve_importer(&ws, Some("mo@freelance.example")).unwrap_err();
    assert!(
        err.0
            .contains("is a guest; guests and login-only members cannot use the importer"),
        "{err}"
    );
    let err = resolve_importer(&ws, Some("kiosk@northwind.example")).unwrap_err();
    assert!(err.0.contains("login-only"), "{err}");
    assert!(resolve_importer(&ws, Some("lee@northwind.example")).is_err());
    let err = resolve_importer(&ws, Some("mark@northwind.example")).unwrap_err();
    assert!(err.0.contains("not a member"), "{err}");
    assert!(map(vault(vec![]), &Policy::default(), &ws, "mo@freelance.example").is_err());
}

#[test]
fn the_plan_json_never_holds_a_secret() {
    let mut e = login("1", "Eng", "a");
    e.totp = Some(Secret::text("JBSWY3DPEHPK3PXP"));
    e.fields.push(Field::concealed("PIN", "Pin-8822x"));
    let mut db = entry("2", EntryKind::Database, "Eng", "db");
    db.password = Some(Secret::text("Pw-Db-Zz81!"));
    let mut v = vault(vec![e, db]);
    share_user(&mut v, "Eng", "jules@studio-jules.example", ADMIN);
    let p = plan(&v);
    let json = serde_json::to_string(&p).unwrap();
    for s in ["Pw-1-7fQ2!x", "JBSWY3DPEHPK3PXP", "Pin-8822x", "Pw-Db-Zz81!"] {
        assert!(!json.contains(s), "{s} leaked into the plan JSON");
        for f in &p.findings {
            assert!(!f.to_string().contains(s));
        }
    }
    let revealed = crate::secret::reveal(|| serde_json::to_string(&p).unwrap());
    assert!(revealed.contains("Pw-Db-Zz81!"));
}

#[test]
fn a_sharer_without_an_email_address_is_reported_not_invited() {
    let mut v = vault(vec![login("1", "Vendors", "a")]);
    share_user(&mut v, "Vendors", "jdoe", READ);
    let p = plan(&v);
    assert!(p.invitations.is_empty());
    assert!(grants_to(&p, "jdoe").is_empty());
    assert!(codes(&p).contains(&"mapper.sharer-not-an-email"));
}

#[test]
fn the_same_guest_from_two_vendors_gets_the_same_invitation_key() {
    let mut lp = vault(vec![login("1", "Vendors", "a")]);
    share_user(&mut lp, "Vendors", "jules@studio-jules.example", READ);
    let mut op = vault(vec![login("x", "Vendors", "a")]);
    op.source = SourceKind::Onepassword1pux;
    share_user(&mut op, "Vendors", " JULES@studio-jules.example", READ);
    let (a, b) = (plan(&lp), plan(&op));
    assert_eq!(a.invitations[0].key, b.invitations[0].key);
    assert_ne!(a.collections[0].key, b.collections[0].key, "collections are per vendor");
}

#[test]
fn a_shared_collection_nobody_owns_is_owned_by_the_importer() {
    let mut v = vault(vec![login("1", "Eng", "a"), login("2", "Fin", "b")]);
    share_user(&mut v, "Eng", "lee@northwind.example", READ);
    share_user(&mut v, "Fin", "dana@northwind.example", ADMIN);
    let p = plan(&v);
    let sam = grants_to(&p, "sam@northwind.example");
    assert_eq!(sam.len(), 1);
    assert_eq!(
        sam[0].target,
        key("collection:lastpass:personal:sam@northwind.example:Eng")
    );
    assert_eq!(sam[0].role, ItemRole::Owner);
    assert!(codes(&p).contains(&"mapper.shared-without-owner"));
}

#[test]
fn a_large_export_is_fully_accounted_for() {
    let mut entries = Vec::new();
    for i in 0..20_000 {
        let folder = if i % 4 == 0 {
            String::new()
        } else {
            format!("F{}/S{}", i % 300, i % 7)
        };
        entries.push(login(&i.to_string(), &folder, &format!("site{i}")));
    }
    let mut v = vault(entries);
    for f in 0..300 {
        share_user(&mut v, &format!("F{f}"), "mark@northwind.example", READ);
        share_user(&mut v, &format!("F{f}"), "lee@northwind.example", ADMIN);
    }
    let p = plan(&v);
    assert!(p.reconcile().holds());
    assert_eq!(p.accounts.len(), 20_000);
    let mark = &p.unmatched[0];
    assert_eq!(mark.items.len(), 15_000, "every item in a shared folder is listed once");
}

/// Past a few thousand items, a folder's item keys are made on the pool:
/// the list is the same, in the same order, and an item listed for two
/// people is one shared key.
#[test]
fn a_large_shared_folder_lists_each_item_once_in_folder_order() {
    let n = KEYS_ON_THE_POOL + 100;
    let folder_of = |i: usize| if i % 3 == 0 { "Eng/Db" } else { "Eng" };
    let entries: Vec<Entry> = (0..n).map(|i| login(&i.to_string(), folder_of(i), "a")).collect();
    let mut v = vault(entries);
    share_user(&mut v, "Eng", "mark@northwind.example", EDIT);
    share_user(&mut v, "Eng/Db", "mark@northwind.example", READ);
    share_user(&mut v, "Eng", "ana@northwind.example", READ);
    let p = plan(&v);
    let items_of = |email: &str| &p.unmatched.iter().find(|u| u.email == email).unwrap().items;
    let want: Vec<ImportKey> = (0..n)
        .filter(|&i| folder_of(i) == "Eng")
        .chain((0..n).filter(|&i| folder_of(i) == "Eng/Db"))
        .map(|i| key(&format!("account:lastpass:{i}")))
        .collect();
    assert_eq!(items_of("mark@northwind.example"), &want);
    assert_eq!(items_of("ana@northwind.example"), &want);
    let shared = items_of("mark@northwind.example")
        .iter()
        .zip(items_of("ana@northwind.example"))
        .all(|(a, b)| std::ptr::eq(a.as_str(), b.as_str()));
    assert!(shared, "one key per item, shared by both lists");
}

/// A CXF vault: items shared on their own (an item's `shared` extension).
fn cxf_vault(entries: Vec<Entry>) -> Vault {
    let mut v = vault(entries);
    v.source = SourceKind::Cxf;
    v
}

fn share_item(v: &mut Vault, id: &str, who: Principal, access: Access) {
    let e = v.entries.iter().find(|e| e.source_id == id).unwrap();
    let item = crate::model::EntryRef {
        source_id: id.into(),
        title: e.title.clone(),
        folder: e.folder.to_vec(),
    };
    v.shares.push(Share::on_item(item, who, access));
}

fn grants_on<'p>(p: &'p Plan, target: &str) -> Vec<(&'p str, ItemRole)> {
    let mut g: Vec<(&str, ItemRole)> = p
        .grants
        .iter()
        .filter(|g| g.target.as_str() == target)
        .map(|g| (g.grantee.label(), g.role))
        .collect();
    g.sort();
    g
}

#[test]
fn an_item_shared_in_a_private_folder_reaches_that_person_only_and_the_folder_stays_private() {
    let mut v = cxf_vault(vec![login("a", "Private", "a"), login("b", "Private", "b")]);
    share_item(&mut v, "a", Principal::user("Dana@northwind.example"), READ);
    let p = plan(&v);
    let dana = grants_to(&p, "dana@northwind.example");
    assert_eq!(dana.len(), 1, "{dana:?}");
    assert_eq!(dana[0].target.as_str(), "account:cxf:a");
    assert_eq!(dana[0].role, ItemRole::Collaborator);
    assert!(
        grants_on(&p, "account:cxf:b").is_empty(),
        "the folder's other item stays private"
    );
    let private = p.collections.iter().find(|c| c.name == "Private").unwrap();
    assert!(!private.shared, "an item share does not make its folder shared");
    assert!(
        is_personal_key(SourceKind::Cxf, &private.key),
        "the folder keeps its personal key"
    );
    assert_eq!(
        grants_on(&p, private.key.as_str()),
        [("sam@northwind.example", ItemRole::Owner)],
        "only the owner of personal items holds the folder"
    );
}

#[test]
fn an_item_share_beside_a_folder_share_is_a_grant_of_its_own_and_the_stronger_role_reaches_them() {
    let mut v = cxf_vault(vec![login("a", "Ops", "a"), login("b", "Ops", "b")]);
    share_user(&mut v, "Ops", "dana@northwind.example", READ);
    share_item(&mut v, "a", Principal::user("dana@northwind.example"), ADMIN);
    share_user(&mut v, "Ops", "lee@northwind.example", ADMIN);
    share_item(&mut v, "b", Principal::user("lee@northwind.example"), READ);
    let p = plan(&v);
    let ops = p.collections.iter().find(|c| c.name == "Ops").unwrap().key.clone();
    assert_eq!(
        grants_on(&p, ops.as_str()),
        [
            ("dana@northwind.example", ItemRole::Collaborator),
            ("lee@northwind.example", ItemRole::Owner)
        ]
    );
    // Dana owns the one item she administered; Lee's lower item grant is
    // kept as the source said, and his collection Owner role reaches b.
    assert_eq!(
        grants_on(&p, "account:cxf:a"),
        [("dana@northwind.example", ItemRole::Owner)]
    );
    assert_eq!(
        grants_on(&p, "account:cxf:b"),
        [("lee@northwind.example", ItemRole::Collaborator)]
    );
}

#[test]
fn an_item_share_follows_the_sharer_rules_guests_capped_leavers_listed_outsiders_invited() {
    let mut v = cxf_vault(vec![
        login("a", "Ops", "a"),
        entry("n", EntryKind::SecureNote, "", "note"),
        login("z", "Ops", "z"),
    ]);
    v.entries[2].archived = true;
    share_item(&mut v, "a", Principal::user("mo@freelance.example"), ADMIN);
    share_item(&mut v, "a", Principal::user("gone@northwind.example"), EDIT);
    share_item(&mut v, "n", Principal::user("zed@outside.example"), ADMIN);
    share_item(&mut v, "n", Principal::user("priya@northwind.example"), HIDE);
    share_item(
        &mut v,
        "a",
        Principal::Group {
            group: "Engineering".into(),
            members: vec!["dana@northwind.example".into(), "lee@northwind.example".into()],
        },
        EDIT,
    );
    share_item(&mut v, "z", Principal::user("dana@northwind.example"), ADMIN);
    let mut pending = Share::on_item(
        crate::model::EntryRef {
            source_id: "a".into(),
            title: "a".into(),
            folder: path("Ops"),
        },
        Principal::user("priya@northwind.example"),
        ADMIN,
    );
    pending.status = ShareStatus::Pending;
    v.shares.push(pending);
    let p = plan(&v);
    // A guest given manage on an item gets Collaborator, and is told.
    let mo = grants_to(&p, "mo@freelance.example");
    assert_eq!(mo.len(), 1);
    assert_eq!(
        (mo[0].target.as_str(), mo[0].role, mo[0].lowered_from),
        ("account:cxf:a", ItemRole::Collaborator, Some(ItemRole::Owner))
    );
    let lowered = p
        .findings
        .iter()
        .find(|f| f.code == "mapper.guest-role-lowered" && f.message.contains("mo@"))
        .unwrap();
    assert!(lowered.message.contains("'Ops › a'"), "{}", lowered.message);
    // Someone who left the company is never invited; their item is listed.
    let gone = p
        .unmatched
        .iter()
        .find(|u| u.email == "gone@northwind.example")
        .unwrap();
    assert_eq!(gone.reason, UnmatchedReason::LeftCompany);
    assert_eq!(gone.items, [key("account:cxf:a")]);
    assert_eq!(gone.access[0].folder, "Ops › a");
    // An outsider is invited once, for that item, as a Collaborator.
    assert_eq!(p.invitations.len(), 1);
    assert_eq!(p.invitations[0].email, "zed@outside.example");
    assert_eq!(p.invitations[0].folders, ["note"]);
    assert_eq!(
        grants_on(&p, "secret:cxf:n"),
        [
            ("priya@northwind.example", ItemRole::Collaborator),
            ("sam@northwind.example", ItemRole::Owner),
            ("zed@outside.example", ItemRole::Collaborator),
        ]
    );
    let hidden = p
        .findings
        .iter()
        .find(|f| f.code == "mapper.hide-passwords-not-kept")
        .unwrap();
    assert!(hidden.message.contains("item 'note'"), "{}", hidden.message);
    // A group's item share goes to its team, on that item.
    assert!(grants_on(&p, "account:cxf:a").contains(&("Engineering", ItemRole::Collaborator)));
    // A pending share gives nothing; an archived item's share names why.
    assert!(grants_to(&p, "priya@northwind.example")
        .iter()
        .all(|g| g.target.as_str() != "account:cxf:a"));
    assert!(codes(&p).contains(&"mapper.share-not-active"));
    assert!(grants_to(&p, "dana@northwind.example").is_empty());
    let not_imported = p
        .findings
        .iter()
        .find(|f| f.code == "mapper.share-item-not-imported")
        .unwrap();
    assert!(not_imported.message.contains("'Ops › z'"), "{}", not_imported.message);
}

#[test]
fn an_item_share_in_a_skipped_folder_is_ignored_and_said() {
    let mut v = cxf_vault(vec![login("a", "Old", "a"), login("b", "Kept", "b")]);
    share_item(&mut v, "a", Principal::user("dana@northwind.example"), ADMIN);
    share_item(&mut v, "b", Principal::user("dana@northwind.example"), ADMIN);
    let policy = Policy {
        skip_folders: vec![path("Old")],
        ..Policy::default()
    };
    let p = plan_with(&v, &policy);
    let dana: Vec<&str> = grants_to(&p, "dana@northwind.example")
        .iter()
        .map(|g| g.target.as_str())
        .collect();
    assert_eq!(dana, ["account:cxf:b"]);
    let said = p
        .findings
        .iter()
        .find(|f| f.code == "mapper.share-in-skipped-folder")
        .unwrap();
    assert!(said.message.contains("'Old › a'"), "{}", said.message);
}
