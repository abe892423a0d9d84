use super::*;
use crate::workspace::scim::parse_scim;
use crate::workspace::seed::parse_seed;
use crate::workspace::{MemberState, PartnershipState, Role};

const SEED: &str = include_str!("../../../samples/workspace.toml");

fn db() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ws.db");
    (dir, path)
}

fn init(path: &Path) -> SqliteWorkspace {
    let seed = parse_seed("samples/workspace.toml", SEED).unwrap();
    let ws = SqliteWorkspace::create(path, false).unwrap();
    ws.init(&seed).unwrap();
    ws
}

#[test]
fn snapshot_round_trips_the_seed() {
    let (_dir, path) = db();
    drop(init(&path));
    let seed = parse_seed("samples/workspace.toml", SEED).unwrap();
    let snap = SqliteWorkspace::open(&path).unwrap().snapshot().unwrap();

    assert_eq!(snap.workspace.name, seed.name);
    assert_eq!(Some(&snap.workspace.id), seed.id.as_ref());
    let mut domains = seed.domains.clone();
    domains.sort();
    assert_eq!(snap.workspace.domains, domains);
    assert_eq!(snap.workspace.password_policy, seed.password_policy);

    let got: Vec<_> = snap
        .members
        .iter()
        .map(|m| (m.email.clone(), m.name.clone(), m.role, m.state, m.directory_managed))
        .collect();
    let want: Vec<_> = seed
        .members
        .iter()
        .map(|m| (m.email.clone(), m.name.clone(), m.role, m.state, m.directory_managed))
        .collect();
    assert_eq!(got, want);

    let email = |id: &i64| snap.members.iter().find(|m| m.id == *id).unwrap().email.clone();
    for (team, seed_team) in snap.teams.iter().zip(&seed.teams) {
        assert_eq!(team.name, seed_team.name);
        let mut got: Vec<String> = team.members.iter().map(email).collect();
        let mut want: Vec<String> = seed_team.members.iter().map(|r| r.email.clone()).collect();
        got.sort();
        want.sort();
        assert_eq!(got, want);
    }
    assert_eq!(snap.teams.len(), seed.teams.len());
    assert_eq!(snap.partners.len(), seed.partners.len());
    assert_eq!(snap.partners[0].domains, seed.partners[0].domains);
    let ships: Vec<_> = snap
        .partnerships
        .iter()
        .map(|p| {
            (
                p.name.clone(),
                p.partner_workspace_id.clone(),
                p.domains.clone(),
                p.state,
            )
        })
        .collect();
    let want: Vec<_> = seed
        .partnerships
        .iter()
        .map(|p| (p.name.clone(), p.workspace_id.clone(), p.domains.clone(), p.state))
        .collect();
    assert_eq!(ships, want);
    assert!(snap.collections.is_empty() && snap.accounts.is_empty() && snap.grants.is_empty());
}

#[test]
fn wal_and_foreign_keys_are_on() {
    let (_dir, path) = db();
    drop(init(&path));
    let ws = SqliteWorkspace::open(&path).unwrap();
    assert_eq!(ws.pragmas().unwrap(), ("wal".to_owned(), true));
    // Foreign keys enforced: a team member that does not exist is refused.
    let err = ws.write(|tx| write::add_team_member(tx, 1, 9999)).unwrap_err();
    assert!(err.to_string().contains("FOREIGN KEY"), "{err}");
}

#[test]
fn one_partnership_per_guest_workspace() {
    let (_dir, path) = db();
    let ws = init(&path);
    let again = crate::workspace::seed::SeedPartnership {
        name: "Globex again".into(),
        workspace_id: "ws-globex".into(),
        domains: vec![],
        state: PartnershipState::Requested,
        at: crate::model::Position::default(),
    };
    let err = ws.add_partnership(&again).unwrap_err();
    assert!(matches!(err, WorkspaceError::Rule(_)), "{err:?}");
    assert!(
        err.to_string().contains("at most one partnership per guest workspace"),
        "{err}"
    );
    let other = crate::workspace::seed::SeedPartnership {
        workspace_id: "ws-hooli".into(),
        ..again
    };
    ws.add_partnership(&other).unwrap();
    assert_eq!(ws.snapshot().unwrap().partnerships.len(), 3);
}

#[test]
fn store_rules_refuse_a_second_owner_and_directory_managed_guests() {
    let (_dir, path) = db();
    let ws = init(&path);
    let member = |email: &str, role, dm| NewMember {
        email: email.into(),
        name: None,
        role,
        state: MemberState::Active,
        directory_managed: dm,
    };
    let e = ws
        .add_member(&member("boss@northwind.example", Role::Owner, false))
        .unwrap_err();
    assert!(
        matches!(e, WorkspaceError::Rule(_)) && e.to_string().contains("one owner"),
        "{e}"
    );
    let e = ws
        .add_member(&member("g@elsewhere.example", Role::Guest, true))
        .unwrap_err();
    assert!(matches!(e, WorkspaceError::Rule(_)), "{e:?}");
    let e = ws
        .add_member(&member("OLIVIA@northwind.example", Role::User, false))
        .unwrap_err();
    assert!(e.to_string().contains("exists already"), "{e}");
}

#[test]
fn create_refuses_an_initialized_database_unless_forced() {
    let (_dir, path) = db();
    drop(init(&path));
    let e = SqliteWorkspace::create(&path, false).unwrap_err();
    assert!(
        e.to_string().contains("holds the workspace \"Northwind Robotics\""),
        "{e}"
    );
    let ws = SqliteWorkspace::create(&path, true).unwrap();
    let e = SqliteWorkspace::open(&path).unwrap_err();
    assert!(e.to_string().contains("no workspace yet"), "{e}");
    drop(ws);
}

#[test]
fn open_refuses_newer_schema_and_missing_files() {
    let (_dir, path) = db();
    drop(init(&path));
    {
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(&format!("PRAGMA user_version = {}", schema::latest() + 1))
            .unwrap();
    }
    let e = SqliteWorkspace::open(&path).unwrap_err();
    assert!(e.to_string().contains("newer vaultferry"), "{e}");
    let e = SqliteWorkspace::open(&path.with_file_name("missing.db")).unwrap_err();
    assert!(e.to_string().contains("no workspace database here"), "{e}");
}

#[test]
fn scim_users_are_stored_directory_managed() {
    let (_dir, path) = db();
    let mut seed = parse_seed("samples/workspace.toml", SEED).unwrap();
    let scim = include_str!("../../../samples/scim-users.json");
    seed.merge_directory(parse_scim("samples/scim-users.json", scim).unwrap());
    seed.validate().unwrap();
    let ws = SqliteWorkspace::create(&path, false).unwrap();
    ws.init(&seed).unwrap();
    let snap = ws.snapshot().unwrap();
    let dana = snap.member_by_email("DANA@northwind.example").unwrap();
    assert!(dana.directory_managed);
    assert_eq!(dana.role, Role::User);
}
