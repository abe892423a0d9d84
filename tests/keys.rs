//! Import keys tell apart folders the source tells apart: what each person
//! can reach is read back from the SQLite workspace after a real migrate.

mod common;

use std::path::Path;

use common::{northwind_db, root, vaultferry};

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn fixture(name: &str) -> std::path::PathBuf {
    root().join("tests/fixtures/keys").join(name)
}

/// The collection (id) holding the account of this title.
fn collection_of(conn: &rusqlite::Connection, title: &str) -> i64 {
    conn.query_row("SELECT collection_id FROM accounts WHERE name = ?1", [title], |r| {
        r.get(0)
    })
    .unwrap_or_else(|e| panic!("account {title:?}: {e}"))
}

/// Emails of the members with a direct grant on a collection, and roles.
fn member_grants(conn: &rusqlite::Connection, collection: i64) -> Vec<(String, String)> {
    let mut st = conn
        .prepare(
            "SELECT m.email, g.role FROM grants g JOIN members m ON m.id = g.grantee_id
             WHERE g.target_kind = 'collection' AND g.target_id = ?1 AND g.grantee_kind = 'member'
             ORDER BY m.email",
        )
        .unwrap();
    st.query_map([collection], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

fn migrate(db: &Path) {
    let export = fixture("legal-personal-and-shared.csv");
    let sharing = fixture("legal-sharing.json");
    vaultferry(&["migrate", s(&export), "--sharing", s(&sharing), "--db", s(db), "--yes"]).success();
}

#[test]
fn bug1_personal_and_shared_folder_of_same_name_stay_apart() {
    let dir = tempfile::tempdir().unwrap();
    let db = northwind_db(dir.path());
    migrate(&db);
    let conn = rusqlite::Connection::open(&db).unwrap();
    let personal = collection_of(&conn, "My divorce lawyer");
    let shared = collection_of(&conn, "Contracts portal");
    assert_ne!(personal, shared, "personal Legal and Shared-Legal are one collection");
    let reach = member_grants(&conn, personal);
    assert_eq!(
        reach,
        [("olivia@northwind.example".to_owned(), "owner".to_owned())],
        "the personal folder's owner alone"
    );
    assert!(
        !reach.iter().any(|(email, _)| email == "lee@northwind.example"),
        "a member of Shared-Legal reaches the personal Legal folder: {reach:?}"
    );
    assert!(
        member_grants(&conn, shared)
            .iter()
            .any(|(email, _)| email == "lee@northwind.example"),
        "the shared folder's member lost it"
    );
}

#[test]
fn bug1_shared_folders_differing_only_in_case_are_two() {
    let dir = tempfile::tempdir().unwrap();
    let db = northwind_db(dir.path());
    migrate(&db);
    let conn = rusqlite::Connection::open(&db).unwrap();
    let lower = collection_of(&conn, "Web lower");
    let upper = collection_of(&conn, "Web upper");
    assert_ne!(lower, upper, "Shared-Web and Shared-WEB are one collection");
    let has_dana = |c| {
        member_grants(&conn, c)
            .iter()
            .any(|(e, _)| e == "dana@northwind.example")
    };
    assert!(has_dana(upper), "Shared-WEB's member lost it");
    assert!(!has_dana(lower), "Shared-WEB's member reaches Shared-Web");
}

#[test]
fn bug1_a_rerun_counts_every_collection_unchanged_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = northwind_db(dir.path());
    migrate(&db);
    migrate(&db);
    let conn = rusqlite::Connection::open(&db).unwrap();
    let collections: i64 = conn
        .query_row("SELECT count(*) FROM collections", [], |r| r.get(0))
        .unwrap();
    let accounts: i64 = conn
        .query_row("SELECT count(*) FROM accounts", [], |r| r.get(0))
        .unwrap();
    assert_eq!(accounts, 4, "a re-run duplicated or lost accounts");
    assert_eq!(collections, 4, "Legal, Shared-Legal, Shared-Web, Shared-WEB");
}
