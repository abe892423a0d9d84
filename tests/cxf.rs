//! CXF in (issue 24): what each person can reach in the store after a real
//! `migrate` of a CXF document whose `shared` extensions name users and
//! groups, with hostile collection names.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::vaultferry;

const SECRETS: [&str; 6] = [
    "Cxf-Pw-Slash-1",
    "Cxf-Pw-A-2",
    "Cxf-Key-Group-3",
    "Cxf-Wifi-Keys-4",
    "Cxf-Pw-Hidden-5",
    "Cxf-Pw-Mine-6",
];

fn fixture(name: &str) -> PathBuf {
    common::root().join("tests/fixtures/cxf").join(name)
}

fn migrate(dir: &Path, export: &Path) -> (common::Run, rusqlite::Connection) {
    let db = common::seeded_db(&dir.join("cxf.db"), &fixture("workspace.toml"));
    let report = dir.join("report.md");
    let run = vaultferry(&[
        "migrate",
        export.to_str().unwrap(),
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
    let secrets: Vec<String> = SECRETS.iter().map(|s| s.to_string()).collect();
    common::assert_no_secrets("stdout", &run.stdout, &secrets);
    common::assert_no_secrets("stderr", &run.stderr, &secrets);
    common::assert_no_secrets("report", &std::fs::read_to_string(&report).unwrap(), &secrets);
    (run, rusqlite::Connection::open(&db).unwrap())
}

/// Each person's best role on each item (by item name), from the store's
/// tables alone: grants to them, their teams or their partner, on the item
/// or on any collection above it.
fn reach(conn: &rusqlite::Connection) -> BTreeMap<String, BTreeMap<String, String>> {
    let sql = "
        WITH RECURSIVE
        items(kind, id, name, coll) AS (
            SELECT 'account', id, name, collection_id FROM accounts
            UNION ALL SELECT 'secret', id, title, collection_id FROM secrets),
        above(kind, id, coll) AS (
            SELECT kind, id, coll FROM items WHERE coll IS NOT NULL
            UNION SELECT a.kind, a.id, c.parent_id FROM above a JOIN collections c ON c.id = a.coll
                WHERE c.parent_id IS NOT NULL),
        targets(kind, id, tkind, tid) AS (
            SELECT kind, id, kind, id FROM items
            UNION SELECT kind, id, 'collection', coll FROM above),
        held(member, tkind, tid, role) AS (
            SELECT grantee_id, target_kind, target_id, role FROM grants WHERE grantee_kind = 'member'
            UNION ALL SELECT t.member_id, g.target_kind, g.target_id, g.role FROM grants g
                JOIN team_members t ON g.grantee_kind = 'team' AND t.team_id = g.grantee_id
            UNION ALL SELECT p.member_id, g.target_kind, g.target_id, g.role FROM grants g
                JOIN partner_members p ON g.grantee_kind = 'partner' AND p.partner_id = g.grantee_id)
        SELECT m.email, i.name, MIN(CASE h.role WHEN 'owner' THEN 1 WHEN 'manager' THEN 2 ELSE 3 END)
        FROM held h
        JOIN targets t ON t.tkind = h.tkind AND t.tid = h.tid
        JOIN items i ON i.kind = t.kind AND i.id = t.id
        JOIN members m ON m.id = h.member
        GROUP BY m.email, i.name";
    let mut out: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let mut stmt = conn.prepare(sql).unwrap();
    let rows = stmt
        .query_map([], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?))
        })
        .unwrap();
    for row in rows {
        let (email, item, rank) = row.unwrap();
        let role = ["owner", "manager", "collaborator"][usize::try_from(rank - 1).unwrap()];
        out.entry(email).or_default().insert(item, role.to_owned());
    }
    out
}

fn of(reach: &BTreeMap<String, BTreeMap<String, String>>, email: &str) -> Vec<(String, String)> {
    reach
        .get(email)
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = list.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
    v.sort();
    v
}

#[test]
fn each_person_reaches_what_the_shared_extension_gave_them_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let (run, conn) = migrate(dir.path(), &fixture("shared.cxf.json"));
    let reach = reach(&conn);
    // "A/B" (one collection whose name holds a slash) is Dana's; "A" › "B"
    // is Lee's, as an Owner (manage), inherited by the subcollection.
    assert_eq!(
        of(&reach, "dana@corp.example"),
        pairs(&[("Slash item", "collaborator"), ("Group item", "collaborator")]),
        "{reach:?}"
    );
    assert_eq!(
        of(&reach, "lee@corp.example"),
        pairs(&[("A item", "owner"), ("A B item", "owner")]),
        "{reach:?}"
    );
    // A guest holds Collaborator by every path: through the group's team
    // and where the source gave share + manage.
    assert_eq!(
        of(&reach, "gina@freelance.example"),
        pairs(&[("Group item", "collaborator"), ("Keys item", "collaborator")]),
        "{reach:?}"
    );
    // `read` without `readSecret` (hide passwords) still reaches the item.
    assert_eq!(
        of(&reach, "kiosk@corp.example"),
        pairs(&[("Hidden item", "collaborator")]),
        "{reach:?}"
    );
    // An outsider is invited as a guest and reaches the one item shared.
    assert_eq!(
        of(&reach, "zed@outside.example"),
        pairs(&[("Keys item", "collaborator")]),
        "{reach:?}"
    );
    // Someone inside the domains who is no member gets nothing.
    assert!(of(&reach, "mark@corp.example").is_empty(), "{reach:?}");
    // The owner of the export reaches every item, her own collection too.
    assert_eq!(of(&reach, "olivia@corp.example").len(), 7, "{reach:?}");
    let invited: Vec<String> = conn
        .prepare("SELECT m.email FROM guest_invitations g JOIN members m ON m.id = g.member_id ORDER BY m.email")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(invited, ["zed@outside.example"]);
    let json = run.json();
    let unmatched = json.to_string();
    assert!(
        unmatched.contains("mark@corp.example"),
        "the report lists the unmatched sharer"
    );
}

#[test]
fn hostile_collection_names_stay_apart_and_nest_as_the_document_says() {
    let dir = tempfile::tempdir().unwrap();
    let (_, conn) = migrate(dir.path(), &fixture("shared.cxf.json"));
    let mut stmt = conn
        .prepare(
            "SELECT c.name, p.name FROM collections c LEFT JOIN collections p ON p.id = c.parent_id ORDER BY c.name, p.name",
        )
        .unwrap();
    let rows: Vec<(String, Option<String>)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for want in [
        ("A/B".to_owned(), None),
        ("A".to_owned(), None),
        ("B".to_owned(), Some("A".to_owned())),
        ("personal:olivia@corp.example".to_owned(), None),
        ("Secrets 🔑 %2F".to_owned(), None),
    ] {
        assert!(rows.contains(&want), "{want:?} in {rows:?}");
    }
    let keys: Vec<String> = conn
        .prepare("SELECT import_key FROM collections")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let unique: std::collections::BTreeSet<&String> = keys.iter().collect();
    assert_eq!(unique.len(), keys.len(), "{keys:?}");
}

#[test]
fn a_second_migrate_of_the_same_document_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (_, conn) = migrate(dir.path(), &fixture("shared.cxf.json"));
    let before = reach(&conn);
    let db = dir.path().join("cxf.db");
    let again = vaultferry(&[
        "plan",
        fixture("shared.cxf.json").to_str().unwrap(),
        "--db",
        db.to_str().unwrap(),
        "--json",
    ]);
    let json = again.json();
    let creates = json.to_string().matches("\"create\"").count();
    assert_eq!(creates, 0, "{}", again.describe());
    assert_eq!(reach(&conn), before);
}
