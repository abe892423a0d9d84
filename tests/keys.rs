//! Import keys tell apart folders the source tells apart: what each person
//! can reach is read back from the SQLite workspace after a real migrate.

mod common;

use std::path::Path;

use common::{key_the_old_way, northwind_db, root, vaultferry};

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

/// Who can open the account or secret of this title, read from the store
/// (not from the plan): grants on the item, on its collection or any
/// collection above it, to the member or to a team they are in.
fn reach(conn: &rusqlite::Connection, title: &str) -> Vec<String> {
    let mut st = conn
        .prepare(
            "WITH RECURSIVE item(kind, id, collection_id) AS (
                 SELECT 'account', id, collection_id FROM accounts WHERE name = ?1
                 UNION ALL SELECT 'secret', id, collection_id FROM secrets WHERE title = ?1
             ),
             up(id) AS (
                 SELECT collection_id FROM item WHERE collection_id IS NOT NULL
                 UNION SELECT c.parent_id FROM collections c JOIN up ON c.id = up.id WHERE c.parent_id IS NOT NULL
             ),
             held(grantee_kind, grantee_id) AS (
                 SELECT g.grantee_kind, g.grantee_id FROM grants g JOIN item i
                     ON g.target_kind = i.kind AND g.target_id = i.id
                 UNION SELECT g.grantee_kind, g.grantee_id FROM grants g JOIN up
                     ON g.target_kind = 'collection' AND g.target_id = up.id
             )
             SELECT DISTINCT m.email FROM members m WHERE m.id IN (
                 SELECT grantee_id FROM held WHERE grantee_kind = 'member'
                 UNION SELECT tm.member_id FROM team_members tm JOIN held h
                     ON h.grantee_kind = 'team' AND h.grantee_id = tm.team_id
             ) ORDER BY m.email",
        )
        .unwrap();
    st.query_map([title], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

fn count(conn: &rusqlite::Connection, table: &str) -> i64 {
    conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
        .unwrap()
}

/// Migrates an export (with an optional sharing file) into `db`.
fn migrate_file(db: &Path, export: &str, sharing: Option<&str>) -> common::Run {
    let export = fixture(export);
    let mut args = vec!["migrate".to_owned(), s(&export).to_owned()];
    if let Some(sharing) = sharing {
        args.extend(["--sharing".to_owned(), s(&fixture(sharing)).to_owned()]);
    }
    args.extend(["--db".to_owned(), s(db).to_owned(), "--yes".to_owned()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    vaultferry(&args).success()
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

#[test]
fn bug2_a_slash_in_a_lastpass_folder_name_is_not_nesting() {
    let dir = tempfile::tempdir().unwrap();
    let db = northwind_db(dir.path());
    let first = migrate_file(&db, "slash-in-names.csv", Some("slash-sharing.json"));
    assert!(
        !first.stdout.contains("parent was not created") && !first.stderr.contains("parent was not created"),
        "{}",
        first.describe()
    );
    let conn = rusqlite::Connection::open(&db).unwrap();
    assert_ne!(
        collection_of(&conn, "Slash build"),
        collection_of(&conn, "Nested build")
    );
    assert_ne!(collection_of(&conn, "RD slash"), collection_of(&conn, "RD nested"));
    // `Shared-R/D` is shared with lee alone; `D` inside `Shared-R` with dana.
    let lee = "lee@northwind.example".to_owned();
    let dana = "dana@northwind.example".to_owned();
    let slash = reach(&conn, "RD slash");
    let nested = reach(&conn, "RD nested");
    assert!(
        slash.contains(&lee) && !slash.contains(&dana),
        "Shared-R/D reached by {slash:?}"
    );
    assert!(
        nested.contains(&dana) && !nested.contains(&lee),
        "Shared-R\\D reached by {nested:?}"
    );
    let collections = count(&conn, "collections");
    // Tools/Build; Tools and Tools\Build; Shared-R/D; Shared-R and D in it.
    assert_eq!(collections, 6);
    drop(conn);
    let again = migrate_file(&db, "slash-in-names.csv", Some("slash-sharing.json"));
    assert!(
        again.stdout.contains(&format!("collections: {collections} unchanged")),
        "a re-run must count each of the {collections} collections unchanged once\n{}",
        again.describe()
    );
    let conn = rusqlite::Connection::open(&db).unwrap();
    assert_eq!(count(&conn, "collections"), collections);
    assert_eq!(count(&conn, "accounts"), 4);
}

#[test]
fn bug2_a_1pif_folder_named_with_a_slash_is_not_a_folder_inside_another() {
    let dir = tempfile::tempdir().unwrap();
    let db = northwind_db(dir.path());
    let first = migrate_file(&db, "slash-in-names.1pif", None);
    assert!(!first.stdout.contains("parent was not created"), "{}", first.describe());
    assert!(!first.stderr.contains("parent was not created"), "{}", first.describe());
    let conn = rusqlite::Connection::open(&db).unwrap();
    assert_ne!(
        collection_of(&conn, "In R slash D"),
        collection_of(&conn, "In D inside R")
    );
    assert_eq!(count(&conn, "collections"), 3, "R/D; R and D inside it");
    drop(conn);
    let again = migrate_file(&db, "slash-in-names.1pif", None);
    assert!(
        again.stdout.contains("collections: 3 unchanged"),
        "{}",
        again.describe()
    );
}

#[test]
fn bug2_two_1pif_folders_of_one_name_stay_two_collections() {
    let dir = tempfile::tempdir().unwrap();
    let db = northwind_db(dir.path());
    let first = migrate_file(&db, "same-name-folders.1pif", None);
    assert!(
        first.stdout.contains("onepassword.folder-name-repeated"),
        "{}",
        first.describe()
    );
    let conn = rusqlite::Connection::open(&db).unwrap();
    assert_ne!(
        collection_of(&conn, "Client portal"),
        collection_of(&conn, "Internal wiki")
    );
    assert_eq!(count(&conn, "collections"), 2, "Projects and Projects (2)");
    drop(conn);
    // The records in the other order: each folder keeps its name (by uuid,
    // not by file order), so the re-run changes nothing.
    let text = std::fs::read_to_string(fixture("same-name-folders.1pif")).unwrap();
    let sep = "***5642bee8-a5ff-11dc-8314-0800200c9a66***";
    let mut records: Vec<&str> = text.split(sep).map(str::trim).filter(|r| !r.is_empty()).collect();
    records.reverse();
    let reordered = dir.path().join("reordered.1pif");
    std::fs::write(&reordered, records.join(&format!("\n{sep}\n")) + "\n" + sep + "\n").unwrap();
    let again = vaultferry(&["migrate", s(&reordered), "--db", s(&db), "--yes"]).success();
    assert!(
        again.stdout.contains("collections: 2 unchanged"),
        "{}",
        again.describe()
    );
    assert!(again.stdout.contains("0 created"), "{}", again.describe());
}

/// Every import key of collections and grants, and who reaches each item.
fn keys_and_reach(conn: &rusqlite::Connection) -> (Vec<String>, Vec<(String, Vec<String>)>) {
    let mut st = conn
        .prepare(
            "SELECT import_key FROM collections UNION ALL SELECT import_key FROM grants
             UNION ALL SELECT import_key FROM accounts UNION ALL SELECT import_key FROM secrets ORDER BY 1",
        )
        .unwrap();
    let keys: Vec<String> = st
        .query_map([], |r| r.get::<_, Option<String>>(0))
        .unwrap()
        .filter_map(Result::unwrap)
        .collect();
    let mut st = conn
        .prepare("SELECT name FROM accounts UNION SELECT title FROM secrets ORDER BY 1")
        .unwrap();
    let titles: Vec<String> = st.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect();
    let reach = titles.into_iter().map(|t| (t.clone(), reach(conn, &t))).collect();
    (keys, reach)
}

#[test]
fn a_workspace_keyed_the_old_way_is_moved_to_the_new_keys_without_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let db = northwind_db(dir.path());
    let export = common::sample("lastpass/company.csv");
    let sharing = common::sample("lastpass/sharing-getdetailedsfdata.json");
    let run = || vaultferry(&["migrate", s(&export), "--sharing", s(&sharing), "--db", s(&db), "--yes"]).success();
    run();
    let conn = rusqlite::Connection::open(&db).unwrap();
    let (new_keys, reach_before) = keys_and_reach(&conn);
    let collections = count(&conn, "collections");
    drop(conn);

    key_the_old_way(&db);
    let conn = rusqlite::Connection::open(&db).unwrap();
    let (old_keys, _) = keys_and_reach(&conn);
    assert_ne!(old_keys, new_keys, "the sample has shared folders, whose keys changed");
    drop(conn);

    let moved = run();
    assert!(
        moved.stdout.contains(&format!("collections: {collections} unchanged"))
            && moved
                .stdout
                .contains("= 0 created + 0 updated + 34 unchanged + 0 conflicts"),
        "the re-run over the old-keyed workspace must find everything unchanged\n{}",
        moved.describe()
    );
    let conn = rusqlite::Connection::open(&db).unwrap();
    let (keys, reach_after) = keys_and_reach(&conn);
    assert_eq!(keys, new_keys, "every object is under its new key, none twice");
    assert_eq!(reach_after, reach_before, "nobody gained or lost an item");
    let recorded: i64 = conn
        .query_row("SELECT count(*) FROM key_moves", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        recorded, 4,
        "Engineering, Engineering/Databases, Finance and Vendors were moved, and recorded"
    );
    drop(conn);

    let again = run();
    assert!(
        again
            .stdout
            .contains("= 0 created + 0 updated + 34 unchanged + 0 conflicts"),
        "{}",
        again.describe()
    );
    let conn = rusqlite::Connection::open(&db).unwrap();
    let recorded_again: i64 = conn
        .query_row("SELECT count(*) FROM key_moves", [], |r| r.get(0))
        .unwrap();
    assert_eq!(recorded_again, 4, "a second re-run moves nothing");
}

/// The plan's findings of one code, as JSON.
fn findings(export: &str, sharing: Option<&str>, db: &Path, code: &str) -> Vec<serde_json::Value> {
    let export = fixture(export);
    let mut args = vec!["plan".to_owned(), s(&export).to_owned()];
    if let Some(sharing) = sharing {
        args.extend(["--sharing".to_owned(), s(&fixture(sharing)).to_owned()]);
    }
    args.extend(["--db".to_owned(), s(db).to_owned(), "--json".to_owned()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let plan = vaultferry(&args).success().json();
    plan["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == code)
        .cloned()
        .collect()
}

#[test]
fn bug5_lastpass_rows_sharing_an_id_are_all_written_and_named() {
    let dir = tempfile::tempdir().unwrap();
    let db = northwind_db(dir.path());
    let dups = findings(
        "duplicate-ids.csv",
        Some("duplicate-sharing.json"),
        &db,
        "mapper.duplicate-source-id",
    );
    assert_eq!(dups.len(), 2, "the second and third row of id 4242: {dups:?}");
    let lines: Vec<u64> = dups.iter().map(|f| f["line"].as_u64().unwrap()).collect();
    assert_eq!(lines, [3, 4]);
    assert!(dups
        .iter()
        .all(|f| f["field"] == "id" && f["message"].as_str().unwrap().contains("line 2")));

    migrate_file(&db, "duplicate-ids.csv", Some("duplicate-sharing.json"));
    let conn = rusqlite::Connection::open(&db).unwrap();
    assert_eq!(count(&conn, "accounts"), 4, "every row is an account");
    let lee = "lee@northwind.example".to_owned();
    assert!(
        reach(&conn, "Ops console").contains(&lee),
        "the shared row reaches its member"
    );
    for personal in ["My bank", "Third row", "Unique row"] {
        let who = reach(&conn, personal);
        assert_eq!(who, ["olivia@northwind.example"], "{personal} reached by {who:?}");
    }
    drop(conn);
    let again = migrate_file(&db, "duplicate-ids.csv", Some("duplicate-sharing.json"));
    assert!(
        again
            .stdout
            .contains("= 0 created + 0 updated + 4 unchanged + 0 conflicts"),
        "{}",
        again.describe()
    );
    let secrets = [
        "Pw-Dup-Personal-5Ab!",
        "Pw-Dup-Shared-6Cd#",
        "Pw-Dup-Third-7Ef$",
        "Pw-Unique-8Gh%",
    ]
    .map(String::from);
    common::assert_no_secrets("migrate stdout", &again.stdout, &secrets);
    common::assert_no_secrets("migrate stderr", &again.stderr, &secrets);
}

#[test]
fn bug5_a_1pif_uuid_in_three_records_gives_three_items() {
    let dir = tempfile::tempdir().unwrap();
    let db = northwind_db(dir.path());
    let dups = findings("duplicate-ids.1pif", None, &db, "mapper.duplicate-source-id");
    assert_eq!(dups.len(), 2, "{dups:?}");
    assert!(dups.iter().all(|f| f["field"] == "uuid"));
    migrate_file(&db, "duplicate-ids.1pif", None);
    let conn = rusqlite::Connection::open(&db).unwrap();
    assert_eq!(count(&conn, "accounts") + count(&conn, "secrets"), 3);
    for title in ["First of the uuid", "Second of the uuid", "Third of the uuid"] {
        assert_eq!(reach(&conn, title), ["olivia@northwind.example"], "{title}");
    }
    drop(conn);
    let again = migrate_file(&db, "duplicate-ids.1pif", None);
    assert!(
        again
            .stdout
            .contains("= 0 created + 0 updated + 3 unchanged + 0 conflicts"),
        "{}",
        again.describe()
    );
}

/// Each account's notes with its import key, from the store.
fn notes_by_key(conn: &rusqlite::Connection) -> Vec<(String, String)> {
    let mut st = conn
        .prepare("SELECT import_key, coalesce(notes, '') FROM accounts ORDER BY import_key")
        .unwrap();
    st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[test]
fn bug11d_a_shuffled_reexport_of_identical_fingerprints_reports_no_update() {
    let dir = tempfile::tempdir().unwrap();
    let db = northwind_db(dir.path());
    migrate_file(&db, "same-fingerprint.csv", None);
    let conn = rusqlite::Connection::open(&db).unwrap();
    let before = notes_by_key(&conn);
    assert_eq!(before.len(), 4);
    drop(conn);
    let shuffled = migrate_file(&db, "same-fingerprint-shuffled.csv", None);
    assert!(
        shuffled
            .stdout
            .contains("= 0 created + 0 updated + 4 unchanged + 0 conflicts"),
        "the same entries in another order are unchanged\n{}",
        shuffled.describe()
    );
    let conn = rusqlite::Connection::open(&db).unwrap();
    assert_eq!(notes_by_key(&conn), before, "each item keeps its key and content");
    drop(conn);
    let back = migrate_file(&db, "same-fingerprint.csv", None);
    assert!(
        back.stdout
            .contains("= 0 created + 0 updated + 4 unchanged + 0 conflicts"),
        "{}",
        back.describe()
    );
}

#[test]
fn a_personal_and_shared_folder_the_old_build_merged_come_apart_without_leaking() {
    let dir = tempfile::tempdir().unwrap();
    let db = northwind_db(dir.path());
    migrate(&db);
    // The old build's workspace: `Legal` and `Shared-Legal` were one
    // collection holding both folders' items and the shared folder's
    // members.
    let conn = rusqlite::Connection::open(&db).unwrap();
    let personal = collection_of(&conn, "My divorce lawyer");
    let shared = collection_of(&conn, "Contracts portal");
    conn.execute(
        "UPDATE accounts SET collection_id = ?1 WHERE collection_id = ?2",
        [personal, shared],
    )
    .unwrap();
    conn.execute(
        "DELETE FROM grants WHERE target_kind = 'collection' AND target_id = ?2 AND grantee_kind || ':' || grantee_id IN
             (SELECT grantee_kind || ':' || grantee_id FROM grants WHERE target_kind = 'collection' AND target_id = ?1)",
        [personal, shared],
    )
    .unwrap();
    conn.execute(
        "UPDATE grants SET target_id = ?1 WHERE target_kind = 'collection' AND target_id = ?2",
        [personal, shared],
    )
    .unwrap();
    conn.execute("DELETE FROM collections WHERE id = ?1", [shared]).unwrap();
    drop(conn);
    key_the_old_way(&db);
    let conn = rusqlite::Connection::open(&db).unwrap();
    let lee = "lee@northwind.example".to_owned();
    assert!(
        reach(&conn, "My divorce lawyer").contains(&lee),
        "the old build's leak, as it was"
    );
    drop(conn);

    migrate(&db);
    let conn = rusqlite::Connection::open(&db).unwrap();
    let personal_reach = reach(&conn, "My divorce lawyer");
    assert_eq!(
        personal_reach,
        ["olivia@northwind.example"],
        "after the move: {personal_reach:?}"
    );
    assert!(
        reach(&conn, "Contracts portal").contains(&lee),
        "the shared folder's member kept it"
    );
    assert_ne!(
        collection_of(&conn, "My divorce lawyer"),
        collection_of(&conn, "Contracts portal")
    );
    let accounts = count(&conn, "accounts");
    assert_eq!(accounts, 4, "nothing duplicated");
    drop(conn);
    migrate(&db);
    let conn = rusqlite::Connection::open(&db).unwrap();
    assert_eq!(count(&conn, "collections"), 4);
    assert_eq!(count(&conn, "accounts"), 4);
}

#[test]
fn issue19_plan_over_a_workspace_keyed_the_old_way_shows_the_run_after_the_move_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = northwind_db(dir.path());
    let export = common::sample("lastpass/company.csv");
    let sharing = common::sample("lastpass/sharing-getdetailedsfdata.json");
    vaultferry(&["migrate", s(&export), "--sharing", s(&sharing), "--db", s(&db), "--yes"]).success();
    key_the_old_way(&db);
    let conn = rusqlite::Connection::open(&db).unwrap();
    let (old_keys, reach_before) = keys_and_reach(&conn);
    let collections = count(&conn, "collections");
    drop(conn);

    // The summary alone and the whole plan (a report asked for) alike.
    let report = dir.path().join("plan.json");
    for extra in [vec![], vec!["--report".to_owned(), s(&report).to_owned()]] {
        let mut args = vec!["plan", s(&export), "--sharing", s(&sharing), "--db", s(&db)];
        args.extend(extra.iter().map(String::as_str));
        let plan = vaultferry(&args).success();
        assert!(
            plan.stdout.contains(&format!("collections: {collections} unchanged"))
                && plan
                    .stdout
                    .contains("= 0 created + 0 updated + 34 unchanged + 0 conflicts"),
            "plan must show what the run does after the key move: nothing to create\n{}",
            plan.describe()
        );
    }
    let conn = rusqlite::Connection::open(&db).unwrap();
    let (keys, reach_after) = keys_and_reach(&conn);
    assert_eq!(keys, old_keys, "plan moved no key in the store");
    assert_eq!(reach_after, reach_before);
    let recorded: i64 = conn
        .query_row("SELECT count(*) FROM key_moves", [], |r| r.get(0))
        .unwrap();
    assert_eq!(recorded, 0, "plan recorded no move");
}
