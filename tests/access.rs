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

/// The sample secrets of `tests/fixtures/access/export.csv`.
const ACCESS_SECRETS: [&str; 3] = ["Pw-Admin-7xQ2!k", "Pw-Ops-4mZ9#t", "Pw-Hr-2pL6$w"];

fn access_fixture(name: &str) -> std::path::PathBuf {
    common::root().join("tests/fixtures/access").join(name)
}

/// `workspace init` from the access seed, then a real `migrate --json` of the
/// access export with the sharing file `sharing` (bug 3 has its own, so
/// the other tests do not depend on it); checks no sample secret is in any output.
fn migrate_access(dir: &std::path::Path, sharing: &str) -> (common::Run, rusqlite::Connection, String) {
    let db = common::seeded_db(&dir.join("access.db"), &access_fixture("workspace.toml"));
    let report = dir.join("report.md");
    let run = vaultferry(&[
        "migrate",
        access_fixture("export.csv").to_str().unwrap(),
        "--sharing",
        access_fixture(sharing).to_str().unwrap(),
        "--db",
        db.to_str().unwrap(),
        "--yes",
        "--json",
        "--report",
        report.to_str().unwrap(),
        "--outbox",
        dir.join("outbox").to_str().unwrap(),
    ])
    .success();
    let report = std::fs::read_to_string(&report).unwrap();
    let secrets: Vec<String> = ACCESS_SECRETS.iter().map(|s| s.to_string()).collect();
    common::assert_no_secrets("stdout", &run.stdout, &secrets);
    common::assert_no_secrets("stderr", &run.stderr, &secrets);
    common::assert_no_secrets("report", &report, &secrets);
    (run, rusqlite::Connection::open(&db).unwrap(), report)
}

/// Each member's effective role on each item (by item name), computed from
/// the store alone: grants to the member, to their teams and to their local
/// partner, on the item or on its collection or any parent collection; the
/// highest one wins.
fn effective_roles(conn: &rusqlite::Connection) -> std::collections::BTreeMap<(String, String), String> {
    let sql = "
        WITH RECURSIVE
        items(kind, id, name, coll) AS (
            SELECT 'account', id, name, collection_id FROM accounts
            UNION ALL SELECT 'secret', id, title, collection_id FROM secrets),
        up(kind, id, coll) AS (
            SELECT kind, id, coll FROM items WHERE coll IS NOT NULL
            UNION SELECT up.kind, up.id, c.parent_id FROM up JOIN collections c ON c.id = up.coll
                WHERE c.parent_id IS NOT NULL),
        reach(kind, id, tkind, tid) AS (
            SELECT kind, id, kind, id FROM items
            UNION SELECT kind, id, 'collection', coll FROM up),
        held(member_id, tkind, tid, role) AS (
            SELECT grantee_id, target_kind, target_id, role FROM grants WHERE grantee_kind = 'member'
            UNION ALL SELECT t.member_id, g.target_kind, g.target_id, g.role FROM grants g
                JOIN team_members t ON g.grantee_kind = 'team' AND t.team_id = g.grantee_id
            UNION ALL SELECT p.member_id, g.target_kind, g.target_id, g.role FROM grants g
                JOIN partner_members p ON g.grantee_kind = 'partner' AND p.partner_id = g.grantee_id)
        SELECT m.email, i.name,
            MAX(CASE h.role WHEN 'owner' THEN 3 WHEN 'manager' THEN 2 ELSE 1 END)
        FROM held h
        JOIN reach r ON r.tkind = h.tkind AND r.tid = h.tid
        JOIN items i ON i.kind = r.kind AND i.id = r.id
        JOIN members m ON m.id = h.member_id
        GROUP BY m.email, i.name";
    let mut stmt = conn.prepare(sql).unwrap();
    let rows = stmt
        .query_map([], |r| {
            let rank: i64 = r.get(2)?;
            Ok(((r.get(0)?, r.get(1)?), rank))
        })
        .unwrap();
    rows.map(|row| {
        let (k, rank) = row.unwrap();
        let role = match rank {
            3 => "owner",
            2 => "manager",
            _ => "collaborator",
        };
        (k, role.to_owned())
    })
    .collect()
}

fn roles_of(roles: &std::collections::BTreeMap<(String, String), String>, email: &str) -> Vec<(String, String)> {
    roles
        .iter()
        .filter(|((e, _), _)| e == email)
        .map(|((_, item), role)| (item.clone(), role.clone()))
        .collect()
}

fn codes(json: &serde_json::Value) -> Vec<String> {
    let mut out: Vec<String> = json["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .chain(json["warnings"].as_array().into_iter().flatten())
        .filter_map(|f| f["code"].as_str().map(str::to_owned))
        .collect();
    out.sort();
    out
}

#[test]
fn bug3_guest_in_admin_group_never_holds_owner_through_the_team() {
    let dir = tempfile::tempdir().unwrap();
    let (_, conn, _) = migrate_access(dir.path(), "sharing-admins.json");
    let roles = effective_roles(&conn);
    // Group "Admins" has admin rights on Shared-Admins; it names Dana (a
    // regular member), Gina (a guest) and the kiosk (login-only).
    let item = |s: &str| vec![("Admin Console".to_owned(), s.to_owned())];
    assert_eq!(
        roles_of(&roles, "gina@freelance.example"),
        item("collaborator"),
        "{roles:?}"
    );
    assert_eq!(
        roles_of(&roles, "kiosk@corp.example"),
        item("collaborator"),
        "{roles:?}"
    );
    assert_eq!(roles_of(&roles, "dana@corp.example")[0], item("owner")[0], "{roles:?}");
    // And no guest or login-only member holds more than Collaborator anywhere.
    let capped: Vec<String> = conn
        .prepare("SELECT email FROM members WHERE role IN ('guest', 'login_only')")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for ((email, item), role) in &roles {
        if capped.contains(email) {
            assert_eq!(role, "collaborator", "{email} on {item}: {roles:?}");
        }
    }
}

#[test]
fn bug4_outsider_only_in_a_group_is_invited_with_collaborator() {
    let dir = tempfile::tempdir().unwrap();
    let (run, conn, _) = migrate_access(dir.path(), "sharing.json");
    // Otto is in the source only through group "Ops" (edit on Shared-Ops).
    let invited: Vec<String> = run.json()["invitations"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|i| i["email"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(invited, ["otto@outside.example"], "{}", run.describe());
    let (role, state): (String, String) = conn
        .query_row(
            "SELECT m.role, i.state FROM members m JOIN guest_invitations i ON i.member_id = m.id
             WHERE m.email = 'otto@outside.example'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((role.as_str(), state.as_str()), ("guest", "sent"));
    let roles = effective_roles(&conn);
    assert_eq!(
        roles_of(&roles, "otto@outside.example"),
        [("Ops Dashboard".to_owned(), "collaborator".to_owned())],
        "{roles:?}"
    );
    // Not through a team: a guest never joins one.
    let teams: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM team_members t JOIN members m ON m.id = t.member_id
             WHERE m.email = 'otto@outside.example'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(teams, 0);
}

#[test]
fn bug4_ex_employee_with_group_only_access_is_listed_unmatched() {
    let dir = tempfile::tempdir().unwrap();
    let (run, conn, report) = migrate_access(dir.path(), "sharing.json");
    // Mark (company domain, not a member) had Shared-Ops only through "Ops".
    let json = run.json();
    let mark = json["unmatched"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == "mark@corp.example")
        .unwrap_or_else(|| panic!("mark is not listed unmatched\n{}", run.describe()));
    assert_eq!(mark["reason"], "left the company");
    assert_eq!(mark["items"], serde_json::json!(["Ops Dashboard"]));
    assert!(report.contains("mark@corp.example"), "{report}");
    // Neither invited nor made a member.
    let n: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM members WHERE email = 'mark@corp.example'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(n, 0);
}

#[test]
fn bug4_group_mapped_onto_existing_team_does_not_widen_it() {
    let dir = tempfile::tempdir().unwrap();
    let (run, conn, _) = migrate_access(dir.path(), "sharing.json");
    // The workspace's team "Ops" holds Lee, whom the source group "Ops"
    // does not name: Lee gains nothing, Dana (in the group) keeps access.
    let roles = effective_roles(&conn);
    assert_eq!(roles_of(&roles, "lee@corp.example"), [], "{roles:?}");
    assert!(
        roles.contains_key(&("dana@corp.example".to_owned(), "Ops Dashboard".to_owned())),
        "{roles:?}"
    );
    let ops_grants: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM grants g JOIN teams t ON g.grantee_kind = 'team' AND t.id = g.grantee_id
             WHERE t.name = 'Ops'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(ops_grants, 0);
    let members: Vec<String> = conn
        .prepare(
            "SELECT m.email FROM team_members tm JOIN teams t ON t.id = tm.team_id JOIN members m ON m.id = tm.member_id
             WHERE t.name = 'Ops (imported)' ORDER BY m.email",
        )
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(members, ["dana@corp.example"]);
    assert!(codes(&run.json()).contains(&"mapper.group-team-not-reused".to_owned()));
}

#[test]
fn bug11b_invited_member_gets_no_grants() {
    let dir = tempfile::tempdir().unwrap();
    let (run, conn, _) = migrate_access(dir.path(), "sharing.json");
    // Ivan (a user in state invited) had edit on Shared-HR directly.
    let roles = effective_roles(&conn);
    assert_eq!(roles_of(&roles, "ivan@corp.example"), [], "{roles:?}");
    let json = run.json();
    assert!(
        codes(&json).contains(&"mapper.member-not-joined".to_owned()),
        "{}",
        run.describe()
    );
    let ivan = json["unmatched"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == "ivan@corp.example")
        .unwrap_or_else(|| panic!("ivan is not listed unmatched\n{}", run.describe()));
    assert_eq!(ivan["reason"], "invited to the workspace, not joined yet");
}

#[test]
fn bug11a_11c_lost_edit_and_hidden_passwords_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let (run, _, report) = migrate_access(dir.path(), "sharing.json");
    // Otto (outsider, invited as a guest) could edit Shared-Ops with
    // passwords hidden (give = 0): both rights are lost, both are named.
    let json = run.json();
    let about_otto = |code: &str| {
        json["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["code"] == code && f["message"].as_str().unwrap_or("").contains("otto@outside.example"))
    };
    assert!(about_otto("mapper.edit-lowered"), "{}", run.describe());
    assert!(about_otto("mapper.hide-passwords-not-kept"), "{}", run.describe());
    assert!(report.contains("mapper.edit-lowered"), "{report}");
    assert!(report.contains("mapper.hide-passwords-not-kept"), "{report}");
}

#[test]
fn bug4_group_is_mapped_onto_an_existing_team_of_its_own_members() {
    let dir = tempfile::tempdir().unwrap();
    let (run, conn, _) = migrate_access(dir.path(), "sharing-admins.json");
    // The seeded team "Admins" holds only Dana, who is in the group: it
    // takes the group's grant, no "(imported)" team is made.
    let teams: Vec<(String, String)> = conn
        .prepare(
            "SELECT t.name, g.role FROM grants g JOIN teams t ON g.grantee_kind = 'team' AND t.id = g.grantee_id
             ORDER BY t.name",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(teams, [("Admins".to_owned(), "owner".to_owned())]);
    let n: i64 = conn
        .query_row("SELECT COUNT(*) FROM teams WHERE name LIKE '%(imported)'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(n, 0);
    assert!(!codes(&run.json()).contains(&"mapper.group-team-not-reused".to_owned()));
}

#[test]
fn bug4_a_rerun_reuses_the_imported_team_and_still_widens_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (_, conn, _) = migrate_access(dir.path(), "sharing.json");
    let first = effective_roles(&conn);
    let db = dir.path().join("access.db");
    vaultferry(&[
        "migrate",
        access_fixture("export.csv").to_str().unwrap(),
        "--sharing",
        access_fixture("sharing.json").to_str().unwrap(),
        "--db",
        db.to_str().unwrap(),
        "--yes",
        "--outbox",
        dir.path().join("outbox").to_str().unwrap(),
    ])
    .success();
    assert_eq!(effective_roles(&conn), first);
    let names: Vec<String> = conn
        .prepare("SELECT name FROM teams ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(names, ["Admins", "Ops", "Ops (imported)"]);
}

#[test]
fn bug4_a_group_whose_members_differ_per_folder_gives_no_folder_to_a_member_it_did_not_list() {
    let dir = tempfile::tempdir().unwrap();
    let (_, conn, _) = migrate_access(dir.path(), "sharing-crew.json");
    let roles = effective_roles(&conn);
    // Group "Crew" holds Shared-Ops with Dana only (Lee was removed from it)
    // and Shared-HR with Dana and Lee: Lee reaches HR, never Ops.
    let lee: Vec<String> = roles_of(&roles, "lee@corp.example")
        .into_iter()
        .map(|(i, _)| i)
        .collect();
    assert_eq!(lee, vec!["HR Portal".to_owned()], "{roles:?}");
    let dana: Vec<String> = roles_of(&roles, "dana@corp.example")
        .into_iter()
        .map(|(i, _)| i)
        .collect();
    assert_eq!(
        dana,
        vec!["HR Portal".to_owned(), "Ops Dashboard".to_owned()],
        "{roles:?}"
    );
}
