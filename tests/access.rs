//! Who gets access, read back from the store after a real migrate (issue 19).

mod common;

use common::{northwind_db, sample, vaultferry};

#[test]
fn bug8_partner_guest_admin_role_manager_migrates_and_the_manager_grants_land() {
    let dir = tempfile::tempdir().unwrap();
    let db = northwind_db(dir.path());
    let policy = dir.path().join("policy.toml");
    std::fs::write(&policy, "partner_guest_admin_role = \"manager\"\n").unwrap();
    let outbox = dir.path().join("outbox");
    vaultferry(&[
        "migrate",
        sample("lastpass/company.csv").to_str().unwrap(),
        "--sharing",
        sample("lastpass/sharing-getdetailedsfdata.json").to_str().unwrap(),
        "--policy",
        policy.to_str().unwrap(),
        "--db",
        db.to_str().unwrap(),
        "--yes",
        "--outbox",
        outbox.to_str().unwrap(),
    ])
    .success();
    let conn = rusqlite::Connection::open(&db).unwrap();
    // Every role Ravi (Acme's Guest Admin, invited by this run) holds, by
    // any path: nothing but Collaborator, and Manager on accounts only.
    let mut stmt = conn
        .prepare(
            "SELECT g.role, g.target_kind FROM grants g JOIN members m ON g.grantee_kind = 'member' AND m.id = g.grantee_id
             WHERE m.email = 'ravi@acme-partners.example'
             UNION ALL SELECT g.role, g.target_kind FROM grants g JOIN team_members t ON g.grantee_kind = 'team'
                 AND t.team_id = g.grantee_id JOIN members m ON m.id = t.member_id
             WHERE m.email = 'ravi@acme-partners.example'",
        )
        .unwrap();
    let roles: Vec<(String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let managed = roles.iter().filter(|(role, _)| role == "manager").count();
    assert!(managed >= 1, "{roles:?}");
    for (role, kind) in &roles {
        assert!(
            role == "collaborator" || (role == "manager" && kind == "account"),
            "{roles:?}"
        );
    }
    let kind: String = conn
        .query_row(
            "SELECT p.kind FROM partner_members p JOIN members m ON m.id = p.member_id
             WHERE m.email = 'ravi@acme-partners.example'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(kind, "guest_admin");
}
