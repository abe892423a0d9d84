//! The store's access rules, path by path (issue 19, bugs 3 and 8): every
//! write that would give a guest or login-only member more than
//! Collaborator is refused, whichever way the role would reach them, and
//! the one exception the product has (Manager on an account for a local
//! partner's Guest Admin) is allowed.

use super::*;
use crate::workspace::seed::parse_seed;
use crate::workspace::{Account, Collection, Grant, GrantTarget, Grantee, ImportKey, ItemImport, ItemRole, NewRun};

const SEED: &str = r#"
[workspace]
name = "Access rules"
id = "ws-access"
domains = ["northwind.example"]

[[members]]
email = "olivia@northwind.example"
role = "owner"

[[members]]
email = "lee@northwind.example"
role = "user"

[[members]]
email = "kiosk@northwind.example"
role = "login_only"

[[members]]
email = "mo@freelance.example"
role = "guest"

[[members]]
email = "ravi@acme-partners.example"
role = "guest"

[[members]]
email = "gil@acme-partners.example"
role = "guest"

[[teams]]
name = "Mixed"
members = ["lee@northwind.example", "mo@freelance.example"]

[[teams]]
name = "Staff"
members = ["lee@northwind.example"]

[[partners]]
name = "Acme Partners"
domains = ["acme-partners.example"]
guest_admins = ["ravi@acme-partners.example"]
guest_users = ["gil@acme-partners.example"]

[[partnerships]]
name = "Globex"
workspace_id = "ws-globex"
domains = ["globex.example"]
state = "accepted"
"#;

struct Fixture {
    _dir: tempfile::TempDir,
    path: std::path::PathBuf,
    ws: SqliteWorkspace,
    snap: Snapshot,
    collection: i64,
    account: i64,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("access.db");
        let seed = parse_seed("access.toml", SEED).unwrap();
        let ws = SqliteWorkspace::create(&path, false).unwrap();
        ws.init(&seed).unwrap();
        let collection = ws
            .create_collection(&Collection {
                id: 0,
                name: "Vendors".into(),
                parent: None,
                import_key: Some(ImportKey::new("c:vendors")),
            })
            .unwrap();
        let account = ws
            .create_account(&Account {
                id: 0,
                collection: Some(collection),
                name: "Supplier portal".into(),
                url: None,
                urls: vec![],
                username: Some("nwr".into()),
                password: None,
                totp: None,
                notes: None,
                fields: vec![],
                tags: vec![],
                attachments: vec![],
                import: ItemImport {
                    import_key: Some(ImportKey::new("a:portal")),
                    imported_hash: None,
                    withheld: None,
                },
            })
            .unwrap();
        let snap = ws.snapshot().unwrap();
        Fixture {
            _dir: dir,
            path,
            ws,
            snap,
            collection,
            account,
        }
    }

    fn member(&self, email: &str) -> i64 {
        self.snap.member_by_email(email).unwrap().id
    }

    fn team(&self, name: &str) -> i64 {
        self.snap.teams.iter().find(|t| t.name == name).unwrap().id
    }

    fn grant(&self, target: GrantTarget, grantee: Grantee, role: ItemRole) -> Result<i64, WorkspaceError> {
        let key = format!("g:{target:?}:{grantee:?}");
        self.ws.create_grant(&Grant {
            id: 0,
            target,
            grantee,
            role,
            import_key: Some(ImportKey::new(key)),
        })
    }

    fn on_collection(&self, grantee: Grantee, role: ItemRole) -> Result<i64, WorkspaceError> {
        self.grant(GrantTarget::Collection(self.collection), grantee, role)
    }

    fn on_account(&self, grantee: Grantee, role: ItemRole) -> Result<i64, WorkspaceError> {
        self.grant(GrantTarget::Account(self.account), grantee, role)
    }

    /// The roles stored for a grantee (nothing refused may be left behind).
    fn roles_of(&self, grantee: Grantee) -> Vec<ItemRole> {
        let snap = self.ws.snapshot().unwrap();
        snap.grants
            .iter()
            .filter(|g| g.grantee == grantee)
            .map(|g| g.role)
            .collect()
    }
}

/// A refusal of the workspace rule, with the words a user can act on.
fn refused(result: Result<impl std::fmt::Debug, WorkspaceError>) -> String {
    match result {
        Err(WorkspaceError::Rule(message)) => {
            assert!(
                message.contains("only be collaborator") || message.contains("partnership carries"),
                "{message}"
            );
            message
        }
        other => panic!("expected the store to refuse with a rule, got {other:?}"),
    }
}

#[test]
fn bug3_a_team_with_a_guest_member_cannot_be_granted_owner_or_manager() {
    let f = Fixture::new();
    let mixed = Grantee::Team(f.team("Mixed"));
    let message = refused(f.on_collection(mixed, ItemRole::Owner));
    assert!(message.contains("team"), "{message}");
    refused(f.on_account(mixed, ItemRole::Manager));
    assert_eq!(f.roles_of(mixed), []);
    f.on_collection(mixed, ItemRole::Collaborator).unwrap();
    // A team of regular members keeps Owner.
    f.on_collection(Grantee::Team(f.team("Staff")), ItemRole::Owner)
        .unwrap();
}

#[test]
fn bug3_a_team_with_a_login_only_member_cannot_be_granted_owner() {
    let f = Fixture::new();
    let staff = f.team("Staff");
    f.ws.add_team_member(staff, f.member("kiosk@northwind.example"))
        .unwrap();
    refused(f.on_collection(Grantee::Team(staff), ItemRole::Owner));
}

#[test]
fn bug3_a_guest_or_login_only_member_cannot_join_a_team_that_holds_owner() {
    let f = Fixture::new();
    let staff = f.team("Staff");
    f.on_collection(Grantee::Team(staff), ItemRole::Owner).unwrap();
    let message = refused(f.ws.add_team_member(staff, f.member("mo@freelance.example")));
    assert!(message.contains("cannot join"), "{message}");
    refused(f.ws.add_team_member(staff, f.member("kiosk@northwind.example")));
    // Through the batch `apply` writes teams with, too.
    f.ws.begin_run(&NewRun {
        id: "run-1".into(),
        source_file: "x.csv".into(),
        actor: "olivia@northwind.example".into(),
        scope: String::new(),
    })
    .unwrap();
    refused(f.ws.apply_batch(
        "run-1",
        &[Write::Team {
            key: ImportKey::new("team:staff"),
            name: "Staff".into(),
            members: vec![f.member("ravi@acme-partners.example")],
        }],
    ));
    let team =
        f.ws.snapshot()
            .unwrap()
            .teams
            .into_iter()
            .find(|t| t.id == staff)
            .unwrap();
    assert_eq!(team.members, [f.member("lee@northwind.example")]);
    // A regular member still joins.
    f.ws.add_team_member(staff, f.member("olivia@northwind.example"))
        .unwrap();
}

#[test]
fn bug3_a_local_partner_holds_collaborator_only() {
    let f = Fixture::new();
    let acme = Grantee::Partner(f.snap.partners[0].id);
    refused(f.on_collection(acme, ItemRole::Owner));
    refused(f.on_account(acme, ItemRole::Manager));
    f.on_collection(acme, ItemRole::Collaborator).unwrap();
}

#[test]
fn bug3_a_partnership_holds_collaborator_or_manager_only() {
    let f = Fixture::new();
    let globex = Grantee::Partnership(f.snap.partnerships[0].id);
    refused(f.on_collection(globex, ItemRole::Owner));
    f.on_account(globex, ItemRole::Manager).unwrap();
    f.on_collection(globex, ItemRole::Collaborator).unwrap();
}

#[test]
fn bug3_a_guest_grant_cannot_be_raised_by_an_update() {
    let f = Fixture::new();
    let mo = Grantee::Member(f.member("mo@freelance.example"));
    f.on_collection(mo, ItemRole::Collaborator).unwrap();
    f.ws.begin_run(&NewRun {
        id: "run-1".into(),
        source_file: "x.csv".into(),
        actor: "olivia@northwind.example".into(),
        scope: String::new(),
    })
    .unwrap();
    // `--overwrite` sets a grant's role through the batch's upsert.
    refused(f.ws.apply_batch(
        "run-1",
        &[Write::Grant(Grant {
            id: 0,
            target: GrantTarget::Collection(f.collection),
            grantee: mo,
            role: ItemRole::Owner,
            import_key: Some(ImportKey::new(format!(
                "g:{:?}:{mo:?}",
                GrantTarget::Collection(f.collection)
            ))),
        })],
    ));
    assert_eq!(f.roles_of(mo), [ItemRole::Collaborator]);
    // A team's grant raised by hand after a guest joined it.
    let mixed = Grantee::Team(f.team("Mixed"));
    f.on_collection(mixed, ItemRole::Collaborator).unwrap();
    let conn = Connection::open(&f.path).unwrap();
    let e = conn
        .execute("UPDATE grants SET role = 'owner' WHERE grantee_kind = 'team'", [])
        .unwrap_err();
    assert!(e.to_string().contains("only be a collaborator"), "{e}");
}

#[test]
fn bug3_a_member_holding_owner_cannot_become_a_guest_or_login_only() {
    let f = Fixture::new();
    let lee = f.member("lee@northwind.example");
    f.on_collection(Grantee::Team(f.team("Staff")), ItemRole::Owner)
        .unwrap();
    let conn = Connection::open(&f.path).unwrap();
    for role in ["guest", "login_only"] {
        let e = conn
            .execute(
                "UPDATE members SET role = ?1 WHERE id = ?2",
                rusqlite::params![role, lee],
            )
            .unwrap_err();
        assert!(e.to_string().contains("through a team"), "{e}");
    }
    let olivia = f.member("olivia@northwind.example");
    f.on_account(Grantee::Member(olivia), ItemRole::Owner).unwrap();
    let e = conn
        .execute("UPDATE members SET role = 'login_only' WHERE id = ?1", [olivia])
        .unwrap_err();
    assert!(e.to_string().contains("holds owner or manager"), "{e}");
    // Nothing above Collaborator: the change is allowed.
    let kiosk = f.member("kiosk@northwind.example");
    conn.execute("UPDATE members SET role = 'guest' WHERE id = ?1", [kiosk])
        .unwrap();
}

#[test]
fn bug8_a_partners_guest_admin_may_manage_an_account_and_nothing_more() {
    let f = Fixture::new();
    let ravi = Grantee::Member(f.member("ravi@acme-partners.example"));
    f.on_account(ravi, ItemRole::Manager).unwrap();
    refused(f.on_collection(ravi, ItemRole::Owner));
    let e = f.on_collection(ravi, ItemRole::Manager).unwrap_err();
    assert!(e.to_string().contains("only on accounts"), "{e}");
    // Guest users, guests of no partner and login-only members: Collaborator only.
    for email in [
        "gil@acme-partners.example",
        "mo@freelance.example",
        "kiosk@northwind.example",
    ] {
        refused(f.on_account(Grantee::Member(f.member(email)), ItemRole::Manager));
    }
    // A Guest Admin who manages an account cannot be made a Guest User.
    let conn = Connection::open(&f.path).unwrap();
    let e = conn
        .execute(
            "UPDATE partner_members SET kind = 'guest_user' WHERE member_id = ?1",
            [f.member("ravi@acme-partners.example")],
        )
        .unwrap_err();
    assert!(e.to_string().contains("guest admin manages accounts"), "{e}");
    assert_eq!(f.roles_of(ravi), [ItemRole::Manager]);
}
